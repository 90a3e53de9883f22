"""How well each sentence of the retrieved passages answers a question.

The sentences are scored with what the app already has: the embedding model (meaning) and
BM25-style term weights (the exact names and numbers a small embedder blurs), mixed as
measured in ``benchmarks/README.md`` ("Extractive answers"), and with what the question asks
for (:mod:`rag.answer.asks`): whether a sentence gives that kind of answer (a date, a figure,
a person), and whether it is about the names the question asks about. A sentence is matched
with its document's name and the headings above it too: a line of an employee's record is
about that employee even when it doesn't name her.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath

import numpy as np

from rag.answer.asks import (
    DATE,
    DURATION,
    EXPANSION,
    MEMORY,
    MONEY,
    NUMBER,
    PERCENT,
    PERSON,
    RATIO,
    UNIT_WORDS,
    Asks,
    defines_acronym,
    expands,
    names,
    ordinals,
    read_question,
)
from rag.core import HEADING, ITEM, ROW, TEXT, Passage, Sentence, search_terms, split_sentences

#: Share of the embedding similarity in a sentence's score; the term overlap gets the rest.
DENSE_WEIGHT = 0.5
#: Sentences longer than this many words are cut out of answers (a pasted paragraph).
MAX_SENTENCE_WORDS = 60
#: At most this many sentences are embedded per question, those sharing most of its terms
#: (embedding every sentence of five long passages costs more than the rest of an answer).
MAX_EMBEDDED = 64
#: Score lost per rank of the passage a sentence is in: retrieval's order is evidence too.
RANK_PENALTY = 0.02
#: Share of the term match counted with the sentence's document name and headings.
PLACED_SHARE = 0.5
#: A sentence must hold at least this many terms the question doesn't (one that only repeats
#: the question, "Hugging Face.", answers nothing).
MIN_NEW_TERMS = 1
#: How much a figure counts as the answer to "how many X" when the sentence doesn't say X.
UNMEASURED_FIGURE = 0.6

# A sentence that leans on the one before it: it can't be read alone.
_LEANS = re.compile(
    r"^(?:he|she|it|they|this|these|those|that|his|her|its|their|there|here|such|both|"
    r"first|firstly|second|secondly|third|then|finally|also|however|moreover|furthermore|so|thus|"
    r"similarly|instead|otherwise|additionally|next|lastly|likewise)\b",
    re.I,
)
# Code in a sentence: an import, a call with keyword arguments, an assignment of a call.
_CODE = re.compile(
    r"\b(?:import|from \w+ import|def|return)\s+\w|\w\(\s*\w+\s*=|\w+\s*=\s*\w+\(", re.I
)
_PRONOUN = re.compile(r"^(?:he|she|it|they|his|her|its|their)\b", re.I)
# A label that opens a list item or a field: "Job Title: …", "Models - …", "Q8_0: …".
_LABEL = re.compile(r"^([^:;.!?]{1,40}?)(?::\s|\s+[-–—]+>?\s+|\s*->\s*)")
#: A label has at most this many words.
LABEL_WORDS = 5


def label_of(text: str) -> str:
    """The label a list item or field opens with ("Job Title" of "Job Title: Engineer",
    "Models" of "Models - Over 800,000 models"), or ""."""
    match = _LABEL.match(text)
    if not match or len(match.group(1).split()) > LABEL_WORDS:
        return ""
    return match.group(1).strip()


#: A lead-in or item label longer than this many words gives its label alone as context.
CONTEXT_WORDS = 12


def _short(text: str, *, label_only: bool = False) -> str:
    """What of a lead-in or an item's first sentence places the sentences under it: its
    label ("Q8_0", "Hugging Face Hub"); unless ``label_only``, the whole, or its first
    :data:`CONTEXT_WORDS` words."""
    text = text.rstrip(":")
    label = label_of(text)
    if label or label_only:
        return label or (text if len(text.split()) <= 4 else "")
    return " ".join(text.split()[:CONTEXT_WORDS])


@dataclass(frozen=True)
class Candidate:
    """A sentence of a retrieved passage, with the [n] it is cited by."""

    n: int
    position: int
    sentence: Sentence
    #: The name of the document it is in (its file name, folders and extension left out).
    document: str = ""
    #: The document as stored (its path in the library).
    source: str = ""

    @property
    def text(self) -> str:
        return self.sentence.text

    @property
    def words(self) -> int:
        return len(self.sentence.text.split())

    @property
    def fragment(self) -> bool:
        """A list item or table row: read alone, it often does not say what it is about."""
        return self.sentence.kind in (ITEM, ROW)

    @property
    def context(self) -> str:
        """What is embedded and matched: a bare list item or table row needs its heading and
        what its list continues (each lead-in above it, or its label when long), and a later
        sentence of an item or a field under a name needs that item's label or name."""
        s = self.sentence
        parts = [s.heading] if s.heading and self.fragment else []
        parts += [_short(lead) for lead in (s.leads or ((s.lead,) if s.lead else ()))]
        if s.opening:
            parts.append(_short(s.opening, label_only=True))
        return ": ".join([p for p in parts if p] + [s.text])

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

    @property
    def refers(self) -> bool:
        """It opens with a personal pronoun ("She was recognized…"): whose is it?"""
        return bool(_PRONOUN.match(self.text))

    @property
    def code(self) -> bool:
        """It reads as code, not prose (a PDF's code block has no fences)."""
        return bool(_CODE.search(self.text))

    @property
    def leans(self) -> bool:
        """It leans on what comes before it ("This step…", "Second, …", "She …") and
        nothing it is shown with says what that is."""
        return bool(_LEANS.match(self.text)) and not self.sentence.opening


