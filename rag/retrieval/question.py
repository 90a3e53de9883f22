"""What a question asks for, in parts: which questions need several documents, and which.

A question one passage answers is searched for as a whole. One that joins documents is not:
"Who introduced the Model Context Protocol, and what does Claude 3.5 Sonnet cost?" has two
answers in two documents, and the search for the whole finds the better-matching half only.
:func:`plan_question` reads the question (no language model; rules of general English, the
search terms of :mod:`rag.core.terms` and the documents catalog of the lexical index) and
says what kind of question it is and which parts to search for one by one:

* **conjunction**: several questions in one ("…, and what …?", "…; how …", two questions);
* **bridge**: one part names what another asks about: a relative clause ("the CTO who joined
  in 2017", "a company that also makes …") or a statement the question then refers to
  ("QLoRA keeps … in a 4-bit format. How does that format …?");
* **comparison**: options set against each other ("A compared with B", "A or B", "than",
  "difference between A and B", lists "A, B and C … differently");
* **aggregation**: everything the documents hold about something ("across all …", "in each",
  "which notes mention …", "how many <kind> have …"): searched document by document, one
  passage each. Where the kind asked for names documents (their titles or headings, in the
  catalog: "all X contracts" in a folder of contracts), those documents are its ``scope``;
* **single**: anything else, searched as a whole, as before.

The retriever (:meth:`rag.retrieval.HybridRetriever.retrieve`) searches each part as well as
the whole question and keeps a passage for each part's best match (and, for an aggregation,
for each document) among the ``k`` it returns; the answer stage reads the same plan (the
prompt lists the parts and labels the passages by document).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Protocol

from rag.core import names, search_terms, split_sentences

__all__ = [
    "AGGREGATION",
    "BRIDGE",
    "COMPARISON",
    "CONJUNCTION",
    "KINDS",
    "SINGLE",
    "DocumentCatalog",
    "QuestionPlan",
    "plan_question",
]

SINGLE = "single"
BRIDGE = "bridge"
COMPARISON = "comparison"
AGGREGATION = "aggregation"
CONJUNCTION = "conjunction"
#: Every kind :func:`plan_question` may return.
KINDS = (SINGLE, BRIDGE, COMPARISON, AGGREGATION, CONJUNCTION)

#: Most parts a question is searched in: each costs a search, and each keeps a passage.
MAX_PARTS = 4
#: A kind asked for names documents when at least this many have it in their headers.
MIN_SCOPE_DOCUMENTS = 2


class DocumentCatalog(Protocol):
    """What planning asks of the store (:class:`rag.store.lexical.LexicalIndex` answers it)."""

    def header_documents(self, terms: Sequence[str]) -> list[str]:
        """Documents with every one of ``terms`` (search terms) in a chunk's "document |
        section" header: in their name, folder or headings."""
        ...


@dataclass(frozen=True)
class QuestionPlan:
    """What a question asks for: its kind, and the parts searched one by one.

    ``parts``: the pieces of the question, each a phrase of its own words, searched besides
    the whole question (an aggregation is searched by its topic and scope instead); empty
    for a single question. ``subjects``: what each part is about (its words, as written, that
    name something no other part names), or, for an aggregation, the topic gathered across
    documents: what an answer should have one line for. ``scope``: for an aggregation whose
    kind names documents, those documents (sources, as stored).
    """

    question: str
    kind: str = SINGLE
    parts: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()
    scope: tuple[str, ...] = ()
    #: For "Who <verb> …?", the verb as written ("founded"): a text naming who did it says
    #: "<verb> by <Name>" or "<Name> <verb>" (:meth:`names_agent`).
    agent_verb: str = ""

    def names_agent(self, text: str) -> bool:
        """Whether ``text`` names who did what a "Who <verb> …?" question asks: "founded by
        Avery", "Avery Lancaster co-founded". "Founded in 2015" matches the question's words
        as well, and names nobody."""
        if not self.agent_verb:
            return False
        verb = re.escape(self.agent_verb)
        return bool(
            re.search(rf"\b{verb}\s+by\s+[A-Z]", text, re.I)
            or re.search(rf"\b[A-Z][\w.'-]*\s+(?:co-)?{verb}\b", text)
        )

    @property
    def spans_documents(self) -> bool:
        """Whether the answer is expected to need more than one document."""
        return self.kind != SINGLE

    @property
    def per_document(self) -> bool:
        """Whether the question is searched document by document, one passage each."""
        return self.kind == AGGREGATION

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "parts": list(self.parts),
            "subjects": list(self.subjects),
            "scope": list(self.scope),
            "agent_verb": self.agent_verb,
        }


