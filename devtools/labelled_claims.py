"""The labelled claims the sentence checker is measured on (``tests/data/labels/claims.jsonl``)
and the text of the source each one is about."""

from __future__ import annotations

import json

from devtools.paths import REPO_ROOT, SHARED

CLAIMS = REPO_ROOT / "tests" / "data" / "labels" / "claims.jsonl"
#: The sample PDF's text as written before it was made a PDF (the claims quote it).
PDF_SOURCE = REPO_ROOT / "scripts" / "sample_pdf_source" / "06_quantization.md"


def load_claims() -> list[dict]:
    return [json.loads(line) for line in CLAIMS.read_text().splitlines() if line.strip()]


#: The InsureLLM knowledge base beside the project; its claims' sources start "insurellm/".
INSURELLM = SHARED / "eval" / "insurellm" / "knowledge-base"


def source_text(source: str) -> str:
    """The text of a claim's source: ``knowledge_base/...`` in the project, ``course-notes/...``
    and ``insurellm/...`` beside it (``../shared``)."""
    if source == "knowledge_base/06_quantization.pdf":
        return PDF_SOURCE.read_text(encoding="utf-8")
    if source.startswith("course-notes/"):
        return (SHARED / source).read_text(encoding="utf-8")
    if source.startswith("insurellm/"):
        return (INSURELLM / source.removeprefix("insurellm/")).read_text(encoding="utf-8")
    return (REPO_ROOT / source).read_text(encoding="utf-8")
