"""Commands around the pipeline: ``evsynth init``, ``validate`` and ``status``.

* :func:`init_review` writes a new review folder: a complete, commented
  ``config.yaml``, every input table as a header-only CSV, and README files
  saying what goes where.
* :func:`validate_review` checks the config and every input table of a review
  against its JSON Schema, row by row, and then runs the stages' own checks
  (record, reviewer and study ids, CERQual themes, risk-of-bias levels, effect
  statistics). Unlike the stages, which stop at the first problem, it collects
  every problem of the schema checks and of the effect statistics; the stages'
  other checks stop at their first problem in a file, which is reported with a
  note that more may follow.
* :func:`review_status` says per stage what is done and what is still to do,
  from the inputs and the results, and whether the results are stale.

:func:`add_commands` registers the three commands on ``evsynth``'s subparsers.
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema
import pandas as pd
import yaml

from evsynth.errors import EvsynthError, InputError
from evsynth.io import read_csv_text
from evsynth.validation import coerce_cell, describe_error, load_schema, with_defaults

if TYPE_CHECKING:
    from evsynth.screening.model import RecordSet

__all__ = [
    "TABLES",
    "InitResult",
    "Problem",
    "TableCheck",
    "TableSpec",
    "ValidationReport",
    "add_commands",
    "check_config",
    "check_table",
    "config_template",
    "format_status",
    "init_review",
    "resolve_review",
    "review_status",
    "template_files",
    "validate_review",
]

#: Exit status when ``validate`` finds problems (as for bad input elsewhere).
EXIT_PROBLEMS = 2
#: Designs of the effectiveness studies, which need a risk-of-bias judgement.
EFFECTIVENESS_DESIGNS = ("RCT", "cluster_RCT", "QED")
#: Designs whose studies are expected to give coded qualitative findings.
QUALITATIVE_DESIGNS = ("qualitative", "mixed_methods")
#: Designs whose studies are not expected to give effect statistics.
NO_EFFECTS_DESIGNS = ("qualitative",)


@dataclass(frozen=True)
class TableSpec:
    """One input table of a review.

    Parameters
    ----------
    key : str
        Short name (``decisions``, ``effects``, ...).
    section, setting : str
        The config key holding the table's path, relative to ``review_dir``.
    schema : str
        Name of the table's JSON Schema in ``evsynth/schemas``.
    header : str
        The columns in the order ``init`` writes them, comma-separated; a
        column the schema adds later is written after them.
    purpose : str
        What goes in the table, for the README files.
    template : bool
        Whether ``evsynth init`` writes it (``dedup_decisions.csv`` is made
        later, from ``results/records/dedup_review.csv``).
    """

    key: str
    section: str
    setting: str
    schema: str
    header: str
    purpose: str
    template: bool = True

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column of the schema: those of ``header`` first, in its order."""
        known = list(load_schema(self.schema).get("properties", {}))
        listed = [c for c in self.header.split(",") if c in known]
        return (*listed, *(c for c in known if c not in listed))


_EFFECT_HEADER = (
    "study_id,outcome,domain,timepoint,months,comparison,favourable,"
    "measure,n_t,n_c,mean_t,sd_t,mean_c,sd_c,se_t,se_c,lb_t,ub_t,lb_c,"
    "ub_c,t,f,p,direction,d,g,yi,vi,se,ci_lb,ci_ub,events_t,events_c,"
    "or_,or_lb,or_ub,adj_diff,adj_diff_se,adj_diff_lb,adj_diff_ub,"
    "sd_pooled,pre_mean_t,pre_sd_t,pre_mean_c,pre_sd_c,r_prepost,icc,"
    "clusters_t,clusters_c,cluster_size,source,note"
)

