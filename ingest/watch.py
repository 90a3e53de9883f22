"""``python -m ingest --watch``: keep the store in line with folders as their files change.

watchdog reports file events; after ``debounce_s`` seconds without a new one (an editor's save
is often several events, a copied folder hundreds), one incremental ingest runs over the
watched paths. That pass re-embeds only what changed and removes what was deleted, so it is
right whatever the events were (a rename, a move between folders, a burst of saves); events
that arrive while it runs start another pass after it.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from ingest.pipeline import (
    FileResult,
    IngestError,
    IngestLocked,
    Ingestor,
    IngestReport,
    skipped_name,
)

log = logging.getLogger(__name__)

# Reading a file (as ingestion does) raises "opened" and "closed_no_write": never a reason.
_CHANGES = {"created", "deleted", "modified", "moved", "closed"}


class Watcher:
    """Watches ``paths`` and ingests them after each burst of changes; stoppable.

    ``with Watcher(ingestor, [folder]) as watcher: ...`` or ``start()`` / ``stop()``. Each
    report is passed to ``on_report`` and put on :attr:`reports` (tests read it from there).
    """

    def __init__(
        self,
        ingestor: Ingestor,
        paths: Iterable[Path],
        *,
        debounce_s: float = 2.0,
        on_report: Callable[[IngestReport], None] | None = None,
        on_result: Callable[[FileResult], None] | None = None,
        on_error: Callable[[Exception], None] | None = None,
        lock_wait: float | None = None,
        source_prefix: str = "",
    ):
        self.ingestor = ingestor
        self.paths = [Path(os.path.abspath(p)) for p in paths]
        self.debounce_s = debounce_s
        self.on_report = on_report
        self.on_result = on_result
        self.on_error = on_error
        self.lock_wait = lock_wait
        self.source_prefix = source_prefix
        self.reports: queue.Queue[IngestReport] = queue.Queue()
        self._changed = threading.Event()
        self._stopped = threading.Event()
        self._observer = None
        self._worker: threading.Thread | None = None
        self._folders = [p for p in self.paths if p.is_dir()]
        self._files = [p for p in self.paths if not p.is_dir()]
        # The store may live inside a watched folder: its own writes are not changes.
        self._ignored = ingestor.own_folders

    # --- events -----------------------------------------------------------------------------
    def _relevant(self, raw: str | bytes) -> bool:
        path = Path(os.fsdecode(raw))
        if path in self._files:
            return True
        for root in self._folders:
            if path == root:
                return True
            if not path.is_relative_to(root):
                continue
            if any(part.startswith(".") for part in path.relative_to(root).parts):
                return False
            if skipped_name(path.name):
                return False
            ignored = [i for i in self._ignored if i != root and i.is_relative_to(root)]
            return not any(path.is_relative_to(i) for i in ignored)
        return False

    def notice(self, event) -> None:
        """A watchdog event: mark a change when it concerns a watched document."""
        if event.event_type not in _CHANGES:
            return
        if event.is_directory and event.event_type == "modified":
            return  # comes with the events of the files inside
        paths = [event.src_path, getattr(event, "dest_path", "")]
        if any(p and self._relevant(p) for p in paths):
            self._changed.set()

    # --- the worker ---------------------------------------------------------------------------
    def _wait_for_quiet(self) -> bool:
        """Block until a change, then until ``debounce_s`` passes without another; False on stop."""
        while not self._changed.wait(timeout=0.2):
            if self._stopped.is_set():
                return False
        while True:
            self._changed.clear()
            if self._stopped.wait(self.debounce_s):
                return False
            if not self._changed.is_set():
                return True

    def _run(self) -> None:
        while self._wait_for_quiet():
            try:
                report = self.ingestor.ingest(
                    self.paths,
                    on_result=self.on_result,
                    lock_wait=self.lock_wait,
                    source_prefix=self.source_prefix,
                )
            except IngestLocked as exc:
                log.warning("%s; trying again shortly", exc)
                self._changed.set()  # still to do
                self._error(exc)
                continue
            except (IngestError, OSError, RuntimeError) as exc:
                log.error("ingest failed: %s", exc)
                self._error(exc)
                continue
            self.reports.put(report)
            if self.on_report:
                self.on_report(report)

    def _error(self, exc: Exception) -> None:
        if self.on_error:
            self.on_error(exc)

    # --- control ------------------------------------------------------------------------------
    def start(self) -> Watcher:
        from watchdog.events import FileSystemEventHandler
        from watchdog.observers import Observer

        watcher = self

        class _Handler(FileSystemEventHandler):
            def on_any_event(self, event) -> None:
                watcher.notice(event)

        observer = Observer()
        handler = _Handler()
        for path in self.paths:
            folder, recursive = (path, True) if path.is_dir() else (path.parent, False)
            observer.schedule(handler, str(folder), recursive=recursive)
        observer.start()
        self._observer = observer
        self._worker = threading.Thread(target=self._run, name="ingest-watch", daemon=True)
        self._worker.start()
        return self

    def stop(self, timeout: float | None = None) -> None:
        """Stop watching; an ingest under way finishes first."""
        self._stopped.set()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout)
        if self._worker is not None:
            self._worker.join(timeout)

    def __enter__(self) -> Watcher:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def watch(
    ingestor: Ingestor,
    paths: Iterable[Path],
    on_report: Callable[[IngestReport], None] | None = None,
    *,
    on_result: Callable[[FileResult], None] | None = None,
    debounce_s: float = 2.0,
    stop: threading.Event | None = None,
) -> None:
    """Watch until ``stop`` is set (or Ctrl-C), ingesting after each burst of changes."""
    stop = stop or threading.Event()
    watcher = Watcher(
        ingestor,
        paths,
        debounce_s=debounce_s,
        on_report=on_report,
        on_result=on_result,
    ).start()
    try:
        while not stop.wait(0.5):
            pass
    finally:
        watcher.stop()
