"""``evsynth validate``: check a review's config and every input table.

:func:`validate_review` checks the config and every input table of a review
against its JSON Schema, row by row, and then runs the stages' own checks
(record, reviewer and study ids, CERQual themes, risk-of-bias levels, effect
statistics). Unlike the stages, which stop at the first problem, it collects
every problem of the schema checks and of the effect statistics; the stages'
other checks stop at their first problem in a file, which is reported with a
note that more may follow. The result is a :class:`ValidationReport` of
:class:`Problem` entries and notes.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from evsynth.errors import InputError
from evsynth.paths import config_path_errors, searches_path_errors
from evsynth.project.configfile import _setting, check_config, resolve_review
from evsynth.project.review import check_results
from evsynth.project.status import _newer
from evsynth.project.tables import TABLES, TableCheck, check_table
from evsynth.validation import load_schema, with_defaults

if TYPE_CHECKING:
    from evsynth.screening.model import RecordSet

__all__ = ["Problem", "ValidationReport", "validate_review"]

#: Exit status when ``validate`` finds problems (as for bad input elsewhere).
EXIT_PROBLEMS = 2
#: Appended to a stage check's problem: those checks stop at their first problem.
MORE_MAY_FOLLOW = "this check stops at the first problem in the file; more may follow"


@dataclass(frozen=True)
class Problem:
    """One problem found by :func:`validate_review`.

    Parameters
    ----------
    error : InputError
        What is wrong and where (file, line, row, column, expected).
    first_only : bool
        Whether the check stops at its first problem in the file, so that more
        may follow.
    """

    error: InputError
    first_only: bool = False

    @property
    def file(self) -> str:
        """The file the problem is in."""
        return self.error.location.file

    def __str__(self) -> str:
        text = str(self.error)
        return f"{text} [{MORE_MAY_FOLLOW}]" if self.first_only else text


@dataclass
class ValidationReport:
    """Everything :func:`validate_review` found.

    Parameters
    ----------
    config : Path
        The config file checked.
    review_dir : Path or None
        The review folder checked (None if the config could not be read and no
        folder was given).
    files : list of Path
        Every file checked (the config and each table that exists).
    problems : list of Problem
        Every problem, config first, then the tables in pipeline order.
    notes : list of str
        Checks that could not run, and why (no results yet, another file
        invalid), and other remarks that are not problems.
    """

    config: Path
    review_dir: Path | None
    files: list[Path] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether no problem was found."""
        return not self.problems

    def add(self, errors: Iterable[InputError], first_only: bool = False) -> None:
        """Record problems."""
        self.problems.extend(Problem(e, first_only) for e in errors)


def _records_dir(results: Path) -> Path | None:
    folder = results / "records"
    needed = ("records.csv", "unique.csv", "clusters.csv", "import_summary.csv")
    return folder if all((folder / n).is_file() for n in needed) else None


def _relocated(exc: InputError, path: Path, row_offset: int = 0) -> InputError:
    """Name the same problem against ``path``, shifting its data row."""
    loc = exc.location
    row = loc.row + row_offset if loc.row is not None else None
    line = loc.line + row_offset if loc.line is not None else None
    return InputError(
        exc.message,
        file=path,
        line=line,
        row=row,
        column=loc.column,
        expected=exc.expected,
    )


