"""``python -m rag``: ask, eval and models from a terminal."""

from rag.cli.main import main

__all__ = ["main"]
