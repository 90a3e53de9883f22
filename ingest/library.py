"""The library as people see it: the documents stored, and removing them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ingest.executor import StoreWriter
from ingest.planner import stored_documents

if TYPE_CHECKING:
    from rag.store import ChunkStore


def list_documents(store: ChunkStore) -> list[dict[str, Any]]:
    """One row per stored document: source, path, root, chunks, ingested_at."""
    store.sync()
    stored, _ = stored_documents(store.metadatas().items())
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


def empty_store(writer: StoreWriter) -> int:
    """Remove every chunk and the model the vectors came from; the caller holds the lock."""
    ids = list(writer.store.metadatas())
    writer.delete(ids)
    writer.set_model(None)
    return len(ids)


def delete_document(writer: StoreWriter, source: str) -> int:
    """Remove every chunk of the stored document ``source``; the caller holds the lock."""
    ids = list(writer.store.metadatas(where={"source": source}))
    writer.delete(ids)
    return len(ids)
