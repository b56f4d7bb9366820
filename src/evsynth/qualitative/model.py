"""Qualitative inputs: coded findings, CASP appraisals and CERQual assessments.

Each reader validates its CSV against the schema in ``evsynth/schemas`` (allowed
words, required cells) and then checks what a schema cannot see: ids that must
be unique, studies that must be included studies, CERQual themes that must be
themes of the findings. Every problem is an :class:`~evsynth.errors.InputError`
naming the file, the line and data row, the column and what was expected.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from evsynth.errors import InputError
from evsynth.validation import read_table

__all__ = [
    "CASP_ANSWERS",
    "CASP_ITEMS",
    "COMPONENTS",
    "CONCERNS",
    "CONFIDENCE",
    "COVERAGES",
    "KINDS",
    "PERSPECTIVES",
    "natural_key",
    "read_appraisal",
    "read_cerqual",
    "read_findings",
    "split_themes",
]

#: Kinds of coded excerpt.
KINDS = ("barrier", "facilitator", "view")
#: Perspectives, in the order tables and figures show them, with their labels.
PERSPECTIVES = {
    "young_person": "Young person",
    "mentor": "Mentor",
    "practitioner": "Practitioner",
    "carer": "Carer",
}
#: GRADE-CERQual components (column -> heading of the evidence profile).
COMPONENTS = {
    "methodological_limitations": "Methodological limitations",
    "coherence": "Coherence",
    "adequacy": "Adequacy",
    "relevance": "Relevance",
}
#: Levels of concern about a CERQual component, with their wording.
CONCERNS = {
    "no_or_very_minor": "No or very minor concerns",
    "minor": "Minor concerns",
    "moderate": "Moderate concerns",
    "serious": "Serious concerns",
}
#: Overall CERQual confidence in a review finding, with its wording.
CONFIDENCE = {
    "high": "High confidence",
    "moderate": "Moderate confidence",
    "low": "Low confidence",
    "very_low": "Very low confidence",
}
#: The CASP Qualitative Studies Checklist (2018), items 1-10.
CASP_ITEMS = {
    1: "Was there a clear statement of the aims of the research?",
    2: "Is a qualitative methodology appropriate?",
    3: "Was the research design appropriate to address the aims of the research?",
    4: "Was the recruitment strategy appropriate to the aims of the research?",
    5: "Was the data collected in a way that addressed the research issue?",
    6: (
        "Has the relationship between researcher and participants been "
        "adequately considered?"
    ),
    7: "Have ethical issues been taken into consideration?",
    8: "Was the data analysis sufficiently rigorous?",
    9: "Is there a clear statement of findings?",
    10: "How valuable is the research?",
}
#: CASP answers, with their wording.
CASP_ANSWERS = {"yes": "Yes", "cant_tell": "Can't tell", "no": "No"}
#: The CASP item whose answer is free text (in ``note``).
CASP_FREE_TEXT_ITEM = 10
#: ``coverage`` of :func:`read_cerqual`: must every theme be in a CERQual row?
COVERAGES = ("full", "partial")

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_DIGITS = re.compile(r"(\d+)")


def natural_key(text: str) -> tuple[object, ...]:
    """Sort key that orders ``s2`` before ``s10`` and ignores case first.

    Parameters
    ----------
    text : str
        An id or name.

    Returns
    -------
    tuple
        The key.
    """
    parts = _DIGITS.split(text)
    folded = tuple(
        (0, int(p), "") if p.isdigit() else (1, 0, p.casefold()) for p in parts if p
    )
    return (folded, text)


def split_themes(text: str) -> list[str]:
    """Split a ``themes`` cell of cerqual.csv on ``;`` (blank parts dropped).

    Parameters
    ----------
    text : str
        The cell.

    Returns
    -------
    list of str
        The theme names, stripped, in their order, without repeats.
    """
    names: list[str] = []
    for part in str(text).split(";"):
        name = " ".join(part.split())
        if name and name not in names:
            names.append(name)
    return names


def _listing(values: Iterable[str], limit: int = 12) -> str:
    values = list(values)
    shown = ", ".join(values[:limit])
    return shown + (f", ... ({len(values)} in all)" if len(values) > limit else "")


def _where(index: int) -> dict[str, int]:
    """Line and data row of a table's row by its 0-based position."""
    return {"line": index + 2, "row": index + 1}


