"""Notes on fine-tuning for a three-turn conversation, and the conversation: each turn a
follow-up whose answer is a different sentence of the notes (``rag chat`` and ``rag eval
--answers --conversations`` are tested on it)."""

from __future__ import annotations

import json
from pathlib import Path

NOTES = """\
# Fine-tuning notes

## QLoRA

QLoRA fine-tunes a model whose frozen base is loaded in 4-bit NF4, with LoRA adapters trained
in bf16. Paged optimizers move the optimizer state to CPU memory during spikes.

QLoRA cuts the GPU memory needed to fine-tune an 8B model from over 100 GB to about 16 GB, so
it fits on one consumer card.

## LoRA

LoRA freezes the base model and trains two thin matrices per layer. With rank 16 on Llama 3
8B, it trains about 13.6M parameters, 0.17 percent of the model.

LoRA alone keeps the base model in 16-bit, so fine-tuning an 8B model with it needs about 24 GB
of GPU memory.

## Tokenizers

A tokenizer splits text into tokens; GPT-2's vocabulary has 50,257 of them.
"""

#: (question, what its answer must hold), in the order they are asked.
CONVERSATION = [
    ("What is QLoRA?", "4-bit NF4"),
    ("How much memory does it save?", "16 GB"),
    ("And what about LoRA alone?", "24 GB"),
]


def write_conversation_notes(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "fine_tuning.md").write_text(NOTES, encoding="utf-8")
    return folder


def write_conversations_file(path: Path) -> Path:
    """:data:`CONVERSATION` as a conversations file (one line, three turns)."""
    turns = [{"question": q, "keywords": [fact]} for q, fact in CONVERSATION]
    path.write_text(json.dumps({"id": "qlora", "turns": turns}) + "\n", encoding="utf-8")
    return path
