r"""Random- and mixed-effects meta-analysis equal to metafor's ``rma.uni``.

The model is the normal-normal model of meta-analysis and meta-regression

.. math::
    y_i = x_i'\beta + u_i + e_i, \qquad u_i \sim N(0, \tau^2), \qquad
    e_i \sim N(0, v_i),

with known sampling variances :math:`v_i`. Every number :func:`rma` reports is
defined as R's metafor 3.8.1 defines it (``rma.uni``, ``predict.rma``,
``confint.rma.uni``, ``weights.rma.uni``; Viechtbauer 2010, *J Stat Softw* 36(3)),
and the tests compare them with metafor's output to 1e-6 relative.

Division of labour (the project uses PyMARE and statsmodels where they provide
the estimator, and writes out only what neither provides or what they define
differently from metafor):

=======================  ================================================
quantity                 source
=======================  ================================================
DL / HE tau^2            PyMARE ``DerSimonianLaird``, ``Hedges`` (closed
                         forms identical to metafor's; HE needs PyMARE
                         >= 0.0.13); EE is tau^2 = 0
beta, (X'WX)^-1          PyMARE ``stats.weighted_least_squares``
Knapp-Hartung scaling    PyMARE ``stats.knapp_hartung_cov_and_dof``
                         (metafor's ``test="knha"`` scale factor, including
                         its zero floor when the residuals vanish)
Q_E, generalised Q       PyMARE ``stats.q_gen``
REML / ML tau^2          written out. PyMARE's likelihood estimator stops
                         at ``xtol=1e-6`` (about 1e-4 relative from
                         metafor); metafor itself stops its Fisher scoring
                         when a step is below 1e-5, up to 1e-3 relative
                         from the exact root (dat.raudenbush1985 ML). To
                         equal metafor its Fisher scoring is run step for
                         step; ``tau2_solver="exact"`` solves the score
                         equation with :func:`scipy.optimize.brentq`.
PM tau^2                 written out. Not in PyMARE; statsmodels'
                         ``combine_effects`` is intercept-only and iterates
                         to ``atol=1e-5``; metafor uses R's ``uniroot``
                         with ``tol = eps^0.25`` (2 % from the root on
                         dat.bcg RD), so R's ``uniroot`` (Brent's zeroin)
                         is ported (:func:`_zeroin`) and run with metafor's
                         bracket and tolerance; ``"exact"`` uses brentq.
SJ tau^2                 written out (in neither library)
Q-profile CI of tau^2    metafor's ``confint`` with the ``uniroot`` port
                         (default), or PyMARE ``stats.q_profile`` (Brent to
                         4 eps) with ``solver="exact"``
I^2, H^2                 written out: PyMARE's and statsmodels' are
                         Q-based for every estimator (and statsmodels' DL
                         is not truncated at 0); metafor's come from tau^2
Q_M, R^2, prediction     written out (in neither library)
interval, SE of tau^2,
weights
=======================  ================================================

Where metafor's early stop leaves its value more than 0.1 % from the exact
root, the fit (or :class:`HeterogeneityCI`) carries a note with the exact value.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, stats

with warnings.catch_warnings():
    # PyMARE 0.0.13 reads effectsize/expressions.json at import without closing
    # the file; the ResourceWarning would fail test runs with filterwarnings=error.
    warnings.simplefilter("ignore", ResourceWarning)
    from pymare import estimators as pm_estimators
    from pymare import stats as pm_stats

__all__ = [
    "METHODS",
    "HeterogeneityCI",
    "Prediction",
    "RmaFit",
    "heterogeneity_ci",
    "predict",
    "rma",
    "summary_dict",
    "tau2_ci_qprofile",
]

#: The tau^2 estimators, with metafor's names. ``"FE"`` (and ``"CE"``) are
#: accepted as aliases of ``"EE"``, as in metafor.
METHODS = ("EE", "DL", "REML", "ML", "PM", "HE", "SJ")
TESTS = ("z", "knha")
_METHOD_ALIASES = {"FE": "EE", "CE": "EE"}
_TEST_ALIASES = {"hksj": "knha"}

#: Relative tolerance of the root finders (the smallest brentq accepts).
_RTOL = 4 * np.finfo(float).eps
#: Doublings allowed when widening a bracket for a root in tau^2.
_MAX_DOUBLINGS = 400
#: metafor's control defaults (rma.uni): Fisher-scoring threshold and maximum
#: number of iterations, and uniroot's ``tol = .Machine$double.eps^0.25``.
_METAFOR_THRESHOLD = 1e-5
_METAFOR_MAXITER = 100
_R_UNIROOT_TOL = float(np.finfo(float).eps) ** 0.25
SOLVERS = ("metafor", "exact")
#: Relative distance from the exact root beyond which a fit gets a note.
_NOTE_RTOL = 1e-3

FloatArray = NDArray[np.float64]


# --------------------------------------------------------------------------- #
# results
# --------------------------------------------------------------------------- #


@dataclass(frozen=True, eq=False)
class RmaFit:
    """A fitted ``rma.uni`` model, with metafor's quantities and names.

    Attributes
    ----------
    k, p : int
        Number of studies and of coefficients (the intercept included).
    method : str
        tau^2 estimator, one of :data:`METHODS` (``"FE"`` is stored as ``"EE"``).
    test : str
        ``"z"`` (Wald, normal reference) or ``"knha"`` (Knapp-Hartung, t with
        ``k - p`` df).
    beta, se, zval, pval, ci_lb, ci_ub : numpy.ndarray
        Per coefficient: estimate, standard error, z (or t under knha), two-sided
        p value and confidence bounds.
    vb : numpy.ndarray
        Covariance of ``beta``, ``(X'WX)^-1``, times the Knapp-Hartung factor
        ``s2w`` under knha.
    tau2 : float
        Between-study (residual) variance; 0 for EE.
    se_tau2 : float or None
        metafor's standard error of tau^2 (method-specific; None for EE and
        k = 1).
    I2, H2 : float
        metafor's I^2 (percent) and H^2. For EE, ``I2 = max(0, 100 (Q - df)/Q)``
        and ``H2 = Q/df``; for the other methods they come from tau^2,
        ``I2 = 100 tau2/(vt + tau2)`` and ``H2 = 1 + tau2/vt`` with the typical
        sampling variance ``vt = (k - p)/tr(P)`` (residual I^2 and H^2 for
        meta-regressions).
    Q, Q_df, Q_p : float, int, float
        Test of (residual) heterogeneity, Q_E, with ``k - p`` df.
    QM, QM_df, QM_p : float or None, tuple or None, float or None
        Omnibus test of the moderators (coefficients 2..p, or all coefficients
        when the model has no intercept): chi^2 with ``QM_df = (m, None)``, or F
        with ``QM_df = (m, k - p)`` under knha. None for intercept-only models.
    R2 : float or None
        metafor's pseudo R^2 (percent) for models with an intercept and
        moderators (None otherwise): ``max(0, 100 (tau2_RE - tau2)/tau2_RE)``
        with ``tau2_RE`` from the intercept-only model fitted by the same method
        (0 when ``tau2_RE = 0``; NaN when that model cannot be fitted); for EE,
        ``max(0, 100 adjR^2)`` of the weighted least-squares regression with
        weights ``1/v`` (metafor 3.8.1).
    dfs : float or None
        Residual df ``k - p`` under knha, else None.
    weights : numpy.ndarray
        Percent weights as metafor's ``weights()``: ``100 w_i / sum(w)``,
        ``w_i = 1/(v_i + tau2)``.
    yi, vi, X : numpy.ndarray
        The data as fitted (X includes the intercept column).
    level : float
        Confidence level in percent.
    names : tuple of str
        Coefficient names (``"intrcpt"`` first when there is an intercept).
    int_incl : bool
        Whether the model has an intercept.
    s2w : float
        Knapp-Hartung scale factor (1 under ``test="z"``).
    vt : float
        Typical sampling variance used for I^2 and H^2 (nan when ``k == p``).
    notes : tuple of str
        Remarks on the fit (e.g. tau^2 fixed at 0 because k = 1).
    tau2_solver : str
        ``"metafor"`` or ``"exact"`` (see :func:`rma`).
    """

    k: int
    p: int
    method: str
    test: str
    beta: FloatArray
    se: FloatArray
    zval: FloatArray
    pval: FloatArray
    ci_lb: FloatArray
    ci_ub: FloatArray
    vb: FloatArray
    tau2: float
    se_tau2: float | None
    I2: float
    H2: float
    Q: float
    Q_df: int
    Q_p: float
    QM: float | None
    QM_df: tuple[int, int | None] | None
    QM_p: float | None
    R2: float | None
    dfs: float | None
    weights: FloatArray
    yi: FloatArray
    vi: FloatArray
    X: FloatArray
    level: float
    names: tuple[str, ...] = ()
    int_incl: bool = True
    s2w: float = 1.0
    vt: float = math.nan
    notes: tuple[str, ...] = ()
    tau2_solver: str = "metafor"

    @property
    def estimate(self) -> float:
        """First coefficient: the pooled effect of an intercept-only model."""
        return float(self.beta[0])

    @property
    def tau(self) -> float:
        """Square root of tau^2."""
        return math.sqrt(self.tau2)

    @property
    def int_only(self) -> bool:
        """Whether the model is intercept-only (a plain meta-analysis)."""
        return self.int_incl and self.p == 1

    @property
    def is_fixed(self) -> bool:
        """Whether this is an equal-effects (fixed-effect) model."""
        return self.method == "EE"

    @property
    def crit(self) -> float:
        """Critical value of the confidence intervals (z or t quantile)."""
        alpha = 1.0 - self.level / 100.0
        if self.test == "knha":
            return float(stats.t.isf(alpha / 2.0, self.dfs))
        return float(stats.norm.isf(alpha / 2.0))


@dataclass(frozen=True, eq=False)
class Prediction:
    """Predicted (pooled) effects, as metafor's ``predict.rma``.

    Attributes
    ----------
    pred, se : numpy.ndarray
        Predicted values ``x'b`` and their standard errors ``sqrt(x' vb x)``.
    ci_lb, ci_ub : numpy.ndarray
        Confidence bounds (z, or t with ``k - p`` df under knha).
    pi_lb, pi_ub : numpy.ndarray or None
        Prediction-interval bounds ``pred -+ c sqrt(se^2 + tau2)``; None for EE
        models (metafor's NA) and for ``pi="none"``.
    level : float
        Level in percent.
    pi_method : str
        ``"metafor"``, ``"riley"`` or ``"none"``.
    pi_df : float or None
        df of the t quantile used for the prediction interval (None for z).
    """

    pred: FloatArray
    se: FloatArray
    ci_lb: FloatArray
    ci_ub: FloatArray
    pi_lb: FloatArray | None
    pi_ub: FloatArray | None
    level: float
    pi_method: str = "metafor"
    pi_df: float | None = None


@dataclass(frozen=True)
class HeterogeneityCI:
    """Q-profile confidence intervals of tau^2, tau, I^2 and H^2 (metafor ``confint``).

    Attributes
    ----------
    tau2, tau2_lb, tau2_ub : float
        Estimate and bounds of tau^2.
    tau, tau_lb, tau_ub : float
        Their square roots.
    I2, I2_lb, I2_ub : float
        I^2 (percent), transformed from tau^2 with the fit's ``vt``.
    H2, H2_lb, H2_ub : float
        H^2, transformed likewise.
    level : float
        Level in percent.
    notes : tuple of str
        Remarks, e.g. when metafor's ``uniroot`` tolerance leaves a bound more
        than 0.1 % from the exact root.
    """

    tau2: float
    tau2_lb: float
    tau2_ub: float
    tau: float
    tau_lb: float
    tau_ub: float
    I2: float
    I2_lb: float
    I2_ub: float
    H2: float
    H2_lb: float
    H2_ub: float
    level: float
    notes: tuple[str, ...] = ()


# --------------------------------------------------------------------------- #
# input checks
# --------------------------------------------------------------------------- #


def level_alpha(level: float) -> tuple[float, float]:
    """Return ``(level in percent, alpha)``; accept 95 or 0.95 like metafor."""
    level = float(level)
    if not math.isfinite(level) or level <= 0 or level >= 100:
        raise ValueError(f"level must be in (0, 100) percent (or (0, 1)); got {level}")
    if level < 1:
        level *= 100.0
    return level, 1.0 - level / 100.0


def _as_vector(x: ArrayLike, name: str) -> FloatArray:
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric: {exc}") from None
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional; got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        bad = np.flatnonzero(~np.isfinite(arr))
        raise ValueError(
            f"{name} has non-finite values (NaN or inf) at positions "
            f"{bad[:10].tolist()}; drop or fix those studies first"
        )
    return arr


def _design(
    mods: Any, k: int, intercept: bool
) -> tuple[FloatArray, tuple[str, ...], bool]:
    """Build the model matrix ``X`` (intercept first) and the coefficient names."""
    names: list[str] = []
    if mods is None:
        cols = np.empty((k, 0))
    else:
        if hasattr(mods, "columns"):
            names = [str(c) for c in mods.columns]
        elif hasattr(mods, "name") and getattr(mods, "ndim", 2) == 1:
            names = [str(mods.name)]
        try:
            cols = np.asarray(mods, dtype=float)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"mods must be numeric: {exc}") from None
        if cols.ndim == 1:
            cols = cols[:, None]
        if cols.ndim != 2:
            raise ValueError(
                f"mods must be 1- or 2-dimensional; got shape {cols.shape}"
            )
        if cols.shape[0] != k:
            raise ValueError(
                f"mods has {cols.shape[0]} rows but there are {k} effects; "
                "lengths must match"
            )
        if not np.all(np.isfinite(cols)):
            bad = np.flatnonzero(~np.all(np.isfinite(cols), axis=1))
            raise ValueError(
                f"mods has non-finite values (NaN or inf) in rows {bad[:10].tolist()}; "
                "metafor drops such studies: drop them before calling rma()"
            )
    if len(names) != cols.shape[1]:
        names = [f"mod{j + 1}" for j in range(cols.shape[1])]
    int_incl = bool(intercept)
    if int_incl:
        X = np.column_stack([np.ones(k), cols])
        names = ["intrcpt", *names]
    else:
        X = cols
        # metafor treats a constant column of ones as the intercept and moves it first
        is_int = [j for j in range(X.shape[1]) if np.all(X[:, j] == 1.0)]
        if is_int:
            keep = [j for j in range(X.shape[1]) if j not in is_int]
            X = np.column_stack([np.ones(k), X[:, keep]])
            names = ["intrcpt", *[names[j] for j in keep]]
            int_incl = True
    if X.shape[1] == 0:
        raise ValueError("the model has no coefficients: give mods or intercept=True")
    # (with more coefficients than studies rma() reports "too few studies" instead)
    if X.shape[1] <= k and np.linalg.matrix_rank(X) < X.shape[1]:
        raise ValueError(
            "the model matrix is singular (not of full column rank): a moderator is "
            "constant or a linear combination of the others"
        )
    return X, tuple(names), int_incl


# --------------------------------------------------------------------------- #
# linear algebra
# --------------------------------------------------------------------------- #


def _resid_maker(w: FloatArray, X: FloatArray) -> FloatArray:
    """Return ``P = W - W X (X'WX)^-1 X'W`` for weights ``w`` (a k x k matrix)."""
    wx = X * w[:, None]
    return np.diag(w) - wx @ np.linalg.solve(X.T @ wx, wx.T)


def _trace_pp(w: FloatArray, X: FloatArray) -> float:
    """Return ``tr(PP)`` (= sum of P's squared entries) without forming P.

    With ``B = (X'WX)^-1``: ``tr(PP) = sum(w^2) - 2 tr(B X'W^3X) + tr((B X'W^2X)^2)``.
    """
    wx = X * w[:, None]
    B = np.linalg.inv(X.T @ wx)
    bm2 = B @ (wx.T @ wx)
    m3 = wx.T @ (wx * w[:, None])
    return float(np.sum(w**2) - 2 * np.trace(B @ m3) + np.trace(bm2 @ bm2))


def _wls(
    y: FloatArray, v: FloatArray, X: FloatArray, tau2: float
) -> tuple[FloatArray, FloatArray]:
    """Return ``beta`` and ``(X'WX)^-1`` with ``W = diag(1/(v + tau2))`` (PyMARE)."""
    beta, cov = pm_stats.weighted_least_squares(
        y[:, None], v[:, None], X, tau2=float(tau2), return_cov=True
    )
    return np.asarray(beta[:, 0], dtype=float), np.asarray(cov[:, :, 0], dtype=float)


def _gen_q(y: FloatArray, v: FloatArray, X: FloatArray, tau2: float) -> float:
    """Generalised Q, ``sum w_i (y_i - x_i'b)^2`` at ``w = 1/(v + tau2)`` (PyMARE)."""
    return float(np.ravel(pm_stats.q_gen(y[:, None], v[:, None], X, float(tau2)))[0])


# --------------------------------------------------------------------------- #
# tau^2 estimators
# --------------------------------------------------------------------------- #


def _find_root_decreasing(f: Callable[[float], float], start: float) -> float:
    """Root in ``tau2 >= 0`` of a function positive at 0 and negative far out.

    Returns 0 when ``f(0) <= 0`` (no positive root). The bracket is widened by
    doubling, then :func:`scipy.optimize.brentq` is run to relative tolerance
    4 eps.
    """
    if f(0.0) <= 0.0:
        return 0.0
    upper = max(float(start), 1e-8)
    for _ in range(_MAX_DOUBLINGS):
        if f(upper) < 0.0:
            break
        upper *= 2.0
    else:  # pragma: no cover - only for pathological input
        raise ValueError(
            "could not bracket the tau^2 estimate (the data may be degenerate)"
        )
    return float(optimize.brentq(f, 0.0, upper, xtol=1e-300, rtol=_RTOL, maxiter=1000))


def _zeroin(
    f: Callable[[float], float],
    lower: float,
    upper: float,
    tol: float = _R_UNIROOT_TOL,
    maxiter: int = 1000,
) -> float:
    """Port of R's ``uniroot()`` (C ``R_zeroin2``, Brent 1973) to reproduce metafor.

    metafor finds the PM estimate and the Q-profile bounds with
    ``uniroot(tol = .Machine$double.eps^0.25)``, which stops as soon as the
    bracket is below about 1.2e-4. Its answer is therefore not the exact root
    (on dat.bcg RD the PM tau^2 differs from it by 2 % relative), so to equal
    metafor the same algorithm, with the same tolerance and bracket, is run
    here step for step.

    Raises
    ------
    ValueError
        If ``f`` has the same sign at both ends, or after ``maxiter`` steps.
    """
    eps = float(np.finfo(float).eps)
    a, b = float(lower), float(upper)
    fa, fb = f(a), f(b)
    if fa * fb > 0:
        raise ValueError("f() values at end points not of opposite sign")
    c, fc = a, fa
    if fa == 0.0:
        return a
    if fb == 0.0:
        return b
    for _ in range(maxiter + 1):
        prev_step = b - a
        if abs(fc) < abs(fb):
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol_act = 2.0 * eps * abs(b) + tol / 2.0
        new_step = (c - b) / 2.0
        if abs(new_step) <= tol_act or fb == 0.0:
            return b
        if abs(prev_step) >= tol_act and abs(fa) > abs(fb):
            cb = c - b
            if a == c:
                t1 = fb / fa
                p_ = cb * t1
                q_ = 1.0 - t1
            else:
                q_ = fa / fc
                t1 = fb / fc
                t2 = fb / fa
                p_ = t2 * (cb * q_ * (q_ - t1) - (b - a) * (t1 - 1.0))
                q_ = (q_ - 1.0) * (t1 - 1.0) * (t2 - 1.0)
            if p_ > 0:
                q_ = -q_
            else:
                p_ = -p_
            if p_ < (0.75 * cb * q_ - abs(tol_act * q_) / 2.0) and p_ < abs(
                prev_step * q_ / 2.0
            ):
                new_step = p_ / q_
        if abs(new_step) < tol_act:
            new_step = tol_act if new_step > 0 else -tol_act
        a, fa = b, fb
        b += new_step
        fb = f(b)
        if (fb > 0 and fc > 0) or (fb < 0 and fc < 0):
            c, fc = a, fa
    raise ValueError("uniroot did not converge")


def _note_if_off(
    what: str, metafor_value: float, exact: float, notes: list[str]
) -> None:
    """Note when metafor's early stop leaves its value > 0.1 % from the exact root."""
    if abs(metafor_value - exact) > _NOTE_RTOL * max(abs(exact), abs(metafor_value)):
        notes.append(
            f"{what}: metafor's default convergence criteria (used here, to equal "
            f"metafor) stop at {metafor_value:.6g}, {abs(metafor_value - exact) / exact:.1%} "
            f"from the exact root {exact:.6g}; use tau2_solver='exact' for the exact value "
            "(typical when tau^2 is small in absolute terms, e.g. risk differences)."
            if exact > 0
            else f"{what}: metafor's default convergence criteria stop at "
            f"{metafor_value:.6g} where the exact root is 0; use tau2_solver='exact'."
        )


def _r_mad(x: FloatArray) -> float:
    """R's ``mad()``: ``1.4826 * median(|x - median(x)|)``."""
    return 1.4826 * float(np.median(np.abs(x - np.median(x))))


def _tau2_dl(ymc: FloatArray, v: FloatArray, X: FloatArray) -> float:
    """DerSimonian-Laird via PyMARE: ``max(0, (Q - (k - p))/tr(P))``, P at w = 1/v."""
    est = pm_estimators.DerSimonianLaird(small_sample_correction="wald")
    est.fit(ymc[:, None], v[:, None], X)
    return float(np.ravel(est.params_["tau2"])[0])


def _tau2_he(ymc: FloatArray, v: FloatArray, X: FloatArray) -> float:
    """Hedges via PyMARE >= 0.0.13: ``max(0, (y'P_ols y - tr(P_ols V))/(k - p))``."""
    est = pm_estimators.Hedges(small_sample_correction="wald")
    est.fit(ymc[:, None], v[:, None], X)
    return float(np.ravel(est.params_["tau2"])[0])


def _he_raw(ymc: FloatArray, v: FloatArray, X: FloatArray) -> float:
    """Untruncated HE value (metafor's starting value for ML/REML)."""
    k, p = X.shape
    # P = I - X (X'X)^-1 X', without forming it: y'Py and the diagonal of P
    inv = np.linalg.inv(X.T @ X)
    resid = ymc - X @ (inv @ (X.T @ ymc))
    ypy = float(resid @ resid)
    hat = np.einsum("ij,jk,ik->i", X, inv, X)
    return float((ypy - np.sum((1.0 - hat) * v)) / (k - p))


def _loglik(
    ymc: FloatArray, v: FloatArray, X: FloatArray, tau2: float, reml: bool
) -> float:
    """Return the (restricted) log-likelihood as metafor's ``ll0check`` computes it."""
    k, p = X.shape
    w = 1.0 / (v + tau2)
    wx = X * w[:, None]
    xtwx = X.T @ wx
    b = np.linalg.solve(xtwx, wx.T @ ymc)
    rss = float(np.sum(w * (ymc - X @ b) ** 2))
    if not reml:
        return (
            -0.5 * k * math.log(2 * math.pi)
            - 0.5 * float(np.sum(np.log(v + tau2)))
            - rss / 2
        )
    logdet = float(np.linalg.slogdet(xtwx)[1])
    return (
        -0.5 * (k - p) * math.log(2 * math.pi)
        - 0.5 * float(np.sum(np.log(v + tau2)))
        - 0.5 * logdet
        - rss / 2
    )


def _tau2_likelihood(
    ymc: FloatArray,
    v: FloatArray,
    X: FloatArray,
    reml: bool,
    solver: str,
    notes: list[str],
) -> float:
    """ML or REML tau^2 (Viechtbauer 2005, *J Educ Behav Stat* 30:261).

    The estimate solves the profile score equation::

        ML:   y'PPy = sum(w)        REML: y'PPy = tr(P)

    ``solver="metafor"`` runs metafor's Fisher scoring exactly: start at
    ``max(0, HE)``, step ``(y'PPy - sum(w))/sum(w^2)`` (ML) or
    ``(y'PPy - tr(P))/tr(PP)`` (REML), halve a step that would go below 0, stop
    when a step is <= 1e-5 (at most 100 steps), then metafor's ``ll0check``
    (tau^2 = 0 if the likelihood there is higher by more than eps^0.25).
    Stopping at a 1e-5 step leaves the iterate up to ~1e-4 relative from the
    root, which is why the exact root (``solver="exact"``: brentq to 4 eps)
    does not equal metafor to 1e-6.
    """

    def score_parts(t: float) -> tuple[float, float, float]:
        # P = W - W X B X'W with B = (X'WX)^-1, without forming the k x k P:
        # Py = w*y - wX B X'Wy; tr(P) = sum(w) - tr(B X'W^2 X);
        # tr(PP) = sum(w^2) - 2 tr(B X'W^3 X) + tr(B X'W^2 X B X'W^2 X)
        w = 1.0 / (v + t)
        wx = X * w[:, None]
        B = np.linalg.inv(X.T @ wx)
        Py = w * ymc - wx @ (B @ (wx.T @ ymc))
        ypp = float(Py @ Py)
        if reml:
            m2 = wx.T @ wx  # X'W^2X
            m3 = wx.T @ (wx * w[:, None])  # X'W^3X
            bm2 = B @ m2
            trace_p = float(np.sum(w) - np.trace(bm2))
            trace_pp = float(np.sum(w**2) - 2 * np.trace(B @ m3) + np.trace(bm2 @ bm2))
            return ypp, trace_p, trace_pp
        return ypp, float(np.sum(w)), float(np.sum(w**2))

    def score(t: float) -> float:
        ypp, target, _ = score_parts(t)
        return ypp - target

    if solver == "exact":
        start = max(_he_raw(ymc, v, X), float(np.var(ymc)), 1e-4)
        root = _find_root_decreasing(score, start)
        if root > 0.0 and _loglik(ymc, v, X, 0.0, reml) > _loglik(
            ymc, v, X, root, reml
        ):
            notes.append(
                "the likelihood is higher at tau^2 = 0 than at the root; tau^2 = 0."
            )
            return 0.0
        return root

    tau2 = max(0.0, _he_raw(ymc, v, X))
    change = _METAFOR_THRESHOLD + 1.0
    it = 0
    converged = True
    while change > _METAFOR_THRESHOLD:
        it += 1
        old = tau2
        ypp, target, info = score_parts(tau2)
        adj = (ypp - target) / info if info > 0 else math.nan
        if math.isnan(adj):
            adj = 0.0
        while tau2 + adj < 0.0:
            adj /= 2.0
        tau2 = tau2 + adj
        change = abs(old - tau2)
        if it > _METAFOR_MAXITER:
            converged = False
            break
    if not converged:
        name = "REML" if reml else "ML"
        notes.append(
            f"{name}: metafor's Fisher scoring did not converge in {_METAFOR_MAXITER} "
            "steps (metafor stops with an error); tau^2 is the exact root instead."
        )
        start = max(_he_raw(ymc, v, X), float(np.var(ymc)), 1e-4)
        return _find_root_decreasing(score, start)
    # metafor's ll0check: a higher likelihood at tau^2 = 0 means a local maximum
    ll0 = _loglik(ymc, v, X, 0.0, reml)
    ll = _loglik(ymc, v, X, tau2, reml)
    if ll0 - ll > _R_UNIROOT_TOL and tau2 > _METAFOR_THRESHOLD:
        notes.append(
            "Fisher scoring may have stopped at a local maximum; tau^2 set to 0 as metafor does."
        )
        tau2 = 0.0
    tau2 = max(0.0, tau2)
    if tau2 > 0.0:
        # one more Fisher step estimates how far metafor stopped from the root
        ypp, target, info = score_parts(tau2)
        if abs(ypp - target) / info > 0.1 * _NOTE_RTOL * tau2:
            start = max(_he_raw(ymc, v, X), float(np.var(ymc)), 1e-4)
            _note_if_off(
                "REML" if reml else "ML",
                tau2,
                _find_root_decreasing(score, start),
                notes,
            )
    return tau2


def _tau2_pm(
    ymc: FloatArray, v: FloatArray, X: FloatArray, solver: str, notes: list[str]
) -> float:
    """Paule-Mandel (1982): the root of the generalised ``Q(tau2) = k - p``, or 0.

    ``solver="metafor"`` reproduces metafor: 0 if ``Q(0) < k - p``, else R's
    ``uniroot`` on ``[0, max(100, 10 mad(y)^2)]`` with ``tol = eps^0.25``;
    ``solver="exact"`` (or when that interval is too short, where metafor stops
    with an error) solves to 4 eps with brentq.
    """
    k, p = X.shape
    target = float(k - p)

    def f(t: float) -> float:
        return _gen_q(ymc, v, X, t) - target

    if solver == "metafor":
        if f(0.0) < 0.0:
            return 0.0
        tau2_max = max(100.0, 10.0 * _r_mad(ymc) ** 2)
        if f(tau2_max) <= 0.0:
            tau2 = _zeroin(f, 0.0, tau2_max, maxiter=_METAFOR_MAXITER)
            _note_if_off("PM", tau2, _find_root_decreasing(f, tau2_max), notes)
            return tau2
        notes.append(
            f"PM: the root lies above metafor's tau2.max = {tau2_max:g} (metafor stops "
            "with an error); tau^2 is the exact root instead."
        )
    return _find_root_decreasing(f, max(float(np.var(ymc)), 1e-4))


def _tau2_sj(ymc: FloatArray, v: FloatArray, X: FloatArray) -> tuple[float, float]:
    """Sidik-Jonkman: ``tau0^2 y'P y/(k - p)`` with P at ``w = 1/(v + tau0^2)``.

    ``tau0^2 = mean((y - ybar)^2)`` (metafor's ``var(yi) (k-1)/k``, also with
    moderators). Returns ``(tau2, tau0^2)``.
    """
    k, p = X.shape
    tau0 = float(np.mean(ymc**2))
    if tau0 <= 1e-24 * float(np.mean(v)):
        # identical effects: centring leaves rounding dust (~1e-32), not variance
        return 0.0, 0.0
    rss = _gen_q(ymc, v, X, tau0)
    return max(0.0, tau0 * rss / (k - p)), tau0


def _se_tau2(
    method: str, v: FloatArray, X: FloatArray, tau2: float, tau0: float
) -> float:
    """Return metafor's standard error of tau^2 for each estimator (rma.uni source)."""
    k, p = X.shape
    t = max(tau2, 0.0)
    if method == "DL":
        P = _resid_maker(1.0 / v, X)
        trP = np.trace(P)
        return math.sqrt(
            (2 * (k - p) + 4 * t * trP + 2 * t * t * np.sum(P * P)) / trP**2
        )
    if method == "HE":
        P = np.eye(k) - X @ np.linalg.solve(X.T @ X, X.T)
        PV = P * v[None, :]
        return math.sqrt(
            (2 * np.sum(PV * PV.T) + 4 * t * np.trace(PV) + 2 * t * t * (k - p))
            / (k - p) ** 2
        )
    if method == "SJ":
        P = _resid_maker(1.0 / (v + tau0), X)
        PV = P * v[None, :]
        return math.sqrt(
            tau0**2
            / (k - p) ** 2
            * (
                2 * np.sum(PV * PV.T)
                + 4 * t * np.sum(PV * P)
                + 2 * t * t * np.sum(P * P)
            )
        )
    w = 1.0 / (v + tau2)
    if method == "ML":
        return math.sqrt(2.0 / np.sum(w**2))
    if method == "REML":
        return math.sqrt(2.0 / _trace_pp(w, X))
    if method == "PM":
        return math.sqrt(2.0 * k**2 / (k - p) / np.sum(w) ** 2)
    raise AssertionError(method)  # pragma: no cover


def _estimate_tau2(
    method: str,
    ymc: FloatArray,
    v: FloatArray,
    X: FloatArray,
    solver: str,
    notes: list[str],
) -> tuple[float, float]:
    """Return ``(tau2, tau0)`` for a tau^2 estimator (``tau0`` only used by SJ).

    ``ymc`` is the mean-centred ``y``: metafor 3.8.1 estimates tau^2 from it
    (identical for models with an intercept; it matters only without one).
    """
    if method in ("DL", "HE"):
        with warnings.catch_warnings():
            # PyMARE warns about edge cases that rma() has already excluded
            warnings.simplefilter("ignore")
            if method == "DL":
                return _tau2_dl(ymc, v, X), math.nan
            return _tau2_he(ymc, v, X), math.nan
    if method in ("REML", "ML"):
        return _tau2_likelihood(ymc, v, X, method == "REML", solver, notes), math.nan
    if method == "PM":
        return _tau2_pm(ymc, v, X, solver, notes), math.nan
    if method == "SJ":
        return _tau2_sj(ymc, v, X)
    raise AssertionError(method)  # pragma: no cover


def _r2_fixed(y: FloatArray, v: FloatArray, X: FloatArray) -> float:
    """Return metafor's EE R^2: ``max(0, 100 adjR^2)`` of ``lm(y ~ X, weights = 1/v)``."""
    if np.all(y == y[0]):
        return 0.0
    k, p = X.shape
    w = 1.0 / v
    beta, _ = _wls(y, v, X, 0.0)
    fitted = X @ beta
    rss = float(np.sum(w * (y - fitted) ** 2))
    mss = float(np.sum(w * (fitted - np.sum(w * fitted) / np.sum(w)) ** 2))
    if k - p <= 0:
        return math.nan
    r2 = mss / (mss + rss)
    adj = 1.0 - (1.0 - r2) * (k - 1) / (k - p)
    return max(0.0, 100.0 * adj)


# --------------------------------------------------------------------------- #
# the model
# --------------------------------------------------------------------------- #


def _normalise_method(method: str) -> str:
    m = str(method).upper()
    m = _METHOD_ALIASES.get(m, m)
    if m not in METHODS:
        raise ValueError(
            f"unknown method {method!r}; use one of {', '.join(METHODS)} (or FE)"
        )
    return m


def _normalise_test(test: str) -> str:
    t = str(test).lower()
    t = _TEST_ALIASES.get(t, t)
    if t not in TESTS:
        raise ValueError(f"unknown test {test!r}; use 'z' or 'knha' (alias 'hksj')")
    return t


def rma(
    yi: ArrayLike,
    vi: ArrayLike | None = None,
    *,
    sei: ArrayLike | None = None,
    mods: Any = None,
    method: str = "REML",
    test: str = "z",
    level: float = 95.0,
    intercept: bool = True,
    tau2_solver: Literal["metafor", "exact"] = "metafor",
) -> RmaFit:
    """Fit metafor's random-/mixed-effects model ``rma.uni(yi, vi, mods, method, test)``.

    Parameters
    ----------
    yi : array_like, shape (k,)
        Effect sizes.
    vi : array_like, shape (k,), optional
        Sampling variances (> 0). Give either ``vi`` or ``sei``.
    sei : array_like, shape (k,), optional
        Standard errors; ``vi = sei**2``.
    mods : array_like, shape (k,) or (k, m), optional
        Moderators (a pandas Series/DataFrame keeps its column names). The
        intercept is added unless ``intercept=False``.
    method : {"REML", "DL", "EE", "ML", "PM", "HE", "SJ"}, optional
        tau^2 estimator (``"FE"`` = ``"EE"``). Default REML, as metafor.
    test : {"z", "knha"}, optional
        ``"z"``: Wald tests and CIs with normal quantiles. ``"knha"``
        (alias ``"hksj"``): Knapp-Hartung, ``vb = s2w (X'WX)^-1`` with
        ``s2w = sum w_i e_i^2/(k - p)`` and t(k - p) quantiles; the omnibus
        test becomes ``F = QM/m`` on (m, k - p) df.
    level : float, optional
        Confidence level in percent (0.95 is read as 95 %).
    intercept : bool, optional
        Add an intercept column.
    tau2_solver : {"metafor", "exact"}, optional
        How the iterative estimators (REML, ML, PM) are solved. ``"metafor"``
        (default) runs metafor's own algorithms with its default controls --
        Fisher scoring until a step is <= 1e-5, R's ``uniroot`` with
        ``tol = eps^0.25`` -- so the estimate equals metafor's to rounding.
        ``"exact"`` solves the same estimating equations to machine precision
        with :func:`scipy.optimize.brentq`; it differs from metafor by up to
        ~1e-3 relative for REML/ML (dat.raudenbush1985 ML: 8e-4) and up to a
        few percent for PM with a small tau^2 (dat.bcg RD: 2 %), because
        metafor stops early. With the default, a fit whose value is more than
        0.1 % from the exact root carries a note giving the exact value.

    Returns
    -------
    RmaFit

    Raises
    ------
    ValueError
        For k = 0, non-positive or non-finite variances, non-finite effects or
        moderators, mismatched lengths, a singular model matrix, too few
        studies for the model (``k < p`` for EE; ``k < p + 1`` for tau^2
        estimators, except the intercept-only k = 1 case; ``k <= p`` under
        knha), and unknown method/test names.

    Notes
    -----
    Estimators (``w_i = 1/(v_i + tau2)``, ``P = W - W X (X'WX)^-1 X'W``; all
    truncated at 0 like metafor):

    * EE: ``tau2 = 0``.
    * DL (DerSimonian & Laird 1986; Raudenbush 2009 for X):
      ``(Q - (k - p))/tr(P_0)``, ``P_0`` at ``w = 1/v``.
    * HE (Hedges 1983): ``(y'P_ols y - tr(P_ols V))/(k - p)``.
    * ML, REML (Viechtbauer 2005): roots of ``y'PPy = sum(w)`` and
      ``y'PPy = tr(P)``, found as metafor does: Fisher scoring from
      ``max(0, HE)``, stopping when a step is <= 1e-5 (100 steps at most;
      if it fails, where metafor stops with an error, the exact root is used
      and noted), then metafor's check that the likelihood at 0 is not higher.
    * PM (Paule & Mandel 1982): root of ``Q(tau2) = k - p`` (generalised Q),
      found as metafor does: 0 if ``Q(0) < k - p``, else R's ``uniroot`` on
      ``[0, max(100, 10 mad(y)^2)]`` with ``tol = eps^0.25``.
    * SJ (Sidik & Jonkman 2005): ``tau0^2 y'P(tau0^2) y/(k - p)`` with
      ``tau0^2 = var(y)(k - 1)/k``.

    As in metafor 3.8.1, tau^2 and Q_E are computed from the mean-centred
    ``y`` (identical for models with an intercept; without one it changes DL,
    HE, SJ, PM, ML and REML, and the tests check that too).

    Heterogeneity: ``Q = y'P_0 y`` on ``k - p`` df (always at ``tau2 = 0``).
    I^2 and H^2 follow metafor (``i2def = "1"``): Q-based for EE, otherwise
    ``I2 = 100 tau2/(vt + tau2)``, ``H2 = tau2/vt + 1`` with
    ``vt = (k - p)/tr(P_0)`` (Higgins & Thompson 2002, eq. 9). PyMARE and
    statsmodels report the Q-based I^2 for every estimator, which differs
    (dat.bcg REML: 92.22 % here and in metafor, 92.12 % Q-based), and
    statsmodels' DL is not truncated at 0 -- hence I^2/H^2 are written out.

    k = 1: with EE the fit is the study itself (Q = 0, I^2 = 0, H^2 = 1); with a
    tau^2 estimator tau^2 is set to 0, as in metafor, and a note says so.
    Identical effects give tau^2 = 0 and, under knha, ``s2w = 0`` (metafor's
    floor), so the SE is 0 and the CI collapses to the estimate.

    References
    ----------
    Viechtbauer W (2010). Conducting meta-analyses in R with the metafor package.
    J Stat Softw 36(3). metafor 3.8.1 ``R/rma.uni.r``.
    """
    method = _normalise_method(method)
    test = _normalise_test(test)
    if tau2_solver not in SOLVERS:
        raise ValueError(
            f"tau2_solver must be 'metafor' or 'exact'; got {tau2_solver!r}"
        )
    level_pct, alpha = level_alpha(level)

    if vi is None and sei is None:
        raise ValueError("give the sampling variances vi (or the standard errors sei)")
    if vi is not None and sei is not None:
        raise ValueError("give either vi or sei, not both")
    y = _as_vector(yi, "yi")
    if y.size == 0:
        raise ValueError("no studies: yi is empty (k = 0)")
    if vi is not None:
        v = _as_vector(vi, "vi")
        vname = "vi"
    else:
        s = _as_vector(sei, "sei")
        if np.any(s <= 0):
            raise ValueError("sei must be positive for every study")
        v = s**2
        vname = "sei"
    if v.size != y.size:
        raise ValueError(
            f"yi has {y.size} values but {vname} has {v.size}; lengths must match"
        )
    if np.any(v <= 0):
        bad = np.flatnonzero(v <= 0)
        raise ValueError(
            f"sampling variances must be positive; {vname} is <= 0 at positions "
            f"{bad[:10].tolist()}"
        )

    k = y.size
    X, names, int_incl = _design(mods, k, intercept)
    p = X.shape[1]
    notes: list[str] = []
    ymc = y - y.mean()  # metafor centres y for tau^2 and Q_E (rma.uni 3.8.1)

    # --- number of studies against number of parameters (metafor's checks) ---
    k1_special = k == 1 and p == 1 and int_incl
    if method == "EE":
        if p > k:
            raise ValueError(
                f"too few studies: {p} coefficients cannot be estimated from k = {k} studies"
            )
    elif k < p + 1 and not k1_special:
        raise ValueError(
            f"too few studies for {method}: estimating tau^2 and {p} coefficient(s) "
            f"needs k >= {p + 1}, but k = {k}"
        )
    if test == "knha" and k <= p:
        raise ValueError(
            f"too few studies for the Knapp-Hartung test: it needs k > p "
            f"(residual df k - p >= 1), but k = {k} and p = {p}"
        )
    if method == "EE" and test == "knha":
        notes.append(
            "Knapp-Hartung is not meant for equal-effects models (metafor warns too)."
        )

    # --- tau^2 ---
    tau0 = math.nan
    if method == "EE":
        tau2 = 0.0
    elif k1_special:
        tau2 = 0.0
        notes.append(
            f"k = 1: tau^2 cannot be estimated and is set to 0 ({method} as metafor)."
        )
    else:
        tau2, tau0 = _estimate_tau2(method, ymc, v, X, tau2_solver, notes)
        tau2 = max(0.0, tau2)

    # --- fixed effects (PyMARE WLS) and Knapp-Hartung scaling (PyMARE) ---
    beta, cov = _wls(y, v, X, tau2)
    s2w = 1.0
    dfs: float | None = None
    if test == "knha":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            kh_cov, _ = pm_stats.knapp_hartung_cov_and_dof(
                y[:, None], v[:, None], X, beta[:, None], cov[:, :, None], tau2=tau2
            )
        kh_cov = np.asarray(kh_cov[:, :, 0], dtype=float)
        diag = np.diag(cov)
        s2w = float(kh_cov[0, 0] / diag[0]) if diag[0] > 0 else 0.0
        vb = kh_cov
        dfs = float(k - p)
    else:
        vb = cov

    se = np.sqrt(np.clip(np.diag(vb), 0.0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        zval = beta / se
    if test == "knha":
        crit = float(stats.t.isf(alpha / 2, dfs))
        pval = 2.0 * stats.t.sf(np.abs(zval), dfs)
    else:
        crit = float(stats.norm.isf(alpha / 2))
        pval = 2.0 * stats.norm.sf(np.abs(zval))
    ci_lb = beta - crit * se
    ci_ub = beta + crit * se

    # --- omnibus test of moderators ---
    QM: float | None = None
    QM_df: tuple[int, int | None] | None = None
    QM_p: float | None = None
    btt = list(range(1, p)) if int_incl else list(range(p))
    if btt:
        b = beta[btt]
        sub = vb[np.ix_(btt, btt)]
        m = len(btt)
        try:
            qm = float(b @ np.linalg.solve(sub, b))
        except np.linalg.LinAlgError:
            qm = math.nan
        if test == "knha":
            QM = qm / m
            QM_df = (m, k - p)
            QM_p = float(stats.f.sf(QM, m, k - p))
        else:
            QM = qm
            QM_df = (m, None)
            QM_p = float(stats.chi2.sf(QM, m))

    # --- heterogeneity: Q_E, I^2, H^2 ---
    if k > p:
        Q = max(0.0, _gen_q(ymc, v, X, 0.0))
        Q_p = float(stats.chi2.sf(Q, k - p))
        P0 = _resid_maker(1.0 / v, X)
        vt = (k - p) / float(np.trace(P0))
        if method == "EE":
            I2 = max(0.0, 100.0 * (Q - (k - p)) / Q) if Q > 0 else 0.0
            H2 = Q / (k - p)
        else:
            I2 = 100.0 * tau2 / (vt + tau2)
            H2 = tau2 / vt + 1.0
    else:
        Q, Q_p, I2, H2, vt = 0.0, 1.0, 0.0, 1.0, math.nan

    # --- SE of tau^2 ---
    se_tau2: float | None
    if method == "EE" or k1_special:
        se_tau2 = None
    else:
        se_tau2 = _se_tau2(method, v, X, tau2, tau0)

    # --- pseudo R^2 ---
    R2: float | None = None
    if int_incl and p > 1:
        if method == "EE":
            R2 = _r2_fixed(y, v, X)
        else:
            try:
                tau2_re = rma(y, v, method=method, tau2_solver=tau2_solver).tau2
            except ValueError:
                R2 = math.nan
            else:
                R2 = (
                    0.0
                    if tau2_re == 0
                    else max(0.0, 100.0 * (tau2_re - tau2) / tau2_re)
                )

    w = 1.0 / (v + tau2)
    weights = 100.0 * w / w.sum()

    return RmaFit(
        k=k,
        p=p,
        method=method,
        test=test,
        beta=beta,
        se=se,
        zval=zval,
        pval=pval,
        ci_lb=ci_lb,
        ci_ub=ci_ub,
        vb=vb,
        tau2=float(tau2),
        se_tau2=se_tau2,
        I2=float(I2),
        H2=float(H2),
        Q=float(Q),
        Q_df=int(k - p),
        Q_p=float(Q_p),
        QM=QM,
        QM_df=QM_df,
        QM_p=QM_p,
        R2=R2,
        dfs=dfs,
        weights=weights,
        yi=y,
        vi=v,
        X=X,
        level=level_pct,
        names=names,
        int_incl=int_incl,
        s2w=s2w,
        vt=float(vt),
        notes=tuple(notes),
        tau2_solver=tau2_solver,
    )


# --------------------------------------------------------------------------- #
# prediction
# --------------------------------------------------------------------------- #


def _new_design(fit: RmaFit, newmods: ArrayLike | None) -> FloatArray:
    n_mods = fit.p - 1 if fit.int_incl else fit.p
    if newmods is None:
        if fit.int_only:
            return np.ones((1, 1))
        return fit.X.copy()
    if n_mods == 0:
        raise ValueError(
            "the model has no moderators; call predict(fit) without newmods"
        )
    arr = np.asarray(newmods, dtype=float)
    if arr.ndim == 0:
        arr = arr.reshape(1, 1)
    elif arr.ndim == 1:
        if n_mods == 1:
            arr = arr[:, None]
        elif arr.size == n_mods:
            arr = arr[None, :]
        else:
            raise ValueError(
                f"newmods has {arr.size} values but the model has {n_mods} moderators"
            )
    if arr.ndim != 2 or arr.shape[1] != n_mods:
        raise ValueError(
            f"newmods must have {n_mods} column(s) (one per moderator, no intercept); "
            f"got shape {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError("newmods has non-finite values")
    if fit.int_incl:
        arr = np.column_stack([np.ones(arr.shape[0]), arr])
    return arr


def predict(
    fit: RmaFit,
    newmods: ArrayLike | None = None,
    *,
    pi: Literal["metafor", "riley", "none"] = "metafor",
    level: float | None = None,
) -> Prediction:
    """Predicted (pooled) effect with confidence and prediction intervals.

    Parameters
    ----------
    fit : RmaFit
        A fitted model.
    newmods : array_like, optional
        Moderator values (without the intercept), one row per prediction; for a
        single moderator a 1-D array gives one prediction per value. None: the
        pooled effect of an intercept-only model, or the fitted values of the
        studies of a meta-regression (as metafor).
    pi : {"metafor", "riley", "none"}, optional
        Prediction interval ``pred -+ c sqrt(se^2 + tau2)``:

        * ``"metafor"``: exactly metafor's ``predict()``: ``c`` is the normal
          quantile, or the t(k - p) quantile under knha (so the PI equals the
          CI when tau^2 = 0).
        * ``"riley"``: Riley, Higgins & Deeks (2011, BMJ 342:d549) / Higgins,
          Thompson & Spiegelhalter (2009), as in the Cochrane Handbook and
          metafor's ``predtype="Riley"``: ``c`` is the t(k - p - 1) quantile,
          i.e. t(k - 2) for a plain meta-analysis (NaN when ``k - p - 1 < 1``).
        * ``"none"``: no PI.

        EE models have no PI (metafor reports NA): ``pi_lb``/``pi_ub`` are None.
    level : float, optional
        Level in percent; default the fit's level.

    Returns
    -------
    Prediction
        Arrays, one entry per prediction.
    """
    if pi not in ("metafor", "riley", "none"):
        raise ValueError(f"pi must be 'metafor', 'riley' or 'none'; got {pi!r}")
    level_pct, alpha = level_alpha(fit.level if level is None else level)
    Xn = _new_design(fit, newmods)
    pred = Xn @ fit.beta
    se = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", Xn, fit.vb, Xn), 0.0, None))
    if fit.test == "knha":
        crit = float(stats.t.isf(alpha / 2, fit.dfs))
    else:
        crit = float(stats.norm.isf(alpha / 2))
    ci_lb = pred - crit * se
    ci_ub = pred + crit * se
    pi_lb: FloatArray | None = None
    pi_ub: FloatArray | None = None
    pi_df: float | None = None
    if pi != "none" and fit.method != "EE":
        if pi == "metafor":
            pcrit = crit
            pi_df = fit.dfs
        else:
            pi_df = float(fit.k - fit.p - 1)
            pcrit = float(stats.t.isf(alpha / 2, pi_df)) if pi_df >= 1 else math.nan
        half = pcrit * np.sqrt(se**2 + fit.tau2)
        pi_lb = pred - half
        pi_ub = pred + half
    return Prediction(
        pred=pred,
        se=se,
        ci_lb=ci_lb,
        ci_ub=ci_ub,
        pi_lb=pi_lb,
        pi_ub=pi_ub,
        level=level_pct,
        pi_method=pi,
        pi_df=pi_df,
    )


# --------------------------------------------------------------------------- #
# Q-profile confidence interval for tau^2
# --------------------------------------------------------------------------- #


def tau2_ci_qprofile(
    fit: RmaFit,
    level: float = 95.0,
    *,
    solver: Literal["metafor", "exact"] | None = None,
) -> tuple[float, float]:
    """Q-profile confidence interval for tau^2 (Viechtbauer 2007), as metafor's ``confint``.

    The bounds solve ``Q(tau2) = chi2_{k-p; 1-alpha/2}`` (lower) and
    ``Q(tau2) = chi2_{k-p; alpha/2}`` (upper) for the generalised Q
    ``sum w_i (y_i - x_i'b)^2``, ``w_i = 1/(v_i + tau2)``; a bound is 0 when
    ``Q(0)`` is already below its quantile. The estimator of the fit does not
    enter (metafor uses the same interval for every method).

    Parameters
    ----------
    fit : RmaFit
        A fitted random-/mixed-effects model with ``k > p``.
    level : float, optional
        Level in percent.
    solver : {"metafor", "exact"}, optional
        Default: the fit's ``tau2_solver``. ``"metafor"`` runs
        ``confint.rma.uni`` 3.8.1 step for step: R's ``uniroot`` with
        ``tol = eps^0.25`` on ``[0, max(100, 10 tau2)]``, and a bound that lies
        beyond that interval is reported as its end (metafor prints ``>``).
        ``"exact"`` uses PyMARE's ``stats.q_profile`` (Brent to 4 eps, no
        upper limit); it differs from metafor by up to ~1e-5 relative because
        ``uniroot`` stops early.

    Returns
    -------
    tuple of float
        ``(lower, upper)``.

    Raises
    ------
    ValueError
        For EE models (metafor: "Model does not contain a random-effects
        component") and when ``k <= p``.

    References
    ----------
    Viechtbauer W (2007). Confidence intervals for the amount of heterogeneity
    in meta-analysis. Stat Med 26:37-52.
    """
    if fit.method == "EE":
        raise ValueError("an EE model has no random-effects component: no CI for tau^2")
    if fit.k <= fit.p:
        raise ValueError(
            f"the Q-profile CI needs k > p (residual df >= 1); k = {fit.k}, p = {fit.p}"
        )
    solver = fit.tau2_solver if solver is None else solver
    if solver not in SOLVERS:
        raise ValueError(f"solver must be 'metafor' or 'exact'; got {solver!r}")
    _, alpha = level_alpha(level)
    if solver == "exact":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = pm_stats.q_profile(fit.yi, fit.vi, fit.X, alpha=alpha)
        return float(out["ci_l"]), float(out["ci_u"])

    df = fit.k - fit.p
    crit_u = float(stats.chi2.isf(alpha / 2, df))
    crit_l = float(stats.chi2.ppf(alpha / 2, df))
    y, v, X = fit.yi, fit.vi, fit.X
    t_min = min(0.0, fit.tau2)
    t_max = max(100.0, fit.tau2 * 10.0, t_min * 10.0)
    q_max = _gen_q(y, v, X, t_max)
    q_min = _gen_q(y, v, X, t_min)

    def solve(crit: float) -> float:
        return _zeroin(lambda t: _gen_q(y, v, X, t) - crit, t_min, t_max)

    if q_min < crit_l:
        lb = ub = t_min
    else:
        ub = t_max if q_max > crit_l else solve(crit_l)
    if q_max > crit_u:
        lb = ub = t_max
    elif q_min < crit_u:
        lb = t_min
    else:
        lb = solve(crit_u)
    return float(lb), float(ub)


def heterogeneity_ci(
    fit: RmaFit,
    level: float = 95.0,
    *,
    solver: Literal["metafor", "exact"] | None = None,
) -> HeterogeneityCI:
    """Q-profile CIs of tau^2, tau, I^2 and H^2, as metafor's ``confint(fit)``.

    I^2 and H^2 bounds are the tau^2 bounds transformed with the fit's typical
    variance ``vt`` (metafor ``confint.rma.uni``): ``I2 = 100 t/(vt + t)``,
    ``H2 = 1 + t/vt``; the estimates are the fit's own tau^2, I^2 and H^2.

    Parameters
    ----------
    fit : RmaFit
        A fitted random-/mixed-effects model with ``k > p``.
    level : float, optional
        Level in percent.
    solver : {"metafor", "exact"}, optional
        See :func:`tau2_ci_qprofile`.

    Returns
    -------
    HeterogeneityCI
    """
    lo, hi = tau2_ci_qprofile(fit, level, solver=solver)
    notes: list[str] = []
    if (fit.tau2_solver if solver is None else solver) == "metafor":
        elo, ehi = tau2_ci_qprofile(fit, level, solver="exact")
        for name, got, exact in (("lower", lo, elo), ("upper", hi, ehi)):
            if abs(got - exact) > _NOTE_RTOL * max(abs(got), abs(exact)):
                notes.append(
                    f"{name} bound: metafor's uniroot(tol = {_R_UNIROOT_TOL:.2g}) stops at "
                    f"{got:.6g}, the exact root is {exact:.6g}; use solver='exact' for "
                    "the exact interval (typical when tau^2 is small in absolute terms)."
                )
    vt = fit.vt

    def i2(t: float) -> float:
        return 100.0 * t / (vt + t)

    def h2(t: float) -> float:
        return t / vt + 1.0

    return HeterogeneityCI(
        tau2=fit.tau2,
        tau2_lb=lo,
        tau2_ub=hi,
        tau=math.sqrt(fit.tau2),
        tau_lb=math.sqrt(lo),
        tau_ub=math.sqrt(hi),
        I2=fit.I2,
        I2_lb=i2(lo),
        I2_ub=i2(hi),
        H2=fit.H2,
        H2_lb=h2(lo),
        H2_ub=h2(hi),
        level=level_alpha(level)[0],
        notes=tuple(notes),
    )


# --------------------------------------------------------------------------- #
# summary
# --------------------------------------------------------------------------- #


def summary_dict(fit: RmaFit, prediction: Prediction | None = None) -> dict[str, Any]:
    """Summarise a fit with the keys of a ``pooled`` entry of the metafor reference JSON.

    Parameters
    ----------
    fit : RmaFit
        A fitted model (the first coefficient is reported).
    prediction : Prediction, optional
        Its prediction; default ``predict(fit)``. The first prediction is used.

    Returns
    -------
    dict
        ``k, estimate, se, ci_lb, ci_ub, pval, zval, tau2, I2, H2, Q, Q_p,
        pi_lb, pi_ub`` as plain Python numbers; ``pi_lb``/``pi_ub`` are None for
        EE models (metafor's NA).
    """
    if prediction is None:
        prediction = predict(fit)
    pi_lb = None if prediction.pi_lb is None else float(prediction.pi_lb[0])
    pi_ub = None if prediction.pi_ub is None else float(prediction.pi_ub[0])
    return {
        "k": fit.k,
        "estimate": float(fit.beta[0]),
        "se": float(fit.se[0]),
        "ci_lb": float(fit.ci_lb[0]),
        "ci_ub": float(fit.ci_ub[0]),
        "pval": float(fit.pval[0]),
        "zval": float(fit.zval[0]),
        "tau2": fit.tau2,
        "I2": fit.I2,
        "H2": fit.H2,
        "Q": fit.Q,
        "Q_p": fit.Q_p,
        "pi_lb": pi_lb,
        "pi_ub": pi_ub,
    }
