"""The methods section: one paragraph per stage the review has reached.

Which stages the review has reached is read from its results
(:func:`_reached`). Each paragraph is written from the configuration that ran:
import and deduplication, screening, effect sizes, meta-analysis, risk of
bias, the certainty of the evidence (:func:`evsynth.report.sof.methods_text`)
and the qualitative synthesis; the last names the software and its versions
(:func:`versions`).
"""

from __future__ import annotations

import platform
from collections.abc import Mapping
from importlib import metadata

from evsynth.report import sof as grade_sof
from evsynth.report.formatting import (
    _capital,
    _count,
    _f,
    _join,
    _n,
    _num,
    lower_better_labels,
)
from evsynth.report.loading import Review

__all__ = ["PACKAGES", "versions"]

#: Packages whose versions the methods paragraph names (distribution, label).
PACKAGES: tuple[tuple[str, str], ...] = (
    ("numpy", "numpy"),
    ("pandas", "pandas"),
    ("scipy", "SciPy"),
    ("statsmodels", "statsmodels"),
    ("PyMARE", "PyMARE"),
    ("matplotlib", "matplotlib"),
)

_ESTIMATORS = {
    "EE": "an equal-effects model",
    "DL": "the DerSimonian-Laird estimator of τ²",
    "REML": "the restricted maximum-likelihood (REML) estimator of τ²",
    "ML": "the maximum-likelihood estimator of τ²",
    "PM": "the Paule-Mandel estimator of τ²",
    "HE": "the Hedges estimator of τ²",
    "SJ": "the Sidik-Jonkman estimator of τ²",
}


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "(not installed)"


def versions() -> dict[str, str]:
    """Versions of evsynth, Python and the numerical packages, by label."""
    out = {"evsynth": _version("evsynth"), "Python": platform.python_version()}
    out.update({label: _version(dist) for dist, label in PACKAGES})
    return out


def _reached(review: Review) -> dict[str, bool]:
    """Which stages the review has reached, read from what their results hold.

    A stage counts once its results have something in them: a screening
    decision at title/abstract or full text, effect sizes, a meta-analysis,
    risk-of-bias judgements, themes, CERQual findings, CASP appraisals.
    """
    counts = review.prisma_counts or {}
    states = counts.get("states", {}) or {}
    decided: dict[str, int] = {}
    if review.agreement is not None:
        for row in review.agreement.to_dict("records"):
            stage = str(row.get("stage", ""))
            decided[stage] = max(decided.get(stage, 0), int(_num(row.get("n")) or 0))

    def n(key: str) -> int:
        return int(_num(counts.get(key)) or 0)

    unique = counts.get("unique_records", {}) or {}
    return {
        "records": review.import_summary is not None
        or review.dedup_summary is not None,
        "title_abstract": n("records_screened") > 0
        or int(states.get("conflict_title_abstract", 0) or 0) > 0
        or decided.get("title_abstract", 0) > 0,
        "full_text": n("dbr_assessed") + n("other_assessed") > 0
        or int(states.get("conflict_full_text", 0) or 0) > 0
        or decided.get("full_text", 0) > 0,
        "other_methods": int(unique.get("other_methods", 0) or 0) > 0,
        "agreement": any(decided.values()),
        "effects": review.effects is not None,
        "meta": any(a.report is not None for a in review.analyses),
        "rob": review.rob_overall is not None or bool(review.rob_tables),
        "themes": review.barriers is not None or review.facilitators is not None,
        "cerqual": review.soqf is not None,
        "casp": review.appraisal is not None,
    }


