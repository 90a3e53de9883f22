"""A line of an answer computed from the lines above it, never a quote: a count, a total or an
average of the figures they show. It is written (:func:`computed_line`) and checked
(:func:`check_computed`) here, so that the extractive answer and the verifier agree on what such
a line is and whether its arithmetic holds.

The line says what it is and shows its working::

    Computed from the lines above (not a quote): average = ($2,500 + $3,000) / 2 = $2,750.
    Computed from the lines above (not a quote): total = 22,000 + 18,000 = 40,000.
    Computed from the lines above (not a quote): count = 3.

Each figure of the working must be shown on a line above of its own, a line citing its source;
a count counts those lines.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.core import citations, strip_citations

#: What opens a computed line.
COMPUTED = "Computed from the lines above (not a quote):"
AVERAGE = "average"
TOTAL = "total"
COUNT = "count"

# A figure: an optional currency, digits with thousands separators and decimals, an optional
# scale ($2M, 22k), and its unit glued after a slash ("/month") is left to the text around it.
_FIGURE = re.compile(r"(?<![\w.])([$€£])?(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?([kKMB])?(?!\w|[.,]\d)")
_SCALES = {"k": 1e3, "K": 1e3, "M": 1e6, "B": 1e9, "": 1.0}
_LINE = re.compile(
    re.escape(COMPUTED)
    + r"\s*(?P<op>average|total|count)\s*=\s*(?P<working>.+?)(?:\s*=\s*(?P<result>[^=]+?))?\s*\.?\s*$"
)


@dataclass(frozen=True)
class Figure:
    value: float
    #: As written ("$2,500").
    shown: str
    currency: str = ""


def figures(text: str) -> list[Figure]:
    """The figures written in ``text`` (citations left out), with their values."""
    found = []
    for match in _FIGURE.finditer(strip_citations(text)):
        currency, whole, decimals, scale = match.groups()
        value = float(whole.replace(",", "") + (decimals or "")) * _SCALES[scale or ""]
        found.append(Figure(value, match.group(0), currency or ""))
    return found


def _written(value: float, currency: str) -> str:
    """``value`` as a figure: thousands separated, cents only when there are any."""
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{currency}{text}"


def computed_line(lines: Sequence[str], operation: str, *, money: bool = False) -> str | None:
    """The line computing ``operation`` over ``lines`` (each an answer line citing its
    source): their count, or the total or average of the one figure each shows (with
    ``money``, the one amount of money). None when a line shows no such figure or several
    (what would be added is not plain), or the currencies differ."""
    if operation == COUNT:
        return f"{COMPUTED} {COUNT} = {len(lines)}." if lines else None
    shown = []
    for line in lines:
        found = [f for f in figures(line) if f.currency or not money]
        if len(found) != 1:
            return None
        shown.append(found[0])
    if len(shown) < 2 or len({f.currency for f in shown}) != 1:
        return None
    currency = shown[0].currency
    total = sum(f.value for f in shown)
    working = " + ".join(f.shown for f in shown)
    if operation == TOTAL:
        return f"{COMPUTED} {TOTAL} = {working} = {_written(total, currency)}."
    if operation == AVERAGE:
        average = total / len(shown)
        return f"{COMPUTED} {AVERAGE} = ({working}) / {len(shown)} = {_written(average, currency)}."
    return None


def is_computed(line: str) -> bool:
    """Whether ``line`` is a computed line (:data:`COMPUTED`)."""
    return line.strip().startswith(COMPUTED)


@dataclass(frozen=True)
class ComputedCheck:
    """A computed line and whether its arithmetic holds against the lines above it."""

    line: str
    operation: str
    holds: bool
    #: Why it doesn't hold ("" when it does).
    reason: str = ""


def check_computed(answer: str) -> list[ComputedCheck]:
    """Each computed line of ``answer``, checked: every figure of its working is shown on a
    cited line above of its own, the arithmetic is right to the cent, and a count is the
    number of cited lines above."""
    checks = []
    above: list[str] = []
    for line in answer.splitlines():
        if not is_computed(line):
            if citations(line):
                above.append(line)
            continue
        checks.append(_check(line.strip(), above))
    return checks


def _check(line: str, above: Sequence[str]) -> ComputedCheck:
    match = _LINE.match(line)
    if not match:
        return ComputedCheck(line, "", False, "not a count, total or average it can read")
    operation, working, result = match.group("op"), match.group("working"), match.group("result")
    if operation == COUNT:
        counted = figures(working)
        holds = len(counted) == 1 and counted[0].value == len(above)
        reason = "" if holds else f"there are {len(above)} cited lines above"
        return ComputedCheck(line, operation, holds, reason)
    operands = figures(working.split("/")[0] if operation == AVERAGE else working)
    divisor = figures(working.split("/")[-1]) if operation == AVERAGE else []
    stated = figures(result or "")
    if not operands or len(stated) != 1 or (operation == AVERAGE and len(divisor) != 1):
        return ComputedCheck(line, operation, False, "its working can't be read")
    unused = list(above)
    for operand in operands:
        source = next((a for a in unused if operand.value in (f.value for f in figures(a))), None)
        if source is None:
            return ComputedCheck(line, operation, False, f"{operand.shown} is on no line above")
        unused.remove(source)
    expected = sum(f.value for f in operands)
    if operation == AVERAGE:
        if divisor[0].value != len(operands):
            return ComputedCheck(line, operation, False, "it divides by another count")
        expected /= len(operands)
    holds = abs(stated[0].value - expected) < 0.005 + 1e-9 * abs(expected)
    reason = "" if holds else f"the {operation} is {_written(expected, operands[0].currency)}"
    return ComputedCheck(line, operation, holds, reason)
