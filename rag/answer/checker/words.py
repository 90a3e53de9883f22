"""A text cut into tokens: its words and numbers, each with its place in the grammar.

Each word becomes a token. A content term's key is its stem (Snowball's English stemmer:
"quantized" and "quantization" are one term), so a paraphrase that changes a word's form still
holds it; a number's key is ``#`` and its value, written one way however the text writes it
("128k", "128,000", "1e-4"). Negations and direction words
(:mod:`rag.answer.checker.lexicon`) are read for what they do, not as terms. Each token knows
the sentence, clause, phrase and tie it stands in (:mod:`rag.answer.checker.reading` groups
them), and the quotation or aside it stands in.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from decimal import Decimal
from difflib import SequenceMatcher
from functools import lru_cache

from py_rust_stemmers import SnowballStemmer

from rag.answer.checker.lexicon import (
    CLAUSE_WORDS,
    COMMON_ACRONYMS,
    DIRECTIONS,
    FUNCTION_WORDS,
    IDIOMS,
    JOINING_WORDS,
    LIMITING_WORDS,
    META,
    NEGATIONS,
    NOT_DIRECTIONS,
    PARTICLE_VERBS,
    PARTICLES,
    PREFIX_DIRECTIONS,
    STATEMENT_VERBS,
)
from rag.core import (
    NUMBER_WORDS,
    SCALES,
    abbreviated,
    numbers,
    scaled,
    search_terms,
    strip_citations,
)

_STEMMER = SnowballStemmer("english")
#: After a comma, a piece holding this few keys is an item of a list, not a clause
#: ("for extraction, classification and RAG answers").
LIST_ITEM_KEYS = 3

# Words read for their grammar, not as terms a source must hold: the rules compare them.
_NOT_TERMS = NEGATIONS | CLAUSE_WORDS | JOINING_WORDS | FUNCTION_WORDS | META

# One pass over a text: what breaks a clause, a slash, a number (with what is glued to it:
# "8B", "128k"), a word.
# The scales written as words after a number ("2 million"), as rag.core.SCALES knows them.
_SCALE_WORDS = "|".join(word for word in SCALES if len(word) > 2)
# A fraction written in words: "three quarters" is 0.75, not 3. "Two thirds" has no exact
# decimal, and "one quarter" or "a quarter" is as often a share the source writes another way
# ("4x smaller"): neither is read as a number.
_FRACTION_DENOMINATORS = {"quarter": 4, "fifth": 5, "tenth": 10}
_FRACTION_NUMERATORS = {w: int(NUMBER_WORDS[w]) for w in "two three four nine".split()}
_NUMERATORS = "|".join(_FRACTION_NUMERATORS)
_DENOMINATORS = "|".join(_FRACTION_DENOMINATORS)
_TOKEN = re.compile(
    r"(?P<end>[.!?](?=\s|$)|[\n;—–]|\s-\s|->|=>)"
    r"|(?P<comma>,(?!\d))"
    r"|(?P<colon>:(?=\s))"
    r"|(?P<slash>(?<!\d)/|/(?!\d))"
    r"|(?P<plus>(?<=\s)\+(?=\s))"
    r"|(?<![\w.])(?P<number>\d+(?:[.,]\d+)*(?:[eE]-?\d+\b)?)"
    rf"(?:(?P<suffix>[A-Za-z]+\b)|[\s-](?P<scale>{_SCALE_WORDS})\b)?"
    # A fraction takes the "of a" after it: what it counts comes next ("of a word").
    rf"|(?P<fraction>(?i:\b(?:{_NUMERATORS})[\s-](?:{_DENOMINATORS})s?\b(?:\s+of(?:\s+(?:a|an|the)\b)?)?))"
    r"|(?P<word>\w+(?:['’]\w+)?)"
)
# The scale of a range's upper end, read from just after its lower end ("10 to 100 billion";
# "7- or 8-billion", its dash left hanging, as "7 or 8 billion").
_RANGE_SCALE = re.compile(
    rf"\s*(?:[-–]\s+(?:to|and|or)|to|and|or|-|–)\s*\d+(?:[.,]\d+)*[\s-]?(k|K|M|B|{_SCALE_WORDS})\b"
)
# The lower end of a range and its dash, just before a number: "4k-", "200-".
_RANGE_START = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*(?:[kKMBT])?[-–]$")
# A word written as a name: a capital after its first letter, or a digit ("GPT", "R1").
_NAMED = re.compile(r"^\w.*(?:[A-Z]|\d)")
# A capital letter standing alone names something: "top K", "matrix A".
_LETTER_NAME = re.compile(r"[A-Z]")
# A lower-case letter given a value: "r = 16", "k = 60".
_VARIABLE = re.compile(r"[a-z]\s?=(?!=)")
# An adverb right after a word: " modestly".
_ADVERB = re.compile(r"\s+([a-z]+ly)\b")
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
IDIOM = re.compile(
    r"\b(" + "|".join(re.escape(i) for i in sorted(IDIOMS, key=len, reverse=True)) + r")\b",
    re.IGNORECASE,
)


# A noun naming what does something ("tokenizer", "quantizer"): the stemmer would make it the
# thing it works on ("token").
_AGENT_NOUN = re.compile(r"(?:iz|is)ers?$")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The stem a term is compared by (lower-case in, lower-case out); a tool is not what it
    works on: "tokenizer" stays apart from "token"."""
    if _AGENT_NOUN.search(word):
        return _STEMMER.stem_word(word.removesuffix("s").removesuffix("er")) + "er"
    stemmed = _STEMMER.stem_word(word)
    return _CUT_BASES.get(stemmed, stemmed)


