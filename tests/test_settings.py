"""The settings object: env vars, .env, overrides, and the README's table kept in step."""

from __future__ import annotations

import subprocess
import sys

from devtools.paths import REPO_ROOT
from ingest.pipeline import Ingestor
from rag.retrieval import HybridRetriever
from rag.settings import (
    GROUPS,
    IngestSettings,
    RetrievalSettings,
    Settings,
    StoreSettings,
    load_settings,
)
from rag.store import open_store

from .support.notes import TOPICS, code_word, write_notes


def test_env_and_dotenv_are_read_and_overrides_win(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("RAG_TOP_K=7\nRAG_MODEL=ollama:llama3.2\n", encoding="utf-8")
    monkeypatch.setenv("RAG_CHUNK_SIZE", "640")

    settings = load_settings(model="openai:gpt-4.1-mini", top_k=None)

    assert settings.top_k == 7  # from .env
    assert settings.chunk_size == 640  # from the environment
    assert settings.model == "openai:gpt-4.1-mini"  # a CLI flag wins; None means "not given"


def test_every_setting_is_described_and_in_the_readme():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    for name, field in Settings.model_fields.items():
        assert field.description, f"{name} has no description"
        assert f"`RAG_{name.upper()}`" in readme, f"RAG_{name.upper()} is missing from README.md"


def test_settings_are_their_groups_together_and_the_readme_prints_each_group():
    names = [name for group in GROUPS for name in group.model_fields]
    assert len(names) == len(set(names)), "a setting is in two groups"
    assert set(names) == set(Settings.model_fields)
    printed = subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / "settings_table.py")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert printed.strip() in (REPO_ROOT / "README.md").read_text(encoding="utf-8")


def test_a_group_reads_the_same_environment_names(monkeypatch):
    monkeypatch.setenv("RAG_CHUNK_SIZE", "640")
    assert IngestSettings(_env_file=None).chunk_size == 640
    assert Settings(_env_file=None).chunk_size == 640


def test_the_store_the_ingestor_and_the_retriever_each_run_on_their_own_group(tmp_path, embedder):
    """A component takes its settings group, not the whole settings object."""
    notes = tmp_path / "notes"
    write_notes(notes, TOPICS[:2])
    store = open_store(StoreSettings(_env_file=None, db_dir=tmp_path / "db"))
    ingestor = Ingestor(
        IngestSettings(_env_file=None), store, lambda: embedder, vectors_name=embedder.name
    )

    assert ingestor.ingest([notes]).count("added") == 2

    retriever = HybridRetriever.from_settings(store, embedder, RetrievalSettings(_env_file=None))
    found = retriever.retrieve(f"code word {code_word(TOPICS[1], 1)}", 3)
    assert found[0].source == f"{TOPICS[1]}.md"


def _group_readers() -> list[tuple[str, str, str, set[str]]]:
    """(file, function, group, attributes it reads of ``settings``) for every function of the
    app whose ``settings`` parameter is typed as one group."""
    import ast

    groups = {group.__name__ for group in GROUPS}
    found = []
    for path in sorted((REPO_ROOT / "rag").rglob("*.py")) + sorted(
        (REPO_ROOT / "ingest").rglob("*.py")
    ):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for arg in [*node.args.args, *node.args.kwonlyargs]:
                hint = ast.unparse(arg.annotation).strip("'\"") if arg.annotation else ""
                if hint in groups:
                    read = {
                        sub.attr
                        for sub in ast.walk(node)
                        if isinstance(sub, ast.Attribute)
                        and isinstance(sub.value, ast.Name)
                        and sub.value.id == arg.arg
                    }
                    found.append((str(path.relative_to(REPO_ROOT)), node.name, hint, read))
    return found


def test_a_component_given_a_settings_group_reads_only_that_group():
    by_name = {group.__name__: group for group in GROUPS}
    readers = _group_readers()
    assert any(group == "GenerationSettings" for _, _, group, _ in readers)  # the chat backends
    for file, function, group, read in readers:
        own = set(by_name[group].model_fields) | {
            name
            for name in dir(by_name[group])
            if isinstance(getattr(by_name[group], name, None), property)
        }
        assert read <= own, f"{file}:{function} reads {sorted(read - own)} outside {group}"
