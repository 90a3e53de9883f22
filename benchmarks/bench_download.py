"""What downloading a model through the app costs over huggingface_hub itself, in one run.

The Hub can't be reached here: its file protocol is served on loopback by the stand-in of
``devtools/hub_standin.py`` (the bundled 98 MB SmolLM2 GGUF under a made-up repo), which takes the
network out of the figures and leaves the software's own cost.

* **baseline**: ``hf_hub_download`` alone, into an empty Hub cache.
* **app**: ``pull_model("llamacpp:hf://...")``, as ``python -m rag models --pull`` and the chat
  use it: metadata and free-space check first, then the same ``hf_hub_download`` in a thread
  reporting progress events, then the GGUF check. Also: the time to its first progress event,
  and the events per download.
* **cached**: ``pull_model`` once the file is there (no network call), and the llama.cpp
  backend's model list, which looks each recommended model up in the cache.

    .venv/bin/python benchmarks/bench_download.py [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from devtools.hub_standin import FILE, REPO, HubStandIn
from rag.core import bundled_gguf


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    hub = HubStandIn(bundled_gguf("smollm2")).start()
    home = Path(tempfile.mkdtemp(prefix="bench-hf-"))
    # huggingface_hub reads these once, when imported: set them first.
    os.environ.update(HF_ENDPOINT=hub.url, HF_HOME=str(home))
    os.environ.pop("HF_HUB_OFFLINE", None)
    os.environ.pop("HF_TOKEN", None)
    from huggingface_hub import hf_hub_download
    from huggingface_hub.utils import disable_progress_bars

    from rag.llms import pull_model
    from rag.llms.llamacpp import list_models
    from rag.settings import Settings

    disable_progress_bars()  # the baseline draws no bar either
    settings = Settings(_env_file=None)
    spec = f"llamacpp:hf://{REPO}/{FILE}"
    size = bundled_gguf("smollm2").stat().st_size

    def fresh() -> None:
        shutil.rmtree(home / "hub", ignore_errors=True)

    baseline, app, first_event, events = [], [], [], []
    for _ in range(args.runs):
        fresh()
        started = time.perf_counter()
        hf_hub_download(REPO, FILE)
        baseline.append(time.perf_counter() - started)

        fresh()
        started = time.perf_counter()
        seen = []
        for event in pull_model(spec, settings):
            if not seen:
                first_event.append(time.perf_counter() - started)
            seen.append(event)
        app.append(time.perf_counter() - started)
        events.append(len(seen))

    cached = []
    for _ in range(20):
        started = time.perf_counter()
        list(pull_model(spec, settings))
        cached.append(time.perf_counter() - started)
    listing = []
    for _ in range(20):
        started = time.perf_counter()
        list_models(settings)
        listing.append(time.perf_counter() - started)
    hub.stop()
    shutil.rmtree(home, ignore_errors=True)

    def line(name: str, seconds: list[float]) -> str:
        median = statistics.median(seconds)
        rate = f"{size / median / 1e6:7.0f} MB/s" if name != "first event" else ""
        return f"| {name:30s} | {median * 1000:9.1f} ms | {rate:>10s} |"

    print(f"file: {FILE}, {size / 1e6:.1f} MB; median of {args.runs} runs")
    print(f"load average: {os.getloadavg()[0]:.2f}")
    print("| | time | throughput |\n|---|---|---|")
    print(line("baseline: hf_hub_download", baseline))
    print(line("app: pull_model", app))
    print(line("first event", first_event))
    print(f"| events per download (median) | {statistics.median(events):g} | |")
    print(f"| cached: pull_model | {statistics.median(cached) * 1000:.2f} ms | |")
    print(f"| llama.cpp model list | {statistics.median(listing) * 1000:.2f} ms | |")


if __name__ == "__main__":
    main()
