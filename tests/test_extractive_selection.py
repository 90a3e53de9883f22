"""How extractive answers choose, order and show sentences, on hand-made passages with the real
embedding model (rag.answer without the service): the answer first, each line readable alone,
nothing off the question."""

from __future__ import annotations

import re

import pytest

from rag.answer import extractive, read_question
from rag.answer.scoring import gives_kind
from rag.core import Passage, plain
from rag.embedding import SentenceVectors
from rag.evaluation.answer_metrics import bare_lines, lead, repeated_sentences


def passage(n: int, source: str, body: str) -> Passage:
    return Passage(n, f"id{n}", body, {"source": source}, 1.0 / n)


@pytest.fixture(scope="module")
def vectors(embedder):
    return SentenceVectors(embedder)


def answer(question, chunks, vectors, shown: str = "") -> str:
    return extractive.extract_answer(question, chunks, vectors, shown=shown).text


def follow_up(chunks, earlier: str, question: str, vectors):
    """The answer to ``earlier``, what ``question`` asks after it, and its answer."""
    first = answer(earlier, chunks, vectors)
    asks = read_question(question, [earlier])
    return first, asks, answer(asks, chunks, vectors, shown=first)


CONTRACT = """\
# Contract with Acme Mutual for Widgetllm

**Contract Number:** AM-2024-0042
**Parties:**
- Insurellm, Inc.
- Acme Mutual, LLC

## Terms

1. **Coverage:** Insurellm gives Acme Mutual access to the Widgetllm platform for its claims teams.
2. **Duration:** This agreement runs for 24 months from the contract date.
3. **Payment:** Acme Mutual pays a monthly fee of $4,000 for the Standard Tier.
"""


def test_the_sentence_that_answers_leads_the_answer(vectors):
    chunks = [passage(1, "contracts/Contract with Acme Mutual for Widgetllm.md", CONTRACT)]

    text = answer("How much does Acme Mutual pay each month?", chunks, vectors)

    assert "$4,000" in lead(text), text
    assert "Insurellm, Inc." not in text  # the parties are not the answer
    assert "24 months" in lead(
        answer("How long does the Acme Mutual contract run?", chunks, vectors)
    )


def test_a_list_item_is_shown_with_its_label_and_whose_it_is_and_another_persons_is_not(vectors):
    record = (
        "# HR Record\n\n## Summary\n- **Job Title:** Platform Engineer\n- **Location:** Lisbon\n"
    )
    other = "# HR Record\n\n## Summary\n- **Job Title:** Data Analyst\n- **Location:** Porto\n"
    chunks = [
        passage(1, "people/Dana Okafor.md", record),
        passage(2, "people/Ravi Menon.md", other),
    ]

    text = answer("What is Dana Okafor's job title?", chunks, vectors)

    assert text.splitlines()[0] == "Dana Okafor — Job Title: Platform Engineer. [1]"
    assert "Data Analyst" not in text and "[2]" not in text


def test_a_lead_in_brings_its_items_on_one_line(vectors):
    notes = (
        "# Week 3\n\nHugging Face\n - It's a platform for models, datasets and apps.\n"
        " - It has 3 main features\n"
        "    - Models - Over 800,000 open source models\n"
        "    - Datasets - About 200,000 datasets\n"
        "    - Spaces - Apps made with Gradio\n"
    )
    chunks = [passage(1, "notes/000_c4bd26d166779a55.md", notes)]

    text = answer("What are the main features of Hugging Face?", chunks, vectors)

    first = text.splitlines()[0]
    assert first.startswith("It has 3 main features: Models - Over 800,000"), text
    assert "Datasets - About 200,000 datasets; Spaces - Apps made with Gradio" in first


