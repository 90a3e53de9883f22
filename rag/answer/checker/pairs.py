"""Numbers a slash pairs ("$0.15 / $0.60") with the words a lead or header pairs the same way
("input / output"): the first number is the first word's, the second the second's. A claim
giving one word's number to the other swaps them ("input tokens cost $0.60")."""

from __future__ import annotations

import re

from rag.answer.checker.reading import Reading, read
from rag.answer.checker.words import stem

# "$0.15 / $0.60", "4 / 8": two numbers a slash sets side by side.
_NUMBER_PAIR = re.compile(
    r"(?<![\w.])\$?(\d[\d,]*(?:\.\d+)?)\s*/\s*\$?(\d[\d,]*(?:\.\d+)?)(?![\w.])"
)
# "input / output": two words a slash sets side by side.
_WORD_PAIR = re.compile(r"\b([A-Za-z]{3,})\s*/\s*([A-Za-z]{3,})\b")


def _value(written: str) -> str:
    """The number as the checker reads it ("0.60" is 0.6)."""
    found = read(written).numbers
    return next(iter(found)) if len(found) == 1 else written


def pair_conflict(claim: Reading, text: str, context: str) -> str:
    """Why the claim gives a number of a slashed pair to the other word of the pair its
    ``context`` (the unit's lead and headings, or its own text) names ("" if it doesn't)."""
    words = _WORD_PAIR.search(context) or _WORD_PAIR.search(text)
    pairs = _NUMBER_PAIR.findall(text)
    if words is None or len(pairs) != 1:
        return ""
    first, second = (stem(w.lower()) for w in words.groups())
    owner = dict(zip((first, second), (_value(n) for n in pairs[0]), strict=True))
    if owner[first] == owner[second]:
        return ""
    for quantity in claim.quantities:
        if quantity.number not in owner.values():
            continue
        # The word of the pair the claim writes nearer the number is the one it gives it to.
        near = {word: quantity.near.get(word, 0.0) for word in owner}
        word = max(near, key=near.get)
        if near[word] > min(near.values()) and owner[word] != quantity.number:
            return f"gives {owner[word]} there, not {quantity.number}"
    return ""
