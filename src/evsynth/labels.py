"""Names for readers: studies by author and year, study characteristics by label.

Study labels
------------
Plots, tables and the report name a study as journals cite it: by the family
name of the first author of its main report (the ``studies.csv`` row with role
``main``) and the report's year:

* one author: ``Smith 2010``;
* two authors: ``Taussig & Culhane 2010``;
* three or more (or a list cut short by "et al."): ``Geenen et al. 2013``.

The authors and the year come from the main report's record in
``results/records/unique.csv`` (the most complete value over its duplicate
cluster; a record merged into another stands for the cluster's kept record).
A record without a year takes the ``year`` of ``studies.csv``; without either
the label says ``n.d.`` (APA's "no date"). A family name written in capitals
(``TAUSSIG, H``) is shown in title case; a group author (one of the record's
``group_authors``, or a name without a comma, such as ``Foundations``) is
shown whole, as written.

Two studies whose labels would be the same get ``a``, ``b``, ``c`` ... after
the year (``Smith 2010a``, ``Smith 2010b``), in the order of their main
reports' titles (leading "A", "An", "The" ignored, then the study id), as APA
style orders works of the same authors and year.

An optional ``label`` column of ``studies.csv`` overrides the label (on any
row of the study). An override must not repeat another study's label.

A study whose main report has no authors, or whose record is not among the
records, keeps its ``study_id`` as its label; the labels table says why in its
``note`` column and the stage logs a warning.

Value labels
------------
Subgroup values (study characteristics such as ``design``) are shown by the
labels of :data:`DEFAULT_VALUE_LABELS`, which the config key
``labels.values`` extends or overrides per column; a value without a label is
shown with its underscores as spaces (``cluster_RCT`` would become
``cluster RCT``).
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from evsynth.errors import InputError
from evsynth.io import FORMULA_PREFIXES, read_csv_table, read_csv_text

__all__ = [
    "DEFAULT_VALUE_LABELS",
    "LABEL_COLUMNS",
    "analysis_labels",
    "author_year",
    "authors_phrase",
    "build_study_labels",
    "label_of",
    "ordered_values",
    "read_study_labels",
    "study_labels_from_files",
    "value_label",
    "value_labels",
    "write_study_labels",
]

log = logging.getLogger("evsynth.labels")

#: Columns of ``results/studies/labels.csv``.
LABEL_COLUMNS: tuple[str, ...] = ("study_id", "label", "source", "record_id", "note")
#: Where a label came from (the ``source`` column).
SOURCE_OVERRIDE = "studies.csv label"
SOURCE_REPORT = "main report"
SOURCE_ID = "study_id"

#: Labels of study characteristics' values, by studies.csv column (the codes
#: of ``studies.schema.yaml``). ``labels.values`` in the config adds to them.
DEFAULT_VALUE_LABELS: dict[str, dict[str, str]] = {
    "design": {
        "RCT": "RCT",
        "cluster_RCT": "Cluster RCT",
        "QED": "Quasi-experimental",
        "qualitative": "Qualitative",
        "mixed_methods": "Mixed methods",
        "other": "Other design",
    },
    "population": {
        "care_experienced": "Care-experienced",
        "at_risk": "At risk",
        "mixed": "Mixed",
    },
}

_TRUNCATED = re.compile(
    r"^(?:et\.?\s*al\.?|and others|others|\.\.\.|…)$", re.IGNORECASE
)
_YEAR = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d|21\d\d)(?!\d)")
_ARTICLE = re.compile(r"^(?:a|an|the)\s+", re.IGNORECASE)
_NO_DATE = "n.d."


# --- study labels ---------------------------------------------------------------


def _family_name(author: str, groups: frozenset[str] = frozenset()) -> str:
    """Return the family name of an author written ``Family, Given`` (or as written)."""
    text = " ".join(author.split())
    if "," not in text or text in groups:
        return text  # a group author, or a name that cannot be split
    family = text.split(",", 1)[0].strip()
    letters = [c for c in family if c.isalpha()]
    if len(letters) > 1 and all(c.isupper() for c in letters):
        family = family.title()
    return family


def authors_phrase(authors: str, groups: str = "") -> str | None:
    """Return the authors part of a label: ``Smith``, ``Smith & Jones``, ``Smith et al.``.

    Parameters
    ----------
    authors : str
        An author list as the records write it: ``Family, Given; Family,
        Given; ...`` (a name without a comma, such as a group author, is
        taken whole; a last entry "et al." marks a list cut short).
    groups : str
        The group authors among them (the records' ``group_authors``, joined
        the same way): taken whole even with a comma.

    Returns
    -------
    str or None
        The phrase, or None when the list names nobody.
    """
    names = [" ".join(a.split()) for a in str(authors or "").split(";")]
    names = [n for n in names if n.strip(" .,")]
    truncated = any(_TRUNCATED.match(n) for n in names)
    people = [n for n in names if not _TRUNCATED.match(n)]
    if not people:
        return None
    known = frozenset(" ".join(g.split()) for g in str(groups or "").split(";"))
    first = _family_name(people[0], known)
    if not first:
        return None
    if len(people) >= 3 or truncated:
        return f"{first} et al."
    if len(people) == 2:
        return f"{first} & {_family_name(people[1], known)}"
    return first


def _year(value: object) -> str:
    """Return the four-digit year found in a cell, or ``""``."""
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        value = int(value) if value.is_integer() else value
    match = _YEAR.search(str(value))
    return match.group(1) if match else ""


def author_year(authors: str, year: object, groups: str = "") -> str | None:
    """Build a study's label from its main report: ``Smith 2010``, ``Geenen et al. 2013``.

    Parameters
    ----------
    authors : str
        The report's authors (see :func:`authors_phrase`).
    year : object
        Its year (the first four-digit year in the cell); missing gives
        ``n.d.``.
    groups : str
        The group authors among ``authors`` (see :func:`authors_phrase`).

    Returns
    -------
    str or None
        The label, or None when there are no authors.
    """
    who = authors_phrase(authors, groups)
    if who is None:
        return None
    return f"{who} {_year(year) or _NO_DATE}"


def _suffix(index: int) -> str:
    """Return the letters of the index-th of a group: a, b, ..., z, aa, ab, ..."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return letters


