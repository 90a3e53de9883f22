"""Split loaded documents along their structure, then to size.

Markdown (and what the loaders turn into markdown) is split at its headings first, so a chunk
never straddles two sections and carries its heading path as metadata. Each section keeps its
own heading line and the source's formatting (indentation, code blocks), so neighbouring chunks
joined back together at retrieval time read like the original. A heading with no text of its
own (a title right above the first subheading) is folded into the section that follows.

Each chunk carries a one-line header naming its document and section, as metadata (the chunk
format is :mod:`rag.core.chunks`): both the keyword and the dense retriever then see what the chunk
is about, even when its body never repeats the topic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from langchain_core.documents import Document
from langchain_text_splitters import RecursiveCharacterTextSplitter

from rag.core import (
    HEADER_KEY,
    Chunk,
    chunk_id,
    document_label,
    header_line,
)

__all__ = ["Section", "markdown_sections", "split_documents"]

# An ATX heading: up to three spaces, 1-6 '#', a space, the text, optional closing '#'s.
_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


@dataclass
class Section:
    """A heading (with its parents) and the text under it, heading line included."""

    path: list[str]
    text: str


def markdown_sections(text: str) -> list[Section]:
    """Sections of a markdown text in order; headings inside code blocks are not headings."""
    sections: list[Section] = []
    stack: list[tuple[int, str]] = []
    lines: list[str] = []
    fence = ""

    def close() -> None:
        body = "\n".join(lines).strip("\n")
        if body.strip():
            sections.append(Section([title for _, title in stack], body))

    for line in text.splitlines():
        marker = _FENCE.match(line)
        if marker:
            token = marker.group(1)
            if not fence:
                fence = token[0] * 3
            elif token.startswith(fence):
                fence = ""
        heading = None if fence or marker else _HEADING.match(line)
        if heading:
            close()
            lines = []
            level = len(heading.group(1))
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, heading.group(2).strip()))
        lines.append(line)
    close()
    return _fold_bare_headings(sections)


def _is_bare_heading(text: str) -> bool:
    return all(_HEADING.match(line) or not line.strip() for line in text.splitlines())


def _fold_bare_headings(sections: list[Section]) -> list[Section]:
    """A section that is only heading lines joins the next section (or the last, at the end)."""
    folded: list[Section] = []
    pending = ""
    for section in sections:
        if _is_bare_heading(section.text):
            pending += section.text.strip() + "\n\n"
            continue
        folded.append(Section(section.path, pending + section.text))
        pending = ""
    if pending:
        if folded:
            folded[-1].text += "\n\n" + pending.strip()
        else:
            folded.append(Section(sections[-1].path, pending.strip()))
    return folded


def _sections(document: Document) -> list[Section]:
    if document.metadata.get("format") != "markdown":
        return [Section([], document.page_content)]
    return markdown_sections(document.page_content)


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
    pieces: list[tuple[str, str, Any]] = []  # (body, section, page)
    for document in documents:
        page = document.metadata.get("page")
        for section in _sections(document):
            title = title or (section.path[0] if section.path else None)
            text = section.text.strip("\n").rstrip()
            bodies = [text] if len(text) <= chunk_size else splitter.split_text(text)
            pieces.extend((body, " > ".join(section.path), page) for body in bodies if body.strip())
    title = title or PurePosixPath(label).name
    chunks = []
    for index, (body, section, page) in enumerate(pieces):
        metadata = {
            "source": source,
            "title": title,
            "section": section,
            "chunk_index": index,
            "content_hash": content_hash,
            "n_chunks": len(pieces),
            HEADER_KEY: header_line(source, section),
        }
        if page is not None:
            metadata["page"] = int(page)
        chunks.append(Chunk(chunk_id(source, content_hash, index), body, metadata))
    return chunks
