"""A sentence read for checking: its words as keys, clause by clause, with their grammar.

Each word becomes a token. A content term's key is its stem (Snowball's English stemmer:
"quantized" and "quantization" are one term), so a paraphrase that changes a word's form still
holds it; a number's key is ``#`` and the number (:func:`rag.core.numbers` writes it). Negations
and direction words (:mod:`rag.answer.checker.lexicon`) are read for what they do, not as terms.

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
from decimal import Decimal
from functools import lru_cache

from py_rust_stemmers import SnowballStemmer

from rag.answer.checker.lexicon import (
    CLAUSE_WORDS,
    DIRECTIONS,
    FUNCTION_WORDS,
    IDIOMS,
    JOINING_WORDS,
    META,
    NEGATIONS,
    RELATION_WORDS,
    STATEMENT_VERBS,
    SUBJECT_PRONOUNS,
)
from rag.core import NUMBER_WORDS, abbreviated, numbers, scaled, search_terms, strip_citations

_STEMMER = SnowballStemmer("english")
#: After a comma, a piece holding this few keys is an item of a list, not a clause
#: ("for extraction, classification and RAG answers").
LIST_ITEM_KEYS = 3
#: What a number counts: at most this many words after it.
COUNTED_WORDS = 2
#: A direction word modifies a term at most this many tokens after it ("more advanced API").
MODIFIER_REACH = 2

# Words read for their grammar, not as terms a source must hold: the rules compare them.
_NOT_TERMS = NEGATIONS | CLAUSE_WORDS | JOINING_WORDS | FUNCTION_WORDS | META

# One pass over a text: what breaks a clause, a slash, a number (with what is glued to it:
# "8B", "128k"), a word.
_TOKEN = re.compile(
    r"(?P<end>[.!?](?=\s|$)|[\n;—–]|\s-\s|->|=>)"
    r"|(?P<comma>,(?!\d))"
    r"|(?P<colon>:(?=\s))"
    r"|(?P<slash>(?<!\d)/|/(?!\d))"
    r"|(?P<plus>(?<=\s)\+(?=\s))"
    r"|(?<![\w.])(?P<number>\d+(?:[.,]\d+)*(?:[eE]-?\d+\b)?)"
    r"(?:(?P<suffix>[A-Za-z]+\b)|[\s-](?P<scale>thousand|million|billion|trillion)\b)?"
    r"|(?P<word>\w+(?:['’]\w+)?)"
)
# The scale of a range's upper end, read from just after its lower end ("10 to 100 billion").
_RANGE_SCALE = re.compile(
    r"\s*(?:to|and|or|-|–)\s*\d+(?:[.,]\d+)*[\s-]?(k|K|M|B|thousand|million|billion|trillion)\b"
)
# The lower end of a range and its dash, just before a number: "4k-", "200-".
_RANGE_START = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*(?:[kKMBT])?[-–]$")
# A word written as a name: a capital after its first letter, or a digit ("GPT", "R1").
_NAMED = re.compile(r"^\w.*(?:[A-Z]|\d)")
# A capital letter standing alone names something: "top K", "matrix A".
_LETTER_NAME = re.compile(r"[A-Z]")
# A number in scientific notation: "1e-4", "2E5".
_SCIENTIFIC = re.compile(r"\d+(?:\.\d+)?[eE]-?\d+")
# A quotation: "…" or “…”.
_QUOTED = re.compile(r'"[^"\n]{1,200}"|“[^”\n]{1,200}”')
# An aside in brackets: "(or none)".
_BRACKETED = re.compile(r"\([^()\n]{1,200}\)")
# Where a word joined in camel case splits: "Hugging|Face", not "Q|Lo|RA".
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z][a-z])")
# A name: a capitalised word inside a sentence, an acronym, a word mixing case or digits.
_NAME = re.compile(r"(?<![\w.])[A-Za-z][\w\-./+]*")
_NAME_WORDS = re.compile(r"[\w\-./+]+")
_IDIOM = re.compile(
    r"\b(" + "|".join(re.escape(i) for i in sorted(IDIOMS, key=len, reverse=True)) + r")\b",
    re.IGNORECASE,
)


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The stem a term is compared by (lower-case in, lower-case out)."""
    return _STEMMER.stem_word(word)


# Direction words by stem: "updated", "updates" and "update" point the same way.
_DIRECTIONS = {stem(word): value for word, value in DIRECTIONS.items()}


def direction(word: str) -> tuple[str, int] | None:
    """(scale, sign) of a direction word (lower-case), None for any other word."""
    return _DIRECTIONS.get(stem(word))


