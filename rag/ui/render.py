"""HTML and Markdown for the chat: sources panel, citation links, status line.

Everything that comes from documents or from the model is escaped here, so neither a poisoned
document nor a model's output can inject script or markup into the page.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from rag.answer import source_label
from rag.core import (
    CONTRADICTED,
    HEADING,
    SUPPORTED,
    Claim,
    Passage,
    citations,
    replace_citations,
    split_sentences,
)
from rag.core.answer_text import CITATION_MARK

#: (start, end) of a sentence in a passage's body.
Span = tuple[int, int]
_MARK = re.compile(CITATION_MARK)


def cited_first(chunks: Sequence[Passage], cited: set[int] | None) -> list[tuple[Passage, bool]]:
    """(chunk, cited?) with the cited sources first; all count as cited when ``cited`` is None
    (the answer is not written yet)."""
    if cited is None:
        return [(c, True) for c in chunks]
    return [(c, True) for c in chunks if c.n in cited] + [
        (c, False) for c in chunks if c.n not in cited
    ]


def sources_html(
    chunks: Sequence[Passage],
    cited: set[int] | None = None,
    claims: Sequence[Claim] = (),
    *,
    anchor: str = "source",
) -> str:
    """One collapsible card per source, ``id="source-N"`` so citations can open it; once the
    answer is in (``cited`` given), the sources it cites come first and the others are marked
    as retrieved but not cited. The sentences that support the answer's claims are marked in
    their passage, each ``id="evidence-N-START-END"``, so a citation can point at them.
    ``anchor``: the cards' id prefix, one per panel of the page."""
    if not chunks:
        return '<div class="rag-sources-empty">Sources of the answer appear here.</div>'
    marked = evidence_spans(claims)
    cards = []
    for chunk, is_cited in cited_first(chunks, cited):
        classes = "rag-source" if is_cited else "rag-source rag-uncited"
        note = "" if is_cited else ' <span class="rag-uncited-note">retrieved, not cited</span>'
        cards.append(
            f'<details class="{classes}" id="{anchor}-{chunk.n}" data-n="{chunk.n}">'
            f'<summary><span class="rag-source-n">[{chunk.n}]</span> '
            f"{html.escape(source_label(chunk))}{note}</summary>"
            f'<pre class="rag-source-text">{_marked_body(chunk, marked.get(chunk.n, []))}</pre>'
            "</details>"
        )
    return '<div class="rag-sources">' + "".join(cards) + "</div>"


def evidence_spans(claims: Sequence[Claim]) -> dict[int, list[Span]]:
    """Where, in each source's body, the supported claims' evidence stands: {n: [spans]}."""
    spans: dict[int, set[Span]] = {}
    for claim in claims:
        if claim.supported:
            for evidence in claim.evidence:
                if evidence.end > evidence.start:
                    spans.setdefault(evidence.n, set()).add((evidence.start, evidence.end))
    return {n: sorted(found) for n, found in spans.items()}


def _marked_body(chunk: Passage, spans: Sequence[Span]) -> str:
    """The passage's body, escaped, each evidence span wrapped in a mark (overlaps merged)."""
    body = chunk.body
    parts, position = [], 0
    for start, end in spans:
        start = max(start, position)
        if end <= start or end > len(body):
            continue
        parts.append(html.escape(body[position:start]))
        parts.append(
            f'<mark class="rag-evidence" id="evidence-{chunk.n}-{start}-{end}">'
            f"{html.escape(body[start:end])}</mark>"
        )
        position = end
    parts.append(html.escape(body[position:]))
    return "".join(parts).strip()


def cited_sources(answer: str, claims: Sequence[Claim]) -> set[int]:
    """The source numbers an answer cites (its claims', or its [n] markers when unchecked)."""
    if claims:
        return {n for claim in claims if claim.supported for n in claim.sources}
    return set(citations(answer))


def _attribute(text: str) -> str:
    """``text`` safe inside an HTML attribute; brackets as entities, so link_citations leaves
    the [n] in it as text."""
    return html.escape(text, quote=True).replace("[", "&#91;").replace("]", "&#93;")


def claim_note(claim: Claim) -> str:
    """What the chat shows on hovering a sentence that is not supported: why, and for a
    contradicted one the unit of the notes that says otherwise."""
    if claim.verdict == CONTRADICTED:
        said = " ".join(f"[{e.n}] says: {e.text}" for e in claim.evidence)
        return f"Contradicted by the notes: {said or claim.reason}"
    return f"Not in the notes: {claim.reason}"


def mark_claims(answer: str, claims: Sequence[Claim]) -> str:
    """The answer as safe Markdown, each sentence no source holds wrapped in a marked span:
    ⚠ for one that is not in the notes, ✗ for one the notes contradict; its title (shown on
    hover) gives the reason, and for a contradiction the evidence."""
    sentences = [s for s in split_sentences(answer, lower_case_starts=True) if s.kind != HEADING]
    if len(sentences) != len(claims) or all(c.supported for c in claims):
        return safe_markdown(answer)
    parts, position = [], 0
    for sentence, claim in zip(sentences, claims, strict=True):
        if claim.supported:
            continue
        contradicted = claim.verdict == CONTRADICTED
        kind, mark = ("rag-contradicted", "✗") if contradicted else ("rag-unsupported", "⚠")
        parts.append(safe_markdown(answer[position : sentence.start]))
        parts.append(
            f'<span class="{kind}" title="{_attribute(claim_note(claim))}">{mark} '
            f"{safe_markdown(answer[sentence.start : sentence.end])}</span>"
        )
        position = sentence.end
    parts.append(safe_markdown(answer[position:]))
    return "".join(parts)


