"""llama.cpp on CPU (or partly on GPU): any GGUF file, the bundled SmolLM2 by default.

Models are named by a bundled alias (``smollm2``), a path, or a file on the Hugging Face Hub
(``hf://OWNER/REPO/FILE.gguf``), which :func:`pull` downloads into the Hub's cache first.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import threading
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from rag.core import bundled_gguf, bundled_gguf_aliases
from rag.llms import catalog, hub
from rag.llms.base import BackendUnavailable, GenerationOptions, LLMError, Message, PullProgress

if TYPE_CHECKING:
    from rag.llms import ModelChoice
    from rag.settings import GenerationSettings

log = logging.getLogger(__name__)
# llama-cpp-python has no wheel on PyPI: the extra compiles it (as `make setup` does, portable).
INSTALL_HINT = (
    'pip install -e ".[llamacpp]" (compiles llama.cpp; for a portable x86-64 build set '
    'CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"), or `make setup`'
)


@lru_cache(maxsize=1)
def cpu_has_amx() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text(errors="ignore")
    except OSError:
        return False
    return "amx_tile" in flags


@contextlib.contextmanager
def _without_extra_buffer_types(enabled: bool):
    """Load with ``use_extra_bufts = False``.

    A llama.cpp built for the host CPU on a chip with AMX crashes in its AMX matmul
    (``ggml_backend_amx_mul_mat``) at the first token. The AMX kernels are reached through the
    extra buffer types; turning those off makes any build safe there, at a small cost in speed.
    ``Llama()`` takes no argument for it, so its default params are patched while it loads.
    """
    import llama_cpp.llama_cpp as native

    if not enabled:
        yield
        return
    original = native.llama_model_default_params

    def patched():
        params = original()
        if hasattr(params, "use_extra_bufts"):
            params.use_extra_bufts = False
        return params

    native.llama_model_default_params = patched
    try:
        yield
    finally:
        native.llama_model_default_params = original


def default_threads() -> int:
    """Every core this process may use but one, which is left to the rest of the app.

    llama.cpp's threads wait for each other at every step, spinning; when one loses its core
    to another process (the embedder, another request, a neighbour on a shared host) they all
    stall. On 2 shared cores, 2 threads measured 2 to 10 times slower than 1 (see
    benchmarks/README.md, "Chat backends"). RAG_LLM_THREADS overrides this.
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 2
    return max(1, cores - 1)


def resolve_gguf(model: str) -> Path:
    """A bundled alias (``smollm2``), a downloaded ``hf://`` file or a path to a ``.gguf`` file."""
    ref = hub.parse(model)
    if ref is not None:
        return hub.local_gguf(ref, f"llamacpp:{model}")
    bundled = bundled_gguf(model)
    if bundled:
        return bundled
    path = Path(model).expanduser()
    if path.is_file():
        return path
    hint = (
        f"the bundled model comes with the llamacpp extra: {INSTALL_HINT}"
        if model.lower().startswith("smollm2")
        else "give the path of a .gguf file, or use llamacpp:smollm2"
    )
    raise BackendUnavailable(f"No GGUF model at {model!r}: {hint}.")


class LlamaCppChatModel:
    def __init__(self, model: str, settings: GenerationSettings):
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise BackendUnavailable(f"llama-cpp-python is not installed: {INSTALL_HINT}") from exc
        path = resolve_gguf(model)
        self.name = f"llamacpp:{model}"
        safe_cpu = settings.llm_gpu_layers == 0 and cpu_has_amx()
        threads = settings.llm_threads or default_threads()
        with _without_extra_buffer_types(safe_cpu):
            self._llm = Llama(
                model_path=str(path),
                n_ctx=settings.context_window,
                n_threads=threads,
                n_threads_batch=threads,
                n_gpu_layers=settings.llm_gpu_layers,
                verbose=False,
            )
        # Free the model before the interpreter tears down the modules its destructor needs.
        atexit.register(self._llm.close)
        self.context_window = self._llm.n_ctx()
        # One llama.cpp context serves one generation at a time.
        self._lock = threading.Lock()

    def count_tokens(self, text: str) -> int:
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def stream_chat(self, messages: list[Message], options: GenerationOptions) -> Iterator[str]:
        with self._lock:
            try:
                stream = self._llm.create_chat_completion(
                    messages=messages,
                    temperature=options.temperature,
                    max_tokens=options.max_new_tokens,
                    stream=True,
                    response_format=_response_format(options),
                )
                for part in stream:
                    text = part["choices"][0]["delta"].get("content")
                    if text:
                        yield text
            except ValueError as exc:  # e.g. the prompt exceeds the context window
                raise LLMError(f"llama.cpp refused the request: {exc}") from exc


def _response_format(options: GenerationOptions) -> dict | None:
    """llama.cpp's structured output: a grammar made from the JSON schema."""
    if options.json_schema is None:
        return None
    return {"type": "json_object", "schema": options.json_schema}


def create(model: str, settings: GenerationSettings) -> LlamaCppChatModel:
    return LlamaCppChatModel(model, settings)


def pull(model: str, settings: GenerationSettings) -> Iterator[PullProgress]:
    """Download an ``hf://`` model unless it is in the Hub cache; other names need nothing."""
    ref = hub.parse(model)
    if ref is not None:
        yield from hub.pull(ref, f"llamacpp:{model}")


def list_models(settings: GenerationSettings) -> list[ModelChoice]:
    """The bundled model, the recommended ones (to download, or downloaded) and the configured one."""
    from rag.llms import ModelChoice

    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        return [ModelChoice("llamacpp:smollm2", False, f"not installed: {INSTALL_HINT}")]
    choices = [ModelChoice(f"llamacpp:{alias}", True) for alias in bundled_gguf_aliases()]
    for entry in catalog.RECOMMENDED:
        downloaded = hub.cached_file(hub.parse(entry.llamacpp_name.removeprefix("llamacpp:")))
        choices.append(
            ModelChoice(
                entry.llamacpp_name,
                True,
                label=f"{entry.title} · llama.cpp",
                to_download=downloaded is None,
                download_bytes=entry.size_bytes,
            )
        )
    if settings.model.startswith("llamacpp:") and settings.model not in {c.name for c in choices}:
        try:
            ref = hub.parse(settings.model.removeprefix("llamacpp:"))
        except BackendUnavailable as exc:
            return [*choices, ModelChoice(settings.model, False, str(exc))]
        to_download = ref is not None and hub.cached_file(ref) is None
        choices.append(ModelChoice(settings.model, True, to_download=to_download))
    return choices
