"""Tests for evsynth.screening.agreement.

Reference values come from statsmodels, from published sources (cited in each
test's docstring) or from hand arithmetic on the table written out in the
test; none is copied from this module's own output.
"""

from __future__ import annotations

import math
import warnings
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.inter_rater import cohens_kappa

from evsynth.screening.agreement import Agreement, Estimate, agreement

BINARY = ("include", "exclude")
THREE = ("include", "exclude", "maybe")


def expand(table, categories):
    """Rating lists (rater A = rows, rater B = columns) reproducing a table."""
    a: list[str] = []
    b: list[str] = []
    for i, row in enumerate(table):
        for j, count in enumerate(row):
            a += [categories[i]] * count
            b += [categories[j]] * count
    return a, b


def from_table(table, **kwargs) -> Agreement:
    cats = kwargs.pop("categories", None) or tuple(f"c{i}" for i in range(len(table)))
    a, b = expand(table, cats)
    return agreement(a, b, categories=cats, **kwargs)


def kappa_by_definition(table) -> Fraction:
    """(Po - Pe) / (1 - Pe) in exact arithmetic, as sklearn's cohen_kappa_score."""
    n = sum(map(sum, table))
    q = len(table)
    po = Fraction(sum(table[k][k] for k in range(q)), n)
    rows = [sum(table[k]) for k in range(q)]
    cols = [sum(table[i][k] for i in range(q)) for k in range(q)]
    pe = Fraction(sum(r * c for r, c in zip(rows, cols, strict=True)), n * n)
    return (po - pe) / (1 - pe)


def ac1_se_irrcac(table) -> tuple[float, float]:
    """AC1 and its standard error, transcribed loop by loop from irrCAC's R code.

    ``gwet.ac1.table`` (kgwet/irrCAC, R/agree.coeff2.r) with identity weights
    and ``N = Inf``; kept deliberately literal so it does not share code or
    vectorisation with the module under test.
    """
    q = len(table)
    n = sum(map(sum, table))
    w = [[1.0 if k == j else 0.0 for j in range(q)] for k in range(q)]
    tw = float(q)  # sum(weights) for identity weights
    pa = sum(w[k][j] * table[k][j] / n for k in range(q) for j in range(q))
    pk_ = [sum(table[k]) / n for k in range(q)]
    p_l = [sum(table[k][j] for k in range(q)) / n for j in range(q)]
    pik = [(pk_[k] + p_l[k]) / 2 for k in range(q)]
    pe = tw * sum(p * (1 - p) for p in pik) / (q * (q - 1))
    ac1 = (pa - pe) / (1 - pe)
    sum1 = 0.0
    for k in range(q):
        for j in range(q):
            term = w[k][j] - 2 * (1 - ac1) * tw * (1 - (pik[k] + pik[j]) / 2) / (
                q * (q - 1)
            )
            sum1 += table[k][j] / n * term**2
    var = (1 / (n * (1 - pe) ** 2)) * (sum1 - (pa - 2 * (1 - ac1) * pe) ** 2)
    var = max(var, 1e-100)
    return ac1, math.sqrt(var)


def t_quantile(n: int, confidence: float = 0.95) -> float:
    return float(stats.t.ppf(1 - (1 - confidence) / 2, n - 1))


# --------------------------------------------------------------------------
# 1. Cohen's kappa against statsmodels and against its definition
# --------------------------------------------------------------------------

KAPPA_TABLES = [
    [[40, 9], [6, 45]],
    [[80, 10], [5, 5]],
    [[3, 1], [2, 13]],
    [[12, 30], [7, 251]],
    [[1, 2], [3, 4]],
    [[13, 0, 0], [0, 20, 7], [0, 4, 56]],
    [[10, 5, 2], [3, 20, 4], [1, 6, 9]],
    [[40, 4, 4, 17], [6, 25, 2, 13], [4, 1, 21, 12], [15, 5, 9, 45]],
]


