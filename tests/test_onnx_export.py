"""The ONNX export of the embedding model: fused into ONNX Runtime's transformer kernels."""

from collections import Counter
from pathlib import Path

import onnx

from rag.core import resolve_embedding_model
from rag.embedding import OnnxEmbedder, default_cache_dir
from rag.embedding.onnx_export import onnx_folder, read_layout
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


def test_a_graph_with_nothing_to_fuse_is_kept_as_exported_and_no_scratch_file_stays(tmp_path):
    from types import SimpleNamespace

    from onnx import TensorProto, helper

    from rag.embedding.onnx_export import _fuse

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2])
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g", [x], [y])
    plain = tmp_path / "plain.onnx"
    onnx.save(helper.make_model(graph), str(plain))
    expected = plain.read_bytes()

    _fuse(plain, tmp_path / "model.onnx", SimpleNamespace(), {"x": None})  # no heads named

    assert (tmp_path / "model.onnx").read_bytes() == expected
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx"]
