"""Run the meta-analysis stage: every configured analysis, its tables and plots."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from pathlib import Path

import pandas as pd

from evsynth.errors import InputError
from evsynth.io import check_csv_file, frame_to_csv, read_csv_text, write_files
from evsynth.meta.analyses import (
    AnalysisResult,
    MetaSettings,
    run_analysis,
    summary_table,
)
from evsynth.meta.figures import forest_data, funnel_data, save_figure

log = logging.getLogger("evsynth.meta")

EFFECT_COLUMNS = ["study_id", "outcome", "domain", "timepoint", "measure", "yi", "vi"]


def read_inputs(
    effects: str | Path, studies: str | Path | None = None
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Read effects.csv and, if given, the main rows of studies.csv.

    The study characteristics (design, year, ...) come from each study's main
    report row; ``year`` orders the cumulative meta-analysis.
    """
    check_csv_file(
        effects, "results/effects/effects.csv as the effects stage writes it"
    )
    table = pd.read_csv(effects, keep_default_na=True, encoding="utf-8-sig")
    missing = [c for c in EFFECT_COLUMNS if c not in table.columns]
    if missing:
        raise InputError(
            "missing column(s) " + ", ".join(missing),
            file=effects,
            line=1,
            expected="results/effects/effects.csv as the effects stage writes it",
        )
    info = None
    if studies is not None and Path(studies).is_file():
        info = read_csv_text(studies, "a header line: study_id, report_id, role, ...")
        if "role" in info.columns:
            info = info[info["role"] == "main"]
    return table, info


def read_rob_overall(
    path: str | Path | None, studies: pd.DataFrame | None
) -> dict[str, str]:
    """Each study's overall risk of bias (low, moderate, high, unclear), if assessed."""
    if path is None or not Path(path).is_file():
        return {}
    from evsynth.rob.model import overall_by_study, read_rob

    known = set(studies["study_id"]) if studies is not None else None
    return overall_by_study(read_rob(path, known))


def run_meta(
    effects: pd.DataFrame,
    studies: pd.DataFrame | None,
    settings: MetaSettings,
    rob: dict[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
) -> list[AnalysisResult]:
    """Run every configured analysis (with risk of bias, if assessed).

    ``labels`` gives each study's label for readers (see
    :func:`evsynth.meta.analyses.run_analysis`).
    """
    results = []
    for spec in settings.analyses:
        result = run_analysis(effects, studies, spec, settings, rob, labels)
        if result is not None:
            note = result.report.get("skipped")
            if note:
                log.warning("analysis %s skipped: %s", spec.name, note)
            results.append(result)
    return results


def output_names(settings: MetaSettings) -> list[str]:
    """Files the stage writes for each analysis, relative to its folder."""
    names = []
    for spec in settings.analyses:
        names.append(f"{spec.name}.json")
        for plot in ("forest", "funnel"):
            names += [f"{plot}_{spec.name}.png", f"{plot}_{spec.name}.svg"]
    return names


def write_meta(
    results: list[AnalysisResult],
    out_dir: str | Path,
    settings: MetaSettings,
    value_labels: Mapping[str, Mapping[str, str]] | None = None,
) -> list[Path]:
    """Write summary.csv, one JSON per analysis and its forest and funnel plots.

    An analysis with too few studies still gets its JSON (saying why) and
    plots that say so, so the set of files does not depend on the data; so
    does an analysis with fewer than ``bias_min_k`` studies, whose funnel
    plot file only says why it was not drawn. ``value_labels``
    (:func:`evsynth.labels.value_labels`) names the subgroups.
    """
    out = Path(out_dir)
    writers: dict[Path, Callable[[Path], None]] = {
        out / "summary.csv": lambda p: frame_to_csv(
            summary_table([r.report for r in results]), p
        )
    }
    for result in results:
        name = result.spec.name
        text = json.dumps(result.report, indent=2, ensure_ascii=False, sort_keys=False)
        writers[out / f"{name}.json"] = lambda p, text=text: p.write_text(
            text + "\n", encoding="utf-8"
        )
        forest = forest_data(result, settings, value_labels)
        funnel = funnel_data(result)
        for fmt in ("png", "svg"):
            writers[out / f"forest_{name}.{fmt}"] = lambda p, fmt=fmt, forest=forest: (
                save_figure("forest", forest, p, fmt)
            )
            writers[out / f"funnel_{name}.{fmt}"] = lambda p, fmt=fmt, funnel=funnel: (
                save_figure("funnel", funnel, p, fmt)
            )
    write_files(writers)
    return list(writers)


def run_one(
    effects: str | Path,
    studies: str | Path | None,
    rob: str | Path | None,
    settings: MetaSettings,
    name: str,
    labels: Mapping[str, str] | None = None,
) -> AnalysisResult:
    """Run the configured analysis ``name`` (one workflow job per analysis).

    ``labels`` gives each study's label for readers (``results/studies/labels.csv``,
    read by :func:`evsynth.labels.read_study_labels`).
    """
    spec = next((a for a in settings.analyses if a.name == name), None)
    if spec is None:
        raise InputError(f"no analysis {name!r}", file="config", column="meta/analyses")
    table, info = read_inputs(effects, studies)
    result = run_analysis(
        table, info, spec, settings, read_rob_overall(rob, info), labels
    )
    assert result is not None
    if result.report.get("skipped"):
        log.warning("analysis %s skipped: %s", name, result.report["skipped"])
    return result


def write_analysis(
    result: AnalysisResult,
    out_dir: str | Path,
    settings: MetaSettings,
    value_labels: Mapping[str, Mapping[str, str]] | None = None,
) -> list[Path]:
    """Write one analysis's JSON and its forest and funnel plots, all or none.

    With fewer than ``bias_min_k`` studies the funnel plot file only says why
    no funnel plot was drawn. ``value_labels``
    (:func:`evsynth.labels.value_labels`) names the subgroups.
    """
    out = Path(out_dir)
    name = result.spec.name
    text = json.dumps(result.report, indent=2, ensure_ascii=False)
    writers: dict[Path, Callable[[Path], None]] = {
        out / f"{name}.json": lambda p: p.write_text(text + "\n", encoding="utf-8")
    }
    forest = forest_data(result, settings, value_labels)
    funnel = funnel_data(result)
    for fmt in ("png", "svg"):
        writers[out / f"forest_{name}.{fmt}"] = lambda p, fmt=fmt: save_figure(
            "forest", forest, p, fmt
        )
        writers[out / f"funnel_{name}.{fmt}"] = lambda p, fmt=fmt: save_figure(
            "funnel", funnel, p, fmt
        )
    write_files(writers)
    return list(writers)


def write_summary(reports: list[str | Path], out: str | Path) -> None:
    """Write summary.csv from the analyses' JSON reports."""
    loaded = [json.loads(Path(p).read_text(encoding="utf-8")) for p in reports]
    write_files({Path(out): lambda p: frame_to_csv(summary_table(loaded), p)})
