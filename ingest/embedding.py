"""Embedders for ingest processes: the app's vectors, sooner.

``python -m ingest`` spends most of a small re-ingest starting up: sentence-transformers takes
5 to 9 s to import here (it brings scikit-learn and SciPy), transformers' BERT classes 4 to 6 s,
and sentence-transformers 6's ``encode`` is also ~45% slower than the same forward passes run
directly. For a sentence-transformers folder laid out as Transformer -> mean or CLS pooling
(-> Normalize), which the bundled MiniLM is, the vectors are computed here:

* a BERT model: its forward pass written out here, in numpy for small jobs (torch alone takes
  ~1.7 s to import) and in torch for larger ones, weights read with safetensors, text cut into
  tokens by the ``tokenizers`` library; nothing of transformers is imported;
* any other architecture: transformers' ``AutoModel``.

All give the vectors sentence-transformers gives (1e-6 apart; a test holds them together), so
the app's queries, embedded by :mod:`rag.embeddings`, meet them. Any other layout, or
``INGEST_EMBEDDER=sentence-transformers``, uses :func:`rag.embeddings.create_embedder`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Layout:
    """What a sentence-transformers folder asks of its embedder, when we can reproduce it."""

    folder: Path
    max_length: int
    pooling: str  # "mean" or "cls"


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def read_layout(name: str) -> Layout | None:
    """The layout of the folder behind ``name``, or None when it isn't one we reproduce."""
    from rag.bundled import resolve_embedding_model

    folder = Path(resolve_embedding_model(name))
    try:
        modules = _read_json(folder / "modules.json")
        kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
        if kinds not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
            return None
        if modules[0].get("path"):
            return None
        pooling = _read_json(folder / modules[1]["path"] / "config.json")
        modes = [k for k, v in pooling.items() if k.startswith("pooling_mode") and v]
        if modes not in (["pooling_mode_mean_tokens"], ["pooling_mode_cls_token"]):
            return None
        config = _read_json(folder / "sentence_bert_config.json")
        if config.get("do_lower_case"):
            return None
        extra = folder / "config_sentence_transformers.json"
        if extra.exists():
            extra_config = _read_json(extra)
            if extra_config.get("prompts") or extra_config.get("default_prompt_name"):
                return None
        max_length = int(config["max_seq_length"])
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return None
    return Layout(folder, max_length, "mean" if modes == ["pooling_mode_mean_tokens"] else "cls")


def native_bf16() -> bool:
    """Whether this CPU computes in bfloat16 natively (elsewhere bf16 is emulated, and slow)."""
    import torch

    try:
        return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())
    except AttributeError:
        return False


def _input_embeddings(w: dict[str, Any], ids, types):
    """BERT's input: token + position + token-type embeddings (numpy or torch arrays alike)."""
    return (
        w["embeddings.word_embeddings.weight"][ids]
        + w["embeddings.position_embeddings.weight"][: ids.shape[1]]
        + w["embeddings.token_type_embeddings.weight"][types]
    )


class _SortedBatchEmbedder:
    """Embeds longest first in batches of similar length, then pools and normalises.

    Batches are numpy arrays; a subclass's ``_forward_for(n)`` picks the forward pass for a
    job of ``n`` texts and returns a function from (ids, token types, mask) to the last
    hidden states, as float32 numpy.
    """

    name: str
    batch_size: int
    pooling: str
    #: Asked for bfloat16 (``embedding_bf16``); used only where the CPU does it natively.
    bf16_wanted: bool = False
    _bf16: bool | None = None

    @property
    def bf16(self) -> bool:
        """Whether torch forward passes run in bfloat16 (resolved on first use: it needs torch)."""
        if self._bf16 is None:
            self._bf16 = self.bf16_wanted and native_bf16()
        return self._bf16

    def _token_ids(self, texts: list[str]) -> list[tuple[list[int], list[int]]]:
        """(input ids, token type ids) of each text, special tokens included, truncated."""
        raise NotImplementedError

    def _forward_for(self, n: int) -> Callable[[Any, Any, Any], Any]:
        raise NotImplementedError

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        import numpy as np

        if not texts:
            return []
        encoded = self._token_ids([str(t).strip() for t in texts])
        order = sorted(range(len(texts)), key=lambda i: -len(encoded[i][0]))
        forward = self._forward_for(len(texts))
        vectors: list[list[float]] = [[] for _ in texts]
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            width = len(encoded[rows[0]][0])
            ids = np.zeros((len(rows), width), dtype=np.int64)
            types = np.zeros_like(ids)
            mask = np.zeros_like(ids)
            for j, row in enumerate(rows):
                row_ids, row_types = encoded[row]
                ids[j, : len(row_ids)] = row_ids
                types[j, : len(row_types)] = row_types
                mask[j, : len(row_ids)] = 1
            hidden = forward(ids, types, mask)
            if self.pooling == "cls":
                pooled = hidden[:, 0]
            else:
                weights = mask[:, :, None].astype(np.float32)
                pooled = (hidden * weights).sum(1) / np.maximum(weights.sum(1), 1e-9)
            pooled = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
            for row, vector in zip(rows, pooled.tolist(), strict=True):
                vectors[row] = vector
        return vectors

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


