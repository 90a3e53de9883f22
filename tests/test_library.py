"""The library as the app's use cases, without the web page: list, upload, delete, re-ingest
(rag.app.library; the Documents tab only asks it and renders). Real store, real embedder."""

from __future__ import annotations

import pytest

from rag.app import IngestError

from .support.notes import TOPICS, note_text, write_notes


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


def test_reingesting_without_the_knowledge_folder_is_refused_by_name(make_service, tmp_path):
    service = make_service(knowledge_dir=tmp_path / "gone")

    with pytest.raises(IngestError, match="The knowledge folder gone is missing"):
        service.library.reingest()
