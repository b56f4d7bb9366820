"""The summary of findings in the report: the certainty of each pooled outcome.

Reads what the GRADE stage wrote (``results/grade/certainty.json``, see
:mod:`evsynth.grade.api`) and shapes it for the report:

- :func:`sof_table`: one summary-of-findings table in GRADEpro's layout (outcome,
  participants (studies), relative and absolute effects, certainty as ⊕⊕⊕◯ with
  its word and footnote letters, the plain-language statement), its footnotes
  and the GRADE definitions, for the top of the meta-analyses section;
- :func:`certainty_boxes`: per analysis, the same row beside its forest plot,
  with the footnotes and every judgement of the review team next to the
  proposal it confirms or overrides;
- :func:`sof_frame`, :func:`sof_note`: the table for ``tables.xlsx`` and
  ``tables.docx``;
- :func:`summary_of_findings`, :func:`unrated_note`: without GRADE results, the
  pooled effects of every analysis with certainty left blank, for
  ``tables.docx`` (:func:`docx_table` picks one of the two);
- :func:`methods_text`: the methods paragraph on how certainty was rated.

The report shows only analyses that the meta stage pooled in the same results
folder, so stale GRADE files of a review without meta-analyses show nothing.
Nothing here rates anything: the ratings, letters and statements are those of
the GRADE stage.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from evsynth.errors import InputError
from evsynth.report.formatting import (
    _f,
    _interval,
    _n,
    _pct,
    lower_better_note,
    scale_of_report,
)

if TYPE_CHECKING:
    from evsynth.report.loading import Review

__all__ = [
    "CERTAINTY_FILE",
    "DEFINITIONS",
    "HEADINGS",
    "REFERENCES",
    "UNRATED_COLUMNS",
    "Grade",
    "certainty_boxes",
    "docx_table",
    "merge_references",
    "methods_text",
    "read_grade",
    "sof_frame",
    "sof_note",
    "sof_table",
    "summary_of_findings",
    "unrated_note",
]

#: What the GRADE stage writes, relative to ``results/``.
CERTAINTY_FILE = "grade/certainty.json"
#: The GRADE stage's own files, named in the report and its tables.
SOF_FILES = (
    "results/grade/summary_of_findings.csv",
    "results/grade/summary_of_findings.xlsx",
    "results/grade/summary_of_findings.docx",
)
#: Column headings, in GRADEpro's order (keys: the SoF row's fields).
HEADINGS: tuple[tuple[str, str], ...] = (
    ("outcome", "Outcome"),
    ("participants_studies", "№ of participants (studies)"),
    ("relative_effect", "Relative effect (95% CI)"),
    ("absolute_effect", "Anticipated absolute effect (95% CI)"),
    ("certainty", "Certainty of the evidence (GRADE)"),
    ("statement", "What happens"),
)
#: The GRADE Working Group's definitions of the four levels.
DEFINITIONS: tuple[tuple[str, str], ...] = (
    (
        "High certainty",
        (
            "we are very confident that the true effect lies close to that of the "
            "estimate of the effect."
        ),
    ),
    (
        "Moderate certainty",
        (
            "we are moderately confident in the effect estimate: the true effect is "
            "likely to be close to the estimate of the effect, but there is a "
            "possibility that it is substantially different."
        ),
    ),
    (
        "Low certainty",
        (
            "our confidence in the effect estimate is limited: the true effect may "
            "be substantially different from the estimate of the effect."
        ),
    ),
    (
        "Very low certainty",
        (
            "we have very little confidence in the effect estimate: the true effect "
            "is likely to be substantially different from the estimate of effect."
        ),
    ),
)
#: What "provisional" means under the table.
PROVISIONAL = (
    "Provisional: a domain only the review team can judge (indirectness; large "
    "effect and dose-response for evidence that starts low) has no judgement in "
    "grade.csv yet; the rating may still change."
)
#: References the methods paragraph cites (key, full reference).
REFERENCES: tuple[tuple[str, str], ...] = (
    (
        "Guyatt et al. 2011",
        (
            "Guyatt G, Oxman AD, Akl EA, et al. GRADE guidelines: 1. Introduction - "
            "GRADE evidence profiles and summary of findings tables. Journal of "
            "Clinical Epidemiology. 2011;64(4):383-394. "
            "doi:10.1016/j.jclinepi.2010.04.026"
        ),
    ),
    (
        "Santesso et al. 2020",
        (
            "Santesso N, Glenton C, Dahm P, et al. GRADE guidelines 26: informative "
            "statements to communicate the findings of systematic reviews of "
            "interventions. Journal of Clinical Epidemiology. 2020;119:126-135. "
            "doi:10.1016/j.jclinepi.2019.10.014"
        ),
    ),
    (
        "Schünemann et al. 2019",
        (
            "Schünemann HJ, Cuello C, Akl EA, et al. GRADE guidelines: 18. How "
            "ROBINS-I and other tools to assess risk of bias in nonrandomized "
            "studies should be used to rate the certainty of a body of evidence. "
            "Journal of Clinical Epidemiology. 2019;111:105-114. "
            "doi:10.1016/j.jclinepi.2018.01.012"
        ),
    ),
)

_DOMAIN_NAMES = {
    "start": "Starting level",
    "risk_of_bias": "Risk of bias",
    "inconsistency": "Inconsistency",
    "indirectness": "Indirectness",
    "imprecision": "Imprecision",
    "publication_bias": "Publication bias",
    "large_effect": "Large effect",
    "dose_response": "Dose-response",
}
#: Proposals that leave the domain to the team (nothing proposed from the data).
_NOT_PROPOSED = ("not_judged",)


@dataclass
class Grade:
    """The GRADE stage's results for the analyses the report shows.

    Parameters
    ----------
    analyses : list of dict
        ``certainty.json``'s ``analyses`` entries, in its order, of analyses the
        meta stage pooled.
    settings : dict
        ``certainty.json``'s ``settings``.
    source : Path
        The file read.
    """

    analyses: list[dict[str, Any]] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    source: Path = Path(CERTAINTY_FILE)


def _words(value: object) -> str:
    return str(value or "").replace("_", " ")


def _invalid(path: Path, problem: str) -> InputError:
    return InputError(
        problem,
        file=path,
        expected="results/grade/certainty.json as the GRADE stage writes it",
    )


def read_grade(results: str | Path, pooled: Iterable[str]) -> Grade | None:
    """Read ``results/grade/certainty.json`` for the analyses the report shows.

    Parameters
    ----------
    results : str or Path
        The workflow's ``results/`` folder.
    pooled : iterable of str
        Names of the analyses the meta stage pooled (in this results folder).

    Returns
    -------
    Grade or None
        None when the file is missing or none of its analyses was pooled (a
        review without meta-analyses): the report then says nothing of GRADE.

    Raises
    ------
    InputError
        If the file is not JSON in the GRADE stage's shape, or a row's footnote
        letters do not match its footnotes.
    """
    path = Path(results) / CERTAINTY_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _invalid(path, f"not readable as JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("analyses"), list):
        raise _invalid(path, "no 'analyses' list")
    names = set(pooled)
    shown = []
    for index, entry in enumerate(data["analyses"]):
        if not isinstance(entry, dict) or not isinstance(
            entry.get("summary_of_findings"), dict
        ):
            raise _invalid(path, f"analyses[{index}] has no 'summary_of_findings'")
        if str(entry.get("analysis")) in names:
            _check_letters(path, entry)
            shown.append(entry)
    if not shown:
        return None
    settings = data.get("settings")
    return Grade(shown, dict(settings) if isinstance(settings, dict) else {}, path)


def _footnotes(entry: Mapping[str, Any]) -> list[str]:
    """Return the row's footnote texts, in domain order (as the GRADE stage lists them)."""
    return [
        str(d["footnote"])
        for d in entry.get("domains") or []
        if isinstance(d, Mapping) and d.get("footnote")
    ]


