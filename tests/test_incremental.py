"""Re-ingesting changed notes: only what changed is embedded, nothing doubled or lost.

Real Chroma, the real embedder, real ``python -m ingest`` processes (killed with SIGKILL for
the crash tests), and the watcher on a real folder.
"""

from __future__ import annotations

import json
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from devtools.paths import REPO_ROOT
from devtools.servers import cli_env
from ingest.watch import Watcher
from rag.core import CHUNKER_VERSION, join_header, stored_parts
from rag.settings import Settings
from rag.store import open_store
from rag.ui.documents import DocumentHandlers

from .support.cli import run_cli
from .support.notes import TOPICS, note_text, write_notes
from .support.store_checks import (
    assert_no_duplicates,
    clean_snapshot,
    snapshot,
)


@pytest.fixture
def notes(tmp_path) -> Path:
    folder = tmp_path / "notes"
    write_notes(folder, TOPICS[:6])
    return folder


def test_only_added_changed_and_deleted_files_are_touched(make_service, notes):
    service = make_service(knowledge_dir=notes)
    first = service.ingestor.ingest([notes])
    assert first.count("added") == 6
    before = {c.id: c.metadata for c in service.store.all_chunks()}

    again = service.ingestor.ingest([notes])
    assert again.count("unchanged") == 6 and again.chunks_written == 0
    assert {c.id: c.metadata for c in service.store.all_chunks()} == before

    (notes / "tokenizers.md").write_text(note_text("tokenizers", 2), encoding="utf-8")
    (notes / "agents.md").unlink()
    write_notes(notes, ["serving"])
    report = service.ingestor.ingest([notes])

    statuses = {r.source: r.status for r in report.results}
    assert statuses == {
        "tokenizers.md": "updated",
        "agents.md": "removed",
        "serving.md": "added",
        "embeddings.md": "unchanged",
        "attention.md": "unchanged",
        "quantization.md": "unchanged",
        "retrieval.md": "unchanged",
    }
    after = {c.id: c.metadata for c in service.store.all_chunks()}
    untouched = {
        i: m for i, m in before.items() if m["source"] not in ("tokenizers.md", "agents.md")
    }
    assert untouched.items() <= after.items()  # same ids, same ingestion time
    assert not any(m["source"] == "agents.md" for m in after.values())
    texts = [c.text for c in service.store.all_chunks() if c.metadata["source"] == "tokenizers.md"]
    assert texts and all("Week 2" in t for t in texts)
    assert_no_duplicates(service.store)


def test_ids_are_deterministic_and_match_a_clean_ingest(make_service, notes, tmp_path, embedder):
    service = make_service(knowledge_dir=notes)
    service.ingestor.ingest([notes])
    (notes / "attention.md").write_text(note_text("attention", 3), encoding="utf-8")
    (notes / "retrieval.md").unlink()
    service.ingestor.ingest([notes])

    assert snapshot(service.store) == clean_snapshot(notes, tmp_path / "clean", embedder)


def test_changed_chunk_settings_rechunk_every_file(make_service, notes):
    make_service(knowledge_dir=notes).ingestor.ingest([notes])
    service = make_service(knowledge_dir=notes, chunk_size=120, chunk_overlap=0)

    report = service.ingestor.ingest([notes])

    assert report.count("updated") == 6
    assert {m["chunking"] for m in service.store.metadatas().values()} == {
        f"v{CHUNKER_VERSION}:120/0"
    }
    assert_no_duplicates(service.store)


def test_a_store_cut_by_an_older_chunker_is_rechunked(make_service, notes):
    service = make_service(knowledge_dir=notes)
    service.ingestor.ingest([notes])
    ids = list(service.store.metadatas())
    size, overlap = service.settings.chunk_size, service.settings.chunk_overlap
    # What a store written before the chunker's version was recorded holds.
    service.store.update_metadatas(ids, [{"chunking": f"{size}/{overlap}"}] * len(ids))

    report = service.ingestor.ingest([notes])

    assert report.count("updated") == 6
    assert {m["chunking"] for m in service.store.metadatas().values()} == {
        f"v{CHUNKER_VERSION}:{size}/{overlap}"
    }
    assert_no_duplicates(service.store)


