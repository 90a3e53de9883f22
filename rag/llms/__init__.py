"""Chat backends, looked up by name: ``backend:model`` (e.g. ``ollama:llama3.2``).

Each backend lives in its own module and imports its SDK only when used, so that a missing
optional package breaks only that backend, with an error naming the extra to install.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rag.llms.base import (
    BackendUnavailable,
    ChatModel,
    GenerationOptions,
    LLMError,
    Message,
    PullProgress,
)
from rag.llms.catalog import human_size

if TYPE_CHECKING:
    from rag.settings import GenerationSettings

__all__ = [
    "BACKENDS",
    "BackendUnavailable",
    "ChatModel",
    "GenerationOptions",
    "LLMError",
    "Message",
    "ModelChoice",
    "PullProgress",
    "create_chat_model",
    "list_available_models",
    "parse_model_name",
    "pull_model",
]

# backend name -> "module:factory"; the factory takes (model, settings) and returns a ChatModel.
BACKENDS: dict[str, str] = {
    "llamacpp": "rag.llms.llamacpp:create",
    "openai": "rag.llms.openai_backend:create",
    "ollama": "rag.llms.ollama_backend:create",
    "hf": "rag.llms.hf:create",
}


def parse_model_name(spec: str) -> tuple[str, str]:
    """Split ``backend:model``; the model part may itself hold colons (``ollama:llama3.2:1b``)."""
    backend, sep, model = spec.strip().partition(":")
    if not sep or not model:
        raise LLMError(
            f"Model {spec!r} is not of the form backend:model "
            f"(backends: {', '.join(BACKENDS)}), e.g. llamacpp:smollm2 or openai:gpt-4.1-mini."
        )
    if backend not in BACKENDS:
        raise LLMError(
            f"Unknown model backend {backend!r} in {spec!r}; choose one of: {', '.join(BACKENDS)}."
        )
    return backend, model


def _backend_module(backend: str):
    module_name, _, _ = BACKENDS[backend].partition(":")
    return importlib.import_module(module_name)


def create_chat_model(spec: str, settings: GenerationSettings) -> ChatModel:
    """Build the chat model named by ``spec`` (``backend:model``)."""
    backend, model = parse_model_name(spec)
    module_name, _, factory = BACKENDS[backend].partition(":")
    return getattr(importlib.import_module(module_name), factory)(model, settings)


def pull_model(spec: str, settings: GenerationSettings) -> Iterator[PullProgress]:
    """Download the model named by ``spec`` unless it is here already (see :class:`PullProgress`).

    Backends whose models need no download (APIs, local files) have no ``pull``: nothing is
    yielded for them.
    """
    backend, model = parse_model_name(spec)
    pull = getattr(_backend_module(backend), "pull", None)
    if pull is not None:
        yield from pull(model, settings)


@dataclass(frozen=True)
class ModelChoice:
    """A model the UI can offer; ``reason`` says why it can't be used when unavailable."""

    name: str
    available: bool
    reason: str = ""
    #: A readable title (a recommended model's), shown instead of the name.
    label: str = ""
    #: Usable once downloaded: choosing it downloads it first.
    to_download: bool = False
    download_bytes: int | None = None

    @property
    def display(self) -> str:
        """What a dropdown shows: ``Qwen2.5 1.5B Instruct · llama.cpp — download (1.1 GB)``."""
        text = self.label or self.name
        if self.to_download:
            text += f" — download ({human_size(self.download_bytes)})"
        return text


def _backend_choices(backend: str, settings: GenerationSettings) -> list[ModelChoice]:
    try:
        return _backend_module(backend).list_models(settings)
    except Exception as exc:  # one broken backend must not hide the others
        return [ModelChoice(f"{backend}:", False, str(exc))]


def list_available_models(settings: GenerationSettings) -> list[ModelChoice]:
    """What each backend can offer right now (keys set, servers reachable, GPU present).

    Backends are asked at once, so the slowest (a server that does not answer, at most a few
    seconds each) sets the wait rather than their sum; the order of BACKENDS is kept.
    """
    with ThreadPoolExecutor(max_workers=len(BACKENDS), thread_name_prefix="list-models") as pool:
        per_backend = pool.map(lambda backend: _backend_choices(backend, settings), BACKENDS)
        return [choice for choices in per_backend for choice in choices]
