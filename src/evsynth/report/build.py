"""Build the review's report: one self-contained HTML page, and its tables.

:func:`build_report` reads what the workflow's stages wrote under ``results/``
(and the review's ``studies.csv``) and writes ``index.html``: the title and
question, the PRISMA 2020 flow with the import and deduplication summaries,
screening agreement, the included studies, risk of bias, every meta-analysis
with its forest and funnel plots and its results in plain words, the summary
of findings with the certainty of each outcome (GRADE; :mod:`evsynth.report.sof`),
the qualitative synthesis, the change report of the latest update, the methods
with references, and an appendix of the settings (naming the review's config
file), all generated from the numbers and the configuration. Images are
embedded as data URIs, so the page needs no network and no other file; it has
no JavaScript and prints on A4. A stage whose results are missing (or still
empty) leaves its section with a short note, and the methods describe only the
stages the review has reached, citing only the references they use.

:func:`build_tables` writes the report's tables as ``tables.xlsx`` (one sheet
per table) and ``tables.docx`` (summary of findings, study characteristics,
barriers, facilitators, CERQual summary of qualitative findings).

Every output is deterministic: equal inputs give byte-identical files (no
timestamps, sorted iteration over mappings, fixed zip metadata).

This module holds these two entry points, which write the files, and
re-exports the public names. The work is done by one module per part:

- :mod:`~evsynth.report.loading`: read the results (:func:`load_review`);
- :mod:`~evsynth.report.page`: render the page from its sections, one module
  each: :mod:`~evsynth.report.prisma`, :mod:`~evsynth.report.agreement`,
  :mod:`~evsynth.report.studies`, :mod:`~evsynth.report.rob`,
  :mod:`~evsynth.report.meta` (its sentences in
  :mod:`~evsynth.report.meta_text`), :mod:`~evsynth.report.qualitative`,
  :mod:`~evsynth.report.methods`; the summary of findings is
  :mod:`~evsynth.report.sof`, the reference list
  :mod:`~evsynth.report.references`;
- :mod:`~evsynth.report.tables` and :mod:`~evsynth.report.office`:
  tables.xlsx and tables.docx;
- :mod:`~evsynth.report.formatting`: how numbers, words and tables are written;
- :mod:`~evsynth.report.exports`: the included studies as RIS and CSV.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from evsynth.io import write_files
from evsynth.report.formatting import Scale, scale_of
from evsynth.report.loading import Analysis, Review, load_review
from evsynth.report.methods import versions
from evsynth.report.office import DOCX_TABLES, SHEETS, _write_docx, _write_xlsx
from evsynth.report.page import SECTIONS, render_report
from evsynth.report.references import REFERENCES
from evsynth.report.sof import summary_of_findings
from evsynth.report.tables import pooled_results

__all__ = [
    "DOCX_FILE",
    "DOCX_TABLES",
    "REFERENCES",
    "REPORT_FILE",
    "SECTIONS",
    "SHEETS",
    "XLSX_FILE",
    "Analysis",
    "Review",
    "Scale",
    "build_report",
    "build_tables",
    "config_name",
    "load_review",
    "pooled_results",
    "render_report",
    "scale_of",
    "summary_of_findings",
    "versions",
]

REPORT_FILE = "index.html"
XLSX_FILE = "tables.xlsx"
DOCX_FILE = "tables.docx"


def config_name(config_file: str | Path, review_dir: str | Path) -> str:
    """Name the config file as the review's users know it.

    A relative name (``config.yaml``, ``config/config.yaml``) is kept as it is
    given. A full path is shortened: relative to the review folder if the file
    is in it, else relative to the working directory (the review's root when
    the workflow runs) if it is in that, else kept whole.
    """
    path = Path(config_file)
    if not path.is_absolute():
        return path.as_posix()
    for root in (Path(review_dir), Path.cwd()):
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            continue
    return str(config_file)


def build_report(
    results_dir: str | Path,
    config: Mapping[str, Any],
    review_dir: str | Path,
    out_dir: str | Path,
    config_file: str | Path | None = None,
) -> list[Path]:
    """Write the review's report, ``out_dir/index.html``.

    One self-contained page (images embedded as data URIs, CSS inline, no
    JavaScript, no network) with a section per stage; see the module
    docstring. Text from the data is HTML-escaped. Equal inputs give equal
    bytes.

    Parameters
    ----------
    results_dir : str or Path
        The workflow's ``results/`` folder.
    config : dict
        The configuration (``config/config.yaml``).
    review_dir : str or Path
        The review folder (studies.csv, the dedup verdicts).
    out_dir : str or Path
        Output folder (created if needed).
    config_file : str or Path, optional
        The review's config file as its users know it (``config.yaml``,
        ``config/config.yaml``: relative to the review's root), which the
        methods and the settings appendix name; a full path is shortened by
        :func:`config_name`. Without it the page names no file.

    Returns
    -------
    list of Path
        ``[out_dir/index.html]``.
    """
    review = load_review(results_dir, config, review_dir)
    name = None if config_file is None else config_name(config_file, review_dir)
    html = render_report(review, name)
    target = Path(out_dir) / REPORT_FILE
    write_files({target: lambda p: p.write_bytes(html.encode("utf-8"))})
    return [target]


def build_tables(
    results_dir: str | Path,
    config: Mapping[str, Any],
    review_dir: str | Path,
    out_dir: str | Path,
) -> list[Path]:
    """Write the report's tables as ``tables.xlsx`` and ``tables.docx``.

    ``tables.xlsx`` has a contents sheet and one sheet per table with data
    (:data:`SHEETS`): bold frozen header row, column widths from the content,
    text cells that a spreadsheet would run as formulas guarded with a leading
    apostrophe. ``tables.docx`` (landscape A4) holds :data:`DOCX_TABLES`: the
    summary of findings (the GRADE stage's, with certainty and footnotes; without
    GRADE results the pooled effects, certainty left blank), study
    characteristics, barriers, facilitators and the CERQual summary of
    qualitative findings. Both files appear or neither does, and equal input
    gives byte-identical files.

    Parameters
    ----------
    results_dir : str or Path
        The workflow's ``results/`` folder.
    config : dict
        The configuration (``config/config.yaml``).
    review_dir : str or Path
        The review folder (studies.csv).
    out_dir : str or Path
        Output folder (created if needed).

    Returns
    -------
    list of Path
        ``[out_dir/tables.xlsx, out_dir/tables.docx]``.
    """
    review = load_review(results_dir, config, review_dir)
    out = Path(out_dir)
    writers: dict[Path, Callable[[Path], None]] = {
        out / XLSX_FILE: lambda p: _write_xlsx(review, p),
        out / DOCX_FILE: lambda p: _write_docx(review, p),
    }
    write_files(writers)
    return list(writers)
