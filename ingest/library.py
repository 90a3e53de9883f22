"""The library as people see it: the documents stored, removing them, and those left out."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ingest.executor import StoreWriter

if TYPE_CHECKING:
    from rag.store import ChunkStore


def list_documents(
    store: ChunkStore, *, contains: str = "", offset: int = 0, limit: int | None = None
) -> list[dict[str, Any]]:
    """One row per stored document (source, path, chunks, ingested_at), by name: a page of them
    (``offset``, ``limit``), those whose name contains ``contains``. Read from the store's
    catalog, never from every chunk."""
    return [
        {
            "source": row.source,
            "path": row.path,
            "chunks": row.chunks,
            "ingested_at": row.ingested_at,
        }
        for row in store.documents(contains=contains, offset=offset, limit=limit)
    ]


def empty_store(writer: StoreWriter) -> int:
    """Remove every chunk and the model the vectors came from; the caller holds the lock."""
    ids = list(writer.store.ids())
    writer.delete(ids)
    writer.record_vectors(None)
    return len(ids)


def delete_document(writer: StoreWriter, source: str, *, exclude: bool = False) -> int:
    """Remove every chunk of the stored document ``source`` and, with ``exclude``, leave it
    out of later ingests (its file is kept); the caller holds the lock."""
    ids = list(writer.store.ids(where={"source": source}))
    if exclude:  # first: a job killed between the two writes leaves the document out, not back
        writer.store.exclude(source)
    writer.delete(ids)
    return len(ids)
