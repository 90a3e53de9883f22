"""Ingestion: a full ingest against the course's pipeline, then the incremental re-runs.

On a copy of the InsureLLM knowledge base (76 markdown files), in one run:
- the course pipeline (DirectoryLoader + TextLoader, RecursiveCharacterTextSplitter 500/200,
  langchain_huggingface's HuggingFaceEmbeddings over the bundled MiniLM, langchain_chroma)
  and `python -m ingest`, each as a whole process: wall time, chunks/s, peak memory (RSS);
  `--rounds N` alternates them N times and keeps each one's fastest run;
- `python -m ingest` with its defaults (the model in ONNX Runtime), with the other precision
  there (RAG_EMBEDDING_QUANTIZED: int8 if the default is float32, float32 if it is int8) and
  with the model in sentence-transformers (RAG_EMBEDDING_RUNTIME=sentence-transformers), in the
  same rounds;
- `python -m ingest` again with nothing changed, after one file was edited, after one was
  deleted (whole processes), and whether the unchanged run imported torch (`-X importtime`);
- in-process: the unchanged run's work as a share of a full ingest's;
- why the old ingest was slow: the same chunks embedded as it did (groups of 64 in file
  order, forward passes of 64) and as it does now (groups of 256 sorted by length, passes of
  16), through sentence-transformers and through ONNX Runtime, with the padding each wastes.

- with ``--baseline-tree DIR``, an earlier commit's ``python -m ingest`` (a checkout of it) in the
  same rounds.

Usage: .venv/bin/python benchmarks/bench_ingest.py [--kb DIR] [--rounds N] [--baseline-tree DIR] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_KB = ROOT.parent / "shared" / "eval" / "insurellm" / "knowledge-base"
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
ST = "sentence-transformers"


def other_precision() -> tuple[str, str]:
    """(label, RAG_EMBEDDING_QUANTIZED value) of the precision that isn't the default."""
    from rag.settings import Settings

    quantized = not Settings(_env_file=None).embedding_quantized
    return ("int8" if quantized else "float32"), str(quantized).lower()


def run_measured(command: list[str], cwd: Path = ROOT, **env: str) -> dict:
    """Run ``command``: wall time, the child's own peak RSS, and its last stdout line as JSON."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, env={**ENV, **env}, stdout=out, stderr=err)
        # wait4 gives this child's own rusage (RUSAGE_CHILDREN keeps the largest child so far).
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if process.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{stderr[-2000:]}")
    last = stdout.strip().splitlines()[-1] if stdout.strip() else ""
    try:
        payload = json.loads(last)
    except ValueError:
        payload = {"line": last}
    return {"wall_s": wall, "rss_mb": usage.ru_maxrss / 1024, "stderr": stderr, **payload}


# --- the course pipeline, in a process of its own -------------------------------------------
def course_worker(kb: Path, db: Path) -> None:
    """The course's ingest: load, split 500/200, embed with HuggingFaceEmbeddings, Chroma."""
    started = time.perf_counter()
    from langchain_chroma import Chroma
    from langchain_community.document_loaders import DirectoryLoader, TextLoader
    from langchain_huggingface import HuggingFaceEmbeddings
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from rag.core import resolve_embedding_model
    from rag.settings import DEFAULT_EMBEDDING_MODEL

    imported = time.perf_counter()
    documents = []
    for folder in sorted(p for p in kb.iterdir() if p.is_dir()):
        loader = DirectoryLoader(
            str(folder),
            glob="**/*.md",
            loader_cls=TextLoader,
            loader_kwargs={"encoding": "utf-8"},
        )
        for document in loader.load():
            document.metadata["doc_type"] = folder.name
            documents.append(document)
    splitter = RecursiveCharacterTextSplitter(chunk_size=500, chunk_overlap=200)
    chunks = splitter.split_documents(documents)
    split = time.perf_counter()
    embeddings = HuggingFaceEmbeddings(model_name=resolve_embedding_model(DEFAULT_EMBEDDING_MODEL))
    loaded = time.perf_counter()
    Chroma.from_documents(documents=chunks, embedding=embeddings, persist_directory=str(db))
    done = time.perf_counter()
    print(
        json.dumps(
            {
                "files": len(documents),
                "chunks": len(chunks),
                "chars": sum(len(c.page_content) for c in chunks),
                "import_s": imported - started,
                "load_split_s": split - imported,
                "model_s": loaded - split,
                "embed_store_s": done - loaded,
            }
        )
    )


