"""Conversations over the bundled notes (``knowledge_base/``), asked through the service as the
chat asks them (each turn with the conversation before it), answered in the default mode
(``extractive:notes``): a follow-up answers its own question, and what the last answer showed is
not shown again unless it is the answer. Real store, real embedding model."""

from __future__ import annotations

import pytest

from devtools.paths import REPO_ROOT
from rag.app import create_service
from rag.evaluation.answer_metrics import lead, repeated_sentences
from rag.settings import Settings


@pytest.fixture(scope="module")
def notes(tmp_path_factory, embedder):
    root = tmp_path_factory.mktemp("bundled-notes")
    settings = Settings(
        _env_file=None,
        db_dir=root / "db",
        knowledge_dir=REPO_ROOT / "knowledge_base",
        model="extractive:notes",
    )
    service = create_service(settings, embedder_factory=lambda s: embedder)
    service.ingest_knowledge_dir()
    return service


def talk(service, questions: list[str]) -> list[str]:
    """Each question's answer, asked in order with the conversation before it."""
    history: list[dict[str, str]] = []
    answers = []
    for question in questions:
        answer = service.ask(question, history).answer
        history += [
            {"role": "user", "content": question},
            {"role": "assistant", "content": answer},
        ]
        answers.append(answer)
    return answers


def test_what_the_last_answer_showed_counts_only_for_the_follow_ups_own_words(notes):
    answers = talk(
        notes,
        [
            "What's the context window of Claude 3.5 Sonnet?",
            "What about Gemini 1.5 Pro?",
            "Does the answer the model writes count against that window too?",
        ],
    )

    assert "200k" in lead(answers[0]) and "1M tokens" in lead(answers[1]), answers
    assert "covers everything" in lead(answers[2]), answers[2]
    assert repeated_sentences(answers[2], answers[1]) == [], answers[2]


def test_a_rare_acronym_only_bm25_finds_is_answered_from_the_notes_that_name_it(notes):
    finished = notes.ask("What is MMLU?")

    assert not finished.not_found, finished.answer
    assert "57 subjects" in lead(finished.answer), finished.answer
    assert finished.chunks[0].source.endswith("09_benchmarks_and_evaluation.md")


def test_a_follow_up_about_it_answers_from_what_the_notes_say_of_it(notes):
    answers = talk(notes, ["What is chain-of-thought prompting?", "Does it have a cost?"])

    assert "step by step" in lead(answers[0]), answers[0]
    assert "more output tokens means more cost and latency" in answers[1], answers[1]
    assert "$" not in answers[1]  # not a price list: no figure was asked for


def test_a_third_turn_does_not_bring_back_what_the_first_answer_showed_and_says_how_hard(notes):
    answers = talk(
        notes,
        [
            "What is MMLU?",
            "Does it still tell the top models apart?",
            "And GPQA, how hard is that one?",
        ],
    )

    assert lead(answers[2]).startswith("GPQA (Graduate-level"), answers[2]
    # How hard: the item's next sentence, on the line of the one naming GPQA.
    assert "about 65 percent" in lead(answers[2]), answers[2]
    assert repeated_sentences(answers[2], answers[0]) == [], answers[2]


def test_a_question_on_different_scales_gets_one_note_and_an_example_follows_it(notes):
    answers = talk(
        notes,
        [
            "Why mix BM25 and embeddings in retrieval?",
            "How are the two rankings merged, given that the scores are on different scales?",
            "Could you show me an example?",
        ],
    )

    # "different scales" compares nothing: one note answers, no line of others is added.
    assert "fuse ranks" in lead(answers[1]) and "[2]" not in answers[1], answers[1]
    assert "The notes don't cover this" not in answers[2], answers[2]
    assert "1/61 + 1/63 = 0.0323" in lead(answers[2]), answers[2]
