"""How often a sentence says something recurs ("monthly", "each quarter", "bi-weekly"), and the
rule that a claim's period is not the unit's: a period is a value, as a number is, and two
differ ("feature releases arrive monthly" against "Quarterly feature releases")."""

from __future__ import annotations

import re

from rag.answer.checker.lexicon import PERIOD_WORDS, PERIODS
from rag.answer.checker.reading import Reading

_PERIOD = re.compile(
    r"\b(?:(bi[\s-]?weekly|" + "|".join(PERIOD_WORDS) + r")"
    r"|(?:per|each|every|an?)\s+(" + "|".join(PERIODS) + r")|/\s?(" + "|".join(PERIODS) + r"))\b",
    re.IGNORECASE,
)
#: The keys a claim's clause and a unit's must share, beyond the period words, to speak of the
#: same thing.
PERIOD_SHARED_KEYS = 2


def periods(text: str) -> set[str]:
    """The periods ``text`` says something recurs at ("two weeks" for "bi-weekly")."""
    found = set()
    for match in _PERIOD.finditer(text):
        word = match.group(1)
        if word:
            word = re.sub(r"[\s-]", "", word.lower())
            found.add(PERIOD_WORDS.get(word, "two weeks"))
        else:
            found.add((match.group(2) or match.group(3)).lower())
    return found


def period_conflict(claim: Reading, unit: Reading) -> str:
    """Why the unit gives what the claim says another period ("" if it doesn't): a clause of
    the unit sharing the claim clause's words says it recurs at another period, and the unit
    never says the claim's."""
    anywhere = periods(unit.text)
    if not anywhere:
        return ""
    for clause in claim.clauses:
        ours = periods(clause.text)
        if not ours or ours & anywhere:
            continue
        keys = {k for k in clause.keys if k[:1] not in "#~"}
        for other in unit.clauses:
            theirs = periods(other.text)
            if theirs and len(keys & other.keys) >= PERIOD_SHARED_KEYS:
                return f"says every {', '.join(sorted(theirs))} there, not every {', '.join(sorted(ours))}"
    return ""