def test_a_later_sentence_of_an_item_keeps_the_items_label(vectors):
    notes = (
        "# Quant types\n\n"
        "- Q8_0: blocks of 32 weights at 8 bits. Nearly lossless; about 8.5 GB for an 8B model.\n"
        "- Q4_K_M: about 4.8 bits per weight. The usual default, about 4.9 GB for an 8B model.\n"
    )
    chunks = [passage(1, "notes/06_quantization.md", notes)]

    text = answer("How many GB does an 8B model take in Q4_K_M?", chunks, vectors)

    first = text.splitlines()[0]
    assert "Q4_K_M" in first and "4.9 GB" in first, text


def test_no_line_says_nothing_alone(vectors):
    chunks = [passage(1, "contracts/Contract with Acme Mutual for Widgetllm.md", CONTRACT)]

    for question in (
        "Who are the parties of the Acme Mutual contract?",
        "What is the contract number of the Acme Mutual contract?",
        "What does the Acme Mutual contract cover?",
    ):
        text = answer(question, chunks, vectors)
        assert text and bare_lines(text) == [], (question, text)


def test_both_sides_of_a_comparison_get_a_line(vectors):
    notes = (
        "# Prompting\n\n"
        "- One shot prompting - You give an example with the question in the prompt\n"
        "- Zero shot prompting - You don't give an example, the LLM works it out on its own\n"
        "- System prompt - Sets the ground rules\n"
    )
    chunks = [passage(1, "notes/001_prompting.md", notes)]

    text = answer(
        "What is the difference between zero shot and one shot prompting?", chunks, vectors
    )

    lines = text.splitlines()
    assert len(lines) == 2 and "Zero shot" in lines[0] and "One shot" in lines[1], text
    assert "System prompt" not in text


def test_each_claim_is_the_notes_own_sentence_with_where_it_stands(vectors):
    chunks = [passage(1, "contracts/Contract with Acme Mutual for Widgetllm.md", CONTRACT)]

    result = extractive.extract_answer("How much does Acme Mutual pay?", chunks, vectors)

    assert result.claims
    for claim in result.claims:
        (evidence,) = claim.evidence
        assert evidence.n == 1 and claim.sources == [1]
        assert plain(CONTRACT[evidence.start : evidence.end]) == claim.text
        assert claim.text.rstrip(".") in result.text


@pytest.mark.parametrize(
    ("question", "sentence", "expected"),
    [
        ("How many questions does the benchmark have?", "It has 1312 questions.", 1),
        ("How many questions does the benchmark have?", "It has many hard questions.", 0),
        ("When was the contract signed?", "It was signed on May 10, 2025.", 1),
        ("When was the contract signed?", "It was signed by both parties.", 0),
        ("Who founded the company?", "It was founded by Avery Lancaster.", 1),
        ("What is the company's mission?", "It has 200 employees.", 0),
        # A number the question itself names is no answer to it.
        ("How many tokens are 1,000 words?", "A text of 1,000 words is long.", 0),
        # A figure in another unit than the one asked for is less of an answer.
        ("What percentage of quota did she reach?", "She reached 78% of quota.", 1),
        ("What percentage of quota did she reach?", "She made 12 calls a day.", 0.4),
        ("What does RAG stand for?", "RAG (Retrieval-Augmented Generation) adds notes.", 1),
    ],
)
def test_sentences_holding_what_the_question_asks_for_are_recognised(question, sentence, expected):
    found = extractive.candidates([passage(1, "notes/x.md", sentence)])
    assert gives_kind(read_question(question), found).tolist() == [pytest.approx(expected)]


def test_the_not_found_floor_counts_the_document_that_names_who_is_asked_about(vectors):
    # "Start date" never says whose it is; the document's name does. The relevance the
    # not-found floor reads counts that name, as choosing the sentence does.
    body = "# HR Record\n\n## Summary\n- **Start Date:** March 3, 2019\n- **Location:** Lisbon\n"
    question = "When did Dana Okafor join the company?"
    named = extractive.score_candidates(
        question, extractive.candidates([passage(1, "people/Dana Okafor.md", body)]), vectors
    )
    unnamed = extractive.score_candidates(
        question, extractive.candidates([passage(1, "people/record-17.md", body)]), vectors
    )
    assert named.relevance > unnamed.relevance


