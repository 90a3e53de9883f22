"""`make run` on a clone that is already installed: seconds from the command to the first page.

For each of two commits (the baseline, by default the one before the Makefile kept an install
stamp, and HEAD) it makes a clean clone with a virtual environment in `.venv` that already has
every dependency (a `.pth` line points it at this interpreter's site-packages, so pip finds them
all installed and downloads nothing but its build tools), runs `make run` once to install, then
`--runs` more times, each timed from `make run` until `GET /` answers. Before the stamp, each of
those runs pip again (an editable build of the project); after it, pip is skipped.

Usage: .venv/bin/python benchmarks/bench_make_run.py [--baseline REF] [--runs N]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devtools.servers import app_environment, free_port, wait_for_http  # noqa: E402

# The Makefile line that came with the install stamp: the baseline is the commit before it.
STAMP_LINE = "INSTALLED := $(VENV)/.installed"


def git(*args: str, cwd: Path = ROOT) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


def default_baseline() -> str:
    added = git("log", "-1", "--format=%H", f"-S{STAMP_LINE}", "--", "Makefile")
    if not added:
        raise SystemExit("no commit adds the install stamp to the Makefile: pass --baseline REF")
    return git("rev-parse", f"{added}^")


def installed_clone(ref: str, where: Path) -> Path:
    """A clean clone of ``ref`` whose .venv sees every installed package of this interpreter."""
    clone = where / ref[:12]
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    git("checkout", "--quiet", ref, cwd=clone)
    subprocess.run([sys.executable, "-m", "venv", str(clone / ".venv")], check=True)
    python = clone / ".venv" / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    installed = sysconfig.get_paths()["purelib"]
    (Path(purelib) / "installed-packages.pth").write_text(installed + "\n", encoding="utf-8")
    return clone


def make_run_to_first_page(clone: Path) -> float:
    """Seconds from `make run` to the first page; the app is stopped then."""
    port = free_port()
    env = app_environment(port)
    env.pop("MAKEFLAGS", None)
    log = (clone / "make-run.log").open("a")
    started = time.perf_counter()
    # A session of its own: make, pip and the app are stopped together.
    process = subprocess.Popen(
        ["make", "run"],
        cwd=clone,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/", process, timeout=1200)
        return time.perf_counter() - started
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)
        log.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", help="commit measured first (default: before the stamp)")
    parser.add_argument("--runs", type=int, default=3, help="timed runs after the install")
    args = parser.parse_args()
    commits = {
        "baseline": git("rev-parse", args.baseline or default_baseline()),
        "HEAD": git("rev-parse", "HEAD"),
    }
    with tempfile.TemporaryDirectory(prefix="bench-make-run-") as tmp:
        for name, ref in commits.items():
            clone = installed_clone(ref, Path(tmp))
            install = make_run_to_first_page(clone)
            runs = [make_run_to_first_page(clone) for _ in range(args.runs)]
            figures = ", ".join(f"{s:.1f}" for s in runs)
            print(
                f"{name} {ref[:10]}: first make run (installs) {install:.1f} s; "
                f"then {figures} s (median {statistics.median(runs):.1f} s)",
                flush=True,
            )


if __name__ == "__main__":
    main()
