"""The chat tab: a multi-turn conversation whose answers stream in with their sources.

The handlers are plain generator functions on :class:`ChatHandlers`, so tests drive them
directly, without a browser; :func:`build_chat_tab` only lays out components and wires events.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import gradio as gr

from rag.answer import available_models
from rag.app import Finished, RagService, Retrieved, Token
from rag.core import AppError
from rag.llms import GenerationOptions, ModelChoice, PullProgress
from rag.ui.access import Access, Role
from rag.ui.fair_use import FairUse
from rag.ui.redact import redact
from rag.ui.render import (
    cited_sources,
    link_citations,
    mark_claims,
    safe_markdown,
    sources_footer,
    sources_html,
)

log = logging.getLogger(__name__)

EXAMPLES = [
    "What is the difference between LoRA and QLoRA?",
    "How much memory does a 4-bit 8B model need?",
    "What is reciprocal rank fusion?",
    "What does a tokenizer do?",
]

ChatHistory = list[dict[str, Any]]


def _text_of(content: Any) -> str:
    """Gradio 6 may hand back message content as a list of parts; keep the text."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(_text_of(part) for part in content)
    if isinstance(content, dict):
        return str(content.get("text") or content.get("content") or "")
    return str(content or "")


class ChatHandlers:
    def __init__(
        self,
        service: RagService,
        fair_use: FairUse | None = None,
        access: Access | None = None,
    ):
        self.service = service
        self.fair_use = fair_use or FairUse.from_settings(service.settings)
        self.access = access or Access.everyone_admin()
        self._offered: set[str] = set()
        # Models the dropdown labels "download": relabelled once one of them is downloaded.
        self._shown_to_download: set[str] = set()

    def model_choices(self) -> tuple[list[tuple[str, str]], str]:
        """((label, name) of the usable models, those to download labelled so), and the
        unavailable ones with reasons as markdown."""
        choices = available_models(self.service.settings)
        available = [(c.display, c.name) for c in choices if c.available]
        self._shown_to_download = {c.name for c in choices if c.available and c.to_download}
        if self.service.settings.model not in {name for _, name in available}:
            available.insert(0, (self.service.settings.model, self.service.settings.model))
        return available, _unavailable_markdown(choices)

    def relabel_downloaded(self, model: str | None):
        """After an answer: the dropdown's choices again if ``model`` was labelled "download"
        (it has been downloaded for the answer), else no change."""
        if model not in self._shown_to_download:
            return gr.skip()
        return gr.update(choices=self.model_choices()[0])

    def _offered_to_readers(self) -> set[str]:
        """The models in the list that are here: downloading one (gigabytes) is for admins."""
        settings = self.service.settings
        choices = available_models(settings)
        return {c.name for c in choices if c.available and not c.to_download} | {settings.model}

    def _model_refusal(
        self, model: str | None, request: gr.Request | None, profile: gr.OAuthProfile | None
    ) -> str | None:
        """Readers choose among the models on offer: any other name (a download from the Hub,
        a file on the server, another paid API model) is for admins."""
        if not model or model in self._offered:
            return None
        if self.access.role(request, profile) is Role.ADMIN:
            return None
        self._offered = self._offered_to_readers()
        if model in self._offered:
            return None
        if any(c.to_download and c.name == model for c in available_models(self.service.settings)):
            return f"Downloading `{redact(model)}` is for admins; choose a model that is here."
        return f"The model `{redact(model)}` is not on offer here; choose one from the list."

    def respond(
        self,
        message: str,
        history: ChatHistory | None,
        raw_history: ChatHistory | None,
        model: str | None,
        temperature: float,
        max_new_tokens: int,
        request: gr.Request = None,
        profile: gr.OAuthProfile | None = None,
    ) -> Iterator[tuple[ChatHistory, ChatHistory, str, str, str]]:
        """Yield (chat shown, raw conversation, sources html, cleared textbox, query info).

        ``raw_history`` is the conversation as the model sees it (plain text, no links or
        footers); the chat shows the same turns made safe and with clickable citations.
        """
        shown = list(history or [])
        raw = list(raw_history or [])
        message = (message or "").strip()
        if not message:
            yield shown, raw, gr.skip(), "", ""
            return
        shown.append({"role": "user", "content": safe_markdown(message)})
        refusal = self.fair_use.question_refusal(request) or self._model_refusal(
            model, request, profile
        )
        if refusal:  # the question stays in the box, to be sent again later
            shown.append({"role": "assistant", "content": f"⚠️ {refusal}"})
            yield shown, raw, gr.skip(), message, ""
            return
        shown.append({"role": "assistant", "content": ""})
        sources = sources_html([])
        query_info = ""
        yield shown, raw, sources, "", query_info
        options = GenerationOptions(float(temperature), int(max_new_tokens))
        answer = ""
        chunks = []
        finished: Finished | None = None
        try:
            context = [{"role": m["role"], "content": _text_of(m["content"])} for m in raw]
            for event in self.service.answer_stream(message, context, model=model, options=options):
                if isinstance(event, PullProgress):  # the model is downloaded first
                    status = f"⏬ {safe_markdown(event.describe())}"
                    shown[-1] = {"role": "assistant", "content": status}
                elif isinstance(event, Retrieved):
                    sources = sources_html(event.chunks)
                    if event.query != message:
                        query_info = f"Searched the notes for: *{safe_markdown(event.query)}*"
                    chunks = event.chunks
                elif isinstance(event, Token):
                    answer += event.text
                    shown[-1] = {"role": "assistant", "content": safe_markdown(answer)}
                elif isinstance(event, Finished):
                    chunks = event.chunks
                    answer = event.answer
                    finished = event
                yield shown, raw, sources, "", query_info
        except AppError as exc:
            log.warning("answering failed: %s", exc)
            shown[-1] = {"role": "assistant", "content": f"⚠️ {safe_markdown(redact(str(exc)))}"}
            yield shown, raw, sources, "", query_info
            return
        except Exception:  # the app must keep working; the details go to the server log
            log.exception("answering %r failed", message)
            shown[-1] = {
                "role": "assistant",
                "content": "⚠️ Something went wrong while answering; the details are in the "
                "server log. Try again, or choose another model.",
            }
            yield shown, raw, sources, "", query_info
            return
        claims = finished.claims if finished else []
        not_found = bool(finished and finished.not_found)
        cited = set() if not_found else cited_sources(answer, claims)
        marked = mark_claims(answer, claims)
        final = (
            link_citations(marked, len(chunks), claims, raw=answer)
            + self._answered_by(finished, model)
            + sources_footer(chunks, cited, not_found=not_found, claims=claims)
        )
        shown[-1] = {"role": "assistant", "content": final}
        sources = sources_html(chunks, cited, claims)
        raw += [{"role": "user", "content": message}, {"role": "assistant", "content": answer}]
        yield shown, raw, sources, "", query_info

    def _answered_by(self, finished: Finished | None, asked: str | None) -> str:
        """A line under an answer given by another model than the one asked of (which is
        being downloaded: :mod:`rag.app.model_fetch`), naming the one that answered and why."""
        asked = asked or self.service.settings.model
        if finished is None or finished.model == asked:
            return ""
        fetch = self.service.model_fetch
        why = fetch.describe() if fetch is not None and fetch.model == asked else ""
        note = f"Answered by {finished.model}, not {asked}. {why}".strip()
        return f"\n\n*{safe_markdown(redact(note))}*"

    @staticmethod
    def clear() -> tuple[ChatHistory, ChatHistory, str, str]:
        return [], [], sources_html([]), ""


