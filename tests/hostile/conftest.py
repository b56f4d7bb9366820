"""Shared helpers of the hostile-input tests: a copy of the example review to spoil,
the evsynth command in a subprocess, and the checks every refusal must pass."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from evsynth.project.template import init_example
from tests.conftest import evsynth, tree

__all__ = ["assert_refused", "evsynth", "example", "tree"]


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """A fresh copy of the example review (config/config.yaml, data/), not yet run."""
    folder = tmp_path / "review"
    init_example(folder)
    return folder


def assert_refused(proc: subprocess.CompletedProcess[str], *fragments: str) -> None:
    """Exit status 2, a one-line message holding every fragment, no traceback."""
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2, out[-3000:]
    assert "Traceback" not in out, out[-3000:]
    for fragment in fragments:
        assert fragment in out, (fragment, out[-3000:])
