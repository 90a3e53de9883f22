"""How a sentence relates two things it names: a change from one to another ("from FP32 to
INT8"), steps in order ("write a plan first, then execute"), things that move together ("the
KV cache grows with context length"), and words glossed in brackets ("Haiku (fast, cheap)").

Each reader takes a sentence's tokens and gives what :class:`~rag.answer.checker.reading.
Reading` keeps; each rule compares a claim's reading with a unit's and says why they disagree
("" when they don't).
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable

from rag.answer.checker.lexicon import (
    CHANGE_VERBS,
    COVARYING,
    FIRST_STEPS,
    LATER_STEPS,
    START_STEPS,
    STEP_OPENERS,
    SUBJECT_PRONOUNS,
)
from rag.answer.checker.words import Token, stem, tokenize

#: Two things, as the keys of each.
Pair = tuple[frozenset[str], frozenset[str]]
#: Two things that move together, and +1 when the same way, -1 when opposite ways.
Covariation = tuple[frozenset[str], frozenset[str], int]


def term_keys(tokens: Iterable[Token]) -> frozenset[str]:
    """The keys of some tokens."""
    return frozenset(k for t in tokens for k in t.keys)


#: The side of a change "from A to B" holds at most this many words.
SIDE_WORDS = 6


#: What a verb of change names before "into" ("converts high-precision values such as FP32 or
#: FP16 into ...") is at most this many words.
CHANGED_WORDS = 12


def transitions(tokens: list[Token]) -> list[Pair]:
    """Each "from A to B" (or "into B") of one sentence, and each "converts A into B": what
    changes into what ("switching from FP32 to INT8", "from 32-bit floats into lower
    precision", "turns FP32 values into INT8")."""
    found = []
    for i, token in enumerate(tokens):
        if token.text.lower() != "from" and stem(token.text.lower()) not in CHANGE_VERBS:
            continue
        sentence = [t for t in tokens[i + 1 :] if t.sentence == token.sentence]
        verb = token.text.lower() != "from"
        into = ("into",) if verb else ("to", "into")
        ends = [j for j, t in enumerate(sentence) if t.text.lower() in into]
        if not ends or ends[0] > (CHANGED_WORDS if verb else SIDE_WORDS):
            continue
        after = sentence[ends[0] + 1 : ends[0] + 1 + SIDE_WORDS]
        start = term_keys(sentence[: ends[0]])
        # What it changes into is read in the clause "to" or "into" stands in: a comma
        # between the start's words ("from a lean, profitable company into ...") ends none.
        end = term_keys(t for t in after if t.clause == sentence[ends[0]].clause)
        if start and end:
            found.append((start, end))
    return found


# The keys of the step words themselves ("afterwards" is no part of a step).
_SEQUENCE = frozenset(k for w in FIRST_STEPS | LATER_STEPS for k in term_keys(tokenize(w)))


def glosses(tokens: list[Token]) -> list[Pair]:
    """Each word an aside in brackets glosses, with the aside: "Haiku (fast, cheap), Sonnet
    (balanced), Opus (largest)" says which is fast and which is largest. A quotation glosses
    nothing."""
    found = []
    for i, (before, token) in enumerate(itertools.pairwise(tokens), 1):
        if token.bracketed and not before.aside and before.keys:
            # A name defined in quotes inside the brackets is part of the gloss: "Insurellm
            # (the "Provider")".
            aside = list(itertools.takewhile(lambda t: t.aside, tokens[i:]))
            if len(aside) == 1 and token.text.isupper():
                continue  # an acronym names its head: "large language model (LLM)"
            said = term_keys(aside) | {f"~{t.direction[0]}" for t in aside if t.direction}
            head = frozenset(k for k in before.keys if not k.startswith("#"))
            # A citation ("Yao et al., 2022") glosses nothing.
            if head and said and not any(k.startswith("#") for k in said):
                found.append((head, frozenset(said), before.sentence))
    # Glosses tell things apart where one sentence glosses several.
    per_sentence = Counter(sentence for _, _, sentence in found)
    return [(head, said) for head, said, sentence in found if per_sentence[sentence] > 1]


def covariations(tokens: list[Token]) -> list[Covariation]:
    """Each "A grows with B" or "A shrinks as B grows" of a clause: a direction word right
    before "with" or "as", the terms before it (A) and after (B), and the sign of the second
    direction word, if any, after the connector (none: B grows)."""
    found = []
    for i, token in enumerate(tokens):
        # "with" joins phrases and is no token: the token after it carries it.
        joined = token.joined_by in COVARYING
        if not (token.text.lower() in COVARYING or joined) or i == 0:
            continue
        moving = [
            j
            for j in range(max(0, i - 2), i)
            if tokens[j].direction and tokens[j].clause == token.clause
        ]
        if not moving:
            continue
        clause = [j for j, t in enumerate(tokens) if t.clause == token.clause]
        before = [tokens[j] for j in clause if j < moving[-1]]
        if not term_keys(before) and clause[0] > 0:
            # "the KV cache, which grows with ...": what moves is what the clause before ends on.
            last = tokens[clause[0] - 1]
            before = [t for t in tokens if t.clause == last.clause and t.phrase == last.phrase]
        after = [tokens[j] for j in clause if j >= i + (not joined)]
        then = next((t.direction[1] for t in after if t.direction), 1)
        one, other = term_keys(before), term_keys(after)
        if not other and after and after[0].text.lower() in SUBJECT_PRONOUNS:
            # "max_length: ...; memory grows with it": "it" is what the label names.
            other = term_keys(_label(tokens))
        if one and other:
            found.append((one, other, tokens[moving[-1]].direction[1] * then))
    return found + _caused_changes(tokens)


def _label(tokens: list[Token]) -> list[Token]:
    """The tokens before the sentence's first colon ("max_length: ..."), none if it has none."""
    colon = next((i for i, t in enumerate(tokens) if t.after_colon), 0)
    return tokens[:colon]


def _caused_changes(tokens: list[Token]) -> list[Covariation]:
    """Each "Increasing A reduces B" of a clause: a direction word ending in "-ing" opening it,
    the terms up to the next direction word (A), and those after (B), which moves with A."""
    found = []
    for i, token in enumerate(tokens):
        opens = i == 0 or tokens[i - 1].clause != token.clause
        if not (opens and token.direction and token.text.lower().endswith("ing")):
            continue
        clause = [j for j in range(i + 1, len(tokens)) if tokens[j].clause == token.clause]
        turn = next((j for j in clause if tokens[j].direction and term_keys(tokens[i + 1 : j])), 0)
        if not turn:
            continue
        moving = term_keys(tokens[i + 1 : turn])
        moved = term_keys([tokens[j] for j in clause if j > turn])
        if moving and moved:
            found.append((moved, moving, token.direction[1] * tokens[turn].direction[1]))
    return found


def steps(tokens: list[Token]) -> list[Pair]:
    """The steps a sentence puts in order, earlier and later, when a word says so ("write a
    plan first, then execute the steps"; "execute the steps first and write the plan
    afterwards"; "researcher, then writer, then reviewer"). Parts are cut at phrase and clause
    breaks and before "then"; a part holding "first" comes before the parts beside it, one
    holding "then", "afterwards", "later" or "finally" after the part before it."""
    parts: list[tuple[list[Token], int]] = []  # (tokens, sign: -1 first, +1 later, 0 none)
    last: Token | None = None
    for token in tokens:
        word = token.text.lower()
        new = (
            last is None
            or token.phrase != last.phrase
            or token.clause != last.clause
            or word in STEP_OPENERS
        )
        if new:
            # "start with an open model and only move to ...": the step after "start" is first.
            after_start = bool(parts) and parts[-1][0][-1].text.lower() in START_STEPS
            parts.append(([], -1 if after_start else 0))
        part, sign = parts[-1]
        part.append(token)
        if word in LATER_STEPS:
            sign = 1
        elif word in FIRST_STEPS and sign == 0:
            sign = -1
        parts[-1] = (part, sign)
        last = token
    found = []
    for (first, first_sign), (second, second_sign) in itertools.pairwise(parts):
        if first_sign == -1 or second_sign == 1:
            earlier, later = term_keys(first) - _SEQUENCE, term_keys(second) - _SEQUENCE
            if earlier and later:
                found.append((earlier, later))
    return found


def gloss_conflict(ties: list[set[str]], glosses: list[Pair]) -> str:
    """What the unit's bracket gives one thing that the claim gives another ("" if nothing):
    "Opus is the fast, cheap model" against "Haiku (fast, cheap), Sonnet (balanced), Opus
    (largest)". The claim names the one and not the other, and none of the one's own gloss.
    ``ties``: what the claim ties together; ``glosses``: the unit's."""
    for tie in ties:
        named = [(head, gloss) for head, gloss in glosses if head & tie]
        # What the things the claim names are glossed with is theirs to say.
        theirs = {k for head, gloss in named for k in head | gloss}
        if not any(not gloss & tie for _, gloss in named):
            continue
        for other_head, other_gloss in glosses:
            if not other_head & tie and (other_gloss - theirs) & tie:
                return "gives it what the notes give another"
    return ""


def covariation_conflict(claim: list[Covariation], unit: list[Covariation]) -> str:
    """Two things the claim says move one way together that the unit says move the other way
    ("" if none): "the KV cache shrinks as the context grows" against "the KV cache, which
    grows with context length"."""
    for ours_one, ours_other, ours in claim:
        for theirs_one, theirs_other, theirs in unit:
            if ours_one & theirs_one and ours_other & theirs_other and ours != theirs:
                return "says they move the other way"
    return ""


def step_conflict(claim: list[Pair], unit: list[Pair]) -> str:
    """Two steps the claim puts in one order that the unit puts in the other ("" if none):
    "execute the steps first and write the plan afterwards" against "write a plan first, then
    execute steps". Each side must share a term with the unit's other side, and more with it
    than with the unit's same side (the subject may be in both: "the model")."""
    for ours_first, ours_then in claim:
        for theirs_first, theirs_then in unit:
            straight = len(ours_first & theirs_first) + len(ours_then & theirs_then)
            crossed = len(ours_first & theirs_then) + len(ours_then & theirs_first)
            if ours_first & theirs_then and ours_then & theirs_first and crossed > straight:
                return "puts the steps the other way round"
    return ""


def transition_conflict(claim: list[Pair], unit: list[Pair]) -> str:
    """A change the claim says runs from A to B that the unit says runs from B to A ("" if
    not): "switching from INT8 to FP32" against "switching from FP32 to INT8"."""
    for ours_from, ours_to in claim:
        for theirs_from, theirs_to in unit:
            straight = len(ours_from & theirs_from) + len(ours_to & theirs_to)
            crossed = len(ours_from & theirs_to) + len(ours_to & theirs_from)
            if crossed > straight:
                return "says the change runs the other way"
    return ""