@pytest.mark.parametrize("table", KAPPA_TABLES)
def test_kappa_and_ci_match_statsmodels(table):
    res = from_table(table)
    ref = cohens_kappa(np.array(table))
    # The reference intervals lie inside [-1, 1], so no clipping is involved.
    assert ref.kappa_low >= -1 and ref.kappa_upp <= 1
    assert res.kappa.value == pytest.approx(ref.kappa, abs=1e-10)
    assert res.kappa.ci_low == pytest.approx(ref.kappa_low, abs=1e-10)
    assert res.kappa.ci_high == pytest.approx(ref.kappa_upp, abs=1e-10)


@pytest.mark.parametrize("table", KAPPA_TABLES)
def test_kappa_equals_definition(table):
    assert from_table(table).kappa.value == pytest.approx(
        float(kappa_by_definition(table)), abs=1e-12
    )


@pytest.mark.parametrize("confidence", [0.80, 0.90, 0.99])
def test_kappa_ci_at_other_levels_uses_statsmodels_standard_error(confidence):
    table = [[10, 5, 2], [3, 20, 4], [1, 6, 9]]
    ref = cohens_kappa(np.array(table))
    z = stats.norm.ppf(1 - (1 - confidence) / 2)
    res = from_table(table, confidence=confidence)
    assert res.kappa.ci_low == pytest.approx(ref.kappa - z * ref.std_kappa, abs=1e-10)
    assert res.kappa.ci_high == pytest.approx(ref.kappa + z * ref.std_kappa, abs=1e-10)


# --------------------------------------------------------------------------
# 2. Published worked examples
# --------------------------------------------------------------------------

CONT3X3ABSTRACTORS = [[13, 0, 0], [0, 20, 7], [0, 4, 56]]


def test_irrcac_cont3x3abstractors():
    """Gwet's irrCAC R package README (github.com/kgwet/irrCAC, README.md).

    Dataset ``cont3x3abstractors`` (Gwet 2014, Handbook of Inter-Rater
    Reliability, 4th ed.): 100 pregnancies classified by two abstractors into
    Ectopic / AIU / NIU; rows [13, 0, 0], [0, 20, 7], [0, 4, 56]. Published
    output::

        kappa2.table    Cohen's Kappa     0.7964094
        gwet.ac1.table  Gwet's AC1        0.8493305  se 0.04321747  (0.764,0.935)
        bp2.table       Brennan-Prediger  0.835
        pa2.table       Percent Agreement 0.89

    Tolerance: half a unit in the last printed decimal (5e-8 for 7 decimals,
    5e-9 for the 8-decimal SE, 5e-4 for the 3-decimal interval and BP).
    Brennan-Prediger with identity weights is (q Po - 1)/(q - 1), i.e. PABAK.
    The SE is recovered from the interval half-width / t(0.975, 99), which
    tests the variance formula, not only the point estimate.
    """
    res = from_table(CONT3X3ABSTRACTORS)
    assert res.n == 100
    assert res.observed.value == pytest.approx(0.89, abs=5e-3)
    assert res.kappa.value == pytest.approx(0.7964094, abs=5e-8)
    assert res.ac1.value == pytest.approx(0.8493305, abs=5e-8)
    se = (res.ac1.ci_high - res.ac1.ci_low) / (2 * t_quantile(100))
    assert se == pytest.approx(0.04321747, abs=5e-9)
    assert res.ac1.ci_low == pytest.approx(0.764, abs=5e-4)
    assert res.ac1.ci_high == pytest.approx(0.935, abs=5e-4)
    assert res.pabak.value == pytest.approx(0.835, abs=5e-4)


def test_irrcac_cont4x4diagnosis():
    """irrCAC's ``cont4x4diagnosis`` table, values from the irrCAC Python port.

    223 psychiatric patients, clinical vs research diagnosis (Schizophrenia,
    Bipolar, Depression, Other); rows [40, 4, 4, 17], [6, 25, 2, 13],
    [4, 1, 21, 12], [15, 5, 9, 45]. Expected AC1 0.456, SE 0.043, 95% CI
    (0.371, 0.542) as asserted in afergadis/irrCAC
    ``test/unit/irrCAC/table/test_gwet.py`` (a port of Gwet's R package, with
    results rounded to 3 decimals; tolerance 5e-4).
    """
    table = [[40, 4, 4, 17], [6, 25, 2, 13], [4, 1, 21, 12], [15, 5, 9, 45]]
    res = from_table(table)
    assert res.ac1.value == pytest.approx(0.456, abs=5e-4)
    se = (res.ac1.ci_high - res.ac1.ci_low) / (2 * t_quantile(223))
    assert se == pytest.approx(0.043, abs=5e-4)
    assert res.ac1.ci_low == pytest.approx(0.371, abs=5e-4)
    assert res.ac1.ci_high == pytest.approx(0.542, abs=5e-4)


