"""The embedding model, for documents and questions alike: ONNX Runtime from an export of its
own weights, or sentence-transformers; and the sentence vectors answers are scored with."""

from rag.embedding.embedders import (
    Embedder,
    OnnxEmbedder,
    SentenceTransformerEmbedder,
    create_embedder,
    default_cache_dir,
    embedder_for,
    settings_vectors_name,
)
from rag.embedding.sentence_vectors import SentenceVectors

__all__ = [
    "Embedder",
    "OnnxEmbedder",
    "SentenceTransformerEmbedder",
    "SentenceVectors",
    "create_embedder",
    "default_cache_dir",
    "embedder_for",
    "settings_vectors_name",
]