def _unavailable_markdown(choices: list[ModelChoice]) -> str:
    lines = [f"- `{redact(c.name)}` — {redact(c.reason)}" for c in choices if not c.available]
    return "**Not available here:**\n" + "\n".join(lines) if lines else ""


def build_chat_tab(
    service: RagService, fair_use: FairUse | None = None, access: Access | None = None
) -> dict[str, gr.components.Component]:
    handlers = ChatHandlers(service, fair_use, access)
    settings = service.settings
    available, unavailable = handlers.model_choices()
    with gr.Row(equal_height=False, elem_id="rag-chat-row"):
        with gr.Column(scale=3, min_width=320):
            chatbot = gr.Chatbot(
                label="Conversation",
                elem_id="rag-chatbot",
                height=520,
                buttons=["copy", "copy_all"],
                sanitize_html=True,
                placeholder="Ask about your notes. Answers cite their sources as [1], [2]…",
            )
            raw_history = gr.State([])
            with gr.Row():
                message = gr.Textbox(
                    placeholder="Ask a question about the notes…",
                    show_label=False,
                    scale=5,
                    max_lines=6,
                    max_length=settings.max_message_chars,
                    elem_id="rag-message",
                    autofocus=True,
                )
                send = gr.Button("Send", variant="primary", scale=1, elem_id="rag-send")
            with gr.Row():
                stop = gr.Button("Stop", variant="stop", size="sm", elem_id="rag-stop")
                clear = gr.Button("Clear conversation", size="sm", elem_id="rag-clear")
            query_info = gr.Markdown(elem_id="rag-query-info")
            gr.Examples(EXAMPLES, inputs=message, label="Try")
        with gr.Column(scale=2, min_width=280):
            gr.Markdown("### Sources")
            sources = gr.HTML(sources_html([]), elem_id="rag-sources")
    with gr.Accordion("Model and generation", open=False):
        model = gr.Dropdown(
            available,
            value=settings.model,
            label="Model",
            elem_id="rag-model",
            allow_custom_value=True,
        )
        gr.Markdown(unavailable)
        temperature = gr.Slider(
            0.0, 1.5, value=settings.temperature, step=0.05, label="Temperature"
        )
        max_new_tokens = gr.Slider(
            16, 2048, value=settings.max_new_tokens, step=16, label="Max new tokens"
        )

    inputs = [message, chatbot, raw_history, model, temperature, max_new_tokens]
    outputs = [chatbot, raw_history, sources, message, query_info]
    submitted = message.submit(
        handlers.respond, inputs, outputs, concurrency_id="answer", api_name="chat"
    )
    clicked = send.click(
        handlers.respond, inputs, outputs, concurrency_id="answer", api_visibility="private"
    )
    for answered in (submitted, clicked):
        answered.then(handlers.relabel_downloaded, model, model, api_visibility="private")
    stop.click(None, cancels=[submitted, clicked])
    clear.click(
        handlers.clear,
        None,
        [chatbot, raw_history, sources, query_info],
        cancels=[submitted, clicked],
        api_name="clear",
    )
    return {
        "chatbot": chatbot,
        "message": message,
        "sources": sources,
        "model": model,
        "answered": submitted,
    }
