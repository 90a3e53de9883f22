"""``python -m ingest [PATH ...] [--db DIR]``: bring the store in line with documents on disk."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from ingest.pipeline import IngestLocked, Ingestor, IngestReport
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
    parser.add_argument("--reset", action="store_true", help="drop the stored files first")
    parser.add_argument("--status", action="store_true", help="list stored documents and exit")
    parser.add_argument("--watch", action="store_true", help="keep watching and re-ingest changes")
    parser.add_argument("--json", action="store_true", help="end with one JSON line")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    return parser


def _print_report(report: IngestReport, as_json: bool) -> None:
    for result in report.failures:
        print(f"skipped {result.reason}", file=sys.stderr)
    print(report.summary())
    if as_json:
        print(
            json.dumps(
                {
                    "files": len(report.results),
                    "chunks": report.chunks_written,
                    "seconds": round(report.seconds, 2),
                    "results": [vars(r) for r in report.results],
                }
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
    )
    try:
        store = open_store(settings)
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    def make_embedder():
        from rag.embeddings import create_embedder

        return create_embedder(settings.embedding_model, settings.embedding_batch_size)

    ingestor = Ingestor(settings, store, make_embedder)
    if args.status:
        documents = ingestor.documents()
        for row in documents:
            print(f"{row['chunks']:5d}  {row['ingested_at']}  {row['source']}")
        total = sum(r["chunks"] for r in documents)
        print(f"{len(documents)} documents, {total} chunks in {store.description}")
        if args.json:
            files = [{k: r[k] for k in ("source", "chunks", "ingested_at")} for r in documents]
            print(json.dumps({"documents": len(documents), "chunks": total, "files": files}))
        return 0

    paths = args.paths or [settings.knowledge_dir]
    missing = [p for p in paths if not p.exists()]
    if missing:
        print(f"error: no such file or folder: {', '.join(map(str, missing))}", file=sys.stderr)
        return 2
    try:
        if args.reset:
            ingestor.reset()
        report = _run_once(ingestor, paths, quiet=args.quiet)
    except IngestLocked as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    _print_report(report, args.json)
    if args.watch:
        from ingest.watch import watch

        watch(ingestor, paths, on_report=lambda r: _print_report(r, args.json))
    return 1 if report.failures and len(report.failures) == len(report.results) else 0


def _run_once(ingestor: Ingestor, paths: list[Path], quiet: bool) -> IngestReport:
    from tqdm import tqdm

    bar = tqdm(total=0, unit="file", disable=quiet, file=sys.stderr)

    def progress(done: int, total: int, source: str) -> None:
        bar.total = total
        bar.set_postfix_str(source[-40:], refresh=False)
        bar.update(done - bar.n)

    try:
        return ingestor.ingest(paths, progress=progress)
    finally:
        bar.close()


if __name__ == "__main__":
    sys.exit(main())
