"""Tests for evsynth.effects.formulas.

Expected values come from metafor 3.8.1 (the JSON references in
``shared/validation/metafor``), from worked examples printed in handbooks and
package documentation (cited at each test), or from the published formula
written out independently in the test (``math.lgamma``, scipy quantiles). None
is copied from this module's own output.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats

from evsynth.effects import formulas as fm
from evsynth.effects.formulas import Effect

# ---------------------------------------------------------------------------
# independent helpers (the published formulas, written out again)


def c_exact(m: float) -> float:
    """Hedges (1981) c(m) = Gamma(m/2) / (sqrt(m/2) Gamma((m-1)/2))."""
    return math.exp(math.lgamma(m / 2) - math.lgamma((m - 1) / 2)) / math.sqrt(m / 2)


def h_wwc(big_n: float, n: float, rho: float) -> float:
    """WWC v5.0 Eq. E.21, typed in from VIVECampbell's df_h documentation."""
    num = ((big_n - 2) - 2 * (n - 1) * rho) ** 2
    den = (
        (big_n - 2) * (1 - rho) ** 2
        + n * (big_n - 2 * n) * rho**2
        + 2 * (big_n - 2 * n) * rho * (1 - rho)
    )
    return num / den


def close(a: float, b: float, rel: float = 1e-12, abs_: float = 1e-14) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


# ---------------------------------------------------------------------------
# metafor escalc references

# measure -> (formula, CSV columns in the formula's argument order)
METAFOR_INPUTS: dict[str, tuple[Callable[..., Effect], tuple[str, ...]]] = {
    "SMD": (fm.smd_means, ("mean_t", "sd_t", "n_t", "mean_c", "sd_c", "n_c")),
    "MD": (fm.md_means, ("mean_t", "sd_t", "n_t", "mean_c", "sd_c", "n_c")),
    "OR": (fm.or_2x2, ("events_t", "n_t", "events_c", "n_c")),
    "RR": (fm.rr_2x2, ("events_t", "n_t", "events_c", "n_c")),
    "RD": (fm.rd_2x2, ("events_t", "n_t", "events_c", "n_c")),
}
#: relative tolerance against metafor (we reach ~1e-15; the brief asks for 1e-6)
METAFOR_RTOL = 1e-10


def _metafor_dir(shared: Path) -> Path:
    folder = shared / "validation" / "metafor"
    if not folder.is_dir():
        pytest.skip(f"metafor references not found at {folder}")
    return folder


@pytest.mark.shared
def test_every_metafor_effects_key_matches(shared: Path) -> None:
    """Each ``effects_<MEASURE>`` key in every metafor JSON, row by row.

    The keys are discovered, so a new measure without a formula fails here.
    """
    folder = _metafor_dir(shared)
    found: set[str] = set()
    problems: list[str] = []
    worst: dict[str, tuple[float, float]] = {}
    for path in sorted(folder.glob("*.json")):
        ref = json.loads(path.read_text(encoding="utf-8"))
        keys = [k for k in ref if k.startswith("effects_")]
        if not keys:
            continue
        with path.with_suffix(".csv").open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        for key in keys:
            measure = key.removeprefix("effects_")
            label = f"{path.name}:{key}"
            if measure not in METAFOR_INPUTS:
                problems.append(f"{label}: no formula for measure {measure!r}")
                continue
            found.add(measure)
            func, columns = METAFOR_INPUTS[measure]
            yis, vis = ref[key]["yi"], ref[key]["vi"]
            assert len(yis) == len(vis) == len(rows), label
            e_y = e_v = 0.0
            for i, row in enumerate(rows):
                eff = func(*(float(row[c]) for c in columns))
                assert eff.measure == measure, label
                e_y = max(e_y, abs(eff.yi - yis[i]) / max(abs(yis[i]), 1e-300))
                e_v = max(e_v, abs(eff.vi - vis[i]) / vis[i])
            worst[label] = (e_y, e_v)
            if e_y > METAFOR_RTOL or e_v > METAFOR_RTOL:
                problems.append(f"{label}: max rel. error yi {e_y:.2e}, vi {e_v:.2e}")
    print("max relative error vs metafor (yi, vi):", worst)
    assert not problems, "\n".join(problems)
    # the test must not pass vacuously
    assert {"SMD", "MD", "OR", "RR", "RD"} <= found


def test_metafor_smd_from_p_documented_example() -> None:
    """metafor man/escalc.Rd, section 1a: ``escalc("SMD", pi=-0.018, n1i=20,
    n2i=20)`` gives -0.7664 (metafor uses the sign of p; we use direction)."""
    eff = fm.smd_p(0.018, 20, 20, direction=-1)
    assert eff.yi == pytest.approx(-0.7664, abs=5e-5)
    assert eff.notes[0].startswith("t from two-sided p = 0.018 on 38 df")


