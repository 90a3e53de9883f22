"""A claim's verdict against passages: supported, contradicted, or not in the notes.

The claim is aligned to the units of the passages that hold most of its terms and meaning
(:mod:`rag.answer.checker.align`). One unit supports it when it holds the claim's names and
numbers, enough of its other terms, a close meaning, and no rule finds that it says otherwise
(:mod:`rag.answer.checker.rules`). A unit that holds the claim's terms but says otherwise
contradicts it, as do two neighbouring units between which the claim mixes up what each says.
Thresholds are chosen on the ``dev`` half of ``tests/data/labels/claims.jsonl``
(``benchmarks/bench_grounding.py claims``; ``benchmarks/README.md``).
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

import numpy as np

from rag.answer.checker.align import Match, best_matches, key_weights
from rag.answer.checker.lexicon import LIGHT_VERBS
from rag.answer.checker.pairs import pair_conflict
from rag.answer.checker.periods import period_conflict
from rag.answer.checker.reading import Quantity, Reading, read
from rag.answer.checker.relations import (
    covariation_conflict,
    gloss_conflict,
    step_conflict,
    transition_conflict,
)
from rag.answer.checker.rules import (
    Weights,
    attribute_conflict,
    attribution_conflict,
    comparison_conflict,
    modifier_conflict,
    negation_conflict,
    number_conflict,
    parts_conflict,
    polarity_conflict,
    role_conflict,
)
from rag.answer.checker.units import Unit, source_units
from rag.core import CONTRADICTED, ITEM, NOT_IN_NOTES, SUPPORTED, Claim, Evidence, Passage

Embed = Callable[[Sequence[str]], np.ndarray]

#: Units the claim is judged against, best aligned first.
CANDIDATES = 4
#: A supporting unit holds at least this share of the claim's keys (terms, numbers, scales)...
MIN_SHARE = 0.5
#: ... and is at least this close in meaning (cosine).
MIN_SIMILARITY = 0.55
#: A unit this close in meaning (cosine) supports the claim holding only this share of its
#: keys: a paraphrase changes the words, not the meaning ("performs poorly after being shown
#: five or six examples" for "underperforms even with 5-6 examples"). The rules still read
#: it first.
PARAPHRASE_SIMILARITY = 0.8
PARAPHRASE_SHARE = 0.35
#: A claim's term the unit words otherwise is held when one of the unit's words embeds this
#: close to it ("simply" and "just", "chatbot" and "chat").
SYNONYM_SIMILARITY = 0.6
#: A unit holding this share of the claim's keys holds it however far their meanings are (a
#: long sentence that says much else embeds far from a short claim it holds).
HOLDING_SHARE = 0.8
#: A unit holding every term of the claim that the passages write anywhere supports it this
#: close in meaning (cosine), below :data:`MIN_SIMILARITY`.
KNOWN_TERMS_SIMILARITY = 0.45
#: A term is a subject a neighbour may be speaking of when few units of the passages hold it
#: in their own text: at most this many, or this share of them ("zero-shot" in one item; not
#: "model" or "use" in a unit of every three).
SUBJECT_UNITS = 2
SUBJECT_SHARE = 0.15
#: A unit that says otherwise contradicts the claim when it holds this share of its keys, as
#: much as a supporting one must hold (a unit holding half of "the knowledge base is a static
#: store that cannot be updated" and saying it is mutable speaks of it)...
MIN_CONTRADICTING_SHARE = MIN_SHARE
#: ... and is this close in meaning.
MIN_CONTRADICTING_SIMILARITY = 0.5


@dataclass(frozen=True)
class Judgement:
    """The verdict on one claim, the unit it rests on, and why."""

    verdict: str
    unit: Unit | None = None
    reason: str = ""

    def evidence(self) -> list[Evidence]:
        if self.unit is None:
            return []
        return [Evidence(self.unit.n, self.unit.text, self.unit.start, self.unit.end)]


class SourceUnits:
    """The units of the passages of one answer, read and embedded once."""

    def __init__(self, passages: Sequence[Passage], embed: Embed):
        self.units = source_units(passages)
        self.weights = key_weights(self.units)
        self.own_counts = Counter(t for u in self.units for t in set(u.reading.terms))
        self.embed = embed
        if self.units:
            # A unit's meaning alone and with its context: a bare item ("Nearly lossless") needs
            # its heading, while a long heading blurs a sentence that needs none.
            plain = np.asarray(embed([u.text for u in self.units]))
            placed = np.asarray(embed([u.embedded for u in self.units]))
            self.vectors = (plain, placed)
        else:
            self.vectors = (np.zeros((0, 1)), np.zeros((0, 1)))

    def rare(self, term: str) -> bool:
        """Whether few units hold ``term`` in their own text (:data:`SUBJECT_UNITS`)."""
        most = max(SUBJECT_UNITS, SUBJECT_SHARE * len(self.units))
        return self.own_counts.get(term, 0) <= most

    def matches(
        self, claim: Reading, vector: np.ndarray, among: Sequence[int] | None
    ) -> list[Match]:
        chosen = [i for i, u in enumerate(self.units) if among is None or u.n in among]
        units = [self.units[i] for i in chosen]
        plain, placed = (v[chosen] for v in self.vectors)
        similarity = np.maximum(plain @ vector, placed @ vector) if units else np.zeros(0)
        return best_matches(claim, units, similarity, CANDIDATES)


def _same_block(one: Unit, other: Unit) -> bool:
    """Whether two units stand in one list, table or paragraph of one passage."""
    return one.n == other.n and one.block == other.block


def _holds_name(name: str, unit: Unit) -> bool:
    """Whether the unit holds the name ("LLMs" and "LLM" are one name; "o1/o3" is held by
    "o1 / o3": each of its parts)."""
    if name in unit.words:
        return True
    if "/" in name:
        return all(_holds_name(part, unit) for part in name.split("/") if part)
    return bool({name.removesuffix("s"), f"{name}s"} & unit.words) or _misspelt(name, unit)


#: A name the unit misspells ("Google Colaab", "HugginFace") is held when the two spellings
#: are this alike; stricter than for terms: "Mistral" and "Mixtral" are two names.
NAME_TYPO_LIKENESS = 0.9


def _misspelt(name: str, unit: Unit) -> bool:
    """Whether the unit writes ``name`` (letters only, :data:`TYPO_LETTERS` or more) with a
    letter more, less or wrong."""
    if len(name) < TYPO_LETTERS or not name.isalpha():
        return False
    return any(
        word[:1] == name[0]
        and word.isalpha()
        and SequenceMatcher(None, name, word).ratio() >= NAME_TYPO_LIKENESS
        for word in unit.words
    )


def _missing_names(claim: Reading, unit: Unit) -> list[str]:
    """The claim's names the unit doesn't hold. A name of two words the unit writes as one
    ("Hugging Face" and "huggingface") is held."""
    missing = {name for name in claim.names if not _holds_name(name, unit)}
    for first, second in _NAME_PAIR.findall(claim.text):
        pair = {first.lower(), second.lower()}
        if pair <= missing and f"{first}{second}".lower() in unit.words:
            missing -= pair
    return sorted(missing)


#: Two capitalised words side by side (overlapping pairs are found one after another).
_NAME_PAIR = re.compile(r"(?=\b([A-Z][\w]*)[ -]([A-Z][\w]*)\b)")


def _missing_numbers(claim: Reading, unit: Unit) -> list[str]:
    held = unit.reading.numbers | unit.context_reading.numbers
    # "three steps" counts steps; "Step 3" names one of them and holds no count.
    named = {q.number for q in claim.quantities if _only_names(q, unit)}
    return sorted(claim.numbers - (held - named))


def _only_names(quantity: Quantity, unit: Unit) -> bool:
    """Whether the unit writes the number of a counting quantity ("three steps") only after
    the noun it counts, as the label of one of them ("Step 3: Paged Optimizer")."""
    if not quantity.counted:
        return False
    labelled = False
    for reading in (unit.reading, unit.context_reading):
        if any(q.number == quantity.number for q in reading.quantities):
            return False
        for before, token in itertools.pairwise(reading.tokens):
            if f"#{quantity.number}" in token.keys and quantity.counted & set(before.keys):
                labelled = True
    return labelled


#: A neighbour speaks of a term when it is among its first this many terms.
SUBJECT_TERMS = 2


def subject_elsewhere(claim: Reading, unit: Unit, sources: SourceUnits) -> Unit | None:
    """The unit beside ``unit`` (same list, table or paragraph) whose subject the claim
    speaks of while ``unit`` doesn't hold it: the claim mixes up what the two say.

    "Zero-shot means including examples" is not held by "Few-shot means including examples"
    when the next item is "Zero-shot means describing the task". A subject is a first term:
    a claim's (or the phrase that sets its scene), and a unit's when its label holds it
    ("Data Parallelism: ...")."""
    missing = {t for t in claim.terms if t not in unit.keys and sources.rare(t)}
    if not missing:
        return None
    first = claim.terms[0]
    # A claim that speaks of the unit's own subject too may name a neighbour's beside it
    # ("Llama 3 8B uses grouped-query attention with 32 query heads"): it adds to the unit,
    # it does not give the unit's words to the neighbour.
    speaks_of_unit = bool(unit.reading.terms) and unit.reading.terms[0] in claim.terms
    for other in sources.units:
        if other is unit or not _same_block(other, unit):
            continue
        own = other.reading.terms
        # The neighbour speaks of it: it names it first, or in its label ("Zero-shot means
        # describing the task"), not merely somewhere ("RAG works by stuffing passages").
        if first in missing and (first in own[:SUBJECT_TERMS] or first in other.label):
            return other
        if own and own[0] in missing & other.label and not speaks_of_unit:
            return other
        # Labels that differ by a word ("sample top K", "sample top P"): the claim names the
        # other's and not this one's.
        if (
            other.label
            and unit.label
            and (other.label - unit.label) & missing
            and not (unit.label - other.label) & set(claim.terms)
        ):
            return other
    return None


#: A claim's term is held by a unit's word this alike letter by letter (difflib's ratio), of
#: at least :data:`TYPO_LETTERS` letters and the same first letter: a learner's typo
#: ("compartible", "availabe", "tranformers").
TYPO_LIKENESS = 0.85
TYPO_LETTERS = 5


def _share_with_typos(claim: Reading, candidate: Match) -> float:
    """The share of the claim's keys the unit holds, counting a term the unit misspells as
    held. Only a term, never a name or a number."""
    words = [k for k in candidate.unit.keys if len(k) >= TYPO_LETTERS and k[0].isalpha()]
    found = sum(
        1
        for key in candidate.missing
        if len(key) >= TYPO_LETTERS
        and key[0].isalpha()
        and key not in claim.names
        and any(
            w[0] == key[0] and SequenceMatcher(None, key, w).ratio() >= TYPO_LIKENESS for w in words
        )
    )
    total = len(candidate.held) + len(candidate.missing)
    return (len(candidate.held) + found) / total if total else 1.0


def _share_with_synonyms(claim: Reading, candidate: Match, embed: Embed) -> float:
    """The share of the claim's keys the unit holds, counting a term the unit words otherwise
    (:data:`SYNONYM_SIMILARITY`) as held. Names and numbers must be there as written."""
    words = {}
    for token in claim.tokens:
        for key in token.keys:
            if key in candidate.missing and token.text.lower() not in claim.names:
                words.setdefault(key, token.text.lower())
    unit_words = sorted(
        {
            t.text.lower()
            for r in (candidate.unit.reading, candidate.unit.context_reading)
            for t in r.tokens
            if t.keys and not t.quantity
        }
    )
    if not words or not unit_words:
        return candidate.share
    vectors = np.asarray(embed(list(words.values()) + unit_words))
    closeness = vectors[: len(words)] @ vectors[len(words) :].T
    found = int((closeness.max(axis=1) >= SYNONYM_SIMILARITY).sum())
    total = len(candidate.held) + len(candidate.missing)
    return (len(candidate.held) + found) / total


def conflict(
    claim: Reading,
    unit: Unit,
    weights: Weights,
    numbers: bool = True,
    agreed: Reading | None = None,
) -> str:
    """Why the unit says otherwise than the claim ("" when no rule finds it does); with
    ``numbers`` False, numbers placed otherwise don't count; what ``agreed`` affirms or
    denies as the claim does is not denied by the unit (:func:`negation_conflict`)."""
    return (
        negation_conflict(claim, unit.reading, agreed)
        or polarity_conflict(claim, unit.reading, weights)
        or comparison_conflict(claim, unit.reading, weights)
        or modifier_conflict(claim, unit.reading)
        or transition_conflict(claim.transitions, unit.reading.transitions)
        or covariation_conflict(claim.covariations, unit.reading.covariations)
        or step_conflict(claim.steps, unit.reading.steps)
        # Steps the lead puts in order are what the unit goes on from ("These pieces are
        # then fed into the model. This combined approach ...").
        or step_conflict(claim.steps, unit.context_reading.steps)
        or role_conflict(claim, unit.reading)
        or attribution_conflict(claim, unit.reading)
        or gloss_conflict(claim.ties, unit.reading.glosses)
        or attribute_conflict(claim, unit.reading)
        or (numbers and period_conflict(claim, unit.reading))
        or (numbers and pair_conflict(claim, unit.text, unit.context))
        or (
            numbers
            and number_conflict(
                claim, unit.reading, weights, unit.label, unit.lead_reading, unit.title_reading
            )
        )
    )


def _held_by_context(claim: Reading, unit: Unit) -> bool:
    """Whether the unit holds most of the claim only through its headings and lead: its own
    text holds less than half of the claim's keys."""
    keys = set(claim.keys)
    return len(keys & set(unit.reading.keys)) < MIN_SHARE * len(keys)


