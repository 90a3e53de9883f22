"""GGUF files on the Hugging Face Hub, named ``hf://OWNER/REPO/FILE.gguf``, downloaded with progress.

huggingface_hub does the downloading: the Hub's own cache (``HF_HOME``, ``HF_HUB_CACHE``), its
endpoint (``HF_ENDPOINT``) and token (``HF_TOKEN``), retries that resume a dropped connection
with a Range request, and a file moved into the cache only once it is complete, so a file cut
short is never found there. Around it this module adds what the app needs: the cache is looked
at first and alone when the file is there (a downloaded model works offline), free disk space is
checked before, progress comes as :class:`PullProgress` events from a generator whose closing
cancels the download, the file is checked to be a GGUF, and each failure is worded with its fix.
"""

from __future__ import annotations

import errno
import queue
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rag.llms.base import BackendUnavailable, LLMError, PullProgress
from rag.llms.catalog import human_size

PREFIX = "hf://"
GGUF_MAGIC = b"GGUF"
# Kept free beyond the file itself: a disk filled to the last byte breaks everything else on it.
DISK_MARGIN_BYTES = 100_000_000
# Progress events at most this often: a chat status redrawn per 10 MB chunk would flood the UI,
# and at least this often, so that a consumer that stops listening is noticed while data stalls.
PROGRESS_INTERVAL_S = 0.25


class DownloadCancelled(LLMError):
    """The download was stopped by its consumer (Stop in the chat, Ctrl-C)."""


@dataclass(frozen=True)
class HubFile:
    repo_id: str
    filename: str
    revision: str | None = None

    @property
    def name(self) -> str:
        revision = f"@{self.revision}" if self.revision else ""
        return f"{PREFIX}{self.repo_id}{revision}/{self.filename}"

    @property
    def page(self) -> str:
        """The repo's page on the Hub in use (``HF_ENDPOINT``), where a licence is accepted."""
        from huggingface_hub import constants

        return f"{constants.ENDPOINT}/{self.repo_id}"


def parse(model: str) -> HubFile | None:
    """The Hub file named by ``hf://OWNER/REPO[@REVISION]/FILE.gguf``; None for other names."""
    if not model.startswith(PREFIX):
        return None
    parts = model[len(PREFIX) :].split("/")
    if len(parts) < 3 or not all(parts):
        raise BackendUnavailable(
            f"{model!r} is not of the form hf://OWNER/REPO/FILE.gguf, e.g. "
            "hf://Qwen/Qwen2.5-1.5B-Instruct-GGUF/qwen2.5-1.5b-instruct-q4_k_m.gguf."
        )
    repo, _, revision = parts[1].partition("@")
    ref = HubFile(f"{parts[0]}/{repo}", "/".join(parts[2:]), revision or None)
    if not ref.filename.lower().endswith(".gguf"):
        raise BackendUnavailable(
            f"{model!r} does not name a .gguf file, which is what llama.cpp loads: pick one "
            f"from the repo's files at {ref.page}/tree/main"
        )
    return ref


def cached_file(ref: HubFile) -> Path | None:
    """The file in the Hub cache if it was downloaded completely, without any network call."""
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(ref.repo_id, ref.filename, revision=ref.revision)
    return Path(found) if isinstance(found, str) else None


def check_gguf(path: Path, ref: HubFile) -> Path:
    """``path`` if it starts as a GGUF file does; a clear error otherwise (an HTML page, a
    safetensors file renamed, ...), before llama.cpp is handed it."""
    with open(path, "rb") as file:
        head = file.read(len(GGUF_MAGIC))
    if head != GGUF_MAGIC:
        raise BackendUnavailable(
            f"{ref.name} is not a GGUF model: the file downloaded starts with {head!r}, "
            f"not {GGUF_MAGIC!r}. Choose a .gguf file of a GGUF repo, e.g. from "
            f"{ref.page}/tree/main"
        )
    return path