def _with_suffix(label: str, suffix: str) -> str:
    if label.endswith(_NO_DATE):
        return f"{label}-{suffix}"
    return label + suffix


def _title_key(title: str) -> str:
    text = " ".join(str(title or "").split()).casefold()
    return _ARTICLE.sub("", text)


def _representatives(records: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Each record id (kept or merged) to its cluster's row of unique.csv."""
    out: dict[str, dict[str, Any]] = {}
    for row in records.to_dict("records"):
        out[str(row["record_id"])] = row
    for row in records.to_dict("records"):
        for other in str(row.get("merged_ids", "") or "").split(";"):
            other = other.strip()
            if other:
                out.setdefault(other, row)
    return out


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def build_study_labels(
    studies: pd.DataFrame,
    records: pd.DataFrame | None,
    *,
    studies_file: str | Path = "studies.csv",
    lines: list[int] | None = None,
) -> pd.DataFrame:
    """Give every study of studies.csv its label (see the module's docstring).

    Parameters
    ----------
    studies : pandas.DataFrame
        studies.csv, every cell text (``study_id``, ``record_id``, ``role``,
        optional ``year`` and ``label``).
    records : pandas.DataFrame or None
        ``results/records/unique.csv`` (``record_id``, ``merged_ids``,
        ``authors``, ``year``, ``title``); None: every study keeps its id.
    studies_file : str or Path
        studies.csv's path, for error messages.
    lines : list of int, optional
        The line of each row of ``studies`` in its file, for error messages
        (default: row number + 1).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`LABEL_COLUMNS`: one row per study in the order of
        first appearance; ``source`` is ``studies.csv label``, ``main report``
        or ``study_id``; ``note`` says why a study kept its id.

    Raises
    ------
    InputError
        If a study gives two different labels, or an overriding label is the
        label of another study; the message names the row and the column.
    """
    frame = studies.fillna("").astype(str)
    if lines is None:
        lines = [i + 2 for i in range(len(frame))]
    rep = _representatives(records) if records is not None else {}
    order: list[str] = []
    main: dict[str, dict[str, str]] = {}
    override: dict[str, tuple[str, int, int]] = {}
    for index, row in enumerate(frame.to_dict("records")):
        sid = row.get("study_id", "").strip()
        if not sid:
            continue
        if sid not in main:
            order.append(sid)
            main[sid] = row
        elif row.get("role", "") == "main" and main[sid].get("role", "") != "main":
            main[sid] = row
        text = " ".join(row.get("label", "").split())
        if text:
            if sid in override and override[sid][0] != text:
                raise InputError(
                    f"study {sid!r} has two labels, {override[sid][0]!r} (line "
                    f"{override[sid][1]}) and {text!r}",
                    file=studies_file,
                    line=lines[index],
                    row=index + 1,
                    column="label",
                    expected="one label per study, or none",
                )
            override.setdefault(sid, (text, lines[index], index + 1))

    base: dict[str, str] = {}
    rows: dict[str, dict[str, str]] = {}
    titles: dict[str, str] = {}
    for sid in order:
        row = main[sid]
        record_id = row.get("record_id", "").strip()
        out = {
            "study_id": sid,
            "label": sid,
            "source": SOURCE_ID,
            "record_id": record_id,
            "note": "",
        }
        rows[sid] = out
        if sid in override:
            out["label"], out["source"] = override[sid][0], SOURCE_OVERRIDE
            continue
        if records is None:
            out["note"] = "no records table"
            continue
        record = rep.get(record_id)
        if record is None:
            out["note"] = f"record {record_id!r} is not among the records"
            continue
        year = _year(record.get("year")) or _year(row.get("year"))
        label = author_year(
            _text(record.get("authors")), year, _text(record.get("group_authors"))
        )
        if label is None:
            out["note"] = f"record {record_id!r} has no authors"
            continue
        base[sid] = label
        titles[sid] = _title_key(_text(record.get("title")))
        out["label"], out["source"] = label, SOURCE_REPORT

    groups: dict[str, list[str]] = {}
    for sid, label in base.items():
        groups.setdefault(label.casefold(), []).append(sid)
    for members in groups.values():
        if len(members) < 2:
            continue
        members.sort(key=lambda s: (titles[s], s))
        for index, sid in enumerate(members):
            rows[sid]["label"] = _with_suffix(base[sid], _suffix(index))

    owner: dict[str, str] = {}
    for sid in order:
        if sid not in override:
            owner.setdefault(rows[sid]["label"].casefold(), sid)
    for sid in order:
        if sid not in override:
            continue
        text, line, row_no = override[sid]
        other = owner.get(text.casefold())
        if other is not None and other != sid:
            raise InputError(
                f"the label {text!r} of study {sid!r} is also the label of study "
                f"{other!r}",
                file=studies_file,
                line=line,
                row=row_no,
                column="label",
                expected="a label no other study has (give the other study a "
                "label of its own too)",
            )
        owner[text.casefold()] = sid

    for sid in order:
        if rows[sid]["source"] == SOURCE_ID and rows[sid]["note"]:
            log.warning(
                "%s: study %s is labelled by its study_id: %s",
                studies_file,
                sid,
                rows[sid]["note"],
            )
    return pd.DataFrame([rows[s] for s in order], columns=list(LABEL_COLUMNS))


def study_labels_from_files(
    studies: str | Path | None, records: str | Path | pd.DataFrame | None
) -> pd.DataFrame:
    """Read studies.csv and unique.csv and label every study.

    Parameters
    ----------
    studies : str or Path or None
        studies.csv (validated against its schema); None or a missing file
        gives an empty table.
    records : str or Path or pandas.DataFrame or None
        ``results/records/unique.csv`` (or the table read from it); None or a
        missing file: every study keeps its id.

    Returns
    -------
    pandas.DataFrame
        As :func:`build_study_labels`.
    """
    from evsynth.validation import read_table

    if studies is None or not Path(studies).is_file():
        return pd.DataFrame(columns=list(LABEL_COLUMNS))
    read_table(studies, "studies")  # the schema's checks, with rows and columns
    table, lines = read_csv_table(studies, "a header line: study_id, record_id, role")
    table.columns = [str(c).strip().lower() for c in table.columns]
    unique = records if isinstance(records, pd.DataFrame) else None
    if isinstance(records, str | Path) and Path(records).is_file():
        unique = read_csv_text(records, "results/records/unique.csv")
    return build_study_labels(table, unique, studies_file=studies, lines=lines)


def write_study_labels(
    studies: str | Path | None, records: str | Path | None, out: str | Path
) -> pd.DataFrame:
    """Write ``results/studies/labels.csv`` (see :func:`study_labels_from_files`).

    Parameters
    ----------
    studies, records : str or Path or None
        studies.csv and ``results/records/unique.csv``.
    out : str or Path
        The labels table to write (its folder is created).

    Returns
    -------
    pandas.DataFrame
        The table written.
    """
    from evsynth.io import frame_to_csv, write_files

    table = study_labels_from_files(studies, records)
    write_files({Path(out): lambda p: frame_to_csv(table, p)})
    return table


def _unguard(value: str) -> str:
    """Undo the apostrophe a CSV writer put before a formula-like cell."""
    if value.startswith("'") and value[1:].startswith(FORMULA_PREFIXES):
        return value[1:]
    return value


def read_study_labels(path: str | Path | None) -> dict[str, str]:
    """Read ``results/studies/labels.csv``: study_id to label.

    Parameters
    ----------
    path : str or Path or None
        The labels table; None or a missing file gives ``{}`` (every study is
        then shown by its id).

    Returns
    -------
    dict of str to str
    """
    if path is None or not Path(path).is_file():
        return {}
    table = read_csv_text(path, "a header line: " + ", ".join(LABEL_COLUMNS))
    if not {"study_id", "label"} <= set(table.columns):
        raise InputError(
            "missing column(s) study_id, label",
            file=path,
            line=1,
            expected="results/studies/labels.csv as the workflow writes it",
        )
    return {
        _unguard(str(s)): _unguard(str(label)) or _unguard(str(s))
        for s, label in zip(table["study_id"], table["label"], strict=True)
    }


def label_of(labels: Mapping[str, str] | None, study_id: object) -> str:
    """Return the label of a study, or its id when it has none."""
    sid = str(study_id)
    return (labels or {}).get(sid) or sid


# --- value and analysis labels --------------------------------------------------


def value_labels(
    config_values: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, dict[str, str]]:
    """Return the value labels in force: the built-in ones, ``labels.values`` over them.

    Parameters
    ----------
    config_values : mapping, optional
        ``labels.values`` of the config: column to (value to label).

    Returns
    -------
    dict
        Column to (value to label); a column's configured values come after
        the built-in ones, in the config's order.
    """
    out = {column: dict(values) for column, values in DEFAULT_VALUE_LABELS.items()}
    for column, values in (config_values or {}).items():
        target = out.setdefault(str(column), {})
        for value, label in (values or {}).items():
            target[str(value)] = " ".join(str(label).split())
    return out


def value_label(
    labels: Mapping[str, Mapping[str, str]] | None, column: str, value: object
) -> str:
    """How a value of a study characteristic is shown.

    Parameters
    ----------
    labels : mapping
        From :func:`value_labels`.
    column : str
        The studies.csv column (``design``).
    value : object
        The value as written (``cluster_RCT``).

    Returns
    -------
    str
        Its label (``Cluster RCT``); a value without one with its underscores
        as spaces.
    """
    text = str(value)
    known = (labels or {}).get(column, {})
    if text in known:
        return known[text]
    return text.replace("_", " ")


def ordered_values(
    labels: Mapping[str, Mapping[str, str]] | None, column: str, values: Iterable[str]
) -> list[str]:
    """Values of a column in the order their labels are listed, the rest by label.

    Parameters
    ----------
    labels : mapping
        From :func:`value_labels`.
    column : str
        The studies.csv column.
    values : iterable of str
        The values to order (repeats dropped).

    Returns
    -------
    list of str
        ``RCT``, ``cluster_RCT``, ``QED`` for the designs (the order of
        :data:`DEFAULT_VALUE_LABELS`), then values without a configured label
        in the alphabetical order of their labels.
    """
    known = list((labels or {}).get(column, {}))
    rank = {value: i for i, value in enumerate(known)}
    unique = list(dict.fromkeys(str(v) for v in values))
    return sorted(
        unique,
        key=lambda v: (
            rank.get(v, len(rank)),
            value_label(labels, column, v).casefold(),
            v,
        ),
    )


def analysis_labels(meta: Mapping[str, Any] | None) -> dict[str, str]:
    """Each configured analysis's name to its label (``meta.analyses[].label``).

    Parameters
    ----------
    meta : mapping or None
        The ``meta`` section of the config.

    Returns
    -------
    dict of str to str
        An analysis without a label gets its name with spaces for
        underscores, capitalised (as :class:`evsynth.meta.analyses.MetaSettings`).
    """
    out: dict[str, str] = {}
    for spec in (meta or {}).get("analyses", ()) or ():
        name = str(spec.get("name", ""))
        if name:
            label = spec.get("label")
            out[name] = str(label) if label else name.replace("_", " ").capitalize()
    return out