def _records_methods(review: Review) -> str:
    records = review.settings.get("records", {}) or {}
    frame = review.import_summary
    if frame is not None and len(frame):
        sources = list(dict.fromkeys(frame["database"]))
        dates = sorted(d for d in frame.get("date_searched", []) if d)
        text = (
            f"Records from {_n(len(frame), 'search export', 'search exports')} "
            f"({_join(sources)}"
        )
        if dates:
            text += (
                f"; searched {dates[0]}"
                if dates[0] == dates[-1]
                else f"; searched {dates[0]} to {dates[-1]}"
            )
        text += ") were imported with evsynth and their counts checked against "
        error = records.get("count_mismatch") == "error"
        mismatch = "stops the run" if error else "is flagged"
        text += f"the numbers the databases reported (a mismatch {mismatch})."
    else:
        text = "Records were imported with evsynth."
    if review.dedup_summary is None:
        return text
    text += (
        " Duplicates were found by comparing records within blocks (same DOI or "
        "PMID, title start or end, first author, year and first page, year, volume "
        "and first page, or the three longest title words) on normalised fields, "
        "and pairs were decided by named rules: must-not-merge rules first (an "
        "erratum, comment or retraction and the paper it concerns, parts of a "
        "series, a conference abstract and an article in another venue, different "
        "DOIs or PMIDs, years more than one apart), then duplicate rules (the same "
        "DOI or PMID with a similar title; the same title with agreeing authors "
        "and citation details; a title contained in the other with the same "
        "journal, volume and pages; the same citation under a translated title); "
        "pairs close but unproven were left to the reviewers."
    )
    verdicts = review.dedup_decisions
    open_pairs = review.dedup_review
    n_open = 0 if open_pairs is None else len(open_pairs)
    if verdicts is not None and len(verdicts):
        text += (
            f" The reviewers decided {_n(len(verdicts), 'pair', 'pairs')} "
            f"({records.get('dedup_decisions', '')})."
        )
    elif not n_open:
        text += (
            " No reviewer verdicts were needed or given; the rules decided every pair."
        )
    if n_open:
        text += (
            " "
            + _capital(_n(n_open, "uncertain pair awaits", "uncertain pairs await"))
            + " a reviewer's verdict (results/records/dedup_review.csv)."
        )
    return text


def _screening_methods(review: Review, reached: Mapping[str, bool]) -> str:
    screening = review.settings.get("screening", {}) or {}
    per = screening.get("reviewers_per_record", {}) or {}
    ta, ft = reached["title_abstract"], reached["full_text"]
    if not (ta or ft):
        return ""
    n_ta, n_ft = int(per.get("title_abstract", 2)), int(per.get("full_text", 2))
    reviewers = list(screening.get("reviewers", []) or [])
    resolvers = list(screening.get("resolvers", []) or [])
    clauses = []
    if ta:
        clauses.append(
            f"{_count(n_ta, 'reviewer', 'reviewers')} screened each record by title "
            "and abstract"
        )
    if ft:
        clauses.append(
            f"{_count(n_ft, 'reviewer', 'reviewers')} "
            + ("each full-text report" if ta else "screened each full-text report")
        )
    pairs = (ta and n_ta > 1) or (ft and n_ft > 1)
    text = _capital(_join(clauses)) + (", independently" if pairs else "")
    if reviewers:
        text += f" ({_join(reviewers)})"
    text += "."
    rules = []
    if ta:
        rules.append(
            "at title and abstract two includes (or maybes) moved a record on, two "
            "excludes excluded it and one of each was a conflict"
            if n_ta > 1
            else "at title and abstract one include (or maybe) moved a record on "
            "and one exclude excluded it"
        )
    if ft:
        if n_ft > 1:
            rules.append(
                "at full text two exclusions for different reasons were also a conflict"
                if ta and n_ta > 1
                else "at full text an include and an exclude, or two exclusions "
                "for different reasons, were a conflict"
            )
        else:
            rules.append("at full text one reviewer's decision was final")
    text += " " + _capital("; ".join(rules)) + "."
    if pairs and resolvers:
        names = [
            "by the reviewers together" if r == "consensus" else f"by {r}"
            for r in resolvers
        ]
        text += f" Conflicts were resolved {_join(names, 'or')}."
    if reached["other_methods"]:
        text += (
            " Records identified via other methods went straight to full-text "
            "retrieval, as in the PRISMA 2020 flow diagram (Page et al. 2021)."
        )
    reasons = list(screening.get("exclusion_reasons", []) or [])
    if ft and reasons:
        text += " Full-text exclusions gave one of: " + "; ".join(reasons) + "."
    if reached["agreement"]:
        text += (
            " Agreement between the two reviewers is reported as observed agreement "
            "(Wilson interval), Cohen's κ (large-sample standard error), PABAK and "
            "Gwet's AC1, each with a 95% confidence interval."
        )
    return text


