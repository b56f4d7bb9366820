"""Benchmark: deduplicating 100k to 10M records, unsharded and sharded, against a peer.

Builds the scaling sets of benchmarks/dedup.py (same builder and seed) and runs
``evsynth.records.dedup.dedup_file`` (CSV in, the five tables out: what the
workflow's ``deduplicate`` rule runs) in a fresh process per run, for this
checkout and, with ``--peer SRC``, for another checkout's ``src`` folder (an
older commit: ``git worktree add /tmp/dedup_old <commit>``), runs alternating.
With ``--shards S`` it also runs the sharded deduplication (``evsynth
dedup-shard keys/compare/gather``), each stage job in its own process, and
reports each job's time and peak memory. Every run's five tables are compared
byte for byte with the first mode's.

Usage: python benchmarks/dedup_scale.py [--sizes 100000,1000000] [--repeats 2]
       [--peer /tmp/dedup_old/src] [--shards 8] [--chunks 4] [--modes new,peer]
Writes its section into benchmarks/RESULTS.md between its markers.
"""

from __future__ import annotations

import argparse
import filecmp
import math
import os
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from dedup import WORK, build_scaling_set, git
from results_md import write_section

from evsynth.records.dedup import TABLES

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

# One run: put SRC first on the path, time dedup_file, print seconds and peak KiB.
CHILD = """
import resource
import sys
import time
src, records, out, workers = sys.argv[1:5]
sys.path.insert(0, src)
import evsynth
from evsynth.records.dedup import dedup_file
assert evsynth.__file__.startswith(src), evsynth.__file__
options = {"workers": int(workers)} if workers != "1" else {}
start = time.perf_counter()
dedup_file(records, out, id_column="ID", **options)
seconds = time.perf_counter() - start
print(seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
      resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


@dataclass
class Job:
    """One process: what it ran, its wall seconds and peak MiB."""

    name: str
    seconds: float
    peak: float


@dataclass
class Mode:
    """Runs of one way of deduplicating a set."""

    label: str
    totals: list[float] = field(default_factory=list)
    peaks: list[float] = field(default_factory=list)
    jobs: list[list[Job]] = field(default_factory=list)
    identical: list[bool] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return statistics.median(self.totals) if self.totals else math.nan

    @property
    def peak(self) -> float:
        return max(self.peaks) if self.peaks else math.nan


def run(command: list[str], src: Path | None = None) -> tuple[float, float, str]:
    """Run a command (``src`` first on its path); return wall seconds, NaN, stdout."""
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src)
    start = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-3:] or ["no message"]
        raise RuntimeError(f"{command[:4]} exit {proc.returncode}: {tail}")
    return seconds, math.nan, proc.stdout


def timed(command: list[str], src: Path) -> tuple[float, float]:
    """Run a command under /usr/bin/time; return wall seconds and peak MiB."""
    report = WORK / "time.txt"
    seconds, _, _ = run(["/usr/bin/time", "-f", "%M", "-o", str(report), *command], src)
    return seconds, int(report.read_text().split()[-1]) / 1024


def run_plain(src: Path, records: Path, out: Path, workers: int = 1) -> list[Job]:
    """One dedup_file run; with workers, their peak is listed as a second job."""
    seconds, _, stdout = run(
        [sys.executable, "-c", CHILD, str(src), str(records), str(out), str(workers)]
    )
    _, peak_kib, children_kib = stdout.strip().splitlines()[-1].split()
    jobs = [Job("dedup_file", seconds, int(peak_kib) / 1024)]
    if workers > 1:
        jobs.append(Job("worker", 0.0, int(children_kib) / 1024))
    return jobs


def run_sharded(
    src: Path, records: Path, out: Path, shards: int, chunks: int
) -> list[Job]:
    """The three stages of the sharded deduplication, each job in its own process."""
    work = out / "shards"
    shutil.rmtree(work, ignore_errors=True)
    evsynth = [sys.executable, "-m", "evsynth.cli", "dedup-shard"]
    common = ["--id-column", "ID", "--shards", str(shards)]
    jobs = []
    for chunk in range(chunks):
        seconds, peak = timed(
            [
                *evsynth,
                "keys",
                str(records),
                "--chunk",
                str(chunk),
                "--chunks",
                str(chunks),
                "--out-dir",
                str(work / "keys"),
                *common,
            ],
            src,
        )
        jobs.append(Job(f"keys {chunk}", seconds, peak))
    for shard in range(shards):
        seconds, peak = timed(
            [
                *evsynth,
                "compare",
                str(work / "keys"),
                "--shard",
                str(shard),
                "--out-dir",
                str(work / "compared"),
                *common,
            ],
            src,
        )
        jobs.append(Job(f"compare {shard}", seconds, peak))
    seconds, peak = timed(
        [
            *evsynth,
            "gather",
            str(records),
            str(work / "compared"),
            "--out-dir",
            str(out),
            *common,
        ],
        src,
    )
    jobs.append(Job("gather", seconds, peak))
    return jobs


def same_tables(a: Path, b: Path) -> bool:
    missing = [t for t in TABLES if not (a / t).is_file()]
    if missing:
        print(f"reference tables missing in {a}: {missing}", file=sys.stderr)
        return False
    return all(filecmp.cmp(a / t, b / t, shallow=False) for t in TABLES)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--src", default=str(REPO / "src"), help="src folder of the code measured"
    )
    parser.add_argument("--peer", default="", help="src folder of a peer checkout")
    parser.add_argument("--peer-label", default="", help="e.g. the peer's commit")
    parser.add_argument("--shards", type=int, default=0)
    parser.add_argument("--chunks", type=int, default=2, help="keys jobs")
    parser.add_argument(
        "--modes",
        default="",
        help="comma-separated: new, newN (N worker processes), peer, sharded",
    )
    parser.add_argument(
        "--no-write", action="store_true", help="print, leave RESULTS.md alone"
    )
    parser.add_argument(
        "--reference",
        default="",
        help="compare every run's tables with those of this folder (under each "
        "size's folder, e.g. out_new of an earlier run) instead of the first mode's",
    )
    args = parser.parse_args()
    modes = [m for m in args.modes.split(",") if m] or [
        "new",
        *(["peer"] if args.peer else []),
        *(["sharded"] if args.shards else []),
    ]
    commit = git("rev-parse", "--short", "HEAD")
    if git("status", "--porcelain", "--", "src"):
        commit = f"working tree over {commit}"
    results = []
    for n in [int(s) for s in args.sizes.split(",") if s]:
        folder = WORK / "dedup" / f"scaling_{n}"
        records = folder / "records.csv"
        built = math.nan
        if not records.exists():
            start = time.perf_counter()
            build_scaling_set(n, args.seed, folder)
            built = time.perf_counter() - start
            print(f"{n:,}: built in {built:.1f} s", file=sys.stderr)
        runs = {m: Mode(m) for m in modes}
        reference: Path | None = folder / args.reference if args.reference else None
        for repeat in range(args.repeats):
            for mode in modes:
                out = folder / f"out_{mode}"
                shutil.rmtree(out, ignore_errors=True)
                out.mkdir(parents=True)
                if mode == "sharded":
                    jobs = run_sharded(
                        Path(args.src), records, out, args.shards, args.chunks
                    )
                else:
                    src = Path(args.peer if mode == "peer" else args.src)
                    workers = (
                        int(mode[3:]) if mode.startswith("new") and mode[3:] else 1
                    )
                    jobs = run_plain(src, records, out, workers)
                entry = runs[mode]
                entry.jobs.append(jobs)
                entry.totals.append(sum(j.seconds for j in jobs))
                entry.peaks.append(max(j.peak for j in jobs))
                if reference is None:
                    reference = folder / "out_reference"
                    shutil.rmtree(reference, ignore_errors=True)
                    shutil.copytree(out, reference)
                entry.identical.append(same_tables(reference, out))
                print(
                    f"{n:,} {mode} #{repeat + 1}: {entry.totals[-1]:.1f} s, "
                    f"{entry.peaks[-1]:.0f} MiB, identical {entry.identical[-1]}",
                    file=sys.stderr,
                )
        results.append((n, built, runs))
    lines = section(args, modes, results, commit)
    if args.no_write:
        print("\n".join(lines))
    else:
        print(write_section("dedup_scale", lines))


def section(args, modes, results, commit) -> list[str]:
    peer = args.peer_label or args.peer
    names = {
        **{
            m: f"evsynth ({commit}), {m[3:]} worker processes"
            for m in modes
            if m.startswith("new") and m[3:]
        },
        "new": f"evsynth ({commit})",
        "peer": f"peer ({peer})",
        "sharded": f"sharded, {args.shards} shards, {args.chunks} keys jobs",
    }
    lines = [
        "### Deduplication at scale: memory, time, shards",
        "",
        (
            "`dedup_file` (the records CSV in, the five tables out: what the "
            "workflow's `deduplicate` rule runs) on the scaling sets of the "
            f"section above (seed {args.seed}), each run in a fresh process, "
            f"modes alternating, {args.repeats} run(s) each, median time; peak "
            "memory is the largest resident set of a run (of any job of a "
            "sharded run). *Same output* says whether all five tables were byte-"
            "identical to the first mode's in every run. Sharded: every stage job "
            "(`evsynth dedup-shard keys`, `compare`, `gather`) ran one after the "
            "other in its own process; *time* is their sum (what one core "
            "takes), *slowest job* what a cluster running the shards in parallel "
            "waits for per stage. *Exponent* is log(time ratio) / log(size "
            "ratio) against the previous size."
        ),
        "",
        (
            "| records | mode | time (s) | µs per record | exponent | peak (MiB) | "
            "time / peer | same output |"
        ),
        "|---|---|---|---|---|---|---|---|",
    ]
    previous: dict[str, tuple[int, float]] = {}
    for n, _, runs in results:
        peer_time = runs["peer"].seconds if "peer" in runs else math.nan
        for mode in modes:
            entry = runs[mode]
            exponent = math.nan
            if mode in previous:
                n0, t0 = previous[mode]
                exponent = math.log(entry.seconds / t0) / math.log(n / n0)
            previous[mode] = (n, entry.seconds)
            lines.append(
                f"| {n:,} | {names[mode]} | {entry.seconds:.1f} | "
                f"{entry.seconds / n * 1e6:.0f} | "
                f"{'–' if math.isnan(exponent) else f'{exponent:.2f}'} | "
                f"{entry.peak:.0f} | "
                f"{'–' if math.isnan(peer_time) else f'{entry.seconds / peer_time:.2f}'}"
                f" | {'yes' if all(entry.identical) else 'NO'} |"
            )
    sharded = [(n, runs["sharded"]) for n, _, runs in results if "sharded" in runs]
    if sharded:
        lines += [
            "",
            "Sharded runs, per stage (median over runs of the stage's jobs):",
            "",
            (
                "| records | stage | jobs | median job (s) | slowest job (s) | "
                "largest job peak (MiB) |"
            ),
            "|---|---|---|---|---|---|",
        ]
        for n, entry in sharded:
            for stage in ("keys", "compare", "gather"):
                jobs = [
                    j
                    for run_jobs in entry.jobs
                    for j in run_jobs
                    if j.name.startswith(stage)
                ]
                per_run = len(jobs) // max(len(entry.jobs), 1)
                lines.append(
                    f"| {n:,} | {stage} | {per_run} | "
                    f"{statistics.median(j.seconds for j in jobs):.1f} | "
                    f"{max(j.seconds for j in jobs):.1f} | "
                    f"{max(j.peak for j in jobs):.0f} |"
                )
    return lines


if __name__ == "__main__":
    main()
