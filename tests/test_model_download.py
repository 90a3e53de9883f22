"""Downloading models: GGUF files from the Hub (``llamacpp:hf://...``) and Ollama pulls.

The Hugging Face Hub can't be reached here: its file protocol is served by the STAND-IN of
``devtools/hub_standin.py`` on loopback (``HF_ENDPOINT``), with the bundled SmolLM2 GGUF under a
made-up repo; huggingface_hub itself downloads from it, into a Hub cache in a temporary
``HF_HOME``. Ollama is the STAND-IN of ``devtools/ollama_standin.py``. The command lines run as
subprocesses with those variables set; in-process tests point huggingface_hub's settings (read
once, when it is imported) at the same places.
"""

from __future__ import annotations

import filecmp
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import gradio as gr
import pytest
from gradio_client import Client

from devtools.hub_standin import (
    FILE,
    GATED_REPO,
    GRANTED_TOKEN,
    HUGE_REPO,
    NOT_GGUF_REPO,
    REPO,
    HubStandIn,
)
from devtools.servers import REPO_ROOT, app_process, cli_env, free_port, run_module
from rag.app import Finished, RagService, Retrieved, Token
from rag.core import bundled_gguf
from rag.llms import LLMError, PullProgress, pull_model
from rag.llms import hub as hub_module
from rag.llms.catalog import RECOMMENDED, human_size
from rag.settings import READY_MODEL
from rag.ui.chat import ChatHandlers

SPEC = f"llamacpp:hf://{REPO}/{FILE}"
QUESTION = "What LoRA rank was used in the lab?"


@pytest.fixture(scope="module")
def hub_standin():
    standin = HubStandIn(bundled_gguf("smollm2")).start()
    yield standin
    standin.stop()


@pytest.fixture
def hub(hub_standin, tmp_path, monkeypatch):
    """The stand-in as the Hub and an empty Hub cache, for this process and its children."""
    from huggingface_hub import constants

    hub_standin.throttle_s, hub_standin.drop_after = 0.0, None
    hub_standin.requests.clear()
    home = tmp_path / "hf-home"
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.setenv("HF_ENDPOINT", hub_standin.url)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setattr(constants, "ENDPOINT", hub_standin.url)
    template = hub_standin.url + "/{repo_id}/resolve/{revision}/{filename}"
    monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE", template)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(home / "hub"))
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(home / "token"))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    return hub_standin


def hub_env(hub: HubStandIn, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"HF_HOME": str(tmp_path / "hf-home"), "HF_ENDPOINT": hub.url, **extra}