def test_zero_cells_follow_metafor_defaults() -> None:
    """escalc add=1/2, to="only0" (man/escalc.Rd 1b): 1/2 added to all four cells
    of a table with a zero cell, for OR, RR and RD (R/escalc.r)."""
    # 0/10 vs 5/10 -> cells 0.5, 10.5, 5.5, 5.5; groups 11 and 11
    or_ = fm.or_2x2(0, 10, 5, 10)
    assert or_.yi == pytest.approx(math.log((0.5 / 10.5) / (5.5 / 5.5)), rel=1e-12)
    assert or_.vi == pytest.approx(1 / 0.5 + 1 / 10.5 + 1 / 5.5 + 1 / 5.5, rel=1e-12)
    rr = fm.rr_2x2(0, 10, 5, 10)
    assert rr.yi == pytest.approx(math.log((0.5 / 11) / (5.5 / 11)), rel=1e-12)
    assert rr.vi == pytest.approx(1 / 0.5 - 1 / 11 + 1 / 5.5 - 1 / 11, rel=1e-12)
    rd = fm.rd_2x2(0, 10, 5, 10)
    p1, p2 = 0.5 / 11, 5.5 / 11
    assert rd.yi == pytest.approx(p1 - p2, rel=1e-12)
    assert rd.vi == pytest.approx(p1 * (1 - p1) / 11 + p2 * (1 - p2) / 11, rel=1e-12)
    for eff in (or_, rr, rd):
        assert any("0.5 added to every cell" in n for n in eff.notes)
    # no zero cell: nothing added, no note
    assert fm.or_2x2(3, 10, 5, 10).notes == ()
    # double zero: kept (drop00=FALSE), OR = 1, and said so
    both = fm.or_2x2(0, 10, 0, 12)
    assert both.yi == pytest.approx(math.log((0.5 / 10.5) / (0.5 / 12.5)), rel=1e-12)
    assert any("no events in either group" in n for n in both.notes)
    assert any("in both groups" in n for n in fm.rr_2x2(10, 10, 12, 12).notes)


# ---------------------------------------------------------------------------
# worked examples from handbooks


def test_cochrane_sd_from_ci_small_sample_example() -> None:
    """Cochrane Handbook v6.4 section 6.5.2.2 (= v5.1 7.7.3.2): for a group of 25
    the 95% CI is 2 x 2.0639 = 4.128 standard errors wide, not 3.92."""
    lower, upper = 10.0, 14.0
    expected = math.sqrt(25) * (upper - lower) / 4.128
    assert fm.sd_from_ci(lower, upper, 25) == pytest.approx(expected, rel=1e-4)
    # without the small-sample rule, or for large groups: 3.92 (90%: 3.29; 99%: 5.15)
    big = fm.sd_from_ci(lower, upper, 25, small_sample=False)
    assert big == pytest.approx(5 * 4 / 3.92, rel=1e-4)
    assert fm.sd_from_ci(lower, upper, 100) == pytest.approx(10 * 4 / 3.92, rel=1e-4)
    assert fm.sd_from_ci(lower, upper, 100, level=0.90) == pytest.approx(
        10 * 4 / 3.29, rel=5e-4
    )
    assert fm.sd_from_ci(lower, upper, 100, level=0.99) == pytest.approx(
        10 * 4 / 5.15, rel=5e-4
    )
    # the t rule (wider quantile, smaller SD) applies below 60 only
    assert fm.sd_from_ci(lower, upper, 59) < fm.sd_from_ci(
        lower, upper, 59, 0.95, False
    )
    assert fm.sd_from_ci(lower, upper, 60) == fm.sd_from_ci(
        lower, upper, 60, 0.95, False
    )


def test_cochrane_sd_from_se() -> None:
    """Cochrane Handbook v6.4 section 6.5.2.2: SD = SE x sqrt(N)."""
    assert fm.sd_from_se(1.5, 36) == pytest.approx(9.0, rel=1e-15)


def test_wwc_h_check_value() -> None:
    """WWC Handbook v5.0 Eq. E.21 (p. 171); VIVECampbell ``df_h(N_total = 100,
    ICC = 0.1, avg_grp_size = 5)`` prints 94.4."""
    assert fm.wwc_cluster_df(100, 5, 0.1) == pytest.approx(94.40, abs=0.005)
    # h = N - 2 without clustering (rho = 0) or with clusters of one
    assert fm.wwc_cluster_df(100, 5, 0.0) == pytest.approx(98.0, rel=1e-14)
    assert fm.wwc_cluster_df(100, 1, 0.3) == pytest.approx(98.0, rel=1e-14)


