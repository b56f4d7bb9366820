"""Benchmark: import 100,000 RIS records.

The records are built from the real RIS exports in ../shared/benchmarks/imports
(Zotero, Web of Science, Scopus and EndNote-written RIS), repeated with their
ids changed (ID, AN, DO and a numbered title) so that no two are identical.
Each tool runs in a fresh subprocess, several times; the table reports the
median wall time, the peak resident memory, and the ratio to bare rispy
(``rispy.load``: parsing only, no normalisation, no ids, no output) run on
the same file in the same benchmark.

Usage: python benchmarks/import_ris.py [--records 100000] [--repeats 5]
Writes its table into benchmarks/RESULTS.md between its markers.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

from results_md import write_section

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SHARED = Path(os.environ.get("EVSYNTH_SHARED", REPO.parent / "shared"))
SOURCES = ["zotero_export.ris", "wos_test.ris", "scopus.ris", "ris_export.txt"]

PEAK = """
import resource
peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
           resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
print(n, peak)
"""
EVSYNTH = (
    """
import sys
from evsynth.records import import_files, write_import
result = import_files([sys.argv[1]])
write_import(result, sys.argv[2])
n = len(result.records)
"""
    + PEAK
)
RISPY = (
    """
import sys
from pathlib import Path
import rispy
n = len(rispy.load(Path(sys.argv[1]), encoding="utf-8-sig"))
"""
    + PEAK
)


def build(n: int, path: Path) -> None:
    """Write a RIS file of n records made from the shared exports."""
    records: list[str] = []
    for name in SOURCES:
        text = (SHARED / "benchmarks/imports" / name).read_text(encoding="utf-8-sig")
        text = text.replace("\r\n", "\n")
        records += [
            r.strip() + "\n" for r in re.split(r"(?m)^ER  -.*$", text) if "TY  -" in r
        ]
    out = []
    for i in range(n):
        record = records[i % len(records)]
        copy = i // len(records)
        record = re.sub(r"(?m)^(ID|AN)  - .*$", rf"\1  - bench{i}", record)
        record = re.sub(r"(?m)^DO  - (.*)$", rf"DO  - \1.{copy}", record)
        record = re.sub(r"(?m)^(TI|T1)  - (.*)$", rf"\1  - \2 [{copy}]", record)
        out.append(record + "ER  - \n\n")
    path.write_text("".join(out), encoding="utf-8")


def run(code: str, *args: str) -> tuple[float, float, int]:
    """Run code in a fresh interpreter; return seconds, peak MiB (of the largest
    process it ran) and the number of records it read."""
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True
    )
    seconds = time.perf_counter() - start
    count, peak_kib = proc.stdout.split()
    return seconds, int(peak_kib) / 1024, int(count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    work = HERE / "_work"
    work.mkdir(exist_ok=True)
    ris = work / f"bench_{args.records}.ris"
    build(args.records, ris)
    size = ris.stat().st_size / 2**20
    rows = {}
    for label, code, extra in [
        (
            "evsynth import (parse, normalise, ids, CSV)",
            EVSYNTH,
            [str(work / "records.csv")],
        ),
        ("rispy.load (parse only)", RISPY, []),
    ]:
        times, peaks = [], []
        for _ in range(args.repeats):
            seconds, peak, printed = run(code, str(ris), *extra)
            if printed != args.records:
                raise SystemExit(f"{label}: {printed} records, expected {args.records}")
            times.append(seconds)
            peaks.append(peak)
        rows[label] = (statistics.median(times), min(times), max(times), max(peaks))
        print(f"{label}: median {rows[label][0]:.2f} s", file=sys.stderr)
    ours = rows["evsynth import (parse, normalise, ids, CSV)"][0]
    peer = rows["rispy.load (parse only)"][0]
    lines = [
        f"### Importing {args.records:,} RIS records ({size:.0f} MiB)",
        "",
        (
            f"Median of {args.repeats} runs, each in a fresh Python process (start-up "
            f"included), on {os.cpu_count()} cores. Target: under 15 s. evsynth parses files "
            "over 8 million characters in one process per core; peak memory is that of "
            "the largest process."
        ),
        "",
        "| tool | median (s) | min (s) | max (s) | peak memory (MiB) |",
        "|---|---|---|---|---|",
    ]
    for label, (median, low, high, peak) in rows.items():
        lines.append(
            f"| {label} | {median:.2f} | {low:.2f} | {high:.2f} | {peak:.0f} |"
        )
    lines += [
        "",
        (
            f"evsynth / rispy time ratio: {ours / peer:.2f} (evsynth also detects the "
            "format and encoding, normalises every field, assigns ids and writes the CSV)."
        ),
    ]
    block = write_section("import_ris", lines)
    print(block)


if __name__ == "__main__":
    main()
