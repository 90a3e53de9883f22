"""The few English words the checker reads for their grammar, not their topic.

Negations flip what a clause says; comparison and direction words say which way it goes along
a scale (more or less of something, faster or slower, before or after). Both are general
English: no word here names a thing of any one set of notes, so the rules work on any notes.
"""

from __future__ import annotations

#: Words that deny what their clause says ("n't" forms are read from the apostrophe).
NEGATIONS = frozenset(
    """not no never cannot without none nothing neither nor nobody nowhere lack lacks lacking
    barely hardly scarcely omit omits omitted omitting skip skips skipped skipping""".split()
)

# Scales along which a clause can point one way or the other, each word with its sign.
# Opposite words on one scale contradict each other: "more tokens" / "fewer tokens".
_SCALES: dict[str, tuple[str, str]] = {
    "amount": (
        """more most many much greater greatest larger largest large bigger biggest big higher
        highest high increase increases increased increasing grow grows grew grown growing
        growth rise rises rising raise raises raised up multiply multiplies multiplied exceed
        exceeds maximum above add adds added longer longest long inflate inflates inflated
        inflating heavier wider deeper expand expands expanded double doubles doubled doubling
        extensive""",
        """less least few fewer fewest smaller smallest small little lower lowest low
        decrease decreases decreased decreasing reduce reduces reduced reducing shrink shrinks
        shrank drop drops dropped fall falls fell decline declines declined declining down
        divide divides divided below minimum cut cuts shorter shortest short deflate deflates
        deflated deflating lighter narrower shallower save saves saved saving halve halves
        halved halving""",
    ),
    "speed": (
        "faster fastest fast quick quicker quickest quickly rapid speed speeds sped",
        "slower slowest slow slowly slows slowed delay delays",
    ),
    "quality": (
        """better best good strong stronger strongest improve improves improved
        improving outperform outperforms beat beats beating outscore outscores accurate
        robust""",
        """worse worst bad badly poor poorly weak weaker weakest degrade degrades degraded
        hurt hurts harm harms inaccurate fragile""",
    ),
    "effort": (
        "harder hardest hard difficult complex expensive pricier pricey",
        "easier easiest easy easily simple simpler cheap cheaper cheapest trivial",
    ),
    "order": (
        "after later last successor newer newest end",
        "before earlier first predecessor older oldest start prior",
    ),
    "access": (
        "open public released allowed allow allows permitted permissive free",
        "closed private proprietary restricted forbidden forbids forbid prohibited",
    ),
    "change": (
        """changes changed vary varies different dynamic mutable update updates updated
        updating adjust adjusts adjusted adjusting modify modifies modified modifying""",
        "same identical unchanged untouched constant static fixed immutable exactly",
    ),
    "dependence": (
        "proportional proportionally linear",
        "inversely inverse",
    ),
    "scope": (
        "all every always any whole entire everything everywhere",
        "only just some sometimes partially rarely seldom",
    ),
}

#: word -> (scale, +1 or -1), as written above; the checker looks words up by their stems.
DIRECTIONS: dict[str, tuple[str, int]] = {
    word: (scale, sign)
    for scale, sides in _SCALES.items()
    for sign, words in zip((1, -1), sides, strict=True)
    for word in words.split()
}

#: Words sharing a stem with a direction word that point no way: "a common fix" is a remedy,
#: not "fixed" (unchanging); "trades 20-30 percent speed" names the scale, neither faster nor
#: slower.
NOT_DIRECTIONS = frozenset("fix fixes fixing speed".split())

#: Words that talk about the notes rather than their subject ("the notes say that ...").
META = frozenset(
    """note notes say says said according describe describes described description mention
    mentions mentioned list listed lists given call called known refer refers referred also
    such like would could should may might can""".split()
)

#: Acronyms used as common nouns: "an API", "the LLM", "causal LMs" name a kind of thing, not
#: one thing, so a unit need not write them to speak of what the claim does ("OpenAI accepts
#: 0 to 2" holds "OpenAI's API takes a temperature from 0 to 2"). They are still terms. GPU and
#: CPU stay names: where a thing runs is what a claim can get wrong.
COMMON_ACRONYMS = frozenset("api apis llm llms lm lms".split())

#: Words limiting what they qualify ("only the base", "just the adapters"); before an adverb
#: of degree they say how little, not that nothing else is ("raising memory only modestly").
LIMITING_WORDS = frozenset("only just".split())

