"""Small notes, one per topic, each with a code word that changes with its version: a
re-ingest test edits a note and looks for the new word."""

from __future__ import annotations

from pathlib import Path

TOPICS = [
    "tokenizers",
    "embeddings",
    "attention",
    "quantization",
    "retrieval",
    "agents",
    "evaluation",
    "fine-tuning",
    "prompting",
    "serving",
    "safety",
    "datasets",
]


def code_word(topic: str, version: int) -> str:
    return f"{topic[:3]}-{version}{len(topic)}"


def note_text(topic: str, version: int) -> str:
    return (
        f"# Notes on {topic}\n\n## Summary\n\nWeek {version}: the {topic} lecture covered the "
        f"basics and a worked example. Code word for {topic}: {code_word(topic, version)}.\n"
    )


def write_notes(folder: Path, topics: list[str], version: int = 1) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for topic in topics:
        path = folder / f"{topic}.md"
        path.write_text(note_text(topic, version), encoding="utf-8")
        paths[topic] = path
    return paths
