"""Readers chat; only admins change the shared library, checked on the server for every call.

The app runs on loopback as a public one (``Access(public=True)``, as on a Space), and Gradio's
own API client calls every endpoint it lists, anonymously and then as an admin.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from pathlib import Path

import gradio as gr
import pytest
from gradio_client import Client, handle_file

from devtools.paths import REPO_ROOT
from devtools.sample_documents import FACTS, write_sample_documents
from devtools.servers import free_port
from rag.app import create_service
from rag.settings import Settings
from rag.ui import build_app, launch_kwargs
from rag.ui.access import Access, Role
from rag.ui.chat import ChatHandlers
from rag.ui.fair_use import FairUse
from rag.ui.redact import redact

PASSWORD = "correct horse battery staple"
# What a reader may call: the chat and its Clear, checking a text against the notes, signing in
# or out, and the list of documents (names a reader sees in the sources anyway). Any other
# endpoint must refuse a reader.
READER_ENDPOINTS = {
    "/chat",
    "/check",
    "/clear",
    "/sign_in",
    "/sign_out",
    "/document_rows",
    "/first_page_label",
}
_ABSOLUTE_PATH = re.compile(r"(?<![\w.:/~-])/(?:tmp|home|root|usr|opt|data|var|srv|work)/")


def _request(session: str) -> gr.Request:
    return gr.Request(session_hash=session)


def _profile(username: str) -> gr.OAuthProfile:
    return gr.OAuthProfile(
        {"name": username, "preferred_username": username, "profile": "", "picture": ""}
    )


# --- the decision -------------------------------------------------------------------------------
def test_own_machine_without_admin_is_open_to_its_user():
    access = Access.from_settings(Settings(_env_file=None), environ={})
    assert not access.public and access.open
    assert access.role(_request("a")) is Role.ADMIN


@pytest.mark.parametrize(
    "environ",
    [{"SPACE_ID": "someone/notes"}, {"GRADIO_SERVER_NAME": "0.0.0.0"}],
    ids=["space", "all-addresses"],
)
def test_reachable_by_others_without_admin_the_library_is_read_only(environ):
    access = Access.from_settings(Settings(_env_file=None), environ=environ)
    assert access.public and not access.open
    assert access.role(_request("a")) is Role.READER
    with pytest.raises(gr.Error, match=r"read-only here.*RAG_ADMIN_PASSWORD"):
        access.require_admin("delete documents", _request("a"))


def test_public_can_be_forced_either_way():
    assert Access.from_settings(Settings(_env_file=None, public=True), environ={}).public
    local = Access.from_settings(
        Settings(_env_file=None, public=False), environ={"GRADIO_SERVER_NAME": "0.0.0.0"}
    )
    assert local.open


def test_password_signs_in_one_session_only():
    settings = Settings(_env_file=None, admin_password=PASSWORD)
    access = Access.from_settings(settings, environ={})
    assert not access.open  # once configured, the password is needed on loopback too
    assert not access.sign_in("wrong", _request("a"))
    assert not access.sign_in("", _request("a"))
    assert access.role(_request("a")) is Role.READER
    assert access.sign_in(PASSWORD, _request("a"))
    assert access.role(_request("a")) is Role.ADMIN
    assert access.role(_request("b")) is Role.READER
    assert access.role(None) is Role.READER
    access.sign_out(_request("a"))
    assert access.role(_request("a")) is Role.READER


def test_on_a_space_with_oauth_the_owner_and_listed_users_are_admins():
    space = {
        "SYSTEM": "spaces",
        "SPACE_ID": "alice/notes",
        "SPACE_AUTHOR_NAME": "Alice",
        "OAUTH_CLIENT_ID": "client-id",
    }
    access = Access.from_settings(Settings(_env_file=None, admin_users=["bob"]), environ=space)
    assert access.oauth and access.public
    assert access.role(_request("a"), _profile("alice")) is Role.ADMIN
    assert access.role(_request("b"), _profile("bob")) is Role.ADMIN
    assert access.role(_request("c"), _profile("mallory")) is Role.READER
    assert access.role(_request("d"), None) is Role.READER


def test_a_profile_counts_only_where_oauth_is_real():
    """Off a Space, Gradio's OAuth signs everyone in as the machine's own account."""
    environ = {
        "GRADIO_SERVER_NAME": "0.0.0.0",
        "SPACE_AUTHOR_NAME": "alice",
        "SPACE_ID": "alice/notes",  # but not SYSTEM=spaces: not on a Space
        "OAUTH_CLIENT_ID": "client-id",
    }
    access = Access.from_settings(Settings(_env_file=None, admin_users=["alice"]), environ=environ)
    assert not access.oauth
    assert access.role(_request("a"), _profile("alice")) is Role.READER


# --- fair use -----------------------------------------------------------------------------------
def test_questions_per_minute_are_counted_per_session():
    now = [1000.0]
    fair = FairUse(questions_per_minute=2, evaluations_per_session=1, clock=lambda: now[0])
    assert fair.question_refusal(_request("a")) is None
    assert fair.question_refusal(_request("a")) is None
    refusal = fair.question_refusal(_request("a"))
    assert refusal and "2 questions in the last minute" in refusal and "60 s" in refusal
    assert fair.question_refusal(_request("b")) is None  # another visitor is not affected
    now[0] += 45
    assert "15 s" in fair.question_refusal(_request("a"))
    now[0] += 15
    assert fair.question_refusal(_request("a")) is None


def test_evaluations_at_once_are_limited_per_session():
    fair = FairUse(questions_per_minute=0, evaluations_per_session=1)
    with fair.evaluation(_request("a")):
        with (
            pytest.raises(gr.Error, match="already have 1 evaluation"),
            fair.evaluation(_request("a")),
        ):
            pass
        with fair.evaluation(_request("b")):
            pass
    with fair.evaluation(_request("a")):  # the slot is free again
        pass


def test_a_question_over_the_limit_is_answered_with_a_message(ingested_service):
    handlers = ChatHandlers(ingested_service, FairUse(1, 1))
    request = _request("chat")
    *_, (shown, raw, *_rest) = handlers.respond(FACTS["md"][2], [], [], None, 0.2, 8, request)
    assert len(raw) == 2
    *_, (shown, raw, _sources, box, _q) = handlers.respond(
        "And again?", shown, raw, None, 0.2, 8, request
    )
    assert shown[-1]["content"].startswith("⚠️ You have asked 1 questions in the last minute")
    assert box == "And again?" and len(raw) == 2  # kept to send again; not in the conversation


# --- nothing of the server in messages ----------------------------------------------------------
@pytest.mark.parametrize(
    ("message", "shown"),
    [
        ("No GGUF model at /srv/models/x.gguf.", "No GGUF model at x.gguf."),
        ("unreadable: /tmp/pytest-3/docs/a.md: binary", "unreadable: a.md: binary"),
        (r"C:\Users\bob\notes\a.md is empty", "a.md is empty"),
        ("Ollama at http://10.0.0.5:11434 refused", "Ollama at (address hidden) refused"),
        ("Chroma at chroma.internal:8000 is down", "Chroma at (address hidden) is down"),
        (
            "uploads/notes.md failed at 10:30, ratio 3:1",
            "uploads/notes.md failed at 10:30, ratio 3:1",
        ),
        ("model llamacpp:hf://owner/repo/f.gguf", "model llamacpp:hf://owner/repo/f.gguf"),
    ],
)
def test_messages_lose_paths_and_addresses(message, shown):
    assert redact(message) == shown


def test_a_stack_trace_is_never_shown():
    trace = 'Traceback (most recent call last):\n  File "/srv/app.py", line 1\nKeyError'
    assert "app.py" not in redact(trace) and "log" in redact(trace)


# --- over HTTP, with Gradio's client ------------------------------------------------------------
@pytest.fixture(scope="module")
def public_app(tmp_path_factory, embedder):
    """A public app (as on a Space) with an admin password, over its own ingested store."""
    root = tmp_path_factory.mktemp("public")
    docs = root / "docs"
    write_sample_documents(docs)
    settings = Settings(
        _env_file=None,
        db_dir=root / "db",
        knowledge_dir=docs,
        max_new_tokens=16,
        admin_password=PASSWORD,
        public=True,
        max_upload_mb=1.0,
    )
    service = create_service(settings, embedder_factory=lambda s: embedder)
    service.ingest_knowledge_dir()
    demo = build_app(service, Access.from_settings(settings, environ={}))
    demo.launch(
        server_name="127.0.0.1",
        server_port=free_port(),
        prevent_thread_lock=True,
        quiet=True,
        max_file_size=launch_kwargs(settings)["max_file_size"],
    )
    try:
        yield demo, service, root
    finally:
        demo.close()


def _library(service) -> list[tuple[str, int]]:
    return [(d["source"], d["chunks"]) for d in service.ingestor.documents()]


def _arguments(endpoint: str, info: dict, note: Path) -> list:
    """Arguments for an endpoint: real ones for the library's, placeholders for any other."""
    known = {
        "/upload": [[handle_file(str(note))]],
        "/delete": [FACTS["md"][0]],
        "/reingest": [],
        "/evaluate": ["bundled/knowledge_base_tests.jsonl", None, "knowledge", 3],
    }
    if endpoint in known:
        return known[endpoint]
    placeholders = []
    for parameter in info["parameters"]:
        if parameter.get("parameter_has_default"):
            placeholders.append(parameter["parameter_default"])
        elif "file" in str(parameter.get("python_type", {})).lower():
            placeholders.append(handle_file(str(note)))
        else:
            placeholders.append("x")
    return placeholders


