"""Chat backends side by side: time to first token and tokens per second on RAG prompts.

Every backend that runs here gets the same messages: real chunks retrieved from the sample
notes (knowledge_base/, else the tests' documents), put in the grounded prompt by
rag.answer.prompt.build_prompt. All three serve the same weights (the bundled SmolLM2-135M), so the
figures compare the runtimes, not the models:
- llamacpp: llama.cpp in this process (the app's default);
- openai:   llama-cpp-python's OpenAI-compatible server on loopback, through the openai SDK;
- hf:       transformers on CPU, the GGUF dequantized to float32.

Answers are greedy (temperature 0) and counted in the model's own tokens, so the backends
are measured on the same text. Time to first token includes reading the prompt; tokens/s is
the rate after the first token. Each backend answers a warm-up question first.

llama.cpp runs with the app's default threads (all cores but one), and once more with every
core, to show what that default is worth on this machine. The last column says how much of the
CPU other processes took during each run: on a shared machine that moves the figures a lot.

Usage: .venv/bin/python benchmarks/bench_llm.py [--docs DIR] [--max-new-tokens N] [--k K]
       [--backends llamacpp,openai,hf,llamacpp@2]
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devtools.servers import start_llama_cpp_server  # noqa: E402
from rag.answer import build_prompt  # noqa: E402
from rag.core import bundled_gguf  # noqa: E402
from rag.llms import GenerationOptions, create_chat_model  # noqa: E402
from rag.settings import Settings  # noqa: E402

QUESTIONS = [
    "What is a context window and why does its length matter?",
    "How does QLoRA differ from LoRA?",
    "What does a retrieval-augmented generation pipeline do before it calls the model?",
    "What is the difference between frontier models and open-weight models?",
]
WARM_UP = [{"role": "user", "content": "Say hello."}]


def build_store(docs: Path, workdir: Path):
    from rag.app import create_service

    settings = Settings(_env_file=None, db_dir=workdir / "db", knowledge_dir=docs)
    service = create_service(settings)
    service.ingest_knowledge_dir()
    return service


def sample_docs(requested: Path | None, workdir: Path) -> Path:
    if requested:
        return requested
    notes = ROOT / "knowledge_base"
    if notes.is_dir() and any(notes.iterdir()):
        return notes
    from devtools.sample_documents import write_sample_documents

    write_sample_documents(workdir / "docs")
    return workdir / "docs"


def prompts(service, k: int, max_new_tokens: int, tokenizer) -> list[list[dict]]:
    """The grounded messages for each question, fitted with the model's own tokenizer."""
    fitted = []
    for question in QUESTIONS:
        chunks = service.retrieve(question, k)
        prompt = build_prompt(
            question,
            chunks,
            [],
            count_tokens=tokenizer.count_tokens,
            context_window=tokenizer.context_window,
            max_new_tokens=max_new_tokens,
        )
        fitted.append(prompt.messages)
    return fitted


def time_answer(model, messages, options, count_tokens) -> dict[str, float]:
    started = time.perf_counter()
    first = None
    pieces = []
    for piece in model.stream_chat(messages, options):
        if first is None:
            first = time.perf_counter()
        pieces.append(piece)
    done = time.perf_counter()
    first = first or done
    tokens = count_tokens("".join(pieces))
    decode_s = done - first
    return {
        "ttft_s": first - started,
        "tokens": tokens,
        "tok_s": (tokens - 1) / decode_s if tokens > 1 and decode_s > 0 else float("nan"),
        "total_s": done - started,
    }


def bench_backend(name, spec, settings, messages_list, options, count_tokens, server_s) -> dict:
    started = time.perf_counter()
    model = create_chat_model(spec, settings)
    load_s = time.perf_counter() - started + server_s
    list(model.stream_chat(WARM_UP, GenerationOptions(0.0, 8)))
    runs = [time_answer(model, m, options, count_tokens) for m in messages_list]
    del model
    gc.collect()
    return {
        "backend": name,
        "spec": spec,
        "load_s": load_s,
        "ttft_s": statistics.median(r["ttft_s"] for r in runs),
        "tok_s": statistics.median(r["tok_s"] for r in runs),
        "tokens": statistics.mean(r["tokens"] for r in runs),
        "total_s": sum(r["total_s"] for r in runs),
    }


