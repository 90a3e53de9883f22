"""Questions that span documents: a base commit's retriever and this checkout's, in one run.

Each side runs in a process of its own, importing ``rag`` from its own checkout (the base
from a ``git worktree`` of ``--base``, made for the run and removed after), over a store of
its own, with the same bundled embedder and default settings. The driver here asks both the
same questions, one after the other, and scores them with this checkout's code:

* **keywords** (the course's MRR, nDCG@10, coverage; ``service.retrieve(question, 10)``), by
  category, on each set;
* **completeness**, for questions that list the documents their answer needs: whether all of
  them are among the passages the default answer mode (``extractive:notes``) reads, the
  ``top_k`` of ``service.retrieve(question)``; by kind and by how many documents it joins;
* **warm latency** of ``service.retrieve(question, 10)``, timed inside each process, the two
  sides alternating question by question (so that other work on the machine weighs on both
  alike), after a first pass that warmed both.

Sets: the InsureLLM dev set over ``../shared/eval/insurellm``, ``tests/data/*_tests.jsonl``
(one document a question) and ``tests/data/*_multi_doc_tests.jsonl`` (two or three) over
``knowledge_base/`` and ``../shared/course-notes``.

    .venv/bin/python benchmarks/bench_multidoc.py [--base main] [--db DIR] [--rounds 3] [--json]

It prints the tables of ``benchmarks/README.md`` ("Questions that span documents").
``--db DIR`` keeps both sides' stores there (``base/``, ``this/``) so that a second run
ingests nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
DATA = ROOT / "tests" / "data"
#: (name, documents folder, tests file), in the order printed.
SETS = [
    ("insurellm", SHARED / "eval" / "insurellm" / "knowledge-base", SHARED / "eval" / "insurellm" / "tests.jsonl"),
    ("knowledge_base", ROOT / "knowledge_base", DATA / "knowledge_base_tests.jsonl"),
    ("course-notes", SHARED / "course-notes", DATA / "course_notes_tests.jsonl"),
    ("knowledge_base multi", ROOT / "knowledge_base", DATA / "knowledge_base_multi_doc_tests.jsonl"),
    ("course-notes multi", SHARED / "course-notes", DATA / "course_notes_multi_doc_tests.jsonl"),
]  # fmt: skip
K = 10


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- a side: one checkout's service, in a process of its own -------------------------------------
def worker(checkout: Path) -> int:
    """Answer the driver's requests, one JSON line each way, with ``checkout``'s ``rag``."""
    sys.path.insert(0, str(checkout))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    replies = sys.stdout
    sys.stdout = sys.stderr  # whatever the app prints must not mix with the replies
    import logging

    logging.basicConfig(level=logging.ERROR)
    from rag.app import create_service
    from rag.embedding import create_embedder
    from rag.settings import DEFAULT_EMBEDDING_MODEL, Settings

    embedder = create_embedder(DEFAULT_EMBEDDING_MODEL)
    services: dict[str, Any] = {}
    for line in sys.stdin:
        request = json.loads(line)
        if request["op"] == "open":
            settings = Settings(
                _env_file=None, db_dir=Path(request["db"]), knowledge_dir=Path(request["docs"])
            )
            service = create_service(settings, embedder_factory=lambda s: embedder)
            report = service.ingest_knowledge_dir()
            services[request["docs"]] = service
            reply: dict[str, Any] = {"summary": report.summary(), "top_k": settings.top_k}
        else:
            service = services[request["docs"]]
            started = time.perf_counter()
            if request["op"] == "retrieve":
                passages = service.retrieve(request["question"], request["k"])
            else:  # "context": what the default answer mode reads, its top_k passages
                passages = service.retrieve(request["question"])
            reply = {
                "ms": 1000 * (time.perf_counter() - started),
                "passages": [[str(p.source), p.text] for p in passages],
            }
        replies.write(json.dumps(reply) + "\n")
        replies.flush()
    return 0


class Side:
    """The driver's handle on a worker process."""

    def __init__(self, name: str, checkout: Path):
        self.name = name
        #: Warm retrieval times (ms) by documents folder.
        self.timings: dict[str, list[float]] = defaultdict(list)
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--worker", str(checkout)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=checkout,
        )

    def ask(self, **request: Any) -> dict[str, Any]:
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the {self.name} worker stopped (its errors are above)")
        return json.loads(line)

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        self.process.wait(timeout=60)


