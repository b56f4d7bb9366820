"""Sensitivity analyses: leave-one-out, cumulative meta-analysis, influence diagnostics.

Each function reproduces what R's metafor 3.8.1 reports for the same call (the
reference tests compare every number with metafor to 1e-6 relative):

* :func:`leave_one_out`: ``leave1out(rma(yi, vi, method, test))``
  (R/leave1out.rma.uni.r);
* :func:`cumulative`: ``cumul(rma(yi, vi, method, test), order = x)``
  (R/cumul.rma.uni.r);
* :func:`influence`: ``influence(rma(yi, vi, mods, method, test))``
  (R/influence.rma.uni.r, with R/hatvalues.rma.uni.r and R/weights.rma.uni.r).

PyMARE 0.0.13 and statsmodels 0.15 have none of them (gap table in
``shared/reference/meta_analysis.md``, section 1.6). Every model is fitted with
:func:`evsynth.meta.rma.rma`. As in metafor, a refit with a single study uses
``test = "z"`` (metafor: "Setting argument test="z" since k=1"), and a refit
that cannot be done (too few studies for the model, a singular model matrix)
gives NaN for that row instead of an error.

References
----------
Viechtbauer W, Cheung MWL (2010). Outlier and influence diagnostics for
meta-analysis. Res Synth Methods 1:112-125.
Lau J, Schmid CH, Chalmers TC (1995). Cumulative meta-analysis of clinical
trials builds evidence for exemplary medical care. J Clin Epidemiol 48:45-57.
Belsley DA, Kuh E, Welsch RE (1980). Regression Diagnostics. Wiley (DFFITS,
DFBETAS, COVRATIO); Cook RD (1977). Detection of influential observation in
linear regression. Technometrics 19:15-18.
Viechtbauer W (2010). Conducting meta-analyses in R with the metafor package.
J Stat Softw 36(3). metafor 3.8.1 R sources named above.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from evsynth.meta import rma as _rma
from evsynth.meta.bias import check_yi_vi

__all__ = ["cumulative", "influence", "leave_one_out"]

FloatArray = NDArray[np.float64]

_SUMMARY_KEYS = (
    "estimate",
    "se",
    "zval",
    "pval",
    "ci_lb",
    "ci_ub",
    "Q",
    "Q_p",
    "tau2",
    "I2",
    "H2",
)


def _labels(labels: Sequence[Any] | None, k: int) -> list[str]:
    if labels is None:
        return [str(i + 1) for i in range(k)]
    out = [str(x) for x in labels]
    if len(out) != k:
        raise ValueError(f"labels has {len(out)} entries but there are {k} studies")
    return out


def _refit(
    y: FloatArray,
    v: FloatArray,
    *,
    method: str,
    test: str,
    level: float,
    X: FloatArray | None = None,
) -> _rma.RmaFit | None:
    """Fit a sub-model as metafor's loops do: z test for k = 1, None on failure."""
    if y.size == 1:
        test = "z"
    try:
        if X is None:
            return _rma.rma(y, v, method=method, test=test, level=level)
        return _rma.rma(
            y, v, mods=X, intercept=False, method=method, test=test, level=level
        )
    except (ValueError, np.linalg.LinAlgError):
        return None


def _summary_row(fit: _rma.RmaFit | None) -> dict[str, float]:
    if fit is None:
        return dict.fromkeys(_SUMMARY_KEYS, math.nan)
    return {
        "estimate": float(fit.beta[0]),
        "se": float(fit.se[0]),
        "zval": float(fit.zval[0]),
        "pval": float(fit.pval[0]),
        "ci_lb": float(fit.ci_lb[0]),
        "ci_ub": float(fit.ci_ub[0]),
        "Q": float(fit.Q),
        "Q_p": float(fit.Q_p),
        "tau2": float(fit.tau2),
        "I2": float(fit.I2),
        "H2": float(fit.H2),
    }


def _columns(rows: list[dict[str, float]]) -> dict[str, list[float]]:
    return {key: [row[key] for row in rows] for key in _SUMMARY_KEYS}


# --------------------------------------------------------------------------- #
# leave-one-out
# --------------------------------------------------------------------------- #


