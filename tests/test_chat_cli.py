"""Conversations from a terminal: ``rag chat`` answers one question a line, each a follow-up of
the ones before, and ``rag eval --answers --conversations`` scores such conversations. Real
processes, the real embedding model, a store of its own."""

from __future__ import annotations

import json

import pytest

from devtools.servers import run_module
from rag.evaluation.answer_metrics import lead, repeated_sentences
from tests.support.conversation_notes import (
    CONVERSATION,
    write_conversation_notes,
    write_conversations_file,
)


@pytest.fixture(scope="module")
def notes_db(tmp_path_factory):
    root = tmp_path_factory.mktemp("conversation")
    docs = write_conversation_notes(root / "docs")
    db = str(root / "db")
    ingested = run_module("ingest", str(docs), "--db", db, "-q")
    assert ingested.returncode == 0, ingested.stderr
    return docs, db


def test_rag_chat_answers_a_three_turn_conversation_one_json_line_per_answer(notes_db):
    _, db = notes_db
    questions = "".join(f"{question}\n" for question, _ in CONVERSATION)

    result = run_module("rag", "chat", "--db", db, "--json", stdin=questions + "\n")

    assert result.returncode == 0, result.stderr
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(answers) == 3
    previous = ""
    for (question, fact), payload in zip(CONVERSATION, answers, strict=True):
        assert set(payload) == {"answer", "sources", "model", "timings", "claims", "not_found"}
        assert fact in lead(payload["answer"]), (question, payload["answer"])
        assert repeated_sentences(payload["answer"], previous) == [], payload["answer"]
        assert payload["claims"] and all(c["evidence"] for c in payload["claims"])
        previous = payload["answer"]


def test_rag_chat_prints_each_answer_with_its_sources(notes_db):
    _, db = notes_db

    result = run_module("rag", "chat", "--db", db, stdin="What is QLoRA?\nAnd LoRA?\n")

    assert result.returncode == 0, result.stderr
    assert result.stdout.count("Sources:") == 2
    assert "4-bit NF4" in result.stdout and "fine_tuning.md" in result.stdout


def test_eval_conversations_scores_follow_ups_and_repeated_sentences(notes_db, tmp_path):
    docs, db = notes_db
    talks = write_conversations_file(tmp_path / "talks.jsonl")

    result = run_module(
        "rag",
        "eval",
        "--answers",
        "--conversations",
        str(talks),
        "--docs",
        str(docs),
        "--db",
        db,
        "--json",
    )

    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert [t["turn"] for t in summary["turns"]] == [1, 2, 3]
    follow_ups = summary["follow-ups"]
    assert follow_ups["n"] == 2 and follow_ups["keyword_recall"] == 1.0
    assert follow_ups["repeated_sentences"] == 0
    assert any(line.startswith("follow-ups") for line in result.stdout.splitlines())


def test_eval_needs_either_tests_or_conversations():
    result = run_module("rag", "eval", "--answers", "--docs", "knowledge_base")
    assert result.returncode == 2
    assert "--tests FILE or --conversations FILE" in result.stderr
