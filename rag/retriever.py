"""Hybrid retrieval: dense (embeddings in Chroma) and lexical (BM25), fused, then widened.

Dense search finds paraphrases; BM25 finds the exact names, codes and numbers that small
embedding models blur. Each chunk is ranked in four steps, every one measured in
``benchmarks/README.md`` (section "Retrieval quality and latency"):

1. **Two rankings.** The ``candidates`` nearest chunks by embedding, and the ``candidates``
   best by BM25. BM25 scores a chunk's body and its "document | section" header line as two
   fields, each with its own length normalisation: the header says which document a chunk
   belongs to without letting short chunks win on the document's name alone. Tokens are
   lower-cased, stop words dropped and plurals folded ("contracts" matches "contract").
2. **Fusion.** Both score lists are scaled to 0..1 over their candidates and mixed,
   ``dense_weight`` for the embedding and the rest for BM25.
3. **Neighbours.** A chunk gains ``neighbour_weight`` times the better score of the chunks
   just before and after it in its document: a passage next to relevant text is more likely
   relevant than an isolated match.
4. **Windows.** Each hit, best first, is widened with its neighbouring chunks up to
   ``window_chars`` characters, and hits that touch an earlier window join it, so the model
   reads whole passages (a section and what follows) rather than fragments, and one passage
   is never sent twice. Passages of the same document are then kept next to each other,
   documents ordered by their best passage.
5. **One passage per document.** The windows of one document (one page of a PDF) become a
   single passage: its excerpts in document order, gaps marked "[…]". The model and the
   reader get each source once, with everything found in it, instead of several numbered
   fragments of the same file; the text is the same.
"""

from __future__ import annotations

import math
import re
import threading
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from rag.chunks import HEADER_KEY, document_label, join_header, stored_parts

if TYPE_CHECKING:
    from rag.embeddings import Embedder
    from rag.settings import Settings
    from rag.store import ChunkStore, StoredChunk

_TOKEN = re.compile(r"\w+", re.UNICODE)
_STOPWORDS = frozenset(
    """a an and are as at be by for from has have how i in is it its of on or that the this to
    was were what when where which who whom why will with do does did you your me my we our
    their his her he she they them about tell""".split()
)
# BM25 constants (Robertson and Zaragoza's usual values).
_K1 = 1.5
_B = 0.75
#: Between two excerpts of one document that are not next to each other in it.
GAP = "\n\n[…]\n\n"
# Longest overlap looked for when two consecutive chunks of a split section are joined.
_MAX_OVERLAP = 1000
_MIN_OVERLAP = 20


