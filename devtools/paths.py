"""Where the project is, and the read-only data beside it (``../shared``)."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
#: The evaluation data and course notes kept beside the project, never copied into it.
SHARED = REPO_ROOT.parent / "shared"
