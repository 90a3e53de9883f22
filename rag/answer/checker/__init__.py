"""Each sentence checked against the notes: supported, contradicted, or not in the notes.

A sentence is supported when one unit of a source (a sentence, a list item with its heading
and lead-in, a table row with its header) holds what it speaks of and what it says of it, in
the same relation: the same polarity and direction, numbers beside the same things, named
things in the same roles. A unit about the same thing that says otherwise contradicts it.
Offline, with what ships: rules (:mod:`~rag.answer.checker.rules`) and the loaded embedder.

- :mod:`~rag.answer.checker.lexicon`: the English words read for their grammar;
- :mod:`~rag.answer.checker.words`: a text as tokens: terms, numbers, negations, names;
- :mod:`~rag.answer.checker.reading`: the tokens as clauses, phrases and ties;
- :mod:`~rag.answer.checker.relations`: how a sentence relates two things (a change, steps in
  order, things moving together, a gloss in brackets), and the rules comparing them;
- :mod:`~rag.answer.checker.periods`: how often a sentence says something recurs, and the
  rule comparing periods;
- :mod:`~rag.answer.checker.pairs`: numbers a slash pairs with the words a lead pairs so;
- :mod:`~rag.answer.checker.units`: the units of the passages;
- :mod:`~rag.answer.checker.align`: which units a claim speaks of;
- :mod:`~rag.answer.checker.rules`: what makes a unit say otherwise;
- :mod:`~rag.answer.checker.verdicts`: the verdict, and :class:`ClaimChecker`.
"""

from rag.answer.checker.verdicts import ClaimChecker, Judgement, SourceUnits, judge

__all__ = ["ClaimChecker", "Judgement", "SourceUnits", "judge"]
