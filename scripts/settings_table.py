"""Print the README's settings tables from the Settings groups, so the two never drift apart.

Usage: .venv/bin/python scripts/settings_table.py [--write]   (--write updates README.md)
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rag.settings import DEFAULT_MODEL, GROUPS, NO_COMPILE_MODEL

# Defaults that depend on the machine or on other settings, said in words.
SPECIAL_DEFAULTS = {
    "db_dir": "`.rag_db` (`<persistent_dir>/rag_db` on a Space with persistent storage)",
    "model": f"`{DEFAULT_MODEL}`"
    + (
        f" (`{NO_COMPILE_MODEL}` without llama-cpp-python)"
        if DEFAULT_MODEL.startswith("llamacpp:")
        else ""
    ),
    "upload_dir": "`<db_dir>/uploads`",
    "llm_threads": "all cores but one",
    "concurrency_limit": "1 for local models, 4 for APIs",
    "allowed_extensions": "`.md .txt .pdf .docx .html …` (JSON list)",
}


def default_of(name: str, field) -> str:
    if name in SPECIAL_DEFAULTS:
        return SPECIAL_DEFAULTS[name]
    value = field.default
    if value is None:
        return "—"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    return f"`{value}`"


# Between these two lines of README.md: the tables, one per group.
START = "<!-- settings tables: written by scripts/settings_table.py --write -->"
END = "<!-- end of settings tables -->"


def group_title(group: type) -> str:
    return group.__name__.removesuffix("Settings").lower()


def table() -> str:
    parts = []
    for group in GROUPS:
        doc = (group.__doc__ or "").strip()
        rows = [f"**{group_title(group)}** ({group.__name__}): {doc}", ""]
        rows += ["| variable | default | meaning |", "|---|---|---|"]
        for name, field in group.model_fields.items():
            default = default_of(name, field)
            rows.append(f"| `RAG_{name.upper()}` | {default} | {field.description} |")
        parts.append("\n".join(rows))
    return "\n\n".join(parts)


def main() -> None:
    if "--write" not in sys.argv:
        print(table())
        return
    readme = Path(__file__).resolve().parent.parent / "README.md"
    text = readme.read_text(encoding="utf-8")
    start = text.index(START) + len(START)
    end = text.index(END, start)
    readme.write_text(text[:start] + "\n" + table() + "\n" + text[end:], encoding="utf-8")


if __name__ == "__main__":
    main()