# Shankar V, Bangdiwala SI (2014). Observer agreement paradoxes in 2x2 tables:
# comparison of agreement measures. BMC Med Res Methodol 14:100, Table 3
# (scenario: Po, kappa, PABAK, AC1). The tables are the paradox examples of
# Feinstein AR, Cicchetti DV (1990). High agreement but low kappa: I. The
# problems of two paradoxes. J Clin Epidemiol 43:543-549, given as
# [[a, b], [c, d]] with a = both "yes".
SHANKAR_BANGDIWALA = [
    # scenario 1, symmetrical balance (F&C Table A: Po .85, Pe .50, kappa .70)
    ([[40, 9], [6, 45]], 0.85, 0.70, 0.70, 0.70),
    # scenario 2, symmetrical imbalance (F&C Table B: Po .85, Pe .78, kappa .32)
    ([[80, 10], [5, 5]], 0.85, 0.32, 0.70, 0.81),
    # scenario 4, paradox 2, symmetrical imbalance
    ([[45, 15], [25, 15]], 0.60, 0.13, 0.20, 0.27),
    # scenario 5, paradox 2, asymmetrical imbalance
    ([[25, 35], [5, 35]], 0.60, 0.26, 0.20, 0.21),
]


@pytest.mark.parametrize(("table", "po", "kappa", "pabak", "ac1"), SHANKAR_BANGDIWALA)
def test_shankar_bangdiwala_2014_table3(table, po, kappa, pabak, ac1):
    """Shankar & Bangdiwala (2014) BMC Med Res Methodol 14:100, Table 3.

    Po, Cohen's kappa, PABAK and Gwet's AC1 for the Feinstein & Cicchetti
    (1990) paradox tables (counts in ``SHANKAR_BANGDIWALA``). Values are
    printed to two decimals, so the tolerance is half a unit in the second
    decimal, 0.005.
    """
    res = from_table(table, categories=("yes", "no"))
    assert res.observed.value == pytest.approx(po, abs=0.005)
    assert res.kappa.value == pytest.approx(kappa, abs=0.005)
    assert res.pabak.value == pytest.approx(pabak, abs=0.005)
    assert res.ac1.value == pytest.approx(ac1, abs=0.005)


def test_wongpakaran_2013_schizoid():
    """Wongpakaran N, Wongpakaran T, Wedding D, Gwet KL (2013).

    A comparison of Cohen's Kappa and Gwet's AC1 when calculating inter-rater
    reliability coefficients: a study conducted with personality disorder
    samples. BMC Med Res Methodol 13:61. Schizoid PD, two raters, 19
    patients: both yes 3, rater 1 only 1, rater 2 only 2, both no 13.
    Published kappa .565 and AC1 .752 (AgreeStat 2011.3; .752 is also the
    smallest AC1 in the abstract).

    Kappa is checked to half a unit of the third decimal (5e-4). The exact
    AC1 of this table is 0.75271 (hand: Po = 16/19, pi_yes = 9/38,
    Pe = 2 pi (1 - pi)), which the paper prints as .752, i.e. truncated, so
    AC1 is checked to one unit of the third decimal (1e-3).
    """
    res = from_table([[3, 1], [2, 13]], categories=("yes", "no"))
    assert res.kappa.value == pytest.approx(0.565, abs=5e-4)
    assert res.ac1.value == pytest.approx(0.752, abs=1e-3)
    assert res.ac1.value >= 0.752  # truncation, not rounding up
    # The AC1 interval reaches past 1 before clipping (irrCAC clips it too).
    assert res.ac1.ci_high == 1.0


