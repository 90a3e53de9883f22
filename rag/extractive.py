"""Answers made of the notes' own sentences: no language model, so nothing can be invented.

The sentences of the retrieved passages are scored against the question with what the app
already has: the embedding model (meaning) and BM25-style term weights (the exact names and
numbers a small embedder blurs), mixed as measured in ``benchmarks/README.md`` ("Extractive
answers"). The best few, within a word budget a reader takes in at a glance, are given in the
order they stand in the notes, each followed by the [n] of its passage.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rag.retriever import RetrievedChunk
from rag.sentences import HEADING, ITEM, ROW, TEXT, Sentence, split_sentences
from rag.tokens import tokenize

#: Share of the embedding similarity in a sentence's score; the term overlap gets the rest.
DENSE_WEIGHT = 0.5
#: An answer stops growing past this many words (the first sentence is always kept).
WORD_BUDGET = 75
#: At most this many sentences.
MAX_SENTENCES = 6
#: A further sentence must score at least this share of the best one.
RELATIVE_FLOOR = 0.6
#: Two sentences this similar say the same thing: the second is left out.
DUPLICATE_SIMILARITY = 0.9
#: Sentences longer than this many words are cut out of answers (a pasted paragraph).
MAX_SENTENCE_WORDS = 60
#: At most this many sentences are embedded per question, those sharing most of its terms
#: (embedding every sentence of five long passages costs more than the rest of an answer).
MAX_EMBEDDED = 64
#: Score lost per rank of the passage a sentence is in: retrieval's order is evidence too.
RANK_PENALTY = 0.02


@dataclass(frozen=True)
class Candidate:
    """A sentence of a retrieved passage, with the [n] it is cited by."""

    n: int
    position: int
    sentence: Sentence

    @property
    def context(self) -> str:
        """What is embedded and matched: a bare list item or table row needs its heading and
        the sentence that introduces its list."""
        s = self.sentence
        parts = [s.heading] if s.heading and s.kind in (ITEM, ROW) else []
        if s.lead:
            parts.append(s.lead.rstrip(":"))
        return ": ".join([*parts, s.text])


@dataclass(frozen=True)
class Extract:
    """A sentence chosen for the answer."""

    n: int
    text: str
    score: float
    kind: str = TEXT


def candidates(chunks: Sequence[RetrievedChunk]) -> list[Candidate]:
    found = []
    for chunk in chunks:
        for position, sentence in enumerate(split_sentences(chunk.body)):
            if sentence.kind == HEADING or len(sentence.text.split()) > MAX_SENTENCE_WORDS:
                continue  # a title answers nothing; a pasted paragraph is not an answer
            if sentence.kind == TEXT and sentence.text[:1].islower():
                continue  # the tail of a sentence cut where the passage begins
            found.append(Candidate(chunk.n, position, sentence))
    return found


def term_overlap(question: str, texts: Sequence[str]) -> np.ndarray:
    """Share of the question's term weight (IDF over ``texts``) each text holds."""
    terms = set(tokenize(question))
    bags = [set(tokenize(t)) for t in texts]
    if not terms or not bags:
        return np.zeros(len(bags))
    df = Counter(term for bag in bags for term in bag & terms)
    idf = {t: math.log(1.0 + (len(bags) + 1) / (df.get(t, 0) + 0.5)) for t in terms}
    total = sum(idf.values())
    return np.array([sum(idf[t] for t in bag & terms) / total for bag in bags])


@dataclass(frozen=True)
class Scored:
    """Candidates with their scores: how close in meaning, how many question terms held."""

    candidates: list[Candidate]
    dense: np.ndarray
    lexical: np.ndarray
    vectors: np.ndarray
    dense_weight: float = DENSE_WEIGHT

    @property
    def match(self) -> np.ndarray:
        """How well each sentence matches the question, 0..1."""
        return self.dense_weight * self.dense + (1 - self.dense_weight) * self.lexical

    @property
    def scores(self) -> np.ndarray:
        """:attr:`match`, less a little per rank of the sentence's passage."""
        ranks = np.array([c.n - 1 for c in self.candidates], dtype=np.float32)
        return self.match - RANK_PENALTY * ranks

    @property
    def relevance(self) -> float:
        """How well the best sentence matches: low when the notes don't answer the question."""
        return float(self.match.max()) if len(self.candidates) else 0.0