#: The review's input tables, in the order the pipeline uses them.
TABLES: tuple[TableSpec, ...] = (
    TableSpec(
        "searches",
        "records",
        "manifest",
        "searches",
        "file,database,kind,date_searched,update,query,n_reported,format",
        "the search manifest: one row per export file in searches/",
    ),
    TableSpec(
        "dedup_decisions",
        "records",
        "dedup_decisions",
        "dedup_decisions",
        "record_id_a,record_id_b,verdict,reviewer,date",
        "reviewers' verdicts on uncertain duplicate pairs (optional; copy rows "
        "from results/records/dedup_review.csv once their verdict is filled in)",
        template=False,
    ),
    TableSpec(
        "decisions",
        "screening",
        "decisions",
        "screening_decisions",
        "record_id,stage,reviewer,decision,reason,note,timestamp",
        "the screening decision log: append rows, never edit old ones",
    ),
    TableSpec(
        "retrieval",
        "screening",
        "retrieval",
        "retrieval",
        "record_id,retrieved,note",
        "whether each full text sought was obtained (one row per record)",
    ),
    TableSpec(
        "studies",
        "screening",
        "studies",
        "studies",
        (
            "study_id,record_id,role,design,country,programme,mentoring_type,"
            "population,year,age_mean,n_total"
        ),
        "the included reports grouped into studies, with study characteristics",
    ),
    TableSpec(
        "effects",
        "effects",
        "file",
        "effects",
        _EFFECT_HEADER,
        "effect statistics: one row per study x outcome x time point x "
        "comparison, one set of statistics per row",
    ),
    TableSpec(
        "risk_of_bias",
        "rob",
        "file",
        "risk_of_bias",
        "study_id,tool,outcome,d1,d2,d3,d4,d5,d6,d7,overall,assessor,note",
        "risk-of-bias judgements (RoB 2, ROBINS-I) of the effectiveness studies",
    ),
    TableSpec(
        "findings",
        "qualitative",
        "findings",
        "qual_findings",
        "study_id,finding_id,theme,subtheme,kind,perspective,excerpt,source,note",
        "coded excerpts of the qualitative studies",
    ),
    TableSpec(
        "appraisal",
        "qualitative",
        "appraisal",
        "qual_appraisal",
        "study_id,item,answer,note,appraiser",
        "CASP Qualitative Checklist: one row per study and item (1-10)",
    ),
    TableSpec(
        "cerqual",
        "qualitative",
        "cerqual",
        "qual_cerqual",
        (
            "finding_no,review_finding,themes,methodological_limitations,"
            "coherence,adequacy,relevance,confidence,explanation,"
            "methodological_limitations_note,coherence_note,adequacy_note,"
            "relevance_note"
        ),
        "GRADE-CERQual: one row per review finding, with the themes behind it",
    ),
)
_SPECS = {spec.key: spec for spec in TABLES}


# --- configuration --------------------------------------------------------------


def _schema_default(path: Sequence[str]) -> Any:
    """Return the config schema's default of a key (``("records", "manifest")``)."""
    node: dict[str, Any] = load_schema("config")
    for key in path:
        node = node["properties"][key]
    return node.get("default")


def _setting(config: Mapping[str, Any], section: str, key: str) -> Any:
    """Return a config value if it has the right type, else the schema's default."""
    default = _schema_default((section, key))
    block = config.get(section)
    value = block.get(key) if isinstance(block, Mapping) else None
    return value if isinstance(value, type(default)) else default


def resolve_review(
    directory: str | Path | None, config: str | Path | None
) -> tuple[Path, Path | None]:
    """Find the config file and the review folder, as the commands use them.

    The config is ``--config`` if given, else ``DIR/config.yaml`` when that
    exists (``evsynth init`` writes it), else ``config/config.yaml``. The review
    folder is ``DIR`` if given (it overrides the config's ``review_dir``), else
    the config's ``review_dir``, relative to the working directory as in the
    workflow.

    Parameters
    ----------
    directory : path or None
        The review folder given on the command line.
    config : path or None
        The config file given with ``--config``.

    Returns
    -------
    tuple of (Path, Path or None)
        The config file and the review folder (None: take it from the config).
    """
    review = Path(directory) if directory is not None else None
    if config is not None:
        return Path(config), review
    if review is not None and (review / "config.yaml").is_file():
        return review / "config.yaml", review
    return Path("config/config.yaml"), review


