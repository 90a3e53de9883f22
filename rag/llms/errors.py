"""Turning a remote backend's failure into a message that names the fix, with no secret in it.

Every remote backend (OpenAI-compatible servers, Ollama) sorts its SDK's exceptions into the
same few cases; :func:`remote_error` words each case once, so the chat, the CLI and the model
dropdown say the same thing the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from rag.llms.base import LLMError

# Longest piece of a server's own error text quoted back to the user.
DETAIL_CHARS = 240


def public_url(url: str) -> str:
    """``url`` without user, password or query string, fit to show."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", ""))


def redact(text: str, *secrets: str | None) -> str:
    """``text`` with every secret replaced by ``***``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def shorten(text: str, limit: int = DETAIL_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@dataclass(frozen=True)
class Remote:
    """Who is being called, for messages: ``label`` reads as a sentence subject."""

    label: str  # "OpenAI", "The server at http://localhost:8000/v1", "Ollama at ..."
    model: str
    key_variable: str  # where a key comes from, e.g. "OPENAI_API_KEY"
    timeout_s: float
    unknown_model_fix: str  # e.g. "run `ollama pull llama3.2`"
    unreachable_fix: str  # e.g. "start it with `ollama serve` or set OLLAMA_HOST"


# The cases every remote backend sorts its failures into.
UNREACHABLE = "unreachable"
TIMEOUT = "timeout"
DROPPED = "dropped"


def remote_error(
    remote: Remote, case: str | int, detail: str = "", secret: str | None = None
) -> LLMError:
    """The :class:`LLMError` for ``case``: an HTTP status or one of the cases above.

    ``detail`` is the server's own text; it is quoted (shortened, with ``secret`` removed) only
    where it helps, and never for 401/403, whose text may echo part of the key.
    """
    detail = shorten(redact(detail, secret)) if detail else ""
    said = f" The server said: {detail}" if detail else ""
    who, model = remote.label, remote.model
    if case == UNREACHABLE:
        text = f"{who} is unreachable: {remote.unreachable_fix}, or choose another model."
    elif case == TIMEOUT:
        text = (
            f"{who} did not answer within {remote.timeout_s:g} s (timeout): try again, raise "
            "RAG_REQUEST_TIMEOUT_S, or choose another model."
        )
    elif case == DROPPED:
        why = f" ({detail})" if detail else ""
        text = (
            f"{who} closed the connection before the answer was complete{why}: try again "
            "or choose another model."
        )
    elif case == 401:
        text = (
            f"{who} rejected the API key (401): set {remote.key_variable} to a valid key "
            "or choose another model."
        )
    elif case == 403:
        text = (
            f"{who} refused access to {model!r} (403): use a key allowed to use it "
            f"({remote.key_variable}) or choose another model."
        )
    elif case == 404:
        text = (
            f"{who} has no model {model!r} (404): {remote.unknown_model_fix}, "
            f"or choose another model.{said}"
        )
    elif case == 429:
        text = (
            f"{who} is rate-limiting requests or the account is out of quota (429): wait a "
            f"minute and try again, check the plan's limits, or choose another model.{said}"
        )
    elif isinstance(case, int) and case >= 500:
        text = (
            f"{who} failed with a server error ({case}): try again later or choose another "
            f"model.{said}"
        )
    elif isinstance(case, int):
        text = f"{who} refused the request ({case}).{said}"
    else:
        text = f"{who} failed: {detail or case}"
    return LLMError(redact(text, secret))


def short_reason(error: LLMError) -> str:
    """The problem part of a :func:`remote_error` message (before the colon), for a dropdown."""
    text = str(error)
    problem, sep, _ = text.partition(": ")
    return problem if sep and len(problem) <= 120 else shorten(text, 120)
