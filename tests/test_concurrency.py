"""Ingesting while people chat, and two ingest jobs on one store (real threads, real processes)."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time

import pytest

from devtools.paths import REPO_ROOT
from devtools.servers import cli_env
from ingest.pipeline import IngestLocked
from rag.store import open_store

from .support.cli import run_cli
from .support.notes import TOPICS, code_word, note_text, write_notes
from .support.store_checks import assert_no_duplicates, clean_snapshot, snapshot


def test_chat_keeps_answering_while_the_notes_are_reingested(make_service, tmp_path):
    folder = tmp_path / "notes"
    write_notes(folder, TOPICS)
    service = make_service(knowledge_dir=folder, max_new_tokens=8)
    service.ingest_knowledge_dir()
    errors: list[BaseException] = []
    ingesting = threading.Event()
    finished = threading.Event()

    def ingest() -> None:
        try:
            ingesting.set()
            for version in (2, 3, 4):
                write_notes(folder, TOPICS[: len(TOPICS) // 2], version)
                service.ingestor.ingest([folder])
        except BaseException as exc:
            errors.append(exc)
        finally:
            finished.set()

    worker = threading.Thread(target=ingest)
    worker.start()
    ingesting.wait()
    retrievals = 0
    answers = []
    while not finished.is_set() or retrievals == 0:
        hits = service.retrieve("What is the code word for serving?")  # a note left alone
        assert hits and all(hit.text.strip() for hit in hits)
        assert code_word("serving", 1) in hits[0].text
        tokenizers = service.retrieve("code word for tokenizers")
        assert any(hit.source == "tokenizers.md" for hit in tokenizers)
        retrievals += 1
        if not answers:
            answers.append(service.ask("What is the code word for serving?"))
    worker.join()

    assert not errors, errors
    assert answers[0].chunks and answers[0].model
    assert code_word("tokenizers", 4) in service.retrieve("code word for tokenizers")[0].text
    assert_no_duplicates(service.store)


def _wait_for(path, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def test_a_second_ingest_process_is_refused_or_waits_and_the_app_sees_the_result(
    make_service, tmp_path, embedder
):
    folder = tmp_path / "notes"
    write_notes(folder, TOPICS)
    db = tmp_path / "db"
    app = make_service(db_dir=db, knowledge_dir=folder)  # stays open, as the web app would
    app.ingest_knowledge_dir()
    assert code_word("agents", 1) in app.retrieve("code word for agents")[0].text
    write_notes(folder, TOPICS[:6], version=2)
    (folder / "agents.md").write_text(note_text("agents", 7), encoding="utf-8")
    (folder / "datasets.md").unlink()

    first = subprocess.Popen(
        [sys.executable, "-m", "ingest", str(folder), "--db", str(db), "-q"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(),
    )
    try:
        _wait_for(db / ".ingest.lock.owner", first)
        first.send_signal(signal.SIGSTOP)  # frozen while it holds the store
        refused = run_cli(str(folder), "--db", str(db), "--wait", "0")
        waiting = subprocess.Popen(
            [sys.executable, "-m", "ingest", str(folder), "--db", str(db), "-q", "--wait", "300"],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=cli_env(),
        )
        time.sleep(1.0)
        assert waiting.poll() is None  # it waits for the lock rather than failing
    finally:
        first.send_signal(signal.SIGCONT)
    first_out, first_err = first.communicate(timeout=300)
    waiting_out, waiting_err = waiting.communicate(timeout=300)

    assert refused.returncode == 3
    assert "Another ingest is running" in refused.stderr
    assert f"process {first.pid}" in refused.stderr
    assert first.returncode == 0, first_err
    assert "6 updated" in first_out and "1 removed" in first_out
    assert waiting.returncode == 0, waiting_err
    assert "0 chunks written" in waiting_out  # the first job had done it all

    fresh = make_service(db_dir=db, knowledge_dir=folder)
    assert snapshot(fresh.store) == clean_snapshot(folder, tmp_path / "clean", embedder)
    assert_no_duplicates(fresh.store)
    # The app never reopened its store: it must still see what the other processes wrote.
    hits = app.retrieve("What is the code word for agents?")
    assert code_word("agents", 7) in hits[0].text
    assert all(hit.text.strip() for hit in hits)
    assert not any(hit.source == "datasets.md" for hit in app.retrieve("code word for datasets"))
    assert_no_duplicates(app.store)


def test_the_app_reloads_a_store_another_process_changed_before_the_next_question(
    make_service, tmp_path, caplog
):
    """`python -m ingest` beside the app: the watcher reopens the store in the background,
    so the next question doesn't wait for the vector index to load."""
    folder = tmp_path / "notes"
    write_notes(folder, TOPICS[:4])
    db = tmp_path / "db"
    app = make_service(db_dir=db, knowledge_dir=folder, store_watch_seconds=0.05)
    app.ingest_knowledge_dir()
    app.watch_store()
    write_notes(folder, ["multimodal"], version=3)

    with caplog.at_level("INFO", logger="rag.store.collection"):
        assert run_cli(str(folder), "--db", str(db), "-q").returncode == 0
        deadline = time.monotonic() + 30
        while "after a change by another process" not in caplog.text:
            assert time.monotonic() < deadline, "the store was never reopened in the background"
            time.sleep(0.05)
        reopened = caplog.text.count("after a change by another process")
        hits = app.retrieve("code word for multimodal")
    assert hits[0].source == "multimodal.md"
    assert code_word("multimodal", 3) in hits[0].text
    # The question found the store already reopened: it did not reopen it again.
    assert caplog.text.count("after a change by another process") == reopened == 1


