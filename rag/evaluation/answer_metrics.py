"""What answer evaluation measures in one answer, from its text and the sources given with it.

Pure functions on strings, so that each can be checked on hand-made answers; the run over a
tests file is :mod:`rag.evaluation.answers`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence

from rag.core import citations, is_refusal, numbers, strip_citations

# "1. " or "2) " opening a line: a list's numbering, not a number the answer claims.
_LIST_MARKER = re.compile(r"^\s*\d+[.)]\s+", re.M)
# A word, with its hyphens, apostrophes and decimal points; "1,200" is one word.
_WORD = re.compile(r"\w+(?:[-'’.]\w+|,\d{3})*")


def keyword_recall(answer: str, keywords: Sequence[str]) -> tuple[float, list[str]]:
    """(share of ``keywords`` in ``answer``, ignoring case; the ones missing)."""
    text = answer.lower()
    missing = [keyword for keyword in keywords if keyword.lower() not in text]
    if not keywords:
        return 1.0, []
    return (len(keywords) - len(missing)) / len(keywords), missing


def invalid_citations(answer: str, given: Iterable[int]) -> list[int]:
    """Cited numbers that name no source given with the answer."""
    valid = set(given)
    return [n for n in citations(answer) if n not in valid]


def unsupported_numbers(answer: str, sources: Sequence[str]) -> list[str]:
    """Numbers of ``answer`` that occur in none of ``sources`` (citations and list numbering
    are not claims, so they are left out)."""
    claimed = numbers(_LIST_MARKER.sub("", strip_citations(answer)))
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