def _notes(entry: Mapping[str, Any]) -> list[str]:
    """Return the row's notes on its effects (binary outcomes; may be empty)."""
    notes = entry.get("notes")
    if not isinstance(notes, list):
        return []
    return [str(n) for n in notes if n]


def _letters(entry: Mapping[str, Any]) -> list[str]:
    """Return the footnote letters of the row's certainty cell ("⊕⊕⊕◯ Moderate a,b,c")."""
    row = entry["summary_of_findings"]
    cell = str(row.get("certainty") or "")
    head = f"{entry.get('symbols', '')} {_words(entry.get('certainty')).capitalize()}"
    rest = cell.removeprefix(head).removesuffix(" (provisional)").strip()
    return [letter for letter in rest.split(",") if letter]


def _check_letters(path: Path, entry: Mapping[str, Any]) -> None:
    letters, notes = _letters(entry), _footnotes(entry)
    joined = " ".join(f"{k}. {t}" for k, t in zip(letters, notes, strict=False))
    if len(letters) != len(notes) or joined != str(
        entry["summary_of_findings"].get("footnotes") or ""
    ):
        raise _invalid(
            path,
            f"the footnote letters of {entry.get('analysis')!r} "
            f"({','.join(letters) or 'none'}) do not match its {len(notes)} "
            "footnotes",
        )


