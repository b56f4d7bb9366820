"""Run the screening stage: from the decision log to every screening output."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from evsynth.io import frame_to_csv, write_files
from evsynth.screening import prisma, tables
from evsynth.screening.decide import STATES, Screening, read_log, read_retrieval, screen
from evsynth.screening.model import STAGES, RecordSet, Settings, read_record_set
from evsynth.screening.prisma_plot import draw_prisma
from evsynth.screening.sheets import (
    resolver_sheet,
    reviewer_sheet,
    sheet_name,
    write_xlsx,
)

log = logging.getLogger("evsynth.screening")

#: Files the stage writes in its output folder, besides the sheets.
OUTPUTS = {
    "final_decisions": "final_decisions.csv",
    "conflicts": "conflicts.csv",
    "audit": "audit.csv",
    "exclusion_reasons": "exclusion_reasons.csv",
    "agreement": "agreement.csv",
    "states": "screening_summary.csv",
    "prisma_csv": "prisma_counts.csv",
    "prisma_json": "prisma_counts.json",
    "prisma_svg": "prisma.svg",
    "prisma_png": "prisma.png",
    "prisma_pdf": "prisma.pdf",
}


@dataclass
class ScreeningResult:
    """Everything the screening stage computes."""

    records: RecordSet
    screening: Screening
    studies: prisma.StudyMap
    counts: dict[str, Any]
    tables: dict[str, pd.DataFrame]
    sheets: dict[str, pd.DataFrame]


def run_screening(
    records_dir: str | Path,
    settings: Settings,
    decisions: str | Path,
    retrieval: str | Path | None = None,
    studies: str | Path | None = None,
) -> ScreeningResult:
    """Work out the screening state and every table, checking the PRISMA boxes.

    Parameters
    ----------
    records_dir : path
        Folder with the records stage's outputs (records.csv, unique.csv,
        clusters.csv, import_summary.csv).
    settings : Settings
        The screening settings.
    decisions : path
        The decision log.
    retrieval : path, optional
        The retrieval file (may be missing).
    studies : path, optional
        studies.csv (may be missing: each included report is then a study).

    Returns
    -------
    ScreeningResult
        The outcomes, counts, tables and sheets.

    Raises
    ------
    InputError
        For bad input, naming the file, row and column.
    FlowError
        If a PRISMA box does not add up.
    """
    folder = Path(records_dir)
    records = read_record_set(
        folder / "records.csv",
        folder / "unique.csv",
        folder / "clusters.csv",
        folder / "import_summary.csv",
    )
    decision_log = read_log(decisions, records, settings)
    retrieved = read_retrieval(retrieval, records)
    state = screen(
        records,
        settings,
        decision_log,
        retrieved,
        log_path=decisions,
        retrieval_path=retrieval or "retrieval.csv",
    )
    study_map = prisma.read_studies(studies, records, state)
    if study_map.ungrouped:
        log.warning(
            "%d included report(s) are not in %s and count as studies of their own: %s",
            len(study_map.ungrouped),
            studies or "studies.csv",
            ", ".join(study_map.ungrouped[:5]),
        )
    if study_map.waiting:
        log.warning(
            "%d report(s) in %s are not counted as included until their open "
            "full-text decision is settled: %s",
            len(study_map.waiting),
            studies or "studies.csv",
            ", ".join(study_map.waiting[:5]),
        )
    counts = prisma.flow_counts(records, state, study_map, settings)
    prisma.check_flow(counts)
    summary = pd.DataFrame(
        {
            "state": list(STATES),
            "n_records": [counts["states"][s] for s in STATES],
        }
    )
    result_tables = {
        "final_decisions": tables.final_decisions(records, state, study_map),
        "conflicts": tables.conflicts(records, state, settings),
        "audit": tables.audit(state, settings),
        "exclusion_reasons": tables.exclusion_reasons(records, state, settings),
        "agreement": tables.agreement_table(state, settings),
        "states": summary,
        "prisma_csv": pd.DataFrame(
            prisma.template_rows(counts), columns=prisma.TEMPLATE_COLUMNS
        ),
    }
    sheets = {
        sheet_name(reviewer, stage): reviewer_sheet(
            records, state, settings, reviewer, stage
        )
        for reviewer in settings.reviewers
        for stage in STAGES
    }
    sheets |= {
        sheet_name("resolve", stage): resolver_sheet(records, state, stage)
        for stage in STAGES
    }
    return ScreeningResult(records, state, study_map, counts, result_tables, sheets)


def write_screening(
    result: ScreeningResult,
    out_dir: str | Path,
    settings: Settings,
    *,
    title: str | None = None,
) -> list[Path]:
    """Write every screening output, all or none.

    Parameters
    ----------
    result : ScreeningResult
        From :func:`run_screening`.
    out_dir : path
        Output folder; sheets go into its ``sheets`` subfolder.
    settings : Settings
        For the sheets' drop-down lists.
    title : str, optional
        Title of the review, shown above the flow diagram.

    Returns
    -------
    list of Path
        The files written.
    """
    out = Path(out_dir)
    writers: dict[Path, Callable[[Path], None]] = {}

    def csv_writer(frame: pd.DataFrame) -> Callable[[Path], None]:
        return lambda path: frame_to_csv(frame, path, None)

    for key, frame in result.tables.items():
        writers[out / OUTPUTS[key]] = csv_writer(frame)
    writers[out / OUTPUTS["prisma_json"]] = lambda path: path.write_text(
        prisma.counts_json(result.counts), encoding="utf-8"
    )
    for name, frame in result.sheets.items():
        stage = next(s for s in STAGES if name.endswith(s))
        writers[out / "sheets" / f"{name}.csv"] = csv_writer(frame)
        writers[out / "sheets" / f"{name}.xlsx"] = (
            lambda path, frame=frame, stage=stage, name=name: write_xlsx(
                frame, path, stage, settings, name
            )
        )
    flow = prisma.flow_from_counts(result.counts)
    figures = [out / OUTPUTS[k] for k in ("prisma_svg", "prisma_png", "prisma_pdf")]
    write_files(writers)
    draw_prisma(flow, *figures, title=title)
    return [*writers, *figures]
