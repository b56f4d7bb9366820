"""Small-study effects: Egger's and Begg's tests, trim and fill, fail-safe N.

Each function reproduces what R's metafor 3.8.1 reports for the same call (the
reference tests compare every number with metafor to 1e-6 relative):

* :func:`egger_test`: ``regtest(rma(yi, vi), model = "rma")`` and
  ``regtest(yi, vi, model = "lm")`` (R/regtest.r);
* :func:`rank_test`: ``ranktest(rma(yi, vi))`` (R/ranktest.r);
* :func:`trim_and_fill`: ``trimfill(rma(yi, vi))`` (R/trimfill.rma.uni.r);
* :func:`failsafe_n`: ``fsn(yi, vi)$fsnum``, Rosenthal's method (R/fsn.r).

Neither PyMARE 0.0.13 nor statsmodels 0.15 has any of these (see the gap table
of ``shared/reference/meta_analysis.md``, section 1.6). The random-effects fits
they need come from :func:`evsynth.meta.rma.rma`; the rest is written out here.

The tau^2 of REML/ML fits is the exact root of the likelihood equation in
:mod:`evsynth.meta.rma`, while metafor stops its Fisher scoring once a step is
below 1e-5; results that depend on tau^2 therefore agree with metafor to about
1e-7 relative rather than to machine precision (the tests state the margin).

References
----------
Begg CB, Mazumdar M (1994). Operating characteristics of a rank correlation
test for publication bias. Biometrics 50:1088-1101.
Duval S, Tweedie R (2000). A nonparametric "trim and fill" method of accounting
for publication bias in meta-analysis. J Am Stat Assoc 95:89-98; and
Trim and fill: a simple funnel-plot-based method of testing and adjusting for
publication bias in meta-analysis. Biometrics 56:455-463.
Egger M, Davey Smith G, Schneider M, Minder C (1997). Bias in meta-analysis
detected by a simple, graphical test. BMJ 315:629-634.
Rosenthal R (1979). The file drawer problem and tolerance for null results.
Psychol Bull 86:638-641.
Sterne JAC, Egger M (2005). Regression methods to detect publication and other
bias in meta-analysis. In: Rothstein, Sutton, Borenstein (eds), Publication
Bias in Meta-Analysis, ch. 6 (the ``model = "rma"`` variant).
Viechtbauer W (2010). Conducting meta-analyses in R with the metafor package.
J Stat Softw 36(3). metafor 3.8.1 R sources named above.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from evsynth.meta import rma as _rma

__all__ = [
    "TrimFill",
    "egger_test",
    "failsafe_n",
    "rank_test",
    "trim_and_fill",
]

FloatArray = NDArray[np.float64]

#: Largest k for which Begg's test uses the exact null distribution of Kendall's
#: tau (R's ``cor.test`` divides by ``gamma(k + 1)``, which overflows beyond 170;
#: metafor 3.8.1 then reports NaN, later metafor versions the normal
#: approximation, which is what is used here).
EXACT_KENDALL_MAX_K = 170


# --------------------------------------------------------------------------- #
# input checks
# --------------------------------------------------------------------------- #


def check_yi_vi(
    yi: ArrayLike, vi: ArrayLike, *, min_k: int, what: str
) -> tuple[FloatArray, FloatArray]:
    """Return ``yi``, ``vi`` as float vectors after checking them.

    Raises ``ValueError`` for unequal lengths, non-finite values, non-positive
    variances and fewer than ``min_k`` studies (naming ``what`` needs them).
    """
    y = np.atleast_1d(np.asarray(yi, dtype=float))
    v = np.atleast_1d(np.asarray(vi, dtype=float))
    if y.ndim != 1 or v.ndim != 1:
        raise ValueError("yi and vi must be one-dimensional")
    if y.size != v.size:
        raise ValueError(
            f"yi has {y.size} values but vi has {v.size}; lengths must match"
        )
    bad = np.flatnonzero(~(np.isfinite(y) & np.isfinite(v)))
    if bad.size:
        raise ValueError(
            f"yi or vi is missing or not finite at positions {bad[:10].tolist()}; "
            "drop those studies first"
        )
    if np.any(v <= 0):
        raise ValueError(
            "sampling variances must be positive; vi <= 0 at positions "
            f"{np.flatnonzero(v <= 0)[:10].tolist()}"
        )
    if y.size < min_k:
        raise ValueError(
            f"{what} needs at least {min_k} studies (k >= {min_k}); got k = {y.size}"
        )
    return y, v


# --------------------------------------------------------------------------- #
# Egger's regression test
# --------------------------------------------------------------------------- #


def egger_test(
    yi: ArrayLike,
    vi: ArrayLike,
    *,
    model: Literal["rma", "lm"] = "rma",
    method: str = "REML",
    test: str = "z",
    predictor: Literal["sei", "vi"] = "sei",
    level: float = 95.0,
) -> dict[str, float | int | None]:
    """Egger's regression test for funnel-plot asymmetry, as metafor's ``regtest``.

    The effect sizes are regressed on their standard errors (``predictor =
    "sei"``, the default) or sampling variances (``"vi"``), and the slope is
    tested against 0:

    * ``model = "rma"`` (metafor's default, Sterne & Egger 2005): the
      meta-regression ``y_i = b0 + b1 sei_i + u_i + e_i``, ``u_i ~ N(0, tau^2)``,
      fitted with ``method`` (tau^2 estimated again in this model) and ``test``;
      ``z = b1/SE(b1)`` (a t statistic on ``k - 2`` df under ``test = "knha"``).
      metafor: ``regtest(rma(yi, vi, method = method, test = test))``.
    * ``model = "lm"`` (the classical test of Egger et al. 1997): weighted least
      squares ``lm(yi ~ sei, weights = 1/vi)`` with the residual variance
      estimated, ``t = b1/SE(b1)`` on ``k - 2`` df. This is the same test as the
      regression of ``yi/sei`` on ``1/sei``, with the roles of slope and
      intercept swapped. metafor: ``regtest(yi, vi, model = "lm")``.

    Parameters
    ----------
    yi, vi : array_like, shape (k,)
        Effect sizes and sampling variances (> 0).
    model : {"rma", "lm"}, optional
        Which regression (see above).
    method : str, optional
        tau^2 estimator of the ``"rma"`` model (any of
        :data:`evsynth.meta.rma.METHODS`); ignored for ``"lm"``.
    test : {"z", "knha"}, optional
        Inference of the ``"rma"`` model; ignored for ``"lm"``.
    predictor : {"sei", "vi"}, optional
        Standard errors or sampling variances as the regressor.
    level : float, optional
        Level (percent) of the CI of the limit estimate.

    Returns
    -------
    dict
        ``model = "rma"``: ``z``, ``p``, ``df`` (None under ``test = "z"``, else
        ``k - 2``); ``model = "lm"``: ``t``, ``p``, ``df`` (``k - 2``). Both also
        give metafor's limit estimate ``limit_estimate``, ``limit_ci_lb``,
        ``limit_ci_ub``: the intercept ``b0``, i.e. the expected effect of a
        study with ``sei = 0`` (``vi = 0``), with its CI (t quantile for
        ``"lm"``).

    Raises
    ------
    ValueError
        Fewer than 3 studies (the regression has 2 coefficients plus a variance
        to estimate), all variances equal (the regressor is then constant and
        the model not of full rank), or invalid input.
    """
    if model not in ("rma", "lm"):
        raise ValueError(f"model must be 'rma' or 'lm'; got {model!r}")
    if predictor not in ("sei", "vi"):
        raise ValueError(f"predictor must be 'sei' or 'vi'; got {predictor!r}")
    y, v = check_yi_vi(yi, vi, min_k=3, what="Egger's regression test")
    k = y.size
    x = np.sqrt(v) if predictor == "sei" else v
    X = np.column_stack([np.ones(k), x])
    if np.ptp(x) == 0 or np.linalg.matrix_rank(X) < 2:
        raise ValueError(
            "Egger's test cannot be run: all studies have the same sampling "
            "variance, so the predictor is constant (metafor: model matrix not of "
            "full rank)"
        )
    level_pct, alpha = _rma.level_alpha(level)

    if model == "rma":
        fit = _rma.rma(y, v, mods=x, method=method, test=test, level=level_pct)
        return {
            "z": float(fit.zval[1]),
            "p": float(fit.pval[1]),
            "df": None if fit.dfs is None else int(fit.dfs),
            "limit_estimate": float(fit.beta[0]),
            "limit_ci_lb": float(fit.ci_lb[0]),
            "limit_ci_ub": float(fit.ci_ub[0]),
        }

    # classical Egger: weighted least squares with estimated residual variance
    w = 1.0 / v
    sw = np.sqrt(w)
    beta, *_ = np.linalg.lstsq(X * sw[:, None], y * sw, rcond=None)
    resid = y - X @ beta
    df = k - 2
    sigma2 = float(np.sum(w * resid**2) / df)
    cov = sigma2 * np.linalg.inv(X.T @ (X * w[:, None]))
    se = np.sqrt(np.diag(cov))
    with np.errstate(divide="ignore", invalid="ignore"):
        # a perfect fit (zero residuals) gives inf or NaN, as R's lm
        t = float(np.float64(beta[1]) / se[1])
    crit = float(stats.t.isf(alpha / 2.0, df))
    return {
        "t": t,
        "p": float(2.0 * stats.t.sf(abs(t), df)),
        "df": df,
        "limit_estimate": float(beta[0]),
        "limit_ci_lb": float(beta[0] - crit * se[0]),
        "limit_ci_ub": float(beta[0] + crit * se[0]),
    }


# --------------------------------------------------------------------------- #
# Begg and Mazumdar's rank correlation test
# --------------------------------------------------------------------------- #


@lru_cache(maxsize=64)
def _mahonian(n: int) -> tuple[int, ...]:
    """Count the permutations of ``n`` items with ``j`` inversions, ``j = 0..n(n-1)/2``.

    This is the null distribution of the number of concordant (or discordant)
    pairs of Kendall's tau without ties, times ``n!`` (R's ``ckendall``); exact
    integers, built by multiplying the generating polynomials
    ``1 + x + ... + x^(i-1)``, ``i = 1..n``.
    """
    counts = [1]
    for i in range(2, n + 1):
        size = len(counts) + i - 1
        prefix = [0] * (len(counts) + 1)
        for j, c in enumerate(counts):
            prefix[j + 1] = prefix[j] + c
        new = [0] * size
        last = len(counts)
        for j in range(size):
            hi = min(j, last - 1) + 1
            lo = max(0, j - i + 1)
            new[j] = prefix[hi] - prefix[lo]
        counts = new
    return tuple(counts)


def _kendall_exact_p(concordant: int, n: int) -> float:
    """Two-sided exact p of Kendall's tau without ties, as R's ``cor.test``.

    ``q`` concordant pairs; R: ``if q > n(n-1)/4: p = 1 - P(T <= q - 1) else
    p = P(T <= q)``; ``min(2p, 1)``. Computed with exact integers.
    """
    counts = _mahonian(n)
    total = math.factorial(n)
    q = concordant
    # upper tail P(T >= q) or lower tail P(T <= q), whichever q lies in
    tail = sum(counts[q:]) if q > n * (n - 1) / 4 else sum(counts[: q + 1])
    return min(1.0, 2.0 * tail / total)


def _tie_sizes(x: FloatArray) -> NDArray[np.int64]:
    """Sizes of the groups of tied values (groups of size >= 2)."""
    _, sizes = np.unique(x, return_counts=True)
    return sizes[sizes > 1]


def _kendall(x: FloatArray, y: FloatArray) -> tuple[float, float, bool]:
    """Kendall's tau-b and two-sided p as R's ``cor.test(method = "kendall")``.

    R's call is ``cor.test(x, y, method = "kendall", exact = TRUE)``.

    Without ties (and ``n <= EXACT_KENDALL_MAX_K``) the p value is exact;
    with ties R warns and uses the normal approximation with the tie-corrected
    variance of ``S = C - D`` (no continuity correction)::

        var(S) = (v0 - vt - vu)/18 + v1/(2n(n-1)) + v2/(9n(n-1)(n-2))

    Returns ``(tau, p, exact)``; tau and p are NaN when x or y is constant.
    """
    n = x.size
    sx = np.sign(x[:, None] - x[None, :])
    sy = np.sign(y[:, None] - y[None, :])
    iu = np.triu_indices(n, 1)
    prod = (sx * sy)[iu]
    concordant = int(np.sum(prod > 0))
    discordant = int(np.sum(prod < 0))
    S = concordant - discordant
    tx, ty = _tie_sizes(x), _tie_sizes(y)
    T0 = n * (n - 1) / 2.0
    T1 = float(np.sum(tx * (tx - 1)) / 2.0)
    T2 = float(np.sum(ty * (ty - 1)) / 2.0)
    denom = math.sqrt((T0 - T1) * (T0 - T2))
    if denom == 0.0:
        return math.nan, math.nan, False
    tau = S / denom
    ties = tx.size > 0 or ty.size > 0
    if not ties and n <= EXACT_KENDALL_MAX_K:
        return tau, _kendall_exact_p(concordant, n), True
    v0 = n * (n - 1) * (2 * n + 5)
    vt = float(np.sum(tx * (tx - 1) * (2 * tx + 5)))
    vu = float(np.sum(ty * (ty - 1) * (2 * ty + 5)))
    v1 = float(np.sum(tx * (tx - 1))) * float(np.sum(ty * (ty - 1)))
    v2 = float(np.sum(tx * (tx - 1) * (tx - 2))) * float(
        np.sum(ty * (ty - 1) * (ty - 2))
    )
    var_s = (v0 - vt - vu) / 18.0 + v1 / (2.0 * n * (n - 1))
    if n > 2:
        var_s += v2 / (9.0 * n * (n - 1) * (n - 2))
    z = S / math.sqrt(var_s)
    p = 2.0 * min(stats.norm.cdf(z), stats.norm.sf(z))
    return tau, float(p), False


def rank_test(
    yi: ArrayLike, vi: ArrayLike, *, method: str = "REML"
) -> dict[str, float | bool]:
    r"""Begg and Mazumdar's rank correlation test, as metafor's ``ranktest``.

    The standardised deviates from the equal-effects estimate

    .. math::
        y_i^* = (y_i - \hat\theta_{EE}) / \sqrt{v_i - v_{\hat\theta}},
        \qquad \hat\theta_{EE} = \sum w_i y_i / \sum w_i,
        \quad v_{\hat\theta} = 1/\sum w_i, \quad w_i = 1/v_i,

    are correlated with the sampling variances ``v_i`` by Kendall's tau (tau-b,
    which is tau-a when nothing is tied). The p value is that of R's
    ``cor.test(ystar, vi, method = "kendall", exact = TRUE)``, which metafor
    3.8.1 calls: the exact permutation distribution when there are no ties
    (for k <= 170, see :data:`EXACT_KENDALL_MAX_K`), otherwise the normal
    approximation with the tie-corrected variance and no continuity correction.

    Parameters
    ----------
    yi, vi : array_like, shape (k,)
        Effect sizes and sampling variances (> 0).
    method : str, optional
        Accepted for symmetry with the other functions (metafor's ``ranktest``
        takes a fitted model); the test does not depend on it, as it always
        standardises against the equal-effects estimate (Begg & Mazumdar 1994).

    Returns
    -------
    dict
        ``tau`` (Kendall's tau), ``p`` (two-sided) and ``exact`` (whether the
        exact distribution was used). ``tau`` and ``p`` are NaN when all
        variances (or all deviates) are equal, as in metafor.

    Raises
    ------
    ValueError
        Fewer than 3 studies, an unknown method, or invalid input.
    """
    _rma._normalise_method(method)
    y, v = check_yi_vi(yi, vi, min_k=3, what="Begg's rank correlation test")
    w = 1.0 / v
    theta = float(np.sum(w * y) / np.sum(w))
    vb = 1.0 / float(np.sum(w))
    ystar = (y - theta) / np.sqrt(v - vb)
    tau, p, exact = _kendall(ystar, v)
    return {"tau": tau, "p": p, "exact": exact}


# --------------------------------------------------------------------------- #
# trim and fill
# --------------------------------------------------------------------------- #


@dataclass(frozen=True, eq=False)
class TrimFill:
    """Result of :func:`trim_and_fill` (metafor's ``trimfill`` object).

    Attributes
    ----------
    k0 : int
        Estimated number of missing studies (filled on ``side``).
    side : str
        ``"left"`` or ``"right"``: the side of the funnel plot on which studies
        are missing (where the filled studies go).
    estimator : str
        ``"L0"``, ``"R0"`` or ``"Q0"``.
    se_k0 : float
        metafor's standard error of ``k0``.
    p_k0 : float or None
        For R0, the p value of the test ``k0 = 0`` (metafor's ``p.k0``); None
        otherwise.
    k : int
        Number of observed studies.
    method, test : str
        tau^2 estimator and inference of the reported fit.
    estimate, se, zval, pval, ci_lb, ci_ub : float
        Pooled effect of the observed and filled studies, with its test (z, or
        t under knha) and CI (the fit of the observed studies when ``k0 = 0``).
    tau2, I2, H2, Q, Q_df, Q_p : float
        Heterogeneity of that fit.
    yi, vi : numpy.ndarray
        Effect sizes and variances of that fit: the observed studies in input
        order, then the ``k0`` filled ones (for the funnel plot).
    filled : numpy.ndarray of bool
        Which entries of ``yi``/``vi`` are filled studies.
    """

    k0: int
    side: str
    estimator: str
    se_k0: float
    p_k0: float | None
    k: int
    method: str
    test: str
    estimate: float
    se: float
    zval: float
    pval: float
    ci_lb: float
    ci_ub: float
    tau2: float
    I2: float
    H2: float
    Q: float
    Q_df: int
    Q_p: float
    yi: FloatArray
    vi: FloatArray
    filled: NDArray[np.bool_]


def _rank_first(x: FloatArray) -> FloatArray:
    """R's ``rank(x, ties.method = "first")``: 1-based ranks, ties by position."""
    order = np.argsort(x, kind="stable")
    ranks = np.empty(x.size)
    ranks[order] = np.arange(1, x.size + 1)
    return ranks


def trim_and_fill(
    yi: ArrayLike,
    vi: ArrayLike,
    *,
    method: str = "REML",
    estimator: Literal["L0", "R0", "Q0"] = "L0",
    side: Literal["left", "right"] | None = None,
    test: str = "z",
    maxiter: int = 100,
) -> TrimFill:
    """Duval and Tweedie's trim-and-fill method, as metafor's ``trimfill``.

    Algorithm (metafor 3.8.1 ``trimfill.rma.uni``; Duval & Tweedie 2000):

    1. Side: unless given, the side where studies are missing is ``"right"`` if
       the slope of ``rma(yi, vi, mods = sqrt(vi), method)`` is negative, else
       ``"left"``. For ``"right"`` the effects are negated, so that the missing
       studies are always on the left below.
    2. Sort the studies by effect (stable). Starting from ``k0 = 0``, repeat:
       fit the model (``method``) to the ``k - k0`` smallest effects, centre all
       effects at its estimate ``b``, rank the absolute centred values (ties by
       position) and sum the ranks of the positive ones, ``S_r`` (centred
       values within ``100 eps`` of 0, relative to the effects, count as 0: an
       addition to metafor, which otherwise can oscillate between two ``k0``
       when all effects are equal). Then

       * L0: ``k0 = (4 S_r - k(k + 1)) / (2k - 1)``,
       * R0: ``k0 = k - r* - 1``, ``r*`` the largest rank of a negative
         centred value (0 if there is none),
       * Q0: ``k0 = k - 1/2 - sqrt(2k^2 - 4 S_r + 1/4)``,

       rounded (half to even, as R) and truncated at 0, until ``k0`` no longer
       changes.
    3. Fill: the ``k0`` largest effects are mirrored about the last ``b``
       (``2b - y_i``, with their ``v_i``), and the model is fitted to the
       observed plus filled studies (with ``test``).

    The standard error of ``k0`` is metafor's: L0
    ``4 sqrt(var(S_r))/(2k - 1)``, Q0 ``2 sqrt(var(S_r))/sqrt((k - 1/2)^2 -
    k0(2k - k0 - 1))`` with ``var(S_r) = (k(k+1)(2k+1) + 10k0^3 + 27k0^2 +
    17k0 - 18k k0^2 - 18k k0 + 6k^2 k0)/24``, R0 ``sqrt(2 max(0, k0) + 2)``;
    for R0, ``p_k0 = 1 - sum_{m=-1}^{k0-1} C(m + 1, m + 1) 0.5^(m + 2)``.

    Parameters
    ----------
    yi, vi : array_like, shape (k,)
        Effect sizes and sampling variances (> 0).
    method : str, optional
        tau^2 estimator of every fit (default REML, as ``trimfill(rma(yi, vi))``).
    estimator : {"L0", "R0", "Q0"}, optional
        Estimator of the number of missing studies.
    side : {"left", "right"}, optional
        Side of the funnel plot with missing studies; estimated when None.
    test : {"z", "knha"}, optional
        Inference of the reported fit. metafor's ``trimfill(fit)`` refits the
        filled data with its default ``test = "z"`` whatever the test of
        ``fit`` (but returns ``fit`` itself when ``k0 = 0``); this function
        equals ``trimfill(rma(yi, vi, method, test = test), test = test)``, so
        with the default it equals ``trimfill(rma(yi, vi, method))``.
    maxiter : int, optional
        Maximum number of iterations.

    Returns
    -------
    TrimFill

    Raises
    ------
    ValueError
        Fewer than 3 studies (the side is chosen by a regression on the standard
        errors), all variances equal while ``side`` is None, no convergence, or
        invalid input.
    """
    if estimator not in ("L0", "R0", "Q0"):
        raise ValueError(f"estimator must be 'L0', 'R0' or 'Q0'; got {estimator!r}")
    if side not in (None, "left", "right"):
        raise ValueError(f"side must be 'left', 'right' or None; got {side!r}")
    method = _rma._normalise_method(method)
    test = _rma._normalise_test(test)
    y_obs, v_obs = check_yi_vi(yi, vi, min_k=3, what="Trim and fill")
    k = y_obs.size

    if side is None:
        sei = np.sqrt(v_obs)
        if np.ptp(sei) == 0:
            raise ValueError(
                "cannot choose the side for trim and fill: all studies have the "
                "same sampling variance; give side='left' or side='right'"
            )
        slope = _rma.rma(y_obs, v_obs, mods=sei, method=method).beta[1]
        side = "right" if slope < 0 else "left"

    y = -1.0 * y_obs if side == "right" else y_obs.copy()
    ix = np.argsort(y, kind="stable")
    y = y[ix]
    v = v_obs[ix]

    k0_prev = -1
    k0 = 0
    iteration = 0
    se_k0 = math.nan
    beta = math.nan
    yi_c = y
    while k0 != k0_prev:
        k0_prev = k0
        iteration += 1
        if iteration > maxiter:
            raise ValueError(f"trim and fill did not converge in {maxiter} iterations")
        fit = _rma.rma(y[: k - k0], v[: k - k0], method=method)
        beta = float(fit.beta[0])
        yi_c = y - beta
        ranks = _rank_first(np.abs(yi_c))
        # a deviation at rounding-error level (e.g. all effects equal) has no
        # sign; otherwise it can make the iteration oscillate
        noise = 100.0 * np.finfo(float).eps * max(float(np.max(np.abs(y))), abs(beta))
        signed = np.where(np.abs(yi_c) <= noise, 0.0, np.sign(yi_c)) * ranks
        if estimator == "R0":
            neg = signed[signed < 0]
            largest_neg = float(np.max(-neg)) if neg.size else 0.0
            k0_raw = (k - largest_neg) - 1
            se_raw = math.sqrt(2.0 * max(0.0, k0_raw) + 2.0)
        else:
            Sr = float(np.sum(signed[signed > 0]))
            if estimator == "L0":
                k0_raw = (4.0 * Sr - k * (k + 1)) / (2.0 * k - 1.0)
            else:
                radicand = 2.0 * k**2 - 4.0 * Sr + 0.25
                if radicand < 0:
                    # metafor: NaN, then "missing value where TRUE/FALSE needed"
                    raise ValueError(
                        "the Q0 estimator is undefined for these data "
                        "(2k^2 - 4 S_r + 1/4 < 0); use estimator='L0' or 'R0'"
                    )
                k0_raw = k - 0.5 - math.sqrt(radicand)
            var_sr = (
                k * (k + 1) * (2 * k + 1)
                + 10 * k0_raw**3
                + 27 * k0_raw**2
                + 17 * k0_raw
                - 18 * k * k0_raw**2
                - 18 * k * k0_raw
                + 6 * k**2 * k0_raw
            ) / 24.0
            with np.errstate(invalid="ignore", divide="ignore"):
                # NaN where metafor's sqrt() gives NaN
                if estimator == "L0":
                    se_raw = float(4.0 * np.sqrt(var_sr) / (2.0 * k - 1.0))
                else:
                    se_raw = float(
                        2.0
                        * np.sqrt(var_sr)
                        / np.sqrt((k - 0.5) ** 2 - k0_raw * (2.0 * k - k0_raw - 1.0))
                    )
        k0 = max(0, round(k0_raw))
        se_k0 = 0.0 if se_raw < 0 else se_raw

    if k0 > 0:
        # mirror image of the k0 largest (after the flip) about the last estimate
        yi_c = -1.0 * (yi_c - beta) if side == "right" else yi_c - beta
        y_fill = np.concatenate([y_obs, -1.0 * yi_c[k - k0 :]])
        v_fill = np.concatenate([v_obs, v[k - k0 :]])
        final = _rma.rma(y_fill, v_fill, method=method, test=test)
    else:
        y_fill, v_fill = y_obs.copy(), v_obs.copy()
        final = _rma.rma(y_obs, v_obs, method=method, test=test)
    filled = np.concatenate([np.zeros(k, dtype=bool), np.ones(k0, dtype=bool)])

    p_k0: float | None = None
    if estimator == "R0":
        m = np.arange(-1, k0)
        p_k0 = float(1.0 - np.sum(0.5 ** (m + 2.0)))

    return TrimFill(
        k0=int(k0),
        side=side,
        estimator=estimator,
        se_k0=float(se_k0),
        p_k0=p_k0,
        k=k,
        method=method,
        test=test,
        estimate=float(final.beta[0]),
        se=float(final.se[0]),
        zval=float(final.zval[0]),
        pval=float(final.pval[0]),
        ci_lb=float(final.ci_lb[0]),
        ci_ub=float(final.ci_ub[0]),
        tau2=float(final.tau2),
        I2=float(final.I2),
        H2=float(final.H2),
        Q=float(final.Q),
        Q_df=int(final.Q_df),
        Q_p=float(final.Q_p),
        yi=y_fill,
        vi=v_fill,
        filled=filled,
    )


# --------------------------------------------------------------------------- #
# fail-safe N
# --------------------------------------------------------------------------- #


def failsafe_n(yi: ArrayLike, vi: ArrayLike, *, alpha: float = 0.05) -> int:
    r"""Rosenthal's fail-safe N, as metafor's ``fsn(yi, vi)$fsnum``.

    The number of additional studies with null results (z = 0) that would bring
    Stouffer's combined test of the ``k`` studies to a one-sided p of ``alpha``
    (Rosenthal 1979):

    .. math::
        z_i = y_i/\sqrt{v_i}, \qquad
        \bar z = \left|\sum z_i\right| / \sqrt{k}, \qquad
        N = \max\left(0,\; k \,(\bar z / z_{1-\alpha})^2 - k\right),

    rounded up to an integer (metafor rounds instead when ``N`` is within
    ``sqrt(machine eps)`` of one).

    Parameters
    ----------
    yi, vi : array_like, shape (k,)
        Effect sizes and sampling variances (> 0).
    alpha : float, optional
        One-sided significance level (metafor's default 0.05).

    Returns
    -------
    int
        The fail-safe N (>= 0).

    Raises
    ------
    ValueError
        No studies, alpha outside (0, 0.5), or invalid input.
    """
    if not 0.0 < alpha < 0.5:
        raise ValueError(f"alpha must be in (0, 0.5); got {alpha}")
    y, v = check_yi_vi(yi, vi, min_k=1, what="The fail-safe N")
    k = y.size
    z_avg = abs(float(np.sum(y / np.sqrt(v))) / math.sqrt(k))
    n = max(0.0, k * (z_avg / float(stats.norm.isf(alpha))) ** 2 - k)
    if abs(n - round(n)) >= math.sqrt(np.finfo(float).eps):
        return math.ceil(n)
    return round(n)
