"""HTML and Markdown for the chat: sources panel, citation links, status line.

Everything that comes from documents or from the model is escaped here, so neither a poisoned
document nor a model's output can inject script or markup into the page.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from rag.prompt import source_label
from rag.retriever import RetrievedChunk

_CITATION = re.compile(r"\[(\d{1,2})\]")
SNIPPET_CHARS = 600


def sources_html(chunks: Sequence[RetrievedChunk]) -> str:
    """One collapsible card per source, ``id="source-N"`` so citations can open it."""
    if not chunks:
        return '<div class="rag-sources-empty">Sources of the answer appear here.</div>'
    cards = []
    for chunk in chunks:
        body = chunk.body.strip()
        snippet = (
            body if len(body) <= SNIPPET_CHARS else body[:SNIPPET_CHARS].rsplit(" ", 1)[0] + " …"
        )
        cards.append(
            f'<details class="rag-source" id="source-{chunk.n}" data-n="{chunk.n}">'
            f'<summary><span class="rag-source-n">[{chunk.n}]</span> '
            f"{html.escape(source_label(chunk))}</summary>"
            f'<pre class="rag-source-text">{html.escape(snippet)}</pre></details>'
        )
    return '<div class="rag-sources">' + "".join(cards) + "</div>"


def link_citations(answer: str, count: int) -> str:
    """Turn ``[n]`` markers for existing sources into links to their cards."""

    def replace(match: re.Match) -> str:
        n = int(match.group(1))
        if 1 <= n <= count:
            return f'<a class="rag-cite" href="#source-{n}" data-n="{n}">[{n}]</a>'
        return match.group(0)

    return _CITATION.sub(replace, answer)


def sources_footer(chunks: Sequence[RetrievedChunk]) -> str:
    """A compact list under each answer: which file, section or page each [n] is."""
    if not chunks:
        return ""
    items = " · ".join(
        f'<a class="rag-cite" href="#source-{c.n}" data-n="{c.n}">[{c.n}]</a> '
        f"{_escape_markdown(source_label(c))}"
        for c in chunks
    )
    return f"\n\n---\n<small>Sources: {items}</small>"


def _escape_markdown(text: str) -> str:
    text = html.escape(text)
    return re.sub(r"([\\`*_{}\[\]()#+!|])", r"\\\1", text)


def status_line(model: str, documents: int, chunks: int) -> str:
    return f"**Model:** `{model}` · **Documents:** {documents} · **Chunks:** {chunks}"


_CODE = re.compile(r"(```.*?(?:```|$)|`[^`\n]*`)", re.DOTALL)
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)[^)]*\)")
_BARE_URL = re.compile(r"(?<![`\w])((?:https?|ftp)://[^\s<>`]+)")
_REFERENCE_DEFINITION = re.compile(r"^\s*\[[^\]]+\]:\s*\S+.*$", re.MULTILINE)


def safe_markdown(text: str) -> str:
    """Markdown from a model or a document, made inert.

    Raw HTML is escaped, images are dropped (a remote image loads by itself and can carry the
    conversation to another server in its URL), and links become plain text showing their URL,
    so nothing in an answer fetches or opens anything. Code keeps its characters.
    """
    parts = _CODE.split(text)
    for i in range(0, len(parts), 2):  # even parts are outside code
        part = html.escape(parts[i], quote=False)
        part = _IMAGE.sub(lambda m: f"[image removed: {m.group(1) or 'no description'}]", part)
        part = _REFERENCE_DEFINITION.sub("", part)
        part = _LINK.sub(lambda m: f"{m.group(1)} (`{m.group(2)}`)", part)
        part = _BARE_URL.sub(r"`\1`", part)
        parts[i] = part
    return "".join(parts)
