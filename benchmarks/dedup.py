"""Benchmark: deduplicate the labelled sets, against bib-dedupe, and scale to 1M.

Part 1 runs evsynth's ``deduplicate`` and bib-dedupe 0.11 (installed into its
own venv under benchmarks/_work) on every labelled set in
../shared/benchmarks/dedup, each in a fresh Python process, several times, and
scores the ids each keeps with the field's count (benchmarks/dedup_metrics.py)
and with pairwise precision and recall over its clusters.

Part 2 (``--scaling``) builds sets of 10k to 1M records from the labelled sets:
the distinct papers of those sets, then synthetic papers (titles from a word
chain trained on the real titles, authors, abstracts and numbers drawn from the
real ones), each paper given 0 to 3 perturbed copies with known truth. It runs
evsynth on each (bib-dedupe at 10k and below, stopped after 10 minutes).

Usage: python benchmarks/dedup.py [--repeats 3] [--fake] [--no-scaling]
       [--sizes 10000,100000,1000000] [--seed 1] [--sets stroke,diabetes]
Writes its section into benchmarks/RESULTS.md between its markers.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import random
import re
import statistics
import subprocess
import sys
import time
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from dedup_metrics import Counts, read_clusters, read_contested, score, split_contested
from results_md import write_section

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SHARED = Path(os.environ.get("EVSYNTH_SHARED", REPO.parent / "shared"))
LABELLED = SHARED / "benchmarks/dedup"
WORK = HERE / "_work"
BIB_DEDUPE_VENV = WORK / "bib-dedupe-venv"
BIB_DEDUPE_SPEC = "bib-dedupe==0.11.*"
BIB_DEDUPE_LIMIT = 600  # seconds; the scaling run stops bib-dedupe after this
ORDER = [
    "stroke",
    "respiratory",
    "haematology",
    "cytology_screening",
    "diabetes",
    "digital_work",
    "special_cases",
]
csv.field_size_limit(2**31 - 1)

# Each child reads records.csv as strings, times the tool's call, writes the ids
# it keeps (one a line) and its clusters (cluster_id,record_id), and prints
# records, call seconds and peak KiB (largest of itself and its children).
PEAK = """
import resource
peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
           resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
print(len(frame), seconds, peak)
"""
EVSYNTH = (
    """
import sys
import time
from pathlib import Path
import pandas as pd
records, kept_path, clusters_path, fake = sys.argv[1:5]
if fake == "1":
    from types import SimpleNamespace

    def deduplicate(frame, id_column):
        # stand-in for development: every record is its own cluster
        return SimpleNamespace(
            unique=frame,
            clusters=pd.DataFrame(
                {"cluster_id": range(len(frame)), "record_id": frame[id_column]}
            ),
        )
else:
    from evsynth.records.dedup import deduplicate
frame = pd.read_csv(records, dtype=str, keep_default_na=False)
start = time.perf_counter()
result = deduplicate(frame, id_column="ID")
seconds = time.perf_counter() - start
Path(kept_path).write_text("".join(f"{i}\\n" for i in result.unique["ID"]))
result.clusters[["cluster_id", "record_id"]].to_csv(clusters_path, index=False)
"""
    + PEAK
)
# bib-dedupe's documented pipeline (bib_dedupe/bib_dedupe.py, and the calls of
# its published evaluation): prep, block, match, cluster, merge. cluster() keeps
# only the pairs labelled "duplicate", so "maybe" pairs are not merged. merge()
# with no clusters would run the whole pipeline again, hence the guard.
BIB_DEDUPE = (
    """
