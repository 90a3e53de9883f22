"""The admin sign-in cookie, so that a password sign-in lasts the browser session, reloads included.

The cookie holds a token signed with ``admin_session_secret`` (itsdangerous) that expires after
``admin_session_hours``; it is HTTP-only, so no script of the page can read it. It is set and
cleared by the app's own sign-in routes (:mod:`rag.ui.sign_in_routes`), since a Gradio handler's
reply can't set a cookie, and the browser sends it with every later request of the page, where
:meth:`rag.ui.access.Access.role` finds it in ``gr.Request.cookies``.

Signing out revokes the token in this process as well as clearing the cookie, so a copy of it
is refused too.
"""

from __future__ import annotations

import secrets
import threading
import time

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

COOKIE = "rag-admin"


class AdminCookies:
    def __init__(self, secret: str | None, max_age_s: float, *, cross_site: bool = False):
        """``secret`` None: a random one, for this process only. ``cross_site``: the page is
        framed by another site (a Space, inside huggingface.co), which a cookie reaches only
        when SameSite=None, and so Secure (as Gradio's own sign-in cookies on a Space)."""
        secret = secret or secrets.token_urlsafe(32)
        self._serializer = URLSafeTimedSerializer(secret, salt="rag-admin-sign-in")
        self.max_age_s = max_age_s
        self.cross_site = cross_site
        self._revoked: dict[str, float] = {}  # token id -> when it expires anyway
        self._lock = threading.Lock()

    def issue(self) -> str:
        """A new signed token (a random id and the time it was signed)."""
        return self._serializer.dumps(secrets.token_urlsafe(16))

    def _read(self, token: str | None) -> tuple[str, float] | None:
        """(token id, when it was signed) of a token signed here and not expired, else None."""
        if not token:
            return None
        try:
            token_id, signed = self._serializer.loads(
                token, max_age=self.max_age_s, return_timestamp=True
            )
        except BadSignature:  # a wrong signature, or an expired one
            return None
        return str(token_id), signed.timestamp()

    def valid(self, token: str | None) -> bool:
        read = self._read(token)
        if read is None:
            return False
        with self._lock:
            return read[0] not in self._revoked

    def revoke(self, token: str | None) -> None:
        read = self._read(token)
        if read is None:
            return
        now = time.time()
        with self._lock:
            # Remembered until it would have expired anyway; then it is refused for that.
            self._revoked = {k: until for k, until in self._revoked.items() if until > now}
            self._revoked[read[0]] = read[1] + self.max_age_s

    # --- on the HTTP response ------------------------------------------------------------------
    def _attributes(self, request: Request) -> dict:
        if self.cross_site:
            return {"secure": True, "samesite": "none"}
        return {"secure": request.url.scheme == "https", "samesite": "lax"}

    def set(self, response: Response, request: Request) -> None:
        """Set a new token on ``response``; no expiry date: the browser drops it when closed."""
        response.set_cookie(COOKIE, self.issue(), httponly=True, **self._attributes(request))

    def clear(self, response: Response, request: Request) -> None:
        """Revoke the token ``request`` carries and clear the cookie."""
        self.revoke(request.cookies.get(COOKIE))
        response.delete_cookie(COOKIE, httponly=True, **self._attributes(request))
