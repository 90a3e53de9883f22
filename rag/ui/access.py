"""Who may change the shared library: readers chat; admins also upload, delete, re-ingest and
evaluate.

Every handler that changes the library or runs an evaluation calls :meth:`Access.require_admin`
first, on the server, so a direct API call is refused exactly like a click in the page (the
page also hides those tabs from readers, but that is only for their comfort).

Who is an admin:

- On a person's own machine (bound to loopback, not a Space) with no admin configured:
  everyone, with no login, as before.
- Where the app is reachable by others (a Hugging Face Space, an address other than loopback,
  or ``RAG_PUBLIC=true``): nobody, until an admin is configured. Then:
  - on a Space with ``hf_oauth: true`` in its README front matter, whoever signs in with
    Hugging Face as the Space's owner (``SPACE_AUTHOR_NAME``) or as one of ``RAG_ADMIN_USERS``;
  - anywhere, a browser (or API client) that signed in with ``RAG_ADMIN_PASSWORD``: a
    browser keeps the sign-in in a signed cookie (:mod:`rag.ui.admin_cookie`) until it closes
    or signs out, page reloads included; an API client, for its session.
  Once an admin is configured, it is required on loopback too.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from urllib.parse import urlsplit

import gradio as gr

from rag.settings import AccessSettings
from rag.ui.admin_cookie import COOKIE, AdminCookies

log = logging.getLogger(__name__)

LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
# An API client's password sign-in lasts this long at most (or until its session ends).
SESSION_SECONDS = 12 * 60 * 60
# A wrong password costs this long, one attempt at a time (per way in: the page's sign-in
# route, the sign_in event), so guessing is slow without locking the real admin out.
WRONG_PASSWORD_DELAY_S = 1.0


class Role(str, Enum):
    READER = "reader"
    ADMIN = "admin"


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


def _session(request: gr.Request | None) -> str | None:
    return getattr(request, "session_hash", None) if request is not None else None


def _cookie(request: gr.Request | None) -> str | None:
    cookies = getattr(request, "cookies", None) if request is not None else None
    return cookies.get(COOKIE) if cookies else None


def _from_this_site(request: gr.Request | None) -> bool:
    """Whether ``request`` comes from the app's own page, or from no page at all (an API
    client sends no Origin). A browser sends the sign-in cookie with requests that other sites'
    pages make too (SameSite=None on a Space), so the cookie counts only on these."""
    headers = getattr(request, "headers", None) if request is not None else None
    origin = headers.get("origin") if headers else None
    if not origin:
        return True
    host = headers.get("x-forwarded-host") or headers.get("host")
    return urlsplit(origin).netloc == host


@dataclass
class Access:
    """The role decision for one app. Build it with :meth:`from_settings`."""

    #: Reachable by others: with no admin configured, the library is read-only.
    public: bool
    #: sha256 of RAG_ADMIN_PASSWORD, or None (no password sign-in).
    password_digest: bytes | None = None
    #: Hugging Face user names (lower case) who are admins when signed in with OAuth.
    oauth_admins: frozenset[str] = frozenset()
    #: Sign in with Hugging Face is available (a Space with ``hf_oauth: true``).
    oauth: bool = False
    #: The signed cookie of a browser's password sign-in (with a password only).
    cookies: AdminCookies | None = None
    #: How long an API client's password sign-in lasts at most.
    session_seconds: float = SESSION_SECONDS
    _signed_in: dict[str, float] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_settings(
        cls, settings: AccessSettings, environ: Mapping[str, str] | None = None
    ) -> Access:
        """From the settings and the environment a Space (or GRADIO_SERVER_NAME) gives."""
        environ = os.environ if environ is None else environ
        on_space = bool(environ.get("SPACE_ID"))
        server_name = environ.get("GRADIO_SERVER_NAME") or "127.0.0.1"
        public = settings.public
        if public is None:
            public = on_space or server_name.lower() not in LOOPBACK
        password = settings.admin_password.get_secret_value() if settings.admin_password else ""
        # Gradio's OAuth is real on a Space only (SYSTEM=spaces, as Gradio itself checks);
        # elsewhere it would sign everyone in as the machine's own Hugging Face account.
        oauth = (
            on_space and environ.get("SYSTEM") == "spaces" and bool(environ.get("OAUTH_CLIENT_ID"))
        )
        admins = {name.strip().lower() for name in settings.admin_users if name.strip()}
        if oauth and environ.get("SPACE_AUTHOR_NAME"):
            admins.add(environ["SPACE_AUTHOR_NAME"].lower())
        session_seconds = settings.admin_session_hours * 3600
        cookies = None
        if password:
            secret = settings.admin_session_secret
            key = secret.get_secret_value() if secret else None
            cookies = AdminCookies(key, session_seconds, cross_site=on_space)
        return cls(
            public=public,
            password_digest=_digest(password) if password else None,
            oauth_admins=frozenset(admins) if oauth else frozenset(),
            oauth=oauth,
            cookies=cookies,
            session_seconds=session_seconds,
        )

    @classmethod
    def everyone_admin(cls) -> Access:
        """A person's own machine with no admin configured (also the handlers' default)."""
        return cls(public=False)

    # --- the decision -------------------------------------------------------------------------
    @property
    def admin_configured(self) -> bool:
        return self.password_digest is not None or bool(self.oauth_admins)

    @property
    def open(self) -> bool:
        """Everyone is an admin: a private machine with no admin configured."""
        return not self.public and not self.admin_configured

    def role(
        self, request: gr.Request | None = None, profile: gr.OAuthProfile | None = None
    ) -> Role:
        """The role of whoever made ``request`` (signed in with Hugging Face as ``profile``)."""
        if self.open:
            return Role.ADMIN
        username = str(getattr(profile, "username", "") or "").lower()
        if self.oauth and username and username in self.oauth_admins:
            return Role.ADMIN
        cookie = _cookie(request)
        if self.cookies is not None and self.cookies.valid(cookie) and _from_this_site(request):
            return Role.ADMIN
        session = _session(request)
        if session is not None:
            with self._lock:
                since = self._signed_in.get(session)
                if since is not None and time.monotonic() - since > self.session_seconds:
                    del self._signed_in[session]
                    since = None
            if since is not None:
                return Role.ADMIN
        return Role.READER

    def require_admin(
        self,
        action: str,
        request: gr.Request | None = None,
        profile: gr.OAuthProfile | None = None,
    ) -> None:
        """Raise a clear refusal (shown in the page, returned to an API client) for readers."""
        if self.role(request, profile) is Role.ADMIN:
            return
        client = getattr(getattr(request, "client", None), "host", None) or "unknown"
        log.warning("refused to %s for a reader (client %s)", action, client)
        raise gr.Error(f"Only an admin of this app may {action}. {self.how_to_become_admin()}")

    def how_to_become_admin(self) -> str:
        if self.oauth and self.password_digest is not None:
            return "Sign in with Hugging Face as an admin, or with the admin password."
        if self.oauth:
            return "Sign in with Hugging Face as the Space's owner or a listed admin."
        if self.password_digest is not None:
            return "Sign in with the admin password (Admin sign-in)."
        return (
            "The library is read-only here: its owner can set RAG_ADMIN_PASSWORD, or enable "
            "hf_oauth on the Space, to manage it."
        )

    # --- password sign-in ----------------------------------------------------------------------
    def password_matches(self, password: str | None) -> bool:
        if self.password_digest is None or not password:
            return False
        return hmac.compare_digest(_digest(password), self.password_digest)

    def sign_in(self, password: str | None, request: gr.Request | None) -> bool:
        """Sign in ``request``'s session (an API client's; a browser has the cookie too)."""
        session = _session(request)
        if session is None or not self.password_matches(password):
            return False
        with self._lock:
            self._signed_in[session] = time.monotonic()
        return True

    def sign_out(self, request: gr.Request | None) -> None:
        """End this session's password sign-in (also called when its browser tab closes; the
        cookie is cleared by the sign-out route)."""
        session = _session(request)
        if session is not None:
            with self._lock:
                self._signed_in.pop(session, None)
