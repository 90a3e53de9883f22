"""The sentence checker: each kind of wrong claim on a small source, the evidence it gives,
and its figures on the held-out half of the labelled claims."""

from __future__ import annotations

import pytest

from devtools.labelled_claims import load_claims, source_text
from devtools.paths import SHARED
from rag.answer import ClaimChecker
from rag.core import CONTRADICTED, NOT_IN_NOTES, SUPPORTED, Passage, plain
from rag.embedding import SentenceVectors

#: The notes each test checks claims against, by name. One dict, so that a second note
#: under a name already used is an error (ruff F601), not a silent replacement of the first.
NOTES = {
    "prompting": """# Prompting

## Zero-shot and few-shot

- **Zero-shot** means just describing the task.
- **Few-shot** means including a handful of worked examples so the model copies the pattern.

Fine-tune for format, style and narrow tasks; use RAG for knowledge.
""",
    "arithmetic": "Integer arithmetic is generally much faster than floating-point arithmetic.\n",
    "memory": """## Memory for the weights

| Precision | Bytes per parameter | 8B model |
|---|---|---|
| fp16 | 2 | 16 GB |
| int8 | 1 | 8 GB |
""",
    "hub": """Hugging Face
- It has 3 main features
  - Models - Over 800,000 open source models
  - Datasets - About 200,000 datasets
""",
    "hub_facts": "Every repository on the Hub is a git repo with large files stored via LFS.\n",
    "heads": """The original paper used d_model = 512 with 8 heads of 64 dimensions each.
Llama 3 8B has 32 query heads but only 8 KV heads, which cuts the KV cache to a quarter.
""",
    "fusion": """## Hybrid search: BM25 + dense

### Reciprocal rank fusion

BM25 scores and cosine similarities are on different scales, so instead of adding scores we fuse
**ranks**. Reciprocal rank fusion (Cormack et al., 2009):
""",
    "gqa": """**Grouped-query attention (GQA)** shares each key/value head across several query heads. Llama
3 8B has 32 query heads but only 8 KV heads, which cuts the KV cache to a quarter.
""",
    "sampling": """- greedy vs random sampling
    - greedy: word with the highest probability is selected from the softmax output. Prone to repetition
    - random: select a token using random-weighted sampling across the softmax outputs. For more creativity
""",
    "benchmarks": """New harder Benchmarks to overcome the limitation
1. MMLU-PRO -> Harder MMLU -> harder mmlu with 10 choices instead of 4 in the test
""",
    "gpqa_note": """- **GPQA** (Graduate-level Google-Proof Q&A, 2023): 448 multiple-choice questions in biology,
  physics and chemistry written by domain experts. The **Diamond** subset (198
  questions) is the one usually quoted.
""",
    "levels": """Level 2: Model Fine-tuning
Model fine-tuning involves adjusting at least one internal parameter of a pre-trained LLM.

Level 3: Build Your Own LLM
Building your own LLM involves creating an LLM from scratch by defining all model parameters. The process includes three main steps: First, collect extensive datasets, such as Python code, Wikipedia articles, and books.
""",
    "context": """### Why context length matters

- **Memory of the conversation.** Chat "memory" is just resending the history every turn. Once the
  history exceeds the window, something must be truncated or summarised.
- **Grounding.** RAG works by stuffing retrieved passages into the prompt.
""",
    "rig": "- The Kestrel rig = 12-volt PX4 pump + 5-volt RX2 sensors + spare fuses, all on one board.\n",
    "vocabulary": """Vocabulary sizes: GPT-2 has 50,257 tokens, and Llama 3 uses a 128k vocabulary.
LLMs typically have from 10 to 100 billion parameters.
""",
    "frontier": """- **Frontier (closed) models**: the largest models, reachable only through a paid API
  or a chat app. You never get the weights.
- LLMs are stateless, so they don't keep track of any info and every API call is unique.
- **MRR**: average of 1 / rank of the first relevant chunk (0 if none).
""",
    "cot": """Wei et al. (2022) showed few-shot CoT examples improve arithmetic and logic tasks, and
Kojima et al. (2022) found that simply adding "Let's think step by step" helps even zero-shot.
""",
    "fine_tuning": """Fine-tuning teaches an open-weight model a style, format or task; it is a poor way
to teach it new facts (use RAG for that). Targeting all linear layers usually gives the best
quality for a modest memory increase.
""",
    "paged": """In the third step, QLoRA employs a paged optimizer. This optimizer works like virtual
memory in an operating system, where only the data needed is kept in active memory and the rest
is stored on disk.
""",
    "reasoning": """- **o1 / o3 family**: "reasoning" models that think before answering; best for maths,
  code and multi-step problems, slower and pricier.
- **IFEval**: checks verifiable instruction following ("answer in under 100 words", "use no
  commas").
- PEFT benefits: far less memory, tiny checkpoints (megabytes), and one base model can serve
  many adapters.
""",
    "four_bit": """The compute dtype is bf16. Storing weights in 4-bit saves memory; it is not always
faster.

Zero shot prompting - You don't give an example, LLM figure all the things on its own.
""",
    "pricing": """APIs charge per million tokens, with output tokens priced higher than input tokens.
Useful arguments: `torch_dtype=torch.bfloat16` to halve memory.
""",
    "metrics": """## Business metrics

- **Model-centric** (technical): accuracy or F1 on a labelled test set, retrieval MRR, judge
  scores, hallucination rate, perplexity or loss for fine-tunes.
- **Business-centric** (outcome): ticket resolution or deflection rate, time saved per task,
  conversion, customer satisfaction (CSAT), escalations to humans, retention.
- **Operational**: cost per request or conversation, latency (time to first token and total),
  throughput, error and refusal rates.
""",
    "decoder": """- Encoder: self-attention over the whole input, good for classification.
- Decoder: Similar to encoder but without allowing self-attention with future elements, suitable
  for text generation tasks.
""",
    "kv_cache": """At each new step the model computes Q, K, V only for the newest token and attends over
the cached keys and values.
""",
    "switch": """For example, switching from FP32 (32 bits per parameter) to INT8 (8 bits per parameter)
can reduce the model size by a factor of four.
""",
    "open_source": """- **Open Source:** Models like **Llama**, **Mixtral**, and **Gemma** are accessible and
  customizable.
""",
    "cut_off": """### Limitations of Frontier Models

Even the most advanced LLMs have limitations:

- **Knowledge Cut-off:** Their training data has a specific date limit, so they lack knowledge of
  recent events.
""",
    "parallelism": """Training an LLM at scale involves techniques to handle large amounts of data and
computational resources effectively:
- Training Techniques includes the following:
  - Pipeline Parallelism: Distributes transformer layers across multiple GPUs to speed up
    computation.
  - Data Parallelism: Distributes training data across multiple GPUs to accelerate training.
""",
    "top_k_p": """- greedy vs random sampling
    - **sample top K**: select the number of tokens to choose from randomly
    - **sample top P**: specify the total probability to choose from
""",
    "open_weights": """Other notable players: DeepSeek (DeepSeek-V3 and R1, whose weights are actually
published under the MIT licence).

Unlike the static data encoded in the weights of a pre-trained language model, the knowledge base
is designed to be easily updated and expanded.
""",
    "hardware": """**Latency and hardware**: a 7-8B model in 4-bit fits in about 5-6 GB of GPU memory; a 70B
model needs about 40 GB even in 4-bit.
""",
    "open_weights_note": """- "Open weights" is not the same as open source: the training data and code are often
  not released, and the licence may restrict use.
- Using the wrong template (or none) is a classic cause of rambling, low-quality output from
  open models.
""",
    "context_sizes": """| Model | Context window |
|---|---|
| Gemini 1.5 Pro | 1M tokens (2M in some tiers) |

- **Learning rate**: 1e-4 to 2e-4 for LoRA (full fine-tuning uses about 1e-5 to 2e-5).
""",
    "players": """Other notable frontier-scale players: xAI (Grok) and DeepSeek (DeepSeek-V3 and R1, whose
weights are actually published under the MIT licence).
""",
    "system_prompt": """Anthropic's API is similar, but the system prompt is a separate `system=` parameter
rather than a message.
""",
    "gpqa_line": """1. GPQA -> Graduate Tests -> 448  expert questions; non-phd humans score 34% even with web access
- Numbers, code and non-English text tend to use more tokens per character than plain English prose.
""",
    "int8": """`load_in_8bit=True` uses LLM.int8() (Dettmers et al., 2022): most of the matrix multiply happens
in int8, while the few outlier feature dimensions are kept in fp16 so quality is almost unchanged.
""",
    "stateless": """- LLMs are stateless, so they don't keep track of any info and every API call is unique.
- ChatGPT saves the conversation history and sends it every time.
""",
    "petaflop": """- compute budget
    - 1 petaflop/s-days : # floating point operations performed at 1 petaflop per second for one day
    - ie, 8 V100 or 2 A100 GPUs running at full efficiency for 24 hrs
- no of petaflops/s-day to pretrain various llms
""",
    "instead": """Instead of using high-precision floating-point numbers (like FP32 or FP16), quantization
converts these values to lower-precision integer formats (like INT8 or INT4).
""",
    "base_model": """- Choose a base model: Select a pre-trained model that best fits your task requirements and
matches the domain of your fine-tuning dataset. Common choices include BERT, ResNet, GPT, etc.,
depending on whether your task involves natural language processing (NLP), computer vision, or
other domains.
""",
    "truncation": """* **Truncation:** The extra bits of information that cannot be represented in the
lower-precision format are simply discarded (truncated).
""",
    "double_quantization": """Step 2: Double Quantization

The second step in QLoRA involves a process known as double quantization. This technique further
compresses the model weights in two stages. First, the weights are quantized to an intermediate
bit-width, often 8-bit, which strikes a balance between size and precision. Then, these 8-bit
weights are quantized again to the final 4-bit representation.

Step 3: Paged Optimizer

LoRA adapters are trained while the base model stays frozen.
""",
    "sizes": """| Family | Maker | Sizes I noted | Licence |
|---|---|---|---|
| SmolLM2 | Hugging Face | 135M, 360M, 1.7B | Apache 2.0 |
| Gemma 2 | Google | 2B, 9B, 27B | Gemma Terms of Use |
| Claude 3.5 Sonnet | Anthropic | $3.00 / $15.00 | closed |
""",
    "chinchilla": """- Chinchilla scaling laws for model and dataset size
    - very large models may be over-parametrized and under-trained
    - smaller models trained on more data could outperform large models
    - compute optimal training datasize is ~20x the no of parameters
""",
    "steps": """- **Planning**: ask the model to write a plan first, then execute steps; re-plan when a step fails.
- **Pipeline**: agent A's output is agent B's input.

In practice, RAG works by first using the retriever to identify relevant documents from the
knowledge base in response to a query. These retrieved pieces of information are then fed into
the language model, which uses them to generate a response. This combined approach allows the
language model to produce answers that are coherent and relevant.
""",
    "tools": """# Agents and Tools

Notes on letting a model *do* things: call functions, look things up, and work through multi-step
tasks. The model never executes anything itself; it asks, and our code decides and executes.

## Key takeaways

- Tool calling = the model returns a function name plus JSON arguments; our code executes it.
- Describe tools with clear descriptions and strict JSON Schemas.
""",
    "glosses": """- Claude 3 family: Haiku (fast, cheap), Sonnet (balanced), Opus (largest).
- ReAct (Yao et al., 2022) popularised interleaving reasoning ("thought"), actions (tool calls)
  and observations (tool results).
""",
    "libraries": """- HuggingFace libraries
    - hub
    - datasets
    - transformers
    - peft (parameter, efficient fine tuning)
    - trl (transformer reinforcement learning)
    - accelerate (allows tranformers to run on distributed set-ups)
""",
    "settings": """Training is when you teach a model to do something. It does this by updating its internal
settings - the parameters or weights of the model.
""",
    "mrr": """- **MRR** (mean reciprocal rank): average of 1 / rank of the first relevant chunk (0 if none).
  First relevant at ranks 1, 2 and "not found" for three questions gives (1 + 0.5 + 0) / 3 = 0.5.
""",
    "prices": """Prices per million tokens (input / output):
- GPT-4o mini: $0.15 / $0.60
- Claude 3.5 Sonnet: $3.00 / $15.00
""",
    "gqa_takeaways": """- Grouped-query attention (GQA) shares each key/value head across several query heads.
- Llama 3 8B has 32 query heads but only 8 KV heads.

## Key takeaways

- Multi-head attention runs several smaller attentions in parallel; GQA shares K/V heads to save
  memory.
""",
    "kb_item": """- Knowledge Base: The knowledge base in RAG is a mutable store of information. Unlike the
  fixed data held in a model's weights, the knowledge base is built to be updated and extended.
  It can hold many kinds of data, such as documents, articles, databases, and other structured
  or unstructured information.
""",
    "streaming": "- Streaming: Stream the result back instead of just returing it in a big bulk.\n",
    "dense_page": "- A dense page of text is about 500-700 tokens.\n",
    "rule_of_thumb": """A rule of thumb for English: 1 token is roughly 0.75 words, so 100 tokens is about 75 words.
""",
    "gguf_types": """- GGUF files run through llama.cpp, Ollama and LM Studio; Q4_K_M is the common default, Q8_0 is
near-lossless, Q4_0 is the older, lossier 4-bit type.
""",
    "precisions": """- bf16 (brain float): 1 sign, 8 exponent, 7 mantissa bits. Same range as fp32 with less
  precision; the standard on modern GPUs.
- **Gradient checkpointing** trades about 20-30 percent speed for much less activation memory.
""",
    "shots": """- Zero shot prompting - You don't give an example, LLM figure all the things on its own
- One shot prompting - You give an example with the question in the prompt
""",
    "kv_budget": """Real usage is higher: add roughly 10-20 percent for quantization scales and buffers, plus the
KV cache, which grows with context length and batch size.
""",
    "knowledge_base": """Knowledge Base
The knowledge base in RAG is a specialized and mutable repository of information. Unlike the
static data encoded in the weights of a pre-trained model, it can be updated at any time.
""",
    "fp16": """- **fp16**: 1 sign, 5 exponent, 10 mantissa bits. Maximum value 65,504, so activations can
  overflow.
- **bf16**: 1 sign, 8 exponent, 7 mantissa bits. Same range as fp32 with less precision.
""",
    "d_model": """The original paper used d_model = 512 with 8 heads of 64 dimensions each.
""",
    "factor": """For example, switching from FP32 (32 bits per parameter) to INT8 (8 bits per parameter) can
reduce the model size by a factor of four.
""",
    "qkv": """Attention lets each token build its representation by looking at other tokens and deciding how
much each one matters. Every token vector is projected into three vectors:

- **Query (Q)**: what this token is looking for.
- **Key (K)**: what this token offers to others.
- **Value (V)**: the information it passes on if selected.
""",
    "venv": """- Run `python3.11 -m venv llms`. Python 3.11 is the only compartible one at the moment (August 2025).
- Run `pip install -r requirements.txt` to install requirements.
""",
    "ollama": """- Visit ollama.com and install! Follow http://localhost:11434/ to find a message "Ollama is running".
- Otherwise, run `ollama serve`.
""",
    "fused_ranks": """BM25 scores and cosine similarities are on different scales, so instead of adding scores we fuse
**ranks**.
""",
    "why_context": """### Why context length matters

- **Grounding.** RAG works by stuffing retrieved passages into the prompt, so the window limits how
  many passages you can include.
- **Quality.** Models often use information at the start and end of a long prompt better than in
  the middle ("lost in the middle"), so more context is not automatically better.
""",
    "prompt_engineering": """Prompt engineering involves using an LLM out-of-the-box without altering any model
parameters.
""",
    "scaled": """The dot products `Q K^T` score how well each query matches each key; dividing by `sqrt(d_k)`
keeps the scores from growing with the dimension (which would push softmax into tiny gradients).
""",
    "sft": """- **Supervised fine-tuning:** Adjust the parameters of the pre-trained model with the labelled dataset.
  This means feeding the examples to the model and updating its weights by backpropagation to reduce
  the prediction error on the labels.
""",
    "scores": """- **GPQA**: 448 hard science questions. PhD-level experts reach about 65 percent, skilled
  non-experts with web access only about 34 percent.
""",
    "masked_decoder": """- Decoder: similar to an encoder, but without self-attention to future tokens.
- Encoder: its self-attention sees future tokens too, which costs much more compute than a
  decoder's masked attention.
""",
    "nested_stateless": """## Notes

- LLMs are stateless, so they don't keep track of any info and every API call is unique.
  - Exceeding the context window is usually handled by truncating older parts of the chat
    history, or by chunking the data to keep the logic coherent across API calls.
""",
    "mcp_note": """## Tools

The **Model Context Protocol (MCP)**, introduced by Anthropic in November 2024, standardises how
applications expose tools and data to models, so one tool server works with many clients.
""",
    "perplexity": """## Quality

Quality, measured as perplexity, barely moves at 8 bits, degrades slightly at 4-5 bits and drops
sharply below about 3 bits.
""",
    "pad_token": """## Tokenizers

Special tokens such as end-of-text and padding differ between models; many causal models have no
pad token, so people set the pad token to the end-of-text token.
""",
    "not_always_faster": """## Quantization

4-bit saves memory; it is not always faster.
""",
    "attention_cost": """## Self-attention

Cost: the score matrix is n x n for n tokens, so naive attention is O(n^2) in time and memory.
This is the main reason long contexts are expensive; tricks like FlashAttention make it much faster
by never materialising the full matrix in slow GPU memory.
""",
    "colab_typo": """### Google Colaab
- Run Jupyter notebooks on Google's servers, to share and collaborate with colleagues.
- Different runtimes availabe; CPU-based, Lower spec GPU, Higher spec GPU for resource-intensive stuff.

Mistral is released under the Apache 2.0 licence.
""",
    "checkpointing": """## Memory

- **Gradient checkpointing** trades about 20-30 percent speed for much less activation memory.
""",
    "bigger_vocabulary": """## Tokens

A bigger vocabulary means fewer tokens for the same text, at the cost of a larger embedding matrix.
""",
    "frozen_parameters": "Adapters are trained on their own. None of the model's parameters are changed.\n",
    "memory_per_billion": "- approximate GPU RAM for 1B parameters\nmemory to store model: 4GB @ 32bit full precision\n",
    "words_per_thousand": "**1,000 tokens** typically equate to around **750 words**.\n",
    "temperature_advice": "- Use low temperature (0-0.3) for extraction, classification and RAG "
    "answers; higher for brainstorming and creative writing.\n"
    "- Usual advice: tune temperature or top_p, not both.\n",
    "lost_in_middle": "Models often use information at the start and end of a long prompt better "
    'than in the middle ("lost in the middle").\n',
    "rank_fusion": "A chunk ranked 1st by BM25 and 3rd by dense search scores 1/61 + 1/63 = "
    "0.0323, beating one ranked 1st by only one of them (1/61 = 0.0164).\n",
    "mmlu_size": "**MMLU**: about 16,000 four-option multiple-choice questions over 57 subjects.\n"
    "Build a golden evaluation set of 50-200 real examples early.\n"
    "**GPT-1** (2018) had 117 million parameters.\n",
    "lower_energy": "Instead of using high-precision floating-point numbers (like FP32), "
    "quantization converts these values to lower-precision integer formats (like INT8).\n\n"
    "- Lower Energy Consumption: Performing computations with lower-precision numbers requires "
    "less energy.\n",
    "cutoff": "## Frontier models\n\nLimitations:\n\n1. They can be wrong.\n"
    "2. Their knowledge is cut off to a certain date.\n",
    "labelled_dataset": "Steps of supervised fine-tuning:\n\n- Prepare training dataset: Gather "
    "and preprocess a dataset that is annotated or labeled for the fine-tuning task.\n"
    "- Fine-tune the model on it.\n",
    "parallel_training": "The Transformer architecture is a type of neural network that processes "
    "entire sequences of data, such as a sentence, in parallel, which makes training "
    "significantly faster.\n",
    "shot_lists": "# LLM notes\n\n## Day 5\n\n- One shot prompting - You give an example with the question in the "
    "prompt\n- Zero shot prompting - You don't give an example, LLM figure all the things on its "
    "own\n\n## Day 8\n\n- System Prompt - Establish ground rules. Provide critical background "
    "context\n- Multi Shot Prompting - Providing examples for the context\n",
    "model_sizes": "A decoder-only LLM is a stack of identical blocks (32 in Llama 3 8B, 80 in "
    "Llama 3 70B).\n",
    "learning_rates": "- **Learning rate**: 1e-4 to 2e-4 for LoRA (full fine-tuning uses about "
    "1e-5 to 2e-5).\n- **Epochs**: 1-3.\n",
    "foundation_models": "Model fine-tuning means adjusting the internal parameters of a "
    "pre-trained LLM for a specific task.\n\nIn general, always a foundational model is used.\n",
    "few_shot_enough": "- very large models may be over-parametrized\n- generally, if the model "
    "underperforms even with 5-6 examples consider fine-tuning\n",
    "token_share": "- 1 token is roughly 0.75 words, so 100 tokens is about 75 words.\n"
    "- 1 token is roughly 4 characters.\n",
    "batch_size": "- **batch_size**: as large as fits in memory; throughput grows with it.\n"
    "- **warmup**: a few hundred steps.\n",
    "workflow": "A common workflow: begin with a hosted API to validate the idea, then try a local "
    "model that matches its quality.\n",
    "few_examples": "With too few examples the adapter ends up over-fitted and under-regularised.\n",
    "no_pad_token": "Special tokens such as padding differ between models; many causal models have no "
    "pad token, so people set the pad token to the end-of-text token.\n",
    "lora_share": "## LoRA rank\n\nApplied to the q/k/v/o projections of all 32 layers of Llama 3 8B, r = 16 gives "
    "about 13.6M trainable parameters, about 0.17 percent of the model.\n",
    "growth": "By 2020, the startup had reached a peak of 200 employees with 12 offices.\n",
    "window_covers": """The **context window** is the maximum number of tokens the model can attend to in one
call, and it covers *everything*: system prompt, conversation history, retrieved documents, and the
tokens the model generates in its answer.
""",
    "temperature_range": """- **temperature**: divides the logits before the softmax. `0` is (near) greedy and
  deterministic; `0.7-1.0` is a normal creative range; higher values get random. OpenAI accepts 0 to 2.
- Many causal models have no pad token, so people set `tokenizer.pad_token = tokenizer.eos_token`.
""",
}


