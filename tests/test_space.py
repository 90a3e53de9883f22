"""Deployable as a Hugging Face Space: front matter, requirements, and starting as Spaces do."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import urllib.request

import gradio
import pytest
import tomllib
import yaml

from devtools.paths import REPO_ROOT
from devtools.sample_documents import FACTS, write_sample_documents
from devtools.space_build import (
    SPACE_URL,
    SpaceProcess,
    ask_space,
    build_space_venv,
    copy_space_files,
)
from ingest.loaders import LoadError, load_file
from rag.answer import available_models
from rag.settings import (
    DEFAULT_MODEL,
    LOCAL_DB_DIR,
    NO_COMPILE_MODEL,
    Settings,
    default_model,
)


def front_matter() -> dict:
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    match = re.match(r"^---\n(.*?)\n---\n", text, re.DOTALL)
    assert match, "README.md must start with a YAML front matter block for Spaces"
    return yaml.safe_load(match.group(1))


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_readme_front_matter_describes_a_gradio_space():
    meta = front_matter()
    assert meta["sdk"] == "gradio"
    assert meta["app_file"] == "app.py"
    assert str(meta["python_version"]).startswith("3.")
    assert meta["sdk_version"].split(".")[0] == gradio.__version__.split(".")[0]


def test_requirements_cover_the_runtime_dependencies():
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    lines = (REPO_ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
    required = {_name(line) for line in lines if line.strip() and not line.startswith(("#", "-"))}
    missing = {_name(dep) for dep in project["dependencies"]} - required
    assert not missing, f"requirements.txt lacks: {sorted(missing)}"


def test_store_goes_to_persistent_storage_on_a_space(tmp_path, monkeypatch):
    monkeypatch.setenv("SPACE_ID", "someone/course-notes")
    on_data = Settings(_env_file=None, persistent_dir=tmp_path)
    assert on_data.db_dir == tmp_path / "rag_db"
    assert not on_data.store_is_temporary

    without_data = Settings(_env_file=None, persistent_dir=tmp_path / "not-mounted")
    assert without_data.db_dir == LOCAL_DB_DIR
    assert without_data.store_is_temporary

    monkeypatch.delenv("SPACE_ID")
    local = Settings(_env_file=None, persistent_dir=tmp_path)
    assert local.db_dir == LOCAL_DB_DIR
    assert not local.store_is_temporary  # a store on one's own disk is not "temporary"


def test_without_llama_cpp_the_default_model_needs_no_compiling(monkeypatch):
    assert Settings(_env_file=None).model == DEFAULT_MODEL  # the test venv has llama.cpp
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # as on a Space: not installed

    assert default_model() == NO_COMPILE_MODEL
    assert Settings(_env_file=None).model == NO_COMPILE_MODEL
    missing = [c for c in available_models(Settings(_env_file=None)) if not c.available]
    hint = next(c.reason for c in missing if c.name.startswith("llamacpp:"))
    assert '".[llamacpp]"' in hint and "CMAKE_ARGS" in hint


def test_without_unstructured_its_formats_are_refused_naming_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "unstructured", None)  # as on a Space: not installed
    note = tmp_path / "slides.rtf"
    note.write_text(r"{\rtf1\ansi Quokka notes.}", encoding="utf-8")

    with pytest.raises(LoadError) as refused:
        load_file(note, [".rtf"], max_file_mb=1)

    assert "slides.rtf" in str(refused.value)
    assert "pip install -e '.[formats]'" in str(refused.value)


def _port_7860_free() -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", 7860)) != 0


needs_port_7860 = pytest.mark.skipif(not _port_7860_free(), reason="port 7860 is taken here")


@pytest.mark.slow
@needs_port_7860
def test_app_starts_as_spaces_start_it_and_answers_before_any_page_load(tmp_path):
    docs = tmp_path / "docs"
    write_sample_documents(docs)
    name, _fact, question = FACTS["html"]
    # No persistent storage here (RAG_PERSISTENT_DIR names no folder): the store is temporary.
    env = {
        "RAG_DB_DIR": str(tmp_path / "db"),
        "RAG_KNOWLEDGE_DIR": str(docs),
        "RAG_PERSISTENT_DIR": str(tmp_path / "data"),
        "RAG_MAX_NEW_TOKENS": "48",
    }
    space = SpaceProcess(REPO_ROOT, env)
    try:
        space.wait_until_listening()
        with urllib.request.urlopen(SPACE_URL + "config", timeout=10) as response:
            config = response.read().decode()
        # Asked through the API at once: no browser ever loaded the page.
        answer, sources = ask_space(question, "llamacpp:smollm2")
    finally:
        space.stop()
    assert "Course notes assistant" in config
    assert "The store is temporary" in config
    assert "the knowledge folder is ingested" in space.output
    # The link names the passage and, after a colon, the supporting sentences' spans.
    assert re.search(r'Sources: <a class="rag-cite" href="#source-1[":]', answer), answer
    assert name in sources


@pytest.mark.slow
@needs_port_7860
def test_store_on_persistent_storage_survives_a_restart(tmp_path):
    docs = tmp_path / "docs"
    write_sample_documents(docs)
    data = tmp_path / "data"  # stands in for a Space's /data
    data.mkdir()
    env = {"RAG_KNOWLEDGE_DIR": str(docs), "RAG_PERSISTENT_DIR": str(data)}
    first = SpaceProcess(REPO_ROOT, env)
    try:
        first.wait_for_log("the knowledge folder is ingested")
    finally:
        first.stop()
    assert (data / "rag_db").is_dir()
    assert f"{len(FACTS)} added" in first.output

    second = SpaceProcess(REPO_ROOT, env)
    try:
        second.wait_for_log("the knowledge folder is ingested")
        second.wait_until_listening()
        with urllib.request.urlopen(SPACE_URL + "config", timeout=10) as response:
            config = response.read().decode()
    finally:
        second.stop()
    assert f"{len(FACTS)} unchanged" in second.output  # nothing ingested again
    assert "0 chunks written" in second.output
    assert "The store is temporary" not in config


@pytest.mark.slow
@pytest.mark.timeout(1800)
@needs_port_7860
def test_space_builds_from_wheels_alone_and_answers_from_its_notes(tmp_path):
    """A fresh venv from requirements.txt with --only-binary :all: (pip fails rather than
    compile), the Space's files alone, `python app.py` as Spaces run it, and a question through
    the API answered from the bundled knowledge folder with its source cited."""
    space = copy_space_files(tmp_path / "space")
    python, _seconds = build_space_venv(
        tmp_path / "venv", space / "requirements.txt", byte_compile=False
    )
    installed = subprocess.run(
        [str(python), "-m", "pip", "list", "--format=freeze"], capture_output=True, text=True
    ).stdout.lower()
    assert "llama_cpp_python" not in installed.replace("-", "_")  # nothing was compiled

    app = SpaceProcess(space, {"RAG_PERSISTENT_DIR": str(tmp_path / "data")}, python=python)
    try:
        app.wait_until_listening()
        with urllib.request.urlopen(SPACE_URL + "config", timeout=10) as response:
            config = response.read().decode()
        answer, sources = ask_space("What is the difference between LoRA and QLoRA?")
    finally:
        app.stop()
    assert "the knowledge folder is ingested" in app.output
    assert f"**Model:** `{NO_COMPILE_MODEL}`" in config  # the default that needs no compiling
    assert re.search(r'<a class="rag-cite" href="#source-\d[":]', answer), answer
    assert "07_fine_tuning_lora_qlora.md" in sources
