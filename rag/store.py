"""The vector store: chunks, their embeddings and metadata, kept in Chroma.

A folder on disk by default (``PersistentClient``); a Chroma server when ``chroma_host`` is set,
for users who outgrow one machine. Ingestion and retrieval both go through :class:`ChunkStore`.

Two processes on one store folder (the web app, and ``python -m ingest`` run beside it) need
care: Chroma's local client keeps each collection's vector index in memory and never re-reads
what another process wrote, so a long-running reader goes stale (its searches miss new chunks
and return deleted ones), and a stale writer can save its old index over the new one. The
collection's metadata carries a generation that every write bumps; a local store that sees
someone else's generation opens a fresh client before it reads or writes again.

Nothing reads the whole collection at once: Chroma binds one SQLite variable per record it
returns with metadata, and a read of more than 32,766 fails ("too many SQL variables"). Reads
go by page (:data:`PAGE_SIZE`) or by target (ids, one document's chunks), and the lexical
index (:mod:`rag.lexical`), written with every change, answers keyword searches and the
documents list without reading the store.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.chunks import stored_parts
from rag.lexical import DocumentRow, LexicalIndex
from rag.store_lock import LOCK_FILE, Lease, claim_lease, current_lease, release_lease
from rag.store_lock import while_no_writer as _while_no_writer

if TYPE_CHECKING:
    from rag.settings import Settings

__all__ = ["ChunkStore", "Lease", "StoreError", "StoredChunk", "open_store"]

log = logging.getLogger(__name__)

# Metadata key on the collection. The generation is bumped by every job that changes the
# contents, so readers (the BM25 index, other processes) know when to reload.
_GENERATION_KEY = "generation"
#: Records per read: well below SQLite's 32,766 variables, and a bounded slice of memory.
PAGE_SIZE = 5000


class StoreError(RuntimeError):
    """The store can't be opened or reached; the message says how to fix it."""


@dataclass(frozen=True)
class StoredChunk:
    id: str
    text: str
    metadata: dict[str, Any]
    distance: float | None = None


def _fresh_local_system() -> None:
    """Make the next ``PersistentClient`` start afresh instead of reusing a cached one.

    Chroma caches one system per folder for the whole process, in-memory index included;
    reopening the folder would hand back the same stale index. ``clear_system_cache`` (public)
    empties that cache: clients already built keep their systems, and are never closed here
    (closing one would stop the system now cached under its folder).
    """
    from chromadb.api.client import SharedSystemClient

    SharedSystemClient.clear_system_cache()