def test_borenstein_ch4_worked_example() -> None:
    """Borenstein, Hedges, Higgins & Rothstein (2009), Introduction to
    Meta-Analysis, ch. 4: means 103 / 100, SDs 5.5 / 4.5, n 50 / 50 give
    S_within = 5.0249, d = 0.5970, V_d = 0.0418, J = 0.9923, g = 0.5924 and
    V_g = J^2 V_d = 0.0411 (book values to 4 dp).

    The book's J is the approximation 1 - 3/(4 df - 1), so exact=False. Its
    V_g = J^2 V_d is metafor's vtype="LS2"; our variance is metafor's default
    "LS", 1/n1 + 1/n2 + g^2/(2N), which is larger here (0.04175 vs 0.04114).
    (The brief's g = 0.5954 is inconsistent with d x J = 0.5970 x 0.9923.)
    """
    eff = fm.smd_means(103, 5.5, 50, 100, 4.5, 50, exact=False)
    j = fm.hedges_correction(98, exact=False)
    assert j == pytest.approx(0.9923, abs=5e-5)
    assert eff.yi == pytest.approx(0.5924, abs=5e-5)  # g
    d = eff.yi / j
    assert d == pytest.approx(0.5970, abs=5e-5)
    assert 3 / d == pytest.approx(5.0249, abs=5e-4)  # S_within
    v_d = 1 / 50 + 1 / 50 + d**2 / (2 * 100)
    assert v_d == pytest.approx(0.0418, abs=5e-5)
    assert j**2 * v_d == pytest.approx(0.0411, abs=5e-5)  # the book's V_g
    # metafor LS form, from the book's g
    assert eff.vi == pytest.approx(0.04 + 0.5924**2 / 200, abs=1e-6)
    assert abs(eff.vi - 0.0411) > 5e-4
    # the exact correction changes g by ~3e-6 only (error ~0.043 / m^2)
    exact = fm.smd_means(103, 5.5, 50, 100, 4.5, 50)
    assert exact.yi == pytest.approx(0.5924, abs=5e-5)
    assert abs(exact.yi - eff.yi) < 1e-5


def test_hedges_correction_exact_and_approximate() -> None:
    """c(m) against the gamma-function definition and the approximation."""
    for m in (2, 3, 4, 10, 38, 98, 343, 344, 10_000, 94.4029):
        # lgamma differences lose ~1e-12 relative precision for large m
        assert fm.hedges_correction(m) == pytest.approx(c_exact(m), rel=1e-10)
        assert fm.hedges_correction(m, exact=False) == pytest.approx(
            1 - 3 / (4 * m - 1), rel=1e-15
        )
    # WWC's omega = 1 - 3/(4N - 9) with m = N - 2
    assert fm.hedges_correction(98, exact=False) == pytest.approx(1 - 3 / (4 * 100 - 9))
    # c(4) = Gamma(2) / (sqrt(2) Gamma(1.5)) = 1 / (sqrt(2) * sqrt(pi) / 2)
    assert fm.hedges_correction(4) == pytest.approx(
        2 / math.sqrt(2 * math.pi), rel=1e-14
    )
    # no overflow where the naive gamma ratio overflows (metafor notes mi >= 344)
    assert 0.99 < fm.hedges_correction(1e6) < 1


# ---------------------------------------------------------------------------
# other formulas, written out


def test_smd_t_f_d_g_agree_with_means() -> None:
    """One study reported five ways gives one g (t = d / sqrt(1/n1 + 1/n2))."""
    n_t, n_c = 31.0, 44.0
    ref = fm.smd_means(12.0, 3.0, n_t, 10.5, 3.4, n_c)
    d = ref.yi / c_exact(n_t + n_c - 2)
    t = d / math.sqrt(1 / n_t + 1 / n_c)
    for eff in (
        fm.smd_t(t, n_t, n_c),
        fm.smd_f(t**2, n_t, n_c, direction=1),
        fm.smd_from_d(d, n_t, n_c),
        fm.smd_from_g(ref.yi, n_t, n_c),
    ):
        assert eff.measure == "SMD"
        assert eff.yi == pytest.approx(ref.yi, rel=1e-12)
        assert eff.vi == pytest.approx(ref.vi, rel=1e-12)
    assert fm.smd_f(t**2, n_t, n_c, direction=-1).yi == pytest.approx(
        -ref.yi, rel=1e-12
    )
    assert fm.smd_f(0.0, n_t, n_c, direction=1).yi == 0.0


def test_smd_p_one_gives_zero_and_note() -> None:
    eff = fm.smd_p(1.0, 50, 60, direction=1)
    assert eff.yi == 0.0
    assert eff.vi == pytest.approx(1 / 50 + 1 / 60, rel=1e-15)
    note = fm.smd_p(0.03, 78, 78, direction=1).notes[0]
    assert note.startswith("t from two-sided p = 0.03 on 154 df")


def test_md_means_formula() -> None:
    eff = fm.md_means(20.0, 4.0, 16, 17.0, 6.0, 9)
    assert (eff.yi, eff.measure, eff.method) == (3.0, "MD", "md_means")
    assert eff.vi == pytest.approx(16 / 16 + 36 / 9, rel=1e-15)


