"""Checking any text against the notes: ``rag check``, the service behind it, the Check tab's
handler, and how the chat marks a contradicted sentence."""

from __future__ import annotations

import json

import gradio as gr

from devtools.sample_documents import FACTS
from devtools.servers import run_module
from rag.core import CONTRADICTED, NOT_IN_NOTES, SUPPORTED, Claim, Evidence
from rag.ui.check import CheckHandlers
from rag.ui.fair_use import FairUse
from rag.ui.render import link_citations, mark_claims

# An answer written elsewhere: one sentence the notes hold, one they contradict (the notes say
# 1312 questions), one they don't speak of.
PARAGRAPH = (
    f"{FACTS['md'][1]} The Heliotrope benchmark has 2000 questions about chemistry. "
    "Paris is the capital of France."
)


def test_rag_check_on_a_paragraph_from_outside_the_notes_gives_each_verdict_its_source(
    tmp_path, sample_docs
):
    db = str(tmp_path / "db")
    ingested = run_module("ingest", str(sample_docs), "--db", db, "-q")
    assert ingested.returncode == 0, ingested.stderr
    result = run_module("rag", "check", PARAGRAPH, "--db", db, "--json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(payload) == {"claims"}
    claims = payload["claims"]
    assert all(set(c) == {"text", "verdict", "supported", "sources", "evidence"} for c in claims)
    assert [c["verdict"] for c in claims] == [SUPPORTED, CONTRADICTED, NOT_IN_NOTES]
    assert [c["supported"] for c in claims] == [True, False, False]
    assert "1312" in claims[1]["evidence"][0]["text"]
    assert claims[1]["sources"] == [claims[1]["evidence"][0]["n"]]
    assert not claims[2]["evidence"]
    assert "✗ contradicted: The Heliotrope benchmark has 2000" in result.stdout
    assert "benchmarks.html" in result.stdout.split("Sources:")[1]


def test_check_text_reads_the_store_only_and_numbers_each_passage_once(ingested_service):
    before = ingested_service.store.count()
    checked = ingested_service.check_text(PARAGRAPH + " " + FACTS["md"][1])
    assert ingested_service.store.count() == before
    numbers = [p.n for p in checked.passages]
    assert numbers == list(range(1, len(numbers) + 1))
    assert len({(p.source, p.chunk_ids, p.body) for p in checked.passages}) == len(numbers)
    for claim in checked.claims:
        for evidence in claim.evidence:
            body = checked.passages[evidence.n - 1].body
            assert body[evidence.start : evidence.end].strip()


def test_a_check_counts_as_a_question_for_fair_use(ingested_service):
    handlers = CheckHandlers(ingested_service, FairUse(1, 1))
    request = gr.Request(session_hash="reader")
    verdicts, _ = handlers.check(PARAGRAPH, "", request)
    assert "rag-claim-contradicted" in verdicts and "1312" in verdicts
    refused, _ = handlers.check(PARAGRAPH, "", request)
    assert "questions in the last minute" in refused


def test_the_chat_marks_a_contradicted_sentence_apart_with_the_evidence_on_hover():
    answer = "The rank was 16 [1]. Nothing else is known [1]."
    evidence = Evidence(1, "The LoRA rank used in the lab was 24 with alpha 48.", 10, 61)
    claims = [
        Claim(
            "The rank was 16", [1], False, "[1] gives 24 there, not 16", CONTRADICTED, [evidence]
        ),
        Claim("Nothing else is known", [1], False, "no passage says this", NOT_IN_NOTES),
    ]
    shown = link_citations(mark_claims(answer, claims), 1)
    assert shown.count('class="rag-contradicted"') == 1 and "✗ The rank was 16" in shown
    assert shown.count('class="rag-unsupported"') == 1 and "⚠ Nothing else is known" in shown
    assert "&#91;1&#93; says: The LoRA rank used in the lab was 24 with alpha 48." in shown