def _context_conflict(claim: Reading, unit: Unit, weights: Weights) -> str:
    """Why the lead a unit holds the claim through says otherwise than the claim ("" if it
    doesn't): "Exceeding the context window is handled by ..." under "LLMs are stateless, so
    they don't keep track of any info" holds "LLMs keep track of information" only there. A
    heading is a title, not a statement: it is not read for what it denies."""
    lead = unit.lead_reading
    if lead is None:
        return ""
    return negation_conflict(claim, lead) or polarity_conflict(claim, lead, weights)


def _disagreement(claim: Reading, unit: Unit, sources: SourceUnits) -> tuple[str, Unit]:
    """Why the unit says otherwise than the claim ("" if it doesn't), and the unit that says
    it: the unit itself, or the item it goes on from when it holds the claim only through
    its lead (:func:`_context_conflict`)."""
    found = conflict(claim, unit, sources.weights)
    # A unit that lacks a name of the claim speaks of another thing: where it puts a number
    # says nothing of the claim's ("about 8.5 GB for an 8B model" under Q8_0 does not place
    # the 8 GB of "an 8B model in int8").
    if found and _missing_names(claim, unit):
        found = conflict(claim, unit, sources.weights, numbers=False)
    if found or not _held_by_context(claim, unit):
        return found, unit
    found = _context_conflict(claim, unit, sources.weights)
    if not found:
        return "", unit
    lead = next(
        (u for u in sources.units if u.n == unit.n and u.text and unit.lead.endswith(u.text)),
        unit,
    )
    return found, lead