# --- the words the rules read: general English, nothing of any one collection ----------------
_WH = (
    r"(?:what|which|who|whom|whose|when|where|why|how"
    r"|is|are|was|were|do|does|did|can|could|should|would|will)"
)
_AUX = frozenset(
    "do does did is are was were has have had can could should would will may might".split()
)
# A new question inside a sentence: "…, and what …", "…, roughly how …", "…; …", "…: which
# …", or a condition: "if …, …", "… if …".
_CLAUSE_BREAK = re.compile(
    rf"\s*;\s*|\s*:\s+(?={_WH}\b)|,?\s+(?:and|but|plus)\s+(?={_WH}\b)"
    rf"|,\s+(?=(?:\w+ly\s+)?{_WH}\b)|,?\s+(?=if\s)",
    re.I,
)
_COMPARISON_CUE = re.compile(
    r"\b(?:compare[sd]?|comparison|comparing|versus|vs\.?|differ(?:s|ence|ences|ently)?"
    r"|than|whereas|agree|disagree|contrast)\b"
    # "different" compares ("How is A different from B?", "Is it different with Claude?"),
    # unless it only qualifies a noun ("scores on different scales": nothing compared).
    r"|\bdifferent\b(?!\s+(?!(?:from|to|than|between|with|in|for|about|on|at|across|among)\b)"
    r"[a-z])",
    re.I,
)
# Where the options of a comparison part: "A than B", "A compared with B", "A or B".
_OPTION_BREAK = re.compile(
    r"\s*,?\s+(?:than|compared\s+(?:with|to)|versus|vs\.?|or(?:\s+than)?|whereas"
    r"|differs?\s+from)\s+",
    re.I,
)
# "if A, B": the condition A and the question B.
_CONDITION = re.compile(r"^\s*(if\s[^,]+),\s+(.+)$", re.I)
_IF = re.compile(r"(?:^|\s)if\s", re.I)
# "between A and B" (the options are A and B)
_BETWEEN = re.compile(r"\bbetween\s+(.+?)\s+and\s+(.+)$", re.I)
# A list "A, B and C" of short items; each item becomes an option.
_LIST_ITEM = re.compile(r"\s*,\s*(?:and\s+|or\s+)?|\s+(?:and|or)\s+", re.I)
# "(A, B, C)": a list given in passing.
_PAREN_LIST = re.compile(r"\(([^()]*,[^()]*)\)")
# "the N that/who/which/whose/where V…": a thing named by what is said of it, often in
# another document ("the manager of the region where the flood was").
_RELATIVE = re.compile(
    r"\b(?:the|a|an)\s+((?:(?!(?:the|a|an)\s)[\w'$%.,-]+\s+){0,4}?[\w'$%.-]+)"
    r"\s+(?:that|who|whom|which|whose|where)\s+(\S+\s+\S.*)$",
    re.I,
)
# Words after which "that" opens what is said ("the notes say that …"), or points ("in that
# format"), rather than opening a relative clause.
_NOT_RELATIVE = frozenset(
    "say says said show shows showed mean means meant think thinks thought know knows knew "
    "claim claims claimed suggest suggests suggested state states stated note notes noted "
    "argue argues argued mention mentions mentioned in on at for of with by from to into "
    "about than like".split()
)
# A later sentence that refers back to an earlier one ("that format", "its", "they").
_BACK_REFERENCE = re.compile(
    r"\b(?:that|this|these|those|its|it|their|they|them|the two|the three|both)\b", re.I
)
# What people call the whole collection searched, and places in it: "across the notes".
_COLLECTION = r"(?:notes|documents|docs|files|sources|pages|sections|topics|places|chapters)"
_ONE_OF_COLLECTION = r"(?:note|document|doc|file|source|page|section|topic|place|chapter)"
# Asking for everything the documents hold about something.
_AGGREGATE_CUE = re.compile(
    r"\b(?:everywhere|throughout|more than one|several|various|different places"
    r"|each (?:time|case|one)|(?:does|did|do|is|was) each"
    r"|(?:in|for) (?:each|every)(?= ?[?.!,;]| ?$| (?:case|one|of them|instance)\b))\b"
    rf"|\b(?:which|what|several|few|many|different|all|across(?: all)?(?: the)?|where in the)"
    rf"\s+{_COLLECTION}\b"
    rf"|\b(?:each|every)\s+{_ONE_OF_COLLECTION}\b"
    rf"|\bthe {_COLLECTION} (?:say|said|describe|list|mention|use|cover|define|explain|agree"
    r"|give|point)\b"
    rf"|\bhow (?:do|does) the {_COLLECTION} \w+"
    r"|\b(?:come|comes|came|show|shows|showed|turn|turns) up\b(?! with)"
    r"|\b(?:are|is|were|was) (?:mentioned|cited|listed|named|discussed|covered)\b",
    re.I,
)
# Where the kind a question gathers over is named: "all/every/each/across (all) <kind>",
# and "how many <kind> <not an auxiliary> …" ("how many employees at X have …": counting
# documents of a kind, unlike "how many states does X cover", a number in one document).
_KIND_CUE = re.compile(r"\b(?:all|every|each|across(?:\s+all)?(?:\s+the)?|how many)\s+", re.I)
_WORD = re.compile(r"[\w'-]+|[^\w\s]")
#: Most words of a kind: "Carllm contracts", "senior engineers".
_KIND_WORDS = 3
# Words that ask rather than name: left out of a part's subject and of an aggregation's topic.
_ASKING = frozenset(
    search_terms(
        "what which who whom whose when where why how much many does did is are was were can "
        "could should would will may might there any some all every each across everywhere "
        "several various different more than one few place time case say said describe listed "
        "list mention mentioned come up show shows appear appears used use refer notes "
        "documents docs files sources topics sections pages else also just actually roughly "
        "about exactly agree disagree differ difference different compare compared bigger "
        "smaller larger more less better worse faster slower cheaper higher lower most least "
        "largest smallest"
    )
)


