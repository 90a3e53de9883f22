"""The vector store: chunks, their embeddings and metadata, kept in Chroma, with a lexical
index kept in step.

A folder on disk by default (``PersistentClient``); a Chroma server when ``chroma_host`` is set,
for users who outgrow one machine. Ingestion and retrieval both go through :class:`ChunkStore`,
which holds two parts and keeps them in step: the collection (opening it, staying in step with
other processes, reading by page: :class:`rag.store.collection.ChromaCollection`) and the
lexical index (:mod:`rag.store.lexical`), written with every change, which answers keyword
searches and the documents list without reading the store.

Every change goes to the collection first, then to the index. Before a job's first change the
index is marked as being written; a job killed between the two writes leaves that mark, and
whoever next holds the ingest lock repairs the index against the collection.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.core import AppError, stored_parts
from rag.store.collection import (
    PAGE_SIZE,
    ChromaCollection,
    StoredChunk,
    folder_client,
    server_address,
    server_client,
)
from rag.store.file_lock import LOCK_FILE
from rag.store.lexical import DocumentRow, LexicalIndex
from rag.store.lock import Lease, StoreLock, claim_lease, current_lease

if TYPE_CHECKING:
    from rag.settings import StoreSettings

__all__ = ["PAGE_SIZE", "ChunkStore", "Lease", "StoreError", "StoredChunk", "open_store"]

log = logging.getLogger(__name__)

#: The collection metadata key naming the vectors the store holds: the name of the embedder
#: that made them (its model, and " (int8)" when quantised; see rag.embedding.vectors_name).
VECTORS_KEY = "embedding_model"
#: The collection metadata key listing the documents deleted from the library whose files are
#: kept (a JSON list of their names): every ingest leaves them out until they are included.
EXCLUDED_KEY = "excluded_sources"


class StoreError(AppError):
    """The store can't be opened or reached; the message says how to fix it."""


def _stamp(state: tuple[str, Any]) -> str:
    """What the lexical index records of the store state it matches."""
    return f"{state[0]}:{state[1]}"