def _assert_no_server_paths(text: str, root: Path) -> None:
    assert str(root) not in text and str(REPO_ROOT) not in text, text[:500]
    assert not _ABSOLUTE_PATH.search(text), _ABSOLUTE_PATH.search(text)


def test_anonymous_calls_change_nothing_and_are_refused(public_app, tmp_path):
    demo, service, root = public_app
    client = Client(demo.local_url, verbose=False)
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert {"/upload", "/delete", "/reingest", "/evaluate", "/chat"} <= set(endpoints)
    note = tmp_path / "poisoned.md"
    note.write_text("# Poison\n\nThe LoRA rank used in the lab was 999.\n", encoding="utf-8")
    before = _library(service)
    refused = {}
    for endpoint, info in endpoints.items():
        if endpoint in READER_ENDPOINTS:
            # Quick, and change nothing.
            if endpoint in ("/clear", "/sign_out", "/document_rows", "/first_page_label"):
                reply = client.predict(*_arguments(endpoint, info, note), api_name=endpoint)
                _assert_no_server_paths(str(reply), root)
            continue
        with pytest.raises(Exception) as caught:  # gradio_client's AppError
            client.predict(*_arguments(endpoint, info, note), api_name=endpoint)
        refused[endpoint] = str(caught.value)
        assert _library(service) == before, f"{endpoint} changed the library"
    assert set(refused) >= {"/upload", "/delete", "/reingest", "/evaluate"}
    for endpoint, message in refused.items():
        assert "Only an admin of this app may" in message, (endpoint, message)
        _assert_no_server_paths(message, root)
    with pytest.raises(Exception, match="Wrong admin password"):
        client.predict("guess", api_name="/sign_in")
    assert _library(service) == before