def document_name(chunk: Passage) -> str:
    return PurePosixPath(chunk.source).stem.replace("_", " ") if chunk.source else ""


def readable(name: str) -> bool:
    """A name made of words ("Alex Chen", "08 rag"), not a code ("000 c4bd26d1")."""
    return any(len(word) >= 3 and word.isalpha() for word in name.split())


def titled(name: str) -> bool:
    """A document name that names what it is about ("Maxine Thompson", "Carllm", "Contract
    with …"), not a file slug ("01 tokens and context windows", "overview")."""
    return readable(name) and any(ch.isupper() for ch in name)


def unknown_names(asks: Asks, chunks: Sequence[Passage]) -> list[str]:
    """The names the question asks about ("SageMaker", "CEO", "GPT-4o") that no passage holds:
    the notes don't speak of them, so whatever else matches is no answer. A name is matched
    whole ("Zephyrus" is not "Zephyrine")."""
    held: set[str] = set()
    for chunk in chunks:
        held |= set(search_terms(f"{chunk.text} {chunk.source}"))
    missing = []
    for name in names(asks.question):
        terms = set(search_terms(name))
        if terms and not terms <= held:
            missing.append(name)
    return missing


def candidates(chunks: Sequence[Passage]) -> list[Candidate]:
    found = []
    for chunk in chunks:
        document = document_name(chunk)
        for position, sentence in enumerate(split_sentences(chunk.body)):
            if len(sentence.text.split()) > MAX_SENTENCE_WORDS:
                continue  # a pasted paragraph is not an answer
            if sentence.kind == HEADING and not defines_acronym(sentence.text):
                continue  # a title answers nothing, unless it spells out its acronym
            if sentence.kind == TEXT and sentence.text[:1].islower():
                continue  # the tail of a sentence cut where the passage begins
            found.append(Candidate(chunk.n, position, sentence, document, chunk.source))
    return found


def term_weights(question: str | dict[str, float], bags: Sequence[set[str]]) -> dict[str, float]:
    """IDF over ``bags`` of each of the question's terms (times each term's weight when
    ``question`` is a dict of terms and weights)."""
    weights = question if isinstance(question, dict) else dict.fromkeys(search_terms(question), 1.0)
    df = Counter(term for bag in bags for term in bag & weights.keys())
    return {
        t: w * math.log(1.0 + (len(bags) + 1) / (df.get(t, 0) + 0.5)) for t, w in weights.items()
    }


def weighted_share(bags: Sequence[set[str]], idf: dict[str, float]) -> np.ndarray | None:
    """Share of the total weight in ``idf`` that each bag of terms holds (None when there
    is no bag or no weight)."""
    # fsum: exactly rounded whatever the order, and a set's order changes with the process
    # (hash seed); a plain sum's last bit did too, and broke near ties differently per run.
    total = math.fsum(idf.values())
    if not total or not bags:
        return None
    return np.array([math.fsum(idf[t] for t in bag & idf.keys()) / total for bag in bags])


