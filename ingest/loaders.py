"""Turn one file into LangChain ``Document``s, or fail with a reason a person can act on.

Every check that can refuse a file happens here, before anything touches the store, so a bad
file never costs the chunks already stored.
"""

from __future__ import annotations

import logging
from pathlib import Path

from charset_normalizer import from_bytes
from langchain_core.documents import Document

log = logging.getLogger(__name__)

TEXT_EXTENSIONS = {".md", ".markdown", ".txt", ".rst", ".csv", ".json", ".xml"}
MARKDOWN_EXTENSIONS = {".md", ".markdown"}
HTML_EXTENSIONS = {".html", ".htm"}
# Everything else goes to unstructured (pptx, odt, epub, rtf, eml, ...). docx and html are read
# with python-docx and BeautifulSoup instead: unstructured classifies their text with a spaCy
# model that it downloads on first use, which fails offline.
# pypdf refuses streams that inflate beyond this, which stops decompression bombs.
PDF_MAX_PAGES = 2000


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


def decode_text(path: Path, raw: bytes) -> str:
    """Decode text of any common encoding; refuse bytes that are not text at all."""
    if b"\x00" in raw[:8192]:
        raise LoadError(path, "binary content in a text file (NUL bytes); is the extension right?")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    best = from_bytes(raw).best()
    if best is None:
        raise LoadError(path, "binary content in a text file (no text encoding fits)")
    log.info("%s: decoded as %s", path, best.encoding)
    return str(best)


def _load_text(path: Path) -> list[Document]:
    text = decode_text(path, path.read_bytes())
    kind = "markdown" if path.suffix.lower() in MARKDOWN_EXTENSIONS else "text"
    return [Document(page_content=text, metadata={"format": kind})]


def _load_pdf(path: Path) -> list[Document]:
    from langchain_community.document_loaders import PyPDFLoader
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError, PyPdfError

    try:
        reader = PdfReader(path)
        if reader.is_encrypted:
            raise LoadError(path, "the PDF is encrypted (password protected); save it unlocked")
        if len(reader.pages) > PDF_MAX_PAGES:
            raise LoadError(path, f"the PDF has {len(reader.pages)} pages, over {PDF_MAX_PAGES}")
        pages = PyPDFLoader(str(path), mode="page").load()
    except LoadError:
        raise
    except (PdfReadError, PyPdfError) as exc:
        raise LoadError(path, f"corrupt or truncated PDF ({exc})") from exc
    except Exception as exc:  # pypdf raises a zoo of errors on damaged files
        raise LoadError(path, f"unreadable PDF ({type(exc).__name__}: {exc})") from exc
    documents = []
    for page in pages:
        # PyPDFLoader counts pages from 0; people count from 1.
        page_number = int(page.metadata.get("page", 0)) + 1
        documents.append(
            Document(
                page_content=page.page_content, metadata={"format": "pdf", "page": page_number}
            )
        )
    return documents


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
    return [Document(page_content="\n\n".join(lines), metadata={"format": "markdown"})]


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
    return [Document(page_content="\n\n".join(lines), metadata={"format": "markdown"})]


def _load_unstructured(path: Path) -> list[Document]:
    """The other formats unstructured reads; its Title elements become headings."""
    from langchain_community.document_loaders import UnstructuredFileLoader

    try:
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
    return [Document(page_content="\n\n".join(lines), metadata={"format": "markdown"})]


def load_file(path: Path, allowed_extensions: list[str], max_file_mb: float) -> list[Document]:
    """Check and load ``path``; raises :class:`LoadError` with the reason when it can't."""
    check_file(path, allowed_extensions, max_file_mb)
    ext = path.suffix.lower()
    if ext == ".pdf":
        documents = _load_pdf(path)
    elif ext in TEXT_EXTENSIONS:
        documents = _load_text(path)
    elif ext == ".docx":
        documents = _load_docx(path)
    elif ext in HTML_EXTENSIONS:
        documents = _load_html(path)
    else:
        documents = _load_unstructured(path)
    if not any(doc.page_content.strip() for doc in documents):
        hint = " (a scanned PDF needs OCR first)" if ext == ".pdf" else ""
        raise LoadError(path, f"no extractable text{hint}")
    return documents
