"""Extractive answers (extractive:notes) and "the notes don't say", through the service."""

from __future__ import annotations

import json
import re

import pytest

from devtools.sample_documents import FACTS
from devtools.servers import run_module
from rag.answer import available_models
from rag.app import Finished, Token
from rag.core import UserError, plain

EXTRACTIVE = "extractive:notes"
UNANSWERABLE = "What is the capital of Australia?"


def test_extractive_answer_quotes_the_fact_and_cites_only_given_sources(ingested_service):
    for _, fact, question in FACTS.values():
        finished = ingested_service.ask(question, model=EXTRACTIVE)
        given = {c.n for c in finished.chunks}
        cited = {int(n) for n in re.findall(r"\[(\d+)\]", finished.answer)}
        assert cited and cited <= given, finished.answer
        assert fact.rstrip(".") in finished.answer
        assert not finished.not_found
        for claim in finished.claims:
            assert claim.supported and len(claim.sources) == 1
            body = plain(ingested_service_chunk(finished, claim.sources[0]).body)
            assert claim.text.rstrip(".") in " ".join(body.split())


def ingested_service_chunk(finished: Finished, n: int):
    return next(c for c in finished.chunks if c.n == n)


def test_extractive_answer_comes_whole_in_one_piece_before_finishing(ingested_service):
    events = list(ingested_service.answer_stream(FACTS["html"][2], model=EXTRACTIVE))
    tokens = [e for e in events if isinstance(e, Token)]
    assert len(tokens) == 1 and "1312" in tokens[0].text
    assert events[-1].model == EXTRACTIVE


def test_unanswerable_question_says_the_notes_dont_cover_it_and_asks_no_model(
    make_service, sample_docs
):
    # The model's server is a closed loopback port: asking it would fail the answer.
    service = make_service(
        knowledge_dir=sample_docs,
        openai_api_key="sk-never-used",
        openai_base_url="http://127.0.0.1:9/v1",
    )
    service.ingest_knowledge_dir()
    finished = service.ask(UNANSWERABLE, model="openai:gpt-4.1-mini")
    assert finished.not_found
    assert "notes don't cover" in finished.answer
    assert finished.chunks and finished.chunks[0].source in finished.answer
    assert finished.claims == []


def test_ask_cli_json_says_not_found(tmp_path, sample_docs):
    db = str(tmp_path / "db")
    assert run_module("ingest", str(sample_docs), "--db", db, "-q").returncode == 0
    result = run_module("rag", "ask", UNANSWERABLE, "--db", db, "--json", "--model", EXTRACTIVE)
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout.strip().splitlines()[-1])
    assert payload["not_found"] is True
    assert payload["claims"] == []
    assert "Closest passages" in result.stdout


def test_the_extractive_mode_is_an_answer_mode_not_a_chat_model(ingested_service):
    with pytest.raises(UserError, match="writes no text"):
        ingested_service.chat_model(EXTRACTIVE)
    with pytest.raises(UserError, match="Unknown answer mode 'extractive:summary'"):
        ingested_service.ask(FACTS["md"][2], model="extractive:summary")
    assert ingested_service.load_model(EXTRACTIVE) == EXTRACTIVE
    first = available_models(ingested_service.settings)[0]
    assert first.name == EXTRACTIVE and first.available


def test_a_question_about_something_no_passage_names_is_not_answered(ingested_service):
    # The LoRA notes match "rank" well, but none of them speaks of Zephyrus: whatever they
    # say is no answer to a question about it.
    finished = ingested_service.ask("What LoRA rank does Zephyrus use?", model=EXTRACTIVE)

    assert finished.not_found and finished.claims == []
    assert "don't mention Zephyrus" in finished.answer
    answered = ingested_service.ask(FACTS["md"][2], model=EXTRACTIVE)
    assert not answered.not_found
