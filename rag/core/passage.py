"""A passage: what an answer reads and cites as [n], the same for retrieval, the prompt,
the extractive answer, the verifier and the chat's sources panel."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Between two excerpts of one document that are not next to each other in it.
GAP = "\n\n[…]\n\n"


@dataclass(frozen=True)
class Passage:
    """A passage given to the model, numbered as it is cited: [n].

    ``text`` is a header line ("document | section", or the document alone when the passage
    spans sections), a blank line, then the passage: the chunks listed in ``chunk_ids``, in
    document order, joined; excerpts that are not next to each other are separated by
    :data:`GAP`. ``id`` and ``metadata`` are those of the best-scoring hit in it.
    """

    n: int
    id: str
    text: str
    metadata: dict[str, Any]
    score: float
    chunk_ids: tuple[str, ...] = field(default=())
    #: The passage without its header line (None: ``text`` has no header).
    passage: str | None = None

    @property
    def source(self) -> str:
        return str(self.metadata.get("source", ""))

    @property
    def body(self) -> str:
        """The text without the "document | section" line."""
        return self.text if self.passage is None else self.passage

    def as_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "source": self.source,
            "title": self.metadata.get("title"),
            "section": self.metadata.get("section") or None,
            "page": self.metadata.get("page"),
            "text": self.text,
            "score": round(self.score, 4),
        }
