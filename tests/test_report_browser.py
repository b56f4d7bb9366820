"""The report in a headless browser: it loads, logs no console errors, and is screenshotted."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO, run_snakemake

pytestmark = pytest.mark.workflow

BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def browser() -> str | None:
    return next((b for b in map(shutil.which, BROWSERS) if b), None)


@pytest.mark.skipif(
    browser() is None, reason="no headless Chromium (apt-get install chromium)"
)
def test_report_opens_in_headless_chromium(tmp_path):
    shutil.copytree(REPO / "data", tmp_path / "data")
    proc = run_snakemake(tmp_path, "results/report/index.html")
    assert proc.returncode == 0, proc.stderr[-2000:]
    page = tmp_path / "results/report/index.html"
    shot = tmp_path / "report.png"
    run = subprocess.run(
        [
            browser(),
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
