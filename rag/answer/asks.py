"""What a question asks for, read from English question words and the question's shape alone
(no word of any one set of notes): the kind of answer (a date, a figure, a person, what an
acronym stands for), the names it is about, and whether it wants a list, a comparison of
sides, or all of something.

A follow-up is read with the conversation (:func:`read_question`): an elliptical turn ("And
LoRA alone?", "And to train it?") keeps the earlier question's frame, and a question that names
nothing ("How much memory does it save?") keeps the earlier subject.

Which questions compare, ask several things or ask about all of something, and their parts, are
the retriever's question plan's (:mod:`rag.retrieval.question`); what a part or an aggregation
asks for (a figure, an average, a count's condition) is read here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from rag.answer.arithmetic import AVERAGE, COUNT, TOTAL
from rag.core import QUESTION_WORDS, names, search_terms
from rag.retrieval import QuestionPlan, plan_question
from rag.retrieval.question import AGGREGATION, BRIDGE, COMPARISON, CONJUNCTION

DATE = "date"
NUMBER = "number"
PERSON = "person"
EXPANSION = "expansion"
PERCENT = "percent"
MONEY = "money"
MEMORY = "memory"
DURATION = "duration"
RATIO = "ratio"

_ASKS_NUMBER = re.compile(
    r"\bhow (?:many|much|long|big|large|old|often|fast|small|far)\b|\bwhat (?:percentage|"
    r"percent|number|share|amount|size|price|cost|fee|salary|budget|rate)\b|"
    r"\b(?:by )?what percentage\b",
    re.I,
)
# "Maxine Thompson's salary?", "the cost of the Pro tier": a figure named is asked for, unless
# the question only asks whether there is one ("Does it have a cost?": yes or no, and what),
# or points back to one it asks something else of ("Within that budget, what can you scale?").
_NAMES_FIGURE = re.compile(
    r"(?<!\bthat )(?<!\bthis )(?<!\bsame )\b(?:cost|price|salary|fee|budget)s?\b", re.I
)
_YES_NO = re.compile(
    r"^\s*(?:(?:and|so|then|but)\s+)?(?:does|do|did|is|are|was|were|can|could|will|would|"
    r"should|has|have|had)\b",
    re.I,
)
_ASKS_DATE = re.compile(
    r"\bwhen(?:['’]s| (?:was|is|are|did|does|do|will|were|has|have|had|can|could|should))\b|"
    r"\bwhat (?:year|date)\b|\bwhich (?:year|date|month)\b",
    re.I,
)
_ASKS_PERSON = re.compile(
    r"^\s*(?:and\s+)?who\b|\bwho (?:is|was|won|signed|founded|leads?|made|makes|came up)\b",
    re.I,
)
_ASKS_EXPANSION = re.compile(r"\bstands? for\b|\bshort for\b|\bacronym\b", re.I)
_AUX = (
    r"(?:does|do|did|is|are|was|were|has|have|had|can|could|will|would|should|make|makes|"
    r"take|takes|it|there)"
)
# What is asked for: "how many layers does …", "what is the contract number of …", "Maxine
# Thompson's current salary", "which product does …".
_MEASURED = (
    re.compile(r"\bhow (?:many|much)\s+(.*?)\s*\b" + _AUX + r"\b", re.I),
    re.compile(
        r"^\s*(?:and\s+)?(?:what|which)(?:['’]s| is| are| was| were)\s+(?:the |a |an |its |their )?"
        r"(.+?)(?:\s+\b(?:of|for|in|on|at|that|who|which|between|behind|from|to|with)\b|[?.]|$)",
        re.I,
    ),
    re.compile(r"^\s*(?:and\s+)?(?:what|which)\s+([\w-]+(?:\s+[\w-]+)?)\s+" + _AUX + r"\b", re.I),
    re.compile(r"^\s*(?:and\s+)?(?:what|which)\s+([\w-]+)\s+\w+(?:s|ed)\b", re.I),
)
# Words that only carry the question ("Where is it located?"): they weigh less.
_FRAME = frozenset("located based situated called named known considered exactly actually".split())
#: The weight of such a word.
FRAME_WEIGHT = 0.3
# "What is QLoRA?", "What are embeddings?", "What does apply_chat_template do?", "In LoRA,
# what does the rank r control?": a definition is asked for.
_DEFINES = (
    re.compile(
        r"^\s*(?:and\s+)?what(?:['’]s| is| are| was| were)\s+(?:an?\s+|the\s+)?([^?]+?)"
        r"\s*\??\s*$",
        re.I,
    ),
    re.compile(
        r"\bwhat (?:does|do|did) (?:an?\s+|the\s+)?([^?]+?)\s+(?:do|control|mean|measure|"
        r"represent|stand for)\b",
        re.I,
    ),
)
# "X in transformers", "X for RAG": what X is said of, not X.
_TAIL = re.compile(r"\s+\b(?:in|for|on|with|within|inside|from|at)\b.*$", re.I)
#: A thing to define has at most this many words ("the KV cache", not a whole clause).
DEFINED_WORDS = 4
_ASKS_PERCENT = re.compile(r"\bpercent(?:age)?\b|%", re.I)
_ASKS_DURATION = re.compile(
    r"\bhow long\b|\bduration\b|\bhow many (?:months|years|weeks|days)\b", re.I
)
_MEMORY_WORDS = frozenset("memory ram vram disk storage".split())
# "How much smaller does it make the model?": a comparison asked by how much, which a factor,
# a multiple or a share answers; the comparative is how it is asked, not what is measured.
_COMPARATIVES = frozenset(
    """smaller larger bigger faster slower cheaper longer shorter higher lower greater fewer
    less more better worse quicker heavier lighter""".split()
)
_ASKS_RATIO = re.compile(
    r"\bhow (?:much|many times)\s+(?:" + "|".join(_COMPARATIVES) + r")\b", re.I
)
#: For each unit, the words that ask for a figure in it: a figure in the unit says them
#: ("about 16 GB" says how much memory).
UNIT_WORDS = {
    MEMORY: _MEMORY_WORDS,
    MONEY: frozenset("cost price fee salary budget pay spend revenue".split()),
    PERCENT: frozenset("percentage percent share".split()),
    DURATION: frozenset("duration time long".split()),
    RATIO: frozenset(),
}
# What a figure measures: a question asking for one of these asks for a number.
_QUANTITIES = frozenset(
    "size length count number amount price cost rate percentage share budget fee salary value "
    "total".split()
)
_ASKS_MONEY = re.compile(
    r"\b(?:cost|costs|price|salary|fee|fees|budget|pay|paid|spend|revenue)\b", re.I
)
_WANTS_LIST = re.compile(
    r"^\s*(?:what|which) (?:are|were)\b|\b(?:list|name) (?:the|all)\b|\bwhat (?:steps|kinds|"
    r"types|ways|features|libraries|products|benefits|biases|limitations)\b|\bwhich (?:kinds|"
    r"types|ways)\b|\b(?:steps|ways|kinds|types|features|elements|components|stages|levels)"
    r" of\b|\bthe (?:two|three|four|five|six|\d+)\b",
    re.I,
)
_AVERAGE = re.compile(r"\b(?:average|mean)\b", re.I)
_TOTAL = re.compile(r"\b(?:total|sum|combined|altogether|in all)\b", re.I)
_CONDITION = re.compile(
    r"((?:[\w-]+\s+){0,2})\b(under|below|less than|fewer than|at most|over|above|more than|"
    r"at least)\s+([$€£]?)(\d[\d,]*(?:\.\d+)?)\s*([kKM])?\b",
    re.I,
)
# A follow-up that asks the question before it again, of something else: "And Llama 3?",
# "What about GPT-4?", "And to train it?"; not a question of its own, however short ("How are
# they pre-trained?": a question word and its verb).
_OWN_QUESTION = (
    r"(?!.*\b(?:what|how|why|when|where|who|which)\b.*\b(?:is|are|does|do|did|was|were|can|"
    r"should)\b)"
)
_ELLIPTICAL = re.compile(
    rf"^\s*(?:and|what about|how about|same for|also)\b{_OWN_QUESTION}|"
    rf"^{_OWN_QUESTION}\s*\S+(?:\s+\S+){{0,3}}\?\s*$",
    re.I,
)
# A follow-up that refers back to what the conversation is about: "Does it have a cost?",
# "Is it any different with Claude?", "What comes after that?".
_REFERS = re.compile(r"\b(?:it|its|that|this|those|these|they|them|one|ones|then)\b", re.I)
# A request that only makes sense of what was just discussed, naming nothing of its own:
# "Can you give me a worked example?", "Tell me more.", "Could you explain in more detail?"
# ("What is an example of a frontier model?" names something: it asks its own question).
_ASKS_FOR_MORE = re.compile(r"\b(?:examples?|more|details?|elaborate|explain)\b", re.I)
_REQUEST_WORDS = frozenset(
    "can could would will you give show tell me us worked concrete simple real example more "
    "detail explain elaborate any another please some further provide share".split()
)
# A word closing a question that only carries it ("And what is a context window, then?"):
# no reference to anything before, and nothing to define.
_PARTICLE = re.compile(r",\s*(?:then|please)\s*(?=[?.!]?\s*$)", re.I)
# "What comes after that?", "And next?": the next step of what the last answer showed.
_NEXT = re.compile(
    r"\b(?:after that|after this|what(?:'s| is| comes) next|next step|and then)\b", re.I
)
# The words that say a comparison is asked, not what is compared.
_COMPARING = frozenset("difference differ different compare compared versus v".split())
NUMBER_WORDS = "zero one two three four five six seven eight nine ten".split()
_NUMBER_WORDS = {word: str(n) for n, word in enumerate(NUMBER_WORDS)}


@dataclass(frozen=True)
class Condition:
    """What a counted document must meet: "a current salary under $80,000"."""

    #: True for under, below, less than, at most; False for over, above, more than, at least.
    below: bool
    limit: float
    #: The currency of the limit ("" for none): the figure compared must have it too.
    currency: str
    #: The search terms of what is compared ("current", "salary").
    of: frozenset[str]

    def met_by(self, value: float) -> bool:
        return value < self.limit if self.below else value > self.limit


@dataclass(frozen=True)
class Asks:
    """What a question asks for."""

    question: str
    #: :data:`DATE`, :data:`NUMBER`, :data:`PERSON`, :data:`EXPANSION`, or None.
    kind: str | None = None
    #: Search terms of the names it is about ("maxine", "thompson"; "qlora").
    subjects: frozenset[str] = frozenset()
    #: What it asks for, as search terms: X of "how many X", "what is the X of …", "which X
    #: does …" ("layer"; "contract", "number"; "product").
    measured: frozenset[str] = frozenset()
    #: It asks for several things: steps, ways, kinds, "the three …".
    wants_list: bool = False
    #: For a comparison: the search terms of each side.
    sides: tuple[frozenset[str], ...] = ()
    #: It asks about all of something (a line for each document found) ...
    aggregate: bool = False
    #: ... what it computes over them: "average", "total" or "count" ("" for none) ...
    operation: str = ""
    #: ... and the documents that are them, when the question's kind names documents ("all
    #: Carllm contracts"): the retriever's plan's scope (sources, as stored).
    scope: tuple[str, ...] = ()
    #: For a count with a condition ("a current salary under $80,000").
    condition: Condition | None = None
    #: For an acronym to expand: the acronym.
    acronym: str = ""
    #: For "What is X?": the search terms of X, which a definition opens with.
    defines: frozenset[str] = frozenset()
    #: "What comes after that?": the step after what the last answer showed.
    next_step: bool = False
    #: "What is the first step?": which of several it asks for (1, 2, …; -1 for the last).
    ordinal: int = 0
    #: For a question asking two things ("What does X do, and how is it set?"): the search
    #: terms of each part, each of which the answer must give a line to.
    parts: tuple[frozenset[str], ...] = ()
    #: For a figure: the unit it must come in (:data:`PERCENT`, :data:`MONEY`,
    #: :data:`MEMORY`, :data:`DURATION`; "" for any).
    unit: str = ""
    #: Search terms from the conversation before it, with their weight (its own weigh 1).
    context: dict[str, float] = field(default_factory=dict)
    #: The text its sentences are matched with by meaning: the question, and for a follow-up
    #: the earlier question it leans on.
    text: str = ""
    #: Its subjects are the conversation's ("How much memory does it save?" after "What is
    #: QLoRA?"): the question doesn't say them, so its words can't match them.
    inherited: bool = False

    @property
    def own_weights(self) -> dict[str, float]:
        """The question's own search terms, each with its weight: 1 (a number word counts as
        its digits too: "one token" is "1 token"), less for a word that only carries it."""
        own = {t: FRAME_WEIGHT if t in _FRAME else 1.0 for t in search_terms(self.question)}
        return own | {_NUMBER_WORDS[t]: 1.0 for t in own if t in _NUMBER_WORDS}

    @property
    def weights(self) -> dict[str, float]:
        """Each search term with its weight: the question's own (:attr:`own_weights`), the
        conversation's less."""
        return {**self.context, **self.own_weights}