#: Words that tie a sentence together but say nothing of its subject.
FUNCTION_WORDS = frozenset(
    """even each very too still both other another own rather quite really also its per via
    onto into upon within about around roughly approximately almost nearly usually typically
    often generally mostly one under usual typical""".split()
)

#: Words that join two things a sentence says: "fine-tuning for knowledge and RAG for format".
JOINING_WORDS = frozenset("and or nor with plus versus vs".split())

#: Scales whose words relate two sides ("A before B"): no clause leans one way on them alone.
RELATIONAL_SCALES = frozenset({"order"})

#: Comparatives not formed with "-er" ("faster", "cheaper"): the word "than" compares by.
COMPARATIVES = frozenset("more less fewer better worse".split())

#: Direction words that relate two sides: "GGUF (successor of GGML)", "A before B".
RELATION_WORDS = frozenset(
    "successor predecessor before after prior beat beats beating outperform outperforms outscore "
    "outscores".split()
)

#: Phrases whose words mean something else together: "one or more" points nowhere, "no
#: longer" is a negation, "inversely proportional" one direction.
IDIOMS = {
    "at least": "",
    # "no example at all" is no example: "all" there points no way.
    "at all": "",
    "at most": "",
    "or more": "",
    "or less": "",
    "or fewer": "",
    "more or less": "",
    "no more than": "",
    "no less than": "",
    "not only": "",
    "as well as": "and",
    "for example": "",
    "no of": "number of",
    "no. of": "number of",
    "for instance": "",
    # Words that order or sum up what is said, not the thing it is said of: "In short, the
    # window holds everything" says nothing short.
    "in short": "",
    "above all": "",
    "first of all": "",
    "most importantly": "",
    "more importantly": "",
    "last but not least": "",
    # "at the cost of only a modest increase": "only" before "a" softens, it does not limit.
    "only a": "a",
    "just a": "a",
    "no longer": "not",
    "rather than": "than not",
    "instead of": "not",
    # "instead of just returning it in bulk" denies the returning as "instead of" does: "just"
    # stresses it there, while "not just" alone sets a scope ("not only").
    "instead of just": "not",
    "in place of": "not",
    "a lot of": "much",
    # "slips a little at 4-5 bits" says how far, not which way.
    "a little": "slightly",
    # "gives up some precision" loses it: "up" points no way.
    "give up": "lose",
    "gives up": "loses",
    "gave up": "lost",
    "giving up": "losing",
    # "skip" denies what is skipped; a skip connection is a thing, not a denial.
    "skip connection": "residual connection",
    "skip connections": "residual connections",
    # "leave out any example" gives none: it denies what it leaves out, as "omit" does.
    "leave out": "omit",
    "leaves out": "omits",
    "left out": "omitted",
    "leaving out": "omitting",
    "a couple of": "two",
    "lots of": "many",
    "inversely proportional": "inverse",
    # "works much like an encoder" is alike, not more of anything.
    "much like": "like",
    # "up to a cutoff date", "up to 8 GB": as far as, at most; neither more nor less.
    "up to": "",
    # "knowledge is cut off at a date" says when it ends, not that something is cut.
    "cut off": "cutoff",
    "cuts off": "cutoff",
}

#: Pronouns that open a statement of their own: a negation before one does not reach past it
#: ("instead of adding scores we fuse ranks" denies the adding, not the fusing).
SUBJECT_PRONOUNS = frozenset("i we you they he she it this these".split())
#: ... of which these are objects as often ("instead of returning it in bulk"): they open a
#: statement only after a comma ("Instead of using FP32, it stores int8").
OBJECT_PRONOUNS = frozenset("it you this these".split())

#: Negations that open a clause as its subject ("None of the weights are changed", "No model
#: is perfect"): they deny what the clause says of the subject, past its verb of being.
SUBJECT_NEGATIONS = frozenset("no none nothing nobody neither".split())

#: Prefixes written with a dash that say more or less of the word they are glued to
#: ("over-parametrized", "under-trained"); alone, "over" and "under" say where, not how much.
PREFIX_DIRECTIONS = {"over": ("amount", 1), "under": ("amount", -1)}

