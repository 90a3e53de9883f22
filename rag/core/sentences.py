"""Markdown-aware sentence splitting, for answers and for the passages they are drawn from.

Course notes are messy markdown: headings, nested bullets, tables, code, stray HTML, links.
A sentence here is what a reader takes as one statement: a sentence of a paragraph, a list item
(split further when it holds several sentences), a table row (read as "column: cell; ..."), a
heading. Code blocks, HTML tags, link targets and table rules are not sentences. Each sentence
keeps its place in the text (``start``/``end``, so an answer's sentences can be marked where
they are) and the nearest heading above it (the context a bare bullet needs).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from rag.core.answer_text import CITATION_MARK, strip_citations
from rag.core.passage import GAP

HEADING = "heading"
TEXT = "text"
ITEM = "item"
ROW = "row"

_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_ITEM = re.compile(r"^(\s*)(?:[-*+•]|\d{1,3}[.)])\s+")
_EMPTY_ITEM = re.compile(r"^\s*(?:[-*+•]|\d{1,3}[.)])\s*$")
_TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
# A line opening with a bold label, "**Label:** value" or "**Label**: value".
_FIELD = re.compile(r"^\s*(\*\*|__)[^*_\n]{1,60}?(?::\1|\1:)")
_HR = re.compile(r"^\s*([-*_])(\s*\1){2,}\s*$")
_HTML_TAG = re.compile(r"<[/!]?[A-Za-z][^>\n]{0,400}>")
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]\n]+)\]\([^)\n]*\)")
# Bold, and a single * opening or closing a word (not the * of "4*10^9", which is arithmetic).
_EMPHASIS = re.compile(r"(\*\*|__|(?<!\w)\*(?=\S)|(?<=\S)\*(?!\w))")
_SPACES = re.compile(r"\s+")
#: The mark between two excerpts of one document in a passage.
_GAP = re.compile(r"^\s*" + re.escape(GAP.strip()) + r"\s*$")
# A sentence ends at . ! or ? (after closing quotes or brackets and any [n] citations) followed
# by space and something that does not continue a sentence (a comma or "..." and a lower-case
# word do).
_CLOSE = r"[\"'”’)\]]*(?:\s*" + CITATION_MARK + r")*"
_END = re.compile(r"[.!?]+" + _CLOSE + r"(?=\s+[^\sa-z,;:\[]|\s*$)")
# In an answer, one full stop before a lower-case word ends a sentence too: technical prose
# opens sentences with names written in lower case ("... about 16 GB. bitsandbytes needs ...").
# Not in notes, where it is more often a comma mistyped ("tools, datasets. libraries to ...").
# Abbreviations ("e.g.", "approx.") are told apart by :func:`abbreviated`, and so is a short
# capitalised word, which is one more often than not ("Stellar Insurance Co. agrees").
_SHORT_CAPITALISED = r"(?<!\b[A-Z][a-z])(?<!\b[A-Z][a-z]{2})(?<!\b[A-Z][a-z]{3})"
_END_BEFORE_LOWER_CASE = re.compile(
    r"(?:(?<![.!?])" + _SHORT_CAPITALISED + r"\.(?![.!?])" + _CLOSE + r"(?=\s+[a-z])"
    r"|" + _END.pattern + r")"
)
_ABBREVIATIONS = (
    "e.g i.e etc al vs cf approx fig no dr mr mrs ms st inc ltd incl esp resp max min avg "
    "jan feb mar apr jun jul aug sep sept oct nov dec"
).split()
_ABBREVIATION = re.compile(
    r"(?:\b(?:" + "|".join(re.escape(a) for a in _ABBREVIATIONS) + r")|\b[A-Z]"
    # "...two APIs: 1. Pipelines, 2. Tokenizers": a number opening an inline list.
    r"|(?:^|[:;,]\s*)\d{1,2})\.$",
    re.I,
)


# In an answer or pasted text, a lower-case letter alone before a full stop is no initial: it
# ends the sentence ("... whose probabilities add up to p. Use a low temperature ..."). Notes
# are read as before: there it more often cuts a line a reader takes as one ("scales the
# update by alpha / r. Common conventions are ...").
_LETTER_ENDING = re.compile(r"(?<![\w.])[a-z]\.$")


def abbreviated(text: str) -> bool:
    """Whether ``text`` ends with an abbreviation's full stop ("Kojima et al.", "e.g."): no
    sentence ends there."""
    return bool(_ABBREVIATION.search(text))


#: Shortest text worth calling a sentence, in word characters.
MIN_CHARS = 3


@dataclass(frozen=True)
class Sentence:
    """A statement found in a text; ``text`` is plain (markdown markers and links removed)."""

    text: str
    start: int
    end: int
    kind: str
    #: The nearest heading above it ("" when none).
    heading: str = ""
    #: Which block (paragraph, list, table) it belongs to: consecutive items share one.
    block: int = 0
    #: For a list item: what its list continues ("" when nothing): for a nested item, the
    #: first sentence of the item it is nested in ("It has 3 main features"); for a top-level
    #: one, the sentence of prose ending with ":" just before the list.
    lead: str = ""
    #: Every heading above it, outermost first (the last is :attr:`heading`).
    headings: tuple[str, ...] = ()
    #: For a list item's second sentence and on: the item's first sentence, which often says
    #: what the rest is about ("Q8_0: blocks of 32 weights ..." before "Nearly lossless").
    opening: str = ""
    #: For a nested list item: every lead above it, outermost first (the last is :attr:`lead`):
    #: "Hugging Face", "It has 3 main features".
    leads: tuple[str, ...] = ()


def _leads(text: str) -> bool:
    """Whether a sentence of prose leads into the list after it: a lead-in ending with ":",
    or a line as short as a title (:data:`TITLE_WORDS`), with no full stop, that names what
    the list is about ("Hugging Face", "**Data Engineer** - Austin, TX")."""
    return text.endswith(":") or (
        len(text.split()) <= TITLE_WORDS and text[-1:] not in ".!?" and text[:1].isupper()
    )


# A statement opening with a label: "Title: Chief Executive Officer".
_FIELD_TEXT = re.compile(r"^[\w][\w &/'’()-]{0,40}:\s")
#: A title line over a paragraph has at most this many words.
TITLE_WORDS = 8


def is_title(line: str, capitalised: bool = True) -> bool:
    """A short line of prose with no punctuation at its end: a title over what follows it
    ("Step 2: Double Quantization"), not the start of a sentence. Where a line is known to
    head the lines under it (the first line of a list item), ``capitalised`` False accepts a
    learner's lower-case title too ("approximate GPU RAM for 1B parameters")."""
    words = line.split()
    return (
        0 < len(words) <= TITLE_WORDS
        and line.rstrip()[-1:] not in ".,;:!?"
        and (not capitalised or line.strip()[:1].isupper())
    )


