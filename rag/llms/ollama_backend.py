"""Ollama: any model pulled into a running Ollama server, streamed through the official client.

The server is ``RAG_OLLAMA_HOST``, else ``OLLAMA_HOST``, else http://localhost:11434. A model
not pulled yet is pulled by :func:`pull` (``ollama pull`` through the client, with progress).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

from rag.llms import catalog
from rag.llms.base import (
    BackendUnavailable,
    GenerationOptions,
    LLMError,
    Message,
    PullProgress,
    estimate_tokens,
)
from rag.llms.errors import (
    DROPPED,
    TIMEOUT,
    UNREACHABLE,
    Remote,
    public_url,
    remote_error,
    short_reason,
)

if TYPE_CHECKING:
    from rag.llms import ModelChoice
    from rag.settings import GenerationSettings

DEFAULT_HOST = "http://localhost:11434"
SUGGESTED_MODEL = "llama3.2"
# Listing models runs when the app starts and whenever the dropdown refreshes: keep it short.
LIST_TIMEOUT_S = 2.0


def _host(settings: GenerationSettings) -> str:
    return settings.ollama_host or os.environ.get("OLLAMA_HOST") or DEFAULT_HOST


def _display_host(host: str) -> str:
    return public_url(host if "://" in host else f"http://{host}")


def _remote(model: str, host: str, timeout_s: float) -> Remote:
    return Remote(
        label=f"Ollama at {_display_host(host)}",
        model=model,
        key_variable="OLLAMA_API_KEY",
        timeout_s=timeout_s,
        unknown_model_fix=f"run `ollama pull {model}`",
        unreachable_fix="start it with `ollama serve` or set OLLAMA_HOST",
    )


def _client(host: str, timeout_s: float):
    try:
        import httpx
        import ollama
    except ImportError as exc:
        raise BackendUnavailable(
            "The ollama package is not installed: pip install -e '.[ollama]'"
        ) from exc
    return ollama.Client(host=host, timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 3.0)))


def _translate(exc: Exception, remote: Remote) -> LLMError | None:
    """The user-facing error for a failure of the client, or None if it is none of those."""
    import httpx
    import ollama

    secret = os.environ.get("OLLAMA_API_KEY")
    if isinstance(exc, ollama.ResponseError):
        case = exc.status_code if exc.status_code > 0 else "error"
        if case == "error" and "not found" in str(exc.error):
            case = 404  # a model missing is reported in the stream on some versions
        return remote_error(remote, case, str(exc.error), secret)
    if isinstance(exc, httpx.TimeoutException):
        return remote_error(remote, TIMEOUT)
    if isinstance(exc, ConnectionError | httpx.ConnectError):
        return remote_error(remote, UNREACHABLE)
    if isinstance(exc, httpx.TransportError):
        return remote_error(remote, DROPPED, type(exc).__name__, secret)
    return None


def _is_status_error(exc: Exception) -> bool:
    import ollama

    return isinstance(exc, ollama.ResponseError)


def _pulled_models(client) -> list[str]:
    """Names of the pulled models, ``:latest`` left off as users write them."""
    names = [m.model for m in client.list().models if m.model]
    return sorted(name.removesuffix(":latest") for name in names)


class OllamaChatModel:
    def __init__(self, model: str, settings: GenerationSettings):
        host = _host(settings)
        self.name = f"ollama:{model}"
        self.model = model
        # Ollama is told to use this window (num_ctx), so prompts are fitted to it.
        self.context_window = settings.context_window
        self._remote = _remote(model, host, settings.request_timeout_s)
        self._client = _client(host, settings.request_timeout_s)
        try:
            pulled = _pulled_models(_client(host, min(LIST_TIMEOUT_S, settings.request_timeout_s)))
        except Exception as exc:
            error = _translate(exc, self._remote)
            if error is None:
                raise
            raise BackendUnavailable(str(error)) from exc
        if model.removesuffix(":latest") not in pulled:
            raise remote_error(self._remote, 404)

    def __repr__(self) -> str:
        return f"OllamaChatModel(name={self.name!r}, server={self._remote.label!r})"

    def count_tokens(self, text: str) -> int:
        return estimate_tokens(text)

    def stream_chat(self, messages: list[Message], options: GenerationOptions) -> Iterator[str]:
        stream = None
        try:
            stream = self._client.chat(
                model=self.model,
                messages=messages,
                stream=True,
                options={
                    "temperature": options.temperature,
                    "num_predict": options.max_new_tokens,
                    "num_ctx": self.context_window,
                },
                format=options.json_schema,
            )
            for part in stream:
                text = part.message.content
                if text:
                    yield text
        except Exception as exc:
            error = _translate(exc, self._remote)
            if error is None:
                raise
            # The server's own text is quoted, scrubbed, in the message; not chained raw.
            raise error from (None if _is_status_error(exc) else exc)
        finally:
            if stream is not None:
                stream.close()  # ends the HTTP response, so Ollama stops generating


def create(model: str, settings: GenerationSettings) -> OllamaChatModel:
    return OllamaChatModel(model, settings)


def pull(model: str, settings: GenerationSettings) -> Iterator[PullProgress]:
    """``ollama pull model`` unless the server has it, with the server's progress as events;
    the last says where the model is.

    Closing the generator closes the HTTP stream, which stops the pull on the server.
    """
    host = _host(settings)
    spec = f"ollama:{model}"
    remote = _remote(model, host, settings.request_timeout_s)
    remote = Remote(**{**remote.__dict__, "unknown_model_fix": _library_fix(model)})
    try:
        if model.removesuffix(":latest") not in _pulled_models(_client(host, LIST_TIMEOUT_S)):
            stream = _client(host, settings.request_timeout_s).pull(model, stream=True)
            try:
                for part in stream:
                    step = f"ollama pull {model}: {part.status or 'pulling'}"
                    yield PullProgress(spec, step, part.completed or 0, part.total)
            finally:
                stream.close()
    except Exception as exc:
        error = _translate(exc, remote)
        if error is None:
            raise
        if "file does not exist" in str(error):  # Ollama's word for a name not in its library
            error = remote_error(remote, 404, str(exc))
        raise BackendUnavailable(str(error)) from None
    yield PullProgress(spec, f"ollama pull {model}", location=f"{remote.label}, as {model}")


def _library_fix(model: str) -> str:
    return (
        f"check the name in Ollama's library at https://ollama.com/library/{model.split(':')[0]} "
    )


def list_models(settings: GenerationSettings) -> list[ModelChoice]:
    """The models pulled into the server (``GET /api/tags``), or why there are none; the
    recommended ones not pulled yet are offered to download when the server answers."""
    from rag.llms import ModelChoice

    host = _host(settings)
    configured = settings.model if settings.model.startswith("ollama:") else None
    fallback = configured or f"ollama:{SUGGESTED_MODEL}"
    timeout_s = min(LIST_TIMEOUT_S, settings.request_timeout_s)
    try:
        pulled = _pulled_models(_client(host, timeout_s))
    except BackendUnavailable as exc:
        return [ModelChoice(fallback, False, str(exc))]
    except Exception as exc:
        error = _translate(exc, _remote(fallback.partition(":")[2], host, timeout_s))
        if error is None:
            raise
        return [ModelChoice(fallback, False, short_reason(error))]
    choices = [ModelChoice(f"ollama:{name}", True) for name in pulled]
    choices += [
        ModelChoice(
            entry.ollama_name,
            True,
            label=f"{entry.title} · Ollama",
            to_download=True,
            download_bytes=entry.ollama_size_bytes,
        )
        for entry in catalog.RECOMMENDED
        if entry.ollama_tag not in pulled
    ]
    if configured and configured.removesuffix(":latest") not in {c.name for c in choices}:
        choices.insert(0, ModelChoice(configured, True, to_download=True))
    return choices