def _words(text: str) -> str:
    """The words of a text, lower-cased and joined by single spaces (punctuation and markup
    dropped): a claim whose words run unbroken in a unit quotes it."""
    found = re.findall(r"\w+", text.lower())
    return f" {' '.join(found)} " if found else ""


def _as_written(text: str, found: list[str]) -> str:
    """Names and numbers as the claim writes them ("HumanEval", not "humaneval")."""
    shown = []
    for item in found:
        match = re.search(re.escape(item), text, re.IGNORECASE)
        shown.append(match.group(0) if match else item)
    return ", ".join(shown)


def _short(text: str, words: int = 8) -> str:
    parts = text.split()
    return " ".join(parts[:words]) + (" …" if len(parts) > words else "")


def judge(
    claim_text: str,
    vector: np.ndarray,
    sources: SourceUnits,
    among: Sequence[int] | None = None,
) -> Judgement:
    """The verdict on ``claim_text`` (embedded as ``vector``) against the units of the passages
    numbered ``among`` (all when None).

    The candidates are taken best aligned first; the first that supports the claim or says
    otherwise decides (a unit further from the claim can't outvote a closer one that
    disagrees)."""
    claim = read(claim_text)
    contradiction: Judgement | None = None
    lacking = ""
    words = _words(claim_text)
    candidates = sources.matches(claim, vector, among)
    for i, candidate in enumerate(candidates):
        unit = candidate.unit
        if words and words in _words(unit.text):
            return Judgement(SUPPORTED, unit)  # the unit says it word for word
        disagreement, speaker = _disagreement(claim, unit, sources)
        beside = None if disagreement else subject_elsewhere(claim, unit, sources)
        if disagreement or beside is not None:
            if (
                candidate.share >= MIN_CONTRADICTING_SHARE
                and candidate.similarity >= MIN_CONTRADICTING_SIMILARITY
                and contradiction is None
            ):
                if beside is not None:
                    reason = f'[{beside.n}] says this of another thing: "{_short(beside.text)}"'
                    contradiction = Judgement(CONTRADICTED, beside, reason)
                else:
                    contradiction = Judgement(
                        CONTRADICTED, speaker, f"[{speaker.n}] {disagreement}"
                    )
            continue
        missing = _missing_names(claim, unit) or _missing_numbers(claim, unit)
        if missing:
            lacking = lacking or f"{_as_written(claim_text, missing)} not found in the passages"
            continue
        share = candidate.share
        if share < MIN_SHARE and candidate.similarity >= MIN_SIMILARITY:
            share = _share_with_synonyms(claim, candidate, sources.embed)
        close = (share >= MIN_SHARE and candidate.similarity >= MIN_SIMILARITY) or (
            share >= PARAPHRASE_SHARE and candidate.similarity >= PARAPHRASE_SIMILARITY
        )
        holding = candidate.share >= HOLDING_SHARE or _holds_all_known(candidate, sources)
        if not (close or holding or _share_with_typos(claim, candidate) >= HOLDING_SHARE):
            continue
        if _lacks_what_its_examples_need(claim, candidate, sources):
            continue
        if contradiction is not None:
            break
        denial = _denied_elsewhere(claim, candidate, candidates[i + 1 :], sources)
        if denial is not None:
            return denial
        swap = _swapped_across_items(claim, unit, sources)
        if swap:
            return Judgement(CONTRADICTED, unit, f"[{unit.n}] {swap}")
        return Judgement(SUPPORTED, unit)
    if contradiction is not None:
        return contradiction
    return Judgement(NOT_IN_NOTES, None, lacking or "no passage says this")