def _content(text: str) -> list[str]:
    """The search terms of ``text`` that name something (not the asking words)."""
    return [term for term in search_terms(text) if term not in _ASKING]


def _clean(text: str) -> str:
    return " ".join(text.split()).strip(",;:-?.!\"'“”‘’() ")


def _clauses(sentence: str) -> list[str]:
    """The questions a sentence asks ("…, and what …", "…; how …") and the condition it sets
    ("if …, …"), each on its own."""
    pieces = []
    for piece in _CLAUSE_BREAK.split(sentence):
        condition = _CONDITION.match(piece)  # "if I do this, what happens": two parts
        pieces.extend(condition.groups() if condition else [piece])
    return [_clean(piece) for piece in pieces if _clean(piece)]


def _conditional(sentence: str) -> bool:
    """Whether a condition joins two facts: "how much memory would X need if it were Y"."""
    return bool(_IF.search(sentence))


def _relative(clause: str) -> tuple[str, str] | None:
    """(the clause without its relative clause, the thing named and what is said of it) for
    "… the N that/who V …", or None."""
    match = _RELATIVE.search(clause)
    if not match:
        return None
    head, said = match.group(1), match.group(2)
    if head.lower().split()[-1] in _NOT_RELATIVE or not _content(said):
        return None
    outer = clause[: match.start(2)].rsplit(None, 1)[0]  # up to the noun, without "that"
    return _clean(outer), _clean(f"{head} {said}")


def _options(clause: str) -> list[str]:
    """The options a comparison sets against each other within one clause."""
    paren = _PAREN_LIST.search(clause)
    if paren:
        items = [_clean(item) for item in paren.group(1).split(",")]
        return [_clean(clause[: paren.start()] + clause[paren.end() :]), *items]
    between = _BETWEEN.search(clause)
    if between:
        return [_clean(clause[: between.start()] + " " + between.group(1)), between.group(2)]
    pieces = [_clean(p) for p in _OPTION_BREAK.split(clause) if _clean(p)]
    if len(pieces) > 1:
        return pieces
    # "measure A, B and C differently": the list's items, each with the words around it.
    items = [_clean(p) for p in _LIST_ITEM.split(clause) if _clean(p)]
    return items if len(items) > 2 else [clause]


def _kinds(question: str) -> list[list[str]]:
    """The kinds a question may gather over, each as its search terms (the words naming
    something right after a cue, at most :data:`_KIND_WORDS`)."""
    kinds = []
    for cue in _KIND_CUE.finditer(question):
        words = _WORD.findall(question[cue.end() :])
        terms: list[str] = []
        used = 0
        while used < min(len(words), _KIND_WORDS) and _content(words[used]):
            terms.extend(_content(words[used]))
            used += 1
        after = words[used].lower() if used < len(words) else ""
        counting = cue.group(0).lower().startswith("how many")
        if terms and not (counting and after in _AUX):
            kinds.append(terms)
    return kinds


