"""Answers made of the notes' own sentences: no language model, so nothing can be invented.

What the question asks for is read first (:mod:`rag.answer.asks`), the sentences of the
retrieved passages are scored against it (:mod:`rag.answer.scoring`), the one that answers
leads and what completes it follows (:mod:`rag.answer.selection`), and each line is written
so that it reads alone, with the [n] of its passage (:mod:`rag.answer.composition`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from rag.answer.arithmetic import check_computed, computed_line
from rag.answer.asks import MONEY, Asks, read_question
from rag.answer.composition import claims_of, format_answer
from rag.answer.lines import Line
from rag.answer.scoring import Scored, candidates, score_candidates
from rag.answer.selection import select
from rag.core import Claim, Passage

__all__ = [
    "Extractive",
    "Line",
    "Scored",
    "answer_from",
    "candidates",
    "extract_answer",
    "format_answer",
    "read_question",
    "score_candidates",
    "select",
]


@dataclass
class Extractive:
    """An extractive answer: its text, its lines and each sentence as a claim."""

    text: str
    lines: list[Line] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)


def extract_answer(
    question: str | Asks, chunks: Sequence[Passage], embed, *, shown: str = ""
) -> Extractive:
    """The answer to ``question`` from the sentences of ``chunks``; ``embed``: texts ->
    normalised vectors; ``shown``: the last answer of the conversation."""
    scored = score_candidates(question, candidates(chunks), embed)
    return answer_from(scored, shown=shown)


def answer_from(scored: Scored, *, shown: str = "") -> Extractive:
    """The answer from sentences scored already (the service scores them once, for the
    not-found floor and the answer). A question computing over all of something (an
    average, a total, a count) gets, after a line for each document, a line computing it from
    them, marked so, when every figure is on a line above and its arithmetic holds."""
    lines = select(scored, shown=shown)
    text = format_answer(lines)
    claims = claims_of(lines)
    asks = scored.asks
    if asks is not None and asks.operation and lines:
        computed = computed_line(text.splitlines(), asks.operation, money=asks.unit == MONEY)
        if computed and all(check.holds for check in check_computed(f"{text}\n{computed}")):
            text = f"{text}\n{computed}"
            cited = sorted({line.n for line in lines})
            claims.append(Claim(computed, cited, True, "", evidence=[]))
    return Extractive(text, lines, claims)
