"""Fair use of a shared app: questions per minute, per session, per client and in all, and
evaluations at once per session.

A session is one browser tab (or one API client): Gradio's session hash. A script that opens a
new session for each question escapes a per-session limit, so questions are also counted per
client, by its address, and for the whole app. The address is the peer's
(``request.client.host``), except on a Hugging Face Space, where every request comes through
the Space's proxy: there it is the visitor's address the proxy forwards in ``X-Forwarded-For``
(trusted on a Space only: anywhere else a client could write that header itself). The queue's
limits (answers generated at once, questions waiting in line) still bound the whole app.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

import gradio as gr

from rag.settings import AccessSettings

WINDOW_S = 60.0
# Past this many keys, those with no question in the window are dropped (memory stays bounded).
KEYS_KEPT = 1024


def _session_key(request: gr.Request | None) -> str:
    """The session hash; without one, the client's address (one bucket for all direct calls)."""
    session = getattr(request, "session_hash", None) if request is not None else None
    if session:
        return f"session:{session}"
    host = getattr(getattr(request, "client", None), "host", None)
    return f"client:{host or 'unknown'}"


def client_address(request: gr.Request | None, behind_space_proxy: bool) -> str:
    """Who sent ``request``: the visitor's address the Space's proxy forwards (the first of
    ``X-Forwarded-For``) when ``behind_space_proxy``, else the peer's address."""
    if request is None:
        return "unknown"
    if behind_space_proxy:
        headers = getattr(request, "headers", None) or {}
        forwarded = headers.get("x-forwarded-for") or ""
        first = forwarded.split(",")[0].strip()
        if first:
            return first
    return getattr(getattr(request, "client", None), "host", None) or "unknown"


@dataclass(frozen=True)
class _Limit:
    """Questions per minute for one kind of key, and how a refusal says which was reached."""

    kind: str
    per_minute: int
    #: Formatted with ``limit`` and ``wait`` (seconds).
    refusal: str


class FairUse:
    def __init__(
        self,
        questions_per_minute: int,
        evaluations_per_session: int,
        *,
        client_questions_per_minute: int = 0,
        app_questions_per_minute: int = 0,
        behind_space_proxy: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.questions_per_minute = questions_per_minute
        self.evaluations_per_session = evaluations_per_session
        self.behind_space_proxy = behind_space_proxy
        # Checked in this order; the first one reached is the one a refusal names.
        self._limits = (
            _Limit(
                "session",
                questions_per_minute,
                "You have asked {limit} questions in the last minute, the most this app takes "
                "from one visitor. Ask again in {wait} s.",
            ),
            _Limit(
                "client",
                client_questions_per_minute,
                "{limit} questions have come from your address in the last minute, the most "
                "this app takes from one address. Ask again in {wait} s.",
            ),
            _Limit(
                "app",
                app_questions_per_minute,
                "This app has been asked {limit} questions in the last minute, the most it "
                "takes from all its visitors together. Ask again in {wait} s.",
            ),
        )
        self._clock = clock
        self._questions: dict[str, deque[float]] = {}
        self._evaluations: dict[str, int] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_settings(
        cls, settings: AccessSettings, environ: Mapping[str, str] | None = None
    ) -> FairUse:
        """From the settings; on a Space (``SPACE_ID`` in ``environ``) behind its proxy."""
        environ = os.environ if environ is None else environ
        return cls(
            settings.questions_per_minute,
            settings.evaluations_per_session,
            client_questions_per_minute=settings.client_questions_per_minute,
            app_questions_per_minute=settings.app_questions_per_minute,
            behind_space_proxy=bool(environ.get("SPACE_ID")),
        )

    def _keys(self, request: gr.Request | None) -> dict[str, str]:
        return {
            "session": _session_key(request),
            "client": "address:" + client_address(request, self.behind_space_proxy),
            "app": "app",
        }

    def question_refusal(self, request: gr.Request | None) -> str | None:
        """None (and the question counted) when this question may be asked now, else why not.

        A refused question counts against no limit: waiting as told is enough.
        """
        now = self._clock()
        keys = self._keys(request)
        with self._lock:
            counted = []
            for limit in self._limits:
                if not limit.per_minute:
                    continue
                asked = self._questions.setdefault(keys[limit.kind], deque())
                while asked and now - asked[0] >= WINDOW_S:
                    asked.popleft()
                if len(asked) >= limit.per_minute:
                    wait = math.ceil(WINDOW_S - (now - asked[0]))
                    return limit.refusal.format(limit=limit.per_minute, wait=wait)
                counted.append(asked)
            for asked in counted:
                asked.append(now)
            self._forget_idle(now)
        return None

    @contextmanager
    def evaluation(self, request: gr.Request | None) -> Iterator[None]:
        """Hold one of this session's evaluation slots; a clear refusal when none is free."""
        key = _session_key(request)
        with self._lock:
            running = self._evaluations.get(key, 0)
            if running >= self.evaluations_per_session:
                raise gr.Error(
                    f"You already have {running} evaluation(s) running, the most one visitor "
                    "may run at once. Wait for it to finish."
                )
            self._evaluations[key] = running + 1
        try:
            yield
        finally:
            with self._lock:
                left = self._evaluations.get(key, 1) - 1
                if left > 0:
                    self._evaluations[key] = left
                else:
                    self._evaluations.pop(key, None)

    def _forget_idle(self, now: float) -> None:
        """Drop keys with no question in the window, so memory stays bounded."""
        if len(self._questions) < KEYS_KEPT:
            return
        for key in [k for k, q in self._questions.items() if not q or now - q[-1] >= WINDOW_S]:
            del self._questions[key]
