"""The library: the documents the app answers from, as people see and change them.

List them (a page at a time, by name), add uploaded files, delete one, and bring the store in
line with the knowledge folder and the uploads.

A delete lasts. An upload's file goes with it. A document of the knowledge folder keeps its
file (the folder is the admin's: a synced folder, a checkout, a Space's repository, which a
rebuild restores anyway), and the store records it as excluded, so no later ingest brings it
back, the one at every start included; :meth:`Library.include` undoes that. The Documents tab is its face (it checks who
may change the library and renders what it is told); the service ingests the knowledge folder
through it when the app starts. Every change is one ingest job under the store's lock
(:class:`ingest.pipeline.Ingestor`).

Uploads are checked and saved by :mod:`rag.app.uploads`, kept in ``settings.uploads_path``
and stored as ``uploads/<name>``, apart from the knowledge folder's documents.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ingest.pipeline import FileResult, IngestError, IngestReport, ProgressCallback
from rag.app.uploads import UPLOAD_PREFIX, save_uploads

if TYPE_CHECKING:
    from ingest.pipeline import Ingestor
    from rag.settings import Settings

log = logging.getLogger(__name__)

#: ``on_result(result)``, called as each file's outcome is final.
ResultCallback = Callable[[FileResult], None]


@dataclass
class UploadReport:
    """What an upload did: the files refused before ingesting, and the ingest of the others
    (None when none was saved)."""

    refused: list[FileResult] = field(default_factory=list)
    ingested: IngestReport | None = None

    def summary(self) -> str:
        if self.ingested is not None:
            return self.ingested.summary()
        return "No file could be ingested." if self.refused else "Nothing to ingest."


@dataclass(frozen=True)
class Deleted:
    """A document deleted from the library."""

    source: str
    chunks: int
    #: An upload: its file went from the uploads folder too.
    file_removed: bool = False
    #: Its file is kept where it was read from (the knowledge folder), so it is left out of
    #: every later ingest until included again.
    excluded: bool = False


class Library:
    """The documents of one store, and the jobs that change them."""

    def __init__(self, settings: Settings, ingestor: Ingestor):
        self.settings = settings
        self.ingestor = ingestor

    # --- what it holds ------------------------------------------------------------------------
    def documents(
        self, *, contains: str = "", offset: int = 0, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """One row per stored document (source, path, chunks, ingested_at), by name: a page of
        them, those whose name contains ``contains``."""
        return self.ingestor.documents(contains=contains, offset=offset, limit=limit)

    def document_count(self, contains: str = "") -> int:
        return self.ingestor.store.document_count(contains)

    def excluded(self) -> list[str]:
        """Documents deleted from the library whose files are kept: left out until included."""
        return self.ingestor.excluded()

    # --- changing it --------------------------------------------------------------------------
    def ingest_knowledge_dir(
        self, progress: ProgressCallback | None = None, on_result: ResultCallback | None = None
    ) -> IngestReport:
        """Bring the store in line with the knowledge folder (what changed, added, went)."""
        return self.ingestor.ingest(
            [self.settings.knowledge_dir], progress=progress, on_result=on_result
        )

    def reingest(self, on_result: ResultCallback | None = None) -> IngestReport:
        """Bring the store in line with the knowledge folder and the uploads folder."""
        folder = self.settings.knowledge_dir
        if not folder.is_dir():
            log.warning("the knowledge folder %s is missing", folder)
            raise IngestError(f"The knowledge folder {folder.name} is missing.")
        report = self.ingest_knowledge_dir(on_result=on_result)
        uploads = self.settings.uploads_path
        if uploads.is_dir() and any(uploads.iterdir()):
            more = self.ingestor.ingest([uploads], on_result=on_result, source_prefix=UPLOAD_PREFIX)
            report.results += more.results
            report.seconds += more.seconds
        return report

    def upload(
        self, files: Iterable[tuple[Path, str]], on_result: ResultCallback | None = None
    ) -> UploadReport:
        """Check each uploaded file ((where it was received, the name it was given)), save the
        good ones in the uploads folder and ingest them; refused files are reported first."""
        uploads = save_uploads(files, self.settings)
        report = UploadReport(
            [FileResult(UPLOAD_PREFIX + u.name, "failed", 0, u.reason) for u in uploads if u.reason]
        )
        for result in report.refused:
            if on_result:
                on_result(result)
        saved = [u.saved for u in uploads if u.saved is not None]
        if saved:
            report.ingested = self.ingestor.ingest(
                saved, prune=False, on_result=on_result, source_prefix=UPLOAD_PREFIX
            )
        return report

    def delete(self, source: str) -> Deleted:
        """Remove the stored document ``source`` for good: an upload's file with it; any
        other whose file is still there is left out of every later ingest."""
        stored = {d["source"]: d for d in self.documents(contains=source)}
        if source not in stored:
            raise IngestError(f"{source} is not in the store.")
        path = Path(stored[source]["path"] or "")
        uploads = self.settings.uploads_path.resolve()
        if source.startswith(UPLOAD_PREFIX) and path.parent.resolve() == uploads:
            removed = self.ingestor.delete_document(source)
            path.unlink(missing_ok=True)
            return Deleted(source, removed, file_removed=True)
        kept = path.exists()
        removed = self.ingestor.delete_document(source, exclude=kept)
        return Deleted(source, removed, excluded=kept)

    def include(self, source: str, on_result: ResultCallback | None = None) -> IngestReport:
        """Undo the delete of a document whose file was kept: it is no longer left out, and
        the library is re-ingested (it comes back if its file is still there)."""
        if not self.ingestor.include(source):
            raise IngestError(f"{source} was not deleted from the library.")
        return self.reingest(on_result)