def _lacks_what_its_examples_need(claim: Reading, candidate: Match, sources: SourceUnits) -> bool:
    """Whether the unit holds a name of the claim only as an example an item beside it gives
    (:attr:`Unit.examples`) while lacking a term of the claim that another item of the same
    list holds: the examples are of what this item's lead speaks of, not of what the other
    says ("GPT and BLOOM are pre-trained with masked language modeling" is not held by
    "pre-trained using Causal Language Modeling" beside "eg: GPT, BLOOM" when "pre-trained
    using Masked Language Modeling" is an item of the list too)."""
    unit = candidate.unit
    if not claim.names & unit.examples:
        return False
    lacking = {k for k in candidate.missing if k[:1] not in "#~"}
    return any(
        lacking & other.keys
        for other in sources.units
        if other is not unit and _same_block(other, unit)
    )


def _holds_all_known(candidate: Match, sources: SourceUnits) -> bool:
    """Whether the unit holds half the claim and every term of it the passages write at all,
    close enough in meaning (:data:`KNOWN_TERMS_SIMILARITY`): what it lacks are words the notes
    never use ("FAISS stands out as a library rather than a database" against "Options:
    Chroma, FAISS (a library, not a database), ..."; a list embeds far from one member)."""
    if candidate.share < MIN_SHARE or candidate.similarity < KNOWN_TERMS_SIMILARITY:
        return False
    return all(
        not key.startswith(("#", "~")) and not sources.own_counts.get(key)
        for key in candidate.missing
    )