#: Verbs whose particle "up" or "down" completes their sense rather than pointing a way: "splits
#: the task up" and "breaks the task down" say the same, as do "made up of" and "adds up to".
#: Verbs of moving a quantity ("goes up", "scale down", "brings it down") are not among them.
PARTICLE_VERBS = frozenset(
    """break breaks broke broken breaking split splits splitting make makes made making add
    adds added adding end ends ended ending show shows showed shown showing look looks looked
    looking set sets setting pick picks picked picking write writes wrote written writing lay
    lays laid laying spin spins spun spinning sum sums summed summing wrap wraps wrapped
    wrapping sign signs signed signing mix mixes mixed mixing""".split()
)
#: The particles :data:`PARTICLE_VERBS` take.
PARTICLES = frozenset(("up", "down"))

#: Verbs of expecting: a negation before one reaches into what is expected ("don't assume it
#: will always be faster" says it is not always faster).
BELIEF_VERBS = frozenset("assume assumes assuming expect expects expecting believe think".split())
#: Verbs of needing: a negation before one reaches what is needed ("does not need to be
#: annotated" says it is not annotated, not merely that nothing is needed).
NEEDING_VERBS = frozenset("need needs require requires".split())

#: Words that put a step before the others ("write a plan first"), or after the one before
#: ("then execute it", "execute it afterwards"); a new step opens at "then".
FIRST_STEPS = frozenset("first firstly initially".split())
LATER_STEPS = frozenset(
    "then afterwards afterward later finally lastly subsequently second secondly third".split()
)
STEP_OPENERS = frozenset("then".split())
#: Verbs that put the step after them first: "start with a frontier API, then ...".
START_STEPS = frozenset("start starts begin begins".split())

#: Verbs that say little alone, by stem: what they do is in the words beside them ("uses less
#: energy", "makes it faster"). A unit that denies one ("instead of using floats") does not
#: deny a claim that holds it.
LIGHT_VERBS = frozenset("use make take do put".split())

#: Verbs of changing one thing into another, by stem: "converts A into B" runs from A to B.
CHANGE_VERBS = frozenset(
    "convert turn chang transform switch map evolv shift move migrat transit".split()
)

#: Direction words that may only say how much of another direction there is ("saves much
#: memory", "much less memory").
INTENSIFIERS = frozenset("much many".split())

#: Words joining a thing that moves to what it moves with ("grows with context length",
#: "shrinks as the context grows").
COVARYING = frozenset("with as".split())

#: Words opening a clause that comes before the sentence's own statement ("Because A, B").
SUBORDINATORS = frozenset("because since although though as if when once".split())

#: Prepositions that open a phrase setting the scene of the whole sentence when a comma closes
#: it ("In supervised fine-tuning, the weights are updated ..."): it is tied to every part.
FRAMING_PREPOSITIONS = frozenset("in for at on before after during under with by".split())

#: Words that open a new subject after "and" ("... and each call is unique").
DISTRIBUTIVES = frozenset("each every".split())

#: Verbs of being and having, and auxiliaries: a phrase holding one says something of its own
#: ("... and each call is unique").
STATEMENT_VERBS = frozenset(
    """is are was were be been being has have had does do did can could will would should
    may might must""".split()
)

#: Words opening the circumstance or the cause of a thing: a negation before one does not
#: reach into it ("instead of updating the matrix during fine-tuning", "no bonus due to
#: reallocation of funds").
CIRCUMSTANCES = frozenset(("during", "due"))

#: Forms of the verbs of being and having that open no predicate of their own.
GERUNDS = frozenset(("being", "having"))

#: Words opening a condition: what the clause says, it does not assert ("if Ollama isn't
#: already running, start it", "will renew unless ... notice of non-renewal").
CONDITIONS = ("if ", "unless ")

#: Words that open a new clause: what follows says something of its own.
CLAUSE_WORDS = frozenset(
    """while whereas but so because although though which who whom whose where when since
    then therefore thus hence unlike than rather instead even if unless""".split()
)

#: How often something happens, as written -> the period it recurs at: each excludes the
#: others ("monthly" is not "quarterly"), as one number excludes another.
PERIOD_WORDS = {
    "hourly": "hour",
    "daily": "day",
    "weekly": "week",
    "biweekly": "two weeks",
    "fortnightly": "two weeks",
    "monthly": "month",
    "quarterly": "quarter",
    "yearly": "year",
    "annually": "year",
    "annual": "year",
}
#: The periods "per", "each" or "every" may go before ("each month" is "monthly").
PERIODS = frozenset(("hour", "day", "week", "month", "quarter", "year"))
