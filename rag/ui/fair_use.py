"""Fair use of a shared app: questions per minute and evaluations at once, per session.

A session is one browser tab (or one API client): Gradio's session hash. The queue's limits
(answers generated at once, questions waiting in line) still bound the whole app; these keep
one visitor from taking all of it.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import gradio as gr

from rag.settings import Settings

WINDOW_S = 60.0


def _key(request: gr.Request | None) -> str:
    """The session hash; without one, the client's address (one bucket for all direct calls)."""
    session = getattr(request, "session_hash", None) if request is not None else None
    if session:
        return f"session:{session}"
    host = getattr(getattr(request, "client", None), "host", None)
    return f"client:{host or 'unknown'}"


class FairUse:
    def __init__(
        self,
        questions_per_minute: int,
        evaluations_per_session: int,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.questions_per_minute = questions_per_minute
        self.evaluations_per_session = evaluations_per_session
        self._clock = clock
        self._questions: dict[str, deque[float]] = {}
        self._evaluations: dict[str, int] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> FairUse:
        return cls(settings.questions_per_minute, settings.evaluations_per_session)

    def question_refusal(self, request: gr.Request | None) -> str | None:
        """None (and the question counted) when this session may ask now, else why not."""
        limit = self.questions_per_minute
        if not limit:
            return None
        now = self._clock()
        key = _key(request)
        with self._lock:
            asked = self._questions.setdefault(key, deque())
            while asked and now - asked[0] >= WINDOW_S:
                asked.popleft()
            if len(asked) >= limit:
                wait = math.ceil(WINDOW_S - (now - asked[0]))
                return (
                    f"You have asked {limit} questions in the last minute, the most this app "
                    f"takes from one visitor. Ask again in {wait} s."
                )
            asked.append(now)
            self._forget_idle(now)
        return None

    @contextmanager
    def evaluation(self, request: gr.Request | None) -> Iterator[None]:
        """Hold one of this session's evaluation slots; a clear refusal when none is free."""
        key = _key(request)
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
        """Drop sessions with no question in the window, so memory stays bounded."""
        if len(self._questions) < 1024:
            return
        for key in [k for k, q in self._questions.items() if not q or now - q[-1] >= WINDOW_S]:
            del self._questions[key]