def test_an_ingest_started_while_the_app_reloads_the_store_waits_instead_of_failing(
    make_service, tmp_path
):
    """The app holds the ingest lock for a moment when it reloads a store another job changed;
    `python -m ingest` run then (no --wait given) waits for it rather than being refused."""
    from rag.store import while_no_writer

    folder = tmp_path / "notes"
    write_notes(folder, TOPICS[:2])
    db = tmp_path / "db"
    app = make_service(db_dir=db, knowledge_dir=folder)
    app.ingest_knowledge_dir()
    write_notes(folder, ["multimodal"])
    released = threading.Event()

    def hold_as_a_reader() -> None:
        with while_no_writer(app.store.lock_path) as free:
            assert free
            time.sleep(4.0)  # the CLI starts, imports (~2 s) and asks for the lock meanwhile
        released.set()

    holder = threading.Thread(target=hold_as_a_reader)
    holder.start()
    result = run_cli(str(folder), "--db", str(db), "-q")
    holder.join()
    assert released.is_set()
    assert result.returncode == 0, result.stderr
    assert "1 added" in result.stdout


def test_every_job_waits_the_one_lock_wait_setting_and_ingest_wait_overrides_it(
    make_service, tmp_path
):
    """RAG_LOCK_WAIT_S is how long any job waits for another writer: the app's start, a
    delete, `python -m ingest`; `--wait SECONDS` sets it for one run."""
    folder = tmp_path / "notes"
    write_notes(folder, TOPICS[:1])
    db = tmp_path / "db"
    app = make_service(db_dir=db, knowledge_dir=folder, lock_wait_s=0.5)

    with open_store(app.settings).writer_lock(0):  # another writer holds the store
        started = time.monotonic()
        with pytest.raises(IngestLocked, match=r"after waiting 0\.5 s"):
            app.ingest_knowledge_dir()
        assert time.monotonic() - started >= 0.5
        with pytest.raises(IngestLocked, match=r"after waiting 0\.5 s"):
            app.ingestor.delete_document("agents.md")
        from_setting = run_cli(str(folder), "--db", str(db), "-q", RAG_LOCK_WAIT_S="0.5")
        # Were --wait ignored, this would wait ten minutes, past run_cli's timeout.
        overridden = run_cli(
            str(folder), "--db", str(db), "-q", "--wait", "0", RAG_LOCK_WAIT_S="600"
        )

    assert from_setting.returncode == 3 and "after waiting 0.5 s" in from_setting.stderr
    assert overridden.returncode == 3 and "Another ingest is running" in overridden.stderr
    assert "after waiting" not in overridden.stderr
