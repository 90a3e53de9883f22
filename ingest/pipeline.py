"""Incremental, crash-safe ingestion into the chunk store.

The store is its own manifest: every chunk carries its file's path and content hash, and chunk
ids are derived from both. For each file the job writes the new chunks first, then deletes the
file's other chunks, so:

* a file whose new version fails to load keeps its old chunks;
* a crash between the two steps leaves extra chunks that the next run sees (two hashes, or a
  count short of ``n_chunks``) and repairs; re-writing the same ids is harmless (upsert);
* an unchanged file costs one hash and no model call.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from filelock import FileLock, Timeout

from ingest.chunking import Chunk, split_documents
from ingest.loaders import LoadError, load_file

if TYPE_CHECKING:
    from rag.embeddings import Embedder
    from rag.settings import Settings
    from rag.store import ChunkStore

log = logging.getLogger(__name__)

Status = Literal["added", "updated", "unchanged", "removed", "failed"]
ProgressCallback = Callable[[int, int, str], None]


@dataclass
class FileResult:
    source: str
    status: Status
    chunks: int = 0
    reason: str = ""


@dataclass
class IngestReport:
    results: list[FileResult] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, status: Status) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def chunks_written(self) -> int:
        return sum(r.chunks for r in self.results if r.status in ("added", "updated"))

    @property
    def failures(self) -> list[FileResult]:
        return [r for r in self.results if r.status == "failed"]

    def summary(self) -> str:
        counts = ", ".join(
            f"{self.count(s)} {s}"
            for s in ("added", "updated", "unchanged", "removed", "failed")
            if self.count(s)
        )
        return (
            f"{len(self.results)} files ({counts or 'nothing to do'}), "
            f"{self.chunks_written} chunks written, {self.seconds:.1f} s"
        )


class IngestLocked(RuntimeError):
    """Another ingest job holds the store."""


def content_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def collect_files(paths: Iterable[Path]) -> list[tuple[Path, Path]]:
    """(file, the folder its source name is relative to) for every file under ``paths``."""
    found = []
    for path in paths:
        if path.is_dir():
            for file in sorted(path.rglob("*")):
                hidden = any(part.startswith(".") for part in file.relative_to(path).parts)
                if file.is_file() and not hidden:
                    found.append((file, path))
        else:
            found.append((path, path.parent))
    return found


@dataclass
class _Pending:
    path: Path
    source: str
    digest: str
    existing: dict[str, dict[str, Any]]
    chunks: list[Chunk]


class Ingestor:
    """Brings the store in line with files on disk."""

    def __init__(
        self,
        settings: Settings,
        store: ChunkStore,
        embedder_factory: Callable[[], Embedder],
    ):
        self.settings = settings
        self.store = store
        # The embedder is built only when some file needs embedding: an up-to-date store
        # is checked without loading a model at all.
        self._embedder_factory = embedder_factory
        self._embedder: Embedder | None = None

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = self._embedder_factory()
        return self._embedder

    def lock(self, timeout: float = 0) -> FileLock:
        """The store-wide lock; raises :class:`IngestLocked` when another job holds it."""
        lock_dir = self.settings.db_dir
        lock_dir.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(lock_dir / ".ingest.lock"))
        try:
            lock.acquire(timeout=timeout)
        except Timeout as exc:
            raise IngestLocked(
                f"Another ingest is running on {self.store.description}; "
                "wait for it to finish and run this again."
            ) from exc
        return lock

    # --- the job ----------------------------------------------------------------------------
    def ingest(
        self,
        paths: Iterable[Path],
        *,
        prune: bool = True,
        progress: ProgressCallback | None = None,
        lock_timeout: float = 0,
    ) -> IngestReport:
        """Ingest files and folders; with ``prune``, drop stored files gone from those folders."""
        started = time.perf_counter()
        paths = [Path(p) for p in paths]
        lock = self.lock(lock_timeout)
        try:
            report = self._ingest_locked(paths, prune, progress)
        finally:
            lock.release()
        report.seconds = time.perf_counter() - started
        return report

    def _ingest_locked(
        self, paths: list[Path], prune: bool, progress: ProgressCallback | None
    ) -> IngestReport:
        report = IngestReport()
        stored = self._stored_by_path()
        files = collect_files(paths)
        batch: list[_Pending] = []
        for done, (path, root) in enumerate(files, start=1):
            key = str(path.resolve())
            source = path.relative_to(root).as_posix()
            existing = stored.pop(key, {})
            result = self._prepare(path, key, source, existing, batch)
            if result:
                report.results.append(result)
            if sum(len(p.chunks) for p in batch) >= self.settings.embedding_batch_size:
                report.results.extend(self._write(batch))
                batch = []
            if progress:
                progress(done, len(files), source)
        report.results.extend(self._write(batch))
        if prune:
            report.results.extend(self._prune(paths, stored))
        if any(r.status in ("added", "updated", "removed") for r in report.results):
            self.store.bump_generation()
        return report

    def _stored_by_path(self) -> dict[str, dict[str, dict[str, Any]]]:
        by_path: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        for chunk_id, meta in self.store.metadatas().items():
            by_path[meta.get("path", "")][chunk_id] = meta
        return by_path

    def _prepare(
        self, path: Path, key: str, source: str, existing: dict[str, dict], batch: list[_Pending]
    ) -> FileResult | None:
        """Either a final result (unchanged, failed) or a pending write added to ``batch``."""
        try:
            digest = content_hash(path)
        except OSError as exc:
            return FileResult(source, "failed", reason=f"{path}: can't read ({exc.strerror})")
        hashes = {meta.get("content_hash") for meta in existing.values()}
        if hashes == {digest} and len(existing) == next(iter(existing.values())).get("n_chunks"):
            return FileResult(source, "unchanged", len(existing))
        try:
            documents = load_file(path, self.settings.allowed_extensions, self.settings.max_file_mb)
            chunks = split_documents(
                documents,
                source=source,
                content_hash=digest,
                chunk_size=self.settings.chunk_size,
                chunk_overlap=self.settings.chunk_overlap,
            )
        except LoadError as exc:
            kept = f"; its {len(existing)} stored chunks are kept" if existing else ""
            log.warning("%s%s", exc, kept)
            return FileResult(source, "failed", reason=str(exc) + kept)
        if not chunks:
            return FileResult(source, "failed", reason=f"{path}: no extractable text")
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        for chunk in chunks:
            chunk.metadata.update(path=key, ingested_at=now)
        batch.append(_Pending(path, source, digest, existing, chunks))
        return None

    def _write(self, batch: list[_Pending]) -> list[FileResult]:
        if not batch:
            return []
        texts = [chunk.text for pending in batch for chunk in pending.chunks]
        vectors = iter(self.embedder.embed_documents(texts))
        results = []
        for pending in batch:
            chunks = pending.chunks
            self.store.upsert(
                [c.id for c in chunks],
                [c.text for c in chunks],
                [next(vectors) for _ in chunks],
                [c.metadata for c in chunks],
            )
            new_ids = {c.id for c in chunks}
            self.store.delete([i for i in pending.existing if i not in new_ids])
            status: Status = "updated" if pending.existing else "added"
            results.append(FileResult(pending.source, status, len(chunks)))
        return results

    def _prune(
        self, paths: list[Path], leftovers: dict[str, dict[str, dict[str, Any]]]
    ) -> list[FileResult]:
        folders = [str(p.resolve()) + "/" for p in paths if p.is_dir()]
        results = []
        for key, chunks in leftovers.items():
            if any(key.startswith(folder) for folder in folders):
                source = next(iter(chunks.values())).get("source", key)
                self.store.delete(list(chunks))
                results.append(FileResult(source, "removed", len(chunks)))
        return results

    # --- documents in the store -------------------------------------------------------------
    def documents(self) -> list[dict[str, Any]]:
        """One row per stored file: source, path, chunks, ingested_at."""
        rows: dict[str, dict[str, Any]] = {}
        for meta in self.store.metadatas().values():
            row = rows.setdefault(
                meta.get("path", ""),
                {
                    "source": meta.get("source"),
                    "path": meta.get("path"),
                    "chunks": 0,
                    "ingested_at": meta.get("ingested_at"),
                },
            )
            row["chunks"] += 1
        return sorted(rows.values(), key=lambda r: r["source"] or "")

    def reset(self) -> int:
        """Remove every chunk (``--reset``); returns how many."""
        lock = self.lock(timeout=30)
        try:
            ids = list(self.store.metadatas())
            self.store.delete(ids)
            self.store.bump_generation()
            return len(ids)
        finally:
            lock.release()

    def delete_document(self, path: str) -> int:
        """Remove every chunk of the stored file at ``path``; returns how many."""
        lock = self.lock(timeout=30)
        try:
            ids = list(self.store.metadatas(where={"path": path}))
            self.store.delete(ids)
            if ids:
                self.store.bump_generation()
            return len(ids)
        finally:
            lock.release()
