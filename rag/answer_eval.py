"""Answer evaluation: each question of a tests file through the chat's own answer path, scored.

``python -m rag eval --answers`` (:func:`run_cli`), the Evaluate tab and
``benchmarks/bench_answers.py`` run every question of a tests file (the course's format, read
by :func:`rag.evaluation.load_tests`) through :meth:`RagService.answer_stream`, the code the
chat runs, and score what a reader gets (:mod:`rag.answer_metrics`):

- **keyword recall**: share of the question's keywords found in the answer, ignoring case
  (answerable questions; a refusal scores 0);
- **citations**: every [n] must name a source given with the answer (valid-citation share),
  and an answer to an answerable question should cite at least one (cited share);
- **supported sentences**: share of the answer's sentences that the verifier found held by
  the sources they cite (``Finished.claims``);
- **unsupported numbers**: numbers in an answer found in none of its sources;
- **refusals**: for ``"answerable": false`` questions, whether the app said the notes don't
  cover it (``Finished.not_found``, or the text says so); for the others, false refusals;
- **time** to the first answer text and to the end, as the user waits for them (the model is
  loaded before the first question, as the chat's would be);
- with a judge model (:mod:`rag.judge`), the course's LLM-as-judge scores from 1 to 5.
"""

from __future__ import annotations

import json
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.answer_metrics import (
    citations,
    invalid_citations,
    keyword_recall,
    median,
    p95,
    says_not_covered,
    unsupported_numbers,
    word_count,
)
from rag.eval_folder import (
    FolderRun,
    FractionProgress,
    QuestionProgress,
    cli_progress,
    run_on_folder,
)
from rag.evaluation import EvalCase, EvalFileError, cli_tests

if TYPE_CHECKING:
    from rag.embeddings import Embedder
    from rag.judge import AnswerJudge, Judgement
    from rag.service import Finished, RagService
    from rag.settings import Settings

# Share of a folder evaluation's progress bar given to ingestion (answers take the rest).
_INGEST_SHARE = 0.2


@dataclass
class AnswerScore:
    """One question's answer and what was measured in it."""

    case: EvalCase
    answer: str
    #: Share of the keywords in the answer; None for an unanswerable question.
    keyword_recall: float | None
    missing: list[str]
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
        groups: dict[str, list[AnswerScore]] = defaultdict(list)
        for score in self.scores:
            groups[score.case.category].append(score)
        return {name: answer_totals(group) for name, group in sorted(groups.items())}

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


# --- running ------------------------------------------------------------------------------------
def score_answer(
    case: EvalCase, finished: Finished, first_text_s: float, total_s: float
) -> AnswerScore:
    """What :func:`evaluate_answers` measures in one answer (``Finished`` of the chat's path)."""
    answer = finished.answer
    not_found = finished.not_found
    claims = finished.claims
    recall, missing = keyword_recall(answer, case.keywords) if case.answerable else (None, [])
    return AnswerScore(
        case=case,
        answer=answer,
        keyword_recall=recall,
        missing=missing,
        citations=citations(answer),
        invalid_citations=invalid_citations(answer, [c.n for c in finished.chunks]),
        claims=len(claims),
        supported=sum(1 for claim in claims if claim.supported),
        unsupported_numbers=unsupported_numbers(answer, [c.text for c in finished.chunks]),
        refused=not_found or says_not_covered(answer),
        not_found=not_found,
        words=word_count(answer),
        first_text_s=first_text_s,
        total_s=total_s,
        model=finished.model,
    )


def answer_timed(
    service: RagService, question: str, model: str | None = None
) -> tuple[Finished, float, float]:
    """(the chat's answer, seconds to its first text, seconds to its end)."""
    from rag.service import Finished, Token

    started = time.perf_counter()
    first = finished = None
    for event in service.answer_stream(question, model=model):
        if isinstance(event, Token) and first is None and event.text.strip():
            first = time.perf_counter()
        elif isinstance(event, Finished):
            finished = event
    done = time.perf_counter()
    assert finished is not None, "answer_stream ends with Finished"
    return finished, (first or done) - started, done - started


