"""The sentence verifier: on its labelled set, and on the edits it makes to an answer."""

from __future__ import annotations

import json

import pytest

from devtools.servers import REPO_ROOT
from rag.answer import verify
from rag.core import Passage
from rag.embedding import SentenceVectors

LABELLED = REPO_ROOT / "tests" / "data" / "labels" / "verifier_sentences.jsonl"


def source(n: int, text: str, name: str = "notes.md") -> Passage:
    return Passage(n, f"{name}#{n}", text, {"source": name}, 1.0)


@pytest.fixture(scope="module")
def vectors(embedder):
    return SentenceVectors(embedder)


def test_verifier_on_its_labelled_set_flags_wrong_sentences_and_keeps_right_ones(vectors):
    rows = [json.loads(line) for line in LABELLED.read_text().splitlines() if line.strip()]
    documents = {r["source"]: (REPO_ROOT / r["source"]).read_text() for r in rows}
    right = {"supported": 0, "flagged": 0}
    totals = {"supported": 0, "flagged": 0}
    for row in rows:
        claim = verify(row["sentence"] + " [1]", [source(1, documents[row["source"]])], vectors)
        verdict = claim.claims[0].supported
        key = "supported" if row["supported"] else "flagged"
        totals[key] += 1
        right[key] += verdict == row["supported"]
    # Measured in benchmarks/README.md ("Sentence verifier"); these are floors well below.
    assert right["flagged"] / totals["flagged"] >= 0.8
    assert right["supported"] / totals["supported"] >= 0.8


def test_uncited_sentence_gets_the_source_that_holds_it(vectors):
    chunks = [
        source(1, "Paris is the capital of France."),
        source(2, "GPQA has 448 expert-written questions; the Diamond subset has 198."),
    ]
    checked = verify("The Diamond subset of GPQA has 198 questions.", chunks, vectors)
    assert checked.claims[0].supported and checked.claims[0].sources == [2]
    assert checked.answer == "The Diamond subset of GPQA has 198 questions. [2]"


def test_wrong_number_is_unsupported_with_the_number_as_reason(vectors):
    chunks = [source(1, "HumanEval has 164 hand-written Python problems.")]
    checked = verify("HumanEval has 200 hand-written Python problems [1].", chunks, vectors)
    claim = checked.claims[0]
    assert not claim.supported
    assert "200" in claim.reason


def test_citation_of_a_source_that_does_not_exist_is_removed_and_flagged(vectors):
    chunks = [source(1, "Llamas live in the Andes.")]
    checked = verify("Quantum computers factor integers quickly [7].", chunks, vectors)
    assert not checked.claims[0].supported
    assert "[7]" not in checked.answer


def test_sentence_that_states_nothing_is_left_alone(vectors):
    checked = verify("Here is what I found:", [source(1, "Anything.")], vectors)
    assert checked.claims[0].supported and checked.answer == "Here is what I found:"


def test_a_mark_citing_two_sources_is_one_citation_for_verifier_renderer_and_metrics(vectors):
    from rag.core import citations
    from rag.ui.render import cited_sources, link_citations

    chunks = [
        source(1, "QLoRA loads the base model in 4-bit NF4."),
        source(2, "LoRA adapters are trained in bf16."),
    ]
    answer = "QLoRA loads the base model in 4-bit NF4 [1, 2]."
    checked = verify(answer, chunks, vectors)
    assert checked.claims[0].supported and checked.claims[0].sources == [1, 2]
    assert checked.answer == answer  # cited validly: nothing to correct
    assert citations(answer) == [1, 2]
    assert cited_sources(answer, []) == {1, 2}
    linked = link_citations(answer, len(chunks))
    assert 'href="#source-1"' in linked and 'href="#source-2"' in linked


CONTRACTS = [
    source(1, "The Acme contract costs $2,500 per month.", "acme.md"),
    source(2, "The Birch contract costs $3,000 per month.", "birch.md"),
]
LINES = "- Acme: $2,500 per month. [1]\n- Birch: $3,000 per month. [2]\n"


def test_a_computed_line_is_held_by_its_arithmetic_not_by_a_quote(vectors):
    line = "Computed from the lines above (not a quote): average = ($2,500 + $3,000) / 2 = $2,750."

    checked = verify(LINES + line, CONTRACTS, vectors)

    assert [c.supported for c in checked.claims] == [True, True, True]
    assert checked.claims[2].sources == []  # it cites nothing: it quotes nothing
    assert checked.answer.endswith(line)


def test_a_computed_line_whose_arithmetic_is_wrong_is_flagged_with_the_right_figure(vectors):
    line = "Computed from the lines above (not a quote): total = $2,500 + $3,000 = $6,500."

    checked = verify(LINES + line, CONTRACTS, vectors)

    computed = checked.claims[2]
    assert not computed.supported and computed.verdict == "not_in_notes"
    assert "$5,500" in computed.reason