# Verbs whose base ends in "ed": the stemmer cuts "embed" and "embeds" to "emb" but keeps
# "embedded" and "embedding" whole, so the base is read as its other forms are.
_CUT_BASES = {"emb": "embed", "imb": "imbed"}


# Direction words by stem: "updated", "updates" and "update" point the same way.
_DIRECTIONS = {stem(word): value for word, value in DIRECTIONS.items()}


def direction(word: str) -> tuple[str, int] | None:
    """(scale, sign) of a direction word (lower-case), None for any other word; a learner's
    typo of a long one ("reducung") is read as the word."""
    if word in NOT_DIRECTIONS:
        return None
    return _DIRECTIONS.get(stem(word)) or _misspelt_direction(word)


#: A word this long or longer, not itself a direction word, may be one misspelt ...
MISSPELT_DIRECTION_LETTERS = 7
#: ... when this alike letter by letter (difflib's ratio) to one, with the same first letter.
MISSPELT_DIRECTION_LIKENESS = 0.87


@lru_cache(maxsize=65536)
def _misspelt_direction(word: str) -> tuple[str, int] | None:
    if len(word) < MISSPELT_DIRECTION_LETTERS or not word.isalpha():
        return None
    for known, value in DIRECTIONS.items():
        if (
            known[0] == word[0]
            and abs(len(known) - len(word)) <= 1
            and SequenceMatcher(None, word, known).ratio() >= MISSPELT_DIRECTION_LIKENESS
        ):
            return value
    return None


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
    #: The sentence it is in, counted by full stops ("!", "?") only: a semicolon, a dash or a
    #: line break ends a ``sentence`` but not a statement.
    statement: int = 0
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
    #: Whether that aside is in brackets, not quotation marks.
    bracketed: bool = False
    #: Opens what a colon introduces: a negation before the colon does not reach it.
    after_colon: bool = False


def names(text: str) -> set[str]:
    """Proper names, acronyms and identifiers in a sentence (lower-cased), its first word only
    when it can't be an ordinary capitalised word (GPT-4, QLoRA, HumanEval)."""
    found = set()
    for i, match in enumerate(_NAME.finditer(strip_citations(text))):
        word = match.group(0).strip("-./+")
        if len(word) < 2 or word.lower() in COMMON_ACRONYMS:
            continue
        odd = (
            any(c.isdigit() for c in word)
            or any(c.isupper() for c in word[1:])
            or "_" in word  # an identifier: top_p, lora_alpha
        )
        if odd or (i > 0 and word[0].isupper()):
            found.add(word.lower())
    found.update(
        size.group(0).lower()
        for size in _SIZE.finditer(text)
        if _model_name_words(text, size.start(), size.group(0)[-1])
        or _names_a_model(text, size.end(), size.group(0)[-1])
    )
    return found