@pytest.mark.parametrize(
    ("table", "pi", "bi", "ppos", "pneg"),
    [
        # Hand arithmetic, Byrt et al. (1993) and Cicchetti & Feinstein (1990):
        # PI = |a - d| / n, BI = |b - c| / n, ppos = 2a/(2a+b+c), pneg = 2d/(2d+b+c).
        (
            [[40, 9], [6, 45]],
            Fraction(5, 100),
            Fraction(3, 100),
            Fraction(80, 95),
            Fraction(90, 105),
        ),
        (
            [[80, 10], [5, 5]],
            Fraction(75, 100),
            Fraction(5, 100),
            Fraction(160, 175),
            Fraction(10, 25),
        ),
        (
            [[3, 1], [2, 13]],
            Fraction(10, 19),
            Fraction(1, 19),
            Fraction(6, 9),
            Fraction(26, 29),
        ),
    ],
)
def test_prevalence_bias_and_specific_agreement(table, pi, bi, ppos, pneg):
    res = from_table(table, categories=BINARY, positive="include")
    assert res.prevalence_index == pytest.approx(float(pi), abs=1e-12)
    assert res.bias_index == pytest.approx(float(bi), abs=1e-12)
    assert res.positive_agreement == pytest.approx(float(ppos), abs=1e-12)
    assert res.negative_agreement == pytest.approx(float(pneg), abs=1e-12)

    flipped = from_table(table, categories=BINARY, positive="exclude")
    assert flipped.prevalence_index == pytest.approx(float(pi), abs=1e-12)
    assert flipped.bias_index == pytest.approx(float(bi), abs=1e-12)
    assert flipped.positive_agreement == pytest.approx(float(pneg), abs=1e-12)
    assert flipped.negative_agreement == pytest.approx(float(ppos), abs=1e-12)


def test_positive_defaults_to_first_category():
    a, b = expand([[3, 1], [2, 13]], ("yes", "no"))
    given_order = agreement(a, b, categories=("yes", "no"))
    assert given_order.categories == ("yes", "no")
    assert given_order.positive_agreement == pytest.approx(6 / 9)
    seen = agreement(a, b)  # sorted: ("no", "yes"), so "no" is positive
    assert seen.categories == ("no", "yes")
    assert seen.table == ((13, 2), (1, 3))
    assert seen.positive_agreement == pytest.approx(26 / 29)


def test_observed_ci_is_wilson_and_pabak_ci_its_transform():
    """Wilson (1927) interval, written out here for x = 85 of n = 100."""
    res = from_table([[40, 9], [6, 45]], categories=BINARY)
    z = stats.norm.ppf(0.975)
    n, p = 100, 0.85
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    assert res.observed.ci_low == pytest.approx(centre - half, abs=1e-12)
    assert res.observed.ci_high == pytest.approx(centre + half, abs=1e-12)
    assert res.pabak.ci_low == pytest.approx(2 * (centre - half) - 1, abs=1e-12)
    assert res.pabak.ci_high == pytest.approx(2 * (centre + half) - 1, abs=1e-12)

    three = from_table(CONT3X3ABSTRACTORS)
    assert three.pabak.ci_low == pytest.approx(
        (3 * three.observed.ci_low - 1) / 2, abs=1e-12
    )
    assert three.pabak.ci_high == pytest.approx(
        (3 * three.observed.ci_high - 1) / 2, abs=1e-12
    )


def test_unused_given_category_counts_towards_q():
    """irrCAC on the 4x4 table with an empty fourth row and column."""
    table4 = [[13, 0, 0, 0], [0, 20, 7, 0], [0, 4, 56, 0], [0, 0, 0, 0]]
    ac1, se = ac1_se_irrcac(table4)
    a, b = expand(CONT3X3ABSTRACTORS, ("a", "b", "c"))
    res = agreement(a, b, categories=("a", "b", "c", "d"))
    assert len(res.table) == 4
    assert res.ac1.value == pytest.approx(ac1, abs=1e-12)
    assert res.ac1.ci_high - res.ac1.ci_low == pytest.approx(
        2 * se * t_quantile(100), abs=1e-12
    )
    assert res.pabak.value == pytest.approx((4 * 0.89 - 1) / 3, abs=1e-12)