#: How each effects.measure setting expresses the outcomes.
_MEASURE_WORDS = {
    "SMD": "Outcomes were expressed as Hedges' g",
    "MD": "Outcomes were expressed as mean differences",
    "OR": "Outcomes were expressed as log odds ratios",
    "RR": "Outcomes were expressed as log risk ratios",
    "RD": "Outcomes were expressed as risk differences",
    "OR2DL": "Outcomes were expressed as Hedges' g",
}


def _effects_methods(review: Review) -> str:
    effects = review.settings.get("effects", {}) or {}
    correction = (
        "the exact small-sample correction (gamma functions; Hedges 1981)"
        if effects.get("smd_correction", "exact") == "exact"
        else "the approximate small-sample correction 1 - 3/(4m - 1) (Hedges 1981)"
    )
    measure = str(effects.get("measure", "auto"))
    if measure == "auto":
        text = (
            f"Continuous outcomes were expressed as Hedges' g with {correction}, "
            "binary outcomes as log odds ratios"
        )
    else:
        text = _MEASURE_WORDS.get(measure, f"Outcomes were expressed as {measure}")
        if measure in ("SMD", "OR2DL"):
            text += f" with {correction}"
        if measure == "OR2DL":
            text += ", binary outcomes converted from log odds ratios by the "
            text += "logistic method"
    text += "; effects were signed so that positive values favour the intervention."
    to_smd = effects.get("binary_to_smd", "none")
    if measure == "auto" and to_smd and to_smd != "none":
        text += f" Binary outcomes were put on the SMD scale by the {to_smd} method."
    text += (
        f" Difference-in-differences rows without a pre-post correlation used "
        f"r = {effects.get('imputed_r', 0.5)}, and cluster designs without a "
        f"reported ICC used ICC = {effects.get('default_icc', 0.1)}; the output "
        "marks every imputed value."
    )
    return text


def _meta_methods(review: Review) -> str:
    meta = review.settings.get("meta", {}) or {}
    method = str(meta.get("method", "REML"))
    test = str(meta.get("test", "knha"))
    pi = str(meta.get("prediction_interval", "metafor"))
    level = _f(meta.get("level", 95), 0)
    reports = [a.report for a in review.analyses if a.report is not None]
    specs = meta.get("analyses", []) or []
    moderators = any(r.get("subgroups") or r.get("metareg") for r in reports) or any(
        isinstance(spec, Mapping) and (spec.get("subgroups") or spec.get("moderators"))
        for spec in specs
    )
    by_rob = any(r.get("sensitivity_without_high_rob") is not None for r in reports)
    text = (
        f"Each analysis pooled one effect per study in a "
        f"{'random-effects model with ' if method != 'EE' else ''}"
        f"{_ESTIMATORS.get(method, method)}"
    )
    text += (
        ", with the Knapp-Hartung adjustment for the confidence interval and test "
        "of the pooled effect (Knapp & Hartung 2003)"
        if test == "knha"
        else ", with z-based confidence intervals and tests"
    )
    text += f" and {level}% confidence intervals. "
    text += {
        "metafor": "Prediction intervals were computed as metafor's predict() "
        "(t distribution with k - 1 df under Knapp-Hartung). ",
        "riley": "Prediction intervals used the t distribution with k - 2 df "
        "(Riley et al. 2011). ",
        "none": "No prediction intervals were computed. ",
    }.get(pi, f"Prediction intervals: {pi}. ")
    text += (
        f"Where a study reported several outcomes of an analysis, they were "
        f"combined into their mean with a variance assuming a correlation of "
        f"{meta.get('rho', 0.6)} (Borenstein et al. 2009), and a three-level model "
        "and cluster-robust (CR1, CR2) inference on all effect sizes are reported "
        f"beside it; of several time points the {meta.get('timepoint', 'latest')} "
        f"was used. Analyses with fewer than {meta.get('min_k', 2)} studies were "
        "not pooled. Heterogeneity is reported as τ² (with a Q-profile "
        "confidence interval), I² and Cochran's Q."
    )
    events = lower_better_labels(review.analyses)
    if events:
        text += (
            " Events that are better when lower were pooled as measured (the "
            "ratio of the event, not its inverse), so that values below no effect "
            "favour the intervention in the "
            f"{'analysis' if len(events) == 1 else 'analyses'} {_join(events)}."
        )
    if moderators:
        text += " Subgroup analyses and meta-regression used mixed-effects models."
    text += (
        " Small-study effects were examined with funnel plots, trim and fill "
        "(Duval & Tweedie 2000), Egger's regression test (Egger et al. 1997), "
        "Begg's rank correlation (Begg & Mazumdar 1994) and Rosenthal's "
        f"fail-safe N (Rosenthal 1979) when at least {meta.get('bias_min_k', 10)} "
        "studies were available (Cochrane Handbook 13.3.5.4). "
    )
    text += (
        "Sensitivity analyses left out the studies at high risk of bias, and "
        "each study in turn,"
        if by_rob
        else "Sensitivity analyses left out each study in turn,"
    )
    text += (
        " with influence diagnostics after Viechtbauer & Cheung (2010). The models "
        "follow metafor (Viechtbauer 2010), reproduced in Python and checked "
        "against metafor 3.8.1."
    )
    return text