def _read(path: str | Path, schema: str, optional: Iterable[str] = ()) -> pd.DataFrame:
    """Read and validate a table; add absent optional text columns as empty."""
    frame = read_table(path, schema)
    for index, record in enumerate(frame.to_dict(orient="records")):
        for column, value in record.items():
            if isinstance(value, str) and _CONTROL.search(value):
                raise InputError(
                    "control character in the cell",
                    file=path,
                    **_where(index),
                    column=str(column),
                    expected="printable text (tabs and line breaks are allowed)",
                )
    for column in optional:
        if column not in frame.columns:
            frame[column] = None
        frame[column] = frame[column].map(lambda v: "" if v is None else str(v))
    return frame


def _check_studies(
    frame: pd.DataFrame, path: str | Path, studies: set[str] | None
) -> None:
    if studies is None:
        return
    for index, study in enumerate(frame["study_id"]):
        if study not in studies:
            raise InputError(
                f"study {study!r} is not an included study in studies.csv",
                file=path,
                **_where(index),
                column="study_id",
                expected="the study_id of an included study: "
                + (_listing(sorted(studies, key=natural_key)) or "(none)"),
            )


def read_findings(path: str | Path, studies: set[str] | None = None) -> pd.DataFrame:
    """Read ``qualitative/findings.csv``: one row per coded excerpt.

    Parameters
    ----------
    path : str or Path
        The CSV file.
    studies : set of str, optional
        The included studies (``study_id`` of studies.csv). ``None`` skips
        that check.

    Returns
    -------
    pandas.DataFrame
        The rows in file order (the index is the 0-based row position). Text
        cells are stripped; the optional ``subtheme`` and ``note`` are ``""``
        when empty. Extra columns are kept.

    Raises
    ------
    InputError
        If a cell breaks the schema (e.g. a ``kind`` or ``perspective`` that
        is not one of the allowed words), a study is not an included study, a
        ``finding_id`` is repeated, or two themes (or two subthemes of a
        theme) differ only in case or spacing.
    """
    frame = _read(path, "qual_findings", optional=("subtheme", "note"))
    for column in ("theme", "subtheme"):
        frame[column] = frame[column].map(lambda v: " ".join(str(v).split()))
    _check_studies(frame, path, studies)
    first: dict[str, int] = {}
    for index, finding in enumerate(frame["finding_id"]):
        if finding in first:
            raise InputError(
                f"finding_id {finding!r} is repeated (first on row {first[finding]})",
                file=path,
                **_where(index),
                column="finding_id",
                expected="a finding_id that is unique in the file",
            )
        first[finding] = index + 1
    _check_spelling(frame, path, "theme", frame["theme"])
    keyed = frame["theme"] + "\x00" + frame["subtheme"]
    _check_spelling(frame, path, "subtheme", keyed, skip_empty=frame["subtheme"])
    return frame


def _check_spelling(
    frame: pd.DataFrame,
    path: str | Path,
    column: str,
    keys: pd.Series,
    skip_empty: pd.Series | None = None,
) -> None:
    """Two names that differ only in case or spacing are a typing slip."""
    seen: dict[str, tuple[str, int]] = {}
    for index, key in enumerate(keys):
        if skip_empty is not None and not skip_empty.iloc[index]:
            continue
        folded = "".join(key.split()).casefold()
        if folded not in seen:
            seen[folded] = (key, index + 1)
            continue
        other, row = seen[folded]
        if other != key:
            raise InputError(
                f"{column} {frame[column].iloc[index]!r} differs only in case or "
                f"spacing from {other.split(chr(0))[-1]!r} on row {row}",
                file=path,
                **_where(index),
                column=column,
                expected=f"the same spelling for the same {column}",
            )


def read_appraisal(path: str | Path, studies: set[str] | None = None) -> pd.DataFrame:
    """Read ``qualitative/appraisal.csv``: CASP Qualitative (2018), long form.

    Parameters
    ----------
    path : str or Path
        The CSV file with ``study_id``, ``item`` (1-10), ``answer`` (``yes``,
        ``cant_tell`` or ``no``; may be empty for item 10), ``note`` and
        ``appraiser``.
    studies : set of str, optional
        The included studies. ``None`` skips that check.

    Returns
    -------
    pandas.DataFrame
        The rows in file order; ``item`` is an integer and ``answer``,
        ``note`` and ``appraiser`` are ``""`` when empty.

    Raises
    ------
    InputError
        If the ``answer`` column is missing, a cell breaks the schema (an item
        outside 1-10, an answer that is not an allowed word), an answer to
        items 1-9 is empty, a study is not an included study, or a study has
        the same item twice.
    """
    frame = _read(path, "qual_appraisal")
    if "answer" not in frame.columns:
        raise InputError(
            "missing required column(s) answer",
            file=path,
            line=1,
            expected="a header with study_id, item, answer, note, appraiser",
        )
    for column in ("answer", "note", "appraiser"):
        if column not in frame.columns:
            frame[column] = None
        frame[column] = frame[column].map(lambda v: "" if v is None else str(v))
    for index, (item, answer) in enumerate(
        zip(frame["item"], frame["answer"], strict=True)
    ):
        if not answer and item != CASP_FREE_TEXT_ITEM:
            raise InputError(
                "empty cell",
                file=path,
                **_where(index),
                column="answer",
                expected="yes, cant_tell or no (only item 10 may be left empty)",
            )
    _check_studies(frame, path, studies)
    first: dict[tuple[str, int], int] = {}
    for index, key in enumerate(zip(frame["study_id"], frame["item"], strict=True)):
        if key in first:
            raise InputError(
                f"CASP item {key[1]} is given twice for study {key[0]!r} "
                f"(first on row {first[key]})",
                file=path,
                **_where(index),
                column="item",
                expected="one row per study and item",
            )
        first[key] = index + 1
    frame["item"] = frame["item"].astype(int)
    return frame