def _yaml_lines(text: str) -> dict[tuple[Any, ...], int]:
    """Line (1-based) of every key and list item of a YAML document."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return {}
    lines: dict[tuple[Any, ...], int] = {}

    def walk(node: yaml.Node | None, path: tuple[Any, ...]) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                here = (*path, key.value)
                lines[here] = key.start_mark.line + 1
                walk(value, here)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                here = (*path, index)
                lines[here] = item.start_mark.line + 1
                walk(item, here)

    walk(root, ())
    return lines


def _line_of(lines: Mapping[tuple[Any, ...], int], path: Sequence[Any]) -> int | None:
    """Line of a key, or of its nearest parent written in the file."""
    path = tuple(path)
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return None


def check_config(path: str | Path) -> tuple[dict[str, Any] | None, list[InputError]]:
    """Check a config file and return it with defaults and every problem found.

    Parameters
    ----------
    path : str or Path
        The YAML config.

    Returns
    -------
    tuple of (dict or None, list of InputError)
        The config with the schema's defaults filled in (None if the file
        cannot be read as a YAML mapping), and every problem: each schema error
        with its line and key, then the screening settings' own checks.
    """
    from evsynth.screening.model import Settings

    path = Path(path)
    if not path.is_file():
        return None, [
            InputError(
                "config file not found",
                file=path,
                expected="a config (evsynth init writes one; or pass --config)",
            )
        ]
    text = path.read_text(encoding="utf-8")
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        return None, [
            InputError(f"not valid YAML: {problem}", file=path, line=line),
        ]
    raw = {} if raw is None else raw
    if not isinstance(raw, dict):
        return None, [
            InputError(
                "not a YAML mapping of keys",
                file=path,
                line=1,
                expected="keys such as review_dir, records, screening",
            )
        ]
    schema = load_schema("config")
    filled = with_defaults(raw, schema)
    lines = _yaml_lines(text)
    errors: list[InputError] = []
    validator = jsonschema.Draft202012Validator(schema)
    bad_paths: list[tuple[Any, ...]] = []
    for error in sorted(
        validator.iter_errors(filled), key=lambda e: _line_of(lines, e.path) or 0
    ):
        where = tuple(error.path)
        bad_paths.append(where)
        if error.validator == "additionalProperties" and isinstance(
            error.instance, dict
        ):
            allowed = list(
                error.schema.get("properties", {})
                if isinstance(error.schema, dict)
                else {}
            )
            for key in error.instance:
                if key not in allowed:
                    errors.append(
                        InputError(
                            f"unknown key {key!r}",
                            file=path,
                            line=_line_of(lines, (*where, key)),
                            column="/".join(str(p) for p in (*where, key)),
                            expected="one of " + ", ".join(allowed),
                        )
                    )
            continue
        errors.append(
            InputError(
                error.message,
                file=path,
                line=_line_of(lines, where),
                column="/".join(str(p) for p in where) or "(top level)",
                expected=describe_error(error),
            )
        )
    if not any(p[:1] == ("screening",) for p in bad_paths):
        try:
            Settings.from_config(filled["screening"], source=str(path))
        except InputError as exc:
            column = exc.location.column or ""
            errors.append(
                InputError(
                    exc.message,
                    file=path,
                    line=_line_of(lines, column.split("/")),
                    column=column or None,
                    expected=exc.expected,
                )
            )
    return filled, errors


def _load_valid_config(path: Path) -> dict[str, Any]:
    """Return the config with defaults, or raise its first problem."""
    config, errors = check_config(path)
    if errors or config is None:
        raise EvsynthError(
            f"{errors[0]}; run evsynth validate to see every problem"
            if errors
            else f"{path}: cannot read the config"
        )
    return config


# --- row-by-row validation --------------------------------------------------------


@dataclass
class TableCheck:
    """The result of checking one table against its schema, row by row.

    Parameters
    ----------
    path : Path
        The CSV file.
    columns : list of str
        Its columns (stripped and lower-cased).
    rows : list of (int, dict)
        Every row that passed the schema, as ``(data row, values)``, values
        converted to the schema's types and empty cells left out.
    errors : list of InputError
        Every problem found, in file order.
    """

    path: Path
    columns: list[str] = field(default_factory=list)
    rows: list[tuple[int, dict[str, object]]] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether the table passed its schema."""
        return not self.errors


