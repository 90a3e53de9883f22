"""The ingest planner alone: made-up folders and stores, no Chroma, no files, no model."""

from __future__ import annotations

from pathlib import Path

from ingest.planner import (
    ORPHANS,
    DiskFile,
    Exclude,
    Keep,
    Move,
    Planner,
    Refuse,
    Remove,
    StoredDocument,
    Write,
    chunking_key,
    stored_documents,
)

CHUNKING = chunking_key(800, 100)
NOTES = Path("/kb/notes")


class FakeDisk:
    """Which paths exist, as a set: the planner asks nothing else of the disk."""

    def __init__(self, files=(), dirs=()):
        self.files = {Path(p) for p in files}
        self.dirs = {Path(p) for p in dirs}

    def is_file(self, path: Path) -> bool:
        return path in self.files

    def is_dir(self, path: Path) -> bool:
        return path in self.dirs


def on_disk(name: str, digest: str = "h1", root: Path = NOTES) -> DiskFile:
    return DiskFile(root / name, root, name, digest)


def stored(source: str, digest: str = "h1", n: int = 2, root: Path = NOTES, **extra):
    """A stored document of ``n`` complete chunks, as ingestion writes it."""
    path = str(extra.pop("path", root / source))
    return {
        f"{source}-{i}": {
            "source": source,
            "path": path,
            "root": str(root),
            "content_hash": digest,
            "n_chunks": n,
            "chunk_index": i,
            "chunking": extra.get("chunking", CHUNKING),
        }
        for i in range(n)
    }


def store_of(*documents: dict) -> dict[str, StoredDocument]:
    metadatas = [item for document in documents for item in document.items()]
    return stored_documents(metadatas)[0]


def plan(files, store, disk=None, prune=(NOTES,), **kwargs):
    planner = Planner(
        CHUNKING, own_folders=[Path("/kb/notes/.rag_db")], disk=disk or FakeDisk(dirs=[NOTES])
    )
    return planner.plan(
        files, store, prune_paths=list(prune) if prune is not None else None, **kwargs
    )


def test_new_changed_and_unchanged_files_are_added_updated_and_kept():
    store = store_of(stored("a.md"), stored("b.md"))
    result = plan([on_disk("a.md"), on_disk("b.md", "h2"), on_disk("c.md")], store)

    keep, update, add = result.files
    assert keep == Keep("a.md", 2)
    assert isinstance(update, Write) and set(update.replaces) == {"b.md-0", "b.md-1"}
    assert isinstance(add, Write) and add.replaces == {}
    assert result.prune == []


def test_a_deleted_file_is_removed_and_chunks_of_no_document_go_too():
    store = store_of(stored("a.md"), stored("gone.md"))
    result = plan([on_disk("a.md")], store, orphans=["stray"])

    assert result.files == [Keep("a.md", 2)]
    assert result.prune == [
        Remove(ORPHANS, ["stray"]),
        Remove("gone.md", ["gone.md-0", "gone.md-1"]),
    ]


def test_without_pruning_nothing_is_removed():
    store = store_of(stored("a.md"), stored("gone.md"))
    assert plan([on_disk("a.md")], store, prune=None).prune == []


def test_an_incomplete_or_rechunked_document_is_written_again():
    partial = stored("a.md")
    partial.pop("a.md-1")  # a crash between writing and deleting
    old_chunker = stored("b.md", chunking="v2:800/100")
    result = plan([on_disk("a.md"), on_disk("b.md")], store_of(partial, old_chunker))

    assert [type(a) for a in result.files] == [Write, Write]


def test_a_moved_folder_keeps_its_chunks_and_points_them_at_the_new_place():
    old = Path("/old/notes")
    store = store_of(stored("a.md", root=old), stored("gone.md", root=old))
    disk = FakeDisk(dirs=[NOTES])  # the old folder is gone
    result = plan([on_disk("a.md")], store, disk=disk)

    (move,) = result.files
    assert move == Move("a.md", 2, ["a.md-0", "a.md-1"], str(NOTES / "a.md"), str(NOTES))
    assert result.prune == [Remove("gone.md", ["gone.md-0", "gone.md-1"])]


def test_two_files_of_one_run_with_the_same_name_the_second_is_refused():
    other = Path("/kb/other")
    result = plan([on_disk("a.md"), on_disk("a.md", root=other)], {}, prune=None)

    assert isinstance(result.files[0], Write)
    assert isinstance(result.files[1], Refuse) and "same name" in result.files[1].reason


def test_another_existing_file_stored_under_the_same_name_is_not_overwritten():
    elsewhere = Path("/kb/else")
    store = store_of(stored("a.md", root=elsewhere))
    disk = FakeDisk(files=[elsewhere / "a.md"], dirs=[NOTES])
    (refused,) = plan([on_disk("a.md", "h2")], store, disk=disk, prune=None).files

    assert isinstance(refused, Refuse)
    assert str(elsewhere / "a.md") in refused.reason and "rename one of them" in refused.reason


def test_the_same_file_under_a_new_name_replaces_its_old_chunks():
    # Ingested once as notes/a.md (root /kb), now as a.md (root /kb/notes).
    store = store_of(stored("notes/a.md", root=Path("/kb"), path=NOTES / "a.md"))
    (write,) = plan([on_disk("a.md")], store, prune=None).files

    assert isinstance(write, Write) and set(write.replaces) == {"notes/a.md-0", "notes/a.md-1"}


def test_an_unreadable_file_is_refused_with_the_reason():
    unreadable = DiskFile(NOTES / "a.md", NOTES, "a.md", None, "Permission denied")
    (refused,) = plan([unreadable], store_of(stored("a.md")), prune=None).files

    assert refused == Refuse("a.md", f"{NOTES / 'a.md'}: can't read (Permission denied)")


def test_an_emptied_folder_keeps_its_documents_and_says_so():
    store = store_of(stored("a.md"), stored("b.md"))
    result = plan([], store)

    (refused,) = result.prune
    assert isinstance(refused, Refuse) and refused.chunks == 4
    assert "is empty" in refused.reason and "2 stored documents are kept" in refused.reason


def test_an_excluded_document_is_left_out_and_a_stored_copy_of_it_goes():
    store = store_of(stored("a.md"), stored("b.md"))
    result = plan([on_disk("a.md"), on_disk("b.md")], store, excluded={"b.md"})

    assert result.files == [Keep("a.md", 2), Exclude("b.md")]
    assert result.prune == [Remove("b.md", ["b.md-0", "b.md-1"])]
    # A folder whose only file is excluded is not an emptied folder.
    alone = plan([on_disk("b.md")], store_of(stored("b.md")), excluded={"b.md"})
    assert alone.files == [Exclude("b.md")]
    assert alone.prune == [Remove("b.md", ["b.md-0", "b.md-1"])]
