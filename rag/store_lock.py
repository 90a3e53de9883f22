"""The one-writer-at-a-time lock on a store, both halves: writers hold it, readers peek at it.

A file lock in the store folder orders ingest jobs on one machine, and the kernel drops it when
its process dies, even by ``kill -9``. A reader that sees the store changed reopens it only while
no writer holds that lock (:func:`while_no_writer`), so it never reads an index half saved.

A Chroma server is shared by machines whose folders differ, so a server store is also claimed
by a lease written into the collection itself, renewed while the job runs and ignored once it
lapses or its process is gone.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from filelock import FileLock, Timeout

if TYPE_CHECKING:
    from rag.store import ChunkStore

log = logging.getLogger(__name__)

#: The lock file's name in a local store's folder.
LOCK_FILE = ".ingest.lock"
# Collection metadata key of a server store's lease: "owner|host|pid|until" (see Lease).
_LEASE_KEY = "ingest_lease"
#: A server store's lease lapses this long after its last renewal.
LEASE_TTL_S = 60.0


class StoreLocked(RuntimeError):
    """Another writer holds the store (the message names it and what to do)."""


@contextmanager
def while_no_writer(lock_path: Path) -> Iterator[bool]:
    """Yields True holding the lock when no writer holds it; False at once when one does."""
    lock = FileLock(str(lock_path))
    try:
        lock.acquire(timeout=0)
    except (Timeout, OSError):
        yield False
        return
    try:
        yield True
    finally:
        lock.release()


@dataclass(frozen=True)
class Lease:
    """An ingest job's claim on a server store, valid until ``until`` (epoch seconds)."""

    owner: str
    host: str
    pid: int
    until: float

    def encode(self) -> str:
        return f"{self.owner}|{self.host}|{self.pid}|{self.until:.3f}"

    @classmethod
    def decode(cls, value: Any) -> Lease | None:
        try:
            owner, host, pid, until = str(value).split("|")
            return cls(owner, host, int(pid), float(until))
        except ValueError:
            return None

    def is_dead(self, now: float) -> bool:
        """Expired, or held by a process of this machine that no longer runs."""
        if self.until < now:
            return True
        if self.host == socket.gethostname():
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                return True
            except PermissionError:
                return False
        return False

    def describe(self) -> str:
        left = max(0, round(self.until - time.time()))
        return f"process {self.pid} on {self.host} (its claim lapses in {left} s unless renewed)"


def current_lease(store: ChunkStore) -> Lease | None:
    return Lease.decode(store.collection_metadata().get(_LEASE_KEY))


def claim_lease(store: ChunkStore, lease: Lease, settle_s: float = 0.5) -> Lease | None:
    """Claim the store for ``lease.owner``; returns None on success, else the holder.

    Chroma has no compare-and-set, so the claim is written, then read back after
    ``settle_s``: of two jobs claiming at once, the one whose write landed last wins and
    the other sees it and backs off.
    """
    holder = current_lease(store)
    if holder is not None and holder.owner != lease.owner and not holder.is_dead(time.time()):
        return holder
    store.set_collection_metadata({_LEASE_KEY: lease.encode()})
    time.sleep(settle_s)
    holder = current_lease(store)
    if holder is not None and holder.owner != lease.owner:
        return holder
    return None


def release_lease(store: ChunkStore, owner: str) -> None:
    holder = current_lease(store)
    if holder is not None and holder.owner == owner:
        store.set_collection_metadata({_LEASE_KEY: None})


class StoreLock:
    """The lock an ingest job holds on its store; raises :class:`StoreLocked` when taken."""

    def __init__(self, store: ChunkStore, timeout: float):
        self.store = store
        self.timeout = timeout
        self._file = FileLock(str(store.lock_path))
        self._owner_file = store.lock_path.with_name(store.lock_path.name + ".owner")
        self._lease_owner = uuid.uuid4().hex
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None
        self.held = False

    def _holder(self) -> str:
        try:
            owner = json.loads(self._owner_file.read_text(encoding="utf-8"))
            return f" (process {owner['pid']} on {owner['host']}, since {owner['since']})"
        except (OSError, ValueError, KeyError, TypeError):
            return ""

    def _refuse(self, holder: str) -> StoreLocked:
        wait = f" after waiting {self.timeout:g} s" if self.timeout > 0 else ""
        return StoreLocked(
            f"Another ingest is running on {self.store.description}{holder}{wait}; "
            "wait for it to finish and run this again (or pass --wait SECONDS)."
        )

    def acquire(self) -> StoreLock:
        if self.held:
            return self
        self.store.lock_path.parent.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        try:
            self._file.acquire(timeout=self.timeout)
        except Timeout as exc:
            raise self._refuse(self._holder()) from exc
        try:
            self._owner_file.write_text(
                json.dumps(
                    {
                        "pid": os.getpid(),
                        "host": socket.gethostname(),
                        "since": datetime.now().isoformat(timespec="seconds"),
                    }
                ),
                encoding="utf-8",
            )
            if self.store.is_remote:
                self._claim_lease(started)
        except BaseException:
            self._file.release()
            raise
        self.held = True
        return self

    def _lease(self) -> Lease:
        return Lease(
            self._lease_owner, socket.gethostname(), os.getpid(), time.time() + LEASE_TTL_S
        )

    def _claim_lease(self, started: float) -> None:
        while True:
            holder = claim_lease(self.store, self._lease())
            if holder is None:
                break
            if time.monotonic() - started >= self.timeout:
                raise self._refuse(f" ({holder.describe()})")
            time.sleep(min(2.0, max(0.1, self.timeout / 10)))
        self._renewer = threading.Thread(target=self._renew, name="ingest-lease", daemon=True)
        self._renewer.start()

    def _renew(self) -> None:
        while not self._stop.wait(LEASE_TTL_S / 4):
            try:
                claim_lease(self.store, self._lease(), settle_s=0)
            except Exception as exc:  # the server may blink; the next renewal retries
                log.warning("could not renew the ingest lease: %s", exc)

    def release(self) -> None:
        if not self.held:
            return
        self.held = False
        try:
            if self._renewer is not None:
                self._stop.set()
                self._renewer.join()
                release_lease(self.store, self._lease_owner)
        finally:
            self._owner_file.unlink(missing_ok=True)
            self._file.release()

    def __enter__(self) -> StoreLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


__all__ = ["LEASE_TTL_S", "LOCK_FILE", "Lease", "StoreLock", "StoreLocked", "while_no_writer"]
