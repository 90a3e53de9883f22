"""The configured chat model, downloaded in the background as the app starts.

A ``RAG_MODEL`` that is not downloaded yet (a Hub GGUF ``llamacpp:hf://…``, an Ollama model)
would otherwise be downloaded inside the first question asked of it, a reader's. The app starts
the download with itself instead, beside the startup ingest (:mod:`rag.app.startup`), and the
page's status line shows its progress. Until the model is here, questions for it are answered
by :data:`~rag.settings.READY_MODEL`, which needs nothing, and the answer says which model
answered. A download that fails says why in the status line, and is tried again in the
background by the first question a minute or more later (an Ollama server started after the
app, a network back); a reader's question never waits for a download.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator

from rag.llms import LLMError, PullProgress
from rag.settings import READY_MODEL

log = logging.getLogger(__name__)

# A failed download is tried again no sooner than this after it failed.
RETRY_AFTER_S = 60.0


class ModelFetch:
    """One model's download in a thread of its own, with its progress for the page and the log."""

    def __init__(
        self,
        model: str,
        fetch: Callable[[str], Iterator[PullProgress]],
        clock: Callable[[], float] = time.monotonic,
    ):
        """``fetch(model)`` downloads ``model`` unless it is here, yielding its progress."""
        self.model = model
        self._fetch = fetch
        self._clock = clock
        self._done = threading.Event()
        self._lock = threading.Lock()
        #: The last progress reported, None until the download has started (or if none is needed).
        self.progress: PullProgress | None = None
        #: Why the last try failed, None once one succeeds.
        self.error: str | None = None
        self._failed_at = 0.0

    def start(self) -> ModelFetch:
        self._done = threading.Event()
        threading.Thread(
            target=self._run, args=(self._done,), name="startup-model-fetch", daemon=True
        ).start()
        return self

    def _run(self, done: threading.Event) -> None:
        logged = -1
        try:
            for event in self._fetch(self.model):
                self.progress = event
                tenth = 10 * event.done // event.total if event.total else 0
                if tenth > logged:  # the log gets every tenth, not every piece
                    logged = tenth
                    log.info("getting %s ready: %s", self.model, event.describe())
            self.error = None
            if self.progress is not None:
                log.info("%s is downloaded", self.model)
        except Exception as exc:  # the app goes on answering with READY_MODEL
            self.error = str(exc)
            self._failed_at = self._clock()
            if isinstance(exc, LLMError):  # said clearly already: no network, no such file...
                log.warning("downloading %s in the background failed: %s", self.model, exc)
            else:
                log.exception("downloading %s in the background failed", self.model)
        finally:
            done.set()

    @property
    def running(self) -> bool:
        return not self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """True once the download is over (done or failed), False if running after ``timeout``."""
        return self._done.wait(timeout)

    def answering_model(self, asked: str) -> str:
        """The model that answers a question asked of ``asked``: READY_MODEL while ``asked`` is
        this download and is not done (or has failed: then, a minute on, it is tried again in
        the background), else ``asked``."""
        if asked != self.model:
            return asked
        with self._lock:
            if self.running:
                return READY_MODEL
            if self.error is None:
                return asked
            if self._clock() - self._failed_at >= RETRY_AFTER_S:
                self.progress = None
                self.start()
        return READY_MODEL

    def describe(self) -> str:
        """One line for the page while the model is not ready, else nothing."""
        if self.running:
            doing = self.progress.describe() if self.progress else "checking whether it is here"
            return f"Getting {self.model} ready: {doing}. {READY_MODEL} answers meanwhile."
        if self.error:
            return f"Downloading {self.model} failed: {self.error} {READY_MODEL} answers instead."
        return ""
