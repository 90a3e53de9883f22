"""The Space as Hugging Face builds and starts it: install time, start to ready, first answer.

Builds a fresh virtual environment from requirements.txt with `pip install --only-binary :all:`
(its index lines left out: they need the network; pip's cache and local wheels are used as they
are), copies the Space's files, and starts `python app.py` as a Space does (SPACE_ID set,
0.0.0.0), with a temporary folder standing in for /data. Prints:
- install: seconds of `pip install`, packages, size of the environment;
- start: seconds from `python app.py` to HTTP answering, and to the knowledge folder ingested
  (ready), then the same for a restart on the kept store;
- the first answer to a question through gradio_client with the Space's default model, and the
  app's peak memory (RSS);
- baseline, in the same run: the development environment (`make setup`, llama.cpp installed,
  its default `llamacpp:smollm2`) started the same way on a fresh store.

Usage: .venv/bin/python benchmarks/bench_space.py [--port N]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devtools.servers import free_port  # noqa: E402
from devtools.space_build import (  # noqa: E402
    SpaceProcess,
    ask_space,
    build_space_venv,
    copy_space_files,
)

QUESTION = "What is the difference between LoRA and QLoRA?"
READY = "the knowledge folder is ingested"


def folder_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def start_and_ask(cwd: Path, python: Path, data: Path, port: int, ask: bool) -> dict[str, float]:
    """One start: seconds to HTTP, to ready, and (``ask``) the first answer's seconds."""
    app = SpaceProcess(cwd, {"RAG_PERSISTENT_DIR": str(data)}, python=python, port=port)
    try:
        figures = {"http_s": app.wait_until_listening(timeout=600)}
        figures["ready_s"] = app.wait_for_log(READY, timeout=600)
        if ask:
            started = time.perf_counter()
            answer, sources = ask_space(QUESTION, url=app.url)
            figures["first_answer_s"] = time.perf_counter() - started
            figures["cited"] = float('class="rag-cite"' in answer and "lora" in sources.lower())
        figures["peak_rss_mb"] = app.peak_rss_mb()
    finally:
        app.stop()
    return figures


def show(label: str, figures: dict[str, float]) -> None:
    print(f"{label:<34}" + "  ".join(f"{k} {v:,.1f}" for k, v in figures.items()), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=None, help="default: a free one")
    parser.add_argument(
        "--venv", type=Path, default=None, help="an environment built by an earlier run: no install"
    )
    args = parser.parse_args()
    port = args.port or free_port()
    print(f"load average at start: {os.getloadavg()[0]:.2f} (2-core machine)", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-space-") as tmp:
        root = Path(tmp)
        space = copy_space_files(root / "space")
        if args.venv:
            python = args.venv / "bin" / "python"
        else:
            python, install_s = build_space_venv(root / "venv", space / "requirements.txt")
            packages = subprocess.run(
                [str(python), "-m", "pip", "list", "--format=freeze"],
                capture_output=True,
                text=True,
            ).stdout.splitlines()
            size = folder_mb(root / "venv")
            show("install (wheels only)", {"s": install_s, "packages": len(packages), "MB": size})
        data = root / "data"
        data.mkdir()
        show("Space, first start", start_and_ask(space, python, data, port, ask=True))
        show("Space, restart (store kept)", start_and_ask(space, python, data, port, ask=True))

        baseline = copy_space_files(root / "dev")
        (root / "dev-data").mkdir()
        figures = start_and_ask(baseline, Path(sys.executable), root / "dev-data", port, True)
        show("baseline: dev venv (llama.cpp)", figures)
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
