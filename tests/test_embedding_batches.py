"""Embedders batch texts by token count; the vectors still come back in the caller's order."""

import numpy as np
import pytest

from rag.embedding.embedders import SentenceTransformerEmbedder, longest_first
from rag.settings import DEFAULT_EMBEDDING_MODEL

# Mixed lengths, and a URL-dense line: few characters per token, so characters misorder it.
TEXTS = [
    "Short note.",
    "https://example.org/a/b?c=1&d=2 https://example.org/e/f?g=3&h=4 | x | y | z |",
    "A longer sentence about retrieval-augmented generation and how chunks are embedded "
    "before they are stored in the vector database for later search.",
    "Mid-length text on tokenizers.",
    "x",
]


def test_longest_first_orders_indices_by_token_count_descending():
    assert longest_first([3, 10, 5, 10]) == [1, 3, 2, 0]
    assert longest_first([]) == []


@pytest.fixture(scope="module")
def library_embedder():
    return SentenceTransformerEmbedder(DEFAULT_EMBEDDING_MODEL, batch_size=2)


@pytest.mark.parametrize("which", ["onnx", "sentence-transformers"])
def test_vectors_come_back_in_the_order_the_texts_were_given(which, embedder, library_embedder):
    chosen = embedder if which == "onnx" else library_embedder
    together = np.array(chosen.embed_documents(TEXTS))
    one_by_one = np.array([chosen.embed_query(text) for text in TEXTS])
    assert np.abs(together - one_by_one).max() < 1e-5


@pytest.mark.parametrize("which", ["onnx", "sentence-transformers"])
def test_token_counts_run_past_128_up_to_the_models_256_token_limit(
    which, embedder, library_embedder
):
    # all-MiniLM-L6-v2's tokenizer.json truncates at 128; the model reads 256. A count capped
    # at 128 would leave every longer chunk unsorted.
    chosen = embedder if which == "onnx" else library_embedder
    texts = ["two words", " ".join(f"w{i}" for i in range(90)), " ".join(["word"] * 400)]
    counts = chosen.count_tokens(texts)
    assert counts[0] == 4  # [CLS] two words [SEP]
    assert 128 < counts[1] < 256
    assert counts[2] == 256
    assert counts == library_embedder.count_tokens(texts)