#: The fewest terms of the claim its own item lacks and a sibling item holds, for the claim to
#: give that item's words to its own.
SWAPPED_ITEM_TERMS = 2


def _gives_siblings_words(claim: Reading, support: Match, other: Match, lacking: set[str]) -> bool:
    """Whether the claim names the label of its supporting item and says, in terms that item
    lacks, what an item beside it under another label says (:data:`SWAPPED_ITEM_TERMS`)."""
    return (
        len(lacking & other.held) >= SWAPPED_ITEM_TERMS
        and bool(support.unit.label & set(claim.terms))
        and _same_block(other.unit, support.unit)
    )


def _denied_elsewhere(
    claim: Reading, support: Match, others: Sequence[Match], sources: SourceUnits
) -> Judgement | None:
    """A contradiction by a unit after ``support`` that holds what the claim says and
    ``support`` lacks, a rare term or a direction ("it runs the functions itself", denied by
    "The model never executes anything itself" where the unit that best names functions says
    nothing of who runs them; "GQA ... increases memory use" against "GQA shares K/V heads to
    save memory")."""
    lacking = {
        k
        for k in support.missing
        if k[:1] == "~" or (k[:1] != "#" and k not in LIGHT_VERBS and sources.rare(k))
    }
    if not lacking:
        return None
    for other in others:
        if not lacking & other.held or other.share < MIN_CONTRADICTING_SHARE:
            continue
        # An item labelled otherwise by a word the claim doesn't say speaks of another thing
        # ("Multi Shot Prompting - Providing examples" beside "Zero shot prompting - You don't
        # give an example") ...
        other_label = other.unit.label - support.unit.label
        if support.unit.label and other_label and not other_label & set(claim.terms):
            # ... unless what the claim says, and its own item lacks, is that item's: the
            # claim gives it to the wrong one ("Verbosity bias is favouring its own model
            # family" beside "Self-preference: favours its own model family").
            if _gives_siblings_words(claim, support, other, lacking):
                reason = f'[{other.unit.n}] says this of another thing: "{_short(other.unit.text)}"'
                return Judgement(CONTRADICTED, other.unit, reason)
            continue
        if other.similarity < MIN_CONTRADICTING_SIMILARITY:
            continue
        # A number is placed by the unit that speaks of what it counts: the supporting one.
        # What the supporting unit says of a term, it says: another's word on it doesn't
        # turn that ("naive attention is O(n^2) in time and memory" is not denied by "never
        # materialising the full matrix in slow GPU memory").
        disagreement = conflict(
            claim, other.unit, sources.weights, numbers=False, agreed=support.unit.reading
        )
        if disagreement:
            return Judgement(CONTRADICTED, other.unit, f"[{other.unit.n}] {disagreement}")
    return None