def leave_one_out(
    yi: ArrayLike,
    vi: ArrayLike,
    *,
    method: str = "REML",
    test: str = "z",
    labels: Sequence[Any] | None = None,
    level: float = 95.0,
) -> dict[str, Any]:
    """Leave-one-out analysis, as metafor's ``leave1out(rma(yi, vi, method, test))``.

    Row ``i`` is the random-effects model (``method``, ``test``) fitted to all
    studies but study ``i``: its pooled estimate, SE, z (t under knha), p, CI,
    Q_E and its p, tau^2, I^2 and H^2 (metafor's definitions, see
    :func:`evsynth.meta.rma.rma`). A fit of the single remaining study (k = 2)
    uses the z test and tau^2 = 0, as in metafor.

    Parameters
    ----------
    yi, vi : array_like, shape (k,)
        Effect sizes and sampling variances (> 0).
    method : str, optional
        tau^2 estimator (default REML).
    test : {"z", "knha"}, optional
        Inference of each fit.
    labels : sequence, optional
        Study labels (default ``"1"``, ..., ``"k"``).
    level : float, optional
        Confidence level in percent.

    Returns
    -------
    dict
        ``label`` and, per study left out, lists ``estimate``, ``se``, ``zval``,
        ``pval``, ``ci_lb``, ``ci_ub``, ``Q``, ``Q_p``, ``tau2``, ``I2``,
        ``H2`` (tau^2 is 0 throughout for EE; metafor omits it), plus
        ``method`` and ``test``. ``zval`` holds the t statistic under knha
        (metafor's ``tval``).

    Raises
    ------
    ValueError
        Fewer than 2 studies, unequal lengths, or invalid input.
    """
    method = _rma._normalise_method(method)
    test = _rma._normalise_test(test)
    y, v = check_yi_vi(yi, vi, min_k=2, what="Leave-one-out analysis")
    k = y.size
    labs = _labels(labels, k)
    rows = []
    for i in range(k):
        keep = np.arange(k) != i
        rows.append(
            _summary_row(
                _refit(y[keep], v[keep], method=method, test=test, level=level)
            )
        )
    return {"label": labs, **_columns(rows), "method": method, "test": test}


# --------------------------------------------------------------------------- #
# cumulative meta-analysis
# --------------------------------------------------------------------------- #


def _is_missing(x: Any) -> bool:
    if x is None:
        return True
    try:
        return bool(np.isnan(x))
    except TypeError:
        return False


def _cumul_order(order: Sequence[Any], decreasing: bool) -> list[int]:
    """Positions in R's ``order(order, decreasing = decreasing)`` sense.

    Stable: tied values keep their input order (in both directions), and
    missing values (None, NaN) come last, as R's ``na.last = TRUE``.
    """
    idx = list(range(len(order)))
    present = [i for i in idx if not _is_missing(order[i])]
    missing = [i for i in idx if _is_missing(order[i])]
    present = sorted(present, key=lambda i: order[i], reverse=decreasing)
    return present + missing


def cumulative(
    yi: ArrayLike,
    vi: ArrayLike,
    order: Sequence[Any] | ArrayLike,
    *,
    method: str = "REML",
    test: str = "z",
    decreasing: bool = False,
    order_by: str = "order",
    labels: Sequence[Any] | None = None,
    level: float = 95.0,
) -> dict[str, Any]:
    """Cumulative meta-analysis, as metafor's ``cumul(rma(yi, vi), order = order)``.

    The studies are sorted by ``order`` (a variable such as the publication
    year, *not* a permutation: metafor's ``cumul`` applies ``order()`` to it and
    warns when given ``order(x)``), with ties kept in input order and missing
    values last. Step ``j`` is the model (``method``, ``test``) fitted to the
    first ``j`` studies in that order; the first step is the first study alone
    (tau^2 = 0, z test, as metafor).

    Parameters
    ----------
    yi, vi : array_like, shape (k,)
        Effect sizes and sampling variances (> 0).
    order : sequence, shape (k,)
        Sort key per study (numbers, or anything Python can sort).
    method : str, optional
        tau^2 estimator (default REML).
    test : {"z", "knha"}, optional
        Inference of each fit.
    decreasing : bool, optional
        Sort in decreasing order (metafor's ``decreasing = TRUE``).
    order_by : str, optional
        Name of the sort variable, reported back (e.g. ``"year"``).
    labels : sequence, optional
        Study labels (default ``"1"``, ..., ``"k"`` in input order).
    level : float, optional
        Confidence level in percent.

    Returns
    -------
    dict
        ``order_by``; per step, lists ``label``, ``index`` (0-based input
        position of the study added), ``order`` (its sort value),
        ``estimate``, ``se``, ``zval``, ``pval``, ``ci_lb``, ``ci_ub``, ``Q``,
        ``Q_p``, ``tau2``, ``I2``, ``H2``; plus ``method`` and ``test``.

    Raises
    ------
    ValueError
        No studies, ``order`` of the wrong length, or invalid input.
    """
    method = _rma._normalise_method(method)
    test = _rma._normalise_test(test)
    y, v = check_yi_vi(yi, vi, min_k=1, what="Cumulative meta-analysis")
    k = y.size
    keys = order.tolist() if isinstance(order, np.ndarray) else list(order)
    if len(keys) != k:
        raise ValueError(
            f"order has {len(keys)} values but there are {k} studies; "
            "lengths must match"
        )
    labs = _labels(labels, k)
    pos = _cumul_order(keys, decreasing)
    ys, vs = y[pos], v[pos]
    rows = [
        _summary_row(
            _refit(ys[: j + 1], vs[: j + 1], method=method, test=test, level=level)
        )
        for j in range(k)
    ]
    return {
        "order_by": order_by,
        "label": [labs[i] for i in pos],
        "index": pos,
        "order": [keys[i] for i in pos],
        **_columns(rows),
        "method": method,
        "test": test,
    }


