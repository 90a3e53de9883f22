"""Answers from passages: the notes' own sentences (extractive) or a model's, through the
grounded prompt, with every sentence checked against its sources (:mod:`rag.answer.checker`,
which checks any sentence against any passages)."""

from rag.answer.asks import Asks, read_question
from rag.answer.checker import ClaimChecker
from rag.answer.extractive import (
    Extractive,
    Scored,
    answer_from,
    candidates,
    extract_answer,
    format_answer,
    score_candidates,
    select,
)
from rag.answer.modes import EXTRACTIVE, available_models, is_extractive
from rag.answer.prompt import FittedPrompt, build_prompt, not_found_answer, source_label
from rag.answer.repetition import stop_repeating, trim_loop
from rag.answer.scoring import unknown_names
from rag.answer.verifier import is_claim, verify

__all__ = [
    "EXTRACTIVE",
    "Asks",
    "ClaimChecker",
    "Extractive",
    "FittedPrompt",
    "Scored",
    "answer_from",
    "available_models",
    "build_prompt",
    "candidates",
    "extract_answer",
    "format_answer",
    "is_claim",
    "is_extractive",
    "not_found_answer",
    "read_question",
    "score_candidates",
    "select",
    "source_label",
    "stop_repeating",
    "trim_loop",
    "unknown_names",
    "verify",
]
