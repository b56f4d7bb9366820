"""The review's input tables: what each holds, and a row-by-row schema check.

* :data:`TABLES` lists every input table of a review (:class:`TableSpec`): the
  config key holding its path, its JSON Schema, the columns ``evsynth init``
  writes and what goes in it. ``evsynth init``, ``validate`` and ``status`` all
  read the tables from here.
* :func:`check_table` checks every row of a CSV table against its schema,
  collecting every problem in a :class:`TableCheck` instead of stopping at the
  first.
* The study designs that decide which stages a study needs (effect statistics,
  a risk-of-bias judgement, coded qualitative findings).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evsynth.errors import InputError
from evsynth.io import read_csv_table
from evsynth.validation import (
    coerce_cell,
    describe_error,
    load_schema,
    table_validator,
)

__all__ = ["TABLES", "TableCheck", "TableSpec", "check_table"]

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
        "grade",
        "grade",
        "file",
        "grade",
        "analysis,domain,judgement,reason,reviewer,date",
        "the team's GRADE judgements: per analysis and domain, a rating and why "
        "(optional: without it the ratings proposed from the data stand)",
        template=False,
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
        table, lines = read_csv_table(
            path,
            "a header line: " + ", ".join(_schema_columns(schema_name)),
            refuse_controls=True,
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
    validator = table_validator(schema)
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
                    line=lines[index],
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
                line=lines[index],
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
