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

Mode ``regather`` runs the gather stage again (this checkout's code) on the
shards of the size's last sharded run. Every run is kept in
``benchmarks/dedup_scale.json`` (a later run of the same size and mode replaces
it), and the section of RESULTS.md is written from all the kept runs, so sizes
measured in separate sessions (10M records take an hour) appear together, each
row naming the code it measured.

Usage: python benchmarks/dedup_scale.py [--sizes 100000,1000000] [--repeats 2]
       [--peer /tmp/dedup_old/src] [--shards 8] [--chunks 4] [--modes new,peer]
       [--reference out_new] [--label COMMIT] [--render]
Writes its section into benchmarks/RESULTS.md between its markers.
"""

from __future__ import annotations

import argparse
import dataclasses
import filecmp
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from dedup import WORK, build_scaling_set, git
from results_md import write_section

from evsynth.records.dedup import TABLES

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
#: Every run measured, by size and mode; RESULTS.md's section is made from it.
STORE = HERE / "dedup_scale.json"
STAGE = [sys.executable, "-m", "evsynth.cli", "dedup-shard"]
ORDER = ("new", "peer", "sharded", "regather")

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
own = resource.getrusage(resource.RUSAGE_SELF)
workers = resource.getrusage(resource.RUSAGE_CHILDREN)
print(seconds, own.ru_maxrss, workers.ru_maxrss,
      own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime)
"""


@dataclass
class Job:
    """One process: what it ran, its wall seconds, peak MiB and CPU seconds."""

    name: str
    seconds: float
    peak: float
    cpu: float = math.nan


@dataclass
class Mode:
    """Runs of one way of deduplicating a set."""

    label: str
    totals: list[float] = field(default_factory=list)
    peaks: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)
    jobs: list[list[Job]] = field(default_factory=list)
    identical: list[bool] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return statistics.median(self.totals) if self.totals else math.nan

    @property
    def cpu(self) -> float:
        return statistics.median(self.cpus) if self.cpus else math.nan

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


def timed(command: list[str], src: Path) -> tuple[float, float, float]:
    """Run a command under /usr/bin/time; return wall seconds, peak MiB, CPU seconds."""
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "time.txt"
        seconds, _, _ = run(
            ["/usr/bin/time", "-f", "%U %S %M", "-o", str(report), *command], src
        )
        user, system, peak = report.read_text().split()[-3:]
    return seconds, int(peak) / 1024, float(user) + float(system)


def run_plain(src: Path, records: Path, out: Path, workers: int = 1) -> list[Job]:
    """One dedup_file run; with workers, their peak is listed as a second job."""
    seconds, _, stdout = run(
        [sys.executable, "-c", CHILD, str(src), str(records), str(out), str(workers)]
    )
    _, peak_kib, children_kib, cpu = stdout.strip().splitlines()[-1].split()
    jobs = [Job("dedup_file", seconds, int(peak_kib) / 1024, float(cpu))]
    if workers > 1:
        jobs.append(Job("worker", 0.0, int(children_kib) / 1024, 0.0))
    return jobs


