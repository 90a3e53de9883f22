"""``python -m ingest [PATH ...] [--db DIR]``: bring the store in line with documents on disk.

Exit status: 0 done (some files may have been skipped, each named on stderr), 1 every file
failed, 2 the store or the arguments are wrong, 3 another ingest holds the store.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from ingest.pipeline import FileResult, IngestError, IngestLocked, Ingestor, IngestReport
from rag.settings import load_settings
from rag.store import StoreError, open_store


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ingest", description="Ingest documents into the knowledge store."
    )
    parser.add_argument(
        "paths",
        nargs="*",
        type=Path,
        help="files or folders (default: the knowledge folder, RAG_KNOWLEDGE_DIR)",
    )
    parser.add_argument("--db", type=Path, help="store folder (RAG_DB_DIR)")
    parser.add_argument("--embedding-model", help="sentence-transformers name or path")
    parser.add_argument("--chunk-size", type=int, help="characters per chunk (RAG_CHUNK_SIZE)")
    parser.add_argument("--chunk-overlap", type=int, help="overlap in characters")
    parser.add_argument("--reset", action="store_true", help="empty the store first, then ingest")
    parser.add_argument(
        "--status",
        action="store_true",
        help="list stored documents, and those deleted from the library, and exit",
    )
    parser.add_argument(
        "--include",
        action="append",
        default=[],
        metavar="NAME",
        help="bring back a document deleted from the library (its name as --status lists it), "
        "then ingest as usual; may be given more than once",
    )
    parser.add_argument("--watch", action="store_true", help="keep watching and re-ingest changes")
    parser.add_argument(
        "--wait",
        type=float,
        metavar="SECONDS",
        help="when another ingest holds the store, wait this long for it, then refuse "
        "(default RAG_LOCK_WAIT_S, 60; 0: refuse at once)",
    )
    parser.add_argument("--json", action="store_true", help="end with one JSON line")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="print each file's outcome as it happens"
    )
    return parser


def _print_result(result: FileResult) -> None:
    detail = f"{result.chunks} chunks" if result.status != "failed" else result.reason
    print(f"{result.status:<9} {result.source}  ({detail})", flush=True)


def _print_report(report: IngestReport, as_json: bool) -> None:
    for result in report.failures:
        print(f"skipped {result.reason}", file=sys.stderr)
    print(report.summary(), flush=True)
    if as_json:
        print(json.dumps(report.as_dict()), flush=True)


# Documents listed per read of the store's catalog: a long list starts printing at once.
STATUS_PAGE = 1000


def _print_status(ingestor: Ingestor, as_json: bool) -> None:
    documents, total, files = 0, 0, []
    while page := ingestor.documents(offset=documents, limit=STATUS_PAGE):
        for row in page:
            print(f"{row['chunks']:5d}  {row['ingested_at']}  {row['source']}")
            total += row["chunks"]
            if as_json:
                files.append({k: row[k] for k in ("source", "chunks", "ingested_at")})
        documents += len(page)
    print(f"{documents} documents, {total} chunks in {ingestor.store.description}")
    excluded = ingestor.excluded()
    for source in excluded:
        print(f"excluded  {source}")
    if excluded:
        print(
            f"{len(excluded)} deleted from the library and left out of every ingest "
            "(--include NAME brings one back)"
        )
    if as_json:
        print(
            json.dumps(
                {"documents": documents, "chunks": total, "files": files, "excluded": excluded}
            )
        )


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    settings = load_settings(
        db_dir=args.db,
        embedding_model=args.embedding_model,
        chunk_size=args.chunk_size,
        chunk_overlap=args.chunk_overlap,
        lock_wait_s=args.wait,
    )
    try:
        store = open_store(settings)
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    def make_embedder():
        # Called only when a file needs embedding: an up-to-date store is checked without
        # loading the model.
        from rag.embedding import embedder_for

        return embedder_for(settings)

    ingestor = Ingestor.from_settings(settings, store, make_embedder)
    if args.status:
        _print_status(ingestor, args.json)
        return 0

    paths = args.paths or [settings.knowledge_dir]
    missing = [p for p in paths if not p.exists()]
    if missing:
        print(f"error: no such file or folder: {', '.join(map(str, missing))}", file=sys.stderr)
        return 2
    on_result = _print_result if args.verbose else None
    try:
        for source in args.include:
            if not ingestor.include(source):
                print(
                    f"error: {source} was not deleted from the library "
                    "(python -m ingest --status lists those that were)",
                    file=sys.stderr,
                )
                return 2
        report = _run_once(ingestor, paths, quiet=args.quiet, reset=args.reset, on_result=on_result)
    except IngestLocked as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    except (IngestError, StoreError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    _print_report(report, args.json)
    if args.watch:
        import signal
        import threading

        from ingest.watch import watch

        stop = threading.Event()
        # A service manager (systemd, docker stop) asks with SIGTERM: finish the pass under
        # way, then leave, as Ctrl-C does.
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        print(f"watching {', '.join(map(str, paths))} (Ctrl-C to stop)", flush=True)
        try:
            watch(
                ingestor,
                paths,
                on_report=lambda r: _print_report(r, args.json),
                on_result=on_result,
                debounce_s=settings.watch_debounce_s,
                stop=stop,
            )
        except KeyboardInterrupt:
            pass
        print("stopped watching", flush=True)
        return 0
    return 1 if report.failures and len(report.failures) == len(report.results) else 0


def _run_once(
    ingestor: Ingestor,
    paths: list[Path],
    *,
    quiet: bool,
    reset: bool,
    on_result,
) -> IngestReport:
    from tqdm import tqdm

    bar = tqdm(total=0, unit="file", disable=quiet, file=sys.stderr)

    def progress(done: int, total: int, source: str) -> None:
        bar.total = total
        bar.set_postfix_str(source[-40:], refresh=False)
        bar.update(done - bar.n)

    try:
        return ingestor.ingest(paths, progress=progress, on_result=on_result, reset=reset)
    finally:
        bar.close()


if __name__ == "__main__":
    sys.exit(main())
