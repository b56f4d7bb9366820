"""Validation of configuration and input tables against their JSON Schemas.

The schemas are JSON Schema written in YAML (``<name>.schema.yaml``) and live in
``evsynth/schemas`` (``workflow/schemas`` in the repository links there), so the
Snakemake workflow and the command line check the same rules.
"""

from __future__ import annotations

import functools
import math
import re
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pandas as pd

from evsynth.errors import InputError
from evsynth.io import read_csv_table
from evsynth.yamlsafe import parse_yaml

SCHEMA_PACKAGE = "evsynth.schemas"


@functools.cache
def load_schema(name: str) -> dict[str, Any]:
    """Load a JSON Schema shipped with evsynth.

    Parameters
    ----------
    name : str
        Schema name without suffix, e.g. ``"searches"``.

    Returns
    -------
    dict
        The schema.
    """
    text = (
        resources.files(SCHEMA_PACKAGE)
        .joinpath(f"{name}.schema.yaml")
        .read_text(encoding="utf-8")
    )
    schema: dict[str, Any] = parse_yaml(text, f"{name}.schema.yaml").data
    return schema


def _finite(value: str) -> float | None:
    """Return the number a cell holds, or None (``nan``, ``inf`` are not numbers)."""
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def coerce_cell(value: str, types: list[str]) -> object:
    """Turn a CSV cell into the JSON type the schema asks for, where it can.

    Text that Python reads as a non-finite float (``nan``, ``inf``, ``-inf``,
    ``Infinity``, ...) stays text, so that a numeric column refuses it like any
    other non-number.
    """
    if "integer" in types:
        number = _finite(value)
        if number is None:
            return value
        if number.is_integer():
            return int(number)
        return number if "number" in types else value
    if "number" in types:
        number = _finite(value)
        return value if number is None else number
    if "boolean" in types:
        lowered = value.strip().lower()
        if lowered in {"true", "yes", "1"}:
            return True
        if lowered in {"false", "no", "0"}:
            return False
    return value


def _not_finite(value: object) -> bool:
    """Whether a cell is text Python would read as nan or an infinity."""
    if not isinstance(value, str):
        return False
    try:
        return not math.isfinite(float(value))
    except ValueError:
        return False


_TIMESTAMP = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?"
    r"(?:Z|[+-](\d{2}):?(\d{2}))?)?$"
)

#: The formats the table schemas use, checked against the calendar: ``date``
#: (YYYY-MM-DD) and ``timestamp`` (a date, or a date and time with an optional
#: offset, ISO 8601).
TABLE_FORMATS = jsonschema.FormatChecker(formats=())


@TABLE_FORMATS.checks("date")
@TABLE_FORMATS.checks("timestamp")
def _real_moment(value: object) -> bool:
    """Whether a date or timestamp names a real day and time (not 2023-02-30)."""
    if not isinstance(value, str):
        return True
    match = _TIMESTAMP.match(value)
    if match is None:
        return True  # the pattern reports text of the wrong shape
    year, month, day, hour, minute, second, off_h, off_m = (
        int(g) if g is not None else 0 for g in match.groups()
    )
    try:
        datetime(year, month, day, hour, minute, second)
    except ValueError:
        return False
    return off_h <= 23 and off_m <= 59


