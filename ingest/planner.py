"""What an ingest job has to do: files on disk and what the store holds in, actions out.

Pure: nothing here reads a file or the store. Whether a path exists is asked of a :class:`Disk`
(the real one by default), so the rules can be unit-tested on made-up folders.

A file whose name the store lists as excluded (deleted from the library, its file kept) is
left out, as if it were not on disk.

A file is matched to its stored document by path first (the same file ingested from another
root folder replaces its old chunks rather than doubling them), then by source (a folder that
moved, or a copy of it on another machine sharing a Chroma server, keeps its chunks: same
names and contents give the same ids, so nothing is embedded again). A document is current
when every chunk of one complete version is there, cut with today's chunking.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from rag.core import CHUNKER_VERSION

Metadata = dict[str, Any]


def chunking_key(chunk_size: int, chunk_overlap: int) -> str:
    """How a chunk was cut (chunker version, size, overlap): a change re-chunks every file."""
    return f"v{CHUNKER_VERSION}:{chunk_size}/{chunk_overlap}"


class Disk(Protocol):
    def is_file(self, path: Path) -> bool: ...

    def is_dir(self, path: Path) -> bool: ...


class RealDisk:
    def is_file(self, path: Path) -> bool:
        return path.is_file()

    def is_dir(self, path: Path) -> bool:
        return path.is_dir()


# --- what goes in ----------------------------------------------------------------------------
@dataclass(frozen=True)
class DiskFile:
    """A document found on disk: its path, the folder it was found under, its source name,
    and its contents' hash (None when it can't be read: ``error`` says why)."""

    path: Path
    root: Path
    source: str
    digest: str | None
    error: str = ""


@dataclass
class StoredDocument:
    """One document in the store: chunk id -> metadata of each of its chunks."""

    source: str
    ids: dict[str, Metadata] = field(default_factory=dict)

    def meta(self, key: str) -> Any:
        return next(iter(self.ids.values())).get(key) if self.ids else None


def stored_documents(
    metadatas: Iterable[tuple[str, Metadata]],
) -> tuple[dict[str, StoredDocument], list[str]]:
    """source -> stored document, and the ids of chunks that belong to no document."""
    stored: dict[str, StoredDocument] = {}
    orphans = []
    for chunk_id, meta in metadatas:
        source = meta.get("source")
        if not source or not meta.get("path"):
            orphans.append(chunk_id)
            continue
        stored.setdefault(source, StoredDocument(source)).ids[chunk_id] = meta
    return stored, orphans


# --- what comes out --------------------------------------------------------------------------
@dataclass(frozen=True)
class Keep:
    """Stored and current: nothing to do."""

    source: str
    chunks: int


@dataclass(frozen=True)
class Move:
    """Stored and current, read from a new place: point these chunks' path and root there."""

    source: str
    chunks: int
    ids: list[str]
    path: str
    root: str


@dataclass(frozen=True)
class Write:
    """Load, chunk, embed and write the file, then drop ``replaces`` (its older chunks).

    An *add* when nothing is replaced, an *update* otherwise."""

    file: DiskFile
    replaces: dict[str, Metadata]

    @property
    def source(self) -> str:
        return self.file.source


@dataclass(frozen=True)
class Remove:
    """Delete these chunks: a document whose file is gone, or chunks of no document."""

    source: str
    ids: list[str]


@dataclass(frozen=True)
class Refuse:
    """A file (or folder) that fails, with the reason; whatever it has stored stays."""

    source: str
    reason: str
    chunks: int = 0


@dataclass(frozen=True)
class Exclude:
    """A file whose document was deleted from the library and is left out until included."""

    source: str


FileAction = Keep | Move | Write | Refuse | Exclude


@dataclass
class Plan:
    #: One action per file found, in the order found.
    files: list[FileAction] = field(default_factory=list)
    #: After the files: what pruning removes (or refuses to, for an emptied folder).
    prune: list[Remove | Refuse] = field(default_factory=list)


#: The source name of the chunks of no document, when they are removed.
ORPHANS = "(chunks of no document)"


def is_current(existing: dict[str, Metadata], digest: str, chunking: str) -> bool:
    """Every chunk of one complete version, cut with today's chunking settings."""
    if not existing:
        return False
    metas = list(existing.values())
    n = metas[0].get("n_chunks")
    return (
        all(
            m.get("content_hash") == digest
            and m.get("n_chunks") == n
            and m.get("chunking") == chunking
            for m in metas
        )
        and sorted(m.get("chunk_index") for m in metas) == list(range(len(metas)))
        and len(metas) == n
    )


