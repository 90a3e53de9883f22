"""An admin's password sign-in lasts the browser session: a signed, expiring, HTTP-only cookie.

The cookie's token on its own, then the sign-in routes over HTTP on a real launched app, and a
client that carries the cookie. The browser across a reload is in tests/test_browser.py.
"""

from __future__ import annotations

import time

import httpx
import pytest
from gradio_client import Client
from starlette.requests import Request
from starlette.responses import Response

from devtools.sample_documents import write_sample_documents
from devtools.servers import free_port
from rag.app import create_service
from rag.settings import Settings
from rag.ui import Access, build_app, launch_kwargs
from rag.ui.access import WRONG_PASSWORD_DELAY_S, Role
from rag.ui.admin_cookie import COOKIE, AdminCookies
from rag.ui.sign_in_routes import SIGN_IN_PATH, SIGN_OUT_PATH

PASSWORD = "correct horse battery staple"


# --- the token ----------------------------------------------------------------------------------
def test_a_token_is_valid_where_it_was_signed_and_nowhere_else():
    cookies = AdminCookies("secret-one", 3600)
    token = cookies.issue()
    assert cookies.valid(token)
    assert not AdminCookies("secret-two", 3600).valid(token)
    assert not AdminCookies(None, 3600).valid(token)  # a key of its own, made at random
    tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    assert not cookies.valid(tampered)
    assert not cookies.valid("") and not cookies.valid(None)


def test_a_token_expires():
    cookies = AdminCookies("secret", max_age_s=1)
    token = cookies.issue()
    time.sleep(2.1)  # its timestamp counts whole seconds
    assert not cookies.valid(token)


def test_a_revoked_token_is_refused_and_others_are_not():
    cookies = AdminCookies("secret", 3600)
    first, second = cookies.issue(), cookies.issue()
    cookies.revoke(first)
    assert not cookies.valid(first) and cookies.valid(second)


def test_the_secret_from_settings_keeps_admins_signed_in_after_a_restart():
    settings = Settings(_env_file=None, admin_password=PASSWORD, admin_session_secret="kept")
    token = Access.from_settings(settings, environ={}).cookies.issue()
    restarted = Access.from_settings(settings, environ={})
    assert restarted.cookies.valid(token)
    unset = Settings(_env_file=None, admin_password=PASSWORD)
    token = Access.from_settings(unset, environ={}).cookies.issue()
    assert not Access.from_settings(unset, environ={}).cookies.valid(token)


def test_no_password_no_cookie():
    assert Access.from_settings(Settings(_env_file=None), environ={}).cookies is None


# --- over HTTP ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def app(tmp_path_factory, embedder):
    """A public app with an admin password, launched as app.py launches it."""
    root = tmp_path_factory.mktemp("sign-in")
    write_sample_documents(root / "docs")
    settings = Settings(
        _env_file=None,
        db_dir=root / "db",
        knowledge_dir=root / "docs",
        model="extractive:notes",
        admin_password=PASSWORD,
        public=True,
    )
    service = create_service(settings, embedder_factory=lambda s: embedder)
    service.ingest_knowledge_dir()
    access = Access.from_settings(settings, environ={})
    demo = build_app(service, access)
    demo.launch(
        server_name="127.0.0.1",
        server_port=free_port(),
        prevent_thread_lock=True,
        quiet=True,
        **launch_kwargs(settings, access),
    )
    try:
        yield demo.local_url.rstrip("/"), access
    finally:
        demo.close()


def test_the_sign_in_route_sets_an_http_only_cookie_for_the_browser_session(app):
    url, access = app
    reply = httpx.post(url + SIGN_IN_PATH, data={"password": PASSWORD})

    assert reply.status_code == 200
    set_cookie = reply.headers["set-cookie"]
    assert set_cookie.startswith(f"{COOKIE}=")
    assert "HttpOnly" in set_cookie and "SameSite=lax" in set_cookie and "Path=/" in set_cookie
    assert "expires" not in set_cookie.lower() and "max-age" not in set_cookie.lower()
    assert access.cookies.valid(reply.cookies[COOKIE])


