"""Retrieval quality and latency: the LLM-engineering course's RAG against this app's, in one run.

Both read the same documents with the same bundled all-MiniLM-L6-v2 embedder and answer the
same course-format questions, scored the same way (:mod:`rag.evaluation.retrieval`).

* The course's pipeline, as the course builds it: LangChain ``DirectoryLoader``/``TextLoader``
  over the ``.md`` files, ``RecursiveCharacterTextSplitter(chunk_size=500, chunk_overlap=200)``,
  ``HuggingFaceEmbeddings``, Chroma in a temporary folder, similarity search, top 10.
* This app with its default settings: ingestion into a temporary store and
  ``RagService.retrieve``, the chat's own code path.

Printed: MRR, nDCG@10 and keyword coverage for both (and their ratios), on each half of the
tests file (odd and even lines: retrieval settings were chosen on the odd lines only), how
much text each retrieved per question, and warm retrieval latency (p50/p95, retrieval only,
after a warm-up). The course notes set (tests/data/course_notes_tests.jsonl over
../shared/course-notes) follows when present. ``--ablation`` adds one row per retrieval
choice; ``--json`` ends with every figure as one JSON line.

    .venv/bin/python benchmarks/bench_retrieval.py [--docs DIR --tests FILE] [--ablation]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
import types
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
warnings.filterwarnings("ignore")

from rag.evaluation import EvalCase, load_tests  # noqa: E402
from rag.evaluation.retrieval import EvalResult, Totals, _totals, evaluate  # noqa: E402

SHARED = ROOT.parent / "shared"
DEFAULT_DOCS = SHARED / "eval" / "insurellm" / "knowledge-base"
DEFAULT_TESTS = SHARED / "eval" / "insurellm" / "tests.jsonl"
NOTES_DOCS = SHARED / "course-notes"
NOTES_TESTS = ROOT / "tests" / "data" / "course_notes_tests.jsonl"
# The commit before retrieval was reworked (issue #3): its chunker and retriever, as a baseline.
PREVIOUS = "21d9668"
# The last commit whose retriever read every chunk into an in-memory BM25 (issue #11 replaced it
# by the persistent SQLite FTS5 index): its retriever over today's store, as an ablation row.
IN_MEMORY_BM25 = "ee818a7"
# What the chat model reads: the prompt's default cap on sources (RAG_MAX_SOURCE_TOKENS, 1500
# tokens) at about 4 characters a token. Coverage within it compares systems at equal text.
BUDGET_CHARS = 6000


@dataclass
class Passage:
    text: str
    source: str


class Recorder:
    """Passes retrieval through, keeping what each question got (for coverage within a budget)."""

    def __init__(self, inner: Any):
        self.inner = inner
        self.seen: dict[str, list[Any]] = {}

    def retrieve(self, question: str, k: int) -> list[Any]:
        passages = self.inner.retrieve(question, k)
        self.seen[question] = list(passages)
        return passages


def budget_coverage(recorder: Recorder, tests: Sequence[EvalCase]) -> list[float]:
    """Per question: % of keywords within the first BUDGET_CHARS characters retrieved."""
    covered = []
    for case in tests:
        text = "\n".join(p.text for p in recorder.seen.get(case.question, []))[:BUDGET_CHARS]
        text = text.lower()
        covered.append(100 * sum(k.lower() in text for k in case.keywords) / len(case.keywords))
    return covered


# --- the course's pipeline ----------------------------------------------------------------------
class CourseRag:
    """The course's retrieval, built as the course builds it (LangChain, Chroma, top 10)."""

    def __init__(self, docs: Path, folder: Path):
        from langchain_chroma import Chroma
        from langchain_community.document_loaders import DirectoryLoader, TextLoader
        from langchain_huggingface import HuggingFaceEmbeddings
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        from rag.core import resolve_embedding_model
        from rag.settings import DEFAULT_EMBEDDING_MODEL

        documents = []
        # One loader per top-level folder, its name kept as doc_type, as in the course.
        folders = sorted(p for p in docs.iterdir() if p.is_dir()) or [docs]
        for sub in folders:
            loader = DirectoryLoader(
                str(sub), glob="**/*.md", loader_cls=TextLoader, loader_kwargs={"encoding": "utf-8"}
            )
            for document in loader.load():
                document.metadata["doc_type"] = sub.name
                documents.append(document)
        splitter = RecursiveCharacterTextSplitter(chunk_size=500, chunk_overlap=200)
        self.chunks = splitter.split_documents(documents)
        embeddings = HuggingFaceEmbeddings(
            model_name=resolve_embedding_model(DEFAULT_EMBEDDING_MODEL)
        )
        self.store = Chroma.from_documents(
            documents=self.chunks, embedding=embeddings, persist_directory=str(folder)
        )
        self.root = docs.resolve()
        self._retrievers: dict[int, Any] = {}

    def retrieve(self, question: str, k: int) -> list[Passage]:
        if k not in self._retrievers:
            self._retrievers[k] = self.store.as_retriever(search_kwargs={"k": k})
        return [
            Passage(
                d.page_content,
                Path(d.metadata["source"]).resolve().relative_to(self.root).as_posix(),
            )
            for d in self._retrievers[k].invoke(question)
        ]


