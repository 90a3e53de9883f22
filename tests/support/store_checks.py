"""What a test checks of a store after ingesting: what it holds, no chunk twice, the lexical
index in step."""

from __future__ import annotations

from pathlib import Path

from ingest.pipeline import Ingestor
from rag.settings import Settings
from rag.store import open_store


def snapshot(store) -> dict[str, tuple[str, dict]]:
    """id -> (text, metadata without the ingestion time) of every stored chunk."""
    return {
        chunk.id: (chunk.text, {k: v for k, v in chunk.metadata.items() if k != "ingested_at"})
        for chunk in store.all_chunks()
    }


def clean_snapshot(folder: Path, db: Path, embedder, **overrides) -> dict[str, tuple[str, dict]]:
    """What one clean ingest of ``folder`` into a new store holds."""
    settings = Settings(_env_file=None, db_dir=db, knowledge_dir=folder, **overrides)
    store = open_store(settings)
    Ingestor.from_settings(settings, store, lambda: embedder).ingest([folder])
    return snapshot(store)


def assert_no_duplicates(store) -> None:
    """Each (document, position) once, and the vector index holds exactly the stored ids."""
    chunks = store.all_chunks()
    positions = [(c.metadata["source"], c.metadata["chunk_index"]) for c in chunks]
    assert len(positions) == len(set(positions))
    if chunks:
        found = store.query([1.0] + [0.0] * 383, len(chunks) + 10)
        assert {c.id for c in found} == {c.id for c in chunks}
    assert_lexical_matches(store)


def assert_lexical_matches(store) -> None:
    """The lexical index holds exactly the stored chunks and knows it is in step."""
    assert store.ensure_lexical()
    assert sorted(store.lexical.ids()) == sorted(store.ids())
    count, generation, collection = store.generation()
    assert store.lexical.state() == f"{collection}:{generation}"
    assert store.lexical.chunk_count() == count
