"""Split loaded documents along their structure, then to size.

Markdown (and what the loaders turn into markdown) is split at its headings first, so a chunk
never straddles two sections and carries its heading path as metadata. Each chunk's stored text
starts with a one-line header naming its document and section: both the keyword and the dense
retriever then see what the chunk is about, even when its body never repeats the topic.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from langchain_core.documents import Document
from langchain_text_splitters import MarkdownHeaderTextSplitter, RecursiveCharacterTextSplitter

_HEADINGS = [("#", "h1"), ("##", "h2"), ("###", "h3"), ("####", "h4")]


@dataclass
class Chunk:
    id: str
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)


def document_label(source: str) -> str:
    """``employees/Alex Chen.md`` -> ``employees/Alex Chen``: the name people gave the file."""
    path = PurePosixPath(source)
    return str(path.with_suffix("")).replace("_", " ")


def chunk_id(source: str, content_hash: str, index: int) -> str:
    """Deterministic: the same file content always yields the same ids."""
    source_key = hashlib.sha1(source.encode("utf-8")).hexdigest()[:16]
    return f"{source_key}-{content_hash[:16]}-{index:05d}"


def _sections(document: Document) -> list[Document]:
    if document.metadata.get("format") != "markdown":
        return [document]
    splitter = MarkdownHeaderTextSplitter(_HEADINGS, strip_headers=True)
    sections = splitter.split_text(document.page_content)
    for section in sections:
        section.metadata = {**document.metadata, **section.metadata}
    return sections


def split_documents(
    documents: list[Document],
    *,
    source: str,
    content_hash: str,
    chunk_size: int,
    chunk_overlap: int,
) -> list[Chunk]:
    """Chunks of one file, ids and metadata included."""
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=chunk_size,
        chunk_overlap=min(chunk_overlap, chunk_size // 2),
        separators=["\n\n", "\n", ". ", " ", ""],
    )
    label = document_label(source)
    title = None
    pieces: list[tuple[str, dict[str, Any]]] = []
    for document in documents:
        for section in _sections(document):
            headings = [section.metadata[key] for _, key in _HEADINGS if key in section.metadata]
            title = title or (headings[0] if headings else None)
            for body in splitter.split_text(section.page_content):
                if body.strip():
                    pieces.append(
                        (body.strip(), {**section.metadata, "section": " > ".join(headings)})
                    )
    title = title or PurePosixPath(label).name
    chunks = []
    for index, (body, meta) in enumerate(pieces):
        section = meta.get("section", "")
        header = f"{label} | {section}" if section else label
        metadata = {
            "source": source,
            "title": title,
            "section": section,
            "chunk_index": index,
            "content_hash": content_hash,
            "n_chunks": len(pieces),
        }
        if "page" in meta:
            metadata["page"] = int(meta["page"])
        chunks.append(Chunk(chunk_id(source, content_hash, index), f"{header}\n\n{body}", metadata))
    return chunks
