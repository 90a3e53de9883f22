"""What the verifier says about each sentence of an answer (its own module: the service, the
CLI, the UI and the answer evaluation all read it, and it imports nothing of theirs)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Claim:
    """One sentence of an answer and whether the sources it cites hold it."""

    #: The sentence as shown, without its [n] markers.
    text: str
    #: The source numbers it cites (after the verifier: also those it was found in).
    sources: list[int] = field(default_factory=list)
    #: True when a cited source holds its numbers, names and meaning.
    supported: bool = True
    #: Why it is unsupported (empty when supported), shown on hover in the chat.
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "sources": list(self.sources),
            "supported": self.supported,
            "reason": self.reason,
        }
