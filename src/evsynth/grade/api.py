"""The GRADE stage: every analysis rated, and the summary-of-findings table written.

Reads the meta stage's reports (``results/meta/ANALYSIS.json``) and effect rows
(``results/meta/inputs/ANALYSIS.csv``), the studies' designs (studies.csv),
their risk of bias, and the team's judgements (``grade.csv``); writes
``results/grade/``:

``certainty.csv``
    One row per analysis and domain: the proposal, its rule and numbers, the
    team's judgement and reason, the rating that counts, whether it overrides
    the proposal, the footnote, and the analysis's certainty.
``certainty.json``
    The same per analysis, with the summary-of-findings row.
``summary_of_findings.csv``, ``.xlsx``, ``.docx``
    One row per analysis in GRADEpro's layout, footnotes under the table.

Binary outcomes (OR, RR, RD) are shown for the event as measured, with their
absolute effects from the assumed comparator risk of the rows pooled
(:mod:`evsynth.grade.binary`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from evsynth.errors import InputError
from evsynth.grade.binary import (
    ComparatorRisk,
    comparator_risk,
    event_direction,
    mid_problems,
    mid_settings,
    pooled_rows,
)
from evsynth.grade.certainty import Certainty, rate
from evsynth.grade.judgements import Judgement, read_judgements
from evsynth.grade.rules import (
    BINARY_MEASURES,
    OIS_RRR,
    RATIO_MEASURES,
    RATIO_MID,
    GradeSettings,
    propose,
)
from evsynth.grade.sof import SofRow, sof_row
from evsynth.io import check_csv_file, frame_to_csv, write_files, write_frame_xlsx

__all__ = ["GradeResult", "run_grade", "write_grade"]

log = logging.getLogger("evsynth.grade")

CERTAINTY_COLUMNS = [
    "analysis",
    "outcome",
    "domain",
    "proposal",
    "rule",
    "numbers",
    "judgement",
    "reason",
    "reviewer",
    "date",
    "rating",
    "change",
    "overridden",
    "footnote",
    "certainty",
    "provisional",
]
SOF_COLUMNS = [
    "analysis",
    "outcome",
    "participants",
    "studies",
    "participants_studies",
    "relative_effect",
    "absolute_effect",
    "certainty",
    "level",
    "provisional",
    "statement",
    "footnotes",
    # added last: the assumed comparator risk of a binary outcome, its basis,
    # and the notes under the table on the row's effects
    "comparator_risk",
    "comparator_basis",
    "notes",
]
SOF_HEADINGS = {
    "outcome": "Outcome",
    "participants_studies": "№ of participants (studies)",
    "relative_effect": "Relative effect (95% CI)",
    "absolute_effect": "Anticipated absolute effect (95% CI)",
    "certainty": "Certainty of the evidence (GRADE)",
    "statement": "What happens",
}


@dataclass
class GradeResult:
    """Every analysis's certainty and summary-of-findings row, in config order."""

    certainties: list[Certainty] = field(default_factory=list)
    reports: list[dict[str, Any]] = field(default_factory=list)
    rows: list[SofRow] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    unused: list[Judgement] = field(default_factory=list)
    comparators: list[ComparatorRisk | None] = field(default_factory=list)
    directions: list[str | None] = field(default_factory=list)


