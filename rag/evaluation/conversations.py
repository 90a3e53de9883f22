"""Conversations evaluated: does a follow-up get an answer of its own?

``python -m rag eval --answers --conversations FILE --docs DIR`` asks each conversation's turns
in order through the chat's own answer path, each with the conversation before it as history
(the questions and the answers given, as the chat sends them), and scores every answer as
answer evaluation does (:func:`rag.evaluation.answers.score_answer`: keyword recall, lead
keyword recall, bare lines, words, time), plus what only a conversation shows: the sentences
of an answer that the last answer showed already (:func:`repeated_sentences`). A follow-up
that gets the same sentences again has not moved on.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rag.evaluation.answer_metrics import repeated_sentences
from rag.evaluation.answer_report import AnswerScore, AnswerTotals, answer_totals
from rag.evaluation.answers import answer_timed, score_answer
from rag.evaluation.cases import load_conversations
from rag.evaluation.folder_store import run_from_cli, run_on_folder

if TYPE_CHECKING:
    from rag.app import RagService
    from rag.evaluation.cases import Conversation
    from rag.evaluation.folder_store import FolderRun, FractionProgress, QuestionProgress
    from rag.settings import Settings

# Share of a folder evaluation's progress bar given to ingestion (answers take the rest).
_INGEST_SHARE = 0.2


@dataclass
class TurnScore:
    """One turn's answer, scored, and the sentences it repeats from the turn before."""

    conversation: str
    #: 1 for the opening question, 2 and on for follow-ups.
    turn: int
    score: AnswerScore
    repeated: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {
            "conversation": self.conversation,
            "turn": self.turn,
            "repeated": self.repeated,
            **self.score.as_dict(),
        }


@dataclass
class TurnTotals:
    """A group of turns: the answer figures, and the repeated sentences."""

    answers: AnswerTotals
    repeated_sentences: int
    #: Answers repeating at least one sentence of the answer before.
    answers_repeating: int

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.answers.as_dict(),
            "repeated_sentences": self.repeated_sentences,
            "answers_repeating": self.answers_repeating,
        }


def turn_totals(turns: Sequence[TurnScore]) -> TurnTotals:
    return TurnTotals(
        answer_totals([t.score for t in turns]),
        sum(len(t.repeated) for t in turns),
        sum(bool(t.repeated) for t in turns),
    )


HEADERS = [
    "turns",
    "n",
    "keywords",
    "lead keywords",
    "bare lines",
    "repeated sentences (answers)",
    "false refusals",
    "median words",
    "first text s (median)",
]


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.0f}%"


@dataclass
class ConversationEvalResult:
    turns: list[TurnScore]
    model: str

    def groups(self) -> dict[str, TurnTotals]:
        """Each turn number's totals, then the follow-ups' (every turn after the first)."""
        numbers = sorted({t.turn for t in self.turns})
        groups = {f"turn {n}": [t for t in self.turns if t.turn == n] for n in numbers}
        groups["follow-ups"] = [t for t in self.turns if t.turn > 1]
        return {name: turn_totals(group) for name, group in groups.items() if group}

    @property
    def follow_ups(self) -> TurnTotals:
        return turn_totals([t for t in self.turns if t.turn > 1])

    def rows(self) -> list[list[Any]]:
        rows = []
        for name, totals in self.groups().items():
            t = totals.answers
            rows.append(
                [
                    name,
                    t.n,
                    _percent(t.keyword_recall),
                    _percent(t.lead_keyword_recall),
                    t.bare_lines,
                    f"{totals.repeated_sentences} ({totals.answers_repeating})",
                    t.false_refusals,
                    "–" if t.median_words is None else f"{t.median_words:.0f}",
                    "–" if t.first_text_median_s is None else f"{t.first_text_median_s:.2f}",
                ]
            )
        return rows

    def table(self) -> str:
        rows = [HEADERS, *self.rows()]
        widths = [max(len(str(row[i])) for row in rows) for i in range(len(HEADERS))]
        lines = ["  ".join(f"{v!s:<{w}}" for v, w in zip(row, widths, strict=True)) for row in rows]
        return "\n".join([lines[0], "-" * len(lines[0]), *lines[1:]])

    def weakest(self, limit: int = 5) -> list[TurnScore]:
        """Follow-ups that repeat the last answer or miss keywords, the worst first."""
        weak = [
            t
            for t in self.turns
            if t.turn > 1 and (t.repeated or (t.score.keyword_recall or 0.0) < 1.0)
        ]
        return sorted(weak, key=lambda t: (-len(t.repeated), t.score.keyword_recall or 0.0))[:limit]

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            **{name: t.as_dict() for name, t in self.groups().items()},
            "turns": [t.as_dict() for t in self.turns],
        }


def evaluate_conversations(
    service: RagService,
    conversations: Sequence[Conversation],
    *,
    model: str | None = None,
    progress: QuestionProgress | None = None,
) -> ConversationEvalResult:
    """Each conversation's turns asked in order, each with the conversation before it."""
    name = service.load_model(model)  # loaded before the clock starts, as in the chat
    scores = []
    total = sum(len(c.turns) for c in conversations)
    done = 0
    for conversation in conversations:
        history: list[dict[str, str]] = []
        previous = ""
        for number, case in enumerate(conversation.turns, start=1):
            finished, first, seconds = answer_timed(service, case.question, model, history)
            # Saying again that the notes don't cover it repeats nothing they say.
            said = previous and not finished.not_found
            repeated = repeated_sentences(finished.answer, previous) if said else []
            score = score_answer(case, finished, first, seconds)
            scores.append(TurnScore(conversation.id, number, score, repeated))
            history += [
                {"role": "user", "content": case.question},
                {"role": "assistant", "content": finished.answer},
            ]
            previous = "" if finished.not_found else finished.answer
            done += 1
            if progress:
                progress(done, total, case.question)
    return ConversationEvalResult(scores, name)


def run_cli(args: Any, settings: Settings) -> int:
    """``python -m rag eval --answers --conversations FILE --docs DIR [--db DIR] [--model NAME]
    [--limit N] [--json]``: ``--limit`` counts conversations."""

    def answer(
        conversations: list[Conversation], progress: FractionProgress
    ) -> FolderRun[ConversationEvalResult]:
        return run_on_folder(
            settings,
            args.docs,
            lambda service, questions: evaluate_conversations(
                service, conversations, model=args.model, progress=questions
            ),
            db_dir=args.db,
            progress=progress,
            ingest_share=_INGEST_SHARE,
        )

    ran = run_from_cli(args, answer, load=lambda: load_conversations(args.conversations))
    if ran is None:
        return 2
    conversations, run = ran
    result = run.result
    print(
        f"Ingested {args.docs} into {run.store} in {run.ingest_seconds:.1f} s: "
        f"{run.report.summary()}"
    )
    print(
        f"{len(conversations)} conversations ({len(result.turns)} turns) from "
        f"{args.conversations} answered by {result.model} ({run.eval_seconds:.1f} s)\n"
    )
    print(result.table())
    weak = result.weakest()
    if weak:
        print("\nWeakest follow-ups:")
        for t in weak:
            notes = []
            if t.score.missing:
                notes.append(f"missing {', '.join(t.score.missing)}")
            if t.repeated:
                notes.append(f"repeats {len(t.repeated)} sentence(s) of the last answer")
            print(
                f"  {t.conversation} turn {t.turn}: {t.score.case.question}\n    {'; '.join(notes)}"
            )
    if args.json:
        print(json.dumps(result.as_dict(), ensure_ascii=False))
    return 0