def _title_over(run: list[tuple[int, str]], kind: str, after: list[tuple[int, str]]) -> bool:
    """Whether the prose gathered so far is a lone title line (:func:`is_title`) and the next
    line that is not blank is prose: the title of the paragraph that line opens, a blank line
    between them or not."""
    if kind != TEXT or len(run) != 1 or not is_title(run[0][1]):
        return False
    line = next((line for _, line in after if line.strip()), "")
    return bool(line) and not (
        _HEADING.match(line)
        or _ITEM.match(line)
        or _TABLE_ROW.match(line)
        or _FENCE.match(line)
        or _GAP.match(line)
        or _HR.match(line)
        or _FIELD.match(line)
        or is_title(line)
    )


def plain(text: str) -> str:
    """Inline markdown made plain: images and HTML dropped, links reduced to their text."""
    text = _IMAGE.sub("", text)
    text = _HTML_TAG.sub(" ", text)
    text = _LINK.sub(r"\1", text)
    text = _EMPHASIS.sub("", text)
    return _SPACES.sub(" ", text).strip()


_PUNCTUATION = re.compile(r"[^\w$%.]+|\.(?!\d)")


def comparable(text: str) -> str:
    """``text`` as two sentences are compared to tell whether one repeats the other: plain,
    without citations, punctuation or case, padded with a space each side so that
    ``comparable(a) in comparable(b)`` finds whole words only."""
    words = _PUNCTUATION.sub(" ", plain(strip_citations(text)).casefold()).split()
    return f" {' '.join(words)} "