# --------------------------------------------------------------------------- #
# influence diagnostics
# --------------------------------------------------------------------------- #


def influence(
    yi: ArrayLike,
    vi: ArrayLike,
    *,
    method: str = "REML",
    test: str = "z",
    mods: ArrayLike | None = None,
    labels: Sequence[Any] | None = None,
) -> dict[str, Any]:
    """Outlier and influence diagnostics, as metafor's ``influence(rma(...))``.

    With the full fit (``b``, ``vb``, ``tau2``, weights ``w_i = 1/(v_i + tau2)``,
    ``X`` including the intercept, p coefficients) and, for each study ``i``, the
    fit without it (``b_(i)``, ``vb_(i)``, ``tau2_(i)``, ``QE_(i)`` and the
    Knapp-Hartung factor ``s2w_(i)``, 1 under the z test), metafor 3.8.1's
    ``influence.rma.uni`` (Viechtbauer & Cheung 2010) gives:

    * ``rstudent``: externally studentised residual
      ``(y_i - x_i'b_(i)) / sqrt(v_i s2w_(i) + x_i'vb_(i)x_i + tau2_(i) s2w_(i))``
      (residuals below ``100 eps`` in absolute value are set to 0);
    * ``hat``: leverage, the diagonal of ``X (X'WX)^-1 X'W`` (set to 1 above
      ``1 - 10 eps``);
    * ``dffits``: ``(x_i'b - x_i'b_(i)) / sqrt(s2w_(i) hat_i (tau2_(i) + v_i))``;
    * ``cooks_d``: ``(b - b_(i))' vb^-1 (b - b_(i))``;
    * ``cov_r``: ``det(vb_(i)) / det(vb)``;
    * ``dfbetas``: ``(b - b_(i)) / sqrt(s2w_(i) diag((X'W_(i)X)^-1))`` with
      ``W_(i)`` the weights of all k studies at ``tau2_(i)``;
    * ``tau2_del``, ``QE_del``: tau^2 and Q_E of the fit without study i;
    * ``weight``: percent weight in the full fit;
    * ``inf``: metafor's flag of influential studies, any of
      ``|dffits| > 3 sqrt(p/(k - p))``, ``pchisq(cooks_d, p) > 0.5``,
      ``hat > 3p/k`` or ``|dfbetas| > 1`` for some coefficient.

    Parameters
    ----------
    yi, vi : array_like, shape (k,)
        Effect sizes and sampling variances (> 0).
    method : str, optional
        tau^2 estimator (default REML).
    test : {"z", "knha"}, optional
        Inference (enters through ``vb`` and ``s2w``).
    mods : array_like, shape (k,) or (k, m), optional
        Moderators of a meta-regression (the intercept is added).
    labels : sequence, optional
        Study labels (default ``"1"``, ..., ``"k"``).

    Returns
    -------
    dict
        Lists over the studies: ``label``, ``rstudent``, ``dffits``,
        ``cooks_d``, ``cov_r``, ``tau2_del``, ``QE_del``, ``hat``, ``weight``,
        ``inf`` (bool); ``dfbetas`` as a dict of lists, one per coefficient
        (``"intrcpt"``, then the moderators); and ``tau2``, ``QE``, ``k``,
        ``p``, ``method``, ``test`` of the full fit. Diagnostics of a study
        whose deletion leaves a model that cannot be fitted are NaN (and it is
        not flagged).

    Raises
    ------
    ValueError
        Fewer than 2 studies, a model that cannot be fitted to all studies, or
        invalid input.
    """
    method = _rma._normalise_method(method)
    test = _rma._normalise_test(test)
    y, v = check_yi_vi(yi, vi, min_k=2, what="Influence diagnostics")
    full = _rma.rma(y, v, mods=mods, method=method, test=test)
    k, p = full.k, full.p
    X = full.X
    labs = _labels(labels, k)
    beta = full.beta
    vb = full.vb
    try:
        svb = np.linalg.inv(vb)
    except np.linalg.LinAlgError:
        # vb = 0 under knha when all effects are equal (metafor: chol() fails)
        svb = np.full_like(vb, math.nan)

    w = 1.0 / (v + full.tau2)
    xtwx_inv = np.linalg.inv(X.T @ (X * w[:, None]))
    hat = np.einsum("ij,jk,ik->i", X, xtwx_inv, X) * w
    hat[hat > 1.0 - 10.0 * np.finfo(float).eps] = 1.0
    pred_full = X @ beta

    nan = np.full(k, math.nan)
    tau2_del, qe_del = nan.copy(), nan.copy()
    delpred, vdelpred, s2w_del = nan.copy(), nan.copy(), nan.copy()
    dffits, cook_d, cov_r = nan.copy(), nan.copy(), nan.copy()
    dfbs = np.full((k, p), math.nan)
    det_full = np.float64(np.linalg.det(vb))
    for i in range(k):
        keep = np.arange(k) != i
        sub = _refit(
            y[keep], v[keep], method=method, test=test, level=full.level, X=X[keep]
        )
        if sub is None or sub.p != p:
            continue
        tau2_del[i] = sub.tau2
        qe_del[i] = sub.Q
        xi = X[i]
        delpred[i] = float(xi @ sub.beta)
        vdelpred[i] = float(xi @ sub.vb @ xi)
        s2w_del[i] = sub.s2w
        w_del = 1.0 / (v + sub.tau2)
        vb_del = np.linalg.inv(X.T @ (X * w_del[:, None]))
        dfb = beta - sub.beta
        # s2w = 0 (knha, identical remaining effects) gives inf/NaN, as in R
        with np.errstate(divide="ignore", invalid="ignore"):
            dffits[i] = (pred_full[i] - delpred[i]) / np.sqrt(
                np.float64(sub.s2w) * hat[i] * (sub.tau2 + v[i])
            )
            dfbs[i] = dfb / np.sqrt(sub.s2w * np.diag(vb_del))
            cov_r[i] = np.float64(np.linalg.det(sub.vb)) / det_full
        cook_d[i] = float(dfb @ svb @ dfb)

    resid = y - delpred
    resid[np.abs(resid) < 100.0 * np.finfo(float).eps] = 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        seresid = np.sqrt(v * s2w_del + vdelpred + tau2_del * s2w_del)
        rstudent = resid / seresid
        cut_dffits = 3.0 * math.sqrt(p / (k - p)) if k > p else math.inf
    with np.errstate(invalid="ignore"):
        is_infl = (
            (np.abs(dffits) > cut_dffits)
            | (stats.chi2.cdf(cook_d, p) > 0.5)
            | (hat > 3.0 * p / k)
            | np.any(np.abs(dfbs) > 1.0, axis=1)
        )

    return {
        "label": labs,
        "rstudent": rstudent.tolist(),
        "dffits": dffits.tolist(),
        "cooks_d": cook_d.tolist(),
        "cov_r": cov_r.tolist(),
        "tau2_del": tau2_del.tolist(),
        "QE_del": qe_del.tolist(),
        "hat": hat.tolist(),
        "weight": full.weights.tolist(),
        "dfbetas": {name: dfbs[:, j].tolist() for j, name in enumerate(full.names)},
        "inf": [bool(x) for x in is_infl],
        "tau2": float(full.tau2),
        "QE": float(full.Q),
        "k": k,
        "p": p,
        "method": method,
        "test": test,
    }
