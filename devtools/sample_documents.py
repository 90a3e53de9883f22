"""Test documents written by the tests themselves, one per format, each with its own fact."""

from __future__ import annotations

from pathlib import Path

# format -> (file name, a fact found only in that file, a question whose answer is that fact)
FACTS = {
    "md": (
        "lora_notes.md",
        "The LoRA rank used in the lab was 24 with alpha 48.",
        "What LoRA rank was used in the lab?",
    ),
    "txt": (
        "tokenizer_notes.txt",
        "The Zephyrine tokenizer splits words into 7 pieces on average.",
        "How many pieces does the Zephyrine tokenizer split words into?",
    ),
    "pdf": (
        "quantization.pdf",
        "Quokka quantization stores each weight in 3 bits.",
        "How many bits per weight does Quokka quantization use?",
    ),
    "docx": (
        "agents.docx",
        "The Marmalade agent framework calls tools through a planner named Otto.",
        "What is the planner of the Marmalade agent framework called?",
    ),
    "html": (
        "benchmarks.html",
        "The Heliotrope benchmark has 1312 questions about chemistry.",
        "How many questions does the Heliotrope benchmark have?",
    ),
}

FILLER = (
    "These notes were taken during the course. They cover several topics and include "
    "examples, definitions and reminders for the exam. "
)


def write_markdown(path: Path, fact: str) -> None:
    path.write_text(
        f"# Fine-tuning notes\n\n## Setup\n\n{FILLER}\n\n## LoRA settings\n\n{fact}\n",
        encoding="utf-8",
    )


def write_pdf(path: Path, pages: list[str]) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 8, text)
    pdf.output(str(path))


def write_docx(path: Path, title: str, paragraphs: list[str]) -> None:
    import docx

    document = docx.Document()
    document.add_heading(title, level=1)
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    document.save(str(path))


def write_sample_documents(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {kind: folder / name for kind, (name, _, _) in FACTS.items()}
    write_markdown(paths["md"], FACTS["md"][1])
    paths["txt"].write_text(f"Tokenizer notes\n\n{FILLER}\n\n{FACTS['txt'][1]}\n", encoding="utf-8")
    write_pdf(paths["pdf"], [f"Quantization, page one. {FILLER}", f"Page two. {FACTS['pdf'][1]}"])
    write_docx(paths["docx"], "Agents", [FILLER, FACTS["docx"][1]])
    paths["html"].write_text(
        "<html><head><title>Benchmarks</title></head><body><h1>Benchmarks</h1>"
        f"<p>{FILLER}</p><h2>Chemistry</h2><p>{FACTS['html'][1]}</p></body></html>",
        encoding="utf-8",
    )
    return paths