@lru_cache(maxsize=65536)
def _term_key(word: str) -> str:
    """The key of a word that is a content term, "" for any other word."""
    terms = search_terms(word)
    if len(terms) != 1:
        return ""
    term = terms[0]
    if term.isdigit() or term in _NOT_TERMS or direction(term):
        return ""
    # Names with digits or underscores ("o200k_base", "gpt4") are kept as written.
    return stem(term) if term.isalpha() else term


@dataclass
class Token:
    """One word or number of a text, with where it stands in the text's grammar."""

    text: str
    #: What a source must hold to hold it: stems of terms, ``#n`` of numbers (empty: none).
    keys: tuple[str, ...] = ()
    #: (scale, sign) when it is a direction word.
    direction: tuple[str, int] | None = None
    negation: bool = False
    #: A number that counts something, not one that is part of a name ("GPT-4", "Llama 3").
    quantity: bool = False
    sentence: int = 0
    clause: int = 0
    phrase: int = 0
    tie: int = 0
    #: Opens its clause after a comma (a list's next item, or a new clause).
    after_comma: bool = False
    #: The joining word before it when it opens a phrase ("or" in "never X or Y").
    joined_by: str = ""
    #: The word joined by dashes it is part of ("all-MiniLM-L6-v2"), by its first token.
    compound: int = 0
    #: The quotation or bracketed aside it stands in, counted from 1 (0: none).
    aside: int = 0
    #: Opens what a colon introduces: a negation before the colon does not reach it.
    after_colon: bool = False


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
    transitions: list[tuple[frozenset[str], frozenset[str]]] = field(default_factory=list)

    @property
    def keys(self) -> list[str]:
        """What a source must hold to hold this: its content terms, its numbers (``#n``) and
        the scales its direction words are on (``~speed``: "slower" holds "faster" there, and
        the rules find that they disagree)."""
        scales = dict.fromkeys(f"~{t.direction[0]}" for t in self.tokens if t.direction)
        return self.terms + [f"#{n}" for n in sorted(self.numbers)] + list(scales)


def names(text: str) -> set[str]:
    """Proper names, acronyms and identifiers in a sentence (lower-cased), its first word only
    when it can't be an ordinary capitalised word (GPT-4, QLoRA, HumanEval)."""
    found = set()
    for i, match in enumerate(_NAME.finditer(strip_citations(text))):
        word = match.group(0).strip("-./+")
        if len(word) < 2:
            continue
        odd = (
            any(c.isdigit() for c in word)
            or any(c.isupper() for c in word[1:])
            or "_" in word  # an identifier: top_p, lora_alpha
        )
        if odd or (i > 0 and word[0].isupper()):
            found.add(word.lower())
    return found


def _all_words(text: str) -> set[str]:
    lowered = text.lower()
    raw = _NAME_WORDS.findall(lowered)
    camel = {p.lower() for w in re.findall(r"\w+", text) for p in _CAMEL.split(w)}
    return (
        camel
        | set(raw)
        | {w.strip("-./+") for w in raw}
        | set(re.findall(r"[^\W_]+", lowered))
        | set(re.findall(r"\w+", lowered))
    )


def _initials(tokens: list[Token]) -> set[str]:
    """What runs of two to five words abbreviate: "machine learning" -> "ml", so a source that
    writes a name out holds its acronym."""
    letters = [t.text[0].lower() for t in tokens if t.text[:1].isalpha()]
    return {"".join(letters[i : i + n]) for n in range(2, 6) for i in range(len(letters) - n + 1)}


def _is_name_number(text: str, start: int, value: str) -> bool:
    """Whether the number at ``start`` is part of a name: glued to a word by a dash ("GPT-4",
    "Phi-3.5"), or one or two digits right after a capitalised word ("Llama 3", "Level 2").
    A number after a number and a dash ends a range ("4k-16k")."""
    if _RANGE_START.search(text[max(0, start - 20) : start]):
        return False
    if start >= 2 and text[start - 1] == "-" and text[start - 2].isalpha():
        return True
    before = re.search(r"\b[A-Z][A-Za-z]* $", text[max(0, start - 40) : start])
    after = text[start + len(value) : start + len(value) + 9]
    short = re.fullmatch(r"\d{1,2}(?:\.\d)?", value) is not None
    return bool(before and short and not re.match(r"[\w.,%]|\s*percent", after))