def _rob_methods(review: Review, reached: Mapping[str, bool]) -> str:
    from evsynth.rob.model import TOOLS

    used = set(review.rob_tables)
    if review.rob_overall is not None and "tool" in review.rob_overall.columns:
        used |= {str(t) for t in review.rob_overall["tool"]}
    citations = {"rob2": "Sterne et al. 2019", "robins_i": "Sterne et al. 2016"}
    tools = [
        f"{spec.name} for {spec.design}"
        + (f" ({citations[key]})" if key in citations else "")
        for key, spec in TOOLS.items()
        if key in used
    ]
    text = "Risk of bias was judged with " + (_join(tools) or "RoB 2 or ROBINS-I")
    if reached["meta"]:
        text += (
            "; for the sensitivity analyses each study's worst overall judgement was "
            "harmonised to low, moderate (RoB 2 some concerns), high (ROBINS-I "
            "serious or critical) or unclear (no information)"
        )
    return text + "."


def _qualitative_methods(review: Review, reached: Mapping[str, bool]) -> str:
    coverage = (review.settings.get("qualitative", {}) or {}).get(
        "cerqual_coverage", "full"
    )
    sentences = []
    if reached["casp"]:
        sentences.append(
            "Qualitative studies were appraised with the CASP Qualitative Checklist "
            "(CASP 2018)."
        )
    clauses = []
    if reached["themes"]:
        clauses.append(
            "coded excerpts were grouped into themes and tabulated as barriers and "
            "facilitators by study and perspective"
        )
    if reached["cerqual"]:
        clauses.append(
            "confidence in each review finding was assessed with GRADE-CERQual "
            "(Lewin et al. 2018)"
            + (
                ", every theme belonging to a review finding"
                if coverage == "full" and reached["themes"]
                else ""
            )
        )
    if clauses:
        sentences.append(_capital(", and ".join(clauses)) + ".")
    return " ".join(sentences)


def _methods(review: Review, config_file: str | None = None) -> list[str]:
    """Write the methods, one paragraph per stage the review has reached."""
    reached = _reached(review)
    paragraphs = []
    if reached["records"]:
        paragraphs.append(_records_methods(review))
    paragraphs.append(_screening_methods(review, reached))
    if reached["effects"]:
        paragraphs.append(_effects_methods(review))
    if reached["meta"]:
        paragraphs.append(_meta_methods(review))
    if reached["rob"]:
        paragraphs.append(_rob_methods(review, reached))
    paragraphs.append(grade_sof.methods_text(review.grade, review.settings))
    paragraphs.append(_qualitative_methods(review, reached))
    v = versions()
    packages = _join([f"{label} {v[label]}" for _, label in PACKAGES])
    text = (
        f"All stages ran in evsynth {v['evsynth']} (a Snakemake workflow) on "
        f"Python {v['Python']} with {packages}. The review is reported following "
        "PRISMA 2020 (Page et al. 2021). The appendix lists every setting of the "
        "run"
    )
    if config_file:
        text += (
            f": those of the review's config file, {config_file}, with the "
            "defaults of any it leaves out"
        )
    paragraphs.append(text + ".")
    return [p for p in paragraphs if p]
