"""Retrieval evaluation on a tests file in the LLM-engineering course's format
(:mod:`rag.evaluation.cases`), with the course's scoring.

Each question goes through the app's own retriever (:meth:`RagService.retrieve`, the chat's
code path and settings) and is scored as the course scores it. A keyword is *found* in a chunk
when it occurs in the chunk's text, ignoring case. Per keyword: reciprocal rank of the first
chunk holding it (MRR) and binary nDCG@k, whose ideal ordering is the same relevances sorted
(the course's definition). Both are averaged over a question's keywords, then over questions;
coverage is the percent of a question's keywords found in the top k, averaged likewise.

**Completeness**, for a question that lists the documents its answer needs (``documents``,
:mod:`rag.evaluation.cases`): whether every one of them is among the passages an answer to it
reads (:meth:`RagService.answer_context`: the ``top_k`` passages retrieved in the extractive
mode, what the prompt keeps for a chat model; not the top k scored above), and the share of
such questions, by category (the kind of question) and by how many documents they join.

``python -m rag eval`` (:func:`run_cli`) and the web app's Evaluate tab share
:func:`evaluate_folder`, which ingests a folder into a temporary store first
(:func:`rag.evaluation.folder_store.ingested_folder`) so that the user's own store is never touched.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
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
    #: Whether every document the question lists is among the passages an answer reads
    #: (None: it lists none, or the answer's passages were not asked for).
    complete: bool | None = None
    #: The documents it lists that are not among them.
    missing_documents: list[str] = field(default_factory=list)


def score_question(case: EvalCase, texts: Sequence[str], k: int) -> tuple[float, float, float]:
    """(MRR, nDCG@k, coverage %) of one question, given the texts retrieved for it."""
    texts = list(texts)[:k]
    mrrs = [keyword_mrr(kw, texts) for kw in case.keywords]
    ndcgs = [keyword_ndcg(kw, texts, k) for kw in case.keywords]
    found = sum(1 for score in mrrs if score > 0)
    n = len(case.keywords)
    return sum(mrrs) / n, sum(ndcgs) / n, 100.0 * found / n


def missing_documents(case: EvalCase, passages: Sequence[Any]) -> list[str]:
    """The documents ``case`` lists that none of ``passages`` (each with its ``source``,
    relative to the documents folder) comes from."""
    sources = {str(p.source).removeprefix("./") for p in passages}
    return [d for d in case.documents if d.removeprefix("./") not in sources]


@dataclass
class Completeness:
    """Of ``n`` questions listing the documents they need, ``complete`` had all of them in
    the passages an answer reads."""

    complete: int
    n: int

    @property
    def share(self) -> float:
        """Percent of the questions."""
        return 100.0 * self.complete / self.n if self.n else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"share": round(self.share, 2), "complete": self.complete, "n": self.n}

    def __str__(self) -> str:
        return f"{self.complete}/{self.n} ({self.share:.0f}%)"


def completeness(scores: Sequence[QuestionScore]) -> Completeness | None:
    """How many of ``scores``' questions had every document they need (None: none lists any)."""
    checked = [s.complete for s in scores if s.complete is not None]
    return Completeness(sum(checked), len(checked)) if checked else None


@dataclass
class Totals:
    mrr: float
    ndcg: float
    coverage: float
    n: int
    #: Questions with all the documents they need in the answer's passages (None: none lists).
    complete: Completeness | None = None

    def as_dict(self) -> dict[str, Any]:
        totals = {
            "mrr": round(self.mrr, 4),
            "ndcg": round(self.ndcg, 4),
            "coverage": round(self.coverage, 2),
            "n": self.n,
        }
        if self.complete is not None:
            totals["complete"] = self.complete.as_dict()
        return totals


