"""Render the sample quantization note (markdown) into knowledge_base/06_quantization.pdf.

Why this exists: one of the ten sample notes ships only as a PDF, so that ingestion of PDFs and
answers citing page numbers can be demonstrated. This script keeps that PDF reproducible from its
markdown source in scripts/sample_pdf_source/.

It needs fpdf2, which is not a project dependency; run it from a throwaway environment:

    python3 -m venv /tmp/pdfvenv && /tmp/pdfvenv/bin/pip install fpdf2
    /tmp/pdfvenv/bin/python scripts/make_sample_pdf.py

Only a small markdown subset is handled: headings, paragraphs, lists, tables and code fences.
"""

from __future__ import annotations

import argparse
import re
from datetime import datetime, timezone
from pathlib import Path

from fpdf import FPDF

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "scripts" / "sample_pdf_source" / "06_quantization.md"
TARGET = ROOT / "knowledge_base" / "06_quantization.pdf"
REPLACEMENTS = {
    "\u2014": "-",
    "\u2013": "-",
    "\u2018": "'",
    "\u2019": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u2026": "...",
    "\u00d7": "x",
    "\u2192": "->",
    "\u2248": "~",
}
HEADING_SIZES = {1: 18, 2: 14, 3: 12}


def latin1(text: str) -> str:
    """Core fonts (Helvetica, Courier) only cover latin-1: map or replace everything else."""
    for bad, good in REPLACEMENTS.items():
        text = text.replace(bad, good)
    return text.encode("latin-1", "replace").decode("latin-1")


def plain(text: str) -> str:
    """Drop inline markdown (bold, italics, code ticks) so the extracted text reads cleanly."""
    text = re.sub(r"\*\*(.+?)\*\*", r"\1", text)
    text = re.sub(r"(?<![\w*])\*([^*\s][^*]*?)\*(?![\w*])", r"\1", text)
    return latin1(text.replace("`", ""))


def render(markdown: str) -> FPDF:
    pdf = FPDF(format="A4")
    pdf.set_creation_date(datetime(2025, 1, 1, tzinfo=timezone.utc))  # byte-stable output
    pdf.set_title("Quantization - course notes")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):  # code fence: monospace, verbatim
            i += 1
            pdf.set_font("Courier", size=8.5)
            while i < len(lines) and not lines[i].startswith("```"):
                pdf.multi_cell(0, 4.5, latin1(lines[i]) or " ", new_x="LMARGIN", new_y="NEXT")
                i += 1
            pdf.ln(2)
        elif m := re.match(r"(#{1,3}) (.*)", line):
            pdf.ln(3)
            pdf.set_font("Helvetica", "B", HEADING_SIZES[len(m[1])])
            pdf.multi_cell(0, 8, plain(m[2]), new_x="LMARGIN", new_y="NEXT")
        elif line.startswith("|"):  # table: collect rows, skip the |---| separator
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                if not re.fullmatch(r"[|\-: ]+", lines[i]):
                    rows.append([plain(c.strip()) for c in lines[i].strip("|").split("|")])
                i += 1
            pdf.set_font("Helvetica", size=10)
            with pdf.table(first_row_as_headings=True, line_height=6) as table:
                for row in rows:
                    table.row(row)
            pdf.ln(2)
            continue
        elif line.strip():  # paragraph or list item: join wrapped continuation lines
            text = line.strip()
            while (
                i + 1 < len(lines)
                and lines[i + 1].strip()
                and not re.match(r"\s*([-*] |\d+\. |#|\||```)", lines[i + 1])
            ):
                i += 1
                text += " " + lines[i].strip()
            pdf.set_font("Helvetica", size=10.5)
            if item := re.match(r"([-*]|\d+\.) (.*)", text):
                bullet = "-" if item[1] in "-*" else item[1]
                pdf.set_x(pdf.l_margin + 4)
                pdf.multi_cell(
                    0, 5.5, f"{bullet} {plain(item[2])}", align="L", new_x="LMARGIN", new_y="NEXT"
                )
            else:
                pdf.ln(1.5)
                pdf.multi_cell(0, 5.5, plain(text), align="L", new_x="LMARGIN", new_y="NEXT")
                pdf.ln(1.5)
        i += 1
    return pdf


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", type=Path, default=SOURCE)
    parser.add_argument("target", nargs="?", type=Path, default=TARGET)
    args = parser.parse_args()
    pdf = render(args.source.read_text(encoding="utf-8"))
    args.target.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(args.target))
    print(f"wrote {args.target} ({pdf.page_no()} pages)")


if __name__ == "__main__":
    main()