def test_generic_effects_and_ci() -> None:
    """conv.wald (R/conv.wald.r): vi = ((ub - lb) / (2 z))^2; Cochrane 6.3.2 for
    ratios: logs first."""
    z = stats.norm.ppf(0.975)
    eff = fm.effect_from_ci(0.30, 0.10, 0.50, "SMD")
    assert eff.vi == pytest.approx((0.40 / (2 * z)) ** 2, rel=1e-14)
    rr = fm.effect_from_ci(0.8, 0.64, 1.0, "RR")
    assert rr.yi == pytest.approx(math.log(0.8), rel=1e-14)
    assert rr.vi == pytest.approx(((math.log(1.0) - math.log(0.64)) / (2 * z)) ** 2)
    z90 = stats.norm.ppf(0.95)
    assert fm.effect_from_ci(1, 0, 2, "MD", level=0.90).vi == pytest.approx(
        (1 / z90) ** 2
    )
    assert fm.effect_from_se(-0.2, 0.1, "RD").vi == pytest.approx(0.01, rel=1e-15)
    assert fm.effect_from_vi(1.5, 0.4, "MD").vi == 0.4
    # an estimate far off the middle of its CI is flagged, as conv.wald warns
    skewed = fm.effect_from_ci(0.1, 0.0, 1.0, "MD")
    assert any("off its middle" in n for n in skewed.notes)
    assert not any("off its middle" in n for n in eff.notes)
    # Effect.se and Effect.ci
    assert eff.se == pytest.approx(0.40 / (2 * z), rel=1e-14)
    lo, hi = eff.ci()
    assert (lo, hi) == (pytest.approx(0.10, rel=1e-12), pytest.approx(0.50, rel=1e-12))


def test_smd_adjusted_formula() -> None:
    """g = omega b / S; vi = (omega SE / S)^2 + g^2 / (2(N - 2)); CI -> SE."""
    b, s, se, n_t, n_c = 2.4, 8.0, 1.1, 40.0, 45.0
    omega = c_exact(n_t + n_c - 2)
    g = omega * b / s
    eff = fm.smd_adjusted(b, s, n_t, n_c, se=se)
    assert eff.yi == pytest.approx(g, rel=1e-13)
    assert eff.vi == pytest.approx((omega * se / s) ** 2 + g**2 / (2 * 83), rel=1e-13)
    z = stats.norm.ppf(0.975)
    from_ci = fm.smd_adjusted(b, s, n_t, n_c, lower=b - z * se, upper=b + z * se)
    assert from_ci.yi == pytest.approx(eff.yi, rel=1e-13)
    assert from_ci.vi == pytest.approx(eff.vi, rel=1e-12)


def test_smd_did_formula() -> None:
    """WWC difference-in-differences with the gain-score variance."""
    eff = fm.smd_did(50, 9, 58, 10, 30, 51, 9.5, 54, 11, 35, r_prepost=0.6)
    s_post = math.sqrt((29 * 100 + 34 * 121) / 63)
    g = c_exact(63) * ((58 - 54) - (50 - 51)) / s_post
    assert eff.yi == pytest.approx(g, rel=1e-13)
    assert eff.vi == pytest.approx(
        2 * (1 - 0.6) * (1 / 30 + 1 / 35) + g**2 / (2 * 63), rel=1e-13
    )
    assert "pre-post correlation r = 0.6" in eff.notes


# Worked examples on real published data: Michalak, Schultze, Heidenreich &
# Schramm (2015), J Consult Clin Psychol 83(5), 951-963, Table 2 (p. 957) and
# Table 5 (p. 959), as worked by the Campbell Collaboration's VIVE centre
# (M. H. Vembye, VIVECampbell vignette "Effektstorrelsesudregning uden means og
# SDs", Example 1, which cites the WWC 2021 Supplement p. E-6 for these
# formulas). The vignette uses df = N for J and for g^2 / (2 df); we use the
# WWC's N - 2 (omega = 1 - 3/(4N - 9)). The tests therefore compare the parts
# that do not depend on that choice: d before the correction, and the first
# variance term, re-assembled with the vignette's df to reproduce its printed
# numbers to the digits printed.
_MICHALAK_N_T, _MICHALAK_N_C = 36.0, 35.0
_VIGNETTE_DF = _MICHALAK_N_T + _MICHALAK_N_C


def _vignette_j() -> float:
    return 1 - 3 / (4 * _VIGNETTE_DF - 1)