def local_gguf(ref: HubFile, spec: str) -> Path:
    """The downloaded file for ``ref``, or an error saying how to download it."""
    path = cached_file(ref)
    if path is None:
        raise BackendUnavailable(
            f"{spec} is not downloaded yet: run `python -m rag models --pull {spec}`, or "
            "select it in the app, which downloads it first."
        )
    return check_gguf(path, ref)


def pull(ref: HubFile, spec: str) -> Iterator[PullProgress]:
    """Download ``ref`` into the Hub cache unless it is there; see :class:`PullProgress`."""
    from huggingface_hub import constants, get_hf_file_metadata, hf_hub_url

    step = f"Downloading {ref.filename}"
    path = cached_file(ref)
    if path is not None:
        size = path.stat().st_size
        yield PullProgress(spec, step, size, size, location=str(check_gguf(path, ref)))
        return
    if constants.is_offline_mode():
        raise BackendUnavailable(
            f"{spec} is not downloaded and HF_HUB_OFFLINE is set: unset it and try again "
            "with a network, or choose another model."
        )
    try:
        size = get_hf_file_metadata(
            hf_hub_url(ref.repo_id, ref.filename, revision=ref.revision)
        ).size
    except Exception as exc:
        raise translate(exc, ref, spec) from exc
    check_free_space(size, ref)
    yield PullProgress(spec, step, 0, size)
    path = yield from _download(ref, spec, step, size)
    check_gguf(path, ref)
    yield PullProgress(spec, step, size or 0, size, location=str(path))


def check_free_space(size: int | None, ref: HubFile) -> None:
    from huggingface_hub import constants

    if size is None:
        return
    folder = Path(constants.HF_HUB_CACHE)
    existing = next(p for p in (folder, *folder.parents) if p.exists())
    free = shutil.disk_usage(existing).free
    if free < size + DISK_MARGIN_BYTES:
        raise BackendUnavailable(
            f"Not enough disk space for {ref.filename}: it takes {human_size(size)} and the "
            f"disk of the Hugging Face cache has {human_size(free)} free. Free some space, or "
            "set HF_HOME to a folder on a larger disk."
        )


def _download(ref: HubFile, spec: str, step: str, size: int | None) -> Iterator[PullProgress]:
    """Run hf_hub_download in a thread, yielding its progress; returns the file's path.

    Closing this generator (or an exception in its consumer) sets ``cancel``; the download
    thread then stops at its next chunk, and huggingface_hub removes its partial file.
    """
    from huggingface_hub import hf_hub_download
    from tqdm import tqdm

    updates: queue.Queue[int | None] = queue.Queue()
    cancel = threading.Event()
    outcome: dict[str, object] = {}

    class Reporter(tqdm):
        """huggingface_hub's progress bar, turned into events; never drawn.

        A Xet-stored file gets two bars, the bytes written and the bytes received (less, as
        Xet skips chunks it has); only the first counts towards the file's size.
        """

        def __init__(self, *args, **kwargs):
            kwargs["disable"] = True
            super().__init__(*args, **kwargs)
            self.done = kwargs.get("initial") or 0
            self.reports = not str(kwargs.get("desc") or "").endswith("downloading bytes")

        def update(self, n=1):
            if cancel.is_set():
                raise DownloadCancelled(f"The download of {ref.filename} was cancelled.")
            self.done += n or 0
            if self.reports:
                updates.put(self.done)

    def work() -> None:
        try:
            outcome["path"] = hf_hub_download(
                ref.repo_id, ref.filename, revision=ref.revision, tqdm_class=Reporter
            )
        except BaseException as exc:
            outcome["error"] = exc
        finally:
            updates.put(None)

    # Not a daemon: a command line stopped with Ctrl-C waits for it to notice the cancel and
    # remove its partial file (a daemon thread would be killed mid-write, leaving it behind).
    worker = threading.Thread(target=work, name=f"download {ref.filename}")
    worker.start()
    done, finished, last_sent = 0, False, 0.0
    try:
        while not finished:
            try:
                item = updates.get(timeout=PROGRESS_INTERVAL_S)
                while item is not None and not updates.empty():
                    item = updates.get_nowait()  # only the latest figure matters
            except queue.Empty:
                item = done
            if item is None:
                finished = True
            else:
                done = item
            if not finished and time.monotonic() - last_sent >= PROGRESS_INTERVAL_S:
                last_sent = time.monotonic()
                yield PullProgress(spec, step, done, size)
    finally:
        cancel.set()  # no effect once finished; stops a download nobody waits for any more
    worker.join()
    if "error" in outcome:
        error = outcome["error"]
        if isinstance(error, LLMError):
            raise error
        raise translate(error, ref, spec, done=done, size=size) from error  # type: ignore[arg-type]
    return Path(str(outcome["path"]))


