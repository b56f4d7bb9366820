"""``evsynth meta``: one meta-analysis of a CSV, printed as metafor's reference keys."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evsynth.errors import InputError
from evsynth.io import check_csv_file
from evsynth.meta import (
    MAX_ABS_YI,
    VI_RANGE,
    bias,
    dependence,
    sensitivity,
    subgroups,
)
from evsynth.meta.analyses import MetaSettings, fit_metareg, json_ready
from evsynth.meta.rma import predict, rma, summary_dict


def read_meta_input(path: str | Path, args: argparse.Namespace) -> pd.DataFrame:
    """Read the CSV and check its columns (yi with vi or sei, and named columns)."""
    path = Path(path)
    check_csv_file(path, "a header line: yi, vi (or sei), and the named columns")
    try:
        table = pd.read_csv(path, encoding="utf-8-sig")
    except pd.errors.EmptyDataError:
        raise InputError(
            "empty file", file=path, line=1, expected="a header line: yi, vi"
        ) from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        text = " ".join(str(exc).split())
        raise InputError(f"cannot be read as CSV: {text}", file=path) from None
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
                f"invalid value {str(table[column].iloc[row])!r}",
                file=path,
                line=row + 2,
                row=row + 1,
                column=column,
                expected="a number" + (" > 0" if column == "vi" else ""),
            )
        table[column] = values
    _check_range(table, path)
    return table


def _check_range(table: pd.DataFrame, path: Path) -> None:
    """Refuse effect sizes and variances too extreme to fit in floating point."""
    low, high = VI_RANGE
    for column, bad, expected in (
        ("yi", table["yi"].abs() > MAX_ABS_YI, f"|yi| <= {MAX_ABS_YI:g}"),
        (
            "vi",
            (table["vi"] < low) | (table["vi"] > high),
            f"vi between {low:g} and {high:g}",
        ),
    ):
        if bad.any():
            rows = [int(i) + 1 for i in np.flatnonzero(bad.to_numpy())]
            row = rows[0]
            more = f" (rows {_rows(rows)})" if len(rows) > 1 else ""
            raise InputError(
                f"value {table[column].iloc[row - 1]:g} is too extreme to "
                f"meta-analyse{more}; check the effect size and its variance "
                "(a standard error given as a variance, or a wrong unit)",
                file=path,
                line=row + 1,
                row=row,
                column=column,
                expected=expected,
            )


def _rows(rows: list[int]) -> str:
    shown = ", ".join(str(r) for r in rows[:10])
    return shown + (f" and {len(rows) - 10} more" if len(rows) > 10 else "")


def _fit_problem(table: pd.DataFrame, path: str | Path, exc: Exception) -> InputError:
    """Return the error for a model that cannot be fitted, naming extreme rows."""
    vi, yi = table["vi"].to_numpy(float), table["yi"].to_numpy(float)
    smallest, largest = int(np.argmin(vi)), int(np.argmax(vi))
    extreme = int(np.argmax(np.abs(yi)))
    detail = " ".join(str(exc).split()) or type(exc).__name__
    return InputError(
        f"the meta-analysis cannot be fitted to these values ({detail}): the "
        f"smallest vi is {vi[smallest]:g} (row {smallest + 1}), the largest "
        f"{vi[largest]:g} (row {largest + 1}), the largest |yi| {abs(yi[extreme]):g} "
        f"(row {extreme + 1}); variances that differ by many orders of magnitude, "
        "or too few distinct values, leave the model undefined",
        file=path,
        expected="effect sizes and variances on a common, plausible scale",
    )


def meta_object(table: pd.DataFrame, args: argparse.Namespace) -> dict[str, Any]:
    """Fit the model and the analyses asked for; keys as metafor's reference files.

    A model that cannot be fitted (a singular matrix, a division by zero,
    an overflow) is reported as an :class:`InputError` naming the input file
    and its most extreme rows.
    """
    try:
        with np.errstate(over="ignore", under="ignore"):
            return _meta_object(table, args)
    except InputError:
        raise
    except (np.linalg.LinAlgError, ArithmeticError, ValueError) as exc:
        raise _fit_problem(table, args.input, exc) from None


def _meta_object(table: pd.DataFrame, args: argparse.Namespace) -> dict[str, Any]:
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
            yi,
            vi,
            list(table[args.subgroup].astype(str)),
            method=settings.method,
            test=args.test,
            level=args.level,
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
    if "subgroups" in result:
        groups = result["subgroups"]
        print(f"subgroups by {args.subgroup} ({args.method}, {test}):")
        for name, fit in groups["groups"].items():
            print(
                f"  {name}: k = {fit['k']}, estimate {f(fit['estimate'])}  "
                f"se {f(fit['se'])}  {args.level:g}% CI "
                f"[{f(fit['ci_lb'])}, {f(fit['ci_ub'])}]"
            )
        if groups["skipped"]:
            print(f"  not fitted (too few studies): {', '.join(groups['skipped'])}")
        for line in subgroups.describe_tests(groups):
            print(f"  test for subgroup differences, {line}")
    for key in (
        "bias",
        "metareg",
        "robust_CR1",
        "robust_CR2",
        "multilevel",
    ):
        if key in result:
            print(f"{key}: use --json for the details")
