"""Turn one file into LangChain ``Document``s, or fail with a reason a person can act on.

Every check that can refuse a file happens here, before anything touches the store, so a bad
file never costs the chunks already stored.
"""

from __future__ import annotations

import importlib.util
import logging
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING

from ingest.pdf_structure import heading_levels, with_headings, with_markdown_tables

if TYPE_CHECKING:
    from langchain_core.documents import Document

log = logging.getLogger(__name__)

TEXT_EXTENSIONS = {".md", ".markdown", ".txt", ".rst", ".csv", ".json", ".xml"}
MARKDOWN_EXTENSIONS = {".md", ".markdown"}
HTML_EXTENSIONS = {".html", ".htm"}
# Everything else goes to unstructured (pptx, odt, epub, rtf, eml, ...). docx and html are read
# with python-docx and BeautifulSoup instead: unstructured classifies their text with a spaCy
# model that it downloads on first use, which fails offline.
PDF_MAX_PAGES = 2000
# Byte order marks: Windows Notepad's "Unicode" is UTF-16 with one, and full of NUL bytes.
_BOMS = [
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
]
# Single-byte encodings that read Western European text; charset-normalizer often ranks a
# Central European code page first on short French or Spanish notes, where it turns "è" into
# "č". When a Western one decodes the bytes about as cleanly, it wins.
_WESTERN = ("cp1252", "latin_1", "iso8859_15")
_WESTERN_MARGIN = 0.1
# Decoded text with more control characters than this is binary, whatever its extension.
_MAX_CONTROL_SHARE = 0.02