def cpu_seconds() -> tuple[float, float]:
    """(CPU seconds used on the whole machine, CPU seconds used by this process and its
    waited-for children), to tell how much of the machine others took during a run."""
    ticks = os.sysconf("SC_CLK_TCK")
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    busy = sum(fields[:3]) + sum(fields[5:8])  # user nice system, irq softirq steal
    own = sum(
        getattr(resource.getrusage(who), attr)
        for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
        for attr in ("ru_utime", "ru_stime")
    )
    return busy / ticks, own


def parse_runs(text: str, default_threads: int) -> list[tuple[str, int]]:
    """ "llamacpp,llamacpp@2,openai,hf" -> [(backend, threads)]."""
    runs = []
    for item in text.split(","):
        backend, _, threads = item.strip().partition("@")
        if backend not in {"llamacpp", "openai", "hf"}:
            raise SystemExit(f"unknown backend {backend!r}: use llamacpp, openai or hf")
        runs.append((backend, int(threads) if threads else default_threads))
    return runs


def main() -> None:
    from rag.llms.llamacpp import default_threads

    cores = len(os.sched_getaffinity(0))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--docs", type=Path, help="notes to retrieve from (default: knowledge_base)"
    )
    parser.add_argument("--max-new-tokens", type=int, default=96)
    parser.add_argument("--k", type=int, default=5, help="chunks per prompt")
    parser.add_argument(
        "--backends",
        default="llamacpp,openai,hf" + (f",llamacpp@{cores}" if cores != default_threads() else ""),
        help="backends to run, llama.cpp ones with @THREADS (default: all cores but one)",
    )
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    runs = parse_runs(args.backends, default_threads())
    workdir = Path(tempfile.mkdtemp(prefix="bench-llm-"))
    docs = sample_docs(args.docs, workdir)
    print(f"notes: {docs}; {len(QUESTIONS)} questions, k={args.k}, ", end="")
    print(f"max_new_tokens={args.max_new_tokens}, greedy; {cores} cores")

    service = build_store(docs, workdir)
    settings = Settings(_env_file=None, db_dir=workdir / "db")
    # The llama.cpp tokenizer of the shared weights fits the prompts and counts every answer.
    reference = create_chat_model("llamacpp:smollm2", settings)
    messages_list = prompts(service, args.k, args.max_new_tokens, reference)
    prompt_tokens = statistics.mean(
        sum(reference.count_tokens(m["content"]) for m in messages) for messages in messages_list
    )
    print(f"prompt: {prompt_tokens:.0f} tokens on average\n")
    options = GenerationOptions(temperature=0.0, max_new_tokens=args.max_new_tokens)

    results = []
    for backend, threads in runs:
        server = None
        server_s = 0.0
        busy_before, own_before = cpu_seconds()
        wall_before = time.perf_counter()
        try:
            backend_settings = settings.model_copy(update={"llm_threads": threads})
            if backend == "openai":
                started = time.perf_counter()
                server, url = start_llama_cpp_server(
                    str(bundled_gguf("smollm2")), alias="smollm2", threads=threads
                )
                server_s = time.perf_counter() - started
                backend_settings = backend_settings.model_copy(update={"openai_base_url": url})
            result = bench_backend(
                backend,
                f"{backend}:smollm2",
                backend_settings,
                messages_list,
                options,
                reference.count_tokens,
                server_s,
            )
        finally:
            if server is not None:
                server.terminate()
                server.wait(10)
        busy_after, own_after = cpu_seconds()
        others = (busy_after - busy_before) - (own_after - own_before)
        wall = time.perf_counter() - wall_before
        result["threads"] = "torch default" if backend == "hf" else str(threads)
        result["others_pct"] = max(0.0, 100 * others / (wall * cores))
        results.append(result)
        print(f"{backend} ({result['threads']} threads) done in {wall:.0f} s", flush=True)

    print(
        "\n| backend | threads | load s | first token s (median) | tokens/s (median) "
        "| answer tokens | CPU taken by other processes |"
    )
    print("|---|---|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r['spec']} | {r['threads']} | {r['load_s']:.1f} | {r['ttft_s']:.2f} | "
            f"{r['tok_s']:.1f} | {r['tokens']:.0f} | {r['others_pct']:.0f}% |"
        )


if __name__ == "__main__":
    main()
