"""Print the README's settings table from the Settings model, so the two never drift apart.

Usage: .venv/bin/python scripts/settings_table.py [--write]   (--write updates README.md)
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rag.settings import Settings

# Defaults that depend on the machine or on other settings, said in words.
SPECIAL_DEFAULTS = {
    "db_dir": "`.rag_db` (`/data/rag_db` on a Space with persistent storage)",
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


def table() -> str:
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        rows.append(f"| `RAG_{name.upper()}` | {default_of(name, field)} | {field.description} |")
    return "\n".join(rows)


def main() -> None:
    if "--write" not in sys.argv:
        print(table())
        return
    readme = Path(__file__).resolve().parent.parent / "README.md"
    text = readme.read_text(encoding="utf-8")
    start = text.index("| variable | default | meaning |")
    end = text.index("\n\n", start)
    readme.write_text(text[:start] + table() + text[end:], encoding="utf-8")


if __name__ == "__main__":
    main()