class BertEmbedder(_SortedBatchEmbedder):
    """A BERT encoder (MiniLM is one), without transformers: weights read with safetensors,
    text cut into tokens by ``tokenizers``, the forward pass in torch or in numpy.

    Small jobs (one edited note) run in numpy: importing torch costs ~1.7 s here, more than
    torch saves on a few dozen chunks. Larger jobs import torch, whose matrix products are
    ~3x numpy's, in bfloat16 where the CPU has it.
    """

    #: Jobs of at most this many texts run in numpy, while torch isn't loaded yet.
    numpy_max_texts = 32

    def __init__(self, layout: Layout, name: str, batch_size: int):
        import numpy as np
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        config = _read_json(layout.folder / "config.json")
        self.name = name
        self.batch_size = batch_size
        self.pooling = layout.pooling
        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config["layer_norm_eps"])
        self._tokenizer = Tokenizer.from_file(str(layout.folder / "tokenizer.json"))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(layout.max_length)
        weights = load_file(str(layout.folder / "model.safetensors"))
        self.w = {
            key.removeprefix("bert."): value.astype(np.float32) for key, value in weights.items()
        }
        self._torch_w: dict[str, Any] | None = None

    @classmethod
    def supports(cls, layout: Layout) -> bool:
        try:
            config = _read_json(layout.folder / "config.json")
        except (OSError, ValueError):
            return False
        return (
            config.get("model_type") == "bert"
            and config.get("hidden_act") == "gelu"
            and config.get("position_embedding_type", "absolute") == "absolute"
            and (layout.folder / "model.safetensors").is_file()
            and (layout.folder / "tokenizer.json").is_file()
        )

    def _token_ids(self, texts: list[str]) -> list[tuple[list[int], list[int]]]:
        return [(e.ids, e.type_ids) for e in self._tokenizer.encode_batch(texts)]

    def _forward_for(self, n: int) -> Callable[[Any, Any, Any], Any]:
        if self._torch_w is None and n <= self.numpy_max_texts:
            return self._numpy_hidden
        return self._torch_hidden

    def _numpy_hidden(self, ids, types, mask):
        """Last hidden states, in numpy float32 (every constant a Python float: no upcast)."""
        import numpy as np
        from scipy.special import erf

        w, eps = self.w, self.eps

        def norm(x, part: str):
            mean = x.mean(-1, keepdims=True)
            var = ((x - mean) ** 2).mean(-1, keepdims=True)
            return (x - mean) / np.sqrt(var + eps) * w[part + ".weight"] + w[part + ".bias"]

        def linear(x, part: str):
            return x @ w[part + ".weight"].T + w[part + ".bias"]

        batch, width = ids.shape
        x = norm(_input_embeddings(w, ids, types), "embeddings.LayerNorm")
        size = x.shape[-1]
        head = size // self.heads
        # Padding is never attended to: its scores become -inf before the softmax.
        blocked = np.where(mask[:, None, None, :] > 0, 0.0, -np.inf).astype(np.float32)
        for i in range(self.layers):
            p = f"encoder.layer.{i}."
            # Contiguous heads: numpy's stacked matmul is BLAS-fast only on contiguous arrays.
            q, k, v = (
                np.ascontiguousarray(
                    linear(x, f"{p}attention.self.{part}")
                    .reshape(batch, width, self.heads, head)
                    .transpose(0, 2, 1, 3)
                )
                for part in ("query", "key", "value")
            )
            scores = q @ np.ascontiguousarray(k.transpose(0, 1, 3, 2)) * (1.0 / head**0.5) + blocked
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, width, size)
            x = norm(
                linear(context, p + "attention.output.dense") + x, p + "attention.output.LayerNorm"
            )
            inner = linear(x, p + "intermediate.dense")
            inner = 0.5 * inner * (1.0 + erf(inner * 0.7071067811865476))  # exact GELU
            x = norm(linear(inner, p + "output.dense") + x, p + "output.LayerNorm")
        return x

    def _torch_hidden(self, ids, types, mask):
        """Last hidden states, computed in torch (bfloat16 where native), as float32 numpy."""
        import torch
        import torch.nn.functional as F

        if self._torch_w is None:  # shares the numpy arrays' memory
            self._torch_w = {key: torch.from_numpy(value) for key, value in self.w.items()}
        w, eps = self._torch_w, self.eps

        def norm(x, part: str):
            return F.layer_norm(x, x.shape[-1:], w[part + ".weight"], w[part + ".bias"], eps)

        def linear(x, part: str):
            return F.linear(x, w[part + ".weight"], w[part + ".bias"])

        ids, types, mask = (torch.from_numpy(a) for a in (ids, types, mask))
        with (
            torch.inference_mode(),
            torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16),
        ):
            batch, width = ids.shape
            x = norm(_input_embeddings(w, ids, types), "embeddings.LayerNorm")
            size = x.shape[-1]
            head = size // self.heads
            attend = mask[:, None, None, :].bool()  # padding is never attended to
            for i in range(self.layers):
                p = f"encoder.layer.{i}."
                q, k, v = (
                    linear(x, f"{p}attention.self.{part}")
                    .view(batch, width, self.heads, head)
                    .transpose(1, 2)
                    for part in ("query", "key", "value")
                )
                context = F.scaled_dot_product_attention(q, k, v, attn_mask=attend)
                context = context.transpose(1, 2).reshape(batch, width, size)
                x = norm(
                    linear(context, p + "attention.output.dense") + x,
                    p + "attention.output.LayerNorm",
                )
                inner = F.gelu(linear(x, p + "intermediate.dense"))
                x = norm(linear(inner, p + "output.dense") + x, p + "output.LayerNorm")
            return x.float().numpy()


