"""Hybrid retrieval: dense (embeddings in Chroma) and lexical (BM25), fused by rank.

Dense search finds paraphrases; BM25 finds the exact names, codes and numbers that small
embedding models blur. Reciprocal rank fusion needs no score calibration between the two.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rank_bm25 import BM25Okapi

if TYPE_CHECKING:
    from rag.embeddings import Embedder
    from rag.store import ChunkStore, StoredChunk

# The usual constant of reciprocal rank fusion (Cormack et al., 2009).
RRF_K = 60
_TOKEN = re.compile(r"[\w]+", re.UNICODE)
_STOPWORDS = frozenset(
    """a an and are as at be by for from has have how i in is it its of on or that the this to
    was were what when where which who whom why will with do does did you your me my we our
    their his her he she they them about tell""".split()
)


def tokenize(text: str) -> list[str]:
    return [t for t in _TOKEN.findall(text.lower()) if t not in _STOPWORDS]


@dataclass(frozen=True)
class RetrievedChunk:
    """A chunk given to the model, numbered as it is cited: [n]."""

    n: int
    id: str
    text: str
    metadata: dict[str, Any]
    score: float

    @property
    def source(self) -> str:
        return str(self.metadata.get("source", ""))

    @property
    def body(self) -> str:
        """The text without the "document | section" line that ingestion puts first."""
        _, sep, rest = self.text.partition("\n\n")
        return rest if sep else self.text

    def as_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "source": self.source,
            "title": self.metadata.get("title"),
            "section": self.metadata.get("section") or None,
            "page": self.metadata.get("page"),
            "text": self.text,
            "score": round(self.score, 4),
        }


class _LexicalIndex:
    """BM25 over every stored chunk, rebuilt when the store's generation changes."""

    def __init__(self, chunks: Sequence[StoredChunk]):
        self.chunks = list(chunks)
        corpus = [tokenize(c.text) for c in self.chunks]
        self._bm25 = BM25Okapi(corpus) if corpus else None

    def search(self, query: str, n: int) -> list[StoredChunk]:
        terms = tokenize(query)
        if self._bm25 is None or not terms:
            return []
        scores = self._bm25.get_scores(terms)
        ranked = sorted(range(len(scores)), key=scores.__getitem__, reverse=True)[:n]
        return [self.chunks[i] for i in ranked if scores[i] > 0]


class HybridRetriever:
    def __init__(
        self,
        store: ChunkStore,
        embedder: Embedder,
        *,
        hybrid: bool = True,
        candidates: int = 40,
    ):
        self.store = store
        self.embedder = embedder
        self.hybrid = hybrid
        self.candidates = candidates
        self._lexical: _LexicalIndex | None = None
        self._generation: Any = None
        self._lock = threading.Lock()

    def _lexical_index(self) -> _LexicalIndex:
        generation = self.store.generation()
        with self._lock:
            if self._lexical is None or generation != self._generation:
                self._lexical = _LexicalIndex(self.store.all_chunks())
                self._generation = generation
            return self._lexical

    def retrieve(self, query: str, k: int) -> list[RetrievedChunk]:
        query = query.strip()
        if not query:
            return []
        dense = self.store.query(self.embedder.embed_query(query), self.candidates)
        if not self.hybrid:
            return [
                RetrievedChunk(i, c.id, c.text, c.metadata, 1.0 - (c.distance or 0.0))
                for i, c in enumerate(dense[:k], start=1)
            ]
        lexical = self._lexical_index().search(query, self.candidates)
        fused: dict[str, float] = {}
        by_id: dict[str, StoredChunk] = {}
        for ranking in (dense, lexical):
            for rank, chunk in enumerate(ranking):
                fused[chunk.id] = fused.get(chunk.id, 0.0) + 1.0 / (RRF_K + rank + 1)
                by_id.setdefault(chunk.id, chunk)
        best = sorted(fused, key=fused.__getitem__, reverse=True)[:k]
        return [
            RetrievedChunk(i, cid, by_id[cid].text, by_id[cid].metadata, fused[cid])
            for i, cid in enumerate(best, start=1)
        ]
