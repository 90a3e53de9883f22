"""Which files on disk are documents, and what each one's contents hash to."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

# Editor and office droppings that are never documents.
_SKIPPED_PREFIXES = ("~$", ".~lock")
_SKIPPED_SUFFIXES = ("~", ".tmp", ".swp", ".part", ".crdownload")


def content_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def absolute(path: Path) -> Path:
    """Absolute and normalised, symlinks left alone (a linked file keeps its own name)."""
    return Path(os.path.abspath(path))


def skipped_name(name: str) -> bool:
    """Editor and office droppings (``~$report.docx``, ``notes.md~``), never documents."""
    return name.startswith(_SKIPPED_PREFIXES) or name.endswith(_SKIPPED_SUFFIXES)


def collect_files(paths: Iterable[Path], exclude: Iterable[Path] = ()) -> list[tuple[Path, Path]]:
    """(file, the folder its source name is relative to) for every document under ``paths``.

    Hidden files and folders, editor droppings and anything under ``exclude`` (the store's own
    folder, say, when it sits inside the knowledge folder) are left out.
    """
    exclude = [absolute(p) for p in exclude]
    found = []
    for path in paths:
        path = absolute(path)
        if path.is_dir():
            excluded = [e for e in exclude if e != path and e.is_relative_to(path)]
            for file in sorted(path.rglob("*")):
                relative = file.relative_to(path).parts
                if any(part.startswith(".") for part in relative) or skipped_name(file.name):
                    continue
                if any(file.is_relative_to(e) for e in excluded) or not file.is_file():
                    continue
                found.append((file, path))
        else:
            found.append((path, path.parent))
    return found
