"""``evsynth status``: per stage, what is done and what is still to do.

:func:`review_status` says per stage (records, screening, effects, risk of
bias, qualitative, meta-analyses) what is done and what is still to do, from
the inputs and the results, and whether the results are stale;
:func:`format_status` renders it as a plain-text table.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from evsynth.errors import EvsynthError
from evsynth.io import read_csv_text
from evsynth.paths import config_path_errors
from evsynth.project.configfile import _load_valid_config, _setting, resolve_review
from evsynth.project.review import check_results
from evsynth.project.tables import (
    EFFECTIVENESS_DESIGNS,
    NO_EFFECTS_DESIGNS,
    QUALITATIVE_DESIGNS,
    TABLES,
)

__all__ = ["format_status", "review_status"]


def _read_csv(path: Path) -> pd.DataFrame | None:
    """Read a CSV as text with the strict reader (None if it does not exist).

    A table that exists but is malformed (a quote that never closes, a column
    named twice) is an error naming its line, as in every other command, so that
    the status never counts rows a broken quote has swallowed.
    """
    if not path.is_file():
        return None
    table = read_csv_text(path, "a CSV table with a header line")
    table.columns = [str(c).strip().lower() for c in table.columns]
    return table


def _column(table: pd.DataFrame | None, name: str) -> list[str]:
    if table is None or name not in table.columns:
        return []
    return [str(v).strip() for v in table[name]]


def _newer(inputs: Iterable[Path], outputs: Sequence[Path]) -> list[str]:
    """List the inputs changed after the oldest output."""
    oldest = min(p.stat().st_mtime_ns for p in outputs)
    return sorted(
        str(p) for p in inputs if p.is_file() and p.stat().st_mtime_ns > oldest
    )


def _stage(
    status: dict[str, Any],
    name: str,
    runs: bool,
    outputs: Sequence[Path],
    inputs: Iterable[Path],
) -> dict[str, Any]:
    """Add a stage's entry: whether it ran and whether its results are stale."""
    entry: dict[str, Any] = {
        "status": "done",
        "to_do": False,
        "counts": {},
        "lists": {},
        "stale": [],
    }
    status["stages"][name] = entry
    if not runs:
        entry["status"] = "no input"
        return entry
    if not all(p.is_file() for p in outputs):
        entry["status"] = "not run"
        return entry
    entry["stale"] = _newer(inputs, outputs)
    entry["outputs"] = [str(p) for p in outputs]
    return entry


def _settle(entry: dict[str, Any], pending: bool) -> None:
    """Record whether work is left, and set the status of a stage that ran."""
    entry["to_do"] = pending
    if entry["status"] != "done":
        return
    if entry["stale"]:
        entry["status"] = "stale"
    elif pending:
        entry["status"] = "pending"


def _study_designs(studies: pd.DataFrame | None) -> dict[str, str]:
    """Each study's design, given on any of its rows ("" if none)."""
    ids = _column(studies, "study_id")
    given = _column(studies, "design") or [""] * len(ids)
    designs: dict[str, str] = {}
    for study, design in zip(ids, given, strict=True):
        if study:
            designs[study] = designs.get(study) or design
    return designs


@dataclass
class _Context:
    """What every stage's status needs: the config, the paths, the studies."""

    config_path: Path
    settings: dict[str, Any]
    review: Path
    out: Path
    path: dict[str, Path]
    designs: dict[str, str]
    status: dict[str, Any]