def check_table(path: str | Path, schema_name: str) -> TableCheck:
    """Check every row of a CSV table against its schema, collecting every problem.

    The rules are those of :func:`evsynth.validation.read_table` (header
    names stripped and lower-cased, empty cells missing, values converted to
    the schema's types, extra columns allowed), but every row and every column
    is checked instead of stopping at the first problem.

    Parameters
    ----------
    path : str or Path
        The CSV file.
    schema_name : str
        Name of the schema in ``evsynth/schemas``.

    Returns
    -------
    TableCheck
        The rows that passed and one :class:`InputError` per problem: a missing
        file, a file that is not CSV, missing required columns (once, on line
        1), and per row each empty required cell and each invalid value, with
        the line, data row, column and what was expected.
    """
    path = Path(path)
    result = TableCheck(path)
    schema = load_schema(schema_name)
    required: list[str] = list(schema.get("required", []))
    try:
        table = read_csv_text(
            path, "a header line: " + ", ".join(_schema_columns(schema_name))
        )
    except InputError as error:
        result.errors.append(error)
        return result
    table.columns = [str(c).strip().lower() for c in table.columns]
    result.columns = list(table.columns)
    properties: dict[str, Any] = schema.get("properties", {})
    missing = [c for c in required if c not in table.columns]
    if missing:
        result.errors.append(
            InputError(
                "missing required column(s) " + ", ".join(missing),
                file=path,
                line=1,
                expected="a header with " + ", ".join(required),
            )
        )
    present_required = [c for c in required if c in table.columns]
    order = {c: i for i, c in enumerate(table.columns)}
    validator = jsonschema.Draft202012Validator(schema)
    for index, raw in enumerate(table.to_dict(orient="records")):
        row: dict[str, object] = {}
        for key, value in raw.items():
            text = str(value).strip()
            if text == "":
                continue
            types = properties.get(key, {}).get("type", "string")
            types = types if isinstance(types, list) else [types]
            row[key] = coerce_cell(text, types)
        found: dict[str, InputError] = {}
        for column in present_required:
            if column not in row:
                found[column] = InputError(
                    "empty cell",
                    file=path,
                    line=index + 2,
                    row=index + 1,
                    column=column,
                    expected=properties.get(column, {}).get("description", "a value"),
                )
        for error in validator.iter_errors(row):
            if error.validator == "required":
                continue  # empty cells are reported above, missing columns once
            column = str(error.path[0]) if error.path else ""
            if column in found:
                continue
            value = raw.get(column, "") if column else ""
            found[column] = InputError(
                f"invalid value {value!r}",
                file=path,
                line=index + 2,
                row=index + 1,
                column=column or None,
                expected=describe_error(error),
            )
        if found:
            result.errors.extend(
                found[c] for c in sorted(found, key=lambda c: order.get(c, -1))
            )
        else:
            result.rows.append((index + 1, row))
    return result


def _schema_columns(schema_name: str) -> list[str]:
    """Return the columns of a schema, in the template's order if it has one."""
    for spec in TABLES:
        if spec.schema == schema_name:
            return list(spec.columns)
    return list(load_schema(schema_name).get("properties", {}))


# --- validate ---------------------------------------------------------------------


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
    results: str | Path = "results",
) -> ValidationReport:
    """Check a review's config and every input table, collecting every problem.

    Parameters
    ----------
    directory : path, optional
        The review folder (default: the config's ``review_dir``).
    config : path, optional
        The config file (default: see :func:`resolve_review`).
    results : path
        The results folder, for the record ids of ``results/records`` (checks
        that need them are skipped, with a note, when it does not exist).

    Returns
    -------
    ValidationReport
        Files checked, problems and notes.
    """
    config_path, review = resolve_review(directory, config)
    settings_config, config_errors = check_config(config_path)
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
    if review is None:
        review_dir = settings_config.get("review_dir")
        review = Path(review_dir if isinstance(review_dir, str) else "data")
    report.review_dir = review
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
        if not path.exists() and spec.key != "searches":
            continue  # optional, or the stage does not run without it
        check = check_table(path, spec.schema)
        checks[spec.key] = check
        if path.is_file():
            report.files.append(path)
        report.add(check.errors)
    _stage_checks(
        report, settings_config, bad_sections, review, paths, checks, Path(results)
    )
    files = list(dict.fromkeys(p.file for p in report.problems))
    report.problems.sort(
        key=lambda p: (files.index(p.file), p.error.location.line or 0)
    )
    return report


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
    from evsynth.effects.compute import EffectSettings, compute_effects
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
            if studies is not None and str(row["study_id"]) not in studies:
                report.notes.append(
                    f"{paths['effects']}, row {number}: study {row['study_id']!r} is "
                    f"not in {paths['studies']}, so the meta-analyses have no study "
                    "characteristics for it"
                )

    # risk of bias
    if ready("risk_of_bias"):
        try:
            read_rob(paths["risk_of_bias"], studies)
        except InputError as exc:
            first(exc)

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


