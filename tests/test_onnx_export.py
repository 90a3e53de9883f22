"""The ONNX export of the embedding model: fused into ONNX Runtime's transformer kernels."""

from collections import Counter
from pathlib import Path

import onnx

from rag.bundled import resolve_embedding_model
from rag.embeddings import OnnxEmbedder, default_cache_dir
from rag.onnx_export import onnx_folder, read_layout
from rag.settings import DEFAULT_EMBEDDING_MODEL


def test_the_bundled_model_is_exported_with_fused_attention_and_layer_norms(embedder):
    assert isinstance(embedder, OnnxEmbedder)  # made the export, in the default cache
    layout = read_layout(Path(resolve_embedding_model(DEFAULT_EMBEDDING_MODEL)))
    graph = onnx.load(str(onnx_folder(layout, default_cache_dir()) / "model.onnx")).graph
    kernels = Counter(node.op_type for node in graph.node)
    # all-MiniLM-L6-v2 has 6 layers: one Attention, one BiasGelu and two skip layer norms each.
    assert kernels["Attention"] == 6 and kernels["BiasGelu"] == 6
    assert kernels["SkipLayerNormalization"] == 12 and kernels["EmbedLayerNormalization"] == 1
    assert "Softmax" not in kernels  # no unfused attention left