def translate(
    exc: BaseException, ref: HubFile, spec: str, *, done: int = 0, size: int | None = None
) -> LLMError:
    """The user-facing error for a failure of huggingface_hub (or of the network under it)."""
    import httpx
    from huggingface_hub import constants
    from huggingface_hub.errors import (
        EntryNotFoundError,
        GatedRepoError,
        HfHubHTTPError,
        LocalEntryNotFoundError,
        OfflineModeIsEnabled,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    status = getattr(getattr(exc, "response", None), "status_code", None)
    code = f" ({status})" if status else ""
    if isinstance(exc, GatedRepoError):
        return BackendUnavailable(
            f"{ref.repo_id} is gated{code}: accept its licence at {ref.page} while signed in "
            "to Hugging Face, then set HF_TOKEN to a token of that account (made at "
            "https://huggingface.co/settings/tokens ), or choose another model."
        )
    if isinstance(exc, RepositoryNotFoundError):
        return BackendUnavailable(
            f"There is no repo {ref.repo_id} on the Hub at {constants.ENDPOINT}{code}: check "
            "the name (hf://OWNER/REPO/FILE.gguf), or set HF_TOKEN if the repo is private."
        )
    if isinstance(exc, RevisionNotFoundError):
        return BackendUnavailable(
            f"{ref.repo_id} has no revision {ref.revision!r}{code}: check the name after '@'."
        )
    unreachable = (OfflineModeIsEnabled, LocalEntryNotFoundError, httpx.ConnectError)
    if isinstance(exc, unreachable) or (isinstance(exc, httpx.TimeoutException) and not done):
        return BackendUnavailable(
            f"Could not reach the Hub at {constants.ENDPOINT} and {spec} is not downloaded: "
            "check the network (or HF_ENDPOINT, HTTPS_PROXY) and try again, or choose "
            "another model."
        )
    if isinstance(exc, EntryNotFoundError):
        return BackendUnavailable(
            f"{ref.repo_id} has no file {ref.filename}{code}: pick one from its files at "
            f"{ref.page}/tree/main"
        )
    if isinstance(exc, HfHubHTTPError) and status == 401:
        return BackendUnavailable(
            "The Hub refused the token (401, invalid credentials): set HF_TOKEN to a valid "
            "token (made at https://huggingface.co/settings/tokens ), or unset it for public "
            "models."
        )
    if isinstance(exc, HfHubHTTPError) and status == 403:
        return BackendUnavailable(
            f"The Hub refused access to {ref.repo_id} (403): use a token allowed to read it "
            "(HF_TOKEN), or choose another model."
        )
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return LLMError(
            f"The disk filled up while downloading {ref.filename}: free some space (or set "
            "HF_HOME to a larger disk) and try again."
        )
    got = f" after {human_size(done)} of {human_size(size)}" if done else ""
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return LLMError(
        f"The download of {ref.filename} stopped{got} ({reason}): nothing half-downloaded "
        "is kept or loaded; try again."
    )
