"""Sentence splitting copes with the markdown of real course notes."""

from __future__ import annotations

from rag.core import HEADING, ITEM, ROW, TEXT, plain, split_sentences

NOTES = """\
# Fine-tuning

## QLoRA steps
1. 4-bit NormalFloat quantization.
2. Double Quantization
   of the constants.
- **Paged Optimizer**: moves state to CPU, e.g. during spikes. It is in [bitsandbytes](https://x.y).

| Model | Memory |
|---|---|
| Llama 3 8B | 16 GB |

```python
print("not a sentence. Not this either.")
```
<img src="https://example.com/a.png"> QLoRA was published in 2023. It fine-tuned a 65B model.
"""


def test_headings_items_rows_and_prose_become_sentences_and_code_does_not():
    sentences = split_sentences(NOTES)
    kinds = [(s.kind, s.text) for s in sentences]
    assert (HEADING, "QLoRA steps") in kinds
    assert (ITEM, "4-bit NormalFloat quantization.") in kinds
    assert (ITEM, "Paged Optimizer: moves state to CPU, e.g. during spikes.") in kinds
    assert (ITEM, "It is in bitsandbytes.") in kinds
    assert (ROW, "Model: Llama 3 8B; Memory: 16 GB") in kinds
    assert (TEXT, "QLoRA was published in 2023.") in kinds
    assert (TEXT, "It fine-tuned a 65B model.") in kinds
    assert not any("not a sentence" in s.text for s in sentences)


def test_a_list_item_knows_its_heading_and_its_place_in_the_text():
    item = next(s for s in split_sentences(NOTES) if s.text.startswith("4-bit"))
    assert item.heading == "QLoRA steps"
    assert NOTES[item.start : item.end] == "4-bit NormalFloat quantization."


def test_citations_stay_with_the_sentence_they_end():
    answer = "QLoRA loads the base in 4-bit [2]. Adapters train in bf16. [1][3] They are small."
    texts = [answer[s.start : s.end] for s in split_sentences(answer)]
    assert texts == [
        "QLoRA loads the base in 4-bit [2].",
        "Adapters train in bf16. [1][3]",
        "They are small.",
    ]


def test_a_sentence_knows_every_heading_above_it():
    text = "# Alex Chen\n\n## Summary\n- Job Title: Engineer\n\n# Other\n\nPlain text here.\n"
    found = {s.text: s.headings for s in split_sentences(text)}
    assert found["Job Title: Engineer"] == ("Alex Chen", "Summary")
    assert found["Plain text here."] == ("Other",)


def test_arithmetic_stars_stay_and_an_inline_numbered_list_is_not_cut():
    texts = [s.text for s in split_sentences("1B parameters = 4*10^9 = 4GB. The *rank* is 8.")]
    assert texts == ["1B parameters = 4*10^9 = 4GB.", "The rank is 8."]
    inline = "Hugging Face has two APIs: 1. Pipelines, 2. Tokenizers. They differ."
    assert [s.text for s in split_sentences(inline)] == [
        "Hugging Face has two APIs: 1. Pipelines, 2. Tokenizers.",
        "They differ.",
    ]


def test_a_nested_item_knows_every_lead_in_above_it():
    text = (
        "Hugging Face\n - It has 3 main features\n    - Models - Over 800,000 models\n"
        " - Libraries: transformers and peft\n"
    )
    found = {s.text: s for s in split_sentences(text)}
    models = found["Models - Over 800,000 models"]
    assert models.lead == "It has 3 main features"
    assert models.leads == ("Hugging Face", "It has 3 main features")
    assert found["Libraries: transformers and peft"].leads == ("Hugging Face",)


def test_a_later_sentence_of_an_item_knows_the_items_first_sentence():
    text = "- Q8_0: 8 bits per weight. Nearly lossless; about 8.5 GB for an 8B model.\n"
    first, second = split_sentences(text)
    assert (first.opening, second.opening) == ("", "Q8_0: 8 bits per weight.")