# --- ours -----------------------------------------------------------------------------------
def ingest_command(kb: Path, db: Path, *extra: str) -> list[str]:
    return [sys.executable, *extra, "-m", "ingest", str(kb), "--db", str(db), "--json", "-q"]


def in_process(kb: Path, db: Path) -> dict:
    """The job's own seconds (report.seconds) for a full ingest, then an unchanged one."""
    from ingest.pipeline import Ingestor
    from rag.embedding import embedder_for
    from rag.settings import Settings
    from rag.store import open_store

    settings = Settings(_env_file=None, db_dir=db)
    ingestor = Ingestor.from_settings(
        settings, open_store(settings), lambda: embedder_for(settings)
    )
    full = ingestor.ingest([kb])
    unchanged = ingestor.ingest([kb])
    assert unchanged.chunks_written == 0
    return {"full_s": full.seconds, "unchanged_s": unchanged.seconds, "chunks": full.chunks_written}


def padding_and_batching(db: Path) -> dict:
    """Embed the stored chunks as the old ingest did and as it does now; tokens and seconds."""
    import torch
    from transformers import AutoTokenizer

    from rag.core import join_header, resolve_embedding_model, stored_parts
    from rag.embedding import SentenceTransformerEmbedder, create_embedder
    from rag.settings import DEFAULT_EMBEDDING_MODEL, Settings
    from rag.store import open_store

    chunks = open_store(Settings(_env_file=None, db_dir=db)).all_chunks()
    chunks.sort(key=lambda c: (c.metadata["source"], c.metadata["chunk_index"]))
    parts = [stored_parts(c.text, c.metadata) for c in chunks]
    texts = [join_header(header, body) for header, body in parts]  # what the model reads
    tokenizer = AutoTokenizer.from_pretrained(resolve_embedding_model(DEFAULT_EMBEDDING_MODEL))
    lengths = [min(len(ids), 256) for ids in tokenizer(texts)["input_ids"]]
    headers = [len(tokenizer(header)["input_ids"]) - 2 for header, _ in parts]

    def padded(group: int, batch: int) -> int:
        total = 0
        for start in range(0, len(lengths), group):
            part = sorted(lengths[start : start + group], reverse=True)
            total += sum(
                max(part[i : i + batch]) * len(part[i : i + batch])
                for i in range(0, len(part), batch)
            )
        return total

    runs = {
        # How the old ingest called the model: groups of 64 chunks in file order, passes of 64.
        "old": (SentenceTransformerEmbedder(DEFAULT_EMBEDDING_MODEL, batch_size=64), 64),
        # Groups of 256 (sentence-transformers sorts each by length), passes of 16.
        "sorted": (SentenceTransformerEmbedder(DEFAULT_EMBEDDING_MODEL, batch_size=16), 256),
        # The same in ONNX Runtime (the default), sorted by length too.
        "ours": (create_embedder(DEFAULT_EMBEDDING_MODEL, batch_size=16), 256),
    }
    timings = {}
    for label, (embedder, group) in runs.items():
        embedder.embed_documents(texts[:8])  # warm-up
        started = time.perf_counter()
        for start in range(0, len(texts), group):
            embedder.embed_documents(texts[start : start + group])
        timings[label] = time.perf_counter() - started
    return {
        "chunks": len(texts),
        "torch_threads": torch.get_num_threads(),
        "tokens": sum(lengths),
        "tokens_mean": statistics.mean(lengths),
        "header_tokens": sum(headers),
        "truncated_at_256": sum(1 for t in tokenizer(texts)["input_ids"] if len(t) > 256),
        "padded_old": padded(64, 64),
        "padded_new": padded(256, 16),
        "embed_s": timings,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kb", type=Path, default=DEFAULT_KB)
    parser.add_argument("--rounds", type=int, default=2, help="alternated full ingests per side")
    parser.add_argument("--json", action="store_true", help="end with the figures as JSON")
    parser.add_argument(
        "--baseline-tree",
        type=Path,
        help="a checkout of an earlier commit whose `python -m ingest` runs in the same rounds "
        "(e.g. `git worktree add /tmp/handwritten 582a56f^`: the hand-written forward pass)",
    )
    parser.add_argument("--course-worker", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.course_worker:
        course_worker(*args.course_worker)
        return
    work = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    try:
        kb = work / "kb"
        shutil.copytree(args.kb, kb)
        files = sorted(p for p in kb.rglob("*") if p.is_file())
        print(
            f"{len(files)} files, {sum(p.stat().st_size for p in files) / 1024:.0f} KB, copied to {kb}"
        )

        print(f"load average at the start: {os.getloadavg()}")
        course_runs, ours_runs, other_runs, st_runs, baseline_runs = [], [], [], [], []
        other_label, other_value = other_precision()
        for round_ in range(args.rounds):
            course_runs.append(
                run_measured(
                    [
                        sys.executable,
                        __file__,
                        "--course-worker",
                        str(kb),
                        str(work / f"course{round_}"),
                    ]
                )
            )
            ours_runs.append(run_measured(ingest_command(kb, work / f"db{round_}")))
            other_runs.append(
                run_measured(
                    ingest_command(kb, work / f"other-{round_}"),
                    RAG_EMBEDDING_QUANTIZED=other_value,
                )
            )
            st_runs.append(
                run_measured(ingest_command(kb, work / f"st-{round_}"), RAG_EMBEDDING_RUNTIME=ST)
            )
            if args.baseline_tree:
                baseline_runs.append(
                    run_measured(ingest_command(kb, work / f"base-{round_}"), args.baseline_tree)
                )
                print(f"baseline tree {baseline_runs[-1]['wall_s']:.1f} s", flush=True)
            print(
                f"round {round_ + 1}: course {course_runs[-1]['wall_s']:.1f} s, "
                f"ours {ours_runs[-1]['wall_s']:.1f} s, "
                f"ours in {other_label} {other_runs[-1]['wall_s']:.1f} s, "
                f"ours in sentence-transformers {st_runs[-1]['wall_s']:.1f} s, "
                f"load {os.getloadavg()[0]:.1f}",
                flush=True,
            )
        course = min(course_runs, key=lambda r: r["wall_s"])
        full = min(ours_runs, key=lambda r: r["wall_s"])
        st_full = min(st_runs, key=lambda r: r["wall_s"])
        other_full = min(other_runs, key=lambda r: r["wall_s"])
        db = work / "db0"

        unchanged = run_measured(ingest_command(kb, db))
        imports = run_measured(ingest_command(kb, db, "-X", "importtime"))
        imported = {
            line.split("|")[-1].strip() for line in imports["stderr"].splitlines() if "|" in line
        }
        edited_file = kb / "products" / "Carllm.md"
        edited_file.write_text(
            edited_file.read_text(encoding="utf-8")
            + "\n\n## Week 5 update\n\nCarllm now covers rental cars in 12 more states.\n",
            encoding="utf-8",
        )
        edited = run_measured(ingest_command(kb, db))
        edited_file.write_text(edited_file.read_text(encoding="utf-8") + "\nAnd Alaska.\n")
        # On the store sentence-transformers built: a store takes only the vectors it holds.
        edited_st = run_measured(ingest_command(kb, work / "st-0"), RAG_EMBEDDING_RUNTIME=ST)
        (kb / "employees" / "Alex Chen.md").unlink()
        deleted = run_measured(ingest_command(kb, db))
        assert unchanged["chunks"] == 0 and edited["updated"] == 1 and deleted["removed"] == 1
        assert edited_st["updated"] == 1

        inproc = in_process(kb, work / "inproc")
        diagnosis = padding_and_batching(db)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    full_chunks = full["chunks"]
    figures = {
        "course": {
            "wall_s": course["wall_s"],
            "chunks": course["chunks"],
            "chunks_per_s": course["chunks"] / course["wall_s"],
            "rss_mb": course["rss_mb"],
            "phases_s": {
                k: course[k] for k in ("import_s", "load_split_s", "model_s", "embed_store_s")
            },
            "all_walls_s": [r["wall_s"] for r in course_runs],
        },
        "full": {
            "wall_s": full["wall_s"],
            "chunks": full_chunks,
            "chunks_per_s": full_chunks / full["wall_s"],
            "rss_mb": full["rss_mb"],
            "job_s": full["seconds"],
            "all_walls_s": [r["wall_s"] for r in ours_runs],
        },
        "full_other_precision": {
            "precision": other_label,
            "wall_s": other_full["wall_s"],
            "chunks": other_full["chunks"],
            "rss_mb": other_full["rss_mb"],
            "all_walls_s": [r["wall_s"] for r in other_runs],
        },
        "full_sentence_transformers": {
            "wall_s": st_full["wall_s"],
            "chunks": st_full["chunks"],
            "rss_mb": st_full["rss_mb"],
            "all_walls_s": [r["wall_s"] for r in st_runs],
        },
        "baseline_tree": {
            "tree": str(args.baseline_tree),
            "wall_s": min(r["wall_s"] for r in baseline_runs),
            "chunks": baseline_runs[0]["chunks"],
            "rss_mb": min(baseline_runs, key=lambda r: r["wall_s"])["rss_mb"],
            "all_walls_s": [r["wall_s"] for r in baseline_runs],
        }
        if baseline_runs
        else None,
        "load_average": os.getloadavg(),
        "unchanged": {
            "wall_s": unchanged["wall_s"],
            "rss_mb": unchanged["rss_mb"],
            "imports_torch": "torch" in imported,
            "imports_sentence_transformers": "sentence_transformers" in imported,
        },
        "one_edited": {
            "wall_s": edited["wall_s"],
            "chunks": edited["chunks"],
            "rss_mb": edited["rss_mb"],
        },
        "one_edited_sentence_transformers": {
            "wall_s": edited_st["wall_s"],
            "rss_mb": edited_st["rss_mb"],
        },
        "one_deleted": {"wall_s": deleted["wall_s"], "rss_mb": deleted["rss_mb"]},
        "in_process": inproc,
        "embedding": diagnosis,
    }
    ratios = {
        "unchanged / full (process), target <= 0.15": unchanged["wall_s"] / full["wall_s"],
        "one edited / full (process), target <= 0.25": edited["wall_s"] / full["wall_s"],
        "one deleted / full (process)": deleted["wall_s"] / full["wall_s"],
        "unchanged / full (in-process job), target <= 0.02": inproc["unchanged_s"]
        / inproc["full_s"],
        "course / ours (full ingest, process), target >= 2": course["wall_s"] / full["wall_s"],
        f"course / ours in {other_label}": course["wall_s"] / other_full["wall_s"],
        "course / ours in sentence-transformers": course["wall_s"] / st_full["wall_s"],
    }
    if baseline_runs:
        ratios["course / baseline tree"] = course["wall_s"] / figures["baseline_tree"]["wall_s"]
    figures["ratios"] = ratios

    print()
    print(f"{'':34} {'wall s':>8} {'chunks':>7} {'chunks/s':>9} {'peak RSS MB':>12}")
    rows = [
        ("course pipeline (full)", course["wall_s"], course["chunks"], course["rss_mb"]),
        ("python -m ingest (full)", full["wall_s"], full_chunks, full["rss_mb"]),
        (
            f"  same, {other_label}",
            other_full["wall_s"],
            other_full["chunks"],
            other_full["rss_mb"],
        ),
        ("  same, sentence-transformers", st_full["wall_s"], st_full["chunks"], st_full["rss_mb"]),
        *(
            [
                (
                    "baseline tree (full)",
                    *(figures["baseline_tree"][k] for k in ("wall_s", "chunks", "rss_mb")),
                )
            ]
            if baseline_runs
            else []
        ),
        ("python -m ingest (nothing changed)", unchanged["wall_s"], 0, unchanged["rss_mb"]),
        ("python -m ingest (1 file edited)", edited["wall_s"], edited["chunks"], edited["rss_mb"]),
        (
            "  same, through sentence-transformers",
            edited_st["wall_s"],
            edited_st["chunks"],
            edited_st["rss_mb"],
        ),
        (
            "python -m ingest (1 file deleted)",
            deleted["wall_s"],
            deleted["chunks"],
            deleted["rss_mb"],
        ),
    ]
    for label, wall, chunks, rss in rows:
        rate = f"{chunks / wall:9.1f}" if chunks else f"{'-':>9}"
        print(f"{label:34} {wall:8.2f} {chunks:7d} {rate} {rss:12.0f}")
    print()
    print(f"in-process job: full {inproc['full_s']:.2f} s, unchanged {inproc['unchanged_s']:.3f} s")
    print(f"unchanged run imports torch: {figures['unchanged']['imports_torch']}")
    phases = figures["course"]["phases_s"]
    print("course phases: " + ", ".join(f"{k} {v:.1f}" for k, v in phases.items()))
    d = diagnosis
    print(
        f"embedding {d['chunks']} chunks ({d['tokens']} tokens, mean {d['tokens_mean']:.0f}, "
        f"{d['header_tokens']} in header lines, {d['truncated_at_256']} cut at 256; "
        f"torch threads {d['torch_threads']}):\n"
        f"  old batching (groups of 64 in file order, passes of 64): {d['padded_old']} padded "
        f"tokens, sentence-transformers {d['embed_s']['old']:.1f} s\n"
        f"  new batching (groups of 256 sorted by length, passes of 16): {d['padded_new']} "
        f"padded tokens, sentence-transformers {d['embed_s']['sorted']:.1f} s, "
        f"ONNX Runtime {d['embed_s']['ours']:.1f} s"
    )
    print()
    for label, value in ratios.items():
        print(f"{label:52} {value:6.3f}")
    if args.json:
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
