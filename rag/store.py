"""The vector store: chunks, their embeddings and metadata, kept in Chroma.

A folder on disk by default (``PersistentClient``); a Chroma server when ``chroma_host`` is set,
for users who outgrow one machine. Ingestion and retrieval both go through :class:`ChunkStore`.

Two processes on one store folder (the web app, and ``python -m ingest`` run beside it) need
care: Chroma's local client keeps each collection's vector index in memory and never re-reads
what another process wrote, so a long-running reader goes stale (its searches miss new chunks
and return deleted ones), and a stale writer can save its old index over the new one. The
collection's metadata carries a generation that every write bumps; a local store that sees
someone else's generation opens a fresh client before it reads or writes again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.store_lock import LOCK_FILE, Lease, claim_lease, current_lease, release_lease
from rag.store_lock import while_no_writer as _while_no_writer

if TYPE_CHECKING:
    from rag.settings import Settings

__all__ = ["ChunkStore", "Lease", "StoreError", "StoredChunk", "open_store"]

log = logging.getLogger(__name__)

# Metadata key on the collection. The generation is bumped by every job that changes the
# contents, so readers (the BM25 index, other processes) know when to reload.
_GENERATION_KEY = "generation"


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
            return False  # one server process owns the index: nothing goes stale
        return self._catch_up(self._fresh(), locked=locked)

    def _catch_up(self, fresh, *, locked: bool = False) -> bool:
        """:meth:`sync`, given the collection as just read."""
        if self._state(fresh) == self._known:
            return False
        if locked:
            self._reload()
            return True
        with _while_no_writer(self.lock_path) as free:
            if free:
                self._reload()
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
        for start in self._batches(len(ids)):
            end = start + self._max_batch
            self._collection.upsert(
                ids=list(ids[start:end]),
                documents=list(texts[start:end]),
                embeddings=[list(e) for e in embeddings[start:end]],
                metadatas=list(metadatas[start:end]),
            )

    def update_metadatas(self, ids: Sequence[str], metadatas: Sequence[dict[str, Any]]) -> None:
        """Change metadata keys of stored chunks; their text and vectors stay."""
        for start in self._batches(len(ids)):
            end = start + self._max_batch
            self._collection.update(ids=list(ids[start:end]), metadatas=list(metadatas[start:end]))

    def delete(self, ids: Sequence[str]) -> None:
        ids = list(ids)
        for start in self._batches(len(ids)):
            self._collection.delete(ids=ids[start : start + self._max_batch])

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
        metadata = self.set_collection_metadata({_GENERATION_KEY: time.time_ns()})
        self._known = (str(self._collection.id), metadata[_GENERATION_KEY])

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

    def metadatas(self, where: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
        """id -> metadata of every chunk (matching ``where``)."""
        result = self._collection.get(where=where, include=["metadatas"])
        return {
            id_: meta or {} for id_, meta in zip(result["ids"], result["metadatas"], strict=True)
        }

    def all_chunks(self) -> list[StoredChunk]:
        result = self._collection.get(include=["documents", "metadatas"])
        return [
            StoredChunk(id_, text or "", meta or {})
            for id_, text, meta in zip(
                result["ids"], result["documents"], result["metadatas"], strict=True
            )
        ]

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
        lock_path = (
            settings.db_dir / f".ingest-{''.join(c if c.isalnum() else '_' for c in key)}.lock"
        )
        try:
            return ChunkStore(
                connect,
                settings.collection,
                f"{settings.collection} @ {where}",
                lock_path=lock_path,
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
            local_path=path,
        )
    except Exception as exc:
        raise StoreError(
            f"Can't open the store folder {settings.db_dir} ({exc}); set RAG_DB_DIR to a "
            "writable folder."
        ) from exc
