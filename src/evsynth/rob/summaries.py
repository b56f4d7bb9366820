"""Which studies each risk-of-bias summary plot shows, and what weighs them.

robvis's summary plot gives, per domain, the share of the evidence at each
level, each study weighted by its weight in the meta-analysis (McGuinness &
Higgins 2021, Res Syn Meth 12:55). Weights of different meta-analyses do not
add up, so evsynth draws, per tool:

* per meta-analysis (``summary_<analysis>_<tool>``), the studies of that
  analysis assessed with the tool, each weighted by its weight in the
  analysis's pooled model (see :mod:`evsynth.rob.weights`);
* over all analyses (``summary_<tool>``), the studies in any pooled
  meta-analysis, each weighted by its participants (``n_total`` of
  studies.csv); a study assessed but in no meta-analysis is not shown, and the
  subtitle says how many (the traffic-light plot shows every study);
* without meta-analyses (a review without an extraction table, or ``evsynth
  rob`` without ``--meta``), every study assessed, each counting once.

Each plot's subtitle says which weighting it uses. A study a plot shows whose
weight or ``n_total`` is missing is an error naming it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from evsynth.rob.model import TOOLS, tool_spec
from evsynth.rob.weights import AnalysisWeights, model_description, participants

__all__ = [
    "SummaryPlot",
    "summary_plots",
    "summary_stems",
    "summary_weights_table",
]

#: Columns of ``summary_weights.csv``.
WEIGHT_COLUMNS = [
    "plot",
    "analysis",
    "tool",
    "study_id",
    "weighted_by",
    "weight",
    "share_percent",
    "overall",
]


@dataclass(frozen=True)
class SummaryPlot:
    """One summary plot: the rows it shows, their weights and its texts.

    Attributes
    ----------
    stem : str
        File name without extension: ``summary_<tool>`` or
        ``summary_<analysis>_<tool>``.
    tool : str
        ``rob2`` or ``robins_i``.
    analysis : str or None
        The analysis's name; None for the plot over all analyses.
    title : str
        The figure's title.
    frame : pandas.DataFrame
        The risk-of-bias rows shown (the tool's rows of the studies shown).
    weights : dict of str to float or None
        Each shown study's weight; None when each counts once.
    weighted_by : str
        ``meta_analysis_weight``, ``participants`` or ``equal``.
    subtitle : tuple of str
        Sentences saying what the bars weigh and which studies are not shown.
    axis_label : str
        The axis's label.
    message : str or None
        When the plot has nothing to show, what its figure says instead.
    """

    stem: str
    tool: str
    analysis: str | None
    title: str
    frame: pd.DataFrame
    weights: dict[str, float] | None
    weighted_by: str
    subtitle: tuple[str, ...]
    axis_label: str
    message: str | None = None


def summary_stems(analyses: Sequence[str] = ()) -> list[str]:
    """File names (without extension) of the summary plots, in their order.

    Parameters
    ----------
    analyses : sequence of str
        The configured analyses' names (none without meta-analyses).

    Returns
    -------
    list of str
        ``summary_<tool>`` per tool, then ``summary_<analysis>_<tool>`` per
        analysis and tool. Analysis names match
        :data:`evsynth.paths.SAFE_ANALYSIS`, so the names never collide.
    """
    stems = [f"summary_{tool}" for tool in TOOLS]
    stems += [f"summary_{name}_{tool}" for name in analyses for tool in TOOLS]
    return stems


def summary_plots(
    frame: pd.DataFrame,
    analyses: Sequence[AnalysisWeights] | None = None,
    studies: str | Path | None = None,
) -> list[SummaryPlot]:
    """Plan every summary plot: per tool over all analyses, then per analysis.

    Parameters
    ----------
    frame : pandas.DataFrame
        As returned by :func:`evsynth.rob.model.read_rob`.
    analyses : sequence of AnalysisWeights, optional
        The meta-analyses (see :func:`evsynth.rob.weights.read_analysis_weights`),
        in their configured order; None (or empty) when there are none, and
        every study then counts once.
    studies : str or Path, optional
        studies.csv, for the participants (``n_total``) of the studies in a
        meta-analysis.

    Returns
    -------
    list of SummaryPlot
        In the order of :func:`summary_stems`.

    Raises
    ------
    InputError
        If a study assessed with a tool and in a pooled meta-analysis gives no
        ``n_total`` in studies.csv (or 0, or two different ones): the message
        names the file, the row, the column and the analysis.
    """
    analyses = list(analyses or [])
    in_analysis: dict[str, str] = {}
    for analysis in analyses:
        for study in analysis.weights:
            in_analysis.setdefault(study, analysis.name)
    assessed = {
        tool: list(dict.fromkeys(frame.loc[frame["tool"] == tool, "study_id"]))
        for tool in TOOLS
    }
    needed = {
        study: f"in the meta-analysis {in_analysis[study]!r}"
        for tool in TOOLS
        for study in assessed[tool]
        if study in in_analysis
    }
    sizes = participants(
        studies,
        needed,
        why="the risk-of-bias summary plot of each tool weighs the studies in "
        "a meta-analysis by their participants",
    )
    plots = [
        _overall(frame, tool, assessed[tool], in_analysis, sizes, bool(analyses))
        for tool in TOOLS
    ]
    for analysis in analyses:
        plots += [_per_analysis(frame, tool, analysis) for tool in TOOLS]
    return plots


def _rows(frame: pd.DataFrame, tool: str, shown: Sequence[str]) -> pd.DataFrame:
    keep = (frame["tool"] == tool) & frame["study_id"].isin(list(shown))
    return frame[keep].reset_index(drop=True)


def _overall(
    frame: pd.DataFrame,
    tool: str,
    assessed: list[str],
    in_analysis: dict[str, str],
    sizes: dict[str, float],
    has_analyses: bool,
) -> SummaryPlot:
    spec = tool_spec(tool)
    title = f"Risk of bias summary: {spec.name} ({spec.design})"
    stem = f"summary_{tool}"
    if not has_analyses:
        n = len(assessed)
        sentence = (
            f"Unweighted (no meta-analyses): each study counts once; share of "
            f"the {n} {_studies(n)} assessed with {spec.name} at each level."
        )
        return SummaryPlot(
            stem,
            tool,
            None,
            title,
            _rows(frame, tool, assessed),
            None,
            "equal",
            (sentence,),
            "Share of studies (%)",
        )
    shown = [s for s in assessed if s in in_analysis]
    left_out = len(assessed) - len(shown)
    message = None
    if not assessed:
        message = f"No studies assessed with {spec.name}"
    elif not shown:
        message = (
            f"None of the {len(assessed)} {_studies(len(assessed))} assessed with "
            f"{spec.name} is in a meta-analysis (see the traffic-light plot)"
        )
    weights = {s: sizes[s] for s in shown}
    total = sum(weights.values())
    sentence = (
        f"Weighted by participants (n_total in studies.csv): share of the "
        f"{total:,.0f} participants of the {len(shown)} {_studies(len(shown))} "
        f"assessed with {spec.name} that are in a meta-analysis, at each level."
    )
    subtitle = [sentence]
    if left_out:
        subtitle.append(
            f"{left_out} {_studies(left_out)} in no meta-analysis "
            f"{'is' if left_out == 1 else 'are'} not shown (see the traffic-light "
            "plot)."
        )
    return SummaryPlot(
        stem,
        tool,
        None,
        title,
        _rows(frame, tool, shown),
        weights,
        "participants",
        tuple(subtitle),
        "Share of participants (%)",
        message,
    )


def _per_analysis(
    frame: pd.DataFrame, tool: str, analysis: AnalysisWeights
) -> SummaryPlot:
    spec = tool_spec(tool)
    title = f"Risk of bias summary, {analysis.label}: {spec.name} ({spec.design})"
    stem = f"summary_{analysis.name}_{tool}"
    weights_all = analysis.weights
    total = sum(weights_all.values())
    by_tool = {
        other: set(frame.loc[frame["tool"] == other, "study_id"]) for other in TOOLS
    }
    shown = [s for s in weights_all if s in by_tool[tool]]
    message = None
    if not analysis.pooled:
        message = (
            f"{analysis.label}: not pooled ({analysis.skipped}), so there are no "
            "meta-analysis weights"
        )
    elif not shown:
        message = (
            f"No study of the analysis {analysis.label} was assessed with {spec.name}"
        )
    weights = {s: weights_all[s] for s in shown}
    share = 100 * sum(weights.values()) / total if total > 0 else 0.0
    n = len(shown)
    sentence = (
        f"Weighted by meta-analysis weight ({model_description(analysis.method)}): "
        f"share of the weight of the {n} {_studies(n)} assessed with {spec.name} "
        f"at each level; {'it carries' if n == 1 else 'together they carry'} "
        f"{share:.1f}% of the analysis's weight."
    )
    subtitle = [sentence]
    missing = []
    for other in TOOLS:
        if other == tool:
            continue
        others = [s for s in weights_all if s in by_tool[other] and s not in shown]
        if others:
            missing.append(
                f"{len(others)} {_studies(len(others))} assessed with "
                f"{TOOLS[other].name} ({_percent(others, weights_all, total)})"
            )
    unassessed = [s for s in weights_all if not any(s in by_tool[t] for t in TOOLS)]
    if unassessed:
        missing.append(
            f"{len(unassessed)} {_studies(len(unassessed))} without a risk-of-bias "
            f"judgement ({_percent(unassessed, weights_all, total)})"
        )
    if missing:
        subtitle.append("Not in this plot: " + "; ".join(missing) + ".")
    return SummaryPlot(
        stem,
        tool,
        analysis.name,
        title,
        _rows(frame, tool, shown),
        weights,
        "meta_analysis_weight",
        tuple(subtitle),
        "Share of the meta-analysis weight (%)",
        message,
    )


def _percent(studies: Sequence[str], weights: dict[str, float], total: float) -> str:
    return f"{100 * sum(weights[s] for s in studies) / total:.1f}% of the weight"


def _studies(n: int) -> str:
    return "study" if n == 1 else "studies"


def summary_weights_table(plots: Sequence[SummaryPlot]) -> pd.DataFrame:
    """Tabulate each plot's studies, weights and shares (``summary_weights.csv``).

    Parameters
    ----------
    plots : sequence of SummaryPlot
        From :func:`summary_plots`.

    Returns
    -------
    pandas.DataFrame
        One row per plot and study shown, columns :data:`WEIGHT_COLUMNS`:
        the plot's file stem, the analysis (empty over all analyses), the tool,
        the study, what weighs it (``meta_analysis_weight``, ``participants``,
        ``equal``), its weight (percent weight in the analysis, participants,
        or 1), its share of the plot's total in percent and the overall
        judgement the plot counts (the worst of its outcomes), so that each
        bar can be checked by hand.
    """
    records = []
    for plot in plots:
        if plot.message is not None:
            continue
        spec = tool_spec(plot.tool)
        overall: dict[str, str | None] = {}
        for study, level in zip(
            plot.frame["study_id"], plot.frame["overall"], strict=True
        ):
            overall[str(study)] = spec.worst([overall.get(str(study)), level])
        weights = plot.weights or dict.fromkeys(overall, 1.0)
        total = sum(weights[s] for s in overall)
        for study, level in overall.items():
            records.append(
                {
                    "plot": plot.stem,
                    "analysis": plot.analysis or "",
                    "tool": plot.tool,
                    "study_id": study,
                    "weighted_by": plot.weighted_by,
                    "weight": _weight_cell(weights[study], plot.weighted_by),
                    "share_percent": round(100 * weights[study] / total, 6)
                    if total > 0
                    else None,
                    "overall": level,
                }
            )
    return pd.DataFrame(records, columns=WEIGHT_COLUMNS)


def _weight_cell(weight: float, weighted_by: str) -> float | int:
    """Participants and equal weights as whole numbers, percent weights rounded."""
    if weighted_by in ("participants", "equal") and float(weight).is_integer():
        return int(weight)
    return round(weight, 6)
