"""Stop a model that has fallen into a loop.

Small models (the bundled 135M one above all) sometimes repeat the same sentence until they run
out of tokens. Once a long enough span of the answer has appeared before, nothing new is coming:
the stream is ended there and the model is freed for the next question, and the final answer
keeps one copy of what was repeated (:func:`trim_loop`).
"""

from __future__ import annotations

from collections.abc import Iterator

# Characters that must repeat verbatim; long enough that lists and code don't trip it.
LOOP_SPAN = 80


def _earlier_copy(text: str, span: int) -> int:
    """Where the latest earlier copy of ``text``'s last ``span`` characters starts, or -1.

    The copy may overlap the end: a loop shorter than the span counts too.
    """
    if len(text) <= span:
        return -1
    return text.rfind(text[-span:], 0, len(text) - 1)


def stop_repeating(pieces: Iterator[str], span: int = LOOP_SPAN) -> Iterator[str]:
    text = ""
    try:
        for piece in pieces:
            yield piece
            text += piece
            if _earlier_copy(text, span) >= 0:
                return
    finally:
        close = getattr(pieces, "close", None)
        if close is not None:
            close()  # a generator holding the model's lock releases it now


def trim_loop(text: str, span: int = LOOP_SPAN) -> str:
    """``text`` with the repeats of a loop at its end removed, one copy kept; else unchanged."""
    earlier = _earlier_copy(text, span)
    if earlier < 0:
        return text
    n = len(text)
    period = n - span - earlier
    start = n - period  # walk back to where the text began repeating itself
    while start > 0 and text[start - 1] == text[start - 1 + period]:
        start -= 1
    return text[: start + period].rstrip()
