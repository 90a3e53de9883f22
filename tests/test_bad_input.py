"""Bad input: each file is refused by name with its reason, the rest goes in, nothing is lost."""

from __future__ import annotations

import random
import tracemalloc
import zlib
from pathlib import Path

import pytest

from devtools.sample_documents import FILLER, write_pdf
from ingest.loaders import LoadError, load_file
from rag.app.uploads import safe_filename
from rag.ui.documents import DocumentHandlers

from .support.notes import note_text, write_notes

CP1252_TEXT = "Crème brûlée at the café cost 5 € — “curly quotes” and naïve façades.\n"
LATIN1_TEXT = "Été à Zürich: le garçon a lu « Les Misérables » près du château.\n"


def pdf_with_stream(path: Path, stream: bytes, filters: str) -> None:
    """A one-page PDF whose page content is ``stream``, declared as encoded with ``filters``."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources "
        b"<< /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> >>",
        b"<< /Length %d /Filter %s >>\nstream\n" % (len(stream), filters.encode())
        + stream
        + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    path.write_bytes(bytes(out))


def write_bomb(path: Path, inflated_mb: int = 300) -> int:
    """A PDF whose page stream, deflated twice, is a few KB and inflates to ``inflated_mb``."""
    inner = zlib.compressobj(1)
    spaces = b" " * (1 << 20)
    once = b"".join(
        [inner.compress(b"BT /F1 12 Tf 72 720 Td (boom) Tj ET\n")]
        + [inner.compress(spaces) for _ in range(inflated_mb)]
        + [inner.flush()]
    )
    stream = zlib.compress(once, 9)
    pdf_with_stream(path, stream, "[/FlateDecode /FlateDecode]")
    return len(stream)


def write_encrypted_pdf(path: Path, text: str, user_password: str) -> None:
    from pypdf import PdfWriter

    plain = path.with_suffix(".plain")
    write_pdf(plain, [text])
    writer = PdfWriter(clone_from=str(plain))
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="AES-256")
    with path.open("wb") as handle:
        writer.write(handle)
    plain.unlink()


def truncated_pdf(path: Path) -> None:
    write_pdf(path, [FILLER * 3])
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])


def random_bytes(size: int, nul: bool) -> bytes:
    rng = random.Random(size)
    data = bytes(rng.randrange(0 if nul else 1, 256) for _ in range(size))
    return data if nul else data.replace(b"\x00", b"\x01")


BAD_FILES = {
    "empty.md": ("the file is empty", lambda p: p.write_bytes(b"")),
    "blank.pdf": ("no extractable text", lambda p: write_pdf(p, [""])),
    "truncated.pdf": ("corrupt or truncated PDF", truncated_pdf),
    "locked.pdf": (
        "encrypted (password protected)",
        lambda p: write_encrypted_pdf(p, "Secret notes.", "secret"),
    ),
    "image.txt": ("binary content", lambda p: p.write_bytes(random_bytes(4000, nul=True))),
    "noise.md": ("binary content", lambda p: p.write_bytes(random_bytes(4000, nul=False))),
    "huge.txt": ("over the 0.05 MB limit", lambda p: p.write_text("word " * 20000)),
    "slides.key": ("unsupported file type '.key'", lambda p: p.write_text("keynote")),
    "bomb.pdf": ("decompression bomb", write_bomb),
}


def test_every_bad_file_is_named_with_its_reason_and_the_rest_goes_in(make_service, tmp_path):
    folder = tmp_path / "docs"
    write_notes(folder, ["tokenizers", "attention"])
    service = make_service(knowledge_dir=folder, max_file_mb=0.05)
    service.ingestor.ingest([folder])
    stored = service.store.metadatas()
    for name, (_, make) in BAD_FILES.items():
        make(folder / name)
    write_encrypted_pdf(folder / "restricted.pdf", "Printing is restricted here.", "")
    (folder / "cp1252.txt").write_bytes(CP1252_TEXT.encode("cp1252"))
    (folder / "latin1.md").write_bytes(LATIN1_TEXT.encode("latin-1"))

    report = service.ingestor.ingest([folder])

    failures = {r.source: r.reason for r in report.failures}
    assert set(failures) == set(BAD_FILES)
    for name, (reason, _) in BAD_FILES.items():
        assert str(folder / name) in failures[name], failures[name]
        assert reason in failures[name], failures[name]
    statuses = {r.source: r.status for r in report.results if r.status != "failed"}
    assert statuses == {
        "tokenizers.md": "unchanged",
        "attention.md": "unchanged",
        "restricted.pdf": "added",  # encrypted only to restrict printing: opens without one
        "cp1252.txt": "added",
        "latin1.md": "added",
    }
    assert stored.items() <= service.store.metadatas().items()


def test_text_in_a_western_code_page_keeps_its_accents(make_service, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "cp1252.txt").write_bytes(CP1252_TEXT.encode("cp1252"))
    (folder / "latin1.md").write_bytes(LATIN1_TEXT.encode("latin-1"))
    (folder / "utf16.txt").write_bytes(CP1252_TEXT.encode("utf-16"))  # Notepad's "Unicode"
    service = make_service()

    report = service.ingestor.ingest([folder])

    assert report.count("added") == 3, report.failures
    bodies = {c.metadata["source"]: c.text for c in service.store.all_chunks()}
    assert CP1252_TEXT.strip() in bodies["cp1252.txt"]
    assert CP1252_TEXT.strip() in bodies["utf16.txt"]
    assert LATIN1_TEXT.strip() in bodies["latin1.md"]


@pytest.mark.parametrize(
    "bad", ["empty.md", "truncated.pdf", "locked.pdf", "image.txt", "huge.txt"]
)
def test_a_bad_new_version_keeps_the_stored_one(make_service, tmp_path, bad):
    folder = tmp_path / "docs"
    folder.mkdir()
    path = folder / bad
    fact = "The Quetzal tokenizer merges 9000 byte pairs."
    if path.suffix == ".pdf":
        write_pdf(path, [fact])
    else:
        path.write_text(f"# Notes\n\n{fact}\n", encoding="utf-8")
    service = make_service(max_file_mb=0.05)
    service.ingestor.ingest([folder])
    before = service.store.metadatas()
    assert before

    BAD_FILES[bad][1](path)
    report = service.ingestor.ingest([folder])

    (failure,) = report.failures
    assert failure.source == bad and BAD_FILES[bad][0] in failure.reason
    assert f"its {len(before)} stored chunks are kept" in failure.reason
    assert service.store.metadatas() == before
    assert fact in service.retrieve("How many byte pairs does the Quetzal tokenizer merge?")[0].text


def test_a_decompression_bomb_stops_early_and_small(tmp_path):
    path = tmp_path / "bomb.pdf"
    size = write_bomb(path, inflated_mb=300)
    assert size < 10_000  # a few KB that would inflate to 300 MB

    tracemalloc.start()
    try:
        with pytest.raises(LoadError) as caught:
            load_file(path, [".pdf"], 25, max_pdf_stream_mb=20)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert "inflates past the 20 MB limit" in caught.value.reason
    assert peak < 100 * 1024 * 1024  # inflated to the end, it would hold 300 MB at least


@pytest.mark.parametrize(
    ("given", "safe"),
    [
        ("../../etc/passwd.md", "passwd.md"),
        ("..\\..\\Windows\\evil.txt", "evil.txt"),
        ("/abs/path/notes.md", "notes.md"),
        (".bashrc.md", "bashrc.md"),
        ("..", "upload"),
        ("", "upload"),
        ("notes<script>alert(1)</script>.md", "script.md"),  # "/" ends a folder name
        ('notes<b>|*?"x".md', "notes_b_x.md"),
        ("week 1: LoRA & QLoRA?.pdf", "week 1_ LoRA _ QLoRA.pdf"),
        ("café notes.md", "café notes.md"),
        ("tab\tand\x00nul.txt", "tabandnul.txt"),
        ("CON.txt", "_CON.txt"),
        ("a" * 300 + ".md", "a" * 117 + ".md"),
    ],
)
def test_upload_names_are_made_safe(given, safe):
    assert safe_filename(given) == safe


def test_uploads_are_checked_saved_inside_the_uploads_folder_and_ingested(make_service, tmp_path):
    service = make_service(max_upload_mb=0.05)
    handlers = DocumentHandlers(service)
    browser = tmp_path / "browser"
    browser.mkdir()
    good = browser / "f1"
    good.write_text(note_text("retrieval", 1), encoding="utf-8")
    cp1252 = browser / "f2"
    cp1252.write_bytes(CP1252_TEXT.encode("cp1252"))
    big = browser / "f3"
    big.write_text("word " * 20000)
    empty = browser / "f4"
    empty.write_bytes(b"")
    files = [
        {"path": str(good), "orig_name": "../../../escape.md"},
        {"path": str(cp1252), "orig_name": "menu (cp1252).txt"},
        {"path": str(big), "orig_name": "big.md"},
        {"path": str(empty), "orig_name": "empty.md"},
        {"path": str(good), "orig_name": "script.sh"},
    ]

    rows, status, documents, _ = list(handlers.upload(files))[-1]

    results = {row[0]: (row[1], row[3]) for row in rows}
    assert results["uploads/escape.md"][0] == "added"
    assert results["uploads/menu (cp1252).txt"][0] == "added"
    assert "over the 0.05 MB upload limit" in results["uploads/big.md"][1]
    assert "the file is empty" in results["uploads/empty.md"][1]
    assert "unsupported file type '.sh'" in results["uploads/script.sh"][1]
    assert "2 added" in status
    uploads = service.settings.uploads_path
    assert sorted(p.name for p in uploads.iterdir()) == ["escape.md", "menu (cp1252).txt"]
    assert not (tmp_path / "escape.md").exists()
    assert [row[0] for row in documents] == ["uploads/escape.md", "uploads/menu (cp1252).txt"]
    texts = {c.metadata["source"]: c.text for c in service.store.all_chunks()}
    assert CP1252_TEXT.strip() in texts["uploads/menu (cp1252).txt"]

    # A broken new version of an upload: refused, the stored one stays, file and chunks.
    chunks = {i: m for i, m in service.store.metadatas().items() if "escape" in m["source"]}
    broken = browser / "f5"
    broken.write_bytes(random_bytes(2000, nul=True))
    rows, _, _, _ = list(handlers.upload([{"path": str(broken), "orig_name": "escape.md"}]))[-1]
    assert rows == [["uploads/escape.md", "failed", 0, rows[0][3]]]
    assert "binary content" in rows[0][3] and "the stored version is kept" in rows[0][3]
    assert (uploads / "escape.md").read_text(encoding="utf-8") == note_text("retrieval", 1)
    assert chunks.items() <= service.store.metadatas().items()
    assert sorted(p.name for p in uploads.iterdir()) == ["escape.md", "menu (cp1252).txt"]

    message, documents, _ = handlers.delete("uploads/escape.md")
    assert message.startswith("Deleted uploads/escape.md")
    assert not (uploads / "escape.md").exists()
    assert [row[0] for row in documents] == ["uploads/menu (cp1252).txt"]


def test_reingesting_the_knowledge_folder_leaves_uploads_alone(make_service, tmp_path):
    folder = tmp_path / "docs"
    write_notes(folder, ["agents"])
    service = make_service(knowledge_dir=folder)
    handlers = DocumentHandlers(service)
    upload = tmp_path / "upload.md"
    upload.write_text(note_text("serving", 1), encoding="utf-8")
    list(handlers.upload([str(upload)]))

    rows, _, documents, _ = list(handlers.reingest())[-1]

    assert {row[0]: row[1] for row in rows} == {
        "agents.md": "added",
        "uploads/upload.md": "unchanged",
    }
    assert [row[0] for row in documents] == ["agents.md", "uploads/upload.md"]
