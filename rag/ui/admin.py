"""The page's side of roles: who you are, how to sign in, and tabs shown to admins only.

Hiding tabs is for the reader's comfort only: every handler behind them checks the role itself
(:meth:`rag.ui.access.Access.require_admin`).

*Sign in* first posts the password from the page to the sign-in route, whose reply sets the
signed cookie that keeps the browser signed in across reloads (:mod:`rag.ui.sign_in_routes`);
then its event signs in the session, as it does for an API client calling ``/sign_in``.
"""

from __future__ import annotations

import json
import time

import gradio as gr

from rag.ui.access import WRONG_PASSWORD_DELAY_S, Access, Role
from rag.ui.sign_in_routes import SIGN_IN_PATH, SIGN_OUT_PATH


def _post_first(path: str, body: str) -> str:
    """Page code for an event's ``js``: POST ``body`` to the app's ``path`` (relative to the
    app's root, which a proxy may have moved), then hand the event its inputs unchanged."""
    return f"""async (...inputs) => {{
  const root = (window.gradio_config && window.gradio_config.root) || location.href;
  const url = new URL({json.dumps(path.lstrip("/"))}, root.endsWith("/") ? root : root + "/");
  try {{
    await fetch(url, {{ method: "POST", credentials: "same-origin", body: {body} }});
  }} catch (error) {{
    console.warn("admin sign-in route:", error);
  }}
  return inputs;
}}"""


SIGN_IN_JS = _post_first(SIGN_IN_PATH, "new URLSearchParams({ password: inputs[0] || '' })")
SIGN_OUT_JS = _post_first(SIGN_OUT_PATH, "null")


def _role_line(access: Access, role: Role, note: str = "") -> str:
    if access.open:
        return ""  # a person's own machine: nothing to explain
    if role is Role.ADMIN:
        text = "**Admin:** you may upload, delete, re-ingest and evaluate."
    else:
        text = f"You can ask questions about the notes. {access.how_to_become_admin()}"
    return f"{note} {text}".strip()


def build_access_panel(demo: gr.Blocks, access: Access, admin_tabs: list[gr.Tab]) -> None:
    """The role line and sign-in controls; ``admin_tabs`` show for admins only."""
    with gr.Row(elem_id="rag-access", visible=not access.open):
        role_line = gr.Markdown(elem_id="rag-role")
        if access.oauth:
            gr.LoginButton(elem_id="rag-hf-login", size="sm")
    outputs = [role_line, *admin_tabs]

    def show(request: gr.Request, profile: gr.OAuthProfile | None, note: str = "") -> list:
        role = access.role(request, profile)
        visible = [gr.update(visible=role is Role.ADMIN) for _ in admin_tabs]
        return [_role_line(access, role, note), *visible]

    def on_load(request: gr.Request, profile: gr.OAuthProfile | None = None) -> list:
        return show(request, profile)

    demo.load(on_load, None, outputs, api_visibility="private")
    if access.password_digest is None:
        return

    with gr.Accordion("Admin sign-in", open=False, elem_id="rag-admin-sign-in"):
        password = gr.Textbox(
            label="Admin password", type="password", max_length=200, elem_id="rag-admin-password"
        )
        with gr.Row():
            sign_in = gr.Button("Sign in", size="sm", elem_id="rag-sign-in")
            sign_out = gr.Button("Sign out", size="sm", elem_id="rag-sign-out")

    def on_sign_in(
        secret: str, request: gr.Request, profile: gr.OAuthProfile | None = None
    ) -> list:
        if not access.sign_in(secret, request):
            time.sleep(WRONG_PASSWORD_DELAY_S)
            raise gr.Error("Wrong admin password.")
        return ["", *show(request, profile, "Signed in.")]

    def on_sign_out(request: gr.Request, profile: gr.OAuthProfile | None = None) -> list:
        access.sign_out(request)
        return show(request, profile, "Signed out.")

    # One attempt at a time in the whole app, as on the sign-in route.
    one_at_a_time = {"concurrency_id": "sign_in", "concurrency_limit": 1, "js": SIGN_IN_JS}
    sign_in.click(on_sign_in, password, [password, *outputs], api_name="sign_in", **one_at_a_time)
    password.submit(
        on_sign_in, password, [password, *outputs], api_visibility="private", **one_at_a_time
    )
    sign_out.click(on_sign_out, None, outputs, api_name="sign_out", js=SIGN_OUT_JS)
    # A closed tab's sign-in ends with it.
    demo.unload(access.sign_out)
