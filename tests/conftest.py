"""Shared test fixtures."""

from __future__ import annotations

import os
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