def _starts_in_code(lines: list[str]) -> bool:
    """Whether a text begins inside a code block: an excerpt of a document cut in the middle
    of one. Its fences don't pair up, and the first is a bare one, closing (an opening fence
    usually names its language: ```sh)."""
    fences = []
    for line in lines:
        if _GAP.match(line):
            break
        if _FENCE.match(line):
            fences.append(line.strip())
    return len(fences) % 2 == 1 and fences[0] in ("```", "~~~")


def _lines(text: str) -> Iterator[tuple[int, str]]:
    offset = 0
    for line in text.splitlines(keepends=True):
        yield offset, line.rstrip("\r\n")
        offset += len(line)


def _split_run(text: str, start: int, lower_case_starts: bool) -> Iterator[tuple[int, int]]:
    """(start, end) of each sentence of one run of prose beginning at ``start``
    (``lower_case_starts``: as :func:`split_sentences`)."""
    ends = _END_BEFORE_LOWER_CASE if lower_case_starts else _END
    begin = 0
    for match in ends.finditer(text):
        end = match.end()
        before = text[begin : match.start() + 1]
        if abbreviated(before) and not (lower_case_starts and _LETTER_ENDING.search(before)):
            continue
        if text[begin:end].strip():
            yield start + begin, start + end
        begin = end
    if text[begin:].strip():
        yield start + begin, start + len(text)


def _cells(line: str) -> list[str]:
    return [plain(cell) for cell in line.strip().strip("|").split("|")]


