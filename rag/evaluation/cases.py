"""The tests files of both evaluations, in the LLM-engineering course's format.

A tests file is JSON lines, one question per line::

    {"question": "...", "keywords": ["...", "..."], "reference_answer": "...", "category": "..."}

A question the documents don't answer is marked ``"answerable": false`` (its keywords may then
be left out): retrieval scoring (:mod:`rag.evaluation.retrieval`) skips it, answer evaluation
(:mod:`rag.evaluation.answers`) checks that the app says the notes don't cover it.

A question whose answer needs several documents lists them, as file names relative to the
documents folder, and may say how many it joins (``hops``, by default as many as listed)::

    {..., "category": "bridge", "documents": ["a.md", "notes/b.pdf"], "hops": 2}

Retrieval evaluation then checks that every one of them is among the passages an answer reads.

A conversations file (:func:`load_conversations`) is JSON lines too, one conversation a line,
its turns asked in order, each turn a question as above::

    {"id": "...", "turns": [{"question": "...", "keywords": [...], "reference_answer": "..."}, ...]}
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

DEFAULT_CATEGORY = "general"


class EvalFileError(ValueError):
    """A tests file that can't be read; the message names the file and the line."""


@dataclass(frozen=True)
class EvalCase:
    question: str
    keywords: tuple[str, ...]
    category: str = DEFAULT_CATEGORY
    reference_answer: str = ""
    #: False for a question the documents don't answer (the app should say so).
    answerable: bool = True
    #: The documents the answer needs (file names relative to the documents folder).
    documents: tuple[str, ...] = ()
    #: How many documents the answer joins (default: as many as ``documents`` lists).
    hops: int | None = None

    @property
    def needed(self) -> int:
        """How many documents the answer needs (0: nothing listed)."""
        return self.hops or len(self.documents)


@dataclass(frozen=True)
class Conversation:
    """Questions asked one after the other, each turn a follow-up of the ones before."""

    id: str
    turns: tuple[EvalCase, ...]


Row = TypeVar("Row")


def _rows(
    lines: Sequence[str] | str, name: str, read: Callable[[Any, str], Row], what: str
) -> list[Row]:
    """``read(row, where)`` of each JSON line; blank lines are skipped, anything else
    malformed is refused with the file and line."""
    if isinstance(lines, str):
        lines = lines.splitlines()
    rows = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{name}, line {number}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvalFileError(f"{where}: not valid JSON ({exc.msg}, column {exc.colno})") from exc
        rows.append(read(row, where))
    if not rows:
        raise EvalFileError(f"{name}: no {what} (expected one JSON object per line)")
    return rows


def parse_tests(lines: Sequence[str] | str, name: str = "<tests>") -> list[EvalCase]:
    """Cases from JSON lines; blank lines are skipped, anything else malformed is refused."""
    return _rows(lines, name, _case, "questions")


def parse_conversations(lines: Sequence[str] | str, name: str = "<tests>") -> list[Conversation]:
    """Conversations from JSON lines, each turn read as a question of a tests file."""
    return _rows(lines, name, _conversation, "conversations")


def _conversation(row: Any, where: str) -> Conversation:
    if not isinstance(row, dict):
        raise EvalFileError(f"{where}: expected a JSON object, got {type(row).__name__}")
    turns = row.get("turns")
    if not isinstance(turns, list) or not turns:
        raise EvalFileError(f'{where}: "turns" must be a non-empty list of questions')
    cases = tuple(_case(turn, f"{where}, turn {i}") for i, turn in enumerate(turns, start=1))
    return Conversation(str(row.get("id") or where), cases)


def _case(row: Any, where: str) -> EvalCase:
    if not isinstance(row, dict):
        raise EvalFileError(f"{where}: expected a JSON object, got {type(row).__name__}")
    question = row.get("question")
    if not isinstance(question, str) or not question.strip():
        raise EvalFileError(f'{where}: "question" must be a non-empty string')
    answerable = row.get("answerable", True)
    if not isinstance(answerable, bool):
        raise EvalFileError(f'{where}: "answerable" must be true or false')
    # An unanswerable question has nothing to find: its keywords may be left out.
    keywords = row.get("keywords", None if answerable else [])
    if (
        not isinstance(keywords, list)
        or (answerable and not keywords)
        or not all(isinstance(k, str) and k.strip() for k in keywords)
    ):
        raise EvalFileError(f'{where}: "keywords" must be a non-empty list of non-empty strings')
    category = row.get("category", DEFAULT_CATEGORY)
    answer = row.get("reference_answer", "")
    if not isinstance(category, str) or not isinstance(answer, str):
        raise EvalFileError(f'{where}: "category" and "reference_answer" must be strings')
    category = category.strip() or DEFAULT_CATEGORY
    documents = row.get("documents", [])
    if not isinstance(documents, list) or not all(
        isinstance(d, str) and d.strip() for d in documents
    ):
        raise EvalFileError(f'{where}: "documents" must be a list of file names')
    hops = row.get("hops")
    if hops is not None and (isinstance(hops, bool) or not isinstance(hops, int) or hops < 1):
        raise EvalFileError(f'{where}: "hops" must be a positive whole number')
    return EvalCase(
        question.strip(),
        tuple(keywords),
        category,
        answer,
        answerable,
        tuple(d.strip() for d in documents),
        hops,
    )


def _read(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8-sig").splitlines()
    except FileNotFoundError as exc:
        raise EvalFileError(f"{path}: no such tests file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalFileError(f"{path}: can't read it ({exc})") from exc


def load_tests(path: Path | str) -> list[EvalCase]:
    """Cases of a ``.jsonl`` tests file; :class:`EvalFileError` names file and line."""
    return parse_tests(_read(Path(path)), str(path))


def load_conversations(path: Path | str) -> list[Conversation]:
    """Conversations of a ``.jsonl`` file; :class:`EvalFileError` names file and line."""
    return parse_conversations(_read(Path(path)), str(path))


class _Scored(Protocol):
    case: EvalCase


Score = TypeVar("Score", bound=_Scored)
Totals = TypeVar("Totals")


def per_category(
    scores: Sequence[Score], totals: Callable[[list[Score]], Totals]
) -> dict[str, Totals]:
    """``totals`` of each category's scores (each score has the ``case`` it scores), by name."""
    groups: dict[str, list[Score]] = defaultdict(list)
    for score in scores:
        groups[score.case.category].append(score)
    return {name: totals(group) for name, group in sorted(groups.items())}
