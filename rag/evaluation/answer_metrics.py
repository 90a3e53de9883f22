"""What answer evaluation measures in one answer, from its text and the sources given with it.

Pure functions on strings, so that each can be checked on hand-made answers; the run over a
tests file is :mod:`rag.evaluation.answers`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence

from rag.answer.arithmetic import is_computed
from rag.core import (
    HEADING,
    citations,
    comparable,
    is_refusal,
    numbers,
    split_sentences,
    strip_citations,
)
from rag.core.answer_text import CITATION_MARK

# "1. " or "2) " opening a line: a list's numbering, not a number the answer claims.
_LIST_MARKER = re.compile(r"^\s*\d+[.)]\s+", re.M)
# A word, with its hyphens, apostrophes and decimal points; "1,200" is one word.
_WORD = re.compile(r"\w+(?:[-'’.]\w+|,\d{3})*")
_FIRST_CITATION = re.compile(CITATION_MARK)
# A list item's marker: "- ", "* ", "1. ".
_ITEM_MARKER = re.compile(r"^\s*(?:[-*+•]|\d{1,3}[.)])\s+")
#: A line of this many words or fewer says little alone (a name, a label, "Insurellm, Inc.").
SHORT_LINE_WORDS = 3


def keyword_recall(answer: str, keywords: Sequence[str]) -> tuple[float, list[str]]:
    """(share of ``keywords`` in ``answer``, ignoring case; the ones missing)."""
    text = answer.lower()
    missing = [keyword for keyword in keywords if keyword.lower() not in text]
    if not keywords:
        return 1.0, []
    return (len(keywords) - len(missing)) / len(keywords), missing


def lead(answer: str) -> str:
    """What a reader reads before the answer's first [n]: the sentence that should answer
    (the whole answer when it cites nothing)."""
    first = _FIRST_CITATION.search(answer)
    return answer[: first.start()] if first else answer


def lead_keyword_recall(answer: str, keywords: Sequence[str]) -> float:
    """Share of ``keywords`` in the answer up to its first [n] (:func:`lead`)."""
    return keyword_recall(lead(answer), keywords)[0]


def bare_lines(answer: str) -> list[str]:
    """Lines of the answer that say nothing alone: at most :data:`SHORT_LINE_WORDS` words
    (the [n] and a list marker not counted) with no figure ("Maxine Thompson:",
    "- Insurellm, Inc."), and lead-ins whose items don't follow ("RAG fixes this by:")."""
    lines = [strip_citations(line).strip() for line in answer.splitlines()]
    lines = [line for line in lines if line]
    bare = []
    for i, line in enumerate(lines):
        words = len(_WORD.findall(_ITEM_MARKER.sub("", line)))
        short = words <= SHORT_LINE_WORDS and not re.search(r"\d", line)
        followed = i + 1 < len(lines) and bool(_ITEM_MARKER.match(lines[i + 1]))
        if short or (line.endswith(":") and not followed):
            bare.append(line)
    return bare


def repeated_sentences(answer: str, previous: str) -> list[str]:
    """Sentences of ``answer`` that ``previous`` (the last answer) showed already: found in it
    whole, or holding one of its sentences whole (the same item under another label).
    Sentences of :data:`SHORT_LINE_WORDS` words or fewer are left out (:func:`bare_lines`)."""

    def sentences(text: str) -> list[tuple[str, str]]:
        return [
            (s.text, comparable(s.text))
            for s in split_sentences(strip_citations(text))
            if s.kind != HEADING and len(s.text.split()) > SHORT_LINE_WORDS
        ]

    earlier = comparable(previous)
    shown = [text for _, text in sentences(previous)]
    repeated = []
    for sentence, text in sentences(answer):
        if text in earlier or any(old in text for old in shown):
            repeated.append(sentence)
    return repeated


def invalid_citations(answer: str, given: Iterable[int]) -> list[int]:
    """Cited numbers that name no source given with the answer."""
    valid = set(given)
    return [n for n in citations(answer) if n not in valid]


def unsupported_numbers(answer: str, sources: Sequence[str]) -> list[str]:
    """Numbers of ``answer`` that occur in none of ``sources`` (citations and list numbering
    are not claims, and a line computed from the lines above quotes nothing: they are left
    out)."""
    quoted = "\n".join(line for line in answer.splitlines() if not is_computed(line))
    claimed = numbers(_LIST_MARKER.sub("", strip_citations(quoted)))
    known = {number for source in sources for number in numbers(source)}
    return [number for number in claimed if number not in known]


def says_not_covered(answer: str) -> bool:
    """Whether the answer says the notes don't answer the question."""
    return is_refusal(answer)


def word_count(answer: str) -> int:
    """Words a reader reads: the citations are not counted."""
    return len(_WORD.findall(strip_citations(answer)))


def median(values: Sequence[float]) -> float | None:
    ordered = sorted(values)
    if not ordered:
        return None
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def p95(values: Sequence[float]) -> float | None:
    """The 95th percentile, nearest rank (with 20 values: the 19th smallest)."""
    ordered = sorted(values)
    if not ordered:
        return None
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]
