"""A store past 32,766 chunks (SQLite's variable limit, which an unpaginated Chroma read hits):
it answers, shows its status, re-ingests one file and deletes one, and its lexical index stays
in step with it.

The store is built once through the real pipeline (real Chroma, the bundled embedder) from
short generated notes: one short section per chunk, so 34,000 chunks embed in a minute or two.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.service import create_service
from rag.settings import Settings
from rag.ui.documents import PAGE_ROWS, DocumentHandlers

from .test_incremental import assert_lexical_matches, run_cli

FILES = 340
SECTIONS = 100  # one chunk each: 34,000 chunks
SQLITE_VARIABLES = 32_766


def code(file: int, section: int) -> str:
    return f"kx{file}q{section}"


def note(file: int, version: int = 1) -> str:
    parts = [f"# Ledger {file}\n"]
    for section in range(SECTIONS):
        parts.append(
            f"## Entry {section}\n\nVersion {version} records code {code(file, section)}.\n"
        )
    return "\n".join(parts)


@pytest.fixture(scope="module")
def big(tmp_path_factory, embedder):
    root = tmp_path_factory.mktemp("large-store")
    docs = root / "docs"
    docs.mkdir()
    for file in range(FILES):
        (docs / f"ledger-{file:03d}.md").write_text(note(file), encoding="utf-8")
    settings = Settings(
        _env_file=None,
        db_dir=root / "db",
        knowledge_dir=docs,
        chunk_size=100,
        chunk_overlap=0,
        max_new_tokens=16,
        ingest_batch_chunks=2000,
    )
    service = create_service(settings, embedder_factory=lambda s: embedder)
    report = service.ingest_knowledge_dir()
    assert not report.failures
    return service, docs, root / "db"


def test_the_store_is_past_sqlites_variable_limit(big):
    service, _, _ = big
    assert service.store.count() == FILES * SECTIONS > SQLITE_VARIABLES
    assert len(service.store.metadatas()) == FILES * SECTIONS  # read by page
    assert_lexical_matches(service.store)


def test_it_answers_with_the_right_source(big):
    service, _, _ = big
    passages = service.retrieve(f"Which entry records code {code(217, 42)}?")
    assert passages[0].source == "ledger-217.md" and code(217, 42) in passages[0].text
    finished = service.ask(f"Which entry records code {code(5, 7)}?")
    assert finished.answer.strip() and finished.chunks[0].source == "ledger-005.md"


def test_it_shows_status_and_pages_of_documents(big):
    service, _, db = big
    assert service.library_size() == (FILES, FILES * SECTIONS)
    result = run_cli("--status", "--db", str(db), "--json")
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout.strip().splitlines()[-1])
    assert (status["documents"], status["chunks"]) == (FILES, FILES * SECTIONS)
    handlers = DocumentHandlers(service)
    rows, label, _, page = handlers.show_page("", 2)
    assert page == 2 and len(rows) == PAGE_ROWS and rows[0][0] == f"ledger-{PAGE_ROWS:03d}.md"
    assert f"of {FILES}" in label
    rows, label, _, _ = handlers.show_page("ledger-21", 1)
    assert [row[0] for row in rows] == [f"ledger-21{i}.md" for i in range(10)]


def test_it_reingests_one_changed_file(big):
    service, docs, _ = big
    (docs / "ledger-100.md").write_text(note(100, version=2), encoding="utf-8")
    report = service.ingestor.ingest([docs])
    assert report.count("updated") == 1 and report.count("unchanged") == FILES - 1
    assert report.chunks_written == SECTIONS
    passages = service.retrieve(f"Version 2 records code {code(100, 3)}")
    assert passages[0].source == "ledger-100.md" and "Version 2" in passages[0].text
    assert_lexical_matches(service.store)


def test_it_deletes_one_document(big):
    service, docs, _ = big
    handlers = DocumentHandlers(service)
    message, _, _ = handlers.delete("ledger-300.md")
    assert message.startswith("Deleted ledger-300.md (100 chunks)")
    assert service.store.count() == (FILES - 1) * SECTIONS
    assert service.library_size() == (FILES - 1, (FILES - 1) * SECTIONS)
    assert not any(p.source == "ledger-300.md" for p in service.retrieve(code(300, 1)))
    assert_lexical_matches(service.store)
    Path(docs / "ledger-300.md").unlink()
