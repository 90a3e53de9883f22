"""How the app grows with the store: real text at two sizes, measured in one run.

The text is documentation that installed software ships (markdown, reStructuredText and plain
text under the virtual environment's site-packages and /usr/share/doc, where the READMEs, NEWS
and changelogs Debian compresses are unpacked), copied to a scratch folder: a small corpus of about ``--small`` chunks and a large one of at least ``--large``
chunks (the first files of the same list, and more). For each size, every step in a process of
its own:

- full ingest (``python -m ingest``): seconds, chunks/s, peak RSS of the process;
- the store's size on disk;
- the app's start (service, web UI built, status line counted): seconds and RSS;
- warm retrieval p50/p95 over fixed questions;
- one new file re-ingested by ``python -m ingest`` while the app runs: seconds;
- the app's first retrieval after it (its store and lexical index catch up), and whether the
  new file is found.

Targets at the large size: re-ingest < 0.02x the full ingest, first retrieval after it < 2x a
warm one, warm p50 <= 2x the small size's, app RSS <= 1.5x the small size's.

Usage: .venv/bin/python benchmarks/bench_scale.py [--small 4000] [--large 40000] [--chunk-size N] [--json]
       [--scratch DIR [--reuse]] (results in benchmarks/README.md, "Scale"). With --reuse, a run
       stopped after a full ingest goes on from the store that ingest left.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [Path(sysconfig.get_paths()["purelib"]), Path("/usr/share/doc")]
SUFFIXES = {".md", ".rst", ".txt"}
# Package metadata and legal boilerplate: not documentation anyone asks about.
SKIPPED_NAMES = {
    "entry_points.txt",
    "top_level.txt",
    "dependency_links.txt",
    "sources.txt",
    "requires.txt",
    "namespace_packages.txt",
    "not-zip-safe",
}
SKIPPED_PREFIXES = ("license", "licence", "copying", "notice", "authors", "third_party")
# Compressed documents of /usr/share/doc worth reading, by the start of their name.
PACKED_PREFIXES = ("readme", "news", "changelog", "changes", "history")
# Characters per chunk, for choosing files before ingesting (chunks of 800 with overlap);
# --chunk-size changes it with the chunking the children use.
CHARS_PER_CHUNK = 640
#: Characters of the file re-ingested as "one new file": a typical note's size.
TYPICAL_NEW_FILE = (2_000, 20_000)
CHUNKING: dict[str, str] = {}  # RAG_CHUNK_SIZE / RAG_CHUNK_OVERLAP for the children
QUESTIONS = [
    "How do I install this package?",
    "What license is the software distributed under?",
    "How do I configure logging?",
    "What changed in the latest release?",
    "How do I run the test suite?",
    "What is the default timeout for a request?",
    "How to read a CSV file?",
    "How are environment variables used for configuration?",
    "What Python versions are supported?",
    "How do I report a security vulnerability?",
    "What does the deprecation warning mean?",
    "How do I enable debug mode?",
    "How can I contribute a patch?",
    "What is the command line interface?",
    "How do I parse JSON?",
    "What is a virtual environment?",
    "How is thread safety handled?",
    "How do I cache results?",
    "What encoding is used for text files?",
    "How do I upgrade from an older version?",
]


def load() -> str:
    return f"{os.getloadavg()[0]:.2f}"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')} load {load()}] {message}", file=sys.stderr, flush=True)


# --- the corpus ---------------------------------------------------------------------------------
def _unpacked_size(path: Path) -> int:
    """A gzip file's uncompressed size, from its trailer (modulo 4 GiB, ample here)."""
    with path.open("rb") as handle:
        handle.seek(-4, os.SEEK_END)
        return int.from_bytes(handle.read(4), "little")


def _document(path: Path) -> tuple[int, bool] | None:
    """(characters, compressed) of a documentation file worth copying, else None."""
    name = path.name.lower()
    if any(part.endswith((".dist-info", ".egg-info")) for part in path.parts):
        return None

    if name.endswith(".gz"):
        if not name.startswith(PACKED_PREFIXES):
            return None
        return _unpacked_size(path), True
    if (
        path.suffix.lower() not in SUFFIXES
        or name in SKIPPED_NAMES
        or name.startswith(SKIPPED_PREFIXES)
    ):
        return None
    return path.stat().st_size, False


