"""Fair use that a script can't escape: questions are counted per session, per client address
and for the whole app, and a question over a limit is refused before any retrieval or model.

Over HTTP the app runs on loopback and each question comes from a new ``gradio_client`` session,
as a script that wants to escape a per-session limit would send it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import gradio as gr
import pytest
from gradio_client import Client

from devtools.sample_documents import FACTS, write_sample_documents
from devtools.servers import free_port
from rag.app import RagService, create_service
from rag.settings import Settings
from rag.ui import build_app
from rag.ui.access import Access
from rag.ui.fair_use import FairUse, client_address

QUESTION = FACTS["md"][2]


def _request(session: str, host: str = "10.0.0.1", forwarded: str | None = None) -> gr.Request:
    headers = {"x-forwarded-for": forwarded} if forwarded else {}
    return gr.Request(session_hash=session, client={"host": host}, headers=headers)


# --- the counting -------------------------------------------------------------------------------
def test_new_sessions_from_one_address_share_its_limit():
    fair = FairUse(10, 1, client_questions_per_minute=2, clock=lambda: 1000.0)
    assert fair.question_refusal(_request("a")) is None
    assert fair.question_refusal(_request("b")) is None
    refusal = fair.question_refusal(_request("c"))
    assert refusal == (
        "2 questions have come from your address in the last minute, the most this app takes "
        "from one address. Ask again in 60 s."
    )
    assert fair.question_refusal(_request("d", host="10.0.0.2")) is None  # another address


def test_the_app_limit_counts_every_address_and_says_when_to_ask_again():
    now = [1000.0]
    fair = FairUse(10, 1, app_questions_per_minute=2, clock=lambda: now[0])
    assert fair.question_refusal(_request("a", host="10.0.0.1")) is None
    now[0] += 20
    assert fair.question_refusal(_request("b", host="10.0.0.2")) is None
    refusal = fair.question_refusal(_request("c", host="10.0.0.3"))
    assert refusal.startswith("This app has been asked 2 questions in the last minute")
    assert refusal.endswith("Ask again in 40 s.")
    now[0] += 40
    assert fair.question_refusal(_request("c", host="10.0.0.3")) is None


def test_a_refused_question_counts_against_no_limit():
    fair = FairUse(1, 1, client_questions_per_minute=5, clock=lambda: 1000.0)
    assert fair.question_refusal(_request("a")) is None
    for _ in range(5):  # refused by the session's limit: the address's is not used up
        assert "from one visitor" in fair.question_refusal(_request("a"))
    assert fair.question_refusal(_request("b")) is None


def test_the_forwarded_address_counts_on_a_space_only():
    request = _request("a", host="10.16.3.80", forwarded="203.0.113.7, 10.16.0.1")
    assert client_address(request, behind_space_proxy=True) == "203.0.113.7"
    assert client_address(request, behind_space_proxy=False) == "10.16.3.80"
    assert client_address(_request("a", host="10.16.3.80"), behind_space_proxy=True) == (
        "10.16.3.80"
    )


def test_from_settings_trusts_the_forwarded_address_where_space_id_is_set():
    settings = Settings(_env_file=None, client_questions_per_minute=3, app_questions_per_minute=7)
    on_space = FairUse.from_settings(settings, environ={"SPACE_ID": "alice/notes"})
    elsewhere = FairUse.from_settings(settings, environ={})
    assert on_space.behind_space_proxy and not elsewhere.behind_space_proxy
    forwarded = [_request(s, host="10.16.3.80", forwarded=f"203.0.113.{s}") for s in "1234"]
    assert [on_space.question_refusal(r) for r in forwarded] == [None] * 4
    assert [elsewhere.question_refusal(r) is None for r in forwarded] == [True, True, True, False]


# --- over HTTP, a new session per question ------------------------------------------------------
@pytest.fixture(scope="module")
def service(tmp_path_factory, embedder) -> RagService:
    root = tmp_path_factory.mktemp("fair-use")
    write_sample_documents(root / "docs")
    settings = Settings(
        _env_file=None, db_dir=root / "db", knowledge_dir=root / "docs", model="extractive:notes"
    )
    service = create_service(settings, embedder_factory=lambda s: embedder)
    service.ingest_knowledge_dir()
    return service


@pytest.fixture
def answers_started(service, monkeypatch) -> list[str]:
    """The questions that reached the service (retrieval, a model): a spy on the real one."""
    started = []
    answer_stream = service.answer_stream

    def counted(question, *args, **kwargs):
        started.append(question)
        return answer_stream(question, *args, **kwargs)

    monkeypatch.setattr(service, "answer_stream", counted)
    return started


@pytest.fixture(autouse=True)
def _loopback_is_not_a_trusted_proxy(monkeypatch):
    """uvicorn believes ``X-Forwarded-For`` from loopback peers (a proxy on the same machine,
    FORWARDED_ALLOW_IPS) and takes the client's address from it. Here loopback stands for
    visitors on other machines, as on a Space, whose proxy is another machine: no peer is one."""
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "192.0.2.1")


@contextmanager
def launched(service: RagService, fair_use: FairUse) -> Iterator[str]:
    demo = build_app(service, Access.everyone_admin(), fair_use)
    demo.launch(
        server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True
    )
    try:
        yield demo.local_url
    finally:
        demo.close()


def ask_in_a_new_session(url: str, forwarded_for: str | None = None) -> str:
    """One question from a new client session: the last message of the chat it gets back."""
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else None
    client = Client(url, verbose=False, headers=headers)
    chat, *_ = client.predict(QUESTION, [], "extractive:notes", 0.2, 64, api_name="/chat")
    content = chat[-1]["content"]  # Gradio 6 sends a message as a list of parts
    return content if isinstance(content, str) else " ".join(p["text"] for p in content)


def answered(reply: str) -> bool:
    return "24" in reply and "rag-cite" in reply  # the fact, with its citation


def test_a_script_opening_a_session_per_question_is_held_to_its_address_limit(
    service, answers_started
):
    fair_use = FairUse(10, 1, client_questions_per_minute=2)
    with launched(service, fair_use) as url:
        replies = [ask_in_a_new_session(url) for _ in range(3)]

    assert all(answered(reply) for reply in replies[:2])
    assert replies[2].startswith("⚠️ 2 questions have come from your address in the last minute")
    assert "Ask again in " in replies[2]
    assert len(answers_started) == 2  # the refused question cost no retrieval, no model


def test_the_whole_app_limit_refuses_every_address_once_reached(service, answers_started):
    fair_use = FairUse(10, 1, app_questions_per_minute=2, behind_space_proxy=True)
    with launched(service, fair_use) as url:
        replies = [ask_in_a_new_session(url, f"203.0.113.{n}") for n in range(3)]

    assert all(answered(reply) for reply in replies[:2])
    assert replies[2].startswith("⚠️ This app has been asked 2 questions in the last minute")
    assert len(answers_started) == 2


def test_behind_a_space_proxy_each_visitor_address_has_its_own_limit(service, answers_started):
    fair_use = FairUse(10, 1, client_questions_per_minute=1, behind_space_proxy=True)
    with launched(service, fair_use) as url:
        first = ask_in_a_new_session(url, "203.0.113.1")
        other = ask_in_a_new_session(url, "203.0.113.2")
        again = ask_in_a_new_session(url, "203.0.113.1")

    assert answered(first) and answered(other)
    assert again.startswith("⚠️ 1 questions have come from your address")
    assert len(answers_started) == 2


def test_elsewhere_a_forwarded_address_written_by_the_client_changes_nothing(
    service, answers_started
):
    fair_use = FairUse(10, 1, client_questions_per_minute=1)
    with launched(service, fair_use) as url:
        first = ask_in_a_new_session(url, "203.0.113.1")
        spoofed = ask_in_a_new_session(url, "203.0.113.2")

    assert answered(first)
    assert spoofed.startswith("⚠️ 1 questions have come from your address")
    assert len(answers_started) == 1