def test_a_moved_folder_keeps_its_chunks_and_loses_its_deleted_files(make_service, notes, tmp_path):
    service = make_service(knowledge_dir=notes)
    service.ingestor.ingest([notes])
    ids = set(service.store.metadatas())
    moved = tmp_path / "elsewhere" / "notes"
    moved.parent.mkdir()
    shutil.move(notes, moved)
    (moved / "agents.md").unlink()

    report = service.ingestor.ingest([moved])

    assert report.count("unchanged") == 5 and report.chunks_written == 0
    assert [r.source for r in report.results if r.status == "removed"] == ["agents.md"]
    metadatas = service.store.metadatas()
    assert set(metadatas) < ids
    assert {Path(m["path"]).parent for m in metadatas.values()} == {moved}


def test_the_same_file_from_another_root_replaces_its_chunks(make_service, tmp_path):
    top = tmp_path / "course"
    write_notes(top / "week1", TOPICS[:2])
    service = make_service(knowledge_dir=top)
    service.ingestor.ingest([top / "week1"])

    report = service.ingestor.ingest([top])

    assert {r.source: r.status for r in report.results} == {
        "week1/tokenizers.md": "updated",
        "week1/embeddings.md": "updated",
    }
    assert {m["source"] for m in service.store.metadatas().values()} == {
        "week1/tokenizers.md",
        "week1/embeddings.md",
    }


def test_two_files_that_would_share_a_name_are_refused(make_service, tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    write_notes(first, ["tokenizers"], version=1)
    write_notes(second, ["tokenizers"], version=2)
    service = make_service()
    service.ingestor.ingest([first])

    report = service.ingestor.ingest([second])

    (failure,) = report.failures
    assert str(second / "tokenizers.md") in failure.reason
    assert str(first / "tokenizers.md") in failure.reason
    texts = [c.text for c in service.store.all_chunks()]
    assert texts and all("Week 1" in t for t in texts)


def test_an_emptied_folder_keeps_its_documents(make_service, notes):
    service = make_service(knowledge_dir=notes)
    service.ingestor.ingest([notes])
    count = service.store.count()
    for path in notes.iterdir():
        path.unlink()

    report = service.ingestor.ingest([notes])

    assert service.store.count() == count
    (failure,) = report.failures
    assert "is empty" in failure.reason and "6 stored documents are kept" in failure.reason


def test_watch_applies_changes_after_a_quiet_moment(make_service, notes):
    service = make_service(knowledge_dir=notes)
    service.ingestor.ingest([notes])

    with Watcher(service.ingestor, [notes], debounce_s=0.5) as watcher:
        for version in (2, 3, 4):  # a burst of saves: one ingest after it
            (notes / "tokenizers.md").write_text(note_text("tokenizers", version), encoding="utf-8")
        (notes / "agents.md").unlink()
        report = watcher.reports.get(timeout=60)
        write_notes(notes, ["serving"])
        added = watcher.reports.get(timeout=60)

    statuses = {r.source: r.status for r in report.results if r.status != "unchanged"}
    assert statuses == {"tokenizers.md": "updated", "agents.md": "removed"}
    assert {r.source for r in added.results if r.status == "added"} == {"serving.md"}
    texts = [c.text for c in service.store.all_chunks() if c.metadata["source"] == "tokenizers.md"]
    assert texts and all("Week 4" in t for t in texts)
    assert watcher.reports.empty()  # reading files for ingestion raised no new run


def test_cli_reset_and_status(tmp_path, notes):
    db = tmp_path / "db"
    first = run_cli(str(notes), "--db", str(db), "--json", "-q")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout.splitlines()[-1])["added"] == 6

    status = run_cli("--db", str(db), "--status", "--json")
    assert status.returncode == 0, status.stderr
    listing = json.loads(status.stdout.splitlines()[-1])
    assert listing["documents"] == 6
    assert {f["source"] for f in listing["files"]} == {f"{t}.md" for t in TOPICS[:6]}
    assert listing["chunks"] == sum(f["chunks"] for f in listing["files"])
    assert all(f["chunks"] >= 1 and f["ingested_at"] for f in listing["files"])
    ids = set(open_store(Settings(_env_file=None, db_dir=db)).metadatas())

    reset = run_cli(str(notes), "--db", str(db), "--json", "-q", "--reset")
    assert reset.returncode == 0, reset.stderr
    summary = json.loads(reset.stdout.splitlines()[-1])
    assert summary["added"] == 6 and summary["unchanged"] == 0
    assert set(open_store(Settings(_env_file=None, db_dir=db)).metadatas()) == ids


