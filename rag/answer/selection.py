"""Which sentences answer, and in what order: the answer first, then what completes it.

The sentence that best answers the question leads (:func:`lead_scores`): it matches the
question (:mod:`rag.answer.scoring`), gives what the question asks for (a date for "when", a
figure in the unit asked for "how much"), says the thing asked for ("salary", "contract
number"), is about what the question names, and can be read alone. What it needs comes with it
on its line: a list's lead-in brings its items, an item its lead-in or label, and the other
sentences of the same item follow it. Then each further sentence must add something the
question asked for that the answer doesn't hold yet, be about the same subject (another
employee's salary is not), and not repeat the last answer of the conversation; the answer
stops at the first that adds nothing.

A comparison gets a line for each side; a question about all of something gets a line for each
document found.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from rag.answer.arithmetic import figures
from rag.answer.asks import NUMBER, NUMBER_WORDS, Asks, Condition, names
from rag.answer.scoring import Candidate, Scored, holds, label_of, titled
from rag.core import ITEM, comparable, search_terms

#: An answer stops growing past this many words (its first line is always kept).
WORD_BUDGET = 55
#: At most this many lines.
MAX_LINES = 4
#: A list's items shown on its lead-in's line: at most this many, and past the first two,
#: only while the line stays within this many words.
MAX_ITEMS = 8
ITEM_BUDGET = 60
#: A further line must score at least this share of the first.
RELATIVE_FLOOR = 0.6
#: Two sentences this similar say the same thing: the second is left out.
DUPLICATE_SIMILARITY = 0.9
#: Added to the lead score of a sentence giving the kind of answer asked for (a date...).
KIND_BONUS = 0.15
#: Taken from it when the question asks for a kind of answer the sentence doesn't give.
KIND_MISSING = 0.2
#: Added for the share of what the question asks for ("salary") the sentence says itself.
ASKED_WEIGHT = 0.1
#: Weight of the share of the question's names a sentence (and its passage) is about.
SUBJECT_WEIGHT = 0.2
#: Added to a sentence that reads as the definition "What is X?" asks for.
DEFINES_BONUS = 0.08
#: Added to a sentence naming the ordinal asked for ("Step 1" for "the first step"), taken
#: from one naming only another ("The second step").
ORDINAL_WEIGHT = 0.15
#: Taken from a sentence that leans on the one before it ("This step…", "Second, …").
LEANS_PENALTY = 0.08
#: Taken from a sentence that reads as code: an answer is said in words.
CODE_PENALTY = 0.15
#: Taken from a sentence the last answer showed: it leads again only if it is clearly the answer.
REPEAT_PENALTY = 0.15
#: Added to the sentence after the one the last answer ended with, for "What comes next?".
NEXT_BONUS = 0.3
#: Added to a list's lead-in when the question asks for a list (its items come with it).
LIST_BONUS = 0.08
#: Score lost per rank of the passage a sentence is in: retrieval's order is evidence too.
RANK_PENALTY = 0.02
#: A further sentence must add at least this share of the question's term weight.
MIN_ADDED = 0.12
#: An item of at most this many words is an element of its list (a step, a kind), which a
#: question asking for the list wants with its siblings; a longer one is a statement.
ELEMENT_WORDS = 8
#: The sentence after the lead in its paragraph goes on with it when it matches the question
#: at least this share of the lead's match.
CONTINUES = 0.35
#: A second sentence scoring this share of the lead's score answers an open question too ...
CLOSE_SECOND = 0.85
#: ... when it holds this many words the answer doesn't.
NEW_WORDS = 3
#: A part of the question (a second thing it asks) is answered when the answer holds this
#: share of its terms' weight.
PART_COVERED = 0.4
#: A lead of at least this many words listing several things is narrowed to its clause about
#: the names asked about, when that clause has at least this many words.
CLAUSE_SENTENCE_WORDS = 20
CLAUSE_WORDS = 3
#: A title item has at most this many words.
TITLE_WORDS = 8
#: A list whose lead-in or heading holds this share of the question's term weight is the list
#: the question asks for.
NAMES_LIST = 0.4
#: A lead-in of at most this many words is shown before its item.
LEAD_IN_WORDS = 12
#: A line of this many words or fewer, with no figure, says nothing alone.
BARE_WORDS = 3
_SAME_NUMBER = {w: str(n) for n, w in enumerate(NUMBER_WORDS)} | {
    str(n): w for n, w in enumerate(NUMBER_WORDS)
}
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


def repeated(found: Sequence[Candidate], shown: str) -> np.ndarray:
    """True for each sentence that ``shown`` (the last answer) holds."""
    if not shown:
        return np.zeros(len(found), dtype=bool)
    earlier = comparable(shown)
    return np.array([comparable(c.text) in earlier for c in found], dtype=bool)


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
    short = len(line.shown.split()) <= BARE_WORDS and not any(ch.isdigit() for ch in line.shown)
    return short or bool(_BARE_NAME.match(sentence))


def _fitting(head: str, items: Sequence[Candidate]) -> list[Candidate]:
    """The first of ``items`` that fit on one line after ``head`` (at least two)."""
    kept: list[Candidate] = []
    words = len(head.split())
    for item in items[:MAX_ITEMS]:
        words += len(item.text.split())
        if len(kept) >= 2 and words > ITEM_BUDGET:
            break
        kept.append(item)
    return kept


def lead_scores(scored: Scored, shown: str = "") -> np.ndarray:
    """How well each sentence would lead the answer: its match, what it gives of what the
    question asks for, how much it and its passage are about the question's names, whether
    it reads alone, whether the last answer (``shown``) had it already, its passage's rank."""
    asks = scored.asks
    found = scored.candidates
    zeros, ones = np.zeros(len(found)), np.ones(len(found))
    kind = _or(scored.kind, zeros)
    subject = (_or(scored.subject, ones) + _or(scored.passage_subject, ones)) / 2
    score = scored.match + KIND_BONUS * kind + SUBJECT_WEIGHT * subject
    score = score + ASKED_WEIGHT * _or(scored.asked, zeros)
    score = score + DEFINES_BONUS * _or(scored.defines, zeros)
    score = score + ORDINAL_WEIGHT * _or(scored.ordinal, zeros)
    if asks is not None and asks.kind is not None:
        score = score - KIND_MISSING * (kind == 0)
    score = score - LEANS_PENALTY * np.array([c.leans for c in found])
    score = score - CODE_PENALTY * np.array([c.code for c in found])
    score = score - REPEAT_PENALTY * repeated(found, shown)
    if asks is not None and asks.wants_list:
        score = score + LIST_BONUS * np.array([bool(items_of(c, found)) for c in found])
    if asks is not None and asks.next_step and shown:
        score = score + NEXT_BONUS * next_after(found, shown)
    return score - RANK_PENALTY * scored.ranks