def _kind(question: str) -> str | None:
    if _ASKS_EXPANSION.search(question):
        return EXPANSION
    for asks, kind in ((_ASKS_DATE, DATE), (_ASKS_NUMBER, NUMBER), (_ASKS_PERSON, PERSON)):
        if asks.search(question):
            return kind
    if _NAMES_FIGURE.search(question) and not _YES_NO.search(question):
        return NUMBER
    return None


def _defined(question: str) -> frozenset[str]:
    """For a question asking what X is (or does): the search terms of X."""
    for pattern in _DEFINES:
        match = pattern.search(question)
        if match:
            defined = _TAIL.sub("", match.group(1))
            if 0 < len(defined.split()) <= DEFINED_WORDS and " of " not in f" {defined} ":
                return frozenset(search_terms(defined))
    return frozenset()


def _unit(question: str, measured: frozenset[str]) -> str:
    """The unit a figure asked for comes in ("" for any): a share for "what percentage", an
    amount of money for "what does it cost" (not for "how much memory does it cost"), a
    size in bytes for "how much memory", a time for "how long"."""
    said = " ".join(measured)
    if _ASKS_PERCENT.search(question):
        return PERCENT
    if measured & _MEMORY_WORDS:
        return MEMORY
    if _ASKS_MONEY.search(question) and (not measured or _ASKS_MONEY.search(said)):
        return MONEY
    if _ASKS_DURATION.search(question):
        return DURATION
    if not measured and _ASKS_RATIO.search(question):
        return RATIO
    return ""


