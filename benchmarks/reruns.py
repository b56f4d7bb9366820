"""Benchmark: a no-op rerun of the example, and an update round against a full rerun.

In a fresh copy of the example (`evsynth init --example`): run the review once;
time `snakemake` when nothing changed (median of 3; target under 5 s); apply
update round 1 (data/updates/round_1/apply.py) and time the incremental run; then time a full
rerun of the updated review (`--forceall`) as the peer, and report the ratio.

Usage: python benchmarks/reruns.py
Writes its section into benchmarks/RESULTS.md between its markers.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from results_md import write_section

from evsynth.project.template import init_example

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def snakemake(workdir: Path, *extra: str) -> float:
    start = time.perf_counter()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "snakemake",
            "--snakefile",
            str(REPO / "Snakefile"),
            "--directory",
            str(workdir),
            "--cores",
            "2",
            "--quiet",
            *extra,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(proc.stderr[-3000:])
    return seconds


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder) / "example"
        init_example(work)
        first = snakemake(work)
        noop = statistics.median(snakemake(work) for _ in range(3))
        subprocess.run(
            [sys.executable, str(work / "data/updates/round_1/apply.py"), str(work)],
            check=True,
            capture_output=True,
        )
        update = snakemake(work)
        full = snakemake(work, "--forceall")
    lines = [
        "### Living review: reruns of the example",
        "",
        (
            "Wall time of `snakemake --cores 2` on the example review in a fresh "
            "folder (2-core shared machine, one run each unless stated). The first "
            "run builds everything; the no-op rerun finds nothing to do (median of "
            "3; target under 5 s); the update run follows `data/updates/round_1/"
            "apply.py` (two new exports, decisions, one new study); the peer is a "
            "full rerun (`--forceall`) of the updated review."
        ),
        "",
        "| run | time (s) |",
        "|---|---|",
        f"| first run of the example | {first:.1f} |",
        f"| no-op rerun (median of 3) | {noop:.2f} |",
        f"| update round 1, incremental | {update:.1f} |",
        f"| update round 1, full rerun (`--forceall`) | {full:.1f} |",
        "",
        f"Incremental / full rerun: {update / full:.2f}.",
    ]
    block = write_section("reruns", lines)
    print(block)


if __name__ == "__main__":
    main()