class TransformersEmbedder(_SortedBatchEmbedder):
    """Any other Transformer -> pooling layout, through transformers' AutoModel."""

    def __init__(self, layout: Layout, name: str, batch_size: int):
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
        self.name = name
        self.batch_size = batch_size
        self.pooling = layout.pooling
        self.max_length = layout.max_length
        self._tokenizer = AutoTokenizer.from_pretrained(str(layout.folder))
        self._model = AutoModel.from_pretrained(str(layout.folder)).eval()

    def _token_ids(self, texts: list[str]) -> list[tuple[list[int], list[int]]]:
        encoded = self._tokenizer(texts, truncation=True, max_length=self.max_length)
        types = encoded.get("token_type_ids") or [[0] * len(ids) for ids in encoded["input_ids"]]
        return list(zip(encoded["input_ids"], types, strict=True))

    def _forward_for(self, n: int) -> Callable[[Any, Any, Any], Any]:
        return self._hidden

    def _hidden(self, ids, types, mask):
        import torch

        inputs = {"input_ids": torch.from_numpy(ids), "attention_mask": torch.from_numpy(mask)}
        if "token_type_ids" in self._tokenizer.model_input_names:
            inputs["token_type_ids"] = torch.from_numpy(types)
        with (
            torch.inference_mode(),
            torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16),
        ):
            return self._model(**inputs).last_hidden_state.float().numpy()


def create_ingest_embedder(name: str, batch_size: int, *, bf16: bool = False):
    """The quickest embedder that gives ``name``'s sentence-transformers vectors.

    ``bf16`` (the ``embedding_bf16`` setting) runs the model in bfloat16 where the CPU does it
    natively: ~1.7x faster here, vectors within 4e-5 cosine of float32 rather than identical.
    """
    # INGEST_EMBEDDER=sentence-transformers forces the library (the benchmark compares them).
    if os.environ.get("INGEST_EMBEDDER") != "sentence-transformers":
        layout = read_layout(name)
        if layout is not None:
            kind = BertEmbedder if BertEmbedder.supports(layout) else TransformersEmbedder
            embedder = kind(layout, name, batch_size)
            embedder.bf16_wanted = bf16
            return embedder
    from rag.embeddings import create_embedder

    return create_embedder(name, batch_size)