ORDINALS = {
    "first": 1,
    "initial": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "last": -1,
    "final": -1,
}
_ORDINAL = re.compile(r"\b(" + "|".join(ORDINALS) + r")\b", re.I)
_NUMBERED = re.compile(r"\b(?:step|stage|phase|part|level|week|day)\s+(\d{1,2})\b", re.I)


def ordinals(text: str) -> set[int]:
    """The ordinals ``text`` names: "first", "the final step" (-1), "Step 2"."""
    found = {ORDINALS[m.group(1).lower()] for m in _ORDINAL.finditer(text)}
    return found | {int(m.group(1)) for m in _NUMBERED.finditer(text)}


def _measured(question: str) -> frozenset[str]:
    """The search terms of what the question asks for (see :attr:`Asks.measured`)."""
    for pattern in _MEASURED:
        match = pattern.search(question)
        if match:
            asked = re.split(r"['’]s\s+", match.group(1))[-1]  # "Maxine Thompson's salary"
            terms = [t for t in search_terms(asked) if t not in QUESTION_WORDS | _COMPARATIVES]
            if terms:
                return frozenset(terms)
    return frozenset()


def _aggregation(question: str, kind: str | None) -> tuple[str, Condition | None]:
    """For a question about all of something: what it computes ("average", "total",
    "count"), and a count's condition."""
    operation = (
        AVERAGE
        if _AVERAGE.search(question)
        else TOTAL
        if _TOTAL.search(question)
        else COUNT
        if kind == NUMBER and re.search(r"\bhow many\b", question, re.I)
        else ""
    )
    match = _CONDITION.search(question)
    condition = None
    if match:
        of, word, currency, figure, scale = match.groups()
        value = float(figure.replace(",", "")) * {"k": 1e3, "m": 1e6}.get((scale or "").lower(), 1)
        below = word.lower() in ("under", "below", "less than", "fewer than", "at most")
        condition = Condition(below, value, currency, frozenset(search_terms(of)))
    return operation, condition


