"""OpenAI, and any server that speaks its chat API: vLLM, LM Studio, llama.cpp's server, and the
OpenAI-compatible endpoints of Gemini, Anthropic and DeepSeek.

The key and the URL come from ``RAG_OPENAI_API_KEY``/``RAG_OPENAI_BASE_URL`` (settings), else
from the SDK's own ``OPENAI_API_KEY``/``OPENAI_BASE_URL``. A server on one's own machine needs
no key: a base URL alone is enough.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

from rag.llms.base import (
    BackendUnavailable,
    GenerationOptions,
    LLMError,
    Message,
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

OPENAI_URL = "https://api.openai.com/v1"
SUGGESTED_MODEL = "gpt-4.1-mini"
NO_KEY_REASON = "set OPENAI_API_KEY or choose another model"
# Sent to servers that need no key (the SDK insists on one); it is not a secret.
NO_KEY_PLACEHOLDER = "no-key"
# One retry rides out a blip (429, 5xx, a dropped connection); more would multiply the wait
# before the user sees why it failed.
MAX_RETRIES = 1
# The dropdown asks every backend at once; a dead server must not hold it up.
LIST_TIMEOUT_S = 3.0

# Context windows of well-known models, by name prefix (the longest matching prefix wins). Any
# other model gets ``settings.context_window``, as local servers are often started with less
# than their model's maximum.
KNOWN_CONTEXT_WINDOWS: dict[str, int] = {
    "gpt-4.1": 1_047_576,
    "gpt-5": 400_000,
    "gpt-4o": 128_000,
    "gpt-4-turbo": 128_000,
    "gpt-4": 8_192,
    "gpt-3.5-turbo": 16_385,
    "o1": 200_000,
    "o3": 200_000,
    "o4": 200_000,
    "gemini-1.5": 1_048_576,
    "gemini-2": 1_048_576,
    "claude-": 200_000,
    "deepseek-": 64_000,
}
# Official models that accept no temperature other than the default and count the answer in
# max_completion_tokens.
REASONING_PREFIXES = ("o1", "o3", "o4", "gpt-5")
# What /models lists besides chat models, left out of the dropdown.
NOT_CHAT = ("embed", "tts", "whisper", "dall-e", "moderation", "image", "transcribe", "audio")


def context_window_for(model: str, default: int) -> int:
    name = model.rsplit("/", 1)[-1].lower()  # "openai/gpt-4.1" as routers name them
    matches = [prefix for prefix in KNOWN_CONTEXT_WINDOWS if name.startswith(prefix)]
    return KNOWN_CONTEXT_WINDOWS[max(matches, key=len)] if matches else default


def _credentials(settings: GenerationSettings) -> tuple[str | None, str | None]:
    """(key, base URL): settings first, then the SDK's environment variables."""
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    key = key or os.environ.get("OPENAI_API_KEY") or None
    base_url = settings.openai_base_url or os.environ.get("OPENAI_BASE_URL") or None
    return key, base_url


def _is_official(base_url: str | None) -> bool:
    return base_url is None or "api.openai.com" in base_url


def _http_module():
    """The HTTP library under the SDK (httpx2 in openai 3, httpx before)."""
    try:
        import httpx2

        return httpx2
    except ImportError:
        import httpx

        return httpx


def _client(key: str | None, base_url: str | None, timeout_s: float, max_retries: int):
    try:
        import openai
    except ImportError as exc:
        raise BackendUnavailable(
            "The openai package is not installed: pip install -e '.[openai]'"
        ) from exc
    return openai.OpenAI(
        api_key=key or NO_KEY_PLACEHOLDER,
        base_url=base_url or OPENAI_URL,
        timeout=openai.Timeout(timeout_s, connect=min(timeout_s, 5.0)),
        max_retries=max_retries,
    )


def _remote(model: str, base_url: str | None, timeout_s: float) -> Remote:
    official = _is_official(base_url)
    return Remote(
        label="OpenAI" if official else f"The server at {public_url(base_url or '')}",
        model=model,
        key_variable="OPENAI_API_KEY",
        timeout_s=timeout_s,
        unknown_model_fix=(
            "check the name (`python -m rag models` lists them)"
            if official
            else "check the name (`python -m rag models` lists them) and that OPENAI_BASE_URL "
            "ends in /v1"
        ),
        unreachable_fix=(
            "check the network"
            if official
            else "start the server or fix OPENAI_BASE_URL (e.g. http://localhost:8000/v1)"
        ),
    )


def _translate(exc: Exception, remote: Remote, secret: str | None) -> LLMError:
    """The user-facing error for an exception the SDK (or its HTTP library) raised."""
    import openai

    if isinstance(exc, openai.APITimeoutError):
        return remote_error(remote, TIMEOUT)
    if isinstance(exc, openai.APIConnectionError):
        return remote_error(remote, UNREACHABLE)
    if isinstance(exc, openai.APIStatusError):
        body = exc.body
        detail = body.get("message") if isinstance(body, dict) else body
        return remote_error(remote, exc.status_code, str(detail or ""), secret)
    if isinstance(exc, _http_module().TimeoutException):
        return remote_error(remote, TIMEOUT)
    if isinstance(exc, _http_module().TransportError):
        return remote_error(remote, DROPPED, type(exc).__name__, secret)
    return remote_error(remote, "error", str(exc) or type(exc).__name__, secret)


