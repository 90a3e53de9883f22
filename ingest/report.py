"""What an ingest job reports: one result per file, the job's totals, and its errors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from rag.core import AppError

Status = Literal["added", "updated", "unchanged", "removed", "excluded", "failed"]
STATUSES: tuple[Status, ...] = ("added", "updated", "unchanged", "removed", "excluded", "failed")
#: ``progress(done, total, source)``, called as each file's outcome is final.
ProgressCallback = Callable[[int, int, str], None]


@dataclass
class FileResult:
    source: str
    status: Status
    chunks: int = 0
    reason: str = ""


@dataclass
class IngestReport:
    results: list[FileResult] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, status: Status) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def chunks_written(self) -> int:
        return sum(r.chunks for r in self.results if r.status in ("added", "updated"))

    @property
    def changed(self) -> bool:
        return any(r.status in ("added", "updated", "removed") for r in self.results)

    @property
    def failures(self) -> list[FileResult]:
        return [r for r in self.results if r.status == "failed"]

    def summary(self) -> str:
        counts = ", ".join(f"{self.count(s)} {s}" for s in STATUSES if self.count(s))
        return (
            f"{len(self.results)} files ({counts or 'nothing to do'}), "
            f"{self.chunks_written} chunks written, {self.seconds:.1f} s"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "files": len(self.results),
            "chunks": self.chunks_written,
            "seconds": round(self.seconds, 2),
            **{status: self.count(status) for status in STATUSES},
            "results": [asdict(r) for r in self.results],
        }


class IngestError(AppError):
    """The job can't run at all (the message says why and what to do)."""


class IngestLocked(IngestError):
    """Another ingest job holds the store."""
