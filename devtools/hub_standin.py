"""A STAND-IN for the Hugging Face Hub's file protocol, for tests: the Hub can't be reached here.

It is a small real HTTP server on loopback that answers what ``hf_hub_download`` asks (read in
huggingface_hub's ``file_download.py`` and ``utils/_http.py``), pointed at by ``HF_ENDPOINT``:

- ``HEAD``/``GET /{repo_id}/resolve/{revision}/{filename}``: a file stored in LFS, as GGUF files
  are, answers ``302`` to the CDN with ``X-Repo-Commit``, ``X-Linked-Etag`` (the file's sha256),
  ``X-Linked-Size`` and ``Location``. The "CDN" is this same server reached as ``localhost``
  instead of ``127.0.0.1``: another host, so huggingface_hub reads the metadata from the 302
  (it follows only redirects that stay on the Hub) and sends no token there, as with the Hub.
- ``GET /cdn/{sha256}``: the bytes, with ``Content-Length``, ``ETag``, ``Accept-Ranges`` and
  ``206 Partial Content`` with ``Content-Range`` for a ``Range: bytes=N-`` request.
- The Hub's errors, with its ``X-Error-Code``/``X-Error-Message`` headers: ``RepoNotFound``
  (404), ``EntryNotFound`` (404, with ``X-Repo-Commit``), ``GatedRepo`` (401 without a token,
  403 with one not granted access), ``RevisionNotFound`` (404) for a revision other than
  ``main`` or the one commit, and 401 ``Invalid credentials in Authorization header`` for
  a token it does not know.

Its repos are made up (``standin-org/...``): the bundled SmolLM2 GGUF, a gated copy of it, a
"GGUF" that is an HTML page, and a file too big for any disk. For tests it can send slowly
(``throttle_s`` per ``piece`` bytes), drop the connection once after ``drop_after`` bytes, and
it records each request (method, path, Range, Authorization).

What it does not imitate: the Hub's JSON API (``/api/models/...``), Xet storage, uploads,
``snapshot_download``.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from devtools.servers import LoopbackServer, QuietHandler, serve_until_interrupted

COMMIT = "0123456789abcdef0123456789abcdef01234567"
REPO = "standin-org/SmolLM2-135M-Instruct-GGUF"
FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
GATED_REPO = "standin-org/Gated-SmolLM2-GGUF"
GRANTED_TOKEN = "hf_standin_granted"
NOT_GGUF_REPO = "standin-org/Not-Really-GGUF"
HUGE_REPO = "standin-org/Huge-GGUF"
HUGE_SIZE = 10**16  # 10 PB: more than any disk has free
KNOWN_TOKENS = {GRANTED_TOKEN, "hf_standin_not_granted"}


@dataclass
class Request:
    method: str
    path: str
    range: str | None
    authorization: str | None


class HubStandIn(LoopbackServer):
    thread_name = "hub-standin"

    def __init__(self, gguf: Path, *, piece: int = 1 << 20):
        self.gguf = Path(gguf)
        self.piece = piece
        self.throttle_s = 0.0
        self.drop_after: int | None = None  # bytes sent before one connection is cut
        self.requests: list[Request] = []
        html = b"<!DOCTYPE html><html><body>Sign in to continue</body></html>\n"
        # (repo, file) -> the bytes' source: a path, bytes, or a size to claim (never served)
        self.files: dict[tuple[str, str], Path | bytes | int] = {
            (REPO, FILE): self.gguf,
            (GATED_REPO, "model.gguf"): self.gguf,
            (NOT_GGUF_REPO, "model.gguf"): html,
            (HUGE_REPO, "huge.gguf"): HUGE_SIZE,
        }
        self.gated = {GATED_REPO}
        self._sha: dict[tuple[str, str], str] = {}
        super().__init__(self._handler_class())  # its url is the Hub endpoint (HF_ENDPOINT)

    # --- what is served -----------------------------------------------------------------------
    def size(self, key: tuple[str, str]) -> int:
        source = self.files[key]
        if isinstance(source, int):
            return source
        return len(source) if isinstance(source, bytes) else source.stat().st_size

    def sha256(self, key: tuple[str, str]) -> str:
        if key not in self._sha:
            source = self.files[key]
            if isinstance(source, int):
                digest = hashlib.sha256(str(source).encode()).hexdigest()
            elif isinstance(source, bytes):
                digest = hashlib.sha256(source).hexdigest()
            else:
                with open(source, "rb") as file:
                    digest = hashlib.file_digest(file, "sha256").hexdigest()
            self._sha[key] = digest
        return self._sha[key]

    def read(self, key: tuple[str, str], start: int) -> bytes:
        source = self.files[key]
        if isinstance(source, bytes):
            return source[start:]
        with open(source, "rb") as file:  # type: ignore[arg-type]
            file.seek(start)
            return file.read()

    def _handler_class(self):
        hub = self

        class Handler(QuietHandler):
            def do_HEAD(self):
                self._answer(body=False)

            def do_GET(self):
                self._answer(body=True)

            def _error(self, status: int, code: str | None, message: str, commit=False):
                body = f'{{"error": "{message}"}}'.encode()
                self.send_response(status)
                if code:
                    self.send_header("X-Error-Code", code)
                self.send_header("X-Error-Message", message)
                if commit:
                    self.send_header("X-Repo-Commit", COMMIT)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command == "GET":
                    self.wfile.write(body)

            def _answer(self, body: bool) -> None:
                path = unquote(self.path.split("?")[0])
                token = self.headers.get("Authorization")
                hub.requests.append(Request(self.command, path, self.headers.get("Range"), token))
                if path.startswith("/cdn/"):
                    self._cdn(path.removeprefix("/cdn/"), body)
                    return
                repo, sep, rest = path.lstrip("/").partition("/resolve/")
                revision, _, filename = rest.partition("/")
                if not sep or not filename:
                    self._error(404, None, "Not Found")
                    return
                bearer = (token or "").removeprefix("Bearer ").strip()
                if bearer and bearer not in KNOWN_TOKENS:
                    self._error(401, None, "Invalid credentials in Authorization header")
                    return
                if repo not in {r for r, _ in hub.files}:
                    self._error(404, "RepoNotFound", "Repository not found")
                    return
                if revision not in ("main", COMMIT):
                    self._error(404, "RevisionNotFound", "Invalid rev id: " + revision)
                    return
                if repo in hub.gated and bearer != GRANTED_TOKEN:
                    if bearer:
                        message = f"Access to model {repo} is restricted and you are not in the authorized list. Visit {hub.url}/{repo} to ask for access."
                        self._error(403, "GatedRepo", message)
                    else:
                        message = f"Access to model {repo} is restricted. You must have access to it and be authenticated to access it. Please log in."
                        self._error(401, "GatedRepo", message)
                    return
                key = (repo, filename)
                if key not in hub.files:
                    self._error(404, "EntryNotFound", "Entry not found", commit=True)
                    return
                sha = hub.sha256(key)
                self.send_response(302)
                self.send_header("X-Repo-Commit", COMMIT)
                self.send_header("X-Linked-Etag", f'"{sha}"')
                self.send_header("X-Linked-Size", str(hub.size(key)))
                self.send_header("ETag", f'W/"{sha[:40]}"')  # the LFS pointer's git oid, on the Hub
                self.send_header("Location", f"http://localhost:{hub.port}/cdn/{sha}")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def _cdn(self, sha: str, body: bool) -> None:
                key = next((k for k in hub.files if hub.sha256(k) == sha), None)
                if key is None or isinstance(hub.files[key], int):
                    self._error(404, None, "Not Found")
                    return
                size = hub.size(key)
                start = 0
                requested = self.headers.get("Range")
                if requested and requested.startswith("bytes="):
                    start = int(requested.removeprefix("bytes=").split("-")[0] or 0)
                self.send_response(206 if start else 200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(size - start))
                self.send_header("Accept-Ranges", "bytes")
                self.send_header("ETag", f'"{sha}"')
                if start:
                    self.send_header("Content-Range", f"bytes {start}-{size - 1}/{size}")
                self.end_headers()
                if not body:
                    return
                data = hub.read(key, start)
                sent = 0
                try:
                    for offset in range(0, len(data), hub.piece):
                        chunk = data[offset : offset + hub.piece]
                        if (
                            hub.drop_after is not None
                            and start + sent + len(chunk) > hub.drop_after
                        ):
                            keep = max(0, hub.drop_after - start - sent)
                            self.wfile.write(chunk[:keep])
                            self.wfile.flush()
                            hub.drop_after = None  # once
                            self.close_connection = True
                            return
                        self.wfile.write(chunk)
                        sent += len(chunk)
                        if hub.throttle_s:
                            self.wfile.flush()
                            time.sleep(hub.throttle_s)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

        return Handler


def main() -> None:
    import argparse

    from rag.core import bundled_gguf

    parser = argparse.ArgumentParser(description="A Hugging Face Hub stand-in (files only)")
    parser.add_argument("--throttle", type=float, default=0.0, help="seconds per 1 MB piece")
    args = parser.parse_args()
    hub = HubStandIn(bundled_gguf("smollm2"))
    hub.throttle_s = args.throttle
    hub.start()
    serve_until_interrupted(hub, f"HF_ENDPOINT={hub.url}  (llamacpp:hf://{REPO}/{FILE})")


if __name__ == "__main__":
    main()
