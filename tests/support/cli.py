"""The command lines run as a user runs them: a real process."""

from __future__ import annotations

import subprocess

from devtools.servers import run_module


def run_cli(*args: str, timeout: float = 300, **env: str) -> subprocess.CompletedProcess:
    return run_module("ingest", *args, timeout=timeout, **env)