class ChunkStore:
    """The chunks' Chroma collection and their lexical index, changed together.

    Every change goes to :attr:`collection` first, then to :attr:`lexical`; reads that need
    the chunks' texts or vectors go to the collection, keyword searches and the documents
    catalog to the index.
    """

    def __init__(self, collection: ChromaCollection, lexical: LexicalIndex, *, lock_wait_s: float):
        #: The chunks, their vectors and metadata (a folder or a server).
        self.collection = collection
        #: Keyword search and the documents catalog, kept in step with every write here.
        self.lexical = lexical
        #: How long a writer waits for another to finish (``lock_wait_s`` of the settings).
        self.lock_wait_s = lock_wait_s
        # Orders this object's checks and marks of the lexical index's state.
        self._guard = threading.RLock()
        # Written into the lexical index before this object's first change of a job: a job
        # killed halfway leaves it there, and whoever next holds the lock repairs the index.
        self._writing_mark = f"writing {uuid.uuid4().hex}"
        # A change reached the store and not the index (an error between the two writes).
        self._lexical_behind = False

    # --- what it is -------------------------------------------------------------------------
    @property
    def description(self) -> str:
        """The collection and where it is, for messages."""
        return self.collection.description

    @property
    def is_remote(self) -> bool:
        return self.collection.is_remote

    @property
    def lock_path(self) -> Path:
        """The file lock that ingest jobs take; per machine (see ``is_remote``)."""
        return self.collection.lock_path

    def close(self) -> None:
        """Release the Chroma client and the lexical index's file, for a store about to be
        deleted (an evaluation's); see :meth:`ChromaCollection.close`."""
        self.collection.close()
        self.lexical.close()

    # --- reading (the collection) -------------------------------------------------------------
    def count(self) -> int:
        return self.collection.count()

    def generation(self) -> tuple[int, Any, str]:
        """(count, generation, collection id): changes whenever the contents change."""
        return self.collection.generation()

    def sync(self, *, locked: bool = False) -> bool:
        """Reopen a local store that another process has changed; True when it did."""
        return self.collection.sync(locked=locked)

    def watch(self, interval: float) -> None:
        """Reopen a local store in the background when another process changes it."""
        self.collection.watch(interval)

    def ids(self, where: dict[str, Any] | None = None) -> Iterator[str]:
        return self.collection.ids(where)

    def iter_metadatas(
        self, where: dict[str, Any] | None = None
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        return self.collection.iter_metadatas(where)

    def metadatas(self, where: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
        return self.collection.metadatas(where)

    def get(self, ids: Sequence[str]) -> list[StoredChunk]:
        return self.collection.get(ids)

    def all_chunks(self) -> list[StoredChunk]:
        return self.collection.all_chunks()

    def query(self, embedding: Sequence[float], n: int, *, sync: bool = True) -> list[StoredChunk]:
        return self.collection.query(embedding, n, sync=sync)

    def nearest_many(
        self, embeddings: Sequence[Sequence[float]], n: int, *, sync: bool = True
    ) -> list[list[tuple[str, float]]]:
        return self.collection.nearest_many(embeddings, n, sync=sync)

    # --- which vectors it holds ---------------------------------------------------------------
    def check_vectors(self, name: str) -> None:
        """Refuse the vectors of the embedder ``name`` if the store holds another's.

        Questions embedded by another model (or int8 against float32) would rank the chunks
        by the wrong measure without a word, and chunks added with them would mix two kinds
        of vector. An empty store takes any vectors. Raises :class:`StoreError` naming the fix.
        """
        recorded = self.collection.collection_metadata().get(VECTORS_KEY)
        if recorded and recorded != name and self.count():
            raise StoreError(
                f"The store {self.description} holds vectors of the embedding model "
                f"{recorded!r}, not {name!r}; rebuild it with `python -m ingest --reset`, or "
                "set RAG_EMBEDDING_MODEL and RAG_EMBEDDING_QUANTIZED back to what built it."
            )

    def record_vectors(self, name: str | None) -> None:
        """Record that the store holds the vectors of the embedder ``name`` (None: of none,
        once emptied). A writer's change: call it under the lock, inside a job."""
        self.collection.set_collection_metadata({VECTORS_KEY: name})

    # --- writing --------------------------------------------------------------------------
    def upsert(
        self,
        ids: Sequence[str],
        texts: Sequence[str],
        embeddings: Sequence[Sequence[float]],
        metadatas: Sequence[dict[str, Any]],
    ) -> None:
        self._mirrored(
            lambda: self.collection.upsert(ids, texts, embeddings, metadatas),
            lambda: self._index_lexically(ids, texts, metadatas),
        )

    def update_metadatas(self, ids: Sequence[str], metadatas: Sequence[dict[str, Any]]) -> None:
        """Change metadata keys of stored chunks; their text and vectors stay."""
        self._mirrored(
            lambda: self.collection.update_metadatas(ids, metadatas),
            lambda: self.lexical.update_metadatas(ids, metadatas),
        )

    def delete(self, ids: Sequence[str]) -> None:
        ids = list(ids)
        if ids:
            self._mirrored(
                lambda: self.collection.delete(ids),
                lambda: self.lexical.remove(ids),
            )

    def bump_generation(self) -> None:
        """Tell readers the contents changed; call before a job's first write and after its last."""
        with self._guard:
            in_step = not self._lexical_behind and self.lexical.state() in (
                _stamp(self.collection.known_state),
                self._writing_mark,
            )
            state = self.collection.new_generation()
            if in_step:  # every change since was mirrored: the index matches the new state
                self.lexical.set_state(_stamp(state))

    # --- the lexical index in step with the store ---------------------------------------------
    def _mirrored(self, write_store: Callable[[], None], write_index: Callable[[], None]) -> None:
        """A change to the store, then the same change to the lexical index.

        Before it, the index is marked as being written (and repaired first if it was behind),
        so a job killed between the two writes is noticed by the next one; a failure between
        them here keeps the index from being declared in step until it is repaired."""
        with self._guard:
            state = self.lexical.state()
            if self._lexical_behind or state not in (
                self._writing_mark,
                _stamp(self.collection.known_state),
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
        if self.lexical.state() == _stamp((collection_id, stamp)):
            return True
        return self.collection.unless_ingesting(self.repair_lexical)

    def repair_lexical(self) -> tuple[int, int]:
        """Bring the lexical index in line with the store: ids it lacks are read from the
        store and added, ids the store lacks are dropped. Call with the ingest lock held.
        Returns (added, removed)."""
        with self._guard:
            # Under the lock no one else writes: what is stored now is what this process
            # knows once synced (a local store reopened if another process wrote).
            self.collection.sync(locked=True)
            state = self.collection.known_state
            if not self._lexical_behind and self.lexical.state() == _stamp(state):
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
            self.lexical.set_state(_stamp(state))
            self._lexical_behind = False
            if missing or gone:
                log.info(
                    "lexical index of %s repaired: %d chunks added, %d dropped",
                    self.description,
                    len(missing),
                    len(gone),
                )
            return len(missing), len(gone)

    # --- documents left out of the library -------------------------------------------------
    def excluded(self) -> list[str]:
        """Names of the documents deleted from the library while their files were kept:
        ingestion leaves them out until they are included again. Kept with the collection,
        so a restart, another process and (for a server) another machine all see them."""
        recorded = self.collection.collection_metadata().get(EXCLUDED_KEY)
        return sorted(json.loads(recorded)) if recorded else []

    def exclude(self, source: str) -> None:
        """Leave ``source`` out of every later ingest. A writer's change: under the lock."""
        self._set_excluded({*self.excluded(), source})

    def include(self, source: str) -> bool:
        """Let ``source`` be ingested again; False when it was not left out. Under the lock."""
        excluded = set(self.excluded())
        if source not in excluded:
            return False
        self._set_excluded(excluded - {source})
        return True

    def _set_excluded(self, sources: set[str]) -> None:
        value = json.dumps(sorted(sources), ensure_ascii=False) if sources else None
        self.collection.set_collection_metadata({EXCLUDED_KEY: value})

    # --- the writer's lock (see rag.store.lock) ---------------------------------------------
    def writer_lock(self, wait: float | None = None) -> StoreLock:
        """The lock an ingest job holds on this store, not yet acquired; acquiring it waits
        ``wait`` seconds (default :attr:`lock_wait_s`) for another writer, then raises
        :class:`StoreLocked`."""
        return StoreLock(self.collection, self.lock_wait_s if wait is None else wait)

    def lease(self) -> Lease | None:
        """Who holds a server store's lock now (None: nobody, or a local store)."""
        return current_lease(self.collection)

    def claim_lease(self, lease: Lease) -> Lease | None:
        return claim_lease(self.collection, lease)

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


def open_store(settings: StoreSettings) -> ChunkStore:
    """Open (creating if needed) the collection named in ``settings``."""
    if settings.chroma_host:
        where = server_address(settings)
        # The lock file only orders jobs on this machine; the lease in the server orders
        # machines. Named after the server, so two servers never share a lock.
        key = f"{settings.chroma_host}-{settings.chroma_port}-{settings.collection}"
        safe_key = "".join(c if c.isalnum() else "_" for c in key)
        try:
            collection = ChromaCollection(
                server_client(settings),
                settings.collection,
                f"{settings.collection} @ {where}",
                lock_path=settings.db_dir / f".ingest-{safe_key}.lock",
                ef_search=settings.hnsw_ef_search,
            )
            # Each machine keeps its own index of the server's chunks, checked against the
            # server's generation and repaired when another machine has written.
            lexical = LexicalIndex(settings.db_dir / f"lexical-{safe_key}.sqlite3")
            return ChunkStore(collection, lexical, lock_wait_s=settings.lock_wait_s)
        except Exception as exc:
            raise StoreError(
                f"Can't reach the Chroma server at {where} ({exc}). Start it with "
                f"`chroma run --port {settings.chroma_port}` or unset RAG_CHROMA_HOST to use a folder."
            ) from exc

    path = str(settings.db_dir.resolve())
    try:
        settings.db_dir.mkdir(parents=True, exist_ok=True)
        collection = ChromaCollection(
            folder_client(path),
            settings.collection,
            f"{settings.collection} @ {settings.db_dir}",
            lock_path=settings.db_dir / LOCK_FILE,
            local_path=path,
            ef_search=settings.hnsw_ef_search,
        )
        lexical = LexicalIndex(settings.db_dir / f"lexical-{settings.collection}.sqlite3")
        return ChunkStore(collection, lexical, lock_wait_s=settings.lock_wait_s)
    except Exception as exc:
        raise StoreError(
            f"Can't open the store folder {settings.db_dir} ({exc}); set RAG_DB_DIR to a "
            "writable folder."
        ) from exc