def test_smd_did_reproduces_michalak_2015_worked_example() -> None:
    """HAM-D, pretest/posttest means and SDs, imputed r = 0.65: the vignette
    prints J = 0.9894, g_DD = -0.2604, vg_DD = 0.03992, se = 0.1998."""
    eff = fm.smd_did(
        23.03, 6.27, 17.86, 10.37, _MICHALAK_N_T,
        23.87, 6.33, 21.16, 8.16, _MICHALAK_N_C,
        r_prepost=0.65, exact=False,
    )  # fmt: skip
    m = _MICHALAK_N_T + _MICHALAK_N_C - 2
    d = eff.yi / fm.hedges_correction(m, exact=False)
    first_term = eff.vi - eff.yi**2 / (2 * m)
    g_vignette = _vignette_j() * d
    vi_vignette = first_term + g_vignette**2 / (2 * _VIGNETTE_DF)
    assert round(_vignette_j(), 4) == 0.9894
    assert round(g_vignette, 4) == -0.2604
    assert round(vi_vignette, 5) == 0.03992
    assert round(math.sqrt(vi_vignette), 4) == 0.1998


@pytest.mark.parametrize(
    ("beta", "se_b", "d_paper", "g_printed", "vg_printed"),
    [
        (1.12, 0.90, 0.31, 0.3067, 0.06141),  # SF-36 vitality
        (0.27, 0.43, 0.12, 0.1187, 0.03585),  # SF-36 social functioning
        (0.52, 0.26, 0.48, 0.4749, 0.05797),  # SF-36 role
        (0.63, 0.95, 0.14, 0.1385, 0.04376),  # SF-36 mental health
        (2.43, 1.01, 0.57, 0.5640, 0.05718),  # SASS overall
    ],
)
def test_smd_adjusted_reproduces_michalak_2015_worked_example(
    beta: float, se_b: float, d_paper: float, g_printed: float, vg_printed: float
) -> None:
    """Regression coefficient and its SE with the paper's d: the vignette's
    ``vg = g^2 / t^2 + g^2 / (2 df)`` with ``t = beta / SE`` and ``g = J d``.
    The paper's d is beta / S, so S = beta / d; ``g^2 / t^2`` is then
    ``(J SE / S)^2``: the correction applies to the first term too, as ours."""
    sd = beta / d_paper
    eff = fm.smd_adjusted(beta, sd, _MICHALAK_N_T, _MICHALAK_N_C, se=se_b, exact=False)
    m = _MICHALAK_N_T + _MICHALAK_N_C - 2
    omega = fm.hedges_correction(m, exact=False)
    assert eff.yi / omega == pytest.approx(d_paper, rel=1e-12)
    ratio = _vignette_j() / omega
    first_term = (eff.vi - eff.yi**2 / (2 * m)) * ratio**2
    g_vignette = eff.yi * ratio
    vi_vignette = first_term + g_vignette**2 / (2 * _VIGNETTE_DF)
    assert round(g_vignette, 4) == g_printed
    assert float(f"{vi_vignette:.4g}") == vg_printed


def test_cluster_adjust_worked_example() -> None:
    """Hedges (2007) / WWC: g_T = omega(h) gamma d; vi = (N/(n_t n_c))(1 + (n-1)rho)
    + g_T^2 / (2h), for 50 + 50 pupils in clusters of 5 with ICC 0.1."""
    plain = fm.smd_means(103, 5.5, 50, 100, 4.5, 50)
    adj = fm.cluster_adjust(plain, 50, 50, 5, 0.1)
    d = 3 / math.sqrt((49 * 5.5**2 + 49 * 4.5**2) / 98)
    h = h_wwc(100, 5, 0.1)
    gamma = math.sqrt(1 - 2 * 4 * 0.1 / 98)
    g_t = c_exact(h) * gamma * d
    assert adj.yi == pytest.approx(g_t, rel=1e-12)
    assert adj.vi == pytest.approx((100 / 2500) * 1.4 + g_t**2 / (2 * h), rel=1e-12)
    assert adj.method == "smd_means_sd+cluster"
    note = adj.notes[-1]
    assert "ICC = 0.1" in note
    assert "cluster size = 5" in note
    assert "h = 94.40" in note
    # Hedges (2007) eq. 16's second term is gamma^2 times WWC's g_T^2 / (2h)
    hedges_term = (
        g_t**2
        * (98 * 0.9**2 + 5 * (100 - 10) * 0.01 + 2 * (100 - 10) * 0.1 * 0.9)
        / (2 * 98 * (98 - 2 * 4 * 0.1))
    )
    assert hedges_term == pytest.approx(gamma**2 * g_t**2 / (2 * h), rel=1e-12)
    # rho = 0: h = N - 2, gamma = 1, so g is unchanged
    same = fm.cluster_adjust(plain, 50, 50, 5, 0.0)
    assert same.yi == pytest.approx(plain.yi, rel=1e-13)
    assert same.vi == pytest.approx(0.04 + plain.yi**2 / (2 * 98), rel=1e-13)


def test_cluster_adjust_undoes_the_correction_it_was_given() -> None:
    """d is recovered with the correction the SMD used (exact or approximate)."""
    approx = fm.smd_means(103, 5.5, 50, 100, 4.5, 50, exact=False)
    adj = fm.cluster_adjust(approx, 50, 50, 5, 0.1, exact=False)
    d = 3 / math.sqrt((49 * 5.5**2 + 49 * 4.5**2) / 98)
    h = h_wwc(100, 5, 0.1)
    g_t = (1 - 3 / (4 * h - 1)) * math.sqrt(1 - 0.8 / 98) * d
    assert adj.yi == pytest.approx(g_t, rel=1e-12)