def _fold_plural(token: str) -> str:
    """A light English stemmer, plural endings only: policies, boxes, classes, contracts."""
    if len(token) <= 3 or not token.isalpha():
        return token
    if token.endswith("sses"):
        return token[:-2]
    if token.endswith("ies") and len(token) > 4 and token[-4] not in "ae":
        return token[:-3] + "y"
    if token.endswith(("xes", "zes", "ches", "shes")):
        return token[:-2]
    if token.endswith("s") and not token.endswith(("ss", "us", "is")):
        return token[:-1]
    return token


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens without stop words or stray letters, plurals folded."""
    tokens = []
    for token in _TOKEN.findall(text.lower()):
        if token in _STOPWORDS or (len(token) == 1 and not token.isdigit()):
            continue
        tokens.append(_fold_plural(token))
    return tokens


@dataclass(frozen=True)
class RetrievedChunk:
    """A passage given to the model, numbered as it is cited: [n].

    ``text`` is a header line ("document | section", or the document alone when the passage
    spans sections), a blank line, then the passage: the chunks listed in ``chunk_ids``, in
    document order, joined; excerpts that are not next to each other are separated by
    :data:`GAP`. ``id`` and ``metadata`` are those of the best-scoring hit in it.
    """

    n: int
    id: str
    text: str
    metadata: dict[str, Any]
    score: float
    chunk_ids: tuple[str, ...] = field(default=())
    #: The passage without its header line (None: ``text`` has no header).
    passage: str | None = None

    @property
    def source(self) -> str:
        return str(self.metadata.get("source", ""))

    @property
    def body(self) -> str:
        """The text without the "document | section" line."""
        return self.text if self.passage is None else self.passage

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


class _BM25:
    """Okapi BM25 with precomputed per-term weights: a query costs one add per posting."""

    def __init__(self, documents: Sequence[Sequence[str]]):
        self.size = len(documents)
        lengths = np.array([len(d) for d in documents], dtype=np.float64)
        average = float(lengths.mean()) if self.size and lengths.any() else 1.0
        counts: dict[str, dict[int, int]] = defaultdict(dict)
        for i, document in enumerate(documents):
            for token in document:
                counts[token][i] = counts[token].get(i, 0) + 1
        self._postings: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for token, postings in counts.items():
            ids = np.fromiter(postings.keys(), dtype=np.int64, count=len(postings))
            tf = np.fromiter(postings.values(), dtype=np.float64, count=len(postings))
            idf = math.log((self.size - len(ids) + 0.5) / (len(ids) + 0.5) + 1.0)
            norm = _K1 * (1.0 - _B + _B * lengths[ids] / average)
            self._postings[token] = (ids, idf * tf * (_K1 + 1.0) / (tf + norm))

    def scores(self, terms: Sequence[str]) -> np.ndarray:
        scores = np.zeros(self.size)
        for term in terms:
            posting = self._postings.get(term)
            if posting is not None:
                scores[posting[0]] += posting[1]
        return scores


class _ChunkIndex:
    """Every stored chunk in memory: BM25 over bodies and headers, and each chunk's neighbours.

    Rebuilt when the store's generation changes.
    """

    def __init__(self, chunks: Sequence[StoredChunk]):
        self.chunks = list(chunks)
        self.by_id = {c.id: i for i, c in enumerate(self.chunks)}
        self.position: dict[tuple[str, int], int] = {}
        for i, chunk in enumerate(self.chunks):
            index = chunk.metadata.get("chunk_index")
            if isinstance(index, int):
                self.position[(str(chunk.metadata.get("source", "")), index)] = i
        parts = [stored_parts(c.text, c.metadata) for c in self.chunks]
        self.headers = [header for header, _ in parts]
        headers = self.headers
        self.bodies = [body for _, body in parts]
        self._body = _BM25([tokenize(b) for b in self.bodies])
        # A header names the document once: repeating its words would only reward repetition.
        self._header = _BM25([list(dict.fromkeys(tokenize(h))) for h in headers])

    def lexical(self, query: str, n: int) -> list[tuple[int, float]]:
        """Up to ``n`` (chunk, score) pairs, best first, scored > 0."""
        terms = tokenize(query)
        if not self.chunks or not terms:
            return []
        scores = self._body.scores(terms) + self._header.scores(terms)
        n = min(n, len(scores))
        best = np.argpartition(-scores, n - 1)[:n]
        best = best[np.argsort(-scores[best], kind="stable")]
        return [(int(i), float(scores[i])) for i in best if scores[i] > 0]

    def neighbour(self, i: int, step: int) -> int | None:
        """The chunk ``step`` places after chunk ``i`` in its document (None past the ends)."""
        meta = self.chunks[i].metadata
        index = meta.get("chunk_index")
        if not isinstance(index, int):
            return None
        j = self.position.get((str(meta.get("source", "")), index + step))
        if j is None or self.chunks[j].metadata.get("page") != meta.get("page"):
            return None  # a passage never spans two PDF pages: its citation names one
        return j


def _chunk_index(index: _ChunkIndex, position: int) -> int:
    """A chunk's place in its document (0 when unknown)."""
    value = index.chunks[position].metadata.get("chunk_index")
    return value if isinstance(value, int) else 0


def _scaled(scores: dict[Any, float]) -> dict[Any, float]:
    """Scores mapped to 0..1 over the candidates (all 1.0 when they are equal)."""
    if not scores:
        return {}
    low, high = min(scores.values()), max(scores.values())
    if high <= low:
        return dict.fromkeys(scores, 1.0)
    return {key: (value - low) / (high - low) for key, value in scores.items()}


