"""The web app: chat, check, documents and evaluation tabs over one :class:`RagService`."""

from __future__ import annotations

import importlib
import logging
from pathlib import Path

import gradio as gr

from rag.app import RagService
from rag.settings import Settings
from rag.ui.access import Access
from rag.ui.admin import build_access_panel
from rag.ui.chat import build_chat_tab
from rag.ui.check import build_check_tab
from rag.ui.fair_use import FairUse
from rag.ui.redact import redact
from rag.ui.render import status_line
from rag.ui.sign_in_routes import sign_in_routes

log = logging.getLogger(__name__)
ASSETS = Path(__file__).parent / "assets"
# Local models generate one answer at a time; remote APIs take several.
LOCAL_BACKENDS = ("llamacpp:", "hf:")


def concurrency_limit(service: RagService) -> int:
    if service.settings.concurrency_limit:
        return service.settings.concurrency_limit
    return 1 if service.settings.model.startswith(LOCAL_BACKENDS) else 4


# Shown on a Space whose store each restart wipes.
TEMPORARY_STORE = (
    "The store is temporary: this Space has no persistent storage, so the notes are ingested "
    "again at each restart and uploads are lost. Enable persistent storage in the Space's "
    "settings to keep them."
)


def _background_jobs(service: RagService) -> list:
    """What the app started with itself: the ingest of the notes, the chat model's download."""
    return [job for job in (service.startup, service.model_fetch) if job is not None]


def _status(service: RagService, model: str | None = None) -> str:
    documents, chunks = service.library_size()
    lines = [status_line(redact(model or service.settings.model), documents, chunks)]
    for job in _background_jobs(service):
        if job.describe():
            lines.append(redact(job.describe()))  # an error may name a server folder
    if service.settings.store_is_temporary:
        lines.append(TEMPORARY_STORE)
    return "\n\n".join(lines)


def _follow_startup(demo: gr.Blocks, service: RagService, status: gr.Markdown) -> None:
    """The status line shows the jobs started with the app, polled until they are over."""

    def refresh() -> tuple[str, gr.Timer]:
        running = any(job.running for job in _background_jobs(service))
        return _status(service), gr.Timer(active=running)

    timer = gr.Timer(1.0)
    # Unlimited concurrency: the page's status must not wait in line behind an answer.
    wiring = {"show_progress": "hidden", "concurrency_limit": None, "api_visibility": "private"}
    demo.load(refresh, None, [status, timer], **wiring)
    timer.tick(refresh, None, [status, timer], **wiring)


def _optional_tab(
    title: str, module: str, builder: str, *args, visible: bool = True
) -> gr.Tab | None:
    """Tabs built by their own modules; a missing one must not take the chat down."""
    try:
        build = getattr(importlib.import_module(module), builder)
    except (ImportError, AttributeError):
        log.warning("the %s tab is not available (%s.%s)", title, module, builder)
        return None
    with gr.Tab(title, visible=visible) as tab:
        build(*args)
    return tab


def build_app(
    service: RagService, access: Access | None = None, fair_use: FairUse | None = None
) -> gr.Blocks:
    """The app; ``access`` (default: from the settings and the environment) decides who may
    change the library, ``fair_use`` (the same default) how many questions each may ask."""
    access = access or Access.from_settings(service.settings)
    fair_use = fair_use or FairUse.from_settings(service.settings)
    with gr.Blocks(title="Course notes assistant", fill_width=True) as demo:
        gr.Markdown("## Course notes assistant\nAsk questions about your notes; answers cite them.")
        status = gr.Markdown(_status(service), elem_id="rag-status")
        with gr.Tab("Chat"):
            chat = build_chat_tab(service, fair_use, access)
        # Open to readers too: checking reads the notes and changes nothing.
        with gr.Tab("Check an answer"):
            build_check_tab(service, fair_use)
        # Library tabs: shown to admins (everyone on a person's own machine) once the page knows.
        admin_tabs = [
            _optional_tab(title, f"rag.ui.{name}", f"build_{name}_tab", *args, visible=access.open)
            for title, name, args in [
                ("Documents", "documents", (service, access)),
                ("Evaluate", "evaluate", (service, access, fair_use)),
            ]
        ]
        build_access_panel(demo, access, [tab for tab in admin_tabs if tab is not None])

        _follow_startup(demo, service, status)

        # The status line follows the chosen model, and the store after each answer (uploads
        # in the Documents tab change it).
        def show_status(model: str) -> str:
            return _status(service, model)

        chat["model"].change(show_status, chat["model"], status, api_visibility="private")
        chat["answered"].then(show_status, chat["model"], status, api_visibility="private")
    demo.queue(
        default_concurrency_limit=concurrency_limit(service),
        max_size=service.settings.queue_size,
    )
    return demo


def launch_kwargs(settings: Settings | None = None, access: Access | None = None) -> dict:
    """Theme, CSS and JS go to launch() in Gradio 6; so does the largest file Gradio accepts
    from anyone (its upload route comes before any handler, so it can't check roles), and the
    routes of the admin sign-in cookie for ``access`` (the one given to :func:`build_app`),
    added to Gradio's FastAPI app as it is made."""
    kwargs = {
        "css_paths": [ASSETS / "app.css"],
        "js": (ASSETS / "app.js").read_text(encoding="utf-8"),
        "theme": gr.themes.Soft(),
    }
    if settings is not None:
        kwargs["max_file_size"] = int(settings.max_upload_mb * 1024 * 1024)
    if access is not None:
        kwargs["app_kwargs"] = {"routes": sign_in_routes(access)}
    return kwargs