def validate_review(
    directory: str | Path | None = None,
    config: str | Path | None = None,
    results: str | Path | None = None,
) -> ValidationReport:
    """Check a review's config and every input table, collecting every problem.

    Parameters
    ----------
    directory : path, optional
        The review folder (default: the review of the current directory; see
        :func:`resolve_review`).
    config : path, optional
        The config file (default: the review folder's own).
    results : path, optional
        The results folder, for the record ids of ``results/records`` (checks
        that need them are skipped, with a note, when it does not exist);
        default: the review folder's ``results``.

    Returns
    -------
    ValidationReport
        Files checked, problems and notes.

    Raises
    ------
    EvsynthError
        If no review folder is found, or the results folder was written by
        another review.
    """
    config_path, review, root = resolve_review(directory, config)
    results = Path(results) if results is not None else root / "results"
    settings_config, config_errors = check_config(config_path)
    if settings_config is not None and not config_errors:  # a config to fix first
        check_results(root, settings_config, config_path, results)
    report = ValidationReport(config_path, review)
    if config_path.is_file():
        report.files.append(config_path)
    report.add(config_errors)
    unreadable = False
    if settings_config is None:
        if review is None:
            report.notes.append(
                "the input tables were not checked: the config cannot be read and "
                "no review folder was given"
            )
            return report
        settings_config = with_defaults({}, load_schema("config"))
        unreadable = True
    named_review = review
    if review is None:
        review_dir = settings_config.get("review_dir")
        review = root / (review_dir if isinstance(review_dir, str) else "data")
    report.review_dir = review
    # paths read from the config lead inside the review: no file is opened otherwise
    path_errors = config_path_errors(settings_config, root, config_path, named_review)
    report.add(path_errors)
    refused = {e.location.column for e in path_errors}
    if "review_dir" in refused:
        report.notes.append(
            "the input tables were not checked: review_dir leads outside the review "
            "folder"
        )
        return report
    if not review.is_dir():
        report.add([InputError("review folder not found", file=review)])
        return report
    bad_sections = {(e.location.column or "").split("/")[0] for e in config_errors}
    if unreadable:  # stage checks that need settings cannot run
        bad_sections |= set(load_schema("config")["properties"])
    checks: dict[str, TableCheck] = {}
    paths: dict[str, Path] = {}
    for spec in TABLES:
        path = review / _setting(settings_config, spec.section, spec.setting)
        paths[spec.key] = path
        if f"{spec.section}/{spec.setting}" in refused:
            continue  # leads outside review_dir: not opened
        if not path.exists() and spec.key != "searches":
            continue  # optional, or the stage does not run without it
        check = check_table(path, spec.schema)
        checks[spec.key] = check
        if spec.key == "searches" and not path_errors:
            searches = review / _setting(settings_config, "records", "searches_dir")
            _add_name_errors(check, searches_path_errors(path, searches))
        if path.is_file():
            report.files.append(path)
        report.add(check.errors)
    if path_errors:
        report.notes.append(
            "the tables were not checked against each other: fix the config's "
            "paths first"
        )
        return _sorted(report)
    _stage_checks(
        report, settings_config, bad_sections, review, paths, checks, Path(results)
    )
    return _sorted(report)


def _sorted(report: ValidationReport) -> ValidationReport:
    """Problems grouped by file (in the order first met), then by line."""
    files = list(dict.fromkeys(p.file for p in report.problems))
    report.problems.sort(
        key=lambda p: (files.index(p.file), p.error.location.line or 0)
    )
    return report


def _add_name_errors(check: TableCheck, errors: list[InputError]) -> None:
    """Add the manifest's path problems, each in place of a schema problem of its cell."""
    cells = {(e.location.row, e.location.column) for e in errors}
    check.errors = [
        e for e in check.errors if (e.location.row, e.location.column) not in cells
    ] + errors


