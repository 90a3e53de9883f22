"""How long checking a five-sentence answer takes, warm, on CPU.

    python benchmarks/bench_checker.py [--repeats 20] [--db-root /tmp/bench-grounding]

Three timings over the same answers, in the same run, median and 95th percentile of the
repeats after a warm-up (the store open, the embedder loaded, the passages' sentences embedded
once, as in a running app):

- retrieval only: the five retrievals ``rag check`` makes, one per sentence (the baseline:
  what checking adds is the rest);
- ``rag check``: :meth:`RagService.check_text`, retrieval per sentence plus the checker;
- the chat's check: :func:`rag.answer.verify` on an answer with the passages it was given.

The answers are five sentences each over ``knowledge_base/``: some true, some swapped,
negated or with a wrong number, one about something else.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from rag.answer import verify  # noqa: E402
from rag.app import create_service  # noqa: E402
from rag.core import HEADING, split_sentences  # noqa: E402
from rag.settings import Settings  # noqa: E402

ANSWERS = [
    "GPT-4o mini is much cheaper than GPT-4o. A token is a chunk of text that the model's "
    "vocabulary knows as a single unit. GPT-2 has a vocabulary of 1,024 tokens. Zero-shot "
    "prompting means including a handful of worked examples. The Eiffel Tower is in Paris.",
    "LoRA freezes the base model weights and trains two small matrices. QLoRA loads the base "
    "model in 4-bit NF4. Fine-tune for knowledge and use RAG for format. Q4_K_M takes about "
    "4.9 GB for an 8B model. Hugging Face Hub repositories are not git repositories.",
    "BM25 is strong exactly where embeddings are weak. Reciprocal rank fusion combines ranks "
    "rather than raw scores. all-MiniLM-L6-v2 produces 384-dimensional vectors. Chunks of "
    "200-500 tokens are a good starting point. Agents should never execute tools themselves.",
]


def timed(fn, repeats: int) -> list[float]:
    fn()  # warm: the passages' sentences are embedded once, as in a running app
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return times


def show(name: str, times: list[float]) -> None:
    p95 = sorted(times)[max(0, round(0.95 * len(times)) - 1)]
    print(f"{name:28s} median {statistics.median(times):7.1f} ms   p95 {p95:7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--db-root", default="/tmp/bench-grounding")
    args = parser.parse_args()
    settings = Settings(
        _env_file=None,
        db_dir=Path(args.db_root) / "knowledge_base",
        knowledge_dir=REPO / "knowledge_base",
    )
    service = create_service(settings)
    service.ingest_knowledge_dir()
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    for i, answer in enumerate(ANSWERS, start=1):
        sentences = [s.text for s in split_sentences(answer) if s.kind != HEADING]
        passages = service.retrieve(answer)
        show(
            f"answer {i}: retrieval only",
            timed(lambda s=sentences: [service.retrieve(x) for x in s], args.repeats),
        )
        show(
            f"answer {i}: rag check",
            timed(lambda a=answer: service.check_text(a), args.repeats),
        )
        show(
            f"answer {i}: chat's verify",
            timed(
                lambda a=answer, p=passages: verify(a, p, service.sentence_vectors), args.repeats
            ),
        )
        verdicts = [c.verdict for c in service.check_text(answer).claims]
        print(f"    verdicts: {', '.join(verdicts)}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