def all_words(text: str) -> set[str]:
    lowered = text.lower()
    raw = _NAME_WORDS.findall(lowered)
    camel = {p.lower() for w in re.findall(r"\w+", text) for p in _CAMEL.split(w)}
    return (
        camel
        | set(raw)
        | {w.strip("-./+") for w in raw}
        | set(re.findall(r"[^\W_]+", lowered))
        | set(re.findall(r"\w+", lowered))
        # A unit glued to its number: "4GB" holds the "GB" of "4 GB".
        | set(re.findall(r"(?<![a-z])\d+(?:[.,]\d+)*([a-z]{2,})\b", lowered))
    )


def initials(tokens: list[Token]) -> set[str]:
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


#: A size in billions or millions of parameters, as a model's name holds it ("8B", "135M").
_SIZE_TEXT = r"\d+(?:\.\d+)?[BM]"
_SIZE = re.compile(rf"(?<![\w.]){_SIZE_TEXT}\b")
#: A model's size named after its family and version: "Llama 3 8B", "Llama 2 70B".
_VERSIONED_FAMILY = re.compile(r"\b[A-Z][A-Za-z]+ \d{1,2}(?:\.\d)? $")
#: The same without a version, inside a sentence: "... than Mistral 7B".
_FAMILY = re.compile(r"[^\s.!?:;\n]\s+[A-Z][A-Za-z]+ $")


def is_model_size(name: str) -> bool:
    """Whether a name (lower-cased, as :func:`names` gives it) is a model's size ("8b")."""
    return re.fullmatch(_SIZE_TEXT, name, re.IGNORECASE) is not None


#: "model" or "models" right after a size: "a 70B model" names the model by its size.
_MODEL_AFTER = re.compile(r"\s*models?\b", re.IGNORECASE)


def _names_a_model(text: str, end: int, suffix: str) -> bool:
    """Whether a size ending at ``end`` names the model it is the size of, as "a 70B model"
    does: which model is spoken of, not a count beside it ("70B parameters")."""
    return suffix in ("B", "M") and _MODEL_AFTER.match(text, end) is not None


def _model_name_words(text: str, start: int, suffix: str) -> int:
    """How many words before a size ("8B", "135M") name the model it is the size of: 2 for
    "Llama 3 8B", 1 for "... than Mistral 7B", 0 when it counts something ("about 13B")."""
    if suffix not in ("B", "M"):
        return 0
    before = text[max(0, start - 40) : start]
    if _VERSIONED_FAMILY.search(before):
        return 2
    return 1 if _FAMILY.search(before) else 0


def _plain_number(number: str) -> str:
    """A decimal without its trailing zeros ("$0.60" is 0.6, "15 cents" 0.15)."""
    return number.rstrip("0").rstrip(".") if re.fullmatch(r"\d+\.\d+", number) else number


# A number written as two words joined by a dash: "seventy-five".
_TENS = [w for w, v in NUMBER_WORDS.items() if 20 <= int(v) < 100 and int(v) % 10 == 0]
# "one" is read as a number only beside other number words ("twenty-one", "one hundred"):
# alone it counts nothing (NUMBER_WORDS leaves it out).
_WITH_ONE = NUMBER_WORDS | {"one": "1"}
_UNITS = {w: int(v) for w, v in _WITH_ONE.items() if int(v) < 10}
_TENS_AND_UNITS = re.compile(rf"\b({'|'.join(_TENS)})-({'|'.join(_UNITS)})\b", re.IGNORECASE)


def _tens_and_units(match: re.Match) -> str:
    tens, units = match.group(1).lower(), match.group(2).lower()
    return str(int(NUMBER_WORDS[tens]) + _UNITS[units])


# A number word that a scale or a range's other end follows is written as digits, so that it
# is read as digits are: "sixteen thousand" is 16,000, "two hundred" 200, "ten to 100
# billion" 10 billion to 100 billion. "One" and "a" count only before a scale ("one hundred",
# "a thousand words").
_SPELT = {word: value for word, value in NUMBER_WORDS.items() if word != "hundred"}
_SPELT_BEFORE_SCALE = {w: v for w, v in _WITH_ONE.items() if w != "hundred"} | {"a": "1"}
_BEFORE_SCALE = re.compile(
    rf"\b({'|'.join(_SPELT_BEFORE_SCALE)})(?=[\s-]+(?:hundred|{_SCALE_WORDS})\b)",
    re.IGNORECASE,
)
# "2 hundred" is 200: "hundred" multiplies the number before it ("hundred" alone is 100);
# what follows it below a hundred adds to it ("one hundred and seventeen million" is 117
# million, "a hundred and one" 101), unless a "hundred" of its own follows it ("five hundred
# and seven hundred" are two numbers, 500 and 700).
_BELOW_HUNDRED = {w: v for w, v in _WITH_ONE.items() if int(v) < 100}
_HUNDREDS = re.compile(
    rf"\b(\d+)[\s-]+hundred\b(?:(?:\s+and)?\s+(\d{{1,2}}|{'|'.join(_BELOW_HUNDRED)})\b"
    r"(?![.,]\d)(?![\s-]+hundred\b))?",
    re.IGNORECASE,
)