def _stage_checks(
    report: ValidationReport,
    config: dict[str, Any],
    bad_sections: set[str],
    review: Path,
    paths: dict[str, Path],
    checks: dict[str, TableCheck],
    results: Path,
) -> None:
    """Run the stages' own checks on the files that passed their schema."""
    from evsynth.effects.compute import EffectSettings, compute_effects, row_problems
    from evsynth.history.snapshot import check_decision_log
    from evsynth.qualitative.model import read_appraisal, read_cerqual, read_findings
    from evsynth.records import read_manifest
    from evsynth.rob.model import read_rob
    from evsynth.screening.model import read_record_set

    def first(error: InputError) -> None:
        report.add([error], first_only=True)

    def ready(key: str) -> bool:
        return key in checks and checks[key].ok

    # records: the manifest against the searches folder
    if ready("searches"):
        try:
            read_manifest(
                paths["searches"],
                review / _setting(config, "records", "searches_dir"),
            )
        except InputError as exc:
            first(exc)

    # studies
    studies: set[str] | None = None
    if ready("studies"):
        studies = {str(r["study_id"]) for _, r in checks["studies"].rows}
    elif "studies" in checks:
        report.notes.append(
            f"study ids were not checked against {paths['studies']}: fix it first"
        )

    # record ids: need the records stage's results
    records_dir = _records_dir(results)
    record_tables = [
        k for k in ("dedup_decisions", "decisions", "retrieval") if k in checks
    ]
    if "studies" in checks:
        record_tables.append("studies")
    records = None
    if records_dir is None:
        if record_tables:
            report.notes.append(
                f"record ids were not checked: no {results / 'records'} yet "
                "(run evsynth run, then validate again)"
            )
    else:
        try:
            records = read_record_set(
                records_dir / "records.csv",
                records_dir / "unique.csv",
                records_dir / "clusters.csv",
                records_dir / "import_summary.csv",
            )
        except (OSError, KeyError, ValueError) as exc:
            report.notes.append(f"record ids were not checked: {records_dir}: {exc}")
        searches = review / _setting(config, "records", "searches_dir")
        exports = [
            paths["searches"],
            *(searches.rglob("*") if searches.is_dir() else []),
        ]
        if records is not None and _newer(exports, [records_dir / "records.csv"]):
            report.notes.append(
                f"{records_dir} is older than the searches: record ids were checked "
                "against the last run (run evsynth run to import the new searches)"
            )
    if records is not None and ready("dedup_decisions"):
        known = set(records.representative)
        for number, row in checks["dedup_decisions"].rows:
            for column in ("record_id_a", "record_id_b"):
                if str(row[column]) not in known:
                    report.add(
                        [
                            InputError(
                                f"unknown record id {row[column]!r}",
                                file=paths["dedup_decisions"],
                                line=number + 1,
                                row=number,
                                column=column,
                                expected=f"a record_id of {records_dir / 'records.csv'}",
                            )
                        ]
                    )
    # the decision log is append-only: compare it with the last run's snapshot
    try:
        check_decision_log(paths["decisions"], results / "history")
    except InputError as exc:
        report.add([exc])
    if records is not None:
        _screening_checks(report, config, bad_sections, paths, checks, records)

    # effects: every row's statistics, each row on its own
    if "effects" in checks:
        check = checks["effects"]
        effect_settings = EffectSettings.from_config(
            config.get("effects", {}) if "effects" not in bad_sections else {}
        )
        for number, row in check.rows:
            single = pd.DataFrame([row], columns=check.columns, dtype=object)
            single = single.astype(object).where(single.notna(), None)
            try:
                compute_effects(single, effect_settings, source=paths["effects"])
            except InputError as exc:
                report.add([_relocated(exc, paths["effects"], number - 1)])
        # exact duplicate rows, and rows of studies not in studies.csv
        report.add(
            row_problems(check.rows, paths["effects"], studies, paths["studies"])
        )

    # risk of bias
    if ready("risk_of_bias"):
        try:
            read_rob(paths["risk_of_bias"], studies)
        except InputError as exc:
            first(exc)

    # GRADE judgements: against the configured analyses
    if "grade" in checks:
        from evsynth.grade.judgements import judgement_problems

        analyses = None
        if "meta" not in bad_sections:
            meta = config.get("meta") or {}
            analyses = {str(a.get("name")) for a in meta.get("analyses") or []}
        report.add(judgement_problems(checks["grade"].rows, paths["grade"], analyses))

    # qualitative
    findings = None
    if ready("findings"):
        try:
            findings = read_findings(paths["findings"], studies)
        except InputError as exc:
            first(exc)
    if ready("appraisal"):
        try:
            read_appraisal(paths["appraisal"], studies)
        except InputError as exc:
            first(exc)
    if ready("cerqual"):
        if findings is not None:
            coverage = _setting(config, "qualitative", "cerqual_coverage")
            try:
                read_cerqual(paths["cerqual"], findings, coverage)
            except InputError as exc:
                first(exc)
        else:
            report.notes.append(
                f"the themes of {paths['cerqual']} were not checked: "
                f"{paths['findings']} is missing or has problems"
            )
    present = [k for k in ("findings", "appraisal", "cerqual") if paths[k].is_file()]
    if 0 < len(present) < 3:
        absent = [
            str(paths[k])
            for k in ("findings", "appraisal", "cerqual")
            if k not in present
        ]
        report.notes.append(
            "the qualitative stage runs only when all three of its files exist; "
            "missing: " + ", ".join(absent)
        )


