"""A sentence as a line of the answer, with what makes it read alone, and the lines chosen so far
(:class:`Chosen`).

A list item or a table row alone often says nothing: "- Insurellm, Inc.", "Nearly lossless;
about 8.5 GB". Its line gives it what the notes give it: the list's lead-in and its items on
one line ("It has 3 main features: Models - …; Datasets - …"), the item's label before a later
sentence of it ("Q8_0: Nearly lossless; …"), and the document or headings that say whose it is
("Maxine Thompson — Current Salary: $120,000"). The notes' structure that this reads (lead-ins,
items, labels) comes from :mod:`rag.core.sentences`.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from rag.answer.arithmetic import figures
from rag.answer.asks import NUMBER, Asks, defines_acronym
from rag.answer.scoring import Candidate, Scored, label_of, titled
from rag.core import ITEM, TITLE_WORDS, names, search_terms

#: A list's items shown on its lead-in's line: at most this many, and past the first two,
#: only while the line stays within this many words.
MAX_ITEMS = 8
ITEM_BUDGET = 60
#: A lead of at least this many words listing several things is narrowed to its clause about
#: the names asked about, when that clause has at least this many words.
CLAUSE_SENTENCE_WORDS = 20
CLAUSE_WORDS = 3
#: A lead-in of at most this many words is shown before its item.
LEAD_IN_WORDS = 12
#: A line of this many words or fewer, with no figure, says nothing alone.
BARE_WORDS = 3
#: Two sentences this similar say the same thing: the second is left out.
DUPLICATE_SIMILARITY = 0.9
#: An item of at most this many words is an element of its list (a step, a kind), which a
#: question asking for the list wants with its siblings; a longer one is a statement.
ELEMENT_WORDS = 8
#: A list whose lead-in or heading holds this share of the question's term weight is the list
#: the question asks for.
NAMES_LIST = 0.4
# A name and nothing else: capitalised words, "Inc.", "LLC", "&".
_BARE_NAME = re.compile(r"^(?:[A-Z][\w'’&.-]*,?\s*|&\s*|of\s+|and\s+|for\s+){1,6}$")


@dataclass(frozen=True)
class Line:
    """One line of the answer: sentences of passage ``n``, and what is shown before them so
    that they read alone."""

    n: int
    sentences: tuple[Candidate, ...]
    #: The document and headings that say what it is about ("Maxine Thompson"; "" if none).
    places: str = ""
    #: What its first sentence continues: its list's lead-in, its item's label ("Q8_0").
    intro: str = ""
    #: The sentences are a list's items (after the first, its lead-in, unless ``intro`` is
    #: the lead-in): shown "lead-in: a; b; c". Else they are said one after the other.
    listed: bool = False
    score: float = 0.0

    @property
    def shown(self) -> str:
        return " ".join([self.intro, *(c.text for c in self.sentences)])

    @property
    def words(self) -> int:
        return len(f"{self.places} {self.shown}".split())


def _once(found: Sequence[Candidate]) -> list[Candidate]:
    """``found`` without a sentence said again (overlapping excerpts of a passage)."""
    seen: set[str] = set()
    kept = []
    for c in found:
        if c.text not in seen:
            seen.add(c.text)
            kept.append(c)
    return kept


def items_of(lead_in: Candidate, found: Sequence[Candidate]) -> list[Candidate]:
    """The items of the list ``lead_in`` leads into, in order (none for another sentence)."""
    return _once(
        [
            c
            for c in found
            if c.n == lead_in.n
            and c.sentence.kind == ITEM
            and c.sentence.lead == lead_in.text
            and not c.sentence.opening
            and c.position > lead_in.position
        ]
    )


def siblings(item: Candidate, found: Sequence[Candidate]) -> list[Candidate]:
    """The items of the list ``item`` is in, itself among them, in order: those under the same
    lead-in, or, under none, those of the same block."""
    s = item.sentence
    return _once(
        [
            c
            for c in found
            if c.n == item.n
            and c.sentence.kind == ITEM
            and not c.sentence.opening
            and c.sentence.lead == s.lead
            and (s.lead or c.sentence.block == s.block)
        ]
    )


def same_item(a: Candidate, b: Candidate) -> bool:
    """Two sentences of one list item ("Member Coverage: up to 50,000 …" and "Harmony
    currently covers 38,000 …")."""
    if a.n != b.n or ITEM not in (a.sentence.kind, b.sentence.kind):
        return False
    first_a = a.sentence.opening or a.text
    first_b = b.sentence.opening or b.text
    return first_a == first_b and a.sentence.lead == b.sentence.lead


def intro_for(candidate: Candidate) -> str:
    """What a sentence is shown after: its item's label or first sentence (for a later
    sentence of an item, or a field under the name it is about), or its list's lead-in when
    short."""
    s = candidate.sentence
    if s.opening:
        return label_of(s.opening) or (s.opening if len(s.opening.split()) <= LEAD_IN_WORDS else "")
    if s.kind == ITEM and s.lead and len(s.lead.split()) <= LEAD_IN_WORDS:
        return s.lead.rstrip(":")
    return ""


def places_for(line: Line, idf: dict[str, float], subjects: frozenset[str], named: bool) -> str:
    """What to show before a line that doesn't say what it is about: its document's name,
    when the name says what the document is about ("Maxine Thompson", not "overview") and it
    ties the line to the question (a name asked about, a term asked for), or the line is a
    list item, a table row or says "she", or ``named`` (a line per document); then the
    headings above it that hold question terms its words don't (whose job title, which
    plan's price)."""
    first = line.sentences[0]
    own = set(search_terms(line.shown))
    asked = idf.keys() | subjects
    shown = []
    document = first.document
    if titled(document):
        terms = set(search_terms(document))
        ties = bool((terms & asked) - own)
        whose = first.fragment or first.refers or named
        if (ties or whose) and not terms <= own:
            shown.append(document)
    headings = first.places[1 if document else 0 :]
    shown += [
        heading
        for heading in headings
        if any(t in asked and t not in own and t.isalpha() for t in search_terms(heading))
        and heading.casefold() not in (s.casefold() for s in shown)
    ]
    return " › ".join(shown)


def bare(line: Line) -> bool:
    """A line that says nothing alone: a few words, no figure; or a bare name ("DriveSmart
    Insurance Corp."); not a list's items."""
    if line.listed:
        return False
    sentence = line.sentences[0].text
    if defines_acronym(sentence):  # "Retrieval-Augmented Generation (RAG)" says what RAG is
        return False
    short = len(line.shown.split()) <= BARE_WORDS and not any(ch.isdigit() for ch in line.shown)
    return short or bool(_BARE_NAME.match(sentence))


def fitting(head: str, items: Sequence[Candidate]) -> list[Candidate]:
    """The first of ``items`` that fit on one line after ``head`` (at least two)."""
    kept: list[Candidate] = []
    words = len(head.split())
    for item in items[:MAX_ITEMS]:
        words += len(item.text.split())
        if len(kept) >= 2 and words > ITEM_BUDGET:
            break
        kept.append(item)
    return kept


def named_in(text: str) -> set[str]:
    """The names ``text`` speaks of, as search terms of words: its names with a capital
    ("LoRA", "Maya"), and the words of the label it opens with ("Professional Tier" of
    "Professional Tier: $2,500/month"); figures ("8B", "8k-token") are no names here."""
    said = " ".join([*(n for n in names(text) if n != n.lower()), label_of(text)])
    return {t for t in search_terms(said) if t.isalpha()}


# Where a long sentence listing several things splits into its clauses: at semicolons, or,
# when each part is a figure, at commas.
_SEMICOLONS = re.compile(r";\s+")
_COMMAS = re.compile(r",\s+(?:and\s+)?(?!\d)")


def _split(text: str, at: re.Pattern) -> list[tuple[int, int]]:
    """(start, end) of each part of ``text`` between the cuts ``at`` finds."""
    pieces, start = [], 0
    for cut in at.finditer(text):
        pieces.append((start, cut.start()))
        start = cut.end()
    return [*pieces, (start, len(text))]


def clause(line: Line, asks: Asks | None) -> Candidate | None:
    """For a lead that lists several things in one long sentence ("GPT-2 has 50,257 tokens,
    … and Llama 3 uses a 128k vocabulary"), the one clause about the names asked about,
    when one alone holds them (and gives what is asked for): shorter, and the rest is about
    other things. None when the whole sentence is the answer."""
    if asks is None or not asks.subjects or line.listed or len(line.sentences) != 1:
        return None
    c = line.sentences[0]
    s = c.sentence
    if len(c.text.split()) < CLAUSE_SENTENCE_WORDS or len(c.text) != s.end - s.start:
        return None  # short, or its markdown would make the clause's place in the passage unsure
    named = asks.subjects & set(search_terms(c.text))
    if not named:
        return None
    pieces = _split(c.text, _SEMICOLONS)
    if len(pieces) < 2:  # a list of figures in commas ("GPT-2 has 50,257 tokens, …, and …")
        pieces = _split(c.text, _COMMAS)
        if len(pieces) < 3 or not all(figures(c.text[a:b]) for a, b in pieces):
            return None
    holding = [(a, b) for a, b in pieces if named <= set(search_terms(c.text[a:b]))]
    if len(holding) != 1 or len(pieces) < 2:
        return None
    a, b = holding[0]
    text = c.text[a:b].split(": ", 1)[-1].strip()  # "Vocabulary sizes I wrote down: GPT-2 …"
    a = b - len(text)
    if len(text.split()) < CLAUSE_WORDS or (
        asks.kind and not figures(text) and asks.kind == NUMBER
    ):
        return None
    narrowed = dataclasses.replace(s, text=text, start=s.start + a, end=s.start + b)
    return dataclasses.replace(c, sentence=narrowed)


def is_title(c: Candidate) -> bool:
    """A title item over a paragraph ("Step 3: Paged Optimizer"): a few words, no full stop."""
    return (
        c.sentence.kind == ITEM
        and not c.sentence.opening
        and len(c.text.split()) <= TITLE_WORDS
        and c.text[-1:] not in ".!?;:"
    )


def share(bag: set[str], weights: dict[str, float]) -> float:
    """The share of ``weights`` the terms of ``bag`` hold."""
    total = math.fsum(weights.values())  # fsum: the same in any order (weighted_share)
    return math.fsum(w for t, w in weights.items() if t in bag) / total if total else 0.0


class Chosen:
    """The lines being chosen, and what they hold so far."""

    def __init__(self, scored: Scored, scores: np.ndarray, wants_list: bool):
        self.scored = scored
        self.scores = scores
        self.wants_list = wants_list
        self.found = scored.candidates
        self.index = {id(c): i for i, c in enumerate(self.found)}
        self.lines: list[Line] = []
        self.used: set[int] = set()
        self.covered: set[str] = set()

    @property
    def words(self) -> int:
        return sum(line.words for line in self.lines)

    def line_for(self, i: int) -> Line:
        """The line sentence ``i`` is shown on: with its list's items when it leads into a
        list (or is an item of the list the question asks for), else alone with what makes
        it readable."""
        found, c, score = self.found, self.found[i], float(self.scores[i])
        items = items_of(c, found) if c.text.endswith(":") or self.wants_list else []
        if items:
            return Line(c.n, (c, *fitting(c.text, items)), listed=True, score=score)
        if (
            self.wants_list
            and c.sentence.kind == ITEM
            and not c.sentence.opening
            and (len(c.text.split()) <= ELEMENT_WORDS or self.names_its_list(c))
        ):
            lead = c.sentence.lead or (c.sentence.heading if c.sentence.block else "")
            group = fitting(lead, siblings(c, found))
            if len(group) > 1:
                return Line(c.n, tuple(group), intro=lead.rstrip(":"), listed=True, score=score)
        return Line(c.n, (c,), intro=intro_for(c), score=score)

    def names_its_list(self, c: Candidate) -> bool:
        """The question names the list ``c`` is in: its lead-in or heading holds at least
        :data:`NAMES_LIST` of the question's term weight ("What are the marketplace and
        infrastructure products?" under "Marketplace & Infrastructure")."""
        lead = c.sentence.lead or c.sentence.heading
        return bool(lead) and share(set(search_terms(lead)), self.scored.idf) >= NAMES_LIST

    def take(self, line: Line, at: int | None = None) -> None:
        if at is None:
            self.lines.append(line)
        else:
            self.lines[at] = line
        for c in line.sentences:
            j = self.index[id(c)]
            self.used.add(j)
            self.covered.update(self.scored.bags[j] if self.scored.bags else ())

    def duplicate(self, i: int) -> bool:
        vectors = self.scored.vectors
        return any(float(vectors[i] @ vectors[j]) >= DUPLICATE_SIMILARITY for j in self.used)

    def join(self, i: int) -> bool:
        """Put sentence ``i`` on the line of the item it continues or of the list it is in,
        if there is one; True when it was."""
        c = self.found[i]
        for at, line in enumerate(self.lines):
            if line.n != c.n:
                continue
            if not line.listed and any(same_item(c, other) for other in line.sentences):
                ordered = sorted((*line.sentences, c), key=lambda s: s.position)
                intro = intro_for(ordered[0])  # none once the item's first sentence leads
                self.take(replace(line, sentences=tuple(ordered), intro=intro), at)
                return True
            first = line.sentences[-1]
            if c.sentence.kind == ITEM and c.sentence.lead and c in siblings(first, self.found):
                items = line.sentences if line.listed else (first,)
                if line.listed and not line.intro:  # the lead-in stays first
                    items = line.sentences[1:]
                ordered = sorted((*items, c), key=lambda s: s.position)
                head = line.sentences[:1] if line.listed and not line.intro else ()
                intro = "" if head else c.sentence.lead.rstrip(":")
                self.take(replace(line, sentences=(*head, *ordered), intro=intro, listed=True), at)
                return True
        return False
