"""Incremental, crash-safe ingestion into the chunk store.

The store is its own manifest: every chunk carries its document's ``source`` (unique in the
store), the file's ``path`` and ``root`` folder, its content hash and the chunking settings it
was cut with; chunk ids derive from source, hash and position. For each changed file the job
writes the new chunks first, then deletes the document's other chunks, so:

* a file whose new version fails to load keeps its old chunks;
* a crash (even ``kill -9``) between the two steps leaves a document with two hashes, or
  fewer chunks than its ``n_chunks``; the next run sees that and rewrites it; re-writing the
  same ids is harmless (upsert);
* an unchanged file costs one hash and no model call: an up-to-date store is checked without
  importing torch or loading the embedding model at all.

A file is matched to its stored document by path first (the same file ingested from another
root folder replaces its old chunks rather than doubling them), then by source (a folder that
moved, or a copy of it on another machine sharing a Chroma server, keeps its chunks: same
names and contents give the same ids, so nothing is embedded again).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from filelock import FileLock, Timeout

if TYPE_CHECKING:
    from ingest.chunking import Chunk
    from rag.embeddings import Embedder
    from rag.settings import Settings
    from rag.store import ChunkStore

log = logging.getLogger(__name__)

Status = Literal["added", "updated", "unchanged", "removed", "failed"]
STATUSES: tuple[Status, ...] = ("added", "updated", "unchanged", "removed", "failed")
ProgressCallback = Callable[[int, int, str], None]
# Collection metadata key naming the model the stored vectors come from.
MODEL_KEY = "embedding_model"
# Editor and office droppings that are never documents.
_SKIPPED_PREFIXES = ("~$", ".~lock")
_SKIPPED_SUFFIXES = ("~", ".tmp", ".swp", ".part", ".crdownload")
# A server store's ingest lease lapses this long after its last renewal.
LEASE_TTL_S = 60.0


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
    def changed(self) -> bool:
        return any(r.status in ("added", "updated", "removed") for r in self.results)

    @property
    def failures(self) -> list[FileResult]:
        return [r for r in self.results if r.status == "failed"]

    def summary(self) -> str:
        counts = ", ".join(f"{self.count(s)} {s}" for s in STATUSES if self.count(s))
        return (
            f"{len(self.results)} files ({counts or 'nothing to do'}), "
            f"{self.chunks_written} chunks written, {self.seconds:.1f} s"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "files": len(self.results),
            "chunks": self.chunks_written,
            "seconds": round(self.seconds, 2),
            **{status: self.count(status) for status in STATUSES},
            "results": [asdict(r) for r in self.results],
        }


class IngestError(RuntimeError):
    """The job can't run at all (the message says why and what to do)."""


class IngestLocked(IngestError):
    """Another ingest job holds the store."""


def content_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _absolute(path: Path) -> Path:
    """Absolute and normalised, symlinks left alone (a linked file keeps its own name)."""
    return Path(os.path.abspath(path))


def skipped_name(name: str) -> bool:
    """Editor and office droppings (``~$report.docx``, ``notes.md~``), never documents."""
    return name.startswith(_SKIPPED_PREFIXES) or name.endswith(_SKIPPED_SUFFIXES)


def collect_files(paths: Iterable[Path], exclude: Iterable[Path] = ()) -> list[tuple[Path, Path]]:
    """(file, the folder its source name is relative to) for every document under ``paths``.

    Hidden files and folders, editor droppings and anything under ``exclude`` (the store's own
    folder, say, when it sits inside the knowledge folder) are left out.
    """
    exclude = [_absolute(p) for p in exclude]
    found = []
    for path in paths:
        path = _absolute(path)
        if path.is_dir():
            excluded = [e for e in exclude if e != path and e.is_relative_to(path)]
            for file in sorted(path.rglob("*")):
                relative = file.relative_to(path).parts
                if any(part.startswith(".") for part in relative) or skipped_name(file.name):
                    continue
                if any(file.is_relative_to(e) for e in excluded) or not file.is_file():
                    continue
                found.append((file, path))
        else:
            found.append((path, path.parent))
    return found