def next_after(found: Sequence[Candidate], shown: str) -> np.ndarray:
    """True for the sentence that comes next after the last one ``shown`` held, in its list
    (the item after, for "What comes after that?") or else its paragraph."""
    was = repeated(found, shown)
    nexts = np.zeros(len(found), dtype=bool)
    for i in np.flatnonzero(was):
        last = found[i]
        later = [
            j
            for j, c in enumerate(found)
            if c.n == last.n
            and c.position > last.position
            and not was[j]
            and (c.sentence.lead == last.sentence.lead if last.sentence.kind == ITEM else True)
            and not c.sentence.opening
        ]
        if later:
            nexts[min(later, key=lambda j: found[j].position)] = True
    return nexts


def _or(values: np.ndarray | None, default: np.ndarray) -> np.ndarray:
    return default if values is None else values


class _Answer:
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
            return Line(c.n, (c, *_fitting(c.text, items)), listed=True, score=score)
        if (
            self.wants_list
            and c.sentence.kind == ITEM
            and not c.sentence.opening
            and (len(c.text.split()) <= ELEMENT_WORDS or self.names_its_list(c))
        ):
            lead = c.sentence.lead or (c.sentence.heading if c.sentence.block else "")
            group = _fitting(lead, siblings(c, found))
            if len(group) > 1:
                return Line(c.n, tuple(group), intro=lead.rstrip(":"), listed=True, score=score)
        return Line(c.n, (c,), intro=intro_for(c), score=score)

    def names_its_list(self, c: Candidate) -> bool:
        """The question names the list ``c`` is in: its lead-in or heading holds at least
        :data:`NAMES_LIST` of the question's term weight ("What are the marketplace and
        infrastructure products?" under "Marketplace & Infrastructure")."""
        lead = c.sentence.lead or c.sentence.heading
        return bool(lead) and _share(set(search_terms(lead)), self.scored.idf) >= NAMES_LIST

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