# --- init -------------------------------------------------------------------------

#: Placeholder values ``init`` writes where the schema's default would not pass.
_INIT_VALUES: dict[tuple[str, ...], Any] = {
    ("review_dir",): ".",
    ("screening", "reviewers"): ["reviewer_1", "reviewer_2"],
    ("screening", "exclusion_reasons"): [
        "Wrong population",
        "Wrong intervention",
        "Wrong comparator",
        "Wrong outcomes",
        "Wrong study design",
        "Review or commentary",
        "Protocol or ongoing study",
    ],
}
#: Extra comments for some keys of the template config.
_INIT_NOTES: dict[tuple[str, ...], str] = {
    ("review_dir",): (
        "'.' is this folder when you pass it on the command line: evsynth validate "
        "DIR, evsynth status DIR, evsynth run --review-dir DIR. The workflow itself "
        "reads review_dir relative to the folder it runs in (the evsynth folder), "
        "so keep --review-dir, or write this folder's full path here."
    ),
    ("screening", "reviewers"): "Replace the placeholders with your reviewers' names.",
    ("screening", "reviewers_per_record", "title_abstract"): (
        "Decisions each record needs at title/abstract."
    ),
    ("screening", "reviewers_per_record", "full_text"): (
        "Decisions each report needs at full text."
    ),
    ("screening", "exclusion_reasons"): (
        "Edit before full-text screening starts: every full-text exclusion must "
        "give one of these, exactly as written."
    ),
    ("meta", "analyses"): (
        "Add one entry per analysis, e.g.:\n"
        "  - name: mental_health            # file-safe: a-z, 0-9, _\n"
        "    label: Mental health           # for tables and plots\n"
        "    domains: [mental_health]       # effects.csv domains pooled (default [name])\n"
        "    measure: SMD                   # SMD, MD, OR, RR or RD\n"
        "    subgroups: [design]            # studies.csv columns to split by\n"
        "    moderators: [months]           # numeric columns for meta-regression"
    ),
}


def _yaml_value(value: Any) -> str:
    text = yaml.safe_dump(
        value, default_flow_style=True, allow_unicode=True, width=1000
    )
    return text.removesuffix("\n...\n").strip()


def _comment(text: str, indent: int) -> list[str]:
    pad = " " * indent
    out = []
    for paragraph in text.split("\n"):
        if paragraph.startswith(" "):  # pre-formatted example lines
            out.append(f"{pad}#   {paragraph}")
            continue
        out += [
            f"{pad}# {line}"
            for line in textwrap.wrap(" ".join(paragraph.split()), 86 - indent)
        ]
    return out


def _config_lines(
    properties: Mapping[str, Any],
    values: Mapping[tuple[str, ...], Any],
    path: tuple[str, ...],
    indent: int,
) -> list[str]:
    lines: list[str] = []
    pad = " " * indent
    for key, sub in properties.items():
        here = (*path, key)
        if lines and not path:
            lines.append("")
        description = " ".join(str(sub.get("description", "")).split())
        note = _INIT_NOTES.get(here, "")
        choices = ""
        if "enum" in sub:
            choices = " One of: " + ", ".join(str(v) for v in sub["enum"]) + "."
        if description:
            text = description + choices + (f"\n{note}" if note else "")
        else:
            text = note + choices
        if text.strip():
            lines += _comment(text.strip(), indent)
        if sub.get("type") == "object" and "properties" in sub:
            lines.append(f"{pad}{key}:")
            lines += _config_lines(sub["properties"], values, here, indent + 2)
            continue
        value = values.get(here, sub.get("default"))
        if isinstance(value, list) and len(value) > 3:
            lines.append(f"{pad}{key}:")
            lines += [f"{pad}  - {_yaml_value(item)}" for item in value]
        else:
            lines.append(f"{pad}{key}: {_yaml_value(value)}")
    return lines


