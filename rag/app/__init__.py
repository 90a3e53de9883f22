"""The app the faces call: :class:`RagService` (ask, stream, ingest at start), built by
:func:`create_service` from the settings, and its :class:`Library` (list, upload, delete,
re-ingest). The web app reaches the store and ingestion only through here, so what they
raise and report is named here too."""

from ingest.pipeline import FileResult, IngestError, IngestReport
from rag.app.library import Deleted, Library, UploadReport
from rag.app.model_fetch import ModelFetch
from rag.app.service import (
    NO_NOTES,
    AnswerEvent,
    CheckedText,
    Finished,
    RagService,
    Retrieved,
    Token,
    create_service,
)
from rag.app.startup import StartupIngest

__all__ = [
    "NO_NOTES",
    "AnswerEvent",
    "CheckedText",
    "Deleted",
    "FileResult",
    "Finished",
    "IngestError",
    "IngestReport",
    "Library",
    "ModelFetch",
    "RagService",
    "Retrieved",
    "StartupIngest",
    "Token",
    "UploadReport",
    "create_service",
]