def _kind_scope(question: str, catalog: DocumentCatalog | None) -> tuple[str, ...] | None:
    """Documents whose headers name the kind the question gathers over ("all X contracts",
    "how many employees have …"); None when no kind asked for names documents. The longest
    run of the kind's words that names documents counts ("all Carllm contracts" before "all
    Carllm")."""
    if catalog is None:
        return None
    for terms in _kinds(question):
        for end in range(len(terms), 0, -1):
            documents = catalog.header_documents(terms[:end])
            if len(documents) >= MIN_SCOPE_DOCUMENTS:
                return tuple(documents)
    return None


def _named(text: str, leave_out: AbstractSet[str] = frozenset()) -> str:
    """The words of ``text`` that name something, as written, each once: those with a
    search term that is neither an asking word nor in ``leave_out``."""
    kept: dict[str, None] = {}
    for word in _WORD.findall(text):
        terms = _content(word)
        if terms and not set(terms) <= leave_out:
            kept.setdefault(word.strip("'"), None)
    return " ".join(kept)


def _subjects(parts: Sequence[str]) -> tuple[str, ...]:
    """Each part's own words: those naming something that no other part names."""
    terms = [set(_content(part)) for part in parts]
    return tuple(
        _named(part, {t for j, other in enumerate(terms) if j != i for t in other})
        for i, part in enumerate(parts)
    )


def _distinct(parts: Sequence[str]) -> list[str]:
    """Parts that name something, each once, at most :data:`MAX_PARTS`; a part of asking
    words only ("and do they agree") adds nothing to search for."""
    kept: list[str] = []
    seen: set[tuple[str, ...]] = set()
    for part in parts:
        key = tuple(sorted(set(_content(part))))
        if key and key not in seen:
            seen.add(key)
            kept.append(part)
    return kept[:MAX_PARTS]


# "Who founded …?", "And who signed …?": the verb whose doer is asked for (not "Who is …").
_WHO_DID = re.compile(r"^\s*(?:and\s+)?who\s+([a-z]+(?:ed|s))\b", re.I)


def _agent_verb(question: str) -> str:
    verb = _WHO_DID.match(question)
    return verb.group(1) if verb and verb.group(1).lower() not in _AUX else ""


def _with_names(parts: Sequence[str]) -> list[str]:
    """Conjunction parts, each that names nothing of its own after the names of the part
    before it: "What goes into the QLoRA recipe: how is the base model stored and how are
    the adapters trained?" asks the second and third of QLoRA too, and "how is the base
    model stored" alone finds any note on base models."""
    kept: list[str] = []
    before: list[str] = []  # the names of the last part that had any
    for part in parts:
        own = names(part)
        if own:
            before = own
        elif before:
            part = " ".join([*before, part])
        kept.append(part)
    return kept


def plan_question(question: str, catalog: DocumentCatalog | None = None) -> QuestionPlan:
    """The plan of ``question``: its kind, its parts and their subjects (module docstring).

    ``catalog``: the store's documents catalog, to tell a kind of documents ("all X
    contracts") from any other noun; without it, no aggregation gets a scope and "how many …"
    counts within one document.
    """
    question = " ".join(question.split())
    sentences = [s.text for s in split_sentences(question)] or [question]
    scope = _kind_scope(question, catalog)
    aggregation = bool(_AGGREGATE_CUE.search(question)) or scope is not None
    comparison = bool(_COMPARISON_CUE.search(question))

    parts: list[str] = []
    bridge = False
    for number, sentence in enumerate(sentences):
        if (number and _BACK_REFERENCE.search(sentence)) or _conditional(sentence):
            bridge = True  # "… a 4-bit format. How does that format …?"
        for clause in _clauses(sentence):
            relative = _relative(clause)
            if relative and not aggregation:
                bridge = True
                parts.extend(relative)
            elif comparison:
                parts.extend(_options(clause))
            else:
                parts.append(clause)
    parts = _distinct(parts)
    # "How do the notes' versions of X differ?", "do they agree?": one thing compared across
    # the documents that hold it.
    aggregation = aggregation or (comparison and len(parts) < 2)

    if aggregation:
        topic = _named(question)
        return QuestionPlan(
            question, AGGREGATION, tuple(parts) if len(parts) > 1 else (), (topic,), scope or ()
        )
    if len(parts) < 2:
        return QuestionPlan(question, agent_verb=_agent_verb(question))
    kind = COMPARISON if comparison else BRIDGE if bridge else CONJUNCTION
    searched = _with_names(parts) if kind == CONJUNCTION else parts
    return QuestionPlan(question, kind, tuple(searched), _subjects(parts))