def test_a_follow_up_answers_its_own_focus_and_does_not_repeat_the_last_answer(vectors):
    notes = (
        "# Fine-tuning\n\n## QLoRA\n\nQLoRA fine-tunes a model whose frozen base is loaded in "
        "4-bit NF4, with LoRA adapters trained in bf16.\n\nQLoRA cuts the GPU memory needed to "
        "fine-tune an 8B model to about 16 GB.\n\n## LoRA\n\nLoRA alone keeps the base in 16-bit, "
        "so an 8B model needs about 24 GB of GPU memory.\n"
    )
    chunks = [passage(1, "notes/07_fine_tuning.md", notes)]
    first = answer("What is QLoRA?", chunks, vectors)
    asks = read_question("How much memory does it save?", ["What is QLoRA?"])

    second = answer(asks, chunks, vectors, shown=first)

    assert "4-bit NF4" in lead(first)
    assert "16 GB" in lead(second) and "4-bit NF4" not in second, second
    assert set(re.findall(r"\[(\d)\]", first + second)) == {"1"}


def test_what_an_acronym_stands_for_is_answered_by_the_title_that_spells_it_out(vectors):
    body = (
        "# Retrieval-Augmented Generation (RAG)\n\nNotes on giving a model our own documents at "
        "question time.\n\n## The idea\n\nRAG fixes this by retrieving the chunks that match "
        "the question and putting them into the prompt.\n"
    )
    chunks = [passage(1, "notes/rag.md", body)]

    text = answer("What does RAG stand for?", chunks, vectors)

    assert lead(text).startswith("Retrieval-Augmented Generation (RAG)"), text
    assert not bare_lines(text)


TOKENIZERS = (
    "# Tokens\n\n## Vocabulary\n\nVocabulary sizes I wrote down: GPT-2 has 50,257 tokens, "
    "`cl100k_base` (GPT-3.5 / GPT-4) has about 100k, `o200k_base` (GPT-4o) about 200k, and "
    "Llama 3 uses a 128k vocabulary. A bigger vocabulary means fewer tokens for the same text, "
    "at the cost of a larger embedding matrix.\n\n## Context\n\nThe context window is the "
    "maximum number of tokens the model can attend to in one call.\n"
)


def test_a_sentence_holding_a_clause_the_last_answer_showed_does_not_lead_again(vectors):
    chunks = [passage(1, "notes/01_tokens.md", TOKENIZERS)]
    questions = [
        "How big is GPT-2's tokenizer vocabulary?",
        "And Llama 3?",
        "Is there a downside to having a vocabulary that big?",
    ]
    answers: list[str] = []
    for number, question in enumerate(questions):
        asks = read_question(question, questions[:number])
        answers.append(answer(asks, chunks, vectors, shown=answers[-1] if answers else ""))

    assert "50,257" in lead(answers[0]) and "128k" not in lead(answers[0]), answers[0]
    assert "128k" in lead(answers[1]), answers[1]  # its own clause: not shown before
    assert "embedding matrix" in lead(answers[2]), answers[2]
    assert repeated_sentences(answers[2], answers[1]) == [], answers[2]


DECODING = (
    "# Inference\n\n## Sampling\n\n- temperature: it is a scaling factor that applies to the "
    "final softmax output and controls the shape of the probability distribution. The higher "
    "the temperature higher the randomness. In contrast to top K and top P change in "
    "temperature value can alter the predictions of the model.\n"
    "- sample top K: select the number of tokens to choose from randomly\n"
    "- sample top P: specify the total probability to choose from\n"
)


