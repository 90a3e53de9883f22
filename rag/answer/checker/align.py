"""Which unit of the sources a claim speaks of: the one sharing most of its terms and meaning.

Each unit is scored by the share of the claim's content terms it holds (in its text or its
context) and by the cosine of their embeddings; the claim is then judged against the best few,
one at a time (:mod:`rag.answer.checker.verdicts`).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from rag.answer.checker.reading import Reading
from rag.answer.checker.units import Unit

#: Weight of the term share in a unit's score; the embedding's cosine gets the rest.
TERM_WEIGHT = 0.5


@dataclass
class Match:
    """A unit and how much of a claim it holds."""

    unit: Unit
    #: The claim's content terms the unit holds (text or context), and those it lacks.
    held: set[str]
    missing: set[str]
    #: Cosine of the claim's and the unit's embeddings.
    similarity: float

    @property
    def share(self) -> float:
        total = len(self.held) + len(self.missing)
        return len(self.held) / total if total else 1.0

    @property
    def score(self) -> float:
        return TERM_WEIGHT * self.share + (1 - TERM_WEIGHT) * self.similarity


#: A term is held by another form of it that begins the same way: a compound or a derived
#: word ("chat" in "chatbot", "embed" in "embedding") when the shorter has this many letters.
MIN_PREFIX = 4


def held(key: str, keys: frozenset[str]) -> bool:
    """Whether ``keys`` hold ``key``, as written or in another form of it."""
    return key in keys or _held_in_another_form(key, keys)


@lru_cache(maxsize=65536)
def _held_in_another_form(key: str, keys: frozenset[str]) -> bool:
    if key[0] in "#~" or len(key) < MIN_PREFIX:
        return False
    return any(
        len(other) >= MIN_PREFIX
        and other[0] not in "#~"
        and (other.startswith(key) or key.startswith(other))
        for other in keys
    )


def match(claim: Reading, unit: Unit, similarity: float) -> Match:
    found = {k for k in claim.keys if held(k, unit.keys)}
    return Match(unit, found, set(claim.keys) - found, similarity)


def best_matches(
    claim: Reading, units: list[Unit], similarities: np.ndarray, count: int
) -> list[Match]:
    """The ``count`` units that hold most of the claim, best first (``similarities``: the
    cosine of the claim's embedding and each unit's)."""
    matches = [match(claim, u, s) for u, s in zip(units, similarities.tolist(), strict=True)]
    matches.sort(key=lambda m: -m.score)
    return matches[:count]


def key_weights(units: list[Unit]) -> dict[str, float]:
    """How much sharing each key tells: rare keys (a name, a number) far more than a term
    every unit holds ("model"); inverse document frequency over the units."""
    counts = Counter(key for unit in units for key in unit.keys)
    total = len(units)
    return {key: math.log((total + 1) / (count + 0.5)) for key, count in counts.items()}
