"""The knowledge folder, brought into the store in the background when the app starts.

Every client finds the notes ready, or waits for them: a browser, ``gradio_client``, the API.
None of them depends on a page load to start the ingestion, and the app answers HTTP at once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from ingest.pipeline import IngestReport, ProgressCallback

log = logging.getLogger(__name__)


class StartupIngest:
    """One ingestion job in a thread of its own, with its progress for the page and the log."""

    def __init__(self, ingest: Callable[[ProgressCallback], IngestReport]):
        self._ingest = ingest
        self._done = threading.Event()
        #: (files done, files in all, the last file) while it runs.
        self.progress: tuple[int, int, str] = (0, 0, "")
        self.report: IngestReport | None = None
        self.error: str | None = None

    def start(self) -> StartupIngest:
        threading.Thread(target=self._run, name="startup-ingest", daemon=True).start()
        return self

    def _run(self) -> None:
        try:
            self.report = self._ingest(self._advance)
            log.info("the knowledge folder is ingested: %s", self.report.summary())
        except Exception as exc:  # the app still answers from what the store holds
            self.error = str(exc)
            log.exception("ingesting the knowledge folder at start failed")
        finally:
            self._done.set()

    def _advance(self, done: int, total: int, source: str) -> None:
        self.progress = (done, total, source)
        log.info("ingesting the knowledge folder: %d/%d %s", done, total, source)

    @property
    def running(self) -> bool:
        return not self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """True once the job is over (done or failed), False if still running after ``timeout``."""
        return self._done.wait(timeout)

    def describe(self) -> str:
        """One line for the page: what the job is doing, or how it ended if that needs saying."""
        if self.running:
            done, total, source = self.progress
            if not total:
                return "Reading the notes…"
            return f"Reading the notes: {done} of {total} files ({source})…"
        if self.error:
            return f"Reading the notes at start failed: {self.error}"
        return ""
