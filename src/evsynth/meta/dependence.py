"""Dependent effect sizes: the three-level model and cluster-robust inference.

Two ways of handling several effect sizes from one study (or one school
district, one research group):

* :func:`multilevel` fits the three-level random-effects model of metafor's
  ``rma.mv(yi, vi, random = ~ 1 | study/row)``: effects vary around their
  cluster's mean (within-cluster variance ``sigma2_2``) and cluster means
  vary around the overall mean (between-cluster variance ``sigma2_1``).
* :func:`robust` keeps the ordinary random-effects model of ``rma(yi, vi)`` for
  the estimate and replaces its standard error with a cluster-robust
  ("sandwich") one: metafor's ``robust()`` (CR1) or clubSandwich's bias-reduced
  CR2 with Satterthwaite degrees of freedom (``robust(..., clubSandwich =
  TRUE)``).

Both are written so that they reproduce metafor 3.8.1 and clubSandwich; the
reference tests compare every number with what those packages report.

Which parts come from where
---------------------------
PyMARE 0.0.13 has no multilevel model, so its restricted likelihood is
maximised here with numpy and scipy (analytic score and Hessian, see
:func:`multilevel`). Its ``cluster_robust_cov(method="CR0",
small_sample=True)`` is exactly metafor's CR1 and is used for it. Its CR2 is
not clubSandwich's when the sampling variances differ within a cluster (it
takes the adjustment matrix symmetric in the whitened metric, clubSandwich in
the unwhitened one; up to 1e-2 relative on the SE according to PyMARE's own
documentation) and its Satterthwaite degrees of freedom follow from that
adjustment, so CR2 is written out following clubSandwich's ``vcov_CR`` /
``coef_test`` (see :func:`cr2_vcov`).

Sources
-------
Konstantopoulos (2011), Fixed effects and variance components estimation in
three-level meta-analysis, Research Synthesis Methods 2, 61-76.
Hedges, Tipton & Johnson (2010), Robust variance estimation in
meta-regression with dependent effect size estimates, Research Synthesis
Methods 1, 39-65.
Pustejovsky & Tipton (2018), Small-sample methods for cluster-robust variance
estimation and hypothesis testing in fixed effects models, Journal of Business
& Economic Statistics 36, 672-683.
Viechtbauer, metafor 3.8.1: ``rma.mv``, ``robust.rma.uni``.
Pustejovsky, clubSandwich: ``vcov_CR``, ``CR2``, ``coef_test``,
``get_P_array``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import stats

__all__ = ["cr1_vcov", "cr2_vcov", "multilevel", "robust"]

FloatArray = NDArray[np.float64]

#: clubSandwich's ``Sym_power`` treats eigenvalues at or below 10^-12 as zero.
_SYM_POWER_TOL = 1e-12


# ---------------------------------------------------------------------------
# input handling
# ---------------------------------------------------------------------------


def _is_missing(value: Any) -> bool:
    """None, NaN, NaT or pandas' NA."""
    if value is None:
        return True
    result = pd.isna(value)
    return bool(result) if isinstance(result, bool | np.bool_) else False


def _as_float(name: str, values: ArrayLike) -> FloatArray:
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (no missing values)")
    return arr


def _check_inputs(
    yi: ArrayLike, vi: ArrayLike, labels: ArrayLike | Sequence[Any], what: str
) -> tuple[FloatArray, FloatArray, NDArray[np.intp], list[Any]]:
    """Validate yi, vi and cluster labels; encode the labels as integer codes.

    Codes follow the order of first appearance; every quantity computed from
    them is a sum over clusters, so the order does not matter.
    """
    y = _as_float("yi", yi)
    v = _as_float("vi", vi)
    lab = list(np.asarray(labels, dtype=object).ravel())
    if not (len(y) == len(v) == len(lab)):
        raise ValueError(
            f"yi, vi and {what} must have the same length, got "
            f"{len(y)}, {len(v)} and {len(lab)}"
        )
    if np.any(v <= 0):
        raise ValueError("vi must be positive")
    if any(_is_missing(x) for x in lab):
        raise ValueError(f"{what} has missing values")
    index: dict[Any, int] = {}
    codes = np.array([index.setdefault(x, len(index)) for x in lab], dtype=np.intp)
    return y, v, codes, list(index)


