"""The recommended local models: the one place that says which model to pick for which machine.

Each entry names a real GGUF file on the Hugging Face Hub (for llama.cpp) and the same model
in Ollama's library, with what it costs: the download, the memory it needs, and its licence.
The model dropdown and ``python -m rag models`` offer these as "download" entries; the README
table is written from the same facts.

Sizes are the files' sizes on the Hub (Q4_K_M quantisations). "Memory" is what llama.cpp needs
to run the model with the app's default 4096-token context: the weights, the KV cache at that
context and its compute buffers, rounded up; on a GPU it is GPU memory.
"""

from __future__ import annotations

from dataclasses import dataclass

GB = 1_000_000_000


@dataclass(frozen=True)
class Recommended:
    key: str
    title: str
    #: The machine it suits, for the README and the model list.
    machine: str
    hf_repo: str
    hf_file: str
    size_bytes: int
    memory_gb: float
    licence: str
    licence_url: str
    #: The same model in Ollama's library, and the size `ollama pull` fetches.
    ollama_tag: str
    ollama_size_bytes: int

    @property
    def llamacpp_name(self) -> str:
        return f"llamacpp:hf://{self.hf_repo}/{self.hf_file}"

    @property
    def ollama_name(self) -> str:
        return f"ollama:{self.ollama_tag}"

    @property
    def page(self) -> str:
        return f"https://huggingface.co/{self.hf_repo}"


RECOMMENDED: tuple[Recommended, ...] = (
    Recommended(
        key="qwen2.5-1.5b",
        title="Qwen2.5 1.5B Instruct",
        machine="a laptop with 8 GB of RAM, CPU only",
        hf_repo="Qwen/Qwen2.5-1.5B-Instruct-GGUF",
        hf_file="qwen2.5-1.5b-instruct-q4_k_m.gguf",
        size_bytes=1_117_320_736,
        memory_gb=2.0,
        licence="Apache-2.0",
        licence_url="https://huggingface.co/Qwen/Qwen2.5-1.5B-Instruct/blob/main/LICENSE",
        ollama_tag="qwen2.5:1.5b",
        ollama_size_bytes=986_000_000,
    ),
    Recommended(
        key="llama3.2-3b",
        title="Llama 3.2 3B Instruct",
        machine="a laptop with 16 GB of RAM, CPU only",
        hf_repo="bartowski/Llama-3.2-3B-Instruct-GGUF",
        hf_file="Llama-3.2-3B-Instruct-Q4_K_M.gguf",
        size_bytes=2_019_377_696,
        memory_gb=3.5,
        licence="Llama 3.2 Community License",
        licence_url="https://huggingface.co/meta-llama/Llama-3.2-3B-Instruct/blob/main/LICENSE.txt",
        ollama_tag="llama3.2:3b",
        ollama_size_bytes=2_000_000_000,
    ),
    Recommended(
        key="qwen2.5-7b",
        title="Qwen2.5 7B Instruct",
        machine="a GPU with 8 GB of memory (RAG_LLM_GPU_LAYERS=-1); on a CPU it needs 16 GB "
        "of RAM and answers slowly",
        hf_repo="bartowski/Qwen2.5-7B-Instruct-GGUF",
        hf_file="Qwen2.5-7B-Instruct-Q4_K_M.gguf",
        size_bytes=4_683_074_240,
        memory_gb=6.0,
        licence="Apache-2.0",
        licence_url="https://huggingface.co/Qwen/Qwen2.5-7B-Instruct/blob/main/LICENSE",
        ollama_tag="qwen2.5:7b",
        ollama_size_bytes=4_700_000_000,
    ),
)


def by_name(name: str) -> Recommended | None:
    """The entry whose key, llama.cpp name or Ollama name is ``name``."""
    for entry in RECOMMENDED:
        if name in (entry.key, entry.llamacpp_name, entry.ollama_name):
            return entry
    return None


def human_size(size: int | None) -> str:
    """``1.1 GB``, ``986 MB``: decimal units, as the Hub and Ollama show sizes."""
    if size is None:
        return "size unknown"
    if size >= GB:
        return f"{size / GB:.1f} GB"
    if size >= 1_000_000:
        return f"{size / 1_000_000:.0f} MB"
    return f"{size / 1000:.0f} kB"