@pytest.fixture(scope="module")
def vectors(embedder):
    return SentenceVectors(embedder)


def check(text: str, source: str, vectors) -> object:
    passage = Passage(1, "notes.md#1", source, {"source": "notes.md"}, 1.0)
    return ClaimChecker([passage], vectors).check(text)


def assert_each(verdict: str, claims: tuple[str, ...], source: str, vectors) -> None:
    """Each claim checked against ``source`` gets ``verdict``."""
    for claim in claims:
        judged = check(claim, source, vectors)
        assert judged.verdict == verdict, (claim, judged.reason)


def assert_kept_and_caught(
    note: str, kept: tuple[str, ...], caught: tuple[str, ...], vectors
) -> None:
    """Each of ``kept`` is supported by ``note``, each of ``caught`` contradicted."""
    assert_each(SUPPORTED, kept, note, vectors)
    assert_each(CONTRADICTED, caught, note, vectors)


def test_a_swap_between_two_items_of_one_list_is_contradicted_by_the_right_item(vectors):
    claim = check(
        "Zero-shot means including a handful of worked examples.", NOTES["prompting"], vectors
    )
    assert claim.verdict == CONTRADICTED and not claim.supported
    assert claim.evidence[0].text == "Zero-shot means just describing the task."


def test_a_swap_between_two_items_a_shared_lead_names_is_contradicted(vectors):
    # The lead names both items' subjects; it doesn't give "random" to the greedy item.
    claim = check(
        "Random sampling picks the highest-probability word and is prone to repetition.",
        NOTES["sampling"],
        vectors,
    )
    assert claim.verdict == CONTRADICTED, claim.reason
    assert check(
        "Greedy sampling picks the highest-probability word and is prone to repetition.",
        NOTES["sampling"],
        vectors,
    ).supported


def test_a_swap_inside_one_sentence_is_contradicted(vectors):
    claim = check("Use fine-tuning for knowledge and RAG for format.", NOTES["prompting"], vectors)
    assert claim.verdict == CONTRADICTED
    assert "RAG for knowledge" in claim.evidence[0].text


def test_what_a_list_gives_one_member_given_to_its_neighbour_is_contradicted(vectors):
    # "12-volt PX4" belongs to the pump; the sensors have their own "5-volt RX2".
    swapped = check("The Kestrel rig runs its sensors on a 12-volt PX4.", NOTES["rig"], vectors)
    right = check(
        "The Kestrel rig has a 12-volt PX4 pump and 5-volt RX2 sensors.", NOTES["rig"], vectors
    )

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
    claim = check(
        "Few-shot prompting includes a handful of worked examples.", NOTES["prompting"], vectors
    )
    assert claim.verdict == SUPPORTED and claim.supported and claim.sources == [1]
    assert claim.evidence[0].text.startswith("Few-shot means including")


def test_a_reversed_comparison_is_contradicted_and_the_same_one_turned_round_supported(vectors):
    reversed_ = check(
        "Floating-point arithmetic is much faster than integer arithmetic.",
        NOTES["arithmetic"],
        vectors,
    )
    turned = check(
        "Floating-point arithmetic is much slower than integer arithmetic.",
        NOTES["arithmetic"],
        vectors,
    )
    assert reversed_.verdict == CONTRADICTED
    assert turned.verdict == SUPPORTED