# --------------------------------------------------------------------------
# Degenerate cases (documented in the module docstring)
# --------------------------------------------------------------------------


def all_nan(e: Estimate) -> bool:
    return math.isnan(e.value) and math.isnan(e.ci_low) and math.isnan(e.ci_high)


def test_everyone_excludes_with_both_categories_given():
    res = agreement(["exclude"] * 20, ["exclude"] * 20, categories=BINARY)
    assert res.table == ((0, 0), (0, 20))
    assert all_nan(res.kappa)  # Pe = 1
    assert res.observed.value == 1.0
    assert res.observed.ci_high == 1.0
    assert res.observed.ci_low < 1.0
    assert res.pabak.value == 1.0
    assert res.ac1 == Estimate(1.0, 1.0, 1.0)  # Pe(AC1) = 0, variance 0
    assert res.prevalence_index == 1.0
    assert res.bias_index == 0.0
    assert math.isnan(res.positive_agreement)
    assert res.negative_agreement == 1.0


def test_everyone_excludes_without_categories_is_one_category():
    res = agreement(["exclude"] * 5, ["exclude"] * 5)
    assert res.categories == ("exclude",)
    assert res.table == ((5,),)
    assert res.observed.value == 1.0
    assert all_nan(res.kappa) and all_nan(res.pabak) and all_nan(res.ac1)
    assert math.isnan(res.prevalence_index) and math.isnan(res.bias_index)
    assert math.isnan(res.positive_agreement) and math.isnan(res.negative_agreement)


def test_single_record():
    same = agreement(["include"], ["include"], categories=BINARY)
    assert all_nan(same.kappa)
    assert same.ac1.value == 1.0
    assert math.isnan(same.ac1.ci_low) and math.isnan(same.ac1.ci_high)

    differ = agreement(["include"], ["exclude"], categories=BINARY)
    assert differ.observed.value == 0.0
    assert differ.kappa.value == pytest.approx(
        float(kappa_by_definition([[0, 1], [0, 0]]))
    )
    assert differ.pabak.value == -1.0
    assert differ.ac1.value == -1.0
    assert math.isnan(differ.ac1.ci_low)


def test_perfect_agreement_with_both_categories():
    a = ["include"] * 7 + ["exclude"] * 30
    res = agreement(a, list(a))
    assert res.kappa == Estimate(1.0, 1.0, 1.0)
    assert res.ac1 == Estimate(1.0, 1.0, 1.0)
    assert res.pabak.value == 1.0
    assert res.pabak.ci_low < 1.0


def test_total_disagreement_is_minus_one():
    a = ["include"] * 10 + ["exclude"] * 10
    b = ["exclude"] * 10 + ["include"] * 10
    res = agreement(a, b)
    assert res.kappa.value == -1.0
    assert res.pabak.value == -1.0
    assert res.ac1.value == -1.0
    assert res.kappa.ci_low >= -1.0 and res.ac1.ci_low >= -1.0


def test_three_categories_leave_binary_indices_undefined():
    res = from_table(CONT3X3ABSTRACTORS)
    assert math.isnan(res.prevalence_index) and math.isnan(res.bias_index)
    assert math.isnan(res.positive_agreement) and math.isnan(res.negative_agreement)


def test_wider_interval_at_higher_confidence():
    lo = from_table([[10, 5, 2], [3, 20, 4], [1, 6, 9]], confidence=0.90)
    hi = from_table([[10, 5, 2], [3, 20, 4], [1, 6, 9]], confidence=0.99)
    for name in ("observed", "kappa", "pabak", "ac1"):
        e_lo, e_hi = getattr(lo, name), getattr(hi, name)
        assert e_lo.value == e_hi.value
        assert e_hi.ci_low < e_lo.ci_low < e_lo.value < e_lo.ci_high < e_hi.ci_high


