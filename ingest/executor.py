"""Carries out a :class:`~ingest.planner.Plan`: load, chunk, embed and write, then prune.

For each changed file the new chunks are written first, then the document's other chunks are
deleted, so a crash (even ``kill -9``) between the two steps leaves a document with two
hashes, or fewer chunks than its ``n_chunks``: the next run's plan sees that and rewrites it
(re-writing the same ids is harmless: upsert). A file whose new version fails to load keeps
its old chunks.

Every change to the store goes through :class:`StoreWriter`, which bumps the store's
generation once before a job's first write and once after its last.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from ingest.planner import Exclude, Keep, Move, Plan, Refuse, Remove, Write
from ingest.report import FileResult, IngestReport, ProgressCallback, Status

if TYPE_CHECKING:
    from rag.core import Chunk
    from rag.embedding import Embedder
    from rag.settings import IngestSettings
    from rag.store import ChunkStore

log = logging.getLogger(__name__)

#: Why an excluded file is not ingested, and how to bring it back.
EXCLUDED = (
    "deleted from the library, so left out; include it again to bring it back (Documents "
    "tab, or python -m ingest --include NAME)"
)


class StoreWriter:
    """The store's writes during one job; use as ``with StoreWriter(store) as writer:``.

    The generation is bumped before the first write, so that even a job killed halfway leaves
    a generation other processes see as new, and once more at the end, so readers reload once
    the job is over.
    """

    def __init__(self, store: ChunkStore):
        self.store = store
        self.dirty = False

    def __enter__(self) -> StoreWriter:
        self.dirty = False
        return self

    def __exit__(self, *exc) -> None:
        if self.dirty:
            self.store.bump_generation()

    def _before_write(self) -> None:
        if not self.dirty:
            self.store.bump_generation()
            self.dirty = True

    def upsert(self, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]]) -> None:
        self._before_write()
        self.store.upsert(
            [c.id for c in chunks], [c.body for c in chunks], vectors, [c.metadata for c in chunks]
        )

    def relink(self, ids: Sequence[str], path: str, root: str) -> None:
        """Point chunks at the place their file is read from now; text and vectors stay."""
        self._before_write()
        self.store.update_metadatas(ids, [{"path": path, "root": root}] * len(ids))

    def delete(self, ids: Sequence[str]) -> None:
        if ids:
            self._before_write()
            self.store.delete(ids)

    def record_vectors(self, name: str | None) -> None:
        """Record whose vectors the store holds (:meth:`ChunkStore.record_vectors`)."""
        self._before_write()
        self.store.record_vectors(name)


@dataclass
class _Pending:
    """A file loaded and chunked, waiting for its batch to be embedded."""

    source: str
    replaces: dict[str, dict[str, Any]]
    chunks: list[Chunk]


class _Progress:
    """Results as they become final, counted against the number of files."""

    def __init__(self, total: int, progress: ProgressCallback | None, on_result):
        self.report = IngestReport()
        self.total = total
        self.done = 0
        self.progress = progress
        self.on_result = on_result

    def finish(self, result: FileResult, counts_as_file: bool = True) -> None:
        self.report.results.append(result)
        if self.on_result:
            self.on_result(result)
        if counts_as_file:
            self.done += 1
            if self.progress:
                self.progress(self.done, self.total, result.source)


class Executor:
    """Runs one plan against the store, through ``writer``."""

    def __init__(
        self,
        settings: IngestSettings,
        writer: StoreWriter,
        embedder: Callable[[], Embedder],
        chunking: str,
    ):
        self.settings = settings
        self.writer = writer
        self._embedder = embedder  # built on the first batch: a plan may need no model at all
        self.chunking = chunking

    def run(
        self,
        plan: Plan,
        progress: ProgressCallback | None = None,
        on_result: Callable[[FileResult], None] | None = None,
    ) -> IngestReport:
        job = _Progress(len(plan.files), progress, on_result)
        batch: list[_Pending] = []
        for action in plan.files:
            if isinstance(action, Write):
                pending = self._load(action, job)
                if pending is not None:
                    batch.append(pending)
            elif isinstance(action, Move):
                self.writer.relink(action.ids, action.path, action.root)
                job.finish(FileResult(action.source, "unchanged", action.chunks))
            elif isinstance(action, Keep):
                job.finish(FileResult(action.source, "unchanged", action.chunks))
            elif isinstance(action, Exclude):
                job.finish(FileResult(action.source, "excluded", reason=EXCLUDED))
            else:
                job.finish(FileResult(action.source, "failed", action.chunks, action.reason))
            if sum(len(p.chunks) for p in batch) >= self.settings.ingest_batch_chunks:
                self._write(batch, job)
                batch = []
        self._write(batch, job)
        for action in plan.prune:
            if isinstance(action, Remove):
                self.writer.delete(action.ids)
                job.finish(FileResult(action.source, "removed", len(action.ids)), False)
            elif isinstance(action, Refuse):
                job.finish(FileResult(action.source, "failed", action.chunks, action.reason), False)
        return job.report

    def _load(self, action: Write, job: _Progress) -> _Pending | None:
        """The file's chunks, or None when it failed (its result is then final)."""
        from ingest.chunking import split_documents
        from ingest.loaders import LoadError, load_file

        file, settings = action.file, self.settings
        try:
            documents = load_file(
                file.path,
                settings.allowed_extensions,
                settings.max_file_mb,
                max_pdf_stream_mb=settings.max_pdf_stream_mb,
            )
            chunks = split_documents(
                documents,
                source=file.source,
                content_hash=file.digest or "",
                chunk_size=settings.chunk_size,
                chunk_overlap=settings.chunk_overlap,
            )
        except LoadError as exc:
            kept = f"; its {len(action.replaces)} stored chunks are kept" if action.replaces else ""
            log.warning("%s%s", exc, kept)
            job.finish(FileResult(file.source, "failed", reason=str(exc) + kept))
            return None
        if not chunks:
            job.finish(
                FileResult(file.source, "failed", reason=f"{file.path}: no extractable text")
            )
            return None
        for chunk in chunks:
            chunk.metadata.update(path=str(file.path), root=str(file.root), chunking=self.chunking)
        return _Pending(file.source, action.replaces, chunks)

    def _write(self, batch: list[_Pending], job: _Progress) -> None:
        if not batch:
            return
        texts = [chunk.text for pending in batch for chunk in pending.chunks]
        # One call for the whole batch: the embedder sorts it by length, so its forward passes
        # hold chunks of similar length and waste little time on padding.
        embedder = self._embedder()
        vectors = embedder.embed_documents(texts)
        self.writer.record_vectors(embedder.name)  # "(int8)" when quantised
        position = 0
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        written = {c.id for pending in batch for c in pending.chunks}
        for pending in batch:
            chunks = pending.chunks
            for chunk in chunks:
                chunk.metadata["ingested_at"] = now
            self.writer.upsert(chunks, vectors[position : position + len(chunks)])
            position += len(chunks)
            self.writer.delete([i for i in pending.replaces if i not in written])
            status: Status = "updated" if pending.replaces else "added"
            job.finish(FileResult(pending.source, status, len(chunks)))
