"""What answer evaluation reports: each answer's scores, their totals by category, the table.

The run that produces the scores is :mod:`rag.evaluation.answers`; what is measured in one answer is
:mod:`rag.evaluation.answer_metrics`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rag.evaluation.answer_metrics import median, p95
from rag.evaluation.cases import per_category

if TYPE_CHECKING:
    from rag.evaluation.cases import EvalCase
    from rag.evaluation.judge import Judgement


@dataclass
class AnswerScore:
    """One question's answer and what was measured in it."""

    case: EvalCase
    answer: str
    #: Share of the keywords in the answer; None for an unanswerable question.
    keyword_recall: float | None
    missing: list[str]
    #: Share of the keywords in the answer up to its first [n]; None for an unanswerable question.
    lead_keyword_recall: float | None
    #: Lines that say nothing alone (a bare name, a label, a lead-in without its items).
    bare_lines: list[str]
    #: Every [n] of the answer, and those naming no source given with it.
    citations: list[int]
    invalid_citations: list[int]
    #: Sentences the verifier checked, and how many of them the cited sources hold.
    claims: int
    supported: int
    unsupported_numbers: list[str]
    #: The app said the notes don't cover the question.
    refused: bool
    not_found: bool
    words: int
    first_text_s: float
    total_s: float
    model: str
    judgement: Judgement | None = None
    #: The judge's reply as it came (None when the answer was not sent to a judge).
    judge_reply: str | None = None

    @property
    def wrong_about_coverage(self) -> bool:
        """Refused an answerable question, or answered one the notes don't cover."""
        return self.refused == self.case.answerable

    @property
    def cited(self) -> bool:
        """At least one [n] that names a given source."""
        return len(self.citations) > len(self.invalid_citations)

    def as_dict(self) -> dict[str, Any]:
        return {
            "question": self.case.question,
            "category": self.case.category,
            "answerable": self.case.answerable,
            "answer": self.answer,
            "keyword_recall": _round(self.keyword_recall),
            "missing": self.missing,
            "lead_keyword_recall": _round(self.lead_keyword_recall),
            "bare_lines": self.bare_lines,
            "citations": self.citations,
            "invalid_citations": self.invalid_citations,
            "claims": self.claims,
            "supported": self.supported,
            "unsupported_numbers": self.unsupported_numbers,
            "refused": self.refused,
            "not_found": self.not_found,
            "words": self.words,
            "first_text_s": round(self.first_text_s, 3),
            "total_s": round(self.total_s, 3),
            "judgement": self.judgement.as_dict() if self.judgement else None,
            # What an unjudged answer's judge wrote instead of scores.
            "judge_reply": self.judge_reply if self.judgement is None else None,
        }


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


@dataclass
class AnswerTotals:
    """The figures of a group of answers; a share is None when nothing counts towards it."""

    n: int
    answerable: int
    keyword_recall: float | None
    #: The same up to each answer's first [n]: what the sentence that leads gives.
    lead_keyword_recall: float | None
    #: Lines that say nothing alone, in all answers.
    bare_lines: int
    #: Valid [n] among all [n] written.
    valid_citations: float | None
    #: Answers to answerable questions with at least one valid [n].
    cited: float | None
    #: Sentences the verifier found supported, among all it checked.
    supported: float | None
    unsupported_numbers: int
    #: Answers holding at least one number found in no source.
    answers_with_unsupported_numbers: int
    #: Unanswerable questions the app said the notes don't cover, and how many there were.
    refused_unanswerable: int
    unanswerable: int
    false_refusals: int
    median_words: float | None
    first_text_median_s: float | None
    first_text_p95_s: float | None
    total_median_s: float | None
    total_p95_s: float | None
    #: Mean judge scores over the judged answers; ``judged`` + ``unjudged`` = answers sent.
    judge_scores: dict[str, float | None] = field(default_factory=dict)
    judged: int = 0
    unjudged: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            name: _round(value, 4) if isinstance(value, float) else value
            for name, value in vars(self).items()
            if name != "judge_scores"
        } | {"judge_scores": {name: _round(value) for name, value in self.judge_scores.items()}}