def _tokens(text: str) -> list[Token]:
    """The tokens of ``text`` with their sentence, clause, phrase and tie numbers."""
    tokens: list[Token] = []
    place = {"sentence": 0, "clause": 0, "phrase": 0, "tie": 0}
    after_comma = False
    after_colon = False
    joined_by = ""
    last_end = -2

    def cut(*parts: str) -> None:
        if tokens:
            for part in parts:
                place[part] += 1

    def add(token: Token, start: int, end: int) -> None:
        nonlocal after_comma, after_colon, joined_by, last_end
        token.after_colon, after_colon = after_colon, False
        for part, number in place.items():
            setattr(token, part, number)
        token.after_comma, after_comma = after_comma, False
        token.joined_by, joined_by = joined_by, ""
        glued = tokens and start == last_end + 1 and text[last_end] == "-"
        token.compound = tokens[-1].compound if glued else len(tokens)
        token.aside = next((i for i, (a, b) in enumerate(asides, 1) if a < start < b), 0)
        last_end = end
        tokens.append(token)

    # A quotation is mentioned, not asserted: its direction words qualify nothing of the
    # sentence ("Big Code"). Its negations are read: a claim saying what it quotes denies the
    # same ("use no commas" quoted, "using no commas" said).
    quoted = [m.span() for m in _QUOTED.finditer(text)]
    # Where a negation's reach ends early: a quotation, or an aside in brackets ("(or none)").
    asides = quoted + [m.span() for m in _BRACKETED.finditer(text)]
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        if kind == "end":
            if match.group(0) == "." and abbreviated(text[: match.end()]):
                continue  # "Kojima et al. (2022) found ..." goes on
            cut("sentence", "clause", "phrase", "tie")
            after_comma = False
        elif kind == "comma":
            cut("clause", "phrase")
            after_comma = True
        elif kind == "colon":  # what follows says what it is: a negation stops there
            after_colon = True
        elif kind == "slash":
            cut("phrase", "tie")
        elif kind == "plus":  # "4-bit NF4 base + bf16 LoRA adapters": two things, as "and"
            cut("phrase", "tie")
            joined_by = "plus"
        elif kind in ("number", "suffix", "scale"):
            value = match.group("number")
            suffix = match.group("suffix") or ""
            # "128k", "128,000" and "128 thousand" are one number; "10 to 100 billion" is
            # 10 billion to 100 billion.
            shared = _RANGE_SCALE.match(text, match.end())
            scale = suffix or match.group("scale") or (shared.group(1) if shared else "")
            if _SCIENTIFIC.fullmatch(value):  # "1e-4" is 0.0001
                keys = (f"#{format(Decimal(value).normalize(), 'f')}",)
            else:
                keys = tuple(f"#{scaled(n, scale)}" for n in numbers(value))
            if suffix:
                keys += (stem((value + suffix).lower()),)
            quantity = not _is_name_number(text, match.start(), value)
            add(Token(value + suffix, keys, quantity=quantity), match.start(), match.end())
        elif match.group(0).lower() in NUMBER_WORDS:  # "four characters": 4 characters
            keys = (f"#{NUMBER_WORDS[match.group(0).lower()]}",)
            add(Token(match.group(0), keys, quantity=True), match.start(), match.end())
        else:
            word = match.group(0)
            lower = word.lower()
            if lower in CLAUSE_WORDS:
                cut("clause", "phrase", "tie")
            elif lower in JOINING_WORDS:
                # "DeepSeek-V3 and R1", "ResNet and GPT": names joined are one thing said,
                # not two things a sentence ties to different words.
                if lower in ("and", "or") and _names_either_side(text, match):
                    cut("phrase")
                else:
                    cut("phrase", "tie")
                joined_by = lower
                continue
            inside = [i for i, (start, end) in enumerate(quoted, 1) if start < match.start() < end]
            mention = bool(inside)
            negation = lower in NEGATIONS or lower.endswith(("n't", "n’t"))
            # "non-PhD humans": "non" glued to a word denies it.
            negation = negation or (lower == "non" and text[match.end() : match.end() + 1] == "-")
            # A direction word inside a name ("Big Code Models") or glued after a dash to the
            # word it qualifies ("decoder-only") is a term of the name.
            glued = (
                match.start() > 1
                and text[match.start() - 1] == "-"
                and text[match.start() - 2].isalnum()
            )
            named = direction(lower) is not None and (glued or mention or _in_name(text, match))
            if negation:
                keys: tuple[str, ...] = ()
            elif named:
                keys = (stem(lower),)
            else:
                # "HuggingFace" holds "Hugging Face": a word joined in camel case is also
                # read by its parts.
                parts = [word, *_CAMEL.split(word)] if _CAMEL.search(word) else [word]
                keys = tuple(dict.fromkeys(k for k in map(_term_key, map(str.lower, parts)) if k))
                if _LETTER_NAME.fullmatch(word) and not (word in "AI" and _opens(text, match)):
                    keys = (word.lower(),)  # "top K", "top P", "B ... and A with zeros"
            token = Token(word, keys, None if named else direction(lower), negation)
            add(token, match.start(), match.end())
    _merge_list_items(tokens)
    return tokens


