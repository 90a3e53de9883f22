"""Incremental, crash-safe ingestion into the chunk store: :class:`Ingestor`.

The store is its own manifest: every chunk carries its document's ``source`` (unique in the
store), the file's ``path`` and ``root`` folder, its content hash and the chunking settings it
was cut with; chunk ids derive from source, hash and position. A job runs in four parts:

1. under the store's lock (:mod:`rag.store.lock`), it finds the files and hashes them
   (:mod:`ingest.files`);
2. the planner (:mod:`ingest.planner`) compares them with what the store holds and decides,
   file by file: keep, move, add or update, refuse; then what pruning removes;
3. the executor (:mod:`ingest.executor`) carries the plan out: load, chunk, embed, write;
4. it reports one result per file (:mod:`ingest.report`).

An unchanged file costs one hash and no model call: an up-to-date store is checked without
importing torch or loading the embedding model at all.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ingest import library
from ingest.executor import Executor, StoreWriter
from ingest.files import absolute, collect_files, content_hash, skipped_name
from ingest.planner import DiskFile, Planner, chunking_key, stored_documents
from ingest.report import (
    STATUSES,
    FileResult,
    IngestError,
    IngestLocked,
    IngestReport,
    ProgressCallback,
    Status,
)
from rag.store import StoreError, StoreLock, StoreLocked

if TYPE_CHECKING:
    from rag.embedding import Embedder
    from rag.settings import IngestSettings, Settings
    from rag.store import ChunkStore

# Names other modules import from here.
__all__ = [
    "STATUSES",
    "FileResult",
    "IngestError",
    "IngestLocked",
    "IngestReport",
    "Ingestor",
    "ProgressCallback",
    "Status",
    "StoreLock",
    "collect_files",
    "content_hash",
    "skipped_name",
]
# The metadata the planner decides by: read by page and kept for every stored chunk, so the
# rest (titles, sections, headers) is left out to keep a large store's plan small.
PLANNED_KEYS = ("source", "path", "root", "content_hash", "n_chunks", "chunking", "chunk_index")


class Ingestor:
    """Brings the store in line with files on disk."""

    def __init__(
        self,
        settings: IngestSettings,
        store: ChunkStore,
        embedder_factory: Callable[[], Embedder],
        *,
        vectors_name: str,
        own_folders: Sequence[Path] = (),
    ):
        """``vectors_name``: the name of the vectors the embedder will make (the store must
        hold those); ``own_folders``: the store's folder and the uploads, never documents of a
        knowledge folder that holds them."""
        self.settings = settings
        self.store = store
        # The embedder is built only when some file needs embedding: an up-to-date store
        # is checked without loading a model at all.
        self._embedder_factory = embedder_factory
        self._embedder: Embedder | None = None
        self.vectors_name = vectors_name
        self.own_folders = [absolute(p) for p in own_folders]

    @classmethod
    def from_settings(
        cls, settings: Settings, store: ChunkStore, embedder_factory: Callable[[], Embedder]
    ) -> Ingestor:
        """The ingestor the settings describe: their ingest group, the vectors their
        embedding group makes, and the store's own folders."""
        from rag.embedding import settings_vectors_name

        return cls(
            settings,
            store,
            embedder_factory,
            vectors_name=settings_vectors_name(settings),
            own_folders=settings.own_folders,
        )

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = self._embedder_factory()
        return self._embedder

    @property
    def chunking(self) -> str:
        return chunking_key(self.settings.chunk_size, self.settings.chunk_overlap)

    def lock(self, wait: float | None = None) -> StoreLock:
        """The store-wide lock, acquired; raises :class:`IngestLocked` when another job still
        holds it after ``wait`` seconds (default: the store's ``lock_wait_s``).

        Use as ``with ingestor.lock(): ...``.
        """
        try:
            lock = self.store.writer_lock(wait).acquire()
        except StoreLocked as exc:
            raise IngestLocked(str(exc)) from exc
        try:
            # Another process may have written since this one last looked; a job killed
            # halfway may have left the lexical index behind the store.
            self.store.sync(locked=True)
            self.store.repair_lexical()
        except BaseException:
            lock.release()
            raise
        return lock

    # --- the job ----------------------------------------------------------------------------
    def ingest(
        self,
        paths: Iterable[Path],
        *,
        prune: bool = True,
        progress: ProgressCallback | None = None,
        on_result: Callable[[FileResult], None] | None = None,
        lock_wait: float | None = None,
        source_prefix: str = "",
        reset: bool = False,
    ) -> IngestReport:
        """Ingest files and folders; with ``prune``, drop stored files gone from those folders.

        ``source_prefix`` is put before every source name (uploads are ``uploads/<name>``);
        ``reset`` empties the store first, under the same lock; ``lock_wait`` overrides the
        store's ``lock_wait_s`` for this job. ``progress(done, total,
        source)`` and ``on_result(result)`` are called as each file's outcome is final.
        """
        started = time.perf_counter()
        paths = [Path(p) for p in paths]
        with self.lock(lock_wait), StoreWriter(self.store) as writer:
            if reset:
                library.empty_store(writer)
            self._check_vectors()
            planner = Planner(self.chunking, own_folders=self.own_folders)
            stored, orphans = stored_documents(
                (chunk_id, {k: meta[k] for k in PLANNED_KEYS if k in meta})
                for chunk_id, meta in self.store.iter_metadatas()
            )
            files = self._disk_files(paths, source_prefix)
            plan = planner.plan(
                files,
                stored,
                orphans=orphans,
                prune_paths=[absolute(p) for p in paths] if prune else None,
                excluded=set(self.store.excluded()),
            )
            executor = Executor(self.settings, writer, lambda: self.embedder, self.chunking)
            report = executor.run(plan, progress, on_result)
        report.seconds = time.perf_counter() - started
        return report

    def _disk_files(self, paths: list[Path], prefix: str) -> list[DiskFile]:
        files = []
        for path, root in collect_files(paths, exclude=self.own_folders):
            source = prefix + path.relative_to(root).as_posix()
            try:
                files.append(DiskFile(path, root, source, content_hash(path)))
            except OSError as exc:
                files.append(DiskFile(path, root, source, None, str(exc.strerror)))
        return files

    def _check_vectors(self) -> None:
        """The store must hold the vectors the embedder makes, checked before the embedder
        is built (an up-to-date store never loads it)."""
        try:
            self.store.check_vectors(self.vectors_name)
        except StoreError as exc:
            raise IngestError(str(exc)) from exc

    # --- documents in the store -------------------------------------------------------------
    def documents(
        self, *, contains: str = "", offset: int = 0, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """One row per stored document (source, path, chunks, ingested_at), by name; a page of
        them with ``offset``/``limit``, those whose name contains ``contains``."""
        return library.list_documents(self.store, contains=contains, offset=offset, limit=limit)

    def reset(self, lock_wait: float | None = None) -> int:
        """Remove every chunk (``--reset``); returns how many."""
        with self.lock(lock_wait), StoreWriter(self.store) as writer:
            return library.empty_store(writer)

    def delete_document(
        self, source: str, *, exclude: bool = False, lock_wait: float | None = None
    ) -> int:
        """Remove every chunk of the stored document ``source``; returns how many. With
        ``exclude`` it stays out of every later ingest until :meth:`include`."""
        with self.lock(lock_wait), StoreWriter(self.store) as writer:
            return library.delete_document(writer, source, exclude=exclude)

    def excluded(self) -> list[str]:
        """Names of the documents deleted from the library and left out of every ingest."""
        return self.store.excluded()

    def include(self, source: str, lock_wait: float | None = None) -> bool:
        """Let a document left out be ingested again (by the next job); False when it was
        not left out."""
        with self.lock(lock_wait):
            return self.store.include(source)
