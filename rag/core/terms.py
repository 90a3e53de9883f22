"""Words as keyword search counts them: lower-cased, stop words dropped, plurals folded.

The lexical index (:mod:`rag.store.lexical`) indexes and searches these tokens; the extractive
answers and the sentence verifier compare sentences by them, so all agree on what a term is.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"\w+", re.UNICODE)
_STOPWORDS = frozenset(
    """a an and are as at be by for from has have how i in is it its of on or that the this to
    was were what when where which who whom why will with do does did you your me my we our
    their his her he she they them about tell""".split()
)


def _fold_plural(token: str) -> str:
    """A light English stemmer, plural endings only: policies, boxes, classes, contracts."""
    if len(token) <= 3 or not token.isalpha():
        return token
    if token.endswith("sses"):
        return token[:-2]
    if token.endswith("ies") and len(token) > 4 and token[-4] not in "ae":
        return token[:-3] + "y"
    if token.endswith(("xes", "zes", "ches", "shes")):
        return token[:-2]
    if token.endswith("s") and not token.endswith(("ss", "us", "is")):
        return token[:-1]
    return token


def search_terms(text: str) -> list[str]:
    """Lower-cased word tokens without stop words or stray letters, plurals folded."""
    tokens = []
    for token in _TOKEN.findall(text.lower()):
        if token in _STOPWORDS or (len(token) == 1 and not token.isdigit()):
            continue
        tokens.append(_fold_plural(token))
    return tokens
