"""A citation opens the sentences that support what it cites: the [n] of an answer links to
the evidence of the claims before it, and the sources panel marks that evidence in its passage."""

from __future__ import annotations

from rag.core import Claim, Evidence, Passage
from rag.ui.render import citation_evidence, link_citations, sources_html


def test_each_citation_links_to_the_sentences_it_cites_and_the_panel_marks_them():
    body = "# Notes\n\nIt has 2 features:\n- Models: 800,000\n- Datasets: 200,000\n\nOther line.\n"
    chunk = Passage(1, "c1", body, {"source": "hf.md"}, 1.0)
    spans = [
        (body.index(t), body.index(t) + len(t))
        for t in ("It has 2 features:", "Models: 800,000", "Datasets: 200,000")
    ]
    claims = [Claim(body[s:e], [1], evidence=[Evidence(1, body[s:e], s, e)]) for s, e in spans]
    answer = "It has 2 features: Models: 800,000; Datasets: 200,000. [1]\nMore. [1]"

    assert citation_evidence(answer, claims) == [{1: spans}, {}]
    linked = link_citations(answer, 1, claims)
    where = ",".join(f"{s}-{e}" for s, e in spans)
    assert f'href="#source-1:{where}"' in linked and 'href="#source-1"' in linked
    panel = sources_html([chunk], {1}, claims)
    for s, e in spans:
        assert f'<mark class="rag-evidence" id="evidence-1-{s}-{e}">{body[s:e]}</mark>' in panel
