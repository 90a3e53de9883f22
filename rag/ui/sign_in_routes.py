"""The app's own HTTP routes for a browser's admin sign-in: the page posts the password here and
the reply sets the signed cookie (:mod:`rag.ui.admin_cookie`); sign-out clears it.

A Gradio handler can't set a cookie (its reply comes over the queue's event stream), so these
are plain Starlette routes, given to Gradio's FastAPI app at launch (``app_kwargs``:
:func:`rag.ui.app.launch_kwargs`). The *Sign in* button calls them from the page before its
own event (:mod:`rag.ui.admin`), which still signs in the session, as for an API client.
"""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from rag.ui.access import WRONG_PASSWORD_DELAY_S, Access

SIGN_IN_PATH = "/rag/admin/sign-in"
SIGN_OUT_PATH = "/rag/admin/sign-out"


def sign_in_routes(access: Access) -> list[Route]:
    """POST ``SIGN_IN_PATH`` (form field ``password``) and POST ``SIGN_OUT_PATH``; none
    without an admin password."""
    cookies = access.cookies
    if cookies is None:
        return []
    # One attempt at a time: a wrong password holds it for WRONG_PASSWORD_DELAY_S.
    attempts = asyncio.Lock()

    async def sign_in(request: Request) -> Response:
        form = await request.form()
        password = form.get("password")
        async with attempts:
            if not isinstance(password, str) or not access.password_matches(password):
                await asyncio.sleep(WRONG_PASSWORD_DELAY_S)
                return JSONResponse({"error": "Wrong admin password."}, status_code=401)
        response = JSONResponse({"signed_in": True})
        cookies.set(response, request)
        return response

    async def sign_out(request: Request) -> Response:
        response = JSONResponse({"signed_in": False})
        cookies.clear(response, request)
        return response

    return [
        Route(SIGN_IN_PATH, sign_in, methods=["POST"]),
        Route(SIGN_OUT_PATH, sign_out, methods=["POST"]),
    ]
