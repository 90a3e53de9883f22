"""A question about all of something ("the average monthly cost across all Carllm
contracts", "how many employees earn under $80,000"): a line for each document found that is
one of them, their figure on it; what they compute comes after them
(:mod:`rag.answer.arithmetic`).

Which documents are the ones asked about is the retriever's plan's (its ``scope``, when the
question's kind names documents); what they compute and a count's condition are read from the
question (:mod:`rag.answer.asks`).
"""

from __future__ import annotations

import numpy as np

from rag.answer.arithmetic import figures
from rag.answer.asks import Condition
from rag.answer.lines import Chosen, bare
from rag.answer.scoring import Candidate, holds
from rag.core import search_terms


def per_document(answer: Chosen, usable: list[int], first: int) -> None:
    """For a question about all of something: a line for each document found that is one
    of them (in the plan's scope, when it has one: "all Carllm contracts"), its best sentence,
    of the kind asked for, meeting a count's condition ("under $80,000")."""
    scored, found = answer.scored, answer.found
    asks = scored.asks
    scope = set(asks.scope) if asks else set()
    of_them = {c.n for c in found if c.source in scope}
    kind = scored.kind if scored.kind is not None else np.zeros(len(found))
    passage_subject = (
        scored.passage_subject if scored.passage_subject is not None else np.ones(len(found))
    )
    lead = answer.lines[:]
    answer.lines.clear()
    answer.used.clear()
    seen: set[int] = set()
    for i in usable:
        c = found[i]
        if c.n in seen or (of_them and c.n not in of_them):
            continue
        if passage_subject[i] < passage_subject[first] - 1e-6:
            continue
        if asks is not None and asks.condition:
            if not _meets(c, asks.condition):
                continue
        elif asks is not None and asks.kind is not None and kind[i] < 1:
            continue
        line = answer.line_for(i)
        if bare(line):
            continue
        answer.take(line)
        seen.add(c.n)
    if not answer.lines:  # no document is one of them: the best line is still the answer
        for line in lead:
            answer.take(line)
    answer.lines.sort(key=lambda line: line.n)


def _meets(c: Candidate, condition: Condition) -> bool:
    """Whether ``c`` says what the condition compares ("current salary") and its first figure
    of the same currency meets it ("under $80,000")."""
    if condition.of and holds(condition.of, set(search_terms(c.context))) < 0.5:
        return False
    shown = [f for f in figures(c.text) if f.currency == condition.currency]
    return bool(shown) and condition.met_by(shown[0].value)
