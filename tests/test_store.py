"""The store as one object over two parts: its Chroma collection and its lexical index, opened
and closed together. Real Chroma in a temporary folder, the real embedder."""

from __future__ import annotations

import sqlite3

import pytest

from rag.store import open_store

from .support.notes import TOPICS, write_notes
from .support.store_checks import assert_lexical_matches


def test_a_closed_store_lets_go_of_both_parts_and_the_folder_opens_again(make_service, tmp_path):
    notes = tmp_path / "notes"
    write_notes(notes, TOPICS[:3])
    service = make_service(knowledge_dir=notes)
    service.ingestor.ingest([notes])
    chunks = service.store.count()

    service.store.close()
    service.store.close()  # twice is harmless

    with pytest.raises(sqlite3.ProgrammingError):
        service.store.lexical.chunk_count()  # the index's file is closed
    again = open_store(service.settings)
    assert again.count() == chunks
    assert again.document_count() == 3
    assert_lexical_matches(again)
    again.close()


def test_several_queries_in_one_search_find_what_each_finds_alone(make_service, tmp_path):
    notes = tmp_path / "notes"
    write_notes(notes, TOPICS[:3])
    service = make_service(knowledge_dir=notes)
    service.ingestor.ingest([notes])
    questions = [f"What do the notes say about {topic}?" for topic in TOPICS[:3]]
    vectors = service.embedder.embed_queries(questions)

    together = service.store.nearest_many(vectors, 4)

    alone = [service.store.nearest_many([service.embedder.embed_query(q)], 4)[0] for q in questions]
    assert [[id_ for id_, _ in found] for found in together] == [
        [id_ for id_, _ in found] for found in alone
    ]
    for batch, single in zip(together, alone, strict=True):
        assert [d for _, d in batch] == pytest.approx([d for _, d in single], abs=1e-5)
    assert service.store.nearest_many([], 4) == []


def _hnsw(db_dir) -> dict:
    import chromadb

    return (
        chromadb.PersistentClient(path=str(db_dir))
        .get_collection("knowledge")
        .configuration["hnsw"]
    )


def test_the_vector_index_is_cosine_and_searched_as_broadly_as_the_setting_says(
    make_service, tmp_path
):
    notes = tmp_path / "notes"
    write_notes(notes, TOPICS[:2])
    service = make_service(knowledge_dir=notes, db_dir=tmp_path / "db", hnsw_ef_search=300)
    service.ingestor.ingest([notes])
    service.store.close()
    assert _hnsw(tmp_path / "db")["space"] == "cosine"
    assert _hnsw(tmp_path / "db")["ef_search"] == 300

    # A store made before, or with another setting, is searched with today's on opening.
    again = make_service(knowledge_dir=notes, db_dir=tmp_path / "db", hnsw_ef_search=800)
    found = again.retrieve(f"What do the notes say about {TOPICS[0]}?")
    again.store.close()
    assert _hnsw(tmp_path / "db")["ef_search"] == 800
    assert found and TOPICS[0] in found[0].text.lower()
