"""The Check tab: paste any answer (another chatbot's, your own summary) and see each sentence
checked against the notes, with the passage that supports or contradicts it.

Open to readers: a check only reads the store and asks no model. It retrieves for every
sentence, so it counts as a question for fair use (:class:`FairUse`). The handler is a plain
method, :meth:`CheckHandlers.check`, so tests call it directly; :func:`build_check_tab` lays out
the components and wires the event (``api_name="check"``).
"""

from __future__ import annotations

import html
import logging

import gradio as gr

from rag.app import RagService
from rag.core import AppError
from rag.ui.fair_use import FairUse
from rag.ui.redact import redact
from rag.ui.render import checked_html, sources_html

log = logging.getLogger(__name__)

EXAMPLE = (
    "GPT-4o mini is much more expensive than GPT-4o. Ollama and LM Studio use GGUF too. "
    "The Eiffel Tower is in Paris."
)


# The ids of this tab's source cards ("check-source-2"): the chat's panel has its own.
ANCHOR = "check-source"


def _message(text: str) -> str:
    return f'<div class="rag-checked-empty">⚠️ {html.escape(text)}</div>'


class CheckHandlers:
    def __init__(self, service: RagService, fair_use: FairUse | None = None):
        self.service = service
        self.fair_use = fair_use or FairUse.from_settings(service.settings)

    def check(self, text: str, question: str | None, request: gr.Request = None) -> tuple[str, str]:
        """(the verdicts as HTML, the sources panel) for ``text``."""
        if not (text or "").strip():
            return _message("Paste a text to check first."), sources_html([])
        refusal = self.fair_use.question_refusal(request)
        if refusal:
            return _message(refusal), gr.skip()
        try:
            checked = self.service.check_text(text, question)
        except AppError as exc:
            log.warning("checking failed: %s", exc)
            return _message(redact(str(exc))), sources_html([])
        except Exception:  # the app must keep working; the details go to the server log
            log.exception("checking a text failed")
            return _message(
                "Something went wrong while checking; the details are in the server log."
            ), sources_html([])
        used = {e.n for claim in checked.claims for e in claim.evidence}
        shown = [p for p in checked.passages if p.n in used]
        return (
            checked_html(checked.claims, shown, anchor=ANCHOR),
            sources_html(shown, used, anchor=ANCHOR),
        )


def build_check_tab(service: RagService, fair_use: FairUse | None = None) -> None:
    handlers = CheckHandlers(service, fair_use)
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=320):
            gr.Markdown(
                "Paste an answer from any chatbot, or your own summary: each sentence is "
                "checked against the notes. ✓ supported, ✗ contradicted (the notes say "
                "otherwise), ⚠ not in the notes."
            )
            text = gr.Textbox(
                label="Text to check",
                lines=6,
                max_lines=20,
                max_length=service.settings.max_message_chars,
                elem_id="rag-check-text",
            )
            question = gr.Textbox(
                label="The question it answers (optional)", elem_id="rag-check-question"
            )
            check = gr.Button("Check", variant="primary", elem_id="rag-check")
            gr.Examples([[EXAMPLE]], inputs=text, label="Try")
            verdicts = gr.HTML(elem_id="rag-check-verdicts")
        with gr.Column(scale=2, min_width=280):
            gr.Markdown("### Sources")
            sources = gr.HTML(sources_html([]), elem_id="rag-check-sources")
    wiring = {"concurrency_id": "check"}
    check.click(handlers.check, [text, question], [verdicts, sources], api_name="check", **wiring)
    text.submit(
        handlers.check, [text, question], [verdicts, sources], api_visibility="private", **wiring
    )
