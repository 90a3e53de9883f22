"""The loop guard ends a stream that repeats itself, and closes it so the model is freed."""

from __future__ import annotations

from rag.repetition import stop_repeating


def test_a_looping_stream_is_cut_after_the_first_repeat_and_closed():
    closed = []

    def looping():
        try:
            yield "The answer is 4 GB. "
            while True:
                yield "The 4-bit model is a subset of the 8B model, and so on. "
        finally:
            closed.append(True)

    text = "".join(stop_repeating(looping()))
    # Ended as soon as an 80-character span came round again: 57-character sentences, so the
    # third copy completes the repeat.
    assert text.count("subset of the 8B model") == 3
    assert closed == [True]


def test_a_stream_without_loops_is_passed_through_whole():
    pieces = ["- item one\n", "- item two\n", "- item three\n", "Done."]
    assert list(stop_repeating(iter(pieces))) == pieces