def test_cli_one_edited_note_is_embedded_without_torch(tmp_path, notes, embedder):
    """A small re-ingest skips torch's import: its chunks are embedded in ONNX Runtime."""
    db = tmp_path / "db"
    assert run_cli(str(notes), "--db", str(db), "-q").returncode == 0
    (notes / "attention.md").write_text(note_text("attention", 2), encoding="utf-8")

    edited = run_cli(str(notes), "--db", str(db), "--json", "-q", PYTHONPROFILEIMPORTTIME="1")

    assert edited.returncode == 0, edited.stderr
    assert json.loads(edited.stdout.splitlines()[-1])["updated"] == 1
    imported = {line.rsplit("|", 1)[-1].strip() for line in edited.stderr.splitlines()}
    assert "numpy" in imported and "torch" not in imported
    # Each new chunk is found by the app's own vector of its text, at distance ~0.
    store = open_store(Settings(_env_file=None, db_dir=db))
    stored = [c for c in store.all_chunks() if c.metadata["source"] == "attention.md"]
    assert stored
    for chunk in stored:
        text = join_header(*stored_parts(chunk.text, chunk.metadata))  # what was embedded
        best = store.query(embedder.embed_query(text), 1)[0]
        assert best.id == chunk.id and best.distance < 1e-5


def _kill_after(process: subprocess.Popen, lines: int, delay: float) -> list[str]:
    """Read the -v lines of ``process``; SIGKILL it ``delay`` s after the ``lines``-th write."""
    seen = []
    writes = 0
    assert process.stdout is not None
    for line in process.stdout:
        seen.append(line)
        if line.startswith(("added", "updated", "removed")):
            writes += 1
            if writes >= lines:
                time.sleep(delay)
                break
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    return seen


def test_kill_9_at_any_moment_is_repaired_by_the_next_run(make_service, tmp_path, embedder):
    """SIGKILL a real ingest mid-way, several times; the next run leaves the clean state."""
    folder = tmp_path / "notes"
    write_notes(folder, TOPICS, version=1)
    db = tmp_path / "db"
    service = make_service(db_dir=db, knowledge_dir=folder)
    service.ingestor.ingest([folder])
    # Week 2: half the notes edited, two deleted, two new.
    write_notes(folder, TOPICS[:6], version=2)
    for topic in TOPICS[6:8]:
        (folder / f"{topic}.md").unlink()
    write_notes(folder, ["ethics", "multimodal"], version=1)

    rng = random.Random(5)
    kills = 0
    for lines, delay in [(1, 0.0), (2, rng.uniform(0.0, 0.05)), (3, rng.uniform(0.0, 0.2))]:
        process = subprocess.Popen(
            [sys.executable, "-m", "ingest", str(folder), "--db", str(db), "-v", "-q"],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            # One file per write step, so that the kills fall between and inside writes.
            env=cli_env(RAG_INGEST_BATCH_CHUNKS="1"),
        )
        seen = _kill_after(process, lines, delay)
        kills += process.returncode == -signal.SIGKILL
        if not any(line.startswith(("added", "updated", "removed")) for line in seen):
            break  # it finished before the kill: nothing left to interrupt
    assert kills >= 1

    repaired = make_service(db_dir=db, knowledge_dir=folder)
    report = repaired.ingestor.ingest([folder])
    assert not report.failures
    assert snapshot(repaired.store) == clean_snapshot(folder, tmp_path / "clean", embedder)
    assert_no_duplicates(repaired.store)
    assert repaired.ingestor.ingest([folder]).chunks_written == 0