def test_a_comparison_said_after_the_name_it_qualifies_is_reversed_by_its_opposite(vectors):
    # "MMLU-PRO" only names it; "Harder MMLU" says it, and "instead of 4" turns nothing round.
    claim = check("MMLU-Pro is an easier version of MMLU.", NOTES["benchmarks"], vectors)
    assert claim.verdict == CONTRADICTED, claim.reason
    assert check("MMLU-Pro is a harder version of MMLU.", NOTES["benchmarks"], vectors).supported


def test_a_number_of_another_row_is_contradicted_by_the_row_of_the_thing(vectors):
    claim = check("An 8B model takes 16 GB in int8.", NOTES["memory"], vectors)
    assert claim.verdict == CONTRADICTED
    assert claim.evidence[0].text.startswith("Precision: int8")
    assert check("An 8B model takes 16 GB in fp16.", NOTES["memory"], vectors).verdict == SUPPORTED


def test_a_count_given_to_the_neighbouring_item_is_not_supported(vectors):
    claim = check("Hugging Face hosts about 800,000 datasets.", NOTES["hub"], vectors)
    assert not claim.supported
    assert check(
        "Hugging Face hosts over 800,000 open source models.", NOTES["hub"], vectors
    ).supported


def test_a_number_is_read_with_what_it_counts_in_its_phrase(vectors):
    # Two numbers in one phrase: each counts the word right after it.
    moved = check("The original paper used 64 heads of 8 dimensions each.", NOTES["heads"], vectors)
    assert moved.verdict == CONTRADICTED, moved.reason
    # "32 query heads" in other words is still held, "8 KV heads" being nearer the 8.
    held = check(
        "With only 8 KV heads for its 32 query heads, Llama 3 8B cuts its KV cache to a quarter.",
        NOTES["heads"],
        vectors,
    )
    assert held.verdict == SUPPORTED, held.reason


def test_a_number_counting_the_same_thing_in_more_words_is_still_in_its_place(vectors):
    # 448 counts "multiple-choice questions" in the note, "questions" in the claim: the 198
    # beside "questions" later on does not take its place.
    claim = check(
        "GPQA has 448 questions, and its Diamond subset has 198.", NOTES["gpqa_note"], vectors
    )
    assert claim.verdict == SUPPORTED, claim.reason


def test_a_negated_claim_is_contradicted(vectors):
    claim = check("Repositories on the Hub are not git repositories.", NOTES["hub_facts"], vectors)
    assert claim.verdict == CONTRADICTED
    assert check("Hub repositories are git repositories.", NOTES["hub_facts"], vectors).supported


def test_a_sentence_under_a_title_line_holds_what_the_title_names(vectors):
    # "build" is the title's word, not another thing's: the title names the paragraph's subject.
    claim = check(
        "To build your own LLM you first collect large datasets such as Python code, "
        "Wikipedia articles and books.",
        NOTES["levels"],
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
        NOTES["fusion"],
        vectors,
    )
    assert claim.verdict == SUPPORTED, claim.reason


def test_a_claim_about_a_units_subject_may_name_its_neighbours_beside_it(vectors):
    # It names "grouped-query attention", the neighbour's label, while speaking of Llama 3 8B,
    # the subject of the sentence that holds it: no mix-up.
    claim = check(
        "Llama 3 8B uses grouped-query attention with 32 query heads but just 8 key/value "
        "heads, shrinking the KV cache to a quarter.",
        NOTES["gqa"],
        vectors,
    )
    assert claim.verdict == SUPPORTED, claim.reason


def test_a_paraphrase_in_other_forms_and_synonyms_of_the_words_is_supported(vectors):
    # "chatbot" holds "chat", and "sent again" says what "resending" does, close in meaning.
    claim = check(
        "A chatbot's memory is simply the history sent again on each turn.",
        NOTES["context"],
        vectors,
    )
    assert claim.verdict == SUPPORTED, claim.reason


def test_a_number_written_with_a_scale_is_the_same_number_written_out(vectors):
    for claim in [
        "Llama 3's vocabulary holds about 128,000 tokens.",
        "LLMs usually have between 10 billion and 100 billion parameters.",
    ]:
        assert check(claim, NOTES["vocabulary"], vectors).verdict == SUPPORTED, claim
    wrong = check("Llama 3's vocabulary holds about 128 tokens.", NOTES["vocabulary"], vectors)
    assert wrong.verdict != SUPPORTED, wrong.reason


def test_a_denial_the_unit_shares_is_not_turned_by_what_it_affirms_beside_it(vectors):
    for claim in [
        # "frontier models" is affirmed in the unit, but so is the denial of the weights.
        "You never get the weights of frontier models; they are only reachable through a "
        "paid API or a chat app.",
        # The negation reaches "keep track", not "each API call is unique" after "and".
        "Since LLMs are stateless, they don't keep track of any information and each API "
        "call is unique.",
        # "none" denies what the phrase before it names.
        "MRR averages 1 / rank of the first relevant chunk, scoring 0 if no relevant chunk "
        "is found.",
    ]:
        judged = check(claim, NOTES["frontier"], vectors)
        assert judged.verdict == SUPPORTED, (claim, judged.reason)
    denied = check("You get the weights of frontier models.", NOTES["frontier"], vectors)
    assert denied.verdict == CONTRADICTED, denied.reason


def test_what_one_cited_author_found_is_not_given_to_the_other(vectors):
    # "et al." ends no sentence: the two findings are one unit, and the swap is read in it.
    kept = check(
        'Kojima et al. found that just adding "Let\'s think step by step" helps zero-shot.',
        NOTES["cot"],
        vectors,
    )
    assert kept.verdict == SUPPORTED, kept.reason
    swapped = check(
        'Wei et al. (2022) found that adding "Let\'s think step by step" helps zero-shot, while '
        "Kojima et al. (2022) showed that few-shot CoT examples improve arithmetic.",
        NOTES["cot"],
        vectors,
    )
    assert swapped.verdict == CONTRADICTED, swapped.reason


def test_a_claim_qualifying_a_thing_twice_is_read_each_way_against_its_own_context(vectors):
    for claim in [
        # "good way" (a style) is not answered by the unit's "poor way" (facts): the claim's
        # own "poor way" is.
        "Fine-tuning is a good way to teach a model a style, but a poor way to give it new facts.",
        # "only a modest increase" softens; it does not oppose "all linear layers".
        "Putting adapters on all linear layers gives the best quality at the cost of only a "
        "modest increase in memory.",
    ]:
        judged = check(claim, NOTES["fine_tuning"], vectors)
        assert judged.verdict == SUPPORTED, (claim, judged.reason)
    reversed_claim = check(
        "Fine-tuning is a good way to give a model new facts.", NOTES["fine_tuning"], vectors
    )
    assert reversed_claim.verdict == CONTRADICTED, reversed_claim.reason


def test_a_sentence_pointing_back_is_read_with_the_sentence_it_points_to(vectors):
    # "This optimizer" is QLoRA's paged optimizer, named by the sentence before.
    kept = check(
        "QLoRA's paged optimizer behaves like virtual memory, keeping only the needed data in "
        "active memory and the rest on disk.",
        NOTES["paged"],
        vectors,
    )
    assert kept.verdict == SUPPORTED, kept.reason
    assert kept.evidence[0].text.startswith("This optimizer")


def test_what_a_list_of_qualities_says_of_its_subject_is_read_against_the_claim(vectors):
    for claim in [
        # "o1/o3" is held by "o1 / o3".
        "The o1/o3 reasoning models are best for maths and code, but slower and more expensive.",
        # A quoted instruction denies what the claim denies.
        "IFEval checks whether a model follows verifiable instructions such as using no commas.",
        # "many adapters" and "far less memory" speak of different things.
        "PEFT gives tiny checkpoints and lets one base model serve many adapters.",
    ]:
        judged = check(claim, NOTES["reasoning"], vectors)
        assert judged.verdict == SUPPORTED, (claim, judged.reason)
    # "slower and pricier", a clause of direction words alone, says it of the models: both
    # scales turned round is no agreement.
    turned = check(
        "The o1/o3 reasoning models are faster and cheaper, and best for maths and code.",
        NOTES["reasoning"],
        vectors,
    )
    assert turned.verdict == CONTRADICTED, turned.reason


def test_a_negation_turns_the_direction_words_it_reaches(vectors):
    denied = check(
        "Storing weights in 4-bit always makes inference faster.", NOTES["four_bit"], vectors
    )
    assert denied.verdict == CONTRADICTED, denied.reason
    # "any" after a negation says "no": it does not oppose "all the things".
    kept = check(
        "In zero-shot prompting you don't provide any example and the LLM figures everything "
        "out on its own.",
        NOTES["four_bit"],
        vectors,
    )
    assert kept.verdict == SUPPORTED, kept.reason


def test_a_comparison_is_told_by_what_tells_its_sides_apart(vectors):
    # "APIs ... price ... tokens" stands on both sides' subject: "output" and "input" decide.
    turned = check("APIs price input tokens higher than output tokens.", NOTES["pricing"], vectors)
    assert turned.verdict == CONTRADICTED, turned.reason
    kept = check("APIs price output tokens higher than input tokens.", NOTES["pricing"], vectors)
    assert kept.verdict == SUPPORTED, kept.reason
    doubled = check("Passing torch_dtype=torch.bfloat16 doubles memory.", NOTES["pricing"], vectors)
    assert doubled.verdict == CONTRADICTED, doubled.reason


def test_each_side_of_a_contrasting_claim_is_checked_on_its_own(vectors):
    swapped = check(
        "Latency and throughput are business-centric metrics, while conversion and customer "
        "satisfaction are operational metrics.",
        NOTES["metrics"],
        vectors,
    )
    assert swapped.verdict == CONTRADICTED, swapped.reason
    kept = check(
        "Latency and throughput are operational metrics, while conversion and customer "
        "satisfaction are business-centric ones.",
        NOTES["metrics"],
        vectors,
    )
    assert kept.verdict == SUPPORTED, kept.reason


def test_a_negation_after_is_denies_what_is_said_of_the_subject_not_the_subject(vectors):
    kept = check(
        "In a decoder, self-attention with future elements is not allowed, which makes it "
        "suitable for text generation.",
        NOTES["decoder"],
        vectors,
    )
    assert kept.verdict == SUPPORTED, kept.reason
    denied = check("A decoder is not suitable for text generation.", NOTES["decoder"], vectors)
    assert denied.verdict == CONTRADICTED, denied.reason


def test_a_capital_letter_standing_alone_is_a_name_the_unit_must_hold(vectors):
    kept = check(
        "At each step the model computes Q, K and V only for the newest token.",
        NOTES["kv_cache"],
        vectors,
    )
    assert kept.verdict == SUPPORTED, kept.reason
    wrong = check(
        "Even with a KV cache, the model recomputes Q, K and V for the whole prefix at every step.",
        NOTES["kv_cache"],
        vectors,
    )
    assert wrong.verdict != SUPPORTED, wrong.reason


def test_a_change_said_to_run_the_other_way_is_contradicted(vectors):
    turned = check(
        "Switching from INT8 to FP32 can reduce a model's size by a factor of four.",
        NOTES["switch"],
        vectors,
    )
    assert turned.verdict == CONTRADICTED, turned.reason
    kept = check(
        "Going from FP32 to INT8 makes a model four times smaller.", NOTES["switch"], vectors
    )
    assert kept.verdict != CONTRADICTED, kept.reason


def test_a_term_denied_in_another_form_of_it_is_contradicted(vectors):
    denied = check(
        "Open-source models such as Llama, Mixtral and Gemma cannot be customized.",
        NOTES["open_source"],
        vectors,
    )
    assert denied.verdict == CONTRADICTED, denied.reason
    kept = check(
        "Open models like Llama and Gemma can be customized.", NOTES["open_source"], vectors
    )
    assert kept.verdict == SUPPORTED, kept.reason


def test_what_the_notes_say_something_lacks_denies_it(vectors):
    denied = check(
        "Frontier models always have up-to-date knowledge of recent events.",
        NOTES["cut_off"],
        vectors,
    )
    assert denied.verdict == CONTRADICTED, denied.reason


def test_a_lead_speaking_of_the_whole_list_gives_no_item_its_siblings_subject(vectors):
    # "data" in the lead does not make the pipeline item speak of data parallelism.
    swapped = check(
        "Data parallelism distributes transformer layers across multiple GPUs.",
        NOTES["parallelism"],
        vectors,
    )
    assert swapped.verdict == CONTRADICTED, swapped.reason
    kept = check(
        "Pipeline parallelism spreads the transformer layers over several GPUs.",
        NOTES["parallelism"],
        vectors,
    )
    assert kept.verdict == SUPPORTED, kept.reason


def test_items_whose_labels_differ_by_a_word_are_not_mixed_up(vectors):
    swapped = check(
        "Sample top K sets the total probability to choose from.", NOTES["top_k_p"], vectors
    )
    assert swapped.verdict == CONTRADICTED, swapped.reason
    assert swapped.evidence[0].text.startswith("sample top K")
    kept = check(
        "Sample top P sets the total probability to choose from.", NOTES["top_k_p"], vectors
    )
    assert kept.verdict == SUPPORTED, kept.reason