def evaluate_answers(
    service: RagService,
    tests: Sequence[EvalCase],
    *,
    model: str | None = None,
    judge: AnswerJudge | None = None,
    progress: QuestionProgress | None = None,
) -> AnswerEvalResult:
    """Each question answered by ``service.answer_stream`` (with ``model``, default the
    configured one), scored, and judged when a ``judge`` is given."""
    chat_model = service.chat_model(model)  # loaded before the clock starts, as in the chat
    scores = []
    for done, case in enumerate(tests, start=1):
        finished, first, total = answer_timed(service, case.question, model)
        score = score_answer(case, finished, first, total)
        if judge is not None and case.reference_answer:
            score.judgement, score.judge_reply = judge.judge(
                case.question, finished.answer, case.reference_answer
            )
        scores.append(score)
        if progress:
            progress(done, len(tests), case.question)
    return AnswerEvalResult(scores, chat_model.name, judge.name if judge else None)


def evaluate_answers_folder(
    settings: Settings,
    docs: Path | str,
    tests: Sequence[EvalCase],
    *,
    embedder: Embedder | None = None,
    model: str | None = None,
    judge: AnswerJudge | None = None,
    db_dir: Path | str | None = None,
    progress: FractionProgress | None = None,
) -> FolderRun[AnswerEvalResult]:
    """Ingest ``docs`` into a store of its own, then :func:`evaluate_answers` on it."""
    return run_on_folder(
        settings,
        docs,
        lambda service, questions: evaluate_answers(
            service, tests, model=model, judge=judge, progress=questions
        ),
        embedder=embedder,
        db_dir=db_dir,
        progress=progress,
        ingest_share=_INGEST_SHARE,
    )


def _print_weakest(result: AnswerEvalResult) -> None:
    weak = result.weakest(5)
    if not weak:
        return
    print("\nWeakest answers:")
    for s in weak:
        notes = []
        if s.wrong_about_coverage:
            notes.append("refused an answerable question" if s.refused else "answered anyway")
        if s.missing:
            notes.append(f"missing {', '.join(s.missing)}")
        if s.unsupported_numbers:
            notes.append(f"numbers in no source: {', '.join(s.unsupported_numbers)}")
        if s.invalid_citations:
            notes.append(f"cites missing sources {s.invalid_citations}")
        print(f"  {s.case.question}\n    {'; '.join(notes)}")


def run_cli(args: Any, settings: Settings) -> int:
    """``python -m rag eval --answers --docs DIR --tests FILE.jsonl [--db DIR] [--model NAME]
    [--judge NAME] [--limit N] [--json]``."""
    from rag.llms import create_chat_model

    try:
        tests = cli_tests(args)
    except EvalFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    judge = None
    if args.judge:
        from rag.judge import AnswerJudge

        judge = AnswerJudge(create_chat_model(args.judge, settings))
    run = evaluate_answers_folder(
        settings,
        args.docs,
        tests,
        model=args.model,
        judge=judge,
        db_dir=args.db,
        progress=cli_progress(),
    )
    if sys.stderr.isatty():
        sys.stderr.write("\n")
    for failure in run.report.failures:
        print(f"warning: not ingested: {failure.reason}", file=sys.stderr)
    result = run.result
    print(
        f"Ingested {args.docs} into {run.store} in {run.ingest_seconds:.1f} s: "
        f"{run.report.summary()}"
    )
    print(
        f"{len(tests)} questions from {args.tests} answered by {result.model} "
        f"({run.eval_seconds:.1f} s)\n"
    )
    print(result.table())
    totals = result.totals
    if judge is not None and totals.unjudged:
        first = next(s.judge_reply for s in result.scores if s.judge_reply and not s.judgement)
        print(
            f"\n{totals.unjudged} of {totals.judged + totals.unjudged} answers unjudged: "
            f"{judge.name} gave no three scores from 1 to 5 (e.g. {first[:200]!r})."
        )
    _print_weakest(result)
    if args.json:
        print(json.dumps(result.as_dict(), ensure_ascii=False))
    return 0
