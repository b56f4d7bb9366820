r"""Agreement between two reviewers who screened the same records.

:func:`agreement` takes the decisions of reviewer A and reviewer B on the same
records (normally ``"include"``/``"exclude"``, but any number ``q >= 2`` of
categories works) and returns an :class:`Agreement`: the contingency table,
observed agreement, Cohen's kappa, PABAK and Gwet's AC1, each with a
confidence interval, and, for two categories, the prevalence and bias indices
and the proportions of positive and negative agreement.

Notation
--------
``n`` records, ``q`` categories, ``n_kl`` the number of records rater A put in
category ``k`` and rater B in category ``l``, ``p_kl = n_kl / n``, ``p_k.`` and
``p_.k`` the row (rater A) and column (rater B) marginal proportions.

* Observed agreement ``Po = sum_k p_kk``.
* Cohen's kappa ``(Po - Pe) / (1 - Pe)`` with ``Pe = sum_k p_k. p_.k``.
* PABAK ``(q Po - 1) / (q - 1)`` (Byrt, Bishop & Carlin 1993; for ``q > 2`` it
  is Brennan & Prediger's 1981 coefficient), ``2 Po - 1`` for ``q = 2``.
* Gwet's AC1 ``(Po - Pe) / (1 - Pe)`` with
  ``Pe = sum_k pi_k (1 - pi_k) / (q - 1)``, ``pi_k = (p_k. + p_.k) / 2``
  (Gwet 2008).

Confidence intervals
--------------------
* ``Po``: Wilson score interval for a binomial proportion (Wilson 1927), with
  the normal quantile ``z = Phi^-1(1 - (1 - confidence) / 2)``. It stays inside
  [0, 1] and has a non-zero width at ``Po = 0`` or ``1``.
* PABAK: the Po interval mapped through ``(q x - 1) / (q - 1)``, clipped to
  [-1, 1].
* Cohen's kappa: ``kappa +/- z * ASE``, with the large-sample standard error of
  Fleiss, Cohen & Everitt (1969), exactly as
  :func:`statsmodels.stats.inter_rater.cohens_kappa` computes it (``std_kappa``,
  ``kappa_low``, ``kappa_upp``), then clipped to [-1, 1]. statsmodels is not
  called: on a table with ``Pe = 1`` it emits numpy "invalid value" warnings
  (errors under this project's test settings), its variance can come out a
  rounding-level negative, and its interval is fixed at 95%.
* Gwet's AC1: ``AC1 +/- t_{n-1} * SE`` with Gwet's (2008) variance for two
  raters as implemented in ``gwet.ac1.table`` of his irrCAC R package
  (finite-population correction off, ``N = Inf``)::

      var = (1 / (n (1 - Pe)^2)) * ( sum_kl p_kl [w_kl - 2 (1 - AC1)
            (1 - (pi_k + pi_l) / 2) / (q - 1)]^2 - (Po - 2 (1 - AC1) Pe)^2 )

  with ``w_kl = 1`` if ``k == l`` else ``0``, and ``t_{n-1}`` the Student t
  quantile on ``n - 1`` degrees of freedom, as irrCAC does. irrCAC clips only
  the upper bound at 1; here both bounds are clipped to [-1, 1].
  (irrCAC's ``gwet.ac1.raw``, run on the same two complete columns of ratings,
  uses a linearised estimator whose variance is this one times
  ``n / (n - 1)``.)

Degenerate cases
----------------
No numpy warning is raised in any of them; NaN marks what is undefined.

* **One category in play** (``q = 1``: ``categories`` not given and both
  reviewers gave every record the same decision, or a single category given):
  kappa, PABAK and AC1 are all NaN, value and interval. ``Po`` is 1 with its
  Wilson interval. The prevalence and bias indices and the positive and
  negative agreement are NaN because ``q != 2``.
* **Kappa with Pe = 1** (both reviewers used one and the same category for
  every record, even when a second category was given in ``categories``):
  kappa and its interval are NaN. PABAK and AC1 are defined there (both
  equal 1 when ``q >= 2``, since ``Po = 1``).
* **Zero estimated variance** (e.g. perfect agreement with both categories
  present: kappa = AC1 = 1): the asymptotic kappa and AC1 intervals collapse
  to the point estimate ``[1, 1]``. This is a property of the large-sample
  formulas, not a claim of certainty; the Po and PABAK (Wilson) intervals
  keep a width. A tiny negative variance from rounding is treated as 0.
* **n = 1**: the AC1 interval is NaN (no t quantile with 0 degrees of freedom;
  irrCAC also reports none below ``n = 2``). The other intervals are computed
  as usual but mean little.
* **Positive / negative agreement** is NaN when its denominator is 0, e.g.
  positive agreement when neither reviewer ever chose the positive category.

References
----------
Brennan RL, Prediger DJ (1981). Coefficient kappa: some uses, misuses, and
alternatives. Educ Psychol Meas 41:687-699.

Byrt T, Bishop J, Carlin JB (1993). Bias, prevalence and kappa. J Clin
Epidemiol 46:423-429.

Cicchetti DV, Feinstein AR (1990). High agreement but low kappa: II.
Resolving the paradoxes. J Clin Epidemiol 43:551-558.

Fleiss JL, Cohen J, Everitt BS (1969). Large sample standard errors of kappa
and weighted kappa. Psychol Bull 72:323-327.

Gwet KL (2008). Computing inter-rater reliability and its variance in the
presence of high agreement. Br J Math Stat Psychol 61:29-48.

Gwet KL. irrCAC: Computing Chance-Corrected Agreement Coefficients (R
package), function ``gwet.ac1.table``; https://github.com/kgwet/irrCAC.

Wilson EB (1927). Probable inference, the law of succession, and statistical
inference. J Am Stat Assoc 22:209-212.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = ["Agreement", "Estimate", "agreement"]

_NAN = float("nan")


@dataclass(frozen=True)
class Estimate:
    """A point estimate with a confidence interval.

    Attributes
    ----------
    value : float
        The estimate; NaN where the statistic is undefined.
    ci_low : float
        Lower bound of the confidence interval; NaN where it is undefined.
    ci_high : float
        Upper bound of the confidence interval; NaN where it is undefined.
    """

    value: float
    ci_low: float
    ci_high: float


_UNDEFINED = Estimate(_NAN, _NAN, _NAN)


@dataclass(frozen=True)
class Agreement:
    """Agreement between two reviewers' decisions on the same records.

    See the module docstring for the formulas, the confidence-interval methods
    and what each field holds in degenerate cases.

    Attributes
    ----------
    n : int
        Number of records rated by both reviewers.
    categories : tuple of str
        The categories, in table order: those given to :func:`agreement`, in
        the order given, or else the sorted categories seen in the ratings.
    table : tuple of tuple of int
        ``q x q`` contingency table in ``categories`` order: rows are
        reviewer A's decision, columns reviewer B's.
    observed : Estimate
        Observed proportion of agreement ``Po``, with a Wilson score interval.
    kappa : Estimate
        Cohen's kappa with the Fleiss-Cohen-Everitt asymptotic interval.
    pabak : Estimate
        Prevalence- and bias-adjusted kappa ``(q Po - 1) / (q - 1)``, with the
        Wilson interval of ``Po`` transformed the same way.
    ac1 : Estimate
        Gwet's AC1 with Gwet's (2008) variance and a t interval on ``n - 1``
        degrees of freedom.
    prevalence_index : float
        For ``q = 2``: ``|a - d| / n``, where ``a`` is the number of records
        both reviewers put in the positive category (see ``positive``) and
        ``d`` the number both put in the other one. NaN if ``q != 2``.
    bias_index : float
        For ``q = 2``: ``|b - c| / n``, where ``b`` is the number of records
        only reviewer A put in the positive category and ``c`` the number
        only reviewer B did. NaN if ``q != 2``.
    positive_agreement : float
        For ``q = 2``: ``2a / (2a + b + c)`` (Cicchetti & Feinstein 1990).
        NaN if ``q != 2`` or the denominator is 0.
    negative_agreement : float
        For ``q = 2``: ``2d / (2d + b + c)``. NaN if ``q != 2`` or the
        denominator is 0.
    """

    n: int
    categories: tuple[str, ...]
    table: tuple[tuple[int, ...], ...]
    observed: Estimate
    kappa: Estimate
    pabak: Estimate
    ac1: Estimate
    prevalence_index: float
    bias_index: float
    positive_agreement: float
    negative_agreement: float


def agreement(
    ratings_a: Sequence[str],
    ratings_b: Sequence[str],
    categories: Sequence[str] | None = None,
    positive: str | None = None,
    confidence: float = 0.95,
) -> Agreement:
    """Agreement statistics for two reviewers' decisions on the same records.

    Parameters
    ----------
    ratings_a : sequence of str
        Reviewer A's decision for each record.
    ratings_b : sequence of str
        Reviewer B's decision for the same records, in the same order.
    categories : sequence of str, optional
        All categories a reviewer could choose, in the order wanted for the
        table. Categories nobody chose still count towards ``q`` (and so
        change PABAK and AC1, as in irrCAC when given the full table). If
        omitted, the sorted set of categories seen in either sequence is used.
    positive : str, optional
        For two categories, the one counted as ``a`` (e.g. ``"include"``) in
        the prevalence and bias indices and the positive agreement. Defaults
        to the first of ``categories``.
    confidence : float, optional
        Confidence level of all intervals, strictly between 0 and 1.
        Default 0.95.

    Returns
    -------
    Agreement
        The table and the statistics; see :class:`Agreement` and the module
        docstring for the methods and the degenerate cases.

    Raises
    ------
    TypeError
        If ``ratings_a`` or ``ratings_b`` is a single string.
    ValueError
        If the sequences differ in length or are empty, if ``categories`` is
        empty or repeats a category, if a rating is not among the given
        ``categories``, if ``positive`` is not a category, or if
        ``confidence`` is not strictly between 0 and 1.

    Examples
    --------
    >>> res = agreement(["include", "exclude", "exclude", "exclude"],
    ...                 ["include", "exclude", "include", "exclude"],
    ...                 categories=["include", "exclude"])
    >>> res.table
    ((1, 0), (1, 2))
    >>> res.observed.value, res.pabak.value
    (0.75, 0.5)
    """
    if isinstance(ratings_a, str) or isinstance(ratings_b, str):
        raise TypeError("ratings_a and ratings_b must be sequences of ratings, not str")
    a = list(ratings_a)
    b = list(ratings_b)
    if len(a) != len(b):
        raise ValueError(
            f"the two reviewers rated different numbers of records "
            f"({len(a)} and {len(b)}); pass the decisions on the same records "
            f"in the same order"
        )
    n = len(a)
    if n == 0:
        raise ValueError("no records: agreement needs at least one record")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence!r}")

    if categories is None:
        cats = tuple(sorted(set(a) | set(b)))
    else:
        if isinstance(categories, str):
            raise TypeError("categories must be a sequence of categories, not str")
        cats = tuple(categories)
        if not cats:
            raise ValueError("categories is empty")
        if len(set(cats)) != len(cats):
            dupes = sorted({c for c in cats if cats.count(c) > 1})
            raise ValueError(f"categories repeats {dupes}")
        allowed = set(cats)
        for who, ratings in (("A", a), ("B", b)):
            for i, r in enumerate(ratings):
                if r not in allowed:
                    raise ValueError(
                        f"reviewer {who}'s rating {r!r} (record {i}) is not one of "
                        f"the categories {list(cats)}"
                    )
    if positive is not None and positive not in cats:
        raise ValueError(
            f"positive={positive!r} is not one of the categories {list(cats)}"
        )

    index = {c: i for i, c in enumerate(cats)}
    q = len(cats)
    counts = np.zeros((q, q), dtype=np.int64)
    np.add.at(counts, ([index[x] for x in a], [index[y] for y in b]), 1)

    z = float(stats.norm.ppf(1.0 - (1.0 - confidence) / 2.0))
    observed = _wilson(int(np.trace(counts)), n, z)

    if q == 2:
        pos = index[positive] if positive is not None else 0
        neg = 1 - pos
        n_a = int(counts[pos, pos])
        n_b = int(counts[pos, neg])
        n_c = int(counts[neg, pos])
        n_d = int(counts[neg, neg])
        prevalence_index = abs(n_a - n_d) / n
        bias_index = abs(n_b - n_c) / n
        positive_agreement = _ratio(2 * n_a, 2 * n_a + n_b + n_c)
        negative_agreement = _ratio(2 * n_d, 2 * n_d + n_b + n_c)
    else:
        prevalence_index = bias_index = _NAN
        positive_agreement = negative_agreement = _NAN

    return Agreement(
        n=n,
        categories=cats,
        table=tuple(tuple(int(v) for v in row) for row in counts),
        observed=observed,
        kappa=_cohen_kappa(counts, z),
        pabak=_pabak(observed, q),
        ac1=_gwet_ac1(counts, confidence),
        prevalence_index=prevalence_index,
        bias_index=bias_index,
        positive_agreement=positive_agreement,
        negative_agreement=negative_agreement,
    )


def _ratio(num: int, den: int) -> float:
    """``num / den``, or NaN when ``den`` is 0."""
    return num / den if den else _NAN


def _clip(x: float) -> float:
    """Clip a coefficient or bound to [-1, 1] (NaN stays NaN)."""
    return x if math.isnan(x) else min(1.0, max(-1.0, x))


def _wilson(successes: int, n: int, z: float) -> Estimate:
    """Proportion ``successes / n`` with its Wilson score interval."""
    p = successes / n
    z2 = z * z
    denom = 1.0 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z / denom * math.sqrt(max(p * (1.0 - p) / n + z2 / (4 * n * n), 0.0))
    # At p = 0 (p = 1) the lower (upper) Wilson bound is exactly 0 (1); set it
    # so rounding cannot leave the estimate outside its own interval.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return Estimate(p, low, high)


def _pabak(observed: Estimate, q: int) -> Estimate:
    """PABAK and its interval from ``Po`` and its interval; NaN if ``q < 2``."""
    if q < 2:
        return _UNDEFINED

    def f(x: float) -> float:
        return _clip((q * x - 1.0) / (q - 1))

    return Estimate(f(observed.value), f(observed.ci_low), f(observed.ci_high))


def _cohen_kappa(counts: np.ndarray, z: float) -> Estimate:
    """Cohen's kappa with the interval of statsmodels' ``cohens_kappa``.

    The variance is Fleiss, Cohen & Everitt's (1969), written as in
    ``statsmodels.stats.inter_rater.cohens_kappa`` so that the results agree
    to rounding. NaN when ``Pe = 1``.
    """
    n = int(counts.sum())
    rows = counts.sum(axis=1)
    cols = counts.sum(axis=0)
    # Pe == 1 exactly iff sum_k r_k c_k == n^2; test it in integers.
    if int(np.dot(rows, cols)) == n * n:
        return _UNDEFINED
    probs = counts / n
    freq_row = rows / n
    freq_col = cols / n
    n_agree = int(np.trace(counts))
    agree = n_agree / n
    agree_exp = int(np.dot(rows, cols)) / (n * n)
    kappa = (agree - agree_exp) / (1.0 - agree_exp)
    if n_agree == n:
        # Perfect agreement: kappa = 1 and the variance is exactly 0
        # (term_a = term_c = 1, term_b = 0); skip the rounding noise.
        return Estimate(1.0, 1.0, 1.0)

    term_a = float(
        np.sum(np.diag(probs) * (1.0 - (freq_row + freq_col) * (1.0 - kappa)) ** 2)
    )
    off = probs * (freq_col[:, None] + freq_row[None, :]) ** 2
    np.fill_diagonal(off, 0.0)
    term_b = (1.0 - kappa) ** 2 * float(off.sum())
    term_c = (kappa - agree_exp * (1.0 - kappa)) ** 2
    var = (term_a + term_b - term_c) / (1.0 - agree_exp) ** 2 / n
    half = z * math.sqrt(max(var, 0.0))
    return Estimate(_clip(kappa), _clip(kappa - half), _clip(kappa + half))


def _gwet_ac1(counts: np.ndarray, confidence: float) -> Estimate:
    """Gwet's AC1 with the variance of irrCAC's ``gwet.ac1.table``.

    NaN if ``q < 2``; the interval is NaN if ``n < 2``.
    """
    q = counts.shape[0]
    if q < 2:
        return _UNDEFINED
    n = int(counts.sum())
    pkl = counts / n
    pi = (pkl.sum(axis=1) + pkl.sum(axis=0)) / 2.0
    n_agree = int(np.trace(counts))
    pa = n_agree / n
    pe = float(np.sum(pi * (1.0 - pi))) / (q - 1)
    # pe <= 1/q < 1, so 1 - pe >= 1 - 1/q > 0: AC1 is always defined for q >= 2.
    ac1 = (pa - pe) / (1.0 - pe)
    if n < 2:
        return Estimate(_clip(ac1), _NAN, _NAN)
    if n_agree == n:
        # Perfect agreement: AC1 = 1 and the variance is exactly 0
        # (sum1 = Po^2 = 1); skip the rounding noise.
        return Estimate(1.0, 1.0, 1.0)

    weights = np.eye(q)
    u = weights - 2.0 * (1.0 - ac1) * (1.0 - (pi[:, None] + pi[None, :]) / 2.0) / (
        q - 1
    )
    sum1 = float(np.sum(pkl * u**2))
    var = (sum1 - (pa - 2.0 * (1.0 - ac1) * pe) ** 2) / (n * (1.0 - pe) ** 2)
    t = float(stats.t.ppf(1.0 - (1.0 - confidence) / 2.0, n - 1))
    half = t * math.sqrt(max(var, 0.0))
    return Estimate(_clip(ac1), _clip(ac1 - half), _clip(ac1 + half))
