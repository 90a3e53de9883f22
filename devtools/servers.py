"""Helpers for tests that start real servers on loopback and run the real command lines."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from devtools.paths import REPO_ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class QuietHandler(BaseHTTPRequestHandler):
    """A stand-in's request handler: HTTP/1.1 as the real servers speak it, no request log
    (quiet, as in a test run)."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        pass


class LoopbackServer:
    """A stand-in's HTTP server, answering each request in a daemon thread until stopped."""

    #: The name of the thread that serves.
    thread_name = "stand-in"

    def __init__(
        self, handler: type[BaseHTTPRequestHandler], host: str = "127.0.0.1", port: int = 0
    ):
        self.http = ThreadingHTTPServer((host, port), handler)
        self.http.daemon_threads = True

    @property
    def port(self) -> int:
        return self.http.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self.http.server_address[0]}:{self.port}"

    def start(self):
        threading.Thread(target=self.http.serve_forever, name=self.thread_name, daemon=True).start()
        return self

    def stop(self) -> None:
        self.http.shutdown()
        self.http.server_close()


def serve_until_interrupted(standin, message: str) -> None:
    """A stand-in run by hand: say where it is, then serve until Ctrl-C stops it."""
    print(message, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        standin.stop()


def wait_for_http(url: str, process: subprocess.Popen | None = None, timeout: float = 180) -> None:
    """Poll ``url`` until it answers; fail early if ``process`` dies."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


def app_environment(port: int, **env: str) -> dict[str, str]:
    """The environment of the web app started on ``port`` of loopback: this one, offline and
    with no analytics unless ``env`` says otherwise."""
    return {
        **os.environ,
        "GRADIO_SERVER_NAME": "127.0.0.1",
        "GRADIO_SERVER_PORT": str(port),
        "HF_HUB_OFFLINE": "1",
        "GRADIO_ANALYTICS_ENABLED": "False",
        **env,
    }


@contextmanager
def app_process(log_path: Path, **env: str) -> Iterator[str]:
    """``python app.py`` as a user starts it, on a free loopback port (:func:`app_environment`),
    its output in ``log_path``; yields its URL once it answers, stops it after."""
    port = free_port()
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "app.py"],
            cwd=REPO_ROOT,
            env=app_environment(port, **env),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            url = f"http://127.0.0.1:{port}/"
            wait_for_http(url, process)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=30)


def start_llama_cpp_server(
    model_path: str, *, alias: str, threads: int | None = None, stdout=subprocess.DEVNULL
) -> tuple[subprocess.Popen, str]:
    """llama-cpp-python's OpenAI-compatible server on a free loopback port, once it answers.

    Returns the process (the caller stops it) and its base URL, ending in ``/v1``. Needs the
    server's packages (fastapi, uvicorn, sse-starlette, starlette-context: the dev extra).
    """
    port = free_port()
    command = [sys.executable, "-m", "llama_cpp.server", "--model", model_path]
    command += ["--model_alias", alias, "--host", "127.0.0.1", "--port", str(port)]
    command += ["--n_ctx", "4096"]
    if threads:
        command += ["--n_threads", str(threads), "--n_threads_batch", str(threads)]
    process = subprocess.Popen(command, stdout=stdout, stderr=subprocess.STDOUT)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/v1/models", process, timeout=120)
    except BaseException:
        process.kill()
        process.wait()
        raise
    return process, f"http://127.0.0.1:{port}/v1"


def cli_env(**extra: str) -> dict[str, str]:
    """A bare, offline environment for the project's command lines, plus ``extra``."""
    env = {"HF_HUB_OFFLINE": "1", "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    env.update(extra)
    return env


def run_module(module: str, *args: str, timeout: float = 300, stdin: str | None = None, **env: str):
    """``python -m module args`` from the repository root, ``stdin`` as its standard input;
    output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=REPO_ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=cli_env(**env),
    )