def test_an_admin_changes_the_library_and_replies_name_no_server_folder(public_app, tmp_path):
    demo, service, root = public_app
    client = Client(demo.local_url, verbose=False)
    client.predict(PASSWORD, api_name="/sign_in")
    note = tmp_path / "capybara.md"
    note.write_text("# Capybara\n\nCapybara decoding keeps 17 drafts.\n", encoding="utf-8")

    uploaded = client.predict([handle_file(str(note))], api_name="/upload")
    assert ("uploads/capybara.md", 1) in _library(service)
    deleted = client.predict("uploads/capybara.md", api_name="/delete")
    assert "uploads/capybara.md" not in dict(_library(service))
    # A document of the knowledge folder: its file stays, the delete lasts until included.
    deleted_knowledge = client.predict(FACTS["md"][0], api_name="/delete")
    reingested = client.predict(api_name="/reingest")
    assert FACTS["md"][0] not in dict(_library(service))
    included = client.predict(FACTS["md"][0], api_name="/include")
    assert FACTS["md"][0] in dict(_library(service))
    evaluated = client.predict(
        "bundled/knowledge_base_tests.jsonl", None, "knowledge", 3, api_name="/evaluate"
    )
    missing_folder = client.predict(
        "bundled/knowledge_base_tests.jsonl",
        None,
        str(root / "elsewhere"),
        3,
        api_name="/evaluate",
    )

    assert "added" in str(uploaded) and "Deleted uploads/capybara.md" in str(deleted)
    assert "Include again" in str(deleted_knowledge)
    assert "1 excluded" in str(reingested)
    assert "1 added" in str(included)
    assert "questions**" in str(evaluated[0])
    assert "not inside a folder this app may read" in str(missing_folder[0])
    for reply in (
        uploaded,
        deleted,
        deleted_knowledge,
        reingested,
        included,
        evaluated,
        missing_folder,
    ):
        _assert_no_server_paths(str(reply), root)