def review_status(
    directory: str | Path | None = None,
    config: str | Path | None = None,
    results: str | Path | None = None,
) -> dict[str, Any]:
    """Say per stage what is done and what is still to do.

    Parameters
    ----------
    directory : path, optional
        The review folder (default: the review of the current directory; see
        :func:`resolve_review`).
    config : path, optional
        The config file (default: the review folder's own).
    results : path, optional
        The results folder (default: the review folder's ``results``, where the
        workflow writes).

    Returns
    -------
    dict
        ``title``, ``folder`` (the review folder), ``review_dir`` (its input
        tables), ``config``, ``results``, ``notes``, and
        ``stages``: per stage (records, screening, effects, rob, qualitative,
        meta) its ``status`` (done, pending, stale, not run, or no input when
        the stage's table does not exist); ``to_do``, whether work is left
        even if the results are stale or missing; ``counts``; ``lists`` of the
        ids behind some counts; ``stale``, the inputs changed after the stage's
        results (for the meta-analyses also configured analyses without
        results); and ``outputs``, the result files compared.

    Raises
    ------
    EvsynthError
        If the config is missing or invalid, the review folder is missing, or
        the results folder was written by another review.
    """
    config_path, review, root = resolve_review(directory, config)
    settings = _load_valid_config(config_path)
    problems = config_path_errors(settings, root, config_path, review)
    if problems:  # paths read from the config stay inside the review
        raise problems[0]
    review = review if review is not None else root / settings["review_dir"]
    if not review.is_dir():
        raise EvsynthError(f"{review}: review folder not found")
    out = Path(results) if results is not None else root / "results"
    check_results(root, settings, config_path, out)
    path = {
        spec.key: review / _setting(settings, spec.section, spec.setting)
        for spec in TABLES
    }
    status: dict[str, Any] = {
        "title": settings["review_title"],
        "folder": str(root),
        "review_dir": str(review),
        "config": str(config_path),
        "results": str(out),
        "stages": {},
        "notes": [],
    }
    context = _Context(
        config_path,
        settings,
        review,
        out,
        path,
        _study_designs(_read_csv(path["studies"])),
        status,
    )
    for stage_status in (
        _records_status,
        _screening_status,
        _effects_status,
        _rob_status,
        _qualitative_status,
        _meta_status,
    ):
        stage_status(context)
    outputs = [Path(p) for e in status["stages"].values() for p in e.get("outputs", [])]
    newest = max((p.stat().st_mtime_ns for p in outputs), default=None)
    if newest is not None and config_path.stat().st_mtime_ns > newest:
        # after the latest run (a run rewrites only what a change touches)
        status["notes"].append(
            f"{config_path} changed after the latest results: evsynth run reruns "
            "every stage whose settings changed"
        )
    return status


def _records_status(c: _Context) -> None:
    searches = c.review / c.settings["records"]["searches_dir"]
    exports = sorted(searches.rglob("*")) if searches.is_dir() else []
    folder = c.out / "records"
    outputs = [folder / n for n in ("records.csv", "unique.csv", "clusters.csv")]
    inputs = [c.path["searches"], *exports, c.path["dedup_decisions"]]
    entry = _stage(c.status, "records", True, outputs, inputs)
    if entry["status"] == "not run":
        return
    # a new verdict reruns the deduplication only, which leaves records.csv as it is
    entry["stale"] = _newer(inputs, outputs[1:])
    imported, unique, pairs = (
        _read_csv(p) for p in (outputs[0], outputs[1], folder / "dedup_review.csv")
    )
    entry["counts"] = {
        "imported": len(imported) if imported is not None else 0,
        "unique": len(unique) if unique is not None else 0,
        "pairs_to_review": len(pairs) if pairs is not None else 0,
    }
    summary = _read_csv(folder / "import_summary.csv")
    files, flags = _column(summary, "file"), _column(summary, "count_differs")
    differs = [f for f, d in zip(files, flags, strict=False) if d == "True"]
    entry["counts"]["count_differs"] = len(differs)
    entry["lists"]["count_differs"] = differs
    _settle(entry, entry["counts"]["pairs_to_review"] > 0)


def _screening_status(c: _Context) -> None:
    from evsynth.screening.model import STAGES

    folder = c.out / "screening"
    outputs = [
        folder / n
        for n in ("final_decisions.csv", "conflicts.csv", "screening_summary.csv")
    ]
    inputs = [c.path[k] for k in ("decisions", "retrieval", "studies")]
    inputs.append(c.out / "records" / "unique.csv")
    entry = _stage(c.status, "screening", True, outputs, inputs)
    if entry["status"] == "not run":
        return
    to_screen: dict[str, dict[str, int]] = {}
    for sheet in sorted((folder / "sheets").glob("*.csv")):
        stage = next((s for s in STAGES if sheet.stem.endswith(f"_{s}")), None)
        person = sheet.stem.removesuffix(f"_{stage}") if stage else ""
        if stage is None or person == "resolve":  # resolve_*: the conflicts
            continue
        rows = _read_csv(sheet)
        to_screen.setdefault(person, {})[stage] = len(rows) if rows is not None else 0
    conflicts = _column(_read_csv(outputs[1]), "stage")
    summary = _read_csv(outputs[2])
    states = dict(
        zip(_column(summary, "state"), _column(summary, "n_records"), strict=True)
    )
    counts = {
        "to_screen": to_screen,
        "conflicts": {s: conflicts.count(s) for s in STAGES},
        "awaiting_retrieval": int(states.get("awaiting_retrieval") or 0),
        "not_retrieved": int(states.get("not_retrieved") or 0),
        "included_reports": int(states.get("included") or 0),
    }
    entry["counts"] = counts
    _settle(
        entry,
        any(n for stages in to_screen.values() for n in stages.values())
        or any(counts["conflicts"].values())
        or counts["awaiting_retrieval"] > 0,
    )