def test_cluster_adjust_did_keeps_its_first_term() -> None:
    """WWC DiD in a cluster design: 2(1 - r)(1/n_t + 1/n_c) x DEFF + g_T^2/(2h)."""
    did = fm.smd_did(50, 9, 58, 10, 30, 51, 9.5, 54, 11, 35, r_prepost=0.5)
    adj = fm.cluster_adjust(did, 30, 35, 5, 0.2)
    h = h_wwc(65, 5, 0.2)
    deff = 1 + 4 * 0.2
    assert adj.vi == pytest.approx(
        (1 / 30 + 1 / 35) * deff + adj.yi**2 / (2 * h), rel=1e-12
    )


def test_or_smd_conversions() -> None:
    """metafor OR2DL: x sqrt(3)/pi (Chinn 2000: divide by ~1.81); OR2DN and the
    WWC Cox index: / 1.65."""
    lor = fm.or_2x2(12, 40, 6, 42)
    logistic = fm.or_to_smd(lor)
    assert logistic.measure == "SMD"
    assert logistic.yi == pytest.approx(lor.yi / 1.8138, rel=1e-4)
    assert logistic.vi == pytest.approx(lor.vi * 3 / math.pi**2, rel=1e-14)
    cox = fm.or_to_smd(lor, method="cox")
    assert cox.yi == pytest.approx(lor.yi / 1.65, rel=1e-14)
    assert cox.vi == pytest.approx(lor.vi / 1.65**2, rel=1e-14)
    back = fm.smd_to_or(cox, method="cox")
    assert back.measure == "OR"
    assert back.yi == pytest.approx(lor.yi, rel=1e-14)


# ---------------------------------------------------------------------------
# round trips


def test_g_to_t_to_g() -> None:
    for args in ((5.2, 1.1, 12, 4.4, 1.3, 15), (100, 15, 220, 104, 14, 230)):
        ref = fm.smd_means(*args)
        n_t, n_c = args[2], args[5]
        t = ref.yi / c_exact(n_t + n_c - 2) / math.sqrt(1 / n_t + 1 / n_c)
        back = fm.smd_t(t, n_t, n_c)
        assert back.yi == pytest.approx(ref.yi, rel=1e-13)
        assert back.vi == pytest.approx(ref.vi, rel=1e-13)


def test_or_to_ci_to_or() -> None:
    lor = fm.or_2x2(15, 60, 25, 58)
    z = stats.norm.ppf(0.975)
    lo, hi = math.exp(lor.yi - z * lor.se), math.exp(lor.yi + z * lor.se)
    back = fm.or_ci(math.exp(lor.yi), lo, hi)
    assert back.measure == "OR"
    assert back.yi == pytest.approx(lor.yi, rel=1e-13)
    assert back.vi == pytest.approx(lor.vi, rel=1e-12)
    # and through Effect.ci on the log scale
    ci_lo, ci_hi = lor.ci()
    assert ci_lo == pytest.approx(math.log(lo), rel=1e-13)
    assert ci_hi == pytest.approx(math.log(hi), rel=1e-13)


sizes = st.integers(min_value=5, max_value=400).map(float)


@settings(max_examples=200, deadline=None)
@given(g=st.floats(-2.5, 2.5), n_t=sizes, n_c=sizes)
def test_smd_p_recovers_g_from_its_p(g: float, n_t: float, n_c: float) -> None:
    df = n_t + n_c - 2
    t = g / c_exact(df) / math.sqrt(1 / n_t + 1 / n_c)
    p = 2 * stats.t.sf(abs(t), df)
    assume(1e-12 < p <= 1)
    eff = fm.smd_p(p, n_t, n_c, direction=1 if g >= 0 else -1)
    assert math.isclose(eff.yi, g, rel_tol=1e-7, abs_tol=1e-9)


# ---------------------------------------------------------------------------
# properties

means = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)
sds = st.floats(0.01, 1e3, allow_nan=False, allow_infinity=False)
groups = st.integers(min_value=2, max_value=5000).map(float)


@st.composite
def arms(draw: st.DrawFn) -> tuple[float, float]:
    n = draw(st.integers(min_value=1, max_value=3000))
    return float(draw(st.integers(min_value=0, max_value=n))), float(n)


@settings(max_examples=150, deadline=None)
@given(mt=means, st_=sds, nt=groups, mc=means, sc=sds, nc=groups)
def test_swapping_groups_negates_means_effects(
    mt: float, st_: float, nt: float, mc: float, sc: float, nc: float
) -> None:
    for func in (fm.smd_means, fm.md_means):
        a = func(mt, st_, nt, mc, sc, nc)
        b = func(mc, sc, nc, mt, st_, nt)
        assert close(b.yi, -a.yi)
        assert close(b.vi, a.vi)
        assert a.vi > 0