def test_an_elliptical_follow_up_asks_the_earlier_question_of_its_own_new_words(vectors):
    chunks = [passage(1, "notes/inference.md", DECODING)]

    first, _, second = follow_up(
        chunks, "What does the temperature setting do?", "And top K?", vectors
    )

    assert "scaling factor" in lead(first), first
    assert "select the number of tokens" in lead(second), second
    assert repeated_sentences(second, first) == [], second


def test_a_short_question_of_its_own_keeps_nothing_but_the_topic_of_the_one_before():
    pre_trained = read_question(
        "How are they pre-trained?", ["Which transformer models are encoder-only?"]
    )
    seventy = read_question(
        "And a 70B model?", ["How much memory do the weights of an 8B model need at 4 bits?"]
    )

    assert not pre_trained.measured and pre_trained.context  # not "which models" again
    assert seventy.measured == {"memory"} and seventy.subjects == {"70b"}


def test_asking_for_an_example_reads_the_question_before_and_naming_a_subject_does_not():
    earlier = ["How are the two rankings fused when their scores differ in scale?"]

    example = read_question("Can you give me a worked example?", earlier)
    own = read_question("What is an example of a frontier model?", earlier)

    assert "rankings fused" in example.text  # read in the frame of what was discussed
    assert "rankings" not in own.text and not own.subjects & {"ranking", "rankings"}


CONTEXT_NOTES = (
    "# Tokens\n\n## How do tokens and context windows work?\n\n1,000 tokens typically equate "
    "to around 750 words. A single token is roughly 4 characters.\n\nThe context window is "
    "the maximum number of tokens an LLM can process in a single prompt.\n"
)


def test_a_closing_then_neither_points_back_nor_is_part_of_what_is_defined(vectors):
    chunks = [passage(1, "notes/tokens.md", CONTEXT_NOTES)]
    earlier = "Roughly how many words are 1,000 tokens?"

    first, asks, second = follow_up(chunks, earlier, "And what is a context window, then?", vectors)

    assert "750 words" in lead(first), first
    assert "maximum number of tokens" in lead(second), second
    assert asks.defines == {"context", "window"}
    assert earlier not in asks.text  # matched by meaning with its own words alone


BENCHMARKS = (
    "# Benchmarks\n\n- Specific Benchmarks:\n"
    "    - HumanEval -> Python Coding -> 164 problems writing code based on docstrings\n"
    "    - Multipl-E -> Broader Coding -> Translation of HumanEval to 18 programming languages\n"
    "- New harder Benchmarks:\n"
    "    - MuSR -> Multiple Soft Reasoning -> Logical deduction, such as a murder mystery\n"
    "    - MMLU-PRO -> Harder MMLU -> 10 choices instead of 4\n"
)


def test_a_name_is_matched_as_written_not_as_another_word_it_begins(vectors):
    chunks = [passage(1, "notes/benchmarks.md", BENCHMARKS)]
    asks = read_question("And Multipl-E?", ["What does the HumanEval benchmark test?"])

    scored = extractive.score_candidates(asks, extractive.candidates(chunks), vectors)

    about = {
        c.text.split(" ->")[0]: float(share)
        for c, share in zip(scored.candidates, scored.subject, strict=True)
    }
    assert about["Multipl-E"] == 1.0
    assert about["MuSR"] == 0.0, about  # "Multiple Soft Reasoning" is not Multipl-E


QUANTIZATION = (
    "# Quantization in LLMs\n\nQuantization reduces the precision of the numbers used for a "
    "model's weights, converting FP32 or FP16 values to integer formats like INT8 or INT4.\n\n"
    "## Why it matters\n\n- Reduced model size: lower precision data types need less memory. "
    "For example, switching from FP32 (32 bits per parameter) to INT8 (8 bits per parameter) "
    "can reduce the model size by a factor of four.\n"
    "- Limited representation: lower-precision formats (like INT8 or INT4) have a significantly "
    "smaller range of representable values than FP32 or FP16.\n"
)