def _hundreds(match: re.Match) -> str:
    rest = match.group(2) or "0"
    return str(int(match.group(1)) * 100 + int(_BELOW_HUNDRED.get(rest.lower(), rest)))


_BEFORE_RANGE_END = re.compile(
    rf"\b({'|'.join(_SPELT)})(?=[-–]?\s+(?:to|and|or)\s+\d)", re.IGNORECASE
)


def _digits(match: re.Match) -> str:
    """The digits of the number word ``match`` holds ("sixteen": "16", "a": "1")."""
    return _SPELT_BEFORE_SCALE[match.group(1).lower()]


def _as_digits(text: str) -> str:
    """``text`` with the numbers it spells in words beside a scale or a range written as
    digits."""
    text = _TENS_AND_UNITS.sub(_tens_and_units, text)
    text = _BEFORE_SCALE.sub(_digits, text)
    text = _HUNDREDS.sub(_hundreds, text)
    return _BEFORE_RANGE_END.sub(_digits, text)


#: An aside in brackets that opens with a word and holds this many words or more says
#: something of its own (not "(32 in Llama 3 8B, 80 in Llama 3 70B)", a list of numbers, nor
#: "(1 + 0.5 + 0)", a sum).
STATEMENT_ASIDE_WORDS = 4


def tokenize(text: str) -> list[Token]:
    """The tokens of ``text`` with their sentence, clause, phrase and tie numbers."""
    text = _as_digits(text)
    tokens: list[Token] = []
    place = {"statement": 0, "sentence": 0, "clause": 0, "phrase": 0, "tie": 0}
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
        token.bracketed = token.aside > len(quoted)
        # An aside that makes a statement of its own ("(full fine-tuning uses about 1e-5 to
        # 2e-5)") is a phrase of its own: what it says is not said of the words around it.
        crossed = {token.aside, tokens[-1].aside} if tokens else set()  # two: into or out of one
        if len(crossed) == 2 and crossed & statements:
            place["phrase"] += 1
            token.phrase = place["phrase"]
        last_end = end
        tokens.append(token)

    # A quotation is mentioned, not asserted: its direction words qualify nothing of the
    # sentence ("Big Code"). Its negations are read: a claim saying what it quotes denies the
    # same ("use no commas" quoted, "using no commas" said).
    quoted = [m.span() for m in _QUOTED.finditer(text)]
    # Where a negation's reach ends early: a quotation, or an aside in brackets ("(or none)").
    asides = quoted + [m.span() for m in _BRACKETED.finditer(text)]
    statements = {
        i
        for i, (a, b) in enumerate(asides, 1)
        if i > len(quoted)
        and text[a + 1 : a + 2].isalpha()
        and len(text[a:b].split()) >= STATEMENT_ASIDE_WORDS
    }
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        if kind == "end":
            if match.group(0) == "." and abbreviated(text[: match.end()]):
                continue  # "Kojima et al. (2022) found ..." goes on
            cut("sentence", "clause", "phrase", "tie")
            if match.group(0) in ".!?":
                cut("statement")
            after_comma = False
        elif kind == "comma":
            cut("clause", "phrase")
            after_comma = True
        elif kind == "colon":  # what follows says what it is: a negation stops there
            after_colon = True
        elif kind == "slash":
            # "key/value heads" names one thing; "input / output" sets two side by side.
            inside = match.start() > 0 and match.end() < len(text)
            if inside and text[match.start() - 1].isalpha() and text[match.end()].isalpha():
                cut("phrase")
            else:
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
                keys = tuple(f"#{_plain_number(scaled(n, scale))}" for n in numbers(value))
            if suffix:
                keys += (stem((value + suffix).lower()),)
            model = _model_name_words(text, match.start(), suffix)
            # "a 7-8B model": the range's lower end names the model as its upper end does.
            sized = _names_a_model(text, shared.end() if shared else match.end(), scale)
            quantity = not (model or sized or _is_name_number(text, match.start(), value))
            add(Token(value + suffix, keys, quantity=quantity), match.start(), match.end())
            if model and len(tokens) > model:
                # "Llama 3 8B" is one word, as "all-MiniLM-L6-v2" is: its parts share one.
                for token in tokens[-model:]:
                    token.compound = tokens[-model - 1].compound
        elif kind == "fraction":
            add(
                Token(match.group(0), (f"#{_fraction(match.group(0))}",), quantity=True),
                *match.span(),
            )
        elif (lower := match.group(0).lower()) in NUMBER_WORDS:  # "four characters"
            add(Token(match.group(0), (f"#{NUMBER_WORDS[lower]}",), quantity=True), *match.span())
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
            mention = any(start < match.start() < end for start, end in quoted)
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
                # "d_model" speaks of the model's dimension: an identifier is read by its
                # words too (written whole, it is still a name: "lora_alpha").
                if "_" in word:
                    parts += [part for part in word.split("_") if len(part) > 2]
                keys = tuple(dict.fromkeys(k for k in map(_term_key, map(str.lower, parts)) if k))
                if _LETTER_NAME.fullmatch(word) and not (word in "AI" and _opens(text, match)):
                    keys = (word.lower(),)  # "top K", "top P", "B ... and A with zeros"
                elif _VARIABLE.match(text, match.start()):
                    keys = (word,)  # "r = 16", "k = 60": a variable is named by its letter
            pointing = (
                None
                if named or _before_degree(lower, text, match) or _particle(lower, tokens)
                else direction(lower)
            )
            if lower in PREFIX_DIRECTIONS and _dashed_to_next(text, match):
                # "over-parametrized and under-trained": more of one, less of the other.
                keys, pointing = (), PREFIX_DIRECTIONS[lower]
            token = Token(word, keys, pointing, negation)
            add(token, match.start(), match.end())
    _merge_list_items(tokens)
    return tokens