@settings(max_examples=150, deadline=None)
@given(t=st.floats(-50, 50), nt=groups, nc=groups)
def test_swapping_groups_negates_smd_t(t: float, nt: float, nc: float) -> None:
    a = fm.smd_t(t, nt, nc)
    b = fm.smd_t(-t, nc, nt)
    assert close(b.yi, -a.yi)
    assert close(b.vi, a.vi)
    assert a.vi > 0


@settings(max_examples=300, deadline=None)
@given(t_arm=arms(), c_arm=arms())
def test_swapping_groups_negates_binary_effects(
    t_arm: tuple[float, float], c_arm: tuple[float, float]
) -> None:
    (et, nt), (ec, nc) = t_arm, c_arm
    for func in (fm.or_2x2, fm.rr_2x2, fm.rd_2x2):
        a = func(et, nt, ec, nc)
        b = func(ec, nc, et, nt)
        assert close(b.yi, -a.yi)
        assert close(b.vi, a.vi)
        assert a.vi > 0 and math.isfinite(a.yi)


@settings(max_examples=150, deadline=None)
@given(
    pre=st.tuples(means, sds, means, sds, groups),
    post=st.tuples(means, sds, means, sds, groups),
    r=st.floats(-1, 0.99),
)
def test_swapping_groups_negates_did(
    pre: tuple[float, ...], post: tuple[float, ...], r: float
) -> None:
    a = fm.smd_did(*pre, *post, r_prepost=r)
    b = fm.smd_did(*post, *pre, r_prepost=r)
    assert close(b.yi, -a.yi)
    assert close(b.vi, a.vi)
    assert a.vi > 0


@settings(max_examples=150, deadline=None)
@given(
    d=st.floats(-3, 3),
    nt=groups,
    nc=groups,
    f=st.floats(0, 1e4),
    p=st.floats(1e-10, 1.0),
    b=means,
    s=sds,
    se=sds,
)
def test_variances_are_positive(
    d: float, nt: float, nc: float, f: float, p: float, b: float, s: float, se: float
) -> None:
    for eff in (
        fm.smd_from_d(d, nt, nc),
        fm.smd_from_g(d, nt, nc),
        fm.smd_f(f, nt, nc, direction=-1),
        fm.smd_p(p, nt, nc, direction=1),
        fm.smd_adjusted(b, s, nt, nc, se=se),
    ):
        assert eff.vi > 0 and math.isfinite(eff.vi) and math.isfinite(eff.yi)


@settings(max_examples=150, deadline=None)
@given(
    d=st.floats(-3, 3),
    nt=st.integers(10, 500).map(float),
    nc=st.integers(10, 500).map(float),
    size=st.integers(1, 10).map(float),
    icc=st.floats(0, 0.5),
)
def test_cluster_adjust_positive_and_never_larger(
    d: float, nt: float, nc: float, size: float, icc: float
) -> None:
    eff = fm.smd_from_d(d, nt, nc)
    adj = fm.cluster_adjust(eff, nt, nc, size, icc)
    assert adj.vi > 0
    # gamma <= 1 and omega(h) <= c(N - 2): clustering never inflates |g|
    assert abs(adj.yi) <= abs(eff.yi) * (1 + 1e-12)


finite_effects = st.builds(
    Effect,
    yi=st.floats(-50, 50),
    vi=st.floats(1e-8, 1e3),
    measure=st.sampled_from(fm.MEASURES),
    method=st.just("effect_from_vi"),
    notes=st.lists(st.text(max_size=10), max_size=3).map(tuple),
)


@settings(max_examples=200, deadline=None)
@given(eff=finite_effects)
def test_flip_twice_is_identity(eff: Effect) -> None:
    once = fm.flip(eff)
    assert once.yi == -eff.yi and once.vi == eff.vi
    assert once.notes[-1] == fm.FLIP_NOTE
    assert fm.flip(once) == eff


@settings(max_examples=200, deadline=None)
@given(
    yi=st.floats(-20, 20),
    vi=st.floats(1e-6, 100),
    method=st.sampled_from(["logistic", "cox"]),
)
def test_or_to_smd_then_back_is_identity(yi: float, vi: float, method: str) -> None:
    lor = fm.effect_from_vi(yi, vi, "OR")
    back = fm.smd_to_or(fm.or_to_smd(lor, method=method), method=method)
    assert back.measure == "OR"
    assert close(back.yi, lor.yi)
    assert close(back.vi, lor.vi)


# ---------------------------------------------------------------------------
# invalid input names the parameter

