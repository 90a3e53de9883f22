"""From a question's ranked hits to the passages given to the model.

Each hit, best first, is widened with its neighbouring chunks up to ``window_chars``
characters, and hits that touch an earlier window join it, so the model reads whole passages
(a section and what follows) rather than fragments, and one passage is never sent twice. The
windows of one document (one page of a PDF) then become a single passage: its excerpts in
document order, gaps marked :data:`GAP` (steps 4 and 5 of :mod:`rag.retrieval.hybrid`).

The chunks are looked up as they are needed (:class:`ChunkView`): positions and sizes from the
lexical index, texts from the store only for the passages finally sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rag.core import GAP, HEADER_KEY, Passage, document_label, join_header, stored_parts
from rag.store import ChunkRow

if TYPE_CHECKING:
    from rag.store import ChunkStore, StoredChunk

# Longest overlap looked for when two consecutive chunks of a split section are joined.
_MAX_OVERLAP = 1000
_MIN_OVERLAP = 20


class ChunkView:
    """The chunks one question touches, looked up as they are needed: positions and sizes
    from the lexical index, texts from the store only for the passages finally sent.

    Nothing here reads the whole store: a question costs a few indexed lookups.
    """

    def __init__(self, store: ChunkStore):
        self.store = store
        self.rows: dict[str, ChunkRow] = {}
        self.chunks: dict[str, StoredChunk] = {}
        self._next: dict[tuple[str, int], ChunkRow | None] = {}

    def load(self, ids: Sequence[str]) -> None:
        missing = [i for i in ids if i not in self.rows]
        if missing:
            self.rows.update(self.store.lexical.rows(missing))

    def load_neighbours(self, ids: Sequence[str]) -> None:
        """Look up the chunks just before and after each of ``ids`` (rows loaded) at once,
        rather than one by one as :meth:`neighbour` asks for them."""
        places = []
        for id_ in ids:
            row = self.rows[id_]
            if row.chunk_index is not None:
                places += [(row.source, row.chunk_index + step) for step in (-1, 1)]
        places = [place for place in places if place not in self._next]
        found = self.store.lexical.at_many(places)
        for place in places:
            self._next[place] = found.get(place)

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
class Window:
    """Consecutive chunks ``first``..``last`` (ids) around a hit."""

    hit: str
    score: float
    first: str
    last: str
    chars: int
    members: list[str]


def windows(
    ranked: list[tuple[str, float]],
    k: int,
    view: ChunkView,
    *,
    window_chars: int,
    group_documents: bool,
    reserved: Sequence[str] = (),
) -> list[Window]:
    """Up to ``k`` windows around the best of ``ranked`` (chunk id, score), each widened to
    ``window_chars``; with ``group_documents``, one document's windows next to each other.

    ``reserved``: hits (in ``ranked``) that get a window of their own whatever their rank,
    the first ``k`` of them: the other hits fill only the places they leave."""
    found: list[Window] = []
    owner: dict[str, Window] = {}  # chunk id -> the window holding it
    pending = set(list(dict.fromkeys(reserved))[:k])  # reserved hits not in a window yet
    for key, score in ranked:
        if key in owner:
            continue
        size = view.chars(key)
        joined = False
        for step in (-1, 1):  # a hit right next to an earlier window extends it
            j = view.neighbour(key, step)
            window = owner.get(j) if j is not None else None
            if window is not None and window.chars + size <= window_chars:
                _add(window, key, step < 0, view, owner)
                joined = True
                break
        if joined or len(found) >= k or (key not in pending and len(found) + len(pending) >= k):
            pending.discard(key)
            continue
        window = Window(key, score, key, key, size, [key])
        owner[key] = window
        _grow(window, view, owner, window_chars)
        found.append(window)
        pending.difference_update(window.members)
    if group_documents:
        first_seen: dict[str, int] = {}
        for rank, window in enumerate(found):
            first_seen.setdefault(view.source(window.hit), rank)
        found.sort(key=lambda w: (first_seen[view.source(w.hit)], -w.score))
    return found


def _add(window: Window, key: str, after: bool, view: ChunkView, owner: dict) -> None:
    """Put ``key`` at the end (``after``) or the start of ``window``."""
    if after:
        window.last = key
        window.members.append(key)
    else:
        window.first = key
        window.members.insert(0, key)
    window.chars += view.chars(key)
    owner[key] = window


def _grow(window: Window, view: ChunkView, owner: dict, window_chars: int) -> None:
    """Widen a new window with free neighbours, following text first, within the budget."""
    while True:
        for step, edge in ((1, window.last), (-1, window.first)):
            j = view.neighbour(edge, step)
            if j is not None and j not in owner and window.chars + view.chars(j) <= window_chars:
                _add(window, j, step > 0, view, owner)
                break
        else:
            return


def by_document(found: list[Window], view: ChunkView) -> list[list[Window]]:
    """Windows gathered per document (and PDF page), in order of each one's first window;
    within a group, in document order."""
    groups: dict[tuple[str, Any], list[Window]] = {}
    for window in found:
        row = view.rows[window.hit]
        groups.setdefault((row.source, row.page), []).append(window)
    return [sorted(group, key=lambda w: view.position(w.first)) for group in groups.values()]


def passage(n: int, group: list[Window], view: ChunkView) -> Passage:
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
    return Passage(n, hit.id, join_header(header, body), metadata, best.score, ids, passage=body)