def select(
    scored: Scored,
    *,
    shown: str = "",
    word_budget: int = WORD_BUDGET,
    max_lines: int = MAX_LINES,
    relative_floor: float = RELATIVE_FLOOR,
) -> list[Line]:
    """The lines of the answer, the one that answers first. ``shown``: the last answer of
    the conversation (its sentences are not shown again unless one is the answer)."""
    found = scored.candidates
    if not found:
        return []
    asks = scored.asks
    subjects = asks.subjects if asks else frozenset()
    aggregate = bool(asks and asks.aggregate)
    scores = lead_scores(scored, shown)
    answer = _Answer(scored, scores, bool(asks and asks.wants_list))
    says = _or(scored.says, np.ones(len(found), dtype=bool))
    again = repeated(found, shown)
    ones, zeros = np.ones(len(found)), np.zeros(len(found))
    subject, passage_subject = _or(scored.subject, ones), _or(scored.passage_subject, ones)
    kind = _or(scored.kind, zeros)
    order = [int(i) for i in np.argsort(-scores, kind="stable")]
    usable = [
        i
        for i in order
        if (says[i] or items_of(found[i], found)) and not _dangling(found[i], found)
    ]
    if not usable:  # nothing says more than the question: the best match is the answer
        usable = order

    # The lead: the best sentence whose line says something alone; for a comparison, the
    # best of each side.
    sides = asks.sides if asks else ()
    leads: list[int] = []
    if len(sides) > 1:
        for side, other in ((sides[0], sides[1]), (sides[1], sides[0])):
            own = {t: scored.idf.get(t, 1.0) for t in side - other or side}
            best = max(
                (i for i in usable if i not in leads and _share(scored.bags[i], own) > 0),
                key=lambda i: (_share(scored.bags[i], own), float(scores[i])),
                default=None,
            )
            if best is not None:
                leads.append(best)
    if not leads:
        leads = [next((i for i in usable if not bare(answer.line_for(i))), usable[0])]
    for i in leads:
        if i not in answer.used:
            line = answer.line_for(i)
            part = _clause(line, asks)
            if part:  # the clause stands for its sentence
                answer.index[id(part)] = i
                line = replace(line, sentences=(part,))
            answer.take(line)
    first = leads[0]
    if aggregate:
        _per_document(answer, usable, first)
    else:
        _complete(
            answer,
            usable,
            first,
            shown_again=again,
            subject=subject,
            passage_subject=passage_subject,
            kind=kind,
            comparing=bool(sides),
            word_budget=word_budget,
            max_lines=max_lines,
            relative_floor=relative_floor,
        )
    named = aggregate
    lines = [
        replace(line, places=places_for(line, scored.idf, subjects, named)) for line in answer.lines
    ]
    if aggregate:
        return lines
    lead_count = len(leads)
    rest = sorted(lines[lead_count:], key=lambda line: (line.n, line.sentences[0].position))
    return lines[:lead_count] + rest