def test_un_and_a_changed_thing_left_unchanged_are_read_as_denials(vectors):
    for claim in [
        "DeepSeek has kept the weights of DeepSeek-V3 and R1 unpublished.",
        "In RAG, the knowledge base is static and not easy to update.",
    ]:
        judged = check(claim, NOTES["open_weights"], vectors)
        assert judged.verdict == CONTRADICTED, (claim, judged.reason)
    kept = check(
        "DeepSeek published the weights of DeepSeek-V3 and R1.", NOTES["open_weights"], vectors
    )
    assert kept.verdict == SUPPORTED, kept.reason


def test_a_number_is_placed_by_the_numbers_written_beside_it(vectors):
    kept = check(
        "Even at 4-bit precision, a 70B model needs roughly 40 GB of GPU memory.",
        NOTES["hardware"],
        vectors,
    )
    assert kept.verdict == SUPPORTED, kept.reason
    moved = check(
        "A 7-8B model in 4-bit needs about 40 GB of GPU memory.", NOTES["hardware"], vectors
    )
    assert moved.verdict != SUPPORTED, moved.reason


def test_a_negation_stops_at_a_colon_and_at_the_end_of_its_aside(vectors):
    for claim in [
        "Open weights are not the same as open source, since the training data and code are "
        "often not released.",
        "Using the wrong chat template, or none at all, is a classic reason for rambling, "
        "low-quality output from open models.",
    ]:
        judged = check(claim, NOTES["open_weights_note"], vectors)
        assert judged.verdict == SUPPORTED, (claim, judged.reason)


def test_numbers_with_a_scale_or_an_exponent_are_read_whole(vectors):
    for claim in [
        "Gemini 1.5 Pro offers a 1M-token context window, with 2M in some tiers.",
        "LoRA typically uses a learning rate of 1e-4 to 2e-4.",
    ]:
        judged = check(claim, NOTES["context_sizes"], vectors)
        assert judged.verdict == SUPPORTED, (claim, judged.reason)
    moved = check("LoRA typically uses a learning rate of 1e-3.", NOTES["context_sizes"], vectors)
    assert moved.verdict != SUPPORTED, moved.reason


def test_names_joined_by_and_are_one_thing_the_claim_says(vectors):
    kept = check(
        "DeepSeek has published the weights of DeepSeek-V3 and R1 under the MIT licence.",
        NOTES["players"],
        vectors,
    )
    assert kept.verdict == SUPPORTED, kept.reason


def test_a_clause_opened_by_but_is_no_member_of_a_list(vectors):
    kept = check(
        "In Anthropic's API the system prompt is passed as its own system= parameter instead of "
        "as a message.",
        NOTES["system_prompt"],
        vectors,
    )
    assert kept.verdict == SUPPORTED, kept.reason


def test_non_denies_the_word_it_is_glued_to_and_no_further(vectors):
    for claim in [
        "GPQA has 448 expert questions, and humans without a PhD score only 34% on it.",
        "Numbers, code and text in other languages than English take more tokens per character "
        "than plain English prose.",
    ]:
        judged = check(claim, NOTES["gpqa_line"], vectors)
        assert judged.verdict == SUPPORTED, (claim, judged.reason)


def test_barely_denies_as_not_does(vectors):
    kept = check(
        "LLM.int8() keeps the few outlier feature dimensions in fp16, so quality barely changes.",
        NOTES["int8"],
        vectors,
    )
    assert kept.verdict == SUPPORTED, kept.reason


def test_a_claim_the_notes_do_not_speak_of_is_not_in_the_notes(vectors):
    claim = check(
        "The Great Barrier Reef is the largest coral reef system.", NOTES["prompting"], vectors
    )
    assert claim.verdict == NOT_IN_NOTES and not claim.evidence and claim.reason


def test_evidence_offsets_mark_the_unit_in_the_passage_body(vectors):
    for text, source in [
        ("Few-shot prompting includes a handful of worked examples.", NOTES["prompting"]),
        ("An 8B model takes 16 GB in int8.", NOTES["memory"]),
    ]:
        evidence = check(text, source, vectors).evidence[0]
        unit = source[evidence.start : evidence.end]
        assert (
            plain(unit.replace("|", " ")).split()
            == plain(evidence.text)
            .replace("Precision: ", "")
            .replace("Bytes per parameter: ", "")
            .replace("8B model: ", "")
            .replace(";", "")
            .split()
        )


@pytest.mark.skipif(not (SHARED / "course-notes").is_dir(), reason="../shared is not here")
def test_on_the_held_out_claims_it_keeps_the_true_ones_and_flags_the_wrong_ones(vectors):
    rows = [r for r in load_claims() if r["split"] == "test"]
    checkers = {}
    right: dict[str, list[bool]] = {}
    for row in rows:
        if row["source"] not in checkers:
            passage = Passage(1, row["source"], source_text(row["source"]), {}, 1.0)
            checkers[row["source"]] = ClaimChecker([passage], vectors)
        claim = checkers[row["source"]].check(row["sentence"])
        right.setdefault(row["kind"], []).append(claim.supported == row["supported"])
    share = {kind: sum(v) / len(v) for kind, v in right.items()}
    kept = (sum(right["verbatim"]) + sum(right["paraphrase"])) / (
        len(right["verbatim"]) + len(right["paraphrase"])
    )
    flagged = [x for kind in right if kind not in ("verbatim", "paraphrase") for x in right[kind]]
    caught = sum(flagged) / len(flagged)
    # Measured in benchmarks/README.md ("Sentence checker": 0.90 balanced, 0.91 kept, swaps
    # 0.86, negations 0.88); these are floors below them, not the issue's targets.
    assert (kept + caught) / 2 >= 0.8, share
    assert kept >= 0.8 and share["swapped"] >= 0.7 and share["negated"] >= 0.75, share


def test_no_after_a_verb_denies_the_verb_and_every_opens_a_new_subject(vectors):
    kept = check(
        "Because LLMs are stateless, they keep no information between requests and every API "
        "call stands on its own.",
        NOTES["stateless"],
        vectors,
    )
    assert kept.verdict == SUPPORTED, kept.reason
    denied = check("LLMs keep track of information between API calls.", NOTES["stateless"], vectors)
    assert denied.verdict == CONTRADICTED, denied.reason


def test_an_item_opening_with_ie_is_read_with_the_item_it_restates(vectors):
    kept = check(
        "One petaflop/s-day corresponds to 8 V100 GPUs, or 2 A100 GPUs, running at full "
        "efficiency for a whole day.",
        NOTES["petaflop"],
        vectors,
    )
    assert kept.verdict == SUPPORTED, kept.reason
    moved = check(
        "One petaflop/s-day corresponds to 2 V100 GPUs, or 8 A100 GPUs, running at full "
        "efficiency for a whole day.",
        NOTES["petaflop"],
        vectors,
    )
    assert moved.verdict == CONTRADICTED, moved.reason


def test_what_a_change_starts_from_is_not_denied_by_instead_of(vectors):
    kept = check(
        "Quantization turns high-precision floating-point values such as FP32 or FP16 into "
        "lower-precision integer formats such as INT8 or INT4.",
        NOTES["instead"],
        vectors,
    )
    assert kept.verdict == SUPPORTED, kept.reason
    denied = check(
        "Quantization keeps high-precision floating-point values such as FP32 or FP16.",
        NOTES["instead"],
        vectors,
    )
    assert denied.verdict == CONTRADICTED, denied.reason


def test_one_thing_the_unit_writes_beside_both_is_no_swap(vectors):
    kept = check(
        "BERT, ResNet and GPT are common choices of base model, depending on whether the task "
        "is in NLP, computer vision or another domain.",
        NOTES["base_model"],
        vectors,
    )
    assert kept.verdict == SUPPORTED, kept.reason


def test_a_negation_in_a_relative_clause_turns_neither_a_dashed_kind_nor_the_main_verb(vectors):
    for claim in [
        "With truncation, the extra bits that the lower-precision format cannot represent are "
        "simply thrown away.",
        "With truncation, any extra bits that the lower-precision format cannot represent are "
        "simply dropped.",
    ]:
        judged = check(claim, NOTES["truncation"], vectors)
        assert judged.verdict == SUPPORTED, (claim, judged.reason)


def test_a_chain_of_sentences_pointing_back_is_read_with_the_one_naming_the_subject(vectors):
    kept = check(
        "In QLoRA's double quantization, the weights are first quantized to an intermediate "
        "bit-width, often 8-bit.",
        NOTES["double_quantization"],
        vectors,
    )
    assert kept.verdict == SUPPORTED, kept.reason
    moved = check(
        "In QLoRA's double quantization, the weights are first quantized to an intermediate "
        "bit-width, often 16-bit.",
        NOTES["double_quantization"],
        vectors,
    )
    assert moved.verdict == CONTRADICTED, moved.reason


def test_numbers_listed_bare_after_a_label_share_what_it_says(vectors):
    kept = check(
        "Hugging Face's SmolLM2 comes in 135M, 360M and 1.7B sizes and is licensed under "
        "Apache 2.0.",
        NOTES["sizes"],
        vectors,
    )
    assert kept.verdict == SUPPORTED, kept.reason
    moved = check(
        "Hugging Face's SmolLM2 comes in 135M, 360M and 27B sizes.", NOTES["sizes"], vectors
    )
    assert moved.verdict == CONTRADICTED, moved.reason


def test_under_as_a_preposition_is_no_term_a_sibling_could_hold(vectors):
    kept = check(
        "Under the Chinchilla scaling laws, a compute-optimal training dataset is roughly 20 "
        "times the number of parameters.",
        NOTES["chinchilla"],
        vectors,
    )
    assert kept.verdict == SUPPORTED, kept.reason


def test_steps_said_in_the_other_order_are_contradicted(vectors):
    for reversed_claim, kept_claim in [
        (
            "For planning, the model should execute the steps first and write its plan afterwards.",
            "For planning, the model should write a plan first and execute the steps afterwards.",
        ),
        (
            # The order is told across two sentences: "first ..." and "... are then fed".
            "In RAG, the language model first generates a response, and the retriever then "
            "looks up relevant documents in the knowledge base.",
            "In RAG, the retriever first looks up relevant documents in the knowledge base, and "
            "the language model then generates a response from them.",
        ),
    ]:
        judged = check(reversed_claim, NOTES["steps"], vectors)
        assert judged.verdict == CONTRADICTED, (reversed_claim, judged.reason)
        assert "other way round" in judged.reason
        kept = check(kept_claim, NOTES["steps"], vectors)
        assert kept.verdict == SUPPORTED, (kept_claim, kept.reason)


def test_a_unit_lacking_what_a_later_one_denies_does_not_support_it(vectors):
    # The best aligned unit names calling functions but says nothing of who runs them.
    denied = check(
        "When a model uses tools, it runs the functions itself.", NOTES["tools"], vectors
    )
    assert denied.verdict == CONTRADICTED, denied.reason
    assert "never executes" in denied.evidence[0].text
    kept = check("When a model uses tools, our code runs the functions.", NOTES["tools"], vectors)
    assert kept.verdict == SUPPORTED, kept.reason


def test_what_a_bracket_gives_one_name_given_to_another_is_contradicted(vectors):
    swapped = check(
        "In the Claude 3 family, Opus is the fast, cheap model and Haiku is the largest.",
        NOTES["glosses"],
        vectors,
    )
    assert swapped.verdict == CONTRADICTED, swapped.reason
    for claim in [
        "In the Claude 3 family, Haiku is the fast, cheap model and Opus is the largest.",
        # A citation in brackets glosses nothing; each thing named keeps its own gloss.
        "ReAct made popular the interleaving of reasoning steps, tool-call actions and "
        "observations of tool results.",
    ]:
        kept = check(claim, NOTES["glosses"], vectors)
        assert kept.verdict == SUPPORTED, (claim, kept.reason)


def test_an_item_naming_a_thing_and_its_gloss_is_labelled_by_the_name(vectors):
    swapped = check(
        "In the HuggingFace libraries, accelerate is for parameter-efficient fine tuning, while "
        "peft lets transformers run on distributed set-ups.",
        NOTES["libraries"],
        vectors,
    )
    assert swapped.verdict == CONTRADICTED, swapped.reason
    kept = check(
        "In the HuggingFace libraries, peft is for parameter-efficient fine tuning, while "
        "accelerate lets transformers run on distributed set-ups.",
        NOTES["libraries"],
        vectors,
    )
    assert kept.verdict == SUPPORTED, kept.reason


def test_a_clause_naming_what_the_one_before_changes_is_read_with_it(vectors):
    denied = check(
        "During training, a model's parameters or weights are left unchanged.",
        NOTES["settings"],
        vectors,
    )
    assert denied.verdict == CONTRADICTED, denied.reason
    kept = check(
        "During training, a model updates its parameters or weights.", NOTES["settings"], vectors
    )
    assert kept.verdict == SUPPORTED, kept.reason


def test_a_quantity_written_in_several_places_ties_nothing_to_anything(vectors):
    kept = check(
        "Mean reciprocal rank averages 1 divided by the rank of the first relevant chunk, "
        "counting 0 when nothing relevant is found.",
        NOTES["mrr"],
        vectors,
    )
    assert kept.verdict == SUPPORTED, kept.reason