def test_documents_tab_lists_reingests_and_deletes(make_service, notes):
    service = make_service(knowledge_dir=notes)
    handlers = DocumentHandlers(service)

    rows, status, documents, _ = list(handlers.reingest())[-1]
    assert {row[1] for row in rows} == {"added"} and len(rows) == 6
    assert "6 added" in status
    assert [row[0] for row in documents] == sorted(f"{t}.md" for t in TOPICS[:6])

    (notes / "agents.md").write_text(note_text("agents", 2), encoding="utf-8")
    rows, status, _, _ = list(handlers.reingest())[-1]
    assert {row[0]: row[1] for row in rows}["agents.md"] == "updated"
    assert "1 updated, 5 unchanged" in status

    message, documents, _ = handlers.delete("agents.md")
    assert "Deleted agents.md" in message and "Include again" in message
    assert "agents.md" not in [row[0] for row in documents]
    assert not any(m["source"] == "agents.md" for m in service.store.metadatas().values())
    rows, status, documents, _ = list(handlers.reingest())[-1]
    assert {row[0]: row[1] for row in rows}["agents.md"] == "excluded"
    assert "agents.md" not in [row[0] for row in documents]


def test_ingest_while_documents_are_listed(make_service, notes):
    """Listing documents (as the tab does on every load) during an ingest never fails."""
    service = make_service(knowledge_dir=notes)
    handlers = DocumentHandlers(service)
    errors: list[BaseException] = []
    done = threading.Event()

    def ingest() -> None:
        try:
            for version in (2, 3):
                write_notes(notes, TOPICS[:6], version)
                service.ingestor.ingest([notes])
        except BaseException as exc:
            errors.append(exc)
        finally:
            done.set()

    thread = threading.Thread(target=ingest)
    thread.start()
    listings = 0
    while not done.is_set():
        rows = handlers.document_rows()
        assert all(row[1] >= 1 for row in rows)
        listings += 1
    thread.join()
    assert not errors and listings > 0
    assert [row[1] for row in handlers.document_rows()] == [1] * 6


def test_the_onnx_embedder_gives_sentence_transformers_vectors(embedder):
    """Ingestion and queries run the model in ONNX Runtime; its vectors are the library's."""
    import numpy as np

    from rag.embedding import OnnxEmbedder, SentenceTransformerEmbedder
    from rag.settings import DEFAULT_EMBEDDING_MODEL

    assert isinstance(embedder, OnnxEmbedder)
    texts = [note_text(t, 1) for t in TOPICS] + [
        "  padded  ",
        "x",
        "word " * 600,  # past the model's 256 tokens: cut where sentence-transformers cuts
        "Ünïcödé ☕ 数学",
    ]
    ours = np.array(embedder.embed_documents(texts))
    library = np.array(SentenceTransformerEmbedder(DEFAULT_EMBEDDING_MODEL).embed_documents(texts))
    assert np.abs(ours - library).max() < 1e-5


def test_the_library_size_follows_the_store_and_is_counted_once_per_change(make_service, notes):
    service = make_service(knowledge_dir=notes)
    service.ingest_knowledge_dir()
    counted = []
    document_count = service.store.document_count
    service.store.document_count = lambda: counted.append(1) or document_count()

    size = service.library_size()
    assert size == (6, service.store.count())
    assert service.library_size() == size and len(counted) == 1  # nothing changed: not re-read

    service.ingestor.delete_document("attention.md")
    assert service.library_size() == (5, service.store.count()) and len(counted) == 2
