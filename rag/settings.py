"""One typed settings object for the whole app, in groups.

Loaded from environment variables prefixed ``RAG_`` and from a ``.env`` file in the working
directory. Nothing here runs at import time: call :func:`load_settings` (or build ``Settings``
with keyword arguments, as the tests do) and pass the object to whatever needs it.

Each group (store, embedding, ingest, retrieval, generation, server) is a class of its own, and
:class:`Settings` inherits them all: a part of the app can say which group it reads by the
type it asks for (``IngestSettings``), while ``settings.top_k`` still works everywhere and the
environment names stay flat (``RAG_TOP_K``). The README's settings table is printed group by
group from these classes (``scripts/settings_table.py``).
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: The answer mode that quotes the notes (rag/answer/modes.py); named here, the bottom layer,
#: because the defaults below are it.
EXTRACTIVE = "extractive:notes"
# Answers quoted from the notes, each sentence with its [n]: measured against the bundled
# SmolLM2 on answer evaluation it finds more of the expected keywords, cites every answer,
# invents no number and is ready at once (benchmarks/README.md, "Answer modes").
DEFAULT_MODEL = EXTRACTIVE
# The default where llama-cpp-python is not installed (it has no wheel on PyPI, so a Space built
# from requirements.txt lacks it, and the bundled GGUF with it): answers quoted from the notes.
NO_COMPILE_MODEL = EXTRACTIVE
# A model that needs nothing (no compiling, no download, no server): it answers while the
# configured model is downloaded in the background as the app starts (rag/app/model_fetch.py).
READY_MODEL = EXTRACTIVE
DEFAULT_EMBEDDING_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
LOCAL_DB_DIR = Path(".rag_db")
# Where a Hugging Face Space mounts its persistent storage, when it has some.
SPACE_PERSISTENT_DIR = Path("/data")


def default_model() -> str:
    """The best default chat model among the installed packages.

    Keyed on what is installed, not on where the app runs: any install without the compiled
    llama.cpp extra gets the best model that needs no compiling.
    """
    if DEFAULT_MODEL.startswith("llamacpp:") and importlib.util.find_spec("llama_cpp") is None:
        return NO_COMPILE_MODEL
    return DEFAULT_MODEL


def on_space() -> bool:
    """Hugging Face sets SPACE_ID in every Space."""
    return bool(os.environ.get("SPACE_ID"))


def _default_db_dir(data: dict[str, Any]) -> Path:
    # A Space with persistent storage mounts it at persistent_dir (/data); everything else on a
    # Space is wiped at restart, so the store lives there when it can.
    persistent = Path(data.get("persistent_dir") or SPACE_PERSISTENT_DIR)
    if on_space() and os.access(persistent, os.W_OK):
        return persistent / "rag_db"
    return LOCAL_DB_DIR


class _Group(BaseSettings):
    """Where every group reads from: ``RAG_<FIELD NAME>`` in the environment or ``.env``."""

    model_config = SettingsConfigDict(
        env_prefix="RAG_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )


class StoreSettings(_Group):
    """Documents and the store: where they are read from and kept."""

    knowledge_dir: Path = Field(
        Path("knowledge_base"), description="Folder of documents ingested by default."
    )
    persistent_dir: Path = Field(
        SPACE_PERSISTENT_DIR,
        description="A Hugging Face Space's persistent storage. On a Space (SPACE_ID set) the "
        "store defaults to <persistent_dir>/rag_db when this folder is writable; without it, "
        "to .rag_db, which each restart wipes (the notes are ingested again at start).",
    )
    db_dir: Path = Field(
        default_factory=_default_db_dir,
        description="Folder of the persistent Chroma store (ignored when chroma_host is set).",
    )
    collection: str = Field("knowledge", description="Chroma collection name.")
    chroma_host: str | None = Field(
        None, description="Host of a Chroma server; when set, the store is remote, not a folder."
    )
    chroma_port: int = Field(8000, description="Port of the Chroma server.")
    chroma_ssl: bool = Field(False, description="Use HTTPS to reach the Chroma server.")
    upload_dir: Path | None = Field(
        None, description="Where uploads are kept (default: <db_dir>/uploads)."
    )
    lock_wait_s: float = Field(
        60.0,
        ge=0,
        description="One job changes the store at a time; another one (the app's start, an "
        "upload, a delete, a re-ingest, `python -m ingest`) waits this long for it to finish, "
        "then is refused with a message naming it. `python -m ingest --wait SECONDS` sets it "
        "for one run.",
    )
    hnsw_ef_search: int = Field(
        500,
        ge=1,
        description="Candidates Chroma's vector index (HNSW) weighs in each search (its "
        "`ef_search`). A store of fewer chunks than this is searched exactly, so the same "
        "question finds the same chunks after every start: Chroma rebuilds a small store's "
        "index when it opens it, and an approximate search of a rebuilt index could miss a "
        "close chunk. Larger stores are searched with this breadth; lower it to trade recall "
        "for speed. Set on the collection when the store opens.",
    )
    store_watch_seconds: float = Field(
        1.0,
        ge=0,
        description="How often the web app checks, in the background, whether another "
        "process (`python -m ingest`, a second app) has changed a local store; when one has, "
        "the store is reopened and its vector index loaded then, not by the next question. "
        "0: checked only when a question comes. Unused with a Chroma server (nothing goes stale).",
    )

    @property
    def uploads_path(self) -> Path:
        return self.upload_dir or (self.db_dir / "uploads")

    @property
    def own_folders(self) -> tuple[Path, Path]:
        """The store's folder and the uploads: never documents of a knowledge folder that
        holds them."""
        return (self.db_dir, self.uploads_path)

    @property
    def store_is_temporary(self) -> bool:
        """On a Space, a local store outside the persistent storage is wiped at each restart."""
        if not on_space() or self.chroma_host:
            return False
        store = self.db_dir.resolve()
        return not store.is_relative_to(self.persistent_dir.resolve())


class EmbeddingSettings(_Group):
    """The embedding model, for documents and questions alike."""

    embedding_model: str = Field(
        DEFAULT_EMBEDDING_MODEL,
        description="sentence-transformers model name or local path. The default is bundled.",
    )
    embedding_batch_size: int = Field(
        16,
        ge=1,
        description="Chunks per forward pass of the embedding model; small batches of chunks "
        "sorted by token count waste little time on padding.",
    )
    embedding_runtime: Literal["onnx", "sentence-transformers"] = Field(
        "onnx",
        description="`onnx`: the model runs in ONNX Runtime (fastembed) from an export of its "
        "own weights, with no torch in the process; a model whose layout can't be exported "
        "runs in sentence-transformers anyway. `sentence-transformers`: always there (torch).",
    )
    embedding_quantized: bool = Field(
        False,
        description="Run the ONNX model quantised to int8 (ONNX Runtime's dynamic "
        "quantisation, per channel, made once beside the export), for CPUs with int8 "
        "instructions (VNNI, AMX): on an AVX2-only CPU it gains little (1.03x on a full "
        "ingest), and InsureLLM retrieval scores a little lower, hence off. Its vectors are "
        "close to float32's, not equal: a store built with one refuses the other until "
        "rebuilt (`python -m ingest --reset`). Only with the `onnx` runtime.",
    )
    embedding_cache_dir: Path | None = Field(
        None,
        description="Where the embedding model's ONNX export is kept: made once from the "
        "model's own weights (torch is needed then), read by every later run (default: "
        "~/.cache/coursenotes-rag; <persistent_dir>/cache on a Space with persistent storage).",
    )


class IngestSettings(_Group):
    """How documents are read, cut into chunks and written."""

    ingest_batch_chunks: int = Field(
        256,
        ge=1,
        description="Chunks embedded and written together by ingestion (sorted by length first).",
    )
    watch_debounce_s: float = Field(
        2.0, gt=0, description="`ingest --watch` waits for this much quiet before re-ingesting."
    )
    max_pdf_stream_mb: float = Field(
        20.0,
        gt=0,
        description="A PDF stream inflating beyond this is refused (decompression bombs).",
    )
    chunk_size: int = Field(800, ge=100, description="Target chunk size in characters.")
    chunk_overlap: int = Field(100, ge=0, description="Characters shared by neighbouring chunks.")
    max_file_mb: float = Field(25.0, gt=0, description="Files larger than this are refused.")
    allowed_extensions: list[str] = Field(
        default=[
            ".md",
            ".markdown",
            ".txt",
            ".pdf",
            ".docx",
            ".html",
            ".htm",
            ".rst",
            ".csv",
            ".pptx",
            ".odt",
            ".epub",
            ".rtf",
            ".eml",
            ".xml",
            ".json",
        ],
        description="File types accepted for ingestion and upload.",
    )

    @field_validator("allowed_extensions")
    @classmethod
    def _normalise_extensions(cls, value: list[str]) -> list[str]:
        return sorted({("." + ext.lower().lstrip(".")) for ext in value})


class RetrievalSettings(_Group):
    """How passages are found for a question, and how retrieval is evaluated."""

    top_k: int = Field(
        5,
        ge=1,
        le=50,
        description="Hits retrieved per answer, each widened into a passage (one document's "
        "are merged, so the model may get fewer passages).",
    )
    hybrid: bool = Field(
        True, description="Fuse BM25 keyword search with dense search (off: dense only)."
    )
    candidates: int = Field(40, ge=1, description="Candidates each retriever proposes for fusion.")
    dense_weight: float = Field(
        0.5,
        ge=0.0,
        le=1.0,
        description="Share of the embedding score in the fused score; BM25 gets the rest.",
    )
    neighbour_weight: float = Field(
        0.28,
        ge=0.0,
        le=1.0,
        description="Share of the better neighbouring chunk's score added to a chunk's own.",
    )
    window_chars: int = Field(
        1500,
        ge=0,
        description="Each hit is widened with the chunks around it, up to this many characters "
        "(0: chunks alone).",
    )
    merge_documents: bool = Field(
        True,
        description="The windows found in one document (one page of a PDF) are given as one "
        "passage, excerpts in document order: each source once, with all that was found in it.",
    )
    split_questions: bool = Field(
        True,
        description="A question that joins documents (several questions in one, a "
        'comparison, "the X that …", "across all …") is searched part by part, and '
        "its passages keep the best match of each part, or one passage for each document "
        "it gathers from, within top_k (rag/retrieval/question.py). Off: every question is "
        "searched as a whole.",
    )
    eval_tests: Path | None = Field(
        None,
        description="Tests file (course format, .jsonl) the Evaluate tab offers first.",
    )
    eval_docs: Path | None = Field(
        None,
        description="A folder the Evaluate tab may evaluate on besides the knowledge folder "
        "and uploads (folders elsewhere are refused).",
    )
    history_turns: int = Field(
        2, ge=0, description="Earlier user turns folded into the retrieval query of a follow-up."
    )
    rewrite_queries: bool = Field(
        False, description="Ask the chat model to rewrite follow-ups into standalone questions."
    )
    min_relevance: float = Field(
        0.28,
        ge=0.0,
        le=1.0,
        description="An answer needs a sentence of the retrieved passages matching the "
        "question at least this well (embedding, and term overlap with the sentence, its "
        "document's name and headings; 0..1); below it the answer "
        "says the notes don't cover the question and no model is asked (0: always answer).",
    )


class GenerationSettings(_Group):
    """The chat model and how it answers."""

    model: str = Field(
        default_factory=default_model,
        description="What answers: extractive:notes (the notes' own sentences, no language "
        "model) or a chat model as backend:model, e.g. openai:gpt-4.1-mini, ollama:llama3.2, "
        "hf:Qwen/Qwen2.5-1.5B-Instruct, llamacpp:/path/model.gguf, "
        "llamacpp:hf://OWNER/REPO/FILE.gguf (downloaded from the Hub: by the web app in the "
        "background as it starts, extractive:notes answering meanwhile; by the CLI first).",
    )
    max_source_tokens: int = Field(
        1500,
        ge=64,
        description="Most tokens of sources put in a prompt: on a CPU every prompt token delays "
        "the first answer token. Raise it for a model served on a GPU or by an API.",
    )
    max_history_tokens: int = Field(
        4000,
        ge=0,
        description="Most tokens of earlier turns resent with each question (also at most a "
        "quarter of the context window): large-context API models would otherwise be sent a "
        "whole long conversation every turn.",
    )
    temperature: float = Field(0.2, ge=0.0, le=2.0, description="Sampling temperature.")
    max_new_tokens: int = Field(384, ge=1, description="Longest answer, in tokens.")
    context_window: int = Field(
        4096,
        ge=512,
        description="Context size in tokens of local models (llama.cpp n_ctx, Ollama num_ctx, "
        "at most this for hf) and of OpenAI-compatible models not in the built-in table.",
    )
    llm_threads: int | None = Field(
        None, description="CPU threads for llama.cpp (None: all cores but one)."
    )
    llm_gpu_layers: int = Field(0, description="Layers llama.cpp offloads to a GPU (-1: all).")
    request_timeout_s: float = Field(
        60.0,
        gt=0,
        description="Seconds a remote model (openai, ollama) may take to answer or between two "
        "pieces of its answer before the request fails.",
    )
    openai_api_key: SecretStr | None = Field(
        None, description="Key for the openai backend (falls back to OPENAI_API_KEY)."
    )
    openai_base_url: str | None = Field(
        None, description="OpenAI-compatible server URL (falls back to OPENAI_BASE_URL)."
    )
    ollama_host: str | None = Field(
        None, description="Ollama server URL (falls back to OLLAMA_HOST, then localhost:11434)."
    )


class ServerSettings(_Group):
    """The web app: what it accepts, and how many at once."""

    max_message_chars: int = Field(4000, ge=1, description="Longest chat message accepted.")
    max_upload_mb: float = Field(20.0, gt=0, description="Largest file accepted by upload.")
    concurrency_limit: int | None = Field(
        None, description="Answers generated at once (default: 1 for local models, 4 for APIs)."
    )
    queue_size: int = Field(
        32, ge=1, description="Questions that may wait in line; more are refused with a message."
    )
    startup_wait_s: float = Field(
        120.0,
        ge=0,
        description="The app ingests the knowledge folder in the background as it starts; a "
        "question asked before that is done waits this long for it, then is told to ask again.",
    )


class AccessSettings(_Group):
    """Who may change the library, and fair use of an app shared with others."""

    public: bool | None = Field(
        None,
        description="The app is reachable by others: without an admin (admin_password, or "
        "hf_oauth on a Space) its library is read-only. Default: yes on a Hugging Face Space or "
        "when bound to an address other than loopback (GRADIO_SERVER_NAME); set it when a "
        "proxy on the same machine makes a loopback app public.",
    )
    admin_password: SecretStr | None = Field(
        None,
        description="Password that makes a browser session an admin (upload, delete, re-ingest, "
        "evaluate) under *Admin sign-in*; set it as a secret, never in a file you push.",
    )
    admin_session_secret: SecretStr | None = Field(
        None,
        description="Key that signs the admin sign-in cookie (HTTP-only; a sign-in lasts until "
        "the browser closes, *Sign out*, or admin_session_hours). Set it, as a secret, to keep "
        "admins signed in when the app restarts; unset, each start makes a random key of its "
        "own, which signs everyone out.",
    )
    admin_session_hours: float = Field(
        12.0,
        gt=0,
        description="The longest an admin password sign-in lasts, however long the browser "
        "stays open: the cookie's signed token expires then.",
    )
    admin_users: list[str] = Field(
        default=[],
        description="Hugging Face user names who are admins when signed in on a Space with "
        "`hf_oauth: true` (JSON list). The Space's owner always is.",
    )
    questions_per_minute: int = Field(
        10,
        ge=0,
        description="Questions one browser session (or API client) may ask per minute; more are "
        "refused with a message saying when to ask again (0: no limit).",
    )
    client_questions_per_minute: int = Field(
        30,
        ge=0,
        description="Questions one client address may ask per minute, whatever sessions it "
        "opens (a script opening a new session per question is held to this); on a Hugging "
        "Face Space the address is the visitor's, which the Space's proxy forwards. People "
        "behind one address (a classroom's network) share it. Refused like the above, before "
        "any retrieval or model time (0: no limit).",
    )
    app_questions_per_minute: int = Field(
        120,
        ge=0,
        description="Questions the whole app takes per minute from everyone together, which "
        "bounds what it spends (a paid API's tokens, the CPU); more are refused like the above "
        "(0: no limit).",
    )
    evaluations_per_session: int = Field(
        1,
        ge=1,
        description="Evaluations one browser session (or API client) may run at once; the app "
        "runs one at a time in all, others wait in line.",
    )


#: The groups, in the order the README lists them.
GROUPS: tuple[type[_Group], ...] = (
    StoreSettings,
    EmbeddingSettings,
    IngestSettings,
    RetrievalSettings,
    GenerationSettings,
    ServerSettings,
    AccessSettings,
)


class Settings(
    AccessSettings,
    ServerSettings,
    GenerationSettings,
    RetrievalSettings,
    IngestSettings,
    EmbeddingSettings,
    StoreSettings,
):
    """Every knob of the app: all groups in one object. Environment: ``RAG_<FIELD NAME>``,
    e.g. ``RAG_TOP_K=8``."""


def load_settings(**overrides) -> Settings:
    """Settings from env and ``.env``; keyword overrides (e.g. CLI flags) win when not None."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