def _names_either_side(text: str, match: re.Match) -> bool:
    """Whether the words right before and after ``match`` are both names (a capital inside the
    word or a digit: "DeepSeek-V3", "R1", "ResNet", "GPT")."""
    before = re.findall(r"[\w\-.]+", text[max(0, match.start() - 40) : match.start()])[-1:]
    after = re.findall(r"[\w\-.]+", text[match.end() : match.end() + 40])[:1]
    return bool(before and after) and all(_NAMED.search(w[0]) for w in (before, after))


def _opens(text: str, match: re.Match) -> bool:
    """Whether the word opens its sentence ("A token is ...": the article, not a name)."""
    before = text[: match.start()].rstrip()
    return not before or before[-1] in ".!?:;\n-*"


def _in_name(text: str, match: re.Match) -> bool:
    """Whether a capitalised word inside a clause is part of a name with the capitalised word
    before or after it ("Big Code Models", "Mistral Large"): then it is no direction word."""
    word = match.group(0)
    if not word[:1].isupper():
        return False
    before = text[: match.start()].rstrip()
    if not before or before[-1] in ".!?:;,>-(\n":
        return False
    neighbours = (
        re.findall(r"\w+", before[-30:])[-1:]
        + re.findall(r"\w+", text[match.end() : match.end() + 30])[:1]
    )
    return any(n[:1].isupper() for n in neighbours)


def _merge_list_items(tokens: list[Token]) -> None:
    """A clause opened by a comma that holds no more than :data:`LIST_ITEM_KEYS` keys is an
    item of a list: it joins the clause before it."""
    by_clause: dict[int, list[Token]] = {}
    for token in tokens:
        by_clause.setdefault(token.clause, []).append(token)
    order = sorted(by_clause)
    merged_into: dict[int, int] = {}
    for previous, current in itertools.pairwise(order):
        members = by_clause[current]
        keys = {k for t in members for k in t.keys} | {
            f"~{t.direction[0]}" for t in members if t.direction
        }
        same_sentence = members[0].sentence == by_clause[previous][-1].sentence
        # A piece that points a way or denies says something of its own: "works with any
        # model" is a clause, "classification and RAG answers" an item.
        says = any(t.direction or t.negation for t in members)
        if members[0].after_comma and same_sentence and not says and len(keys) <= LIST_ITEM_KEYS:
            merged_into[current] = merged_into.get(previous, previous)
    for token in tokens:
        token.clause = merged_into.get(token.clause, token.clause)


def _phrase(tokens: list[Token]) -> Phrase:
    return Phrase(
        _keys_of(tokens),
        {n[1:] for t in tokens if t.quantity for n in t.keys if n.startswith("#")},
        joined_by=tokens[0].joined_by,
    )


#: The most terms a phrase after "and" holds and still is denied by a negation before it.
DENIED_AFTER_AND = 2


def _negate(phrases: list[Phrase], groups: list[list[Token]]) -> None:
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
    for phrase, tokens in zip(phrases, groups, strict=True):
        joined = tokens[0].joined_by
        terms = {k for t in tokens for k in t.keys if not k.startswith("#")}
        statement = len(terms) > DENIED_AFTER_AND or any(
            t.text.lower() in STATEMENT_VERBS for t in tokens
        )
        negated = negated and bool(joined) and (joined != "and" or not statement)
        for token in tokens:
            negated = negated and not (aside and token.aside != aside) and not token.after_colon
            # "non-English text": "non" denies the word it is glued to, no further.
            negated = negated and not (word is not None and token.compound != word)
            negated = (negated and token.text.lower() not in SUBJECT_PRONOUNS) or token.negation
            if token.negation:
                aside = token.aside
                word = token.compound if token.text.lower() == "non" else None
                if before and before[-1][1].text.lower() in STATEMENT_VERBS:
                    # "self-attention with future elements is not allowed": the negation
                    # denies what is said of the subject, not the subject, which it neither
                    # affirms nor denies.
                    for earlier, said in before:
                        earlier.negated.update(k for k in said.keys if not k.startswith("#"))
            phrase.negation = phrase.negation or token.negation
            terms = {k for k in token.keys if not k.startswith("#")}
            (phrase.negated if negated else phrase.affirmed).update(terms)
            before.append((phrase, token))
            # "don't give any example": "any" after a negation says "no", not "all".
            if negated and token.direction and token.text.lower() != "any":
                phrase.negated_scales.add(token.direction[0])


