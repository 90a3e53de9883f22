"""The layers import one way and no modules import each other in a cycle (pyproject.toml's
[tool.importlinter] contracts, checked by import-linter as `make lint` does)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from devtools.paths import REPO_ROOT


def test_the_import_contracts_hold():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), "--no-cache"],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},  # this checkout's packages
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout
