"""GRADE domains proposed from the data, one rule per domain.

Each function looks at one analysis (the meta stage's report,
``results/meta/ANALYSIS.json``) and returns a :class:`Proposal`: the rating the
data suggest, the rule that gave it, the numbers behind it and the footnote a
summary-of-findings table prints. The review team confirms or overrides each
proposal in ``grade.csv`` (:mod:`evsynth.grade.judgements`); GRADE is a
judgement, and the rules only make the starting point explicit.

Sources (see ``config/README.md``, section ``grade``):

- starting level: randomised trials start high; non-randomised studies start
  low, or high when their risk of bias was judged with ROBINS-I (Schünemann et
  al. 2019, J Clin Epidemiol 111:105-114, GRADE guidelines 18);
- risk of bias: the weight share of studies at high risk or with some concerns,
  and whether leaving out those at high risk changes the conclusion (Guyatt et
  al. 2011, J Clin Epidemiol 64:407-415, part 4);
- inconsistency: I² in the Cochrane Handbook's bands (ch. 10.10.2), the
  prediction interval against the null or the minimally important difference,
  and subgroup differences that may explain it (part 7, 64:1294-1302);
- imprecision: the confidence interval against the null or the minimally
  important difference, and the optimal information size of one two-arm trial
  at the configured alpha and power (part 6, 64:1283-1293; Schünemann et al.
  2022, J Clin Epidemiol 150:225-242; Zeng et al. 2021, 137:163-175);
- publication bias: Egger's test and trim-and-fill from ``meta.bias_min_k``
  studies, else not assessable (part 5, 64:1277-1282; Cochrane Handbook
  13.3.5.4);
- indirectness, large effect and dose-response: judgements of the team only
  (parts 8 and 9).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from scipy import stats

__all__ = [
    "DOMAINS",
    "DOWNGRADE_DOMAINS",
    "LEVELS",
    "UPGRADE_DOMAINS",
    "GradeSettings",
    "Proposal",
    "imprecision",
    "inconsistency",
    "indirectness",
    "optimal_information_size",
    "propose",
    "publication_bias",
    "risk_of_bias",
    "starting_level",
    "upgrade",
]

#: Certainty levels, lowest first (index + 1 is the number of filled circles).
LEVELS = ("very low", "low", "moderate", "high")
#: Domains that can lower certainty.
DOWNGRADE_DOMAINS = (
    "risk_of_bias",
    "inconsistency",
    "indirectness",
    "imprecision",
    "publication_bias",
)
#: Domains that can raise non-randomised evidence.
UPGRADE_DOMAINS = ("large_effect", "dose_response")
#: Every domain of a rating, in the order of a GRADE evidence profile.
DOMAINS = ("start", *DOWNGRADE_DOMAINS, *UPGRADE_DOMAINS)

#: Designs counted as randomised.
RANDOMISED = frozenset({"RCT", "cluster_RCT"})
#: Weight share from which studies contribute "substantially" (part 4).
SUBSTANTIAL_SHARE = 0.25
#: Weight share that is "most of the evidence".
MOST_SHARE = 0.5
#: I² bands of the Cochrane Handbook (10.10.2): substantial, considerable.
I2_SUBSTANTIAL = 50.0
I2_CONSIDERABLE = 75.0
#: p value below which a test of subgroup differences may explain heterogeneity,
#: and below which Egger's test suggests small-study effects (both 0.10 in the
#: Handbook's guidance for these low-powered tests; subgroups use 0.05).
SUBGROUP_P = 0.05
EGGER_P = 0.10


@dataclass(frozen=True)
class GradeSettings:
    """What the rules need beyond the analysis report.

    Parameters
    ----------
    mid : float, optional
        Minimally important difference on the analysis's scale (an SMD of 0.2,
        a log odds ratio of log 1.25); None uses the null alone.
    ois_effect : float
        The effect an adequately powered trial is planned for, when no ``mid``
        is set (an SMD; 0.2 by default, a small effect).
    alpha, power : float
        Of that trial (0.05 and 0.8).
    bias_min_k : int
        Studies needed for a small-study test (``meta.bias_min_k``).
    """

    mid: float | None = None
    ois_effect: float = 0.2
    alpha: float = 0.05
    power: float = 0.8
    bias_min_k: int = 10


@dataclass
class Proposal:
    """The rating a rule proposes for one domain of one analysis.

    Parameters
    ----------
    domain : str
        One of :data:`DOMAINS`.
    rating : str
        ``start``: ``"high"`` or ``"low"``. Downgrade domains: ``"no"``,
        ``"serious"``, ``"very_serious"``, ``"not_assessable"`` (the data cannot
        show it; no change) or ``"not_judged"`` (only the team can judge it).
        Upgrade domains: ``"no"``, ``"up_one"``, ``"up_two"``,
        ``"not_judged"`` or ``"not_applicable"`` (evidence that starts high).
    change : int
        Levels this rating moves certainty (0, -1, -2, +1, +2); for ``start``,
        the starting level (4 high, 2 low).
    rule : str
        The rule that gave the rating, in words.
    numbers : dict
        The numbers the rule looked at.
    footnote : str
        What a summary-of-findings footnote says ("" when nothing to say).
    """

    domain: str
    rating: str
    change: int
    rule: str
    numbers: dict[str, Any] = field(default_factory=dict)
    footnote: str = ""


def _pct(share: float) -> str:
    return f"{100 * share:.0f}%"


def _num(value: Any) -> float | None:
    """Return a finite float, or None."""
    if value is None or isinstance(value, bool):
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def _of(part: int, whole: int) -> str:
    """Return "1 of 3 studies is" or "2 of 3 studies are"."""
    return f"{part} of {whole} {'study' if whole == 1 else 'studies'} " + (
        "is" if part == 1 else "are"
    )


def _fmt(value: float | None, digits: int = 2) -> str:
    return "NA" if value is None else f"{value:.{digits}f}"


def _shown(value: float | None, measure: str) -> str:
    """Return a value as a footnote shows it: OR and RR as ratios, not logs."""
    if value is None or measure not in ("OR", "RR"):
        return _fmt(value)
    return f"{measure} {math.exp(value):.2f}"


def _range(low: float | None, high: float | None, measure: str, sep: str) -> str:
    """Return "RR 0.23 to 5.12" (OR and RR as ratios), "-0.10 to 0.30" else."""
    return _shown(low, measure) + sep + _shown(high, measure).split(" ")[-1]


# --- starting level -------------------------------------------------------------


def starting_level(
    study_ids: Sequence[str], designs: Mapping[str, str], tools: Mapping[str, str]
) -> Proposal:
    """Where certainty starts: high for randomised trials, low for the rest.

    Non-randomised studies assessed with ROBINS-I start high too (GRADE
    guidelines 18): ROBINS-I then carries the concerns into risk of bias.

    Parameters
    ----------
    study_ids : sequence of str
        The studies pooled.
    designs : mapping
        Study id to design (studies.csv: RCT, cluster_RCT, QED, ...).
    tools : mapping
        Study id to the risk-of-bias tool it was assessed with (rob2,
        robins_i); missing when not assessed.
    """
    randomised = [s for s in study_ids if designs.get(s, "") in RANDOMISED]
    other = [s for s in study_ids if s not in set(randomised)]
    numbers = {
        "studies": len(study_ids),
        "randomised": len(randomised),
        "non_randomised": len(other),
        "non_randomised_robins_i": sum(tools.get(s) == "robins_i" for s in other),
    }
    if not other:
        return Proposal(
            "start",
            "high",
            4,
            "all studies pooled are randomised trials: start high",
            numbers,
        )
    if all(tools.get(s) == "robins_i" for s in other):
        return Proposal(
            "start",
            "high",
            4,
            "the non-randomised studies were assessed with ROBINS-I: start high and "
            "let ROBINS-I carry their risk of bias (GRADE guidelines 18)",
            numbers,
            f"{_of(len(other), len(study_ids))} non-randomised, assessed with "
            "ROBINS-I: certainty starts high (GRADE guidelines 18).",
        )
    missing = [s for s in other if tools.get(s) != "robins_i"]
    return Proposal(
        "start",
        "low",
        2,
        "non-randomised studies not assessed with ROBINS-I: start low",
        numbers | {"without_robins_i": missing},
        f"{_of(len(other), len(study_ids))} non-randomised, not all assessed with "
        "ROBINS-I: certainty starts low.",
    )


# --- risk of bias -----------------------------------------------------------------


def _conclusion(pooled: Mapping[str, Any]) -> str | None:
    """'benefit', 'harm' or 'unclear' (CI includes the null); None if not fitted."""
    low, high = _num(pooled.get("ci_lb")), _num(pooled.get("ci_ub"))
    if low is None or high is None:
        return None
    if low > 0:
        return "benefit"
    if high < 0:
        return "harm"
    return "unclear"


def risk_of_bias(report: Mapping[str, Any], levels: Mapping[str, str]) -> Proposal:
    """Risk of bias across studies, weighted by the analysis's weights (part 4).

    Rule: very serious when studies at high risk carry at least half the weight
    and leaving them out changes the conclusion (or leaves nothing); serious
    when studies at high risk carry at least a quarter and leaving them out
    changes the conclusion, or when studies at high risk, with some concerns
    or not assessed carry at least half; otherwise no concern.

    Parameters
    ----------
    report : mapping
        The analysis report (``studies`` with ``weight``, ``pooled``,
        ``sensitivity_without_high_rob``).
    levels : mapping
        Study id to its overall risk of bias on one scale (low, unclear,
        moderate, high; :func:`evsynth.rob.model.overall_by_study`).
    """
    studies = report.get("studies") or []
    weights = {str(s["study_id"]): float(s.get("weight") or 0.0) for s in studies}
    total = sum(weights.values())
    if total <= 0:
        return Proposal("risk_of_bias", "not_assessable", 0, "no study weights", {}, "")
    share = {
        level: sum(w for s, w in weights.items() if levels.get(s, "none") == level)
        / total
        for level in ("low", "unclear", "moderate", "high", "none")
    }
    concerns = share["high"] + share["moderate"] + share["unclear"] + share["none"]
    before = _conclusion(report.get("pooled") or {})
    sensitivity = report.get("sensitivity_without_high_rob") or {}
    after_pooled = sensitivity.get("pooled") or {}
    after = _conclusion(after_pooled) if after_pooled else None
    changes = share["high"] > 0 and (after is None or after != before)
    numbers = {
        "weight_high": share["high"],
        "weight_some_concerns": share["moderate"],
        "weight_unclear": share["unclear"] + share["none"],
        "weight_low": share["low"],
        "conclusion": before,
        "conclusion_without_high": after,
        "estimate_without_high": _num(after_pooled.get("estimate")),
    }
    text = (
        f"{_pct(share['high'])} of the weight from studies at high risk of bias and "
        f"{_pct(concerns - share['high'])} from studies with some concerns or not "
        "assessed"
    )
    if share["high"] > 0:
        shown = (
            "no study is left"
            if after is None
            else "the estimate is "
            + _shown(numbers["estimate_without_high"], str(report.get("measure")))
        )
        text += f"; without the studies at high risk {shown}" + (
            ": a different conclusion" if changes else ": the same conclusion"
        )
    if share["high"] >= MOST_SHARE and changes:
        rating, change = "very_serious", -2
    elif (share["high"] >= SUBSTANTIAL_SHARE and changes) or concerns >= MOST_SHARE:
        rating, change = "serious", -1
    else:
        rating, change = "no", 0
    rule = (
        f"very serious: high risk >= {_pct(MOST_SHARE)} of the weight and leaving "
        f"those studies out changes the conclusion; serious: high risk >= "
        f"{_pct(SUBSTANTIAL_SHARE)} and the conclusion changes, or high risk, some "
        f"concerns or not assessed >= {_pct(MOST_SHARE)}"
    )
    footnote = f"Risk of bias: {text}." if change else ""
    return Proposal("risk_of_bias", rating, change, rule, numbers, footnote)


# --- inconsistency ------------------------------------------------------------------


def _explaining_subgroups(report: Mapping[str, Any]) -> list[tuple[str, float]]:
    """Subgroup variables whose test of differences has p < SUBGROUP_P."""
    out = []
    for name, block in sorted((report.get("subgroups") or {}).items()):
        test = (block or {}).get("between_separate_tau2") or {}
        p = _num(test.get("p", test.get("pval")))
        if p is not None and p < SUBGROUP_P:
            out.append((str(name), p))
    return out


def inconsistency(report: Mapping[str, Any], settings: GradeSettings) -> Proposal:
    """Inconsistency from I², the prediction interval and subgroups (part 7).

    Rule: with I² >= 75% serious, and very serious when the prediction interval
    reaches important effects in both directions (beyond -MID and +MID, or
    either side of the null without a MID); with 50% <= I² < 75% serious when
    the prediction interval crosses the null; otherwise no concern. A test of
    subgroup differences with p < 0.05 may explain the heterogeneity: the
    rating is then one level milder, and the footnote says which subgroup.
    One study: not assessable.
    """
    pooled = report.get("pooled") or {}
    measure = str(report.get("measure") or "")
    k = int(pooled.get("k") or report.get("k") or 0)
    i2, tau2 = _num(pooled.get("I2")), _num(pooled.get("tau2"))
    pi_lb, pi_ub = _num(pooled.get("pi_lb")), _num(pooled.get("pi_ub"))
    q_p = _num(pooled.get("Q_p"))
    numbers = {
        "k": k,
        "I2": i2,
        "tau2": tau2,
        "Q_p": q_p,
        "pi_lb": pi_lb,
        "pi_ub": pi_ub,
        "mid": settings.mid,
    }
    rule = (
        f"I2 >= {I2_CONSIDERABLE:g}%: serious, very serious when the prediction "
        "interval reaches important effects in both directions; "
        f"{I2_SUBSTANTIAL:g}% <= I2 < {I2_CONSIDERABLE:g}%: serious when the "
        "prediction interval crosses the null; a subgroup difference with "
        f"p < {SUBGROUP_P} makes it one level milder"
    )
    if k < 2 or i2 is None:
        return Proposal(
            "inconsistency",
            "not_assessable",
            0,
            rule,
            numbers,
            "Inconsistency: one study, not assessable.",
        )
    t = settings.mid or 0.0
    crosses_null = pi_lb is not None and pi_ub is not None and pi_lb < 0 < pi_ub
    both_important = (
        pi_lb is not None and pi_ub is not None and pi_lb < -t and pi_ub > t
    )
    if i2 >= I2_CONSIDERABLE:
        change = -2 if both_important else -1
    elif i2 >= I2_SUBSTANTIAL and crosses_null:
        change = -1
    else:
        change = 0
    explained = _explaining_subgroups(report)
    numbers["subgroup_differences"] = [{"subgroup": n, "p": p} for n, p in explained]
    text = (
        f"I2 = {i2:.0f}%, tau2 = {_fmt(tau2, 3)}, prediction interval "
        f"{_range(pi_lb, pi_ub, measure, ' to ')}"
    )
    if explained and change:
        change += 1
        names = ", ".join(f"{n} (p = {p:.2g})" for n, p in explained)
        text += f"; partly explained by subgroup differences: {names}"
    rating = {0: "no", -1: "serious", -2: "very_serious"}[change]
    footnote = f"Inconsistency: {text}." if change else ""
    return Proposal("inconsistency", rating, change, rule, numbers, footnote)


# --- imprecision ----------------------------------------------------------------------


def optimal_information_size(
    effect: float, alpha: float = 0.05, power: float = 0.8
) -> int:
    """Participants a two-arm trial needs to detect a standardised difference.

    ``2 * ceil(2 * (z_{1-alpha/2} + z_{power})**2 / effect**2)``: two equal
    arms, a two-sided test of a standardised mean difference (GRADE
    guidelines 6; 0.2 gives 2 x 393 = 786).

    Parameters
    ----------
    effect : float
        The standardised difference the trial is planned for (> 0).
    alpha, power : float
        Two-sided significance level and power.
    """
    if not effect > 0:
        raise ValueError("the effect for the optimal information size must be > 0")
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    return 2 * math.ceil(2 * z**2 / effect**2)


def imprecision(
    report: Mapping[str, Any], participants: int | None, settings: GradeSettings
) -> Proposal:
    """Imprecision from the confidence interval and the information size (part 6).

    Rule: very serious when the CI reaches important effects in both directions
    (beyond -MID and +MID), or crosses the null with fewer participants than the
    optimal information size; serious when the CI crosses the null (or a MID),
    or when it does not but the participants fall short of the optimal
    information size; otherwise no concern. The optimal information size is
    computed for standardised mean differences (planned effect: the MID, else
    ``grade.ois_effect``); for other measures only the CI counts.
    """
    pooled = report.get("pooled") or {}
    low, high = _num(pooled.get("ci_lb")), _num(pooled.get("ci_ub"))
    measure = str(report.get("measure") or "")
    mid = settings.mid
    effect = mid if mid else settings.ois_effect
    ois = (
        optimal_information_size(effect, settings.alpha, settings.power)
        if measure == "SMD" and effect > 0
        else None
    )
    numbers = {
        "ci_lb": low,
        "ci_ub": high,
        "mid": mid,
        "participants": participants,
        "ois": ois,
        "ois_effect": effect if ois is not None else None,
        "alpha": settings.alpha,
        "power": settings.power,
    }
    rule = (
        "very serious: the CI reaches important effects in both directions, or "
        "crosses the null with fewer participants than the optimal information "
        "size (OIS); serious: the CI crosses the null or a MID, or the "
        "participants fall short of the OIS"
    )
    if low is None or high is None:
        return Proposal("imprecision", "not_assessable", 0, rule, numbers, "")
    crosses_null = low < 0 < high
    both = mid is not None and mid > 0 and low < -mid and high > mid
    crosses_mid = (
        mid is not None and mid > 0 and (low < mid < high or low < -mid < high)
    )
    short = ois is not None and participants is not None and participants < ois
    ci = f"95% CI {_range(low, high, measure, ' to ')}"
    parts = [ci + (" crosses the null" if crosses_null else "")]
    if crosses_mid and not crosses_null:
        parts[0] += f" crosses the MID ({mid:g})"
    if both:
        shown = _range(-mid, mid, measure, " and ")
        parts[0] += f" and reaches beyond the MID in both directions ({shown})"
    if ois is not None and participants is None:
        parts.append(
            "the participants of some studies are not known, so the optimal "
            f"information size ({ois:,}) was not checked"
        )
    if ois is not None and participants is not None:
        parts.append(
            f"{participants:,} participants against an optimal information size of "
            f"{ois:,} (effect {effect:g}, alpha {settings.alpha:g}, power "
            f"{settings.power:g})"
        )
    if both or (crosses_null and short):
        rating, change = "very_serious", -2
    elif crosses_null or crosses_mid or short:
        rating, change = "serious", -1
    else:
        rating, change = "no", 0
    footnote = "Imprecision: " + "; ".join(parts) + "." if change else ""
    return Proposal("imprecision", rating, change, rule, numbers, footnote)


# --- publication bias ----------------------------------------------------------------


def publication_bias(report: Mapping[str, Any], settings: GradeSettings) -> Proposal:
    """Publication bias from Egger's test and trim-and-fill (part 5).

    Rule: with fewer than ``meta.bias_min_k`` studies not assessable (never a
    silent "no concern"); otherwise serious when Egger's test gives p < 0.10,
    and no concern else. Trim-and-fill's filled estimate is reported beside it.
    """
    pooled = report.get("pooled") or {}
    k = int(pooled.get("k") or report.get("k") or 0)
    bias = report.get("bias") or {}
    egger = bias.get("egger_rma") or {}
    trim = report.get("trimfill") or {}
    p = _num(egger.get("p"))
    numbers = {
        "k": k,
        "bias_min_k": settings.bias_min_k,
        "egger_p": p,
        "trimfill_k0": trim.get("k0"),
        "trimfill_estimate": _num(trim.get("estimate")),
    }
    rule = (
        f"from {settings.bias_min_k} studies (meta.bias_min_k): serious when "
        f"Egger's test gives p < {EGGER_P:g}; with fewer, not assessable"
    )
    if k < settings.bias_min_k or p is None:
        return Proposal(
            "publication_bias",
            "not_assessable",
            0,
            rule,
            numbers,
            f"Publication bias: not assessable with {k} "
            f"{'study' if k == 1 else 'studies'} (small-study tests need "
            f"{settings.bias_min_k}); not rated down on the data.",
        )
    text = f"Egger's test p = {p:.2g}"
    if trim.get("k0"):
        text += (
            f"; trim-and-fill adds {trim['k0']} studies, estimate "
            f"{_shown(numbers['trimfill_estimate'], str(report.get('measure')))}"
        )
    if p < EGGER_P:
        return Proposal(
            "publication_bias",
            "serious",
            -1,
            rule,
            numbers,
            f"Publication bias: {text}.",
        )
    return Proposal("publication_bias", "no", 0, rule, numbers, "")


# --- judgements only --------------------------------------------------------------


def indirectness() -> Proposal:
    """Indirectness: no statistic shows it; the team judges it (part 8)."""
    return Proposal(
        "indirectness",
        "not_judged",
        0,
        "population, intervention, comparator and outcome against the review "
        "question: the review team's judgement (grade.csv)",
        {},
        "Indirectness: not yet judged by the review team.",
    )


def upgrade(domain: str, start: Proposal) -> Proposal:
    """Large effect or dose-response: the team's judgement, for evidence starting low."""
    if start.rating == "high":
        return Proposal(
            domain,
            "not_applicable",
            0,
            "only evidence that starts low (non-randomised, no ROBINS-I) is rated up",
            {},
            "",
        )
    what = "a large effect" if domain == "large_effect" else "a dose-response gradient"
    return Proposal(
        domain,
        "not_judged",
        0,
        f"{what}: the review team's judgement (grade.csv); GRADE guidelines 9",
        {},
        "",
    )


def propose(
    report: Mapping[str, Any],
    *,
    designs: Mapping[str, str],
    tools: Mapping[str, str],
    levels: Mapping[str, str],
    participants: int | None,
    settings: GradeSettings,
) -> list[Proposal]:
    """Propose every domain of one analysis, in the order of :data:`DOMAINS`.

    Parameters
    ----------
    report : mapping
        The analysis report (``results/meta/ANALYSIS.json``).
    designs, tools, levels : mapping
        Per study: design (studies.csv), risk-of-bias tool and overall level.
    participants : int, optional
        Participants in the analysis (None when not known).
    settings : GradeSettings
        MID, information-size and small-study settings.
    """
    study_ids = [str(s["study_id"]) for s in report.get("studies") or []]
    start = starting_level(study_ids, designs, tools)
    return [
        start,
        risk_of_bias(report, levels),
        inconsistency(report, settings),
        indirectness(),
        imprecision(report, participants, settings),
        publication_bias(report, settings),
        upgrade("large_effect", start),
        upgrade("dose_response", start),
    ]