# --- this app -----------------------------------------------------------------------------------
def app_service(docs: Path, folder: Path, embedder, **settings: Any):
    """A service over its own store at ``folder``, ``docs`` ingested with ``settings``."""
    from rag.app import create_service
    from rag.settings import Settings

    config = Settings(_env_file=None, db_dir=folder, knowledge_dir=docs, **settings)
    service = create_service(config, embedder_factory=lambda s: embedder)
    report = service.ingest_knowledge_dir()
    log(f"  ingested {docs.name}: {report.summary()}")
    return service


@contextlib.contextmanager
def patched(target: Any, name: str, value: Any) -> Iterator[None]:
    original = getattr(target, name)
    setattr(target, name, value)
    try:
        yield
    finally:
        setattr(target, name, original)


def previous_modules(
    commit: str = PREVIOUS, paths: Sequence[str] = ("ingest/chunking.py", "rag/retriever.py")
) -> list[types.ModuleType] | None:
    """Modules of an earlier commit (by default PREVIOUS's chunker and retriever), loaded from
    git history."""
    modules = []
    for path in paths:
        try:
            source = subprocess.run(
                ["git", "show", f"{commit}:{path}"],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        except (OSError, subprocess.CalledProcessError):
            return None
        module = types.ModuleType(f"previous_{commit}_{Path(path).stem}")
        sys.modules[module.__name__] = module  # dataclasses look their module up there
        try:
            exec(compile(source, f"{commit}:{path}", "exec"), module.__dict__)
        except ImportError as exc:  # a library that version used and this one no longer installs
            log(f"  ablation: {commit}'s {path} skipped: {exc} (pip install it to add the row)")
            return None
        modules.append(module)
    return modules


# --- measuring ----------------------------------------------------------------------------------
def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def halves(result: EvalResult) -> tuple[Totals, Totals]:
    """(odd lines of the tests file, even lines): settings were chosen on the odd lines."""
    return _totals(result.scores[0::2]), _totals(result.scores[1::2])


def chars_per_question(result: EvalResult) -> float:
    return statistics.mean(s.chars for s in result.scores) if result.scores else 0.0


def latency_ms(retrieve: Callable[[str, int], Any], questions: Sequence[str], k: int, rounds: int):
    """p50 and p95 of warm retrieval, in ms: a warm-up pass, then ``rounds`` timed passes."""
    for question in questions[:10]:
        retrieve(question, k)
    timings = []
    for _ in range(rounds):
        for question in questions:
            started = time.perf_counter()
            retrieve(question, k)
            timings.append((time.perf_counter() - started) * 1000)
    cuts = statistics.quantiles(timings, n=100)
    return cuts[49], cuts[94], len(timings)


def measured(name: str, retriever: Any, tests: Sequence[EvalCase], k: int) -> dict[str, Any]:
    """One row: the course's scores (all, odd lines, even lines), text, coverage in budget."""
    recorder = Recorder(retriever)
    result = evaluate(recorder, tests, k)
    first, second = halves(result)
    budget = budget_coverage(recorder, tests)
    return {
        "name": name,
        "total": result.totals.as_dict(),
        "odd": first.as_dict(),
        "even": second.as_dict(),
        "chars": round(chars_per_question(result)),
        "budget_coverage": round(statistics.mean(budget), 1),
        "result": result,
    }


def fmt(t: dict[str, Any]) -> str:
    return f"{t['mrr']:.3f} {t['ndcg']:.3f} {t['coverage']:5.1f}%"


def print_rows(title: str, rows: list[dict[str, Any]]) -> None:
    print(f"\n{title}")
    print(
        f"{'':44} {'all: MRR  nDCG  cover':>22} | {'odd lines':>20} | {'even lines':>20} | "
        f"chars/q | cover@{BUDGET_CHARS // 1000}k"
    )
    for r in rows:
        print(
            f"{r['name'][:44]:44} {fmt(r['total']):>22} | {fmt(r['odd']):>20} | "
            f"{fmt(r['even']):>20} | {r['chars']:7,d} | {r['budget_coverage']:6.1f}%"
        )


def ratios(ours: EvalResult, course: EvalResult) -> str:
    a, b = ours.totals, course.totals
    return (
        f"{'this app / course':44} MRR x{a.mrr / b.mrr:.2f}, nDCG x{a.ndcg / b.ndcg:.2f}, "
        f"coverage x{a.coverage / b.coverage:.2f}"
    )


def compare(
    label: str, docs: Path, tests: list[EvalCase], k: int, embedder, scratch: Path, rounds: int
) -> dict[str, Any]:
    """The course's pipeline and this app on one corpus: quality, then warm latency."""
    log(f"{label}: the course's pipeline")
    course = CourseRag(docs, scratch / f"{label}-course")
    rows = [measured("course RAG (LangChain 500/200, dense top k)", course, tests, k)]
    log(f"{label}: this app")
    service = app_service(docs, scratch / f"{label}-app", embedder)
    rows.append(measured("this app, default settings", service, tests, k))
    print_rows(f"{label}: {len(tests)} questions, k={k}", rows)
    print(ratios(rows[1].pop("result"), rows[0].pop("result")))
    figures: dict[str, Any] = {"rows": rows}
    if rounds:
        questions = [case.question for case in tests]
        for name, retrieve in (("course", course.retrieve), ("app", service.retrieve)):
            p50, p95, n = latency_ms(retrieve, questions, k, rounds)
            load = os.getloadavg()[0]
            figures[f"latency_{name}_ms"] = {
                "p50": round(p50, 1),
                "p95": round(p95, 1),
                "n": n,
                "load": round(load, 2),
            }
            print(
                f"warm retrieval latency, {name:7}: p50 {p50:6.1f} ms, p95 {p95:6.1f} ms "
                f"({n} queries; load average {load:.2f})"
            )
    figures["service"] = service
    return figures


@contextlib.contextmanager
def reindexed(store: Any) -> Iterator[None]:
    """The lexical index rebuilt from the store on entry (under whatever is patched) and on
    exit (as it was)."""
    store.lexical.clear()
    store.repair_lexical()
    try:
        yield
    finally:
        store.lexical.clear()
        store.repair_lexical()


def ablation(docs: Path, tests: list[EvalCase], k: int, embedder, scratch: Path, service) -> list:
    """One row per retrieval choice: built up from plain chunks, then one change at a time."""
    import ingest.chunking
    import rag.core.terms
    import rag.store.chunk_store

    retriever = service.retriever
    defaults = {
        "dense_weight": retriever.dense_weight,
        "neighbour_weight": retriever.neighbour_weight,
        "window_chars": retriever.window_chars,
        "group_documents": retriever.group_documents,
        "merge_documents": retriever.merge_documents,
    }
    rows = []

    def measure(name: str, target=None, **changes: Any) -> None:
        target = target or service
        for key, value in {**defaults, **changes}.items():
            setattr(target.retriever, key, value)
        log(f"  ablation: {name}")
        rows.append(measured(name, target, tests, k))
        rows[-1].pop("result")

    separate = {"group_documents": False, "merge_documents": False}
    plain = {"neighbour_weight": 0.0, "window_chars": 0, **separate}
    measure("dense only, one chunk per hit", dense_weight=1.0, **plain)
    measure("BM25 only, one chunk per hit", dense_weight=0.0, **plain)
    measure("hybrid 0.5/0.5, one chunk per hit", **plain)
    measure("  + neighbour weight 0.3", window_chars=0, **separate)
    measure(f"  + windows of {defaults['window_chars']} characters", **separate)
    measure("  + passages grouped by document", merge_documents=False)
    measure("  + one passage per document (default)")
    measure(
        "previous default: windows of 2000, not merged", window_chars=2000, merge_documents=False
    )
    with patched(rag.core.terms, "_fold_plural", lambda token: token), reindexed(service.store):
        measure("default without plural folding")
    from rag.core import join_header, stored_parts

    def whole_text(text, metadata):
        return "", join_header(*stored_parts(text, metadata))

    with patched(rag.store.chunk_store, "stored_parts", whole_text), reindexed(service.store):
        measure("default, BM25 on whole text (no header field)")
    in_memory = previous_modules(IN_MEMORY_BM25, ["rag/retriever.py"])
    if in_memory is not None:
        log("  ablation: in-memory BM25")
        old = in_memory[0].HybridRetriever(service.store, embedder)
        rows.append(measured(f"default, in-memory BM25 ({IN_MEMORY_BM25})", old, tests, k))
        rows[-1].pop("result")
    for weight in (0.3, 0.7):
        measure(f"default, dense weight {weight}", dense_weight=weight)
    for weight in (0.0, 0.5):
        measure(f"default, neighbour weight {weight}", neighbour_weight=weight)
    for chars in (1000, 2000, 3000):
        measure(f"default, windows of {chars} characters", window_chars=chars)
    for size, overlap in ((400, 50), (600, 100), (1000, 100)):
        other = app_service(
            docs, scratch / f"ablation-{size}", embedder, chunk_size=size, chunk_overlap=overlap
        )
        measure(f"default, chunks of {size}/{overlap} (default 800/100)", target=other)
    previous = previous_modules()
    if previous is not None:
        chunking, old_retriever = previous
        from rag.core import Chunk

        def old_chunks(*args, **kwargs):
            # Its chunks hold "header\n\nbody" as one text: stored as such, read as legacy.
            return [
                Chunk(c.id, c.text, c.metadata) for c in chunking.split_documents(*args, **kwargs)
            ]

        with patched(ingest.chunking, "split_documents", old_chunks):
            old = app_service(docs, scratch / "previous", embedder)
        baseline = old_retriever.HybridRetriever(old.store, embedder)
        log("  ablation: previous version")
        rows.append(measured(f"previous version ({PREVIOUS}: RRF fusion)", baseline, tests, k))
        rows[-1].pop("result")
    for key, value in defaults.items():
        setattr(retriever, key, value)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=Path, default=DEFAULT_DOCS)
    parser.add_argument("--tests", type=Path, default=DEFAULT_TESTS)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3, help="timed passes over the questions")
    parser.add_argument("--ablation", action="store_true", help="add one row per choice")
    parser.add_argument(
        "--threads", type=int, help="torch threads (default: torch's choice, one per core)"
    )
    parser.add_argument("--json", action="store_true", help="end with every figure as JSON")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    if not args.docs.is_dir() or not args.tests.is_file():
        print(f"skipped: {args.docs} or {args.tests} is missing", file=sys.stderr)
        return 0

    from rag.embedding import create_embedder
    from rag.settings import DEFAULT_EMBEDDING_MODEL, Settings

    defaults = Settings(_env_file=None)
    print(
        "Retrieval settings: "
        + ", ".join(
            f"{name}={getattr(defaults, name)}"
            for name in (
                "chunk_size",
                "chunk_overlap",
                "candidates",
                "dense_weight",
                "neighbour_weight",
                "window_chars",
            )
        )
    )
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"CPU cores: {os.cpu_count()}, torch threads: {torch.get_num_threads()}")
    embedder = create_embedder(DEFAULT_EMBEDDING_MODEL)
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-retrieval-") as scratch:
        tests = load_tests(args.tests)
        main_figures = compare(
            args.docs.name, args.docs, tests, args.k, embedder, Path(scratch), args.rounds
        )
        service = main_figures.pop("service")
        figures["main"] = main_figures
        if NOTES_DOCS.is_dir() and NOTES_TESTS.is_file():
            notes = compare(
                "course-notes", NOTES_DOCS, load_tests(NOTES_TESTS), args.k, embedder,
                Path(scratch), 0,
            )  # fmt: skip
            notes.pop("service")
            figures["course_notes"] = notes
        if args.ablation:
            rows = ablation(args.docs, tests, args.k, embedder, Path(scratch), service)
            print_rows(f"Ablation on {args.docs.name} (k={args.k})", rows)
            figures["ablation"] = rows
    if args.json:
        print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