def _certainty_cell(entry: Mapping[str, Any]) -> dict[str, Any]:
    """Return the certainty cell's parts: symbols (each as a mark), word, letters."""
    symbols = str(entry.get("symbols", ""))
    level = entry.get("level")
    filled = level if isinstance(level, int) else len(symbols.rstrip("\u25ef"))
    return {
        "symbols": symbols,
        "marks": [{"char": ch, "filled": i < filled} for i, ch in enumerate(symbols)],
        "word": _words(entry.get("certainty")).capitalize(),
        "level": _words(entry.get("certainty")),
        "letters": _letters(entry),
        "provisional": bool(entry.get("provisional")),
        "text": str(entry["summary_of_findings"].get("certainty", "")),
    }


def sof_table(grade: Grade | None) -> dict[str, Any] | None:
    """Return the summary-of-findings table for the report page (None without one).

    Returns
    -------
    dict or None
        ``headers``; ``rows`` (per analysis ``anchor``, ``outcome``,
        ``participants_studies``, ``relative_effect``, ``absolute_effect``,
        ``certainty`` (see :func:`certainty_boxes`), ``statement``);
        ``footnotes`` (letter, text); ``notes`` (on the effects of binary
        outcomes: where an absolute effect's comparator risk comes from, a
        ratio turned back to the event as measured); ``definitions``;
        ``provisional`` (the note, when a row is provisional, else "");
        ``files``.
    """
    if grade is None:
        return None
    rows, footnotes, notes = [], [], []
    for entry in grade.analyses:
        notes += _notes(entry)
        row = entry["summary_of_findings"]
        cell = _certainty_cell(entry)
        rows.append(
            {
                "analysis": str(entry.get("analysis")),
                "anchor": f"meta-{entry.get('analysis')}",
                "outcome": str(row.get("outcome") or entry.get("label") or ""),
                "participants_studies": str(row.get("participants_studies") or ""),
                "relative_effect": str(row.get("relative_effect") or ""),
                "absolute_effect": str(row.get("absolute_effect") or ""),
                "certainty": cell,
                "statement": str(row.get("statement") or ""),
            }
        )
        footnotes += list(zip(cell["letters"], _footnotes(entry), strict=True))
    return {
        "headers": [heading for _, heading in HEADINGS],
        "rows": rows,
        "footnotes": [{"letter": k, "text": t} for k, t in footnotes],
        "notes": notes,
        "definitions": [{"term": t, "text": d} for t, d in DEFINITIONS],
        "provisional": PROVISIONAL
        if any(r["certainty"]["provisional"] for r in rows)
        else "",
        "files": list(SOF_FILES),
        "intervention": str(grade.settings.get("intervention") or ""),
    }


def _judgement_line(domain: Mapping[str, Any]) -> dict[str, str]:
    """One judgement of the team beside the proposal it confirms or overrides."""
    proposal = str(domain.get("proposal") or "")
    who = ", ".join(str(v) for v in (domain.get("reviewer"), domain.get("date")) if v)
    if proposal in _NOT_PROPOSED:
        proposed = "not judged (only the review team can judge this domain)"
    else:
        proposed = _words(proposal)
    overridden = bool(domain.get("overridden")) and proposal not in _NOT_PROPOSED
    return {
        "domain": _DOMAIN_NAMES.get(
            str(domain.get("domain")), _words(domain.get("domain"))
        ),
        "proposed": proposed,
        "judgement": _words(domain.get("judgement")),
        "reason": str(domain.get("reason") or ""),
        "who": who,
        "kind": "override"
        if overridden
        else ("judged" if proposal in _NOT_PROPOSED else "confirmed"),
    }


def certainty_boxes(grade: Grade | None) -> dict[str, dict[str, Any]]:
    """Return, per analysis name, what the report shows beside its forest plot.

    Each value has ``certainty`` (``symbols``, ``word``, ``level``, ``letters``,
    ``provisional``, ``text``: the SoF cell), ``statement``, ``footnotes``
    (letter, text) and ``judgements``: every domain the team judged, with the
    proposal (``kind`` ``override`` where the team's rating differs from a
    proposal made from the data, ``confirmed`` where it agrees, ``judged`` for a
    domain only the team judges).
    """
    if grade is None:
        return {}
    boxes = {}
    for entry in grade.analyses:
        cell = _certainty_cell(entry)
        judged = [
            _judgement_line(d)
            for d in entry.get("domains") or []
            if isinstance(d, Mapping) and d.get("judgement")
        ]
        boxes[str(entry.get("analysis"))] = {
            "certainty": cell,
            "statement": str(entry["summary_of_findings"].get("statement") or ""),
            "footnotes": [
                {"letter": k, "text": t}
                for k, t in zip(cell["letters"], _footnotes(entry), strict=True)
            ],
            "judgements": judged,
            "overrides": sum(j["kind"] == "override" for j in judged),
        }
    return boxes