def test_cents_and_trailing_zeros_read_as_the_same_price(vectors):
    kept = check(
        "GPT-4o mini costs 15 cents per million input tokens and 60 cents per million output "
        "tokens.",
        NOTES["prices"],
        vectors,
    )
    assert kept.verdict == SUPPORTED, kept.reason
    moved = check("GPT-4o mini costs 30 cents per million input tokens.", NOTES["prices"], vectors)
    assert moved.verdict != SUPPORTED, moved.reason


def test_a_slash_inside_a_name_ties_its_parts_together(vectors):
    kept = check(
        "Grouped-query attention shares key/value heads in a way that saves memory.",
        NOTES["gqa_takeaways"],
        vectors,
    )
    assert kept.verdict == SUPPORTED, kept.reason


def test_a_direction_the_supporting_unit_lacks_is_judged_by_the_unit_holding_it(vectors):
    reversed_claim = check(
        "Grouped-query attention shares key/value heads in a way that increases memory use.",
        NOTES["gqa_takeaways"],
        vectors,
    )
    assert reversed_claim.verdict == CONTRADICTED, reversed_claim.reason
    assert "save memory" in reversed_claim.evidence[0].text


def test_numbers_written_in_words_past_twelve_are_read(vectors):
    kept = check(
        "As a rough guide for English, a hundred tokens corresponds to roughly seventy-five words.",
        NOTES["rule_of_thumb"],
        vectors,
    )
    assert kept.verdict == SUPPORTED, kept.reason
    moved = check(
        "A hundred tokens corresponds to roughly sixty words.", NOTES["rule_of_thumb"], vectors
    )
    assert moved.verdict != SUPPORTED, moved.reason


def test_a_short_clause_with_a_verb_of_its_own_is_a_statement_not_a_list_item(vectors):
    swapped = check(
        "Among the GGUF quant types, Q8_0 is the common default, while Q4_K_M is the one "
        "described as near-lossless.",
        NOTES["gguf_types"],
        vectors,
    )
    assert swapped.verdict == CONTRADICTED, swapped.reason
    kept = check(
        "Q4_K_M is the common default and Q8_0 is near-lossless.", NOTES["gguf_types"], vectors
    )
    assert kept.verdict == SUPPORTED, kept.reason


def test_much_after_a_direction_says_how_much_and_give_up_points_no_way(vectors):
    for claim in [
        "Turning on gradient checkpointing saves a lot of activation memory at the cost of "
        "roughly 20 to 30 percent of training speed.",
        "bf16 keeps the same numeric range as fp32 but gives up some precision, and it has "
        "become the standard format on modern GPUs.",
    ]:
        kept = check(claim, NOTES["precisions"], vectors)
        assert kept.verdict == SUPPORTED, (claim, kept.reason)
    reversed_claim = check(
        "Gradient checkpointing uses much more activation memory.", NOTES["precisions"], vectors
    )
    assert reversed_claim.verdict == CONTRADICTED, reversed_claim.reason


def test_at_all_after_a_negation_points_no_way(vectors):
    kept = check(
        "With zero-shot prompting you include no example at all and the LLM has to work "
        "everything out by itself.",
        NOTES["shots"],
        vectors,
    )
    assert kept.verdict == SUPPORTED, kept.reason


def test_things_said_to_move_the_other_way_together_are_contradicted(vectors):
    reversed_claim = check(
        "On top of the weights, the KV cache shrinks as context length and batch size grow.",
        NOTES["kv_budget"],
        vectors,
    )
    assert reversed_claim.verdict == CONTRADICTED, reversed_claim.reason
    kept = check(
        "The KV cache grows as context length and batch size grow.", NOTES["kv_budget"], vectors
    )
    assert kept.verdict == SUPPORTED, kept.reason


def test_a_unit_holding_as_much_as_support_needs_may_say_otherwise(vectors):
    denied = check(
        "In RAG, the knowledge base is a static, immutable store that cannot be updated after it "
        "is built.",
        NOTES["knowledge_base"],
        vectors,
    )
    assert denied.verdict == CONTRADICTED, denied.reason


def test_a_number_in_a_later_sentence_of_an_item_belongs_to_what_its_label_names(vectors):
    kept = check("Since fp16 tops out at 65,504, activations can overflow.", NOTES["fp16"], vectors)
    assert kept.verdict == SUPPORTED, kept.reason
    moved = check("fp16 has 8 exponent bits.", NOTES["fp16"], vectors)
    assert moved.verdict == CONTRADICTED, moved.reason


def test_an_identifier_is_read_by_its_words_too(vectors):
    kept = check(
        "The original transformer had a model dimension of 512 split across 8 heads of 64 "
        "dimensions each.",
        NOTES["d_model"],
        vectors,
    )
    assert kept.verdict == SUPPORTED, kept.reason
    moved = check(
        "The original transformer had a model dimension of 64.", NOTES["d_model"], vectors
    )
    assert moved.verdict == CONTRADICTED, moved.reason


def test_a_number_that_counts_nothing_after_it_measures_what_is_named_before_it(vectors):
    moved = check(
        "Switching from FP32 to INT8 can shrink a model by a factor of eight.",
        NOTES["factor"],
        vectors,
    )
    assert moved.verdict == CONTRADICTED, moved.reason
    kept = check(
        "Switching from FP32 to INT8 can shrink a model by a factor of four.",
        NOTES["factor"],
        vectors,
    )
    assert kept.verdict == SUPPORTED, kept.reason


def test_a_swap_between_two_items_the_claim_names_each_in_a_part_is_contradicted(vectors):
    swapped = check(
        "In attention, the key vector represents what a token is looking for, and the query "
        "represents what it offers to other tokens.",
        NOTES["qkv"],
        vectors,
    )
    assert swapped.verdict == CONTRADICTED, swapped.reason
    kept = check(
        "In attention, the query represents what a token is looking for, and the key "
        "represents what it offers to other tokens.",
        NOTES["qkv"],
        vectors,
    )
    assert kept.verdict == SUPPORTED, kept.reason


def test_a_term_the_notes_misspell_is_held(vectors):
    kept = check(
        "According to the notes, Python 3.11 was the only compatible Python version as of "
        "August 2025.",
        NOTES["venv"],
        vectors,
    )
    assert kept.verdict == SUPPORTED, kept.reason


def test_a_negation_in_a_condition_denies_nothing(vectors):
    kept = check(
        "If Ollama isn't already running, it can be started with the ollama serve command.",
        NOTES["ollama"],
        vectors,
    )
    assert kept.verdict == SUPPORTED, kept.reason


def test_a_fronted_because_clause_is_a_statement_apart_from_the_main_one(vectors):
    kept = check(
        "Because BM25 scores and cosine similarities sit on different scales, hybrid search "
        "fuses the ranks rather than adding the scores together.",
        NOTES["fused_ranks"],
        vectors,
    )
    assert kept.verdict == SUPPORTED, kept.reason


def test_a_neighbour_using_the_claims_first_word_in_passing_is_not_its_subject(vectors):
    kept = check(
        "Stuffing more into a long prompt doesn't automatically help, because models tend to use "
        "what's at the beginning and end better than what's buried in the middle.",
        NOTES["why_context"],
        vectors,
    )
    assert kept.verdict == SUPPORTED, kept.reason


def test_any_after_a_negation_points_no_way_on_the_scope_scale(vectors):
    kept = check(
        "Prompt engineering just means using an LLM as it comes, without changing any of the "
        "model's parameters.",
        NOTES["prompt_engineering"],
        vectors,
    )
    assert kept.verdict == SUPPORTED, kept.reason


def test_keeping_something_from_happening_denies_it(vectors):
    reversed_claim = check(
        "Dividing the attention scores by sqrt(d_k) makes them grow with the dimension.",
        NOTES["scaled"],
        vectors,
    )
    assert reversed_claim.verdict == CONTRADICTED, reversed_claim.reason
    for claim in [
        "The attention scores are divided by the square root of d_k so they don't grow with the "
        "dimension and push the softmax into tiny gradients.",
        "Dividing by the square root of d_k stops the scores growing with the dimension.",
    ]:
        kept = check(claim, NOTES["scaled"], vectors)
        assert kept.verdict == SUPPORTED, (claim, kept.reason)


def test_a_phrase_setting_the_scene_ties_nothing_to_one_part_of_the_claim(vectors):
    for claim in [
        "In supervised fine-tuning, the weights are updated by backpropagation so as to reduce "
        "the prediction error on the labels.",
        "For supervised fine-tuning, the weights are updated by backpropagation, which reduces "
        "the prediction error on the labels.",
    ]:
        kept = check(claim, NOTES["sft"], vectors)
        assert kept.verdict == SUPPORTED, (claim, kept.reason)


def test_a_comparison_the_numbers_of_its_two_sides_turn_round_is_contradicted(vectors):
    reversed_claim = check(
        "On GPQA, skilled non-experts with web access score higher than PhD-level experts.",
        NOTES["scores"],
        vectors,
    )
    assert reversed_claim.verdict == CONTRADICTED, reversed_claim.reason
    assert "65" in reversed_claim.reason and "34" in reversed_claim.reason
    kept = check(
        "On GPQA, PhD-level experts score higher than skilled non-experts with web access.",
        NOTES["scores"],
        vectors,
    )
    assert kept.verdict == SUPPORTED, kept.reason


def test_much_like_says_alike_and_points_to_no_amount(vectors):
    kept = check(
        "A decoder works much like an encoder, except that it has no self-attention to future "
        "tokens.",
        NOTES["masked_decoder"],
        vectors,
    )
    assert kept.verdict == SUPPORTED, kept.reason


def test_an_item_holding_the_claim_only_through_its_lead_is_checked_against_the_lead(vectors):
    denied = check(
        "LLMs keep track of information from earlier calls.", NOTES["nested_stateless"], vectors
    )
    assert denied.verdict == CONTRADICTED, denied.reason
    assert denied.evidence[0].text.startswith("LLMs are stateless")
    said = check(
        "LLMs are stateless and keep no track of any info.", NOTES["nested_stateless"], vectors
    )
    assert said.verdict == SUPPORTED, said.reason
    nested = check(
        "Exceeding the context window is usually handled by truncating older parts of the chat "
        "history.",
        NOTES["nested_stateless"],
        vectors,
    )
    assert nested.verdict == SUPPORTED, nested.reason


def test_the_words_spelling_out_an_acronym_tie_nothing_to_it(vectors):
    kept = check(
        "Anthropic introduced MCP in November 2024 to standardise how apps expose tools and data "
        "to models, so that one tool server works with many clients.",
        NOTES["mcp_note"],
        vectors,
    )
    assert kept.verdict == SUPPORTED, kept.reason
    moved = check("Anthropic introduced MCP in November 2023.", NOTES["mcp_note"], vectors)
    assert moved.verdict != SUPPORTED, moved.reason


def test_a_little_says_how_far_not_which_way(vectors):
    kept = check(
        "Quality, as measured by perplexity, hardly shifts at 8 bits, slips a little at 4-5 bits "
        "and drops steeply below about 3 bits.",
        NOTES["perplexity"],
        vectors,
    )
    assert kept.verdict == SUPPORTED, kept.reason
    moved = check(
        "Quality slips a little at 8 bits and drops sharply below 5 bits.",
        NOTES["perplexity"],
        vectors,
    )
    assert moved.verdict == CONTRADICTED, moved.reason


def test_a_fix_is_a_remedy_not_something_fixed(vectors):
    kept = check(
        "Since many causal models have no padding token, a common fix is to use the end-of-text "
        "token as the pad token.",
        NOTES["pad_token"],
        vectors,
    )
    assert kept.verdict == SUPPORTED, kept.reason
    same = check(
        "Special tokens such as padding are the same in every model.", NOTES["pad_token"], vectors
    )
    assert same.verdict == CONTRADICTED, same.reason


def test_a_denied_expectation_denies_what_is_expected(vectors):
    kept = check(
        "Quantizing a model to 4-bit cuts its memory footprint, but you shouldn't assume it will "
        "always make inference faster.",
        NOTES["not_always_faster"],
        vectors,
    )
    assert kept.verdict == SUPPORTED, kept.reason
    expected = check(
        "You can assume 4-bit will always make inference faster.",
        NOTES["not_always_faster"],
        vectors,
    )
    assert expected.verdict == CONTRADICTED, expected.reason


def test_a_unit_glued_to_its_number_is_the_unit_written_apart(vectors):
    held = check(
        "Storing the model takes about 4 GB at 32-bit full precision.",
        NOTES["memory_per_billion"],
        vectors,
    )
    assert held.verdict == SUPPORTED, held.reason
    other_unit = check(
        "Storing the model takes about 4 MB at 32-bit full precision.",
        NOTES["memory_per_billion"],
        vectors,
    )
    assert other_unit.verdict != SUPPORTED