def test_title_lines_over_paragraphs_are_the_items_their_lead_in_announced():
    text = (
        "QLoRA works in 2 steps:\n\n  Step 1: 4-bit NormalFloat\nThe weights are quantized.\n\n"
        " Step 2: Double Quantization\nThe scales are quantized too.\n"
    )
    found = [(s.kind, s.text, s.lead) for s in split_sentences(text)]
    lead = "QLoRA works in 2 steps:"
    assert (ITEM, "Step 1: 4-bit NormalFloat", lead) in found
    assert (ITEM, "Step 2: Double Quantization", lead) in found
    assert (TEXT, "The scales are quantized too.", "") in found


def test_fields_under_a_name_know_the_name():
    text = "Signatures:\n\n**Jennifer Rodriguez**\n**Title**: Chief Executive Officer\n"
    title = next(s for s in split_sentences(text) if s.text.startswith("Title"))
    assert title.opening == "Jennifer Rodriguez"


def test_an_excerpt_that_begins_inside_a_code_block_is_read_from_its_end():
    # A passage's window can begin in the middle of a fenced block: its closing fence must not
    # be read as an opening one, which would hide everything after it.
    text = "API_KEY=xyz\n```\n- In another terminal, run `ollama pull llama3.2`.\n"
    assert [s.text for s in split_sentences(text)] == [
        "In another terminal, run `ollama pull llama3.2`."
    ]


def test_a_title_line_a_blank_line_above_its_paragraph_is_read_as_over_the_paragraph():
    text = (
        "QLoRA works in 2 steps:\n\n  Step 1: 4-bit NormalFloat\n\nThe weights are quantized.\n\n"
        " Step 2: Double Quantization\n\nThe scales are quantized too.\n"
    )
    found = [(s.kind, s.text, s.lead) for s in split_sentences(text)]
    lead = "QLoRA works in 2 steps:"
    assert (ITEM, "Step 1: 4-bit NormalFloat", lead) in found
    assert (ITEM, "Step 2: Double Quantization", lead) in found
    assert (TEXT, "The scales are quantized too.", "") in found


def test_a_citation_by_authors_et_al_does_not_end_its_sentence():
    text = (
        "Wei et al. (2022) showed that examples help, and Kojima et al. (2022) found that one "
        "line helps. The next sentence."
    )
    assert [s.text for s in split_sentences(text)] == [
        "Wei et al. (2022) showed that examples help, and Kojima et al. (2022) found that one "
        "line helps.",
        "The next sentence.",
    ]


def test_plain_text_drops_html_tags_but_keeps_special_tokens_and_comparisons():
    assert plain("Llama 3 uses `<|start_header_id|>`<br/>and r << d") == (
        "Llama 3 uses `<|start_header_id|>` and r << d"
    )


def test_in_an_answer_a_full_stop_before_a_name_written_in_lower_case_ends_the_sentence():
    answer = (
        "The weights need about 16 GB. bitsandbytes needs no calibration data, so it is quick. "
        "Use e.g. the 8B model... and then llama.cpp on approx. four cores. "
        "Stellar Insurance Co. agrees to pay."
    )
    assert [s.text for s in split_sentences(answer, lower_case_starts=True)] == [
        "The weights need about 16 GB.",
        "bitsandbytes needs no calibration data, so it is quick.",
        "Use e.g. the 8B model... and then llama.cpp on approx. four cores.",
        "Stellar Insurance Co. agrees to pay.",
    ]


def test_in_notes_a_full_stop_before_a_lower_case_word_is_read_as_a_mistyped_comma():
    notes = "It's a platform providing tools, datasets. libraries to develop LLM applications."
    assert [s.text for s in split_sentences(notes)] == [notes]


def test_in_an_answer_a_lower_case_letter_before_a_full_stop_ends_the_sentence():
    text = "The update is scaled by alpha / r. Common values are 8 and 16. Written by J. Smith."
    assert [s.text for s in split_sentences(text, lower_case_starts=True)] == [
        "The update is scaled by alpha / r.",
        "Common values are 8 and 16.",
        "Written by J. Smith.",
    ]
    # Notes are read as before: the line stays whole.
    assert len(split_sentences(text)) == 2