#: How the Check tab names each verdict.
VERDICT_LABELS = {
    SUPPORTED: ("✓", "Supported"),
    CONTRADICTED: ("✗", "Contradicted"),
}
NOT_IN_NOTES_LABEL = ("⚠", "Not in the notes")


def checked_html(
    claims: Sequence[Claim], passages: Sequence[Passage], *, anchor: str = "source"
) -> str:
    """The Check tab's verdicts: each sentence with its mark, and the unit of the notes that
    supports or contradicts it quoted under it, with its source (``anchor``: the prefix of the
    ids of the source cards its [n] open)."""
    if not claims:
        return (
            '<div class="rag-checked-empty">Nothing to check: no sentence states something.</div>'
        )
    labels = {p.n: source_label(p) for p in passages}
    rows = []
    for claim in claims:
        mark, label = VERDICT_LABELS.get(claim.verdict, NOT_IN_NOTES_LABEL)
        quotes = "".join(
            f'<blockquote class="rag-check-evidence"><a class="rag-cite" href="#{anchor}-{e.n}" '
            f'data-n="{e.n}">[{e.n}]</a> {html.escape(e.text)}'
            f"<br><small>{html.escape(labels.get(e.n, ''))}</small></blockquote>"
            for e in claim.evidence
        )
        why = ""
        if claim.reason and not claim.supported:
            why = f'<div class="rag-claim-why">{html.escape(claim.reason)}</div>'
        rows.append(
            f'<div class="rag-claim rag-claim-{claim.verdict}">'
            f'<span class="rag-verdict">{mark} {label}</span> '
            f'<span class="rag-claim-text">{html.escape(claim.text)}</span>'
            f"{quotes}{why}</div>"
        )
    return '<div class="rag-checked">' + "".join(rows) + "</div>"


def link_citations(
    answer: str, count: int, claims: Sequence[Claim] = (), *, raw: str | None = None
) -> str:
    """Turn ``[n]`` markers for existing sources into links to their cards. A marker that
    cites claims with evidence links to that evidence too, ``#source-N:START-END,...``: the
    page opens the card and highlights those sentences. ``raw``: the answer as written, when
    ``answer`` is its marked-up form (the claims are found in it; the marks are the same)."""
    cited = citation_evidence(raw if raw is not None else answer, claims)
    marks = iter(range(len(cited)))

    def link(n: int, spans: dict[int, list[Span]]) -> str:
        if not 1 <= n <= count:
            return f"[{n}]"
        where = ",".join(f"{start}-{end}" for start, end in spans.get(n, []))
        target = f"source-{n}:{where}" if where else f"source-{n}"
        return f'<a class="rag-cite" href="#{target}" data-n="{n}">[{n}]</a>'

    def replace(numbers: list[int]) -> str:
        spans = cited[next(marks, 0)] if cited else {}
        return "".join(link(n, spans) for n in numbers)

    return replace_citations(answer, replace)


def citation_evidence(answer: str, claims: Sequence[Claim]) -> list[dict[int, list[Span]]]:
    """For each citation mark of ``answer``, in order: the evidence of the claims it cites,
    {n: [spans]}. A mark cites the claims whose text stands between it and the mark before
    (a line's one [n] cites each sentence on the line)."""
    placed: list[tuple[int, Claim]] = []
    cursor = 0
    for claim in claims:
        probe = claim.text.strip().rstrip(".;:!?")[:80]
        at = answer.find(probe, cursor) if probe else -1
        if at >= 0:
            placed.append((at, claim))
            cursor = at + len(probe)
    found = []
    previous = 0
    for mark in _MARK.finditer(answer):
        spans: dict[int, set[Span]] = {}
        for at, claim in placed:
            if previous <= at < mark.start() and claim.supported:
                for evidence in claim.evidence:
                    spans.setdefault(evidence.n, set()).add((evidence.start, evidence.end))
        found.append({n: sorted(s) for n, s in spans.items()})
        previous = mark.end()
    return found


def sources_footer(
    chunks: Sequence[Passage],
    cited: set[int] | None = None,
    *,
    not_found: bool = False,
    claims: Sequence[Claim] = (),
) -> str:
    """A compact list under each answer: which file, section or page each [n] is; the cited
    ones first, then those retrieved but not cited (marked as such). Each links to its card
    and to every sentence of it that supports the answer."""
    if not chunks:
        return ""
    marked = evidence_spans(claims)

    def item(c: Passage) -> str:
        where = ",".join(f"{start}-{end}" for start, end in marked.get(c.n, []))
        target = f"source-{c.n}:{where}" if where else f"source-{c.n}"
        return (
            f'<a class="rag-cite" href="#{target}" data-n="{c.n}">[{c.n}]</a> '
            f"{_escape_markdown(source_label(c))}"
        )

    if not_found:
        items = " · ".join(item(c) for c in chunks)
        return f"\n\n---\n<small>Closest passages (they don't answer it): {items}</small>"
    ordered = cited_first(chunks, cited)
    used = " · ".join(item(c) for c, is_cited in ordered if is_cited)
    unused = " · ".join(item(c) for c, is_cited in ordered if not is_cited)
    lines = [f"Sources: {used or 'none cited'}"]
    if unused:
        lines.append(f'<span class="rag-uncited-note">Retrieved, not cited: {unused}</span>')
    return "\n\n---\n<small>" + "<br>".join(lines) + "</small>"


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