def _screening_checks(
    report: ValidationReport,
    config: dict[str, Any],
    bad_sections: set[str],
    paths: dict[str, Path],
    checks: dict[str, TableCheck],
    records: RecordSet,
) -> None:
    """Check the decision log, retrieval file and studies.csv against the records."""
    from evsynth.screening.decide import read_log, read_retrieval, screen
    from evsynth.screening.model import Settings
    from evsynth.screening.prisma import read_studies

    def first(error: InputError) -> None:
        report.add([error], first_only=True)

    def ready(key: str) -> bool:
        return key in checks and checks[key].ok

    settings = None
    if "screening" not in bad_sections:
        try:
            settings = Settings.from_config(config["screening"], str(report.config))
        except InputError:
            settings = None  # reported with the config's problems
    if settings is None:
        if {"decisions", "retrieval", "studies"} & set(checks):
            report.notes.append(
                "screening decisions were not checked against the config: fix its "
                "screening section first"
            )
        return
    log_rows = []
    log_ok = "decisions" not in checks or checks["decisions"].ok
    if ready("decisions"):
        try:
            log_rows = read_log(paths["decisions"], records, settings)
        except InputError as exc:
            first(exc)
            log_ok = False
    retrieved: dict[str, tuple[str, int]] = {}
    retrieval_ok = "retrieval" not in checks or checks["retrieval"].ok
    if ready("retrieval"):
        try:
            retrieved = read_retrieval(paths["retrieval"], records)
        except InputError as exc:
            first(exc)
            retrieval_ok = False
    state = None
    if log_ok and retrieval_ok:
        try:
            state = screen(
                records,
                settings,
                log_rows,
                retrieved,
                log_path=paths["decisions"],
                retrieval_path=paths["retrieval"],
            )
        except InputError as exc:
            first(exc)
    if state is not None and ready("studies"):
        try:
            read_studies(paths["studies"], records, state)
        except InputError as exc:
            first(exc)
    if ready("studies"):
        # the labels plots and tables name the studies by: one per study, unique
        from evsynth.labels import study_labels_from_files

        try:
            study_labels_from_files(paths["studies"], records.unique)
        except InputError as exc:
            first(exc)
    elif state is None and "studies" in checks:
        report.notes.append(
            f"{paths['studies']} was not checked against the screening "
            "decisions: fix the decision log and the retrieval file first"
        )


def _print_report(report: ValidationReport) -> int:
    for problem in report.problems:
        print(problem)
    for note in report.notes:
        print(f"note: {note}", file=sys.stderr)
    n_files = len(report.files)
    if report.ok:
        print(f"all {n_files} files valid")
        return 0
    bad = len({p.file for p in report.problems})
    print(
        f"{len(report.problems)} problem(s) in {bad} file(s) of {n_files} checked "
        "(config/README.md describes every key and column)"
    )
    return EXIT_PROBLEMS
