"""Meta-analysis results in plain words.

Sentences from one analysis's report (``results/meta/<analysis>.json``): the
pooled effect with its confidence and prediction intervals and what they
mean, heterogeneity (I², τ², Q), subgroup differences and meta-regressions,
small-study effects (Egger, Begg, fail-safe N, trim and fill) and the
sensitivity analyses (without studies at high risk of bias, leaving out one
study at a time, influence diagnostics, the three-level and cluster-robust
models). Only words: the numbers are those of the report.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from evsynth.report.formatting import (
    Scale,
    _capital,
    _count,
    _f,
    _humanise,
    _interval,
    _join,
    _num,
    _p,
    _pct,
    _small,
    _tau2,
)


def _i2_words(i2: float | None) -> str:
    """Rough reading of I² after the Cochrane Handbook (section 10.10.2)."""
    if i2 is None:
        return "not estimable"
    if i2 < 30:
        return "low"
    if i2 < 50:
        return "moderate"
    if i2 < 75:
        return "substantial"
    return "considerable"


def _pooled_sentence(report: Mapping[str, Any], scale: Scale, level: str) -> str:
    pooled = report["pooled"]
    k = int(pooled.get("k", report.get("k", 0)))
    text = (
        f"Across {_count(k, 'study', 'studies')} the pooled effect was "
        f"{scale.symbol} = {scale.show(pooled.get('estimate'))} ({level}% CI "
        f"{_interval(scale, pooled.get('ci_lb'), pooled.get('ci_ub'))}; "
        f"{_p(pooled.get('pval'))}"
    )
    if _num(pooled.get("pi_lb")) is not None:
        text += (
            f"; prediction interval "
            f"{_interval(scale, pooled.get('pi_lb'), pooled.get('pi_ub'))}"
        )
    text += ")."
    low, high = _num(pooled.get("ci_lb")), _num(pooled.get("ci_ub"))
    if low is not None and high is not None:
        if low > 0 or high < 0:
            side = "above" if low > 0 else "below"
            text += (
                f" The confidence interval lies {side} {scale.null}: the effect "
                f"favours the {scale.favours(side)}."
            )
        else:
            text += (
                f" The confidence interval includes {scale.null} (no effect), so "
                "the direction of the effect is uncertain."
            )
    pi_low, pi_high = _num(pooled.get("pi_lb")), _num(pooled.get("pi_ub"))
    if pi_low is not None and pi_high is not None:
        if pi_low > 0 or pi_high < 0:
            text += (
                f" The prediction interval also excludes {scale.null}: a new "
                "study like these would be expected to find an effect in the "
                "same direction."
            )
        else:
            text += (
                f" The prediction interval includes {scale.null}: in a new setting "
                "like these the effect could be absent."
            )
    n_rows = int(report.get("n_rows", k) or k)
    if n_rows > k:
        rho = (report.get("model") or {}).get("within_study_rho")
        text += (
            f" Studies reporting several outcomes contributed their mean effect "
            f"({n_rows} effect sizes in all; correlation between outcomes "
            f"assumed {_f(rho, 1)})."
        )
    left_out = report.get("left_out") or []
    if left_out:
        items = [
            f"{r.get('study_id', '')} ({r.get('outcome', '')}, "
            f"{r.get('timepoint', '')}): {r.get('reason', '')}"
            for r in left_out
        ]
        text += (
            f" {_capital(_count(len(items), 'row was', 'rows were'))} left out: "
            + "; ".join(items)
            + "."
        )
    return text


def _heterogeneity_sentence(report: Mapping[str, Any], level: str) -> str:
    pooled = report["pooled"]
    k = int(pooled.get("k", report.get("k", 0)))
    i2 = _num(pooled.get("I2"))
    if k < 2:
        return "Heterogeneity cannot be estimated from one study."
    parts = [f"I² = {_pct(i2)}", _tau2(pooled.get("tau2"))]
    if _num(pooled.get("tau2_ci_lb")) is not None:
        parts[-1] += (
            f" ({level}% CI {_small(pooled.get('tau2_ci_lb'))} to "
            f"{_small(pooled.get('tau2_ci_ub'))})"
        )
    parts.append(f"Q = {_f(pooled.get('Q'))} on {k - 1} df, {_p(pooled.get('Q_p'))}")
    text = f"Heterogeneity was {_i2_words(i2)} ({'; '.join(parts)})."
    if k < 5:
        text += (
            f" With only {_count(k, 'study', 'studies')} these estimates are imprecise."
        )
    return text


def _group_text(name: str, fit: Mapping[str, Any], scale: Scale) -> str:
    return (
        f"{name} {scale.show(fit.get('estimate'))} "
        f"({_interval(scale, fit.get('ci_lb'), fit.get('ci_ub'))}; "
        f"k = {fit.get('k', '?')})"
    )


def _test_text(test: Mapping[str, Any]) -> str:
    if _num(test.get("df2")) is not None:
        return (
            f"F({_f(test.get('df'), 0)}, {_f(test.get('df2'), 0)}) = "
            f"{_f(test.get('QM'))}, {_p(test.get('p'))}"
        )
    return (
        f"QM = {_f(test.get('QM'))} on {_f(test.get('df'), 0)} df, {_p(test.get('p'))}"
    )


def _moderator_sentences(
    report: Mapping[str, Any], scale: Scale, model_test: str
) -> list[str]:
    sentences = []
    for column, sub in sorted((report.get("subgroups") or {}).items()):
        label = _humanise(column)
        if "groups" not in sub:
            sentences.append(
                f"The subgroup analysis by {label} was not run: "
                f"{sub.get('skipped', 'no groups')}."
            )
            continue
        groups = sub.get("groups") or {}
        text = f"By {label}: " + "; ".join(
            _group_text(name, groups[name], scale) for name in sorted(groups)
        )
        text += "."
        common = sub.get("between_common_tau2") or {}
        separate = sub.get("between_separate_tau2") or {}
        p_values = []
        if common:
            text += (
                " The test for subgroup differences (mixed-effects model with a "
                f"common τ²) gave {_test_text(common)}"
            )
            p_values.append(_num(common.get("p")))
        if separate:
            text += (
                "; allowing a separate τ² in each subgroup (Q test of the "
                "subgroup estimates with their z-based standard errors), "
                f"Q = {_f(separate.get('Q'))} on {_f(separate.get('df'), 0)} df, "
                f"{_p(separate.get('p'))}"
            )
            p_values.append(_num(separate.get("p")))
        if common or separate:
            text += "."
        known = [p for p in p_values if p is not None]
        if known and all(p < 0.05 for p in known):
            text += f" The effect appears to differ by {label}."
        elif known and all(p >= 0.05 for p in known):
            text += f" There is no clear evidence that the effect differs by {label}."
        elif known:
            text += " The two tests disagree, so the evidence of a difference is weak."
        skipped = sub.get("skipped") or []
        if skipped:
            text += " Too few studies to fit: " + _join([str(s) for s in skipped]) + "."
        sentences.append(text)
    for column, fit in sorted((report.get("metareg") or {}).items()):
        label = _humanise(column)
        if "coef" not in fit:
            sentences.append(
                f"The meta-regression on {label} was not run: "
                f"{fit.get('skipped', 'no data')}."
            )
            continue
        knha = model_test == "knha" and isinstance(fit.get("knha"), Mapping)
        source = fit["knha"] if knha else fit
        coef = list(source.get("coef") or [])
        se = list(source.get("se") or [])
        pval = list(source.get("pval") or [])
        how = "Knapp-Hartung" if knha else "z test"
        r2 = _num(fit.get("R2"))
        if len(coef) == 2:
            unit = " on the log scale" if scale.ratio else ""
            text = (
                f"In a meta-regression on {label}, each unit more went with a "
                f"change in the effect of {_f(coef[1], 3)}{unit} (SE "
                f"{_f(se[1] if len(se) > 1 else None, 3)}; "
                f"{_p(pval[1] if len(pval) > 1 else None)}, {how})"
            )
        else:
            text = (
                f"In a meta-regression on {label}, the test of the moderator gave "
                f"QM = {_f(source.get('QM'))}, {_p(source.get('QMp'))} ({how})"
            )
        if r2 is not None:
            text += f"; it explained {_pct(r2)} of the heterogeneity (R²)"
        text += "."
        sentences.append(text)
    return sentences


def _bias_sentences(
    report: Mapping[str, Any], scale: Scale, level: str, bias_min_k: int
) -> list[str]:
    sentences = []
    bias = report.get("bias") or {}
    k = int(report.get("k", 0))
    funnel = report.get("funnel") or {}
    if funnel.get("drawn") is False:
        sentences.append(
            "No funnel plot was drawn, and trim and fill, Egger's and Begg's "
            "tests and the fail-safe N were not computed: "
            f"{_count(k, 'study', 'studies')}, fewer than the {bias_min_k} they "
            "need to be meaningful (meta.bias_min_k; Cochrane Handbook 13.3.5.4)."
        )
    elif "skipped" in bias or not bias:
        sentences.append(
            "Egger's and Begg's tests and the fail-safe N were not computed: "
            f"{_count(k, 'study', 'studies')}, fewer than the {bias_min_k} these "
            "tests need to be meaningful (meta.bias_min_k)."
        )
    else:
        egger = bias.get("egger_rma") or {}
        egger_lm = bias.get("egger_lm") or {}
        begg = bias.get("begg") or {}
        parts = []
        p_values = []
        if egger:
            parts.append(
                f"Egger's regression test gave z = {_f(egger.get('z'))}, "
                f"{_p(egger.get('p'))} (limit estimate for a study of infinite "
                f"precision {scale.show(egger.get('limit_estimate'))}, {level}% CI "
                + _interval(scale, egger.get("limit_ci_lb"), egger.get("limit_ci_ub"))
                + ")"
            )
            p_values.append(_num(egger.get("p")))
        if egger_lm:
            parts.append(
                f"its classical form t = {_f(egger_lm.get('t'))} on "
                f"{egger_lm.get('df', '?')} df, {_p(egger_lm.get('p'))}"
            )
            p_values.append(_num(egger_lm.get("p")))
        if begg:
            parts.append(
                f"Begg's rank correlation τ = {_f(begg.get('tau'))}, "
                f"{_p(begg.get('p'))}"
            )
            p_values.append(_num(begg.get("p")))
        if bias.get("failsafe_rosenthal") is not None:
            parts.append(
                f"Rosenthal's fail-safe N was {bias.get('failsafe_rosenthal')}"
            )
        text = "; ".join(parts) + "."
        known = [p for p in p_values if p is not None]
        if known and any(p < 0.10 for p in known):
            text += (
                " At least one test suggests funnel-plot asymmetry (p < 0.10), "
                "which may reflect small-study effects or publication bias."
            )
        elif known:
            text += " No test suggested funnel-plot asymmetry (all p ≥ 0.10)."
        sentences.append(_capital(text))
    fill = report.get("trimfill")
    if fill and "skipped" not in fill:
        k0 = int(fill.get("k0", 0) or 0)
        side = fill.get("side", "")
        if k0 == 0:
            text = (
                f"Trim and fill ({fill.get('estimator', 'L0')} estimator) imputed "
                "no missing studies."
            )
        else:
            text = (
                f"Trim and fill ({fill.get('estimator', 'L0')} estimator) imputed "
                f"{_count(k0, 'study', 'studies')} on the {side} side; the adjusted "
                f"pooled effect was {scale.symbol} = "
                f"{scale.show(fill.get('estimate'))} ({level}% CI "
                f"{_interval(scale, fill.get('ci_lb'), fill.get('ci_ub'))})."
            )
        if k < bias_min_k:
            text += " With so few studies trim and fill is unreliable."
        sentences.append(text)
    return sentences


def _excludes_null(low: object, high: object) -> bool | None:
    lo, hi = _num(low), _num(high)
    if lo is None or hi is None:
        return None
    return lo > 0 or hi < 0


def _sensitivity_sentences(
    report: Mapping[str, Any], scale: Scale, level: str
) -> list[str]:
    sentences = []
    pooled = report["pooled"]
    main = _excludes_null(pooled.get("ci_lb"), pooled.get("ci_ub"))
    rob = report.get("sensitivity_without_high_rob")
    if rob is None:
        sentences.append(
            "Without risk-of-bias judgements no sensitivity analysis by risk of "
            "bias was run."
        )
    else:
        high = list(rob.get("left_out") or [])
        if rob.get("pooled"):
            fit = rob["pooled"]
            sentences.append(
                f"Leaving out the {_count(len(high), 'study', 'studies')} at high "
                f"risk of bias ({_join(high)}) gave {scale.symbol} = "
                f"{scale.show(fit.get('estimate'))} ({level}% CI "
                f"{_interval(scale, fit.get('ci_lb'), fit.get('ci_ub'))}; "
                f"k = {fit.get('k', '?')}; I² = {_pct(fit.get('I2'))})."
            )
        elif high:
            sentences.append(
                f"Leaving out the {_count(len(high), 'study', 'studies')} at high "
                f"risk of bias ({_join(high)}) was not possible: "
                f"{rob.get('note', 'too few studies left')}."
            )
        else:
            sentences.append(
                "No study in this analysis was at high risk of bias, so the "
                "analysis without them is the main model."
            )
        unrated = list(rob.get("not_assessed") or [])
        if unrated:
            sentences.append("Not assessed for risk of bias: " + _join(unrated) + ".")
    l1o = report.get("leave1out")
    if l1o and l1o.get("estimate"):
        estimates = [_num(v) for v in l1o["estimate"]]
        labels = [str(x) for x in l1o.get("label", [])]
        pairs = [
            (e, lab) for e, lab in zip(estimates, labels, strict=False) if e is not None
        ]
        if pairs:
            low = min(pairs, key=lambda p: p[0])
            high = max(pairs, key=lambda p: p[0])
            text = (
                "Leaving out one study at a time, the pooled effect ranged from "
                f"{scale.show(low[0])} (without {low[1]}) to "
                f"{scale.show(high[0])} (without {high[1]})"
            )
            changed = [
                lab
                for lab, lo, hi in zip(
                    labels, l1o.get("ci_lb", []), l1o.get("ci_ub", []), strict=False
                )
                if _excludes_null(lo, hi) is not None and _excludes_null(lo, hi) != main
            ]
            if main is not None and not changed:
                text += (
                    "; the confidence interval "
                    + ("excluded" if main else "included")
                    + f" {scale.null} every time"
                )
            elif changed:
                text += (
                    "; leaving out "
                    + _join(changed, "or")
                    + " changed whether the confidence interval included "
                    + scale.null
                )
            sentences.append(text + ".")
    influence = report.get("influence")
    if influence and influence.get("inf") is not None:
        labels = [str(x) for x in influence.get("label", [])]
        studies = [str(s.get("study_id")) for s in report.get("studies") or []]
        if len(studies) == len(influence["inf"]):
            labels = studies  # the diagnostics are in the studies' order
        flagged = [
            lab
            for lab, flag in zip(labels, influence["inf"], strict=False)
            if flag is True or str(flag).strip() in ("True", "*")
        ]
        if flagged:
            sentences.append(
                _join(flagged)
                + (" was" if len(flagged) == 1 else " were")
                + " flagged as influential by the diagnostics of Viechtbauer & "
                "Cheung (2010)."
            )
        else:
            sentences.append(
                "No study was flagged as influential by the diagnostics of "
                "Viechtbauer & Cheung (2010)."
            )
    multilevel = report.get("multilevel")
    robust = report.get("robust_CR2") or report.get("robust_CR1")
    if multilevel or robust:
        parts = []
        n_rows = (multilevel or robust or {}).get("k", report.get("n_rows"))
        if multilevel:
            parts.append(
                f"a three-level model gave {scale.show(multilevel.get('estimate'))} "
                f"({level}% CI "
                f"{_interval(scale, multilevel.get('ci_lb'), multilevel.get('ci_ub'))})"
            )
        if robust:
            parts.append(
                f"cluster-robust inference ({robust.get('kind', 'CR2')}, "
                f"{_f(robust.get('df'), 1)} df) gave "
                f"{scale.show(robust.get('estimate'))} ({level}% CI "
                f"{_interval(scale, robust.get('ci_lb'), robust.get('ci_ub'))})"
            )
        sentences.append(
            f"Using all {n_rows} effect sizes without combining them within "
            f"studies, {_join(parts)}."
        )
    return sentences
