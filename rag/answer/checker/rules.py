"""What makes a unit that holds a claim's words say something else: the rules.

Each rule compares the claim with one unit of a source, clause by clause, and returns why they
disagree (empty when they don't):

- **polarity and direction**: a clause of the claim and the clause of the unit that holds most
  of its terms must point the same way on every scale both use (more/less, faster/slower,
  before/after, open/closed, all/only), each direction word read with the negation that
  reaches it ("not always faster" against "always faster");
- **roles**: two terms the claim puts in one clause must not stand in different clauses of
  the unit, each beside a term the claim puts elsewhere (a swap: "cl100k_base is GPT-4o's"
  where the unit says "cl100k_base (GPT-4) ..., o200k_base (GPT-4o) ...");
- **changes**: what the claim says changes from A to B must not run from B to A in the unit;
- **numbers**: a number must stand beside the same things in the unit (800,000 models is not
  800,000 datasets).
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Iterable, Mapping, Sequence

from rag.answer.checker.align import held
from rag.answer.checker.lexicon import (
    CLAUSE_WORDS,
    CONDITIONS,
    FRAMING_PREPOSITIONS,
    RELATIONAL_SCALES,
    SUBORDINATORS,
)
from rag.answer.checker.reading import Clause, Comparison, Phrase, Quantity, Reading
from rag.answer.checker.words import Token, is_model_size, stem

#: A unit's clause is compared with a claim's clause when it holds at least this many of its
#: keys (and more than any other clause of the unit).
MIN_ALIGNED_KEYS = 1


#: Weight of a key no weight is known for (a scale, a key in no unit).
DEFAULT_WEIGHT = 1.0
Weights = Mapping[str, float]
#: A member of a list ("bf16 LoRA adapters") holds at most this many keys.
LIST_MEMBER_KEYS = 4
#: The scale on which numbers compare as their sides do: "more", "higher", "fewer".
AMOUNT = "amount"
#: Words that open a clause as a statement of its own rather than a list's next member.
STATEMENT_OPENERS = CLAUSE_WORDS - {"then"}
#: The words that join members of one list.
LIST_JOINS = frozenset({"and", "or", "plus"})


def overlap(keys: set[str], other: set[str], weights: Weights) -> float:
    """The weight of the keys two sets share (rare terms weigh more than common ones)."""
    return sum(weights.get(k, DEFAULT_WEIGHT) for k in keys & other)


def _aligned(keys: set[str], unit: Reading, weights: Weights) -> list[Clause]:
    """The clauses of the unit sharing most of ``keys`` (ties all kept)."""
    scored = [(overlap(keys, c.keys, weights), len(keys & c.keys), c) for c in unit.clauses]
    best = max((score for score, _, _ in scored), default=0.0)
    if not any(count >= MIN_ALIGNED_KEYS for score, count, _ in scored if score == best):
        return []
    return [c for score, _, c in scored if score == best]


def _aligned_phrases(keys: set[str], phrases: list[Phrase], weights: Weights) -> list[Phrase]:
    """The phrases sharing most of ``keys`` (ties all kept; none when none shares any)."""
    scored = [(overlap(keys, p.keys, weights), p) for p in phrases]
    best = max((score for score, _ in scored), default=0.0)
    return [p for score, p in scored if score == best] if best > 0 else []


def _leaning(clause: Clause, scale: str) -> int:
    """+1 or -1 when every direction word of the clause on ``scale`` points that way, 0 when
    they point both ways ("some or most", "larger vocabulary, fewer tokens")."""
    signs = {sign for name, sign in clause.directions if name == scale}
    return signs.pop() if len(signs) == 1 else 0


def _shared_scales(clause: Clause, other: Clause) -> set[str]:
    return {s for s, _ in clause.directions} & {s for s, _ in other.directions}


def _opposed(clause: Clause, other: Clause) -> bool:
    """Whether two aligned clauses say opposite things: on a scale both use they lean opposite
    ways ("faster and cheaper" against "slower and pricier": two scales turned are no
    agreement), unless one is negated and the other not ("not larger": "smaller"). Relations
    in time or sequence (before, after, successor) have two sides: comparisons weigh them."""
    scales = {s for s, _ in clause.directions} & {s for s, _ in other.directions}
    scales -= RELATIONAL_SCALES
    # Direction words qualifying things the other clause doesn't speak of point no way
    # against each other ("many adapters" and "far less memory"); "all" and "only" set the
    # reach of the whole clause ("the entire model" against "only the necessary data").
    scales = {
        s
        for s in scales
        if s == "scope"
        or not (clause.qualified.get(s) and other.qualified.get(s))
        or clause.qualified[s] & other.keys
        or other.qualified[s] & clause.keys
    }
    for scale in scales:
        leaning = _leaning(clause, scale) * _leaning(other, scale)
        denied = (scale in clause.negated_scales) != (scale in other.negated_scales)
        if leaning and (leaning == -1) != denied:
            return True
    return False


def _unprefixed(phrase: Phrase) -> Phrase:
    """The phrase with each term that "un" denies ("unpublished") read as its base denied."""
    denied = {t for t in phrase.affirmed - phrase.kinds if _un_base(t)}
    if not denied:
        return phrase
    return dataclasses.replace(
        phrase,
        affirmed=phrase.affirmed - denied,
        negated=phrase.negated | _un_bases(denied),
        negation=True,
    )


#: A term "un" denies is longer than this ("unpublished", not "unit" or "under").
UN_TERM = 5


def _un_base(term: str) -> str:
    """The term "un" denies in ``term`` ("untrusted": "trusted"), "" when it denies none."""
    return term[2:] if term.startswith("un") and len(term) > UN_TERM else ""


def _un_bases(terms: set[str]) -> set[str]:
    return {base for base in map(_un_base, terms) if base}


def _asserted(clause: Clause) -> list[Phrase]:
    """The phrases of a claim's clause it asserts: a "when" opening it sets the case the rest
    speaks of, up to the comma ("When your data is not allowed to leave your network, ...")."""
    if not clause.text.lower().startswith("when "):
        return clause.phrases
    after = next((i for i, p in enumerate(clause.phrases) if p.after_comma), None)
    return clause.phrases[after:] if after is not None else []


def negation_conflict(claim: Reading, unit: Reading, agreed: Reading | None = None) -> str:
    """A term the claim affirms that the unit only denies, or the other way round ("not for
    generation" against "suited to text generation"). A phrase of the claim that holds a
    negation is compared by what it denies ("give no example" and "don't give an example"
    deny the same example), one that holds none by what it affirms. A term the claim says
    both ways ("when you don't pass a model, it downloads a default model") tells nothing,
    and a denial the unit shares ("you never get the weights of frontier models" with
    "frontier models: ... You never get the weights") is not turned by the terms it affirms
    elsewhere. A term that ``agreed`` (a unit holding the claim better) says the claim's
    way is not compared: that unit speaks of it."""
    elsewhere = _of_other_names(claim, unit)
    # A condition asserts nothing: "will renew unless either party gives notice of
    # non-renewal" affirms the renewal, whatever the condition denies.
    phrases = [
        p
        for i, c in enumerate(unit.clauses)
        if i not in elsewhere and not c.text.lower().startswith(CONDITIONS)
        for p in c.phrases
    ]
    unit_negated = {t for p in phrases for t in p.negated}
    unit_affirmed = {t for p in phrases for t in p.affirmed}
    # "untrusted" denies "trusted": a term with "un" before it is negated.
    unit_negated, unit_affirmed = (
        unit_negated | _un_bases(unit_affirmed),
        unit_affirmed | _un_bases(unit_negated),
    )
    # A negation that names nothing ("0 if none") denies what the phrase before it names.
    for before, phrase in itertools.pairwise(phrases):
        if phrase.negation and not phrase.keys:
            unit_negated |= before.affirmed
    # A condition asserts nothing: "if Ollama isn't already running, start it with ollama
    # serve" does not deny that Ollama runs.
    claim_phrases = [
        _unprefixed(p)
        for c in claim.clauses
        if not c.text.lower().startswith(CONDITIONS)
        for p in _asserted(c)
    ]
    claim_negated = {t for p in claim_phrases for t in p.negated}
    claim_affirmed = {t for p in claim_phrases for t in p.affirmed}
    # What a change starts from is no longer there: "converts FP32 values into INT8" does not
    # affirm the FP32 that "instead of using FP32, ..." denies.
    origins = {t for start, _ in claim.transitions for t in start}
    # A term is held in another form of it too ("customized", "customizable").
    negated, affirmed = frozenset(unit_negated), frozenset(unit_affirmed)
    agreed_phrases = [p for c in agreed.clauses for p in c.phrases] if agreed else []
    agreed_affirmed = frozenset(t for p in agreed_phrases for t in p.affirmed)
    agreed_negated = frozenset(t for p in agreed_phrases for t in p.negated)
    for phrase in claim_phrases:
        if not phrase.negation and any(
            held(t, negated) and not held(t, affirmed)
            for t in phrase.affirmed - claim_negated - origins - agreed_affirmed
        ):
            return "denies it"
        denied = phrase.negated - phrase.affirmed
        if not any(held(t, negated) for t in denied) and any(
            held(t, affirmed) and not held(t, negated)
            for t in denied - claim_affirmed - agreed_negated
        ):
            return "affirms it"
    # One phrase of the unit denying all a phrase of the claim affirms denies it, whatever the
    # unit affirms elsewhere ("many causal models have no pad token" beside "padding differ
    # between models" against "every causal model has its own pad token").
    for phrase in claim_phrases:
        said = phrase.affirmed - claim_negated - origins - agreed_affirmed
        if phrase.negation or len(said) < MIN_DENIED_TERMS:
            continue
        if any(all(held(t, frozenset(p.negated)) for t in said) for p in phrases):
            return "denies it"
    return ""


def _of_other_names(claim: Reading, unit: Reading) -> set[int]:
    """The unit's clauses (by index) that speak of another named thing than the claim: a
    clause no comma opens (a list's next member is no statement of its own) that names what
    the claim doesn't, and none of the claim's names, which a later clause of the same
    sentence gives ("Wei et al. showed few-shot CoT examples improve ..., and Kojima et al.
    found that ... helps even zero-shot": the examples are Wei's, not Kojima's)."""
    claim_names = {stem(n) for n in claim.names}
    shared = {stem(n) for n in unit.names} & claim_names
    if not shared:
        return set()
    others = {stem(n) for n in unit.names} - claim_names
    return {
        i
        for i, clause in enumerate(unit.clauses)
        if not clause.after_comma
        and clause.keys & others
        and not clause.keys & shared
        and any(
            later.keys & shared
            for later in unit.clauses[i + 1 :]
            if later.statement == clause.statement
        )
    }


#: The fewest terms a claim's phrase affirms for one phrase of the unit denying them all to
#: deny the claim.
MIN_DENIED_TERMS = 2


#: Negations are compared clause by clause when the unit's clause holds this share of the
#: claim clause's keys (a long clause of the claim may align on its subject alone).
MIN_NEGATION_SHARE = 0.5


def polarity_conflict(claim: Reading, unit: Reading, weights: Weights) -> str:
    """Why the claim and the unit point opposite ways ("" when they don't)."""
    for clause in claim.clauses:
        aligned = _aligned(clause.keys, unit, weights)
        naming = aligned and all(o.keys <= clause.keys for o in aligned)
        if aligned and not any(_shared_scales(clause, o) for o in aligned):
            # The clause holding the subject may only name it ("MMLU-PRO -> Harder MMLU"):
            # what it says of it, on the claim's scale, is in the next. A clause of direction
            # words alone ("..., slower and pricier") says it of the unit's subject.
            terms = {k for k in clause.keys if not k.startswith(("~", "#"))}
            # ... or in the one before it, when it names what that one speaks of ("by
            # updating its internal settings - the parameters or weights of the model").
            places = {i for i, o in enumerate(unit.clauses) if o in aligned}
            aligned = [
                o
                for i, o in enumerate(unit.clauses)
                if _shared_scales(clause, o)
                and (
                    (naming and (terms & o.keys or i + 1 in places))
                    or all(k.startswith("~") for k in o.keys)
                )
            ] or aligned
        aligned = [
            other
            for other in aligned
            if len(clause.keys & other.keys) >= MIN_NEGATION_SHARE * len(clause.keys)
            or _shared_scales(clause, other)
        ]
        if aligned and all(_opposed(clause, other) for other in aligned):
            return "says the opposite"
        # "..., which makes training faster" says it of the clause before it: a claim's clause
        # aligned with that one is compared with it too.
        relative = [
            o
            for before, o in itertools.pairwise(unit.clauses)
            if before in aligned
            and o.text.lower().startswith("which ")
            and _shared_scales(clause, o)
        ]
        if relative and all(_opposed(clause, other) for other in relative):
            return "says the opposite"
    return ""


def _places(parts: list[set[str]]) -> dict[str, set[int]]:
    """key -> the indices of the parts (clauses or phrases) holding it."""
    where: dict[str, set[int]] = {}
    for i, keys in enumerate(parts):
        for key in keys:
            if not key.startswith("~"):
                where.setdefault(key, set()).add(i)
    return where


def role_conflict(claim: Reading, unit: Reading) -> str:
    """Why two things the claim ties together are tied to others in the unit ("" if not).

    A swap: the claim ties a to b in one part and speaks of c and d in another ("fine-tuning
    for knowledge and RAG for format"), while the unit keeps a and b apart and ties a to one
    of c, d, and b to one of them ("fine-tune for format; use RAG for knowledge"). The claim
    is read by what it ties (:attr:`Reading.ties`), the unit clause by clause, within each of
    its full-stop sentences: an item of several sentences ties nothing across them ("The
    knowledge base is designed to be updated. It can include documents, ..." keeps the
    knowledge base beside the documents), while a semicolon or a line ("... compute-bound;
    producing tokens (decode) is sequential ...") sets two statements side by side."""
    statements: dict[int, list[set[str]]] = {}
    for clause, tokens in zip(unit.clauses, _clause_tokens(unit), strict=True):
        keys = clause.keys - _spelled_out(tokens)
        statements.setdefault(clause.statement, []).append(keys)
    for parts in statements.values():
        found = parts_conflict(claim, parts)
        if found:
            return found
    return ""


#: An author cited as "Kojima et al.": the word before "et al." names someone, even where it
#: opens a sentence (where a capital tells nothing).
_AUTHOR = re.compile(r"\b([A-Z][\w-]+) et al\b")
#: The fewest of what the claim says of its subject that a clause of another named thing must
#: hold to be the one saying it.
ATTRIBUTED_TERMS = 2


def attribution_conflict(claim: Reading, unit: Reading) -> str:
    """What the claim says an author found that the unit gives, in the same sentence, to
    another author it cites ("" if it doesn't): "Wei et al. found that adding 'Let's think
    step by step' helps zero-shot" against "Wei et al. showed few-shot CoT examples improve
    ..., and Kojima et al. found that simply adding 'Let's think step by step' helps even
    zero-shot". The claim's subject (its first term) is the author; the other's clause holds
    more of what the claim says than the subject's. The claim need say only one thing, where
    :func:`role_conflict` needs two. Only authors cited as "X et al." are read so: for any
    name, the same reading gave many true claims' words to names beside them."""
    authors = {stem(a.lower()) for a in _AUTHOR.findall(claim.text)}
    if not claim.terms or claim.terms[0] not in authors:
        return ""
    subject = claim.terms[0]
    said = {k for k in claim.keys if k != subject and not k.startswith(("#", "~"))}
    cited = {stem(a.lower()): a for a in _AUTHOR.findall(unit.text)}
    others = set(cited) - set(claim.keys)
    if not others:
        return ""
    for clause in unit.clauses:
        own = clause.keys & others
        held_here = said & clause.keys
        if not own or subject in clause.keys or len(held_here) < ATTRIBUTED_TERMS:
            continue
        if any(
            other.statement == clause.statement
            and subject in other.keys
            and not other.keys & own
            and len(said & other.keys) < len(held_here)
            for other in unit.clauses
        ):
            return f"says this of {' and '.join(cited[k] for k in sorted(own))} et al."
    return ""


def _clause_tokens(reading: Reading) -> list[list[Token]]:
    """The tokens of each clause of ``reading``, in the order of its clauses."""
    groups: dict[int, list[Token]] = {}
    for token in reading.tokens:
        groups.setdefault(token.clause, []).append(token)
    return [groups[i] for i in sorted(groups)]


def _spelled_out(tokens: list[Token]) -> set[str]:
    """The keys of the words that spell out an acronym written beside them: "Model Context
    Protocol (MCP)" names one thing, it ties no model to MCP."""
    acronyms = {t.text.lower() for t in tokens if t.text.isupper() and 2 <= len(t.text) <= 5}
    words = [t for t in tokens if t.text[:1].isalpha() and t.text.lower() not in acronyms]
    found: set[str] = set()
    for size in range(2, 6):
        for i in range(len(words) - size + 1):
            run = words[i : i + size]
            if "".join(t.text[0].lower() for t in run) in acronyms:
                found |= {k for t in run for k in t.keys}
    return found


def scene(claim: Reading) -> int:
    """How many tokens the phrase setting the scene of the whole claim takes ("In supervised
    fine-tuning, the weights are updated ...": a preposition opening it, a comma closing it);
    0 when it opens with none."""
    tokens = claim.tokens
    if not tokens or tokens[0].text.lower() not in FRAMING_PREPOSITIONS:
        return 0
    first_clause = tokens[0].clause
    for i, token in enumerate(tokens):
        if token.clause != first_clause:
            return i if token.after_comma and token.clause == first_clause + 1 else 0
    return 0


def _claim_parts(claim: Reading) -> list[set[str]]:
    """What the claim ties together, a tie cut where a clause it opens with "because", "since",
    "although" ... ends ("Because A and B sit on different scales, hybrid search fuses the
    ranks": the scales and the ranks are two statements). The phrase that sets the scene
    (:func:`scene`) ties nothing: it speaks of every part, as a heading does of its list."""
    tokens = claim.tokens
    first_clause = tokens[0].clause if tokens else 0
    fronted = bool(tokens) and tokens[0].text.lower() in SUBORDINATORS
    parts: dict[tuple[int, bool], set[str]] = {}
    for token in tokens[scene(claim) :]:
        keys = set(token.keys) | ({f"~{token.direction[0]}"} if token.direction else set())
        parts.setdefault((token.tie, fronted and token.clause == first_clause), set()).update(keys)
    return [keys for keys in parts.values() if keys]


def parts_conflict(claim: Reading, parts: Sequence[Iterable[str]]) -> str:
    """:func:`role_conflict` against the keys of some parts of a source: a unit's clauses, or
    the items of one list ("Query (Q): what this token is looking for" / "Key (K): what this
    token offers to others")."""
    claim_parts = _claim_parts(claim)
    claim_where = _places(claim_parts)
    unit_where = _places([set(p) for p in parts])
    # Quantities are placed by the number rules (a number written twice, "4096 x 4096", ties
    # nothing); a number that is part of a name ("Level 2", "GPT-4o") is a thing like any.
    named = {k for t in claim.tokens if not t.quantity for k in t.keys}
    counts = {f"#{q.number}" for q in claim.quantities} - named
    shared = [k for k in claim_where if k in unit_where and k not in counts]
    for i, first in enumerate(shared):
        for second in shared[i + 1 :]:
            together = claim_where[first] & claim_where[second]
            if not together or unit_where[first] & unit_where[second]:
                continue
            for part, keys in enumerate(claim_parts):
                if part in together:
                    continue
                others = [
                    k
                    for k in keys
                    if k in unit_where and not claim_where[k] & together and k not in counts
                ]
                ours = _beside(first, others, unit_where)
                theirs = _beside(second, others, unit_where)
                # Two things: one other beside both is no swap ("domain" with the model
                # chosen and with what it depends on).
                if ours and theirs and len(ours | theirs) > 1:
                    return "ties these things to other things"
    return ""


def _beside(key: str, others: list[str], unit_where: dict[str, set[int]]) -> set[str]:
    """Which of ``others`` share a clause of the unit with ``key``."""
    return {other for other in others if other != key and unit_where[key] & unit_where[other]}


def _fit(ours: Mapping[str, float], theirs: Mapping[str, float]) -> float:
    """How alike the words around two numbers are, each word by its nearness to both."""
    return sum(min(weight, theirs[key]) for key, weight in ours.items() if key in theirs)


def _better_placed(quantity: Quantity, unit: Reading, names: set[str]) -> str:
    """Another number of the unit that counts what the claim's number counts, with words
    around it more like the claim's than any place of the number in the unit ("" when none):
    "8 heads of 64 dimensions" gives heads 8, not 64; "GPT-2 has 50,257 tokens, ..., Llama 3
    uses a 128k vocabulary" gives Llama's vocabulary 128k, not 50,257. A number beside the
    names (``names``) the claim writes beside it, where the other is not, is in its place
    whatever it counts ("Llama 3 has a vocabulary of 128,000 tokens")."""
    counted = quantity.counted
    same = [q for q in unit.quantities if q.number == quantity.number]
    # The unit names the thing by the number ("a 7-8B model"): it counts nothing there, and
    # stands where the claim's "eight-billion-parameter model" does.
    if not same and quantity.number in unit.numbers:
        return ""
    own = names & quantity.beside.keys()
    named = bool(own) and any(own <= q.beside.keys() for q in same)
    # The unit's own place of the number counts nothing (it leaves that out: "the Diamond
    # subset has 198"), all the claim's number counts, or only what it counts ("FP32 (32
    # bits per parameter)" for "32-bit floating point"): it stands where the claim says.
    if not counted or any(
        not q.counted or counted <= q.counted or q.counted <= counted for q in same
    ):
        return ""
    best, best_fit = "", max((_fit(quantity.near, q.near) for q in same), default=0.0)
    for other in unit.quantities:
        fit = _fit(quantity.near, other.near)
        if named and not own <= other.beside.keys():
            continue
        if other.year != quantity.year:
            continue
        if other.number != quantity.number and counted & other.counted and fit > best_fit:
            best, best_fit = other.number, fit
    return best


def _placed_by_name(quantity: Quantity, unit: Reading, names: set[str]) -> bool | str:
    """Where the model named beside a number by its size places it in the unit: True when
    every number the unit writes beside the same names is this one ("32 in Llama 3 8B, 80 in
    Llama 3 70B" holds "Llama 3 70B is a stack of 80 blocks, while Llama 3 8B has 32"), the
    others when none is ("Llama 3 70B has 32 blocks": the unit gives 80 there), False when
    the names don't tell. A number of the unit that counts something else than the claim's
    is no place of it ("all 32 layers of Llama 3 8B" against its 13.6M trainable
    parameters)."""
    own = names & quantity.beside.keys()
    sizes = {name for name in own if is_model_size(name)}
    if not sizes:
        return False
    holders = {
        q.number
        for q in unit.quantities
        if sizes <= q.beside.keys()
        and q.year == quantity.year
        and (q.counted <= names or not quantity.counted or q.counted & quantity.counted)
    }
    if holders == {quantity.number}:
        return True
    if holders and quantity.number not in holders:
        return ", ".join(sorted(holders))
    return False


def _listed_numbers(phrases: list[Phrase]) -> set[str]:
    """The numbers of the phrases listed after the first (after a comma, "and" or "or") that
    hold nothing but a number, up to the first that holds more. A slash pairs, it doesn't
    list ("$3.00 / $15.00" for input and output)."""
    found: set[str] = set()
    for phrase in phrases[1:]:
        if (
            not (phrase.after_comma or phrase.joined_by)
            or not phrase.quantities
            or any(not k.startswith("#") and not any(c.isdigit() for c in k) for k in phrase.keys)
        ):
            break
        found |= phrase.quantities
    return found


def number_conflict(
    claim: Reading,
    unit: Reading,
    weights: Weights,
    label: frozenset[str] = frozenset(),
    lead: Reading | None = None,
    title: Reading | None = None,
) -> str:
    """Why a number of the claim stands beside other things in the unit ("" if it doesn't):
    another number of the unit counts what it counts, in words more like the claim's ("8
    heads of 64 dimensions" against "64 heads"), or the unit's phrases holding most of the
    words beside it in the claim hold another ("truncates input at 384 word pieces" against
    "truncates input at 256 word pieces"). A name is one word
    however many parts it has: "all-MiniLM-L6-v2 has 6 layers" is held by "has 6 layers" as
    much as by "all-MiniLM-L6-v2 produces 384-dimensional vectors". A number only the unit's
    ``lead`` writes is placed there ("Onboarding: 2-week implementation program including:"
    over "Training for up to 8 underwriters")."""
    if not claim.quantities:
        return ""
    own = _number_places(claim, unit, label)
    above: _NumberPlaces | None = None
    for quantity in claim.quantities:
        number = quantity.number
        places = own
        # A number the title line over the unit's lines counts the same thing with is in
        # its place: every line below speaks of it ("1B parameters" over "memory to train
        # model: 24GB").
        if title is not None and any(
            q.number == number and q.counted & quantity.counted for q in title.quantities
        ):
            continue
        # Unless the unit's own numbers count what this one counts ("up to 2 underwriters"
        # against "Training for up to 8 underwriters" under the 2-week lead).
        if (
            lead is not None
            and number in lead.numbers
            and number not in unit.numbers
            and not any(q.counted & quantity.counted for q in unit.quantities)
        ):
            above = above or _number_places(claim, lead, frozenset())
            places = above
        # Each line under a title says one thing of what it names: lines alike by the words
        # beside the number are told apart by the rest of the claim's clause ("Storing a
        # model with 1B parameters ... needs 24GB": the line that stores, not the one that
        # trains).
        clause = (
            next((c.keys for c in claim.clauses if f"#{number}" in c.keys), set())
            if title is not None
            else set()
        )
        found = _placed_otherwise(quantity, places, clause)
        if found:
            return found
    return ""


@dataclasses.dataclass(frozen=True)
class _NumberPlaces:
    """What :func:`number_conflict` reads a reading's numbers by, read once per reading."""

    reading: Reading
    #: Its phrases, each with the unit's label's keys.
    phrases: list[Phrase]
    #: id(phrase) -> the numbers listed bare after it.
    listed: dict[int, set[str]]
    #: The names of the claim and of the reading.
    names: set[str]
    #: Its numbers that are years.
    years: set[str]


def _number_places(claim: Reading, unit: Reading, label: frozenset[str]) -> _NumberPlaces:
    # Each phrase speaks of what the unit's label names too ("**fp16**: 1 sign, ... Maximum
    # value 65,504": the maximum is fp16's).
    unit_phrases: list[Phrase] = []
    # The numbers listed bare after a phrase share what it says ("Sizes: 135M, 360M, 1.7B").
    listed: dict[int, set[str]] = {}
    for clause in unit.clauses:
        for i, phrase in enumerate(clause.phrases):
            placed = dataclasses.replace(phrase, keys=phrase.keys | label) if label else phrase
            unit_phrases.append(placed)
            listed[id(placed)] = _listed_numbers(clause.phrases[i:])
    # A claim's first word is a name when the unit writes it as one ("Llama 3's vocabulary").
    names = {stem(n) for n in claim.names | unit.names}
    # A year is set against years only: "By 2020 ... 200 employees" gives no 2020 employees.
    years = {q.number for q in unit.quantities if q.year}
    return _NumberPlaces(unit, unit_phrases, listed, names, years)


def _placed_otherwise(
    quantity: Quantity, places: _NumberPlaces, clause: set[str] = frozenset()
) -> str:
    """:func:`number_conflict` for one number of the claim; phrases alike by the words beside
    it are told apart by the other keys of its ``clause`` when one is given."""
    unit, names, listed = places.reading, places.names, places.listed
    number = quantity.number
    placed = _placed_by_name(quantity, unit, names)
    if placed is True:
        return ""
    if placed:
        return f"gives {placed} there, not {number}"
    other = _better_placed(quantity, unit, names)
    if other:
        return f"gives {other} there, not {number}"
    # The phrases most alike by the words beside the number, or by the nearest of them
    # ("32 query heads"); either holding it places it (a unit may leave out what the
    # number counts: "the Diamond subset has 198").
    aligned = _aligned_phrases(set(quantity.beside), places.phrases, quantity.beside)
    nearest = _aligned_phrases(set(quantity.near), places.phrases, quantity.near)
    # Under a title (a ``clause`` given), phrases tied by those words are told apart by the
    # clause's other words.
    rest = dict.fromkeys(
        (k for k in clause - set(quantity.beside) if not any(c.isdigit() for c in k)), 1.0
    )
    tied = list({id(p): p for p in aligned + nearest}.values()) if rest else []
    if len(tied) > 1:
        best = _aligned_phrases(set(rest), tied, rest)
        if best and len(best) < len(tied):
            aligned, nearest = best, []
    if any(f"#{number}" in p.keys or number in listed[id(p)] for p in aligned + nearest):
        return ""
    others = sorted(
        {n for p in aligned for n in p.quantities if (n in places.years) == quantity.year}
    )
    if others:
        return f"gives {', '.join(others)} there, not {number}"
    return ""


def _sides(comparison: Comparison) -> tuple[set[str], set[str]]:
    """The terms of each side of a comparison that the other side doesn't hold."""
    subject, complement = set(comparison.subject), set(comparison.complement)
    return subject - complement, complement - subject


def comparison_conflict(claim: Reading, unit: Reading, weights: Weights) -> str:
    """Why a comparison of the claim points the other way in the unit ("" if it doesn't):
    "floating-point is faster than integer" against "integer is faster than floating-point"
    (the sides exchanged), "PEFT tunes fewer than updating the last layers" against "more than
    just updating the last layers" (the direction reversed). Each comparison of the claim is
    set against the unit's comparison on the same scale whose sides share most with it,
    either way round."""
    amounts = {f"#{q.number}" for q in claim.quantities}
    for ours in claim.comparisons:
        best, best_score = None, 0.0
        for theirs in unit.comparisons:
            if theirs.scale != ours.scale:
                continue
            # Each side by the terms the other side lacks: "output tokens priced higher than
            # input tokens" tells its sides by "output" and "input", not by "tokens".
            our_subject, our_complement = _sides(ours)
            their_subject, their_complement = _sides(theirs)
            # What both subjects say around the comparison ("APIs price ...") tells neither
            # way round.
            context = our_subject & their_subject - our_complement - their_complement
            our_subject, their_subject = our_subject - context, their_subject - context
            straight = overlap(our_subject, their_subject, weights) + overlap(
                our_complement, their_complement, weights
            )
            crossed = overlap(our_subject, their_complement, weights) + overlap(
                our_complement, their_subject, weights
            )
            score = max(straight, crossed)
            if score > best_score:
                best, best_score = (theirs, 1 if straight >= crossed else -1), score
        if best is not None and best[0].sign * best[1] != ours.sign:
            return "compares the other way round"
        # "more than 75,000 members" bounds an amount; it sets no second thing against the
        # first, so the numbers the unit gives are not the two sides' ("Llama 3 8B" is a name).
        if best is None and ours.scale == AMOUNT and not ours.complement & amounts:
            reversed_by = _numbers_reversed(ours, unit, weights)
            if reversed_by:
                return reversed_by
    return ""


def _side_number(side: set[str], other: set[str], unit: Reading, weights: Weights) -> str:
    """The number of the unit's clause that speaks most of ``side`` and not of ``other``, when
    that clause gives one number ("" when none, or two such clauses tie)."""
    counts = {f"#{q.number}" for q in unit.quantities}
    scored = []
    for clause in unit.clauses:
        numbers = clause.keys & counts
        score = overlap(side, clause.keys, weights)
        if len(numbers) == 1 and score and not other & clause.keys:
            scored.append((score, numbers.pop()[1:]))
    best = max((score for score, _ in scored), default=0.0)
    found = {number for score, number in scored if score == best}
    return found.pop() if len(found) == 1 else ""


def _numbers_reversed(comparison: Comparison, unit: Reading, weights: Weights) -> str:
    """Why the numbers the unit gives the two sides of "A ... more than B" say the other way
    round ("" when they don't, or the unit gives no number to one side): "non-experts score
    higher than experts" against "experts reach about 65 percent, non-experts only 34"."""
    subject, complement = _sides(comparison)
    ours = _side_number(subject, complement, unit, weights)
    theirs = _side_number(complement, subject, unit, weights)
    if not ours or not theirs or ours == theirs:
        return ""
    if (float(ours) - float(theirs)) * comparison.sign < 0:
        return f"gives {ours} and {theirs}: the other way round"
    return ""


def modifier_conflict(claim: Reading, unit: Reading) -> str:
    """A term the claim qualifies one way ("fewer tokens") that the unit, speaking of the same
    thing, only qualifies the other way on the same scale ("more tokens"). What the unit says
    of another thing does not count: "low temperature for extraction" is no answer to "a
    higher temperature for creative writing"."""
    for ours in claim.modifiers:
        theirs = [
            m
            for m in unit.modifiers
            if m.term == ours.term
            and m.scale == ours.scale
            and m.context & ours.context
            # A claim qualifying the term twice ("a good way to teach a style, a poor way to
            # teach facts") answers each of the unit's with the one whose context is closer.
            and not any(
                len(m.context & other.context) > len(m.context & ours.context)
                for other in claim.modifiers
                if other.term == ours.term and other.scale == ours.scale
            )
        ]
        if theirs and all(m.sign == -ours.sign for m in theirs):
            return "says the opposite"
    return ""


def attribute_conflict(claim: Reading, unit: Reading) -> str:
    """Two things the claim says together that the unit gives to two neighbouring members of
    one list ("" if it doesn't): "QLoRA trains the adapters in 4-bit NF4" against "QLoRA =
    4-bit NF4 base + bf16 LoRA adapters", or "LoRA adapters are trained in 4-bit" against
    "The frozen base is 4-bit, the LoRA adapters are trained in bf16": 4-bit is the base's,
    and the adapters have their own. The members are a clause's phrases, and a sentence's
    clauses. A pair of terms of one claim phrase, one of them a name or what a number counts
    ("bit" of "4-bit"), held only in two neighbouring short members, each naming something
    the claim doesn't, is given to the wrong one. The claim's subject (its first term: what
    the whole list speaks of) pairs with nothing."""
    subject = claim.terms[0] if claim.terms else ""
    said = {k for c in claim.clauses for k in c.keys}
    named = {stem(n) for n in claim.names} | {k for q in claim.quantities for k in q.counted}

    def own(keys: set[str]) -> set[str]:
        return {k for k in keys if k != subject and not k.startswith(("#", "~"))}

    # Each list: its members' keys, and for each member whether it is joined to the one
    # before as a list member is ("and", "or", " + " between phrases, a comma between
    # clauses), not as what describes it ("a git repo with large files stored via LFS").
    lists = [
        ([own(p.keys) for p in c.phrases], [p.joined_by in LIST_JOINS for p in c.phrases])
        for c in unit.clauses
    ]
    # A clause a comma opens is the list's next member, unless a word opens it as a statement
    # of its own (", but the system prompt is a separate parameter"); "then" goes on with a
    # list in order (", then RAG, and only then fine-tuning").
    lists.append(
        (
            [own(c.keys) for c in unit.clauses],
            [
                c.after_comma and c.text.split()[0].lower() not in STATEMENT_OPENERS
                for c in unit.clauses
            ],
        )
    )
    placed = [(members, joined, _places(members)) for members, joined in lists]

    def neighbours_apart(
        first: str, second: str, members: list[set[str]], joined: list[bool], where: dict
    ) -> bool:
        """Whether the two keys stand only in two neighbouring members of the list, each
        short and naming something the claim doesn't."""
        if first not in where or second not in where or where[first] & where[second]:
            return False
        return any(
            abs(a - b) == 1
            and joined[max(a, b)]
            and all(len(members[j]) <= LIST_MEMBER_KEYS and members[j] - said for j in (a, b))
            for a, b in itertools.product(where[first], where[second])
        )

    for ours in (p for c in claim.clauses for p in c.phrases):
        for first, second in itertools.combinations(sorted(own(ours.keys)), 2):
            if {first, second} & named and any(
                neighbours_apart(first, second, *entry) for entry in placed
            ):
                return "says this of another member of its list"
    return ""