def read_cerqual(
    path: str | Path, findings: pd.DataFrame, coverage: str = "full"
) -> pd.DataFrame:
    """Read ``qualitative/cerqual.csv``: one GRADE-CERQual row per review finding.

    Parameters
    ----------
    path : str or Path
        The CSV file.
    findings : pandas.DataFrame
        The coded findings (:func:`read_findings`); the themes named in
        ``themes`` must be among theirs.
    coverage : {"full", "partial"}
        With ``"full"`` every theme of the findings must support some review
        finding; ``"partial"`` allows themes that no review finding uses.

    Returns
    -------
    pandas.DataFrame
        The rows in the order of ``finding_no``; ``themes`` is normalised to
        the names joined by ``"; "``. The optional ``<component>_note``
        columns are ``""`` when empty.

    Raises
    ------
    InputError
        If a cell is empty or breaks the schema (each component and the
        confidence must be one of the allowed words; every row needs all four
        components and an explanation), a ``finding_no`` is repeated, a theme
        is not a theme of findings.csv, or (with ``coverage="full"``) a theme
        of findings.csv is in no row.
    ValueError
        If ``coverage`` is not ``"full"`` or ``"partial"``.
    """
    if coverage not in COVERAGES:
        raise ValueError(f"coverage must be 'full' or 'partial', got {coverage!r}")
    notes = [f"{c}_note" for c in COMPONENTS]
    frame = _read(path, "qual_cerqual", optional=notes)
    known = list(dict.fromkeys(findings["theme"]))
    by_fold = {"".join(t.split()).casefold(): t for t in known}
    first: dict[int, int] = {}
    used: set[str] = set()
    cells: list[str] = []
    for index, (number, text) in enumerate(
        zip(frame["finding_no"], frame["themes"], strict=True)
    ):
        if number in first:
            raise InputError(
                f"finding_no {number} is repeated (first on row {first[number]})",
                file=path,
                **_where(index),
                column="finding_no",
                expected="a finding_no that is unique in the file",
            )
        first[number] = index + 1
        names = split_themes(text)
        if not names:
            raise InputError(
                "no theme named",
                file=path,
                **_where(index),
                column="themes",
                expected="theme names from findings.csv separated by ;",
            )
        for name in names:
            if name not in known:
                hint = by_fold.get("".join(name.split()).casefold())
                if hint is None:
                    close = difflib.get_close_matches(name, known, n=1, cutoff=0.75)
                    hint = close[0] if close else None
                raise InputError(
                    f"theme {name!r} is not a theme in findings.csv"
                    + (f" (did you mean {hint!r}?)" if hint else ""),
                    file=path,
                    **_where(index),
                    column="themes",
                    expected="theme names from findings.csv separated by ; ("
                    + (_listing(sorted(known, key=natural_key)) or "none coded")
                    + ")",
                )
        used.update(names)
        cells.append("; ".join(names))
    frame["themes"] = cells
    if coverage == "full":
        missing = [t for t in known if t not in used]
        if missing:
            raise InputError(
                "theme(s) of findings.csv in no review finding: "
                + _listing(sorted(missing, key=natural_key), limit=50),
                file=path,
                column="themes",
                expected="every theme of findings.csv in the themes of some row "
                "(or coverage 'partial')",
            )
    frame["finding_no"] = frame["finding_no"].astype(int)
    order = sorted(range(len(frame)), key=lambda i: int(frame["finding_no"].iloc[i]))
    return frame.iloc[order].reset_index(drop=True)
