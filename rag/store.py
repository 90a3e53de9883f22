"""The vector store: chunks, their embeddings and metadata, kept in Chroma.

A folder on disk by default (``PersistentClient``); a Chroma server when ``chroma_host`` is set,
for users who outgrow one machine. Ingestion and retrieval both go through :class:`ChunkStore`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rag.settings import Settings

# Metadata key on the collection, bumped by every ingest that changes something, so readers
# (the BM25 index) know when to reload.
_GENERATION_KEY = "generation"


class StoreError(RuntimeError):
    """The store can't be opened or reached; the message says how to fix it."""


@dataclass(frozen=True)
class StoredChunk:
    id: str
    text: str
    metadata: dict[str, Any]
    distance: float | None = None


class ChunkStore:
    """A thin, typed face over one Chroma collection."""

    def __init__(self, client, collection, description: str):
        self._client = client
        self._collection = collection
        self.description = description

    # --- writing --------------------------------------------------------------------------
    def upsert(
        self,
        ids: Sequence[str],
        texts: Sequence[str],
        embeddings: Sequence[Sequence[float]],
        metadatas: Sequence[dict[str, Any]],
    ) -> None:
        if ids:
            self._collection.upsert(
                ids=list(ids),
                documents=list(texts),
                embeddings=list(embeddings),
                metadatas=list(metadatas),
            )

    def delete(self, ids: Sequence[str]) -> None:
        if ids:
            self._collection.delete(ids=list(ids))

    def bump_generation(self) -> None:
        metadata = dict(self._collection.metadata or {})
        metadata[_GENERATION_KEY] = time.time_ns()
        metadata.pop("hnsw:space", None)  # fixed at creation; Chroma refuses to modify it
        self._collection.modify(metadata=metadata)

    # --- reading --------------------------------------------------------------------------
    def count(self) -> int:
        return self._collection.count()

    def generation(self) -> tuple[int, Any]:
        """Changes whenever the contents change."""
        # Re-read: another process (an ingest job) may have changed the collection.
        collection = self._client.get_collection(self._collection.name)
        return collection.count(), (collection.metadata or {}).get(_GENERATION_KEY)

    def metadatas(self, where: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
        """id -> metadata of every chunk (matching ``where``)."""
        result = self._collection.get(where=where, include=["metadatas"])
        return dict(zip(result["ids"], result["metadatas"], strict=True))

    def all_chunks(self) -> list[StoredChunk]:
        result = self._collection.get(include=["documents", "metadatas"])
        return [
            StoredChunk(id_, text or "", meta or {})
            for id_, text, meta in zip(
                result["ids"], result["documents"], result["metadatas"], strict=True
            )
        ]

    def query(self, embedding: Sequence[float], n: int) -> list[StoredChunk]:
        if n <= 0:
            return []
        result = self._collection.query(
            query_embeddings=[list(embedding)],
            n_results=n,
            include=["documents", "metadatas", "distances"],
        )
        return [
            StoredChunk(id_, text or "", meta or {}, dist)
            for id_, text, meta, dist in zip(
                result["ids"][0],
                result["documents"][0],
                result["metadatas"][0],
                result["distances"][0],
                strict=True,
            )
        ]


def open_store(settings: Settings) -> ChunkStore:
    """Open (creating if needed) the collection named in ``settings``."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_host:
        where = f"{'https' if settings.chroma_ssl else 'http'}://{settings.chroma_host}:{settings.chroma_port}"
        try:
            client = chromadb.HttpClient(
                host=settings.chroma_host,
                port=settings.chroma_port,
                ssl=settings.chroma_ssl,
                settings=chroma_settings,
            )
            client.heartbeat()
        except Exception as exc:
            raise StoreError(
                f"Can't reach the Chroma server at {where} ({exc}). Start it with "
                f"`chroma run --port {settings.chroma_port}` or unset RAG_CHROMA_HOST to use a folder."
            ) from exc
    else:
        where = str(settings.db_dir)
        try:
            settings.db_dir.mkdir(parents=True, exist_ok=True)
            client = chromadb.PersistentClient(path=str(settings.db_dir), settings=chroma_settings)
        except Exception as exc:
            raise StoreError(
                f"Can't open the store folder {where} ({exc}); set RAG_DB_DIR to a writable folder."
            ) from exc
    collection = client.get_or_create_collection(
        settings.collection, embedding_function=None, metadata={"hnsw:space": "cosine"}
    )
    return ChunkStore(client, collection, f"{settings.collection} @ {where}")
