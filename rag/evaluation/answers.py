"""Answer evaluation: each question of a tests file through the chat's own answer path, scored.

``python -m rag eval --answers`` (:func:`run_cli`), the Evaluate tab and
``benchmarks/bench_answers.py`` run every question of a tests file (the course's format, read
by :func:`rag.evaluation.cases.load_tests`) through :meth:`RagService.answer_stream`, the code the
chat runs, and score what a reader gets (:mod:`rag.evaluation.answer_metrics`):

- **keyword recall**: share of the question's keywords found in the answer, ignoring case
  (answerable questions; a refusal scores 0); **lead keyword recall**: the same in the answer
  up to its first [n], what a reader gets from the sentence that leads;
- **bare lines**: lines that say nothing alone (a name, a label, a lead-in without its items);
- **citations**: every [n] must name a source given with the answer (valid-citation share),
  and an answer to an answerable question should cite at least one (cited share);
- **supported sentences**: share of the answer's sentences that the verifier found held by
  the sources they cite (``Finished.claims``);
- **unsupported numbers**: numbers in an answer found in none of its sources;
- **refusals**: for ``"answerable": false`` questions, whether the app said the notes don't
  cover it (``Finished.not_found``, or the text says so); for the others, false refusals;
- **time** to the first answer text and to the end, as the user waits for them (the model is
  loaded before the first question, as the chat's would be);
- with a judge model (:mod:`rag.evaluation.judge`), the course's LLM-as-judge scores from 1 to 5.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.evaluation.answer_metrics import (
    bare_lines,
    citations,
    invalid_citations,
    keyword_recall,
    lead_keyword_recall,
    says_not_covered,
    unsupported_numbers,
    word_count,
)
from rag.evaluation.answer_report import AnswerEvalResult, AnswerScore
from rag.evaluation.folder_store import run_from_cli, run_on_folder

if TYPE_CHECKING:
    from rag.app import Finished, RagService
    from rag.embedding import Embedder
    from rag.evaluation.cases import EvalCase
    from rag.evaluation.folder_store import FolderRun, FractionProgress, QuestionProgress
    from rag.evaluation.judge import AnswerJudge
    from rag.llms import Message
    from rag.settings import Settings

# Share of a folder evaluation's progress bar given to ingestion (answers take the rest).
_INGEST_SHARE = 0.2


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
        lead_keyword_recall=lead_keyword_recall(answer, case.keywords) if case.answerable else None,
        bare_lines=bare_lines(answer),
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
    service: RagService,
    question: str,
    model: str | None = None,
    history: Sequence[Message] = (),
) -> tuple[Finished, float, float]:
    """(the chat's answer, seconds to its first text, seconds to its end); ``history``: the
    conversation before the question, as the chat sends it."""
    from rag.app import Finished, Token

    started = time.perf_counter()
    first = finished = None
    for event in service.answer_stream(question, history, model=model):
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
    name = service.load_model(model)  # loaded before the clock starts, as in the chat
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
    return AnswerEvalResult(scores, name, judge.name if judge else None)


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
        if s.bare_lines:
            notes.append(f"lines that say nothing alone: {' / '.join(s.bare_lines)}")
        if s.unsupported_numbers:
            notes.append(f"numbers in no source: {', '.join(s.unsupported_numbers)}")
        if s.invalid_citations:
            notes.append(f"cites missing sources {s.invalid_citations}")
        print(f"  {s.case.question}\n    {'; '.join(notes)}")


def run_cli(args: Any, settings: Settings) -> int:
    """``python -m rag eval --answers --docs DIR --tests FILE.jsonl [--db DIR] [--model NAME]
    [--judge NAME] [--limit N] [--json]``."""
    from rag.llms import create_chat_model

    judge: AnswerJudge | None = None

    def answer(tests: list[EvalCase], progress: FractionProgress) -> FolderRun[AnswerEvalResult]:
        nonlocal judge
        if args.judge:  # once the questions are read: a wrong tests file costs no model load
            from rag.evaluation.judge import AnswerJudge

            judge = AnswerJudge(create_chat_model(args.judge, settings))
        return evaluate_answers_folder(
            settings,
            args.docs,
            tests,
            model=args.model,
            judge=judge,
            db_dir=args.db,
            progress=progress,
        )

    ran = run_from_cli(args, answer)
    if ran is None:
        return 2
    tests, run = ran
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
