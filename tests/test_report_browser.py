"""The report in a headless browser: it loads, logs no console errors, and is screenshotted.

Without Chromium the test is skipped on a developer's machine, but fails under CI
(``CI`` set, as CI services do), so that a failed install cannot pass unnoticed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO, run_snakemake

pytestmark = pytest.mark.workflow

BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def browser() -> str | None:
    return next((b for b in map(shutil.which, BROWSERS) if b), None)


def under_ci() -> bool:
    """Whether the tests run under CI (``CI=true``, as CI services set it)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def require_browser() -> str:
    """The browser to use; skip without one, or fail under CI."""
    found = browser()
    if found is None:
        if under_ci():
            pytest.fail(
                "no headless Chromium under CI (CI is set): install it with "
                "`apt-get update && apt-get install -y chromium` (.ci/run does this "
                "as root); the report's browser test must not be skipped in CI",
                pytrace=False,
            )
        pytest.skip("no headless Chromium (apt-get install chromium)")
    return found


def test_report_opens_in_headless_chromium(tmp_path):
    exe = require_browser()
    shutil.copytree(REPO / "data", tmp_path / "data")
    proc = run_snakemake(tmp_path, "results/report/index.html")
    assert proc.returncode == 0, proc.stderr[-2000:]
    page = tmp_path / "results/report/index.html"
    shot = tmp_path / "report.png"
    run = subprocess.run(
        [
            exe,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1280,2400",
            f"--screenshot={shot}",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    console = [line for line in run.stderr.splitlines() if "CONSOLE" in line]
    assert console == [], console
    assert shot.stat().st_size > 10_000
    keep = Path(REPO / "benchmarks/_work/report_screenshot.png")
    keep.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, keep)
