"""Run the qualitative synthesis: from coded findings to every table and heat map."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from evsynth.io import frame_to_csv, write_files, write_frame_xlsx
from evsynth.labels import label_of
from evsynth.qualitative import tables
from evsynth.qualitative.docx import write_table_docx
from evsynth.qualitative.model import (
    natural_key,
    read_appraisal,
    read_cerqual,
    read_findings,
)
from evsynth.qualitative.plots import heatmap_figure, save_figure

__all__ = [
    "OUTPUTS",
    "QualResult",
    "by_study_labels",
    "run_qualitative",
    "write_qualitative",
]

#: Tables the stage writes (file stem -> formats), in writing order.
OUTPUTS: dict[str, tuple[str, ...]] = {
    "theme_matrix": ("csv", "xlsx"),
    "theme_matrix_excerpts": ("csv", "xlsx"),
    "theme_by_perspective": ("csv", "xlsx"),
    "barriers": ("csv", "xlsx", "docx"),
    "facilitators": ("csv", "xlsx", "docx"),
    "cerqual_soqf": ("csv", "xlsx", "docx"),
    "cerqual_evidence_profile": ("csv", "xlsx", "docx"),
    "casp_appraisal": ("csv", "xlsx"),
}
#: Heat maps (file stem -> the matrix drawn, title, xlabel, ylabel).
FIGURES: dict[str, tuple[str, str, str, str]] = {
    "heatmap_themes_by_study": (
        "theme_matrix",
        "Themes by study: number of coded excerpts",
        "Study",
        "Theme",
    ),
    "heatmap_themes_by_perspective": (
        "theme_by_perspective",
        "Themes by perspective: number of studies",
        "Perspective",
        "Theme",
    ),
}
#: Titles of the DOCX tables.
DOCX_TITLES = {
    "barriers": "Barriers: themes across the included qualitative studies",
    "facilitators": "Facilitators: themes across the included qualitative studies",
    "cerqual_soqf": "Summary of qualitative findings (GRADE-CERQual)",
    "cerqual_evidence_profile": "GRADE-CERQual evidence profile",
}
DOCX_NOTES = {
    "barriers": (
        "Studies (n): studies with an excerpt coded to the theme as a barrier. "
        "Perspectives: whose views the excerpts report, with the number of studies."
    ),
    "facilitators": (
        "Studies (n): studies with an excerpt coded to the theme as a facilitator. "
        "Perspectives: whose views the excerpts report, with the number of studies."
    ),
    "cerqual_soqf": (
        "Studies contributing: the studies with an excerpt coded to a theme that "
        "supports the review finding."
    ),
    "cerqual_evidence_profile": (
        "Component judgements after Lewin et al. 2018 (Implementation Science "
        "13:10). Studies contributing: the studies with an excerpt coded to a "
        "theme that supports the review finding."
    ),
}


@dataclass
class QualResult:
    """Everything the qualitative stage computes.

    Parameters
    ----------
    findings, appraisal, cerqual : pandas.DataFrame
        The validated inputs.
    tables : dict of str to pandas.DataFrame
        The output tables by file stem (see :data:`OUTPUTS`); the matrices
        keep the themes as their index.
    labels : dict of str to str
        Each study's label for readers (see :mod:`evsynth.labels`); the heat
        map of themes by study shows them.
    """

    findings: pd.DataFrame
    appraisal: pd.DataFrame
    cerqual: pd.DataFrame
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)


def run_qualitative(
    findings_path: str | Path,
    appraisal_path: str | Path,
    cerqual_path: str | Path,
    studies: set[str] | None,
    coverage: str = "full",
    labels: Mapping[str, str] | None = None,
) -> QualResult:
    """Read and check the qualitative inputs and build every table.

    Parameters
    ----------
    findings_path, appraisal_path, cerqual_path : str or Path
        qualitative/findings.csv, appraisal.csv and cerqual.csv.
    studies : set of str or None
        The included studies (``study_id`` of studies.csv); every study of the
        findings and the appraisal must be one. ``None`` skips the check.
    coverage : {"full", "partial"}
        ``"full"``: every theme of the findings must support a CERQual review
        finding.
    labels : mapping of str to str, optional
        Each study's label for readers (``results/studies/labels.csv``, see
        :mod:`evsynth.labels`): the tables for readers, the heat map of themes
        by study and the excerpts' citations name studies by them; the theme
        matrices keep the ids as their columns, and the tables that name
        studies by label give their ids in ``study_id`` or ``study_ids``.

    Returns
    -------
    QualResult
        The inputs and the tables.

    Raises
    ------
    InputError
        For bad input, naming the file, row and column.
    """
    findings = read_findings(findings_path, studies)
    appraisal = read_appraisal(appraisal_path, studies)
    cerqual = read_cerqual(cerqual_path, findings, coverage)
    result_tables = {
        "theme_matrix": tables.theme_matrix(findings, by="study", values="count"),
        "theme_matrix_excerpts": tables.theme_matrix(
            findings, by="study", values="excerpts"
        ),
        "theme_by_perspective": tables.theme_matrix(
            findings, by="perspective", values="count"
        ),
        "barriers": tables.barrier_facilitator_table(findings, "barrier", labels),
        "facilitators": tables.barrier_facilitator_table(
            findings, "facilitator", labels
        ),
        "cerqual_soqf": tables.cerqual_soqf(cerqual, findings, labels),
        "cerqual_evidence_profile": tables.cerqual_evidence_profile(
            cerqual, findings, labels
        ),
        "casp_appraisal": tables.casp_table(appraisal, labels),
    }
    return QualResult(findings, appraisal, cerqual, result_tables, dict(labels or {}))


def by_study_labels(
    matrix: pd.DataFrame, labels: Mapping[str, str] | None
) -> pd.DataFrame:
    """Name and order the columns of a theme x study matrix by study label.

    Parameters
    ----------
    matrix : pandas.DataFrame
        From :func:`~evsynth.qualitative.tables.theme_matrix` (``by="study"``):
        one column per study id.
    labels : mapping of str to str or None
        Each study's label; a study without one keeps its id.

    Returns
    -------
    pandas.DataFrame
        The same counts, columns renamed to the labels and in their natural
        order (then by id).
    """
    ids = sorted(
        (str(c) for c in matrix.columns),
        key=lambda s: (natural_key(label_of(labels, s)), natural_key(s)),
    )
    out = matrix[ids].copy()
    out.columns = [label_of(labels, s) for s in ids]
    out.columns.name = "study"
    return out


def _flat(frame: pd.DataFrame) -> pd.DataFrame:
    """Move a matrix's themes into its first column, ready to write."""
    if frame.index.name == "theme":
        out = frame.reset_index()
        out.columns.name = None
        return out
    return frame


