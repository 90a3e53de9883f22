"""The chunk format: what ingestion writes and retrieval reads, and nothing else.

A chunk is stored as its body (the text of one piece of a section) with metadata; among it the
``header``, a line naming the chunk's document and section ("ops/deployment guide | Setup").
The embedding model reads the header and the body together (:attr:`Chunk.text`), so a chunk
is found by what it is about even when its body never names the topic; BM25 scores the two as
separate fields. Both sides get the header from the metadata: nothing is parsed back out of
the text, except in stores cut by chunker version 2 or older (see :func:`stored_parts`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

#: Between the header line and the body, wherever the two are shown or embedded together.
HEADER_SEPARATOR = "\n\n"
#: Changes whenever the same file and settings would be cut into different chunks, or stored
#: differently, so that stores written by an older version are recognised and re-chunked.
#: 3: the header travels as metadata; the stored text is the body alone. 4: a PDF's tables are
#: read as markdown tables. 5: and its headings as markdown headings (:mod:`ingest.pdf_structure`).
CHUNKER_VERSION = "5"
#: Metadata key of the "document | section" line.
HEADER_KEY = "header"


@dataclass
class Chunk:
    """One chunk as ingestion writes it: the stored body, and metadata (header included)."""

    id: str
    body: str
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def header(self) -> str:
        return str(self.metadata.get(HEADER_KEY) or "")

    @property
    def text(self) -> str:
        """Header and body: what the embedding model reads."""
        return join_header(self.header, self.body)


def join_header(header: str, body: str) -> str:
    """The header line, a blank line, the body (the body alone when there is no header)."""
    return f"{header}{HEADER_SEPARATOR}{body}" if header else body


def document_label(source: str) -> str:
    """``employees/Alex Chen.md`` -> ``employees/Alex Chen``: the name people gave the file."""
    path = PurePosixPath(source)
    return str(path.with_suffix("")).replace("_", " ")


def header_line(source: str, section: str) -> str:
    """The "document | section" line, or the document alone when the chunk is under no heading."""
    label = document_label(source)
    return f"{label} | {section}" if section else label


def chunk_id(source: str, content_hash: str, index: int) -> str:
    """Deterministic: the same file content always yields the same ids."""
    source_key = hashlib.sha1(source.encode("utf-8")).hexdigest()[:16]
    return f"{source_key}-{content_hash[:16]}-{index:05d}"


def stored_parts(text: str, metadata: dict[str, Any]) -> tuple[str, str]:
    """(header, body) of a chunk read back from the store.

    Chunker version 3 on store the header in the metadata and the body as the text. Older
    stores (until the next ingest re-chunks them, as their chunking key tells it to) hold
    "header\\n\\nbody" as the text: that one legacy case is split here, and nowhere else.
    """
    if HEADER_KEY in metadata:
        return str(metadata[HEADER_KEY] or ""), text
    header, sep, body = text.partition(HEADER_SEPARATOR)
    return (header, body) if sep else ("", text)