def _sides(plan: QuestionPlan) -> tuple[frozenset[str], ...]:
    """For a comparison: the search terms of each side, as the plan splits it."""
    if plan.kind != COMPARISON:
        return ()
    sides = tuple(
        frozenset(t for t in search_terms(part) if t not in QUESTION_WORDS | _COMPARING)
        for part in plan.parts[:2]
    )
    return sides if len(sides) == 2 and all(sides) and sides[0] != sides[1] else ()


def _parts(plan: QuestionPlan) -> tuple[frozenset[str], ...]:
    """For a question asking several things, or joining one to another (a bridge): the
    search terms of each part, each of which the answer gives a line."""
    if plan.kind not in (CONJUNCTION, BRIDGE) or len(plan.parts) < 2:
        return ()
    # A statement before the questions ("I'm using a chat model.") asks for nothing.
    asked = [p for p in plan.parts if plan.kind == BRIDGE or _asks_something(p)]
    return tuple(frozenset(search_terms(p)) for p in asked if search_terms(p))


def _asks_something(part: str) -> bool:
    """A part that is a question: it opens with a question word or ends with "?"."""
    words = part.strip().lower().split()
    return part.rstrip().endswith("?") or bool(words and words[0] in QUESTION_WORDS)


def _asks_for_more(question: str) -> bool:
    """Whether ``question`` asks for more of what was just discussed (an example, details)
    and names nothing else: it refers back as "it" does."""
    return bool(_ASKS_FOR_MORE.search(question)) and set(search_terms(question)) <= _REQUEST_WORDS


