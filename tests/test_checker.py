"""The sentence checker: each kind of wrong claim on a small source, the evidence it gives,
and its figures on the held-out half of the labelled claims."""

from __future__ import annotations

import pytest

from devtools.labelled_claims import load_claims, source_text
from devtools.paths import SHARED
from rag.answer import ClaimChecker
from rag.core import CONTRADICTED, NOT_IN_NOTES, SUPPORTED, Passage, plain
from rag.embedding import SentenceVectors

PROMPTING = """# Prompting

## Zero-shot and few-shot

- **Zero-shot** means just describing the task.
- **Few-shot** means including a handful of worked examples so the model copies the pattern.

Fine-tune for format, style and narrow tasks; use RAG for knowledge.
"""
ARITHMETIC = "Integer arithmetic is generally much faster than floating-point arithmetic.\n"
MEMORY = """## Memory for the weights

| Precision | Bytes per parameter | 8B model |
|---|---|---|
| fp16 | 2 | 16 GB |
| int8 | 1 | 8 GB |
"""
HUB = """Hugging Face
- It has 3 main features
  - Models - Over 800,000 open source models
  - Datasets - About 200,000 datasets
"""
HUB_FACTS = "Every repository on the Hub is a git repo with large files stored via LFS.\n"
HEADS = """The original paper used d_model = 512 with 8 heads of 64 dimensions each.
Llama 3 8B has 32 query heads but only 8 KV heads, which cuts the KV cache to a quarter.
"""
FUSION = """## Hybrid search: BM25 + dense

### Reciprocal rank fusion

BM25 scores and cosine similarities are on different scales, so instead of adding scores we fuse
**ranks**. Reciprocal rank fusion (Cormack et al., 2009):
"""
GQA = """**Grouped-query attention (GQA)** shares each key/value head across several query heads. Llama
3 8B has 32 query heads but only 8 KV heads, which cuts the KV cache to a quarter.
"""
SAMPLING = """- greedy vs random sampling
    - greedy: word with the highest probability is selected from the softmax output. Prone to repetition
    - random: select a token using random-weighted sampling across the softmax outputs. For more creativity
"""
BENCHMARKS = """New harder Benchmarks to overcome the limitation
1. MMLU-PRO -> Harder MMLU -> harder mmlu with 10 choices instead of 4 in the test
"""
GPQA_NOTE = """- **GPQA** (Graduate-level Google-Proof Q&A, 2023): 448 multiple-choice questions in biology,
  physics and chemistry written by domain experts. The **Diamond** subset (198
  questions) is the one usually quoted.
"""
LEVELS = """Level 2: Model Fine-tuning
Model fine-tuning involves adjusting at least one internal parameter of a pre-trained LLM.

Level 3: Build Your Own LLM
Building your own LLM involves creating an LLM from scratch by defining all model parameters. The process includes three main steps: First, collect extensive datasets, such as Python code, Wikipedia articles, and books.
"""
CONTEXT = """### Why context length matters

- **Memory of the conversation.** Chat "memory" is just resending the history every turn. Once the
  history exceeds the window, something must be truncated or summarised.
- **Grounding.** RAG works by stuffing retrieved passages into the prompt.
"""


@pytest.fixture(scope="module")
def vectors(embedder):
    return SentenceVectors(embedder)


def check(text: str, source: str, vectors) -> object:
    passage = Passage(1, "notes.md#1", source, {"source": "notes.md"}, 1.0)
    return ClaimChecker([passage], vectors).check(text)


def test_a_swap_between_two_items_of_one_list_is_contradicted_by_the_right_item(vectors):
    claim = check("Zero-shot means including a handful of worked examples.", PROMPTING, vectors)
    assert claim.verdict == CONTRADICTED and not claim.supported
    assert claim.evidence[0].text == "Zero-shot means just describing the task."


def test_a_swap_between_two_items_a_shared_lead_names_is_contradicted(vectors):
    # The lead names both items' subjects; it doesn't give "random" to the greedy item.
    claim = check(
        "Random sampling picks the highest-probability word and is prone to repetition.",
        SAMPLING,
        vectors,
    )
    assert claim.verdict == CONTRADICTED, claim.reason
    assert check(
        "Greedy sampling picks the highest-probability word and is prone to repetition.",
        SAMPLING,
        vectors,
    ).supported


def test_a_swap_inside_one_sentence_is_contradicted(vectors):
    claim = check("Use fine-tuning for knowledge and RAG for format.", PROMPTING, vectors)
    assert claim.verdict == CONTRADICTED
    assert "RAG for knowledge" in claim.evidence[0].text


RIG = "- The Kestrel rig = 12-volt PX4 pump + 5-volt RX2 sensors + spare fuses, all on one board.\n"


def test_what_a_list_gives_one_member_given_to_its_neighbour_is_contradicted(vectors):
    # "12-volt PX4" belongs to the pump; the sensors have their own "5-volt RX2".
    swapped = check("The Kestrel rig runs its sensors on a 12-volt PX4.", RIG, vectors)
    right = check("The Kestrel rig has a 12-volt PX4 pump and 5-volt RX2 sensors.", RIG, vectors)

    assert swapped.verdict == CONTRADICTED, swapped.reason
    assert "another member of its list" in swapped.reason
    assert right.verdict == SUPPORTED, right.reason
    # What "with" adds describes one thing; it is no second member.
    repo = "Every repository is a git repo with large files stored via LFS.\n"
    assert check(
        "Each repository is a git repository keeping large files in LFS.", repo, vectors
    ).supported


