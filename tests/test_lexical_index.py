"""The persistent lexical index: in step with the store after every kind of change, repaired
after a crash, and enough for retrieval without reading the whole store.

Real Chroma, the real embedder, real SQLite FTS5.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rag.store import LexicalIndex
from rag.store.collection import ChromaCollection

from .support.notes import TOPICS, code_word, note_text, write_notes
from .support.store_checks import assert_lexical_matches


@pytest.fixture
def notes(tmp_path) -> Path:
    folder = tmp_path / "notes"
    write_notes(folder, TOPICS[:6])
    return folder


def sources_found(store, query: str) -> list[str]:
    """Sources of the lexical hits for ``query``, best first."""
    hits = [i for i, _ in store.lexical.search(query, 10)]
    rows = store.lexical.rows(hits)
    return list(dict.fromkeys(rows[i].source for i in hits))


def test_the_index_follows_added_updated_moved_and_deleted_files(make_service, notes, tmp_path):
    service = make_service(knowledge_dir=notes)
    store = service.store
    service.ingestor.ingest([notes])
    assert_lexical_matches(store)
    assert sources_found(store, code_word("agents", 1))[0] == "agents.md"

    (notes / "agents.md").write_text(note_text("agents", 2), encoding="utf-8")  # updated
    (notes / "sub").mkdir()
    (notes / "attention.md").rename(notes / "sub" / "attention.md")  # moved inside the folder
    (notes / "retrieval.md").unlink()  # deleted
    write_notes(notes, ["ethics"])  # added
    report = service.ingestor.ingest([notes])
    assert {r.source: r.status for r in report.results if r.status != "unchanged"} == {
        "agents.md": "updated",
        "sub/attention.md": "added",
        "ethics.md": "added",
        "attention.md": "removed",
        "retrieval.md": "removed",
    }
    assert_lexical_matches(store)
    # Code words are "<first 3 letters>-<version><length>": "age-26" is agents' second.
    assert sources_found(store, code_word("agents", 2))[0] == "agents.md"
    assert sources_found(store, code_word("attention", 1))[0] == "sub/attention.md"
    for gone in ("attention.md", "retrieval.md"):
        assert gone not in sources_found(store, f"{code_word('attention', 1)} retrieval")

    moved = tmp_path / "elsewhere" / "notes"  # the whole folder moved: same chunks, new paths
    shutil.move(notes, moved)
    report = service.ingestor.ingest([moved])
    assert report.chunks_written == 0
    assert_lexical_matches(store)
    paths = {d["source"]: d["path"] for d in service.ingestor.documents()}
    assert paths["ethics.md"] == str(moved / "ethics.md")

    service.ingestor.delete_document("ethics.md")
    assert_lexical_matches(store)
    assert "ethics.md" not in [d["source"] for d in service.ingestor.documents()]


def test_a_job_that_dies_between_the_store_and_the_index_is_repaired_by_the_next(
    make_service, notes, monkeypatch
):
    """The chunks reach Chroma, the process dies before the index hears of them."""
    service = make_service(knowledge_dir=notes)
    service.ingestor.ingest([notes])
    (notes / "agents.md").write_text(note_text("agents", 2), encoding="utf-8")

    def die(*args, **kwargs):
        raise KeyboardInterrupt("killed")

    monkeypatch.setattr(LexicalIndex, "add", die)
    with pytest.raises(KeyboardInterrupt):
        service.ingestor.ingest([notes])
    monkeypatch.undo()
    store = service.store
    assert sorted(store.lexical.ids()) != sorted(store.ids())  # behind: a new chunk is missing

    again = make_service(knowledge_dir=notes)  # the next run, as a new process would open it
    report = again.ingestor.ingest([notes])
    assert not report.failures
    assert_lexical_matches(again.store)
    assert sources_found(again.store, code_word("agents", 2))[0] == "agents.md"


def test_the_app_repairs_an_index_left_behind_when_no_ingest_runs(make_service, notes):
    """A reader that finds the index behind and the store idle repairs it before answering."""
    service = make_service(knowledge_dir=notes)
    service.ingestor.ingest([notes])
    store = service.store
    store.lexical.remove(list(store.lexical.ids())[:3])
    store.lexical.set_state("writing by a process that died")

    passages = service.retrieve(f"code word {code_word('agents', 1)}")
    assert passages and passages[0].source == "agents.md"
    assert_lexical_matches(store)


def test_retrieval_never_reads_the_whole_store(make_service, notes, monkeypatch):
    service = make_service(knowledge_dir=notes)
    service.ingestor.ingest([notes])

    def refuse(*args, **kwargs):
        raise AssertionError("read every chunk")

    monkeypatch.setattr(ChromaCollection, "all_chunks", refuse)
    monkeypatch.setattr(ChromaCollection, "_pages", refuse)
    passages = service.retrieve(f"What is the code word for {code_word('quantization', 1)}?")
    assert passages[0].source == "quantization.md"
    assert code_word("quantization", 1) in passages[0].text
    assert service.library_size() == (6, service.store.count())
    assert len(service.ingestor.documents(limit=2, offset=1)) == 2


def test_header_and_body_are_fields_and_plurals_fold(tmp_path):
    index = LexicalIndex(tmp_path / "lexical.sqlite3")
    index.add(
        ["a", "b", "c"],
        ["contracts/Terms | Renewal", "notes/Misc", "notes/Other"],
        [
            "The policy renews each year.",
            "A contract is signed by both parties; the contract ends in May.",
            "Nothing about that here.",
        ],
        [{"source": "contracts/Terms.md"}, {"source": "notes/Misc.md"}, {"source": "x.md"}],
    )
    found = dict(index.search("contracts", 10))
    assert set(found) == {"a", "b"}  # the header's "contracts", the body's "contract"
    assert index.search("the of and", 10) == []  # stop words only
    assert index.document_count() == 3 and index.chunk_count() == 3
    index.remove(["b"])
    assert dict(index.search("contract", 10)).keys() == {"a"}
    assert [d.source for d in index.documents(contains="TERMS")] == ["contracts/Terms.md"]
    assert [d.source for d in index.documents(offset=1, limit=5)] == ["x.md"]


def test_a_term_in_most_rows_is_left_out_of_a_large_index_without_changing_the_ranking(
    tmp_path, monkeypatch
):
    # Every header says "library"; bm25() gives such a term no weight but FTS5 would score
    # every row holding it. Past _COMMON_TERM_ROWS rows (2 here) it is left out of the query.
    from rag.store import lexical

    index = LexicalIndex(tmp_path / "lexical.sqlite3")
    n = 40
    index.add(
        [f"c{i}" for i in range(n)],
        [f"library/doc{i} | Section" for i in range(n)],
        [
            f"Body {i} mentions {'parquet files' if i % 7 == 0 else 'nothing special'}."
            for i in range(n)
        ],
        [{"source": f"library/doc{i}.md"} for i in range(n)],
    )
    query = "library parquet"
    full = index.search(query, 10)
    monkeypatch.setattr(lexical, "_COMMON_TERM_ROWS", 2)
    pruned = index.search(query, 10)
    assert [i for i, _ in pruned] == [i for i, _ in full][: len(pruned)]
    assert {i for i, _ in pruned} == {f"c{i}" for i in range(0, n, 7)}  # the parquet rows
    assert index.search("library", 10) == []  # nothing left to weigh


def test_documents_are_found_by_the_words_of_their_headers_and_searched_one_by_one(tmp_path):
    index = LexicalIndex(tmp_path / "lexical.sqlite3")
    index.add(
        ["h1", "h2", "r1", "r2", "g1"],
        [
            "leases/Lease with Hilltop for Pressmill | Parties",
            "leases/Lease with Hilltop for Pressmill | Rent",
            "leases/Lease with Riverbend for Pressmill | Rent",
            "leases/Lease with Riverbend for Pressmill | Upkeep",
            "guides/Rent guide",
        ],
        [
            "Hilltop and the co-operative sign this lease.",
            "The monthly rent is $1,200.",
            "The monthly rent is $950.",
            "Riverbend oils the press; rent is not due for repairs.",
            "Rent for every Pressmill lease is reviewed in spring.",
        ],
        [{"source": "leases/Hilltop.md"}] * 2
        + [{"source": "leases/Riverbend.md"}] * 2
        + [{"source": "guides/Rent.md"}],
    )
    # Every term in one chunk's header (a name, a folder, a heading), plurals folded.
    assert index.header_documents(["pressmill", "lease"]) == [
        "leases/Hilltop.md",
        "leases/Riverbend.md",
    ]
    assert index.header_documents(["rent"]) == [
        "guides/Rent.md",
        "leases/Hilltop.md",
        "leases/Riverbend.md",
    ]
    assert index.header_documents(["pressmill", "guide"]) == []
    assert index.header_documents(['"; DROP TABLE chunks; --']) == []  # not a term: ignored
    # Within the documents named, each one's best chunk for the query.
    best = index.search_documents("monthly rent", ["leases/Hilltop.md", "leases/Riverbend.md"])
    assert {source: id_ for source, (id_, _) in best.items()} == {
        "leases/Hilltop.md": "h2",
        "leases/Riverbend.md": "r1",
    }
    assert index.search_documents("oak barrels", ["leases/Hilltop.md"]) == {}


def test_many_places_are_looked_up_at_once_as_one_by_one(tmp_path):
    index = LexicalIndex(tmp_path / "lexical.sqlite3")
    index.add(
        ["a0", "a1", "b0"],
        ["a", "a", "b"],
        ["first of a", "second of a", "first of b"],
        [
            {"source": "a.md", "chunk_index": 0},
            {"source": "a.md", "chunk_index": 1},
            {"source": "b.md", "chunk_index": 0},
        ],
    )
    # A new version of a.md's first chunk, written before the old one is removed.
    index.add(["a0-new"], ["a"], ["first of a, new"], [{"source": "a.md", "chunk_index": 0}])
    places = [("a.md", 0), ("a.md", 1), ("b.md", 0), ("b.md", 1), ("c.md", 0)]

    found = index.at_many(places)

    assert found == {place: index.at(*place) for place in places if index.at(*place)}
    assert found[("a.md", 0)].id == "a0-new"
    assert ("b.md", 1) not in found