def sof_frame(grade: Grade, *, footnotes: bool = True, blank: str = "") -> pd.DataFrame:
    """Return the table for tables.xlsx and tables.docx (GRADEpro headings).

    Parameters
    ----------
    grade : Grade
        From :func:`read_grade`.
    footnotes : bool
        Add a ``Footnotes`` column (each row's footnotes); tables.docx lists
        them under the table instead.
    blank : str
        What an empty cell shows (a relative effect of a difference measure).
    """
    rows = []
    for entry in grade.analyses:
        row = entry["summary_of_findings"]
        cells = [str(row.get(key) or "") or blank for key, _ in HEADINGS]
        if footnotes:
            cells.append(str(row.get("footnotes") or ""))
        rows.append(cells)
    columns = [h for _, h in HEADINGS] + (["Footnotes"] if footnotes else [])
    return pd.DataFrame(rows, columns=columns, dtype=object)


def sof_note(grade: Grade) -> str:
    """Return the note under the table in tables.docx: footnotes, definitions, files."""
    table = sof_table(grade)
    assert table is not None
    lines = [f"{n['letter']}. {n['text']}" for n in table["footnotes"]]
    lines += table["notes"]
    lines.append(
        "GRADE Working Group grades of evidence. "
        + " ".join(f"{d['term']}: {d['text']}" for d in table["definitions"])
    )
    if table["provisional"]:
        lines.append(table["provisional"])
    lines.append(
        "Also in "
        + ", ".join(SOF_FILES)
        + "; every domain's proposal, rule, numbers and the review team's "
        "judgements in results/grade/certainty.csv."
    )
    return "\n".join(lines)


#: Columns of the summary of findings without GRADE results (certainty is left
#: for the review team).
UNRATED_COLUMNS: tuple[str, ...] = (
    "Outcome",
    "Studies (k)",
    "Participants",
    "Effect (95% CI)",
    "I²",
    "Certainty of the evidence (GRADE)",
)


def _participants(report: Mapping[str, Any], effects: pd.DataFrame | None) -> str:
    """Participants of an analysis: per study the largest n_t plus n_c of its rows."""
    if effects is None:
        return ""
    from evsynth.meta.analyses import AnalysisSpec, MetaSettings, select_rows

    model = report.get("model") or {}
    spec = AnalysisSpec(
        name=str(report.get("analysis", "")),
        domains=tuple(report.get("domains") or ()),
        measure=str(report.get("measure", "SMD")),
    )
    try:
        rows, _ = select_rows(
            effects, spec, MetaSettings(timepoint=str(model.get("timepoint", "latest")))
        )
    except (KeyError, ValueError):
        return ""
    if not {"study_id", "n_t", "n_c"} <= set(rows.columns):
        return ""
    studies = [str(s.get("study_id")) for s in report.get("studies", []) or []]
    total, missing = 0, 0
    for study in studies:
        group = rows[rows["study_id"] == study]
        n_t = pd.to_numeric(group["n_t"], errors="coerce").max()
        n_c = pd.to_numeric(group["n_c"], errors="coerce").max()
        if pd.isna(n_t) or pd.isna(n_c):
            missing += 1
            continue
        total += round(n_t + n_c)
    if studies and missing == len(studies):
        return ""
    text = f"{total:,}"
    if missing:
        text += f" ({_n(missing, 'study', 'studies')} without n)"
    return text


def summary_of_findings(review: Review) -> pd.DataFrame:
    """One row per pooled analysis; certainty is left for the review team.

    tables.docx uses it when the review has no GRADE results
    (``results/grade/``); with them, :func:`sof_frame`.

    Parameters
    ----------
    review : Review
        From :func:`load_review`.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`UNRATED_COLUMNS`.
    """
    rows = []
    for analysis in review.analyses:
        report = analysis.report or {}
        pooled = report.get("pooled")
        if not pooled:
            rows.append(
                [analysis.label, str(report.get("k", "")), "", "not pooled", "", ""]
            )
            continue
        scale = scale_of_report(report)
        level = _f((report.get("model") or {}).get("level", 95), 0)
        effect = (
            f"{scale.symbol} = {scale.show(pooled.get('estimate'))} "
            f"({_interval(scale, pooled.get('ci_lb'), pooled.get('ci_ub'))})"
        )
        if level != "95":
            effect += f" [{level}% CI]"
        rows.append(
            [
                analysis.label,
                str(pooled.get("k", "")),
                _participants(report, review.effects),
                effect,
                _pct(pooled.get("I2")),
                "",
            ]
        )
    return pd.DataFrame(rows, columns=list(UNRATED_COLUMNS), dtype=object)


