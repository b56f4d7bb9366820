"""``evsynth meta``: one meta-analysis of a CSV, printed as metafor's reference keys."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evsynth.errors import InputError
from evsynth.meta import bias, dependence, sensitivity, subgroups
from evsynth.meta.analyses import MetaSettings, fit_metareg, json_ready
from evsynth.meta.rma import predict, rma, summary_dict


def read_meta_input(path: str | Path, args: argparse.Namespace) -> pd.DataFrame:
    """Read the CSV and check its columns (yi with vi or sei, and named columns)."""
    path = Path(path)
    if not path.is_file():
        raise InputError("file not found", file=path)
    table = pd.read_csv(path)
    if "yi" not in table.columns or not ({"vi", "sei"} & set(table.columns)):
        raise InputError(
            "needs columns yi and vi (or sei)", file=path, line=1, expected="yi, vi"
        )
    if "vi" not in table.columns:
        table["vi"] = pd.to_numeric(table["sei"], errors="coerce") ** 2
    for name in ("subgroup", "moderator", "cluster", "year", "label"):
        column = getattr(args, name, None)
        if column and column not in table.columns:
            raise InputError(
                f"no column {column!r} (--{name})",
                file=path,
                line=1,
                expected="one of " + ", ".join(table.columns),
            )
    for column in ("yi", "vi"):
        values = pd.to_numeric(table[column], errors="coerce")
        bad = values.isna() | ~np.isfinite(values)
        if column == "vi":
            bad |= values <= 0
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(
                f"invalid value {table[column].iloc[row]!r}",
                file=path,
                line=row + 2,
                row=row + 1,
                column=column,
                expected="a number" + (" > 0" if column == "vi" else ""),
            )
        table[column] = values
    return table


def meta_object(table: pd.DataFrame, args: argparse.Namespace) -> dict[str, Any]:
    """Fit the model and the analyses asked for; keys as metafor's reference files."""
    yi, vi = table["yi"].to_numpy(float), table["vi"].to_numpy(float)
    try:
        fit = rma(yi, vi, method=args.method, test=args.test, level=args.level)
    except ValueError as exc:
        raise InputError(str(exc), file=args.input) from None
    out: dict[str, Any] = summary_dict(fit, predict(fit, pi=args.pi))
    settings = MetaSettings(method=fit.method, test=args.test, level=args.level)
    if args.bias:
        labels = list(table[args.label].astype(str)) if args.label else None
        filled = bias.trim_and_fill(yi, vi, method=settings.method)
        block: dict[str, Any] = {
            "egger_rma": bias.egger_test(yi, vi, model="rma", method=settings.method),
            "egger_lm": bias.egger_test(yi, vi, model="lm"),
            "begg": bias.rank_test(yi, vi, method=settings.method),
            "trimfill": {
                key: getattr(filled, key)
                for key in ("k0", "side", "estimate", "se", "tau2")
            },
            "leave1out": sensitivity.leave_one_out(
                yi, vi, method=settings.method, labels=labels
            ),
            "failsafe_rosenthal": bias.failsafe_n(yi, vi),
        }
        if args.year:
            block["cumulative"] = sensitivity.cumulative(
                yi,
                vi,
                list(table[args.year]),
                method=settings.method,
                order_by=args.year,
            )
        out["bias"] = block
    if args.subgroup:
        out["subgroups"] = subgroups.subgroup_analysis(
            yi, vi, list(table[args.subgroup].astype(str)), method=settings.method
        )
    if args.moderator:
        x = pd.to_numeric(table[args.moderator], errors="coerce").to_numpy(float)
        ok = ~np.isnan(x)
        out["metareg"] = fit_metareg(yi[ok], vi[ok], x[ok], settings)
    if args.cluster:
        ids = list(table[args.cluster].astype(str))
        for kind in ("CR1", "CR2"):
            out[f"robust_{kind}"] = dependence.robust(
                yi, vi, ids, method=settings.method, kind=kind
            )
        out["multilevel"] = dependence.multilevel(yi, vi, ids)
    return json_ready(out)


def print_meta(result: dict[str, Any], args: argparse.Namespace) -> None:
    """Print the pooled result as a short readable table."""

    def f(x: Any, digits: int = 4) -> str:
        return "NA" if x is None else f"{x:.{digits}f}"

    test = "Knapp-Hartung" if args.test == "knha" else "z"
    print(f"Random-effects model ({args.method}, {test}), k = {result['k']}")
    print(
        f"estimate {f(result['estimate'])}  se {f(result['se'])}  "
        f"{args.level:g}% CI [{f(result['ci_lb'])}, {f(result['ci_ub'])}]  "
        f"p {f(result['pval'])}"
    )
    print(f"prediction interval [{f(result['pi_lb'])}, {f(result['pi_ub'])}]")
    print(
        f"tau2 {f(result['tau2'])}  I2 {f(result['I2'], 1)}%  H2 {f(result['H2'], 2)}  "
        f"Q {f(result['Q'], 2)} (df {result['k'] - 1}), p {f(result['Q_p'])}"
    )
    for key in (
        "bias",
        "subgroups",
        "metareg",
        "robust_CR1",
        "robust_CR2",
        "multilevel",
    ):
        if key in result:
            print(f"{key}: use --json for the details")