def chunking_key(settings: Settings) -> str:
    """How a chunk was cut (chunker version, size, overlap): a change re-chunks every file."""
    from ingest.chunking import CHUNKER_VERSION

    return f"v{CHUNKER_VERSION}:{settings.chunk_size}/{settings.chunk_overlap}"


@dataclass
class _Stored:
    """One document in the store."""

    source: str
    ids: dict[str, dict[str, Any]] = field(default_factory=dict)

    def meta(self, key: str) -> Any:
        return next(iter(self.ids.values())).get(key) if self.ids else None


@dataclass
class _Pending:
    source: str
    existing: dict[str, dict[str, Any]]
    chunks: list[Chunk]


class _Job:
    """State of one ingest run."""

    def __init__(self, total: int, progress, on_result):
        self.report = IngestReport()
        self.total = total
        self.done = 0
        self.progress = progress
        self.on_result = on_result
        self.seen: set[str] = set()  # sources this run accounts for
        self.claimed: dict[str, str] = {}  # source -> path, in this run
        self.paths: set[str] = set()  # every file of this run

    def finish(self, result: FileResult, counts_as_file: bool = True) -> None:
        self.report.results.append(result)
        if self.on_result:
            self.on_result(result)
        if counts_as_file:
            self.done += 1
            if self.progress:
                self.progress(self.done, self.total, result.source)


