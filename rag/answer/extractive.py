"""Answers made of the notes' own sentences: no language model, so nothing can be invented.

The sentences of the retrieved passages are scored against the question with what the app
already has: the embedding model (meaning) and BM25-style term weights (the exact names and
numbers a small embedder blurs), mixed as measured in ``benchmarks/README.md`` ("Extractive
answers"). The best few, within a word budget a reader takes in at a glance, are given in the
order they stand in the notes, each followed by the [n] of its passage.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath

import numpy as np

from rag.core import (
    HEADING,
    ITEM,
    ROW,
    TEXT,
    Passage,
    Sentence,
    cite,
    search_terms,
    split_sentences,
)

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
#: Share of the term match counted with the sentence's document name and headings.
PLACED_SHARE = 0.5
#: Score added to a sentence holding what the question asks for (a number, a date, a name).
KIND_BONUS = 0.1
#: A sentence must hold at least this many terms the question doesn't (one that only repeats
#: the question, "Hugging Face.", answers nothing).
MIN_NEW_TERMS = 1
#: Show a list item's or table row's document and headings when they tie it to the question.
SHOW_PLACES = True


@dataclass(frozen=True)
class Candidate:
    """A sentence of a retrieved passage, with the [n] it is cited by."""

    n: int
    position: int
    sentence: Sentence
    #: The name of the document it is in (its file name, folders and extension left out).
    document: str = ""

    @property
    def fragment(self) -> bool:
        """A list item or table row: read alone, it often does not say what it is about."""
        return self.sentence.kind in (ITEM, ROW)

    @property
    def context(self) -> str:
        """What is embedded: a bare list item or table row needs its heading and the sentence
        that introduces its list."""
        s = self.sentence
        parts = [s.heading] if s.heading and self.fragment else []
        if s.lead:
            parts.append(s.lead.rstrip(":"))
        return ": ".join([*parts, s.text])

    @property
    def places(self) -> list[str]:
        """What places it: the document's name, then the headings above it."""
        names = [self.document] if self.document else []
        for heading in self.sentence.headings:
            if heading.casefold() not in (n.casefold() for n in names):
                names.append(heading)
        return names

    @property
    def matched(self) -> str:
        """What the question's terms are looked for in: a sentence is about its document and
        its headings (an employee's record, a product's page) even when it doesn't name them."""
        return ": ".join([*self.places, self.context])


@dataclass(frozen=True)
class Extract:
    """A sentence chosen for the answer."""

    n: int
    text: str
    score: float
    kind: str = TEXT
    #: For a list item or table row: the document or headings that tie it to the question,
    #: shown before it ("" when its own words do).
    label: str = ""


def document_name(chunk: Passage) -> str:
    return PurePosixPath(chunk.source).stem.replace("_", " ") if chunk.source else ""


def candidates(chunks: Sequence[Passage]) -> list[Candidate]:
    found = []
    for chunk in chunks:
        document = document_name(chunk)
        for position, sentence in enumerate(split_sentences(chunk.body)):
            if sentence.kind == HEADING or len(sentence.text.split()) > MAX_SENTENCE_WORDS:
                continue  # a title answers nothing; a pasted paragraph is not an answer
            if sentence.kind == TEXT and sentence.text[:1].islower():
                continue  # the tail of a sentence cut where the passage begins
            found.append(Candidate(chunk.n, position, sentence, document))
    return found


def term_weights(question: str, bags: Sequence[set[str]]) -> dict[str, float]:
    """IDF over ``bags`` of each of the question's terms."""
    terms = set(search_terms(question))
    df = Counter(term for bag in bags for term in bag & terms)
    return {t: math.log(1.0 + (len(bags) + 1) / (df.get(t, 0) + 0.5)) for t in terms}


def term_overlap(question: str, texts: Sequence[str]) -> np.ndarray:
    """Share of the question's term weight (IDF over ``texts``) each text holds."""
    bags = [set(search_terms(t)) for t in texts]
    share = weighted_share(bags, term_weights(question, bags))
    return share if share is not None else np.zeros(len(bags))