def _effects_status(c: _Context) -> None:
    table = c.path["effects"]
    outputs = [c.out / "effects" / n for n in ("effects.csv", "excluded.csv")]
    entry = _stage(c.status, "effects", table.is_file(), outputs, [table])
    if entry["status"] not in ("not run", "no input"):
        computed, excluded = (_read_csv(p) for p in outputs)
        entry["counts"]["effects"] = len(computed) if computed is not None else 0
        entry["counts"]["rows_excluded"] = len(excluded) if excluded is not None else 0
    with_rows = set(_column(_read_csv(table), "study_id"))
    missing = [
        s
        for s, d in c.designs.items()
        if d not in NO_EFFECTS_DESIGNS and s not in with_rows
    ]
    entry["counts"]["studies_without_effects"] = len(missing)
    entry["lists"]["studies_without_effects"] = missing
    _settle(entry, bool(missing))


def _rob_status(c: _Context) -> None:
    table = c.path["risk_of_bias"]
    entry = _stage(
        c.status,
        "rob",
        table.is_file(),
        [c.out / "rob" / "overall.csv"],
        [table, c.path["studies"]],
    )
    effectiveness = [s for s, d in c.designs.items() if d in EFFECTIVENESS_DESIGNS]
    judged = set(_column(_read_csv(table), "study_id"))
    missing = [s for s in effectiveness if s not in judged]
    entry["counts"]["effectiveness_studies"] = len(effectiveness)
    entry["counts"]["without_judgement"] = len(missing)
    entry["lists"]["without_judgement"] = missing
    _settle(entry, bool(missing))


def _qualitative_status(c: _Context) -> None:
    from evsynth.qualitative.model import split_themes

    tables = [c.path[k] for k in ("findings", "appraisal", "cerqual")]
    entry = _stage(
        c.status,
        "qualitative",
        all(p.is_file() for p in tables),
        [c.out / "qualitative" / n for n in ("theme_matrix.csv", "cerqual_soqf.csv")],
        [*tables, c.path["studies"]],
    )
    qualitative = [s for s, d in c.designs.items() if d in QUALITATIVE_DESIGNS]
    findings = _read_csv(tables[0])
    coded = set(_column(findings, "study_id"))
    appraised = set(_column(_read_csv(tables[1]), "study_id"))
    themes = [
        t
        for t in dict.fromkeys(" ".join(t.split()) for t in _column(findings, "theme"))
        if t
    ]
    covered = {
        name
        for cell in _column(_read_csv(tables[2]), "themes")
        for name in split_themes(cell)
    }
    lists = {
        "without_findings": [s for s in qualitative if s not in coded],
        "without_appraisal": [s for s in qualitative if s not in appraised],
        "themes_not_in_cerqual": [t for t in themes if t not in covered],
    }
    entry["counts"].update(
        {
            "qualitative_studies": len(qualitative),
            "without_findings": len(lists["without_findings"]),
            "without_appraisal": len(lists["without_appraisal"]),
            "themes": len(themes),
            "themes_in_cerqual": len(themes) - len(lists["themes_not_in_cerqual"]),
        }
    )
    entry["lists"].update(lists)
    _settle(entry, any(lists.values()))


def _meta_status(c: _Context) -> None:
    summary_path = c.out / "meta" / "summary.csv"
    entry = _stage(
        c.status,
        "meta",
        c.path["effects"].is_file(),
        [summary_path],
        [c.path[k] for k in ("effects", "studies", "risk_of_bias")],
    )
    configured = [str(a["name"]) for a in c.settings["meta"]["analyses"]]
    entry["counts"]["configured"] = len(configured)
    if entry["status"] in ("not run", "no input"):
        return
    summary = _read_csv(summary_path)
    names = _column(summary, "analysis")
    notes = _column(summary, "note") or [""] * len(names)
    run = [n for n, note in zip(names, notes, strict=True) if not note]
    skipped = [f"{n}: {note}" for n, note in zip(names, notes, strict=True) if note]
    not_run = [n for n in configured if n not in names]
    entry["counts"].update(
        {"run": len(run), "skipped": len(skipped), "not_run": len(not_run)}
    )
    entry["lists"] = {"run": run, "skipped": skipped, "not_run": not_run}
    if not_run:
        entry["stale"].append(
            f"analyses {', '.join(not_run)} of {c.config_path} are not in "
            f"{summary_path}"
        )
    _settle(entry, False)


