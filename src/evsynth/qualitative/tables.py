"""Tables of a qualitative evidence synthesis.

Theme x study and theme x perspective matrices (the framework matrix of
framework synthesis, NVivo's "Export Framework Matrix"), barrier and
facilitator tables, the GRADE-CERQual Summary of Qualitative Findings and
Evidence Profile (Lewin et al. 2018), and the CASP appraisal table. Every
table is derived from the coded excerpts, so each count and each "studies
contributing" list can be traced back to rows of findings.csv.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

import pandas as pd

from evsynth.labels import label_of
from evsynth.qualitative.model import (
    CASP_ANSWERS,
    CASP_FREE_TEXT_ITEM,
    CASP_ITEMS,
    COMPONENTS,
    CONCERNS,
    CONFIDENCE,
    KINDS,
    PERSPECTIVES,
    natural_key,
    split_themes,
)

__all__ = [
    "BF_COLUMNS",
    "BF_HEADINGS",
    "EVIDENCE_PROFILE_COLUMNS",
    "ID_COLUMNS",
    "SOQF_COLUMNS",
    "barrier_facilitator_table",
    "casp_table",
    "cerqual_evidence_profile",
    "cerqual_soqf",
    "theme_matrix",
    "theme_order",
]

#: Separator of several excerpts (or studies' examples) in one cell.
EXCERPT_SEP = " | "
#: Separator of names in a list cell.
LIST_SEP = "; "
#: An example excerpt longer than this many characters is shortened.
EXAMPLE_MAX = 160
#: Number of example excerpts in a barrier or facilitator table.
N_EXAMPLES = 2

BF_COLUMNS = [
    "theme",
    "subthemes",
    "n_studies",
    "studies",
    "perspectives",
    "example_excerpts",
    "study_ids",
]
#: Columns of the tables that give the study ids behind a column of labels;
#: the tables for readers (DOCX, the report) leave them out.
ID_COLUMNS = ("study_id", "study_ids")
#: Headings of the barrier and facilitator tables in a report (DOCX).
BF_HEADINGS = {
    "theme": "Theme",
    "subthemes": "Subthemes",
    "n_studies": "Studies (n)",
    "studies": "Studies",
    "perspectives": "Perspectives (studies)",
    "example_excerpts": "Example excerpts (study, source)",
}
SOQF_COLUMNS = [
    "#",
    "Summary of review finding",
    "Studies contributing to the review finding",
    "CERQual assessment of confidence",
    "Explanation of CERQual assessment",
]
#: Lewin et al. 2018, Table 3, with the finding's number in front.
EVIDENCE_PROFILE_COLUMNS = [
    "#",
    "Summary of review finding",
    "Studies contributing to the review finding",
    *COMPONENTS.values(),
    "CERQual assessment of confidence in the evidence",
    "Explanation of CERQual assessment",
]


def _studies_by_theme(findings: pd.DataFrame) -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for theme, study in zip(findings["theme"], findings["study_id"], strict=True):
        out[theme].add(study)
    return out


def _sorted(names: set[str] | list[str]) -> list[str]:
    return sorted(set(names), key=natural_key)


def _by_label(
    names: set[str] | list[str], labels: Mapping[str, str] | None
) -> list[str]:
    """Study ids in the natural order of their labels (then of the ids)."""
    return sorted(
        set(names), key=lambda s: (natural_key(label_of(labels, s)), natural_key(s))
    )


def _cite(study: str, source: str, labels: Mapping[str, str] | None) -> str:
    """``label, source`` (just the source when it already starts with the label)."""
    label = label_of(labels, study)
    if source.casefold().startswith(label.casefold()):
        return source
    return f"{label}, {source}" if source else label


def theme_order(findings: pd.DataFrame) -> list[str]:
    """Themes by the number of studies that report them, then by name.

    Parameters
    ----------
    findings : pandas.DataFrame
        Coded excerpts (:func:`~evsynth.qualitative.model.read_findings`).

    Returns
    -------
    list of str
        The themes, most widely reported first.
    """
    studies = _studies_by_theme(findings)
    return sorted(studies, key=lambda t: (-len(studies[t]), natural_key(t)))


def theme_matrix(
    findings: pd.DataFrame, *, by: str = "study", values: str = "count"
) -> pd.DataFrame:
    """Build the framework matrix: themes x studies, or themes x perspectives.

    Parameters
    ----------
    findings : pandas.DataFrame
        Coded excerpts (:func:`~evsynth.qualitative.model.read_findings`).
    by : {"study", "perspective"}
        Columns: the studies (in natural order of their ids), or the four
        perspectives (young person, mentor, practitioner, carer; all four,
        so a perspective nobody reported shows as zeros).
    values : {"count", "excerpts"}
        ``"count"``: by study, the number of coded excerpts of the theme in
        the study; by perspective, the number of *studies* with an excerpt of
        the theme from that perspective. ``"excerpts"``: the excerpts
        themselves, in file order, each followed by its source in brackets
        (and, by perspective, its study), joined by ``" | "``; empty cells
        are ``""``.

    Returns
    -------
    pandas.DataFrame
        Index ``theme`` (themes ordered by the number of studies reporting
        them, then by name), one column per study or perspective.

    Raises
    ------
    ValueError
        If ``by`` or ``values`` is not one of the allowed words.
    """
    if by not in ("study", "perspective"):
        raise ValueError(f"by must be 'study' or 'perspective', got {by!r}")
    if values not in ("count", "excerpts"):
        raise ValueError(f"values must be 'count' or 'excerpts', got {values!r}")
    themes = theme_order(findings)
    if by == "study":
        keys = _sorted(list(findings["study_id"]))
        labels = keys
        key_column = "study_id"
    else:
        keys = list(PERSPECTIVES)
        labels = list(PERSPECTIVES.values())
        key_column = "perspective"
    counted: dict[tuple[str, str], set[str]] = defaultdict(set)
    excerpts: dict[tuple[str, str], list[str]] = defaultdict(list)
    for record in findings.to_dict(orient="records"):
        cell = (record["theme"], record[key_column])
        if by == "study":
            counted[cell].add(record["finding_id"])
            where = record["source"]
        else:
            counted[cell].add(record["study_id"])
            where = f"{record['study_id']}, {record['source']}"
        excerpts[cell].append(f"{record['excerpt']} ({where})")
    data: dict[str, list[object]] = {}
    for key, label in zip(keys, labels, strict=True):
        if values == "count":
            data[label] = [len(counted.get((t, key), ())) for t in themes]
        else:
            data[label] = [EXCERPT_SEP.join(excerpts.get((t, key), [])) for t in themes]
    index = pd.Index(themes, name="theme", dtype=object)
    frame = pd.DataFrame(data, index=index, columns=labels)
    frame = frame.astype("int64" if values == "count" else object)
    frame.columns.name = key_column
    return frame


def _shorten(text: str, limit: int = EXAMPLE_MAX) -> str:
    """Cut a long excerpt at a word boundary and mark the cut with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 2]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:.") + " \u2026"


