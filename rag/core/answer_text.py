"""What an answer's text holds, defined once for all who write or read answers: its citations
(``[3]``, ``[1, 2]``, ``[1; 2]``, ``[1][2]``), its numbers, and the app's refusal.

The extractive answer and the verifier write citations; the renderer links them; the answer
metrics count them and the numbers; the follow-up query and the sentence splitter step over
them. One definition keeps them agreeing on what ``[1, 2]`` or ``1,300`` is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from decimal import Decimal

#: A citation mark as a regular expression: one or several source numbers in brackets.
CITATION_MARK = r"\[\d{1,3}(?:\s*[,;]\s*\d{1,3})*\]"
_CITATION = re.compile(r"\[(\d{1,3}(?:\s*[,;]\s*\d{1,3})*)\]")
_SPACED_CITATION = re.compile(r"\s*" + CITATION_MARK)
_SEPARATOR = re.compile(r"\s*[,;]\s*")
# Digits with their separators: 1,300 / 0.75 / 2017 / 3.5.1 (units and suffixes are not part
# of it); a number glued to a word ("llama3") or after a decimal point is not one of its own.
_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*")
_THOUSANDS = re.compile(r"\d{1,3}(?:,\d{3})+")
_REFUSAL = re.compile(
    r"\b(?:notes|sources?)\s+(?:don['’]t|do\s+not|doesn['’]t|does\s+not)\s+"
    r"(?:say|cover|mention|contain)",
    re.I,
)

#: What a model is asked to reply when its sources don't hold the answer.
NOTES_DONT_SAY = "The notes don't say."


def cite(numbers: Iterable[int]) -> str:
    """The marks citing ``numbers``: ``[2]``, ``[1][3]``."""
    return "".join(f"[{n}]" for n in numbers)


def citations(text: str) -> list[int]:
    """The source numbers cited in ``text``, in order, once per mention."""
    return [int(n) for group in _CITATION.findall(text) for n in _SEPARATOR.split(group)]


def strip_citations(text: str) -> str:
    """``text`` without its citation marks (nor the space before each)."""
    return _SPACED_CITATION.sub("", text)


def replace_citations(text: str, replace: Callable[[list[int]], str]) -> str:
    """``text`` with each citation mark replaced by ``replace(its numbers)``."""
    return _CITATION.sub(
        lambda match: replace([int(n) for n in _SEPARATOR.split(match.group(1))]), text
    )


def numbers(text: str) -> list[str]:
    """The numbers written in ``text``, in order, citations left out; thousands separators
    dropped (131,072 is 131072), other separators kept (3.5, 1,2)."""
    found = []
    for match in _NUMBER.finditer(strip_citations(text)):
        value = match.group(0).rstrip(".,")
        found.append(value.replace(",", "") if _THOUSANDS.fullmatch(value) else value)
    return found


#: What a scale written after a number multiplies it by: "128k", "16.8M", "70B", "2 million",
#: "15 cents".
SCALES = {
    "k": 10**3,
    "thousand": 10**3,
    "m": 10**6,
    "million": 10**6,
    "b": 10**9,
    "bn": 10**9,
    "billion": 10**9,
    "t": 10**12,
    "trillion": 10**12,
    # "15 cents" is $0.15.
    "cents": Decimal("0.01"),
}
#: Numbers written as words (not "one": "one tokenizer for another model" counts nothing).
NUMBER_WORDS = (
    {
        word: str(value)
        for value, word in enumerate(
            """two three four five six seven eight nine ten eleven twelve thirteen fourteen
        fifteen sixteen seventeen eighteen nineteen""".split(),
            start=2,
        )
    }
    | {
        word: str(10 * tens)
        for tens, word in enumerate(
            "twenty thirty forty fifty sixty seventy eighty ninety".split(), 2
        )
    }
    | {"hundred": "100"}
)


def scaled(number: str, scale: str) -> str:
    """``number`` (as :func:`numbers` writes it) times the :data:`SCALES` word or letter
    ``scale`` ("128", "k" -> "128000"; "16.8", "M" -> "16800000"); ``number`` itself when
    ``scale`` is no scale."""
    factor = SCALES.get(scale.lower())
    if factor is None or not re.fullmatch(r"\d+(?:\.\d+)?", number):
        return number
    return format((Decimal(number) * factor).normalize(), "f")


def not_covered(reason: str) -> str:
    """The app's answer when the notes don't answer: ``The notes don't cover this: REASON``."""
    return f"The notes don't cover this: {reason}"


def is_refusal(text: str) -> bool:
    """Whether ``text`` says the notes don't answer (the app's own answer, or a model's
    :data:`NOTES_DONT_SAY`)."""
    return bool(_REFUSAL.search(text))
