"""Ready at start: the knowledge folder is ingested as the app starts, in the background, and no
question is answered from an empty store."""

from __future__ import annotations

import threading

import pytest

from devtools.sample_documents import FACTS
from rag.app import NO_NOTES, Finished, Retrieved, StartupIngest
from rag.core import NotReady
from rag.ui.app import TEMPORARY_STORE, _status


def _first_retrieval(service, question: str) -> Retrieved:
    """The sources an answer gets, without generating the answer itself."""
    stream = service.answer_stream(question, model="llamacpp:smollm2")
    try:
        event = next(stream)
    finally:
        stream.close()
    assert isinstance(event, Retrieved)
    return event


def test_question_asked_while_the_notes_are_read_waits_for_them(make_service, sample_docs):
    service = make_service(knowledge_dir=sample_docs)
    startup = service.start_ingesting_knowledge_dir()
    assert startup is not None

    name, _fact, question = FACTS["md"]
    retrieved = _first_retrieval(service, question)  # asked at once, before the job is done

    assert not startup.running
    assert startup.report is not None and startup.report.count("added") == len(FACTS)
    assert retrieved.chunks and retrieved.chunks[0].source == name


def _held_startup(service) -> tuple[StartupIngest, threading.Event]:
    """The real ingestion of the service's knowledge folder, held back until the event is set:
    a slow start, made deterministic."""
    release = threading.Event()

    def ingest(progress):
        release.wait(30)
        return service.ingest_knowledge_dir(progress)

    service.startup = StartupIngest(ingest).start()
    return service.startup, release


def test_question_is_told_to_wait_when_the_notes_are_not_ready_in_time(make_service, sample_docs):
    service = make_service(knowledge_dir=sample_docs, startup_wait_s=0.2)
    startup, release = _held_startup(service)
    try:
        with pytest.raises(NotReady, match=r"Reading the notes.*Ask again in a moment"):
            _first_retrieval(service, FACTS["md"][2])
        assert "Reading the notes" in _status(service)  # the page says so too
    finally:
        release.set()
    assert startup.wait(60)
    assert "Reading the notes" not in _status(service)
    assert _first_retrieval(service, FACTS["md"][2]).chunks


def test_empty_store_says_the_notes_dont_cover_it_and_asks_no_model(make_service, tmp_path):
    service = make_service(knowledge_dir=tmp_path / "no-such-folder")
    assert service.start_ingesting_knowledge_dir() is None

    # A model that can't even load: the answer must not need one.
    events = list(service.answer_stream("Who founded Zephyr?", model="llamacpp:/no/such.gguf"))

    finished = events[-1]
    assert isinstance(finished, Finished)
    assert finished.answer == NO_NOTES
    assert finished.not_found
    assert finished.chunks == []


def test_failed_start_is_shown_and_questions_still_answered(make_service, sample_docs):
    service = make_service(knowledge_dir=sample_docs)
    service.ingest_knowledge_dir()

    def broken(progress):
        raise RuntimeError("the disk went away")

    service.startup = StartupIngest(broken).start()
    assert service.startup.wait(10)
    assert "Reading the notes at start failed: the disk went away" in _status(service)
    assert _first_retrieval(service, FACTS["md"][2]).chunks  # from what the store holds


def test_page_says_a_store_outside_persistent_storage_is_temporary(
    make_service, tmp_path, monkeypatch
):
    monkeypatch.setenv("SPACE_ID", "someone/course-notes")
    temporary = make_service(persistent_dir=tmp_path / "no-data")
    assert TEMPORARY_STORE in _status(temporary)

    kept = make_service(persistent_dir=tmp_path, db_dir=tmp_path / "rag_db")
    assert TEMPORARY_STORE not in _status(kept)
