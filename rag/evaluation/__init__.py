"""Evaluation on tests files in the course's format: retrieval (keyword MRR, nDCG, coverage)
and answers (keywords, citations, support, refusals, time; optionally an LLM judge), each on a
store of the documents folder of its own."""

from rag.evaluation.answer_report import AnswerEvalResult, AnswerTotals, answer_totals
from rag.evaluation.answers import evaluate_answers, evaluate_answers_folder
from rag.evaluation.cases import EvalCase, EvalFileError, load_tests, parse_tests
from rag.evaluation.folder_store import ingested_folder
from rag.evaluation.judge import AnswerJudge
from rag.evaluation.retrieval import EvalResult, Totals, evaluate, evaluate_folder

__all__ = [
    "AnswerEvalResult",
    "AnswerJudge",
    "AnswerTotals",
    "EvalCase",
    "EvalFileError",
    "EvalResult",
    "Totals",
    "answer_totals",
    "evaluate",
    "evaluate_answers",
    "evaluate_answers_folder",
    "evaluate_folder",
    "ingested_folder",
    "load_tests",
    "parse_tests",
]
