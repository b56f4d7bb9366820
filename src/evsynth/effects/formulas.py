"""Effect-size formulas: one reported statistic in, one effect and its variance out.

Every function is pure: floats in, an :class:`Effect` (or a float) out. Invalid
input raises :class:`ValueError` whose message starts with the name of the
offending parameter, so callers can point the user at the right column.

Conventions
-----------
* ``_t`` is the treatment (mentoring) group, ``_c`` the comparison group, and
  every effect is treatment minus comparison.
* ``N = n_t + n_c`` and ``m = N - 2``.
* SMDs are Hedges' g, ``g = c(m) * d``. Their default variance is metafor's
  ``vtype="LS"``: ``1/n_t + 1/n_c + g^2 / (2N)``.
* OR and RR effects are on the natural-log scale.

References
----------
metafor 3.8.1 (Viechtbauer 2010, J Stat Softw 36(3)): ``R/escalc.r``,
``R/misc.func.hidden.escalc.r`` (``.cmicalc``), ``R/conv.wald.r``, ``man/escalc.Rd``.

What Works Clearinghouse (2022). Procedures and Standards Handbook, Version 5.0,
Appendix E; and the Supplement to the WWC Procedures Handbook, Version 4.1 (2021).

Higgins JPT et al. (eds) (2023). Cochrane Handbook for Systematic Reviews of
Interventions, version 6.4, chapter 6 (Higgins, Li & Deeks).

Hedges LV (1981). Distribution theory for Glass's estimator of effect size and
related estimators. J Educ Stat 6(2), 107-128.

Hedges LV (2007). Effect sizes in cluster-randomized designs. J Educ Behav Stat
32(4), 341-370.

Borenstein M, Hedges LV, Higgins JPT, Rothstein HR (2009). Introduction to
Meta-Analysis. Wiley. Chapter 4 (effect sizes based on means).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import special, stats

__all__ = [
    "APPROX_NOTE",
    "FLIP_NOTE",
    "MEASURES",
    "Effect",
    "cluster_adjust",
    "effect_from_ci",
    "effect_from_se",
    "effect_from_vi",
    "flip",
    "hedges_correction",
    "md_means",
    "or_2x2",
    "or_ci",
    "or_to_smd",
    "rd_2x2",
    "rr_2x2",
    "sd_from_ci",
    "sd_from_se",
    "smd_adjusted",
    "smd_did",
    "smd_f",
    "smd_from_d",
    "smd_from_g",
    "smd_means",
    "smd_p",
    "smd_t",
    "smd_to_or",
    "wwc_cluster_df",
]

#: Measures an :class:`Effect` can carry (OR and RR on the log scale).
MEASURES = ("SMD", "MD", "OR", "RR", "RD")
_RATIO = ("OR", "RR")

#: Note recorded when an SMD used the approximate correction 1 - 3/(4m - 1);
#: :func:`cluster_adjust` reads it back to undo the right correction.
APPROX_NOTE = "approximate small-sample correction c(m) = 1 - 3/(4m - 1)"
#: Note recorded by :func:`flip`; a second flip removes it again.
FLIP_NOTE = "sign flipped to harmonise direction (yi -> -yi)"

#: SMD methods whose variance is metafor's LS form (first term 1/n_t + 1/n_c).
_LS_METHODS = ("smd_means_sd", "smd_t", "smd_f", "smd_p", "smd_from_d", "smd_from_g")
#: SMD methods whose variance is a first term + g^2 / (2(N - 2)).
_WWC_METHODS = ("smd_adjusted", "smd_did")
#: Scale factors of the OR <-> SMD conversions (SMD = log OR * factor).
_OR_SMD_FACTOR = {"logistic": math.sqrt(3.0) / math.pi, "cox": 1.0 / 1.65}


# ---------------------------------------------------------------------------
# the result type


@dataclass(frozen=True)
class Effect:
    """An effect size on its analysis scale, with its sampling variance.

    Parameters
    ----------
    yi : float
        Effect size: Hedges' g (SMD), mean difference (MD), log odds ratio
        (OR), log risk ratio (RR) or risk difference (RD).
    vi : float
        Sampling variance of ``yi`` (> 0).
    measure : str
        One of ``"SMD"``, ``"MD"``, ``"OR"``, ``"RR"``, ``"RD"``.
    method : str
        Short name of the conversion used, e.g. ``"smd_means_sd"``.
    notes : tuple of str
        Assumptions and adjustments, human readable.

    Raises
    ------
    ValueError
        If ``yi`` or ``vi`` is not finite, ``vi <= 0`` or the measure is unknown.
    """

    yi: float
    vi: float
    measure: str
    method: str
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.measure not in MEASURES:
            raise ValueError(
                f"measure must be one of {MEASURES} (got {self.measure!r})"
            )
        if not math.isfinite(self.yi):
            raise ValueError(f"yi must be finite (got {self.yi!r})")
        if not (math.isfinite(self.vi) and self.vi > 0):
            raise ValueError(f"vi must be finite and > 0 (got {self.vi!r})")

    @property
    def se(self) -> float:
        """Standard error, ``sqrt(vi)``."""
        return math.sqrt(self.vi)

    def ci(self, level: float = 0.95) -> tuple[float, float]:
        """Return the normal-theory (Wald) confidence interval ``yi -/+ z * se``.

        Parameters
        ----------
        level : float
            Confidence level in (0, 1).

        Returns
        -------
        tuple of float
            ``(lower, upper)`` on the analysis scale (log scale for OR and RR).
        """
        z = _z(level)
        return (self.yi - z * self.se, self.yi + z * self.se)


# ---------------------------------------------------------------------------
# input checks (messages start with the parameter name)


def _num(name: str, value: float) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number (got {value!r})") from None
    if not math.isfinite(x):
        raise ValueError(f"{name} must be finite (got {value!r})")
    return x


def _positive(name: str, value: float) -> float:
    x = _num(name, value)
    if x <= 0:
        raise ValueError(f"{name} must be > 0 (got {value!r})")
    return x


def _group_size(name: str, value: float) -> float:
    x = _num(name, value)
    if x < 2:
        raise ValueError(f"{name} must be >= 2 (got {value!r})")
    return x


def _count_pair(
    events_name: str, events: float, n_name: str, n: float
) -> tuple[float, float]:
    nn = _num(n_name, n)
    if nn < 1:
        raise ValueError(f"{n_name} must be >= 1 (got {n!r})")
    e = _num(events_name, events)
    if e < 0:
        raise ValueError(f"{events_name} must be >= 0 (got {events!r})")
    if e > nn:
        raise ValueError(f"{events_name} must be <= {n_name} (got {events!r} > {n!r})")
    return e, nn


def _level(value: float, name: str = "level") -> float:
    x = _num(name, value)
    if not 0 < x < 1:
        raise ValueError(f"{name} must be in (0, 1), e.g. 0.95 (got {value!r})")
    return x


def _z(level: float) -> float:
    """Two-sided normal quantile for a confidence level."""
    lv = _level(level)
    return float(stats.norm.ppf(0.5 + lv / 2.0))


def _direction(value: int) -> float:
    if value not in (1, -1):
        raise ValueError(f"direction must be +1 or -1 (got {value!r})")
    return float(value)


def _measure(value: str) -> str:
    if value not in MEASURES:
        raise ValueError(f"measure must be one of {MEASURES} (got {value!r})")
    return value


def _fmt(x: float) -> str:
    """Compact number for notes (integers without a decimal point)."""
    return f"{x:g}"


# ---------------------------------------------------------------------------
# standardised mean differences


def hedges_correction(df: float, exact: bool = True) -> float:
    """Return Hedges' small-sample bias correction c(m) for an SMD on ``df`` = m.

    ``exact``: ``c(m) = Gamma(m/2) / (sqrt(m/2) * Gamma((m - 1)/2))`` (Hedges 1981,
    eq. 6e), computed on the log scale with ``scipy.special.gammaln`` as metafor's
    ``.cmicalc`` does (``R/misc.func.hidden.escalc.r``) so it never overflows.
    Otherwise the approximation ``1 - 3/(4m - 1)``; with m = N - 2 this is WWC's
    ``omega = 1 - 3/(4N - 9)`` (WWC Handbook v5.0, App. E) and Borenstein et al.
    (2009, ch. 4) J. The approximation error is about 0.043/m^2.

    Parameters
    ----------
    df : float
        Degrees of freedom m (N - 2 for two groups; WWC's h in cluster designs).
        Need not be an integer.
    exact : bool
        Exact gamma-function form (default) or the approximation.

    Returns
    -------
    float
        The correction factor, in (0, 1).

    Raises
    ------
    ValueError
        If ``df`` is not finite or ``df <= 1``.
    """
    m = _num("df", df)
    if m <= 1:
        raise ValueError(f"df must be > 1 (got {df!r})")
    if not exact:
        return 1.0 - 3.0 / (4.0 * m - 1.0)
    log_c = (
        special.gammaln(m / 2.0)
        - 0.5 * math.log(m / 2.0)
        - special.gammaln((m - 1.0) / 2.0)
    )
    return float(math.exp(log_c))


def _smd_notes(exact: bool) -> tuple[str, ...]:
    return () if exact else (APPROX_NOTE,)


def _smd_ls(g: float, n_t: float, n_c: float) -> float:
    """Return metafor's vtype="LS" variance of g (Hedges 1982, eq. 8)."""
    return 1.0 / n_t + 1.0 / n_c + g * g / (2.0 * (n_t + n_c))


def smd_means(
    mean_t: float,
    sd_t: float,
    n_t: float,
    mean_c: float,
    sd_c: float,
    n_c: float,
    exact: bool = True,
) -> Effect:
    """Hedges' g from the two groups' means, SDs and sizes.

    ``S_p = sqrt(((n_t - 1) sd_t^2 + (n_c - 1) sd_c^2) / (N - 2))``,
    ``d = (mean_t - mean_c) / S_p``, ``g = c(N - 2) d`` and
    ``vi = 1/n_t + 1/n_c + g^2 / (2N)``: metafor ``escalc(measure="SMD")`` with its
    defaults (``R/escalc.r``, SMD branch, ``vtype="LS"``: Hedges 1982, eq. 8).
    Cochrane Handbook v6.4 section 6.5.1.2 describes the same Hedges' g; Borenstein
    et al. (2009, ch. 4) use the variance ``J^2 (1/n_t + 1/n_c + d^2/(2N))``
    (metafor ``vtype="LS2"``) instead, which is slightly smaller.

    Parameters
    ----------
    mean_t, sd_t, n_t : float
        Treatment group mean, SD (> 0) and size (>= 2).
    mean_c, sd_c, n_c : float
        Comparison group mean, SD (> 0) and size (>= 2).
    exact : bool
        Exact c(m) (default, as metafor) or ``1 - 3/(4m - 1)`` (WWC).

    Returns
    -------
    Effect
        Measure ``"SMD"``, method ``"smd_means_sd"``.
    """
    m_t, m_c = _num("mean_t", mean_t), _num("mean_c", mean_c)
    s_t, s_c = _positive("sd_t", sd_t), _positive("sd_c", sd_c)
    nt, nc = _group_size("n_t", n_t), _group_size("n_c", n_c)
    sd_pooled = math.sqrt(((nt - 1.0) * s_t**2 + (nc - 1.0) * s_c**2) / (nt + nc - 2.0))
    g = hedges_correction(nt + nc - 2.0, exact) * (m_t - m_c) / sd_pooled
    return Effect(g, _smd_ls(g, nt, nc), "SMD", "smd_means_sd", _smd_notes(exact))


def md_means(
    mean_t: float,
    sd_t: float,
    n_t: float,
    mean_c: float,
    sd_c: float,
    n_c: float,
) -> Effect:
    """Raw mean difference from the two groups' means, SDs and sizes.

    ``yi = mean_t - mean_c`` and ``vi = sd_t^2/n_t + sd_c^2/n_c`` (no equal-variance
    assumption): metafor ``escalc(measure="MD")`` default ``vtype="LS"``
    (``R/escalc.r``; Borenstein 2009 in the Handbook of Research Synthesis, eq. 12.5).

    Parameters
    ----------
    mean_t, sd_t, n_t : float
        Treatment group mean, SD (> 0) and size (>= 2).
    mean_c, sd_c, n_c : float
        Comparison group mean, SD (> 0) and size (>= 2).

    Returns
    -------
    Effect
        Measure ``"MD"``, method ``"md_means"``.
    """
    m_t, m_c = _num("mean_t", mean_t), _num("mean_c", mean_c)
    s_t, s_c = _positive("sd_t", sd_t), _positive("sd_c", sd_c)
    nt, nc = _group_size("n_t", n_t), _group_size("n_c", n_c)
    return Effect(m_t - m_c, s_t**2 / nt + s_c**2 / nc, "MD", "md_means")


def sd_from_se(se: float, n: float) -> float:
    """Return a group's SD from the standard error of its mean.

    ``SD = sqrt(n) * SE`` (Cochrane Handbook v6.4, section 6.5.2.2).

    Parameters
    ----------
    se : float
        Standard error of the group mean (> 0).
    n : float
        Group size (>= 2).

    Returns
    -------
    float
        The standard deviation.
    """
    s = _positive("se", se)
    nn = _group_size("n", n)
    return math.sqrt(nn) * s


def sd_from_ci(
    lower: float,
    upper: float,
    n: float,
    level: float = 0.95,
    small_sample: bool = True,
) -> float:
    """Return a group's SD from the confidence interval of its mean.

    ``SD = sqrt(n) * (upper - lower) / (2 q)`` (Cochrane Handbook v6.4, section
    6.5.2.2). ``q`` is the normal quantile (2q = 3.92 for 95 %, 3.29 for 90 %, 5.15
    for 99 %), or, when ``small_sample`` and n < 60, the t quantile on n - 1 df, as
    the Handbook advises for small groups (its example: n = 25 gives
    2 x 2.0639 = 4.128 instead of 3.92).

    Parameters
    ----------
    lower, upper : float
        Confidence limits of the group mean (``lower < upper``).
    n : float
        Group size (>= 2).
    level : float
        Confidence level of the interval, in (0, 1).
    small_sample : bool
        Use the t quantile for n < 60 (default).

    Returns
    -------
    float
        The standard deviation.
    """
    lo, hi = _num("lower", lower), _num("upper", upper)
    if not lo < hi:
        raise ValueError(f"lower must be < upper (got {lower!r}, {upper!r})")
    nn = _group_size("n", n)
    lv = _level(level)
    if small_sample and nn < 60:
        q = float(stats.t.ppf(0.5 + lv / 2.0, nn - 1.0))
    else:
        q = float(stats.norm.ppf(0.5 + lv / 2.0))
    return math.sqrt(nn) * (hi - lo) / (2.0 * q)


def _smd_from_t(
    t: float, nt: float, nc: float, exact: bool, method: str, notes: tuple[str, ...]
) -> Effect:
    d = t * math.sqrt(1.0 / nt + 1.0 / nc)
    g = hedges_correction(nt + nc - 2.0, exact) * d
    return Effect(g, _smd_ls(g, nt, nc), "SMD", method, notes + _smd_notes(exact))


def smd_t(t: float, n_t: float, n_c: float, exact: bool = True) -> Effect:
    """Hedges' g from an independent-samples (Student) t statistic.

    ``d = t * sqrt(1/n_t + 1/n_c)``, ``g = c(N - 2) d`` and
    ``vi = 1/n_t + 1/n_c + g^2/(2N)``; metafor ``escalc(measure="SMD", ti=...)``
    (``man/escalc.Rd``, section 1a: the sign of t is the sign of d).

    Parameters
    ----------
    t : float
        t statistic, positive when the treatment mean is higher.
    n_t, n_c : float
        Group sizes (>= 2).
    exact : bool
        Exact c(m) (default) or ``1 - 3/(4m - 1)``.

    Returns
    -------
    Effect
        Measure ``"SMD"``, method ``"smd_t"``.
    """
    tt = _num("t", t)
    nt, nc = _group_size("n_t", n_t), _group_size("n_c", n_c)
    return _smd_from_t(tt, nt, nc, exact, "smd_t", ())


def smd_f(
    f: float, n_t: float, n_c: float, direction: int, exact: bool = True
) -> Effect:
    """Hedges' g from a two-group F statistic (one numerator df).

    With one numerator df ``F = t^2``, so ``t = direction * sqrt(F)`` and g follows
    as in :func:`smd_t` (Lipsey & Wilson 2001; R package esc, ``esc_f``). F carries no
    sign: ``direction`` must say which group did better.

    Parameters
    ----------
    f : float
        F statistic (>= 0) of a two-group comparison.
    n_t, n_c : float
        Group sizes (>= 2).
    direction : int
        +1 if the treatment mean is higher, -1 if lower.
    exact : bool
        Exact c(m) (default) or ``1 - 3/(4m - 1)``.

    Returns
    -------
    Effect
        Measure ``"SMD"``, method ``"smd_f"``.
    """
    ff = _num("f", f)
    if ff < 0:
        raise ValueError(f"f must be >= 0 (got {f!r})")
    sign = _direction(direction)
    nt, nc = _group_size("n_t", n_t), _group_size("n_c", n_c)
    note = (
        f"t = {'+' if sign > 0 else '-'}sqrt(F) with F = {_fmt(ff)} (one numerator df)"
    )
    return _smd_from_t(sign * math.sqrt(ff), nt, nc, exact, "smd_f", (note,))


def smd_p(
    p: float, n_t: float, n_c: float, direction: int, exact: bool = True
) -> Effect:
    """Hedges' g from the two-sided p value of an independent-samples t test.

    ``t = direction * t^-1(1 - p/2; N - 2)``, then as :func:`smd_t`. This is
    metafor ``escalc(measure="SMD", pi=...)`` (``.convp2t`` in
    ``R/misc.func.hidden.escalc.r``; metafor takes the sign from the sign of p) and
    Cochrane Handbook v6.4 section 6.5.2.3. ``p = 1`` gives t = 0 and g = 0.
    A p reported only as a bound (``p < 0.05``) gives a conservative g when the
    bound is used.

    Parameters
    ----------
    p : float
        Exact two-sided p value, in (0, 1].
    n_t, n_c : float
        Group sizes (>= 2).
    direction : int
        +1 if the treatment mean is higher, -1 if lower.
    exact : bool
        Exact c(m) (default) or ``1 - 3/(4m - 1)``.

    Returns
    -------
    Effect
        Measure ``"SMD"``, method ``"smd_p"``; a note records the t and its df.
    """
    pp = _num("p", p)
    if not 0 < pp <= 1:
        raise ValueError(f"p must be in (0, 1] (got {p!r})")
    sign = _direction(direction)
    nt, nc = _group_size("n_t", n_t), _group_size("n_c", n_c)
    df = nt + nc - 2.0
    t = sign * float(stats.t.isf(pp / 2.0, df)) if pp < 1 else 0.0
    note = f"t from two-sided p = {_fmt(pp)} on {_fmt(df)} df (t = {t:.4f})"
    return _smd_from_t(t, nt, nc, exact, "smd_p", (note,))


def smd_from_d(d: float, n_t: float, n_c: float, exact: bool = True) -> Effect:
    """Hedges' g from a reported Cohen's d (pooled-SD standardiser, uncorrected).

    ``g = c(N - 2) d``, ``vi = 1/n_t + 1/n_c + g^2/(2N)``; metafor
    ``escalc(measure="SMD", di=...)`` (``man/escalc.Rd``, section 1a).

    Parameters
    ----------
    d : float
        Cohen's d.
    n_t, n_c : float
        Group sizes (>= 2).
    exact : bool
        Exact c(m) (default) or ``1 - 3/(4m - 1)``.

    Returns
    -------
    Effect
        Measure ``"SMD"``, method ``"smd_from_d"``.
    """
    dd = _num("d", d)
    nt, nc = _group_size("n_t", n_t), _group_size("n_c", n_c)
    g = hedges_correction(nt + nc - 2.0, exact) * dd
    return Effect(g, _smd_ls(g, nt, nc), "SMD", "smd_from_d", _smd_notes(exact))


def smd_from_g(g: float, n_t: float, n_c: float) -> Effect:
    """Effect for a reported Hedges' g (already bias-corrected).

    ``yi = g``, ``vi = 1/n_t + 1/n_c + g^2/(2N)`` (metafor ``vtype="LS"``).
    :func:`cluster_adjust` assumes the paper used the exact c(N - 2).

    Parameters
    ----------
    g : float
        Reported Hedges' g.
    n_t, n_c : float
        Group sizes (>= 2).

    Returns
    -------
    Effect
        Measure ``"SMD"``, method ``"smd_from_g"``.
    """
    gg = _num("g", g)
    nt, nc = _group_size("n_t", n_t), _group_size("n_c", n_c)
    return Effect(gg, _smd_ls(gg, nt, nc), "SMD", "smd_from_g")


def smd_adjusted(
    adj_diff: float,
    sd_pooled: float,
    n_t: float,
    n_c: float,
    se: float | None = None,
    lower: float | None = None,
    upper: float | None = None,
    level: float = 0.95,
    exact: bool = True,
) -> Effect:
    """Hedges' g from a covariate-adjusted mean difference (ANCOVA, regression).

    WWC: the numerator is the adjusted difference, the standardiser the
    *unadjusted* pooled SD, ``g = omega * adj_diff / S`` with omega = c(N - 2)
    (WWC Handbook v5.0, App. E). The variance uses the regression SE of the
    adjusted difference, ``vi = (omega * SE / S)^2 + g^2 / (2(N - 2))``: the
    delta-method variance of ``omega * b / S`` with ``S^2`` on N - 2 df. The WWC
    v4.1 Supplement (2021) form as reported by VIVECampbell's
    ``vgt_smd_1armcluster`` is ``(SE / S)^2 + g^2 / (2(h - q))`` (q covariates,
    h = N - 2 without clustering): it omits omega^2 on the first term (a relative
    difference of about 3/(2m)); the WWC v5.0 equation itself was not available to
    check. VIVE's worked example on Michalak et al. (2015, Table 5), which uses
    ``g^2 / t^2`` with g already corrected, keeps omega^2 as here (see the tests). With a CI instead of an SE, ``SE = (upper - lower) / (2 z)`` (normal
    quantile, as metafor ``conv.wald``).

    Do not pass the result to :func:`cluster_adjust` if the SE already accounts
    for clustering.

    Parameters
    ----------
    adj_diff : float
        Adjusted mean difference (treatment minus comparison).
    sd_pooled : float
        Unadjusted pooled SD of the outcome (> 0).
    n_t, n_c : float
        Group sizes (>= 2).
    se : float, optional
        Standard error of ``adj_diff`` (> 0).
    lower, upper : float, optional
        Confidence limits of ``adj_diff``; give these or ``se``, not both.
    level : float
        Confidence level of ``(lower, upper)``.
    exact : bool
        Exact c(m) (default) or ``1 - 3/(4m - 1)`` (WWC's omega).

    Returns
    -------
    Effect
        Measure ``"SMD"``, method ``"smd_adjusted"``.
    """
    b = _num("adj_diff", adj_diff)
    s = _positive("sd_pooled", sd_pooled)
    nt, nc = _group_size("n_t", n_t), _group_size("n_c", n_c)
    has_ci = lower is not None or upper is not None
    notes: list[str] = []
    if se is not None and has_ci:
        raise ValueError("se: give either se or (lower, upper), not both")
    if se is not None:
        se_b = _positive("se", se)
    elif has_ci:
        if lower is None or upper is None:
            missing = "lower" if lower is None else "upper"
            raise ValueError(f"{missing}: a CI needs both lower and upper")
        lo, hi = _num("lower", lower), _num("upper", upper)
        if not lo < hi:
            raise ValueError(f"lower must be < upper (got {lower!r}, {upper!r})")
        if not lo <= b <= hi:
            raise ValueError(
                f"lower, upper: the CI ({lower!r}, {upper!r}) must contain "
                f"adj_diff = {adj_diff!r}"
            )
        lv = _level(level)
        se_b = (hi - lo) / (2.0 * _z(lv))
        notes.append(f"SE of adj_diff from its {_fmt(100 * lv)}% CI (normal quantile)")
    else:
        raise ValueError("se: give se or (lower, upper)")
    m = nt + nc - 2.0
    omega = hedges_correction(m, exact)
    g = omega * b / s
    vi = (omega * se_b / s) ** 2 + g * g / (2.0 * m)
    notes.append("standardised by the unadjusted pooled SD (WWC)")
    return Effect(g, vi, "SMD", "smd_adjusted", (*notes, *_smd_notes(exact)))


def smd_did(
    pre_mean_t: float,
    pre_sd_t: float,
    post_mean_t: float,
    post_sd_t: float,
    n_t: float,
    pre_mean_c: float,
    pre_sd_c: float,
    post_mean_c: float,
    post_sd_c: float,
    n_c: float,
    r_prepost: float,
    exact: bool = True,
) -> Effect:
    """Hedges' g by WWC's difference-in-differences (pretest-adjusted) method.

    ``g = omega * [(post_t - post_c) - (pre_t - pre_c)] / S_post``, with ``S_post``
    the pooled posttest SD and omega = c(N - 2) (WWC Handbook v5.0, App. E,
    "difference-in-differences"; the pretest SDs are checked but not used, as in
    WWC's formula). Variance, gain-score form:
    ``vi = 2 (1 - r) (1/n_t + 1/n_c) + g^2 / (2(N - 2))`` with r the pre-post
    correlation (WWC v4.1 Supplement 2021, as tabulated in VIVECampbell
    ``vgt_smd_1armcluster``, row "DiD, gain scores"; WWC imputes r = 0.5 when
    none is reported, Supplement p. E-6). Checked against VIVE's worked example
    on Michalak et al. (2015, Table 2) in the tests. Morris (2008) ``d_ppc2`` is
    the alternative that
    standardises by the pooled *pretest* SD.

    Parameters
    ----------
    pre_mean_t, pre_sd_t, post_mean_t, post_sd_t, n_t : float
        Treatment group pretest and posttest means and SDs (> 0), and size (>= 2).
    pre_mean_c, pre_sd_c, post_mean_c, post_sd_c, n_c : float
        The same for the comparison group.
    r_prepost : float
        Pre-post correlation, in [-1, 1) (r = 1 would give a zero first term).
    exact : bool
        Exact c(m) (default) or ``1 - 3/(4m - 1)``.

    Returns
    -------
    Effect
        Measure ``"SMD"``, method ``"smd_did"``; a note records r.
    """
    a_t, b_t = _num("pre_mean_t", pre_mean_t), _num("post_mean_t", post_mean_t)
    a_c, b_c = _num("pre_mean_c", pre_mean_c), _num("post_mean_c", post_mean_c)
    _positive("pre_sd_t", pre_sd_t)
    _positive("pre_sd_c", pre_sd_c)
    s_t, s_c = _positive("post_sd_t", post_sd_t), _positive("post_sd_c", post_sd_c)
    nt, nc = _group_size("n_t", n_t), _group_size("n_c", n_c)
    r = _num("r_prepost", r_prepost)
    if not -1 <= r < 1:
        raise ValueError(f"r_prepost must be in [-1, 1) (got {r_prepost!r})")
    m = nt + nc - 2.0
    s_post = math.sqrt(((nt - 1.0) * s_t**2 + (nc - 1.0) * s_c**2) / m)
    diff = (b_t - b_c) - (a_t - a_c)
    g = hedges_correction(m, exact) * diff / s_post
    vi = 2.0 * (1.0 - r) * (1.0 / nt + 1.0 / nc) + g * g / (2.0 * m)
    notes = (
        f"pre-post correlation r = {_fmt(r)}",
        "standardised by the pooled posttest SD (WWC difference-in-differences)",
    )
    return Effect(g, vi, "SMD", "smd_did", notes + _smd_notes(exact))


# ---------------------------------------------------------------------------
# effects given directly


def effect_from_vi(yi: float, vi: float, measure: str) -> Effect:
    """Effect from an estimate and its sampling variance.

    Parameters
    ----------
    yi : float
        Estimate on the analysis scale (log OR / log RR for ratio measures).
    vi : float
        Its sampling variance (> 0).
    measure : str
        One of ``"SMD"``, ``"MD"``, ``"OR"``, ``"RR"``, ``"RD"``.

    Returns
    -------
    Effect
        Method ``"effect_from_vi"``.
    """
    y = _num("yi", yi)
    v = _positive("vi", vi)
    return Effect(y, v, _measure(measure), "effect_from_vi")


def effect_from_se(yi: float, se: float, measure: str) -> Effect:
    """Effect from an estimate and its standard error: ``vi = se^2``.

    ``yi`` and ``se`` are on the analysis scale: for ``"OR"`` and ``"RR"`` give the
    log ratio and the SE of the log ratio, as regression output reports them
    (use :func:`effect_from_ci` for a ratio with its CI).

    Parameters
    ----------
    yi : float
        Estimate on the analysis scale.
    se : float
        Its standard error (> 0).
    measure : str
        One of ``"SMD"``, ``"MD"``, ``"OR"``, ``"RR"``, ``"RD"``.

    Returns
    -------
    Effect
        Method ``"effect_from_se"``.
    """
    y = _num("yi", yi)
    s = _positive("se", se)
    return Effect(y, s * s, _measure(measure), "effect_from_se")


def effect_from_ci(
    yi: float, lower: float, upper: float, measure: str, level: float = 0.95
) -> Effect:
    """Effect from an estimate and its (Wald-type) confidence interval.

    ``vi = ((upper - lower) / (2 z))^2``, z the normal quantile of ``level``:
    metafor ``conv.wald`` (``R/conv.wald.r``) and Cochrane Handbook v6.4 sections
    6.3.1 and 6.3.2. For ``"OR"`` and ``"RR"`` give the *ratio* and its CI on the
    natural scale; their logs are taken first (Cochrane 6.3.2) and the effect is
    the log ratio. Like metafor's ``conv.wald`` check, a note is added when the
    estimate is off the middle of the CI by more than 10 % of its width.

    Parameters
    ----------
    yi : float
        Estimate (a ratio > 0 for OR and RR).
    lower, upper : float
        Confidence limits; ``lower < upper`` and the CI must contain ``yi``.
    measure : str
        One of ``"SMD"``, ``"MD"``, ``"OR"``, ``"RR"``, ``"RD"``.
    level : float
        Confidence level, in (0, 1).

    Returns
    -------
    Effect
        Method ``"effect_from_ci"``.
    """
    return _from_ci(yi, lower, upper, _measure(measure), level, "yi", "effect_from_ci")


def _from_ci(
    estimate: float,
    lower: float,
    upper: float,
    measure: str,
    level: float,
    name: str,
    method: str,
) -> Effect:
    y, lo, hi = _num(name, estimate), _num("lower", lower), _num("upper", upper)
    if not lo < hi:
        raise ValueError(f"lower must be < upper (got {lower!r}, {upper!r})")
    if not lo <= y <= hi:
        raise ValueError(
            f"{name}: the CI ({lower!r}, {upper!r}) must contain the estimate "
            f"{estimate!r}"
        )
    lv = _level(level)
    notes: list[str] = []
    if measure in _RATIO:
        for label, value in ((name, y), ("lower", lo), ("upper", hi)):
            if value <= 0:
                raise ValueError(
                    f"{label} must be > 0 for a ratio ({measure}) on the natural scale "
                    f"(got {value!r})"
                )
        y, lo, hi = math.log(y), math.log(lo), math.log(hi)
        notes.append(f"{measure} and its CI log-transformed")
    vi = ((hi - lo) / (2.0 * _z(lv))) ** 2
    off = abs((hi + lo) / 2.0 - y) / (hi - lo)
    if off > 0.1:
        notes.append(
            f"estimate is {100 * off:.0f}% of the CI width off its middle: the CI may "
            "not be a Wald interval on this scale"
        )
    notes.insert(0, f"variance from the {_fmt(100 * lv)}% CI")
    return Effect(y, vi, measure, method, tuple(notes))


def or_ci(or_: float, lower: float, upper: float, level: float = 0.95) -> Effect:
    """Log odds ratio from a reported odds ratio and its CI (natural scale).

    ``yi = ln(OR)``, ``vi = ((ln(upper) - ln(lower)) / (2 z))^2`` (Cochrane Handbook
    v6.4 section 6.3.2; metafor ``conv.wald`` with ``transf=log``).

    Parameters
    ----------
    or_ : float
        Odds ratio (> 0).
    lower, upper : float
        Its confidence limits (> 0, ``lower < upper``, containing ``or_``).
    level : float
        Confidence level, in (0, 1).

    Returns
    -------
    Effect
        Measure ``"OR"`` (log scale), method ``"or_ci"``.
    """
    return _from_ci(or_, lower, upper, "OR", level, "or_", "or_ci")


# ---------------------------------------------------------------------------
# 2x2 tables


def _table(
    events_t: float, n_t: float, events_c: float, n_c: float
) -> tuple[float, float, float, float, tuple[str, ...]]:
    """Return (a, n1, c, n2, notes) after metafor's default zero-cell handling.

    metafor ``escalc`` defaults ``add=1/2, to="only0", drop00=FALSE``
    (``R/escalc.r``): 1/2 is added to every cell of a table with a zero cell, for
    OR, RR *and* RD alike; tables with no events (or only events) in both groups
    are kept.
    """
    a, n1 = _count_pair("events_t", events_t, "n_t", n_t)
    c, n2 = _count_pair("events_c", events_c, "n_c", n_c)
    b, d = n1 - a, n2 - c
    if min(a, b, c, d) > 0:
        return a, n1, c, n2, ()
    notes = ["0.5 added to every cell (a zero cell; metafor add=1/2, to='only0')"]
    if a == 0 and c == 0:
        notes.append(
            "no events in either group: kept, as metafor does unless drop00=TRUE "
            "(such a study says little about the effect)"
        )
    elif b == 0 and d == 0:
        notes.append(
            "every participant had the event in both groups: kept, as metafor does "
            "unless drop00=TRUE (such a study says little about the effect)"
        )
    return a + 0.5, n1 + 1.0, c + 0.5, n2 + 1.0, tuple(notes)


def or_2x2(events_t: float, n_t: float, events_c: float, n_c: float) -> Effect:
    """Log odds ratio from event counts: metafor ``escalc(measure="OR")``.

    ``yi = ln(p_t/(1 - p_t)) - ln(p_c/(1 - p_c))``, ``vi = 1/a + 1/b + 1/c + 1/d``
    (cells a, b = events, non-events in the treatment group; c, d in the
    comparison group), after adding 1/2 to every cell of a table with a zero cell
    (metafor defaults; Cochrane Handbook v6.4 section 6.4.1).

    Parameters
    ----------
    events_t, n_t : float
        Treatment group events (0 <= events_t <= n_t) and size (>= 1).
    events_c, n_c : float
        Comparison group events and size.

    Returns
    -------
    Effect
        Measure ``"OR"`` (log scale), method ``"or_2x2"``.
    """
    a, n1, c, n2, notes = _table(events_t, n_t, events_c, n_c)
    p1, p2 = a / n1, c / n2
    yi = math.log(p1 / (1.0 - p1)) - math.log(p2 / (1.0 - p2))
    vi = 1.0 / a + 1.0 / (n1 - a) + 1.0 / c + 1.0 / (n2 - c)
    return Effect(yi, vi, "OR", "or_2x2", notes)


def rr_2x2(events_t: float, n_t: float, events_c: float, n_c: float) -> Effect:
    """Log risk ratio from event counts: metafor ``escalc(measure="RR")``.

    ``yi = ln(p_t) - ln(p_c)``, ``vi = 1/a - 1/n_t + 1/c - 1/n_c``, after adding
    1/2 to every cell of a table with a zero cell (metafor defaults).

    Parameters
    ----------
    events_t, n_t : float
        Treatment group events (0 <= events_t <= n_t) and size (>= 1).
    events_c, n_c : float
        Comparison group events and size.

    Returns
    -------
    Effect
        Measure ``"RR"`` (log scale), method ``"rr_2x2"``.
    """
    a, n1, c, n2, notes = _table(events_t, n_t, events_c, n_c)
    yi = math.log(a / n1) - math.log(c / n2)
    vi = 1.0 / a - 1.0 / n1 + 1.0 / c - 1.0 / n2
    return Effect(yi, vi, "RR", "rr_2x2", notes)


def rd_2x2(events_t: float, n_t: float, events_c: float, n_c: float) -> Effect:
    """Risk difference from event counts: metafor ``escalc(measure="RD")``.

    ``yi = p_t - p_c``, ``vi = p_t(1 - p_t)/n_t + p_c(1 - p_c)/n_c`` (``vtype="LS"``).
    The RD itself needs no correction, but metafor's defaults (``add=1/2``,
    ``to="only0"``) apply to RD too: a table with a zero cell gets 1/2 added to
    every cell before both yi and vi are computed, which also keeps vi > 0 when
    both proportions are 0 or 1. This function does the same, to match metafor.

    Parameters
    ----------
    events_t, n_t : float
        Treatment group events (0 <= events_t <= n_t) and size (>= 1).
    events_c, n_c : float
        Comparison group events and size.

    Returns
    -------
    Effect
        Measure ``"RD"``, method ``"rd_2x2"``.
    """
    a, n1, c, n2, notes = _table(events_t, n_t, events_c, n_c)
    p1, p2 = a / n1, c / n2
    vi = p1 * (1.0 - p1) / n1 + p2 * (1.0 - p2) / n2
    return Effect(p1 - p2, vi, "RD", "rd_2x2", notes)


# ---------------------------------------------------------------------------
# cluster designs


def _icc(value: float) -> float:
    rho = _num("icc", value)
    if not 0 <= rho < 1:
        raise ValueError(f"icc must be in [0, 1) (got {value!r})")
    return rho


def wwc_cluster_df(n_total: float, cluster_size: float, icc: float) -> float:
    """Return WWC's degrees of freedom h for an SMD from a cluster design.

    ``h = [(N - 2) - 2(n - 1) rho]^2 /
    [(N - 2)(1 - rho)^2 + n(N - 2n) rho^2 + 2(N - 2n) rho (1 - rho)]``
    (WWC Handbook v5.0, Eq. E.21, p. 171, as cited by VIVECampbell ``df_h``; the
    same h as Hedges 2007). h = N - 2 when rho = 0 or n = 1. Check value: N = 100,
    rho = 0.1, n = 5 gives h = 94.40.

    Parameters
    ----------
    n_total : float
        Total sample size N (> 2).
    cluster_size : float
        Average cluster size n, in [1, N/2].
    icc : float
        Intraclass correlation rho, in [0, 1).

    Returns
    -------
    float
        h.
    """
    big_n = _num("n_total", n_total)
    if big_n <= 2:
        raise ValueError(f"n_total must be > 2 (got {n_total!r})")
    n = _num("cluster_size", cluster_size)
    if not 1 <= n <= big_n / 2.0:
        raise ValueError(
            f"cluster_size must be in [1, n_total/2] (got {cluster_size!r}, "
            f"n_total = {n_total!r})"
        )
    rho = _icc(icc)
    m = big_n - 2.0
    num = (m - 2.0 * (n - 1.0) * rho) ** 2
    den = (
        m * (1.0 - rho) ** 2
        + n * (big_n - 2.0 * n) * rho**2
        + 2.0 * (big_n - 2.0 * n) * rho * (1.0 - rho)
    )
    return num / den


def cluster_adjust(
    effect: Effect,
    n_t: float,
    n_c: float,
    cluster_size: float,
    icc: float,
    exact: bool = True,
) -> Effect:
    """Adjust an SMD computed as if individually randomised for a cluster design.

    Following Hedges (2007, J Educ Behav Stat 32(4), 341-370, eq. 15) and WWC
    (v4.1 Supplement 2021; Handbook v5.0, App. E): with d recovered from the
    uncorrected g (``d = g / c(N - 2)``; the approximate c is used when the effect
    records it), ``g_T = omega(h) * gamma * d`` with
    ``gamma = sqrt(1 - 2(n - 1) rho / (N - 2))`` and ``omega(h) = c(h)``, h from
    :func:`wwc_cluster_df`. Variance (WWC form, for an analysis that ignored the
    clustering): ``vi = V1 * [1 + (n - 1) rho] + g_T^2 / (2h)``, where V1 is the
    first variance term of the input effect, ``1/n_t + 1/n_c = N/(n_t n_c)`` for
    effects from group statistics, t, F, p, d or g, and the covariate or
    pre-post term for :func:`smd_adjusted` and :func:`smd_did` (WWC multiplies
    those by the same design effect).

    Hedges (2007) eq. 16 writes the second term as
    ``d_T^2 [(N - 2)(1 - rho)^2 + n(N - 2n) rho^2 + 2(N - 2n) rho(1 - rho)] /
    (2 (N - 2) [(N - 2) - 2(n - 1) rho])``, which equals ``gamma^2 d_T^2 / (2h)``:
    smaller than WWC's ``g_T^2 / (2h)`` by the factor gamma^2 (0.99 or more for
    typical designs). The WWC form is used here.

    Parameters
    ----------
    effect : Effect
        An SMD from :func:`smd_means`, :func:`smd_t`, :func:`smd_f`,
        :func:`smd_p`, :func:`smd_from_d`, :func:`smd_from_g`,
        :func:`smd_adjusted` or :func:`smd_did`, not yet cluster-adjusted.
    n_t, n_c : float
        Group sizes (individuals, >= 2), as used for ``effect``.
    cluster_size : float
        Average cluster size n, in [1, min(n_t, n_c)].
    icc : float
        Intraclass correlation rho, in [0, 1).
    exact : bool
        Exact omega(h) = c(h) (default) or ``1 - 3/(4h - 1)``.

    Returns
    -------
    Effect
        Measure ``"SMD"``, method ``effect.method + "+cluster"``; a note records
        the ICC, cluster size and h.
    """
    if not isinstance(effect, Effect) or effect.measure != "SMD":
        got = getattr(effect, "measure", type(effect).__name__)
        raise ValueError(f"effect must be an SMD Effect (got {got!r})")
    base = effect.method
    if base not in _LS_METHODS and base not in _WWC_METHODS:
        raise ValueError(
            f"effect: cannot adjust an SMD made by {base!r} for clustering (its "
            "variance cannot be split into a sampling and a standardiser term)"
        )
    nt, nc = _group_size("n_t", n_t), _group_size("n_c", n_c)
    n = _num("cluster_size", cluster_size)
    if not 1 <= n <= min(nt, nc):
        raise ValueError(
            f"cluster_size must be in [1, min(n_t, n_c)] (got {cluster_size!r})"
        )
    rho = _icc(icc)
    big_n = nt + nc
    m = big_n - 2.0
    h = wwc_cluster_df(big_n, n, rho)
    if h <= 1:
        raise ValueError(
            f"cluster_size and icc leave too few degrees of freedom (h = {h:.3g})"
        )
    d = effect.yi / hedges_correction(m, exact=APPROX_NOTE not in effect.notes)
    gamma = math.sqrt(1.0 - 2.0 * (n - 1.0) * rho / m)
    g_t = hedges_correction(h, exact) * gamma * d
    if base in _LS_METHODS:
        first = 1.0 / nt + 1.0 / nc
    else:
        first = effect.vi - effect.yi**2 / (2.0 * m)
    deff = 1.0 + (n - 1.0) * rho
    vi = first * deff + g_t * g_t / (2.0 * h)
    note = (
        f"cluster design: ICC = {_fmt(rho)}, cluster size = {_fmt(n)}, "
        f"h = {h:.2f} (WWC Eq. E.21); g x gamma = {gamma:.4f} and omega(h); "
        f"variance x design effect {deff:.4f}"
    )
    notes = (*effect.notes, note)
    return Effect(g_t, vi, "SMD", f"{base}+cluster", notes)


# ---------------------------------------------------------------------------
# scale conversions and direction


def _or_smd_method(method: str) -> float:
    if method not in _OR_SMD_FACTOR:
        raise ValueError(f"method must be 'logistic' or 'cox' (got {method!r})")
    return _OR_SMD_FACTOR[method]


def or_to_smd(effect: Effect, method: str = "logistic") -> Effect:
    """Convert a log odds ratio to the SMD scale.

    ``"logistic"`` (Hasselblad & Hedges 1995; Chinn 2000): ``yi * sqrt(3)/pi``,
    ``vi * 3/pi^2``, metafor ``measure="OR2DL"`` (``R/escalc.r``); Cochrane
    Handbook v6.4 section 10.6. ``"cox"`` (Cox & Snell 1989): ``yi / 1.65``,
    ``vi / 1.65^2``, metafor ``"OR2DN"`` and WWC's Cox index (WWC also multiplies
    the Cox index by omega; that is not done here).

    Parameters
    ----------
    effect : Effect
        An ``"OR"`` effect (log scale).
    method : str
        ``"logistic"`` or ``"cox"``.

    Returns
    -------
    Effect
        Measure ``"SMD"``, method ``effect.method + "+or_to_smd_<method>"``.
    """
    factor = _or_smd_method(method)
    if not isinstance(effect, Effect) or effect.measure != "OR":
        got = getattr(effect, "measure", type(effect).__name__)
        raise ValueError(f"effect must be an OR Effect (got {got!r})")
    note = f"log OR converted to the SMD scale ({method}: x {factor:.4f})"
    return Effect(
        effect.yi * factor,
        effect.vi * factor**2,
        "SMD",
        f"{effect.method}+or_to_smd_{method}",
        (*effect.notes, note),
    )


def smd_to_or(effect: Effect, method: str = "logistic") -> Effect:
    """Convert an SMD to the log odds ratio scale (inverse of :func:`or_to_smd`).

    ``"logistic"``: ``yi * pi/sqrt(3)``, ``vi * pi^2/3``; ``"cox"``: ``yi * 1.65``,
    ``vi * 1.65^2``. metafor's ``"D2ORL"``/``"D2ORN"`` apply the same factors but
    to the *uncorrected* d and its LS variance from the group data; here the
    supplied effect and its variance are rescaled.

    Parameters
    ----------
    effect : Effect
        An ``"SMD"`` effect.
    method : str
        ``"logistic"`` or ``"cox"``.

    Returns
    -------
    Effect
        Measure ``"OR"`` (log scale), method ``effect.method + "+smd_to_or_<method>"``.
    """
    factor = _or_smd_method(method)
    if not isinstance(effect, Effect) or effect.measure != "SMD":
        got = getattr(effect, "measure", type(effect).__name__)
        raise ValueError(f"effect must be an SMD Effect (got {got!r})")
    note = f"SMD converted to the log OR scale ({method}: / {factor:.4f})"
    return Effect(
        effect.yi / factor,
        effect.vi / factor**2,
        "OR",
        f"{effect.method}+smd_to_or_{method}",
        (*effect.notes, note),
    )


def flip(effect: Effect) -> Effect:
    """Flip the sign of an effect (direction harmonisation), keeping its variance.

    Use when a higher score means a worse outcome, so that positive always
    favours the intervention. For OR and RR this inverts the ratio. Flipping
    twice returns the original effect (the note is removed again).

    Parameters
    ----------
    effect : Effect
        Any effect.

    Returns
    -------
    Effect
        ``yi -> -yi``, same ``vi``, measure and method.
    """
    if effect.notes and effect.notes[-1] == FLIP_NOTE:
        notes = effect.notes[:-1]
    else:
        notes = (*effect.notes, FLIP_NOTE)
    return Effect(-effect.yi, effect.vi, effect.measure, effect.method, notes)