def candidates() -> list[tuple[Path, Path, int]]:
    """(file, its source folder, characters) of every documentation file, in a fixed order:
    the virtual environment's first, then the system's."""
    found = []
    for base in SOURCES:
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*")):
            hidden = any(part.startswith(".") for part in path.relative_to(base).parts)
            if hidden or path.is_symlink() or not path.is_file():  # ingestion skips hidden ones
                continue
            document = _document(path)
            if document is not None and 500 <= document[0] <= 1_000_000:
                found.append((path, base, document[0]))
    return found


def copy_corpus(files: list[tuple[Path, Path, int]], target: Path) -> None:
    for path, base, _ in files:
        destination = target / base.name / path.relative_to(base)
        destination.parent.mkdir(parents=True, exist_ok=True)
        if path.name.lower().endswith(".gz"):  # "changelog.Debian.gz" -> "changelog.Debian.txt"
            destination = destination.with_name(destination.name[:-3] + ".txt")
            destination.write_bytes(gzip.decompress(path.read_bytes()))
        else:
            shutil.copyfile(path, destination)


def take(files: list[tuple[Path, Path, int]], chunks: int) -> list[tuple[Path, Path, int]]:
    """The first files of the list whose text makes about ``chunks`` chunks."""
    chosen, total, budget = [], 0, chunks * CHARS_PER_CHUNK
    for item in files:
        if total >= budget:
            break
        if chosen and total + item[2] > budget * 1.2:
            continue  # one huge changelog would overshoot the size several times
        chosen.append(item)
        total += item[2]
    return chosen


# --- children: each step in a process of its own ---------------------------------------------
def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_ingest(db: Path, docs: Path) -> dict[str, Any]:
    import contextlib
    import io

    from ingest.__main__ import main

    started = time.perf_counter()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main([str(docs), "--db", str(db), "--json", "-q"])
    seconds = time.perf_counter() - started
    report = json.loads(out.getvalue().strip().splitlines()[-1])
    return {
        "status": status,
        "seconds": seconds,
        "chunks": report["chunks"],
        "files": report["files"],
        "added": report["added"],
        "failed": report["failed"],
        "peak_rss_mb": peak_mb(),
    }


def child_app(db: Path, docs: Path, new_question: str) -> None:
    """Start the app, time warm retrieval, then wait for "go" and time the first retrieval
    after someone else's ingest; one JSON line per step on stdout."""
    started = time.perf_counter()
    from rag.app import create_service
    from rag.settings import Settings
    from rag.ui import build_app

    settings = Settings(_env_file=None, db_dir=db, knowledge_dir=docs)
    service = create_service(settings)
    service.watch_store()  # as app.py does
    build_app(service)
    documents, chunks = service.library_size()
    start_s = time.perf_counter() - started
    emit(
        {
            "step": "start",
            "start_s": start_s,
            "rss_mb": rss_mb(),
            "documents": documents,
            "chunks": chunks,
        }
    )
    for question in QUESTIONS[:5]:  # warm-up: model, caches
        service.retrieve(question)
    timings = []
    for _ in range(3):
        for question in QUESTIONS:
            t = time.perf_counter()
            service.retrieve(question)
            timings.append((time.perf_counter() - t) * 1000)
    cuts = statistics.quantiles(timings, n=100)
    emit(
        {
            "step": "warm",
            "p50_ms": cuts[49],
            "p95_ms": cuts[94],
            "n": len(timings),
            "rss_mb": rss_mb(),
            "load": load(),
        }
    )
    sys.stdin.readline()  # the parent has re-ingested
    t = time.perf_counter()
    passages = service.retrieve(new_question)
    first_ms = (time.perf_counter() - t) * 1000
    t = time.perf_counter()
    service.retrieve(new_question)  # the same again: what the first one cost beyond its own
    again_ms = (time.perf_counter() - t) * 1000
    t = time.perf_counter()
    service.retrieve(QUESTIONS[0])
    next_ms = (time.perf_counter() - t) * 1000
    emit(
        {
            "step": "after",
            "first_ms": first_ms,
            "same_again_ms": again_ms,
            "next_ms": next_ms,
            "found": [p.source for p in passages[:3]],
            "rss_mb": rss_mb(),
            "load": load(),
        }
    )


