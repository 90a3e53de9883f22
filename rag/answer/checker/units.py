"""The units of a source a claim is checked against, one at a time.

A unit is what a reader takes as one statement with what it needs to be understood: a sentence
of a paragraph, a whole list item (its sentences together) with its heading and the sentence
that leads into the list, a table row read with its header ("column: cell; ..."). A claim is
supported by one unit; terms found in neighbouring units do not add up to support.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.answer.checker.lexicon import LATER_STEPS
from rag.answer.checker.reading import Reading, read
from rag.core import (
    GAP,
    HEADING,
    ITEM,
    ROW,
    TEXT,
    Passage,
    Sentence,
    is_title,
    plain,
    search_terms,
    split_sentences,
)

# A new list item starts between two sentences: they belong to different items.
_ITEM_START = re.compile(r"\n\s*(?:[-*+•]|\d{1,3}[.)])\s")
# A line that may end a statement without a full stop: no punctuation at its end, and the next
# line opens with a capitalised word ("Level 2: ...") or a number, rather than an acronym or a
# lower-case word (a line wrapped in the middle of a sentence, as PDFs wrap them: "8.5\nGB").
_LINE_STATEMENT = re.compile(r"(?m)^(.*?)(\w+\)?)[ \t]?\n(?=\s*(?:[A-Z][a-z]|\d))")
#: A line this long is prose wrapped at a fixed width, whatever the next line opens with.
WRAPPED_LINE_CHARS = 60
# A label opening a statement: bold, or a few words before a colon, a spaced dash or an arrow.
_BOLD_LABEL = re.compile(r"^\s*(?:\*\*|__)([^*_\n]{1,60}?)(?:\*\*|__)")
_LABEL = re.compile(r"^([^:\n]{1,50}?)(?::\s|\s-\s|\s->\s)")
# A name glossed in brackets opening an item: "peft (parameter-efficient fine tuning)".
_GLOSSED = re.compile(r"^\s*([\w\-./]+)\s+\([^()]+\)\s*$")
# A sentence opening with a word that points back ("This optimizer ...", "These models ...").
_POINTS_BACK = re.compile(
    r"(?:This|These|That|Those|Such|It|They|First|Second|Third|Then|Next|Finally|Lastly)\b"
)
# A list item opening with "i.e." says again what the item above it says ("- 1 petaflop/s-day:
# ..." / "- ie, 8 V100 GPUs for 24 hrs").
_RESTATES = re.compile(r"(?i)(?:i\.?e\.?|that is)[,:]?\s")
#: A label has at most this many words.
LABEL_WORDS = 5
# Markdown's hard line break (two spaces before the end of a line) always ends a statement.
_HARD_BREAK = re.compile(r"(?<=\S) {2,}\n")


def _line_break(match: re.Match) -> str:
    line, last = match.group(1), match.group(2)
    if len(line) + len(last) >= WRAPPED_LINE_CHARS:
        return match.group(0)  # prose wrapped at a fixed width goes on
    # A line ending with a word that needs the next one ("trained by\nGoogle") goes on.
    if search_terms(last) or any(c.isdigit() for c in last):
        return f"{line}{last} ;\n"
    return match.group(0)


def _read_text(body: str, group: list[Sentence]) -> str:
    """The text of a unit as the checker reads it: lines that each state something ("Level
    1: Prompt Engineering" / "Level 2: Model Fine-tuning") end with a semicolon, so they are
    read as clauses of their own."""
    if group[0].kind == ROW:
        return group[0].text  # read with its header: "Precision: int8; 8B model: 8 GB"
    parts = [
        _LINE_STATEMENT.sub(_line_break, _HARD_BREAK.sub(" ;\n", body[s.start : s.end]))
        for s in group
    ]
    return " ".join(plain(part) for part in parts)


@dataclass
class Unit:
    """One statement of a source, where it stands in its passage's body."""

    #: The passage it is in: [n].
    n: int
    #: Its text, plain.
    text: str
    #: Its offsets in the passage's body (what is highlighted).
    start: int
    end: int
    kind: str
    #: The list, table or paragraph it belongs to: its neighbours share it.
    block: int
    #: The headings above it, outermost first, joined.
    headings: str
    #: For a list item, what leads into it: the sentence before the list, the item above.
    lead: str
    #: The text read for checking (:func:`rag.answer.checker.reading.read`).
    reading: Reading
    #: Its headings and lead read the same way: a claim's terms may be there ("Google
    #: (Gemini)" above "Gemini 2.0 Flash: faster successor ...").
    context_reading: Reading
    #: The keys it holds: its own, its lead's, and those of its headings that tell it from
    #: the units beside it (:func:`source_units`).
    keys: frozenset[str] = frozenset()
    #: The words it holds (names are looked up there), chosen the same way.
    words: frozenset[str] = frozenset()
    #: The keys of the label it opens with, when it opens with one ("**Zero-shot** means",
    #: "Data Parallelism: ...", "Models - Over 800,000 ...").
    label: frozenset[str] = frozenset()
    #: The heading right above it (the last of :attr:`headings`).
    heading: str = ""
    #: Its lead read alone (None when it has none): what the item it goes on from says.
    lead_reading: Reading | None = None
    #: For a list item of several lines, its first line read alone when that line is a title
    #: over the others ("approximate GPU RAM for 1B parameters" over "memory to train model:
    #: 24GB @ 32bit"): what it names, each line below speaks of.
    title_reading: Reading | None = None
    #: The names the items beside it give as examples of what their lead speaks of, held
    #: through them alone ("eg: BERT, ROBERTA" beside "pre-trained using MLM").
    examples: frozenset[str] = frozenset()

    @property
    def context(self) -> str:
        return " ".join(part for part in (self.headings, self.lead) if part)

    @property
    def embedded(self) -> str:
        """What is embedded to compare meanings: the unit with its context."""
        return f"{self.context}: {self.text}" if self.context else self.text


def _same_item(body: str, first: Sentence, second: Sentence) -> bool:
    return (
        first.kind == ITEM
        and second.kind == ITEM
        and first.block == second.block
        and not _ITEM_START.search(body[first.end : second.start])
    )


def _sentences(body: str) -> list[Sentence]:
    """The sentences of a passage's body, excerpt by excerpt: an excerpt may end inside a code
    block (a chunk cut there), which must not hide the excerpts after it."""
    found = []
    start = 0
    for excerpt in body.split(GAP):
        found.extend(
            dataclasses.replace(s, start=s.start + start, end=s.end + start)
            for s in split_sentences(excerpt)
        )
        start += len(excerpt) + len(GAP)
    return found


def _groups(body: str) -> list[list[Sentence]]:
    """The sentences of ``body`` (headings left out), a list item's sentences in one group."""
    groups: list[list[Sentence]] = []
    for sentence in _sentences(body):
        if sentence.kind == HEADING:
            continue
        if groups and _same_item(body, groups[-1][-1], sentence):
            groups[-1].append(sentence)
        else:
            groups.append([sentence])
    return groups


def passage_units(passage: Passage) -> list[Unit]:
    """The units of one passage, in order."""
    units = []
    section = str(passage.metadata.get("section") or "")
    # The document's title names what every passage of it speaks of ("Priya Sharma",
    # "Contract with Fortress Business Underwriters for Bizllm"), where a retrieved passage's
    # own headings start below it.
    title = str(passage.metadata.get("title") or "")
    groups = _groups(passage.body)
    titles: dict[int, str] = {}  # block -> the title line its paragraph opens with
    for group in groups:
        first = group[0]
        # What leads into a list item: every lead above it ("Hugging Face" / "It has 3 main
        # features"), as the sentence splitter reads them; into a sentence of a paragraph,
        # the title line over it ("Level 3: Build Your Own LLM"), which names what it is about.
        lead = " ".join(first.leads) if first.kind == ITEM else titles.get(first.block, "")
        # "This optimizer works like virtual memory": the sentence before says which.
        before = units[-1] if units else None
        points_back = (first.kind == TEXT and _POINTS_BACK.match(first.text)) or (
            first.kind == ITEM and _RESTATES.match(first.text)
        )
        goes_on = bool(points_back and before and before.block == first.block)
        if goes_on:
            # A chain of them ("This technique ... in two stages. First, ...") goes back to
            # the sentence that names what they speak of.
            back = before.lead if before.kind == first.kind else ""
            lead = " ".join(dict.fromkeys(p for p in (lead, back, before.text) if p))
        if first.kind == TEXT and first.block not in titles and is_title(first.text):
            titles[first.block] = first.text
        headings = " ".join(first.headings) or section
        if title and title.lower() not in headings.lower():
            headings = f"{title} {headings}".strip()
        text = " ".join(s.text for s in group)
        raw = passage.body[first.start : group[-1].end]
        reading = read(_with_label_for_it(raw, text, _read_text(passage.body, group)))
        if goes_on:
            reading = _after(reading, before.reading)
        unit = Unit(
            passage.n,
            text,
            first.start,
            group[-1].end,
            first.kind,
            first.block,
            headings,
            lead,
            reading,
            read(" ".join(part for part in (headings, lead) if part)),
            label=_label(raw, text),
            heading=first.heading,
            title_reading=_title_line(raw) if first.kind == ITEM else None,
        )
        units.append(unit)
    _give_keys(units)
    return units


def _after(reading: Reading, before: Reading) -> Reading:
    """The reading of a sentence that goes on from the one before with a step word ("These
    pieces are then fed into the language model"): what it does comes after what the one
    before does ("RAG works by first using the retriever ...")."""
    if not any(t.text.lower() in LATER_STEPS for t in reading.tokens):
        return reading
    own, earlier = set(reading.terms), set(before.terms)
    step = (frozenset(earlier - own), frozenset(own - earlier))
    if not all(step):
        return reading
    return dataclasses.replace(reading, steps=[*reading.steps, step])


# An item's first line and what follows it on the next lines.
_FIRST_LINE = re.compile(r"\s*(?:[-*+\u2022]|\d{1,3}[.)])?\s*([^\n]*?)\s*\n(.*\S)", re.DOTALL)


def _title_line(raw: str) -> Reading | None:
    """The first line of an item of several lines, read alone, when it is a title over the
    lines below (:func:`~rag.core.is_title`, in any case)."""
    match = _FIRST_LINE.match(raw)
    if match is None or not is_title(match.group(1), capitalised=False):
        return None
    return read(match.group(1))


# "it" after a preposition: "grows with it", "a copy of it".
_IT_AS_OBJECT = re.compile(r"\b(with|of|on|to|for|from|by|in) it\b")


def _with_label_for_it(raw: str, text: str, read_text: str) -> str:
    """The unit's text as read, with "it" after a preposition past its label read as the
    label ("max_length: long enough for your examples; memory grows with it"): in an item of
    notes, what a bare "it" speaks of is what the label names. "it" as a subject is left: it
    speaks as often of the sentence before ("4-bit saves memory; it is not always faster")."""
    label = _label_text(raw, text, glossed=False).strip()
    if not label:
        return read_text
    head, sep, rest = read_text.partition(label)
    if not sep:
        return read_text
    return head + sep + _IT_AS_OBJECT.sub(lambda m: f"{m.group(1)} {label}", rest)


def _label_text(raw: str, text: str, glossed: bool = True) -> str:
    """The label a unit opens with: bold, before a colon, a spaced dash or an arrow, or (with
    ``glossed``) a name glossed in brackets; "" when it opens with none."""
    match = (
        _BOLD_LABEL.match(raw) or _LABEL.match(text) or (_GLOSSED.match(text) if glossed else None)
    )
    if match is None or len(match.group(1).split()) > LABEL_WORDS:
        return ""
    return match.group(1)


def _label(raw: str, text: str) -> frozenset[str]:
    """The keys of the label a unit opens with (empty when it opens with none)."""
    label = _label_text(raw, text)
    return frozenset(read(label).terms) if label else frozenset()


def _subject(unit: Unit) -> str:
    """What a unit speaks of: its first term ("" when it has none)."""
    return unit.reading.terms[0] if unit.reading.terms else ""


def _give_keys(units: list[Unit]) -> None:
    """Each unit's keys and words: its text's, its lead's and its headings', but for the
    subjects of its siblings a heading names beside its own. A heading naming several
    subjects can't tell which unit says what: under "Zero-shot and few-shot prompting",
    "Few-shot means including examples" does not hold "zero-shot", the subject of its sibling
    "Zero-shot means just describing the task"."""
    by_place: dict[tuple[int, str], list[Unit]] = {}
    for unit in units:
        by_place.setdefault((unit.n, unit.headings), []).append(unit)
    by_lead: dict[tuple[int, str], list[Unit]] = {}
    for unit in units:
        if unit.lead:
            by_lead.setdefault((unit.n, unit.lead), []).append(unit)
    # The examples each item names, read once: every sibling under its lead borrows them.
    named_examples = {id(u): _examples(u) for siblings in by_lead.values() for u in siblings}
    for siblings in by_place.values():
        heading = read(siblings[0].headings)
        named = set(heading.keys)
        # The subjects the heading right above them names: one a heading further up names
        # ("Hybrid search: BM25 + dense" over "Reciprocal rank fusion") is every sibling's.
        own_heading = set(read(siblings[0].heading).keys)
        subjects = {_subject(u) for u in siblings} & own_heading
        for unit in siblings:
            lead = read(unit.lead) if unit.lead else None
            unit.lead_reading = lead
            own = set(unit.reading.keys)
            mixed = _subject(unit) in own_heading
            others = subjects - {_subject(unit)} - own if mixed else set()
            lead_keys = set(lead.keys if lead else ()) - _siblings_subjects(unit, by_lead)
            examples = _examples_beside(unit, by_lead, named_examples)
            unit.keys = frozenset(own | lead_keys | (named - others) | set(examples.keys))
            words = unit.reading.words | (lead.words if lead else set()) | heading.words
            unit.examples = frozenset(examples.words - words)
            unit.words = frozenset(words | examples.words)


# An item that only names examples of what its lead speaks of: "eg: BERT, ROBERTA", "T5, BART".
_EXAMPLES_LABEL = re.compile(r"(?i)^\s*(?:e\.?g\.?|for example|examples?|such as)\s*[:,]?\s*")
_EXAMPLE_NAME = re.compile(r"[A-Z0-9][\w.\-]*(?: [A-Z0-9][\w.\-]*)?")


def _examples(unit: Unit) -> str:
    """The names an item lists as examples, when it says nothing else ("eg: BERT, ROBERTA"
    gives "BERT, ROBERTA"); "" when it says more than names."""
    text = _EXAMPLES_LABEL.sub("", unit.text).strip().rstrip(".")
    parts = [p.strip() for p in re.split(r",|\band\b|\bor\b", text)]
    if not text or not all(_EXAMPLE_NAME.fullmatch(p) for p in parts):
        return ""
    return text


def _examples_beside(
    unit: Unit, by_lead: dict[tuple[int, str], list[Unit]], named: dict[int, str]
) -> Reading:
    """The examples the items beside ``unit`` name of what their shared lead speaks of: they
    are examples of what every item under it says ("pre-trained using Masked Language
    Modeling" beside "eg: BERT, ROBERTA" under "Autoencoding models: encoder"). ``named``:
    each item's own examples (:func:`_examples`), by ``id``."""
    siblings = by_lead.get((unit.n, unit.lead), []) if unit.lead else []
    return read(", ".join(filter(None, (named[id(u)] for u in siblings if u is not unit))))


def _siblings_subjects(unit: Unit, by_lead: dict[tuple[int, str], list[Unit]]) -> set[str]:
    """The subjects of the items beside ``unit`` that their shared lead names beside its own,
    as a heading may: under "greedy vs random sampling", "greedy: the most probable word"
    does not hold "random", the subject of its sibling "random: select ... sampling"."""
    if not unit.lead:
        return set()
    named = set(read(unit.lead).keys)
    siblings = [u for u in by_lead[(unit.n, unit.lead)] if u is not unit]
    if _subject(unit) in named:
        subjects = {_subject(u) for u in siblings}
    else:
        # A lead speaking of the whole list ("... large amounts of data ...") gives no item
        # the subject its sibling's label names ("Data Parallelism: ...").
        subjects = {_subject(u) for u in siblings if _subject(u) in u.label}
    return subjects & named - set(unit.reading.keys)


def source_units(passages: Sequence[Passage]) -> list[Unit]:
    """The units of every passage, passage by passage."""
    return [unit for passage in passages for unit in passage_units(passage)]