import sys
import time
from pathlib import Path
import pandas as pd
from bib_dedupe.bib_dedupe import block, cluster, match, merge, prep
records, kept_path, clusters_path = sys.argv[1:4]
frame = pd.read_csv(records, dtype=str, keep_default_na=False)
start = time.perf_counter()
prepared = prep(frame, verbosity_level=0)
pairs = block(prepared, verbosity_level=0)
matched = match(pairs, verbosity_level=0)
duplicate_id_sets = cluster(matched, verbosity_level=0)
merged = merge(frame, duplicate_id_sets=duplicate_id_sets) if duplicate_id_sets else frame
seconds = time.perf_counter() - start
Path(kept_path).write_text("".join(f"{i}\\n" for i in merged["ID"]))
pd.DataFrame(
    [(n, i) for n, ids in enumerate(duplicate_id_sets) for i in ids],
    columns=["cluster_id", "record_id"],
).to_csv(clusters_path, index=False)
"""
    + PEAK
)


@dataclass
class Run:
    """One tool on one set: median times, peak memory, output and score."""

    seconds: float = math.nan  # median wall time of the whole process
    call: float = math.nan  # median time of the deduplication call alone
    peak: float = math.nan  # MiB, largest over the runs
    counts: Counts | None = None
    adjusted: Counts | None = (
        None  # against the labels with contested records split out
    )
    kept: int = 0
    note: str = ""


def ensure_bib_dedupe() -> tuple[Path, str]:
    """Install bib-dedupe 0.11 into its own venv unless it is there already."""
    python = BIB_DEDUPE_VENV / "bin" / "python"
    version = "import importlib.metadata as m; print(m.version('bib-dedupe'))"
    if python.exists():
        found = subprocess.run(
            [python, "-c", version], capture_output=True, text=True, check=False
        )
        if found.returncode == 0 and found.stdout.startswith("0.11."):
            return python, found.stdout.strip()
    print(f"installing {BIB_DEDUPE_SPEC} into {BIB_DEDUPE_VENV}", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", BIB_DEDUPE_VENV], check=True)
    subprocess.run(
        [python, "-m", "pip", "install", "--quiet", BIB_DEDUPE_SPEC], check=True
    )
    found = subprocess.run(
        [python, "-c", version], capture_output=True, text=True, check=True
    )
    return python, found.stdout.strip()


def run_once(
    python: Path, code: str, args: list[str], timeout: float | None
) -> tuple[float, float, float]:
    """Run code in a fresh interpreter; return wall seconds, call seconds, MiB."""
    start = time.perf_counter()
    proc = subprocess.run(
        [python, "-c", code, *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-1:] or ["no message"]
        raise RuntimeError(f"exit {proc.returncode}: {tail[0][:200]}")
    _, call, peak_kib = proc.stdout.strip().splitlines()[-1].split()
    return seconds, float(call), int(peak_kib) / 1024


def git(*args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(REPO), *args], capture_output=True, text=True, check=False
    ).stdout.strip()


def read_ids(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [row["ID"] for row in csv.DictReader(handle)]


def read_output(
    kept_path: Path, clusters_path: Path, ids: list[str]
) -> tuple[list[str], list[list[str]], list[str]]:
    """The kept ids and clusters a tool wrote, and contract problems found."""
    kept = kept_path.read_text(encoding="utf-8").splitlines()
    groups: dict[str, list[str]] = defaultdict(list)
    with clusters_path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            groups[row["cluster_id"]].append(row["record_id"])
    clusters = list(groups.values())
    problems = []
    placed = [r for c in clusters for r in c]
    if len(placed) != len(set(placed)):
        problems.append("a record is in two clusters")
    kept_set = set(kept)
    several = sum(len(kept_set.intersection(c)) > 1 for c in clusters)
    if several:
        problems.append(f"{several} clusters keep more than one record")
    return kept, [c for c in clusters if len(c) > 1], problems


def measure(
    label: str,
    python: Path,
    code: str,
    records: Path,
    out: Path,
    repeats: int,
    extra: list[str],
    timeout: float | None = None,
) -> tuple[Run, Path, Path]:
    kept_path, clusters_path = out / f"{label}_kept.txt", out / f"{label}_clusters.csv"
    run = Run()
    times, calls, peaks = [], [], []
    for _ in range(repeats):
        try:
            seconds, call, peak = run_once(
                python,
                code,
                [str(records), str(kept_path), str(clusters_path), *extra],
                timeout,
            )
        except subprocess.TimeoutExpired:
            run.note = f"stopped after {timeout:.0f} s"
            break
        except RuntimeError as error:
            run.note = f"failed ({error})"
            break
        times.append(seconds)
        calls.append(call)
        peaks.append(peak)
    if times:
        run.seconds = statistics.median(times)
        run.call = statistics.median(calls)
        run.peak = max(peaks)
    print(
        f"  {label}: {run.seconds:.2f} s, {run.peak:.0f} MiB {run.note}",
        file=sys.stderr,
    )
    return run, kept_path, clusters_path


def evaluate(
    label: str,
    tools: dict[str, tuple[Path, str, list[str]]],
    records: Path,
    truth: list[list[str]],
    out: Path,
    repeats: int,
    timeouts: dict[str, float | None],
    adjusted: list[list[str]] | None = None,
) -> dict[str, Run]:
    """Run every tool on one set and score its output (also against ``adjusted``)."""
    out.mkdir(parents=True, exist_ok=True)
    ids = read_ids(records)
    runs = {}
    for name, (python, code, extra) in tools.items():
        run, kept_path, clusters_path = measure(
            name, python, code, records, out, repeats, extra, timeouts.get(name)
        )
        if not run.note:
            kept, clusters, problems = read_output(kept_path, clusters_path, ids)
            run.kept = len(kept)
            run.note = "; ".join(problems)
            try:
                run.counts = score(ids, kept, clusters, truth)
                if adjusted is not None:
                    run.adjusted = score(ids, kept, clusters, adjusted)
            except ValueError as error:
                run.note = f"not scored: {error}"
        runs[name] = run
    return runs


# ---------------------------------------------------------------------------
# Synthetic sets for the scaling run

FIELDS = [
    "ENTRYTYPE",
    "title",
    "author",
    "year",
    "journal",
    "volume",
    "number",
    "pages",
    "doi",
    "abstract",
]
COPIES = [(0, 0.80), (1, 0.14), (2, 0.045), (3, 0.015)]  # extra copies per paper
PAGES = re.compile(r"^(\d+)\s*-+\s*(\d+)$")
END_WORD = "\n"


def base_papers() -> list[dict[str, str]]:
    """One record per distinct paper of the labelled sets (first of each true
    cluster, and every unique record), fields renamed to FIELDS."""
    papers, seen = [], set()
    for records in sorted(LABELLED.glob("*/records.csv")):
        truth = read_clusters(records.parent / "duplicate_clusters.csv")
        drop = {i for cluster in truth for i in cluster[1:]}
        with records.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                if row["ID"] in drop:
                    continue
                paper = {f: (row.get(f) or "").replace("\n", " ") for f in FIELDS}
                paper["ENTRYTYPE"] = paper["ENTRYTYPE"] or "article"
                paper["journal"] = paper["journal"] or row.get("booktitle", "")
                paper["number"] = paper["number"] or row.get("issue", "")
                key = (re.sub(r"\W", "", paper["title"].lower()), paper["year"])
                if key[0] and key in seen:  # the same paper in two sets
                    continue
                seen.add(key)
                papers.append(paper)
    return papers


class Synth:
    """Makes distinct synthetic papers from the real ones."""

    def __init__(self, papers: list[dict[str, str]], rng: random.Random) -> None:
        self.rng = rng
        self.templates = list(papers)
        self.follows: dict[str, list[str]] = defaultdict(list)
        self.starts: list[str] = []
        self.seen = {p["title"].lower() for p in papers}
        for paper in papers:
            words = paper["title"].split()
            if len(words) < 3:
                continue
            self.starts.append(words[0])
            for a, b in zip(words, [*words[1:], END_WORD], strict=True):
                self.follows[a].append(b)
        self.names = [
            name.strip()
            for p in papers
            if " and " in p["author"]
            for name in p["author"].split(" and ")
            if name.strip() and name.strip() != "others"
        ]
        self.sentences = [
            s.strip().rstrip(".") + "."
            for p in papers
            for s in p["abstract"].split(". ")
            if len(s) > 20
        ]

    def title(self) -> str:
        choice = self.rng.choice
        for _ in range(100):
            words = [choice(self.starts)]
            while len(words) < 40:
                word = choice(self.follows[words[-1]])
                if word == END_WORD:
                    break
                words.append(word)
            title = " ".join(words)
            if len(words) >= 6 and title.lower() not in self.seen:
                self.seen.add(title.lower())
                return title
        raise RuntimeError("word chain keeps repeating titles")

    def paper(self, number: int) -> dict[str, str]:
        rng = self.rng
        paper = dict(rng.choice(self.templates))
        paper["title"] = self.title()
        authors = max(1, len(paper["author"].split(" and "))) if paper["author"] else 0
        paper["author"] = " and ".join(rng.choice(self.names) for _ in range(authors))
        if paper["abstract"]:
            paper["abstract"] = " ".join(
                rng.choice(self.sentences) for _ in range(rng.randint(4, 10))
            )
        paper["volume"] = str(rng.randint(1, 150)) if paper["volume"] else ""
        paper["number"] = str(rng.randint(1, 12)) if paper["number"] else ""
        if paper["pages"]:
            first = rng.randint(1, 3000)
            paper["pages"] = f"{first}-{first + rng.randint(1, 15)}"
        if paper["doi"]:
            paper["doi"] = f"10.{rng.randint(1000, 9999)}/synth.{number}"
        return paper


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def flip_pages(pages: str) -> str:
    """739-746 -> 739-46, and 739-46 -> 739-746."""
    match = PAGES.match(pages)
    if not match:
        return pages
    first, last = match.groups()
    if len(last) < len(first) or int(last) < int(first):
        return f"{first}-{first[: len(first) - len(last)]}{last}"
    common = 0
    while common < len(first) - 1 and first[common] == last[common]:
        common += 1
    return f"{first}-{last[common:]}"


def typo(text: str, rng: random.Random) -> str:
    letters = [i for i, c in enumerate(text) if c.isalpha()]
    if len(letters) < 2:
        return text
    i = rng.choice(letters[:-1])
    kind = rng.randrange(4)
    if kind == 0:  # swap two neighbours
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    if kind == 1:  # drop a letter
        return text[:i] + text[i + 1 :]
    letter = rng.choice("abcdefghijklmnopqrstuvwxyz")
    if kind == 2:  # add a letter
        return text[:i] + letter + text[i:]
    return text[:i] + letter + text[i + 1 :]  # change a letter


def perturb(paper: dict[str, str], rng: random.Random) -> dict[str, str]:
    """A copy of the paper as another database might export it."""
    copy = dict(paper)
    if rng.random() < 0.3:
        copy["title"] = rng.choice([str.upper, str.lower, str.title])(copy["title"])
    if rng.random() < 0.3:
        title = copy["title"]
        copy["title"] = title[:-1] if title.endswith(".") else title + "."
    if rng.random() < 0.3:
        copy["pages"] = flip_pages(copy["pages"])
    names = copy["author"].split(" and ")
    if len(names) > 3 and rng.random() < 0.2:
        copy["author"] = " and ".join(names[:3]) + " et al."
    if rng.random() < 0.3:
        for field in ("title", "author", "journal"):
            copy[field] = strip_accents(copy[field])
    if rng.random() < 0.15:
        copy["title"] = typo(copy["title"], rng)
    if copy["year"].isdigit() and rng.random() < 0.05:
        copy["year"] = str(int(copy["year"]) + rng.choice((-1, 1)))
    if rng.random() < 0.3:
        copy["doi"] = ""
    return copy


def build_scaling_set(n: int, seed: int, folder: Path) -> tuple[int, int]:
    """Write folder/records.csv (n records) and folder/duplicate_clusters.csv.

    The file holds the first copy of every paper in random order, then all the
    extra copies shuffled (as two database exports laid end to end). Returns the
    number of papers and of removable duplicates."""
    rng = random.Random(seed)
    real = base_papers()
    rng.shuffle(real)
    synth = Synth(real, rng)
    expected_papers = n / sum((1 + k) * p for k, p in COPIES)
    share_real = min(1.0, len(real) / expected_papers)
    extras, weights = zip(*COPIES, strict=True)
    folder.mkdir(parents=True, exist_ok=True)
    copies: list[tuple[int, dict[str, str]]] = []
    first_id: dict[int, str] = {}
    written = papers = 0
    with (folder / "records.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["ID", *FIELDS])
        while written + len(copies) < n:
            if real and rng.random() < share_real:
                paper = real.pop()
            else:
                paper = synth.paper(papers)
            extra = min(rng.choices(extras, weights)[0], n - written - len(copies) - 1)
            record_id = f"r{written:07d}"
            writer.writerow([record_id, *(paper[f] for f in FIELDS)])
            written += 1
            if extra:
                first_id[papers] = record_id
                copies.extend((papers, perturb(paper, rng)) for _ in range(extra))
            papers += 1
        rng.shuffle(copies)
        clusters: dict[int, list[str]] = defaultdict(list)
        for paper_number, copy in copies:
            record_id = f"r{written:07d}"
            writer.writerow([record_id, *(copy[f] for f in FIELDS)])
            clusters[paper_number].append(record_id)
            written += 1
    with (folder / "duplicate_clusters.csv").open(
        "w", encoding="utf-8", newline=""
    ) as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_ALL)
        writer.writerow(["merged_ids"])
        for paper_number, ids in clusters.items():
            writer.writerow([";".join([first_id[paper_number], *ids])])
    return papers, len(copies)


# ---------------------------------------------------------------------------
# Tables


def rate(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.4f}"


def secs(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:.2f}"


def mib(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:.0f}"


def accuracy_row(
    label: str, records: int, tool: str, run: Run, adjusted: bool = False
) -> str:
    c = run.adjusted if adjusted else run.counts
    if c is None:
        return f"| {label} | {records:,} | {tool} | {run.note} |||||||||"
    return (
        f"| {label} | {records:,} | {tool} | {run.kept:,} | {c.tp:,} | {c.fp:,} | "
        f"{c.fn:,} | {c.tn:,} | {rate(c.sensitivity)} | {rate(c.specificity)} | "
        f"{rate(c.pair_precision)} | {rate(c.pair_recall)} |"
    )


def total(runs: list[Run]) -> Run:
    counts = [r.counts for r in runs]
    done = all(c is not None for c in counts)
    return Run(
        seconds=sum(r.seconds for r in runs),
        call=sum(r.call for r in runs),
        peak=max(r.peak for r in runs),
        counts=sum(counts, Counts()) if done else None,  # type: ignore[arg-type]
        adjusted=(
            sum((r.adjusted for r in runs), Counts())  # type: ignore[misc]
            if all(r.adjusted is not None for r in runs)
            else None
        ),
        kept=sum(r.kept for r in runs),
        note="" if done else "incomplete",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--fake", action="store_true", help="stub for evsynth")
    parser.add_argument(
        "--scaling", action=argparse.BooleanOptionalAction, default=True
    )
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sets", default="", help="comma-separated subset")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    bd_python, bd_version = ensure_bib_dedupe()
    fake = "1" if args.fake else "0"
    ev_label = "evsynth (stub)" if args.fake else "evsynth"
    tools = {
        ev_label: (Path(sys.executable), EVSYNTH, [fake]),
        "bib-dedupe": (bd_python, BIB_DEDUPE, []),
    }
    commit = git("rev-parse", "--short", "HEAD")
    if git("status", "--porcelain", "--", "src"):
        commit += " plus uncommitted changes in src/"

    contested = read_contested(HERE / "dedup_contested.csv")
    found = {p.parent.name: p for p in LABELLED.glob("*/records.csv")}
    names = [n for n in ORDER if n in found] + sorted(set(found) - set(ORDER))
    if args.sets:
        names = [n for n in names if n in args.sets.split(",")]
    results: dict[str, tuple[int, int, dict[str, Run]]] = {}
    for name in names:
        records = found[name]
        truth = read_clusters(records.parent / "duplicate_clusters.csv")
        print(f"{name}:", file=sys.stderr)
        adjusted = split_contested(truth, contested.get(name, []))
        runs = evaluate(
            name,
            tools,
            records,
            truth,
            WORK / "dedup" / name,
            args.repeats,
            {},
            adjusted,
        )
        size = len(read_ids(records))
        results[name] = (size, sum(len(c) - 1 for c in truth), runs)

    scaling = []
    if args.scaling:
        for n in sizes:
            folder = WORK / "dedup" / f"scaling_{n}"
            start = time.perf_counter()
            papers, removable = build_scaling_set(n, args.seed, folder)
            built = time.perf_counter() - start
            print(f"scaling {n:,}: built in {built:.1f} s", file=sys.stderr)
            truth = read_clusters(folder / "duplicate_clusters.csv")
            chosen = {ev_label: tools[ev_label]}
            if n <= 10_000:
                chosen["bib-dedupe"] = tools["bib-dedupe"]
            runs = evaluate(
                f"scaling_{n}",
                chosen,
                folder / "records.csv",
                truth,
                folder,
                1,
                {"bib-dedupe": BIB_DEDUPE_LIMIT},
            )
            scaling.append((n, papers, removable, built, runs))

    lines = section(args, results, scaling, ev_label, bd_version, commit)
    block = write_section("dedup", lines)
    print(block)


def section(args, results, scaling, ev_label, bd_version, commit) -> list[str]:
    tools = [ev_label, "bib-dedupe"]
    lines = ["### Deduplication: labelled sets, against bib-dedupe", ""]
    if args.fake:
        lines += [
            (
                "**Stub run (`--fake`): evsynth is replaced by a stand-in that keeps "
                "every record. Its figures are not results.**"
            ),
            "",
        ]
    lines += [
        (
            f"evsynth `deduplicate` (commit {commit}) and bib-dedupe {bd_version} on "
            "the labelled sets of `shared/benchmarks/dedup`, each read with pandas "
            "as strings (`dtype=str, keep_default_na=False`) in a fresh Python "
            f"process; median of {args.repeats} run(s) on {os.cpu_count()} cores. "
            "bib-dedupe runs its documented pipeline `prep, block, match, cluster, "
            "merge` with its default settings and automatic decisions only: its "
            '"maybe" pairs are left unmerged, as in its published evaluation.'
        ),
        "",
        (
            "Scores (benchmarks/dedup_metrics.py): from the ids a tool keeps, per "
            "true cluster of size s with m surviving ids, m = 0 counts 1 FP and "
            "s − 1 TP, m ≥ 1 counts m − 1 FN and s − m TP; a unique record dropped "
            "is an FP. TN = the records that should survive and did: unique "
            "records kept plus 1 per true cluster with m ≥ 1 survivors. "
            "Sensitivity = TP/(TP+FN), specificity = TN/(TN+FP); overall rates "
            "come from the summed counts. Pair precision and recall compare the "
            "pairs of records a tool puts in one cluster with the true pairs."
        ),
        "",
        (
            "| set | records | tool | kept | TP | FP | FN | TN | sensitivity | "
            "specificity | pair precision | pair recall |"
        ),
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, (size, _, runs) in results.items():
        for tool in tools:
            lines.append(accuracy_row(name, size, tool, runs[tool]))
    all_records = sum(size for size, _, _ in results.values())
    if results:
        for tool in tools:
            summed = total([runs[tool] for _, _, runs in results.values()])
            lines.append(accuracy_row("**all**", all_records, tool, summed))
    lines += [
        "",
        (
            "The same runs scored against the labels with the records of "
            "`benchmarks/dedup_contested.csv` taken out of their true clusters: "
            "errata and replies labelled with the article they concern, different "
            "trials with one title but for a contrasting word, a Cochrane review's "
            "earlier version and a conference abstract labelled with the later "
            "article. The issue (#4) and the sets' own definition of a duplicate "
            "(Rathbone 2015: further reports of a study and a conference abstract "
            "of a later article are not duplicates) say these must not merge; the "
            "file gives the reason for each record. The table above, against the "
            "labels as published, is the headline."
        ),
        "",
        (
            "| set | records | tool | kept | TP | FP | FN | TN | sensitivity | "
            "specificity | pair precision | pair recall |"
        ),
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, (size, _, runs) in results.items():
        if any(runs[t].adjusted != runs[t].counts for t in tools):
            for tool in tools:
                lines.append(accuracy_row(name, size, tool, runs[tool], True))
    if results:
        for tool in tools:
            summed = total([runs[tool] for _, _, runs in results.values()])
            lines.append(accuracy_row("**all**", all_records, tool, summed, True))
    notes = [
        f"{name}, {tool}: {runs[tool].note}"
        for name, (_, _, runs) in results.items()
        for tool in tools
        if runs[tool].note and runs[tool].counts is not None
    ]
    if notes:
        lines += ["", "Contract problems: " + "; ".join(notes) + "."]
    lines += [
        "",
        (
            "Time is the whole process (start-up, imports, reading the CSV, writing the "
            "output); *call* is the deduplication call alone. Peak memory is the "
            "largest resident set of the process or of any process it started."
        ),
        "",
        (
            f"| set | records | {ev_label} (s) | bib-dedupe (s) | bib-dedupe / evsynth | "
            f"{ev_label} call (s) | bib-dedupe call (s) | {ev_label} peak (MiB) | "
            "bib-dedupe peak (MiB) |"
        ),
        "|---|---|---|---|---|---|---|---|---|",
    ]
    speed = [(name, size, runs) for name, (size, _, runs) in results.items()]
    if results:
        summed = {t: total([r[t] for _, _, r in speed]) for t in tools}
        speed.append(("**all** (sum; peak = max)", all_records, summed))
    for name, size, runs in speed:
        ours, theirs = runs[ev_label], runs["bib-dedupe"]
        lines.append(
            f"| {name} | {size:,} | {secs(ours.seconds)} | {secs(theirs.seconds)} | "
            f"{secs(theirs.seconds / ours.seconds)} | {secs(ours.call)} | "
            f"{secs(theirs.call)} | {mib(ours.peak)} | {mib(theirs.peak)} |"
        )
    if scaling:
        lines += scaling_lines(args, scaling)
    return lines


def scaling_lines(args, scaling) -> list[str]:
    lines = [
        "",
        "#### Scaling",
        "",
        (
            f"Sets of N records built with seed {args.seed} from the labelled sets: "
            "their distinct papers (one per true cluster and every unique record), "
            "then synthetic papers (a title from a word chain trained on the real "
            "titles, never repeating one; authors, abstract sentences, journal and "
            "year drawn from the real records; new volume, pages and DOI). Each "
            "paper gets 0–3 extra copies (80/14/4.5/1.5 %), each copy perturbed "
            "at random: title case changed (30 %), trailing full stop dropped or "
            "added (30 %), page range abbreviated or expanded, 739-746 ↔ 739-46 "
            "(30 %), authors cut to the first 3 + “et al.” (20 %), diacritics "
            "removed (30 %), one typo in the title (15 %), year ±1 (5 %), DOI "
            "removed (30 %). One run each; bib-dedupe at 10,000 records and "
            f"below, stopped after {BIB_DEDUPE_LIMIT // 60} minutes. *Exponent* is "
            "log(time ratio) / log(size ratio) against the previous size: 1 is "
            "linear growth, 2 quadratic."
        ),
        "",
        (
            "| records | removable duplicates | build (s) | tool | time (s) | call (s) | "
            "µs per record (call) | exponent | peak (MiB) | sensitivity | specificity | "
            "pair precision | pair recall |"
        ),
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    previous: dict[str, tuple[int, float]] = {}
    for n, _, removable, built, runs in scaling:
        for tool, run in runs.items():
            exponent = math.nan
            if tool in previous and not math.isnan(run.call):
                n0, t0 = previous[tool]
                exponent = math.log(run.call / t0) / math.log(n / n0)
            if not math.isnan(run.call):
                previous[tool] = (n, run.call)
            c = run.counts
            scores = (
                f"{rate(c.sensitivity)} | {rate(c.specificity)} | "
                f"{rate(c.pair_precision)} | {rate(c.pair_recall)}"
                if c
                else f"{run.note} | | |"
            )
            lines.append(
                f"| {n:,} | {removable:,} | {built:.1f} | {tool} | "
                f"{secs(run.seconds)} | {secs(run.call)} | "
                f"{secs(run.call / n * 1e6)} | {secs(exponent)} | {mib(run.peak)} | "
                f"{scores} |"
            )
    return lines


if __name__ == "__main__":
    main()
