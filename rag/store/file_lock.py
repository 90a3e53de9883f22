"""The lock file in a store's folder: writers hold it, readers peek at it.

It orders ingest jobs on one machine, and the kernel drops it when its process dies, even by
``kill -9``. A reader that sees the store changed reopens it only while no writer holds it
(:func:`while_no_writer`), so it never reads an index half saved. The job that holds it names
itself in a file beside it (:func:`owner_file`), which readers look at without touching the
lock (:func:`writer_at_work`). The whole writer's lock, a server store's lease included, is
:class:`rag.store.lock.StoreLock`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

#: The lock file's name in a local store's folder.
LOCK_FILE = ".ingest.lock"


def owner_file(lock_path: Path) -> Path:
    """Where the job holding the lock names itself; there while a job runs (or after one was
    killed, until the next: the lock itself is free then)."""
    return lock_path.with_name(lock_path.name + ".owner")


def writer_at_work(lock_path: Path) -> bool:
    """Whether a job (of any process) seems to hold the lock, without touching the lock."""
    return owner_file(lock_path).exists()


@contextmanager
def while_no_writer(lock_path: Path, wait: float = 0) -> Iterator[bool]:
    """Yields True holding the lock when no writer holds it; False when one does (at once, or
    when it still does after ``wait`` seconds)."""
    lock = FileLock(str(lock_path))
    try:
        lock.acquire(timeout=wait, poll_interval=0.01)
    except (Timeout, OSError):
        yield False
        return
    try:
        yield True
    finally:
        lock.release()