def config_template(title: str | None = None) -> str:
    """Return the ``config.yaml`` that ``evsynth init`` writes: every key, commented.

    The keys, their defaults and their comments come from the config schema,
    so the template always has every key. ``review_dir`` is ``.``; the
    screening reviewers are placeholders and the full-text exclusion reasons a
    usual list, so that the new review validates.

    Parameters
    ----------
    title : str, optional
        The review's title (default: the schema's ``Untitled review``).

    Returns
    -------
    str
        The YAML text.
    """
    schema = load_schema("config")
    values = dict(_INIT_VALUES)
    if title:
        values[("review_title",)] = title
    head = [
        "# Settings of this review, written by `evsynth init`. config/README.md in the",
        "# evsynth repository explains every key and every input table's columns;",
        "# src/evsynth/schemas/config.schema.yaml (workflow/schemas/) is the formal",
        "# definition. Paths are relative to review_dir. Check with `evsynth validate`.",
        "",
    ]
    body = _config_lines(schema["properties"], values, (), 0)
    return "\n".join([*head, *body]) + "\n"


_SEARCHES_README = """\
# Search exports

Put every raw export here exactly as the database gave it (never edit an export
by hand), and list each in `searches.csv`, one row per file. Every file in this
folder except `searches.csv`, `README*` and hidden files must be listed, so that
no search is left out by mistake.

## Columns of `searches.csv`

| column | required | meaning |
|---|---|---|
{rows}

## `kind`: where the records count in the PRISMA 2020 diagram

- `database`: a bibliographic database (MEDLINE, PsycInfo, Scopus, Web of
  Science, ...).
- `register`: a trials or study register (CENTRAL, ClinicalTrials.gov, ICTRP, ...).
- `website`: a web search or search engine (e.g. Google Scholar).
- `organisation`: hand-searching organisations' websites and publications.
- `citation`: citation searching (backward or forward).

Records found only via `website`, `organisation` or `citation` are identified via
other methods: they go straight to full-text retrieval and take no title/abstract
decision.

`update` is 0 for the original searches and 1, 2, ... for update searches.
`n_reported` is the number of records the database reported; it is compared with
the records found in the file. `format` forces a format (`evsynth formats` lists
them) instead of detecting it from the content.

Example row:

```text
file,database,kind,date_searched,update,query,n_reported,format
medline.nbib,MEDLINE (PubMed),database,2024-03-01,0,"mentor*[tiab] AND foster*[tiab]",38,
```
"""

_REVIEW_README = """\
# {title}

An evsynth review folder, made by `evsynth init`. Every table is a UTF-8 CSV with
a header line; `config/README.md` in the evsynth repository explains every key and
every column. A table with only its header means that stage has nothing to do yet.

| file | what goes in it |
|---|---|
| `config.yaml` | The review's settings: title, reviewers, resolvers, full-text exclusion reasons, effect-size and meta-analysis settings, and the paths below. |
| `searches/` | The raw search exports, never edited; `searches/README.md` says how to list them. |
{rows}

The workflow writes its results to `results/` in the folder it runs in (the
evsynth folder), not here.

## Next

1. Put the search exports in `searches/` and list them in `searches/searches.csv`;
   set the reviewers and the exclusion reasons in `config.yaml`.
2. Check every file: `evsynth validate {directory}`
3. Run the workflow from the evsynth folder:
   `evsynth run --cores 2 --review-dir {directory} -- --configfile {directory}/config.yaml`
   (`--review-dir`, because the workflow reads `review_dir: .` relative to the
   folder it runs in).
4. See what is done and what is still to do: `evsynth status {directory}`
5. Screen with the sheets in `results/screening/sheets/` and append the decisions
   to `screening/decisions.csv`; record the full texts in
   `screening/retrieval.csv`; group the included reports in `studies.csv`;
   extract into `extraction/` and `qualitative/`; validate and run again.
"""


def _searches_readme() -> str:
    schema = load_schema("searches")
    props = schema["properties"]
    required = set(schema["required"])
    rows = "\n".join(
        f"| `{c}` | {'yes' if c in required else 'no'} | "
        f"{' '.join(str(props[c].get('description', '')).split())} |"
        for c in _SPECS["searches"].columns
    )
    return _SEARCHES_README.format(rows=rows)


def _review_readme(directory: str, title: str) -> str:
    rows = []
    for spec in TABLES:
        required = load_schema(spec.schema).get("required", [])
        path = _schema_default((spec.section, spec.setting))
        made = "" if spec.template else " Not created by `evsynth init`."
        columns = ", ".join(f"`{c}`" for c in spec.columns if c in required)
        purpose = spec.purpose[0].upper() + spec.purpose[1:]
        rows.append(f"| `{path}` | {purpose}.{made} Required columns: {columns}. |")
    return _REVIEW_README.format(title=title, rows="\n".join(rows), directory=directory)


