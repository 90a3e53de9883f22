"""Ingestion of every main format into a real Chroma store, and bad input reported per file."""

from __future__ import annotations

import json

from devtools.sample_documents import FACTS
from devtools.servers import run_module


def test_every_format_is_ingested_with_its_metadata(make_service, sample_docs):
    service = make_service()
    report = service.ingestor.ingest([sample_docs])

    assert {r.source: r.status for r in report.results} == {
        name: "added" for name, _, _ in FACTS.values()
    }
    metadatas = list(service.store.metadatas().values())
    sources = {m["source"] for m in metadatas}
    assert sources == {name for name, _, _ in FACTS.values()}
    for meta in metadatas:
        assert {"source", "title", "section", "chunk_index", "content_hash"} <= meta.keys()
    pdf_pages = {m["page"] for m in metadatas if m["source"] == "quantization.pdf"}
    assert pdf_pages == {1, 2}
    md = [m for m in metadatas if m["source"] == "lora_notes.md"]
    assert {m["section"] for m in md} == {
        "Fine-tuning notes > Setup",
        "Fine-tuning notes > LoRA settings",
    }
    assert all(m["title"] == "Fine-tuning notes" for m in md)
    docx_sections = {m["section"] for m in metadatas if m["source"] == "agents.docx"}
    assert any("Agents" in s for s in docx_sections)


def test_bad_files_are_reported_and_the_rest_ingested(make_service, sample_docs):
    (sample_docs / "empty.md").write_bytes(b"")
    (sample_docs / "corrupt.pdf").write_bytes(b"%PDF-1.4\n1 0 obj <<\n garbage \x00\x01 trailer")
    (sample_docs / "binary.txt").write_bytes(bytes(range(256)) * 8)
    (sample_docs / "slides.xyz").write_text("not a format we read", encoding="utf-8")
    service = make_service()

    report = service.ingestor.ingest([sample_docs])

    failures = {r.source: r.reason for r in report.failures}
    assert set(failures) == {"empty.md", "corrupt.pdf", "binary.txt", "slides.xyz"}
    assert "empty.md" in failures["empty.md"] and "empty" in failures["empty.md"]
    assert "corrupt.pdf" in failures["corrupt.pdf"] and "PDF" in failures["corrupt.pdf"]
    assert "binary" in failures["binary.txt"]
    assert "unsupported file type '.xyz'" in failures["slides.xyz"]
    assert report.count("added") == len(FACTS)


def test_ingest_cli_prints_progress_and_summary(tmp_path, sample_docs):
    (sample_docs / "empty.txt").write_bytes(b"")
    result = run_module("ingest", str(sample_docs), "--db", str(tmp_path / "db"), "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["files"] == len(FACTS) + 1
    assert summary["chunks"] >= len(FACTS)
    assert "empty.txt" in result.stderr and "empty" in result.stderr  # the skipped file, named
    assert "file/s" in result.stderr or "file]" in result.stderr  # the tqdm progress bar
    assert "6 files (5 added, 1 failed)" in result.stdout
