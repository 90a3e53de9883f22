"""An extractive answer written out: one line for each line chosen (:mod:`rag.answer.selection`),
each ending with the [n] of its passage, and what each sentence is as a claim with its evidence.

A line reads alone: what places it comes first ("Maxine Thompson — Current Salary: $120,000."),
a list's lead-in is followed by its items on the same line ("It has 3 main features: Models -
Over 800,000 open source models; Datasets - About 200,000 datasets; …"), a later sentence of a
list item follows its item's label ("Q8_0: Nearly lossless; about 8.5 GB for an 8B model.").
"""

from __future__ import annotations

from collections.abc import Sequence

from rag.answer.lines import Line
from rag.core import Claim, Evidence, cite

#: Between what places a line and the line ("Maxine Thompson — Current Salary: …").
PLACE_MARK = " — "


def _ended(text: str) -> str:
    text = text.rstrip()
    return text if text[-1:] in ".!?" else f"{text}."


def line_text(line: Line) -> str:
    """A line as shown, without its [n]."""
    texts = [c.text.rstrip() for c in line.sentences]
    if line.listed:
        # A lead-in and its items, or items under their lead-in's words (``intro``).
        head, items = (line.intro, texts) if line.intro else (texts[0], texts[1:])
        items = [item.rstrip(".;:") for item in items]
        body = f"{head.rstrip(':')}: {'; '.join(items)}" if head else "; ".join(items)
    else:
        said = " ".join(_ended(text) for text in texts)
        body = f"{line.intro}: {said}" if line.intro else said
    body = _ended(body)
    return f"{line.places}{PLACE_MARK}{body}" if line.places else body


def format_answer(lines: Sequence[Line]) -> str:
    """Each line followed by the [n] of its passage."""
    return "\n".join(f"{line_text(line)} {cite([line.n])}" for line in lines)


def claims_of(lines: Sequence[Line]) -> list[Claim]:
    """Each sentence shown, as a claim held by its passage: the notes' own words, with where
    they stand in the passage's body (the evidence a reader is shown)."""
    return [
        Claim(
            c.text,
            [line.n],
            True,
            "",
            evidence=[Evidence(line.n, c.text, c.sentence.start, c.sentence.end)],
        )
        for line in lines
        for c in line.sentences
    ]