@contextlib.contextmanager
def base_checkout(ref: str) -> Iterator[tuple[Path, str]]:
    """A detached worktree of ``ref`` (and its commit), removed on leaving."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", ref], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="bench-multidoc-base-") as scratch:
        folder = Path(scratch) / "checkout"
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(folder), commit],
            cwd=ROOT,
            capture_output=True,
            check=True,
        )
        try:
            yield folder, commit
        finally:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(folder)], cwd=ROOT, check=False
            )


# --- scoring ----------------------------------------------------------------------------------
@dataclass
class Scored:
    """One side's scores on one set."""

    keywords: dict[str, Any]  # by category and total: mrr, ndcg, coverage, n
    complete: dict[str, Any]  # by kind, by hops and total: complete, n


def score_set(side: Side, docs: Path, cases: list[Any]) -> Scored:
    from rag.evaluation.retrieval import EvalResult, QuestionScore, missing_documents
    from rag.evaluation.retrieval import score_question as course_scores

    scores = []
    for case in cases:
        found = side.ask(op="retrieve", docs=str(docs), question=case.question, k=K)
        texts = [text for _, text in found["passages"]]
        mrr, ndcg, coverage = course_scores(case, texts, K)
        score = QuestionScore(case, mrr, ndcg, coverage, [], [], 0, found["ms"] / 1000)
        if case.documents:
            context = side.ask(op="context", docs=str(docs), question=case.question)
            sources = [_Passage(source) for source, _ in context["passages"]]
            score.missing_documents = missing_documents(case, sources)
            score.complete = not score.missing_documents
        scores.append(score)
    result = EvalResult(scores, K)
    keywords = {name: t.as_dict() for name, t in result.by_category().items()}
    keywords["total"] = result.totals.as_dict()
    complete: dict[str, Any] = {}
    if result.totals.complete is not None:
        complete = {
            name: t.complete.as_dict()
            for name, t in result.by_category().items()
            if t.complete is not None
        }
        complete |= {
            f"{h} documents": c.as_dict() for h, c in result.completeness_by_hops().items()
        }
        complete["total"] = result.totals.complete.as_dict()
    return Scored(keywords, complete)


@dataclass
class _Passage:
    source: str


def warm_latency(sides: list[Side], docs: Path, cases: list[Any], rounds: int) -> None:
    """``rounds`` timed passes over the questions, the sides alternating question by question."""
    for _ in range(rounds):
        for case in cases:
            for side in sides:
                found = side.ask(op="retrieve", docs=str(docs), question=case.question, k=K)
                side.timings[str(docs)].append(found["ms"])


def percentile(values: list[float], share: float) -> float:
    return statistics.quantiles(values, n=100)[round(share * 100) - 1]


# --- printing ---------------------------------------------------------------------------------
def keyword_rows(name: str, base: Scored, this: Scored) -> list[str]:
    rows = []
    for category in [c for c in this.keywords if c != "total"] + ["total"]:
        a, b = base.keywords[category], this.keywords[category]
        rows.append(
            f"| {name} | {category} | {a['n']} | {a['mrr']:.3f} → **{b['mrr']:.3f}** | "
            f"{a['ndcg']:.3f} → **{b['ndcg']:.3f}** | {a['coverage']:.1f}% → **{b['coverage']:.1f}%** |"
        )
    return rows


def completeness_rows(name: str, base: Scored, this: Scored) -> list[str]:
    rows = []
    for group, b in this.complete.items():
        a = base.complete[group]
        rows.append(
            f"| {name} | {group} | {b['n']} | {a['complete']}/{a['n']} ({a['share']:.0f}%) → "
            f"**{b['complete']}/{b['n']} ({b['share']:.0f}%)** |"
        )
    return rows


