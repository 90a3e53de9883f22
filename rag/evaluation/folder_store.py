"""A folder of documents in a store of its own, for evaluations, their progress reports, and
what their commands share.

Retrieval evaluation (:mod:`rag.evaluation.retrieval`) and answer evaluation (:mod:`rag.evaluation.answers`)
both ingest the folder to evaluate into a fresh store, so that the user's own store is never
touched, then run the chat's own code on it.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from rag.evaluation.cases import EvalFileError, load_tests

if TYPE_CHECKING:
    from ingest.pipeline import IngestReport
    from rag.app import RagService
    from rag.embedding import Embedder
    from rag.settings import Settings

#: ``progress(done, total, question)`` after each question.
QuestionProgress = Callable[[int, int, str], None]
#: ``progress(fraction, description)``, the signature of ``gr.Progress``.
FractionProgress = Callable[[float, str], None]
Result = TypeVar("Result")
#: What an evaluation runs over: questions, or conversations.
Item = TypeVar("Item")


@dataclass
class IngestedFolder:
    """A folder of documents ingested into a store of its own, and a service over it."""

    service: RagService
    report: IngestReport
    #: Where the store is (for messages).
    store: str
    seconds: float


@contextmanager
def ingested_folder(
    settings: Settings,
    docs: Path | str,
    *,
    embedder: Embedder | None = None,
    db_dir: Path | str | None = None,
    progress: FractionProgress | None = None,
) -> Iterator[IngestedFolder]:
    """``docs`` ingested into a store of its own, with a :class:`RagService` over it.

    The store is a fresh temporary folder, deleted on leaving, unless ``db_dir`` is given
    (then it is kept and later runs only re-embed changed files). The service has
    ``settings`` (the chat's retrieval and answer settings); only the store location differs.
    ``progress`` goes from 0 to 1 while ingesting.
    """
    from rag.app import RagService
    from rag.embedding import embedder_for
    from rag.store import open_store

    docs = Path(docs)
    if not docs.is_dir():
        raise FileNotFoundError(f"{docs}: no such folder of documents")
    if embedder is None:
        embedder = embedder_for(settings)
    report_progress = progress or (lambda fraction, description: None)
    with tempfile.TemporaryDirectory(prefix="rag-eval-") as scratch:
        folder = Path(db_dir) if db_dir is not None else Path(scratch) / "db"
        local = settings.model_copy(
            update={"db_dir": folder, "knowledge_dir": docs, "chroma_host": None}
        )
        store = open_store(local)
        try:
            service = RagService(local, store, embedder)
            started = time.perf_counter()
            report = service.ingestor.ingest(
                [docs],
                progress=lambda done, total, source: report_progress(
                    done / max(total, 1), f"Ingesting {source}"
                ),
            )
            seconds = time.perf_counter() - started
            yield IngestedFolder(service, report, store.description, seconds)
        finally:
            store.close()  # its files are about to be deleted


def split_progress(progress: FractionProgress | None, start: float, end: float):
    """``progress`` for a part of a run that takes it from ``start`` to ``end``."""
    if progress is None:
        return None
    return lambda fraction, description: progress(start + (end - start) * fraction, description)


def per_question(progress: FractionProgress | None) -> QuestionProgress | None:
    """``progress`` as a run over questions reports it: "Question 3/20"."""
    if progress is None:
        return None
    return lambda done, total, question: progress(done / max(total, 1), f"Question {done}/{total}")


@dataclass
class FolderRun(Generic[Result]):
    """What :func:`run_on_folder` did: the ingest, the evaluation's result, how long each took."""

    result: Result
    report: IngestReport
    store: str
    ingest_seconds: float
    eval_seconds: float


def run_on_folder(
    settings: Settings,
    docs: Path | str,
    evaluate: Callable[[RagService, QuestionProgress | None], Result],
    *,
    embedder: Embedder | None = None,
    db_dir: Path | str | None = None,
    progress: FractionProgress | None = None,
    ingest_share: float = 0.5,
) -> FolderRun[Result]:
    """``evaluate(service, progress)`` on ``docs`` ingested into a store of its own
    (:func:`ingested_folder`); ingesting takes ``ingest_share`` of the progress bar."""
    with ingested_folder(
        settings,
        docs,
        embedder=embedder,
        db_dir=db_dir,
        progress=split_progress(progress, 0.0, ingest_share),
    ) as ingested:
        started = time.perf_counter()
        result = evaluate(ingested.service, per_question(split_progress(progress, ingest_share, 1)))
        seconds = time.perf_counter() - started
    return FolderRun(result, ingested.report, ingested.store, ingested.seconds, seconds)


def cli_progress(stream=sys.stderr) -> FractionProgress:
    """A one-line progress display for terminals; a few plain lines otherwise."""
    last = {"tenth": -1}

    def show(fraction: float, description: str) -> None:
        if stream.isatty():
            stream.write(f"\r{fraction:6.1%}  {description[:70]:<70}")
            stream.flush()
        elif int(fraction * 10) > last["tenth"]:
            last["tenth"] = int(fraction * 10)
            print(f"{fraction:6.1%}  {description}", file=stream)

    return show


def run_from_cli(
    args: Any,
    run: Callable[[list[Item], FractionProgress], FolderRun[Result]],
    load: Callable[[], list[Item]] | None = None,
) -> tuple[list[Item], FolderRun[Result]] | None:
    """What the ``python -m rag eval`` commands do first: the questions of ``--tests`` (or
    what ``load()`` reads: conversations), the first ``--limit``, once ``--docs`` is found to
    be a folder, then ``run(questions, progress)`` with a progress line on stderr, and a
    warning for each file not ingested.

    None when the tests file or the folder is wrong (said on stderr)."""
    try:
        tests = load() if load is not None else load_tests(args.tests)
        if not Path(args.docs).is_dir():
            raise EvalFileError(f"{args.docs}: no such folder of documents")
    except EvalFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None
    tests = tests[: args.limit] if args.limit else tests
    done = run(tests, cli_progress())
    if sys.stderr.isatty():
        sys.stderr.write("\n")
    for failure in done.report.failures:
        print(f"warning: not ingested: {failure.reason}", file=sys.stderr)
    return tests, done
