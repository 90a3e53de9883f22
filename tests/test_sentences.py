"""Sentence splitting copes with the markdown of real course notes."""

from __future__ import annotations

from rag.core import HEADING, ITEM, ROW, TEXT, split_sentences

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
