"""Shared test fixtures."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("EVSYNTH_SHARED", REPO.parent / "shared"))


@pytest.fixture(scope="session")
def shared() -> Path:
    """The project's shared folder (benchmarks, validation data)."""
    if not (SHARED / "benchmarks").is_dir():
        pytest.skip(f"shared data not found at {SHARED} (set EVSYNTH_SHARED)")
    return SHARED


def evsynth(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``evsynth ARGS`` in a subprocess (stdout and stderr captured)."""
    return subprocess.run(
        [sys.executable, "-m", "evsynth.cli", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
    )


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes (to show inputs are unchanged)."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def run_snakemake(workdir: Path, *extra: str, cores: int = 2):
    """Run the workflow on the review in ``workdir/data`` (``review_dir=data``).

    Targets and other Snakemake options go in ``extra``; returns the completed
    process (stdout and stderr captured, never raises on failure).
    """
    import subprocess
    import sys

    return subprocess.run(
        [
            sys.executable,
            "-m",
            "snakemake",
            *extra,
            "--snakefile",
            str(REPO / "Snakefile"),
            "--directory",
            str(workdir),
            "--cores",
            str(cores),
            "--configfile",
            str(REPO / "config/config.yaml"),
            "--config",
            "review_dir=data",
        ],
        capture_output=True,
        text=True,
        check=False,
    )


def example_results() -> Path:
    """A results folder of the example review, built with Snakemake once per test
    session in a temporary folder (never the repository's own, which may be stale)."""
    import shutil
    import tempfile

    work = Path(tempfile.gettempdir()) / f"evsynth-example-{os.getpid()}"
    results = work / "results"
    if (results / "report/index.html").is_file():
        return results
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(REPO / "data", work / "data")
    proc = run_snakemake(work)
    if proc.returncode:
        raise RuntimeError(proc.stderr[-3000:])
    return results
