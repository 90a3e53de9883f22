"""The loop guard ends a stream that repeats itself, and closes it so the model is freed."""

from __future__ import annotations

from rag.answer import stop_repeating, trim_loop


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


def test_the_final_answer_keeps_one_copy_of_what_looped():
    def pieces(text: str, size: int):
        return (text[i : i + size] for i in range(0, len(text), size))

    sentence = "The Zephyrine tokenizer splits words into 7 pieces on average.\n\n"
    for size in (1, 3, 7, len(sentence)):  # token sizes change where the guard stops
        streamed = "".join(stop_repeating(pieces("Answer: " + sentence * 6, size)))
        assert trim_loop(streamed) == "Answer: " + sentence.strip()
    paragraph = "".join(f"point {i} is different; " for i in range(12))  # longer than the span
    streamed = "".join(stop_repeating(pieces(paragraph * 3, 5)))
    assert trim_loop(streamed) == paragraph.strip()


def test_an_answer_without_a_loop_is_not_trimmed():
    text = (
        "QLoRA keeps the base model in 4-bit NF4 and trains LoRA adapters in bf16.\n"
        "- item one\n- item two\n- item three\n"
        "The adapters are small, so one GPU is enough for an 8B model."
    )
    assert list(stop_repeating(iter([text]))) == [text]
    assert trim_loop(text) == text
