"""An answer checked sentence by sentence against the sources it was given, its citations
completed and corrected.

Each sentence that states something is checked by :class:`~rag.answer.checker.ClaimChecker`:
supported (by a unit of a source it cites, or of another source, which it is then cited to),
contradicted (a unit about the same thing says otherwise), or not in the notes. A sentence
without [n] that a source supports gets that [n]; one whose cited source does not hold it but
another does is cited to that one. Sentences that state nothing ("Here is what the notes
say:") are left alone. A line computed from the lines above (:mod:`rag.answer.arithmetic`)
quotes nothing: its arithmetic is what is checked, against the cited lines above it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rag.answer.arithmetic import ComputedCheck, check_computed, is_computed
from rag.answer.checker import ClaimChecker
from rag.answer.checker.verdicts import Embed
from rag.core import (
    HEADING,
    NOT_IN_NOTES,
    Claim,
    Passage,
    citations,
    cite,
    is_refusal,
    numbers,
    search_terms,
    split_sentences,
    strip_citations,
)

#: A sentence with fewer key terms than this and no number states nothing to check.
MIN_CLAIM_TERMS = 2


def is_claim(text: str) -> bool:
    """Whether a sentence states something to check (not "Here is what I found:")."""
    if is_refusal(text) or text.rstrip().endswith(":"):
        return False  # "The notes don't say." / a lead-in to a list
    return bool(numbers(text)) or len(set(search_terms(text))) >= MIN_CLAIM_TERMS


@dataclass(frozen=True)
class CheckedAnswer:
    """The answer with its citations completed or corrected, and a claim per sentence."""

    answer: str
    claims: list[Claim]


def _cited(raw: str, count: int) -> tuple[list[int], list[int]]:
    """(valid, invalid) source numbers cited in a sentence, in order, once each."""
    numbers_cited = list(dict.fromkeys(citations(raw)))
    return [n for n in numbers_cited if 1 <= n <= count], [
        n for n in numbers_cited if not 1 <= n <= count
    ]


def _computed_claim(text: str, checks: dict[str, ComputedCheck]) -> Claim:
    """The claim of a computed line: held when its arithmetic holds; it cites nothing."""
    check = checks.get(text)
    if check is not None and check.holds:
        return Claim(text, [], True, "")
    reason = check.reason if check is not None else "its working can't be read"
    return Claim(text, [], False, f"the arithmetic does not hold: {reason}", NOT_IN_NOTES)


def verify(answer: str, chunks: Sequence[Passage], embed: Embed) -> CheckedAnswer:
    """Check every sentence of ``answer`` against ``chunks`` (see the module doc)."""
    sentences = [s for s in split_sentences(answer, lower_case_starts=True) if s.kind != HEADING]
    if not sentences:
        return CheckedAnswer(answer, [])
    checker = ClaimChecker(chunks, embed)
    computed = {strip_citations(c.line).strip(): c for c in check_computed(answer)}
    texts = [strip_citations(s.text).strip() for s in sentences]
    vectors = np.asarray(embed(texts))
    claims: list[Claim] = []
    edits: list[tuple[int, int, str]] = []
    for sentence, text, vector in zip(sentences, texts, vectors, strict=True):
        raw = answer[sentence.start : sentence.end]
        cited, invalid = _cited(raw, len(chunks))
        if is_computed(text):
            claims.append(_computed_claim(text, computed))
            continue
        if not is_claim(text):
            claims.append(Claim(text, cited, True, ""))
            continue
        claim = checker.check(text, cited, vector)
        if invalid and claim.verdict == NOT_IN_NOTES:
            claim.reason = f"it cites [{invalid[0]}], which is not a source"
        claims.append(claim)
        if (claim.supported and claim.sources != cited) or invalid:
            bare = strip_citations(raw).rstrip()
            marks = cite(claim.sources) if claim.supported else ""
            edits.append((sentence.start, sentence.end, f"{bare} {marks}".rstrip()))
    for start, end, replacement in reversed(edits):
        answer = answer[:start] + replacement + answer[end:]
    return CheckedAnswer(answer, claims)