@dataclass
class InitResult:
    """What :func:`init_review` did.

    Parameters
    ----------
    directory : Path
        The review folder.
    created : list of Path
        Files written.
    kept : list of Path
        Template files that already existed and were left as they were.
    """

    directory: Path
    created: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)


def template_files(directory: str | Path, title: str | None = None) -> dict[str, str]:
    """Every file ``evsynth init`` writes, by path relative to the review folder.

    Parameters
    ----------
    directory : str or Path
        The review folder as the user names it (shown in the README).
    title : str, optional
        The review's title.

    Returns
    -------
    dict of str to str
        Relative path -> text.
    """
    title = title or str(_schema_default(("review_title",)))
    files = {
        "config.yaml": config_template(title),
        "README.md": _review_readme(Path(directory).as_posix(), title),
        "searches/README.md": _searches_readme(),
    }
    for spec in TABLES:
        if not spec.template:
            continue
        path = str(_schema_default((spec.section, spec.setting)))
        files[path] = ",".join(spec.columns) + "\n"
    return files


def init_review(
    directory: str | Path, *, title: str | None = None, force: bool = False
) -> InitResult:
    """Create a review folder with every template file.

    Parameters
    ----------
    directory : str or Path
        The new review folder (created if needed).
    title : str, optional
        The review's title, for ``config.yaml`` and ``README.md``.
    force : bool
        Allow a folder that is not empty; only missing files are added, an
        existing file is never overwritten.

    Returns
    -------
    InitResult
        Files created and kept.

    Raises
    ------
    EvsynthError
        If ``directory`` is a file, or a non-empty folder without ``force``.
    """
    folder = Path(directory)
    if folder.exists() and not folder.is_dir():
        raise EvsynthError(f"{folder} exists and is not a folder")
    if folder.is_dir() and any(folder.iterdir()) and not force:
        raise EvsynthError(
            f"{folder} is not empty: choose a new folder, or pass --force to add the "
            "missing template files (existing files are never overwritten)"
        )
    result = InitResult(folder)
    for relative, text in template_files(directory, title).items():
        path = folder / relative
        if path.exists():
            result.kept.append(path)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        result.created.append(path)
    return result


# --- status -----------------------------------------------------------------------


