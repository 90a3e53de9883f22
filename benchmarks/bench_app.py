"""Answer latency: `rag ask` as a whole process, and 5 simultaneous users of the web app.

Prints, for the embedded defaults (bundled SmolLM2 through llama.cpp on CPU):
- `python -m rag ask --json`: wall time, time to first token, peak memory (RSS) of the process;
- the web app over HTTP: one question alone (the anchor), then 5 questions sent at once, with
  each one's wait for its first token; the 5th is the one that waits longest.

Usage: .venv/bin/python benchmarks/bench_app.py [--docs DIR] [--max-new-tokens N]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devtools.servers import free_port, wait_for_http  # noqa: E402

# Asked alone first; not among the five, so llama.cpp's prompt cache can't favour one of them.
ANCHOR = "What is the context window of a model?"
QUESTIONS = [
    "What is the difference between LoRA and QLoRA?",
    "How much memory does a 4-bit 8B model need?",
    "What is reciprocal rank fusion?",
    "What does a tokenizer do?",
    "What is the KV cache?",
]


def measure_ask(env: dict[str, str]) -> dict[str, float]:
    started = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result = subprocess.run(
        [sys.executable, "-m", "rag", "ask", ANCHOR, "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    wall = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    timings = json.loads(result.stdout.strip().splitlines()[-1])["timings"]
    return {"wall_s": wall, "peak_rss_mb": max(peak_kb, before) / 1024, **timings}


def first_token_wait(url: str, question: str, max_new_tokens: int) -> tuple[float, float]:
    """(seconds to the first streamed token, seconds to the whole answer) over HTTP."""
    from gradio_client import Client

    client = Client(url, verbose=False)
    started = time.perf_counter()
    job = client.submit(question, [], "llamacpp:smollm2", 0.2, max_new_tokens, api_name="/chat")
    first = None
    for update in job:
        chat = update[0]
        if first is None and chat and chat[-1]["role"] == "assistant" and _text(chat[-1]):
            first = time.perf_counter() - started
    return first or float("nan"), time.perf_counter() - started


def _text(message: dict) -> str:
    content = message["content"]
    return content if isinstance(content, str) else " ".join(p.get("text", "") for p in content)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=Path, default=ROOT / "knowledge_base")
    parser.add_argument("--max-new-tokens", type=int, default=128)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-app-"))
    env = {
        **os.environ,
        "RAG_DB_DIR": str(workdir / "db"),
        "RAG_KNOWLEDGE_DIR": str(args.docs),
        "RAG_MAX_NEW_TOKENS": str(args.max_new_tokens),
        "HF_HUB_OFFLINE": "1",
    }
    subprocess.run(
        [sys.executable, "-m", "ingest", "-q"], cwd=ROOT, env=env, check=True, capture_output=True
    )

    ask = measure_ask(env)
    print(f"rag ask --json ({args.max_new_tokens} new tokens max), one process:")
    print(
        f"  wall {ask['wall_s']:.1f} s, model load {ask['load_ms']:.0f} ms, "
        f"retrieval {ask['retrieve_ms']:.0f} ms, first token {ask['first_token_ms']:.0f} ms, "
        f"total {ask['total_ms']:.0f} ms, peak RSS {ask['peak_rss_mb']:.0f} MB"
    )

    port = free_port()
    app = subprocess.Popen(
        [sys.executable, "app.py"],
        cwd=ROOT,
        env={**env, "GRADIO_SERVER_PORT": str(port), "GRADIO_SERVER_NAME": "127.0.0.1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_for_http(url, app)
        first_token_wait(url, QUESTIONS[1], 8)  # warm-up: loads the model
        alone = first_token_wait(url, ANCHOR, args.max_new_tokens)
        print("\nweb app over HTTP, queue concurrency 1 (the in-process model):")
        print(f"  one question alone: first token {alone[0]:.2f} s, whole answer {alone[1]:.2f} s")
        results: list[tuple[float, float]] = [(0.0, 0.0)] * len(QUESTIONS)

        def run(i: int) -> None:
            results[i] = first_token_wait(url, QUESTIONS[i], args.max_new_tokens)

        threads = [threading.Thread(target=run, args=(i,)) for i in range(len(QUESTIONS))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        waits = sorted(r[0] for r in results)
        print(f"  5 at once: first-token waits {', '.join(f'{w:.2f}' for w in waits)} s")
        print(
            f"  the 5th waits {waits[-1]:.2f} s for its first token "
            f"({waits[-1] / alone[0]:.1f}x a question alone)"
        )
    finally:
        app.terminate()
        app.wait(timeout=30)


if __name__ == "__main__":
    main()
