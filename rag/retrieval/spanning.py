"""Which documents a question that spans documents keeps a passage of, and in which order.

A question searched as a whole gets the ``k`` windows around its best hits, often several of
one document: "Who introduced MCP, and what does Claude 3.5 Sonnet cost?" fills its passages
with the document that matches best, and the other half of the answer is left out. With the
question's plan (:mod:`rag.retrieval.question`) the retriever searches each part too, and
:func:`reserve` picks the hits that get a window of their own whatever their rank, one per
document, at most ``k``:

1. each part's best hit (a part is read with the whole question around it, at
   :data:`QUESTION_CONTEXT`: "4-bit" alone says little); for an aggregation, the best hit of
   each document in its scope ("all X contracts": the documents the catalog names so);
2. the best hit of every document that comes close (:data:`RELEVANT`) to the top of one of
   the rankings: the whole question's, a part's, or for an aggregation without a scope its
   topic's by BM25 (a document that names "Pydantic" holds what it says of it).

The other hits fill the places left, by score, as for any question. The passages are then
ordered by each document's best standing in any of the rankings (:func:`by_standing`), so a
document that answers one part comes before one that merely matches many words of the whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rag.retrieval.question import QuestionPlan

if TYPE_CHECKING:
    from rag.retrieval.passages import ChunkView, Window
    from rag.store.lexical import LexicalIndex

#: Weight of the whole question's score when a part's hits are ranked.
QUESTION_CONTEXT = 0.25
#: A document gets a window of its own when its best hit scores at least this share of the
#: best hit of a ranking (the question's, a part's, an aggregation's topic's).
RELEVANT = 0.5

#: Chunk id -> score, as the retriever fuses them for one query.
Scores = dict[str, float]


@dataclass
class Reservation:
    """What :func:`reserve` chose: hits that each get a window, and how documents stand."""

    #: At most ``k`` chunk ids, one per document, most needed first.
    hits: list[str]
    #: Source -> the best share of a ranking's top that any of its hits reaches.
    standing: dict[str, float]


def reserve(
    plan: QuestionPlan,
    query: str,
    fused: Scores,
    view: ChunkView,
    k: int,
    *,
    parts: Sequence[Scores],
    lexical: LexicalIndex,
    candidates: int,
) -> Reservation:
    """The hits ``plan``'s question keeps a window for (module docstring).

    ``fused``: the whole query's scores; every hit reserved is added to it (at 0.0 when it
    was not a candidate) so that it is ranked with the others. ``parts``: the fused scores of
    each of the plan's parts, searched alone. ``lexical``: the store's index, for the scope
    and the topic.
    """
    if plan.per_document:
        first = _scope_hits(query, plan, fused, view, lexical)
        # The scope says which documents; without one, the topic's words do.
        rankings = [fused] if first else [fused, _topic_ranking(plan, view, lexical, candidates)]
    else:
        rankings = [fused, *_part_rankings(parts, fused)]
        first = [max(r, key=lambda key: (r[key], key)) for r in rankings[1:] if r]
    best: dict[str, tuple[float, str]] = {}  # source -> (share of a top, the hit reaching it)
    for ranking in rankings:
        top = max(ranking.values(), default=0.0)
        if top <= 0:
            continue
        for key, score in ranking.items():
            source, share = view.source(key), score / top
            if share > best.get(source, (0.0, ""))[0]:
                best[source] = (share, key)
    hits: dict[str, str] = {}  # source -> its reserved hit
    for key in first:
        hits.setdefault(view.source(key), key)
    for share, key in sorted(best.values(), key=lambda item: (-item[0], item[1])):
        if share >= RELEVANT:
            hits.setdefault(view.source(key), key)
    chosen = list(hits.values())[:k]
    for key in chosen:
        fused.setdefault(key, 0.0)
    return Reservation(chosen, {source: share for source, (share, _) in best.items()})


def by_standing(found: list[Window], standing: dict[str, float], view: ChunkView) -> None:
    """Order windows by their document's standing, best first; ties keep their order (the
    whole question's ranking, one document's windows together)."""
    found.sort(key=lambda window: -standing.get(view.source(window.hit), 0.0))


def _part_rankings(parts: Sequence[Scores], fused: Scores) -> list[Scores]:
    """Each part's scores, plus the whole question's at :data:`QUESTION_CONTEXT`."""
    return [
        {key: score + QUESTION_CONTEXT * fused.get(key, 0.0) for key, score in scores.items()}
        for scores in parts
    ]


def _topic_ranking(
    plan: QuestionPlan, view: ChunkView, lexical: LexicalIndex, candidates: int
) -> Scores:
    """An aggregation's topic ("Pydantic" of "which notes use Pydantic, and what for in
    each?") by BM25 alone: the documents that name it are the ones that say something of it."""
    found = dict(lexical.search(" ".join(plan.subjects), candidates))
    view.load(list(found))
    return {key: score for key, score in found.items() if key in view.rows}


def _scope_hits(
    query: str, plan: QuestionPlan, fused: Scores, view: ChunkView, lexical: LexicalIndex
) -> list[str]:
    """The best hit of each document in an aggregation's scope, best first: its best
    candidate, or its best chunk by BM25 when it has none."""
    scope = set(plan.scope)
    best: dict[str, str] = {}
    for key, _ in sorted(fused.items(), key=lambda item: (-item[1], item[0])):
        if view.source(key) in scope:
            best.setdefault(view.source(key), key)
    missing = [source for source in plan.scope if source not in best]
    for source, (key, _) in lexical.search_documents(query, missing).items():
        view.load([key])
        if key in view.rows:
            best[source] = key
    return sorted(best.values(), key=lambda key: (-fused.get(key, 0.0), key))