def weighted_share(bags: Sequence[set[str]], idf: dict[str, float]) -> np.ndarray | None:
    """Share of the total weight in ``idf`` that each bag of terms holds (None when there
    is no bag or no weight)."""
    total = sum(idf.values())
    if not total or not bags:
        return None
    return np.array([sum(idf[t] for t in bag & idf.keys()) / total for bag in bags])


# What kind of answer a question asks for, and how a sentence that gives one looks.
_ASKS_NUMBER = re.compile(
    r"\bhow (?:many|much|long|big|large|old|often|fast)\b|\bwhat (?:percentage|percent|"
    r"number|share|amount|size|price|cost|fee|salary|budget)\b|\b(?:cost|price|salary|fee)s?\b",
    re.I,
)
_ASKS_DATE = re.compile(
    r"^\s*when\b|\bwhen (?:was|is|did|does|will|were)\b|\bwhat (?:year|date)\b", re.I
)
_ASKS_NAME = re.compile(r"^\s*who\b|\bwho (?:is|was|won|signed|founded|leads?|made|makes)\b", re.I)
_NUMBER = re.compile(r"\d")
_DATE = re.compile(
    r"\b(?:1[89]|20)\d\d\b|\bQ[1-4]\b|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.? \d",
    re.I,
)
_NAME = re.compile(r"(?<![.!?:]\s)(?<!^)\b[A-Z][a-z]+(?: [A-Z][a-z]+)+")


def answer_kind(question: str) -> re.Pattern | None:
    """The pattern a sentence answering ``question`` is likely to hold (a number for "how
    many", a date for "when", a name for "who"), or None."""
    for asks, gives in ((_ASKS_DATE, _DATE), (_ASKS_NUMBER, _NUMBER), (_ASKS_NAME, _NAME)):
        if asks.search(question):
            return gives
    return None


def gives_answer_kind(question: str, texts: Sequence[str]) -> np.ndarray:
    """1 for each text holding what ``question`` asks for (beyond what the question says)."""
    kind = answer_kind(question)
    if kind is None:
        return np.zeros(len(texts))
    asked = {m.group(0).casefold() for m in kind.finditer(question)}
    return np.array(
        [any(m.group(0).casefold() not in asked for m in kind.finditer(t)) for t in texts],
        dtype=np.float32,
    )


@dataclass(frozen=True)
class Scored:
    """Candidates with their scores: how close in meaning, how many question terms held."""

    candidates: list[Candidate]
    dense: np.ndarray
    lexical: np.ndarray
    vectors: np.ndarray
    dense_weight: float = DENSE_WEIGHT
    #: Question terms held by each candidate with its document and headings, and their weights.
    bags: list[set[str]] = field(default_factory=list)
    idf: dict[str, float] = field(default_factory=dict)
    #: 1 where the sentence holds the kind of thing the question asks for (a number, a date...).
    kind: np.ndarray | None = None
    #: False where the sentence says nothing the question doesn't (never chosen).
    says: np.ndarray | None = None

    @property
    def match(self) -> np.ndarray:
        """How well each sentence matches the question, 0..1: meaning, and the question's terms
        held by the sentence and, for a share, by its document's name and headings. The
        not-found floor reads it too, so a sentence that answers "When did James Wilson
        join?" under James Wilson's document counts for the floor as it does for the answer."""
        lexical = (1 - PLACED_SHARE) * self.lexical + PLACED_SHARE * self.placed()
        return self.dense_weight * self.dense + (1 - self.dense_weight) * lexical

    def placed(self) -> np.ndarray:
        """The share of the question's term weight each sentence holds with its document's
        name and its headings."""
        share = weighted_share(self.bags, self.idf)
        return share if share is not None else self.lexical

    @property
    def scores(self) -> np.ndarray:
        """:attr:`match`, plus a bonus for the answer kind, less a little per rank of the
        sentence's passage."""
        ranks = np.array([c.n - 1 for c in self.candidates], dtype=np.float32)
        kind = self.kind if self.kind is not None else np.zeros(len(self.candidates))
        return self.match + KIND_BONUS * kind - RANK_PENALTY * ranks

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
    placed = [set(search_terms(c.matched)) for c in found]
    idf = term_weights(question, placed)
    bags = [bag & idf.keys() for bag in placed]
    vectors = np.asarray(embed([question, *contexts]), dtype=np.float32)
    dense = vectors[1:] @ vectors[0]
    kind = gives_answer_kind(question, [c.sentence.text for c in found])
    asked = set(search_terms(question))
    says = np.array(
        [len(set(search_terms(c.sentence.text)) - asked) >= MIN_NEW_TERMS for c in found]
    )
    return Scored(list(found), dense, lexical, vectors[1:], DENSE_WEIGHT, bags, idf, kind, says)