def write_qualitative(result: QualResult, out_dir: str | Path) -> list[Path]:
    """Write every table and heat map of the qualitative stage, all or none.

    Equal results give byte-identical files: CSV, XLSX (see
    :func:`evsynth.io.write_frame_xlsx`), DOCX (landscape, one table, see
    :func:`evsynth.qualitative.docx.write_table_docx`), SVG and PNG.

    Parameters
    ----------
    result : QualResult
        From :func:`run_qualitative`.
    out_dir : str or Path
        Output folder (created if needed).

    Returns
    -------
    list of Path
        The files written: for each table of :data:`OUTPUTS` its formats, then
        ``heatmap_themes_by_study`` and ``heatmap_themes_by_perspective`` as
        PNG and SVG.
    """
    out = Path(out_dir)
    writers: dict[Path, Callable[[Path], None]] = {}
    for stem, formats in OUTPUTS.items():
        frame = _flat(result.tables[stem])
        for fmt in formats:
            target = out / f"{stem}.{fmt}"
            if fmt == "csv":
                writers[target] = lambda p, f=frame: frame_to_csv(f, p)
            elif fmt == "xlsx":
                writers[target] = lambda p, f=frame, s=stem: write_frame_xlsx(f, p, s)
            else:
                headings = (
                    tables.BF_HEADINGS if stem in ("barriers", "facilitators") else None
                )
                shown = frame.drop(columns=list(tables.ID_COLUMNS), errors="ignore")
                writers[target] = lambda p, f=shown, s=stem, h=headings: (
                    write_table_docx(
                        f, p, title=DOCX_TITLES[s], headings=h, note=DOCX_NOTES[s]
                    )
                )
    for stem, (key, title, xlabel, ylabel) in FIGURES.items():
        matrix = result.tables[key]
        if key == "theme_matrix":
            matrix = by_study_labels(matrix, result.labels)
        fig = heatmap_figure(matrix, title=title, xlabel=xlabel, ylabel=ylabel)
        for fmt in ("png", "svg"):
            writers[out / f"{stem}.{fmt}"] = lambda p, g=fig, m=fmt: save_figure(
                g, p, m
            )
    write_files(writers)
    return list(writers)
