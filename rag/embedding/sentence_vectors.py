"""Sentence embeddings with a bounded memory of the latest ones.

Extractive answers and the verifier embed the sentences of the retrieved passages; the same
passages come back for related questions and for the verifier right after the answer, so their
sentences are embedded once rather than two or three times.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from rag.embedding.embedders import Embedder

#: Sentences remembered (384 floats each for all-MiniLM-L6-v2: about 1.5 KB a sentence).
CAPACITY = 4096


class SentenceVectors:
    """``vectors(texts)``: normalised embeddings as an array, one row per text."""

    def __init__(self, embedder: Embedder, capacity: int = CAPACITY):
        self.embedder = embedder
        self.capacity = capacity
        self._memory: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._memory))
        if missing:
            fresh = np.asarray(self.embedder.embed_documents(missing), dtype=np.float32)
            with self._lock:
                for text, vector in zip(missing, fresh, strict=True):
                    self._memory[text] = vector
                while len(self._memory) > self.capacity:
                    self._memory.popitem(last=False)
        with self._lock:
            rows = []
            for text in texts:
                vector = self._memory.get(text)
                if vector is None:  # pushed out by a very long batch: embed it again
                    vector = np.asarray(self.embedder.embed_query(text), dtype=np.float32)
                else:
                    self._memory.move_to_end(text)
                rows.append(vector)
        return np.vstack(rows) if rows else np.zeros((0, 1), dtype=np.float32)