def _totals(scores: Sequence[QuestionScore]) -> Totals:
    n = len(scores)
    if not n:
        return Totals(0.0, 0.0, 0.0, 0)
    return Totals(
        sum(s.mrr for s in scores) / n,
        sum(s.ndcg for s in scores) / n,
        sum(s.coverage for s in scores) / n,
        n,
        completeness(scores),
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

    def completeness_by_hops(self) -> dict[int, Completeness]:
        """Completeness of the questions joining 2, 3, … documents, by that number."""
        groups: dict[int, list[QuestionScore]] = defaultdict(list)
        for score in self.scores:
            if score.complete is not None:
                groups[score.case.needed].append(score)
        found = {hops: completeness(group) for hops, group in sorted(groups.items())}
        return {hops: c for hops, c in found.items() if c is not None}

    def as_dict(self) -> dict[str, Any]:
        summary = {
            **self.totals.as_dict(),
            "by_category": {name: t.as_dict() for name, t in self.by_category().items()},
        }
        by_hops = self.completeness_by_hops()
        if by_hops:
            summary["complete_by_hops"] = {str(h): c.as_dict() for h, c in by_hops.items()}
        return summary

    def rows(self) -> list[list[Any]]:
        """[category, questions, MRR, nDCG, coverage %, all documents] per category, then the
        total; the last is "complete/n (share)" of the questions listing documents, or "–"."""

        def row(name: str, t: Totals) -> list[Any]:
            complete = "–" if t.complete is None else str(t.complete)
            return [name, t.n, round(t.mrr, 3), round(t.ndcg, 3), round(t.coverage, 1), complete]

        return [*(row(n, t) for n, t in self.by_category().items()), row("total", self.totals)]

    def table(self) -> str:
        header = (
            f"{'category':<16} {'n':>4} {'MRR':>7} {f'nDCG@{self.k}':>8} {'coverage':>9}"
            f"  {'all documents':>14}"
        )
        lines = [header, "-" * len(header)]
        for name, n, mrr, ndcg, coverage, complete in self.rows():
            if name == "total":
                lines.append("-" * len(header))
            lines.append(
                f"{name:<16} {n:>4} {mrr:>7.3f} {ndcg:>8.3f} {coverage:>8.1f}%  {complete:>14}"
            )
        return "\n".join(lines)

    def completeness_line(self) -> str:
        """ "All documents needed …: 37/38 (97%); 2 documents: …" ("" when none lists any)."""
        total = self.totals.complete
        if total is None:
            return ""
        hops = "; ".join(f"{h} documents: {c}" for h, c in self.completeness_by_hops().items())
        return f"All the documents needed in the answer's passages: {total}; {hops}"

    def misses(self, limit: int = 10) -> list[QuestionScore]:
        """The weakest questions (a document missing from the answer's passages, then lowest
        MRR, then coverage), for a look at what went wrong."""
        weak = [s for s in self.scores if s.mrr < 1.0 or s.coverage < 100.0 or s.complete is False]
        return sorted(weak, key=lambda s: (s.complete is not False, s.mrr, s.coverage))[:limit]


# --- running ------------------------------------------------------------------------------------
def evaluate(
    service: RagService | Any,
    tests: Sequence[EvalCase],
    k: int = 10,
    progress: QuestionProgress | None = None,
    context: Callable[[str], Sequence[Any]] | None = None,
) -> EvalResult:
    """Each question through ``service.retrieve(question, k)`` (the chat's retriever), scored.

    Anything with that method whose passages have ``text`` and ``source`` will do (the
    benchmark scores the course's own pipeline this way). Unanswerable questions are skipped:
    they have no keywords to find. ``context``: the passages an answer to a question reads
    (:meth:`RagService.answer_context`), for the completeness of questions that list the
    documents they need; not checked without it.
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
        score = QuestionScore(
            case, mrr, ndcg, coverage, missing, sources, sum(map(len, texts)), seconds
        )
        if case.documents and context is not None:
            score.missing_documents = missing_documents(case, context(case.question))
            score.complete = not score.missing_documents
        scores.append(score)
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
        lambda service, questions: evaluate(
            service, tests, k, progress=questions, context=service.answer_context
        ),
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
    if result.totals.complete is not None:
        print(f"\n{result.completeness_line()} (the passages {settings.model} reads)")
    weak = result.misses(5)
    if weak:
        print("\nWeakest questions:")
        for score in weak:
            missing = f"; missing {', '.join(score.missing)}" if score.missing else ""
            if score.missing_documents:
                missing += f"; documents missing: {', '.join(score.missing_documents)}"
            print(f"  MRR {score.mrr:.2f}  {score.case.question}{missing}")
    if args.json:
        print(json.dumps(result.as_dict(), ensure_ascii=False))
    return 0
