"""The documents tab: upload files, re-ingest the knowledge folder, list and delete documents,
and bring back deleted ones whose files were kept.

The list shows one page of :data:`PAGE_ROWS` documents at a time, filtered by name, and its
counts come from the store's catalog: a store of thousands of documents opens as fast as a
small one.

The handlers are plain methods on :class:`DocumentHandlers`, so tests call them directly;
:func:`build_documents_tab` only lays out components and wires events. What each handler does
to the library is the app's :class:`rag.app.Library` (uploads checked on the server, kept apart
from the knowledge folder's documents); here it is only asked, and its answers rendered.

Every handler here changes the shared library, so each first asks :class:`Access` whether the
caller is an admin; what it shows is redacted (no server paths), the details going to the log.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from rag.app import FileResult, IngestError, IngestReport, RagService, UploadReport
from rag.ui.access import Access
from rag.ui.redact import redact

log = logging.getLogger(__name__)

RESULT_HEADERS = ["File", "Result", "Chunks", "Details"]
DOCUMENT_HEADERS = ["Document", "Chunks", "Ingested at (UTC)"]
#: Documents per page of the list.
PAGE_ROWS = 50


def _received(item: Any) -> tuple[Path, str]:
    """(where Gradio put the file, the name the person gave it) of one uploaded item: a
    FileData dict from the API, a path string, or an object with ``path``/``name``."""
    if isinstance(item, dict):
        path = item.get("path") or item.get("name")
        return Path(path), str(item.get("orig_name") or Path(path).name)
    path = getattr(item, "path", None) or getattr(item, "name", None) or item
    return Path(str(path)), Path(str(path)).name


class DocumentHandlers:
    def __init__(self, service: RagService, access: Access | None = None):
        self.service = service
        self.settings = service.settings
        self.library = service.library
        self.access = access or Access.everyone_admin()

    # --- uploads ----------------------------------------------------------------------------
    def upload(
        self,
        files: Iterable[Any] | None,
        request: gr.Request = None,
        profile: gr.OAuthProfile | None = None,
    ) -> Iterator[tuple]:
        """Save, then ingest the uploaded files; yields (results, status, documents, choices)."""
        self.access.require_admin("add documents to the library", request, profile)
        received = [_received(item) for item in files or []]
        yield from self._run(lambda on_result: self.library.upload(received, on_result))

    # --- the knowledge folder -------------------------------------------------------------
    def reingest(
        self, request: gr.Request = None, profile: gr.OAuthProfile | None = None
    ) -> Iterator[tuple]:
        """Bring the store in line with the knowledge folder (and the uploads folder)."""
        self.access.require_admin("re-ingest the library", request, profile)
        yield from self._run(self.library.reingest)

    # --- documents deleted, their files kept ------------------------------------------------
    def include(
        self,
        source: str | None,
        request: gr.Request = None,
        profile: gr.OAuthProfile | None = None,
    ) -> Iterator[tuple]:
        """Bring back a document deleted from the library whose file was kept: it is no
        longer left out, and the library is re-ingested."""
        self.access.require_admin("bring documents back into the library", request, profile)
        if not source:
            yield self._outputs([], "Choose a deleted document first.")
            return
        yield from self._run(lambda on_result: self.library.include(source, on_result))

    def excluded_choices(self) -> dict:
        """The deleted documents that :meth:`include` can bring back."""
        return gr.update(choices=self.library.excluded(), value=None)

    # --- running a job with live results --------------------------------------------------
    def _run(
        self, job: Callable[[Callable[[FileResult], None]], IngestReport | UploadReport]
    ) -> Iterator[tuple]:
        """Run ``job`` in a thread; yield the results table each time a file's outcome is known."""
        rows: list[list[Any]] = []
        events: queue.Queue[FileResult | None] = queue.Queue()
        outcome: dict[str, Any] = {}

        def work() -> None:
            try:
                outcome["report"] = job(events.put)
            except IngestError as exc:
                log.warning("ingest refused: %s", exc)
                outcome["error"] = redact(str(exc))
            except Exception as exc:  # shown to the person, logged in full for the operator
                log.exception("ingest failed")
                outcome["error"] = redact(f"Ingestion failed: {exc}")
            finally:
                events.put(None)

        thread = threading.Thread(target=work, name="ui-ingest", daemon=True)
        thread.start()
        yield self._outputs(rows, "Ingesting…")
        while (result := events.get()) is not None:
            rows.append(_result_row(result))
            yield self._outputs(rows, "Ingesting…")
        thread.join()
        status = outcome["error"] if "error" in outcome else outcome["report"].summary()
        yield self._outputs(rows, status)

    def _outputs(self, rows: list[list[Any]], status: str) -> tuple:
        documents = self.document_rows()
        return rows, status, documents, gr.update(choices=[row[0] for row in documents])

    # --- the list -----------------------------------------------------------------------------
    def _offset(self, page: Any) -> int:
        try:
            return (max(1, int(page or 1)) - 1) * PAGE_ROWS
        except (TypeError, ValueError):
            return 0

    def document_rows(self, contains: str = "", page: int = 1) -> list[list[Any]]:
        """One page of the documents whose name contains ``contains``."""
        documents = self.library.documents(
            contains=(contains or "").strip(), offset=self._offset(page), limit=PAGE_ROWS
        )
        return [[d["source"], d["chunks"], d["ingested_at"]] for d in documents]

    def document_choices(self, contains: str = "", page: int = 1) -> dict:
        return gr.update(choices=[row[0] for row in self.document_rows(contains, page)], value=None)

    def pages(self, contains: str = "") -> tuple[int, int]:
        """(documents matching ``contains``, pages they fill)."""
        total = self.library.document_count((contains or "").strip())
        return total, max(1, -(-total // PAGE_ROWS))

    def page_label(self, contains: str, page: int) -> str:
        total, pages = self.pages(contains)
        if not total:
            return f"No document's name contains “{contains.strip()}”." if contains else ""
        first = self._offset(page) + 1
        last = min(total, first + PAGE_ROWS - 1)
        matching = f" matching “{contains.strip()}”" if (contains or "").strip() else ""
        return f"Documents {first:,}–{last:,} of {total:,}{matching} (page {page} of {pages})."

    def first_page_label(self) -> str:
        """What the list shows when the tab opens: its first page, unfiltered."""
        return self.page_label("", 1)

    def show_page(self, contains: str = "", page: Any = 1) -> tuple:
        """(rows, label, choices, page) for page ``page`` (clamped) of the filtered list."""
        _, pages = self.pages(contains)
        try:
            page = min(max(1, int(page or 1)), pages)
        except (TypeError, ValueError):
            page = 1
        rows = self.document_rows(contains, page)
        choices = gr.update(choices=[row[0] for row in rows], value=None)
        return rows, self.page_label(contains, page), choices, page

    def delete(
        self,
        source: str | None,
        contains: str = "",
        page: int = 1,
        request: gr.Request = None,
        profile: gr.OAuthProfile | None = None,
    ) -> tuple[str, list[list[Any]], dict]:
        """Remove a document from the store (and an uploaded file from the uploads folder);
        the list comes back at page ``page`` of the documents whose name contains
        ``contains``."""
        self.access.require_admin("delete documents from the library", request, profile)

        def reply(message: str) -> tuple[str, list[list[Any]], dict]:
            return (
                message,
                self.document_rows(contains, page),
                self.document_choices(contains, page),
            )

        if not source:
            return reply("Choose a document first.")
        try:
            deleted = self.library.delete(source)
        except IngestError as exc:
            log.warning("deleting %s refused: %s", source, exc)
            return reply(redact(str(exc)))
        message = f"Deleted {source} ({deleted.chunks} chunks)."
        if deleted.excluded:
            # Where the file stays is the knowledge folder's business, not the server's paths.
            message += (
                " Its file stays where it was, and the library leaves it out from now on; "
                "“Include again” below brings it back."
            )
        return reply(message)


def _result_row(result: FileResult) -> list[Any]:
    if result.reason:
        log.info("%s: %s", result.source, result.reason)
    return [result.source, result.status, result.chunks, redact(result.reason)]


def build_documents_tab(service: RagService, access: Access | None = None) -> None:
    """Components of the documents tab, created in the caller's current Blocks/Tab context."""
    handlers = DocumentHandlers(service, access)
    settings = service.settings
    gr.Markdown(
        f"Add notes by dropping files here ({', '.join(settings.allowed_extensions)}; up to "
        f"{settings.max_upload_mb:g} MB each). Only new or changed files are embedded again."
    )
    # No file_types: Gradio would refuse a whole drop for one file of another type, good files
    # included, where save_uploads refuses that file alone and says why.
    files = gr.File(label="Upload documents", file_count="multiple", type="filepath")
    with gr.Row():
        reingest = gr.Button(f"Re-ingest the knowledge folder ({settings.knowledge_dir.name})")
    status = gr.Markdown()
    results = gr.Dataframe(
        headers=RESULT_HEADERS, label="Last run", interactive=False, wrap=True, max_height=300
    )
    with gr.Row():
        contains = gr.Textbox(
            label="Find documents", placeholder="part of a name", scale=3, max_lines=1
        )
        previous = gr.Button("◀ Previous", scale=1)
        following = gr.Button("Next ▶", scale=1)
    page = gr.State(1)
    label = gr.Markdown(handlers.first_page_label)
    documents = gr.Dataframe(
        value=handlers.document_rows,
        headers=DOCUMENT_HEADERS,
        label="Documents in the store",
        interactive=False,
        max_height=400,
    )
    with gr.Row():
        chosen = gr.Dropdown(
            choices=[row[0] for row in handlers.document_rows()],
            label="Document",
            scale=3,
        )
        delete = gr.Button("Delete", variant="stop", scale=1)
    with gr.Row():
        # Any name is let through to the handler, which checks it: an API client that
        # deleted a document has not seen this list change (only a page follows .then()).
        left_out = gr.Dropdown(
            choices=handlers.library.excluded(),
            label="Deleted documents whose files were kept (left out of every re-ingest)",
            allow_custom_value=True,
            scale=3,
        )
        include = gr.Button("Include again", scale=1)
    outputs = [results, status, documents, chosen]
    listing = [documents, label, chosen, page]
    # After a job, the list and its counts are shown again at the page the person was on. The
    # list's own events are not part of the app's API (reading it is /document_rows).
    private = {"api_visibility": "private"}
    files.upload(handlers.upload, files, outputs, show_progress="minimal", api_name="upload").then(
        handlers.show_page, [contains, page], listing, **private
    )
    reingest.click(
        handlers.reingest, None, outputs, show_progress="minimal", api_name="reingest"
    ).then(handlers.show_page, [contains, page], listing, **private)
    delete.click(handlers.delete, chosen, [status, documents, chosen], api_name="delete").then(
        handlers.show_page, [contains, page], listing, **private
    ).then(handlers.excluded_choices, None, left_out, **private)
    include.click(
        handlers.include, left_out, outputs, show_progress="minimal", api_name="include"
    ).then(handlers.show_page, [contains, page], listing, **private).then(
        handlers.excluded_choices, None, left_out, **private
    )
    contains.change(lambda text: handlers.show_page(text, 1), contains, listing, **private)
    previous.click(
        lambda text, n: handlers.show_page(text, n - 1), [contains, page], listing, **private
    )
    following.click(
        lambda text, n: handlers.show_page(text, n + 1), [contains, page], listing, **private
    )
