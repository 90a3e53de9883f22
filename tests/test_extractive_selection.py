"""How extractive answers choose and show sentences, on hand-made passages with the real
embedding model (rag.answer.extractive without the service)."""

from __future__ import annotations

import re

import pytest

from rag.answer import extractive
from rag.core import Passage
from rag.embedding import SentenceVectors


def passage(n: int, source: str, body: str) -> Passage:
    return Passage(n, f"id{n}", body, {"source": source}, 1.0 / n)


@pytest.fixture(scope="module")
def vectors(embedder):
    return SentenceVectors(embedder)


def answer(question, chunks, vectors, **options):
    scored = extractive.score_candidates(question, extractive.candidates(chunks), vectors)
    return extractive.format_answer(extractive.select(scored, **options))


def test_a_bare_list_item_is_shown_under_the_document_that_says_whose_it_is(vectors):
    record = (
        "# HR Record\n\n## Summary\n- **Job Title:** Platform Engineer\n- **Location:** Lisbon\n"
    )
    other = "# HR Record\n\n## Summary\n- **Job Title:** Data Analyst\n- **Location:** Porto\n"
    chunks = [
        passage(1, "people/Dana Okafor.md", record),
        passage(2, "people/Ravi Menon.md", other),
    ]
    text = answer("What is Dana Okafor's job title?", chunks, vectors)
    lines = text.splitlines()
    label = lines.index("Dana Okafor:")
    assert lines[label + 1] == "- Job Title: Platform Engineer. [1]"
    # Another person's job title, if shown at all, is shown under their name, not hers.
    if "Data Analyst" in text:
        assert lines[lines.index("- Job Title: Data Analyst. [2]") - 1] == "Ravi Menon:"
    assert set(re.findall(r"\[(\d)\]", text)) <= {"1", "2"}


def test_an_item_is_labelled_only_by_a_readable_name_that_it_does_not_say_itself(vectors):
    notes = "# Notes\n\n## QLoRA\n- QLoRA stores the base model in 4-bit NormalFloat.\n"
    chunks = [passage(1, "notes/000_c4bd26d166779a55.md", notes)]
    text = answer("How does QLoRA store the base model?", chunks, vectors)
    assert text == "- QLoRA stores the base model in 4-bit NormalFloat. [1]"


@pytest.mark.parametrize(
    ("question", "sentence", "expected"),
    [
        ("How many questions does the benchmark have?", "It has 1312 questions.", 1),
        ("How many questions does the benchmark have?", "It has many hard questions.", 0),
        ("When was the contract signed?", "It was signed on May 10, 2025.", 1),
        ("When was the contract signed?", "It was signed by both parties.", 0),
        ("Who founded the company?", "It was founded by Avery Lancaster.", 1),
        ("What is the company's mission?", "It has 200 employees.", 0),
        # A number the question itself names is no answer to it.
        ("How many tokens are 1,000 words?", "A text of 1,000 words is long.", 0),
    ],
)
def test_sentences_holding_what_the_question_asks_for_are_recognised(question, sentence, expected):
    assert extractive.gives_answer_kind(question, [sentence]).tolist() == [expected]


def test_the_not_found_floor_counts_the_document_that_names_who_is_asked_about(vectors):
    # "Start date" never says whose it is; the document's name does. The relevance the
    # not-found floor reads counts that name, as choosing the sentence does.
    body = "# HR Record\n\n## Summary\n- **Start Date:** March 3, 2019\n- **Location:** Lisbon\n"
    question = "When did Dana Okafor join the company?"
    named = extractive.score_candidates(
        question, extractive.candidates([passage(1, "people/Dana Okafor.md", body)]), vectors
    )
    unnamed = extractive.score_candidates(
        question, extractive.candidates([passage(1, "people/record-17.md", body)]), vectors
    )
    assert named.relevance > unnamed.relevance