def _read_report(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(
            f"not an analysis report: {exc}",
            file=path,
            expected="results/meta/ANALYSIS.json as the meta stage writes it",
        ) from None
    if isinstance(data, dict) and "analysis" in data and data.get("skipped"):
        return data  # too few studies: the meta stage pooled nothing to rate
    if not isinstance(data, dict) or "pooled" not in data or "analysis" not in data:
        raise InputError(
            "not an analysis report (no 'analysis' and 'pooled')",
            file=path,
            expected="results/meta/ANALYSIS.json as the meta stage writes it",
        )
    return data


def _favourable(report: Mapping[str, Any]) -> str | None:
    """Return the ``favourable`` (higher, lower, mixed) of a binary analysis, or None.

    The meta stage writes it for OR, RR and RD analyses, whose values are then
    of the event as measured unless ``mixed``
    (:func:`evsynth.meta.analyses.run_analysis`).
    """
    value = report.get("favourable")
    if str(report.get("measure") or "") not in BINARY_MEASURES:
        return None
    return str(value) if value in ("higher", "lower", "mixed") else None


def _read_inputs(path: Path | None) -> pd.DataFrame | None:
    """Read an analysis's effect rows (None when there is no file)."""
    if path is None or not path.is_file():
        return None
    check_csv_file(path, "results/meta/inputs/ANALYSIS.csv as the meta stage writes it")
    return pd.read_csv(path, encoding="utf-8-sig")


def _participants(table: pd.DataFrame | None, studies: Sequence[str]) -> int | None:
    """Participants analysed (per study the largest n_t + n_c of its rows).

    None when a study has no group sizes (the number is not known).
    """
    if table is None or not {"study_id", "n_t", "n_c"} <= set(table.columns):
        return None
    table = table[table["study_id"].astype(str).isin(set(studies))]
    n = pd.to_numeric(table["n_t"], errors="coerce") + pd.to_numeric(
        table["n_c"], errors="coerce"
    )
    per_study = n.groupby(table["study_id"].astype(str)).max()
    if per_study.isna().any() or len(per_study) < len(set(studies)):
        return None
    return int(per_study.sum())


def _study_info(
    studies: Path | None, rob: Path | None
) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """Designs (studies.csv main rows), RoB tools and overall levels per study."""
    designs: dict[str, str] = {}
    if studies is not None and studies.is_file():
        from evsynth.validation import read_table

        table = read_table(studies, "studies")
        for row in table.to_dict(orient="records"):
            if str(row.get("role") or "main") == "main" and row.get("design"):
                designs[str(row["study_id"])] = str(row["design"])
    tools: dict[str, str] = {}
    levels: dict[str, str] = {}
    if rob is not None and rob.is_file():
        from evsynth.rob.model import overall_by_study, read_rob

        frame = read_rob(rob, set(designs) or None)
        levels = overall_by_study(frame)
        for study, tool in zip(frame["study_id"], frame["tool"], strict=True):
            tools.setdefault(str(study), str(tool))
    return designs, tools, levels


def run_grade(
    reports: Sequence[str | Path],
    config: Mapping[str, Any],
    *,
    studies: str | Path | None = None,
    rob: str | Path | None = None,
    judgements: str | Path | None = None,
    inputs_dir: str | Path | None = None,
) -> GradeResult:
    """Rate the certainty of every analysis and build the summary of findings.

    Parameters
    ----------
    reports : sequence of path
        The meta stage's reports, one per analysis (config order is kept).
    config : mapping
        The review's config (``meta``, ``grade``), with the schema's defaults.
    studies, rob, judgements : path, optional
        studies.csv, the risk-of-bias table, grade.csv.
    inputs_dir : path, optional
        ``results/meta/inputs`` (the effect rows of each analysis, for the
        participants).

    Raises
    ------
    InputError
        For a report that is not one, a grade.csv row that does not fit, or a
        rating up of evidence that starts high.
    """
    meta = config.get("meta") or {}
    section = config.get("grade") or {}
    analyses = {str(a["name"]): a for a in meta.get("analyses") or []}
    problems = mid_problems(meta)
    if problems:
        raise problems[0]
    judged = read_judgements(
        Path(judgements) if judgements else None, set(analyses) or None
    )
    designs, tools, levels = _study_info(
        Path(studies) if studies else None, Path(rob) if rob else None
    )
    result = GradeResult(
        settings={
            "ois_effect": float(section.get("ois_effect", 0.2)),
            "alpha": float(section.get("alpha", 0.05)),
            "power": float(section.get("power", 0.8)),
            "bias_min_k": int(meta.get("bias_min_k", 10)),
            "smd_sizes": list(section.get("smd_sizes", [0.2, 0.5, 0.8])),
            "intervention": str(section.get("intervention", "The intervention")),
            "ratio_mid": [float(r) for r in section.get("ratio_mid", RATIO_MID)],
            "ois_rrr": float(section.get("ois_rrr", OIS_RRR)),
        }
    )
    used: set[tuple[str, str]] = set()
    footnotes = 0
    for path in map(Path, reports):
        report = _read_report(path)
        name = str(report["analysis"])
        if "pooled" not in report:
            log.info(
                "%s: not rated, the meta stage pooled nothing (%s)",
                name,
                report["skipped"],
            )
            continue
        measure = str(report.get("measure") or "")
        ids = [str(s["study_id"]) for s in report.get("studies") or []]
        table = _read_inputs(Path(inputs_dir) / f"{name}.csv" if inputs_dir else None)
        participants = _participants(table, ids)
        reported = _favourable(report)
        direction, comparator = reported, None
        if table is not None and measure in BINARY_MEASURES:
            rows = pooled_rows(table, report, str(meta.get("timepoint", "latest")))
            if direction is None:
                direction = event_direction(rows)
            if direction != "mixed":
                comparator = comparator_risk(rows, len(ids))
        # a report with ``favourable`` pooled the event as measured; one without
        # it (an older meta stage) pooled an unfavourable event turned round
        turned = direction == "lower" and reported is None
        spec = dict(analyses.get(name, {}))
        spec.setdefault("name", name)
        spec.setdefault("measure", measure)
        settings = GradeSettings(
            ois_effect=result.settings["ois_effect"],
            alpha=result.settings["alpha"],
            power=result.settings["power"],
            bias_min_k=result.settings["bias_min_k"],
            ois_rrr=result.settings["ois_rrr"],
            flipped=turned,
            lower_better=direction == "lower" and not turned,
            **mid_settings(spec, measure, turned, result.settings["ratio_mid"]),
        )
        risk = comparator.risk if comparator is not None else None
        proposals = propose(
            report,
            designs=designs,
            tools=tools,
            levels=levels,
            participants=participants,
            settings=settings,
            comparator_risk=risk,
        )
        certainty = rate(name, proposals, judged)
        used |= {(name, d.domain) for d in certainty.domains}
        row = sof_row(
            report,
            certainty,
            participants=participants,
            intervention=result.settings["intervention"],
            mid=settings.mid,
            smd_sizes=result.settings["smd_sizes"],
            footnote_start=footnotes,
            comparator=risk,
            bounds=settings.mid_bounds if measure in RATIO_MEASURES else None,
            direction=direction,
            turned=turned,
            comparator_basis=comparator.describe() if comparator is not None else "",
        )
        footnotes += len(row.footnotes)
        result.comparators.append(comparator)
        result.directions.append(direction)
        result.certainties.append(certainty)
        result.reports.append(report)
        result.rows.append(row)
    result.unused = [j for key, j in sorted(judged.items()) if key not in used]
    for item in result.unused:
        log.warning(
            "%s, line %d: no result for analysis %r (not run: too few studies?); "
            "the judgement is kept but not used",
            item.source,
            item.line,
            item.analysis,
        )
    return result


def certainty_table(result: GradeResult) -> pd.DataFrame:
    """Return certainty.csv: one row per analysis and domain."""
    rows = []
    for certainty, report in zip(result.certainties, result.reports, strict=True):
        for domain in certainty.domains:
            data = domain.as_dict()
            rows.append(
                {
                    "analysis": certainty.analysis,
                    "outcome": report.get("label") or certainty.analysis,
                    "domain": data["domain"],
                    "proposal": data["proposal"],
                    "rule": data["rule"],
                    "numbers": json.dumps(
                        data["numbers"], sort_keys=True, ensure_ascii=False
                    ),
                    "judgement": data["judgement"] or "",
                    "reason": data["reason"] or "",
                    "reviewer": data["reviewer"] or "",
                    "date": data["date"] or "",
                    "rating": data["rating"],
                    "change": data["change"],
                    "overridden": "yes" if data["overridden"] else "no",
                    "footnote": data["footnote"],
                    "certainty": certainty.label,
                    "provisional": "yes" if certainty.provisional else "no",
                }
            )
    return pd.DataFrame(rows, columns=CERTAINTY_COLUMNS)


def certainty_json(result: GradeResult) -> dict[str, Any]:
    """Return certainty.json: per analysis, the domains and the SoF row."""
    from evsynth.grade.certainty import symbols

    return {
        "settings": result.settings,
        "analyses": [
            {
                "analysis": c.analysis,
                "label": r.get("label") or c.analysis,
                "start": "high" if c.start == 4 else "low",
                "certainty": c.label,
                "level": c.level,
                "symbols": symbols(c.level),
                "provisional": c.provisional,
                "domains": [d.as_dict() for d in c.domains],
                "summary_of_findings": row.as_dict(),
                "notes": list(row.notes),
            }
            for c, r, row in zip(
                result.certainties, result.reports, result.rows, strict=True
            )
        ],
        "unused_judgements": [
            {"analysis": j.analysis, "domain": j.domain, "line": j.line}
            for j in result.unused
        ],
    }


def sof_table(result: GradeResult) -> pd.DataFrame:
    """Return summary_of_findings.csv: one row per analysis."""
    return pd.DataFrame([r.as_dict() for r in result.rows], columns=SOF_COLUMNS)


def _sof_notes(result: GradeResult) -> str:
    lines = [f"{k}. {t}" for row in result.rows for k, t in row.footnotes]
    lines += [note for row in result.rows for note in row.notes]
    lines.append(
        "GRADE Working Group grades of evidence. High certainty: we are very "
        "confident that the true effect lies close to that of the estimate. "
        "Moderate: the true effect is likely to be close to the estimate, but may "
        "be substantially different. Low: the true effect may be substantially "
        "different from the estimate. Very low: the true effect is likely to be "
        "substantially different from the estimate."
    )
    if any(r.provisional for r in result.rows):
        lines.append(
            "Provisional: a domain only the review team can judge (indirectness; "
            "large effect, dose-response) has no judgement in grade.csv yet."
        )
    return "\n".join(lines)


def write_grade(
    result: GradeResult, out_dir: str | Path, title: str = ""
) -> list[Path]:
    """Write certainty.csv/.json and the summary of findings (CSV, XLSX, DOCX).

    All files are written or none.
    """
    from evsynth.qualitative.docx import write_table_docx

    out = Path(out_dir)
    sof = sof_table(result)
    shown = sof[["outcome", "participants_studies", "relative_effect",
                 "absolute_effect", "certainty", "statement"]]  # fmt: skip
    data = json.dumps(certainty_json(result), indent=1, ensure_ascii=False) + "\n"
    heading = "Summary of findings" + (f": {title}" if title else "")
    notes = _sof_notes(result)
    writers = {
        out / "certainty.csv": lambda p: frame_to_csv(certainty_table(result), p),
        out / "certainty.json": lambda p: p.write_text(data, encoding="utf-8"),
        out / "summary_of_findings.csv": lambda p: frame_to_csv(sof, p),
        out / "summary_of_findings.xlsx": lambda p: write_frame_xlsx(
            sof[[*shown.columns, "footnotes", "notes"]].rename(
                columns=SOF_HEADINGS | {"footnotes": "Footnotes", "notes": "Notes"}
            ),
            p,
            sheet="Summary of findings",
        ),
        out / "summary_of_findings.docx": lambda p: write_table_docx(
            shown, p, title=heading, headings=SOF_HEADINGS, note=notes
        ),
    }
    write_files(writers)
    return list(writers)
