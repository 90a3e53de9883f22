"""The page's side of roles: who you are, how to sign in, and tabs shown to admins only.

Hiding tabs is for the reader's comfort only: every handler behind them checks the role itself
(:meth:`rag.ui.access.Access.require_admin`).
"""

from __future__ import annotations

import time

import gradio as gr

from rag.ui.access import Access, Role

# A wrong password costs this long, one attempt at a time in the whole app (the event's
# concurrency limit), so guessing is slow without locking the real admin out.
WRONG_PASSWORD_DELAY_S = 1.0


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

    sign_in.click(
        on_sign_in,
        password,
        [password, *outputs],
        api_name="sign_in",
        concurrency_id="sign_in",
        concurrency_limit=1,
    )
    password.submit(
        on_sign_in,
        password,
        [password, *outputs],
        api_visibility="private",
        concurrency_id="sign_in",
        concurrency_limit=1,
    )
    sign_out.click(on_sign_out, None, outputs, api_name="sign_out")
    # A closed tab's sign-in ends with it.
    demo.unload(access.sign_out)
