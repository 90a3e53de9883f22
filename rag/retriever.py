"""Hybrid retrieval: dense (embeddings in Chroma) and lexical (BM25), fused, then widened.

Dense search finds paraphrases; BM25 finds the exact names, codes and numbers that small
embedding models blur. Each chunk is ranked in four steps, every one measured in
``benchmarks/README.md`` (section "Retrieval quality and latency"):

1. **Two rankings.** The ``candidates`` nearest chunks by embedding, and the ``candidates``
   best by BM25 from the persistent lexical index (:mod:`rag.lexical`, SQLite FTS5). BM25
   scores a chunk's body and its "document | section" header line as two fields, each with
   its own length normalisation: the header says which document a chunk belongs to without
   letting short chunks win on the document's name alone. Tokens are lower-cased, stop words
   dropped and plurals folded ("contracts" matches "contract").
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

A question reads only what it needs: the candidates' places and sizes from the lexical index,
and the texts of the passages it returns from the store, so its cost does not grow with the
store.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rag.chunks import HEADER_KEY, document_label, join_header, stored_parts
from rag.lexical import ChunkRow, tokenize

if TYPE_CHECKING:
    from rag.embeddings import Embedder
    from rag.settings import Settings
    from rag.store import ChunkStore, StoredChunk

__all__ = ["GAP", "HybridRetriever", "RetrievedChunk", "tokenize"]

#: Between two excerpts of one document that are not next to each other in it.
GAP = "\n\n[…]\n\n"
# Longest overlap looked for when two consecutive chunks of a split section are joined.
_MAX_OVERLAP = 1000
_MIN_OVERLAP = 20


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


def _row(chunk: StoredChunk) -> ChunkRow:
    meta = chunk.metadata
    index, page = meta.get("chunk_index"), meta.get("page")
    return ChunkRow(
        chunk.id,
        str(meta.get("source", "")),
        index if isinstance(index, int) else None,
        page if isinstance(page, int) else None,
        len(stored_parts(chunk.text, meta)[1]),
    )


class _View:
    """The chunks one question touches, looked up as they are needed: positions and sizes
    from the lexical index, texts from the store only for the passages finally sent.

    Nothing here reads the whole store: a question costs a few indexed lookups.
    """

    def __init__(self, store: ChunkStore):
        self.store = store
        self.rows: dict[str, ChunkRow] = {}
        self.chunks: dict[str, StoredChunk] = {}
        self._next: dict[tuple[str, int], ChunkRow | None] = {}

    def remember(self, chunk: StoredChunk) -> None:
        """A chunk read from the store already (a dense hit): its text is at hand."""
        self.chunks[chunk.id] = chunk
        self.rows.setdefault(chunk.id, _row(chunk))

    def load(self, ids: Sequence[str]) -> None:
        missing = [i for i in ids if i not in self.rows]
        if missing:
            self.rows.update(self.store.lexical.rows(missing))

    def neighbour(self, id_: str, step: int) -> str | None:
        """The chunk ``step`` places after ``id_`` in its document (None past the ends)."""
        row = self.rows[id_]
        if row.chunk_index is None:
            return None
        key = (row.source, row.chunk_index + step)
        if key not in self._next:
            self._next[key] = self.store.lexical.at(*key)
        other = self._next[key]
        if other is None or other.page != row.page:
            return None  # a passage never spans two PDF pages: its citation names one
        self.rows.setdefault(other.id, other)
        return other.id

    def chars(self, id_: str) -> int:
        return self.rows[id_].chars

    def source(self, id_: str) -> str:
        return self.rows[id_].source

    def position(self, id_: str) -> int:
        """A chunk's place in its document (0 when unknown)."""
        index = self.rows[id_].chunk_index
        return index if index is not None else 0

    def fetch(self, ids: Sequence[str]) -> None:
        """Read the texts of ``ids`` not at hand yet, in one call."""
        missing = [i for i in ids if i not in self.chunks]
        for chunk in self.store.get(missing):
            self.chunks[chunk.id] = chunk

    def body(self, id_: str) -> str:
        chunk = self.chunks.get(id_)
        return stored_parts(chunk.text, chunk.metadata)[1] if chunk is not None else ""


# Cosine range of the dense candidates below which their order is noise rather than meaning.
# The 40 candidates of real questions spread 0.09-0.49 (median 0.26, InsureLLM); in a store
# of near-identical chunks (log lines, generated records) they spread 0.02, and stretching
# that to 0..1 let the embedding's noise outvote the one chunk holding the exact code asked.
DENSE_MIN_SPREAD = 0.1


