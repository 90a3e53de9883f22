"""``extractive:notes``: no language model at all; the answer is the notes' own sentences.

It is offered like any model (registry, dropdown, ``--model``, ``RAG_MODEL``). The service sees
``extractive`` and answers with :mod:`rag.answer.extractive` instead of prompting: nothing is
generated, so nothing can be invented, and the answer is ready as soon as retrieval is.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from rag.llms.base import GenerationOptions, LLMError, Message, estimate_tokens

if TYPE_CHECKING:
    from rag.llms import ModelChoice
    from rag.settings import Settings

#: The one mode this backend has.
MODES = ("notes",)


class ExtractiveModel:
    """Stands in the model slot; it writes nothing (:attr:`extractive` tells the service)."""

    #: The service answers with the sources' sentences instead of calling :meth:`stream_chat`.
    extractive = True
    context_window = 1 << 20

    def __init__(self, name: str):
        self.name = name

    def count_tokens(self, text: str) -> int:
        return estimate_tokens(text)

    def stream_chat(self, messages: list[Message], options: GenerationOptions) -> Iterator[str]:
        raise LLMError(
            f"{self.name} only quotes the notes and can't write text; choose a language model "
            "(e.g. llamacpp:smollm2) for this."
        )


def create(model: str, settings: Settings) -> ExtractiveModel:
    if model not in MODES:
        raise LLMError(f"Unknown extractive mode {model!r}; use extractive:notes.")
    return ExtractiveModel(f"extractive:{model}")


def list_models(settings: Settings) -> list[ModelChoice]:
    from rag.llms import ModelChoice

    return [ModelChoice(f"extractive:{mode}", True) for mode in MODES]