#: How ``format_status`` names each count.
_LABELS: dict[tuple[str, str], str] = {
    ("records", "imported"): "records imported",
    ("records", "unique"): "unique records (after deduplication)",
    ("records", "pairs_to_review"): "uncertain duplicate pairs to decide",
    ("records", "count_differs"): "exports whose records differ from n_reported",
    ("screening", "awaiting_retrieval"): "records awaiting full-text retrieval",
    ("screening", "not_retrieved"): "full texts not retrieved",
    ("screening", "included_reports"): "reports included",
    ("effects", "effects"): "effect sizes computed",
    ("effects", "rows_excluded"): "extraction rows excluded (no effect)",
    ("effects", "studies_without_effects"): "included studies without effects.csv rows",
    ("rob", "effectiveness_studies"): "effectiveness studies (RCT, cluster_RCT, QED)",
    ("rob", "without_judgement"): "  of which without a risk-of-bias judgement",
    ("qualitative", "qualitative_studies"): "qualitative studies",
    ("qualitative", "without_findings"): "  of which without coded findings",
    ("qualitative", "without_appraisal"): "  of which without a CASP appraisal",
    ("qualitative", "themes"): "themes coded",
    ("qualitative", "themes_in_cerqual"): "  of which in a CERQual review finding",
    ("meta", "configured"): "analyses configured",
    ("meta", "run"): "analyses run",
    ("meta", "skipped"): "analyses skipped",
    ("meta", "not_run"): "analyses not run yet",
}
#: Which list explains a count, in ``format_status``.
_LIST_OF = {
    ("records", "count_differs"): "count_differs",
    ("effects", "studies_without_effects"): "studies_without_effects",
    ("rob", "without_judgement"): "without_judgement",
    ("qualitative", "without_findings"): "without_findings",
    ("qualitative", "without_appraisal"): "without_appraisal",
    ("qualitative", "themes_in_cerqual"): "themes_not_in_cerqual",
    ("meta", "skipped"): "skipped",
    ("meta", "not_run"): "not_run",
}


def _short(items: Sequence[str], limit: int = 4) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f", ... ({len(items)} in all)" if len(items) > limit else "")


def format_status(status: Mapping[str, Any]) -> str:
    """Render :func:`review_status` as a plain-text table.

    Parameters
    ----------
    status : mapping
        From :func:`review_status`.

    Returns
    -------
    str
        One line per count, grouped by stage, then what is stale and what to do.
    """
    from evsynth.screening.model import STAGE_NAMES

    rows: list[tuple[str, str, str, str, str]] = []
    for stage, entry in status["stages"].items():
        label = stage if stage != "rob" else "risk of bias"
        first = len(rows)
        for key, value in entry["counts"].items():
            if key == "to_screen":
                for person, stages in value.items():
                    for name, n in stages.items():
                        rows.append(
                            (
                                "",
                                "",
                                f"to screen: {person}, {STAGE_NAMES[name]}",
                                str(n),
                                "",
                            )
                        )
                continue
            if key == "conflicts":
                for name, n in value.items():
                    rows.append(
                        ("", "", f"open conflicts, {STAGE_NAMES[name]}", str(n), "")
                    )
                continue
            detail = ""
            if (stage, key) in _LIST_OF:
                listed = entry["lists"].get(_LIST_OF[(stage, key)], [])
                detail = _short(listed) if value and listed else ""
            rows.append(("", "", _LABELS.get((stage, key), key), str(value), detail))
        if len(rows) == first:
            rows.append(("", "", "", "", ""))
        rows[first] = (label, entry["status"], *rows[first][2:])
    headers = ("stage", "status", "what", "n", "")
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(4)]

    def line(row: Sequence[str]) -> str:
        cells = [
            row[0].ljust(widths[0]),
            row[1].ljust(widths[1]),
            row[2].ljust(widths[2]),
            row[3].rjust(widths[3]),
        ]
        return ("  ".join(cells) + ("  " + row[4] if row[4] else "")).rstrip()

    out = [
        f"{status['title']}",
        (
            f"review {status.get('folder', status['review_dir'])}, inputs "
            f"{status['review_dir']}, config {status['config']}, "
            f"results {status['results']}"
        ),
        "",
        line(headers),
        line(["-" * w for w in widths] + [""]),
        *(line(r) for r in rows),
        "",
    ]
    stale = {s: e["stale"] for s, e in status["stages"].items() if e["stale"]}
    not_run = [s for s, e in status["stages"].items() if e["status"] == "not run"]
    for stage, items in stale.items():
        files = [i for i in items if Path(i).is_file()]
        if files:
            out.append(f"stale: {stage}: {_short(files, 3)} changed after its results")
        out += [f"stale: {stage}: {i}" for i in items if i not in files]
    if not_run:
        out.append("not run yet: " + ", ".join(not_run))
    out += [f"note: {n}" for n in status["notes"]]
    if stale or not_run:
        out.append(
            f"run `evsynth run --cores 2 {status.get('folder', '.')}` to bring the "
            "results up to date"
        )
    pending = [s for s, e in status["stages"].items() if e["to_do"]]
    if pending:
        out.append("still to do: " + ", ".join(pending))
    if not (stale or not_run or pending):
        out.append("every stage is done and up to date")
    return "\n".join(out) + "\n"
