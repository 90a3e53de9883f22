"""Embedders for ingest processes: the app's vectors, sooner.

``python -m ingest`` spends most of a small re-ingest starting up: sentence-transformers takes
5 to 9 s to import here (it brings scikit-learn and SciPy), transformers' BERT classes 4 to 6 s,
and sentence-transformers 6's ``encode`` is also ~45% slower than the same forward passes run
directly. For a sentence-transformers folder laid out as Transformer -> mean or CLS pooling
(-> Normalize), which the bundled MiniLM is, the vectors are computed here:

* a BERT model: its forward pass in plain torch, weights read with safetensors, text cut into
  tokens by the ``tokenizers`` library; nothing of transformers is imported;
* any other architecture: transformers' ``AutoModel``.

Both give the vectors sentence-transformers gives (1e-6 apart; a test holds them together), so
the app's queries, embedded by :mod:`rag.embeddings`, meet them. Any other layout, or
``INGEST_EMBEDDER=sentence-transformers``, uses :func:`rag.embeddings.create_embedder`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
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


class _SortedBatchEmbedder:
    """Embeds longest first in batches of similar length, then pools and normalises."""

    name: str
    batch_size: int
    pooling: str
    #: Run the model in bfloat16 (``embedding_bf16``): faster, vectors no longer identical.
    bf16: bool = False

    def _token_ids(self, texts: list[str]) -> list[tuple[list[int], list[int]]]:
        """(input ids, token type ids) of each text, special tokens included, truncated."""
        raise NotImplementedError

    def _hidden(self, ids, types, mask):
        """Last hidden states of a padded batch."""
        raise NotImplementedError

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        import torch

        if not texts:
            return []
        encoded = self._token_ids([str(t).strip() for t in texts])
        order = sorted(range(len(texts)), key=lambda i: -len(encoded[i][0]))
        vectors: list[list[float]] = [[] for _ in texts]
        with (
            torch.inference_mode(),
            torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16),
        ):
            for start in range(0, len(order), self.batch_size):
                rows = order[start : start + self.batch_size]
                width = len(encoded[rows[0]][0])
                ids = torch.zeros((len(rows), width), dtype=torch.long)
                types = torch.zeros_like(ids)
                mask = torch.zeros_like(ids)
                for j, row in enumerate(rows):
                    row_ids, row_types = encoded[row]
                    ids[j, : len(row_ids)] = torch.tensor(row_ids)
                    types[j, : len(row_types)] = torch.tensor(row_types)
                    mask[j, : len(row_ids)] = 1
                hidden = self._hidden(ids, types, mask)
                if self.pooling == "cls":
                    pooled = hidden[:, 0]
                else:
                    weights = mask.unsqueeze(-1).to(hidden.dtype)
                    pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
                pooled = torch.nn.functional.normalize(pooled.float(), dim=1)
                for row, vector in zip(rows, pooled.tolist(), strict=True):
                    vectors[row] = vector
        return vectors

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


class TorchBertEmbedder(_SortedBatchEmbedder):
    """A BERT encoder (MiniLM is one) run in plain torch: no transformers import at all."""

    def __init__(self, layout: Layout, name: str, batch_size: int):
        import torch
        from safetensors.torch import load_file
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
            key.removeprefix("bert."): value.to(torch.float32) for key, value in weights.items()
        }

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

    def _hidden(self, ids, types, mask):
        import torch.nn.functional as F

        w = self.w
        batch, width = ids.shape
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:width]
            + w["embeddings.token_type_embeddings.weight"][types]
        )
        size = x.shape[-1]
        x = F.layer_norm(
            x, (size,), w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps
        )
        attend = mask[:, None, None, :].bool()  # padding is never attended to
        head = size // self.heads
        for i in range(self.layers):
            p = f"encoder.layer.{i}."

            def project(part: str, inputs, p: str = p):
                return F.linear(inputs, w[p + part + ".weight"], w[p + part + ".bias"])

            q, k, v = (
                project(f"attention.self.{part}", x)
                .view(batch, width, self.heads, head)
                .transpose(1, 2)
                for part in ("query", "key", "value")
            )
            context = F.scaled_dot_product_attention(q, k, v, attn_mask=attend)
            context = context.transpose(1, 2).reshape(batch, width, size)
            x = F.layer_norm(
                project("attention.output.dense", context) + x,
                (size,),
                w[p + "attention.output.LayerNorm.weight"],
                w[p + "attention.output.LayerNorm.bias"],
                self.eps,
            )
            inner = F.gelu(project("intermediate.dense", x))
            x = F.layer_norm(
                project("output.dense", inner) + x,
                (size,),
                w[p + "output.LayerNorm.weight"],
                w[p + "output.LayerNorm.bias"],
                self.eps,
            )
        return x


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

    def _hidden(self, ids, types, mask):
        inputs = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._tokenizer.model_input_names:
            inputs["token_type_ids"] = types
        return self._model(**inputs).last_hidden_state


def create_ingest_embedder(name: str, batch_size: int, *, bf16: bool = False):
    """The quickest embedder that gives ``name``'s sentence-transformers vectors.

    ``bf16`` (the ``embedding_bf16`` setting) runs the model in bfloat16 where the CPU does it
    natively: ~1.7x faster here, vectors within 4e-5 cosine of float32 rather than identical.
    """
    # INGEST_EMBEDDER=sentence-transformers forces the library (the benchmark compares them).
    if os.environ.get("INGEST_EMBEDDER") != "sentence-transformers":
        layout = read_layout(name)
        if layout is not None:
            kind = TorchBertEmbedder if TorchBertEmbedder.supports(layout) else TransformersEmbedder
            embedder = kind(layout, name, batch_size)
            embedder.bf16 = bf16 and native_bf16()
            return embedder
    from rag.embeddings import create_embedder

    return create_embedder(name, batch_size)
