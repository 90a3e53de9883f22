"""Answers from passages: the notes' own sentences (extractive) or a model's, through the
grounded prompt, with every sentence checked against its sources (:mod:`rag.answer.checker`,
which checks any sentence against any passages)."""

from rag.answer.checker import ClaimChecker
from rag.answer.extractive import Scored, candidates, format_answer, score_candidates, select
from rag.answer.modes import EXTRACTIVE, available_models, is_extractive
from rag.answer.prompt import build_prompt, not_found_answer, source_label
from rag.answer.repetition import stop_repeating, trim_loop
from rag.answer.verifier import is_claim, verify

__all__ = [
    "EXTRACTIVE",
    "ClaimChecker",
    "Scored",
    "available_models",
    "build_prompt",
    "candidates",
    "format_answer",
    "is_claim",
    "is_extractive",
    "not_found_answer",
    "score_candidates",
    "select",
    "source_label",
    "stop_repeating",
    "trim_loop",
    "verify",
]
