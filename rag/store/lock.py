"""The one-writer-at-a-time lock on a store: :class:`StoreLock`, held by ingest jobs.

A file lock in the store folder orders ingest jobs on one machine (:mod:`rag.store.file_lock`,
whose other half readers peek at).

A Chroma server is shared by machines whose folders differ, so a server store is also locked
on the server: by creating a lock collection, which the server lets only one writer do (see
:func:`claim_lease`). The holder renews its lease while the job runs; a lease that lapsed, or
whose process of this machine is gone, is taken over. Exclusion then rests on the lease's time
to live: a holder cut off from the server (or frozen) for longer than ``LEASE_TTL_S`` loses
the lock, and learns it at its next renewal (a warning in the log), while its job may still
be writing; its writes are upserts of whole documents, which the next ingest checks anyway.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from filelock import FileLock, Timeout

from rag.store.file_lock import owner_file

if TYPE_CHECKING:
    # The lock is taken on the store's collection: it needs the collection's client, name,
    # description and lock file, and nothing of the chunk store built over it.
    from rag.store.collection import ChromaCollection

log = logging.getLogger(__name__)

# A server store's lock is a collection of its own: the store's name with this suffix. Its
# metadata names the holder: "owner|host|pid|until" (see Lease).
_LOCK_SUFFIX = "-ingest-lock"
_HOLDER_KEY = "holder"
#: A server store's lease lapses this long after its last renewal.
LEASE_TTL_S = 60.0


class StoreLocked(RuntimeError):
    """Another writer holds the store (the message names it and what to do)."""


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


def _lock_name(store: ChromaCollection) -> str:
    """The lock collection's name: the store's collection's, with a suffix Chroma allows."""
    return f"{store.name}{_LOCK_SUFFIX}"


def _holder_of(collection) -> Lease | None:
    return Lease.decode((collection.metadata or {}).get(_HOLDER_KEY))


def current_lease(store: ChromaCollection) -> Lease | None:
    """Who holds a server store's lock now (None: nobody)."""
    try:
        return _holder_of(store.client.get_collection(_lock_name(store)))
    except Exception:  # no lock collection: nobody holds the store
        return None


def claim_lease(store: ChromaCollection, lease: Lease) -> Lease | None:
    """Claim a server store for ``lease.owner``; returns None on success, else the holder.

    The claim is the creation of the lock collection. The server refuses a second collection
    of the same name, so of two writers claiming at once exactly one succeeds: that is the
    mutual exclusion, done by the server, not by reading back what was written. A lock whose
    lease has lapsed (its holder died or lost the server for ``LEASE_TTL_S``), or whose holder is
    a dead process of this machine, is moved out of the way by its id (renamed, then deleted) and
    the creation tried again: a writer that moved it late moves nothing, since the id it read is
    no longer the lock's.
    """
    name = _lock_name(store)
    for _ in range(3):
        try:
            store.client.create_collection(name, metadata={_HOLDER_KEY: lease.encode()})
            return None
        except Exception:
            try:
                existing = store.client.get_collection(name)
            except Exception:
                continue  # released in between: try again
        holder = _holder_of(existing)
        if holder is not None and holder.owner == lease.owner:
            existing.modify(metadata={_HOLDER_KEY: lease.encode()})
            return None
        if holder is not None and not holder.is_dead(time.time()):
            return holder
        _discard(store, existing)
    return current_lease(store)


def _discard(store: ChromaCollection, collection) -> None:
    """Rename a lock collection by its id, then delete it under that unique name."""
    gone = f"{_lock_name(store)}-released-{uuid.uuid4().hex[:12]}"
    try:
        collection.modify(name=gone)
        store.client.delete_collection(gone)
    except Exception as exc:  # another writer discarded it first
        log.debug("lock collection already gone: %s", exc)


def renew_lease(store: ChromaCollection, lease: Lease) -> bool:
    """Extend our claim; False when the lock is no longer ours (it lapsed and was taken)."""
    try:
        existing = store.client.get_collection(_lock_name(store))
    except Exception:
        return False
    holder = _holder_of(existing)
    if holder is None or holder.owner != lease.owner:
        return False
    existing.modify(metadata={_HOLDER_KEY: lease.encode()})
    return True


def release_lease(store: ChromaCollection, owner: str) -> None:
    try:
        existing = store.client.get_collection(_lock_name(store))
    except Exception:
        return
    holder = _holder_of(existing)
    if holder is not None and holder.owner == owner:
        _discard(store, existing)


class StoreLock:
    """The lock an ingest job holds on its store; raises :class:`StoreLocked` when taken."""

    def __init__(self, store: ChromaCollection, timeout: float):
        self.store = store
        self.timeout = timeout
        self._file = FileLock(str(store.lock_path))
        self._owner_file = owner_file(store.lock_path)
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
            "wait for it to finish and run this again (or wait longer: RAG_LOCK_WAIT_S, or "
            "--wait SECONDS for python -m ingest)."
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
                if not renew_lease(self.store, self._lease()):
                    log.warning(
                        "the ingest lock on %s lapsed and was taken by another writer",
                        self.store.description,
                    )
                    return
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


__all__ = ["LEASE_TTL_S", "Lease", "StoreLock", "StoreLocked"]