def split_sentences(text: str, *, lower_case_starts: bool = False) -> list[Sentence]:
    """Every sentence of ``text``, in order, with where it is and what heading it is under.
    With ``lower_case_starts`` (an answer, or a text pasted to be checked), a full stop before
    a lower-case word ends a sentence."""
    sentences: list[Sentence] = []
    heading = ""
    outline: list[tuple[int, str]] = []  # (level, text) of the headings above, outermost first
    lead = ""  # the last sentence of prose ending with ":", which the list after it continues
    parents: list[tuple[int, str]] = []  # (indentation, first sentence) of the open items
    item_indent = 0  # the indentation of the item being gathered
    item_first = ""  # the first sentence of the item being gathered ("" before it is found)
    titles_lead = ""  # the lead-in whose items are title lines over paragraphs ("Step 1: …")
    record_head = ""  # a name line that the field lines after it are about
    block = 0
    header_cells: list[str] | None = None
    run: list[tuple[int, str]] = []  # (offset, line) of the prose or list item being gathered
    run_kind = TEXT
    previous_kind = ""

    def emit(start: int, end: int, kind: str, title_of: str = "") -> None:
        """Add the sentence at ``start:end``; ``title_of``: the lead-in whose list a title
        line ("Step 1: …") is an item of."""
        nonlocal lead, item_first, record_head
        # Leading/trailing blanks are outside the sentence, so a marked span is tight.
        raw = text[start:end]
        start += len(raw) - len(raw.lstrip())
        end -= len(raw) - len(raw.rstrip())
        cleaned = plain(text[start:end])
        if sum(ch.isalnum() for ch in cleaned) >= MIN_CHARS:
            chain = (
                (title_of,) if title_of else (*([lead] if lead else []), *(p for _, p in parents))
            )
            item_lead = chain[-1] if chain else ""
            if kind == ITEM:
                opening = item_first if not title_of else ""
            else:  # a field under the name it is about: "Jennifer Rodriguez" / "Title: CEO"
                opening = record_head if _FIELD_TEXT.match(cleaned) else ""
            sentences.append(
                Sentence(
                    cleaned,
                    start,
                    end,
                    kind,
                    heading,
                    block,
                    item_lead if kind == ITEM else "",
                    tuple(title for _, title in outline),
                    opening,
                    chain if kind == ITEM else (),
                )
            )
            if kind == ITEM and not item_first and not title_of:
                item_first = cleaned
            elif kind == TEXT:
                lead = cleaned if _leads(cleaned) else ""
                if not opening:
                    record_head = cleaned if is_title(cleaned) and ":" not in cleaned else ""

    def flush() -> None:
        nonlocal run, block, titles_lead
        if not run:
            return
        first_offset, first_line = run[0]
        if len(run) > 1 and is_title(first_line):
            # "Step 1: 4-bit NormalFloat" above its paragraph: a statement of its own. Over a
            # paragraph, an item of the list its lead-in announced ("… the 4 steps of QLoRA:");
            # opening a list item ("1. Retriever"), the item's first sentence.
            end = first_offset + len(first_line)
            if run_kind == TEXT:
                if lead and sentences and sentences[-1].text == lead:
                    titles_lead = lead
                emit(first_offset, end, ITEM if titles_lead else TEXT, titles_lead)
            else:
                emit(first_offset, end, ITEM)
            run = run[1:]
        first = run[0][0]
        last_offset, last_line = run[-1]
        for start, end in _split_run(
            text[first : last_offset + len(last_line)], first, lower_case_starts
        ):
            emit(start, end, run_kind)
        run = []
        if run_kind == TEXT:
            block += 1

    lines = list(_lines(text))
    in_code = _starts_in_code([line for _, line in lines])
    for number, (offset, line) in enumerate(lines):
        if _GAP.match(line):  # a new excerpt: it may begin inside code too, or not
            in_code = _starts_in_code([rest for _, rest in lines[number + 1 :]])
        if _FENCE.match(line):
            flush()
            in_code = not in_code
            continue
        if in_code:
            continue
        stripped = line.strip()
        if not stripped and _title_over(run, run_kind, lines[number + 1 :]):
            continue  # "Step 1: 4-bit NormalFloat", a blank line, its paragraph: one run
        if not stripped or _GAP.match(line) or _HR.match(line) or _EMPTY_ITEM.match(line):
            flush()
            if not stripped and previous_kind != ITEM:
                header_cells = None
                if previous_kind == ROW:
                    block += 1
            if _GAP.match(line) or _HR.match(line):
                block += 1
                lead = titles_lead = ""
                parents.clear()
            previous_kind = "" if not stripped and previous_kind != ITEM else previous_kind
            record_head = ""
            continue
        heading_match = _HEADING.match(line)
        if heading_match:
            flush()
            block += 1
            heading = plain(heading_match.group(2))
            level = len(heading_match.group(1))
            while outline and outline[-1][0] >= level:
                outline.pop()
            outline.append((level, heading))
            lead = titles_lead = ""
            parents.clear()
            emit(offset + heading_match.start(2), offset + heading_match.end(2), HEADING)
            block += 1
            previous_kind = HEADING
            continue
        if _TABLE_ROW.match(line):
            flush()
            if _TABLE_RULE.match(line):
                continue
            cells = _cells(line)
            if header_cells is None:
                header_cells = cells
                if previous_kind != ROW:
                    block += 1
            else:
                pairs = [
                    f"{name}: {cell}" if name and cell and name != cell else cell
                    for name, cell in zip(header_cells, cells, strict=False)
                ]
                cleaned = "; ".join(p for p in pairs if p)
                if sum(ch.isalnum() for ch in cleaned) >= MIN_CHARS:
                    sentences.append(
                        Sentence(
                            cleaned,
                            offset,
                            offset + len(line),
                            ROW,
                            heading,
                            block,
                            headings=tuple(title for _, title in outline),
                        )
                    )
            previous_kind = ROW
            continue
        header_cells = None
        item = _ITEM.match(line)
        if item:
            flush()
            indent = len(item.group(1).expandtabs(4))
            if previous_kind != ITEM:
                parents.clear()
            elif item_first:
                parents.append((item_indent, item_first))  # the item before, open until ...
            while parents and parents[-1][0] >= indent:
                parents.pop()  # ... an item as little indented as it begins
            item_indent, item_first = indent, ""
            if previous_kind != ITEM:
                block += 1
            run, run_kind = [(offset + item.end(), line[item.end() :])], ITEM
            previous_kind = ITEM
            continue
        if previous_kind == ITEM and run_kind == ITEM and run:
            run.append((offset, line))  # a list item's next line, indented or not
            continue
        if previous_kind == ITEM or (run and _FIELD.match(line)):
            flush()  # "**Contract Number:** ..." on its own line is a statement of its own
            parents.clear()
        if run_kind != TEXT:
            run_kind = TEXT
        run.append((offset, line))
        previous_kind = TEXT
    flush()
    return sentences