def table_validator(schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    """Return the validator of a table schema, dates checked against the calendar."""
    return jsonschema.Draft202012Validator(schema, format_checker=TABLE_FORMATS)


def describe_error(error: jsonschema.ValidationError) -> str:
    """Say what a schema error expects, in words a reviewer understands."""
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "enum":
        return "one of " + ", ".join(str(v) for v in error.validator_value)
    if error.validator == "type":
        wanted = error.validator_value
        wanted = wanted if isinstance(wanted, list) else [wanted]
        if {"number", "integer"} & set(wanted) and _not_finite(error.instance):
            return "a finite number (nan, inf and infinity are not numbers)"
        return f"a value of type {error.validator_value}"
    if error.validator == "format":
        kind = "date" if error.validator_value == "date" else "date and time"
        wanted = schema.get("description")
        return f"a real calendar {kind}" + (f": {wanted}" if wanted else "")
    if error.validator == "pattern":
        return schema.get("description") or f"text matching {error.validator_value}"
    if error.validator == "minimum":
        return f"a number >= {error.validator_value}"
    if error.validator == "maximum":
        return f"a number <= {error.validator_value}"
    return schema.get("description") or str(error.validator_value)


def read_table(path: str | Path, schema_name: str) -> pd.DataFrame:
    """Read a CSV input table and validate every row against its schema.

    Column names are stripped and lower-cased. Unknown extra columns are kept.
    Empty cells count as missing.

    Parameters
    ----------
    path : str or Path
        The CSV file.
    schema_name : str
        Name of the schema in ``evsynth/schemas``.

    Returns
    -------
    pandas.DataFrame
        The table with values converted to the schema's types (missing values
        are ``None``).

    Raises
    ------
    InputError
        If the file is missing, a required column is absent, or a cell breaks
        the schema. The message names the file, the row and the column.
    """
    path = Path(path)
    schema = load_schema(schema_name)
    frame, lines = read_csv_table(
        path,
        "a header line: " + ", ".join(schema.get("required", [])),
        refuse_controls=True,
    )
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    properties: dict[str, Any] = schema.get("properties", {})
    missing = [c for c in schema.get("required", []) if c not in frame.columns]
    if missing:
        raise InputError(
            "missing required column(s) " + ", ".join(missing),
            file=path,
            line=1,
            expected="a header with " + ", ".join(schema.get("required", [])),
        )
    validator = table_validator(schema)
    rows: list[dict[str, object]] = []
    for index, raw in enumerate(frame.to_dict(orient="records")):
        row: dict[str, object] = {}
        for key, value in raw.items():
            text = str(value).strip()
            if text == "":
                continue
            types = properties.get(key, {}).get("type", "string")
            types = types if isinstance(types, list) else [types]
            row[key] = coerce_cell(text, types)
        errors = sorted(validator.iter_errors(row), key=lambda e: list(e.path))
        if errors:
            error = errors[0]
            if error.validator == "required":
                column = str(error.message).split("'")[1]
                raise InputError(
                    "empty cell",
                    file=path,
                    line=lines[index],
                    row=index + 1,
                    column=column,
                    expected=properties.get(column, {}).get("description", "a value"),
                )
            column = str(error.path[0]) if error.path else None
            value = raw.get(column, "") if column else ""
            raise InputError(
                f"invalid value {value!r}",
                file=path,
                line=lines[index],
                row=index + 1,
                column=column,
                expected=describe_error(error),
            )
        rows.append(row)
    out = pd.DataFrame(rows, columns=list(frame.columns), dtype=object)
    return out.astype(object).where(out.notna(), None)


def validate_config(config: dict[str, Any], source: str = "config") -> dict[str, Any]:
    """Validate a configuration and fill in the schema's defaults.

    Parameters
    ----------
    config : dict
        The configuration as loaded from YAML.
    source : str
        Name used in error messages (usually the config file's path).

    Returns
    -------
    dict
        The configuration with defaults filled in.
    """
    schema = load_schema("config")
    filled = with_defaults(config, schema)
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(filled))
    if errors:
        error = errors[0]
        key = "/".join(str(p) for p in error.path) or "(top level)"
        raise InputError(
            error.message, file=source, column=key, expected=describe_error(error)
        )
    return filled


def with_defaults(value: Any, schema: dict[str, Any]) -> Any:
    """Return ``value`` with the schema's defaults added for missing keys, recursively.

    Parameters
    ----------
    value : Any
        A configuration (or part of one) as loaded from YAML.
    schema : dict
        The JSON Schema (or sub-schema) describing it.

    Returns
    -------
    Any
        A copy of dicts with defaults filled in; other values unchanged.
    """
    if not isinstance(value, dict) or schema.get("type") != "object":
        return value
    out = dict(value)
    for key, sub in schema.get("properties", {}).items():
        if key not in out and "default" in sub:
            out[key] = sub["default"]
        if key in out:
            out[key] = with_defaults(out[key], sub)
    return out
