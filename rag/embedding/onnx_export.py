"""The embedding model in ONNX form: exported once from its own weights, then cached.

Ingestion and queries run the model through ONNX Runtime (:mod:`rag.embedding.embedders`), which starts
in a fraction of the time torch takes to import. No ONNX file ships with the bundled model and
nothing can be downloaded, so the export is made here, by torch's ONNX exporter from the
weights transformers loads, the first time a model is used; later runs find it in the cache
folder (``RAG_EMBEDDING_CACHE_DIR``) and never import torch.

The export is then fused by ONNX Runtime's own transformer optimizer (:func:`_fuse`): each
layer's attention, layer norms and GELU become single kernels, which takes ~12% off the
embedding time on a 2-core AVX2 CPU for the same vectors (to 2e-7). The fused graph is kept
only where it gives the unfused one's outputs on a sample, so a model the optimizer misreads
still runs, unfused.

With ``RAG_EMBEDDING_QUANTIZED`` the export is also quantised to int8 by ONNX Runtime's own
dynamic quantisation (:func:`quantized_file`), once, and kept beside it.

Only sentence-transformers folders laid out as Transformer -> mean or CLS pooling (->
Normalize), as the bundled all-MiniLM-L6-v2 is, are exported; :func:`read_layout` says which.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

#: Part of the cache key: a change to how models are exported makes new exports.
EXPORT_VERSION = "2"  # 2: fused by ONNX Runtime's transformer optimizer
#: Files of the model folder that the ONNX folder needs besides the model itself.
_TOKENIZER_FILES = ("tokenizer.json", "special_tokens_map.json", "config.json")
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
#: The int8 model, made from ``model.onnx`` in the same folder (per-channel weight scales).
QUANTIZED_FILE = "model_qint8_per_channel.onnx"


@dataclass(frozen=True)
class Layout:
    """What a sentence-transformers folder asks of whoever runs it."""

    folder: Path
    max_length: int
    pooling: str  # "mean" or "cls"
    normalize: bool


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def read_layout(folder: Path) -> Layout | None:
    """The layout of a sentence-transformers folder, or None when it isn't one we export."""
    try:
        modules = _read_json(folder / "modules.json")
        kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
        if kinds not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
            return None
        if modules[0].get("path"):
            return None
        pooling = _read_json(folder / modules[1]["path"] / "config.json")
        modes = [k for k, v in pooling.items() if k.startswith("pooling_mode") and v]
        if modes not in (["pooling_mode_mean_tokens"], ["pooling_mode_cls_token"]):
            return None
        config = _read_json(folder / "sentence_bert_config.json")
        if config.get("do_lower_case"):
            return None
        extra = folder / "config_sentence_transformers.json"
        if extra.exists():
            extra_config = _read_json(extra)
            if extra_config.get("prompts") or extra_config.get("default_prompt_name"):
                return None
        if not all((folder / name).is_file() for name in _TOKENIZER_FILES):
            return None
        max_length = int(config["max_seq_length"])
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return None
    pooling_mode = "mean" if modes == ["pooling_mode_mean_tokens"] else "cls"
    return Layout(folder, max_length, pooling_mode, kinds[-1] == "Normalize")


def _cache_key(layout: Layout) -> str:
    """Changes when the model's files or the way it is exported change."""
    parts = [EXPORT_VERSION, str(layout.folder.resolve()), str(layout.max_length)]
    for file in sorted(layout.folder.iterdir()):
        if file.is_file():
            stat = file.stat()
            parts.append(f"{file.name}:{stat.st_size}:{stat.st_mtime_ns}")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def onnx_folder(layout: Layout, cache_dir: Path) -> Path:
    """A folder with ``model.onnx`` and its tokenizer files, exported on first use."""
    target = cache_dir / "onnx" / f"{layout.folder.name}-{_cache_key(layout)}"
    if (target / "model.onnx").is_file():
        return target
    from filelock import FileLock

    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):  # two processes starting at once export once
        if not (target / "model.onnx").is_file():
            log.warning("exporting the embedding model %s to ONNX, once", layout.folder)
            scratch = Path(tempfile.mkdtemp(prefix=".export-", dir=target.parent))
            try:
                _export(layout, scratch)
                os.replace(scratch, target)
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
    return target


