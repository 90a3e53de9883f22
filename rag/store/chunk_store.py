"""The vector store: chunks, their embeddings and metadata, kept in Chroma, with a lexical
index kept in step.

A folder on disk by default (``PersistentClient``); a Chroma server when ``chroma_host`` is set,
for users who outgrow one machine. Ingestion and retrieval both go through :class:`ChunkStore`:
the collection itself (opening it, staying in step with other processes, reading by page) is
:class:`rag.store.collection.ChromaCollection`; this module adds the lexical index
(:mod:`rag.store.lexical`), written with every change, which answers keyword searches and the
documents list without reading the store.

Every change goes to the collection first, then to the index. Before a job's first change the
index is marked as being written; a job killed between the two writes leaves that mark, and
whoever next holds the ingest lock repairs the index against the collection.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
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
from rag.store.lexical import DocumentRow, LexicalIndex
from rag.store.lock import LOCK_FILE, Lease, claim_lease, current_lease, release_lease

if TYPE_CHECKING:
    from rag.settings import Settings

__all__ = ["PAGE_SIZE", "ChunkStore", "Lease", "StoreError", "StoredChunk", "open_store"]

log = logging.getLogger(__name__)


class StoreError(AppError):
    """The store can't be opened or reached; the message says how to fix it."""


class ChunkStore(ChromaCollection):
    """The chunks' Chroma collection and their lexical index, changed together."""

    def __init__(self, *args: Any, lexical_path: Path, **kwargs: Any):
        """:class:`ChromaCollection`'s arguments, and the lexical index's file."""
        super().__init__(*args, **kwargs)
        #: Keyword search and the documents catalog, kept in step with every write here.
        self.lexical = LexicalIndex(lexical_path)
        # Written into the lexical index before this object's first change of a job: a job
        # killed halfway leaves it there, and whoever next holds the lock repairs the index.
        self._writing_mark = f"writing {uuid.uuid4().hex}"
        # A change reached the store and not the index (an error between the two writes).
        self._lexical_behind = False

    # --- writing --------------------------------------------------------------------------
    def upsert(
        self,
        ids: Sequence[str],
        texts: Sequence[str],
        embeddings: Sequence[Sequence[float]],
        metadatas: Sequence[dict[str, Any]],
    ) -> None:
        self._mirrored(
            lambda: self._in_batches(
                self._collection.upsert,
                ids=ids,
                documents=texts,
                embeddings=[list(e) for e in embeddings],
                metadatas=metadatas,
            ),
            lambda: self._index_lexically(ids, texts, metadatas),
        )

    def update_metadatas(self, ids: Sequence[str], metadatas: Sequence[dict[str, Any]]) -> None:
        """Change metadata keys of stored chunks; their text and vectors stay."""
        self._mirrored(
            lambda: self._in_batches(self._collection.update, ids=ids, metadatas=metadatas),
            lambda: self.lexical.update_metadatas(ids, metadatas),
        )

    def delete(self, ids: Sequence[str]) -> None:
        ids = list(ids)
        if ids:
            self._mirrored(
                lambda: self._in_batches(self._collection.delete, ids=ids),
                lambda: self.lexical.remove(ids),
            )

    def bump_generation(self) -> None:
        """Tell readers the contents changed; call before a job's first write and after its last."""
        with self._guard:
            in_step = not self._lexical_behind and self.lexical.state() in (
                self._state_key(self._known),
                self._writing_mark,
            )
            self._new_generation()
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

    # --- the ingest lease of a server store (see rag.store.lock) ---------------------------
    def lease(self) -> Lease | None:
        return current_lease(self)

    def claim_lease(self, lease: Lease) -> Lease | None:
        return claim_lease(self, lease)

    def release_lease(self, owner: str) -> None:
        release_lease(self, owner)

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


def open_store(settings: Settings) -> ChunkStore:
    """Open (creating if needed) the collection named in ``settings``."""
    if settings.chroma_host:
        where = server_address(settings)
        # The lock file only orders jobs on this machine; the lease in the server orders
        # machines. Named after the server, so two servers never share a lock.
        key = f"{settings.chroma_host}-{settings.chroma_port}-{settings.collection}"
        safe_key = "".join(c if c.isalnum() else "_" for c in key)
        try:
            return ChunkStore(
                server_client(settings),
                settings.collection,
                f"{settings.collection} @ {where}",
                lock_path=settings.db_dir / f".ingest-{safe_key}.lock",
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
    try:
        settings.db_dir.mkdir(parents=True, exist_ok=True)
        return ChunkStore(
            folder_client(path),
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
