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
  2022, J Clin Epidemiol 150:225-242; Zeng et al. 2021, 137:163-175): for
  standardised differences from the SMD planned for, for binary outcomes from
  the comparator's risk and a relative risk reduction (part 6: 25%); the
  default thresholds of an appreciable effect of a risk or odds ratio are 0.75
  and 1.25 (part 6; GRADE Handbook 5.2.2.2);
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

from evsynth.meta.analyses import BINARY_MEASURES

__all__ = [
    "BINARY_MEASURES",
    "DOMAINS",
    "DOWNGRADE_DOMAINS",
    "LEVELS",
    "OIS_RRR",
    "RATIO_MEASURES",
    "RATIO_MID",
    "UPGRADE_DOMAINS",
    "GradeSettings",
    "Proposal",
    "imprecision",
    "inconsistency",
    "indirectness",
    "optimal_information_size",
    "optimal_information_size_binary",
    "propose",
    "publication_bias",
    "ratio_bounds",
    "risk_of_bias",
    "risk_with",
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
#: Measures of binary outcomes that are ratios (log scale); BINARY_MEASURES
#: (OR, RR, RD) comes from :mod:`evsynth.meta.analyses`.
RATIO_MEASURES = ("OR", "RR")
#: GRADE's default thresholds of an appreciable benefit or harm of a risk ratio
#: (part 6, 64:1283-1293; GRADE Handbook 5.2.2.2): RR 0.75 and 1.25, a 25%
#: relative risk reduction or increase (asymmetric on the log scale).
RATIO_MID = (0.75, 1.25)
#: The relative risk reduction a binary outcome's optimal information size is
#: planned for when the analysis sets no MID (part 6: 25%).
OIS_RRR = 0.25


@dataclass(frozen=True)
class GradeSettings:
    """What the rules need beyond the analysis report.

    Parameters
    ----------
    mid : float, optional
        Minimally important difference on the analysis's scale, the same on
        both sides of the null (an SMD of 0.2, a risk difference of 0.05);
        None uses the null alone (unless ``mid_bounds``).
    ois_effect : float
        The effect an adequately powered trial is planned for, when no ``mid``
        is set (an SMD; 0.2 by default, a small effect).
    alpha, power : float
        Of that trial (0.05 and 0.8).
    bias_min_k : int
        Studies needed for a small-study test (``meta.bias_min_k``).
    mid_bounds : (float, float), optional
        The thresholds of an important harm and benefit on the analysis's
        scale (lower < 0 < upper), when they differ: a risk or odds ratio's
        RR 0.75 and 1.25 are log 0.75 and log 1.25 (:func:`ratio_bounds`).
        Wins over ``mid``.
    ois_rrr : float
        The relative risk reduction a binary outcome's optimal information size
        is planned for when ``ois_ratio`` is not set (0.25).
    ois_ratio : float, optional
        The ratio of the event (below 1) the optimal information size of an OR
        or RR is planned for: the analysis's own MID.
    flipped : bool
        The analysis's effects were turned round (the event is unfavourable,
        ``favourable`` = lower): footnotes show OR, RR and RD of the event as
        measured, turned back.
    lower_better : bool
        The analysis's values favour the intervention when lower: a binary
        analysis of an event that is better when lower, pooled as measured
        (the report's ``favourable`` is ``lower``). Only the words of a
        conclusion (benefit, harm) depend on it.
    """

    mid: float | None = None
    ois_effect: float = 0.2
    alpha: float = 0.05
    power: float = 0.8
    bias_min_k: int = 10
    mid_bounds: tuple[float, float] | None = None
    ois_rrr: float = OIS_RRR
    ois_ratio: float | None = None
    flipped: bool = False
    lower_better: bool = False

    def __post_init__(self) -> None:
        if self.mid_bounds is not None and not (
            self.mid_bounds[0] < 0 < self.mid_bounds[1]
        ):
            raise ValueError("mid_bounds must be (lower < 0, upper > 0)")

    @property
    def bounds(self) -> tuple[float, float] | None:
        """The thresholds (lower < 0 < upper) on the analysis's scale, or None."""
        if self.mid_bounds is not None:
            return (float(self.mid_bounds[0]), float(self.mid_bounds[1]))
        if self.mid:
            return (-float(self.mid), float(self.mid))
        return None


def ratio_bounds(ratios: Sequence[float], flipped: bool = False) -> tuple[float, float]:
    """Return the thresholds of a risk or odds ratio on the analysis's (log) scale.

    Parameters
    ----------
    ratios : (float, float)
        The thresholds as ratios of the event as measured, below and above 1
        (GRADE's default 0.75 and 1.25).
    flipped : bool
        The analysis's effects were turned round (the event is unfavourable):
        the analysis's scale is minus the log ratio of the event.

    Returns
    -------
    (float, float)
        Lower < 0 < upper: ``(log 0.75, log 1.25)``, or turned round
        ``(-log 1.25, -log 0.75)``.
    """
    low, high = (math.log(float(r)) for r in ratios)
    if not low < 0 < high:
        raise ValueError(f"ratio thresholds must lie below and above 1: {ratios}")
    return (-high, -low) if flipped else (low, high)


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


def _event(value: float, measure: str, flipped: bool) -> float:
    """Return a binary outcome's value for the event as measured (turned back)."""
    return -value if flipped and measure in BINARY_MEASURES else value


def _shown(value: float | None, measure: str, flipped: bool = False) -> str:
    """Return a value as a footnote shows it: OR and RR as ratios, not logs.

    OR, RR and RD of an analysis whose effects were turned round (``flipped``)
    are shown for the event as measured; other measures as pooled.
    """
    if value is None:
        return _fmt(value)
    value = _event(value, measure, flipped)
    if measure not in RATIO_MEASURES:
        return _fmt(value)
    return f"{measure} {math.exp(value):.2f}"


def _range(
    low: float | None,
    high: float | None,
    measure: str,
    sep: str,
    flipped: bool = False,
) -> str:
    """Return "RR 0.23 to 5.12" (OR and RR as ratios), "-0.10 to 0.30" else.

    Turned back (``flipped``), the bounds of OR, RR and RD change places.
    """
    if flipped and measure in BINARY_MEASURES:
        low, high = high, low
    return (
        _shown(low, measure, flipped)
        + sep
        + _shown(high, measure, flipped).split(" ")[-1]
    )


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


def _conclusion(pooled: Mapping[str, Any], lower_better: bool = False) -> str | None:
    """'benefit', 'harm' or 'unclear' (CI includes the null); None if not fitted.

    Above the null is a benefit, or with ``lower_better`` a harm.
    """
    low, high = _num(pooled.get("ci_lb")), _num(pooled.get("ci_ub"))
    if low is None or high is None:
        return None
    if low > 0:
        return "harm" if lower_better else "benefit"
    if high < 0:
        return "benefit" if lower_better else "harm"
    return "unclear"


def risk_of_bias(
    report: Mapping[str, Any],
    levels: Mapping[str, str],
    settings: GradeSettings | None = None,
) -> Proposal:
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
    settings : GradeSettings, optional
        For ``flipped`` (how the estimate is shown) and ``lower_better``.
    """
    flipped = settings.flipped if settings is not None else False
    lower_better = settings.lower_better if settings is not None else False
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
    before = _conclusion(report.get("pooled") or {}, lower_better)
    sensitivity = report.get("sensitivity_without_high_rob") or {}
    after_pooled = sensitivity.get("pooled") or {}
    after = _conclusion(after_pooled, lower_better) if after_pooled else None
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
            + _shown(
                numbers["estimate_without_high"], str(report.get("measure")), flipped
            )
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
        "mid_bounds": list(settings.bounds) if settings.bounds else None,
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
            "Inconsistency: one study, nothing to compare."
            if k < 2
            else "Inconsistency: the model gave no I2.",
        )
    lower, upper = settings.bounds or (0.0, 0.0)
    crosses_null = pi_lb is not None and pi_ub is not None and pi_lb < 0 < pi_ub
    both_important = (
        pi_lb is not None and pi_ub is not None and pi_lb < lower and pi_ub > upper
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
        f"{_range(pi_lb, pi_ub, measure, ' to ', settings.flipped)}"
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


def risk_with(risk: float, ratio: float, measure: str) -> float:
    """Return the risk a ratio gives from a comparator's risk.

    Cochrane Handbook 14.1.5 (and 11.5.5 of version 5.1): with a risk ratio
    ``ACR * RR`` (at most 1), with an odds ratio
    ``ACR * OR / (1 - ACR + ACR * OR)``.

    Parameters
    ----------
    risk : float
        The assumed comparator risk (0 to 1).
    ratio : float
        The risk or odds ratio (not its log).
    measure : str
        ``RR`` or ``OR``.
    """
    if measure == "RR":
        return min(1.0, risk * ratio)
    if measure == "OR":
        return risk * ratio / (1 - risk + risk * ratio)
    raise ValueError(f"no risk from a ratio of measure {measure!r}")


def optimal_information_size_binary(
    risk_c: float, risk_t: float, alpha: float = 0.05, power: float = 0.8
) -> int:
    """Participants a two-arm trial needs to detect a difference of two risks.

    The normal-approximation sample size of two proportions (as R's
    ``power.prop.test`` solves it), per arm
    ``n = (z_{1-alpha/2} sqrt(2 p (1 - p)) + z_{power}
    sqrt(p_c (1 - p_c) + p_t (1 - p_t)))^2 / (p_c - p_t)^2`` with
    ``p = (p_c + p_t) / 2``, rounded up; the total of two equal arms (GRADE
    guidelines 6: the OIS of a binary outcome, from the control group's risk
    and a relative risk reduction).

    Parameters
    ----------
    risk_c, risk_t : float
        The comparator's risk and the risk the trial is planned to detect
        (both strictly between 0 and 1, and different).
    alpha, power : float
        Two-sided significance level and power.
    """
    if not (0 < risk_c < 1 and 0 < risk_t < 1) or risk_c == risk_t:
        raise ValueError(
            "the risks of the optimal information size must differ and lie "
            f"strictly between 0 and 1: {risk_c}, {risk_t}"
        )
    z_a, z_b = stats.norm.ppf(1 - alpha / 2), stats.norm.ppf(power)
    mean = (risk_c + risk_t) / 2
    spread = z_a * math.sqrt(2 * mean * (1 - mean)) + z_b * math.sqrt(
        risk_c * (1 - risk_c) + risk_t * (1 - risk_t)
    )
    return 2 * math.ceil(spread**2 / (risk_c - risk_t) ** 2)


def _planned_risk(
    risk: float, measure: str, settings: GradeSettings
) -> tuple[float, str] | None:
    """Return the risk a binary outcome's OIS is planned for, and how it was set."""
    if measure in RATIO_MEASURES and settings.ois_ratio:
        planned = risk_with(risk, settings.ois_ratio, measure)
        how = f"{measure} {settings.ois_ratio:g}, the analysis's MID"
    elif measure == "RD" and settings.mid:
        planned = (
            risk - settings.mid if risk - settings.mid > 0 else risk + settings.mid
        )
        how = f"a risk difference of {settings.mid:g}, the analysis's MID"
    else:
        planned = risk * (1 - settings.ois_rrr)
        how = f"a relative risk reduction of {100 * settings.ois_rrr:g}%"
    if not 0 < planned < 1 or planned == risk:
        return None
    return planned, how


def imprecision(
    report: Mapping[str, Any],
    participants: int | None,
    settings: GradeSettings,
    comparator_risk: float | None = None,
) -> Proposal:
    """Imprecision from the confidence interval and the information size (part 6).

    Rule: very serious when the CI reaches important effects in both directions
    (below the lower and above the upper MID), or crosses the null with fewer
    participants than the optimal information size; serious when the CI
    crosses the null (or a MID), or when it does not but the participants fall
    short of the optimal information size; otherwise no concern.

    The optimal information size (OIS) is that of one two-arm trial at
    ``alpha`` and ``power``: for standardised mean differences planned for the
    MID, else ``grade.ois_effect``; for binary outcomes (OR, RR, RD) from the
    comparator's risk, lowered by the analysis's MID (an OR or RR below 1, a
    risk difference) or else by the relative risk reduction ``ois_rrr``
    (GRADE guidelines 6: 25%). Without a comparator risk (no 2x2 counts) and
    for mean differences only the CI counts.

    Parameters
    ----------
    report : mapping
        The analysis report (``pooled``: ``ci_lb``, ``ci_ub``; ``measure``).
    participants : int, optional
        Participants analysed (None: not known).
    settings : GradeSettings
        The MID and the OIS settings.
    comparator_risk : float, optional
        The assumed comparator risk of a binary outcome (0 to 1), for its OIS.
    """
    pooled = report.get("pooled") or {}
    low, high = _num(pooled.get("ci_lb")), _num(pooled.get("ci_ub"))
    measure = str(report.get("measure") or "")
    flipped = settings.flipped
    mid = settings.mid
    bounds = settings.bounds
    numbers: dict[str, Any] = {
        "ci_lb": low,
        "ci_ub": high,
        "mid": mid,
        "mid_bounds": list(bounds) if bounds else None,
        "participants": participants,
        "ois": None,
        "ois_effect": None,
        "alpha": settings.alpha,
        "power": settings.power,
    }
    ois: int | None = None
    planned_text = ""
    if measure == "SMD":
        effect = mid if mid else settings.ois_effect
        if effect > 0:
            ois = optimal_information_size(effect, settings.alpha, settings.power)
            numbers["ois_effect"] = effect
            planned_text = f"effect {effect:g},"
    elif measure in BINARY_MEASURES and comparator_risk is not None:
        numbers["comparator_risk"] = comparator_risk
        planned = (
            _planned_risk(comparator_risk, measure, settings)
            if 0 < comparator_risk < 1
            else None
        )
        if planned is not None:
            risk_t, how = planned
            ois = optimal_information_size_binary(
                comparator_risk, risk_t, settings.alpha, settings.power
            )
            numbers["ois_risk_planned"] = risk_t
            numbers["ois_rrr"] = 1 - risk_t / comparator_risk
            planned_text = (
                f"comparator risk {100 * comparator_risk:.1f}% against "
                f"{100 * risk_t:.1f}%, {how};"
            )
    numbers["ois"] = ois
    rule = (
        "very serious: the CI reaches important effects in both directions, or "
        "crosses the null with fewer participants than the optimal information "
        "size (OIS); serious: the CI crosses the null or a MID, or the "
        "participants fall short of the OIS"
    )
    if low is None or high is None:
        return Proposal("imprecision", "not_assessable", 0, rule, numbers, "")
    crosses_null = low < 0 < high
    both = bounds is not None and low < bounds[0] and high > bounds[1]
    crosses_mid = bounds is not None and (
        low < bounds[1] < high or low < bounds[0] < high
    )
    short = ois is not None and participants is not None and participants < ois
    ci = f"95% CI {_range(low, high, measure, ' to ', flipped)}"
    parts = [ci + (" crosses the null" if crosses_null else "")]
    if crosses_mid and not crosses_null and bounds is not None:
        if measure in RATIO_MEASURES or bounds[0] != -bounds[1]:
            shown = _range(bounds[0], bounds[1], measure, " and ", flipped)
        else:
            shown = f"{bounds[1]:g}"
        parts[0] += f" crosses the MID ({shown})"
    if both and bounds is not None:
        shown = _range(bounds[0], bounds[1], measure, " and ", flipped)
        parts[0] += f" and reaches beyond the MID in both directions ({shown})"
    if ois is not None and participants is None:
        parts.append(
            "the participants of some studies are not known, so the optimal "
            f"information size ({ois:,}) was not checked"
        )
    if ois is not None and participants is not None:
        parts.append(
            f"{participants:,} participants against an optimal information size of "
            f"{ois:,} ({planned_text} alpha {settings.alpha:g}, power "
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
            f"Publication bias: {k} {'study' if k == 1 else 'studies'}, fewer "
            f"than the {settings.bias_min_k} small-study tests need; not rated "
            "down on the data."
            if k < settings.bias_min_k
            else "Publication bias: no result of Egger's test; not rated down on "
            "the data.",
        )
    text = f"Egger's test p = {p:.2g}"
    if trim.get("k0"):
        filled = _shown(
            numbers["trimfill_estimate"], str(report.get("measure")), settings.flipped
        )
        text += f"; trim-and-fill adds {trim['k0']} studies, estimate {filled}"
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
    comparator_risk: float | None = None,
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
    comparator_risk : float, optional
        The assumed comparator risk of a binary outcome, for its OIS.
    """
    study_ids = [str(s["study_id"]) for s in report.get("studies") or []]
    start = starting_level(study_ids, designs, tools)
    return [
        start,
        risk_of_bias(report, levels, settings),
        inconsistency(report, settings),
        indirectness(),
        imprecision(report, participants, settings, comparator_risk),
        publication_bias(report, settings),
        upgrade("large_effect", start),
        upgrade("dose_response", start),
    ]
