"""The store as a real Chroma server (`chroma run` on loopback) instead of a local folder."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from devtools.servers import free_port, wait_for_http
from ingest.pipeline import IngestLocked, Ingestor
from rag.app import create_service
from rag.settings import Settings
from rag.store import Lease, StoreError, open_store

from .support.cli import run_cli
from .support.notes import TOPICS, code_word, note_text, write_notes
from .support.store_checks import (
    assert_lexical_matches,
    assert_no_duplicates,
    clean_snapshot,
    snapshot,
)


@pytest.fixture(scope="module")
def chroma_port(tmp_path_factory):
    """A Chroma server of its own, on a free loopback port, stopped after the module."""
    data = tmp_path_factory.mktemp("chroma-server")
    port = free_port()
    log = (data / "server.log").open("wb")
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "chroma"),
            "run",
            "--path",
            str(data / "db"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/api/v2/heartbeat", process, timeout=60)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)
        log.close()


@pytest.fixture
def server_settings(chroma_port, tmp_path, request):
    """Settings for the server; each test its own collection, each "machine" its own folder."""

    def _make(machine: str = "a", **overrides) -> Settings:
        values = {
            "chroma_host": "127.0.0.1",
            "chroma_port": chroma_port,
            "collection": f"notes-{request.node.name[5:40].replace('_', '-')}",
            "db_dir": tmp_path / f"machine-{machine}",
            "knowledge_dir": tmp_path / "notes",
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)

    return _make


def test_ingest_update_and_answer_through_the_server(server_settings, tmp_path, embedder):
    folder = tmp_path / "notes"
    write_notes(folder, TOPICS[:6])
    settings = server_settings()
    service = create_service(settings, embedder_factory=lambda s: embedder)
    assert service.store.is_remote
    assert f"http://127.0.0.1:{settings.chroma_port}" in service.store.description

    assert service.ingest_knowledge_dir().count("added") == 6
    assert service.ingest_knowledge_dir().chunks_written == 0
    (folder / "agents.md").write_text(note_text("agents", 2), encoding="utf-8")
    (folder / "retrieval.md").unlink()
    report = service.ingest_knowledge_dir()

    assert {r.source: r.status for r in report.results if r.status != "unchanged"} == {
        "agents.md": "updated",
        "retrieval.md": "removed",
    }
    assert code_word("agents", 2) in service.retrieve("What is the code word for agents?")[0].text
    assert snapshot(service.store) == clean_snapshot(folder, tmp_path / "local", embedder)
    assert_no_duplicates(service.store)


def test_the_server_is_chosen_by_environment_variables(server_settings, embedder, tmp_path):
    settings = server_settings()
    write_notes(settings.knowledge_dir, TOPICS[:3])
    Ingestor.from_settings(settings, open_store(settings), lambda: embedder).ingest(
        [settings.knowledge_dir]
    )

    status = run_cli(
        "--status",
        "--json",
        RAG_CHROMA_HOST="127.0.0.1",
        RAG_CHROMA_PORT=str(settings.chroma_port),
        RAG_COLLECTION=settings.collection,
        RAG_DB_DIR=str(tmp_path / "cli"),
    )

    assert status.returncode == 0, status.stderr
    listing = json.loads(status.stdout.splitlines()[-1])
    assert listing["documents"] == 3
    assert f"http://127.0.0.1:{settings.chroma_port}" in status.stdout


def test_two_machines_share_the_server_under_one_lease(server_settings, embedder, tmp_path):
    first_settings = server_settings("a")
    second_settings = server_settings("b")
    write_notes(first_settings.knowledge_dir, TOPICS[:4])
    first = Ingestor.from_settings(first_settings, open_store(first_settings), lambda: embedder)
    second = Ingestor.from_settings(second_settings, open_store(second_settings), lambda: embedder)
    # Each machine has its own lock file, named after the server: it can't see the other's.
    assert first.store.lock_path.parent != second.store.lock_path.parent
    assert str(first_settings.chroma_port) in first.store.lock_path.name

    with first.lock():
        lease = first.store.lease()
        assert lease is not None and lease.pid > 0
        with pytest.raises(IngestLocked) as refused:
            second.ingest([second_settings.knowledge_dir], lock_wait=0)
        assert f"process {lease.pid} on {lease.host}" in str(refused.value)
    assert first.store.lease() is None  # released with the lock

    assert first.ingest([first_settings.knowledge_dir]).count("added") == 4
    # The other machine has the same notes in another folder: nothing to embed, no duplicates.
    copy = tmp_path / "elsewhere" / "notes"
    shutil.copytree(first_settings.knowledge_dir, copy)
    report = second.ingest([copy])
    assert report.count("unchanged") == 4 and report.chunks_written == 0
    assert len(second.documents()) == 4
    assert_no_duplicates(second.store)


def test_two_writers_claiming_together_never_both_hold_the_server(server_settings):
    """Each writer on its own "machine" (its own lock file): only the server orders them."""
    stores = [open_store(server_settings(machine)) for machine in ("a", "b")]
    assert stores[0].lock_path != stores[1].lock_path
    start = threading.Barrier(2)
    inside: list[int] = []
    overlaps: list[list[int]] = []
    turns = [0, 0]

    def writer(i: int) -> None:
        start.wait()
        for _ in range(4):
            with stores[i].writer_lock(120):
                inside.append(i)
                if len(inside) > 1:
                    overlaps.append(list(inside))
                time.sleep(0.2)
                inside.remove(i)
                turns[i] += 1

    threads = [threading.Thread(target=writer, args=(i,)) for i in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)

    assert turns == [4, 4] and not overlaps
    assert stores[0].lease() is None  # the last one released it


def test_a_lease_left_by_a_killed_job_does_not_block_the_next(server_settings, embedder):
    settings = server_settings()
    write_notes(settings.knowledge_dir, TOPICS[:2])
    store = open_store(settings)
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    store.claim_lease(Lease("crashed", socket.gethostname(), int(dead.stdout), time.time() + 600))

    report = Ingestor.from_settings(settings, store, lambda: embedder).ingest(
        [settings.knowledge_dir]
    )

    assert report.count("added") == 2
    assert store.lease() is None


def test_an_unreachable_server_is_named_with_the_way_out(tmp_path):
    settings = Settings(
        _env_file=None, chroma_host="127.0.0.1", chroma_port=free_port(), db_dir=tmp_path
    )
    with pytest.raises(StoreError) as caught:
        open_store(settings)
    assert f"Can't reach the Chroma server at http://127.0.0.1:{settings.chroma_port}" in str(
        caught.value
    )
    assert "unset RAG_CHROMA_HOST" in str(caught.value)


def test_every_machine_has_its_own_lexical_index_of_the_server(server_settings, embedder):
    """Machine a ingests; machine b's app finds its index behind the server's generation and
    catches up before answering, and again after a's next change."""
    writer_settings = server_settings("a")
    reader_settings = server_settings("b")
    write_notes(writer_settings.knowledge_dir, TOPICS[:4])
    writer = create_service(writer_settings, embedder_factory=lambda s: embedder)
    reader = create_service(reader_settings, embedder_factory=lambda s: embedder)
    assert writer.store.lexical.path.parent == writer_settings.db_dir
    assert reader.store.lexical.path.parent == reader_settings.db_dir
    assert str(writer_settings.chroma_port) in reader.store.lexical.path.name

    writer.ingest_knowledge_dir()
    assert reader.store.lexical.chunk_count() == 0  # b has not looked yet
    found = reader.retrieve(f"code word {code_word('tokenizers', 1)}")
    assert found[0].source == "tokenizers.md"
    assert_lexical_matches(reader.store)

    (writer_settings.knowledge_dir / "tokenizers.md").write_text(
        note_text("tokenizers", 2), encoding="utf-8"
    )
    (writer_settings.knowledge_dir / "attention.md").unlink()
    writer.ingest_knowledge_dir()
    found = reader.retrieve(f"code word {code_word('tokenizers', 2)}")
    assert code_word("tokenizers", 2) in found[0].text
    assert_lexical_matches(reader.store)
    assert "attention.md" not in [d["source"] for d in reader.ingestor.documents()]