def test_a_thousand_or_a_million_written_in_words_is_a_number(vectors):
    note = NOTES["words_per_thousand"]
    assert_each(SUPPORTED, ("About 750 words make up a thousand tokens.",), note, vectors)
    assert_each(CONTRADICTED, ("About 750 words make up a million tokens.",), note, vectors)


def test_a_fraction_written_in_words_is_its_value(vectors):
    # "three quarters" is 0.75, not the 3 that "three" alone would be.
    kept = ("One token is about three quarters of a word, so a hundred tokens make 75 words.",)
    moved = ("One token is about three quarters of a character.",)
    assert_kept_and_caught(NOTES["token_share"], kept, moved, vectors)


def test_a_number_spelt_beside_a_scale_or_a_range_is_read_as_its_digits(vectors):
    # "sixteen thousand" is 16,000 (not 16 and 1,000), "fifty to two hundred" is 50-200.
    kept = (
        "MMLU holds roughly sixteen thousand four-choice questions spanning 57 subjects.",
        "Build a golden evaluation set of fifty to two hundred real examples early.",
    )
    moved = ("MMLU holds roughly sixteen hundred four-choice questions spanning 57 subjects.",)
    assert_kept_and_caught(NOTES["mmlu_size"], kept, moved, vectors)


def test_usual_and_typical_name_no_subject(vectors):
    # "the usual recommendation" is a hedge, as "usually" is: it does not speak of the item
    # labelled "Usual advice".
    kept = (
        "For extraction, classification and RAG answers, a low temperature between zero and "
        "0.3 is the usual recommendation.",
    )
    moved = ("For brainstorming, a low temperature between zero and 0.3 is the usual advice.",)
    assert_kept_and_caught(NOTES["temperature_advice"], kept, moved, vectors)


def test_than_compares_by_the_comparative_before_it(vectors):
    # "better use of ... a long prompt than ...": "better" compares, "long" does not; "at its
    # start and end" is told from "in the middle" by its direction words.
    kept = (
        "Models make better use of information at the start and end of a long prompt than of "
        "information in the middle.",
    )
    reversed_claims = (
        "Models make better use of information in the middle of a long prompt than of "
        "information at its start and end.",
    )
    assert_kept_and_caught(NOTES["lost_in_middle"], kept, reversed_claims, vectors)


def test_a_verb_of_winning_compares_its_subject_with_its_object(vectors):
    # "A beats B" / "A outscores B" relates two sides as "A is better than B" does.
    kept = (
        "A chunk ranked first by BM25 and third by dense search beats a chunk ranked first by "
        "only one of them.",
    )
    reversed_claims = (
        "A chunk ranked first by only one ranker outscores a chunk ranked first by BM25 and "
        "third by dense search.",
    )
    assert_kept_and_caught(NOTES["rank_fusion"], kept, reversed_claims, vectors)


def test_what_follows_a_spelt_hundred_adds_to_it(vectors):
    # "one hundred and seventeen million" is 117 million, not 100 and 17 million.
    kept = ("Back in 2018, GPT-1 had one hundred and seventeen million parameters.",)
    moved = ("Back in 2018, GPT-1 had one hundred and seventy million parameters.",)
    assert_kept_and_caught(NOTES["mmlu_size"], kept, moved, vectors)


def test_an_item_of_several_sentences_ties_nothing_across_them(vectors):
    # The knowledge base is named in one sentence, what it holds in the next ("It can hold
    # ..."): the claim tying them is no swap.
    kept = (
        "A RAG knowledge base can hold many kinds of data, for example documents, articles, "
        "databases and other structured or unstructured information.",
    )
    negated = ("The knowledge base in RAG is a fixed store of information that cannot be updated.",)
    assert_kept_and_caught(NOTES["kb_item"], kept, negated, vectors)


def test_instead_of_just_denies_what_follows_it_object_pronoun_included(vectors):
    # "instead of just returing it in a big bulk" denies the big bulk: "just" stresses there,
    # and "it" after a verb is its object, not a new statement the negation stops at.
    kept = (
        "With streaming, the result comes back bit by bit rather than all at once in one big bulk.",
    )
    caught = (
        "With streaming, the result is returned in one big bulk instead of being sent back bit "
        "by bit.",
        "Streaming returns the result in one big bulk.",
    )
    assert_kept_and_caught(NOTES["streaming"], kept, caught, vectors)


def test_two_spelt_hundreds_joined_by_and_are_two_numbers(vectors):
    # "five hundred and seven hundred" is 500 and 700, not 507 and 100.
    kept = ("A dense page of text comes to between five hundred and seven hundred tokens.",)
    moved = ("A dense page of text comes to between five hundred and nine hundred tokens.",)
    assert_kept_and_caught(NOTES["dense_page"], kept, moved, vectors)


def test_a_range_with_a_hanging_dash_shares_its_scale(vectors):
    # "a seven- or eight-billion-parameter model" is 7 or 8 billion, as "a 7-8B model" is.
    kept = (
        "In 4-bit, a seven- or eight-billion-parameter model fits in about 5 to 6 GB of GPU memory.",
    )
    moved = ("Even in 4-bit, a seven- or eight-billion-parameter model needs about 40 GB.",)
    assert_kept_and_caught(NOTES["hardware"], kept, moved, vectors)


def test_a_light_verb_another_unit_denies_does_not_deny_the_claim(vectors):
    # "uses less energy": "use" says little alone; "Instead of using ... numbers"
    # does not deny what the energy item says.
    kept = ("Carrying out calculations with lower-precision numbers uses less energy.",)
    assert_each(SUPPORTED, kept, NOTES["lower_energy"], vectors)


def test_up_to_and_cut_off_point_no_way(vectors):
    # "up to a date" is as far as it, "cut off" where it ends: neither more nor less.
    kept = ("Frontier models only know about the world up to a particular cutoff date.",)
    assert_each(SUPPORTED, kept, NOTES["cutoff"], vectors)


def test_a_negation_before_need_reaches_what_is_needed(vectors):
    # "does not need to be annotated" denies "annotated", not only the needing.
    kept = (
        "For supervised fine-tuning, the training dataset needs to be annotated or labelled "
        "for the task.",
    )
    denied = (
        "For supervised fine-tuning, the training dataset does not need to be annotated or "
        "labelled for the task.",
    )
    assert_kept_and_caught(NOTES["labelled_dataset"], kept, denied, vectors)


def test_a_relative_clause_says_its_direction_of_the_clause_before(vectors):
    # "..., which makes training significantly faster": faster is said of the parallel
    # processing the clause before names.
    kept = ("Processing a whole sentence in parallel makes training a Transformer much faster.",)
    reversed_claims = (
        "Processing a whole sentence in parallel makes training a Transformer considerably "
        "slower than the sequential processing of older RNNs.",
    )
    assert_kept_and_caught(NOTES["parallel_training"], kept, reversed_claims, vectors)


def test_an_item_labelled_for_another_thing_does_not_deny_the_supported_claim(vectors):
    # "Multi Shot Prompting - Providing examples" speaks of multi-shot prompting, not of the
    # zero-shot prompting the claim and its supporting item speak of.
    kept = (
        "With zero-shot prompting you provide no example at all, and the LLM has to work "
        "everything out for itself.",
    )
    swapped = ("With zero-shot prompting you give an example with the question in the prompt.",)
    assert_kept_and_caught(NOTES["shot_lists"], kept, swapped, vectors)


def test_an_aside_that_makes_a_statement_of_its_own_places_its_numbers(vectors):
    # "(full fine-tuning uses about 1e-5 to 2e-5)": those rates are full fine-tuning's, not
    # LoRA's, whose rates stand outside the brackets.
    kept = (
        "LoRA trains with a learning rate of about 1e-4 to 2e-4.",
        "Full fine-tuning uses a learning rate of about 1e-5 to 2e-5.",
    )
    swapped = (
        "LoRA uses a learning rate of about 1e-5 to 2e-5, while full fine-tuning uses 1e-4 to "
        "2e-4.",
    )
    assert_kept_and_caught(NOTES["learning_rates"], kept, swapped, vectors)


def test_a_model_named_by_its_size_places_the_numbers_written_beside_it(vectors):
    # "Llama 3 8B" names a model: its "8B" is no count of anything for "32" to be set against.
    kept = ("Llama 3 70B is a stack of 80 identical blocks, while Llama 3 8B has 32.",)
    moved = (
        "Llama 3 70B is built as a stack of 32 identical decoder blocks.",
        "Llama 3 8B stacks 80 identical blocks.",
    )
    assert_kept_and_caught(NOTES["model_sizes"], kept, moved, vectors)


def test_untouched_and_rarely_point_the_other_way_from_adjusted_and_always(vectors):
    kept = ("Model fine-tuning adjusts the internal parameters of a pre-trained LLM.",)
    negated = (
        "Model fine-tuning leaves all of a pre-trained LLM's internal parameters untouched.",
        "In practice a pre-trained foundation model is rarely used.",
    )
    assert_kept_and_caught(NOTES["foundation_models"], kept, negated, vectors)


def test_a_paraphrase_very_close_in_meaning_is_kept_with_fewer_of_the_words(vectors):
    # Cosine 0.85 to the item, a third of its keys worded otherwise ("performs poorly" for
    # "underperforms", "five or six" for "5-6").
    note = NOTES["few_shot_enough"]
    kept = (
        "If a model still performs poorly after being shown five or six examples, it is "
        "usually time to think about fine-tuning.",
    )
    assert_each(SUPPORTED, kept, note, vectors)
    assert_each(NOT_IN_NOTES, ("Fine-tuning needs five or six GPUs.",), note, vectors)


def test_what_moves_with_the_thing_a_label_names_is_read_through_it(vectors):
    # "throughput grows with it": "it" is the batch_size the item is labelled by.
    reversed_claims = (
        "Increasing the batch size lowers throughput.",
        "Throughput shrinks as batch_size grows.",
    )
    assert_each(CONTRADICTED, reversed_claims, NOTES["batch_size"], vectors)
    reason = check(reversed_claims[0], NOTES["batch_size"], vectors).reason
    assert "move the other way" in reason
    same_way = (
        "Raising batch_size increases throughput.",
        "Throughput rises as the batch size is increased.",
    )
    assert_each(SUPPORTED, same_way, NOTES["batch_size"], vectors)


def test_the_step_a_claim_begins_with_is_its_first(vectors):
    turned = check(
        "A common workflow is to begin with a local model and only move to a hosted API once the "
        "idea has been validated.",
        NOTES["workflow"],
        vectors,
    )
    assert turned.verdict == CONTRADICTED, turned.reason
    assert "steps the other way round" in turned.reason
    kept = check(
        "A common workflow is to begin with a hosted API to validate the idea and then try a local "
        "model of matching quality.",
        NOTES["workflow"],
        vectors,
    )
    assert kept.verdict == SUPPORTED, kept.reason


def test_over_and_under_dashed_to_a_word_say_more_and_less_of_it(vectors):
    swapped = ("With too few examples the adapter ends up under-fitted and over-regularised.",)
    assert_each(CONTRADICTED, swapped, NOTES["few_examples"], vectors)
    kept = ("Too few examples leave the adapter over-fitted and under-regularised.",)
    assert_each(SUPPORTED, kept, NOTES["few_examples"], vectors)


def test_a_phrase_denying_all_a_claim_affirms_denies_it_whatever_the_unit_says_elsewhere(vectors):
    denied = check("Every causal model has its own pad token.", NOTES["no_pad_token"], vectors)
    assert denied.verdict == CONTRADICTED, denied.reason
    kept = (
        "Many causal models come without a pad token.",
        "People set the pad token to the end-of-text token.",
    )
    assert_each(SUPPORTED, kept, NOTES["no_pad_token"], vectors)


def test_a_letter_given_a_value_names_the_number_it_is_given(vectors):
    kept = ("LoRA with r = 16 trains about 0.17 percent of Llama 3 8B.",)
    assert_each(SUPPORTED, kept, NOTES["lora_share"], vectors)
    moved = ("LoRA with r = 8 trains about 0.17 percent of Llama 3 8B.",)
    assert_each(CONTRADICTED, moved, NOTES["lora_share"], vectors)


def test_a_year_is_set_against_years_only(vectors):
    kept = ("By 2020 the startup had grown to 200 employees in 12 offices.",)
    assert_each(SUPPORTED, kept, NOTES["growth"], vectors)
    moved = (
        "By 2020 the startup had grown to 300 employees.",
        # Four digits that count something are no year.
        "By 2020 the startup had grown to 2000 employees.",
    )
    assert_each(CONTRADICTED, moved, NOTES["growth"], vectors)


def test_a_negation_opening_the_subject_denies_what_is_said_of_it(vectors):
    # "None of the parameters are changed" denies "changed", not only "parameters".
    denied = (
        "The model's parameters are never changed.",
        "The model's parameters are not changed.",
    )
    assert_each(SUPPORTED, denied, NOTES["frozen_parameters"], vectors)


