"""Run the risk-of-bias stage: read the judgements, write tables and figures."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import pandas as pd

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
from evsynth.rob.plots import save_figure, summary_figure, traffic_light_figure

__all__ = [
    "TOOLS",
    "ToolSpec",
    "output_names",
    "overall_by_study",
    "read_rob",
    "rob_table",
    "summary_figure",
    "summary_proportions",
    "traffic_light_figure",
    "write_rob",
]


def output_names() -> list[str]:
    """Files :func:`write_rob` writes, relative to its folder, in its order.

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
    names.append("overall.csv")
    return names


def write_rob(
    frame: pd.DataFrame,
    out_dir: str | Path,
    weights: Mapping[str, float] | None = None,
) -> list[Path]:
    """Write the risk-of-bias tables and figures, all of them or none.

    Parameters
    ----------
    frame : pandas.DataFrame
        As returned by :func:`read_rob`.
    out_dir : str or Path
        Output folder; created if needed.
    weights : mapping of str to float, optional
        Weight of each study (e.g. meta-analysis weights) for the summary
        plots; by default every study counts once.

    Returns
    -------
    list of Path
        The files written, in the order of :func:`output_names`:
        ``rob2_table.csv``/``.xlsx``, ``robins_i_table.csv``/``.xlsx``,
        ``traffic_light_<tool>.png``/``.svg``, ``summary_<tool>.png``/``.svg``
        and ``overall.csv`` (study_id, tool, overall, harmonised). The same
        input always gives byte-identical files.

    Raises
    ------
    ValueError
        If a weight is negative or not a finite number.
    """
    out = Path(out_dir)
    writers: dict[Path, Callable[[Path], None]] = {}
    for tool in TOOLS:
        table = rob_table(frame, tool)
        writers[out / f"{tool}_table.csv"] = lambda p, t=table: frame_to_csv(t, p)
        writers[out / f"{tool}_table.xlsx"] = lambda p, t=table, s=tool: (
            write_frame_xlsx(t, p, sheet=s)
        )
    figures = {
        "traffic_light": {tool: traffic_light_figure(frame, tool) for tool in TOOLS},
        "summary": {tool: summary_figure(frame, tool, weights) for tool in TOOLS},
    }
    for kind, by_tool in figures.items():
        for tool, fig in by_tool.items():
            for fmt in ("png", "svg"):
                writers[out / f"{kind}_{tool}.{fmt}"] = lambda p, f=fig, m=fmt: (
                    save_figure(f, p, m)
                )
    overall = overall_table(frame)
    writers[out / "overall.csv"] = lambda p: frame_to_csv(overall, p)
    assert [p.name for p in writers] == output_names()
    write_files(writers)
    return list(writers)
