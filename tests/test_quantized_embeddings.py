"""The int8 embedding model (ONNX Runtime's dynamic quantisation of the export) and the rule
that a store answers only to the vectors it was built with."""

from __future__ import annotations

import numpy as np
import pytest

from ingest.pipeline import Ingestor
from ingest.report import IngestError
from rag.embedding import (
    OnnxEmbedder,
    create_embedder,
    embedder_for,
    settings_vectors_name,
)
from rag.retrieval import HybridRetriever
from rag.settings import DEFAULT_EMBEDDING_MODEL, Settings
from rag.store import StoreError, open_store

from .support.notes import TOPICS, note_text, write_notes

# Measured on these texts: the lowest cosine between an int8 and a float32 vector of the same
# text is 0.98 (the 600-word one), the mean 0.989; with one weight scale per tensor instead of
# per channel it fell to 0.87, which this bound catches.
MIN_COSINE = 0.97


@pytest.fixture(scope="module")
def float32_and_int8():
    return (
        create_embedder(DEFAULT_EMBEDDING_MODEL, quantized=False),
        create_embedder(DEFAULT_EMBEDDING_MODEL, quantized=True),
    )


def test_the_int8_model_is_made_beside_the_export_and_gives_vectors_close_to_float32s(
    float32_and_int8,
):
    float32, int8 = float32_and_int8
    assert isinstance(int8, OnnxEmbedder) and int8.name == DEFAULT_EMBEDDING_MODEL + " (int8)"
    texts = [note_text(t, 1) for t in TOPICS] + ["x", "word " * 600, "Ünïcödé ☕ 数学"]
    full = np.array(float32.embed_documents(texts))
    quantized = np.array(int8.embed_documents(texts))
    assert quantized.shape == full.shape
    assert np.allclose(np.linalg.norm(quantized, axis=1), 1.0, atol=1e-4)  # still normalised
    cosines = (full * quantized).sum(axis=1)
    assert cosines.min() > MIN_COSINE, cosines
    assert not np.array_equal(full, quantized)  # really the other model
    # Each note is still nearest to itself across the two models.
    assert ((quantized @ full.T).argmax(axis=1) == np.arange(len(texts))).all()


def test_a_store_built_with_float32_refuses_the_int8_model_until_reset(tmp_path, float32_and_int8):
    float32, int8 = float32_and_int8
    notes = tmp_path / "notes"
    write_notes(notes, TOPICS[:3])
    plain = Settings(_env_file=None, db_dir=tmp_path / "db", embedding_quantized=False)
    quantized = plain.model_copy(update={"embedding_quantized": True})
    assert settings_vectors_name(plain) == float32.name
    assert settings_vectors_name(quantized) == int8.name
    store = open_store(plain)
    Ingestor.from_settings(plain, store, lambda: float32).ingest([notes])

    with pytest.raises(IngestError, match=r"--reset.*RAG_EMBEDDING_QUANTIZED"):
        Ingestor.from_settings(quantized, store, lambda: int8).ingest([notes])
    with pytest.raises(StoreError, match=r"\(int8\)"):
        HybridRetriever.from_settings(store, int8, quantized).retrieve("attention", 3)
    assert HybridRetriever.from_settings(store, float32, plain).retrieve("attention", 3)

    report = Ingestor.from_settings(quantized, store, lambda: int8).ingest([notes], reset=True)
    assert report.chunks_written == store.count() > 0
    assert HybridRetriever.from_settings(store, int8, quantized).retrieve("attention", 3)
    with pytest.raises(StoreError, match="RAG_EMBEDDING_QUANTIZED"):
        HybridRetriever.from_settings(store, float32, plain).retrieve("attention", 3)


def test_only_a_model_run_in_onnx_runtime_is_quantised():
    settings = Settings(
        _env_file=None, embedding_quantized=True, embedding_runtime="sentence-transformers"
    )
    assert settings_vectors_name(settings) == DEFAULT_EMBEDDING_MODEL


def test_an_empty_store_takes_any_vectors_and_a_filled_one_only_its_own(tmp_path, embedder):
    notes = tmp_path / "notes"
    write_notes(notes, TOPICS[:1])
    settings = Settings(_env_file=None, db_dir=tmp_path / "db")
    store = open_store(settings)
    store.check_vectors("anything")  # nothing recorded
    with store.writer_lock(0):
        store.record_vectors("another model")
    store.check_vectors(embedder.name)  # recorded, but no chunk holds its vectors

    Ingestor.from_settings(settings, store, lambda: embedder).ingest(
        [notes]
    )  # records the embedder's

    store.check_vectors(embedder.name)
    with pytest.raises(StoreError, match=r"holds vectors of the embedding model .*--reset"):
        store.check_vectors("another model")


def test_the_settings_build_the_embedder_they_name():
    settings = Settings(_env_file=None)
    assert embedder_for(settings).name == settings_vectors_name(settings)
