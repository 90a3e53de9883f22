"""A sentence read for checking: its tokens (:mod:`rag.answer.checker.words`) grouped clause by
clause, with what each part affirms and denies, and what the rules compare.

A text is cut three ways, each for a rule (:mod:`rag.answer.checker.rules`):

- into **clauses**, at punctuation and at the words that open one ("while", "because",
  "than"): what a clause says of its subject stays together;
- clauses into **phrases**, at "and", "or", "with", " + " and slashes: what a number stands
  beside;
- into **ties**, at what opens a clause or joins two things but not at commas: what a claim
  says belongs together ("fine-tuning for knowledge" and "RAG for format" are two ties, "a
  high-level, easy-to-use API" one).
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from rag.answer.checker.lexicon import (
    BELIEF_VERBS,
    CIRCUMSTANCES,
    COMPARATIVES,
    DISTRIBUTIVES,
    GERUNDS,
    IDIOMS,
    INTENSIFIERS,
    NEEDING_VERBS,
    OBJECT_PRONOUNS,
    RELATION_WORDS,
    STATEMENT_VERBS,
    SUBJECT_NEGATIONS,
    SUBJECT_PRONOUNS,
)
from rag.answer.checker.relations import (
    Covariation,
    Pair,
    covariations,
    glosses,
    steps,
    term_keys,
    transitions,
)
from rag.answer.checker.words import IDIOM, Token, all_words, initials, names, stem, tokenize
from rag.core import strip_citations

#: What a number counts: at most this many words after it.
COUNTED_WORDS = 2
#: A direction word modifies a term at most this many tokens after it ("more advanced API").
MODIFIER_REACH = 2


@dataclass
class Phrase:
    """Part of a clause between "and", "or", "with" or a slash: what a number stands beside."""

    keys: set[str]
    quantities: set[str]
    #: Terms after a negation in it ("not for generation": generation), and terms before any
    #: (a term written twice may be in both).
    negated: set[str] = field(default_factory=set)
    affirmed: set[str] = field(default_factory=set)
    #: Whether it holds a negation.
    negation: bool = False
    #: The joining word before it ("and", "or", "with", "plus"; "" for the first, or after a
    #: slash): phrases joined by "and", "or" or " + " are members of one list.
    joined_by: str = ""
    #: The scales of its direction words a negation reaches ("not always faster": scope,
    #: speed).
    negated_scales: set[str] = field(default_factory=set)
    #: Whether it opens after a comma, as the next member of a list ("135M, 360M, 1.7B").
    after_comma: bool = False
    #: Terms of its words that another term follows: they qualify that word, naming a kind
    #: of it ("uncommon words", "unlabeled data"), rather than say something of it.
    kinds: set[str] = field(default_factory=set)


@dataclass
class Clause:
    """Part of a sentence between two clause breaks."""

    text: str
    #: Its terms, numbers (``#n``) and the scales of its direction words (``~speed``).
    keys: set[str]
    numbers: set[str]
    #: (scale, sign) of each direction word in it, in order.
    directions: list[tuple[str, int]]
    phrases: list[Phrase]
    #: Whether a comma opens it: "the frozen base is 4-bit, the LoRA adapters are trained in
    #: bf16" are two statements of one list.
    after_comma: bool = False
    #: scale -> the terms its direction words qualify ("far less memory": amount -> memori).
    qualified: dict[str, set[str]] = field(default_factory=dict)
    #: The full-stop sentence it is in (:attr:`Token.statement`).
    statement: int = 0

    @property
    def negated_scales(self) -> set[str]:
        """The scales of its direction words a negation reaches."""
        return {s for p in self.phrases for s in p.negated_scales}


@dataclass(frozen=True)
class Comparison:
    """ "A is faster than B", "A (successor of B)": two sides of a direction on a scale."""

    scale: str
    sign: int
    subject: frozenset[str]
    complement: frozenset[str]


@dataclass(frozen=True)
class Modifier:
    """A direction word and the term it qualifies: "fewer tokens", "low temperature"."""

    term: str
    scale: str
    sign: int
    #: The other keys of the tie it stands in: which thing's term it is ("low temperature for
    #: extraction" is not "higher temperature for creative writing").
    context: frozenset[str]


@dataclass(frozen=True)
class Quantity:
    """A number that counts something, and the words of its phrase."""

    number: str
    #: key -> how much of a word it is (the parts of a dashed name share one word).
    beside: dict[str, float]
    #: The same, divided by how many words away it stands: the word right after the number
    #: ("64 dimensions") weighs most.
    near: dict[str, float]
    #: What it counts: the keys of the words right after it ("448 multiple-choice questions").
    counted: frozenset[str] = frozenset()
    #: Whether it is written as a year ("2020", not "2,000"): it dates, it counts nothing.
    year: bool = False


@dataclass
class Reading:
    """What the checker reads in a sentence (or in a unit of a source)."""

    text: str
    tokens: list[Token]
    clauses: list[Clause]
    #: Stems of its content terms, in order of first appearance.
    terms: list[str]
    numbers: set[str]
    #: Proper names, acronyms, identifiers (lower-cased), as :func:`names` finds them.
    names: set[str]
    #: Every word-like token (lower-cased), names with their inner dashes and dots included.
    words: set[str]
    #: The keys of each part it ties together (see the module's doc).
    ties: list[set[str]]
    comparisons: list[Comparison]
    #: A direction word and the term it modifies ("fewer tokens").
    modifiers: list[Modifier]
    #: Each number that counts something, with the words beside it.
    quantities: list[Quantity]
    #: Each change "from A to B": the keys of A and of B.
    transitions: list[Pair] = field(default_factory=list)
    #: Each word glossed by the aside after it ("Haiku (fast, cheap)"): the word's keys and
    #: the aside's.
    glosses: list[Pair] = field(default_factory=list)
    #: Each thing said to move with another ("memory grows with context length", "the cache
    #: shrinks as the context grows"): the keys of the one, of the other, and +1 when they
    #: move the same way, -1 when opposite ways.
    covariations: list[Covariation] = field(default_factory=list)
    #: Each two steps it puts in order ("write a plan first, then execute"): the keys of the
    #: earlier and of the later.
    steps: list[Pair] = field(default_factory=list)

    @property
    def keys(self) -> list[str]:
        """What a source must hold to hold this: its content terms, its numbers (``#n``) and
        the scales its direction words are on (``~speed``: "slower" holds "faster" there, and
        the rules find that they disagree)."""
        scales = dict.fromkeys(f"~{t.direction[0]}" for t in self.tokens if t.direction)
        return self.terms + [f"#{n}" for n in sorted(self.numbers)] + list(scales)


def _phrase(tokens: list[Token]) -> Phrase:
    return Phrase(
        _keys_of(tokens),
        {n[1:] for t in tokens if t.quantity for n in t.keys if n.startswith("#")},
        joined_by=tokens[0].joined_by,
        after_comma=tokens[0].after_comma,
        kinds={
            k
            for word, after in itertools.pairwise(tokens)
            if after.keys and not after.quantity
            for k in word.keys
        },
    )


#: The most terms a phrase after "and" holds and still is denied by a negation before it.
DENIED_AFTER_AND = 2


def _negate(phrases: list[Phrase], groups: list[list[Token]]) -> set[int]:
    """What each phrase of a clause affirms and denies. A negation denies what follows it in
    its phrase and in the phrases joined to it ("never sees characters or words"), up to a
    pronoun that opens a statement of its own ("give no example and it works it out"). After
    "and", a phrase with a verb of being or having, or with more than
    :data:`DENIED_AFTER_AND` terms, says something of its own ("don't keep track of anything
    and each call is unique"), while a short one is another thing denied ("no images and
    audio")."""
    negated = False
    aside = 0  # the quotation or aside the negation stands in: it reaches no further
    word: int | None = None  # the word "non" is glued to: it reaches no further
    before: list[tuple[Phrase, Token]] = []
    said_since = 0  # the terms denied since the last negation
    no_reach: set[int] = set()  # "any" after a negation: it says "no", it reaches nowhere
    expecting = False  # just after a denied verb of expecting: its subject is still denied
    subject_denied = False  # the negation opens the clause as its subject ("None of ...")
    # A verb of being or having since the clause or a colon opened: a negation after it is
    # no subject ("there is no pad token", "they have no state").
    verb_said = False
    for phrase, tokens in zip(phrases, groups, strict=True):
        joined = tokens[0].joined_by
        terms = {k for t in tokens for k in t.keys if not k.startswith("#")}
        statement = (
            len(terms) > DENIED_AFTER_AND
            or any(t.text.lower() in STATEMENT_VERBS for t in tokens)
            # "... and every API call stands on its own": a new subject.
            or tokens[0].text.lower() in DISTRIBUTIVES
        )
        negated = negated and bool(joined) and (joined != "and" or not statement)
        for token in tokens:
            negated = negated and not (aside and token.aside != aside) and not token.after_colon
            # "instead of updating the matrix during fine-tuning" denies the updating, not
            # the fine-tuning it takes place in.
            negated = negated and token.text.lower() not in CIRCUMSTANCES
            verb_said = verb_said and not token.after_colon
            # "non-English text": "non" denies the word it is glued to, no further.
            negated = negated and not (word is not None and token.compound != word)
            # "bits that cannot be represented ... are simply discarded": a verb of being after
            # what the negation denied opens the sentence's own predicate.
            # Not after a negation that is the clause's subject: "None of the weights are
            # changed" denies "changed".
            # A gerund ("rather than the raw scores being added") is still what is denied.
            negated = negated and not (
                said_since
                and token.text.lower() in STATEMENT_VERBS - GERUNDS
                and not subject_denied
            )
            pronoun = (
                token.text.lower() in SUBJECT_PRONOUNS
                and (token.text.lower() not in OBJECT_PRONOUNS or token.after_comma)
                and not expecting
            )
            expecting = negated and token.text.lower() in BELIEF_VERBS | NEEDING_VERBS
            negated = (negated and not pronoun) or token.negation
            said_since = 0 if token.negation else said_since + bool(negated and token.keys)
            # What is expected is still to come: its verb of being is not the predicate.
            said_since = 0 if expecting else said_since
            if token.negation:
                subject_denied = token.text.lower() in SUBJECT_NEGATIONS and not verb_said
                aside = token.aside
                word = token.compound if token.text.lower() == "non" else None
                if before and before[-1][1].text.lower() in STATEMENT_VERBS:
                    # "self-attention with future elements is not allowed": the negation
                    # denies what is said of the subject, not the subject, which it neither
                    # affirms nor denies.
                    for earlier, said in before:
                        earlier.negated.update(k for k in said.keys if not k.startswith("#"))
            if token.text.lower() == "no" and before and before[-1][1].keys:
                # "they keep no information": "no" after a verb denies the verb too.
                earlier, verb = before[-1]
                if verb.text.lower() not in STATEMENT_VERBS:
                    said = {k for k in verb.keys if not k.startswith("#")}
                    earlier.affirmed.difference_update(said)
                    earlier.negated.update(said)
            phrase.negation = phrase.negation or token.negation
            terms = {k for k in token.keys if not k.startswith("#")}
            (phrase.negated if negated else phrase.affirmed).update(terms)
            before.append((phrase, token))
            verb_said = verb_said or token.text.lower() in STATEMENT_VERBS
            # "don't give any example": "any" after a negation says "no", not "all"; a
            # direction word dashed to the next word names a kind of thing ("cannot be
            # represented in the lower-precision format" says nothing of higher precision).
            turned = negated and token.direction and token.text.lower() != "any"
            if turned and not any(t.compound == token.compound and t is not token for t in tokens):
                phrase.negated_scales.add(token.direction[0])
            if negated and token.text.lower() == "any":
                no_reach.add(id(token))
    return no_reach


def _groups(tokens: Iterable[Token], attribute: str) -> list[list[Token]]:
    groups: dict[int, list[Token]] = {}
    for token in tokens:
        groups.setdefault(getattr(token, attribute), []).append(token)
    return [groups[i] for i in sorted(groups)]


def _clause(tokens: list[Token]) -> Clause:
    groups = _groups(tokens, "phrase")
    phrases = [_phrase(p) for p in groups]
    denied_any = _negate(phrases, groups)
    qualified: dict[str, set[str]] = {}
    for modifier in _modifiers(tokens):
        qualified.setdefault(modifier.scale, set()).add(modifier.term)
    # "without altering any parameters" points no way on the scope scale.
    pointing = [t for t in tokens if t.direction and id(t) not in denied_any]
    return Clause(
        " ".join(t.text for t in tokens),
        {k for t in tokens for k in t.keys} | {f"~{t.direction[0]}" for t in pointing},
        {k[1:] for t in tokens for k in t.keys if k.startswith("#")},
        [t.direction for t in pointing],
        phrases,
        tokens[0].after_comma,
        qualified,
        tokens[0].statement,
    )


def _comparisons(tokens: list[Token]) -> list[Comparison]:
    """Each "A ... -er than B", and each "A ... successor of B" (a relation word between two
    sides of one clause)."""
    found = []
    for i, token in enumerate(tokens):
        if token.text.lower() == "than" and (i == 0 or tokens[i - 1].clause != token.clause):
            # The direction word it compares by: the last comparative before it in its
            # sentence ("make better use of ... a long prompt than ..." compares by "better",
            # not "long"), else the last direction word.
            before = [j for j in range(i - 1, -1, -1) if tokens[j].sentence == token.sentence]
            pointing = [j for j in before if tokens[j].direction]
            for j in ([j for j in pointing if _comparative(tokens[j].text)] or pointing)[:1]:
                scale, sign = tokens[j].direction
                subject = [t for t in tokens[:j] if t.sentence == token.sentence]
                complement = [t for t in tokens[i:] if t.clause == token.clause]
                found.append(Comparison(scale, sign, _side_keys(subject), _side_keys(complement)))
        elif token.direction and token.text.lower() in RELATION_WORDS:
            subject = [t for t in tokens[:i] if t.sentence == token.sentence]
            complement = [t for t in tokens[i + 1 :] if t.clause == token.clause]
            if term_keys(subject) and term_keys(complement):
                scale, sign = token.direction
                found.append(Comparison(scale, sign, term_keys(subject), term_keys(complement)))
    return found


def _comparative(word: str) -> bool:
    """Whether a direction word compares: one of :data:`COMPARATIVES`, or a word of five
    letters or more ending in "-er" ("faster", "cheaper")."""
    lower = word.lower()
    return lower in COMPARATIVES or (lower.endswith("er") and len(lower) > len("ever"))


def _side_keys(tokens: list[Token]) -> frozenset[str]:
    """The keys of one side of a comparison, its direction words' stems among them: "at its
    start and end" is told from "in the middle" by "start" and "end"."""
    return term_keys(tokens) | {stem(t.text.lower()) for t in tokens if t.direction}


def _modifiers(tokens: list[Token]) -> list[Modifier]:
    """Each direction word followed closely by a term of its phrase, with its tie's keys."""
    ties = {i: _keys_of(group) for i, group in enumerate(_groups(tokens, "tie"))}
    by_tie = {
        group[0].tie: keys
        for keys, group in zip(ties.values(), _groups(tokens, "tie"), strict=True)
    }
    found = []
    for i, token in enumerate(tokens):
        if not token.direction or token.text.lower() in RELATION_WORDS:
            continue
        # "saves much memory": "much" says how much is saved, not how much memory there is.
        after = i and tokens[i - 1].direction and tokens[i - 1].phrase == token.phrase
        if after and token.text.lower() in INTENSIFIERS:
            continue
        for other in tokens[i + 1 : i + 1 + MODIFIER_REACH]:
            if other.phrase != token.phrase or other.direction:
                break
            terms = [k for k in other.keys if not k.startswith("#")]
            if terms:
                context = by_tie[token.tie] - {terms[0], f"~{token.direction[0]}"}
                found.append(Modifier(terms[0], *token.direction, frozenset(context)))
                break
    return found


def _keys_of(tokens: Iterable[Token]) -> set[str]:
    """The keys of some tokens, their direction words' scales included."""
    return {k for t in tokens for k in t.keys} | {
        f"~{t.direction[0]}" for t in tokens if t.direction
    }


def _quantities(tokens: list[Token]) -> list[Quantity]:
    """Each number that counts something, with the keys of its phrase, each weighing one
    word (the parts of a word joined by dashes, "all-MiniLM-L6-v2", share one), and again
    weighed by how near each stands: "8 KV heads for its 32 query heads" counts query heads
    with 32."""
    parts = Counter(t.compound for t in tokens if t.keys and not t.quantity)
    # Each token's place counted in words: a dashed word's parts share one.
    place, seen = [], set()
    for token in tokens:
        seen.add(token.compound)
        place.append(len(seen))
    found = []
    for i, token in enumerate(tokens):
        if not token.quantity:
            continue
        beside: dict[str, float] = {}
        near: dict[str, float] = {}
        for j, other in enumerate(tokens):
            if other.phrase != token.phrase or other is token:
                continue
            if other.quantity:
                # Another number written with its scale or unit ("a 70B model needs 40 GB")
                # places it by that written form.
                for key in other.keys:
                    if not key.startswith("#"):
                        beside[key] = max(beside.get(key, 0.0), 1.0)
                continue
            # What a number counts mostly follows it ("6 layers"): a word before it stands
            # one further off.
            distance = max(abs(place[j] - place[i]) + (j < i), 1)
            keys = list(other.keys) + ([f"~{other.direction[0]}"] if other.direction else [])
            weight = 1 / parts.get(other.compound, 1)
            for key in keys:
                beside[key] = max(beside.get(key, 0.0), weight)
                near[key] = max(near.get(key, 0.0), weight / distance)
        # What it counts: the words right after it, before any comma or other number.
        counted: set[str] = set()
        for j in range(i + 1, len(tokens)):
            other = tokens[j]
            if (
                other.phrase != token.phrase
                or other.quantity
                or other.after_comma
                or place[j] - place[i] > COUNTED_WORDS
            ):
                break
            counted.update(k for k in other.keys if not k.startswith("#"))
        if not counted and i >= 2 and tokens[i - 1].text.lower() == "of":
            # Nothing after it: what it measures is named just before "of" ("a factor of
            # eight"). Elsewhere a number may leave out what it counts ("the Diamond subset
            # has 198"): it counts nothing then.
            before = tokens[i - 2]
            if before.phrase == token.phrase and not before.quantity:
                counted.update(k for k in before.keys if not k.startswith("#"))
        found.extend(
            Quantity(key[1:], beside, near, frozenset(counted), _is_year(tokens, i))
            for key in token.keys
            if key.startswith("#")
        )
    return found


# A year as written: "2020", "1998".
_YEAR = re.compile(r"(?:19|20)\d\d")
#: Words a year follows: "by 2020", "since 2015", "August 2025" ("has 2000 questions" counts).
_BEFORE_YEARS = frozenset(
    """in by since until till from before after during of around circa early late mid as
    january february march april may june july august september october november december
    jan feb mar apr jun jul aug sep sept oct nov dec""".split()
)


def _is_year(tokens: list[Token], i: int) -> bool:
    """Whether the number token ``tokens[i]`` is a year: four digits as written, after a word
    that dates ("by 2020") or a possessive ("Tran's 2023 bonus"), or alone in brackets
    ("Kojima et al. (2022)")."""
    token = tokens[i]
    if not _YEAR.fullmatch(token.text):
        return False
    before = tokens[i - 1].text.lower() if i else ""
    opens_aside = bool(token.aside) and (i == 0 or tokens[i - 1].aside != token.aside)
    # "Emily Tran's 2023 bonus": a possessive dates what it owns.
    owned = before.endswith(("'s", "’s"))
    return before in _BEFORE_YEARS or opens_aside or owned


# "keeps the scores from growing" denies the growing: "from" there says "not".
# "stops the scores growing" too ("keeps the scores growing" says the opposite: "keep" needs
# its "from").
_KEEPS_FROM = re.compile(
    r"\b(keeps?|kept|keeping|stops?|stopped|stopping|prevents?|prevented|preventing)"
    r"((?:\s+\w+){1,3}?)\s+from\b(?=\s+\w+ing\b)"
    r"|\b(stops?|stopped|stopping|prevents?|prevented|preventing)"
    r"((?:\s+\w+){1,3}?)(?=\s+\w+ing\b)",
    re.IGNORECASE,
)


def _keeps_from(match: re.Match) -> str:
    verb, between = (match.group(1), match.group(2)) if match.group(1) else match.group(3, 4)
    return f"{verb}{between} not"


#: Readings remembered: the same passages come back for each sentence ``rag check`` checks.
READINGS = 8192


@lru_cache(maxsize=READINGS)
def read(text: str) -> Reading:
    """``text`` (a sentence, or a source's unit with its context) read for checking. The
    reading is shared by every caller that reads the same text: it is not to be changed."""
    text = _KEEPS_FROM.sub(_keeps_from, strip_citations(text))
    tokens = tokenize(IDIOM.sub(lambda m: IDIOMS[m.group(0).lower()], text))
    terms = list(dict.fromkeys(k for t in tokens for k in t.keys if not k.startswith("#")))
    return Reading(
        text,
        tokens,
        [_clause(c) for c in _groups(tokens, "clause")],
        terms,
        {k[1:] for t in tokens for k in t.keys if k.startswith("#")},
        names(text),
        all_words(text) | initials(tokens),
        [
            set(term_keys(t)) | {f"~{x.direction[0]}" for x in t if x.direction}
            for t in _groups(tokens, "tie")
        ],
        _comparisons(tokens),
        _modifiers(tokens),
        _quantities(tokens),
        transitions(tokens),
        glosses(tokens),
        covariations(tokens),
        steps(tokens),
    )