def run_pull(name: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    environment = cli_env(**env)
    environment.pop("HF_HUB_OFFLINE", None)
    return subprocess.run(
        [sys.executable, "-m", "rag", "models", "--pull", name],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=environment,
    )


def cdn_gets(hub: HubStandIn) -> list:
    return [r for r in hub.requests if r.method == "GET" and r.path.startswith("/cdn/")]


def service_with(ingested_service: RagService, **settings) -> RagService:
    return RagService(
        ingested_service.settings.model_copy(update=settings),
        ingested_service.store,
        ingested_service.embedder,
    )


# --- pulling from the Hub -----------------------------------------------------------------------
def test_pull_command_downloads_into_the_hub_cache_with_a_progress_bar(hub, tmp_path):
    result = run_pull(SPEC, hub_env(hub, tmp_path))

    assert result.returncode == 0, result.stderr
    where = Path(result.stdout.splitlines()[-1].strip().removeprefix("is at "))
    assert where.is_relative_to(tmp_path / "hf-home" / "hub")
    assert f"models--{REPO.replace('/', '--')}" in str(where)
    assert filecmp.cmp(where, bundled_gguf("smollm2"), shallow=False)
    assert "100%" in result.stderr and FILE in result.stderr


def test_pull_yields_progress_events_up_to_the_whole_file(hub):
    hub.throttle_s = 0.01  # 1 MB every 10 ms: the download lasts about a second
    events = list(pull_model(SPEC, _settings()))

    size = bundled_gguf("smollm2").stat().st_size
    progress = [e for e in events if not e.location]
    assert len(progress) >= 3
    assert [e.done for e in progress] == sorted(e.done for e in progress)
    assert all(e.total == size for e in events)
    assert events[-1].location and Path(events[-1].location).stat().st_size == size
    assert "Downloading SmolLM2-135M-Instruct.Q4_1.gguf: " in progress[1].describe()


def test_pulled_model_answers_offline_without_asking_the_hub(hub, ingested_service, monkeypatch):
    from huggingface_hub import constants

    list(pull_model(SPEC, _settings()))
    hub.requests.clear()
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    service = service_with(ingested_service, model=SPEC, max_new_tokens=24)

    events = list(service.answer_stream(QUESTION, k=2))

    assert not any(isinstance(e, PullProgress) and not e.location for e in events)
    assert isinstance(events[-1], Finished) and events[-1].model == SPEC
    assert [e for e in events if isinstance(e, Token)]
    assert hub.requests == []


def test_ask_downloads_the_model_named_in_rag_model_first_then_answers(
    hub, tmp_path, ingested_service
):
    environment = cli_env(**hub_env(hub, tmp_path), RAG_MODEL=SPEC, RAG_MAX_NEW_TOKENS="24")
    environment.pop("HF_HUB_OFFLINE")
    db = str(ingested_service.settings.db_dir)
    result = subprocess.run(
        [sys.executable, "-m", "rag", "ask", QUESTION, "--db", db, "--k", "2", "--json"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=environment,
    )

    assert result.returncode == 0, result.stderr
    assert "100%" in result.stderr and FILE in result.stderr  # the download's progress bar
    assert json.loads(result.stdout.splitlines()[-1])["model"] == SPEC


def test_chat_downloads_a_model_first_with_progress_in_its_status(hub, ingested_service):
    hub.throttle_s = 0.01
    handlers = ChatHandlers(service_with(ingested_service, max_new_tokens=24))

    statuses, final = [], None
    for shown, *_ in handlers.respond(QUESTION, [], [], SPEC, 0.2, 24):
        statuses.append(shown[-1]["content"])
        final = shown[-1]["content"]

    assert any(s.startswith("⏬ Downloading SmolLM2-135M-Instruct.Q4_1.gguf: ") for s in statuses)
    assert not final.startswith(("⏬", "⚠️")) and "Sources" in final


# --- the configured model, downloaded as the app starts -----------------------------------------
def test_the_configured_model_downloads_at_start_while_the_ready_model_answers(
    hub, ingested_service
):
    hub.throttle_s = 0.05  # about 5 s for the whole file
    service = service_with(ingested_service, model=SPEC, max_new_tokens=16)

    fetch = service.start_fetching_model()
    deadline = time.monotonic() + 60
    while not cdn_gets(hub) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert cdn_gets(hub), "the download started with no question asked"
    meanwhile = service.ask(QUESTION, k=2)
    assert fetch.running
    assert "Getting " + SPEC + " ready: Downloading SmolLM2-135M-Instruct.Q4_1.gguf: " in (
        fetch.describe()
    )

    assert fetch.wait(120) and fetch.error is None and fetch.describe() == ""
    after = service.ask(QUESTION, k=2)
    assert meanwhile.model == READY_MODEL and "24" in meanwhile.answer
    assert after.model == SPEC
    assert len(cdn_gets(hub)) == 1, "the question downloaded nothing itself"


def test_the_chat_says_which_model_answered_while_the_configured_one_downloads(
    hub, ingested_service
):
    hub.throttle_s = 0.05
    service = service_with(ingested_service, model=SPEC)
    handlers = ChatHandlers(service)
    fetch = service.start_fetching_model()

    statuses = [
        shown[-1]["content"] for shown, *_ in handlers.respond(QUESTION, [], [], SPEC, 0.2, 16)
    ]
    assert fetch.running

    assert not any(status.startswith("⏬") for status in statuses)  # no download in the chat
    final = statuses[-1]
    assert f"*Answered by {READY_MODEL}, not {SPEC}. Getting {SPEC} ready: Downloading " in final
    assert "Sources" in final and 'class="rag-cite"' in final
    fetch.wait(120)


def test_a_failed_download_at_start_is_said_and_tried_again_a_minute_later(hub, ingested_service):
    from rag.app import ModelFetch
    from rag.app.model_fetch import RETRY_AFTER_S

    missing = f"llamacpp:hf://{REPO}/missing.gguf"
    service = service_with(ingested_service, model=missing)
    now = [1000.0]
    fetch = ModelFetch(missing, service.fetch_model, clock=lambda: now[0]).start()
    assert fetch.wait(60)
    assert fetch.describe().startswith(f"Downloading {missing} failed: ")
    assert "has no file missing.gguf (404)" in fetch.describe()
    assert fetch.describe().endswith(f" {READY_MODEL} answers instead.")
    tries = len(hub.requests)

    assert fetch.answering_model(missing) == READY_MODEL
    assert len(hub.requests) == tries and not fetch.running  # not at once
    now[0] += RETRY_AFTER_S
    assert fetch.answering_model(missing) == READY_MODEL  # the question doesn't wait for it
    assert fetch.wait(60) and len(hub.requests) > tries  # tried again, in the background
    assert fetch.answering_model("llamacpp:smollm2") == "llamacpp:smollm2"  # others unchanged


def test_app_start_downloads_rag_model_before_any_visitor(hub, tmp_path, ingested_service):
    """``python app.py`` with RAG_MODEL naming a model not downloaded: the download starts with
    the app, and a question asked meanwhile through the API is answered by the ready model."""
    hub.throttle_s = 0.2  # about 20 s for the whole file
    settings = ingested_service.settings
    env = {
        **hub_env(hub, tmp_path),
        "HF_HUB_OFFLINE": "",
        "RAG_MODEL": SPEC,
        "RAG_DB_DIR": str(settings.db_dir),
        "RAG_KNOWLEDGE_DIR": str(settings.knowledge_dir),
    }
    with app_process(tmp_path / "app.log", **env) as url:
        deadline = time.monotonic() + 60
        while not cdn_gets(hub) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert cdn_gets(hub), "the app started the download with no visitor"
        client = Client(url, verbose=False)
        chat, *_ = client.predict(QUESTION, [], SPEC, 0.2, 16, api_name="/chat")
    content = chat[-1]["content"]
    text = content if isinstance(content, str) else " ".join(p["text"] for p in content)
    assert f"Answered by {READY_MODEL}, not {SPEC}." in text and "24" in text
    assert len(cdn_gets(hub)) == 1


def test_the_dropdown_drops_download_from_a_model_once_downloaded(hub, ingested_service):
    service = service_with(ingested_service, model=SPEC, max_new_tokens=16)
    handlers = ChatHandlers(service)
    before = dict((name, label) for label, name in handlers.model_choices()[0])
    assert before[SPEC].endswith("— download (size unknown)")
    assert handlers.relabel_downloaded("llamacpp:smollm2") == gr.skip()

    list(service.fetch_model(SPEC))
    update = handlers.relabel_downloaded(SPEC)

    after = dict((name, label) for label, name in update["choices"])
    assert after[SPEC] == SPEC


def test_stopping_the_chat_cancels_the_download_and_keeps_nothing(hub, ingested_service):
    hub.throttle_s = 0.05  # about 5 s for the whole file
    handlers = ChatHandlers(service_with(ingested_service))
    answering = handlers.respond(QUESTION, [], [], SPEC, 0.2, 24)
    for shown, *_ in answering:
        if "%" in shown[-1]["content"] and " 0% " not in shown[-1]["content"]:
            break
    answering.close()  # what Gradio does to a handler when Stop is pressed

    time.sleep(1.0)  # the download thread notices at its next chunk
    sent = sum(1 for _ in cdn_gets(hub))
    time.sleep(1.0)
    assert sum(1 for _ in cdn_gets(hub)) == sent  # no new request: it did not retry
    cache = Path(hub_module_cache())
    assert not list(cache.rglob("*.incomplete")), "the partial file is removed"
    assert hub_module.cached_file(hub_module.parse(SPEC.removeprefix("llamacpp:"))) is None


def test_ctrl_c_cancels_a_pull_and_removes_its_partial_file(hub, tmp_path):
    hub.throttle_s = 0.1  # about 10 s for the whole file
    environment = cli_env(**hub_env(hub, tmp_path))
    environment.pop("HF_HUB_OFFLINE")
    pulling = subprocess.Popen(
        [sys.executable, "-m", "rag", "models", "--pull", SPEC],
        cwd=REPO_ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # A shell's background job ignores SIGINT, and so would the child: undo that.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 60
    while not cdn_gets(hub) and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)
    pulling.send_signal(signal.SIGINT)
    _, stderr = pulling.communicate(timeout=60)

    assert pulling.returncode == 130
    assert f"error: the download of {SPEC} was cancelled." in stderr
    assert not list((tmp_path / "hf-home").rglob("*.incomplete"))


def test_a_dropped_connection_resumes_with_a_range_request(hub):
    hub.drop_after = 30_000_000  # the connection is cut after 30 MB

    events = list(pull_model(SPEC, _settings()))

    ranges = [r.range for r in cdn_gets(hub)]
    assert ranges[0] is None and ranges[1] and ranges[1].startswith("bytes=")
    assert int(ranges[1].removeprefix("bytes=").split("-")[0]) > 0
    assert filecmp.cmp(events[-1].location, bundled_gguf("smollm2"), shallow=False)


def test_a_killed_pull_leaves_nothing_that_loads_and_the_next_pull_completes(
    hub, tmp_path, make_settings
):
    hub.throttle_s = 0.05
    environment = cli_env(**hub_env(hub, tmp_path))
    environment.pop("HF_HUB_OFFLINE")
    pulling = subprocess.Popen(
        [sys.executable, "-m", "rag", "models", "--pull", SPEC],
        cwd=REPO_ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not cdn_gets(hub) and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)  # some megabytes in
    pulling.send_signal(signal.SIGKILL)
    pulling.wait()

    with pytest.raises(LLMError, match="is not downloaded yet: run `python -m rag models --pull"):
        hub_module.local_gguf(hub_module.parse(SPEC.removeprefix("llamacpp:")), SPEC)
    hub.throttle_s = 0.0
    result = run_pull(SPEC, hub_env(hub, tmp_path))
    assert result.returncode == 0, result.stderr
    where = result.stdout.splitlines()[-1].strip().removeprefix("is at ")
    assert filecmp.cmp(where, bundled_gguf("smollm2"), shallow=False)


# --- what goes wrong, said clearly, with a non-zero exit ----------------------------------------
def test_a_repo_that_does_not_exist_is_a_clear_404(hub, tmp_path):
    result = run_pull(f"llamacpp:hf://standin-org/No-Such-Repo/{FILE}", hub_env(hub, tmp_path))

    assert result.returncode == 2
    assert "error: There is no repo standin-org/No-Such-Repo on the Hub" in result.stderr
    assert "(404)" in result.stderr


def test_a_file_that_is_not_in_the_repo_is_a_clear_404(hub, tmp_path):
    result = run_pull(f"llamacpp:hf://{REPO}/missing.gguf", hub_env(hub, tmp_path))

    assert result.returncode == 2
    assert f"{REPO} has no file missing.gguf (404)" in result.stderr
    assert f"{hub.url}/{REPO}/tree/main" in result.stderr


def test_a_gated_repo_says_to_accept_its_licence_with_the_link(hub, tmp_path):
    result = run_pull(f"llamacpp:hf://{GATED_REPO}/model.gguf", hub_env(hub, tmp_path))

    assert result.returncode == 2
    assert f"{GATED_REPO} is gated (401): accept its licence at {hub.url}/{GATED_REPO}" in (
        result.stderr
    )
    assert "HF_TOKEN" in result.stderr


def test_a_gated_repo_downloads_with_a_token_granted_access(hub, tmp_path):
    env = hub_env(hub, tmp_path, HF_TOKEN=GRANTED_TOKEN)
    result = run_pull(f"llamacpp:hf://{GATED_REPO}/model.gguf", env)

    assert result.returncode == 0, result.stderr
    resolve = [r for r in hub.requests if "/resolve/" in r.path]
    assert resolve and all(r.authorization == f"Bearer {GRANTED_TOKEN}" for r in resolve)
    assert all(r.authorization is None for r in cdn_gets(hub)), "no token sent to the CDN"


def test_a_refused_token_names_hf_token(hub, tmp_path):
    result = run_pull(SPEC, hub_env(hub, tmp_path, HF_TOKEN="hf_standin_unknown"))

    assert result.returncode == 2
    assert "The Hub refused the token (401, invalid credentials): set HF_TOKEN" in result.stderr
    assert "hf_standin_unknown" not in result.stderr


def test_a_file_that_is_not_a_gguf_is_refused_before_loading(hub, ingested_service):
    spec = f"llamacpp:hf://{NOT_GGUF_REPO}/model.gguf"
    handlers = ChatHandlers(service_with(ingested_service))

    *_, (shown, *_) = handlers.respond(QUESTION, [], [], spec, 0.2, 24)

    assert shown[-1]["content"].startswith("⚠️")
    assert f"{spec.removeprefix('llamacpp:')} is not a GGUF model" in shown[-1]["content"]
    assert "not b'GGUF'. Choose a .gguf file of a GGUF repo" in shown[-1]["content"]


def test_a_download_bigger_than_the_free_space_is_refused_before_it_starts(hub, tmp_path):
    result = run_pull(f"llamacpp:hf://{HUGE_REPO}/huge.gguf", hub_env(hub, tmp_path))

    assert result.returncode == 2
    assert "Not enough disk space for huge.gguf: it takes 10000000.0 GB" in result.stderr
    assert cdn_gets(hub) == []


def test_no_network_says_the_hub_is_unreachable(hub, tmp_path):
    env = hub_env(hub, tmp_path, HF_ENDPOINT=f"http://127.0.0.1:{free_port()}")
    result = run_pull(SPEC, env)

    assert result.returncode == 2
    assert "error: Could not reach the Hub at http://127.0.0.1:" in result.stderr
    assert "check the network" in result.stderr


def test_a_model_not_downloaded_while_offline_says_so(hub, tmp_path, ingested_service):
    db = str(ingested_service.settings.db_dir)
    result = run_module(
        "rag", "ask", QUESTION, "--db", db, "--model", SPEC, **hub_env(hub, tmp_path)
    )

    assert result.returncode == 2
    assert f"error: {SPEC} is not downloaded and HF_HUB_OFFLINE is set" in result.stderr


def test_a_name_that_is_not_a_gguf_file_is_refused_with_the_form(hub, tmp_path):
    result = run_pull(f"llamacpp:hf://{REPO}/model.safetensors", hub_env(hub, tmp_path))

    assert result.returncode == 2
    assert "does not name a .gguf file" in result.stderr


# --- the recommended models ---------------------------------------------------------------------
def test_recommended_models_are_offered_as_downloads_with_their_size(hub, make_service):
    choices, _ = ChatHandlers(make_service()).model_choices()

    labels = dict((name, label) for label, name in choices)
    qwen = RECOMMENDED[0]
    assert labels[qwen.llamacpp_name] == "Qwen2.5 1.5B Instruct · llama.cpp — download (1.1 GB)"
    assert labels["llamacpp:smollm2"] == "llamacpp:smollm2"


def test_a_reader_of_a_public_app_may_not_start_a_download(hub, ingested_service):
    from rag.ui.access import Access

    handlers = ChatHandlers(service_with(ingested_service), access=Access(public=True))
    download = RECOMMENDED[0].llamacpp_name

    *_, (shown, *_) = handlers.respond(QUESTION, [], [], download, 0.2, 16)

    assert "is for admins; choose a model that is here" in shown[-1]["content"]
    assert hub.requests == []


def test_models_command_lists_the_recommended_models_with_size_memory_and_licence(hub, tmp_path):
    result = run_module("rag", "models", **hub_env(hub, tmp_path))

    assert result.returncode == 0, result.stderr
    for entry in RECOMMENDED:
        assert f"{entry.llamacpp_name} download (" in result.stdout
        assert entry.licence in result.stdout and entry.ollama_name in result.stdout
    assert "needs about 2 GB of memory" in result.stdout


def test_readme_recommends_the_catalog_models_with_their_facts():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    for entry in RECOMMENDED:
        row = next(line for line in readme.splitlines() if line.startswith(f"| `{entry.key}` |"))
        assert entry.hf_repo in row and entry.licence in row and f"`{entry.ollama_tag}`" in row
        assert f"| {human_size(entry.size_bytes)} | {entry.memory_gb:g} GB |" in row


# --- Ollama pulls -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ollama():
    from devtools.ollama_standin import OllamaStandIn

    standin = OllamaStandIn(bundled_gguf("smollm2")).start()
    yield standin
    standin.stop()


def test_ollama_pull_streams_progress_then_the_model_answers(ollama, ingested_service):
    service = service_with(ingested_service, ollama_host=ollama.url, max_new_tokens=24)

    events = list(service.answer_stream(QUESTION, model="ollama:qwen2.5:1.5b", k=2))

    pulls = [e for e in events if isinstance(e, PullProgress)]
    steps = [e.step for e in pulls]
    assert steps[0] == "ollama pull qwen2.5:1.5b: pulling manifest"
    assert "ollama pull qwen2.5:1.5b: success" in steps
    layer = [e for e in pulls if e.step.startswith("ollama pull qwen2.5:1.5b: pulling 5555")]
    assert layer[-1].done == layer[-1].total == bundled_gguf("smollm2").stat().st_size
    assert isinstance(events[-1], Finished) and events[-1].model == "ollama:qwen2.5:1.5b"
    assert any(isinstance(e, Retrieved) for e in events)
    assert ollama.chat_requests[-1]["model"] == "qwen2.5:1.5b"


def test_ollama_pull_command_shows_progress(ollama):
    result = run_module("rag", "models", "--pull", "ollama:llama3.2:3b", OLLAMA_HOST=ollama.url)

    assert result.returncode == 0, result.stderr
    assert "ollama:llama3.2:3b" in result.stdout and f"Ollama at {ollama.url}" in result.stdout
    assert "pulling 5555" in result.stderr and "100%" in result.stderr


def test_ollama_pull_of_a_name_not_in_its_library_is_clear(ollama):
    result = run_module("rag", "models", "--pull", "ollama:no-such-model", OLLAMA_HOST=ollama.url)

    assert result.returncode == 2
    assert "pull model manifest: file does not exist" in result.stderr
    assert "https://ollama.com/library/no-such-model" in result.stderr


def _settings():
    from rag.settings import Settings

    return Settings(_env_file=None)


def hub_module_cache() -> str:
    from huggingface_hub import constants

    return constants.HF_HUB_CACHE