def read_question(
    question: str, earlier: Sequence[str] = (), plan: QuestionPlan | None = None
) -> Asks:
    """What ``question`` asks for; ``earlier``: the conversation's questions before it, the
    last last (a follow-up keeps what it leaves out); ``plan``: the question's plan, as the
    retriever made it with the store's catalog (else made here, without one)."""
    question = _PARTICLE.sub("", question.strip())
    plan = plan or plan_question(question)
    kind = _kind(question)
    subjects = frozenset(t for name in names(question) for t in search_terms(name))
    measured = _measured(question)
    if kind is None and measured & _QUANTITIES:  # "What chunk size should I use?"
        kind = NUMBER
    unit = _unit(question, measured) if kind == NUMBER else ""
    acronym = ""
    if kind == EXPANSION:
        acronym = next((n for n in names(question) if sum(c.isupper() for c in n) >= 2), "")
    parts = _parts(plan)
    defines = _defined(plan.parts[0] if parts else question)
    context: dict[str, float] = {}
    text = question
    inherited = False
    if earlier:
        before = read_question(earlier[-1], earlier[:-1])
        elliptical = bool(_ELLIPTICAL.search(question))
        points_back = bool(_REFERS.search(question)) or _asks_for_more(question)
        refers = elliptical or points_back
        # The earlier question's frame ("tokenizer vocabulary", "memory"), less what it was
        # about when this one is about something new: the names it asked about when this one
        # names others ("And Llama 3?"), and the thing it asked to define too when this one
        # doesn't point back to it ("And top K?" after "What does the temperature setting
        # do?"; not "How much memory does it take for Llama 3 8B?" after "What is the KV
        # cache?"). What the earlier one was about when this one names nothing and refers to
        # it ("it").
        new_focus = bool(subjects) or bool(
            elliptical and not points_back and set(search_terms(question)) - before.weights.keys()
        )
        focus = before.subjects if points_back else before.subjects | before.defines
        kept = before.weights
        if new_focus:
            kept = {t: w for t, w in kept.items() if t not in focus}
        elif elliptical or (refers and len(set(search_terms(question))) <= FEW_TERMS):
            # "it" is what the earlier question named or asked to define ("What is QLoRA?")
            subjects = before.subjects | before.defines
            # ... as that one said it: when it only pointed back too ("the supervised one"),
            # what it was about may be none of the names before it.
            inherited = bool(subjects) and not before.inherited
        weight = (
            CONTEXT_WEIGHT_ELLIPTICAL
            if elliptical
            else CONTEXT_WEIGHT_REFERRING
            if refers
            else CONTEXT_WEIGHT
        )
        context = {t: w * weight for t, w in kept.items()}
        if elliptical:
            kind = kind or before.kind
            measured = measured or before.measured
            unit = unit or before.unit
        frame = before.question
        if new_focus:  # "What about Gemini?" after "… of Claude 3.5 Sonnet?": not Claude's
            frame = " ".join(w for w in frame.split() if not set(search_terms(w)) & focus)
        text = f"{question} {' '.join(frame.split())}" if refers else question
    aggregate = plan.kind == AGGREGATION
    operation, condition = _aggregation(question, kind) if aggregate else ("", None)
    return Asks(
        question,
        kind,
        subjects,
        measured,
        bool(_WANTS_LIST.search(question)),
        _sides(plan),
        aggregate,
        operation,
        plan.scope,
        condition,
        acronym,
        defines,
        bool(earlier) and bool(_NEXT.search(question)),
        next(iter(ordinals(question)), 0) if len(ordinals(question)) == 1 else 0,
        parts,
        unit,
        context,
        text,
        inherited,
    )


