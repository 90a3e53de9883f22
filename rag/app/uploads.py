"""Uploaded files, checked on the server whatever the browser allowed: type, size, a file
that the loaders can read, and a file name that can't climb out of the uploads folder.

Good files are copied into ``settings.uploads_path`` and stored as ``uploads/<name>``
(:data:`UPLOAD_PREFIX`), apart from the knowledge folder's documents.
"""

from __future__ import annotations

import os
import re
import shutil
import unicodedata
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from ingest.loaders import LoadError, load_file

if TYPE_CHECKING:
    from rag.settings import Settings

#: Where uploads are in the store's document names.
UPLOAD_PREFIX = "uploads/"
_ODD = re.compile(r"[^\w.\- ()+,]", re.UNICODE)
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10))} | {
    f"lpt{i}" for i in range(10)
}
MAX_NAME_CHARS = 120


def safe_filename(name: str) -> str:
    """A file name that stays inside the folder it is written to.

    Directories are dropped (``../../etc/passwd`` -> ``passwd``), characters other than
    letters, digits and ``. - _ ( ) + ,`` and spaces become ``_``, leading dots go (no hidden
    files), and the name is kept short, its extension intact.
    """
    base = PurePosixPath(str(name).replace("\\", "/")).name
    base = unicodedata.normalize("NFC", base)
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C")  # controls
    base = _ODD.sub("_", base)
    base = re.sub(r"_{2,}", "_", base).strip(" .")
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, ""
    stem = stem.strip(" ._") or "upload"
    if stem.lower() in _WINDOWS_RESERVED:
        stem = f"_{stem}"
    ext = ext[:16]
    stem = stem[: MAX_NAME_CHARS - len(ext) - 1]
    return f"{stem}.{ext}" if ext else stem


@dataclass
class Upload:
    """One uploaded file: saved under ``saved``, or refused with ``reason``."""

    name: str
    saved: Path | None = None
    reason: str = ""


def save_uploads(files: Iterable[tuple[Path, str]], settings: Settings) -> list[Upload]:
    """Check each uploaded file, given as (where it was received, the name the person gave
    it), and copy the good ones into the uploads folder."""
    folder = settings.uploads_path
    folder.mkdir(parents=True, exist_ok=True)
    limit = settings.max_upload_mb
    uploads = []
    for source, given in files:
        name = safe_filename(given)
        ext = Path(name).suffix.lower()
        try:
            size = source.stat().st_size
        except OSError:
            uploads.append(Upload(name, reason="the upload did not arrive; send it again"))
            continue
        if ext not in settings.allowed_extensions:
            allowed = " ".join(settings.allowed_extensions)
            reason = f"unsupported file type '{ext or '(none)'}' (allowed: {allowed})"
        elif size == 0:
            reason = "the file is empty"
        elif size > limit * 1024 * 1024:
            reason = f"the file is {size / 1024 / 1024:.1f} MB, over the {limit:g} MB upload limit"
        else:
            reason = ""
        if reason:
            uploads.append(Upload(name, reason=reason))
            continue
        target = folder / name
        if target.resolve().parent != folder.resolve():  # belt and braces
            uploads.append(Upload(name, reason="not a usable file name"))
            continue
        uploads.append(_store_upload(source, target, settings))
    return uploads


def _store_upload(source: Path, target: Path, settings: Settings) -> Upload:
    """Copy next to ``target``, read it, then rename it into place.

    A half-copied file is never ingested, a link planted at the target is replaced rather
    than followed, and a new version that can't be read leaves the previous one in place.
    """
    # Hidden (ingestion skips it), with the real extension (the loader goes by it).
    partial = target.with_name(f".{uuid.uuid4().hex}{target.suffix.lower()}")
    try:
        shutil.copyfile(source, partial)
        load_file(
            partial,
            settings.allowed_extensions,
            settings.max_file_mb,
            max_pdf_stream_mb=settings.max_pdf_stream_mb,
        )
        os.replace(partial, target)
    except LoadError as exc:
        kept = "; the stored version is kept" if target.exists() else ""
        return Upload(target.name, reason=exc.reason + kept)
    except OSError as exc:
        return Upload(target.name, reason=f"could not save it ({exc.strerror or exc})")
    finally:
        partial.unlink(missing_ok=True)
    return Upload(target.name, saved=target)
