"""A store past 32,766 chunks (SQLite's variable limit, which an unpaginated Chroma read hits):
it answers, shows its status, re-ingests one file and deletes one, and its lexical index stays
in step with it.

The store is built once through the real pipeline (real Chroma, the bundled embedding model)
from short generated notes, one tiny section per chunk. The 330 notes differ only in the file
number of their codes, so the embedding model reads each of the 100 sections once and its
vector is written for that section in every note (:class:`SectionVectors`): what is measured
here is the store at its size, not 33,000 forward passes. Questions and the re-ingested file
are embedded for real.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ingest.pipeline import Ingestor
from rag.app import create_service
from rag.settings import Settings
from rag.ui.documents import PAGE_ROWS, DocumentHandlers

from .support.cli import run_cli
from .support.store_checks import assert_lexical_matches

FILES = 330
SECTIONS = 100  # one chunk each: 33,000 chunks
SQLITE_VARIABLES = 32_766


def code(file: int, section: int) -> str:
    return f"kx{file}q{section}"


def note(file: int, version: int = 1) -> str:
    """Sections as short as a chunk can be: "## e7" and "v1 kx5q7"."""
    return "\n".join(
        f"## e{section}\n\nv{version} {code(file, section)}\n" for section in range(SECTIONS)
    )


pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

# The file number in a chunk: in its document's name ("l217" in its header line) and its codes.
_FILE_NUMBER = re.compile(r"(?<=\bl)\d+\b|(?<=kx)\d+(?=q)")


class SectionVectors:
    """The real embedder, asked once per section: a chunk's vector is that of its section with
    the file number left out (``l217 | e42`` and ``kx217q42`` read as ``l | e42``, ``kxq42``)."""

    def __init__(self, embedder):
        self.embedder = embedder
        self.name = embedder.name
        self._vectors: dict[str, list[float]] = {}

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        keys = [_FILE_NUMBER.sub("", text) for text in texts]
        new = [key for key in dict.fromkeys(keys) if key not in self._vectors]
        if new:
            self._vectors.update(zip(new, self.embedder.embed_documents(new), strict=True))
        return [self._vectors[key] for key in keys]


@pytest.fixture(scope="module")
def big(tmp_path_factory, embedder):
    root = tmp_path_factory.mktemp("large-store")
    docs = root / "docs"
    docs.mkdir()
    for file in range(FILES):
        (docs / f"l{file:03d}.md").write_text(note(file), encoding="utf-8")
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
    sections = SectionVectors(embedder)
    report = Ingestor.from_settings(settings, service.store, lambda: sections).ingest([docs])
    assert not report.failures
    assert len(sections._vectors) == SECTIONS  # one forward pass per section, not per chunk
    return service, docs, root / "db"


def test_the_store_is_past_sqlites_variable_limit(big):
    service, _, _ = big
    assert service.store.count() == FILES * SECTIONS > SQLITE_VARIABLES
    assert len(service.store.metadatas()) == FILES * SECTIONS  # read by page
    assert_lexical_matches(service.store)


def test_it_answers_with_the_right_source(big):
    service, _, _ = big
    passages = service.retrieve(f"Which entry records code {code(217, 42)}?")
    assert passages[0].source == "l217.md" and code(217, 42) in passages[0].text
    finished = service.ask(f"Which entry records code {code(5, 7)}?")
    assert finished.answer.strip() and finished.chunks[0].source == "l005.md"


def test_it_shows_status_and_pages_of_documents(big):
    service, _, db = big
    assert service.library_size() == (FILES, FILES * SECTIONS)
    result = run_cli("--status", "--db", str(db), "--json")
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout.strip().splitlines()[-1])
    assert (status["documents"], status["chunks"]) == (FILES, FILES * SECTIONS)
    handlers = DocumentHandlers(service)
    rows, label, _, page = handlers.show_page("", 2)
    assert page == 2 and len(rows) == PAGE_ROWS and rows[0][0] == f"l{PAGE_ROWS:03d}.md"
    assert f"of {FILES}" in label
    rows, label, _, _ = handlers.show_page("l21", 1)
    assert [row[0] for row in rows] == [f"l21{i}.md" for i in range(10)]


def test_it_reingests_one_changed_file(big):
    service, docs, _ = big
    (docs / "l100.md").write_text(note(100, version=2), encoding="utf-8")
    report = service.ingestor.ingest([docs])
    assert report.count("updated") == 1 and report.count("unchanged") == FILES - 1
    assert report.chunks_written == SECTIONS
    passages = service.retrieve(f"v2 {code(100, 3)}")
    assert passages[0].source == "l100.md" and f"v2 {code(100, 3)}" in passages[0].text
    assert_lexical_matches(service.store)


def test_it_deletes_one_document(big):
    service, docs, _ = big
    handlers = DocumentHandlers(service)
    message, _, _ = handlers.delete("l300.md")
    assert message.startswith(f"Deleted l300.md ({SECTIONS} chunks)")
    assert service.store.count() == (FILES - 1) * SECTIONS
    assert service.library_size() == (FILES - 1, (FILES - 1) * SECTIONS)
    assert not any(p.source == "l300.md" for p in service.retrieve(code(300, 1)))
    assert_lexical_matches(service.store)
    Path(docs / "l300.md").unlink()
