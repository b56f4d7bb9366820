"""Put our forest and funnel plots next to metafor's, for a visual comparison.

For dat.bangertdrowns2004 (first 15 studies, Hedges' g) and dat.bcg (log risk
ratios, drawn as ratios) this script fits the random-effects model (REML, z
tests, as metafor's defaults) with ``evsynth.meta.rma`` -- or, if that module is
missing, with the DerSimonian-Laird fallback below -- and draws

    benchmarks/_work/forest/<name>_evsynth_forest.png   (ours)
    benchmarks/_work/forest/<name>_evsynth_funnel.png
    benchmarks/_work/forest/<name>_metafor_forest.png   (metafor, via Rscript)
    benchmarks/_work/forest/<name>_metafor_funnel.png
    benchmarks/_work/forest/<name>_metafor_trimfill.png
    benchmarks/_work/forest/<name>_side_by_side_<kind>.png  (metafor | ours)

plus the hard cases: dat.bcg split into subgroups by allocation with long
labels and a synthetic 60-study meta-analysis. metafor's plots are drawn by
``benchmarks/metafor_forest.R`` when ``Rscript`` with metafor is installed.

Also, after ``evsynth run``, the example review's mental-health analysis: our
``results/meta/forest_mental_health.png`` next to metafor's forest() of the same
studies (REML with Knapp-Hartung, as the example's config), as
``benchmarks/_work/forest/example_side_by_side_forest.png``.

Usage: python benchmarks/compare_forest.py [--no-r]
"""

from __future__ import annotations

import argparse
import csv
import math
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import stats

from evsynth.plots.forest import ForestData, ForestRow, ForestSummary, draw_forest
from evsynth.plots.funnel import FunnelData, draw_funnel

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SHARED = REPO.parent / "shared" / "validation" / "metafor"
OUT = HERE / "_work" / "forest"
Z = float(stats.norm.isf(0.025))


# --- fitting ------------------------------------------------------------------


@dataclass
class Fit:
    estimate: float
    se: float
    ci_lb: float
    ci_ub: float
    pi_lb: float
    pi_ub: float
    tau2: float
    I2: float
    Q: float
    df: int
    Q_p: float
    z: float
    p: float
    weights: np.ndarray
    how: str


def _fit_dl(yi: np.ndarray, vi: np.ndarray) -> Fit:
    """DerSimonian-Laird random-effects model with a z-based PI (fallback)."""
    k = yi.size
    w = 1 / vi
    mu_fe = np.sum(w * yi) / np.sum(w)
    q = float(np.sum(w * (yi - mu_fe) ** 2))
    c = np.sum(w) - np.sum(w**2) / np.sum(w)
    tau2 = max(0.0, (q - (k - 1)) / c) if k > 1 else 0.0
    ws = 1 / (vi + tau2)
    mu = float(np.sum(ws * yi) / np.sum(ws))
    se = math.sqrt(1 / np.sum(ws))
    vt = (k - 1) * np.sum(w) / (np.sum(w) ** 2 - np.sum(w**2)) if k > 1 else np.nan
    i2 = 100 * tau2 / (tau2 + vt) if k > 1 else 0.0
    half = Z * math.sqrt(se**2 + tau2)
    return Fit(
        mu,
        se,
        mu - Z * se,
        mu + Z * se,
        mu - half,
        mu + half,
        tau2,
        float(i2),
        q,
        k - 1,
        float(stats.chi2.sf(q, k - 1)) if k > 1 else 1.0,
        mu / se,
        float(2 * stats.norm.sf(abs(mu / se))),
        100 * ws / np.sum(ws),
        "DerSimonian-Laird (fallback)",
    )