def score_candidates(question: str, found: Sequence[Candidate], embed) -> Scored:
    """Score ``found`` against ``question``. ``embed``: texts -> normalised vectors."""
    if not found:
        empty = np.zeros(0, dtype=np.float32)
        return Scored([], empty, empty, np.zeros((0, 1), dtype=np.float32))
    contexts = [c.context for c in found]
    lexical = term_overlap(question, contexts)
    if len(found) > MAX_EMBEDDED:
        keep = sorted(np.argsort(-lexical, kind="stable")[:MAX_EMBEDDED].tolist())
        found = [found[i] for i in keep]
        contexts = [contexts[i] for i in keep]
        lexical = lexical[keep]
    vectors = np.asarray(embed([question, *contexts]), dtype=np.float32)
    dense = vectors[1:] @ vectors[0]
    return Scored(list(found), dense, lexical, vectors[1:])


def select(
    scored: Scored,
    *,
    word_budget: int = WORD_BUDGET,
    max_sentences: int = MAX_SENTENCES,
    relative_floor: float = RELATIVE_FLOOR,
) -> list[Extract]:
    """The best sentences within the budget, in the order they stand in the notes. A chosen
    sentence that introduces a list ("...three ways:") brings the list's items with it."""
    found, scores, vectors = scored.candidates, scored.scores, scored.vectors
    chosen: list[int] = []
    words = 0

    def fits(i: int) -> bool:
        return not chosen or words + len(found[i].sentence.text.split()) <= word_budget

    for i in np.argsort(-scores, kind="stable"):
        i = int(i)
        if i in chosen:
            continue
        if chosen and scores[i] < relative_floor * scores[chosen[0]]:
            break
        if not fits(i) or any(
            float(vectors[i] @ vectors[j]) >= DUPLICATE_SIMILARITY for j in chosen
        ):
            continue
        items = []
        if found[i].sentence.text.endswith(":"):
            items = [
                j
                for j, c in enumerate(found)
                if c.n == found[i].n and c.sentence.lead == found[i].sentence.text
            ]
            if not items:
                continue  # a lead-in without what it leads to says nothing
        chosen.append(i)
        words += len(found[i].sentence.text.split())
        if items:
            for j in items:
                if j not in chosen and fits(j):
                    chosen.append(j)
                    words += len(found[j].sentence.text.split())
        if len(chosen) >= max_sentences:
            break
    chosen.sort(key=lambda i: (found[i].n, found[i].position))
    return [
        Extract(found[i].n, found[i].sentence.text, float(scores[i]), found[i].sentence.kind)
        for i in chosen
    ]


def format_answer(extracts: Sequence[Extract]) -> str:
    """Each sentence followed by its [n]; list items as a list, after the sentence that
    introduces them when it was chosen too."""
    lines: list[str] = []
    paragraph: list[str] = []
    for extract in extracts:
        text = extract.text.rstrip()
        if text[-1:] not in ".!?:":
            text += "."
        cited = f"{text} [{extract.n}]"
        if extract.kind == ITEM:
            if paragraph:
                lines.append(" ".join(paragraph))
                paragraph = []
            lines.append(f"- {cited}")
        else:
            if lines and lines[-1].startswith("- "):
                lines.append("")
            paragraph.append(cited)
    if paragraph:
        lines.append(" ".join(paragraph))
    return "\n".join(lines)


def extract_answer(question: str, chunks: Sequence[RetrievedChunk], embed) -> list[Extract]:
    return select(score_candidates(question, candidates(chunks), embed))