def _groups(tokens: Iterable[Token], attribute: str) -> list[list[Token]]:
    groups: dict[int, list[Token]] = {}
    for token in tokens:
        groups.setdefault(getattr(token, attribute), []).append(token)
    return [groups[i] for i in sorted(groups)]


def _clause(tokens: list[Token]) -> Clause:
    groups = _groups(tokens, "phrase")
    phrases = [_phrase(p) for p in groups]
    _negate(phrases, groups)
    qualified: dict[str, set[str]] = {}
    for modifier in _modifiers(tokens):
        qualified.setdefault(modifier.scale, set()).add(modifier.term)
    return Clause(
        " ".join(t.text for t in tokens),
        {k for t in tokens for k in t.keys} | {f"~{t.direction[0]}" for t in tokens if t.direction},
        {k[1:] for t in tokens for k in t.keys if k.startswith("#")},
        [t.direction for t in tokens if t.direction],
        phrases,
        tokens[0].after_comma,
        qualified,
    )


def _term_keys(tokens: Iterable[Token]) -> frozenset[str]:
    return frozenset(k for t in tokens for k in t.keys)


def _comparisons(tokens: list[Token]) -> list[Comparison]:
    """Each "A ... -er than B", and each "A ... successor of B" (a relation word between two
    sides of one clause)."""
    found = []
    for i, token in enumerate(tokens):
        if token.text.lower() == "than" and (i == 0 or tokens[i - 1].clause != token.clause):
            # The direction word it compares by: the last one before it in its sentence.
            for j in range(i - 1, -1, -1):
                if tokens[j].sentence != token.sentence:
                    break
                if tokens[j].direction:
                    scale, sign = tokens[j].direction
                    subject = [t for t in tokens[:j] if t.sentence == token.sentence]
                    complement = [t for t in tokens[i:] if t.clause == token.clause]
                    found.append(
                        Comparison(scale, sign, _term_keys(subject), _term_keys(complement))
                    )
                    break
        elif token.direction and token.text.lower() in RELATION_WORDS:
            subject = [t for t in tokens[:i] if t.sentence == token.sentence]
            complement = [t for t in tokens[i + 1 :] if t.clause == token.clause]
            if _term_keys(subject) and _term_keys(complement):
                scale, sign = token.direction
                found.append(Comparison(scale, sign, _term_keys(subject), _term_keys(complement)))
    return found


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
        found.extend(
            Quantity(key[1:], beside, near, frozenset(counted))
            for key in token.keys
            if key.startswith("#")
        )
    return found


#: The side of a change "from A to B" holds at most this many words.
SIDE_WORDS = 6


def _transitions(tokens: list[Token]) -> list[tuple[frozenset[str], frozenset[str]]]:
    """Each "from A to B" (or "into B") of one sentence: what changes into what ("switching
    from FP32 to INT8", "from 32-bit floats into lower precision")."""
    found = []
    for i, token in enumerate(tokens):
        if token.text.lower() != "from":
            continue
        sentence = [t for t in tokens[i + 1 :] if t.sentence == token.sentence]
        ends = [j for j, t in enumerate(sentence) if t.text.lower() in ("to", "into")]
        if not ends or ends[0] > SIDE_WORDS:
            continue
        after = sentence[ends[0] + 1 : ends[0] + 1 + SIDE_WORDS]
        start = _term_keys(sentence[: ends[0]])
        end = _term_keys(t for t in after if t.clause == token.clause)
        if start and end:
            found.append((start, end))
    return found


#: Readings remembered: the same passages come back for each sentence ``rag check`` checks.
READINGS = 8192


@lru_cache(maxsize=READINGS)
def read(text: str) -> Reading:
    """``text`` (a sentence, or a source's unit with its context) read for checking. The
    reading is shared by every caller that reads the same text: it is not to be changed."""
    text = strip_citations(text)
    tokens = _tokens(_IDIOM.sub(lambda m: IDIOMS[m.group(0).lower()], text))
    terms = list(dict.fromkeys(k for t in tokens for k in t.keys if not k.startswith("#")))
    return Reading(
        text,
        tokens,
        [_clause(c) for c in _groups(tokens, "clause")],
        terms,
        {k[1:] for t in tokens for k in t.keys if k.startswith("#")},
        names(text),
        _all_words(text) | _initials(tokens),
        [
            set(_term_keys(t)) | {f"~{x.direction[0]}" for x in t if x.direction}
            for t in _groups(tokens, "tie")
        ],
        _comparisons(tokens),
        _modifiers(tokens),
        _quantities(tokens),
        _transitions(tokens),
    )