def unrated_note(review: Review) -> str:
    """Return the note under :func:`summary_of_findings` in tables.docx."""
    return (
        "Effects are random-effects estimates with 95% confidence intervals; "
        "values above no effect (0, or 1 for ratios) favour the intervention"
        f"{lower_better_note(review.analyses)}; g: Hedges' g. Participants: for "
        "each study the largest number analysed in any of its outcomes of the "
        "analysis, summed over studies. Certainty of the evidence: to be judged "
        "by the review team (GRADE)."
    )


def docx_table(review: Review) -> tuple[pd.DataFrame, str] | None:
    """Return the summary of findings of tables.docx and the note under it.

    The GRADE stage's table (:func:`sof_frame`, :func:`sof_note`) when the review
    has GRADE results; else the pooled effects with certainty left blank
    (:func:`summary_of_findings`, :func:`unrated_note`); None without pooled
    analyses.
    """
    if review.grade is not None:  # the GRADE stage's table, certainty rated
        return (
            sof_frame(review.grade, footnotes=False, blank="–"),
            sof_note(review.grade),
        )
    table = summary_of_findings(review)
    if not len(table):
        return None
    return table, unrated_note(review)


def methods_text(grade: Grade | None, settings: Mapping[str, Any]) -> str:
    """Return the methods paragraph on how certainty was rated ("" without GRADE).

    Parameters
    ----------
    grade : Grade, optional
        From :func:`read_grade`.
    settings : mapping
        The configuration with its defaults (``grade.file``, ``meta.bias_min_k``).
    """
    if grade is None:
        return ""
    section = settings.get("grade") or {}
    meta = settings.get("meta") or {}
    robins = any(
        (d.get("numbers") or {}).get("non_randomised_robins_i")
        for entry in grade.analyses
        for d in entry.get("domains") or []
        if isinstance(d, Mapping) and d.get("domain") == "start"
    )
    text = (
        "The certainty of the evidence for each pooled outcome was rated with GRADE "
        "(Guyatt et al. 2011). evsynth proposed each domain from the analysis's "
        "data (the starting level from the designs pooled"
        + (
            ", non-randomised studies assessed with ROBINS-I starting high "
            "(Schünemann et al. 2019)"
            if robins
            else ""
        )
        + "; risk of bias from the weight of studies at high risk or with some "
        "concerns; inconsistency from I² and the prediction interval; imprecision "
        "from the confidence interval and the optimal information size; "
        "publication bias from Egger's test when at least "
        f"{meta.get('bias_min_k', 10)} studies were pooled), and the review "
        f"team's judgements in {section.get('file', 'grade.csv')}, each with a "
        "reason, confirmed or replaced these proposals and rated indirectness, "
        "which only the team can judge. "
    )
    if any(_notes(entry) for entry in grade.analyses):
        text += (
            "Risk and odds ratios are shown for the event as measured (for an "
            "event that is better when lower, ratios below 1 favour the "
            "intervention), and their absolute effects apply the relative effect "
            "and its confidence interval to the assumed comparator risk, the "
            "pooled risk of the comparator groups of the studies (Cochrane "
            "Handbook section 14.1.5), per 1,000 people. "
        )
    text += (
        "The summary of findings shows the ratings that count, every override "
        "beside its proposal, and plain-language statements worded after GRADE "
        "guidance 26 (Santesso et al. 2020); a rating is marked provisional while "
        "a domain only the team can judge has no judgement."
    )
    return text


def merge_references(
    base: Sequence[tuple[str, str]], extra: Sequence[tuple[str, str]]
) -> tuple[tuple[str, str], ...]:
    """Insert references into an alphabetical list, keeping the list's own order.

    Each of ``extra`` goes before the first of ``base`` whose key sorts after it
    (case-insensitively); keys already in ``base`` are not repeated.
    """
    out = list(base)
    for key, text in extra:
        if any(k == key for k, _ in out):
            continue
        index = next(
            (i for i, (k, _) in enumerate(out) if k.casefold() > key.casefold()),
            len(out),
        )
        out.insert(index, (key, text))
    return tuple(out)
