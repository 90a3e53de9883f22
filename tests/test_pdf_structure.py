"""A PDF's tables are read as tables: each row with its header, so its numbers stay in their
columns (for retrieval, the answers and the checker)."""

from __future__ import annotations

from pathlib import Path

from ingest.loaders import load_file
from ingest.pdf_structure import aligned_tables, with_markdown_tables
from rag.answer import ClaimChecker
from rag.core import CONTRADICTED, SUPPORTED, Passage
from rag.embedding import SentenceVectors

HEADER = ["Precision", "Bytes per parameter", "8B model", "70B model"]
ROWS = [
    ["fp32", "4", "32 GB", "280 GB"],
    ["fp16 / bf16", "2", "16 GB", "140 GB"],
    ["int8", "1", "8 GB", "70 GB"],
]


def write_table_pdf(path: Path) -> None:
    """A page of prose around a table whose columns are laid out at fixed places, as a word
    processor prints them (no ruling lines)."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 7, "Memory for the weights is parameters times bytes per parameter:")
    for cells in [HEADER, *ROWS]:
        for cell in cells:
            pdf.cell(45, 7, cell)
        pdf.ln()
    pdf.multi_cell(0, 7, "So an 8B model at 4 bits takes about 4 GB, which fits on a laptop.")
    pdf.output(str(path))


def checker_of(path: Path, embedder) -> ClaimChecker:
    """The checker over the one page of the PDF at ``path``, as loaded for ingestion."""
    [page] = load_file(path, [".pdf"], 5)
    passage = Passage(1, path.name, page.page_content, {"source": path.name}, 1.0)
    return ClaimChecker([passage], SentenceVectors(embedder))


def test_a_pdf_table_is_loaded_as_a_markdown_table_between_its_prose(tmp_path):
    path = tmp_path / "memory.pdf"
    write_table_pdf(path)

    [page] = load_file(path, [".pdf"], 5)

    text = page.page_content
    assert "| Precision | Bytes per parameter | 8B model | 70B model |" in text
    assert "| fp16 / bf16 | 2 | 16 GB | 140 GB |" in text
    assert text.index("Memory for the weights") < text.index("| Precision")
    assert text.index("| int8 | 1 | 8 GB | 70 GB |") < text.index("So an 8B model")


def test_a_number_of_a_pdf_table_is_checked_against_its_own_column(tmp_path, embedder):
    path = tmp_path / "memory.pdf"
    write_table_pdf(path)
    checker = checker_of(path, embedder)

    kept = checker.check("In fp16 or bf16, the weights of a 70B model take about 140 GB.")
    moved = checker.check("In fp16 or bf16, the weights of a 70B model take about 280 GB.")

    assert kept.verdict == SUPPORTED, kept.reason
    assert kept.evidence[0].text.startswith("Precision: fp16 / bf16")
    assert moved.verdict == CONTRADICTED, moved.reason


def test_prose_with_wide_spaces_is_no_table():
    layout = (
        "Quantization  stores  weights  with fewer bits.\n"
        "It trades  a little  accuracy for  memory.\n"
        "Real usage  is higher  than this.\n"
    )
    assert aligned_tables(layout) == []
    plain = "Quantization stores weights with fewer bits."
    assert with_markdown_tables(plain, layout) == plain


def test_a_table_the_plain_text_words_otherwise_is_left_as_it_is():
    layout = "A      B      C\n1      2      3\n4      5      6\n"
    plain = "A B C\n1 2 3\n4 5 7"
    assert len(aligned_tables(layout)) == 1
    assert with_markdown_tables(plain, layout) == plain


def write_sectioned_pdf(path: Path) -> None:
    """A title, two sections under headings in a larger bold font, body text in the body font
    (a heading line has no full stop: the plain text runs it into the next sentence)."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    for size, text in [
        (18, "Quantization"),
        (11, "Smaller blocks mean more overhead but less error."),
        (14, "bitsandbytes (transformers on a GPU)"),
        (
            11,
            "The bitsandbytes library quantizes weights at load time, no calibration data needed.",
        ),
        (14, "Other methods"),
        (11, "GPTQ and AWQ use a small calibration dataset to choose the quantized values."),
    ]:
        pdf.set_font("Helvetica", style="B" if size > 11 else "", size=size)
        pdf.multi_cell(0, size * 0.6, text, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))


def test_lines_in_a_larger_font_are_loaded_as_headings_by_size(tmp_path):
    path = tmp_path / "sections.pdf"
    write_sectioned_pdf(path)

    [page] = load_file(path, [".pdf"], 5)

    lines = page.page_content.splitlines()
    assert "# Quantization" in lines
    assert "## bitsandbytes (transformers on a GPU)" in lines
    assert "## Other methods" in lines
    assert "Smaller blocks mean more overhead but less error." in lines


def test_a_pdf_sentence_is_checked_under_its_heading_not_run_into_it(tmp_path, embedder):
    path = tmp_path / "sections.pdf"
    write_sectioned_pdf(path)
    checker = checker_of(path, embedder)

    kept = checker.check(
        "bitsandbytes quantizes the weights at load time, without calibration data."
    )

    assert kept.verdict == SUPPORTED, kept.reason
    assert kept.evidence[0].text.startswith("The bitsandbytes library")