def _examples(rows: pd.DataFrame, labels: Mapping[str, str] | None = None) -> str:
    """One or two short excerpts, preferably from two different studies."""
    candidates = sorted(
        range(len(rows)),
        key=lambda i: (len(rows["excerpt"].iloc[i]), i),
    )
    chosen = candidates[:1]
    rest = candidates[1:]
    if chosen and rest:
        study = rows["study_id"].iloc[chosen[0]]
        other = [i for i in rest if rows["study_id"].iloc[i] != study]
        chosen.append((other or rest)[0])
    return EXCERPT_SEP.join(
        f"{_shorten(rows['excerpt'].iloc[i])} "
        f"({_cite(rows['study_id'].iloc[i], rows['source'].iloc[i], labels)})"
        for i in chosen[:N_EXAMPLES]
    )


def barrier_facilitator_table(
    findings: pd.DataFrame, kind: str, labels: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """Themes coded as barriers (or facilitators), one row per theme.

    Parameters
    ----------
    findings : pandas.DataFrame
        Coded excerpts (:func:`~evsynth.qualitative.model.read_findings`).
    kind : {"barrier", "facilitator", "view"}
        Which excerpts to tabulate.
    labels : mapping of str to str, optional
        Each study's label for readers (author and year, see
        :mod:`evsynth.labels`); a study without one is shown by its id.

    Returns
    -------
    pandas.DataFrame
        Columns ``theme``, ``subthemes`` (by number of studies, then name,
        joined by ``"; "``), ``n_studies``, ``studies`` (their labels, in
        natural order, joined by ``"; "``), ``perspectives`` (each with the
        number of studies reporting it), ``example_excerpts`` (one or two
        short excerpts, preferably from different studies, each with its
        study's label and source) and ``study_ids`` (the ids of ``studies``,
        in the same order). Rows are ordered by the number of studies, then
        by theme.

    Raises
    ------
    ValueError
        If ``kind`` is not one of the allowed words.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    rows = findings[findings["kind"] == kind]
    out: list[dict[str, object]] = []
    for theme in theme_order(rows):
        these = rows[rows["theme"] == theme]
        studies = _by_label(list(these["study_id"]), labels)
        sub = _studies_by_theme(
            these[these["subtheme"] != ""].assign(theme=lambda f: f["subtheme"])
        )
        subthemes = sorted(sub, key=lambda s: (-len(sub[s]), natural_key(s)))
        perspectives = [
            f"{label} ({these.loc[these['perspective'] == code, 'study_id'].nunique()})"
            for code, label in PERSPECTIVES.items()
            if (these["perspective"] == code).any()
        ]
        out.append(
            {
                "theme": theme,
                "subthemes": LIST_SEP.join(subthemes),
                "n_studies": len(studies),
                "studies": LIST_SEP.join(label_of(labels, s) for s in studies),
                "perspectives": LIST_SEP.join(perspectives),
                "example_excerpts": _examples(these, labels),
                "study_ids": LIST_SEP.join(studies),
            }
        )
    frame = pd.DataFrame(out, columns=BF_COLUMNS)
    frame["n_studies"] = frame["n_studies"].astype("int64")
    return frame


def _contributing(
    cerqual: pd.DataFrame,
    findings: pd.DataFrame,
    labels: Mapping[str, str] | None = None,
) -> tuple[list[str], list[str]]:
    """Studies contributing to each review finding, from its themes' excerpts.

    Returns their labels and their ids, each cell joined by ``"; "`` in the
    natural order of the labels.
    """
    by_theme = _studies_by_theme(findings)
    shown, ids = [], []
    for text in cerqual["themes"]:
        studies: set[str] = set()
        for theme in split_themes(text):
            studies |= by_theme.get(theme, set())
        ordered = _by_label(studies, labels)
        shown.append(LIST_SEP.join(label_of(labels, s) for s in ordered))
        ids.append(LIST_SEP.join(ordered))
    return shown, ids


def cerqual_soqf(
    cerqual: pd.DataFrame,
    findings: pd.DataFrame,
    labels: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Build the GRADE-CERQual Summary of Qualitative Findings table.

    Parameters
    ----------
    cerqual : pandas.DataFrame
        CERQual assessments (:func:`~evsynth.qualitative.model.read_cerqual`).
    findings : pandas.DataFrame
        Coded excerpts; the studies contributing to a review finding are the
        studies with an excerpt coded to one of its themes.
    labels : mapping of str to str, optional
        Each study's label for readers (see :mod:`evsynth.labels`).

    Returns
    -------
    pandas.DataFrame
        Columns ``#``, ``Summary of review finding``, ``Studies contributing
        to the review finding`` (the studies' labels joined by ``"; "``),
        ``CERQual assessment of confidence`` (e.g. "Moderate confidence"),
        ``Explanation of CERQual assessment`` and ``study_ids`` (the ids of the
        contributing studies, in the same order); one row per review finding.
    """
    shown, ids = _contributing(cerqual, findings, labels)
    frame = pd.DataFrame(
        {
            SOQF_COLUMNS[0]: cerqual["finding_no"].astype("int64").to_list(),
            SOQF_COLUMNS[1]: list(cerqual["review_finding"]),
            SOQF_COLUMNS[2]: shown,
            SOQF_COLUMNS[3]: [CONFIDENCE[c] for c in cerqual["confidence"]],
            SOQF_COLUMNS[4]: list(cerqual["explanation"]),
            "study_ids": ids,
        },
        columns=[*SOQF_COLUMNS, "study_ids"],
    )
    frame["#"] = frame["#"].astype("int64")
    return frame


def cerqual_evidence_profile(
    cerqual: pd.DataFrame,
    findings: pd.DataFrame,
    labels: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Build the GRADE-CERQual Evidence Profile (Lewin et al. 2018, Table 3).

    Parameters
    ----------
    cerqual : pandas.DataFrame
        CERQual assessments (:func:`~evsynth.qualitative.model.read_cerqual`).
    findings : pandas.DataFrame
        Coded excerpts, for the studies contributing to each finding.
    labels : mapping of str to str, optional
        Each study's label for readers (see :mod:`evsynth.labels`).

    Returns
    -------
    pandas.DataFrame
        Columns ``#``, then Lewin's Table 3: ``Summary of review finding``,
        ``Studies contributing to the review finding``, ``Methodological
        limitations``, ``Coherence``, ``Adequacy``, ``Relevance`` (each the
        level of concern, e.g. "Minor concerns", followed by the optional
        ``<component>_note`` of cerqual.csv in brackets), ``CERQual assessment
        of confidence in the evidence``, ``Explanation of CERQual
        assessment`` (studies by their labels) and ``study_ids`` (the ids of
        the contributing studies, in the same order).
    """
    shown, ids = _contributing(cerqual, findings, labels)
    data: dict[str, list[object]] = {
        "#": cerqual["finding_no"].astype("int64").to_list(),
        "Summary of review finding": list(cerqual["review_finding"]),
        "Studies contributing to the review finding": shown,
    }
    for column, heading in COMPONENTS.items():
        notes = (
            cerqual[f"{column}_note"]
            if f"{column}_note" in cerqual.columns
            else pd.Series([""] * len(cerqual), index=cerqual.index)
        )
        data[heading] = [
            CONCERNS[level] + (f" ({note})" if note else "")
            for level, note in zip(
                cerqual[column], notes.fillna("").astype(str), strict=True
            )
        ]
    data["CERQual assessment of confidence in the evidence"] = [
        CONFIDENCE[c] for c in cerqual["confidence"]
    ]
    data["Explanation of CERQual assessment"] = list(cerqual["explanation"])
    data["study_ids"] = ids
    frame = pd.DataFrame(data, columns=[*EVIDENCE_PROFILE_COLUMNS, "study_ids"])
    frame["#"] = frame["#"].astype("int64")
    return frame


def casp_heading(item: int) -> str:
    """Column heading of a CASP item: its number and question.

    Parameters
    ----------
    item : int
        1 to 10.

    Returns
    -------
    str
        E.g. ``"1. Was there a clear statement of the aims of the research?"``.
    """
    return f"{item}. {CASP_ITEMS[item]}"


def casp_table(
    appraisal: pd.DataFrame, labels: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """CASP Qualitative Studies Checklist answers: studies x items.

    Parameters
    ----------
    appraisal : pandas.DataFrame
        Long-form appraisal (:func:`~evsynth.qualitative.model.read_appraisal`).
    labels : mapping of str to str, optional
        Each study's label for readers (see :mod:`evsynth.labels`).

    Returns
    -------
    pandas.DataFrame
        Columns ``study_id``, ``study`` (its label), one per item headed with
        its number and question (cells "Yes", "Can't tell" or "No"; item 10
        holds its free-text note, after the answer if one was given), and
        ``appraiser`` (the appraisers of the study joined by ``"; "``).
        Studies are in natural order of their labels; an item not appraised
        is ``""``.
    """
    cells: dict[str, dict[int, str]] = defaultdict(dict)
    appraisers: dict[str, list[str]] = defaultdict(list)
    for record in appraisal.to_dict(orient="records"):
        study, item = record["study_id"], int(record["item"])
        answer = CASP_ANSWERS.get(record.get("answer") or "", "")
        note = record.get("note") or ""
        if item == CASP_FREE_TEXT_ITEM and note:
            text = f"{answer}: {note}" if answer else note
        else:
            text = answer
        cells[study][item] = text
        who = record.get("appraiser") or ""
        if who and who not in appraisers[study]:
            appraisers[study].append(who)
    columns = [
        "study_id",
        "study",
        *(casp_heading(i) for i in CASP_ITEMS),
        "appraiser",
    ]
    rows = [
        [
            study,
            label_of(labels, study),
            *(cells[study].get(i, "") for i in CASP_ITEMS),
            LIST_SEP.join(appraisers[study]),
        ]
        for study in _by_label(list(cells), labels)
    ]
    return pd.DataFrame(rows, columns=columns, dtype=object)