def _join(parts: Sequence[str]) -> str:
    """Consecutive chunk bodies as one passage, the overlap of split sections removed."""
    text = parts[0] if parts else ""
    for part in parts[1:]:
        rest, glue = part, "\n\n"
        head = part[:_MIN_OVERLAP]
        start = (
            text.find(head, max(0, len(text) - _MAX_OVERLAP)) if len(head) == _MIN_OVERLAP else -1
        )
        while start != -1:
            if part.startswith(text[start:]):
                rest = part[len(text) - start :]
                glue = " " if rest[:1].islower() else "\n"
                break
            start = text.find(head, start + 1)
        if rest.strip():
            text = f"{text}{glue}{rest.lstrip()}"
    return text


@dataclass
class _Window:
    """Consecutive chunks ``first``..``last`` (positions in the index) around a hit."""

    hit: int
    score: float
    first: int
    last: int
    chars: int
    members: list[int]


class HybridRetriever:
    def __init__(
        self,
        store: ChunkStore,
        embedder: Embedder,
        *,
        hybrid: bool = True,
        candidates: int = 40,
        dense_weight: float = 0.5,
        neighbour_weight: float = 0.3,
        window_chars: int = 1500,
        group_documents: bool = True,
        merge_documents: bool = True,
    ):
        self.store = store
        self.embedder = embedder
        self.hybrid = hybrid
        self.candidates = candidates
        self.dense_weight = dense_weight if hybrid else 1.0
        self.neighbour_weight = neighbour_weight
        self.window_chars = window_chars
        self.group_documents = group_documents
        self.merge_documents = merge_documents
        self._index: _ChunkIndex | None = None
        self._generation: Any = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, store: ChunkStore, embedder: Embedder, settings: Settings):
        return cls(
            store,
            embedder,
            hybrid=settings.hybrid,
            candidates=settings.candidates,
            dense_weight=settings.dense_weight,
            neighbour_weight=settings.neighbour_weight,
            window_chars=settings.window_chars,
            merge_documents=settings.merge_documents,
        )

    def _chunk_index(self) -> _ChunkIndex:
        generation = self.store.generation()
        with self._lock:
            if self._index is None or generation != self._generation:
                self._index = _ChunkIndex(self.store.all_chunks())
                self._generation = generation
            return self._index

    # --- ranking ------------------------------------------------------------------------------
    def _fused(self, query: str, index: _ChunkIndex) -> dict[int, float]:
        """Index position -> fused score, for every candidate of either ranking."""
        dense: dict[int, float] = {}
        if self.dense_weight > 0:
            vector = self.embedder.embed_query(query)
            # _chunk_index() has just synced the store (generation()).
            for hit in self.store.query(vector, self.candidates, sync=False):
                position = index.by_id.get(hit.id)
                if position is not None:  # else written after the index was read: next query
                    dense[position] = 1.0 - (hit.distance or 0.0)
        lexical = dict(index.lexical(query, self.candidates)) if self.dense_weight < 1 else {}
        fused: dict[int, float] = defaultdict(float)
        for weight, scores in ((self.dense_weight, dense), (1.0 - self.dense_weight, lexical)):
            for position, score in _scaled(scores).items():
                fused[position] += weight * score
        if self.neighbour_weight:
            base = dict(fused)
            for position in base:
                around = [index.neighbour(position, step) for step in (-1, 1)]
                best = max((base.get(j, 0.0) for j in around if j is not None), default=0.0)
                fused[position] += self.neighbour_weight * best
        return fused

    def _windows(
        self, ranked: list[tuple[int, float]], k: int, index: _ChunkIndex
    ) -> list[_Window]:
        windows: list[_Window] = []
        owner: dict[int, _Window] = {}  # chunk position -> the window holding it
        for position, score in ranked:
            if position in owner:
                continue
            size = len(index.bodies[position])
            joined = False
            for step in (-1, 1):  # a hit right next to an earlier window extends it
                j = index.neighbour(position, step)
                window = owner.get(j) if j is not None else None
                if window is not None and window.chars + size <= self.window_chars:
                    self._add(window, position, step < 0, index, owner)
                    joined = True
                    break
            if joined or len(windows) >= k:
                continue
            window = _Window(position, score, position, position, size, [position])
            owner[position] = window
            self._grow(window, index, owner)
            windows.append(window)
        if self.group_documents:
            first_seen: dict[str, int] = {}
            for rank, window in enumerate(windows):
                first_seen.setdefault(self._source(window, index), rank)
            windows.sort(key=lambda w: (first_seen[self._source(w, index)], -w.score))
        return windows

    @staticmethod
    def _source(window: _Window, index: _ChunkIndex) -> str:
        return str(index.chunks[window.hit].metadata.get("source", ""))

    @staticmethod
    def _add(window: _Window, position: int, after: bool, index: _ChunkIndex, owner: dict) -> None:
        """Put ``position`` at the end (``after``) or the start of ``window``."""
        if after:
            window.last = position
            window.members.append(position)
        else:
            window.first = position
            window.members.insert(0, position)
        window.chars += len(index.bodies[position])
        owner[position] = window

    def _grow(self, window: _Window, index: _ChunkIndex, owner: dict) -> None:
        """Widen a new window with free neighbours, following text first, within the budget."""
        while True:
            for step, edge in ((1, window.last), (-1, window.first)):
                j = index.neighbour(edge, step)
                if (
                    j is not None
                    and j not in owner
                    and window.chars + len(index.bodies[j]) <= self.window_chars
                ):
                    self._add(window, j, step > 0, index, owner)
                    break
            else:
                return

    # --- the public face ----------------------------------------------------------------------
    def retrieve(
        self, query: str, k: int, *, extra: Sequence[tuple[str, float]] = ()
    ) -> list[RetrievedChunk]:
        """The ``k`` best passages for ``query``.

        ``extra``: more (query, weight) pairs whose fused scores are added, weighted, to the
        main query's before windows are formed (a follow-up question on its own, beside the
        conversation it belongs to).
        """
        query = query.strip()
        if not query or k <= 0:
            return []
        index = self._chunk_index()
        fused = self._fused(query, index)
        for other, weight in extra:
            if other.strip() and weight:
                for position, score in self._fused(other.strip(), index).items():
                    fused[position] = fused.get(position, 0.0) + weight * score
        ranked = sorted(fused.items(), key=lambda item: (-item[1], item[0]))
        windows = self._windows(ranked, k, index)
        groups = (
            self._by_document(windows, index) if self.merge_documents else [[w] for w in windows]
        )
        return [self._passage(n, group, index) for n, group in enumerate(groups, start=1)]

    @staticmethod
    def _by_document(windows: list[_Window], index: _ChunkIndex) -> list[list[_Window]]:
        """Windows gathered per document (and PDF page), in order of each one's first window;
        within a group, in document order."""
        groups: dict[tuple[str, Any], list[_Window]] = {}
        for window in windows:
            meta = index.chunks[window.hit].metadata
            groups.setdefault((str(meta.get("source", "")), meta.get("page")), []).append(window)
        return [
            sorted(group, key=lambda w: _chunk_index(index, w.first)) for group in groups.values()
        ]

    @staticmethod
    def _passage(n: int, group: list[_Window], index: _ChunkIndex) -> RetrievedChunk:
        """One passage from a document's windows; it is cited by its best hit's id."""
        best = max(group, key=lambda w: w.score)
        hit = index.chunks[best.hit]
        header = index.headers[best.hit]
        metadata = dict(hit.metadata)
        if len(group) > 1:
            sections = [str(index.chunks[w.hit].metadata.get("section") or "") for w in group]
            if len(set(sections)) > 1:  # the header names the document; the excerpts, sections
                header = document_label(str(metadata.get("source", "")))
                metadata["section"] = "; ".join(dict.fromkeys(s for s in sections if s))
        # Windows that touch (the budget kept them apart) read on; gaps are marked.
        runs: list[list[int]] = []
        for window in group:
            if runs and _chunk_index(index, window.first) == _chunk_index(index, runs[-1][-1]) + 1:
                runs[-1].extend(window.members)
            else:
                runs.append(list(window.members))
        body = GAP.join(_join([index.bodies[i] for i in run]) for run in runs)
        metadata.pop(HEADER_KEY, None)  # the passage's own header is in its text
        ids = tuple(index.chunks[i].id for w in group for i in w.members)
        return RetrievedChunk(
            n, hit.id, join_header(header, body), metadata, best.score, ids, passage=body
        )
