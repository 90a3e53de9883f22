"""The one interface every chat backend implements, and the errors they raise."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from rag.core import AppError

Message = dict[str, str]  # {"role": "system" | "user" | "assistant", "content": "..."}


class LLMError(AppError):
    """A failure worth showing to the user as is: it says what went wrong and how to fix it."""


class BackendUnavailable(LLMError):
    """The backend cannot be used here (missing package, key, server or GPU)."""


@dataclass(frozen=True)
class PullProgress:
    """How far the download of a model is (a Hub GGUF file, an Ollama pull).

    A backend that fetches models has ``pull(model, settings)``: a generator of these that
    downloads the model unless it is here already, ends with one whose ``location`` says where
    the model is, and stops the download when it is closed.
    """

    #: The ``backend:model`` name being fetched.
    model: str
    #: What is being done: "Downloading FILE", or Ollama's own status ("ollama pull NAME:
    #: pulling 2bada8a74506").
    step: str
    done: int = 0
    total: int | None = None
    location: str | None = None

    def describe(self) -> str:
        """``Downloading qwen2.5-1.5b-instruct-q4_k_m.gguf: 35% (391 MB of 1.1 GB)``."""
        from rag.llms.catalog import human_size

        if self.location:  # where it is stays out: a chat must not show server paths
            return f"{self.model} is downloaded."
        if self.total:
            percent = 100 * self.done / self.total
            amount = f"{human_size(self.done)} of {human_size(self.total)}"
            return f"{self.step}: {percent:.0f}% ({amount})"
        return f"{self.step}: {human_size(self.done)}" if self.done else self.step


@dataclass(frozen=True)
class GenerationOptions:
    temperature: float = 0.2
    max_new_tokens: int = 384
    #: Structured output: a JSON schema the reply must follow. Backends that can enforce it
    #: (OpenAI-compatible servers, llama.cpp, Ollama) do; the caller checks the reply anyway.
    json_schema: dict[str, Any] | None = None


@runtime_checkable
class ChatModel(Protocol):
    """A chat model that streams its answer as text pieces."""

    #: The ``backend:model`` name it was created from.
    name: str
    #: How many tokens the prompt and the answer may take together.
    context_window: int

    def count_tokens(self, text: str) -> int:
        """Tokens ``text`` takes in this model's tokenizer (an estimate where none is at hand)."""
        ...

    def stream_chat(self, messages: list[Message], options: GenerationOptions) -> Iterator[str]:
        """Yield the answer to ``messages`` piece by piece; raise :class:`LLMError` on failure."""
        ...


def estimate_tokens(text: str) -> int:
    """A tokenizer-free estimate (about 4 characters a token in English), for remote models."""
    return max(1, (len(text) + 3) // 4)