def _complete(
    answer: _Answer,
    usable: list[int],
    first: int,
    *,
    shown_again: np.ndarray,
    subject: np.ndarray,
    passage_subject: np.ndarray,
    kind: np.ndarray,
    comparing: bool,
    word_budget: int,
    max_lines: int,
    relative_floor: float,
) -> None:
    """Add what completes the lead: the rest of its list item, its list's siblings about the
    same names, then sentences that add something asked for, about the same subject."""
    scored, scores, found = answer.scored, answer.scores, answer.found
    asks = scored.asks
    lead = found[first]
    asked = _or(scored.asked, np.zeros(len(found)))

    asked_about = set(asks.subjects) if asks else set()

    def _others(document: str) -> set[str]:
        """The names a document's title holds that the question doesn't ask about."""
        return _named(document) - asked_about if titled(document) else set()

    def about_it(i: int) -> bool:
        """Not another employee, another product: what was asked about. A document about
        less of what the question names is another's; in the lead's document, a sentence
        about less of it that names something else ("Professional Tier" when the
        "Enterprise Tier" was asked about) is another's."""
        if comparing:
            return True
        if passage_subject[i] < passage_subject[first] - 1e-6:
            return False
        if found[i].n != lead.n and _others(found[i].document) and not _others(lead.document):
            return False  # "Contract with DriveSmart …" when the lead is "Carllm"'s own page
        if found[i].n == lead.n and subject[i] < subject[first] - 1e-6:
            return not (_named(found[i].text) - asked_about)
        return True

    # What completes the lead comes on its line: the next sentence of an explanation's
    # paragraph, the paragraph under a title ("Step 3: Paged Optimizer"), a next sentence
    # that leans on it ("Otherwise, run `ollama serve`.").
    after = next((i for i, c in enumerate(found) if _follows(c, lead)), None)
    if after is not None and not shown_again[after] and not found[after].text.endswith(":"):
        c = found[after]
        near = scored.match[after] >= CONTINUES * scored.match[first]
        explains = (
            asks is not None
            and asks.kind is None
            and not asks.wants_list
            and not lead.fragment
            and not c.fragment
            and near
        )
        titled_paragraph = _title(lead) and not c.fragment
        if (explains or titled_paragraph or (c.leans and near)) and (
            answer.lines[0].words + c.words <= word_budget
        ):
            line = answer.lines[0]
            answer.take(replace(line, sentences=(*line.sentences, c), listed=False), 0)

    # A question asking a second thing gets a line for it ("…, and what does 128k cost?").
    weighed = asks.weights if asks else {}
    for part in asks.parts if asks else ():
        weights = {t: scored.idf.get(t, 1.0) * weighed.get(t, 1.0) for t in part}
        if _share(answer.covered, weights) >= PART_COVERED:
            continue
        best = max(
            (i for i in usable if i not in answer.used and about_it(i) and not shown_again[i]),
            key=lambda i: _share(scored.bags[i], weights) + float(scores[i]),
            default=None,
        )
        if best is None or _share(scored.bags[best], weights) < PART_COVERED:
            continue
        if not answer.join(best):
            line = answer.line_for(best)
            if not bare(line):
                answer.take(line)
    for i in usable:
        if i in answer.used or shown_again[i] or scores[i] < relative_floor * scores[first]:
            continue
        if not about_it(i):
            continue
        if answer.join(i):  # siblings share their lead-in, so they are never duplicates
            continue
        if answer.duplicate(i) or len(answer.lines) >= max_lines:
            continue
        if found[i].leans:
            continue  # "Second, …", "This step …" away from what it follows
        if _another_field(found[i], lead, asks):
            continue  # "Current Salary: …" when the "Job Title" was asked
        adds = _adds(scored.bags[i] if scored.bags else set(), answer.covered, scored.idf)
        gives = kind[i] > 0 and kind[first] == 0
        # An open question ("What is QLoRA?") takes a second sentence that answers it nearly
        # as well and says something the first doesn't.
        # A sentence that answers nearly as well as the lead, and says something it doesn't,
        # is a second answer (of the kind asked for, if one is).
        # A second that is as much about what is asked ("salary"), from another note when the
        # lead says what X is or gives the date or figure asked for: the lead's own note's
        # other dates and facts are its neighbours, for the questions that follow.
        another = found[i].n != lead.n
        second = (
            (another or not ((asks and asks.defines) or kind[first] >= 1))
            and scores[i] >= CLOSE_SECOND * scores[first]
            and (kind[i] > 0 or kind[first] == 0)
            and asked[i] >= asked[first] - 1e-6
            and _says_more(found[i], answer)
        )
        if not (adds >= MIN_ADDED or gives or second):
            continue
        line = answer.line_for(i)
        if bare(line) or any(answer.index[id(c)] in answer.used for c in line.sentences):
            continue
        if answer.words + line.words > word_budget:
            continue
        answer.take(line)


def _named(text: str) -> set[str]:
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


