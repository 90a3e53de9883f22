"""The words of a question that name something ("Maxine", "QLoRA", "GPT-4", "8B"), and the
words that only ask it. The retriever's planner and the extractive answers read questions by
them alike."""

from __future__ import annotations

import re

#: Words that carry a question rather than name what it is about.
QUESTION_WORDS = frozenset(
    """what which who whom whose when where why how does do did is are was were can could
    should would will and or but so then also if in on for at by to of the a an going tell
    give list name explain describe compare""".split()
)
_WORD = re.compile(r"[\w][\w.'’+/-]*[\w+]|[\w]")


def names(question: str) -> list[str]:
    """The words of ``question`` that name something: capitalised past its first word, or
    holding a digit, an inner capital or an underscore ("Maxine", "QLoRA", "GPT-4", "8B",
    "lora_alpha"); question words never."""
    found = []
    previous = False  # the word before was a name: "Llama 3", "Claude 3.5 Sonnet"
    for i, word in enumerate(_WORD.findall(question)):
        word = re.sub(r"['’]s$", "", word)
        lower = word.lower()
        if lower in QUESTION_WORDS or word == "I":
            previous = False
            continue
        capitalised = word[:1].isupper() and i > 0
        marked = (
            (any(ch.isdigit() for ch in word) and any(ch.isalpha() for ch in word))
            or any(ch.isupper() for ch in word[1:])
            or "_" in word
        )
        # "Llama 3" (a number after a name), "version 1.0" (a number with a point)
        version = (previous and bool(re.fullmatch(r"\d+(?:\.\d+)*", word))) or bool(
            re.fullmatch(r"\d+\.\d+", word)
        )
        previous = capitalised or marked or version
        if previous:
            found.append(word)
    return found