class LoadError(Exception):
    """A file that can't be ingested; ``str()`` names the file and the reason."""

    def __init__(self, path: Path | str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


def check_file(path: Path, allowed_extensions: list[str], max_file_mb: float) -> None:
    """Refuse files by type and size before reading them."""
    if not path.is_file():
        raise LoadError(path, "not a regular file")
    ext = path.suffix.lower()
    if ext not in allowed_extensions:
        raise LoadError(
            path,
            f"unsupported file type '{ext or '(none)'}' (allowed: {' '.join(allowed_extensions)})",
        )
    size = path.stat().st_size
    if size == 0:
        raise LoadError(path, "the file is empty")
    if size > max_file_mb * 1024 * 1024:
        raise LoadError(
            path, f"the file is {size / 1024 / 1024:.1f} MB, over the {max_file_mb:g} MB limit"
        )


def _control_share(text: str) -> float:
    sample = text[:20000]
    if not sample:
        return 0.0
    bad = sum(
        1
        for ch in sample
        if ch == "\ufffd" or (unicodedata.category(ch) == "Cc" and ch not in "\t\n\r\f\v")
    )
    return bad / len(sample)


def _guess_encoding(path: Path, raw: bytes) -> tuple[str, str]:
    """(text, encoding) of bytes that are not UTF-8."""
    from charset_normalizer import from_bytes

    matches = list(from_bytes(raw))
    if not matches:
        raise LoadError(path, "binary content in a text file (no text encoding fits)")
    best = matches[0]
    for match in matches:
        if match.encoding in _WESTERN and match.chaos <= best.chaos + _WESTERN_MARGIN:
            best = match
            break
    return str(best), best.encoding


def decode_text(path: Path, raw: bytes) -> str:
    """Decode text of any common encoding; refuse bytes that are not text at all."""
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            try:
                return raw.decode(encoding)
            except UnicodeDecodeError as exc:
                raise LoadError(path, f"damaged {encoding} text ({exc.reason})") from exc
    if b"\x00" in raw[:8192]:
        raise LoadError(path, "binary content in a text file (NUL bytes); is the extension right?")
    try:
        text, encoding = raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        text, encoding = _guess_encoding(path, raw)
        log.info("%s: not UTF-8, decoded as %s", path, encoding)
    if _control_share(text) > _MAX_CONTROL_SHARE:
        raise LoadError(
            path, "binary content in a text file (control characters); is the extension right?"
        )
    return text


def _document(text: str, **metadata) -> Document:
    from langchain_core.documents import Document

    return Document(page_content=text, metadata=metadata)


def _load_text(path: Path) -> list[Document]:
    text = decode_text(path, path.read_bytes())
    kind = "markdown" if path.suffix.lower() in MARKDOWN_EXTENSIONS else "text"
    return [_document(text, format=kind)]


def _load_pdf(path: Path, max_stream_mb: float) -> list[Document]:
    """Text of each page, read under pypdf's limits tightened to ``max_stream_mb`` per stream.

    A decompression bomb (a few KB that inflate to gigabytes, e.g. a stream compressed twice)
    stops at the limit with :class:`pypdf.errors.LimitReachedError` instead of filling memory.
    """
    from pypdf import PdfReader, apply_configuration
    from pypdf.errors import DependencyError, FileNotDecryptedError, LimitReachedError, PyPdfError

    limit = int(max_stream_mb * 1024 * 1024)
    limits = {
        "maximum_declared_stream_length": limit,
        "array_based_stream_maximum_output_length": limit,
        "jbig2_maximum_output_length": limit,
        "lzw_maximum_output_length": limit,
        "run_length_maximum_output_length": limit,
        "zlib_maximum_output_length": limit,
        "brotli_maximum_output_length": limit,
        "image_maximum_buffer_size": limit,
        "stream_decoding_work_maximum_length": 2 * limit,
    }
    documents = []
    try:
        with apply_configuration(**limits):
            reader = PdfReader(path)
            if reader.is_encrypted and not reader.decrypt(""):
                # Many PDFs are encrypted only to restrict printing: those open with an empty
                # password. The others need the person's password.
                raise LoadError(path, "the PDF is encrypted (password protected); save it unlocked")
            if len(reader.pages) > PDF_MAX_PAGES:
                raise LoadError(
                    path, f"the PDF has {len(reader.pages)} pages, over {PDF_MAX_PAGES}"
                )
            for number, text in enumerate(_pages_text(reader.pages), start=1):
                documents.append(_document(text, format="pdf", page=number))
    except LoadError:
        raise
    except LimitReachedError as exc:
        raise LoadError(
            path,
            f"the PDF inflates past the {max_stream_mb:g} MB limit per stream "
            f"(a decompression bomb?): {exc}",
        ) from exc
    except FileNotDecryptedError as exc:
        raise LoadError(
            path, "the PDF is encrypted (password protected); save it unlocked"
        ) from exc
    except DependencyError as exc:
        raise LoadError(path, f"the PDF needs a missing package to be read ({exc})") from exc
    except PyPdfError as exc:
        raise LoadError(path, f"corrupt or truncated PDF ({exc})") from exc
    except MemoryError as exc:
        raise LoadError(path, "the PDF needs more memory than this machine has") from exc
    except Exception as exc:  # pypdf raises a zoo of errors on damaged files
        raise LoadError(path, f"unreadable PDF ({type(exc).__name__}: {exc})") from exc
    return documents


def _pages_text(pages) -> list[str]:
    """The text of each PDF page, tables and headings written as markdown ones
    (:mod:`ingest.pdf_structure`); headings are told by font sizes over the whole document."""
    from pypdf.errors import PyPdfError

    runs: list[tuple[float, str]] = []

    def visit(text, cm, tm, font, size) -> None:
        # The size a run is drawn at: its font size scaled by the text and page matrices.
        runs.append((round(abs(size * tm[3] * cm[3]), 1), text))

    texts = []
    for page in pages:
        plain = page.extract_text(visitor_text=visit) or ""
        try:
            layout = page.extract_text(extraction_mode="layout")
        except (PyPdfError, ValueError, KeyError, TypeError):
            layout = ""  # the layout of an odd page can't be read: its plain text still can
        texts.append(with_markdown_tables(plain, layout))
    levels = heading_levels(runs)
    return [with_headings(text, levels) for text in texts]


def _load_docx(path: Path) -> list[Document]:
    """Word paragraphs, with Heading/Title styles turned into markdown headings."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError, OSError) as exc:
        raise LoadError(path, f"not a readable .docx file ({exc})") from exc
    except Exception as exc:  # zipfile.BadZipFile and friends
        raise LoadError(path, f"not a readable .docx file ({type(exc).__name__})") from exc
    lines = []
    for paragraph in document.paragraphs:
        text = paragraph.text.strip()
        if not text:
            continue
        style = (paragraph.style.name if paragraph.style is not None else "") or ""
        if style == "Title":
            lines.append(f"# {text}")
        elif style.startswith("Heading") and style[-1:].isdigit():
            lines.append("#" * min(int(style[-1]), 4) + f" {text}")
        else:
            lines.append(text)
    for table in document.tables:
        for row in table.rows:
            lines.append(" | ".join(cell.text.strip() for cell in row.cells))
    return [_document("\n\n".join(lines), format="markdown")]


def _load_html(path: Path) -> list[Document]:
    """Visible text of a web page, its h1-h4 kept as markdown headings."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(decode_text(path, path.read_bytes()), "html.parser")
    for hidden in soup(["script", "style", "noscript", "template", "svg", "head"]):
        hidden.decompose()
    lines = []
    for element in soup.find_all(["h1", "h2", "h3", "h4", "p", "li", "pre", "td", "blockquote"]):
        if element.find_parent(["p", "li", "pre", "td", "blockquote"]):
            continue  # its text is already part of the enclosing block
        text = element.get_text(" ", strip=True)
        if not text:
            continue
        if element.name in ("h1", "h2", "h3", "h4"):
            lines.append("#" * int(element.name[1]) + " " + text)
        elif element.name == "li":
            lines.append("- " + text)
        else:
            lines.append(text)
    if not lines:  # a page without block elements: keep its bare text
        lines = [soup.get_text(" ", strip=True)]
    return [_document("\n\n".join(lines), format="markdown")]


def _load_unstructured(path: Path) -> list[Document]:
    """The other formats unstructured reads; its Title elements become headings."""
    if importlib.util.find_spec("unstructured") is None:
        # An optional extra: it needs langdetect, which has no wheel (a Space goes without).
        raise LoadError(
            path, f"reading {path.suffix} files needs unstructured: pip install -e '.[formats]'"
        )
    try:
        from langchain_community.document_loaders import UnstructuredFileLoader

        elements = UnstructuredFileLoader(str(path), mode="elements").load()
    except Exception as exc:
        raise LoadError(path, f"could not parse the file ({type(exc).__name__}: {exc})") from exc
    lines = []
    for element in elements:
        text = element.page_content.strip()
        if not text:
            continue
        category = element.metadata.get("category")
        if category == "Title":
            lines.append("## " + text)
        elif category == "ListItem":
            lines.append("- " + text)
        else:
            lines.append(text)
    return [_document("\n\n".join(lines), format="markdown")]


def load_file(
    path: Path,
    allowed_extensions: list[str],
    max_file_mb: float,
    *,
    max_pdf_stream_mb: float = 20.0,
) -> list[Document]:
    """Check and load ``path``; raises :class:`LoadError` with the reason when it can't."""
    check_file(path, allowed_extensions, max_file_mb)
    ext = path.suffix.lower()
    try:
        if ext == ".pdf":
            documents = _load_pdf(path, max_pdf_stream_mb)
        elif ext in TEXT_EXTENSIONS:
            documents = _load_text(path)
        elif ext == ".docx":
            documents = _load_docx(path)
        elif ext in HTML_EXTENSIONS:
            documents = _load_html(path)
        else:
            documents = _load_unstructured(path)
    except OSError as exc:  # vanished or unreadable between the listing and the read
        raise LoadError(path, f"can't read the file ({exc.strerror or exc})") from exc
    if not any(doc.page_content.strip() for doc in documents):
        hint = " (a scanned PDF needs OCR first)" if ext == ".pdf" else ""
        raise LoadError(path, f"no extractable text{hint}")
    return documents