def test_results_are_plain_python_types():
    res = from_table([[3, 1], [2, 13]])
    assert type(res.n) is int
    assert all(type(v) is int for row in res.table for v in row)
    for e in (res.observed, res.kappa, res.pabak, res.ac1):
        assert all(type(x) is float for x in (e.value, e.ci_low, e.ci_high))


# --------------------------------------------------------------------------
# 3. Properties
# --------------------------------------------------------------------------


@st.composite
def rating_pairs(draw, cats):
    n = draw(st.integers(min_value=1, max_value=60))
    a = draw(st.lists(st.sampled_from(cats), min_size=n, max_size=n))
    b = draw(st.lists(st.sampled_from(cats), min_size=n, max_size=n))
    given_cats = draw(st.booleans())
    return a, b, (cats if given_cats else None)


def in_unit_range(x: float) -> bool:
    return -1.0 <= x <= 1.0


def check_estimate(e: Estimate, value_undefined: bool, ci_undefined: bool) -> None:
    if value_undefined:
        assert all_nan(e)
        return
    assert in_unit_range(e.value)
    if ci_undefined:
        assert math.isnan(e.ci_low) and math.isnan(e.ci_high)
    else:
        assert in_unit_range(e.ci_low) and in_unit_range(e.ci_high)
        assert e.ci_low <= e.value + 1e-12 and e.value <= e.ci_high + 1e-12


PROPERTY_SETTINGS = settings(max_examples=150, deadline=None)


@PROPERTY_SETTINGS
@given(st.one_of(rating_pairs(BINARY), rating_pairs(THREE)))
def test_property_ranges_and_nan_only_when_documented(data):
    a, b, cats = data
    res = agreement(a, b, categories=cats)
    n = len(a)
    q = len(res.categories)
    one_category_used = len(set(a) | set(b)) == 1

    assert res.n == n
    assert sum(map(sum, res.table)) == n
    for i, ci in enumerate(res.categories):
        for j, cj in enumerate(res.categories):
            expected = sum(1 for x, y in zip(a, b, strict=True) if x == ci and y == cj)
            assert res.table[i][j] == expected

    assert (
        0.0 <= res.observed.ci_low <= res.observed.value <= res.observed.ci_high <= 1.0
    )
    check_estimate(res.kappa, value_undefined=one_category_used, ci_undefined=False)
    check_estimate(res.pabak, value_undefined=q < 2, ci_undefined=False)
    check_estimate(res.ac1, value_undefined=q < 2, ci_undefined=n < 2)

    if q == 2:
        assert 0.0 <= res.prevalence_index <= 1.0
        assert 0.0 <= res.bias_index <= 1.0
        for x in (res.positive_agreement, res.negative_agreement):
            assert math.isnan(x) or 0.0 <= x <= 1.0
    else:
        assert math.isnan(res.prevalence_index) and math.isnan(res.bias_index)


def same(x: float, y: float) -> bool:
    return (math.isnan(x) and math.isnan(y)) or math.isclose(x, y, abs_tol=1e-12)


@PROPERTY_SETTINGS
@given(st.one_of(rating_pairs(BINARY), rating_pairs(THREE)))
def test_property_swapping_raters(data):
    a, b, cats = data
    ab = agreement(a, b, categories=cats)
    ba = agreement(b, a, categories=cats)
    assert ba.table == tuple(zip(*ab.table, strict=True))
    for name in ("observed", "kappa", "pabak", "ac1"):
        x, y = getattr(ab, name), getattr(ba, name)
        assert (
            same(x.value, y.value)
            and same(x.ci_low, y.ci_low)
            and same(x.ci_high, y.ci_high)
        )
    for name in (
        "prevalence_index",
        "bias_index",
        "positive_agreement",
        "negative_agreement",
    ):
        assert same(getattr(ab, name), getattr(ba, name))


@PROPERTY_SETTINGS
@given(
    st.lists(st.sampled_from(BINARY), min_size=2, max_size=60).filter(
        lambda r: len(set(r)) == 2
    )
    | st.lists(st.sampled_from(THREE), min_size=2, max_size=60).filter(
        lambda r: len(set(r)) >= 2
    )
)
def test_property_perfect_agreement_is_one(ratings):
    res = agreement(ratings, list(ratings))
    assert res.kappa.value == 1.0
    assert res.pabak.value == 1.0
    assert res.ac1.value == 1.0