def _scaled(scores: dict[Any, float], min_spread: float = 0.0) -> dict[Any, float]:
    """Scores mapped to 0..1 over the candidates (all 1.0 when they are equal).

    ``min_spread``: the smallest range stretched to the full 0..1, so candidates that all
    score alike stay alike instead of being pulled apart by noise.
    """
    if not scores:
        return {}
    low, high = min(scores.values()), max(scores.values())
    if high <= low:
        return dict.fromkeys(scores, 1.0)
    span = max(high - low, min_spread)
    return {key: (value - low) / span for key, value in scores.items()}


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
    """Consecutive chunks ``first``..``last`` (ids) around a hit."""

    hit: str
    score: float
    first: str
    last: str
    chars: int
    members: list[str]


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

    def _view(self) -> _View:
        # One freshness check per question; the lexical index is repaired here only when an
        # ingest killed halfway (or another machine, on a server store) left it behind.
        self.store.ensure_lexical(self.store.generation())
        return _View(self.store)

    # --- ranking ------------------------------------------------------------------------------
    def _fused(self, query: str, view: _View) -> dict[str, float]:
        """Chunk id -> fused score, for every candidate of either ranking."""
        dense: dict[str, float] = {}
        if self.dense_weight > 0:
            vector = self.embedder.embed_query(query)
            # _view() has just synced the store (generation()).
            for hit in self.store.query(vector, self.candidates, sync=False):
                view.remember(hit)
                dense[hit.id] = 1.0 - (hit.distance or 0.0)
        lexical: dict[str, float] = {}
        if self.dense_weight < 1:
            lexical = dict(self.store.lexical.search(query, self.candidates))
            view.load(list(lexical))
            lexical = {i: score for i, score in lexical.items() if i in view.rows}
        fused: dict[str, float] = defaultdict(float)
        scaled = (
            (self.dense_weight, _scaled(dense, DENSE_MIN_SPREAD)),
            (1.0 - self.dense_weight, _scaled(lexical)),
        )
        for weight, scores in scaled:
            for key, score in scores.items():
                fused[key] += weight * score
        if self.neighbour_weight:
            base = dict(fused)
            for key in base:
                around = [view.neighbour(key, step) for step in (-1, 1)]
                best = max((base.get(j, 0.0) for j in around if j is not None), default=0.0)
                fused[key] += self.neighbour_weight * best
        return fused

    def _windows(self, ranked: list[tuple[str, float]], k: int, view: _View) -> list[_Window]:
        windows: list[_Window] = []
        owner: dict[str, _Window] = {}  # chunk id -> the window holding it
        for key, score in ranked:
            if key in owner:
                continue
            size = view.chars(key)
            joined = False
            for step in (-1, 1):  # a hit right next to an earlier window extends it
                j = view.neighbour(key, step)
                window = owner.get(j) if j is not None else None
                if window is not None and window.chars + size <= self.window_chars:
                    self._add(window, key, step < 0, view, owner)
                    joined = True
                    break
            if joined or len(windows) >= k:
                continue
            window = _Window(key, score, key, key, size, [key])
            owner[key] = window
            self._grow(window, view, owner)
            windows.append(window)
        if self.group_documents:
            first_seen: dict[str, int] = {}
            for rank, window in enumerate(windows):
                first_seen.setdefault(view.source(window.hit), rank)
            windows.sort(key=lambda w: (first_seen[view.source(w.hit)], -w.score))
        return windows

    @staticmethod
    def _add(window: _Window, key: str, after: bool, view: _View, owner: dict) -> None:
        """Put ``key`` at the end (``after``) or the start of ``window``."""
        if after:
            window.last = key
            window.members.append(key)
        else:
            window.first = key
            window.members.insert(0, key)
        window.chars += view.chars(key)
        owner[key] = window

    def _grow(self, window: _Window, view: _View, owner: dict) -> None:
        """Widen a new window with free neighbours, following text first, within the budget."""
        while True:
            for step, edge in ((1, window.last), (-1, window.first)):
                j = view.neighbour(edge, step)
                if (
                    j is not None
                    and j not in owner
                    and window.chars + view.chars(j) <= self.window_chars
                ):
                    self._add(window, j, step > 0, view, owner)
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
        view = self._view()
        fused = self._fused(query, view)
        for other, weight in extra:
            if other.strip() and weight:
                for key, score in self._fused(other.strip(), view).items():
                    fused[key] = fused.get(key, 0.0) + weight * score
        ranked = sorted(fused.items(), key=lambda item: (-item[1], item[0]))
        windows = self._windows(ranked, k, view)
        view.fetch([key for window in windows for key in window.members])
        # A chunk deleted since the index was searched (another process's job) is left out.
        windows = [w for w in windows if w.hit in view.chunks]
        groups = (
            self._by_document(windows, view) if self.merge_documents else [[w] for w in windows]
        )
        return [self._passage(n, group, view) for n, group in enumerate(groups, start=1)]

    @staticmethod
    def _by_document(windows: list[_Window], view: _View) -> list[list[_Window]]:
        """Windows gathered per document (and PDF page), in order of each one's first window;
        within a group, in document order."""
        groups: dict[tuple[str, Any], list[_Window]] = {}
        for window in windows:
            row = view.rows[window.hit]
            groups.setdefault((row.source, row.page), []).append(window)
        return [sorted(group, key=lambda w: view.position(w.first)) for group in groups.values()]

    @staticmethod
    def _passage(n: int, group: list[_Window], view: _View) -> RetrievedChunk:
        """One passage from a document's windows; it is cited by its best hit's id."""
        best = max(group, key=lambda w: w.score)
        hit = view.chunks[best.hit]
        header, _ = stored_parts(hit.text, hit.metadata)
        metadata = dict(hit.metadata)
        if len(group) > 1:
            sections = [
                str(view.chunks[w.hit].metadata.get("section") or "")
                for w in group
                if w.hit in view.chunks
            ]
            if len(set(sections)) > 1:  # the header names the document; the excerpts, sections
                header = document_label(str(metadata.get("source", "")))
                metadata["section"] = "; ".join(dict.fromkeys(s for s in sections if s))
        # Windows that touch (the budget kept them apart) read on; gaps are marked.
        runs: list[list[str]] = []
        for window in group:
            if runs and view.position(window.first) == view.position(runs[-1][-1]) + 1:
                runs[-1].extend(window.members)
            else:
                runs.append(list(window.members))
        body = GAP.join(_join([view.body(i) for i in run]) for run in runs)
        metadata.pop(HEADER_KEY, None)  # the passage's own header is in its text
        ids = tuple(i for w in group for i in w.members)
        return RetrievedChunk(
            n, hit.id, join_header(header, body), metadata, best.score, ids, passage=body
        )