def test_how_much_smaller_asks_for_a_factor_not_for_the_word_smaller(vectors):
    chunks = [passage(1, "notes/quantization.md", QUANTIZATION)]
    question = "How much smaller does it make the model?"

    _, asks, text = follow_up(chunks, "What is quantization in LLMs?", question, vectors)

    assert "factor of four" in lead(text), text
    assert not asks.measured  # "smaller" is how it is asked, not what is measured


def test_a_yes_or_no_question_naming_a_cost_asks_for_no_figure():
    assert read_question("Does it have a cost?", ["What is chain-of-thought?"]).kind is None
    assert read_question("What is the cost of the Pro tier?").kind == "number"
    assert read_question("Maxine Thompson's salary?").kind == "number"


def test_a_figure_pointed_back_to_is_the_topic_not_what_is_asked():
    earlier = ["How is the compute budget for pre-training measured?"]

    assert read_question("And within that budget, what can you scale?", earlier).kind is None
    assert read_question("What is the budget of the project?").kind == "number"


SOURDOUGH = """\
# Sourdough

Follow these 3 steps to bake the loaf:

Step 1: Feed the starter

In the opening step of the recipe, the starter is fed with flour and water the evening before.

Step 2: Autolyse

The second step of the recipe is a rest known as autolyse. This rest lets the flour take up \
the water. First, the flour and water are mixed without salt and left for 40 minutes.

Step 3: Bake

In the third step of the recipe, the loaf is baked in a hot covered pot for 45 minutes.
"""


def test_what_comes_after_a_step_reads_on_through_that_steps_paragraph(vectors):
    chunks = [passage(1, "notes/sourdough.md", SOURDOUGH)]

    first, _, second = follow_up(
        chunks, "What is the first step of the sourdough recipe?", "What comes after that?", vectors
    )

    # "First, …" opens the second step's own sequence: it does not answer the first step.
    assert "fed with flour" in lead(first) and "40 minutes" not in first, first
    # The step's first sentence only names it; what it does follows in its paragraph.
    assert "autolyse" in lead(second) and "left for 40 minutes" in lead(second), second
    assert "45 minutes" not in second


def test_the_next_sentence_of_an_item_giving_more_of_the_figure_asked_completes_it(vectors):
    notes = (
        "# Serving\n\n## The page cache\n\nConsequences:\n\n"
        "- **Memory**: per page the cache holds one copy of each row. For the Falcon board a "
        "page takes 64 KiB. A full shelf of pages takes about 2 GiB, on top of the firmware.\n"
        "- **Index**: per shelf the index holds one key. For the Heron board the index takes "
        "12 KiB. Reading it takes about 4 ms.\n"
    )
    chunks = [passage(1, "notes/serving.md", notes)]

    falcon = answer("How much memory does the cache take for the Falcon board?", chunks, vectors)
    heron = answer("How much memory does the index take for the Heron board?", chunks, vectors)

    assert "64 KiB" in lead(falcon) and "about 2 GiB" in lead(falcon), falcon
    # A figure in another unit than the one asked for does not complete the answer.
    assert "12 KiB" in lead(heron) and "4 ms" not in heron, heron


def test_a_sentence_naming_what_it_describes_is_the_definition_asked_for(vectors):
    notes = (
        "# Ferries\n\n## The tide table\n\nSailing blind would be wasteful if every crossing "
        "timed the water again. Because tides repeat, their times can be written down in "
        "advance: this is the tide table. Each morning the skipper reads only the next high "
        "water from it.\n\n## Key takeaways\n\n- The tide table saves time but costs a page per "
        "week (52 pages a year for one harbour).\n- Ferries cross in about 20 minutes.\n"
    )
    chunks = [passage(1, "notes/ferries.md", notes)]

    text = answer("What is the tide table on a ferry?", chunks, vectors)

    assert "this is the tide table" in lead(text), text
