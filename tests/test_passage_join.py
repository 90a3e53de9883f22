"""Consecutive chunks of one section are joined into one passage without their overlap, and
the space the document has where the overlap ends is kept."""

from __future__ import annotations

from rag.core import ITEM, TEXT, split_sentences
from rag.retrieval.passages import _join

PRICES = "Prices per million input tokens:\n\n- GPT-4o: $2.50\n- Claude 3.5 Sonnet: $3.00\n\n"
AFTER = "Output tokens cost about four times more than input tokens."


def test_a_blank_line_where_the_overlap_ends_still_ends_the_list():
    # The second chunk repeats the first's last item (the overlap), then goes on after the
    # list's blank line: the paragraph must not become part of the item.
    first = PRICES.rstrip()
    second = "- Claude 3.5 Sonnet: $3.00\n\n" + AFTER

    joined = _join([first, second])

    assert joined == PRICES + AFTER
    found = [(s.kind, s.text) for s in split_sentences(joined)]
    assert (ITEM, "Claude 3.5 Sonnet: $3.00") in found
    assert (TEXT, AFTER) in found


def test_a_sentence_cut_between_two_chunks_is_joined_with_a_space():
    first = "Quantization stores each weight in fewer bits, which saves"
    second = "in fewer bits, which saves memory at a small cost in quality."

    assert _join([first, second]) == (
        "Quantization stores each weight in fewer bits, which saves memory at a small cost in"
        " quality."
    )
