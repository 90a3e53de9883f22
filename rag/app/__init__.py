"""The app the faces call: :class:`RagService` (ask, stream, ingest at start), built by
:func:`create_service` from the settings."""

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
    "Finished",
    "RagService",
    "Retrieved",
    "StartupIngest",
    "Token",
    "create_service",
]
