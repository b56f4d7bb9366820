"""Run the risk-of-bias stage: read the judgements, write tables and figures."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from evsynth.io import frame_to_csv, write_files, write_frame_xlsx
from evsynth.rob.model import (
    TOOLS,
    ToolSpec,
    overall_by_study,
    overall_table,
    read_rob,
    rob_table,
    summary_proportions,
)
from evsynth.rob.plots import (
    message_figure,
    save_figure,
    summary_figure,
    traffic_light_figure,
)
from evsynth.rob.summaries import (
    SummaryPlot,
    summary_plots,
    summary_stems,
    summary_weights_table,
)
from evsynth.rob.weights import AnalysisWeights, read_analysis_weights

__all__ = [
    "TOOLS",
    "AnalysisWeights",
    "ToolSpec",
    "output_names",
    "overall_by_study",
    "read_analysis_weights",
    "read_rob",
    "rob_table",
    "run_rob",
    "summary_figure",
    "summary_plots",
    "summary_proportions",
    "traffic_light_figure",
    "write_rob",
]


def output_names(analyses: Sequence[str] = ()) -> list[str]:
    """Files :func:`write_rob` writes, relative to its folder, in its order.

    Parameters
    ----------
    analyses : sequence of str
        The names of the meta-analyses (none without meta-analyses); each
        gets a summary plot per tool.

    Returns
    -------
    list of str
        The same list whatever the data: a tool without studies still gets
        its (empty) table and figures.
    """
    names = []
    for tool in TOOLS:
        names += [f"{tool}_table.csv", f"{tool}_table.xlsx"]
    for kind in ("traffic_light", "summary"):
        for tool in TOOLS:
            names += [f"{kind}_{tool}.png", f"{kind}_{tool}.svg"]
    names += ["overall.csv", "summary_weights.csv"]
    for stem in summary_stems(analyses)[len(TOOLS) :]:
        names += [f"{stem}.png", f"{stem}.svg"]
    return names


def write_rob(
    frame: pd.DataFrame,
    out_dir: str | Path,
    analyses: Sequence[AnalysisWeights] | None = None,
    studies: str | Path | None = None,
    labels: Mapping[str, str] | None = None,
) -> list[Path]:
    """Write the risk-of-bias tables and figures, all of them or none.

    Parameters
    ----------
    frame : pandas.DataFrame
        As returned by :func:`read_rob`.
    out_dir : str or Path
        Output folder; created if needed.
    analyses : sequence of AnalysisWeights, optional
        The meta-analyses' study weights, in their configured order (see
        :func:`evsynth.rob.weights.read_analysis_weights`). With them, each
        tool's summary plot shows the studies in a meta-analysis weighted by
        participants, and each analysis gets its own, weighted by its
        meta-analysis weights (see :mod:`evsynth.rob.summaries`); without,
        every study counts once.
    studies : str or Path, optional
        studies.csv, for the participants (``n_total``).
    labels : mapping of str to str, optional
        Each study's label for readers (``results/studies/labels.csv``, see
        :mod:`evsynth.labels`): the traffic-light plots and the tables' Study
        column show it (the tables keep the id in ``study_id``).

    Returns
    -------
    list of Path
        The files written, in the order of :func:`output_names`:
        ``rob2_table.csv``/``.xlsx``, ``robins_i_table.csv``/``.xlsx``,
        ``traffic_light_<tool>.png``/``.svg``, ``summary_<tool>.png``/``.svg``,
        ``overall.csv`` (study_id, tool, overall, harmonised),
        ``summary_weights.csv`` (each summary plot's studies, weights and
        shares) and ``summary_<analysis>_<tool>.png``/``.svg``. The same input
        always gives byte-identical files.

    Raises
    ------
    InputError
        If a study a summary plot shows has no ``n_total`` in studies.csv
        (see :func:`evsynth.rob.summaries.summary_plots`).
    """
    out = Path(out_dir)
    plans = summary_plots(frame, analyses, studies)
    writers: dict[Path, Callable[[Path], None]] = {}
    for tool in TOOLS:
        table = rob_table(frame, tool, labels)
        writers[out / f"{tool}_table.csv"] = lambda p, t=table: frame_to_csv(t, p)
        writers[out / f"{tool}_table.xlsx"] = lambda p, t=table, s=tool: (
            write_frame_xlsx(t, p, sheet=s)
        )
    figures = {
        f"traffic_light_{tool}": traffic_light_figure(frame, tool, labels)
        for tool in TOOLS
    }
    summaries = {plan.stem: _summary_plot(plan) for plan in plans}
    for stem, fig in [*figures.items(), *list(summaries.items())[: len(TOOLS)]]:
        _figure_writers(writers, out / stem, fig)
    overall = overall_table(frame)
    writers[out / "overall.csv"] = lambda p: frame_to_csv(overall, p)
    weights = summary_weights_table(plans)
    writers[out / "summary_weights.csv"] = lambda p: frame_to_csv(weights, p)
    for stem, fig in list(summaries.items())[len(TOOLS) :]:
        _figure_writers(writers, out / stem, fig)
    names = [a.name for a in analyses or []]
    assert [p.name for p in writers] == output_names(names)
    write_files(writers)
    return list(writers)


def _summary_plot(plan: SummaryPlot) -> Figure:
    if plan.message is not None:
        return message_figure(plan.message)
    return summary_figure(
        plan.frame,
        plan.tool,
        plan.weights,
        title=plan.title,
        subtitle=plan.subtitle,
        axis_label=plan.axis_label,
    )


def _figure_writers(
    writers: dict[Path, Callable[[Path], None]], stem: Path, fig: Figure
) -> None:
    for fmt in ("png", "svg"):
        writers[stem.with_name(f"{stem.name}.{fmt}")] = lambda p, f=fig, m=fmt: (
            save_figure(f, p, m)
        )


def run_rob(
    table: str | Path,
    out_dir: str | Path,
    studies: str | Path | None = None,
    reports: Sequence[str | Path] | None = None,
    labels: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Read and check the judgements and write the stage's files (workflow, CLI).

    Parameters
    ----------
    table : str or Path
        ``risk_of_bias.csv``.
    out_dir : str or Path
        Output folder.
    studies : str or Path, optional
        studies.csv: every study must be listed there, and the studies in a
        meta-analysis need its ``n_total``.
    reports : sequence of str or Path, optional
        The meta stage's reports (``results/meta/<analysis>.json``), in the
        configured order; without them the summary plots are unweighted.
    labels : mapping of str to str, optional
        Each study's label for readers (see :func:`write_rob`).

    Returns
    -------
    pandas.DataFrame
        The judgements, as :func:`read_rob` returns them.
    """
    from evsynth.studies import study_ids

    frame = read_rob(table, study_ids(studies))
    analyses = [read_analysis_weights(p) for p in reports] if reports else None
    write_rob(frame, out_dir, analyses, studies, labels)
    return frame