def _fraction(words: str) -> str:
    """The value of a fraction written in words ("three quarters": "0.75")."""
    numerator, denominator = re.split(r"[\s-]", words.lower())[:2]
    value = (
        Decimal(_FRACTION_NUMERATORS[numerator])
        / _FRACTION_DENOMINATORS[denominator.removesuffix("s")]
    )
    return _plain_number(format(value.normalize(), "f"))


def _dashed_to_next(text: str, match: re.Match) -> bool:
    """Whether the word is glued by a dash to the word after it ("over-trained")."""
    return (
        text[match.end() : match.end() + 1] == "-"
        and text[match.end() + 1 : match.end() + 2].isalpha()
    )


def _names_either_side(text: str, match: re.Match) -> bool:
    """Whether the words right before and after ``match`` are both names (a capital inside the
    word or a digit: "DeepSeek-V3", "R1", "ResNet", "GPT")."""
    before = re.findall(r"[\w\-.]+", text[max(0, match.start() - 40) : match.start()])[-1:]
    after = re.findall(r"[\w\-.]+", text[match.end() : match.end() + 40])[:1]
    return bool(before and after) and all(_NAMED.search(w[0]) for w in (before, after))


def _before_degree(word: str, text: str, match: re.Match) -> bool:
    """Whether a limiting word qualifies an adverb of degree ("raising memory only modestly",
    "just slightly"): it says how little, not that nothing else is ("only partially" still
    limits: that adverb is a direction word itself)."""
    if word not in LIMITING_WORDS:
        return False
    after = _ADVERB.match(text, match.end())
    return bool(after) and direction(after.group(1)) is None


def _particle(word: str, tokens: list[Token]) -> bool:
    """Whether "up" or "down" is the particle of a verb that takes one, within the three words
    before it ("splits the task up", "breaks it down", "made up of"): it points no way."""
    if word not in PARTICLES:
        return False
    return any(t.text.lower() in PARTICLE_VERBS for t in tokens[-3:])


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
        # A verb of being or having makes it a statement too ("Q4_K_M is the common default,
        # Q8_0 is near-lossless").
        says = any(t.direction or t.negation or t.text.lower() in STATEMENT_VERBS for t in members)
        if members[0].after_comma and same_sentence and not says and len(keys) <= LIST_ITEM_KEYS:
            merged_into[current] = merged_into.get(previous, previous)
    for token in tokens:
        token.clause = merged_into.get(token.clause, token.clause)
