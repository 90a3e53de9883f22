"""The store: the chunks' Chroma collection (a folder or a server), the lexical index kept in
step with it, and the lock that lets one ingest job write at a time."""

from rag.store.chunk_store import PAGE_SIZE, ChunkStore, StoredChunk, StoreError, open_store
from rag.store.file_lock import while_no_writer
from rag.store.lexical import ChunkRow, DocumentRow, LexicalIndex
from rag.store.lock import Lease, StoreLock, StoreLocked

__all__ = [
    "PAGE_SIZE",
    "ChunkRow",
    "ChunkStore",
    "DocumentRow",
    "Lease",
    "LexicalIndex",
    "StoreError",
    "StoreLock",
    "StoreLocked",
    "StoredChunk",
    "open_store",
    "while_no_writer",
]
