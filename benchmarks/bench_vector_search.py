"""Chroma's vector search at two breadths (``hnsw_ef_search``): exactness, sameness, speed.

Chroma searches its HNSW index approximately, weighing ``ef_search`` candidates; it rebuilds
the index of a store under its sync threshold (1,000 vectors) each time it opens it, so an
approximate search can find other chunks after a restart. This script measures, for each
breadth, on the same stores and questions, in one run:

* **recall@40** against an exact search (numpy, every vector), the top 40 being what the
  retriever asks for;
* **sameness**: whether the top 40 of every question is the same in ``--opens`` fresh
  processes (each opens the store anew, so Chroma rebuilds or reloads its index);
* **latency** of one query once the index is loaded (p50 / p95 over the questions and the
  opens; the breadths alternate, each in processes of its own).

Stores: the InsureLLM documents ingested with the bundled embedder (651 chunks), and a large
one of ``--large`` vectors made from those (each a blend of two real chunk vectors plus
noise, so they cluster as text does), in a scratch folder. Questions: the InsureLLM dev set,
embedded by the bundled embedder.

    .venv/bin/python benchmarks/bench_vector_search.py [--large 48000] [--opens 4] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "eval" / "insurellm"
BREADTHS = (100, 500)
TOP = 40
COLLECTION = "vectors"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def real_vectors(scratch: Path) -> tuple[np.ndarray, np.ndarray]:
    """The InsureLLM chunks' vectors and the dev questions', from the bundled embedder."""
    sys.path.insert(0, str(ROOT))
    from rag.app import create_service
    from rag.embedding import create_embedder
    from rag.evaluation.cases import load_tests
    from rag.settings import DEFAULT_EMBEDDING_MODEL, Settings

    embedder = create_embedder(DEFAULT_EMBEDDING_MODEL)
    settings = Settings(
        _env_file=None, db_dir=scratch / "ingested", knowledge_dir=SHARED / "knowledge-base"
    )
    service = create_service(settings, embedder_factory=lambda s: embedder)
    service.ingest_knowledge_dir()
    service.store.close()
    import chromadb

    client = chromadb.PersistentClient(path=str(settings.db_dir))
    stored = client.get_collection(settings.collection).get(include=["embeddings"])
    chunks = np.asarray(stored["embeddings"], dtype=np.float32)
    questions = [case.question for case in load_tests(SHARED / "tests.jsonl")]
    return chunks, np.asarray(embedder.embed_documents(questions), dtype=np.float32)


def blended(chunks: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """``n`` unit vectors, each a blend of two real ones plus a little noise."""
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, len(chunks), n), rng.integers(0, len(chunks), n)
    mix = rng.uniform(0.5, 1.0, (n, 1)).astype(np.float32)
    vectors = mix * chunks[a] + (1 - mix) * chunks[b]
    vectors += rng.normal(0, 0.02, vectors.shape).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def build(path: Path, vectors: np.ndarray) -> None:
    import chromadb

    client = chromadb.PersistentClient(path=str(path))
    collection = client.get_or_create_collection(
        COLLECTION, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
    )
    step = client.get_max_batch_size()
    for start in range(0, len(vectors), step):
        part = vectors[start : start + step]
        ids = [f"v{i:06d}" for i in range(start, start + len(part))]
        collection.add(ids=ids, embeddings=part.tolist())


def search(path: Path, queries: np.ndarray, breadth: int) -> dict:
    """The top ids of each query, from a client opened for this search alone (Chroma reads
    the breadth when it loads the index), and each query's time once the index is loaded."""
    import chromadb

    client = chromadb.PersistentClient(path=str(path))
    collection = client.get_collection(COLLECTION)
    collection.modify(configuration={"hnsw": {"ef_search": breadth}})
    found = collection.query(query_embeddings=queries.tolist(), n_results=TOP, include=[])
    ms = []
    for query in queries:
        started = time.perf_counter()
        collection.query(query_embeddings=[query.tolist()], n_results=TOP, include=[])
        ms.append(1000 * (time.perf_counter() - started))
    return {"ids": found["ids"], "ms": ms}


def in_fresh_process(path: Path, queries: Path, breadth: int) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--search", str(path), str(queries), str(breadth)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def measure(name: str, path: Path, vectors: np.ndarray, queries: np.ndarray, opens: int):
    exact = np.argsort(-(queries @ vectors.T), axis=1)[:, :TOP]
    exact_ids = [{f"v{i:06d}" for i in row} for row in exact]
    saved = path.parent / f"{name}-queries.npy"
    np.save(saved, queries)
    runs: dict[int, list[dict]] = {b: [] for b in BREADTHS}
    for _ in range(opens):  # the breadths alternate, so other work weighs on both alike
        for breadth in BREADTHS:
            runs[breadth].append(in_fresh_process(path, saved, breadth))
    result = {}
    for breadth, done in runs.items():
        first = done[0]["ids"]
        recall = statistics.mean(
            len(set(ids) & want) / TOP for ids, want in zip(first, exact_ids, strict=True)
        )
        same = sum(all(run["ids"][q] == first[q] for run in done) for q in range(len(queries)))
        ms = sorted(t for run in done for t in run["ms"])
        result[breadth] = {
            "recall@40": round(recall, 4),
            "same in every open": same,
            "p50 ms": round(statistics.median(ms), 2),
            "p95 ms": round(ms[int(0.95 * (len(ms) - 1))], 2),
        }
    return result


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--search":
        path, queries, breadth = Path(sys.argv[2]), np.load(sys.argv[3]), int(sys.argv[4])
        print(json.dumps(search(path, queries, breadth)))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", type=int, default=48000, help="vectors in the large store")
    parser.add_argument("--opens", type=int, default=4, help="fresh processes per breadth")
    parser.add_argument("--json", action="store_true", help="end with every figure as JSON")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    with tempfile.TemporaryDirectory(prefix="bench-vector-search-") as scratch_dir:
        scratch = Path(scratch_dir)
        log("embedding the InsureLLM chunks and questions ...")
        chunks, queries = real_vectors(scratch)
        stores = {"insurellm": chunks, f"blended {args.large}": blended(chunks, args.large)}
        results = {}
        for name, vectors in stores.items():
            path = scratch / name.replace(" ", "-")
            log(f"{name}: building a store of {len(vectors)} vectors ...")
            build(path, vectors)
            results[name] = measure(name.replace(" ", "-"), path, vectors, queries, args.opens)
    print(f"{len(queries)} questions, top {TOP}, {args.opens} fresh opens per breadth.\n")
    print("| store | ef_search | recall@40 vs exact | same top 40 in every open | p50 / p95 ms |")
    print("|---|---|---|---|---|")
    for name, by_breadth in results.items():
        for breadth, r in by_breadth.items():
            print(
                f"| {name} | {breadth} | {r['recall@40']:.4f} | "
                f"{r['same in every open']}/{len(queries)} | {r['p50 ms']} / {r['p95 ms']} |"
            )
    if args.json:
        print(json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