@PROPERTY_SETTINGS
@given(st.one_of(rating_pairs(BINARY), rating_pairs(THREE)))
def test_property_kappa_matches_statsmodels_and_definition(data):
    a, b, cats = data
    res = agreement(a, b, categories=cats)
    table = [list(row) for row in res.table]
    if len(set(a) | set(b)) == 1:
        return  # Pe = 1: kappa undefined, covered above
    assert res.kappa.value == pytest.approx(
        float(kappa_by_definition(table)), abs=1e-10
    )
    with warnings.catch_warnings():
        # statsmodels divides by zero / takes sqrt of a rounding-negative
        # variance on some of these tables; we only compare where it is finite.
        warnings.simplefilter("ignore")
        ref = cohens_kappa(np.array(table))
        low, upp = float(ref.kappa_low), float(ref.kappa_upp)
    if math.isfinite(low) and math.isfinite(upp):
        assert res.kappa.ci_low == pytest.approx(max(-1.0, min(1.0, low)), abs=1e-10)
        assert res.kappa.ci_high == pytest.approx(max(-1.0, min(1.0, upp)), abs=1e-10)


@PROPERTY_SETTINGS
@given(st.one_of(rating_pairs(BINARY), rating_pairs(THREE)))
def test_property_ac1_matches_irrcac_transcription(data):
    a, b, cats = data
    res = agreement(a, b, categories=cats)
    q = len(res.categories)
    if q < 2:
        return
    table = [list(row) for row in res.table]
    ac1, se = ac1_se_irrcac(table)
    assert res.ac1.value == pytest.approx(max(-1.0, min(1.0, ac1)), abs=1e-10)
    if res.n >= 2 and res.observed.value == 1.0:
        # Perfect agreement: the variance is exactly 0; the literal R formula
        # leaves ~1e-16 of rounding noise, so compare with the exact answer.
        assert (res.ac1.ci_low, res.ac1.ci_high) == (1.0, 1.0)
    elif res.n >= 2:
        t = t_quantile(res.n)
        # a variance that is 0 up to rounding (e.g. 1e-15 from the literal R
        # formula) leaves a CI of width t*sqrt(1e-15); ours is exactly 0 there
        tol = 1e-10 if se > 1e-6 else 1e-10 + t * se
        assert res.ac1.ci_low == pytest.approx(max(-1.0, ac1 - t * se), abs=tol)
        assert res.ac1.ci_high == pytest.approx(min(1.0, ac1 + t * se), abs=tol)


# --------------------------------------------------------------------------
# 4. Errors
# --------------------------------------------------------------------------


def test_unequal_lengths():
    with pytest.raises(ValueError, match="different numbers of records"):
        agreement(["include", "exclude"], ["include"])


def test_no_records():
    with pytest.raises(ValueError, match="no records"):
        agreement([], [])


@pytest.mark.parametrize("who", ["A", "B"])
def test_rating_not_in_categories(who):
    good, bad = ["include", "exclude"], ["include", "unsure"]
    a, b = (bad, good) if who == "A" else (good, bad)
    with pytest.raises(ValueError, match=f"reviewer {who}'s rating 'unsure'"):
        agreement(a, b, categories=BINARY)


def test_positive_not_a_category():
    with pytest.raises(ValueError, match="positive='yes'"):
        agreement(["include"], ["exclude"], positive="yes")


def test_bad_categories():
    with pytest.raises(ValueError, match="empty"):
        agreement(["include"], ["include"], categories=[])
    with pytest.raises(ValueError, match="repeats"):
        agreement(["include"], ["include"], categories=["include", "include"])


@pytest.mark.parametrize("confidence", [0.0, 1.0, -0.5, 95])
def test_bad_confidence(confidence):
    with pytest.raises(ValueError, match="confidence"):
        agreement(["include"], ["include"], confidence=confidence)


def test_string_instead_of_sequence():
    with pytest.raises(TypeError):
        agreement("include", "include")