def test_the_chat_stays_open_to_readers_and_names_no_server_folder(public_app):
    demo, _service, root = public_app
    client = Client(demo.local_url, verbose=False)
    chat, sources, _box, _query = client.predict(
        FACTS["html"][2], [], "llamacpp:smollm2", 0.2, 16, api_name="/chat"
    )
    assert "benchmarks.html" in sources
    # A model that is not on offer (a file on the server, a download) is for admins only.
    refused, *_ = client.predict(
        "What is LoRA?", [], f"llamacpp:{root}/no/such.gguf", 0.2, 16, api_name="/chat"
    )
    assert "`llamacpp:such.gguf` is not on offer here" in str(refused[-1]["content"])
    _assert_no_server_paths(str(chat) + sources + str(refused), root)


def test_readers_check_a_text_against_the_notes_and_change_nothing(public_app):
    demo, service, root = public_app
    client = Client(demo.local_url, verbose=False)
    before = _library(service)
    verdicts, sources = client.predict(
        "The Heliotrope benchmark has 2000 questions about chemistry.", "", api_name="/check"
    )
    assert "rag-claim-contradicted" in verdicts and "1312" in verdicts
    assert "benchmarks.html" in sources
    assert _library(service) == before
    _assert_no_server_paths(verdicts + sources, root)


def test_a_model_error_names_no_server_folder(ingested_service, tmp_path):
    handlers = ChatHandlers(ingested_service)  # on one's own machine: any model may be tried
    *_, (shown, *_rest) = handlers.respond(
        "What is LoRA?", [], [], f"llamacpp:{tmp_path}/models/missing.gguf", 0.2, 8
    )
    assert shown[-1]["content"].startswith("⚠️") and "missing.gguf" in shown[-1]["content"]
    _assert_no_server_paths(shown[-1]["content"], tmp_path)


def test_the_page_config_and_api_description_name_no_server_folder(public_app):
    demo, _service, root = public_app
    for path in ("config", "gradio_api/info"):
        with urllib.request.urlopen(demo.local_url + path, timeout=10) as response:
            _assert_no_server_paths(response.read().decode(), root)


def test_files_outside_the_allowed_paths_are_not_served(public_app):
    demo, service, _root = public_app
    settings = service.settings
    (settings.uploads_path).mkdir(parents=True, exist_ok=True)
    (settings.uploads_path / "private.md").write_text("# Private\n", encoding="utf-8")
    targets = [
        settings.knowledge_dir / FACTS["md"][0],
        settings.uploads_path / "private.md",
        next(Path(settings.db_dir).glob("*.sqlite3")),
        REPO_ROOT / "README.md",
        Path("/etc/passwd"),
    ]
    for target in targets:
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(f"{demo.local_url}gradio_api/file={target}", timeout=10)
        assert caught.value.code == 403, target


