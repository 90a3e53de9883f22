"""Start the web app: ``python app.py`` (also the entry point of a Hugging Face Space).

Settings come from RAG_* environment variables and .env; GRADIO_SERVER_NAME and
GRADIO_SERVER_PORT (default 7860) choose where it listens. The knowledge folder is ingested
as the app starts (only what changed since the last start), whatever client comes first, and
the chat model RAG_MODEL names is downloaded then if it isn't here.
"""

from __future__ import annotations

import logging

from rag.app import create_service
from rag.settings import load_settings
from rag.ui import Access, build_app, launch_kwargs


def main() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = load_settings()
    service = create_service(settings)
    # In the background: the app answers HTTP at once, and questions wait for the notes.
    service.start_ingesting_knowledge_dir()
    service.start_fetching_model()  # a RAG_MODEL not downloaded yet: now, not at a question
    service.watch_store()  # `python -m ingest` run beside the app: its changes loaded at once
    access = Access.from_settings(settings)
    demo = build_app(service, access)
    # Gradio reads GRADIO_SERVER_NAME / GRADIO_SERVER_PORT itself when these are None.
    demo.launch(**launch_kwargs(settings, access))


if __name__ == "__main__":
    main()