def test_what_one_clause_says_of_its_subject_given_to_the_next_clauses_is_contradicted(vectors):
    source = (
        "The Kestrel pump is 12-volt, the RX2 sensors are wired in USB-C, and its spare fuses "
        "sit in a drawer beside the main board.\n"
    )

    swapped = check("The RX2 sensors are wired in 12-volt.", source, vectors)
    right = check("In the Kestrel, the RX2 sensors are wired in USB-C.", source, vectors)

    assert swapped.verdict == CONTRADICTED, swapped.reason
    assert right.verdict == SUPPORTED, right.reason


def test_the_right_pairing_is_supported_with_its_sentence_as_evidence(vectors):
    claim = check("Few-shot prompting includes a handful of worked examples.", PROMPTING, vectors)
    assert claim.verdict == SUPPORTED and claim.supported and claim.sources == [1]
    assert claim.evidence[0].text.startswith("Few-shot means including")


def test_a_reversed_comparison_is_contradicted_and_the_same_one_turned_round_supported(vectors):
    reversed_ = check(
        "Floating-point arithmetic is much faster than integer arithmetic.", ARITHMETIC, vectors
    )
    turned = check(
        "Floating-point arithmetic is much slower than integer arithmetic.", ARITHMETIC, vectors
    )
    assert reversed_.verdict == CONTRADICTED
    assert turned.verdict == SUPPORTED


def test_a_comparison_said_after_the_name_it_qualifies_is_reversed_by_its_opposite(vectors):
    # "MMLU-PRO" only names it; "Harder MMLU" says it, and "instead of 4" turns nothing round.
    claim = check("MMLU-Pro is an easier version of MMLU.", BENCHMARKS, vectors)
    assert claim.verdict == CONTRADICTED, claim.reason
    assert check("MMLU-Pro is a harder version of MMLU.", BENCHMARKS, vectors).supported


def test_a_number_of_another_row_is_contradicted_by_the_row_of_the_thing(vectors):
    claim = check("An 8B model takes 16 GB in int8.", MEMORY, vectors)
    assert claim.verdict == CONTRADICTED
    assert claim.evidence[0].text.startswith("Precision: int8")
    assert check("An 8B model takes 16 GB in fp16.", MEMORY, vectors).verdict == SUPPORTED


def test_a_count_given_to_the_neighbouring_item_is_not_supported(vectors):
    claim = check("Hugging Face hosts about 800,000 datasets.", HUB, vectors)
    assert not claim.supported
    assert check("Hugging Face hosts over 800,000 open source models.", HUB, vectors).supported


def test_a_number_is_read_with_what_it_counts_in_its_phrase(vectors):
    # Two numbers in one phrase: each counts the word right after it.
    moved = check("The original paper used 64 heads of 8 dimensions each.", HEADS, vectors)
    assert moved.verdict == CONTRADICTED, moved.reason
    # "32 query heads" in other words is still held, "8 KV heads" being nearer the 8.
    held = check(
        "With only 8 KV heads for its 32 query heads, Llama 3 8B cuts its KV cache to a quarter.",
        HEADS,
        vectors,
    )
    assert held.verdict == SUPPORTED, held.reason


def test_a_number_counting_the_same_thing_in_more_words_is_still_in_its_place(vectors):
    # 448 counts "multiple-choice questions" in the note, "questions" in the claim: the 198
    # beside "questions" later on does not take its place.
    claim = check("GPQA has 448 questions, and its Diamond subset has 198.", GPQA_NOTE, vectors)
    assert claim.verdict == SUPPORTED, claim.reason


def test_a_negated_claim_is_contradicted(vectors):
    claim = check("Repositories on the Hub are not git repositories.", HUB_FACTS, vectors)
    assert claim.verdict == CONTRADICTED
    assert check("Hub repositories are git repositories.", HUB_FACTS, vectors).supported


def test_a_sentence_under_a_title_line_holds_what_the_title_names(vectors):
    # "build" is the title's word, not another thing's: the title names the paragraph's subject.
    claim = check(
        "To build your own LLM you first collect large datasets such as Python code, "
        "Wikipedia articles and books.",
        LEVELS,
        vectors,
    )
    assert claim.verdict == SUPPORTED, claim.reason
    assert claim.evidence[0].text.startswith("The process includes three main steps")


def test_a_subject_a_heading_further_up_names_is_every_sections_subject(vectors):
    # "BM25" is named by the parent heading, so the sentence about BM25 scores is not another
    # subject than "Reciprocal rank fusion", the heading right above it.
    claim = check(
        "Reciprocal rank fusion combines ranks rather than raw scores because BM25 scores and "
        "cosine similarities are on different scales.",
        FUSION,
        vectors,
    )
    assert claim.verdict == SUPPORTED, claim.reason


def test_a_claim_about_a_units_subject_may_name_its_neighbours_beside_it(vectors):
    # It names "grouped-query attention", the neighbour's label, while speaking of Llama 3 8B,
    # the subject of the sentence that holds it: no mix-up.
    claim = check(
        "Llama 3 8B uses grouped-query attention with 32 query heads but just 8 key/value "
        "heads, shrinking the KV cache to a quarter.",
        GQA,
        vectors,
    )
    assert claim.verdict == SUPPORTED, claim.reason


def test_a_paraphrase_in_other_forms_and_synonyms_of_the_words_is_supported(vectors):
    # "chatbot" holds "chat", and "sent again" says what "resending" does, close in meaning.
    claim = check(
        "A chatbot's memory is simply the history sent again on each turn.", CONTEXT, vectors
    )
    assert claim.verdict == SUPPORTED, claim.reason