class Planner:
    """Turns (files found, documents stored) into a :class:`Plan`."""

    def __init__(self, chunking: str, own_folders: Sequence[Path] = (), disk: Disk | None = None):
        self.chunking = chunking
        #: The store's folder and the uploads: never part of a knowledge folder's documents.
        self.own_folders = list(own_folders)
        self.disk = disk or RealDisk()

    def plan(
        self,
        files: Sequence[DiskFile],
        stored: dict[str, StoredDocument],
        *,
        orphans: Sequence[str] = (),
        prune_paths: Sequence[Path] | None = None,
        excluded: Collection[str] = (),
    ) -> Plan:
        """``prune_paths``: the paths asked for, when documents gone from their folders go;
        ``excluded``: names of documents left out of the library (any stored copy goes too)."""
        plan = Plan()
        seen: set[str] = set()  # sources this job accounts for
        claimed: dict[str, str] = {}  # source -> path, in this job
        paths = {str(f.path) for f in files}
        by_path = {doc.meta("path"): doc.source for doc in stored.values() if doc.meta("path")}
        for file in files:
            if file.source in excluded:
                plan.files.append(Exclude(file.source))
                continue
            plan.files.append(self._file_action(file, stored, by_path, paths, seen, claimed))
        if prune_paths is not None:
            plan.prune = self._prune(prune_paths, files, stored, orphans, seen)
        return plan

    def _file_action(
        self,
        file: DiskFile,
        stored: dict[str, StoredDocument],
        by_path: dict[str, str],
        paths: set[str],
        seen: set[str],
        claimed: dict[str, str],
    ) -> FileAction:
        key, source = str(file.path), file.source
        if source in claimed:
            return Refuse(
                source,
                f"{file.path}: another file of this run, {claimed[source]}, has the same "
                "name; rename one of them or ingest their folders separately",
            )
        claimed[source] = key
        seen.add(source)
        if file.digest is None:
            return Refuse(source, f"{file.path}: can't read ({file.error})")
        existing: dict[str, Metadata] = {}
        doc = stored.get(source)
        if doc is not None:
            elsewhere = doc.meta("path")
            if (
                elsewhere != key
                and elsewhere not in paths
                and self.disk.is_file(Path(elsewhere))
                and not is_current(doc.ids, file.digest, self.chunking)
            ):
                # Another file, still there, with other contents under the same name: the
                # two would take turns replacing each other. (The same contents is a copy of
                # the same document, e.g. the notes of another machine sharing a server.)
                return Refuse(
                    source,
                    f"{file.path}: {elsewhere} is already stored under the same name "
                    f"'{source}'; rename one of them",
                )
            existing.update(doc.ids)
        previous = by_path.get(key)
        if previous is not None and previous != source and previous in stored:
            # The same file, stored under another name (ingested from another root folder):
            # its old chunks go once the new ones are in.
            existing.update(stored[previous].ids)
            seen.add(previous)
        if previous in (None, source) and is_current(existing, file.digest, self.chunking):
            root = str(file.root)
            stale = [
                i for i, m in existing.items() if m.get("path") != key or m.get("root") != root
            ]
            if stale:
                return Move(source, len(existing), stale, key, root)
            return Keep(source, len(existing))
        return Write(file, existing)

    def _owner(self, root: Path, folders: list[Path]) -> Path | None:
        """The asked-for folder a stored document's root folder belongs to, if any."""
        own = self.own_folders
        owner = next(
            (
                f
                for f in folders
                if root == f
                or (root.is_relative_to(f) and not any(root.is_relative_to(e) for e in own))
            ),
            None,
        )
        if owner is None:
            # A folder that moved (same name, old place gone), or the same folder on the
            # other machine sharing a Chroma server: its vanished files go too.
            owner = next(
                (f for f in folders if f.name == root.name and not self.disk.is_dir(root)), None
            )
        return owner

    def _prune(
        self,
        prune_paths: Sequence[Path],
        files: Sequence[DiskFile],
        stored: dict[str, StoredDocument],
        orphans: Sequence[str],
        seen: set[str],
    ) -> list[Remove | Refuse]:
        folders = [p for p in prune_paths if self.disk.is_dir(p)]
        if not folders:
            return []
        actions: list[Remove | Refuse] = []
        if orphans:
            actions.append(Remove(ORPHANS, list(orphans)))
        nonempty = {f.root for f in files}
        kept: dict[Path, list[StoredDocument]] = {}
        for doc in stored.values():
            if doc.source in seen:
                continue
            owner = self._owner(Path(doc.meta("root") or doc.meta("path")), folders)
            if owner is None:
                continue
            if owner not in nonempty:
                kept.setdefault(owner, []).append(doc)
                continue
            actions.append(Remove(doc.source, list(doc.ids)))
        for folder, docs in kept.items():
            # An empty folder is more often an unmounted disk or a checkout in progress than
            # a wish to forget everything.
            actions.append(
                Refuse(
                    f"{folder.name}/",
                    f"{folder} is empty, so its {len(docs)} stored documents are kept; "
                    "use --reset (or delete them) to empty the store",
                    sum(len(d.ids) for d in docs),
                )
            )
        return actions