def _swapped_across_items(claim: Reading, unit: Unit, sources: SourceUnits) -> str:
    """A swap between the items of the list ``unit`` is in ("the key represents what a token
    is looking for, and the query what it offers", against "Query (Q): what this token is
    looking for" / "Key (K): what this token offers to others"), each item read with its
    label ("" when there is none)."""
    if unit.kind != ITEM:
        return ""
    # The items whose labels the claim names: a swap between them gives one's to the other.
    terms = set(claim.terms)
    items = [u for u in sources.units if _same_block(u, unit) and u.label and u.label & terms]
    if len(items) < 2 or unit not in items:
        return ""
    # ... each in a part of its own ("X is A, and Y is B").
    named = [{i for i, u in enumerate(items) if u.label & tie} for tie in claim.ties]
    if sum(len(n) == 1 for n in named) < 2 or len(set().union(*named)) < 2:
        return ""
    return parts_conflict(claim, [set(u.reading.keys) | u.label for u in items])


class ClaimChecker:
    """Sentences checked against one set of passages: the passages are read and embedded once,
    then each sentence costs one embedding and the rules."""

    def __init__(self, passages: Sequence[Passage], embed: Embed):
        self.numbers = [p.n for p in passages]
        self.embed = embed
        self.sources = SourceUnits(passages, embed)

    def check(
        self, text: str, cited: Sequence[int] = (), vector: np.ndarray | None = None
    ) -> Claim:
        """The claim ``text`` makes, judged against the passages it cites first, then against
        all of them (the notes may hold it where it doesn't say). ``vector``: its embedding,
        when it was embedded with others."""
        if vector is None:
            vector = np.asarray(self.embed([text]))[0]
        cited = [n for n in cited if n in self.numbers]
        claim = self._judged(text, vector, cited)
        if claim.verdict != CONTRADICTED:
            part = self._contradicted_part(text)
            if part is not None:
                return _claim(text, cited or [part.unit.n], part)
        return claim

    def _judged(self, text: str, vector: np.ndarray, cited: list[int]) -> Claim:
        first = judge(text, vector, self.sources, among=cited) if cited else None
        if first is not None and first.verdict == SUPPORTED:
            return _claim(text, cited, first)
        anywhere = judge(text, vector, self.sources)
        if anywhere.verdict == SUPPORTED:
            return _claim(text, [anywhere.unit.n], anywhere)
        judged = first if first is not None and first.verdict == CONTRADICTED else anywhere
        if judged.verdict == NOT_IN_NOTES and first is not None:
            judged = first
        sources = cited or ([judged.unit.n] if judged.unit is not None else [])
        return _claim(text, sources, judged)

    def _contradicted_part(self, text: str) -> Judgement | None:
        """The verdict on a part of a contrasting claim ("X does A, while Y does B") that a
        unit contradicts, when one does: the whole may hold every term of one unit while
        each part, judged alone, says of its subject what the notes give another."""
        parts = contrasted_parts(text)
        if len(parts) < 2:
            return None
        vectors = np.asarray(self.embed(parts))
        for part, vector in zip(parts, vectors, strict=True):
            judged = judge(part, vector, self.sources)
            if judged.verdict == CONTRADICTED:
                return judged
        return None


#: Words that set two statements against each other: "X does A, while Y does B".
_CONTRAST = re.compile(r",?\s+\b(?:while|whereas|whilst)\b\s+", re.IGNORECASE)


def contrasted_parts(text: str) -> list[str]:
    """The statements a contrasting claim sets against each other (the claim itself when it
    sets none)."""
    return [part.strip() for part in _CONTRAST.split(text) if part.strip()]


def _claim(text: str, sources: Sequence[int], judged: Judgement) -> Claim:
    return Claim(
        text,
        list(sources),
        judged.verdict == SUPPORTED,
        judged.reason,
        judged.verdict,
        judged.evidence(),
    )
