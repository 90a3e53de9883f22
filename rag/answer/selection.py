"""Which sentences answer, and in what order: the answer first, then what completes it.

The sentence that best answers the question leads (:func:`lead_scores`): it matches the
question (:mod:`rag.answer.scoring`), gives what the question asks for (a date for "when", a
figure in the unit asked for "how much"), says the thing asked for ("salary", "contract
number"), is about what the question names, and can be read alone. What it needs comes with it
on its line (:mod:`rag.answer.lines`): a list's lead-in brings its items, an item its lead-in or
label, and the other sentences of the same item follow it. Then each further sentence must add
something the question asked for that the answer doesn't hold yet, be about the same subject
(another employee's salary is not), and not repeat the last answer of the conversation; the
answer stops at the first that adds nothing.

A comparison gets a line for each side, a two-part question a line for each part, and a
question about all of something a line for each document found (:mod:`rag.answer.aggregation`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from rag.answer.aggregation import per_document
from rag.answer.asks import NUMBER_WORDS, Asks, defines_acronym
from rag.answer.lines import (
    BARE_WORDS,
    Chosen,
    Line,
    bare,
    clause,
    is_title,
    items_of,
    named_in,
    places_for,
    share,
)
from rag.answer.scoring import Candidate, Scored, holds, label_of, titled
from rag.core import HEADING, ITEM, comparable, search_terms, split_sentences, strip_citations

#: An answer stops growing past this many words (its first line is always kept).
WORD_BUDGET = 55
#: At most this many lines.
MAX_LINES = 4
#: A further line must score at least this share of the first.
RELATIVE_FLOOR = 0.6
#: Added to the lead score of a sentence giving the kind of answer asked for (a date...).
KIND_BONUS = 0.15
#: Taken from it when the question asks for a kind of answer the sentence doesn't give.
KIND_MISSING = 0.2
#: Added for the share of what the question asks for ("salary") the sentence says itself.
ASKED_WEIGHT = 0.1
#: Weight of the share of the question's names a sentence (and its passage) is about.
SUBJECT_WEIGHT = 0.2
#: The same for a follow-up about what the conversation was about ("How much memory does it
#: save?"), of the sentence alone.
INHERITED_SUBJECT_WEIGHT = 0.3
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
_SAME_NUMBER = {w: str(n) for n, w in enumerate(NUMBER_WORDS)} | {
    str(n): w for n, w in enumerate(NUMBER_WORDS)
}


def repeated(found: Sequence[Candidate], shown: str, asks: Asks | None = None) -> np.ndarray:
    """True for each sentence that ``shown`` (the last answer) holds, or that holds a sentence
    of it whole: the last answer may have shown only a clause of it ("GPT-2 has 50,257
    tokens" of "Vocabulary sizes I wrote down: GPT-2 has …, and Llama 3 uses a 128k
    vocabulary."), and showing the whole again repeats that clause. For a sentence that
    would be shown as its clause about what ``asks`` names (:func:`clause`), the clause."""
    if not shown:
        return np.zeros(len(found), dtype=bool)
    earlier = comparable(shown)
    said = [
        comparable(s.text)
        for s in split_sentences(strip_citations(shown))
        if s.kind != HEADING and len(s.text.split()) > BARE_WORDS
    ]

    def again(c: Candidate) -> bool:
        part = clause(Line(c.n, (c,)), asks) if asks is not None else None
        text = comparable((part or c).text)
        return text in earlier or any(old in text for old in said)

    return np.array([again(c) for c in found], dtype=bool)


def lead_scores(scored: Scored, shown: str = "") -> np.ndarray:
    """How well each sentence would lead the answer: its match, what it gives of what the
    question asks for, how much it and its passage are about the question's names, whether
    it reads alone, whether the last answer (``shown``) had it already, its passage's rank."""
    asks = scored.asks
    found = scored.candidates
    zeros, ones = np.zeros(len(found)), np.ones(len(found))
    kind = _or(scored.kind, zeros)
    subject = (_or(scored.subject, ones) + _or(scored.passage_subject, ones)) / 2
    subject_weight = SUBJECT_WEIGHT
    if asks is not None and asks.inherited:
        # What "it" is, the question's words can't match: being about it, the sentence
        # itself (with its headings), counts for more, and its passage's mention for nothing.
        subject, subject_weight = _or(scored.subject, ones), INHERITED_SUBJECT_WEIGHT
    again = repeated(found, shown, asks)
    # A sentence the last answer showed answered the conversation's earlier words already:
    # for this question it counts for what it says of the question's own words.
    match = np.where(again, _or(scored.own_match, scored.match), scored.match)
    score = match + KIND_BONUS * kind + subject_weight * subject
    score = score + ASKED_WEIGHT * _or(scored.asked, zeros)
    score = score + DEFINES_BONUS * _or(scored.defines, zeros)
    score = score + ORDINAL_WEIGHT * _or(scored.ordinal, zeros)
    if asks is not None and asks.kind is not None:
        score = score - KIND_MISSING * (kind == 0)
    score = score - LEANS_PENALTY * np.array([c.leans for c in found])
    score = score - CODE_PENALTY * np.array([c.code for c in found])
    score = score - REPEAT_PENALTY * again
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
    answer = Chosen(scored, scores, bool(asks and asks.wants_list))
    says = _or(scored.says, np.ones(len(found), dtype=bool))
    again = repeated(found, shown, asks)
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
                (i for i in usable if i not in leads and share(scored.bags[i], own) > 0),
                key=lambda i: (share(scored.bags[i], own), float(scores[i])),
                default=None,
            )
            if best is not None:
                leads.append(best)
    if not leads:
        leads = [next((i for i in usable if not bare(answer.line_for(i))), usable[0])]
    for i in leads:
        if i not in answer.used:
            line = answer.line_for(i)
            part = clause(line, asks)
            if part:  # the clause stands for its sentence
                answer.index[id(part)] = i
                line = replace(line, sentences=(part,))
            answer.take(line)
    first = leads[0]
    if aggregate:
        per_document(answer, usable, first)
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
    answer: Chosen,
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
        return named_in(document) - asked_about if titled(document) else set()

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
            return not (named_in(found[i].text) - asked_about)
        return True

    _go_on(answer, first, shown_again, kind, word_budget)

    # A question asking a second thing gets a line for it ("…, and what does 128k cost?").
    weighed = asks.weights if asks else {}
    for part in asks.parts if asks else ():
        weights = {t: scored.idf.get(t, 1.0) * weighed.get(t, 1.0) for t in part}
        if share(answer.covered, weights) >= PART_COVERED:
            continue
        best = max(
            (i for i in usable if i not in answer.used and about_it(i) and not shown_again[i]),
            key=lambda i: share(scored.bags[i], weights) + float(scores[i]),
            default=None,
        )
        if best is None or share(scored.bags[best], weights) < PART_COVERED:
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