def run_sharded(
    src: Path, records: Path, out: Path, shards: int, chunks: int
) -> list[Job]:
    """The three stages of the sharded deduplication, each job in its own process."""
    work = out / "shards"
    shutil.rmtree(work, ignore_errors=True)
    common = ["--id-column", "ID", "--shards", str(shards)]
    jobs = []
    for chunk in range(chunks):
        seconds, peak, cpu = timed(
            [
                *STAGE,
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
        jobs.append(Job(f"keys {chunk}", seconds, peak, cpu))
    for shard in range(shards):
        seconds, peak, cpu = timed(
            [
                *STAGE,
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
        jobs.append(Job(f"compare {shard}", seconds, peak, cpu))
    return [*jobs, run_gather(src, records, work / "compared", out, shards)]


def run_gather(src: Path, records: Path, compared: Path, out: Path, shards: int) -> Job:
    """The gather stage alone, on the compare stage's folder."""
    seconds, peak, cpu = timed(
        [
            *STAGE,
            "gather",
            str(records),
            str(compared),
            "--out-dir",
            str(out),
            "--id-column",
            "ID",
            "--shards",
            str(shards),
        ],
        src,
    )
    return Job("gather", seconds, peak, cpu)


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
    parser.add_argument("--label", default="", help="the measured code's commit")
    parser.add_argument("--peer", default="", help="src folder of a peer checkout")
    parser.add_argument("--peer-label", default="", help="e.g. the peer's commit")
    parser.add_argument("--shards", type=int, default=0)
    parser.add_argument("--chunks", type=int, default=2, help="keys jobs")
    parser.add_argument(
        "--modes",
        default="",
        help="comma-separated: new, newN (N worker processes), peer, sharded, "
        "regather (the gather stage again, on the last sharded run's shards)",
    )
    parser.add_argument(
        "--no-write", action="store_true", help="print, leave RESULTS.md alone"
    )
    parser.add_argument(
        "--render", action="store_true", help="only write the section from the store"
    )
    parser.add_argument(
        "--reference",
        default="",
        help="compare every run's tables with those of this folder (under each "
        "size's folder, e.g. out_new of an earlier run) instead of the first mode's",
    )
    args = parser.parse_args()
    if args.render:
        print(write_section("dedup_scale", section(load_store())))
        return
    modes = [m for m in args.modes.split(",") if m] or [
        "new",
        *(["peer"] if args.peer else []),
        *(["sharded"] if args.shards else []),
    ]
    commit = args.label or git("rev-parse", "--short", "HEAD")
    if not args.label and git("status", "--porcelain", "--", "src"):
        commit = f"working tree over {commit}"
    names = {
        **{
            m: f"evsynth ({commit}), {m[3:]} worker processes"
            for m in modes
            if m.startswith("new") and m[3:]
        },
        "new": f"evsynth ({commit})",
        "peer": f"peer ({args.peer_label or args.peer})",
        "sharded": f"sharded ({commit}), {args.shards} shards, {args.chunks} keys jobs",
        "regather": f"gather again ({commit}) on the sharded run's shards",
    }
    store = load_store()
    for n in [int(s) for s in args.sizes.split(",") if s]:
        folder = WORK / "dedup" / f"scaling_{n}"
        records = folder / "records.csv"
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
                elif mode == "regather":
                    compared = folder / "out_sharded" / "shards" / "compared"
                    shards = len(list(compared.glob("shard_*")))
                    jobs = [run_gather(Path(args.src), records, compared, out, shards)]
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
                entry.cpus.append(sum(j.cpu for j in jobs if j.name != "worker"))
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
        for mode, entry in runs.items():
            store = [r for r in store if (r["records"], r["mode"]) != (n, mode)]
            store.append(
                {
                    "records": n,
                    "mode": mode,
                    "name": names[mode],
                    "seed": args.seed,
                    "totals": entry.totals,
                    "peaks": entry.peaks,
                    "cpus": entry.cpus,
                    "identical": entry.identical,
                    "compared_with": (
                        args.reference.removeprefix("out_")
                        if args.reference
                        else modes[0]
                    ),
                    "stages": stages(entry),
                    "jobs": [
                        [dataclasses.asdict(j) for j in run_jobs]
                        for run_jobs in entry.jobs
                    ],
                }
            )
        save_store(store)
    lines = section(load_store())
    if args.no_write:
        print("\n".join(lines))
    else:
        print(write_section("dedup_scale", lines))


def _mode_rank(mode: str) -> tuple[int, str]:
    base = "new" if mode.startswith("new") else mode
    return (ORDER.index(base) if base in ORDER else len(ORDER), mode)


def load_store() -> list[dict]:
    """Return the stored runs (none if the store is missing)."""
    if not STORE.exists():
        return []
    return json.loads(STORE.read_text(encoding="utf-8"))


def save_store(store: list[dict]) -> None:
    store.sort(key=lambda r: (r["records"], _mode_rank(r["mode"])))
    STORE.write_text(json.dumps(store, indent=1) + "\n", encoding="utf-8")


def _entry(run: dict) -> Mode:
    entry = Mode(run["mode"], run["totals"], run["peaks"], run.get("cpus", []))
    entry.identical = run["identical"]
    return entry


def stages(entry: Mode) -> dict[str, dict[str, float]]:
    """Each stage's jobs per run, median and slowest job seconds, largest peak."""
    out = {}
    for stage in ("keys", "compare", "gather"):
        jobs = [j for js in entry.jobs for j in js if j.name.startswith(stage)]
        if jobs:
            out[stage] = {
                "jobs": len(jobs) // max(len(entry.jobs), 1),
                "median": statistics.median(j.seconds for j in jobs),
                "cpu": statistics.median(j.cpu for j in jobs),
                "slowest": max(j.seconds for j in jobs),
                "peak": max(j.peak for j in jobs),
            }
    return out


def _number(value: float | None) -> str:
    return "–" if value is None or math.isnan(value) else f"{value:.1f}"


def section(store: list[dict]) -> list[str]:
    """The section of RESULTS.md: every stored run, by size and mode."""
    lines = [
        "### Deduplication at scale: memory, time, shards",
        "",
        (
            "`dedup_file` (the records CSV in, the five tables out: what the "
            "workflow's `deduplicate` rule runs) on the scaling sets of the "
            "section above, each run in a fresh process, median time over the "
            "runs (*runs*); peak memory is the largest resident set of a run (of "
            "any job of a sharded run). Runs of one size and session alternate "
            "their modes. *Same output*: all five tables byte-identical to those "
            "of the mode named in *compared with*, same size and session unless said. "
            "Sharded: every stage job (`evsynth dedup-shard keys`, `compare`, "
            "`gather`) ran one after the other in its own process; *time* is their "
            "sum (what one core takes). *CPU*: user and system seconds of the "
            "run's processes (a run waiting for a shared core takes longer but "
            "no more CPU; – where not recorded). *Exponent* is log(time ratio) / log(size "
            "ratio) against the previous size of the same mode. Written by "
            "`benchmarks/dedup_scale.py` from `benchmarks/dedup_scale.json`."
        ),
        "",
        (
            "| records | mode | runs | time (s) | CPU (s) | µs per record | exponent "
            "| peak (MiB) | time / peer | same output | compared with |"
        ),
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    previous: dict[str, tuple[int, float]] = {}
    for run in store:
        n, entry = run["records"], _entry(run)
        peers = [r for r in store if r["records"] == n and r["mode"] == "peer"]
        peer_time = _entry(peers[0]).seconds if peers else math.nan
        exponent = math.nan
        if run["mode"] in previous:
            n0, t0 = previous[run["mode"]]
            exponent = math.log(entry.seconds / t0) / math.log(n / n0)
        previous[run["mode"]] = (n, entry.seconds)
        ratio = entry.seconds / peer_time if run["mode"] != "regather" else math.nan
        against = run.get("compared_with") or "–"
        same = "yes" if all(entry.identical) else "NO"
        if against == run["mode"]:
            against, same = "(the reference)", "–"
        elif against == "–" or not entry.identical:
            against, same = "–", "not checked"
        lines.append(
            f"| {n:,} | {run['name']} | {run.get('runs', len(entry.totals))} | "
            f"{entry.seconds:.1f} | "
            f"{'–' if math.isnan(entry.cpu) else f'{entry.cpu:.1f}'} | "
            f"{entry.seconds / n * 1e6:.0f} | "
            f"{'–' if math.isnan(exponent) else f'{exponent:.2f}'} | "
            f"{entry.peak:.0f} | {'–' if math.isnan(ratio) else f'{ratio:.2f}'} | "
            f"{same} | {against} |"
        )
    sources = sorted({r["source"] for r in store if r.get("source")})
    if sources:
        lines += ["", *(f"{source}." for source in sources)]
    staged = [r for r in store if r["mode"] in ("sharded", "regather")]
    if staged:
        lines += [
            "",
            "Sharded runs, per stage (over the runs of the stage's jobs):",
            "",
            (
                "| records | run | stage | jobs | median job (s) | median job CPU (s) "
                "| slowest job (s) | largest job peak (MiB) |"
            ),
            "|---|---|---|---|---|---|---|---|",
        ]
        for run in staged:
            for stage, row in run["stages"].items():
                lines.append(
                    f"| {run['records']:,} | {run['name']} | {stage} | {row['jobs']} | "
                    f"{row['median']:.1f} | {_number(row.get('cpu'))} | "
                    f"{row['slowest']:.1f} | {row['peak']:.0f} |"
                )
    return lines


if __name__ == "__main__":
    main()