class ChunkStore:
    """A thin, typed face over one Chroma collection."""

    def __init__(
        self,
        connect: Callable[[], Any],
        name: str,
        description: str,
        *,
        lock_path: Path,
        lexical_path: Path,
        local_path: str | None = None,
    ):
        self._connect = connect
        self.name = name
        self.description = description
        #: The file lock that ingest jobs take; per machine (see ``is_remote``).
        self.lock_path = lock_path
        self._local_path = local_path
        self._guard = threading.RLock()
        self._client = connect()
        self._collection = self._client.get_or_create_collection(
            name, embedding_function=None, metadata={"hnsw:space": "cosine"}
        )
        self._max_batch = self._max_batch_size()
        # (collection id, generation) as of our last reload or write.
        self._known = self._state(self._collection)
        #: Keyword search and the documents catalog, kept in step with every write here.
        self.lexical = LexicalIndex(lexical_path)
        # Written into the lexical index before this object's first change of a job: a job
        # killed halfway leaves it there, and whoever next holds the lock repairs the index.
        self._writing_mark = f"writing {uuid.uuid4().hex}"
        # A change reached the store and not the index (an error between the two writes).
        self._lexical_behind = False

    @property
    def client(self):
        """The Chroma client (the server lock creates its own collection through it)."""
        return self._client

    @property
    def is_remote(self) -> bool:
        """A Chroma server: several machines may share it, so a file lock can't guard it."""
        return self._local_path is None

    def _max_batch_size(self) -> int:
        try:
            return max(1, int(self._client.get_max_batch_size()))
        except Exception:
            return 1000

    @staticmethod
    def _state(collection) -> tuple[str, Any]:
        return str(collection.id), (collection.metadata or {}).get(_GENERATION_KEY)

    # --- staying in step with other processes -------------------------------------------------
    def _fresh(self):
        """The collection as stored now (its row is re-read; the vector index is not)."""
        try:
            return self._client.get_collection(self.name)
        except Exception:
            # Deleted behind our back (a reset by another tool): start an empty one.
            return self._client.get_or_create_collection(
                self.name, embedding_function=None, metadata={"hnsw:space": "cosine"}
            )

    def _reload(self) -> None:
        """Open a new client so the vector index is read again from disk."""
        with self._guard:
            self._client = self._connect()
            self._collection = self._fresh()
            self._known = self._state(self._collection)
            log.info("reopened %s after a change by another process", self.description)

    def sync(self, *, locked: bool = False) -> bool:
        """Reopen a local store that another process has changed; True when it did.

        ``locked``: the caller holds the ingest lock, so no writer can be saving the index
        while it is read. Otherwise the lock is tried without waiting, and a store being
        written by another process is read as it was until that job ends.
        """
        if self.is_remote:
            if locked:  # a writer: note what other machines did, for the lexical index
                self._known = self._state(self._fresh())
            return False  # one server process owns the vector index: nothing goes stale
        return self._catch_up(self._fresh(), locked=locked)

    def _catch_up(self, fresh, *, locked: bool = False) -> bool:
        """:meth:`sync`, given the collection as just read."""
        if self._state(fresh) == self._known:
            return False
        if locked:
            self._reload()
            return True
        return self._unless_ingesting(self._reload)

    def _unless_ingesting(self, action: Callable[[], Any]) -> bool:
        """Run ``action`` under the ingest lock if no job holds it (no waiting); True if it ran."""
        with _while_no_writer(self.lock_path) as free:
            if free:
                action()
            return free

    # --- writing --------------------------------------------------------------------------
    def _batches(self, n: int) -> range:
        return range(0, n, self._max_batch)

    def upsert(
        self,
        ids: Sequence[str],
        texts: Sequence[str],
        embeddings: Sequence[Sequence[float]],
        metadatas: Sequence[dict[str, Any]],
    ) -> None:
        def write() -> None:
            for start in self._batches(len(ids)):
                end = start + self._max_batch
                self._collection.upsert(
                    ids=list(ids[start:end]),
                    documents=list(texts[start:end]),
                    embeddings=[list(e) for e in embeddings[start:end]],
                    metadatas=list(metadatas[start:end]),
                )

        self._mirrored(write, lambda: self._index_lexically(ids, texts, metadatas))

    def update_metadatas(self, ids: Sequence[str], metadatas: Sequence[dict[str, Any]]) -> None:
        """Change metadata keys of stored chunks; their text and vectors stay."""

        def write() -> None:
            for start in self._batches(len(ids)):
                end = start + self._max_batch
                self._collection.update(
                    ids=list(ids[start:end]), metadatas=list(metadatas[start:end])
                )

        self._mirrored(write, lambda: self.lexical.update_metadatas(ids, metadatas))

    def delete(self, ids: Sequence[str]) -> None:
        ids = list(ids)
        if not ids:
            return

        def write() -> None:
            for start in self._batches(len(ids)):
                self._collection.delete(ids=ids[start : start + self._max_batch])

        self._mirrored(write, lambda: self.lexical.remove(ids))

    def collection_metadata(self) -> dict[str, Any]:
        return dict(self._fresh().metadata or {})

    def set_collection_metadata(self, changes: dict[str, Any]) -> dict[str, Any]:
        """Set (value) or drop (None) collection metadata keys; returns the new metadata."""
        with self._guard:
            metadata = dict(self._fresh().metadata or {})
            for key, value in changes.items():
                if value is None:
                    metadata.pop(key, None)
                else:
                    metadata[key] = value
            metadata.pop("hnsw:space", None)  # fixed at creation; Chroma refuses to modify it
            # Chroma refuses an empty metadata dict; the generation is always worth keeping.
            metadata.setdefault(_GENERATION_KEY, 0)
            self._collection.modify(metadata=metadata)
            return metadata

    def bump_generation(self) -> None:
        """Tell readers the contents changed; call before a job's first write and after its last."""
        with self._guard:
            in_step = not self._lexical_behind and self.lexical.state() in (
                self._state_key(self._known),
                self._writing_mark,
            )
            metadata = self.set_collection_metadata({_GENERATION_KEY: time.time_ns()})
            self._known = (str(self._collection.id), metadata[_GENERATION_KEY])
            if in_step:  # every change since was mirrored: the index matches the new state
                self.lexical.set_state(self._state_key(self._known))

    # --- the lexical index in step with the store ---------------------------------------------
    def _state_key(self, known: tuple[str, Any]) -> str:
        return f"{known[0]}:{known[1]}"

    def _mirrored(self, write_store: Callable[[], None], write_index: Callable[[], None]) -> None:
        """A change to the store, then the same change to the lexical index.

        Before it, the index is marked as being written (and repaired first if it was behind),
        so a job killed between the two writes is noticed by the next one; a failure between
        them here keeps the index from being declared in step until it is repaired."""
        with self._guard:
            state = self.lexical.state()
            if self._lexical_behind or state not in (
                self._writing_mark,
                self._state_key(self._known),
            ):
                self.repair_lexical()
                state = None
            if state != self._writing_mark:
                self.lexical.set_state(self._writing_mark)
        try:
            write_store()
            write_index()
        except BaseException:
            self._lexical_behind = True
            raise

    def _index_lexically(
        self, ids: Sequence[str], texts: Sequence[str], metadatas: Sequence[dict[str, Any]]
    ) -> None:
        parts = [stored_parts(t or "", m or {}) for t, m in zip(texts, metadatas, strict=True)]
        self.lexical.add(
            ids, [header for header, _ in parts], [body for _, body in parts], metadatas
        )

    def ensure_lexical(self, generation: tuple[int, Any, str] | None = None) -> bool:
        """Repair the lexical index if it is behind the store and no ingest job is running
        (one that is will leave it in step); True when it is in step now.

        ``generation``: the store's :meth:`generation`, when the caller has just read it."""
        _, stamp, collection_id = generation or self.generation()
        if self.lexical.state() == self._state_key((collection_id, stamp)):
            return True

        def repair() -> None:
            self.sync(locked=True)
            self.repair_lexical()

        return self._unless_ingesting(repair)

    def repair_lexical(self) -> tuple[int, int]:
        """Bring the lexical index in line with the store: ids it lacks are read from the
        store and added, ids the store lacks are dropped. Call with the ingest lock held.
        Returns (added, removed)."""
        with self._guard:
            fresh = self._state(self._fresh())
            if not self._lexical_behind and self.lexical.state() == self._state_key(fresh):
                return 0, 0
            stored = set(self.ids())
            indexed = set(self.lexical.ids())
            gone = indexed - stored
            self.lexical.remove(gone)
            missing = sorted(stored - indexed)
            for start in range(0, len(missing), PAGE_SIZE):
                chunks = self.get(missing[start : start + PAGE_SIZE])
                self._index_lexically(
                    [c.id for c in chunks], [c.text for c in chunks], [c.metadata for c in chunks]
                )
            if self.is_remote:  # nothing to reload; what was read is what this process knows
                self._known = fresh
            self.lexical.set_state(self._state_key(fresh))
            self._lexical_behind = False
            if missing or gone:
                log.info(
                    "lexical index of %s repaired: %d chunks added, %d dropped",
                    self.description,
                    len(missing),
                    len(gone),
                )
            return len(missing), len(gone)

    # --- the ingest lease of a server store (see rag.store_lock) ---------------------------
    def lease(self) -> Lease | None:
        return current_lease(self)

    def claim_lease(self, lease: Lease) -> Lease | None:
        return claim_lease(self, lease)

    def release_lease(self, owner: str) -> None:
        release_lease(self, owner)

    # --- reading --------------------------------------------------------------------------
    def count(self) -> int:
        return self._fresh().count()

    def generation(self) -> tuple[int, Any, str]:
        """(count, generation, collection id): changes whenever the contents change.

        It syncs the store first, so a :meth:`query` right after may skip its own check."""
        fresh = self._fresh()
        if not self.is_remote and self._catch_up(fresh):
            fresh = self._collection  # reopened just now, read afresh
        collection_id, generation = self._state(fresh)
        return fresh.count(), generation, collection_id

    def _pages(
        self, include: list[str], where: dict[str, Any] | None = None
    ) -> Iterator[dict[str, Any]]:
        """``get`` results of :data:`PAGE_SIZE` records at a time (matching ``where``)."""
        offset = 0
        while True:
            page = self._collection.get(
                where=where, include=include, limit=PAGE_SIZE, offset=offset
            )
            if not page["ids"]:
                return
            yield page
            if len(page["ids"]) < PAGE_SIZE:
                return
            offset += len(page["ids"])

    def ids(self, where: dict[str, Any] | None = None) -> Iterator[str]:
        """Every chunk id (matching ``where``), read by page."""
        for page in self._pages([], where):
            yield from page["ids"]

    def iter_metadatas(
        self, where: dict[str, Any] | None = None
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        """(id, metadata) of every chunk (matching ``where``), read by page."""
        for page in self._pages(["metadatas"], where):
            for id_, meta in zip(page["ids"], page["metadatas"], strict=True):
                yield id_, meta or {}

    def metadatas(self, where: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
        """id -> metadata of every chunk (matching ``where``): meant for one document's chunks;
        the whole store's fits in memory but is read by page."""
        return dict(self.iter_metadatas(where))

    def get(self, ids: Sequence[str]) -> list[StoredChunk]:
        """The chunks of ``ids`` that are stored, in the order given."""
        found: dict[str, StoredChunk] = {}
        ids = list(dict.fromkeys(ids))
        for start in range(0, len(ids), PAGE_SIZE):
            page = self._collection.get(
                ids=ids[start : start + PAGE_SIZE], include=["documents", "metadatas"]
            )
            for id_, text, meta in zip(
                page["ids"], page["documents"], page["metadatas"], strict=True
            ):
                if text is not None:
                    found[id_] = StoredChunk(id_, text, meta or {})
        return [found[i] for i in ids if i in found]

    def all_chunks(self) -> list[StoredChunk]:
        """Every chunk with its text, read by page: for checks and tools, never for answering
        (the whole corpus in memory)."""
        return [
            StoredChunk(id_, text or "", meta or {})
            for page in self._pages(["documents", "metadatas"])
            for id_, text, meta in zip(
                page["ids"], page["documents"], page["metadatas"], strict=True
            )
        ]

    # --- the documents catalog (kept in the lexical index) ------------------------------------
    def documents(
        self, *, contains: str = "", offset: int = 0, limit: int | None = None
    ) -> list[DocumentRow]:
        """Stored documents by name, those whose name contains ``contains``, one page of them;
        answered by the lexical index, without reading the store."""
        self.ensure_lexical()
        return self.lexical.documents(contains=contains, offset=offset, limit=limit)

    def document_count(self, contains: str = "") -> int:
        self.ensure_lexical()
        return self.lexical.document_count(contains)

    def query(self, embedding: Sequence[float], n: int, *, sync: bool = True) -> list[StoredChunk]:
        """The ``n`` nearest chunks. ``sync=False``: the caller has just synced (one check, not
        two, per retrieval)."""
        if n <= 0:
            return []
        if sync:
            self.sync()
        result = self._collection.query(
            query_embeddings=[list(embedding)],
            n_results=n,
            include=["documents", "metadatas", "distances"],
        )
        return [
            StoredChunk(id_, text, meta or {}, dist)
            for id_, text, meta, dist in zip(
                result["ids"][0],
                result["documents"][0],
                result["metadatas"][0],
                result["distances"][0],
                strict=True,
            )
            # A chunk deleted by another process while this one's index is still the old one
            # comes back without its text: it is gone, not empty.
            if text is not None
        ]


def open_store(settings: Settings) -> ChunkStore:
    """Open (creating if needed) the collection named in ``settings``."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_host:
        where = f"{'https' if settings.chroma_ssl else 'http'}://{settings.chroma_host}:{settings.chroma_port}"

        def connect():
            client = chromadb.HttpClient(
                host=settings.chroma_host,
                port=settings.chroma_port,
                ssl=settings.chroma_ssl,
                settings=chroma_settings,
            )
            client.heartbeat()
            return client

        # The lock file only orders jobs on this machine; the lease in the server orders
        # machines. Named after the server, so two servers never share a lock.
        key = f"{settings.chroma_host}-{settings.chroma_port}-{settings.collection}"
        safe_key = "".join(c if c.isalnum() else "_" for c in key)
        lock_path = settings.db_dir / f".ingest-{safe_key}.lock"
        try:
            return ChunkStore(
                connect,
                settings.collection,
                f"{settings.collection} @ {where}",
                lock_path=lock_path,
                # Each machine keeps its own index of the server's chunks, checked against
                # the server's generation and repaired when another machine has written.
                lexical_path=settings.db_dir / f"lexical-{safe_key}.sqlite3",
            )
        except Exception as exc:
            raise StoreError(
                f"Can't reach the Chroma server at {where} ({exc}). Start it with "
                f"`chroma run --port {settings.chroma_port}` or unset RAG_CHROMA_HOST to use a folder."
            ) from exc

    path = str(settings.db_dir.resolve())

    def connect_local():
        # A client of its own: one built earlier in this process (another store object on
        # the same folder) may hold an index that is out of date.
        _fresh_local_system()
        return chromadb.PersistentClient(path=path, settings=chroma_settings)

    try:
        settings.db_dir.mkdir(parents=True, exist_ok=True)
        return ChunkStore(
            connect_local,
            settings.collection,
            f"{settings.collection} @ {settings.db_dir}",
            lock_path=settings.db_dir / LOCK_FILE,
            lexical_path=settings.db_dir / f"lexical-{settings.collection}.sqlite3",
            local_path=path,
        )
    except Exception as exc:
        raise StoreError(
            f"Can't open the store folder {settings.db_dir} ({exc}); set RAG_DB_DIR to a "
            "writable folder."
        ) from exc