def emit(figures: dict[str, Any]) -> None:
    print(json.dumps(figures), flush=True)


def run_child(*args: str) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, __file__, "--child", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=child_env(),
    )
    if result.returncode != 0:
        raise RuntimeError(f"{args[0]} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env["PYTHONPATH"] = str(ROOT)
    env["HF_HUB_OFFLINE"] = "1"
    env.update(CHUNKING)
    return env


def du_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1024 / 1024


# --- one size -------------------------------------------------------------------------------------
def measure(
    label: str, docs: Path, db: Path, new_file: tuple[Path, Path, int], reuse: bool
) -> dict[str, Any]:
    saved = db.parent / f"{label}-ingest.json"
    if reuse and saved.is_file():  # a run stopped after its ingest: the rest again, same store
        full = json.loads(saved.read_text())
        log(f"{label}: reusing the full ingest recorded in {saved}")
        # An earlier run's new file, still in the store, would make the re-ingest below a no-op.
        shutil.rmtree(docs / "new", ignore_errors=True)
        log(f"{label}: back to the corpus alone: {run_child('ingest', str(db), str(docs))}")
    else:
        log(f"{label}: full ingest of {docs}")
        full = run_child("ingest", str(db), str(docs))
        full["chunks_per_s"] = full["chunks"] / full["seconds"]
        full["load"] = load()
        saved.write_text(json.dumps(full))
    log(f"{label}: {full}")
    figures: dict[str, Any] = {"ingest": full, "store_mb": du_mb(db)}
    new_path = new_file[0]
    question = new_path.stem.replace("_", " ").replace("-", " ")
    app = subprocess.Popen(
        [sys.executable, __file__, "--child", "app", str(db), str(docs), question],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=child_env(),
    )
    assert app.stdin is not None and app.stdout is not None
    figures["start"] = json.loads(app.stdout.readline())
    log(f"{label}: app {figures['start']}")
    figures["warm"] = json.loads(app.stdout.readline())
    log(f"{label}: warm {figures['warm']}")
    target = docs / "new" / new_path.name
    shutil.rmtree(docs / "new", ignore_errors=True)
    copy_corpus([new_file], docs / "new")
    log(f"{label}: re-ingest after adding {target.relative_to(docs)}")
    again = run_child("ingest", str(db), str(docs))
    again["load"] = load()
    figures["reingest"] = again
    log(f"{label}: {again}")
    app.stdin.write("go\n")
    app.stdin.flush()
    figures["after"] = json.loads(app.stdout.readline())
    figures["new_file"] = str(target.relative_to(docs))
    log(f"{label}: after {figures['after']}")
    app.wait(timeout=120)
    return figures


def summary(small: dict[str, Any], large: dict[str, Any]) -> list[str]:
    def row(name: str, get, unit: str, digits: int = 1) -> str:
        a, b = get(small), get(large)
        growth = f"x{b / a:.2f}" if a else "-"
        return f"{name:44} {a:12,.{digits}f} {b:12,.{digits}f} {growth:>8}  {unit}"

    lines = [f"{'':44} {'small':>12} {'large':>12} {'growth':>8}"]
    lines.append(row("chunks", lambda f: f["ingest"]["chunks"], "", 0))
    lines.append(row("files", lambda f: f["ingest"]["files"], "", 0))
    lines.append(row("full ingest", lambda f: f["ingest"]["seconds"], "s"))
    lines.append(row("ingest throughput", lambda f: f["ingest"]["chunks_per_s"], "chunks/s"))
    lines.append(row("peak RSS of the ingest", lambda f: f["ingest"]["peak_rss_mb"], "MB", 0))
    lines.append(row("store on disk", lambda f: f["store_mb"], "MB"))
    lines.append(row("app start", lambda f: f["start"]["start_s"], "s"))
    lines.append(row("app RSS after start", lambda f: f["start"]["rss_mb"], "MB", 0))
    lines.append(row("app RSS after retrievals", lambda f: f["warm"]["rss_mb"], "MB", 0))
    lines.append(row("warm retrieval p50", lambda f: f["warm"]["p50_ms"], "ms"))
    lines.append(row("warm retrieval p95", lambda f: f["warm"]["p95_ms"], "ms"))
    lines.append(row("one new file re-ingested", lambda f: f["reingest"]["seconds"], "s"))
    lines.append(row("first retrieval after it", lambda f: f["after"]["first_ms"], "ms"))
    lines.append(row("the same question again", lambda f: f["after"]["same_again_ms"], "ms"))
    lines.append(row("the retrieval after that", lambda f: f["after"]["next_ms"], "ms"))
    checks = [
        (
            "re-ingest < 0.02x full ingest",
            large["reingest"]["seconds"] / large["ingest"]["seconds"],
            0.02,
        ),
        (
            "first retrieval after it < 2x warm p50",
            large["after"]["first_ms"] / large["warm"]["p50_ms"],
            2.0,
        ),
        ("warm p50 <= 2x small's", large["warm"]["p50_ms"] / small["warm"]["p50_ms"], 2.0),
        ("app RSS <= 1.5x small's", large["warm"]["rss_mb"] / small["warm"]["rss_mb"], 1.5),
    ]
    lines.append("")
    for name, value, limit in checks:
        verdict = "met" if value <= limit else "NOT met"
        lines.append(f"target at the large size: {name:42} {value:6.3f} (limit {limit}) {verdict}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int, default=4000, help="chunks of the small corpus")
    parser.add_argument("--large", type=int, default=40000, help="chunks of the large corpus")
    parser.add_argument("--scratch", type=Path, help="work folder (default: a temporary one)")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="with --scratch: keep stores whose full ingest an earlier run recorded",
    )
    parser.add_argument(
        "--chunk-size",
        type=int,
        help="characters per chunk for both sizes (default: the app's, 800); smaller chunks "
        "reach the chunk counts with less text, so a slow CPU embeds them sooner",
    )
    parser.add_argument("--json", action="store_true", help="end with every figure as JSON")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        kind, *rest = args.child
        if kind == "ingest":
            emit(child_ingest(Path(rest[0]), Path(rest[1])))
        else:
            child_app(Path(rest[0]), Path(rest[1]), rest[2])
        return 0
    if args.chunk_size:
        global CHARS_PER_CHUNK
        CHARS_PER_CHUNK = int(args.chunk_size * 0.8)
        CHUNKING.update(
            RAG_CHUNK_SIZE=str(args.chunk_size), RAG_CHUNK_OVERLAP=str(args.chunk_size // 8)
        )
    scratch = args.scratch or Path(tempfile.mkdtemp(prefix="bench-scale-"))
    scratch.mkdir(parents=True, exist_ok=True)
    files = candidates()
    # 10% more text than the target: headings and short sections make more, smaller chunks,
    # but some files are refused or come out shorter.
    large_files = take(files, int(args.large * 1.1))
    small_files = take(files, args.small)
    # The new file is a typical document, not the next file in the list (a 176 kB changelog
    # at short chunk sizes is thousands of chunks: a bulk load, not "one new file").
    unused = [f for f in files if f not in large_files]
    spare = next(
        (f for f in unused if TYPICAL_NEW_FILE[0] <= f[2] <= TYPICAL_NEW_FILE[1]), files[-1]
    )
    log(
        f"{len(files)} documentation files found; small: {len(small_files)} files, "
        f"large: {len(large_files)} files; scratch {scratch}"
    )
    results = {}
    try:
        for label, chosen in (("small", small_files), ("large", large_files)):
            docs = scratch / f"{label}-docs"
            db = scratch / f"{label}-db"
            if not (args.reuse and (scratch / f"{label}-ingest.json").is_file()):
                shutil.rmtree(docs, ignore_errors=True)
                shutil.rmtree(db, ignore_errors=True)
                (scratch / f"{label}-ingest.json").unlink(missing_ok=True)
                copy_corpus(chosen, docs)
            results[label] = measure(label, docs, db, spare, args.reuse)
    finally:
        if not args.scratch:
            shutil.rmtree(scratch, ignore_errors=True)
    print(f"CPU cores: {os.cpu_count()}, load average at the end: {load()}")
    print("\n".join(summary(results["small"], results["large"])))
    if args.json:
        print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
