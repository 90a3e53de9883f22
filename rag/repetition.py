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


def stop_repeating(pieces: Iterator[str], span: int = LOOP_SPAN) -> Iterator[str]:
    text = ""
    try:
        for piece in pieces:
            yield piece
            text += piece
            # The span may overlap its earlier copy: a loop shorter than the span counts too.
            if len(text) > span and text.find(text[-span:]) < len(text) - span:
                return
    finally:
        close = getattr(pieces, "close", None)
        if close is not None:
            close()  # a generator holding the model's lock releases it now


def trim_loop(text: str, span: int = LOOP_SPAN) -> str:
    """``text`` with the repeats of a loop at its end removed, one copy kept; else unchanged."""
    n = len(text)
    if n <= span:
        return text
    earlier = text.rfind(text[-span:], 0, n - 1)  # the latest copy before the last one
    if earlier < 0:
        return text
    period = n - span - earlier
    start = n - period  # walk back to where the text began repeating itself
    while start > 0 and text[start - 1] == text[start - 1 + period]:
        start -= 1
    return text[: start + period].rstrip()
