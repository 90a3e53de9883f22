"""Retrieval evaluation on a tests file in the LLM-engineering course's format
(:mod:`rag.evaluation.cases`), with the course's scoring.

Each question goes through the app's own retriever (:meth:`RagService.retrieve`, the chat's
code path and settings) and is scored as the course scores it. A keyword is *found* in a chunk
when it occurs in the chunk's text, ignoring case. Per keyword: reciprocal rank of the first
chunk holding it (MRR) and binary nDCG@k, whose ideal ordering is the same relevances sorted
(the course's definition). Both are averaged over a question's keywords, then over questions;
coverage is the percent of a question's keywords found in the top k, averaged likewise.

``python -m rag eval`` (:func:`run_cli`) and the web app's Evaluate tab share
:func:`evaluate_folder`, which ingests a folder into a temporary store first
(:func:`rag.evaluation.folder_store.ingested_folder`) so that the user's own store is never touched.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.evaluation.cases import EvalCase, per_category
from rag.evaluation.folder_store import (
    FolderRun,
    FractionProgress,
    QuestionProgress,
    run_from_cli,
    run_on_folder,
)

if TYPE_CHECKING:
    from rag.app import RagService
    from rag.embedding import Embedder
    from rag.settings import Settings

# Share of a folder evaluation's progress bar given to ingestion (embedding dominates).
_INGEST_SHARE = 0.8


# --- scoring (the course's definitions) ---------------------------------------------------------
def _relevances(keyword: str, texts: Sequence[str]) -> list[int]:
    needle = keyword.lower()
    return [1 if needle in text.lower() else 0 for text in texts]


def _dcg(relevances: Sequence[int]) -> float:
    return sum(rel / math.log2(rank + 2) for rank, rel in enumerate(relevances))


def keyword_mrr(keyword: str, texts: Sequence[str]) -> float:
    """1/rank of the first text holding ``keyword`` (0 when none does)."""
    for rank, relevant in enumerate(_relevances(keyword, texts), start=1):
        if relevant:
            return 1.0 / rank
    return 0.0


def keyword_ndcg(keyword: str, texts: Sequence[str], k: int) -> float:
    """Binary nDCG@k; the ideal is the same relevances, relevant first (as the course has it)."""
    relevances = _relevances(keyword, texts[:k])
    ideal = _dcg(sorted(relevances, reverse=True))
    return _dcg(relevances) / ideal if ideal else 0.0


@dataclass
class QuestionScore:
    case: EvalCase
    mrr: float
    ndcg: float
    #: Percent of the keywords found in the top k.
    coverage: float
    missing: list[str]
    #: Sources of the passages retrieved, best first.
    sources: list[str]
    #: Characters retrieved in all (how much text the keywords were looked for in).
    chars: int
    seconds: float


def score_question(case: EvalCase, texts: Sequence[str], k: int) -> tuple[float, float, float]:
    """(MRR, nDCG@k, coverage %) of one question, given the texts retrieved for it."""
    texts = list(texts)[:k]
    mrrs = [keyword_mrr(kw, texts) for kw in case.keywords]
    ndcgs = [keyword_ndcg(kw, texts, k) for kw in case.keywords]
    found = sum(1 for score in mrrs if score > 0)
    n = len(case.keywords)
    return sum(mrrs) / n, sum(ndcgs) / n, 100.0 * found / n


@dataclass
class Totals:
    mrr: float
    ndcg: float
    coverage: float
    n: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "mrr": round(self.mrr, 4),
            "ndcg": round(self.ndcg, 4),
            "coverage": round(self.coverage, 2),
            "n": self.n,
        }


def _totals(scores: Sequence[QuestionScore]) -> Totals:
    n = len(scores)
    if not n:
        return Totals(0.0, 0.0, 0.0, 0)
    return Totals(
        sum(s.mrr for s in scores) / n,
        sum(s.ndcg for s in scores) / n,
        sum(s.coverage for s in scores) / n,
        n,
    )


@dataclass
class EvalResult:
    scores: list[QuestionScore]
    k: int

    @property
    def totals(self) -> Totals:
        return _totals(self.scores)

    def by_category(self) -> dict[str, Totals]:
        return per_category(self.scores, _totals)

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.totals.as_dict(),
            "by_category": {name: t.as_dict() for name, t in self.by_category().items()},
        }

    def rows(self) -> list[list[Any]]:
        """[category, questions, MRR, nDCG, coverage %] per category, then the total."""
        rows = [
            [name, t.n, round(t.mrr, 3), round(t.ndcg, 3), round(t.coverage, 1)]
            for name, t in self.by_category().items()
        ]
        t = self.totals
        return [*rows, ["total", t.n, round(t.mrr, 3), round(t.ndcg, 3), round(t.coverage, 1)]]

    def table(self) -> str:
        header = f"{'category':<16} {'n':>4} {'MRR':>7} {f'nDCG@{self.k}':>8} {'coverage':>9}"
        lines = [header, "-" * len(header)]
        for name, n, mrr, ndcg, coverage in self.rows():
            if name == "total":
                lines.append("-" * len(header))
            lines.append(f"{name:<16} {n:>4} {mrr:>7.3f} {ndcg:>8.3f} {coverage:>8.1f}%")
        return "\n".join(lines)

    def misses(self, limit: int = 10) -> list[QuestionScore]:
        """The weakest questions (lowest MRR, then coverage), for a look at what went wrong."""
        weak = [s for s in self.scores if s.mrr < 1.0 or s.coverage < 100.0]
        return sorted(weak, key=lambda s: (s.mrr, s.coverage))[:limit]


# --- running ------------------------------------------------------------------------------------
def evaluate(
    service: RagService | Any,
    tests: Sequence[EvalCase],
    k: int = 10,
    progress: QuestionProgress | None = None,
) -> EvalResult:
    """Each question through ``service.retrieve(question, k)`` (the chat's retriever), scored.

    Anything with that method whose passages have ``text`` and ``source`` will do (the
    benchmark scores the course's own pipeline this way). Unanswerable questions are skipped:
    they have no keywords to find.
    """
    tests = [case for case in tests if case.answerable]
    scores = []
    for done, case in enumerate(tests, start=1):
        started = time.perf_counter()
        passages = service.retrieve(case.question, k)
        seconds = time.perf_counter() - started
        texts = [passage.text for passage in passages][:k]
        mrr, ndcg, coverage = score_question(case, texts, k)
        lowered = [t.lower() for t in texts]
        missing = [kw for kw in case.keywords if not any(kw.lower() in t for t in lowered)]
        sources = [str(passage.source) for passage in passages][:k]
        scores.append(
            QuestionScore(
                case, mrr, ndcg, coverage, missing, sources, sum(map(len, texts)), seconds
            )
        )
        if progress:
            progress(done, len(tests), case.question)
    return EvalResult(scores, k)


#: What :func:`evaluate_folder` returns: the ingest, the scores, and how long each took.
FolderEvaluation = FolderRun[EvalResult]


def evaluate_folder(
    settings: Settings,
    docs: Path | str,
    tests: Sequence[EvalCase],
    *,
    embedder: Embedder | None = None,
    k: int = 10,
    db_dir: Path | str | None = None,
    progress: FractionProgress | None = None,
) -> FolderEvaluation:
    """Ingest ``docs`` into a store of its own (:func:`rag.evaluation.folder_store.ingested_folder`),
    then :func:`evaluate` ``tests`` on it with the chat's retrieval settings."""
    return run_on_folder(
        settings,
        docs,
        lambda service, questions: evaluate(service, tests, k, progress=questions),
        embedder=embedder,
        db_dir=db_dir,
        progress=progress,
        ingest_share=_INGEST_SHARE,
    )


def run_cli(args: Any, settings: Settings) -> int:
    """``python -m rag eval --docs DIR --tests FILE.jsonl [--db DIR] [--k 10] [--json]``."""
    if args.k < 1:
        print("error: --k must be at least 1", file=sys.stderr)
        return 2
    ran = run_from_cli(
        args,
        lambda tests, progress: evaluate_folder(
            settings, args.docs, tests, k=args.k, db_dir=args.db, progress=progress
        ),
    )
    if ran is None:
        return 2
    tests, run = ran
    result = run.result
    latencies = sorted(s.seconds for s in result.scores) or [0.0]
    median_ms = 1000 * latencies[len(latencies) // 2]
    print(f"Ingested {args.docs} into {run.store}: {run.report.summary()}")
    print(
        f"{len(tests)} questions from {args.tests}, top {args.k} passages each "
        f"({run.eval_seconds:.1f} s, median {median_ms:.0f} ms a question)\n"
    )
    print(result.table())
    weak = result.misses(5)
    if weak:
        print("\nWeakest questions:")
        for score in weak:
            missing = f"; missing {', '.join(score.missing)}" if score.missing else ""
            print(f"  MRR {score.mrr:.2f}  {score.case.question}{missing}")
    if args.json:
        print(json.dumps(result.as_dict(), ensure_ascii=False))
    return 0