_PRONOUN = re.compile(r"^(?:he|she|it|they|this|these|those|his|her|its|their)\b", re.I)


def readable(name: str) -> bool:
    """A name made of words ("Alex Chen", "08 rag"), not a code ("000 c4bd26d1")."""
    return any(len(word) >= 3 and word.isalpha() for word in name.split())


def label_for(candidate: Candidate, idf: dict[str, float]) -> str:
    """What to show before a sentence that doesn't say what it is about (a list item, a table
    row, a sentence opening with "She" or "It"): its document's name, and the headings above
    it that hold question terms its own words don't (whose job title, which plan's price)."""
    if not SHOW_PLACES or not (candidate.fragment or _PRONOUN.match(candidate.sentence.text)):
        return ""
    own = set(search_terms(candidate.context))
    shown = []
    if readable(candidate.document) and not set(search_terms(candidate.document)) <= own:
        shown.append(candidate.document)
    shown += [
        place
        for place in candidate.places[1 if candidate.document else 0 :]
        if any(t in idf and t not in own for t in search_terms(place))
    ]
    return " › ".join(shown)


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
    says = scored.says if scored.says is not None else np.ones(len(found), dtype=bool)
    if not says.any():  # nothing says more than the question: the best match is the answer
        says = np.ones(len(found), dtype=bool)
    chosen: list[int] = []
    words = 0

    def fits(i: int) -> bool:
        return not chosen or words + len(found[i].sentence.text.split()) <= word_budget

    for i in np.argsort(-scores, kind="stable"):
        i = int(i)
        if i in chosen or not says[i]:
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
        Extract(
            found[i].n,
            found[i].sentence.text,
            float(scores[i]),
            found[i].sentence.kind,
            label_for(found[i], scored.idf),
        )
        for i in chosen
    ]


def format_answer(extracts: Sequence[Extract]) -> str:
    """Each sentence followed by its [n]; list items as a list, after the sentence that
    introduces them when it was chosen too, or after their label (the document or headings
    that say whose or what they are about)."""
    lines: list[str] = []
    paragraph: list[str] = []
    label = ""  # the label the list being written is under
    for extract in extracts:
        text = extract.text.rstrip()
        if text[-1:] not in ".!?:":
            text += "."
        cited = f"{text} {cite([extract.n])}"
        if extract.kind == ITEM:
            if paragraph:
                lines.append(" ".join(paragraph))
                paragraph = []
            if extract.label and extract.label != label:
                lines.append(f"{extract.label}:")
                label = extract.label
            lines.append(f"- {cited}")
        else:
            label = ""
            if lines and lines[-1].startswith("- "):
                lines.append("")
            paragraph.append(f"{extract.label}: {cited}" if extract.label else cited)
    if paragraph:
        lines.append(" ".join(paragraph))
    return "\n".join(lines)


def extract_answer(question: str, chunks: Sequence[Passage], embed) -> list[Extract]:
    return select(score_candidates(question, candidates(chunks), embed))