def test_gradio_refuses_an_upload_over_the_limit_before_any_handler(public_app):
    """Gradio's own upload route is open to anyone: it must not take files of any size."""
    demo, _service, _root = public_app
    boundary = "rag-test-boundary"
    big = b"x" * (1024 * 1024 + 1)  # max_upload_mb=1.0 in this app
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="big.md"\r\n'
            "Content-Type: text/markdown\r\n\r\n"
        ).encode()
        + big
        + f"\r\n--{boundary}--\r\n".encode()
    )
    request = urllib.request.Request(
        demo.local_url + "gradio_api/upload",
        data=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=30)
    assert caught.value.code == 413


# --- Sign in with Hugging Face, as on a Space ---------------------------------------------------
OAUTH_SECRET = "stand-in-oauth-secret"


def _signed_in_cookie(username: str) -> str:
    """The session cookie Gradio's OAuth callback leaves after a Hugging Face login.

    Stand-in for the login itself (the Hub can't be reached here): the session holds what the
    callback stores, signed the way Starlette's SessionMiddleware signs it with Gradio's key.
    """
    import base64
    import hashlib
    import json
    import time

    from itsdangerous import TimestampSigner

    userinfo = {
        "name": username,
        "preferred_username": username,
        "profile": f"https://huggingface.co/{username}",
        "picture": "",
    }
    session = {
        "oauth_info": {
            "access_token": "stand-in-token",
            "scope": "openid profile",
            "expires_at": int(time.time()) + 3600,
            "userinfo": userinfo,
        }
    }
    key = hashlib.sha256((OAUTH_SECRET + "-v4").encode()).hexdigest()
    data = base64.b64encode(json.dumps(session).encode("utf-8"))
    return "session=" + TimestampSigner(key).sign(data).decode("utf-8")


def test_on_a_space_the_owner_signed_in_with_hugging_face_changes_the_library(
    monkeypatch, make_service, sample_docs
):
    pytest.importorskip("authlib", reason="gradio[oauth] is not installed")
    import gradio.oauth

    space = {
        "SYSTEM": "spaces",
        "SPACE_ID": "alice/notes",
        "SPACE_AUTHOR_NAME": "alice",
        "OAUTH_CLIENT_ID": "stand-in-client",
    }
    for name, value in space.items():
        monkeypatch.setenv(name, value)
    # Gradio reads its OAuth settings when it is imported; a Space sets them before that.
    monkeypatch.setattr(gradio.oauth, "OAUTH_CLIENT_ID", "stand-in-client")
    monkeypatch.setattr(gradio.oauth, "OAUTH_CLIENT_SECRET", OAUTH_SECRET)
    monkeypatch.setattr(gradio.oauth, "OAUTH_SCOPES", "openid profile")
    monkeypatch.setattr(gradio.oauth, "OPENID_PROVIDER_URL", "http://127.0.0.1:9")
    service = make_service(knowledge_dir=sample_docs)
    service.ingest_knowledge_dir()
    access = Access.from_settings(service.settings)
    assert access.oauth and access.public
    demo = build_app(service, access)
    demo.launch(
        server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True
    )
    try:
        assert demo.expects_oauth  # a Sign in with Hugging Face button, Gradio's OAuth routes
        before = _library(service)
        for cookie in (None, _signed_in_cookie("mallory")):
            visitor = Client(demo.local_url, verbose=False, headers=cookie and {"Cookie": cookie})
            with pytest.raises(Exception, match="Only an admin of this app may delete"):
                visitor.predict(FACTS["md"][0], api_name="/delete")
        assert _library(service) == before

        owner = Client(
            demo.local_url, verbose=False, headers={"Cookie": _signed_in_cookie("alice")}
        )
        message, *_ = owner.predict(FACTS["md"][0], api_name="/delete")
    finally:
        demo.close()
    assert message.startswith(f"Deleted {FACTS['md'][0]}")
    assert FACTS["md"][0] not in dict(_library(service))
