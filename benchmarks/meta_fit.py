"""Benchmark: one REML + Knapp-Hartung fit at k = 20, 100 and 1,000.

Times evsynth's ``rma`` (with its prediction interval), and in the same run PyMARE's
REML estimator with Knapp-Hartung inference (the library evsynth builds on), and
R's metafor ``rma(method="REML", test="knha")`` when ``Rscript`` with metafor is
installed (Debian: r-cran-metafor). Each fit is repeated and the median time per
fit is reported; data are simulated with a fixed seed.

Usage: python benchmarks/meta_fit.py [--repeats 50] [--sizes 20,100,1000]
Writes its section into benchmarks/RESULTS.md between its markers.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from results_md import write_section

from evsynth.meta.rma import predict, rma

HERE = Path(__file__).resolve().parent


def simulate(k: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed + k)
    n = rng.integers(20, 400, size=k)
    vi = 4 / n + rng.uniform(0, 0.01, size=k)
    yi = rng.normal(0.25, np.sqrt(vi + 0.04))
    return yi, vi


def time_it(function, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def evsynth_fit(yi, vi):
    fit = rma(yi, vi, method="REML", test="knha")
    predict(fit)
    return fit


def pymare_fit(yi, vi):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pymare import Dataset
        from pymare.estimators import VarianceBasedLikelihoodEstimator

        estimator = VarianceBasedLikelihoodEstimator(method="REML")
        estimator.fit_dataset(Dataset(y=yi, v=vi))
        return estimator.summary().get_fe_stats()


R_SCRIPT = """
suppressMessages(library(metafor))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1]); reps <- as.integer(args[2])
times <- numeric(reps)
for (i in seq_len(reps)) {
  t0 <- proc.time()[["elapsed"]]
  f <- rma(d$yi, d$vi, method = "REML", test = "knha"); p <- predict(f)
  times[i] <- proc.time()[["elapsed"]] - t0
}
# proc.time has millisecond resolution: report the mean over the repeats too
cat(median(times), mean(times), as.character(packageVersion("metafor")), "\\n")
"""


def metafor_fit(yi, vi, repeats: int) -> tuple[float, str] | None:
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "d.csv"
        np.savetxt(
            data, np.column_stack([yi, vi]), delimiter=",", header="yi,vi", comments=""
        )
        script = Path(folder) / "fit.R"
        script.write_text(R_SCRIPT, encoding="utf-8")
        proc = subprocess.run(
            ["Rscript", str(script), str(data), str(repeats)],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            return None
        _median, mean, version = proc.stdout.split()
        return float(mean), version


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--sizes", default="20,100,1000")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = []
    version = ""
    for k in sizes:
        yi, vi = simulate(k)
        evsynth_fit(yi, vi)  # warm-up (imports)
        pymare_fit(yi, vi)
        ours = time_it(lambda yi=yi, vi=vi: evsynth_fit(yi, vi), args.repeats)
        peer = time_it(lambda yi=yi, vi=vi: pymare_fit(yi, vi), args.repeats)
        r = metafor_fit(yi, vi, args.repeats)
        if r:
            version = r[1]
        rows.append((k, ours, peer, r[0] if r else None))
        print(k, ours, peer, r, flush=True)
    lines = [
        "### Meta-analysis: one REML + Knapp-Hartung fit",
        "",
        (
            f"Median time per fit over {args.repeats} repeats of simulated data (fixed "
            "seed), after a warm-up, on the shared 2-core machine. evsynth's `rma` "
            "includes the prediction interval; PyMARE 0.0.13's REML estimator with "
            "its Knapp-Hartung summary is the peer in the same run"
            + (
                f'; metafor {version} (`rma(method="REML", test="knha")` and '
                "`predict()`, timed inside R, mean of the repeats because R's clock "
                "has millisecond resolution)"
                if version
                else ""
            )
            + ". evsynth runs metafor's own Fisher-scoring steps so that its estimates "
            "equal metafor's."
        ),
        "",
        "| k | evsynth (ms) | PyMARE (ms) | evsynth / PyMARE | metafor (ms) |",
        "|---|---|---|---|---|",
    ]
    for k, ours, peer, theirs in rows:
        metafor_text = f"{theirs * 1000:.2f}" if theirs is not None else "–"
        lines.append(
            f"| {k:,} | {ours * 1000:.2f} | {peer * 1000:.2f} | {ours / peer:.2f} | "
            f"{metafor_text} |"
        )
    block = write_section("meta_fit", lines)
    print(block)


if __name__ == "__main__":
    main()