def combined(results: dict[str, dict[str, Scored]], side: str) -> dict[str, dict[str, int]]:
    """Completeness of both multi-document sets together, by group."""
    groups: dict[str, dict[str, int]] = defaultdict(lambda: {"complete": 0, "n": 0})
    for scored in results.values():
        for group, c in scored[side].complete.items():
            groups[group]["complete"] += c["complete"]
            groups[group]["n"] += c["n"]
    return dict(groups)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="main", help="git ref of the baseline (default main)")
    parser.add_argument("--db", type=Path, help="keep both sides' stores here between runs")
    parser.add_argument("--rounds", type=int, default=3, help="timed passes over the questions")
    parser.add_argument("--json", action="store_true", help="end with every figure as JSON")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args.worker)
    sys.path.insert(0, str(ROOT))
    from rag.evaluation import load_tests

    sets = [(name, docs, tests) for name, docs, tests in SETS if docs.is_dir() and tests.is_file()]
    results: dict[str, dict[str, Scored]] = {}
    latency: dict[str, dict[str, Any]] = {}
    with base_checkout(args.base) as (base_root, commit), tempfile.TemporaryDirectory() as tmp:
        stores = args.db or Path(tmp)
        sides = [Side(f"base {commit}", base_root), Side("this checkout", ROOT)]
        for side, folder in zip(sides, ("base", "this"), strict=True):
            for docs in dict.fromkeys(docs for _, docs, _ in sets):
                opened = side.ask(op="open", docs=str(docs), db=str(stores / folder / docs.name))
                log(f"{side.name}: {docs.name}: {opened['summary']}")
        try:
            for name, docs, tests in sets:
                cases = [case for case in load_tests(tests) if case.answerable]
                log(f"{name}: {len(cases)} questions")
                results[name] = {
                    key: score_set(side, docs, cases)
                    for key, side in zip(("base", "this"), sides, strict=True)
                }
                for side in sides:
                    side.timings[str(docs)].clear()  # the runs of another set of this folder
                warm_latency(sides, docs, cases, args.rounds)
                latency[name] = {
                    key: {
                        "p50": round(percentile(side.timings[str(docs)], 0.5), 1),
                        "p95": round(percentile(side.timings[str(docs)], 0.95), 1),
                    }
                    for key, side in zip(("base", "this"), sides, strict=True)
                }
                latency[name]["load"] = round(os.getloadavg()[0], 2)
        finally:
            for side in sides:
                side.close()

    lines = [f"Base: {args.base} ({commit}); this checkout: {_head()}. k = {K}.", ""]
    lines += ["| set | category | n | MRR | nDCG@10 | coverage |", "|---|---|---|---|---|---|"]
    for name, scored in results.items():
        lines += keyword_rows(name, scored["base"], scored["this"])
    lines += ["", "| set | kind / documents joined | n | all documents in the answer's passages |"]
    lines += ["|---|---|---|---|"]
    multi = {n: s for n, s in results.items() if s["this"].complete}
    for name, scored in multi.items():
        lines += completeness_rows(name, scored["base"], scored["this"])
    both = {side: combined(multi, side) for side in ("base", "this")}
    for group in [g for g in both["this"] if "documents" in g or g == "total"]:
        a, b = both["base"][group], both["this"][group]
        lines.append(
            f"| both sets | {group} | {b['n']} | {a['complete']}/{a['n']} "
            f"({100 * a['complete'] / a['n']:.0f}%) → **{b['complete']}/{b['n']} "
            f"({100 * b['complete'] / b['n']:.0f}%)** |"
        )
    lines += ["", "| set | warm retrieval p50 | p95 | load average |", "|---|---|---|---|"]
    for name, t in latency.items():
        lines.append(
            f"| {name} | {t['base']['p50']} → {t['this']['p50']} ms "
            f"(×{t['this']['p50'] / t['base']['p50']:.2f}) | {t['base']['p95']} → "
            f"{t['this']['p95']} ms | {t['load']} |"
        )
    print("\n".join(lines))
    if args.json:
        figures = {
            name: {key: {"keywords": s.keywords, "complete": s.complete} for key, s in sc.items()}
            for name, sc in results.items()
        }
        print(json.dumps({"base": commit, "results": figures, "latency_ms": latency}))
    return 0


def _head() -> str:
    return subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()


if __name__ == "__main__":
    sys.exit(main())