def test_a_later_unit_does_not_deny_what_the_supporting_unit_affirms(vectors):
    kept = check(
        "With n tokens the score matrix is n by n, so plain attention grows quadratically, "
        "O(n^2), in both compute time and memory.",
        NOTES["attention_cost"],
        vectors,
    )
    assert kept.verdict == SUPPORTED, kept.reason
    denied = check(
        "FlashAttention materialises the full score matrix in slow GPU memory.",
        NOTES["attention_cost"],
        vectors,
    )
    assert denied.verdict == CONTRADICTED, denied.reason
    assert "FlashAttention" in denied.evidence[0].text


def test_a_name_the_notes_misspell_by_a_letter_is_held_but_another_name_is_not(vectors):
    kept = check(
        "Google Colab offers CPU-based, lower-spec GPU and higher-spec GPU runtimes, the latter "
        "for resource-intensive work.",
        NOTES["colab_typo"],
        vectors,
    )
    assert kept.verdict == SUPPORTED, kept.reason
    other = check(
        "The model Mixtral is released under the Apache 2.0 licence.", NOTES["colab_typo"], vectors
    )
    assert other.verdict != SUPPORTED, other.reason


def test_speed_named_as_what_is_traded_points_no_way(vectors):
    kept = check(
        "Gradient checkpointing saves a lot of activation memory at the price of roughly 20-30 "
        "percent slower training.",
        NOTES["checkpointing"],
        vectors,
    )
    assert kept.verdict == SUPPORTED, kept.reason
    turned = check(
        "Gradient checkpointing needs much more activation memory.", NOTES["checkpointing"], vectors
    )
    assert turned.verdict == CONTRADICTED, turned.reason


def test_a_tokenizer_is_not_the_tokens_it_makes(vectors):
    kept = check(
        "Using a larger tokenizer vocabulary splits the same text into fewer tokens, but the price "
        "is a bigger embedding matrix.",
        NOTES["bigger_vocabulary"],
        vectors,
    )
    assert kept.verdict == SUPPORTED, kept.reason
    turned = check(
        "A bigger vocabulary means more tokens for the same text.",
        NOTES["bigger_vocabulary"],
        vectors,
    )
    assert turned.verdict == CONTRADICTED, turned.reason


def test_a_unit_lacking_the_claims_name_does_not_place_its_number(vectors):
    # The quantization PDF's table gives int8 8 GB for an 8B model; its Q8_0 line gives "about
    # 8.5 GB for an 8B model", which is not int8's.
    pdf = source_text("knowledge_base/06_quantization.pdf")
    kept = check("Keeping the weights of an 8B model in int8 takes about 8 GB.", pdf, vectors)
    assert kept.verdict == SUPPORTED, kept.reason
    moved = check("An 8B model in int8 takes about 16 GB.", pdf, vectors)
    assert moved.verdict == CONTRADICTED, moved.reason


def test_a_phrase_summing_up_the_answer_points_no_way(vectors):
    # "In short" says how the sentence is put, not that anything is short.
    assert_kept_and_caught(
        NOTES["window_covers"],
        kept=(
            "In short, the context window has to hold everything in a call: the system prompt, "
            "the history, the retrieved documents and the answer.",
            "Above all, the context window covers everything in one call, the answer included.",
        ),
        caught=("In short, the context window covers only the system prompt and the history.",),
        vectors=vectors,
    )


def test_an_acronym_used_as_a_common_noun_need_not_be_written_in_the_unit(vectors):
    assert_kept_and_caught(
        NOTES["temperature_range"],
        kept=(
            "OpenAI's API lets you set the temperature anywhere between 0 and 2.",
            "Since many causal LMs have no pad token, people set the pad token to the eos token.",
        ),
        caught=("OpenAI's API accepts temperatures from 0 to 1.",),
        vectors=vectors,
    )


def test_a_clause_about_another_named_thing_does_not_deny_the_claim(vectors):
    # Wei's examples are not Kojima's: "helps even without any examples" is Kojima's finding.
    assert_kept_and_caught(
        NOTES["cot"],
        kept=(
            'According to Kojima et al., simply adding "Let\'s think step by step" helps even '
            "without any examples.",
            "Wei et al. showed that CoT examples improve arithmetic and logic tasks.",
        ),
        caught=(
            'Kojima et al. found that adding "Let\'s think step by step" does not help zero-shot.',
        ),
        vectors=vectors,
    )


def test_only_before_an_adverb_of_degree_says_how_little_not_that_nothing_else_is(vectors):
    # "raising memory only modestly" against "Targeting all linear layers ... for a modest
    # memory increase": "only" there is no scope set against "all".
    notes = source_text("knowledge_base/07_fine_tuning_lora_qlora.md")
    assert_kept_and_caught(
        notes,
        kept=(
            "Adapting every linear layer usually gives the best quality while raising memory use "
            "only modestly.",
            "Targeting all linear layers usually gives the best quality while raising memory only "
            "slightly.",
        ),
        caught=("Targeting only the attention layers usually gives the best quality.",),
        vectors=vectors,
    )


def test_a_finding_given_to_the_other_cited_author_is_contradicted(vectors):
    # One thing said, so no second part to swap with: the unit's sentence tells whose it is.
    assert_kept_and_caught(
        NOTES["cot"],
        kept=(
            'Kojima et al. found that adding "Let\'s think step by step" helps zero-shot.',
            "Wei et al. showed that few-shot CoT examples improve arithmetic and logic tasks.",
        ),
        caught=(
            'Wei et al. (2022) found that adding "Let\'s think step by step" helps zero-shot.',
            "According to Kojima et al., few-shot CoT examples improve arithmetic.",
        ),
        vectors=vectors,
    )


def test_up_or_down_completing_a_verb_points_no_way(vectors):
    # "splits the task up" and "breaks the task down" say the same; "goes up" still points.
    notes = (
        "Orchestrator-worker: a planner breaks the task down and dispatches subtasks to "
        "workers.\n\nWhen a model overfits, its validation loss goes up while its training "
        "loss goes down.\n"
    )
    assert_kept_and_caught(
        notes,
        kept=(
            "In an orchestrator-worker setup, a planner splits the task up and hands the "
            "subtasks to workers.",
        ),
        caught=("When a model overfits, its validation loss goes down.",),
        vectors=vectors,
    )


def test_a_number_labelling_one_step_does_not_count_the_steps(vectors):
    # "Step 3" names the third step; only the sentence before the steps counts them.
    notes = (
        "QLoRA stores parameters in a lower precision. Followings are the 4 steps of "
        "implementing QLoRA to fine tune a LLM:\n\n  Step 1: 4-bit NormalFloat\n\n"
        "The weights are quantized to 4 bits.\n\n Step 2: Double Quantization\n\n"
        "The quantization constants are quantized too.\n\n Step 3: Paged Optimizer\n\n"
        "In the third step, QLoRA employs a paged optimizer.\n\n Step 4: LoRA\n\n"
        "The last step trains low-rank adapters.\n"
    )
    assert_kept_and_caught(
        notes,
        kept=("Implementing QLoRA takes four steps.",),
        caught=("Implementing QLoRA takes three steps.",),
        vectors=vectors,
    )


def test_a_list_holding_every_term_the_notes_know_supports_its_member(vectors):
    # A list embeds far from a claim about one member; what the claim adds ("stands out")
    # are words the notes never use. Words the notes use elsewhere ("fast", "approximate
    # index") are not taken as held.
    notes = source_text("knowledge_base/08_rag.md")
    assert_each(
        SUPPORTED,
        (
            "Among the vector store options listed, FAISS stands out as a library rather than "
            "a database.",
        ),
        notes,
        vectors,
    )
    assert_each(
        NOT_IN_NOTES,
        (
            "Among the vector store options, FAISS stands out as a library with a fast "
            "approximate index.",
        ),
        notes,
        vectors,
    )


def test_embed_is_read_as_embedded_and_embedding_are(vectors):
    # The stemmer cuts "embed" to "emb" and keeps "embedded" whole: one verb, two keys, and a
    # claim using both forms held short of one.
    assert_each(
        SUPPORTED,
        (
            "Your questions should be embedded with exactly the same model that was used to "
            "embed your documents.",
        ),
        source_text("knowledge_base/08_rag.md"),
        vectors,
    )


def test_a_negation_reaches_past_being_to_what_is_denied(vectors):
    # "rather than the raw scores being added": the gerund is part of what is denied, where
    # "is" would open what the sentence says.
    notes = (
        "BM25 scores and cosine similarities are on different scales, so instead of adding "
        "scores we fuse ranks.\n"
    )
    assert_kept_and_caught(
        notes,
        kept=(
            "Because BM25 scores and cosine similarities sit on different scales, the ranks are "
            "fused rather than the raw scores being added.",
        ),
        caught=(
            "Because BM25 scores and cosine similarities sit on different scales, the raw "
            "scores are added rather than the ranks being fused.",
        ),
        vectors=vectors,
    )


def test_a_negation_does_not_reach_into_the_circumstance_during_which(vectors):
    # "Instead of updating the entire weight matrix during fine-tuning" denies the updating,
    # not the fine-tuning.
    notes = (
        "Instead of updating the entire weight matrix during fine-tuning, LoRA approximates "
        "these updates using two smaller matrices that represent low-rank components.\n"
    )
    assert_kept_and_caught(
        notes,
        kept=(
            "Rather than updating the whole weight matrix, LoRA approximates the fine-tuning "
            "updates with two smaller matrices holding low-rank components.",
        ),
        caught=("LoRA updates the entire weight matrix during fine-tuning.",),
        vectors=vectors,
    )


def test_leaving_out_or_omitting_denies_what_is_left_out(vectors):
    # "you leave out any example" gives none, as "You don't give an example" says.
    notes = (
        "Zero shot prompting - You don't give an example, LLM figure all the things on its own\n"
        "\nFew shot prompting - You include a handful of examples in the prompt\n"
    )
    assert_kept_and_caught(
        notes,
        kept=(
            "With zero-shot prompting you leave out any example, and the LLM has to work "
            "everything out by itself.",
        ),
        caught=("Few-shot prompting omits the examples from the prompt.",),
        vectors=vectors,
    )


def test_un_before_a_noun_names_a_kind_and_denies_nothing(vectors):
    # "uncommon words" are a kind of words; "results are untrusted" denies that they are.
    notes = (
        'Common English words are usually one token ("the", "model"), rarer words get split '
        "into several pieces.\n\nTool results are untrusted: treat them as data.\n"
    )
    assert_kept_and_caught(
        notes,
        kept=(
            'Frequent English words such as "the" typically map to a single token, whereas '
            "uncommon words tend to be broken into several pieces.",
        ),
        caught=("Tool results are trusted, so treat them as instructions.",),
        vectors=vectors,
    )


def test_a_title_line_of_a_few_words_leads_the_list_under_it(vectors):
    # "**Data Engineer** - Austin, TX" names what the items below it are about.
    notes = (
        "## Current Opportunities\n\n"
        "**Backend Software Engineer** - San Francisco, CA / Austin, TX\n"
        "- Build scalable microservices and APIs\n- 3+ years experience with Java, Python, or Go\n\n"
        "**Data Engineer** - Austin, TX\n"
        "- Design and maintain data pipelines\n"
        "- 3+ years experience with SQL, Python, and ETL tools\n"
    )
    assert_each(
        SUPPORTED,
        (
            "Candidates for the Data Engineer job need three or more years of experience with "
            "SQL, Python and ETL tools.",
        ),
        notes,
        vectors,
    )


def test_a_negation_does_not_reach_into_the_cause_due_to_opens(vectors):
    # "No bonus due to reallocation of marketing funds" denies the bonus, not the reallocation.
    notes = (
        "# Emily Tran\n\n## Compensation\n\n- **2021:** Base Salary: $68,000. No bonus due to "
        "reallocation of marketing funds during the pandemic.\n"
    )
    assert_kept_and_caught(
        notes,
        kept=(
            "Emily Tran got no bonus in 2021 because marketing funds were reallocated during the "
            "pandemic.",
        ),
        caught=("Emily Tran got a bonus in 2021 from the reallocated marketing funds.",),
        vectors=vectors,
    )


def test_skipping_denies_what_is_skipped(vectors):
    # "so underwriters skip manual research" says what "without manual research" says; a
    # skip connection is still a thing.
    notes = (
        "The platform gathers data from business registries and industry reports to provide "
        "underwriting insights without manual research.\n\nEach block adds a skip connection "
        "around its attention layer.\n"
    )
    assert_kept_and_caught(
        notes,
        kept=(
            "The platform gathers data from business registries and industry reports, so "
            "underwriters skip manual research.",
            "Each block has a skip connection around its attention layer.",
        ),
        caught=("Underwriting insights from the platform still require manual research.",),
        vectors=vectors,
    )


def test_a_retrieved_passage_is_read_under_its_documents_title(vectors):
    # A chunk from the middle of "Priya Sharma.md" starts at its own heading; the document's
    # title still names whom every line of it is about, and no other person's claim is held.
    body = (
        "## Compensation History\n"
        "- **2023:** Base Salary: $145,000 + Bonus: $25,000\n"
        "- **2022:** Base Salary: $138,000 + Bonus: $22,000\n"
    )
    metadata = {"source": "employees/Priya Sharma.md", "title": "Priya Sharma"}
    checker = ClaimChecker([Passage(1, "employees/Priya Sharma.md", body, metadata, 1.0)], vectors)
    held = checker.check(
        "Priya Sharma's 2022 compensation consisted of a $138,000 base salary plus a $22,000 bonus."
    )
    assert held.verdict == SUPPORTED, held.reason
    other = checker.check("Emily Tran's 2022 compensation consisted of a $138,000 base salary.")
    assert other.verdict != SUPPORTED, other.reason


