"""A Hugging Face Space, built and started as Hugging Face does it, as far as it can be offline.

Used by tests/test_space.py and benchmarks/bench_space.py. A Space copies the repository's
files, installs ``requirements.txt`` into a fresh Python with pip, and runs ``python app.py``
with ``SPACE_ID`` set, listening on 0.0.0.0:7860.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
import venv
from pathlib import Path

from devtools.servers import REPO_ROOT

# What the app needs at run time: the Space's files (tests, benchmarks and docs stay out).
SPACE_FILES = ("app.py", "rag", "ingest", "knowledge_base", "requirements.txt", "README.md")
SPACE_URL = "http://127.0.0.1:7860/"


def copy_space_files(dest: Path) -> Path:
    """The files a Space runs from, copied to ``dest`` (its store then lands there too)."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in SPACE_FILES:
        source = REPO_ROOT / name
        if source.is_dir():
            shutil.copytree(source, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, dest / name)
    return dest


def offline_requirements(requirements: Path, dest: Path) -> Path:
    """``requirements`` less its index lines (``--extra-index-url``), which need the network;
    pip's own configuration, cache and local wheels still apply."""
    lines = requirements.read_text(encoding="utf-8").splitlines()
    dest.write_text("\n".join(line for line in lines if not line.startswith("-")) + "\n")
    return dest


def build_space_venv(
    root: Path, requirements: Path, *, byte_compile: bool = True
) -> tuple[Path, float]:
    """A fresh virtual environment (no system site-packages) with ``requirements`` installed
    from wheels only, as a Space's build would: (its python, seconds the install took).

    ``byte_compile=False`` skips writing .pyc files (what is installed is the same; Python
    compiles on import instead), which saves a test minutes of CPU.
    """
    venv.create(root, with_pip=True)
    python = root / "bin" / "python"
    wanted = offline_requirements(requirements, root / "requirements.txt")
    command = [str(python), "-m", "pip", "install", "-q", "--only-binary", ":all:"]
    command += [] if byte_compile else ["--no-compile"]
    started = time.perf_counter()
    subprocess.run([*command, "-r", str(wanted)], check=True)
    return python, time.perf_counter() - started


class SpaceProcess:
    """``python app.py`` started as Spaces start it: SPACE_ID set, 0.0.0.0, port 7860.

    Its output is read as it comes, so a caller can wait for a line of the log.
    """

    def __init__(
        self,
        cwd: Path,
        env: dict[str, str],
        python: str | Path = sys.executable,
        port: int = 7860,
    ):
        self.port = port
        self.url = f"http://127.0.0.1:{port}/"
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            [str(python), "app.py"],
            cwd=cwd,
            env={
                **os.environ,
                "GRADIO_SERVER_NAME": "0.0.0.0",
                "GRADIO_SERVER_PORT": str(port),
                "SPACE_ID": "someone/course-notes",
                "HF_HUB_OFFLINE": "1",
                **env,
            },
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for_log(self, text: str, timeout: float = 300) -> float:
        """Seconds from the start until ``text`` appears in the log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.output:
                return time.monotonic() - self.started
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        raise AssertionError(f"{text!r} not in the app's log:\n{self.output[-3000:]}")

    def peak_rss_mb(self) -> float:
        """The process's peak resident memory so far (Linux)."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
        return int(line.split()[1]) / 1024

    def wait_until_listening(self, timeout: float = 300) -> float:
        """Seconds from the start until this app (not another on the same port) listens."""
        return self.wait_for_log(f"Running on local URL:  http://0.0.0.0:{self.port}", timeout)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._reader.join(timeout=10)


def ask_space(question: str, model: str | None = None, url: str = SPACE_URL) -> tuple[str, str]:
    """(the last chat message, the sources panel) of one question through Gradio's API; the
    other inputs keep their defaults (``model``: the Space's default model unless given)."""
    from gradio_client import Client

    client = Client(url, verbose=False)
    inputs = {"model": model} if model else {}
    chat, sources, _textbox, _query = client.predict(question, [], api_name="/chat", **inputs)
    answer = chat[-1]["content"]
    return (answer if isinstance(answer, str) else answer[0]["text"]), sources