SMD = fm.smd_means(1, 1, 10, 0, 1, 10)
ERRORS: list[tuple[str, Callable[[], object], str]] = [
    ("sd <= 0", lambda: fm.smd_means(1, 0, 10, 0, 1, 10), "sd_t"),
    ("sd < 0 (MD)", lambda: fm.md_means(1, 1, 10, 0, -1, 10), "sd_c"),
    ("n < 2", lambda: fm.smd_means(1, 1, 10, 0, 1, 1), "n_c"),
    ("nan mean", lambda: fm.smd_means(float("nan"), 1, 10, 0, 1, 10), "mean_t"),
    ("inf t", lambda: fm.smd_t(float("inf"), 10, 10), "t"),
    ("df <= 1", lambda: fm.hedges_correction(1), "df"),
    ("se <= 0", lambda: fm.sd_from_se(0, 10), "se"),
    ("n < 2 (sd)", lambda: fm.sd_from_se(1, 1), "n"),
    ("reversed CI", lambda: fm.sd_from_ci(5, 4, 10), "lower"),
    ("level", lambda: fm.sd_from_ci(4, 5, 10, level=95), "level"),
    ("F < 0", lambda: fm.smd_f(-1, 10, 10, 1), "f"),
    ("direction", lambda: fm.smd_f(4, 10, 10, 0), "direction"),
    ("p = 0", lambda: fm.smd_p(0, 10, 10, 1), "p"),
    ("p > 1", lambda: fm.smd_p(1.2, 10, 10, 1), "p"),
    ("events < 0", lambda: fm.or_2x2(-1, 10, 2, 10), "events_t"),
    ("events > n", lambda: fm.rr_2x2(1, 10, 12, 10), "events_c"),
    ("n < 1", lambda: fm.rd_2x2(0, 0, 2, 10), "n_t"),
    ("CI misses estimate", lambda: fm.effect_from_ci(2, 0, 1, "MD"), "yi"),
    ("ratio <= 0", lambda: fm.or_ci(1.5, 0, 2), "lower"),
    ("OR CI misses OR", lambda: fm.or_ci(3, 1, 2), "or_"),
    ("unknown measure", lambda: fm.effect_from_se(1, 1, "HR"), "measure"),
    ("vi <= 0", lambda: fm.effect_from_vi(1, 0, "MD"), "vi"),
    ("se and CI", lambda: fm.smd_adjusted(1, 2, 10, 10, se=1, lower=0, upper=2), "se"),
    ("no se or CI", lambda: fm.smd_adjusted(1, 2, 10, 10), "se"),
    ("half a CI", lambda: fm.smd_adjusted(1, 2, 10, 10, lower=0), "upper"),
    ("CI misses b", lambda: fm.smd_adjusted(3, 2, 10, 10, lower=0, upper=2), "lower"),
    ("sd_pooled", lambda: fm.smd_adjusted(1, 0, 10, 10, se=1), "sd_pooled"),
    (
        "r > 1",
        lambda: fm.smd_did(0, 1, 1, 1, 10, 0, 1, 0, 1, 10, r_prepost=1.5),
        "r_prepost",
    ),
    (
        "pre sd",
        lambda: fm.smd_did(0, -1, 1, 1, 10, 0, 1, 0, 1, 10, r_prepost=0.5),
        "pre_sd_t",
    ),
    ("icc >= 1", lambda: fm.wwc_cluster_df(100, 5, 1.0), "icc"),
    ("icc < 0", lambda: fm.cluster_adjust(SMD, 10, 10, 2, -0.1), "icc"),
    ("cluster < 1", lambda: fm.cluster_adjust(SMD, 10, 10, 0.5, 0.1), "cluster_size"),
    ("cluster > n", lambda: fm.cluster_adjust(SMD, 10, 10, 11, 0.1), "cluster_size"),
    ("n_total", lambda: fm.wwc_cluster_df(2, 1, 0.1), "n_total"),
    (
        "not an SMD",
        lambda: fm.cluster_adjust(fm.or_2x2(1, 10, 2, 10), 10, 10, 2, 0.1),
        "effect",
    ),
    (
        "adjusted twice",
        lambda: fm.cluster_adjust(
            fm.cluster_adjust(SMD, 10, 10, 2, 0.1), 10, 10, 2, 0.1
        ),
        "effect",
    ),
    ("OR->SMD of an SMD", lambda: fm.or_to_smd(SMD), "effect"),
    ("conversion method", lambda: fm.smd_to_or(SMD, method="probit"), "method"),
    ("Effect vi", lambda: Effect(0.1, 0.0, "SMD", "x"), "vi"),
    ("Effect measure", lambda: Effect(0.1, 0.1, "HR", "x"), "measure"),
    ("ci level", lambda: SMD.ci(1.5), "level"),
]


@pytest.mark.parametrize(
    ("call", "param"), [(c, p) for _, c, p in ERRORS], ids=[i for i, _, _ in ERRORS]
)
def test_invalid_input_names_the_parameter(
    call: Callable[[], object], param: str
) -> None:
    with pytest.raises(ValueError, match=rf"^{param}\b"):
        call()
