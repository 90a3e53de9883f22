"""What the checker says about each sentence of an answer (its own module: the service, the
CLI, the UI and the answer evaluation all read it, and it imports nothing of theirs)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

#: A source holds the sentence: the same subject, and the same thing said of it.
SUPPORTED = "supported"
#: A source speaks of the same subject and says otherwise.
CONTRADICTED = "contradicted"
#: No source holds it, and none says otherwise.
NOT_IN_NOTES = "not_in_notes"
Verdict = Literal["supported", "contradicted", "not_in_notes"]


@dataclass(frozen=True)
class Evidence:
    """The unit of a source (a sentence, a list item, a table row) that supports or
    contradicts a claim, and where it stands in the passage's body, so it can be shown and
    highlighted."""

    #: The source it is in: [n].
    n: int
    text: str
    start: int = 0
    end: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"n": self.n, "text": self.text, "start": self.start, "end": self.end}


@dataclass
class Claim:
    """One sentence of an answer and whether the sources it cites hold it."""

    #: The sentence as shown, without its [n] markers.
    text: str
    #: The source numbers it cites (after the verifier: also those it was found in).
    sources: list[int] = field(default_factory=list)
    #: True when a cited source holds its numbers, names and meaning.
    supported: bool = True
    #: Why it is not supported (empty when supported), shown on hover in the chat.
    reason: str = ""
    #: :data:`SUPPORTED`, :data:`CONTRADICTED` or :data:`NOT_IN_NOTES`.
    verdict: Verdict = SUPPORTED
    #: What in the sources supports it, or contradicts it (empty when not in the notes).
    evidence: list[Evidence] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "sources": list(self.sources),
            "supported": self.supported,
            "reason": self.reason,
            "verdict": self.verdict,
            "evidence": [e.as_dict() for e in self.evidence],
        }
