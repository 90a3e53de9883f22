"""The Gradio web app."""

from rag.ui.app import build_app, launch_kwargs

__all__ = ["build_app", "launch_kwargs"]