#: Weight of the earlier question's terms in a follow-up that asks something of its own, in
#: one that refers back to it ("Does it have a cost?"), and in an elliptical one ("And Llama
#: 3?"), which asks the earlier question again of a new subject.
CONTEXT_WEIGHT = 0.3
CONTEXT_WEIGHT_REFERRING = 0.5
#: A question referring back with at most this many terms of its own ("How much memory does
#: it save?") is about what the conversation was about; a longer one has its own subject.
FEW_TERMS = 3
CONTEXT_WEIGHT_ELLIPTICAL = 0.8


def expands(acronym: str, text: str) -> bool:
    """Whether ``text`` spells ``acronym`` out: words whose initials are its capitals, in
    order ("Retrieval-Augmented Generation" for RAG)."""
    letters = [c for c in acronym if c.isupper()]
    if len(letters) < 2:
        return False
    initials = [w[0].upper() for w in re.findall(r"[A-Za-z]+", text)]
    n = len(letters)
    return any(initials[i : i + n] == letters for i in range(len(initials) - n + 1))


_SPELLED_OUT = re.compile(
    r"^(?P<words>[^()]{3,}?)\s*\((?P<acronym>[A-Z][A-Za-z0-9]*[A-Z][A-Za-z0-9]*)\)\s*$"
)


def defines_acronym(text: str) -> bool:
    """Whether ``text`` is the words of an acronym, then the acronym in brackets: a heading
    "Retrieval-Augmented Generation (RAG)" is the notes' answer to what RAG stands for."""
    match = _SPELLED_OUT.match(text)
    return bool(match) and expands(match["acronym"], match["words"])