class OpenAIChatModel:
    """A chat model behind an OpenAI-compatible ``/chat/completions``."""

    def __init__(self, model: str, settings: GenerationSettings):
        key, base_url = _credentials(settings)
        if not key and not base_url:
            raise BackendUnavailable(
                f"No OpenAI API key for openai:{model}: {NO_KEY_REASON} "
                "(for a local OpenAI-compatible server, set OPENAI_BASE_URL instead)."
            )
        self.name = f"openai:{model}"
        self.model = model
        self.context_window = context_window_for(model, settings.context_window)
        self._official = _is_official(base_url)
        self._remote = _remote(model, base_url, settings.request_timeout_s)
        # Kept only to scrub it from error text; never shown (see __repr__).
        self._secret = key
        self._client = _client(key, base_url, settings.request_timeout_s, MAX_RETRIES)

    def __repr__(self) -> str:
        return f"OpenAIChatModel(name={self.name!r}, server={self._remote.label!r})"

    def count_tokens(self, text: str) -> int:
        return estimate_tokens(text)

    def _request(self, messages: list[Message], options: GenerationOptions) -> dict:
        request: dict = {"model": self.model, "messages": messages, "stream": True}
        reasoning = self._official and self.model.startswith(REASONING_PREFIXES)
        if not reasoning:
            request["temperature"] = options.temperature
        # The official API renamed max_tokens; compatible servers know only the old name.
        limit_name = "max_completion_tokens" if self._official else "max_tokens"
        request[limit_name] = options.max_new_tokens
        if options.json_schema is not None:
            request["response_format"] = self._response_format(options.json_schema)
        return request

    def _response_format(self, schema: dict) -> dict:
        """Structured output. OpenAI's own form for its API; llama.cpp's servers (the C++ one and
        llama-cpp-python's) know only ``json_object`` with a ``schema``, which vLLM reads as JSON
        mode."""
        if self._official:
            return {
                "type": "json_schema",
                "json_schema": {"name": "reply", "schema": schema, "strict": True},
            }
        return {"type": "json_object", "schema": schema}

    def stream_chat(self, messages: list[Message], options: GenerationOptions) -> Iterator[str]:
        stream = None
        try:
            stream = self._client.chat.completions.create(**self._request(messages, options))
            for chunk in stream:
                if not chunk.choices:
                    continue
                text = chunk.choices[0].delta.content
                if text:
                    yield text
        except Exception as exc:
            if not _is_sdk_or_http_error(exc):
                raise
            error = _translate(exc, self._remote, self._secret)
            # A status error's text is the server's, which may echo the key; its scrubbed gist
            # is in the message already, so it is not chained (tracebacks get logged).
            raise error from (None if _is_status_error(exc) else exc)
        finally:
            if stream is not None:
                stream.close()  # stops the server generating when the reader stops early


def _is_sdk_or_http_error(exc: Exception) -> bool:
    import openai

    return isinstance(exc, openai.OpenAIError | _http_module().HTTPError)


def _is_status_error(exc: Exception) -> bool:
    import openai

    return isinstance(exc, openai.APIStatusError)


def create(model: str, settings: GenerationSettings) -> OpenAIChatModel:
    return OpenAIChatModel(model, settings)


def _is_chat_model(model_id: str) -> bool:
    return not any(word in model_id.lower() for word in NOT_CHAT)


def list_models(settings: GenerationSettings) -> list[ModelChoice]:
    """The server's own list (``GET /models``), or why there is none."""
    from rag.llms import ModelChoice

    configured = settings.model if settings.model.startswith("openai:") else None
    fallback = configured or f"openai:{SUGGESTED_MODEL}"
    key, base_url = _credentials(settings)
    if not key and not base_url:
        return [ModelChoice(fallback, False, NO_KEY_REASON)]
    timeout_s = min(LIST_TIMEOUT_S, settings.request_timeout_s)
    try:
        client = _client(key, base_url, timeout_s, max_retries=0)
        ids = sorted({m.id for m in client.models.list() if _is_chat_model(m.id)})
    except BackendUnavailable as exc:
        return [ModelChoice(fallback, False, str(exc))]
    except Exception as exc:
        if not _is_sdk_or_http_error(exc):
            raise
        error = _translate(exc, _remote(fallback.partition(":")[2], base_url, timeout_s), key)
        return [ModelChoice(fallback, False, short_reason(error))]
    choices = [ModelChoice(f"openai:{model_id}", True) for model_id in ids]
    if configured and configured not in {c.name for c in choices}:
        choices.insert(0, ModelChoice(configured, True))
    return choices