def _crit(test: str, level: float, df: float | None) -> float:
    alpha = 1.0 - level / 100.0
    if test == "z" or df is None:
        return float(stats.norm.isf(alpha / 2))
    return float(stats.t.isf(alpha / 2, df))


def _two_sided_p(stat: float, df: float | None) -> float:
    if df is None:
        return float(2 * stats.norm.sf(abs(stat)))
    return float(2 * stats.t.sf(abs(stat), df))


# ---------------------------------------------------------------------------
# three-level model
# ---------------------------------------------------------------------------


class _VarianceComponents:
    """Log-likelihood, score and Hessian of y ~ N(X b, diag(v) + sum s_i G_i).

    REML (restricted) log-likelihood as metafor's ``rma.mv`` reports it::

        ll_R = -(k-p)/2 log(2 pi) + 1/2 log|X'X| - 1/2 log|V|
               - 1/2 log|X'V^-1 X| - 1/2 y'P y
        P    = V^-1 - V^-1 X (X'V^-1 X)^-1 X'V^-1

    and the ML one ``-k/2 log(2 pi) - 1/2 log|V| - 1/2 y'P y``. With
    ``A = P`` (REML) or ``V^-1`` (ML) the score and Hessian are
    (Harville 1977; Searle, Casella & McCulloch 1992, ch. 6)::

        d ll / d s_i        = -1/2 tr(A G_i) + 1/2 y'P G_i P y
        d2 ll / d s_i d s_j = 1/2 tr(A G_i A G_j) - y'P G_i P G_j P y
    """

    def __init__(
        self,
        y: FloatArray,
        v: FloatArray,
        X: FloatArray,
        G: list[FloatArray],
        reml: bool,
    ) -> None:
        self.y, self.v, self.X, self.G, self.reml = y, v, X, G, reml
        self.k, self.p = X.shape

    def _parts(self, s: FloatArray) -> dict[str, Any]:
        V = np.diag(self.v) + sum(si * Gi for si, Gi in zip(s, self.G, strict=True))
        L = np.linalg.cholesky(V)
        Vinv = np.linalg.inv(V)
        Vinv = (Vinv + Vinv.T) / 2
        XtVi = self.X.T @ Vinv
        XtViX = XtVi @ self.X
        cov_b = np.linalg.inv(XtViX)
        P = Vinv - XtVi.T @ cov_b @ XtVi
        P = (P + P.T) / 2
        return {
            "V": V,
            "logdetV": 2.0 * float(np.sum(np.log(np.diag(L)))),
            "Vinv": Vinv,
            "XtViX": XtViX,
            "cov_b": cov_b,
            "beta": cov_b @ (XtVi @ self.y),
            "P": P,
            "Py": P @ self.y,
        }

    def loglik(self, s: FloatArray, parts: dict[str, Any] | None = None) -> float:
        q = self._parts(s) if parts is None else parts
        quad = float(self.y @ q["Py"])
        if self.reml:
            _, logdet_xvx = np.linalg.slogdet(q["XtViX"])
            _, logdet_xx = np.linalg.slogdet(self.X.T @ self.X)
            return float(
                -0.5 * (self.k - self.p) * math.log(2 * math.pi)
                + 0.5 * logdet_xx
                - 0.5 * q["logdetV"]
                - 0.5 * logdet_xvx
                - 0.5 * quad
            )
        return float(
            -0.5 * self.k * math.log(2 * math.pi) - 0.5 * q["logdetV"] - 0.5 * quad
        )

    def derivatives(
        self, s: FloatArray, parts: dict[str, Any] | None = None
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Return score, observed Hessian and expected information (Fisher)."""
        q = self._parts(s) if parts is None else parts
        A = q["P"] if self.reml else q["Vinv"]
        Py = q["Py"]
        AG = [A @ Gi for Gi in self.G]
        GPy = [Gi @ Py for Gi in self.G]
        m = len(self.G)
        score = np.array(
            [-0.5 * np.trace(AG[i]) + 0.5 * float(Py @ GPy[i]) for i in range(m)]
        )
        fisher = np.empty((m, m))
        hess = np.empty((m, m))
        PGPy = [q["P"] @ g for g in GPy]
        for i in range(m):
            for j in range(i, m):
                t = 0.5 * float(np.sum(AG[i] * AG[j].T))
                fisher[i, j] = fisher[j, i] = t
                hess[i, j] = hess[j, i] = t - float(GPy[i] @ PGPy[j])
        return score, hess, fisher


def _maximise(model: _VarianceComponents, starts: list[FloatArray]) -> FloatArray:
    """Maximise the (restricted) likelihood over s >= 0.

    Projected Newton iterations with an active set for components at zero:
    a component at the boundary whose score is negative stays at zero; the
    others take a Newton step (Fisher scoring when the observed Hessian is not
    negative definite), halved until the likelihood increases. Iterations stop
    when the step is below 1e-13 relative. Several starting values guard
    against a local maximum; the best one is kept.
    """
    best_s: FloatArray | None = None
    best_ll = -math.inf
    for start in starts:
        s = np.maximum(np.asarray(start, dtype=float), 0.0)
        parts = model._parts(s)
        ll = model.loglik(s, parts)
        for _ in range(500):
            score, hess, fisher = model.derivatives(s, parts)
            free = ~((s <= 0.0) & (score <= 0.0))
            if not np.any(free):
                break
            step = np.zeros_like(s)
            h = hess[np.ix_(free, free)]
            if np.all(np.linalg.eigvalsh(h) < 0):
                curvature = -h
            else:
                curvature = fisher[np.ix_(free, free)]
            # lstsq: the information is singular when a component is not
            # identified (then any maximiser will do)
            step[free] = np.linalg.lstsq(curvature, score[free], rcond=None)[0]
            moved = False
            for _halving in range(60):
                cand = np.maximum(s + step, 0.0)
                cparts = model._parts(cand)
                cll = model.loglik(cand, cparts)
                if cll >= ll - 1e-14 * abs(ll):
                    moved = True
                    break
                step = step / 2
            if not moved:
                break
            change = np.max(np.abs(cand - s) / (1.0 + np.abs(s)))
            s, parts, ll = cand, cparts, cll
            if change < 1e-13:
                break
        if ll > best_ll:
            best_s, best_ll = s, ll
    assert best_s is not None
    return best_s


def multilevel(
    yi: ArrayLike,
    vi: ArrayLike,
    study: ArrayLike | Sequence[Any],
    *,
    method: str = "REML",
    test: str = "z",
    level: float = 95.0,
) -> dict[str, Any]:
    """Three-level random-effects model: effects nested in studies (clusters).

    Equals metafor's ``rma.mv(yi, vi, random = ~ 1 | study/row)`` where ``row``
    numbers the effect sizes, i.e. each effect has its own within-study random
    effect::

        y_ij = mu + u_i + w_ij + e_ij,
        u_i ~ N(0, sigma2_1), w_ij ~ N(0, sigma2_2), e_ij ~ N(0, v_ij)

    so that ``Var(y) = V = diag(v) + sigma2_1 Z Z' + sigma2_2 I`` with ``Z`` the
    study indicator matrix (Konstantopoulos 2011). The variance components
    maximise the restricted (``method="REML"``) or full (``"ML"``) likelihood
    over ``sigma2 >= 0``; then ``mu = (1'V^-1 1)^-1 1'V^-1 y`` with
    ``se = (1'V^-1 1)^-1/2``.

    PyMARE has no multilevel model, so the likelihood is maximised here:
    projected Newton iterations with the analytic score and Hessian (see
    ``_VarianceComponents``) to a relative step of 1e-13, from several
    starting values. metafor optimises ``log(sigma2)`` with ``nlminb`` and so
    stops near, not at, the optimum and never reaches a boundary zero; the
    values here are the exact maximiser.

    Parameters
    ----------
    yi, vi : array_like
        Effect sizes and their sampling variances.
    study : array_like
        Cluster label of each effect size (any hashable values).
    method : {"REML", "ML"}
        Estimator of the variance components.
    test : {"z", "t"}
        Normal reference, or ``t`` with ``k - 1`` degrees of freedom (metafor's
        ``test="t"``, ``dfs="residual"``).
    level : float
        Confidence level in percent.

    Returns
    -------
    dict
        ``estimate, se, zval, pval, ci_lb, ci_ub`` (``zval`` is a t statistic
        under ``test="t"``, with ``df``); ``sigma2`` as ``[between, within]``;
        ``pi_lb, pi_ub``: prediction interval ``mu +/- crit sqrt(se^2 +
        sigma2_1 + sigma2_2)`` as metafor's ``predict.rma.mv``; ``Q, Q_df,
        Q_p``: the test of residual heterogeneity, Cochran's
        ``Q = sum (y - ybar_FE)^2 / v`` on ``k - 1`` df; ``logLik`` (metafor's
        value, constants included); ``k``, ``n_clusters``, ``method``,
        ``test``.

    Raises
    ------
    ValueError
        If the inputs have different lengths or missing values, there are
        fewer than 2 clusters or no cluster with more than one effect size
        (the two variances are then not identified), or the method or test
        is unknown.
    """
    method = method.upper()
    if method not in ("REML", "ML"):
        raise ValueError(f"method must be 'REML' or 'ML', got {method!r}")
    if test not in ("z", "t"):
        raise ValueError(f"test must be 'z' or 't', got {test!r}")
    y, v, codes, labels = _check_inputs(yi, vi, study, "study")
    k, m = len(y), len(labels)
    if m < 2:
        raise ValueError(f"the multilevel model needs at least 2 clusters, got {m}")
    if k == m:
        raise ValueError(
            "no cluster has more than one effect size, so the between- and "
            "within-cluster variances cannot be told apart; use rma()"
        )
    X = np.ones((k, 1))
    Z = (codes[:, None] == np.arange(m)[None, :]).astype(float)
    G = [Z @ Z.T, np.eye(k)]
    model = _VarianceComponents(y, v, X, G, reml=method == "REML")

    # starting values: a DerSimonian-Laird-type total variance split in turn
    w = 1 / v
    ybar = float(np.sum(w * y) / np.sum(w))
    q = float(np.sum(w * (y - ybar) ** 2))
    total = max((q - (k - 1)) / (np.sum(w) - np.sum(w**2) / np.sum(w)), 0.0)
    total = max(total, 0.01 * float(np.var(y)), 1e-4 * float(np.mean(v)))
    starts = [np.array([f * total, (1 - f) * total]) for f in (0.5, 0.9, 0.1)]
    sigma2 = _maximise(model, starts)

    parts = model._parts(sigma2)
    est = float(parts["beta"][0])
    se = float(math.sqrt(parts["cov_b"][0, 0]))
    df = None if test == "z" else float(k - 1)
    crit = _crit(test, level, df)
    stat = est / se
    pi_se = math.sqrt(se**2 + float(np.sum(sigma2)))
    q_df = k - 1
    return {
        "k": k,
        "n_clusters": m,
        "method": method,
        "test": test,
        "estimate": est,
        "se": se,
        "zval": stat,
        "df": df,
        "pval": _two_sided_p(stat, df),
        "ci_lb": est - crit * se,
        "ci_ub": est + crit * se,
        "pi_lb": est - crit * pi_se,
        "pi_ub": est + crit * pi_se,
        "sigma2": [float(sigma2[0]), float(sigma2[1])],
        "Q": q,
        "Q_df": q_df,
        "Q_p": float(stats.chi2.sf(q, q_df)),
        "logLik": model.loglik(sigma2, parts),
    }


# ---------------------------------------------------------------------------
# cluster-robust variance
# ---------------------------------------------------------------------------


def cr1_vcov(
    yi: FloatArray,
    vi: FloatArray,
    X: FloatArray,
    beta: FloatArray,
    tau2: float,
    codes: NDArray[np.intp],
) -> FloatArray:
    """Compute metafor's ``robust()`` sandwich (CR1, ``n/(n-p)`` factor).

    ``V_R = n/(n-p) M [sum_j X_j' W_j e_j e_j' W_j X_j] M`` with
    ``W = diag(1/(v + tau2))``, ``M = (X'WX)^-1``, ``e = y - X b`` and ``n``
    clusters (Hedges, Tipton & Johnson 2010, eq. 6 with their small-sample
    factor; metafor ``robust.rma.uni(adjust = TRUE)``). Computed by PyMARE's
    ``cluster_robust_cov(method="CR0", small_sample=True)``, which is this
    formula.
    """
    from pymare.stats import cluster_robust_cov

    with warnings.catch_warnings():
        # PyMARE warns at <= 10 clusters; the caller reports the cluster count.
        warnings.filterwarnings(
            "ignore", message="Cluster-robust variance estimation with only"
        )
        cov = cluster_robust_cov(
            yi[:, None],
            vi[:, None],
            X,
            beta.reshape(-1, 1),
            codes,
            tau2=tau2,
            small_sample=True,
            method="CR0",
        )
    return np.asarray(cov[:, :, 0], dtype=float)


def _sym_inv_sqrt(a: FloatArray) -> FloatArray:
    """``a^(-1/2)`` of a symmetric matrix, zeroing eigenvalues <= 1e-12.

    clubSandwich's ``Sym_power(x, -1/2)``.
    """
    vals, vecs = np.linalg.eigh((a + a.T) / 2)
    inv_sqrt = np.zeros_like(vals)
    keep = vals > _SYM_POWER_TOL
    inv_sqrt[keep] = vals[keep] ** -0.5
    return (vecs * inv_sqrt) @ vecs.T


def cr2_vcov(
    yi: FloatArray,
    vi: FloatArray,
    X: FloatArray,
    tau2: float,
    codes: NDArray[np.intp],
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Bias-reduced (CR2) sandwich and Satterthwaite df, as clubSandwich.

    Working model ``Phi = diag(v + tau2)`` with inverse-variance weights
    ``W = Phi^-1`` (clubSandwich's ``vcovCR.rma.uni`` with ``inverse_var =
    TRUE``). With ``M = (X'WX)^-1``, ``b = M X'W y`` and ``e = y - X b``, for
    each cluster ``j`` (Pustejovsky & Tipton 2018, eq. 5 and Theorem 1;
    clubSandwich ``CR2``)::

        R_j = Phi_j^(1/2)                    (Cholesky factor, diagonal here)
        G_j = R_j (Phi_j - X_j M X_j') R_j'  (= R (I - H_jj) Phi_j R')
        A_j = R_j' G_j^(-1/2) R_j
        E_j = M X_j' W_j A_j
        V_CR2 = sum_j E_j e_j e_j' E_j'

    so that ``A_j (I-H)_j Phi (I-H)_j' A_j = Phi_j`` (eigenvalues of ``G_j``
    at or below 1e-12 count as zero, as in clubSandwich's ``Sym_power``). For
    coefficient ``c``,
    the Satterthwaite degrees of freedom (clubSandwich ``coef_test``,
    ``Satterthwaite`` with ``get_P_array``) are::

        g_j = E_j' c, placed in the rows of cluster j of an N x J matrix G
        Omega = (I-H) Phi (I-H)' = Phi - X M X'
        P = G' Omega G
        df = tr(P)^2 / tr(P^2)

    i.e. ``2 E[V]^2 / Var[V]`` for the quadratic form ``V = c'V_CR2 c`` under
    the working model.

    Written out rather than taken from PyMARE: PyMARE's CR2 takes ``A_j``
    symmetric in the whitened metric, which equals clubSandwich's only when
    the variances are constant within each cluster.

    Returns
    -------
    beta, vcov, df : numpy.ndarray
        Coefficients, the CR2 covariance matrix and one Satterthwaite df per
        coefficient.
    """
    phi = vi + tau2
    w = 1.0 / phi
    M = np.linalg.inv(X.T @ (w[:, None] * X))
    beta = M @ (X.T @ (w * yi))
    e = yi - X @ beta
    k, p = X.shape
    n_cl = int(codes.max()) + 1
    E_list: list[tuple[NDArray[np.intp], FloatArray]] = []
    vcov = np.zeros((p, p))
    for j in range(n_cl):
        idx = np.flatnonzero(codes == j)
        Xj, rj = X[idx], np.sqrt(phi[idx])
        Gj = rj[:, None] * (np.diag(phi[idx]) - Xj @ M @ Xj.T) * rj[None, :]
        Aj = rj[:, None] * _sym_inv_sqrt(Gj) * rj[None, :]
        Ej = M @ (Xj.T * w[idx][None, :]) @ Aj
        u = Ej @ e[idx]
        vcov += np.outer(u, u)
        E_list.append((idx, Ej))
    omega = np.diag(phi) - X @ M @ X.T
    df = np.empty(p)
    for c in range(p):
        Gm = np.zeros((k, n_cl))
        for j, (idx, Ej) in enumerate(E_list):
            Gm[idx, j] = Ej[c]
        P = Gm.T @ omega @ Gm
        df[c] = np.trace(P) ** 2 / np.sum(P * P)
    return beta, vcov, df


def robust(
    yi: ArrayLike,
    vi: ArrayLike,
    cluster: ArrayLike | Sequence[Any],
    *,
    method: str = "REML",
    kind: str = "CR2",
    level: float = 95.0,
) -> dict[str, Any]:
    """Random-effects estimate with a cluster-robust standard error.

    The model is ``rma(yi, vi, method=method)`` (:func:`evsynth.meta.rma.rma`);
    only its standard error, reference distribution and CI change.

    ``kind="CR1"`` is metafor's ``robust(fit, cluster)``: the sandwich of
    :func:`cr1_vcov` with the ``n/(n-p)`` factor, ``t`` statistic on
    ``n - p`` degrees of freedom (``n`` clusters, ``p = 1``).
    ``kind="CR2"`` is ``robust(fit, cluster, clubSandwich = TRUE)``:
    clubSandwich's CR2 covariance with Satterthwaite degrees of freedom
    (:func:`cr2_vcov`). Then ``t = b/se``, ``p = 2 P(T_df > |t|)``, CI
    ``b +/- t_{df, 1-alpha/2} se``.

    Parameters
    ----------
    yi, vi : array_like
        Effect sizes and sampling variances.
    cluster : array_like
        Cluster (e.g. study) label of each effect size.
    method : str
        tau^2 estimator of the working random-effects model.
    kind : {"CR2", "CR1"}
        Sandwich estimator and degrees of freedom.
    level : float
        Confidence level in percent.

    Returns
    -------
    dict
        ``estimate, se, tval, df, pval, ci_lb, ci_ub``; ``cluster``: the number
        of clusters; ``k``, ``tau2`` (of the working model), ``kind``,
        ``method``.

    Raises
    ------
    ValueError
        For mismatched lengths, missing labels, fewer than 2 clusters or an
        unknown ``kind``.
    """
    from evsynth.meta.rma import rma

    kind = kind.upper()
    if kind not in ("CR1", "CR2"):
        raise ValueError(f"kind must be 'CR1' or 'CR2', got {kind!r}")
    y, v, codes, labels = _check_inputs(yi, vi, cluster, "cluster")
    n_cl = len(labels)
    if n_cl < 2:
        raise ValueError(
            f"cluster-robust inference needs at least 2 clusters, got {n_cl}"
        )
    fit = rma(y, v, method=method)
    tau2 = float(fit.tau2)
    X = np.ones((len(y), 1))
    if kind == "CR1":
        beta = np.asarray(fit.beta, dtype=float).reshape(-1)
        vcov = cr1_vcov(y, v, X, beta, tau2, codes)
        df = float(n_cl - X.shape[1])
    else:
        beta, vcov, dfs = cr2_vcov(y, v, X, tau2, codes)
        df = float(dfs[0])
    est = float(beta[0])
    se = float(math.sqrt(max(vcov[0, 0], 0.0)))
    with np.errstate(divide="ignore", invalid="ignore"):
        # identical effects: se = 0 and t is NaN (0/0), as metafor reports it
        tval = float(np.float64(est) / np.float64(se))
    crit = _crit("t", level, df)
    return {
        "k": len(y),
        "cluster": n_cl,
        "kind": kind,
        "method": fit.method,
        "tau2": tau2,
        "estimate": est,
        "se": se,
        "tval": tval,
        "df": df,
        "pval": _two_sided_p(tval, df),
        "ci_lb": est - crit * se,
        "ci_ub": est + crit * se,
    }
