"""The Gradio web app."""

from rag.ui.access import Access
from rag.ui.app import build_app, launch_kwargs

__all__ = ["Access", "build_app", "launch_kwargs"]