def _read_csv(path: Path) -> pd.DataFrame | None:
    """Read a CSV as text (None if it does not exist or cannot be read)."""
    if not path.is_file():
        return None
    try:
        table = pd.read_csv(
            path, dtype=str, keep_default_na=False, encoding="utf-8-sig"
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError):
        return None
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
    results: str | Path = "results",
) -> dict[str, Any]:
    """Say per stage what is done and what is still to do.

    Parameters
    ----------
    directory : path, optional
        The review folder (default: the config's ``review_dir``).
    config : path, optional
        The config file (default: see :func:`resolve_review`).
    results : path
        The results folder (default ``results``: the workflow writes it in the
        folder it runs in).

    Returns
    -------
    dict
        ``title``, ``review_dir``, ``config``, ``results``, ``notes``, and
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
        If the config is missing or invalid, or the review folder is missing.
    """
    config_path, review = resolve_review(directory, config)
    settings = _load_valid_config(config_path)
    review = review if review is not None else Path(settings["review_dir"])
    if not review.is_dir():
        raise EvsynthError(f"{review}: review folder not found")
    out = Path(results)
    path = {
        spec.key: review / _setting(settings, spec.section, spec.setting)
        for spec in TABLES
    }
    status: dict[str, Any] = {
        "title": settings["review_title"],
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
    if outputs and _newer([config_path], outputs):
        status["notes"].append(
            f"{config_path} changed after some results: evsynth run reruns every "
            "stage whose settings changed"
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
    imported, unique, pairs = (
        _read_csv(p) for p in (outputs[0], outputs[1], folder / "dedup_review.csv")
    )
    entry["counts"] = {
        "imported": len(imported) if imported is not None else 0,
        "unique": len(unique) if unique is not None else 0,
        "pairs_to_review": len(pairs) if pairs is not None else 0,
    }
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
            f"review {status['review_dir']}, config {status['config']}, "
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
            f"run `evsynth run --cores 2 --review-dir {status['review_dir']} -- "
            f"--configfile {status['config']}` to bring the results up to date"
        )
    pending = [s for s, e in status["stages"].items() if e["to_do"]]
    if pending:
        out.append("still to do: " + ", ".join(pending))
    if not (stale or not_run or pending):
        out.append("every stage is done and up to date")
    return "\n".join(out) + "\n"


# --- commands ---------------------------------------------------------------------


def _cmd_init(args: argparse.Namespace) -> int:
    result = init_review(args.directory, title=args.title, force=args.force)
    for path in result.created:
        print(f"created {path}")
    if result.kept:
        print(f"kept {len(result.kept)} existing file(s) unchanged")
    print(
        f"next: fill in {Path(args.directory) / 'config.yaml'} and searches/, then "
        f"`evsynth validate {args.directory}` and `evsynth run --cores 2 "
        f"--review-dir {args.directory} -- --configfile "
        f"{Path(args.directory) / 'config.yaml'}`"
    )
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    report = validate_review(args.directory, args.config, args.results)
    return _print_report(report)


def _cmd_status(args: argparse.Namespace) -> int:
    status = review_status(args.directory, args.config, args.results)
    if args.json:
        print(json.dumps(status, indent=2, ensure_ascii=False))
    else:
        sys.stdout.write(format_status(status))
    return 0


def add_commands(subparsers: Any) -> None:
    """Register ``init``, ``validate`` and ``status`` on evsynth's subparsers.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        What ``parser.add_subparsers()`` returned in ``build_parser``. Each
        command's ``func`` takes the parsed arguments and returns the exit
        status.
    """
    config_help = (
        "config file (default: DIR/config.yaml if it exists, else config/config.yaml)"
    )
    p = subparsers.add_parser(
        "init",
        help="create a new review folder with every template file",
        description=(
            "Create a review folder: config.yaml (every key, commented, "
            "review_dir: .), searches/searches.csv and searches/README.md, "
            "screening/decisions.csv, screening/retrieval.csv, studies.csv, "
            "extraction/effects.csv, extraction/risk_of_bias.csv and "
            "qualitative/findings.csv, appraisal.csv and cerqual.csv (headers "
            "only), and a README.md saying what goes where. The new review "
            "passes evsynth validate."
        ),
    )
    p.add_argument("directory", metavar="DIR", help="the new review folder")
    p.add_argument("--title", default=None, help="the review's title")
    p.add_argument(
        "--force",
        action="store_true",
        help="use a folder that is not empty: add the missing files only, never "
        "overwrite one",
    )
    p.set_defaults(func=_cmd_init)

    p = subparsers.add_parser(
        "validate",
        help="check the config and every input table, reporting every problem",
        description=(
            "Check the config and every input table of a review against its schema "
            "and the stages' own checks, and print every problem, one line each "
            "(file, line, row, column, what is wrong, what was expected). Checks "
            "that need record ids use RESULTS/records when it exists. Exit status "
            "2 if there is any problem, 0 otherwise."
        ),
    )
    p.add_argument(
        "directory",
        nargs="?",
        default=None,
        metavar="DIR",
        help="the review folder (default: the config's review_dir)",
    )
    p.add_argument("--config", default=None, metavar="FILE", help=config_help)
    p.add_argument(
        "--results",
        default="results",
        metavar="RESULTS",
        help="the workflow's results folder (default: results)",
    )
    p.set_defaults(func=_cmd_validate)

    p = subparsers.add_parser(
        "status",
        help="what is done and what is still to do, per stage",
        description=(
            "Per stage, from the inputs and the results: records imported and "
            "unique; records each reviewer still has to screen, open conflicts and "
            "full texts awaiting retrieval; included studies without effect "
            "statistics and rows excluded; effectiveness studies without a "
            "risk-of-bias judgement; qualitative studies without findings and "
            "CERQual coverage of the themes; meta-analyses run and skipped; and "
            "which results are older than their inputs."
        ),
    )
    p.add_argument(
        "directory",
        nargs="?",
        default=None,
        metavar="DIR",
        help="the review folder (default: the config's review_dir)",
    )
    p.add_argument("--config", default=None, metavar="FILE", help=config_help)
    p.add_argument(
        "--results",
        default="results",
        metavar="RESULTS",
        help="the workflow's results folder (default: results)",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_cmd_status)