def _clause(line: Line, asks: Asks | None) -> Candidate | None:
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


def _title(c: Candidate) -> bool:
    """A title item over a paragraph ("Step 3: Paged Optimizer"): a few words, no full stop."""
    return (
        c.sentence.kind == ITEM
        and not c.sentence.opening
        and len(c.text.split()) <= TITLE_WORDS
        and c.text[-1:] not in ".!?;:"
    )


def _another_field(c: Candidate, lead: Candidate, asks: Asks | None) -> bool:
    """``c`` is a field whose label says less of what the question asks for than the lead's
    ("Current Salary: …" after "Job Title: …" for "What is Alex Chen's current job title?")."""
    if asks is None or not asks.measured:
        return False
    label, lead_label = label_of(c.text), label_of(lead.text)
    return bool(label) and holds(asks.measured, set(search_terms(label))) < holds(
        asks.measured, set(search_terms(lead_label))
    )


def _says_more(c: Candidate, answer: _Answer) -> bool:
    """``c`` holds at least :data:`NEW_WORDS` words the answer doesn't."""
    said = {t for line in answer.lines for s in line.sentences for t in search_terms(s.text)}
    return len(set(search_terms(c.text)) - said) >= NEW_WORDS


def _share(bag: set[str], weights: dict[str, float]) -> float:
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in bag) / total if total else 0.0


def _follows(c: Candidate, lead: Candidate) -> bool:
    """``c`` is the sentence right after ``lead``, in the same paragraph."""
    return (
        c.n == lead.n
        and c.position == lead.position + 1
        and c.sentence.block == lead.sentence.block
    )


def _adds(bag: set[str], covered: set[str], idf: dict[str, float]) -> float:
    """The share of the question's term weight ``bag`` holds that ``covered`` doesn't (a
    number counts as said in words or in digits: "three", "3")."""
    total = sum(idf.values())
    said = covered | {_SAME_NUMBER[t] for t in covered if t in _SAME_NUMBER}
    return sum(idf[t] for t in bag - said if t in idf) / total if total else 0.0


def _dangling(c: Candidate, found: Sequence[Candidate]) -> bool:
    """A lead-in whose items are not among the sentences ("RAG fixes this by:")."""
    return c.text.endswith(":") and not items_of(c, found)


def _per_document(answer: _Answer, usable: list[int], first: int) -> None:
    """For a question about all of something: a line for each document found that is one
    of them (its name or headings say what they are, "Carllm contracts", when any passage's
    do), its best sentence, of the kind asked for, meeting a count's condition ("under
    $80,000")."""
    scored, found = answer.scored, answer.found
    asks = scored.asks
    over = asks.over if asks else frozenset()
    places = {c.n: set(search_terms(" ".join(c.places))) for c in found}
    of_them = {n for n, terms in places.items() if over and holds(over, terms) == 1.0}
    kind = _or(scored.kind, np.zeros(len(found)))
    passage_subject = _or(scored.passage_subject, np.ones(len(found)))
    lead = answer.lines[:]
    answer.lines.clear()
    answer.used.clear()
    seen: set[int] = set()
    for i in usable:
        c = found[i]
        if c.n in seen or (of_them and c.n not in of_them):
            continue
        if passage_subject[i] < passage_subject[first] - 1e-6:
            continue
        if asks is not None and asks.condition:
            if not _meets(c, asks.condition):
                continue
        elif asks is not None and asks.kind is not None and kind[i] < 1:
            continue
        line = answer.line_for(i)
        if bare(line):
            continue
        answer.take(line)
        seen.add(c.n)
    if not answer.lines:  # no document is one of them: the best line is still the answer
        for line in lead:
            answer.take(line)
    answer.lines.sort(key=lambda line: line.n)


def _meets(c: Candidate, condition: Condition) -> bool:
    """Whether ``c`` says what the condition compares ("current salary") and its first figure
    of the same currency meets it ("under $80,000")."""
    if condition.of and holds(condition.of, set(search_terms(c.context))) < 0.5:
        return False
    shown = [f for f in figures(c.text) if f.currency == condition.currency]
    return bool(shown) and condition.met_by(shown[0].value)
