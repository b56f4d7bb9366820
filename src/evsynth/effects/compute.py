"""From extraction rows to effect sizes, with the method and assumptions of each.

Each row of ``extraction/effects.csv`` holds one set of statistics, recognised
from the filled columns (:data:`INPUT_SETS`). The most direct complete set is
used; any other complete set of the same kind must agree with it within the
configured tolerance. Every row ends up either in ``effects.csv`` or, when it
cannot give the measure asked for, in ``excluded.csv`` with the reason.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evsynth.effects import formulas as fm
from evsynth.errors import InputError
from evsynth.validation import read_table

#: Identifier columns carried into every output row.
ID_COLUMNS = ["study_id", "outcome", "domain", "timepoint", "months", "comparison"]

#: Statistics columns, for telling an empty row from a partly filled one.
CONTINUOUS, BINARY, GENERIC = "continuous", "binary", "generic"


@dataclass(frozen=True)
class InputSet:
    """A set of columns from which an effect can be computed.

    Parameters
    ----------
    name : str
        Name reported in the output's ``input_set`` column.
    required : tuple of str
        Columns that must all be filled.
    kind : str
        ``continuous``, ``binary`` or ``generic`` (yi with its variance).
    group : str
        Sets in one group estimate the same quantity and must agree.
    label : str
        What the set is, for messages.
    """

    name: str
    required: tuple[str, ...]
    kind: str
    group: str
    label: str


#: Input sets, most direct first: an adjusted estimate before raw posttest
#: means, statistics before test statistics, test statistics before a
#: reported effect size.
INPUT_SETS: tuple[InputSet, ...] = (
    InputSet(
        "adjusted_se",
        ("adj_diff", "adj_diff_se", "sd_pooled", "n_t", "n_c"),
        CONTINUOUS,
        "adjusted",
        "an adjusted difference with its SE",
    ),
    InputSet(
        "adjusted_ci",
        ("adj_diff", "adj_diff_lb", "adj_diff_ub", "sd_pooled", "n_t", "n_c"),
        CONTINUOUS,
        "adjusted",
        "an adjusted difference with its CI",
    ),
    InputSet(
        "did",
        (
            "pre_mean_t",
            "pre_sd_t",
            "mean_t",
            "sd_t",
            "n_t",
            "pre_mean_c",
            "pre_sd_c",
            "mean_c",
            "sd_c",
            "n_c",
        ),
        CONTINUOUS,
        "did",
        "pre- and posttest means and SDs",
    ),
    InputSet(
        "means_sd",
        ("mean_t", "sd_t", "n_t", "mean_c", "sd_c", "n_c"),
        CONTINUOUS,
        "posttest",
        "means and SDs",
    ),
    InputSet(
        "means_se",
        ("mean_t", "se_t", "n_t", "mean_c", "se_c", "n_c"),
        CONTINUOUS,
        "posttest",
        "means and their SEs",
    ),
    InputSet(
        "means_ci",
        ("mean_t", "lb_t", "ub_t", "n_t", "mean_c", "lb_c", "ub_c", "n_c"),
        CONTINUOUS,
        "posttest",
        "means and their 95% CIs",
    ),
    InputSet(
        "counts",
        ("events_t", "n_t", "events_c", "n_c"),
        BINARY,
        "binary",
        "events and group sizes",
    ),
    InputSet(
        "or_ci", ("or_", "or_lb", "or_ub"), BINARY, "binary", "an odds ratio and CI"
    ),
    InputSet("t", ("t", "n_t", "n_c"), CONTINUOUS, "posttest", "a t statistic"),
    InputSet(
        "f", ("f", "direction", "n_t", "n_c"), CONTINUOUS, "posttest", "an F statistic"
    ),
    InputSet(
        "p", ("p", "direction", "n_t", "n_c"), CONTINUOUS, "posttest", "a p value"
    ),
    InputSet("g", ("g", "n_t", "n_c"), CONTINUOUS, "posttest", "a reported g"),
    InputSet("d", ("d", "n_t", "n_c"), CONTINUOUS, "posttest", "a reported d"),
    InputSet("yi_vi", ("yi", "vi", "measure"), GENERIC, "generic", "yi and vi"),
    InputSet("yi_se", ("yi", "se", "measure"), GENERIC, "generic", "yi and its SE"),
    InputSet(
        "yi_ci",
        ("yi", "ci_lb", "ci_ub", "measure"),
        GENERIC,
        "generic",
        "yi and its CI",
    ),
)
#: Columns that only qualify another set (never a set on their own).
MODIFIERS = {"r_prepost", "icc", "clusters_t", "clusters_c", "cluster_size", "measure"}
STAT_COLUMNS = sorted({c for s in INPUT_SETS for c in s.required} - {"measure"})
#: Measures the ``measure`` option accepts; OR2DL is the SMD with binary rows
#: converted by the logistic method.
MEASURES = ("auto", "SMD", "MD", "OR", "RR", "RD", "OR2DL")

#: Parameter names of the formulas mapped onto input columns, for messages.
_PARAM_COLUMNS = {
    "or_": "or_",
    "lower": "ci_lb",
    "upper": "ci_ub",
    "se": "se",
}
#: Per input set, the formulas' parameter names mapped onto the set's own
#: columns, so that a message names the column the row actually fills (an odds
#: ratio's CI is or_lb, or_ub, not ci_lb, ci_ub).
_SET_PARAMS: dict[str, dict[str, str]] = {
    "adjusted_se": {"se": "adj_diff_se"},
    "adjusted_ci": {"lower": "adj_diff_lb", "upper": "adj_diff_ub"},
    "or_ci": {"lower": "or_lb", "upper": "or_ub"},
    "yi_ci": {"lower": "ci_lb", "upper": "ci_ub"},
}


@dataclass(frozen=True)
class EffectSettings:
    """The ``effects`` keys of the configuration.

    Parameters
    ----------
    measure : str
        ``auto`` (SMD for continuous rows, log OR for binary ones, unless
        ``domain_measures`` says otherwise) or a measure to force: SMD, MD,
        OR, RR, RD, or OR2DL (SMD, binary rows converted).
    binary_to_smd : str
        ``none``, ``logistic`` (Hasselblad & Hedges; Chinn 2000) or ``cox``:
        whether and how binary rows are put on the SMD scale when the measure
        is SMD.
    imputed_r : float
        Pre-post correlation used when a difference-in-differences row gives none.
    default_icc : float
        ICC used for a cluster design that reports none.
    exact_correction : bool
        Hedges' exact small-sample correction (else 1 - 3/(4m - 1)).
    tolerance : float
        Largest difference allowed between two complete sets of one row (on
        the row's measure).
    domain_measures : mapping of str to str
        With ``measure`` auto, the measure the analyses of an outcome domain
        pool (``meta.analyses``; :meth:`from_config`): a row of the domain
        without a ``measure`` of its own gives it where its statistics can
        (event counts an RR or RD, means an MD); other rows are computed as
        ``auto`` says, and the meta stage lists them as left out.
    """

    measure: str = "auto"
    binary_to_smd: str = "none"
    imputed_r: float = 0.5
    default_icc: float = 0.1
    exact_correction: bool = True
    tolerance: float = 0.05
    domain_measures: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_config(
        cls,
        section: Mapping[str, Any],
        analyses: Iterable[Mapping[str, Any]] = (),
    ) -> EffectSettings:
        """Build settings from the validated ``effects`` config section.

        Parameters
        ----------
        section : mapping
            The ``effects`` section.
        analyses : iterable of mapping
            ``meta.analyses`` (``name``, ``domains``, ``measure``), for
            ``domain_measures``: each domain pooled by analyses of one measure
            gets that measure (a domain that analyses pool on different
            measures gets none).
        """
        return cls(
            measure=str(section.get("measure", "auto")),
            binary_to_smd=str(section.get("binary_to_smd", "none")),
            imputed_r=float(section.get("imputed_r", 0.5)),
            default_icc=float(section.get("default_icc", 0.1)),
            exact_correction=section.get("smd_correction", "exact") == "exact",
            tolerance=float(section.get("tolerance", 0.05)),
            domain_measures=domain_measures(analyses),
        )


def domain_measures(analyses: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Return each outcome domain's measure, where its analyses agree on one.

    Parameters
    ----------
    analyses : iterable of mapping
        ``meta.analyses`` entries: ``name``, ``domains`` (default ``[name]``),
        ``measure`` (default SMD).
    """
    seen: dict[str, set[str]] = {}
    for analysis in analyses:
        domains = analysis.get("domains") or [analysis.get("name")]
        for domain in domains:
            seen.setdefault(str(domain), set()).add(
                str(analysis.get("measure") or "SMD")
            )
    return {d: next(iter(m)) for d, m in sorted(seen.items()) if len(m) == 1}


@dataclass
class RowResult:
    """One computed row: the effect and how it was made."""

    row: int
    ids: dict[str, object]
    effect: fm.Effect
    input_set: str
    details: dict[str, object] = field(default_factory=dict)


@dataclass
class EffectsResult:
    """Computed effects and the rows left out."""

    effects: pd.DataFrame
    excluded: pd.DataFrame


def _filled(row: Mapping[str, object], column: str) -> bool:
    value = row.get(column)
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def complete_sets(row: Mapping[str, object]) -> list[InputSet]:
    """Return the input sets whose columns are all filled, most direct first."""
    return [s for s in INPUT_SETS if all(_filled(row, c) for c in s.required)]


def _partial_message(row: Mapping[str, object]) -> tuple[str, str] | None:
    """Describe the closest incomplete set: (message, first missing column)."""
    best: tuple[int, InputSet] | None = None
    for candidate in INPUT_SETS:
        have = [c for c in candidate.required if _filled(row, c)]
        stats = [c for c in have if c not in {"n_t", "n_c", "measure"}]
        if not stats:
            continue
        missing = len(candidate.required) - len(have)
        if best is None or missing < best[0]:
            best = (missing, candidate)
    if best is None:
        return None
    candidate = best[1]
    missing = [c for c in candidate.required if not _filled(row, c)]
    return (
        f"incomplete input: {candidate.label} ({candidate.name}) needs "
        + ", ".join(missing),
        missing[0],
    )


def _num(row: Mapping[str, object], column: str) -> float:
    return float(row[column])  # type: ignore[arg-type]


def _direction(row: Mapping[str, object]) -> int:
    return 1 if row.get("direction") == "higher" else -1


def _cluster(
    row: Mapping[str, object], settings: EffectSettings
) -> tuple[float, float, bool] | None:
    """Cluster size, ICC and whether the ICC was imputed, for a cluster design."""
    if not any(_filled(row, c) for c in ("clusters_t", "clusters_c", "cluster_size")):
        if _filled(row, "icc"):
            raise _RowError(
                "an ICC without the clusters it applies to",
                "icc",
                "clusters_t and clusters_c, or cluster_size, with the ICC",
            )
        return None  # not a cluster design
    n_total = _num(row, "n_t") + _num(row, "n_c")
    if _filled(row, "cluster_size"):
        size = _num(row, "cluster_size")
    elif _filled(row, "clusters_t") and _filled(row, "clusters_c"):
        size = n_total / (_num(row, "clusters_t") + _num(row, "clusters_c"))
    else:
        raise _RowError(
            "clusters given for one group only",
            "clusters_t",
            "clusters_t and clusters_c, or cluster_size",
        )
    if _filled(row, "icc"):
        return size, _num(row, "icc"), False
    return size, settings.default_icc, True


class _RowError(Exception):
    def __init__(self, message: str, column: str, expected: str | None = None):
        super().__init__(message)
        self.column = column
        self.expected = expected


def _compute_set(
    which: InputSet, row: Mapping[str, object], settings: EffectSettings, measure: str
) -> tuple[fm.Effect, dict[str, object]]:
    """Compute one complete input set on the row's continuous or binary scale."""
    exact = settings.exact_correction
    details: dict[str, object] = {}
    n = which.name
    if n == "means_sd" or n == "means_se" or n == "means_ci":
        n_t, n_c = _num(row, "n_t"), _num(row, "n_c")
        if n == "means_sd":
            sd_t, sd_c = _num(row, "sd_t"), _num(row, "sd_c")
            details["sd_used"] = "posttest SDs"
        elif n == "means_se":
            sd_t, sd_c = (
                _group_sd(which, {"se": f"se_{g}", "n": f"n_{g}"}, fm.sd_from_se, row)
                for g in ("t", "c")
            )
            details["sd_used"] = "SDs from the SEs of the means (SD = SE * sqrt(n))"
        else:
            sd_t, sd_c = (
                _group_sd(
                    which,
                    {"lower": f"lb_{g}", "upper": f"ub_{g}", "n": f"n_{g}"},
                    fm.sd_from_ci,
                    row,
                )
                for g in ("t", "c")
            )
            details["sd_used"] = "SDs from the CIs of the means (Cochrane 6.5.2.2)"
        args = (_num(row, "mean_t"), sd_t, n_t, _num(row, "mean_c"), sd_c, n_c)
        if measure == "MD":
            return fm.md_means(*args), details
        return fm.smd_means(*args, exact=exact), details
    if n == "did":
        r = _num(row, "r_prepost") if _filled(row, "r_prepost") else settings.imputed_r
        details["r_prepost"] = r
        details["r_imputed"] = not _filled(row, "r_prepost")
        details["sd_used"] = "pooled posttest SD"
        effect = fm.smd_did(
            _num(row, "pre_mean_t"),
            _num(row, "pre_sd_t"),
            _num(row, "mean_t"),
            _num(row, "sd_t"),
            _num(row, "n_t"),
            _num(row, "pre_mean_c"),
            _num(row, "pre_sd_c"),
            _num(row, "mean_c"),
            _num(row, "sd_c"),
            _num(row, "n_c"),
            r_prepost=r,
            exact=exact,
        )
        return effect, details
    if n in ("adjusted_se", "adjusted_ci"):
        details["sd_used"] = "unadjusted pooled SD (sd_pooled)"
        kwargs: dict[str, float] = {}
        if n == "adjusted_se":
            kwargs["se"] = _num(row, "adj_diff_se")
        else:
            kwargs["lower"] = _num(row, "adj_diff_lb")
            kwargs["upper"] = _num(row, "adj_diff_ub")
        effect = fm.smd_adjusted(
            _num(row, "adj_diff"),
            _num(row, "sd_pooled"),
            _num(row, "n_t"),
            _num(row, "n_c"),
            exact=exact,
            **kwargs,
        )
        return effect, details
    if n == "t":
        return fm.smd_t(
            _num(row, "t"), _num(row, "n_t"), _num(row, "n_c"), exact=exact
        ), details
    if n == "f":
        return (
            fm.smd_f(
                _num(row, "f"),
                _num(row, "n_t"),
                _num(row, "n_c"),
                _direction(row),
                exact=exact,
            ),
            details,
        )
    if n == "p":
        return (
            fm.smd_p(
                _num(row, "p"),
                _num(row, "n_t"),
                _num(row, "n_c"),
                _direction(row),
                exact=exact,
            ),
            details,
        )
    if n == "g":
        return fm.smd_from_g(
            _num(row, "g"), _num(row, "n_t"), _num(row, "n_c")
        ), details
    if n == "d":
        return (
            fm.smd_from_d(
                _num(row, "d"), _num(row, "n_t"), _num(row, "n_c"), exact=exact
            ),
            details,
        )
    if n == "counts":
        args4 = (
            _num(row, "events_t"),
            _num(row, "n_t"),
            _num(row, "events_c"),
            _num(row, "n_c"),
        )
        if measure == "RR":
            return fm.rr_2x2(*args4), details
        if measure == "RD":
            return fm.rd_2x2(*args4), details
        return fm.or_2x2(*args4), details
    if n == "or_ci":
        return fm.or_ci(
            _num(row, "or_"), _num(row, "or_lb"), _num(row, "or_ub")
        ), details
    row_measure = str(row["measure"])
    if n == "yi_vi":
        return fm.effect_from_vi(_num(row, "yi"), _num(row, "vi"), row_measure), details
    if n == "yi_se":
        return fm.effect_from_se(_num(row, "yi"), _num(row, "se"), row_measure), details
    return (
        fm.effect_from_ci(
            _num(row, "yi"), _num(row, "ci_lb"), _num(row, "ci_ub"), row_measure
        ),
        details,
    )


def _target(
    which: InputSet, row: Mapping[str, object], settings: EffectSettings
) -> str:
    """Return the measure a row is computed on, before any scale conversion."""
    if which.kind == GENERIC:
        return str(row["measure"])
    if _filled(row, "measure"):
        wanted = str(row["measure"])
    elif settings.measure == "auto":
        # the measure the row's domain is pooled on, where the row can give it
        wanted = settings.domain_measures.get(str(row.get("domain")), "auto")
    else:
        wanted = settings.measure
    if which.kind == BINARY:
        if wanted in ("RR", "RD") and which.name == "counts":
            return wanted
        return "OR"
    return "MD" if wanted == "MD" else "SMD"


def _final_measure(row: Mapping[str, object], settings: EffectSettings) -> str | None:
    """Return the measure asked for this row (None: what its statistics give)."""
    if _filled(row, "measure"):
        return str(row["measure"])
    return None if settings.measure == "auto" else settings.measure


def compute_row(
    row: Mapping[str, object], settings: EffectSettings
) -> tuple[fm.Effect, InputSet, dict[str, object]] | str:
    """Compute one extraction row.

    Returns
    -------
    tuple or str
        ``(effect, input_set, details)``, or the reason the row gives no effect
        on the measure asked for (it then goes to excluded.csv).

    Raises
    ------
    _RowError
        For bad or incomplete input, naming the column.
    """
    sets = complete_sets(row)
    if not sets:
        partial = _partial_message(row)
        if partial is None:
            return "no statistics reported"
        message, column = partial
        raise _RowError(
            message, column, "a complete set of statistics (config/README.md)"
        )
    chosen = sets[0]
    target = _target(chosen, row, settings)
    asked = _final_measure(row, settings)
    try:
        effect, details = _compute_set(chosen, row, settings, target)
    except ValueError as exc:
        raise _row_error(str(exc), chosen) from None
    except (OverflowError, ZeroDivisionError):  # beyond double precision
        raise _extreme_error("effect size", chosen, row) from None
    # other complete sets of the same kind must agree
    for other in sets[1:]:
        if other.group != chosen.group:
            continue
        try:
            check, _ = _compute_set(other, row, settings, target)
        except ValueError as exc:
            raise _row_error(str(exc), other) from None
        if abs(check.yi - effect.yi) > settings.tolerance:
            raise _RowError(
                f"{chosen.label} give {effect.measure} {effect.yi:.4f} but "
                f"{other.label} give {check.yi:.4f} (tolerance {settings.tolerance})",
                other.required[0],
                "statistics that agree, or only one set filled in",
            )
    cluster = None
    if effect.measure == "SMD":
        cluster = _cluster(row, settings)
        if cluster is not None:
            size, icc, imputed = cluster
            try:
                effect = fm.cluster_adjust(
                    effect,
                    _num(row, "n_t"),
                    _num(row, "n_c"),
                    size,
                    icc,
                    exact=settings.exact_correction,
                )
            except ValueError as exc:
                raise _RowError(
                    str(exc), "cluster_size" if "cluster" in str(exc) else "icc"
                ) from None
            details |= {"icc": icc, "icc_imputed": imputed, "cluster_size": size}
    # scale conversion and measures the row cannot give
    if asked in ("MD",) and effect.measure != "MD":
        return f"MD asked for, but {chosen.label} give {effect.measure}"
    if asked in ("OR", "RR", "RD") and effect.measure != asked:
        return f"{asked} asked for, but {chosen.label} give {effect.measure}"
    if asked in ("SMD", "OR2DL") and effect.measure in ("OR",):
        method = "logistic" if asked == "OR2DL" else settings.binary_to_smd
        if method == "none":
            return (
                "SMD asked for, but the row is binary and effects.binary_to_smd is none"
            )
        effect = fm.or_to_smd(effect, method=method)
        details["converted"] = f"log OR to SMD ({method})"
    elif asked in ("SMD", "OR2DL") and effect.measure in ("RR", "RD"):
        return f"SMD asked for, but {effect.measure} cannot be converted to an SMD"
    elif asked is None and effect.measure == "OR" and settings.binary_to_smd != "none":
        effect = fm.or_to_smd(effect, method=settings.binary_to_smd)
        details["converted"] = f"log OR to SMD ({settings.binary_to_smd})"
    _check_fittable(effect, chosen, row)
    return effect, chosen, details


def _check_fittable(
    effect: fm.Effect, chosen: InputSet, row: Mapping[str, object]
) -> None:
    """Refuse an effect too extreme for a model to fit, naming the likely column.

    The column named is the one of the row's statistics furthest from 1 in
    orders of magnitude (a standard deviation of 1e-200, a mean in the wrong
    unit), since that is what makes the effect or its variance extreme.
    """
    from evsynth.meta import MAX_ABS_YI, VI_RANGE

    low, high = VI_RANGE
    if abs(effect.yi) <= MAX_ABS_YI and low <= effect.vi <= high:
        return
    what = (
        f"{effect.measure} {effect.yi:.3g}"
        if abs(effect.yi) > MAX_ABS_YI
        else f"sampling variance {effect.vi:.3g} of {effect.measure} {effect.yi:.3g}"
    )
    raise _extreme_error(what, chosen, row)


def _extreme_error(what: str, chosen: InputSet, row: Mapping[str, object]) -> _RowError:
    """Return the error for an effect (or variance) beyond what a model can fit."""
    from evsynth.meta import MAX_ABS_YI, VI_RANGE

    low, high = VI_RANGE
    values = {}
    for column in chosen.required:
        try:
            value = abs(_num(row, column))
        except (TypeError, ValueError):
            continue
        if value > 0 and np.isfinite(value):
            values[column] = abs(np.log10(value))
    column = max(values, key=values.__getitem__) if values else chosen.required[0]
    return _RowError(
        f"the {what} computed from {chosen.label} is too extreme to meta-analyse; "
        f"check {column} (a unit, a standard error given as a variance, or a typo)",
        column,
        f"statistics giving |yi| <= {MAX_ABS_YI:g} and a variance between "
        f"{low:g} and {high:g}",
    )


def _group_sd(
    which: InputSet,
    params: dict[str, str],
    formula: Any,
    row: Mapping[str, object],
) -> float:
    """One group's SD from its SE or CI; errors name that group's columns."""
    try:
        return float(formula(*(_num(row, c) for c in params.values())))
    except ValueError as exc:
        raise _row_error(str(exc), which, params) from None


def _row_error(
    message: str, which: InputSet, params: dict[str, str] | None = None
) -> _RowError:
    """Tell a formula's error in the row's own column names.

    The formulas name their parameters (``lower``, ``upper``, ``se``); the
    message, its column and what was expected name the columns of ``which``
    that the row fills (an odds ratio's CI is ``or_lb, or_ub``).
    """
    params = _SET_PARAMS.get(which.name, {}) if params is None else params
    if params:
        message = re.sub(
            r"\b(" + "|".join(map(re.escape, params)) + r")\b",
            lambda m: params[m.group(1)],
            message,
        )
    lead = re.match(r"[A-Za-z_]+", message)
    column = lead.group(0) if lead else ""
    if column not in (*which.required, *MODIFIERS, *params.values()):
        column = _column_of(message, which)
    expected = None
    limits = (params.get("lower"), params.get("upper"))
    if limits[0] and limits[1]:
        low, high = limits
        if "must be <" in message:
            expected = f"the lower limit {low} below the upper limit {high}"
            column = low
        elif "must contain" in message:
            expected = f"a CI {low}, {high} that contains the estimate"
            column = low
    bound = re.search(r"must be ([<>]=? ?-?[\d.]+)", message)
    if expected is None and bound:
        expected = f"a number {bound.group(1)}"
    return _RowError(message, column, expected)


def _column_of(message: str, which: InputSet) -> str:
    """Guess the input column a formula's error is about from its message."""
    if "CI" in message:  # a CI that does not hold its estimate: name its limit
        for column in which.required:
            if column.endswith("lb") or column.startswith("lb_"):
                return column
    for column in (*which.required, *sorted(MODIFIERS)):
        if column in message:
            return column
    for param, column in _PARAM_COLUMNS.items():
        if param in message:
            return column
    return which.required[0]


_OUTPUT_COLUMNS = [
    *ID_COLUMNS,
    "source_row",
    "measure",
    "yi",
    "vi",
    "se",
    "ci_lb",
    "ci_ub",
    "favourable",
    "sign_flipped",
    "input_set",
    "method",
    "n_t",
    "n_c",
    "sd_used",
    "r_prepost",
    "r_imputed",
    "icc",
    "icc_imputed",
    "cluster_size",
    "converted",
    "notes",
    # the 2x2 counts of rows computed from events and group sizes (added last,
    # so that the columns before keep their places): absolute effects in GRADE
    "events_t",
    "events_c",
]


def compute_effects(
    table: pd.DataFrame, settings: EffectSettings, source: str | Path = "effects.csv"
) -> EffectsResult:
    """Compute every row of an extraction table.

    Parameters
    ----------
    table : pandas.DataFrame
        Rows as read by :func:`read_effects` (values typed, missing = None).
    settings : EffectSettings
        Measure, imputation defaults and tolerance.
    source : path
        The file's name, for messages.

    Returns
    -------
    EffectsResult
        ``effects`` (one row per computed effect, positive = favourable) and
        ``excluded`` (rows that give no effect on the measure asked for, with
        the reason).

    Raises
    ------
    InputError
        For invalid or incomplete statistics, naming the file, row and column.
    """
    rows, excluded = [], []
    # the table's index is the row's position in the file (kept when a caller
    # passes a subset of the rows), so messages and source_row name the file's row
    for index, row in zip(table.index, table.to_dict(orient="records"), strict=True):
        number = int(index) + 1
        ids = {c: row.get(c) for c in ID_COLUMNS}
        ids["comparison"] = ids["comparison"] or "main"
        try:
            try:
                outcome = compute_row(row, settings)
            except (OverflowError, ZeroDivisionError):  # a conversion's overflow
                raise _extreme_error(
                    "effect size", complete_sets(row)[0], row
                ) from None
        except _RowError as exc:
            raise InputError(
                str(exc),
                file=source,
                line=number + 1,
                row=number,
                column=exc.column,
                expected=exc.expected,
            ) from None
        if isinstance(outcome, str):
            excluded.append({**ids, "source_row": number, "reason": outcome})
            continue
        effect, chosen, details = outcome
        flipped = row.get("favourable") == "lower"
        if flipped:
            effect = fm.flip(effect)
        low, high = effect.ci()
        rows.append(
            {
                **ids,
                "source_row": number,
                "measure": effect.measure,
                "yi": effect.yi,
                "vi": effect.vi,
                "se": effect.se,
                "ci_lb": low,
                "ci_ub": high,
                "favourable": row.get("favourable"),
                "sign_flipped": flipped,
                "input_set": chosen.name,
                "method": effect.method,
                "n_t": row.get("n_t"),
                "n_c": row.get("n_c"),
                "sd_used": details.get("sd_used", ""),
                "r_prepost": details.get("r_prepost", ""),
                "r_imputed": details.get("r_imputed", ""),
                "icc": details.get("icc", ""),
                "icc_imputed": details.get("icc_imputed", ""),
                "cluster_size": details.get("cluster_size", ""),
                "converted": details.get("converted", ""),
                "notes": "; ".join(effect.notes),
                # events as counted (not turned round: the event as measured)
                "events_t": row.get("events_t") if chosen.name == "counts" else None,
                "events_c": row.get("events_c") if chosen.name == "counts" else None,
            }
        )
    effects = pd.DataFrame(rows, columns=_OUTPUT_COLUMNS)
    out_excluded = pd.DataFrame(excluded, columns=[*ID_COLUMNS, "source_row", "reason"])
    return EffectsResult(effects, out_excluded)


def _row_key(row: Mapping[str, object]) -> tuple[tuple[str, object], ...]:
    """Return a row's filled cells, to find exact duplicates (1 and 1.0 alike)."""
    return tuple(
        sorted(
            (str(k), v)
            for k, v in row.items()
            if v is not None and not (isinstance(v, float) and math.isnan(v))
        )
    )


def _outcome_key(row: Mapping[str, object]) -> tuple[str, ...]:
    """Return what names a row's outcome: study, outcome, domain, time point, comparison.

    The outcome's text is compared without case, spacing or punctuation, so
    that "Self-esteem (RSES)" and "self esteem (rses)" are one outcome.
    """

    def text(column: str, default: str = "") -> str:
        value = row.get(column)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return default
        return str(value)

    outcome = re.sub(r"[\W_]+", " ", text("outcome").casefold()).strip()
    return (
        text("study_id"),
        outcome,
        text("domain"),
        text("timepoint"),
        text("comparison", "main") or "main",
    )


def _near_duplicate(
    number: int,
    row: Mapping[str, object],
    first: int,
    first_row: Mapping[str, object],
    source: str | Path,
) -> InputError:
    """Return the error for a second row of the same study outcome (not an exact copy)."""

    def filled(value: object) -> bool:
        return value is not None and not (
            isinstance(value, float) and math.isnan(value)
        )

    differ = [
        str(c)
        for c in dict.fromkeys([*first_row, *row])
        if (filled(row.get(c)) or filled(first_row.get(c)))
        and row.get(c) != first_row.get(c)
    ]
    shown = ", ".join(differ[:6]) + (" ..." if len(differ) > 6 else "")
    return InputError(
        f"the same study, outcome, domain, time point and comparison as line "
        f"{first + 1} (row {first}), differing only in {shown or 'spacing or case'}: "
        "both would be pooled as separate outcomes",
        file=source,
        line=number + 1,
        row=number,
        column="outcome",
        expected=(
            "each study x outcome x time point x comparison once: delete one row, or "
            "tell them apart in comparison (a second arm, a subgroup) or outcome"
        ),
    )


def row_problems(
    rows: Iterable[tuple[int, Mapping[str, object]]],
    source: str | Path,
    studies: set[str] | None = None,
    studies_file: str | Path = "studies.csv",
) -> list[InputError]:
    """Refuse what a row's statistics cannot show: repeats and unknown studies.

    Parameters
    ----------
    rows : iterable of (int, mapping)
        ``(data row, values)`` of the extraction table, 1-based rows.
    source : path
        The extraction table, for messages.
    studies : set of str, optional
        The study ids of studies.csv; ``None`` skips that check (no file).
    studies_file : path
        studies.csv, for messages.

    Returns
    -------
    list of InputError
        One per exact duplicate of an earlier row, and one per row naming the
        same study, outcome (ignoring case, spacing and punctuation), domain,
        time point and comparison as an earlier row (each message names both
        lines: the second would be pooled as another outcome), and one per row
        of a study not in studies.csv, in file order.
    """
    problems: list[InputError] = []
    seen: dict[tuple[tuple[str, object], ...], int] = {}
    named: dict[tuple[str, ...], tuple[int, Mapping[str, object]]] = {}
    for number, row in rows:
        key = _row_key(row)
        first = seen.setdefault(key, number)
        earlier = named.setdefault(_outcome_key(row), (number, row))
        if first == number and earlier[0] != number:
            problems.append(_near_duplicate(number, row, *earlier, source))
        if first != number:
            problems.append(
                InputError(
                    f"exact duplicate of line {first + 1} (row {first}): the same "
                    "row twice would be pooled as two outcomes",
                    file=source,
                    line=number + 1,
                    row=number,
                    expected=(
                        "each study x outcome x time point x comparison once; "
                        f"delete line {number + 1} or line {first + 1}"
                    ),
                )
            )
        study = row.get("study_id")
        if studies is not None and study is not None and str(study) not in studies:
            problems.append(
                InputError(
                    f"study {study!r} is not in {studies_file}",
                    file=source,
                    line=number + 1,
                    row=number,
                    column="study_id",
                    expected="a study_id of studies.csv (add the study there, or "
                    "correct the id)",
                )
            )
    return problems


def check_rows(
    table: pd.DataFrame,
    source: str | Path,
    studies: set[str] | None = None,
    studies_file: str | Path = "studies.csv",
) -> None:
    """Raise the first of :func:`row_problems` for a table from :func:`read_effects`.

    The table's index is the row's position in the file (kept in a subset).
    """
    rows = zip(
        (int(i) + 1 for i in table.index),
        table.to_dict(orient="records"),
        strict=True,
    )
    problems = row_problems(rows, source, studies, studies_file)
    if problems:
        raise problems[0]


def read_effects(path: str | Path) -> pd.DataFrame:
    """Read and validate an extraction table against its schema."""
    return read_table(path, "effects")


def check_measures(values: Sequence[str]) -> None:
    """Raise ValueError for a measure name evsynth does not know."""
    for value in values:
        if value not in MEASURES:
            raise ValueError(
                f"unknown measure {value!r}; use one of {', '.join(MEASURES)}"
            )