class StoreLock:
    """The lock an ingest job holds on its store.

    A file lock in the store folder orders jobs on one machine, and the kernel drops it when
    its process dies, even by ``kill -9``. A Chroma server is shared by machines whose folders
    differ, so a server store is also claimed by a lease written into the collection itself,
    renewed while the job runs and ignored once it lapses or its process is gone.
    """

    def __init__(self, store: ChunkStore, timeout: float):
        self.store = store
        self.timeout = timeout
        self._file = FileLock(str(store.lock_path))
        self._owner_file = store.lock_path.with_name(store.lock_path.name + ".owner")
        self._lease_owner = uuid.uuid4().hex
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None
        self.held = False

    def _holder(self) -> str:
        try:
            owner = json.loads(self._owner_file.read_text(encoding="utf-8"))
            return f" (process {owner['pid']} on {owner['host']}, since {owner['since']})"
        except (OSError, ValueError, KeyError, TypeError):
            return ""

    def _refuse(self, holder: str) -> IngestLocked:
        wait = f" after waiting {self.timeout:g} s" if self.timeout > 0 else ""
        return IngestLocked(
            f"Another ingest is running on {self.store.description}{holder}{wait}; "
            "wait for it to finish and run this again (or pass --wait SECONDS)."
        )

    def acquire(self) -> StoreLock:
        if self.held:
            return self
        self.store.lock_path.parent.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        try:
            self._file.acquire(timeout=self.timeout)
        except Timeout as exc:
            raise self._refuse(self._holder()) from exc
        try:
            self._owner_file.write_text(
                json.dumps(
                    {
                        "pid": os.getpid(),
                        "host": socket.gethostname(),
                        "since": datetime.now().isoformat(timespec="seconds"),
                    }
                ),
                encoding="utf-8",
            )
            if self.store.is_remote:
                self._claim_lease(started)
        except BaseException:
            self._file.release()
            raise
        self.held = True
        return self

    def _lease(self):
        from rag.store import Lease

        return Lease(
            self._lease_owner, socket.gethostname(), os.getpid(), time.time() + LEASE_TTL_S
        )

    def _claim_lease(self, started: float) -> None:
        while True:
            holder = self.store.claim_lease(self._lease())
            if holder is None:
                break
            if time.monotonic() - started >= self.timeout:
                raise self._refuse(f" ({holder.describe()})")
            time.sleep(min(2.0, max(0.1, self.timeout / 10)))
        self._renewer = threading.Thread(target=self._renew, name="ingest-lease", daemon=True)
        self._renewer.start()

    def _renew(self) -> None:
        while not self._stop.wait(LEASE_TTL_S / 4):
            try:
                self.store.claim_lease(self._lease(), settle_s=0)
            except Exception as exc:  # the server may blink; the next renewal retries
                log.warning("could not renew the ingest lease: %s", exc)

    def release(self) -> None:
        if not self.held:
            return
        self.held = False
        try:
            if self._renewer is not None:
                self._stop.set()
                self._renewer.join()
                self.store.release_lease(self._lease_owner)
        finally:
            self._owner_file.unlink(missing_ok=True)
            self._file.release()

    def __enter__(self) -> StoreLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


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
        self._dirty = False  # this job has bumped the generation before writing

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = self._embedder_factory()
        return self._embedder

    def lock(self, timeout: float = 0) -> StoreLock:
        """The store-wide lock, acquired; raises :class:`IngestLocked` when another job holds it.

        Use as ``with ingestor.lock(): ...``.
        """
        lock = StoreLock(self.store, timeout).acquire()
        try:
            # Another process may have written since this one last looked.
            self.store.sync(locked=True)
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
        lock_timeout: float = 0,
        source_prefix: str = "",
        reset: bool = False,
    ) -> IngestReport:
        """Ingest files and folders; with ``prune``, drop stored files gone from those folders.

        ``source_prefix`` is put before every source name (uploads are ``uploads/<name>``);
        ``reset`` empties the store first, under the same lock. ``progress(done, total,
        source)`` and ``on_result(result)`` are called as each file's outcome is final.
        """
        started = time.perf_counter()
        paths = [Path(p) for p in paths]
        with self.lock(lock_timeout):
            self._dirty = False
            try:
                if reset:
                    self._reset_locked()
                report = self._ingest_locked(paths, prune, progress, on_result, source_prefix)
            finally:
                if self._dirty:
                    self.store.bump_generation()  # readers reload once the job is over
        report.seconds = time.perf_counter() - started
        return report

    def _before_write(self) -> None:
        """Mark the store as changing before the first write, so that even a job killed
        halfway leaves a generation that other processes see as new."""
        if not self._dirty:
            self.store.bump_generation()
            self._dirty = True

    def _check_model(self) -> None:
        stored = self.store.collection_metadata().get(MODEL_KEY)
        if stored and stored != self.settings.embedding_model and self.store.count():
            raise IngestError(
                f"The store {self.store.description} holds vectors of the embedding model "
                f"{stored!r}, not {self.settings.embedding_model!r}; rebuild it with "
                "`python -m ingest --reset` (or set RAG_EMBEDDING_MODEL back)."
            )

    def _ingest_locked(
        self,
        paths: list[Path],
        prune: bool,
        progress: ProgressCallback | None,
        on_result: Callable[[FileResult], None] | None,
        prefix: str,
    ) -> IngestReport:
        self._check_model()
        stored, orphans = self._stored_documents()
        by_path = {doc.meta("path"): doc.source for doc in stored.values() if doc.meta("path")}
        files = collect_files(paths, exclude=self._own_folders())
        job = _Job(len(files), progress, on_result)
        job.paths = {str(path) for path, _ in files}
        batch: list[_Pending] = []
        for path, root in files:
            source = prefix + path.relative_to(root).as_posix()
            result = self._prepare(path, root, source, stored, by_path, job, batch)
            if result is not None:
                job.finish(result)
            if sum(len(p.chunks) for p in batch) >= self.settings.ingest_batch_chunks:
                self._write(batch, job)
                batch = []
        self._write(batch, job)
        if prune:
            self._prune(paths, files, stored, orphans, job)
        return job.report

    def _own_folders(self) -> list[Path]:
        """The store's folder and the uploads: never part of a knowledge folder's documents."""
        return [_absolute(self.settings.db_dir), _absolute(self.settings.uploads_path)]

    def _stored_documents(self) -> tuple[dict[str, _Stored], list[str]]:
        """source -> stored document, and the ids of chunks that belong to no document."""
        stored: dict[str, _Stored] = {}
        orphans = []
        for chunk_id, meta in self.store.metadatas().items():
            source = meta.get("source")
            if not source or not meta.get("path"):
                orphans.append(chunk_id)
                continue
            stored.setdefault(source, _Stored(source)).ids[chunk_id] = meta
        return stored, orphans

    def _is_current(self, existing: dict[str, dict[str, Any]], digest: str) -> bool:
        """Every chunk of one complete version, cut with today's chunking settings."""
        if not existing:
            return False
        metas = list(existing.values())
        n = metas[0].get("n_chunks")
        chunking = chunking_key(self.settings)
        return (
            all(
                m.get("content_hash") == digest
                and m.get("n_chunks") == n
                and m.get("chunking") == chunking
                for m in metas
            )
            and sorted(m.get("chunk_index") for m in metas) == list(range(len(metas)))
            and len(metas) == n
        )

    def _prepare(
        self,
        path: Path,
        root: Path,
        source: str,
        stored: dict[str, _Stored],
        by_path: dict[str, str],
        job: _Job,
        batch: list[_Pending],
    ) -> FileResult | None:
        """Either a final result (unchanged, failed) or a pending write added to ``batch``."""
        key = str(path)
        if source in job.claimed:
            return FileResult(
                source,
                "failed",
                reason=f"{path}: another file of this run, {job.claimed[source]}, has the same "
                "name; rename one of them or ingest their folders separately",
            )
        job.claimed[source] = key
        job.seen.add(source)
        try:
            digest = content_hash(path)
        except OSError as exc:
            return FileResult(source, "failed", reason=f"{path}: can't read ({exc.strerror})")
        existing: dict[str, dict[str, Any]] = {}
        doc = stored.get(source)
        if doc is not None:
            elsewhere = doc.meta("path")
            if (
                elsewhere != key
                and elsewhere not in job.paths
                and Path(elsewhere).is_file()
                and not self._is_current(doc.ids, digest)
            ):
                # Another file, still there, with other contents under the same name: the
                # two would take turns replacing each other. (The same contents is a copy of
                # the same document, e.g. the notes of another machine sharing a server.)
                return FileResult(
                    source,
                    "failed",
                    reason=f"{path}: {elsewhere} is already stored under the same name "
                    f"'{source}'; rename one of them",
                )
            existing.update(doc.ids)
        previous = by_path.get(key)
        if previous is not None and previous != source and previous in stored:
            # The same file, stored under another name (ingested from another root folder):
            # its old chunks go once the new ones are in.
            existing.update(stored[previous].ids)
            job.seen.add(previous)
        if previous in (None, source) and self._is_current(existing, digest):
            self._follow_move(existing, key, str(root))
            return FileResult(source, "unchanged", len(existing))
        from ingest.chunking import split_documents
        from ingest.loaders import LoadError, load_file

        try:
            documents = load_file(
                path,
                self.settings.allowed_extensions,
                self.settings.max_file_mb,
                max_pdf_stream_mb=self.settings.max_pdf_stream_mb,
            )
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
        for chunk in chunks:
            chunk.metadata.update(path=key, root=str(root), chunking=chunking_key(self.settings))
        batch.append(_Pending(source, existing, chunks))
        return None

    def _follow_move(self, existing: dict[str, dict[str, Any]], key: str, root: str) -> None:
        """An unchanged document read from a new place: point its metadata there."""
        stale = [i for i, m in existing.items() if m.get("path") != key or m.get("root") != root]
        if stale:
            self._before_write()
            self.store.update_metadatas(stale, [{"path": key, "root": root}] * len(stale))

    def _write(self, batch: list[_Pending], job: _Job) -> None:
        if not batch:
            return
        texts = [chunk.text for pending in batch for chunk in pending.chunks]
        # One call for the whole batch: the embedder sorts it by length, so its forward passes
        # hold chunks of similar length and waste little time on padding.
        vectors = self.embedder.embed_documents(texts)
        self._before_write()
        self.store.set_collection_metadata({MODEL_KEY: self.settings.embedding_model})
        position = 0
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        written = {c.id for pending in batch for c in pending.chunks}
        for pending in batch:
            chunks = pending.chunks
            for chunk in chunks:
                chunk.metadata["ingested_at"] = now
            self.store.upsert(
                [c.id for c in chunks],
                [c.text for c in chunks],
                vectors[position : position + len(chunks)],
                [c.metadata for c in chunks],
            )
            position += len(chunks)
            self.store.delete([i for i in pending.existing if i not in written])
            status: Status = "updated" if pending.existing else "added"
            job.finish(FileResult(pending.source, status, len(chunks)))

    def _prune(
        self,
        paths: list[Path],
        files: list[tuple[Path, Path]],
        stored: dict[str, _Stored],
        orphans: list[str],
        job: _Job,
    ) -> None:
        folders = [_absolute(p) for p in paths if p.is_dir()]
        if not folders:
            return
        if orphans:
            self._before_write()
            self.store.delete(orphans)
            job.finish(
                FileResult("(chunks of no document)", "removed", len(orphans)), counts_as_file=False
            )
        nonempty = {root for _, root in files}
        own = self._own_folders()
        kept: dict[Path, list[_Stored]] = {}
        for doc in stored.values():
            if doc.source in job.seen:
                continue
            root = Path(doc.meta("root") or doc.meta("path"))
            owner = next(
                (
                    f
                    for f in folders
                    if root == f
                    or (root.is_relative_to(f) and not any(root.is_relative_to(e) for e in own))
                ),
                None,
            )
            if owner is None:
                # A folder that moved (same name, old place gone), or the same folder on the
                # other machine sharing a Chroma server: its vanished files go too.
                owner = next(
                    (f for f in folders if f.name == root.name and not root.is_dir()), None
                )
            if owner is None:
                continue
            if owner not in nonempty:
                kept.setdefault(owner, []).append(doc)
                continue
            self._before_write()
            self.store.delete(list(doc.ids))
            job.finish(FileResult(doc.source, "removed", len(doc.ids)), counts_as_file=False)
        for folder, docs in kept.items():
            # An empty folder is more often an unmounted disk or a checkout in progress than
            # a wish to forget everything.
            job.finish(
                FileResult(
                    f"{folder.name}/",
                    "failed",
                    sum(len(d.ids) for d in docs),
                    reason=f"{folder} is empty, so its {len(docs)} stored documents are kept; "
                    "use --reset (or delete them) to empty the store",
                ),
                counts_as_file=False,
            )

    # --- documents in the store -------------------------------------------------------------
    def documents(self) -> list[dict[str, Any]]:
        """One row per stored document: source, path, root, chunks, ingested_at."""
        self.store.sync()
        stored, _ = self._stored_documents()
        rows = [
            {
                "source": doc.source,
                "path": doc.meta("path"),
                "root": doc.meta("root"),
                "chunks": len(doc.ids),
                "ingested_at": max(str(m.get("ingested_at") or "") for m in doc.ids.values()),
            }
            for doc in stored.values()
        ]
        return sorted(rows, key=lambda r: r["source"])

    def _reset_locked(self) -> int:
        ids = list(self.store.metadatas())
        self._before_write()
        self.store.delete(ids)
        self.store.set_collection_metadata({MODEL_KEY: None})
        return len(ids)

    def reset(self, lock_timeout: float = 30) -> int:
        """Remove every chunk (``--reset``); returns how many."""
        with self.lock(lock_timeout):
            self._dirty = False
            try:
                return self._reset_locked()
            finally:
                if self._dirty:
                    self.store.bump_generation()

    def delete_document(self, source: str, lock_timeout: float = 30) -> int:
        """Remove every chunk of the stored document ``source``; returns how many."""
        with self.lock(lock_timeout):
            ids = list(self.store.metadatas(where={"source": source}))
            if ids:
                self.store.bump_generation()
                self.store.delete(ids)
                self.store.bump_generation()
            return len(ids)