def _export(layout: Layout, out: Path) -> None:
    """``model.onnx`` (the transformer, its last hidden states out) and the tokenizer files."""
    import warnings

    import torch
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    # Eager attention: the optimizer's fusion recognises its graph, not SDPA's.
    model = AutoModel.from_pretrained(str(layout.folder), attn_implementation="eager").eval()
    tokenizer = AutoTokenizer.from_pretrained(str(layout.folder))
    names = [n for n in _INPUTS if n in tokenizer.model_input_names]

    class LastHiddenState(torch.nn.Module):
        """The model called by keyword, as the exporter's tracing can't."""

        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, *inputs):
            return self.model(**dict(zip(names, inputs, strict=True))).last_hidden_state

    sample = tokenizer(
        ["an example", "a longer example sentence"], padding=True, return_tensors="pt"
    )
    axes = {n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]}
    plain = out / "plain.onnx"
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            LastHiddenState(),
            tuple(sample[n] for n in names),
            str(plain),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )
    sample_inputs = {n: sample[n].numpy() for n in names}
    _fuse(plain, out / "model.onnx", model.config, sample_inputs)
    for name in _TOKENIZER_FILES:
        shutil.copy2(layout.folder / name, out / name)
    # The sentence-transformers limit (256 tokens for MiniLM), not the tokenizer's own (512).
    config = _read_json(layout.folder / "tokenizer_config.json")
    config["model_max_length"] = layout.max_length
    (out / "tokenizer_config.json").write_text(json.dumps(config), encoding="utf-8")


def _fuse(plain: Path, target: Path, config: Any, sample: dict[str, Any]) -> None:
    """``target``: ``plain`` with each layer's attention, layer norms and GELU fused into
    single ONNX Runtime kernels, when that gives the same outputs on ``sample``; else
    ``plain`` itself. ``plain`` is moved either way."""
    fused = target.with_suffix(".fused")
    if _optimize(plain, fused, config) and _same_outputs(plain, fused, sample):
        os.replace(fused, target)
        plain.unlink()
        return
    log.warning("kept the embedding model unfused (see the warning above)")
    fused.unlink(missing_ok=True)
    os.replace(plain, target)


def _optimize(plain: Path, fused: Path, config: Any) -> bool:
    """Write ONNX Runtime's transformer optimizer's version of ``plain`` to ``fused``."""
    heads, width = getattr(config, "num_attention_heads", 0), getattr(config, "hidden_size", 0)
    if not (heads and width):
        log.warning("the embedding model's config names no attention heads to fuse")
        return False
    from onnxruntime.transformers.optimizer import optimize_model

    try:
        # opt_level 0: the fusions alone, nothing tied to this machine's CPU.
        model = optimize_model(
            str(plain), model_type="bert", num_heads=heads, hidden_size=width, opt_level=0
        )
        model.save_model_to_file(str(fused))
    except Exception as exc:  # the optimizer's pattern matching is best effort
        log.warning("ONNX Runtime's optimizer failed on the embedding model: %s", exc)
        return False
    return True


def _same_outputs(a: Path, b: Path, inputs: dict[str, Any], tolerance: float = 1e-4) -> bool:
    import numpy as np
    import onnxruntime as ort

    def run(path: Path):
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        return session.run(None, inputs)[0]

    try:
        difference = float(np.abs(run(a) - run(b)).max())
    except Exception as exc:  # a fused graph ONNX Runtime can't load is no use either
        log.warning("the fused embedding model does not run: %s", exc)
        return False
    if difference > tolerance:
        log.warning("the fused embedding model's outputs differ by %.2g on a sample", difference)
    return difference <= tolerance


def quantized_file(folder: Path) -> str:
    """The name of the int8 model in ``folder`` (an :func:`onnx_folder`), made on first use.

    ONNX Runtime's dynamic quantisation: weights stored as int8, activations quantised per
    batch as it runs, so no calibration data is needed. Per-channel weight scales: with one
    scale per tensor the vectors strayed further from float32's (cosine down to 0.87 on a long
    text, against 0.98). Made for CPUs with int8 instructions (VNNI, AMX); on an AVX2-only
    CPU it gains little over the fused float32 graph (1.03x on a full ingest), at slightly
    lower InsureLLM retrieval scores, so not the default (benchmarks/README.md, "Ingestion").
    """
    target = folder / QUANTIZED_FILE
    if target.is_file():
        return QUANTIZED_FILE
    from filelock import FileLock

    with FileLock(str(target) + ".lock"):  # two processes starting at once quantise once
        if not target.is_file():
            import onnx
            from onnxruntime.quantization import QuantType, quantize_dynamic

            log.warning("quantising the embedding model in %s to int8, once", folder)
            scratch = folder / f".{QUANTIZED_FILE}.partial"
            quantize_dynamic(
                folder / "model.onnx",
                scratch,
                weight_type=QuantType.QInt8,
                per_channel=True,
                # The fused kernels (com.microsoft domain) escape ONNX's shape inference;
                # their tensors are float32.
                extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
            )
            os.replace(scratch, target)
    return QUANTIZED_FILE
