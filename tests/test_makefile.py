"""``make run`` and ``make test`` install into .venv only when what they install has changed.

The Makefile runs for real (GNU make) in a copy of the repository's Makefile and pyproject.toml.
pip is a STAND-IN there, a script that records its arguments: a real install takes minutes and
the network, and what is under test is whether make calls pip at all.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from devtools.paths import REPO_ROOT

if shutil.which("make") is None:
    pytest.skip("GNU make is not installed", allow_module_level=True)

PIP_STANDIN = '#!/bin/sh\necho "$*" >> "$(dirname "$0")/../pip-calls"\n'


@pytest.fixture
def clone(tmp_path) -> Path:
    """The Makefile and pyproject.toml with a venv whose python is this one and pip records."""
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy2(REPO_ROOT / name, tmp_path / name)
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "python").symlink_to(sys.executable)
    pip = bin_dir / "pip"
    pip.write_text(PIP_STANDIN, encoding="utf-8")
    pip.chmod(0o755)
    return tmp_path


def make_setup(clone: Path, *variables: str) -> list[str]:
    """Run ``make setup``; the pip commands it ran."""
    calls = clone / ".venv" / "pip-calls"
    calls.unlink(missing_ok=True)
    subprocess.run(
        ["make", "--no-print-directory", "setup", *variables],
        cwd=clone,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return calls.read_text(encoding="utf-8").splitlines() if calls.exists() else []


def test_setup_installs_once_then_skips_pip_until_something_changes(clone):
    first = make_setup(clone)
    assert any("torch==" in call for call in first)
    assert any("-e .[dev,llamacpp,formats]" in call for call in first)

    assert make_setup(clone) == []  # what `make run` does now at every start
    assert make_setup(clone) == []


def test_a_changed_pyproject_installs_again(clone):
    make_setup(clone)
    earlier = time.time() - 60  # the last install, a minute before pyproject.toml was edited
    for name in (".installed", ".install-vars"):
        os.utime(clone / ".venv" / name, (earlier, earlier))
    (clone / "pyproject.toml").touch()

    assert any("-e .[dev,llamacpp,formats]" in call for call in make_setup(clone))
    assert make_setup(clone) == []


def test_a_changed_install_variable_installs_again(clone):
    make_setup(clone)

    assert any("torch==2.12.0" in call for call in make_setup(clone, "TORCH_SPEC=torch==2.12.0"))
    assert make_setup(clone, "TORCH_SPEC=torch==2.12.0") == []
    assert make_setup(clone) != []  # back to the default: a change again


def test_a_failed_install_is_tried_again_at_the_next_run(clone):
    pip = clone / ".venv" / "bin" / "pip"
    pip.write_text(PIP_STANDIN + "exit 1\n", encoding="utf-8")
    with pytest.raises(subprocess.CalledProcessError):
        make_setup(clone)
    pip.write_text(PIP_STANDIN, encoding="utf-8")

    assert make_setup(clone) != []