def _go_on(
    answer: Chosen, first: int, shown_again: np.ndarray, kind: np.ndarray, word_budget: int
) -> None:
    """What completes the lead comes on its line: the next sentence of an explanation's
    paragraph, the paragraph under a title ("Step 3: Paged Optimizer"), a next sentence that
    leans on it ("Otherwise, run `ollama serve`."), the rest of a list item (more of the
    figure asked for, or more of what an open question names), the rest of the step "What
    comes after that?" asks for."""
    scored, found = answer.scored, answer.found
    asks, lead = scored.asks, found[first]
    after = _next_said(found, lead, shown_again)
    if after is None:
        return
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
    titled_paragraph = (is_title(lead) or defines_acronym(lead.text)) and not c.fragment
    # The item's next sentence giving more of the figure asked for, in its unit: "128 KiB
    # per token", then "an 8k-token context needs about 1 GiB; 128k tokens about 16 GiB".
    same_item = bool(c.sentence.opening) and c.sentence.opening in (
        lead.sentence.opening,
        lead.text,
    )
    more_of_it = (
        same_item and asks is not None and bool(asks.unit) and min(kind[first], kind[after]) >= 1
    )
    # An open question about what an item names ("And GPQA, how hard is that one?"): the
    # item's next sentence says more of it ("PhD-level experts reach about 65 percent").
    more_of_item = (
        c.sentence.opening == lead.text
        and asks is not None
        and asks.kind is None
        and not (asks.wants_list or asks.measured)
        and bool(asks.subjects)
        and asks.subjects <= set(search_terms(lead.text))
    )
    goes_on = explains or titled_paragraph or more_of_it or more_of_item or (c.leans and near)
    if not goes_on or answer.lines[0].words + c.words > word_budget:
        return
    line = answer.lines[0]
    answer.take(replace(line, sentences=(*line.sentences, c), listed=False), 0)
    if asks is not None and asks.next_step:
        _read_on(answer, c, shown_again, word_budget)


