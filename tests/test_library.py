"""The library as the app's use cases, without the web page: list, upload, delete, re-ingest
(rag.app.library; the Documents tab only asks it and renders). Real store, real embedder."""

from __future__ import annotations

import json

import pytest

from rag.app import IngestError, RagService, create_service
from rag.settings import Settings
from rag.ui.documents import DocumentHandlers

from .support.cli import run_cli
from .support.notes import TOPICS, note_text, write_notes


def start_app(settings: Settings, embedder) -> RagService:
    """What app.py does at start: a service over the store folder, then the knowledge folder
    ingested in the background (waited for here)."""
    service = create_service(settings, embedder_factory=lambda s: embedder)
    startup = service.start_ingesting_knowledge_dir()
    assert startup is not None and startup.wait(300) and startup.error is None
    return service


def stored(service: RagService) -> list[str]:
    return [d["source"] for d in service.library.documents()]


def test_the_library_is_reingested_uploaded_to_and_deleted_from_without_the_page(
    make_service, tmp_path
):
    notes = tmp_path / "docs"
    write_notes(notes, TOPICS[:2])
    service = make_service(knowledge_dir=notes)
    library = service.library
    seen = []

    report = library.reingest(on_result=seen.append)

    assert report.count("added") == 2
    assert sorted(r.source for r in seen) == ["embeddings.md", "tokenizers.md"]

    received = tmp_path / "received"
    received.mkdir()
    (received / "a").write_text(note_text("serving", 1), encoding="utf-8")
    (received / "b").write_bytes(b"")
    seen.clear()
    uploaded = library.upload(
        [(received / "a", "../../serving.md"), (received / "b", "empty.md")], seen.append
    )

    assert [(r.source, r.status) for r in uploaded.refused] == [("uploads/empty.md", "failed")]
    assert uploaded.ingested is not None and uploaded.ingested.count("added") == 1
    assert seen[0] == uploaded.refused[0]  # refused files are reported first
    assert library.document_count() == 3
    assert library.document_count("serv") == 1
    assert (service.settings.uploads_path / "serving.md").is_file()

    deleted = library.delete("uploads/serving.md")

    assert deleted.file_removed and deleted.chunks > 0
    assert not (service.settings.uploads_path / "serving.md").exists()
    assert [d["source"] for d in library.documents()] == ["embeddings.md", "tokenizers.md"]
    with pytest.raises(IngestError, match=r"nothing\.md is not in the store"):
        library.delete("nothing.md")
    with pytest.raises(IngestError, match=r"tokenizers\.md was not deleted from the library"):
        library.include("tokenizers.md")


def test_reingesting_without_the_knowledge_folder_is_refused_by_name(make_service, tmp_path):
    service = make_service(knowledge_dir=tmp_path / "gone")

    with pytest.raises(IngestError, match="The knowledge folder gone is missing"):
        service.library.reingest()


def test_a_deleted_document_stays_deleted_across_restarts_until_included_again(
    make_settings, embedder, tmp_path
):
    notes = tmp_path / "docs"
    write_notes(notes, TOPICS[:3])
    settings = make_settings(knowledge_dir=notes)
    first = start_app(settings, embedder)
    assert stored(first) == ["attention.md", "embeddings.md", "tokenizers.md"]

    message, rows, _ = DocumentHandlers(first).delete("attention.md")

    assert "Deleted attention.md" in message and "Include again" in message
    assert "attention.md" not in [row[0] for row in rows]
    assert (notes / "attention.md").is_file()  # the knowledge folder's file is the admin's

    restarted = start_app(settings, embedder)  # every start re-syncs the knowledge folder
    assert stored(restarted) == ["embeddings.md", "tokenizers.md"]
    assert restarted.startup.report.count("excluded") == 1
    assert restarted.library.excluded() == ["attention.md"]
    # The command line sees the same library, and leaves the document out too.
    status = run_cli("--status", "--json", "--db", str(settings.db_dir))
    listing = json.loads(status.stdout.splitlines()[-1])
    assert [f["source"] for f in listing["files"]] == stored(restarted)
    assert listing["excluded"] == ["attention.md"]
    assert "excluded  attention.md" in status.stdout
    cli = run_cli(str(notes), "--db", str(settings.db_dir), "-q")
    assert cli.returncode == 0 and "1 excluded" in cli.stdout

    report = restarted.library.include("attention.md")  # the undo

    assert report.count("added") == 1
    assert restarted.library.excluded() == []
    assert stored(start_app(settings, embedder)) == [
        "attention.md",
        "embeddings.md",
        "tokenizers.md",
    ]


def test_the_command_line_brings_back_a_deleted_document_by_name(make_service, tmp_path):
    notes = tmp_path / "docs"
    write_notes(notes, TOPICS[:2])
    service = make_service(knowledge_dir=notes)
    service.library.reingest()
    assert service.library.delete("embeddings.md").excluded
    db = str(service.settings.db_dir)

    rebuilt = run_cli("--reset", str(notes), "--db", db, "-q")
    unknown = run_cli("--include", "nothing.md", str(notes), "--db", db, "-q")
    included = run_cli("--include", "embeddings.md", str(notes), "--db", db, "-q")

    assert rebuilt.returncode == 0 and "1 added, 1 excluded" in rebuilt.stdout  # list kept
    assert unknown.returncode == 2
    assert "nothing.md was not deleted from the library" in unknown.stderr
    assert included.returncode == 0 and "1 added" in included.stdout
    assert stored(service) == ["embeddings.md", "tokenizers.md"]
    assert service.library.excluded() == []
