"""Deployable as a Hugging Face Space: front matter, requirements, and starting as Spaces do."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import urllib.request

import gradio
import pytest
import tomllib
import yaml

from rag import settings as settings_module
from rag.settings import Settings

from .conftest import REPO_ROOT
from .documents import write_sample_documents
from .servers import wait_for_http


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
    monkeypatch.setattr(settings_module, "SPACE_PERSISTENT_DIR", tmp_path)
    monkeypatch.setenv("SPACE_ID", "someone/course-notes")
    assert Settings(_env_file=None).db_dir == tmp_path / "rag_db"
    monkeypatch.delenv("SPACE_ID")
    assert Settings(_env_file=None).db_dir.name == ".rag_db"


def _port_7860_free() -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", 7860)) != 0


@pytest.mark.skipif(not _port_7860_free(), reason="port 7860 is taken on this machine")
def test_app_starts_as_spaces_start_it(tmp_path):
    docs = tmp_path / "docs"
    write_sample_documents(docs)
    env = {
        **os.environ,
        "GRADIO_SERVER_NAME": "0.0.0.0",
        "GRADIO_SERVER_PORT": "7860",
        "SPACE_ID": "someone/course-notes",  # as on a Space; no /data here, so .rag_db is used
        "RAG_DB_DIR": str(tmp_path / "db"),
        "RAG_KNOWLEDGE_DIR": str(docs),
        "HF_HUB_OFFLINE": "1",
    }
    process = subprocess.Popen(
        [sys.executable, "app.py"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for_http("http://127.0.0.1:7860/", process)
        with urllib.request.urlopen("http://127.0.0.1:7860/config", timeout=10) as response:
            config = response.read().decode()
        assert "Course notes assistant" in config
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
    assert "Running on local URL:  http://0.0.0.0:7860" in output