def _next_said(found: Sequence[Candidate], last: Candidate, shown_again: np.ndarray) -> int | None:
    """The sentence right after ``last`` in its paragraph (:func:`_follows`), when it may go on
    the same line: not shown already, not a lead-in to a list."""
    after = next((i for i, c in enumerate(found) if _follows(c, last)), None)
    if after is None or shown_again[after] or found[after].text.endswith(":"):
        return None
    return after


def _read_on(answer: Chosen, last: Candidate, shown_again: np.ndarray, word_budget: int) -> None:
    """The rest of the step "What comes after that?" asks for: its paragraph, sentence by
    sentence, while the answer's budget lasts. Its first sentence often only restates the
    step's title ("The second step involves double quantization."); what the step does
    comes after."""
    found = answer.found
    while (after := _next_said(found, last, shown_again)) is not None:
        c, line = found[after], answer.lines[0]
        if line.words + c.words > word_budget:
            return
        answer.take(replace(line, sentences=(*line.sentences, c)), 0)
        last = c


def _another_field(c: Candidate, lead: Candidate, asks: Asks | None) -> bool:
    """``c`` is a field whose label says less of what the question asks for than the lead's
    ("Current Salary: …" after "Job Title: …" for "What is Alex Chen's current job title?")."""
    if asks is None or not asks.measured:
        return False
    label, lead_label = label_of(c.text), label_of(lead.text)
    return bool(label) and holds(asks.measured, set(search_terms(label))) < holds(
        asks.measured, set(search_terms(lead_label))
    )


def _says_more(c: Candidate, answer: Chosen) -> bool:
    """``c`` holds at least :data:`NEW_WORDS` words the answer doesn't."""
    said = {t for line in answer.lines for s in line.sentences for t in search_terms(s.text)}
    return len(set(search_terms(c.text)) - said) >= NEW_WORDS


def _follows(c: Candidate, lead: Candidate) -> bool:
    """``c`` is the sentence right after ``lead``, in the same paragraph (or, after a title,
    the first of its text)."""
    return (
        c.n == lead.n
        and c.position == lead.position + 1
        and (c.sentence.block == lead.sentence.block or lead.sentence.kind == HEADING)
    )


def _adds(bag: set[str], covered: set[str], idf: dict[str, float]) -> float:
    """The share of the question's term weight ``bag`` holds that ``covered`` doesn't (a
    number counts as said in words or in digits: "three", "3")."""
    total = math.fsum(idf.values())  # fsum: the same in any order (weighted_share)
    said = covered | {_SAME_NUMBER[t] for t in covered if t in _SAME_NUMBER}
    return math.fsum(idf[t] for t in bag - said if t in idf) / total if total else 0.0


def _dangling(c: Candidate, found: Sequence[Candidate]) -> bool:
    """A lead-in whose items are not among the sentences ("RAG fixes this by:")."""
    return c.text.endswith(":") and not items_of(c, found)