def test_growth_and_decline_point_opposite_ways(vectors):
    notes = (
        "Key Achievements: Contributed to the launch of a customer referral program that "
        "resulted in a 15% growth in B2C customers.\n"
    )
    assert_kept_and_caught(
        notes,
        kept=("The customer referral program led to 15% growth in B2C customers.",),
        caught=("The customer referral program led to a 15% decline in B2C customers.",),
        vectors=vectors,
    )


def test_a_year_after_a_possessive_is_a_year_not_a_count(vectors):
    # "Emily Tran's 2023 bonus" dates the bonus; it is not 2,023 of them.
    notes = (
        "# Emily Tran\n\n## Performance\n\n- **2023:** Exceeded all marketing targets.\n"
        "  Bonus: $10,000 for exceeding annual targets.\n"
    )
    assert_kept_and_caught(
        notes,
        kept=("Emily Tran's 2023 bonus of $10,000 was given for exceeding her annual targets.",),
        caught=("Emily Tran's 2023 bonus of $25,000 was given for exceeding her annual targets.",),
        vectors=vectors,
    )


def test_more_than_a_number_bounds_an_amount_and_compares_no_two_things(vectors):
    # "more than 75,000 members" is a threshold; 10 and 75,000 are not two sides' numbers.
    notes = (
        "Volume Discounts: If member count exceeds 75,000 at renewal, Harmony receives 10% "
        "discount on incremental cost.\n"
    )
    assert_kept_and_caught(
        notes,
        kept=(
            "If Harmony has more than 75,000 members when the contract renews, it gets a 10% "
            "discount on the incremental cost.",
        ),
        caught=(
            "If Harmony has more than 75,000 members when the contract renews, it gets a 20% "
            "discount on the incremental cost.",
        ),
        vectors=vectors,
    )


@pytest.mark.skipif(not (SHARED / "eval").is_dir(), reason="../shared is not here")
def test_a_number_only_the_lead_writes_is_placed_by_the_lead(vectors):
    # "1. Onboarding: 2-week implementation program including:" over "Training for up to 8
    # underwriters and administrators": the 2 weeks are the lead's, the 8 people the item's.
    # A number the lead writes, moved onto what the item counts, is still contradicted.
    notes = source_text("insurellm/contracts/Contract with Evergreen Life Insurance for Lifellm.md")
    assert_kept_and_caught(
        notes,
        kept=(
            "Evergreen's 2-week onboarding program includes training for as many as 8 "
            "underwriters and administrators.",
        ),
        caught=(
            "Evergreen's onboarding program includes training for up to 2 underwriters and "
            "administrators.",
        ),
        vectors=vectors,
    )


def test_a_name_of_two_words_is_held_where_the_notes_write_it_as_one(vectors):
    # A learner writes "huggingface"; a summary writes "Hugging Face". Two names apart stay
    # two names.
    notes = (
        "There are many open-source and private model hubs available like the huggingface "
        "model hub. These hubs also contain model cards which include information about the "
        "models.\n"
    )
    assert check(
        "Model hubs like the Hugging Face hub also provide model cards that give information "
        "about each model.",
        notes,
        vectors,
    ).supported
    assert not check(
        "Model hubs like the Hugging hub and the Face hub provide model cards.", notes, vectors
    ).supported


def test_an_item_naming_only_examples_lends_them_to_the_items_beside_it(vectors):
    # "eg: BERT, ROBERTA" names examples of what its lead speaks of: the item beside it says
    # its fact of them. Examples under another lead lend nothing.
    notes = (
        "- Autoencoding models: encoder\n"
        "    - pre-trained using **Masked Language Modeling(MLM)**\n"
        "    - objective: reconstruct text\n"
        "    - eg: BERT, ROBERTA\n"
        "- Autoregressive models: decoder\n"
        "    - pre-trained using **Causal Language Modeling(CLM)**\n"
        "    - objective: predict next token\n"
        "    - eg: GPT, BLOOM\n"
    )
    assert check(
        "Encoder-based autoencoding models like BERT and RoBERTa are pre-trained using masked "
        "language modeling.",
        notes,
        vectors,
    ).supported
    assert not check(
        "Models like GPT and BLOOM are pre-trained using masked language modeling.", notes, vectors
    ).supported


def test_a_size_before_model_names_the_model_and_places_its_numbers(vectors):
    # "a 70B model" says which model, as "Llama 3 70B" does: the 40 GB beside it are its own,
    # and the other model's figures are not.
    notes = (
        "Latency and hardware: a 7-8B model in 4-bit fits in about 5-6 GB of GPU memory; a 70B "
        "model needs about 40 GB even in 4-bit.\n"
    )
    assert_kept_and_caught(
        notes,
        kept=(
            "Even quantized to 4 bits, a 70B model requires roughly 40 GB of GPU memory.",
            "Quantized to 4-bit, a seven- or eight-billion-parameter model fits in roughly 5 to "
            "6 GB of GPU memory.",
        ),
        caught=(
            "A 7-8B model in 4-bit needs about 40 GB of GPU memory.",
            "A 70B model in 4-bit fits in about 5-6 GB of GPU memory.",
        ),
        vectors=vectors,
    )


def test_a_title_line_over_an_items_lines_places_its_number_in_each(vectors):
    # The item's first line names what each line under it speaks of: the 1B parameters are
    # the training's and the storing's, whatever "1 parameter = 4 bytes" counts.
    notes = (
        "- approximate GPU RAM for 1B parameters  \n"
        "1 parameter = 4 bytes(32-bit float)  \n"
        "1B parameters = 4*10^9 = 4GB  \n"
        "memory to store model: 4GB @ 32bit full precision  \n"
        "memory to train model: 24GB @ 32bit full precision  \n"
        "too much for consumer hardware  \n"
    )
    assert_kept_and_caught(
        notes,
        kept=(
            "Training a 1B-parameter model at 32-bit full precision takes about 24GB of GPU "
            "memory.",
            "Storing a one-billion-parameter model at 32-bit full precision takes roughly 4 GB "
            "of GPU memory.",
        ),
        caught=(
            "Training a 1B-parameter model at 32-bit full precision takes about 4GB of GPU memory.",
            "Storing a 2B-parameter model at 32-bit full precision takes about 4GB of memory.",
            # The lines alike by the words beside 24GB are told apart by the storing.
            "Storing a model with 1B parameters at 32-bit full precision takes about 24GB of "
            "GPU memory.",
        ),
        vectors=vectors,
    )


def test_a_number_counting_part_of_what_the_claims_counts_is_in_its_place(vectors):
    # "32 bits per parameter" counts the bits of "32-bit floating point": the 8 beside it is
    # another precision's, not a better place for the 32.
    notes = (
        "For example, switching from FP32 (32 bits per parameter) to INT8 (8 bits per "
        "parameter) can reduce the model size by a factor of four.\n"
    )
    assert_kept_and_caught(
        notes,
        kept=(
            "Moving a model from 32-bit floating point to 8-bit integers can shrink it to a "
            "quarter of its original size.",
        ),
        caught=("Switching from FP32 to INT8 can reduce the model size by a factor of eight.",),
        vectors=vectors,
    )


def test_how_often_something_recurs_is_a_value_another_period_contradicts(vectors):
    # "monthly" and "each month" are one period, "quarterly" another, as two numbers differ.
    notes = (
        "Platform updates under the contract:\n"
        "- Quarterly feature releases\n"
        "- Monthly security patches and bug fixes\n"
    )
    assert_kept_and_caught(
        notes,
        kept=(
            "Under the contract, feature releases arrive every quarter.",
            "Security patches and bug fixes are delivered each month.",
        ),
        caught=(
            "Under the contract, feature releases arrive monthly, while security patches are "
            "delivered quarterly.",
            "Security patches and bug fixes are delivered bi-weekly.",
        ),
        vectors=vectors,
    )


def test_prior_to_puts_one_thing_before_another_as_before_does(vectors):
    notes = (
        "The contract will automatically renew for successive 12-month periods unless either "
        "party provides written notice of non-renewal at least 30 days prior to the expiration "
        "of the current term.\n"
    )
    assert_kept_and_caught(
        notes,
        kept=(
            "The contract renews automatically unless either party gives written notice at "
            "least 30 days before the current term expires.",
        ),
        caught=(
            "The contract renews automatically unless either party gives written notice up to "
            "30 days after the current term expires.",
        ),
        vectors=vectors,
    )


def test_a_change_written_with_a_list_of_qualities_runs_one_way(vectors):
    # "evolved from A to B" is a change; a comma between A's qualities does not end it.
    notes = (
        "Since our founding in 2015, we've evolved from a high-growth startup to a lean, "
        "profitable company with 32 highly talented employees.\n"
    )
    assert_kept_and_caught(
        notes,
        kept=(
            "Since its founding in 2015, the company has evolved from a high-growth startup "
            "into a lean, profitable company.",
        ),
        caught=(
            "Since its founding in 2015, the company has evolved from a lean, profitable "
            "company into a high-growth startup.",
        ),
        vectors=vectors,
    )


def test_a_name_defined_in_quotes_inside_brackets_glosses_its_party(vectors):
    notes = (
        'Parties Involved: This contract is entered into between Insurellm (the "Provider") and '
        'TechDrive Insurance (the "Customer").\n'
    )
    assert_kept_and_caught(
        notes,
        kept=("In the contract, Insurellm is the Provider and TechDrive Insurance the Customer.",),
        caught=(
            "In the contract, TechDrive Insurance is named the Provider and Insurellm is named "
            "the Customer.",
        ),
        vectors=vectors,
    )


def test_a_condition_asserts_nothing_in_the_unit_or_in_the_claim(vectors):
    # "unless ... notice of non-renewal" does not deny the renewal the sentence affirms; a
    # claim's "when" clause sets its case and denies nothing either.
    renewal = (
        "The contract will automatically renew for successive 12-month periods unless either "
        "party provides written notice of non-renewal at least 30 days prior to the expiration "
        "of the current term.\n"
    )
    assert_kept_and_caught(
        renewal,
        kept=("The contract renews automatically for successive 12-month periods.",),
        caught=("The contract does not renew automatically after its first 12 months.",),
        vectors=vectors,
    )
    privacy = (
        "2. **Data privacy**: can the data leave our network? If not, self-host open weights.\n"
    )
    assert check(
        "When your data is not allowed to leave your network, you should self-host open-weight "
        "models.",
        privacy,
        vectors,
    ).supported


def test_it_after_a_label_is_what_the_label_names(vectors):
    notes = "- max_length: long enough for your examples; memory grows with it.\n"
    assert_kept_and_caught(
        notes,
        kept=("Memory use grows with max_length.",),
        caught=(
            "You can raise max_length freely, because memory use does not grow as the maximum "
            "sequence length increases.",
        ),
        vectors=vectors,
    )


def test_a_misspelt_direction_word_still_points_its_way(vectors):
    # Learners' notes misspell: "Reducung" reduces.
    notes = (
        "- Quantization: Reducung the precision of the weights in the model, so it fits in "
        "memory and runs faster\n"
    )
    assert_kept_and_caught(
        notes,
        kept=("Quantization reduces the precision of the weights so the model fits in memory.",),
        caught=(
            "Quantization increases the precision of a model's weights so that it fits in memory.",
        ),
        vectors=vectors,
    )


def test_numbers_a_slash_pairs_belong_to_the_words_the_lead_pairs_the_same_way(vectors):
    notes = (
        "Example list prices (per 1M tokens, input / output):\n\n"
        "- GPT-4o: $2.50 / $10.00\n"
        "- GPT-4o mini: $0.15 / $0.60\n"
    )
    assert_kept_and_caught(
        notes,
        kept=("On GPT-4o mini, input tokens cost $0.15 per million and output tokens $0.60.",),
        caught=("On GPT-4o mini, input tokens cost $0.60 per million and output tokens $0.15.",),
        vectors=vectors,
    )


def test_what_one_labelled_item_says_given_to_its_neighbour_is_contradicted(vectors):
    notes = (
        "LLM-as-judge biases:\n\n"
        "- Position bias: prefers the first (or second) answer; run both orders and average.\n"
        "- Verbosity bias: prefers longer answers; tell it length is not a merit.\n"
        "- Self-preference: favours its own model family; use a different judge family.\n"
    )
    swapped = check(
        "Verbosity bias is when a judge favours answers from its own model family.", notes, vectors
    )
    assert swapped.verdict == CONTRADICTED, swapped.reason
    assert swapped.evidence[0].text.startswith("Self-preference")
    assert check("Verbosity bias means a judge prefers longer answers.", notes, vectors).supported