def fit(yi: np.ndarray, vi: np.ndarray) -> Fit:
    try:
        from evsynth.meta.rma import predict, rma
    except ImportError:
        return _fit_dl(yi, vi)
    res = rma(yi, vi, method="REML", test="z")
    pred = predict(res)
    pi_lb = float(pred.pi_lb[0]) if pred.pi_lb is not None else float(res.ci_lb[0])
    pi_ub = float(pred.pi_ub[0]) if pred.pi_ub is not None else float(res.ci_ub[0])
    return Fit(
        res.estimate,
        float(res.se[0]),
        float(res.ci_lb[0]),
        float(res.ci_ub[0]),
        pi_lb,
        pi_ub,
        res.tau2,
        res.I2,
        res.Q,
        res.Q_df,
        res.Q_p,
        float(res.zval[0]),
        float(res.pval[0]),
        np.asarray(res.weights, dtype=float),
        "REML (evsynth.meta.rma)",
    )


def trim_fill(yi: np.ndarray, vi: np.ndarray):
    try:
        from evsynth.meta.bias import trim_and_fill
    except ImportError:
        return None
    return trim_and_fill(yi, vi, method="REML")


def p_text(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def heterogeneity(f: Fit) -> str:
    text = (
        f"Heterogeneity: \u03c4\u00b2 = {f.tau2:.2f}; I\u00b2 = {f.I2:.0f}%; "
        f"Q = {f.Q:.2f} (df = {f.df}), {p_text(f.Q_p)}\n"
        f"Test for overall effect: z = {f.z:.2f}, {p_text(f.p)}"
    )
    return text.replace("-", "\u2212")  # a typographic minus, as in the plot


# --- data -----------------------------------------------------------------------


def bangertdrowns() -> list[dict]:
    with (SHARED / "dat.bangertdrowns2004.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))[:15]
    return [
        {
            "label": f"{r['author']} {r['year']}",
            "yi": float(r["yi"]),
            "vi": float(r["vi"]),
            "n": float(r["ni"]),
            "group": f"Grade {r['grade']}",
        }
        for r in rows
    ]


def bcg() -> list[dict]:
    with (SHARED / "dat.bcg.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    out = []
    for r in rows:
        a, n1 = float(r["events_t"]), float(r["n_t"])
        c, n2 = float(r["events_c"]), float(r["n_c"])
        out.append(
            {
                "label": r["study_id"],
                "yi": math.log((a / n1) / (c / n2)),
                "vi": 1 / a - 1 / n1 + 1 / c - 1 / n2,
                "n_t": n1,
                "n_c": n2,
                "group": r["alloc"],
            }
        )
    return out


def write_r_input(rows: list[dict], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    arms = "n_t" in rows[0]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["label", "yi", "vi", *(["n_t", "n_c"] if arms else ["n"])])
        for r in rows:
            sizes = [r["n_t"], r["n_c"]] if arms else [r["n"]]
            writer.writerow([r["label"], repr(r["yi"]), repr(r["vi"]), *sizes])


# --- our plots ------------------------------------------------------------------


def forest_data(rows: list[dict], *, grouped: bool = False, **kwargs) -> ForestData:
    yi = np.array([r["yi"] for r in rows])
    vi = np.array([r["vi"] for r in rows])
    overall = fit(yi, vi)
    subgroups: dict[str, ForestSummary] = {}
    weights = overall.weights
    test = ""
    if grouped:
        groups = list(dict.fromkeys(r["group"] for r in rows))
        ests, ses = [], []
        for g in groups:
            idx = [i for i, r in enumerate(rows) if r["group"] == g]
            if len(idx) < 2:
                continue
            f = fit(yi[idx], vi[idx])
            ests.append(f.estimate)
            ses.append(f.se)
            subgroups[g] = ForestSummary(
                "Random-effects model for the subgroup",
                f.estimate,
                f.ci_lb,
                f.ci_ub,
                f.pi_lb,
                f.pi_ub,
                heterogeneity(f),
            )
        w = 1 / np.array(ses) ** 2
        mean = np.sum(w * ests) / np.sum(w)
        q = float(np.sum(w * (np.array(ests) - mean) ** 2))
        df = len(ests) - 1
        test = (
            f"Test for subgroup differences: Q = {q:.2f}, df = {df}, "
            f"{p_text(float(stats.chi2.sf(q, df)))}"
        )
    forest_rows = [
        ForestRow(
            label=r["label"],
            yi=r["yi"],
            ci_lb=r["yi"] - Z * math.sqrt(r["vi"]),
            ci_ub=r["yi"] + Z * math.sqrt(r["vi"]),
            weight=float(w),
            n_t=r.get("n_t", r.get("n")),
            n_c=r.get("n_c"),
            group=r["group"] if grouped else None,
            extra={k[2:]: v for k, v in r.items() if k.startswith("x:")},
        )
        for r, w in zip(rows, weights, strict=True)
    ]
    summary = ForestSummary(
        "Random-effects model (REML)",
        overall.estimate,
        overall.ci_lb,
        overall.ci_ub,
        overall.pi_lb,
        overall.pi_ub,
        heterogeneity(overall),
    )
    print(
        f"  ours ({overall.how}): estimate {overall.estimate:.4f} "
        f"[{overall.ci_lb:.4f}, {overall.ci_ub:.4f}] PI [{overall.pi_lb:.4f}, "
        f"{overall.pi_ub:.4f}] tau2 {overall.tau2:.4f} I2 {overall.I2:.1f}%"
    )
    return ForestData(
        forest_rows,
        summary,
        subgroups=subgroups,
        subgroup_test=test,
        **kwargs,
    )


def funnel_data(rows: list[dict], **kwargs) -> FunnelData:
    yi = np.array([r["yi"] for r in rows])
    vi = np.array([r["vi"] for r in rows])
    f = fit(yi, vi)
    tf = trim_fill(yi, vi)
    filled_yi: list[float] = []
    filled_sei: list[float] = []
    filled_estimate = None
    if tf is not None and tf.k0 > 0:
        filled_yi = [float(v) for v in tf.yi[tf.filled]]
        filled_sei = [math.sqrt(v) for v in tf.vi[tf.filled]]
        filled_estimate = tf.estimate
        print(f"  trim and fill: k0 = {tf.k0} ({tf.side}), adjusted {tf.estimate:.4f}")
    return FunnelData(
        [float(v) for v in yi],
        [math.sqrt(v) for v in vi],
        f.estimate,
        filled_yi=filled_yi,
        filled_sei=filled_sei,
        filled_estimate=filled_estimate,
        **kwargs,
    )


def sixty() -> list[dict]:
    """A synthetic 60-study meta-analysis with long labels, four subgroups."""
    rng = np.random.default_rng(20240611)
    settings = [
        "Residential children's homes and secure units (England and Wales)",
        "Foster care",
        "Kinship care, special guardianship and other family placements",
        "Care leavers",
    ]
    rows = []
    for i in range(60):
        n = int(rng.integers(20, 400))
        vi = (4 / n) * (1 + 0.03)
        yi = float(rng.normal(0.2, 0.25) + rng.normal(0, math.sqrt(vi)))
        label = f"Study {i + 1:02d} ({2001 + i % 23})"
        if i % 17 == 3:
            label = (
                f"Mentoring for Care-Experienced Young People Trial {i + 1} "
                "(MENTOR-CARE, cluster randomised, schools in three regions)"
            )
        rows.append(
            {
                "label": label,
                "yi": yi,
                "vi": vi,
                "n_t": n // 2,
                "n_c": n - n // 2,
                "group": settings[i % 4],
                "x:Risk of bias": ["low", "some", "high"][i % 3],
            }
        )
    return rows


def run_r(rows: list[dict], name: str, ratio: bool, xlab: str, test: str = "z") -> None:
    rscript = shutil.which("Rscript")
    if rscript is None:
        print("  Rscript not found: metafor's plots skipped")
        return
    data = OUT / f"{name}.csv"
    write_r_input(rows, data)
    result = subprocess.run(
        [
            rscript,
            str(HERE / "metafor_forest.R"),
            str(data),
            str(OUT),
            name,
            "exp" if ratio else "id",
            xlab,
            test,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    sys.stdout.write("  " + result.stdout.replace("\n", "\n  ").rstrip() + "\n")
    if result.returncode:
        sys.stderr.write(result.stderr)
        raise SystemExit(f"metafor_forest.R failed for {name}")


def side_by_side(name: str, kind: str) -> None:
    """Paste metafor's PNG and ours next to each other, at the same height."""
    from PIL import Image

    theirs = OUT / f"{name}_metafor_{kind}.png"
    ours = OUT / f"{name}_evsynth_{kind}.png"
    if not theirs.exists() or not ours.exists():
        return
    with Image.open(theirs) as a, Image.open(ours) as b:
        height = max(a.height, b.height)
        a = a.convert("RGB").resize((round(a.width * height / a.height), height))
        b = b.convert("RGB").resize((round(b.width * height / b.height), height))
        both = Image.new("RGB", (a.width + b.width + 20, height), "white")
        both.paste(a, (0, 0))
        both.paste(b, (a.width + 20, 0))
        both.save(OUT / f"{name}_side_by_side_{kind}.png")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-r", action="store_true", help="skip metafor's plots")
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)

    def out(name: str, kind: str) -> tuple[Path, Path]:
        stem = OUT / f"{name}_evsynth_{kind}"
        return stem.with_suffix(".png"), stem.with_suffix(".svg")

    example = REPO / "results/meta/mental_health.json"
    if example.exists() and not args.no_r:
        import json

        import pandas as pd

        print("example review: mental health (results/meta)")
        report = json.loads(example.read_text(encoding="utf-8"))
        effects = pd.read_csv(REPO / "results/effects/effects.csv")
        rows = []
        for study in report["studies"]:
            mine = effects[
                (effects["study_id"] == study["study_id"])
                & (effects["domain"] == "mental_health")
            ]
            rows.append(
                {
                    "label": study["study_id"],
                    "yi": study["yi"],
                    "vi": study["vi"],
                    "n_t": int(mine["n_t"].max()),
                    "n_c": int(mine["n_c"].max()),
                }
            )
        run_r(rows, "example", False, "Hedges' g", test="knha")
        shutil.copy(
            REPO / "results/meta/forest_mental_health.png",
            OUT / "example_evsynth_forest.png",
        )
        side_by_side("example", "forest")

    print("dat.bangertdrowns2004 (first 15 studies)")
    bd = bangertdrowns()
    if not args.no_r:
        run_r(bd, "bangertdrowns", False, "Hedges' g")
    draw_forest(
        forest_data(
            bd,
            n_labels=("N", ""),
            title="Writing-to-learn interventions (dat.bangertdrowns2004, k = 15)",
        ),
        *out("bangertdrowns", "forest"),
        dpi=150,
    )
    draw_funnel(funnel_data(bd), *out("bangertdrowns", "funnel"), dpi=150)

    print("dat.bcg (log risk ratios)")
    bc = bcg()
    if not args.no_r:
        run_r(bc, "bcg", True, "Risk Ratio")
    ratio = {
        "measure_label": "Risk ratio",
        "exponentiate": True,
        "left_label": "Favours BCG vaccine",
        "right_label": "Favours control",
    }
    draw_forest(
        forest_data(bc, title="BCG vaccine against tuberculosis (dat.bcg)", **ratio),
        *out("bcg", "forest"),
        dpi=150,
    )
    draw_funnel(
        funnel_data(bc, measure_label="Risk ratio", exponentiate=True),
        *out("bcg", "funnel"),
        dpi=150,
    )

    print("hard case: dat.bcg by allocation, subgroups")
    for r in bc:
        r["group"] = {
            "random": "Random allocation of participants to vaccine or control",
            "alternate": "Alternate allocation",
            "systematic": "Systematic allocation (by birth date, registry order or "
            "other non-random rule)",
        }[r["group"]]
    draw_forest(
        forest_data(bc, grouped=True, **ratio),
        *out("bcg_subgroups", "forest"),
        dpi=150,
    )

    print("hard case: 60 studies in four subgroups, long labels")
    rows = sixty()
    draw_forest(
        forest_data(
            rows,
            grouped=True,
            extra_columns=["Risk of bias"],
            title="Synthetic: 60 studies in four care settings",
        ),
        *out("sixty", "forest"),
        dpi=150,
    )
    for name in ("bangertdrowns", "bcg"):
        for kind in ("forest", "funnel"):
            side_by_side(name, kind)
    print(f"PNGs in {OUT}")


if __name__ == "__main__":
    main()
