"""``python -m rag models [--pull NAME]``: the models usable here, the recommended ones, downloads.

A download's progress is drawn as tqdm bars on stderr, also when ``ask`` downloads its model
first; what is printed on stdout (names, where a model is) is meant to be read or parsed.
"""

from __future__ import annotations

import sys
from typing import TextIO

from rag.answer import available_models
from rag.llms import PullProgress, pull_model
from rag.llms.catalog import RECOMMENDED, by_name, human_size
from rag.settings import Settings


class ProgressBars:
    """Draws :class:`PullProgress` events: one bar per step (Ollama pulls layer by layer)."""

    def __init__(self, stream: TextIO | None = None):
        self._stream = stream or sys.stderr
        self._bar = None
        self._step: str | None = None

    def __call__(self, event: PullProgress) -> None:
        from tqdm import tqdm

        if event.location and event.step != self._step:
            self.close()
            return
        if event.step != self._step:
            self.close()
            self._step = event.step
            self._bar = tqdm(
                total=event.total,
                desc=event.step,
                unit="B",
                unit_scale=True,
                unit_divisor=1000,
                file=self._stream,
                dynamic_ncols=True,
            )
        if event.total and self._bar.total != event.total:
            self._bar.total = event.total
        self._bar.update(max(0, event.done - self._bar.n))
        if event.location:  # the last event: the bar ends full
            self.close()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
        self._bar, self._step = None, None


def model_spec(name: str) -> str:
    """``name`` as ``backend:model``: a recommended model's key means its llama.cpp GGUF."""
    entry = by_name(name)
    return entry.llamacpp_name if entry and name == entry.key else name


def pull(name: str, settings: Settings) -> int:
    """Download ``name`` (see :func:`model_spec`) with progress bars; print where it is."""
    spec = model_spec(name)
    bars = ProgressBars()
    location = None
    try:
        for event in pull_model(spec, settings):
            bars(event)
            location = event.location or location
    except KeyboardInterrupt:
        bars.close()
        print(f"error: the download of {spec} was cancelled.", file=sys.stderr)
        return 130
    finally:
        bars.close()
    if location is None:
        print(f"{spec} needs no download.")
    else:
        print(f"{spec}\n  is at {location}")
    return 0


def list_models(settings: Settings) -> int:
    """The models usable here (and why not), then the recommended ones and their costs."""
    for choice in available_models(settings):
        if not choice.available:
            state = f"unavailable: {choice.reason}"
        elif choice.to_download:
            state = f"download ({human_size(choice.download_bytes)})"
        else:
            state = "available"
        print(f"{choice.name:40s} {state}")
    print("\nRecommended local models (`python -m rag models --pull KEY`):")
    for entry in RECOMMENDED:
        print(
            f"  {entry.key:14s} {entry.title}: for {entry.machine}\n"
            f"  {'':14s} download {human_size(entry.size_bytes)}, needs about "
            f"{entry.memory_gb:g} GB of memory, licence {entry.licence}\n"
            f"  {'':14s} {entry.llamacpp_name}\n"
            f"  {'':14s} {entry.ollama_name} (ollama pull, {human_size(entry.ollama_size_bytes)})"
        )
    return 0


def run(args, settings: Settings) -> int:
    if args.pull:
        return pull(args.pull, settings)
    return list_models(settings)
