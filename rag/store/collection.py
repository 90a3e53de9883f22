"""One Chroma collection: opened on a folder or a server, kept in step with other processes,
read by page.

Two processes on one store folder (the web app, and ``python -m ingest`` run beside it) need
care: Chroma's local client keeps each collection's vector index in memory and never re-reads
what another process wrote, so a long-running reader goes stale (its searches miss new chunks
and return deleted ones), and a stale writer can save its old index over the new one. The
collection's metadata carries a generation that every write bumps; a local collection that sees
someone else's generation opens a fresh client before it reads or writes again.

Nothing reads the whole collection at once: Chroma binds one SQLite variable per record it
returns with metadata, and a read of more than 32,766 fails ("too many SQL variables"). Reads
go by page (:data:`PAGE_SIZE`) or by target (ids, one document's chunks).

The store (:class:`rag.store.chunk_store.ChunkStore`) holds one of these and its lexical index,
and keeps the two in step with every write.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.store.file_lock import while_no_writer, writer_at_work

if TYPE_CHECKING:
    from rag.settings import StoreSettings

log = logging.getLogger(__name__)

# Metadata key on the collection. The generation is bumped by every job that changes the
# contents, so readers (the lexical index, other processes) know when to reload.
GENERATION_KEY = "generation"
#: Records per read: well below SQLite's 32,766 variables, and a bounded slice of memory.
PAGE_SIZE = 5000
# How long the watcher waits for another process's ingest job at a time (then it looks again).
_WATCH_LOCK_WAIT_S = 60.0


@dataclass(frozen=True)
class StoredChunk:
    id: str
    text: str
    metadata: dict[str, Any]
    distance: float | None = None


def _chroma_settings():
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False, allow_reset=False)


def server_address(settings: StoreSettings) -> str:
    """The Chroma server of ``settings`` as a URL (for messages)."""
    scheme = "https" if settings.chroma_ssl else "http"
    return f"{scheme}://{settings.chroma_host}:{settings.chroma_port}"


def server_client(settings: StoreSettings) -> Callable[[], Any]:
    """A factory of clients of the Chroma server named in ``settings``; each one checks that
    the server answers."""
    import chromadb

    def connect():
        client = chromadb.HttpClient(
            host=settings.chroma_host,
            port=settings.chroma_port,
            ssl=settings.chroma_ssl,
            settings=_chroma_settings(),
        )
        client.heartbeat()
        return client

    return connect


def folder_client(path: str) -> Callable[[], Any]:
    """A factory of clients of the store folder ``path``, each one with an index read afresh.

    Chroma caches one system per folder for the whole process, in-memory index included;
    reopening the folder would hand back the same stale index (another store object on the
    same folder may hold one that is out of date). ``clear_system_cache`` (public) empties that
    cache: clients already built keep their systems, and are never closed here (closing one
    would stop the system now cached under its folder).
    """
    import chromadb
    from chromadb.api.client import SharedSystemClient

    def connect():
        SharedSystemClient.clear_system_cache()
        return chromadb.PersistentClient(path=path, settings=_chroma_settings())

    return connect


class ChromaCollection:
    """A thin, typed face over one Chroma collection."""

    def __init__(
        self,
        connect: Callable[[], Any],
        name: str,
        description: str,
        *,
        lock_path: Path,
        local_path: str | None = None,
        ef_search: int,
    ):
        self._connect = connect
        self.name = name
        self.description = description
        #: The file lock that ingest jobs take; per machine (see ``is_remote``).
        self.lock_path = lock_path
        self._local_path = local_path
        self._guard = threading.RLock()
        self._watching = False
        self._closed = False
        self._ef_search = ef_search
        self._client = connect()
        self._collection = self._open()
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

    @property
    def known_state(self) -> tuple[str, Any]:
        """(collection id, generation) as of this process's last reload or write."""
        return self._known

    def close(self) -> None:
        """Release the Chroma client, for a store about to be deleted (an evaluation's).

        Chroma then stops the system it keeps for the folder, which another store object of
        this process on the same folder would share: close only a store no one else has open.
        """
        if not self._closed:
            self._closed = True
            self._client.close()

    def _max_batch_size(self) -> int:
        try:
            return max(1, int(self._client.get_max_batch_size()))
        except Exception:
            return 1000

    @staticmethod
    def _state(collection) -> tuple[str, Any]:
        return str(collection.id), (collection.metadata or {}).get(GENERATION_KEY)

    # --- staying in step with other processes -------------------------------------------------
    def _open(self):
        """The collection, created if missing, searched with ``ef_search`` (set on a store
        made before, or by another setting: Chroma keeps it with the collection)."""
        collection = self._client.get_or_create_collection(
            self.name,
            embedding_function=None,
            configuration={"hnsw": {"space": "cosine", "ef_search": self._ef_search}},
        )
        hnsw = (collection.configuration or {}).get("hnsw") or {}
        if hnsw.get("ef_search") != self._ef_search:
            collection.modify(configuration={"hnsw": {"ef_search": self._ef_search}})
        return collection

    def _fresh(self):
        """The collection as stored now (its row is re-read; the vector index is not)."""
        try:
            return self._client.get_collection(self.name)
        except Exception:
            # Deleted behind our back (a reset by another tool): start an empty one.
            return self._open()

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
        # Under the guard, and checked again: a search that finds the store changed while the
        # watcher (:meth:`watch`) reopens it waits for that reload rather than starting its own
        # (or, finding the ingest lock taken by the watcher, reading the old index).
        with self._guard:
            if self._state(self._fresh()) == self._known:
                return False
            if locked:
                self._reload()
                return True
            return self.unless_ingesting(self._reload)

    def watch(self, interval: float) -> None:
        """Check every ``interval`` seconds, in a background thread, whether another process
        has changed this local store or is changing it; if so, wait for its job to release the
        ingest lock, then reopen the store and load its vector index at once.

        Loading the index is what the first search after someone else's ingest would otherwise
        wait for (227 ms of a 392 ms search at 48,000 chunks); waiting on the lock starts the
        reload as the job ends rather than at the next check. The thread holds this object
        weakly and stops once it is gone or its folder is; a server store never needs it.
        """
        if self.is_remote or interval <= 0 or self._watching:
            return
        self._watching = True
        folder = Path(self._local_path or "")
        collection = weakref.ref(self)

        def run() -> None:
            while True:
                time.sleep(interval)
                current = collection()
                if current is None or current._closed or not folder.is_dir():
                    return
                try:
                    current._reload_when_written()
                except Exception as exc:  # a busy or vanishing store: the next search syncs
                    log.debug("watching %s: %s", current.description, exc)
                del current

        threading.Thread(target=run, name=f"watch {self.description}", daemon=True).start()

    def _reload_when_written(self) -> None:
        """The watcher's step: nothing if the store is as this process knows it; else, once
        the writer is done, reopen it and read it, so Chroma loads the index now."""
        # A job at work may not have written yet: its end is worth waiting for too (the next
        # check could come after the first question).
        if self._state(self._fresh()) == self._known and not writer_at_work(self.lock_path):
            return
        # Not under the guard while waiting: searches go on with the old index meanwhile.
        with while_no_writer(self.lock_path, wait=_WATCH_LOCK_WAIT_S) as free:
            if free:
                with self._guard:  # a search now waits for the load rather than racing it
                    if self.sync(locked=True):
                        self._collection.count()

    def unless_ingesting(self, action: Callable[[], Any]) -> bool:
        """Run ``action`` under the ingest lock if no job holds it (no waiting); True if it ran."""
        with while_no_writer(self.lock_path) as free:
            if free:
                action()
            return free

    # --- writing --------------------------------------------------------------------------
    def _in_batches(self, write: Callable[..., Any], **columns: Sequence[Any]) -> None:
        """``write(**columns)`` (a collection method: upsert, update, delete) in slices of
        records the collection accepts at once."""
        total = len(next(iter(columns.values())))
        for start in range(0, total, self._max_batch):
            end = start + self._max_batch
            write(**{name: list(values[start:end]) for name, values in columns.items()})

    def upsert(
        self,
        ids: Sequence[str],
        texts: Sequence[str],
        embeddings: Sequence[Sequence[float]],
        metadatas: Sequence[dict[str, Any]],
    ) -> None:
        self._in_batches(
            self._collection.upsert,
            ids=ids,
            documents=texts,
            embeddings=[list(e) for e in embeddings],
            metadatas=metadatas,
        )

    def update_metadatas(self, ids: Sequence[str], metadatas: Sequence[dict[str, Any]]) -> None:
        """Change metadata keys of stored chunks; their text and vectors stay."""
        self._in_batches(self._collection.update, ids=ids, metadatas=metadatas)

    def delete(self, ids: Sequence[str]) -> None:
        self._in_batches(self._collection.delete, ids=ids)

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
            metadata.setdefault(GENERATION_KEY, 0)
            self._collection.modify(metadata=metadata)
            return metadata

    def new_generation(self) -> tuple[str, Any]:
        """Record a new generation in the collection (and as the one this process knows);
        returns the new (collection id, generation)."""
        with self._guard:
            metadata = self.set_collection_metadata({GENERATION_KEY: time.time_ns()})
            self._known = (str(self._collection.id), metadata[GENERATION_KEY])
            return self._known

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

    def nearest_many(
        self, embeddings: Sequence[Sequence[float]], n: int, *, sync: bool = True
    ) -> list[list[tuple[str, float]]]:
        """(id, distance) of the ``n`` nearest chunks of each of ``embeddings``, nearest first,
        in one query (a question searched part by part pays Chroma's per-call cost once), and
        without their texts: reading 40 texts and metadatas back cost most of a query, and a
        retriever needs only those of the few passages it returns. ``sync=False``: the caller
        has just synced."""
        if n <= 0 or not embeddings:
            return [[] for _ in embeddings]
        if sync:
            self.sync()
        result = self._collection.query(
            query_embeddings=[list(e) for e in embeddings], n_results=n, include=["distances"]
        )
        return [
            list(zip(ids, distances, strict=True))
            for ids, distances in zip(result["ids"], result["distances"], strict=True)
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
