"""Messages a visitor or API caller sees carry nothing of the server.

Absolute paths become their last part (a document's name), addresses of other servers
(URLs, ``host:port``) and the machine's own name are hidden, and a stack trace is never shown.
The full message goes to the server log, where the operator reads it.
"""

from __future__ import annotations

import logging
import re
import socket
from functools import cache

log = logging.getLogger(__name__)

_PART = r"[^\s/\\'\"`<>()\[\]{},;|]+"
# /a/b/c (two parts or more, not inside a URL or a relative path); C:\a\b; ~/a/b
_POSIX = re.compile(rf"(?<![\w./~-])~?/(?:{_PART}/)+({_PART})?")
_WINDOWS = re.compile(rf"\b[A-Za-z]:[\\/](?:{_PART}[\\/])*({_PART})?")
# Any URL but hf:// (a public Hub repository, the name of a model, not a server of ours)
_URL = re.compile(r"\b(?!hf://)[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"`<>)\]]+")
_IP = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?\b")
# host:port, the host with a letter in it (not a time like 10:30)
_HOST_PORT = re.compile(r"\b(?=[\w.-]*[A-Za-z])(?:[A-Za-z0-9-]+\.)*[A-Za-z0-9-]+:\d{2,5}\b")
HIDDEN_ADDRESS = "(address hidden)"
TRACEBACK_MARKERS = ("Traceback (most recent call last)", '  File "')
TRACEBACK_REPLACEMENT = "Something went wrong on the server; the details are in its log."


@cache
def _hostnames() -> tuple[str, ...]:
    names = {socket.gethostname(), socket.getfqdn()}
    return tuple(sorted((n for n in names if n and len(n) > 3 and n != "localhost"), key=len))[::-1]


def _last_part(match: re.Match) -> str:
    return match.group(1) or "(folder)"


def redact(text: str) -> str:
    """``text`` without absolute paths, server addresses, host names or stack traces."""
    text = str(text)
    if any(marker in text for marker in TRACEBACK_MARKERS):
        log.warning("a stack trace was about to be shown; hidden: %s", text)
        return TRACEBACK_REPLACEMENT
    text = _URL.sub(HIDDEN_ADDRESS, text)
    text = _WINDOWS.sub(_last_part, text)
    text = _POSIX.sub(_last_part, text)
    text = _IP.sub(HIDDEN_ADDRESS, text)
    text = _HOST_PORT.sub(HIDDEN_ADDRESS, text)
    for name in _hostnames():
        text = re.sub(rf"\b{re.escape(name)}\b", "(server)", text)
    return text