def answer_totals(scores: Sequence[AnswerScore]) -> AnswerTotals:
    answerable = [s for s in scores if s.case.answerable]
    unanswerable = [s for s in scores if not s.case.answerable]
    written = sum(len(s.citations) for s in scores)
    invalid = sum(len(s.invalid_citations) for s in scores)
    judged = [s.judgement for s in scores if s.judgement is not None]
    sent = [s for s in scores if s.judge_reply is not None]
    first = [s.first_text_s for s in scores]
    total = [s.total_s for s in scores]
    return AnswerTotals(
        n=len(scores),
        answerable=len(answerable),
        keyword_recall=_mean([s.keyword_recall or 0.0 for s in answerable]),
        lead_keyword_recall=_mean([s.lead_keyword_recall or 0.0 for s in answerable]),
        bare_lines=sum(len(s.bare_lines) for s in scores),
        valid_citations=_share(written - invalid, written),
        cited=_share(sum(s.cited for s in answerable), len(answerable)),
        supported=_share(sum(s.supported for s in scores), sum(s.claims for s in scores)),
        unsupported_numbers=sum(len(s.unsupported_numbers) for s in scores),
        answers_with_unsupported_numbers=sum(bool(s.unsupported_numbers) for s in scores),
        refused_unanswerable=sum(s.refused for s in unanswerable),
        unanswerable=len(unanswerable),
        false_refusals=sum(s.refused for s in answerable),
        median_words=median([s.words for s in answerable]),
        first_text_median_s=median(first),
        first_text_p95_s=p95(first),
        total_median_s=median(total),
        total_p95_s=p95(total),
        judge_scores={
            name: _mean([getattr(j, name) for j in judged])
            for name in ("accuracy", "completeness", "relevance")
        }
        if sent
        else {},
        judged=len(judged),
        unjudged=len(sent) - len(judged),
    )


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.0f}%"


def _seconds(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def _judge_score(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


HEADERS = [
    "category",
    "n",
    "keywords",
    "lead keywords",
    "bare lines",
    "valid [n]",
    "cited",
    "supported",
    "bad numbers",
    "refused (unanswerable)",
    "false refusals",
    "median words",
    "first text s (median/p95)",
    "total s (median/p95)",
]
JUDGE_HEADERS = ["accuracy", "completeness", "relevance", "unjudged"]


def _row(name: str, t: AnswerTotals, judged: bool) -> list[Any]:
    row = [
        name,
        t.n,
        _percent(t.keyword_recall),
        _percent(t.lead_keyword_recall),
        t.bare_lines,
        _percent(t.valid_citations),
        _percent(t.cited),
        _percent(t.supported),
        t.unsupported_numbers,
        f"{t.refused_unanswerable}/{t.unanswerable}" if t.unanswerable else "–",
        t.false_refusals,
        "–" if t.median_words is None else f"{t.median_words:.0f}",
        f"{_seconds(t.first_text_median_s)} / {_seconds(t.first_text_p95_s)}",
        f"{_seconds(t.total_median_s)} / {_seconds(t.total_p95_s)}",
    ]
    if judged:
        row += [*(_judge_score(t.judge_scores.get(name)) for name in JUDGE_HEADERS[:3]), t.unjudged]
    return row


@dataclass
class AnswerEvalResult:
    scores: list[AnswerScore]
    model: str
    judge: str | None = None

    @property
    def totals(self) -> AnswerTotals:
        return answer_totals(self.scores)

    def by_category(self) -> dict[str, AnswerTotals]:
        return per_category(self.scores, answer_totals)

    def headers(self) -> list[str]:
        return HEADERS + (JUDGE_HEADERS if self.judge else [])

    def rows(self) -> list[list[Any]]:
        """One row a category, then the total; the columns of :meth:`headers`."""
        judged = self.judge is not None
        rows = [_row(name, t, judged) for name, t in self.by_category().items()]
        return [*rows, _row("total", self.totals, judged)]

    def table(self) -> str:
        rows = [self.headers(), *self.rows()]
        widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
        lines = ["  ".join(f"{v!s:<{w}}" for v, w in zip(row, widths, strict=True)) for row in rows]
        rule = "-" * len(lines[0])
        return "\n".join([lines[0], rule, *lines[1:-1], rule, lines[-1]])

    def weakest(self, limit: int = 10) -> list[AnswerScore]:
        """Answers that went wrong: a wrong refusal or answer, bad numbers or citations, missed
        keywords; the worst first."""

        def badness(s: AnswerScore) -> tuple:
            return (
                not s.wrong_about_coverage,
                -len(s.unsupported_numbers) - len(s.invalid_citations),
                s.keyword_recall if s.keyword_recall is not None else 1.0,
            )

        weak = [
            s
            for s in self.scores
            if s.wrong_about_coverage
            or s.unsupported_numbers
            or s.invalid_citations
            or (s.keyword_recall is not None and s.keyword_recall < 1.0)
            or s.bare_lines
        ]
        return sorted(weak, key=badness)[:limit]

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "judge": self.judge,
            **self.totals.as_dict(),
            "by_category": {name: t.as_dict() for name, t in self.by_category().items()},
            "questions": [s.as_dict() for s in self.scores],
        }
