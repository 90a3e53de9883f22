"""The web app, in-process over loopback HTTP with gradio_client, on the real service."""

from __future__ import annotations

import re

import pytest
from gradio_client import Client

from devtools.sample_documents import FACTS
from rag.ui import build_app
from rag.ui.chat import ChatHandlers


@pytest.fixture(scope="module")
def running_app(ingested_service):
    demo = build_app(ingested_service)
    demo.launch(server_name="127.0.0.1", server_port=None, prevent_thread_lock=True, quiet=True)
    try:
        yield demo
    finally:
        demo.close()


def test_chat_streams_over_http_and_returns_sources(running_app):
    client = Client(running_app.local_url, verbose=False)
    job = client.submit(FACTS["html"][2], [], "llamacpp:smollm2", 0.2, 48, api_name="/chat")
    updates = list(job)
    chat, sources_html, _textbox, _query = job.result()

    assert len(updates) > 2  # the answer arrived in pieces, not at once
    assert chat[0]["role"] == "user"
    answer = chat[-1]["content"]
    answer_text = answer if isinstance(answer, str) else answer[0]["text"]
    # The footer lists the sources, the cited ones first, each a link to its card (and, after
    # a colon, to the sentences that the checker found hold the answer's claims).
    footer = answer_text.split("Sources: ")[1]
    assert re.search(r'<a class="rag-cite" href="#source-1(:[\d,-]+)?"', footer), footer
    assert "benchmarks.html" in sources_html
    assert 'id="source-1"' in sources_html


def test_handler_keeps_the_conversation_and_numbers_match(ingested_service):
    handlers = ChatHandlers(ingested_service)
    *_, (shown, raw, sources, _, _) = handlers.respond(
        "Tell me about the Heliotrope benchmark", [], [], None, 0.2, 32
    )
    *_, (shown, raw, sources, _, query) = handlers.respond(
        "How many questions does it have?", shown, raw, None, 0.2, 32
    )
    assert [m["role"] for m in raw] == ["user", "assistant"] * 2
    assert len(shown) == 4
    assert "Heliotrope" in query  # the follow-up searched with the conversation
    assert "benchmarks.html" in sources.split('id="source-2"')[0]  # source [1] is the right file


def test_model_failure_is_a_message_in_the_chat_not_a_crash(ingested_service):
    handlers = ChatHandlers(ingested_service)
    *_, (shown, *_rest) = handlers.respond(
        "What is LoRA?", [], [], "llamacpp:/no/such.gguf", 0.2, 16
    )
    assert shown[-1]["content"].startswith("⚠️")
    assert "No GGUF model" in shown[-1]["content"]
