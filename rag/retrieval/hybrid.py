"""Hybrid retrieval: dense (embeddings in Chroma) and lexical (BM25), fused, then widened.

Dense search finds paraphrases; BM25 finds the exact names, codes and numbers that small
embedding models blur. Each chunk is ranked in four steps, every one measured in
``benchmarks/README.md`` (section "Retrieval quality and latency"):

1. **Two rankings.** The ``candidates`` nearest chunks by embedding, and the ``candidates``
   best by BM25 from the persistent lexical index (:mod:`rag.store.lexical`, SQLite FTS5). BM25
   scores a chunk's body and its "document | section" header line as two fields, each with
   its own length normalisation: the header says which document a chunk belongs to without
   letting short chunks win on the document's name alone. Tokens are lower-cased, stop words
   dropped and plurals folded ("contracts" matches "contract").
2. **Fusion.** Both score lists are scaled to 0..1 over their candidates and mixed,
   ``dense_weight`` for the embedding and the rest for BM25.
3. **Neighbours.** A chunk gains ``neighbour_weight`` times the better score of the chunks
   just before and after it in its document: a passage next to relevant text is more likely
   relevant than an isolated match.
   A "Who <verb> …?" question's best hits that name the doer ("founded by …") gain
   ``AGENT_BONUS``: a hit as close on the question's words ("Founded in 2015") names nobody.
4. **Windows** (:mod:`rag.retrieval.passages`, as is step 5). Each hit, best first, is widened with its neighbouring chunks up to
   ``window_chars`` characters, and hits that touch an earlier window join it, so the model
   reads whole passages (a section and what follows) rather than fragments, and one passage
   is never sent twice. Passages of the same document are then kept next to each other,
   documents ordered by their best passage.
5. **One passage per document.** The windows of one document (one page of a PDF) become a
   single passage: its excerpts in document order, gaps marked "[…]". The model and the
   reader get each source once, with everything found in it, instead of several numbered
   fragments of the same file; the text is the same.

A question that joins documents ("…, and what …?", a comparison, "the X that …", "across
all …") is searched part by part as well (:mod:`rag.retrieval.question` says which parts):
each part's best hit, and each document that comes close to the top of the question's or a
part's ranking, keep a window of their own among the ``k``, and documents are ordered by how
well they answer any part (:mod:`rag.retrieval.spanning`).

A question reads only what it needs: the candidates' places and sizes from the lexical index,
and the texts of the passages it returns from the store, so its cost does not grow with the
store.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rag.core import Passage
from rag.retrieval.passages import ChunkView, by_document, passage, windows
from rag.retrieval.question import QuestionPlan, plan_question
from rag.retrieval.spanning import Reservation, by_standing, reserve

if TYPE_CHECKING:
    from rag.embedding import Embedder
    from rag.settings import RetrievalSettings
    from rag.store import ChunkStore

__all__ = ["HybridRetriever"]

# Cosine range of the dense candidates below which their order is noise rather than meaning.
# The 40 candidates of real questions spread 0.09-0.49 (median 0.26, InsureLLM); in a store
# of near-identical chunks (log lines, generated records) they spread 0.02, and stretching
# that to 0..1 let the embedding's noise outvote the one chunk holding the exact code asked.
DENSE_MIN_SPREAD = 0.1
# "Who <verb> …?": how many of the best hits are read for the doer's name, and what naming it
# adds to a hit's fused score (a question's top hits are often within 0.01 of each other).
AGENT_CANDIDATES = 10
AGENT_BONUS = 0.1


def _scaled(
    scores: dict[Any, float], min_spread: float = 0.0, floor: float | None = None
) -> dict[Any, float]:
    """Scores mapped to 0..1 over the candidates (all 1.0 when they are equal).

    ``min_spread``: the smallest range stretched to the full 0..1, so candidates that all
    score alike stay alike instead of being pulled apart by noise; candidates that score
    exactly alike then all get 0, as nearly alike ones get nearly 0 (identical vectors of
    repeated text say nothing about which of them is asked for). ``floor``: the score that
    maps to 0, when it is known (else the lowest candidate's).
    """
    if not scores:
        return {}
    low, high = min(scores.values()), max(scores.values())
    if floor is not None:
        low = min(low, floor)
    if high <= low and not min_spread:
        return dict.fromkeys(scores, 1.0)
    span = max(high - low, min_spread)
    return {key: (value - low) / span for key, value in scores.items()}


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
        split_questions: bool = True,
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
        self.split_questions = split_questions
        # The store state whose recorded embedding model was last checked against ours: the
        # record changes only with a write or a reset, and both change the state.
        self._vectors_checked_at: tuple | None = None

    @classmethod
    def from_settings(cls, store: ChunkStore, embedder: Embedder, settings: RetrievalSettings):
        return cls(
            store,
            embedder,
            hybrid=settings.hybrid,
            candidates=settings.candidates,
            dense_weight=settings.dense_weight,
            neighbour_weight=settings.neighbour_weight,
            window_chars=settings.window_chars,
            merge_documents=settings.merge_documents,
            split_questions=settings.split_questions,
        )

    def _view(self) -> ChunkView:
        # One freshness check per question; the lexical index is repaired here only when an
        # ingest killed halfway (or another machine, on a server store) left it behind.
        state = self.store.generation()
        self.store.ensure_lexical(state)
        if self.dense_weight > 0 and state != self._vectors_checked_at:
            self.store.check_vectors(self.embedder.name)
            self._vectors_checked_at = state
        return ChunkView(self.store)

    # --- ranking ------------------------------------------------------------------------------
    def _fused(self, queries: Sequence[str], view: ChunkView) -> list[dict[str, float]]:
        """Chunk id -> fused score, for every candidate of either ranking, for each of
        ``queries``. The queries of one question (its parts, a follow-up's pair) are embedded
        in one batch and searched in one Chroma query, their rows and neighbours looked up at
        once: each of those costs per call, and a question of four parts made four."""
        denses: list[dict[str, float]] = [{} for _ in queries]
        if self.dense_weight > 0:
            vectors = self.embedder.embed_queries(list(queries))
            # _view() has just synced the store (generation()).
            nearest = self.store.nearest_many(vectors, self.candidates, sync=False)
            view.load([id_ for found in nearest for id_, _ in found])
            # A chunk the index no longer has was deleted since (another process's job).
            denses = [{id_: 1.0 - d for id_, d in found if id_ in view.rows} for found in nearest]
        lexicals: list[dict[str, float]] = [{} for _ in queries]
        if self.dense_weight < 1:
            lexicals = [dict(self.store.lexical.search(q, self.candidates)) for q in queries]
            view.load([id_ for found in lexicals for id_ in found])
            lexicals = [{i: s for i, s in found.items() if i in view.rows} for found in lexicals]
        bases = [self._mixed(d, lex) for d, lex in zip(denses, lexicals, strict=True)]
        if not self.neighbour_weight:
            return bases
        view.load_neighbours(list(dict.fromkeys(key for base in bases for key in base)))
        return [self._with_neighbours(base, view) for base in bases]

    def _mixed(self, dense: dict[str, float], lexical: dict[str, float]) -> dict[str, float]:
        """One query's two rankings scaled to 0..1 and mixed by ``dense_weight``."""
        fused: dict[str, float] = defaultdict(float)
        # Fewer BM25 hits than asked for: they are every chunk holding a term of the query
        # (a rare acronym: "What is MMLU?" finds 4), every other chunk scores 0, and the
        # last hit is a match, not the floor. Stretched from the last hit's score, the
        # chunk defining MMLU (third of four) kept 0.35 of the lexical half and fell behind
        # the chunks the embedding, which doesn't know the word, found.
        floor = 0.0 if len(lexical) < self.candidates else None
        scaled = (
            (self.dense_weight, _scaled(dense, DENSE_MIN_SPREAD)),
            (1.0 - self.dense_weight, _scaled(lexical, floor=floor)),
        )
        for weight, scores in scaled:
            for key, score in scores.items():
                fused[key] += weight * score
        return fused

    def _with_neighbours(self, base: dict[str, float], view: ChunkView) -> dict[str, float]:
        """Each chunk raised by ``neighbour_weight`` times its better neighbour's score."""
        fused = dict(base)
        for key in base:
            around = [view.neighbour(key, step) for step in (-1, 1)]
            best = max((base.get(j, 0.0) for j in around if j is not None), default=0.0)
            fused[key] += self.neighbour_weight * best
        return fused

    def _favour_agents(self, fused: dict[str, float], plan: QuestionPlan, view: ChunkView) -> None:
        """Raise the best hits of a "Who <verb> …?" question that name the doer: they answer
        it, where a hit as close on the question's words ("Founded in 2015") names nobody."""
        top = [key for key, _ in sorted(fused.items(), key=lambda item: (-item[1], item[0]))]
        top = top[:AGENT_CANDIDATES]
        view.fetch(top)
        for key in top:
            if plan.names_agent(view.body(key)):
                fused[key] += AGENT_BONUS

    # --- the public face ----------------------------------------------------------------------
    def plan(self, question: str) -> QuestionPlan:
        """What ``question`` asks for (:func:`rag.retrieval.question.plan_question`), with
        this store's documents catalog; a single question when ``split_questions`` is off."""
        if not self.split_questions:
            return QuestionPlan(" ".join(question.split()))
        return plan_question(question, self.store.lexical)

    def retrieve(
        self,
        query: str,
        k: int,
        *,
        extra: Sequence[tuple[str, float]] = (),
        plan: QuestionPlan | None = None,
    ) -> list[Passage]:
        """The ``k`` best passages for ``query``.

        ``extra``: more (query, weight) pairs whose fused scores are added, weighted, to the
        main query's before windows are formed (a follow-up question on its own, beside the
        conversation it belongs to). ``plan``: the question's plan (:meth:`plan`); a question
        that spans documents keeps a passage of each document it needs within the ``k``
        (:func:`rag.retrieval.spanning.reserve`).
        """
        query = query.strip()
        if not query or k <= 0:
            return []
        view = self._view()
        extra = [(other.strip(), weight) for other, weight in extra if other.strip() and weight]
        spans = plan is not None and plan.spans_documents
        parts = list(plan.parts) if spans and not plan.per_document else []
        fused, *others = self._fused([query, *(q for q, _ in extra), *parts], view)
        for (_, weight), scores in zip(extra, others, strict=False):
            for key, score in scores.items():
                fused[key] = fused.get(key, 0.0) + weight * score
        if plan is not None and plan.agent_verb:
            self._favour_agents(fused, plan, view)
        reservation = Reservation([], {})
        if spans:
            reservation = reserve(
                plan,
                query,
                fused,
                view,
                k,
                parts=others[len(extra) :],
                lexical=self.store.lexical,
                candidates=self.candidates,
            )
        ranked = sorted(fused.items(), key=lambda item: (-item[1], item[0]))
        found = windows(
            ranked,
            k,
            view,
            window_chars=self.window_chars,
            group_documents=self.group_documents,
            reserved=reservation.hits,
        )
        if reservation.standing:
            by_standing(found, reservation.standing, view)
        view.fetch([key for window in found for key in window.members])
        # A chunk deleted since the index was searched (another process's job) is left out.
        found = [w for w in found if w.hit in view.chunks]
        groups = by_document(found, view) if self.merge_documents else [[w] for w in found]
        return [passage(n, group, view) for n, group in enumerate(groups, start=1)]