def test_a_wrong_password_is_slowed_and_sets_no_cookie(app):
    url, _access = app
    started = time.perf_counter()
    reply = httpx.post(url + SIGN_IN_PATH, data={"password": "guess"})

    assert time.perf_counter() - started >= WRONG_PASSWORD_DELAY_S
    assert reply.status_code == 401 and reply.json() == {"error": "Wrong admin password."}
    assert "set-cookie" not in reply.headers


def test_a_client_carrying_the_cookie_is_an_admin_in_every_new_session(app):
    url, access = app
    cookie = httpx.post(url + SIGN_IN_PATH, data={"password": PASSWORD}).cookies[COOKIE]
    for _ in range(2):  # each Client is a new Gradio session, as a reloaded page is
        client = Client(url, verbose=False, headers={"Cookie": f"{COOKIE}={cookie}"})
        rows = client.predict(api_name="/reingest")
        assert "Only an admin" not in str(rows)

    reader = Client(url, verbose=False)
    with pytest.raises(Exception, match="Only an admin of this app may"):
        reader.predict(api_name="/reingest")
    assert access.role(None) is Role.READER


def test_the_cookie_counts_only_on_requests_from_the_apps_own_page(app):
    url, _access = app
    cookie = httpx.post(url + SIGN_IN_PATH, data={"password": PASSWORD}).cookies[COOKIE]
    own = Client(url, verbose=False, headers={"Cookie": f"{COOKIE}={cookie}", "Origin": url})
    assert "Only an admin" not in str(own.predict(api_name="/reingest"))
    # Another site's page, which a browser would send the cookie from too (SameSite=None).
    forged = {"Cookie": f"{COOKIE}={cookie}", "Origin": "https://elsewhere.example"}
    other = Client(url, verbose=False, headers=forged)
    with pytest.raises(Exception, match="Only an admin of this app may"):
        other.predict(api_name="/reingest")


def test_sign_out_clears_the_cookie_and_revokes_its_token(app):
    url, access = app
    cookie = httpx.post(url + SIGN_IN_PATH, data={"password": PASSWORD}).cookies[COOKIE]
    reply = httpx.post(url + SIGN_OUT_PATH, cookies={COOKIE: cookie})

    assert reply.status_code == 200
    assert reply.headers["set-cookie"].startswith(f'{COOKIE}=""; ')
    assert "Max-Age=0" in reply.headers["set-cookie"]
    assert not access.cookies.valid(cookie)
    copy = Client(url, verbose=False, headers={"Cookie": f"{COOKIE}={cookie}"})
    with pytest.raises(Exception, match="Only an admin of this app may"):
        copy.predict(api_name="/reingest")


def test_an_api_client_still_signs_in_with_the_password_for_its_session(app):
    url, _access = app
    client = Client(url, verbose=False)
    client.predict(PASSWORD, api_name="/sign_in")
    assert "Only an admin" not in str(client.predict(api_name="/reingest"))
    with pytest.raises(Exception, match="Wrong admin password"):
        Client(url, verbose=False).predict("guess", api_name="/sign_in")


def test_on_a_space_the_cookie_reaches_the_page_framed_by_huggingface_co():
    """The Space's page is framed by huggingface.co, another site: SameSite=None, so Secure."""
    settings = Settings(_env_file=None, admin_password=PASSWORD)
    access = Access.from_settings(settings, environ={"SPACE_ID": "alice/notes"})
    assert access.cookies.cross_site
    response = Response()
    request = Request({"type": "http", "scheme": "http", "headers": [], "path": "/"})
    access.cookies.set(response, request)
    set_cookie = response.headers["set-cookie"]
    assert "HttpOnly" in set_cookie and "Secure" in set_cookie
    assert "SameSite=none" in set_cookie