#: Two terms are one when one begins the other and they share this many letters ("month",
#: "monthly"; "cover", "covered").
SHARED_PREFIX = 4
#: ... and goes on by at most this many letters ("-age", "-ly", "-ed").
MAX_ENDING = 3


def _same_word(a: str, b: str) -> bool:
    """One word in two forms: a shared beginning of :data:`SHARED_PREFIX` letters or more,
    after which each goes on by a short ending at most ("cover", "covered", "coverage";
    "month", "monthly"; not "product", "productivity")."""
    if a == b:
        return True
    shared = next(
        (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
    )
    return (
        shared >= SHARED_PREFIX
        and max(len(a), len(b)) - shared <= MAX_ENDING
        and (min(len(a), len(b)) - shared <= MAX_ENDING - 1)
    )


def holds(terms: frozenset[str], bag: set[str]) -> float:
    """The share of ``terms`` that ``bag`` holds, a word counting for its longer forms."""
    return len(terms & with_forms(bag, terms)) / len(terms) if terms else 0.0


def term_overlap(
    question: str | dict[str, float], texts: Sequence[str], whole: frozenset[str] = frozenset()
) -> np.ndarray:
    """Share of the question's term weight (IDF over ``texts``) each text holds, a term
    counting as held by its longer forms ("cover" by "coverage"), except those of ``whole``."""
    asked = question if isinstance(question, dict) else dict.fromkeys(search_terms(question), 1.0)
    bags = [with_forms(set(search_terms(t)), asked, whole) for t in texts]
    share = weighted_share(bags, term_weights(asked, bags))
    return share if share is not None else np.zeros(len(bags))


def with_forms(
    bag: set[str], asked: dict[str, float] | frozenset[str], whole: frozenset[str] = frozenset()
) -> set[str]:
    """``bag`` and the asked terms it holds in another form ("monthly" for "month"); a term of
    ``whole`` (a name: "Multipl-E" is not "multiple") only as it is."""
    beginnings: dict[str, list[str]] = {}
    for term in bag:
        if len(term) >= SHARED_PREFIX:
            beginnings.setdefault(term[:SHARED_PREFIX], []).append(term)
    return bag | {
        t
        for t in asked
        if t not in bag
        and t not in whole
        and any(_same_word(t, b) for b in beginnings.get(t[:SHARED_PREFIX], ()))
    }


# How a sentence that gives each kind of answer looks.
_FIGURE = re.compile(
    r"\d|\b(?:two|three|four|five|six|seven|eight|nine|ten|twice|half|double|triple|quarter|"
    r"hundred|thousand|million|billion|trillion)\b",
    re.I,
)
_DATE = re.compile(
    r"\b(?:1[89]|20)\d\d\b|\bQ[1-4]\b|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*"
    r"\.? \d",
    re.I,
)
_NAME = re.compile(r"(?<![.!?:]\s)(?<!^)\b[A-Z][a-z]+(?: [A-Z]\.)?(?: [A-Z][a-z'’]+)+")
_NAME_ALONE = re.compile(r"^[A-Z][a-z]+(?: [A-Z]\.)?(?: [A-Z][a-z'’]+)+$")
_KIND_PATTERN = {DATE: _DATE, NUMBER: _FIGURE, PERSON: _NAME}
_UNIT_PATTERN = {
    PERCENT: re.compile(r"\d\s?%|\d\s?percent\b", re.I),
    MEMORY: re.compile(r"\d\s?(?:[KMGT]i?B|bytes?|bits?)\b", re.I),
    DURATION: re.compile(
        r"\d[\d,.]*\s?-?\s?(?:months?|years?|weeks?|days?|hours?|hrs?|minutes?|seconds?|ms)\b",
        re.I,
    ),
    MONEY: re.compile(
        r"[$€£]\s?\d|\d\s?(?:USD|EUR|GBP|dollars?)\b|\d\s?[KkMB]\b.*\b(?:budget|revenue)"
    ),
    RATIO: re.compile(
        r"\bfactor of\b|\d\s?[x×](?!\w)|\b(?:times|fold|twice|half|double|triple|quarter)\b|"
        r"\d\s?%|\d\s?percent\b",
        re.I,
    ),
}
#: A figure in another unit than the one asked for counts this much.
OTHER_UNIT = 0.4


def gives_kind(asks: Asks, found: Sequence[Candidate]) -> np.ndarray:
    """How far each candidate gives what ``asks`` asks for (0..1): a date, a figure (less when
    it doesn't say what the question counts), a person's name (a record's own name counts for
    a sentence that says "she"), an acronym's words; beyond what the question says itself."""
    if asks.kind is None:
        return np.zeros(len(found))
    if asks.kind == EXPANSION:
        return np.array([float(expands(asks.acronym, c.text)) for c in found])
    pattern = _KIND_PATTERN[asks.kind]
    asked = {m.group(0).casefold() for m in pattern.finditer(asks.question)}
    gives = []
    for c in found:
        texts = [c.text]
        if asks.kind == PERSON:  # whose record it is, whose fields these are
            if c.refers and _NAME_ALONE.match(c.document):
                texts.append(f"by {c.document}")
            if _NAME_ALONE.match(c.sentence.opening):
                texts.append(f"by {c.sentence.opening}")
        value = float(
            any(m.group(0).casefold() not in asked for t in texts for m in pattern.finditer(t))
        )
        if value and asks.kind == NUMBER:
            if asks.unit:
                value = 1.0 if _UNIT_PATTERN[asks.unit].search(c.text) else OTHER_UNIT
            elif asks.measured:
                said = set(search_terms(c.context))  # its own words: every contract "is" one
                value = 1.0 if holds(asks.measured, said) else UNMEASURED_FIGURE
        gives.append(value)
    return np.array(gives, dtype=np.float32)


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
    #: 0..1: how far the sentence gives what the question asks for (a number, a date...).
    kind: np.ndarray | None = None
    #: False where the sentence says nothing the question doesn't (never chosen).
    says: np.ndarray | None = None
    #: What the question asks for.
    asks: Asks | None = None
    #: The share of the weight of the names the question asks about that each sentence holds
    #: with its document's name and headings (1 when it names none) ...
    subject: np.ndarray | None = None
    #: ... and that its passage holds (the document it is in is about them).
    passage_subject: np.ndarray | None = None
    #: The share of what the question asks for ("salary", "contract number") that each
    #: sentence's own words hold.
    asked: np.ndarray | None = None
    #: For "What is X?": True where the sentence opens with X, or opens the section on X.
    defines: np.ndarray | None = None
    #: For "the first step": 1 where the sentence names that one, -1 where it names another.
    ordinal: np.ndarray | None = None
    #: For a follow-up: how well each sentence matches the question's own words alone, by
    #: meaning and terms, without the conversation's (None for a question on its own).
    own_match: np.ndarray | None = None

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
    def ranks(self) -> np.ndarray:
        return np.array([c.n - 1 for c in self.candidates], dtype=np.float32)

    @property
    def relevance(self) -> float:
        """How well the best sentence matches: low when the notes don't answer the question."""
        return float(self.match.max()) if len(self.candidates) else 0.0


def score_candidates(question: str | Asks, found: Sequence[Candidate], embed) -> Scored:
    """Score ``found`` against ``question`` (or what it asks, read with its conversation).
    ``embed``: texts -> normalised vectors."""
    asks = question if isinstance(question, Asks) else read_question(question)
    if not found:
        empty = np.zeros(0, dtype=np.float32)
        return Scored([], empty, empty, np.zeros((0, 1), dtype=np.float32), asks=asks)
    weights = asks.weights
    contexts = [c.context for c in found]
    whole = asks.subjects  # a name is matched as it is written, not in another form
    lexical = term_overlap(weights, contexts, whole)
    if len(found) > MAX_EMBEDDED:
        keep = sorted(np.argsort(-lexical, kind="stable")[:MAX_EMBEDDED].tolist())
        found = [found[i] for i in keep]
        contexts = [contexts[i] for i in keep]
        lexical = lexical[keep]
    placed = [with_forms(set(search_terms(c.matched)), weights, whole) for c in found]
    idf = term_weights(weights, placed)
    bags = [bag & idf.keys() for bag in placed]
    subject_weights = term_weights(dict.fromkeys(asks.subjects, 1.0), placed)
    subject = weighted_share(placed, subject_weights)
    in_passage: dict[int, set[str]] = {}
    for c, bag in zip(found, placed, strict=True):
        in_passage.setdefault(c.n, set()).update(bag)
    passage_subject = weighted_share([in_passage[c.n] for c in found], subject_weights)
    ones = np.ones(len(found))
    vectors = np.asarray(
        embed([asks.text or asks.question, *contexts, asks.question]), dtype=np.float32
    )
    dense = vectors[1:-1] @ vectors[0]
    own_match = None
    if asks.context:  # a follow-up: its own words alone, as a question on its own is matched
        own = asks.own_weights
        own_idf = term_weights(own, placed)
        own_placed = weighted_share([bag & own_idf.keys() for bag in placed], own_idf)
        own_lexical = term_overlap(own, contexts, whole)
        own_match = DENSE_WEIGHT * (vectors[1:-1] @ vectors[-1]) + (1 - DENSE_WEIGHT) * (
            (1 - PLACED_SHARE) * own_lexical
            + PLACED_SHARE * (own_placed if own_placed is not None else own_lexical)
        )
    asked = set(search_terms(asks.question))
    says = np.array(
        [len(set(search_terms(c.sentence.text)) - asked) >= MIN_NEW_TERMS for c in found]
    )
    return Scored(
        list(found),
        dense,
        lexical,
        vectors[1:-1],
        DENSE_WEIGHT,
        bags,
        idf,
        gives_kind(asks, found),
        says,
        asks,
        subject if subject is not None else ones,
        passage_subject if passage_subject is not None else ones,
        np.array([says_measured(asks, c) for c in found]),
        definitions(asks, found),
        np.array([_ordinal_fit(asks, c) for c in found], dtype=np.float32),
        own_match,
    )


def says_measured(asks: Asks, c: Candidate) -> float:
    """The share of what ``asks`` measures ("salary", "memory") that ``c`` says: in words, or,
    for what a unit measures ("memory" for a size in bytes), with a figure in that unit."""
    said = holds(asks.measured, set(search_terms(c.context)))
    if asks.unit and asks.measured and asks.measured <= UNIT_WORDS[asks.unit]:
        return max(said, float(bool(_UNIT_PATTERN[asks.unit].search(c.text))))
    return said


def _ordinal_fit(asks: Asks, c: Candidate) -> float:
    """1 when ``c`` names the ordinal the question asks for ("first": "Step 1", "In the
    initial step"), -1 when it names only others ("The second step …"), 0 when none."""
    if not asks.ordinal:
        return 0.0
    named = ordinals(c.text)
    if not named:
        return 0.0
    return 1.0 if asks.ordinal in named else -1.0


# A sentence naming what it has just described: "…: this is the KV cache", "… is called
# beam search", "… known as double quantization".
_NAMES_IT = re.compile(
    r"\b(?:(?:this|that|it) is (?:called |known as )?|(?:is |are )?(?:called|known as|termed) )"
    r"(?:the |a |an )?(?P<name>[^.,;:()]+)",
    re.I,
)


def _names_it(text: str, defined: frozenset[str]) -> bool:
    """Whether ``text`` ends its description by naming ``defined`` ("this is the KV cache")."""
    width = len(defined) + 1
    return any(
        defined <= set(search_terms(" ".join(m["name"].split()[:width])))
        for m in _NAMES_IT.finditer(text)
    )


def definitions(asks: Asks, found: Sequence[Candidate]) -> np.ndarray:
    """For "What is X?": True for the sentence that reads as X's definition. In a passage
    with a sentence naming X as what it has described ("…: this is the KV cache"), the first
    such sentence: a later "The KV cache avoids recomputation …" says something of X, it
    doesn't say what X is. Elsewhere, in each section, the first sentence that opens with X
    ("QLoRA fine-tunes …", "NF4 (4-bit NormalFloat) …"), or else the first under a heading
    naming X."""
    chosen = np.zeros(len(found), dtype=bool)
    if not asks.defines:
        return chosen
    naming: dict[int, int] = {}  # passage -> its first sentence naming X
    for i, c in enumerate(found):
        if c.n not in naming and _names_it(c.text, asks.defines):
            naming[c.n] = i
    for i in naming.values():
        chosen[i] = True
    sections: dict[tuple[int, str], list[int]] = {}
    for i, c in enumerate(found):
        if c.n not in naming:
            sections.setdefault((c.n, c.sentence.heading), []).append(i)
    width = len(asks.defines) + 2
    for (_, heading), members in sections.items():
        opens = [
            i
            for i in members
            if asks.defines <= set(search_terms(" ".join(found[i].text.split()[:width])))
        ]
        if opens:
            chosen[opens[0]] = True
        elif asks.defines <= set(search_terms(heading)):
            chosen[members[0]] = True
    return chosen
