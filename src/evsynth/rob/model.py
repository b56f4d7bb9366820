"""Risk-of-bias tools, the judgements table and its checks.

Two tools are supported:

* RoB 2, the Cochrane tool for randomised trials (Sterne et al. 2019, BMJ
  366:l4898): five domains judged ``low``, ``some_concerns`` or ``high``;
* ROBINS-I, for non-randomised studies of interventions (Sterne et al. 2016,
  BMJ 355:i4919): seven domains judged ``low``, ``moderate``, ``serious``,
  ``critical`` or ``no_information``.

``extraction/risk_of_bias.csv`` holds one row per study, tool and outcome. It is
checked against ``risk_of_bias.schema.yaml`` and then against the tools' rules
(levels, domains, overall judgement no better than the worst domain, no
duplicates, known studies); every problem is an :class:`InputError` naming the
file, the row and the column.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from evsynth.errors import InputError
from evsynth.validation import read_table

__all__ = [
    "DEFAULT_OUTCOME",
    "DOMAIN_COLUMNS",
    "HARMONISED",
    "TOOLS",
    "ToolSpec",
    "overall_by_study",
    "overall_table",
    "read_rob",
    "rob_table",
    "summary_proportions",
]

#: Outcome of a row that leaves the ``outcome`` cell empty.
DEFAULT_OUTCOME = "all outcomes"
#: Domain columns of the input table.
DOMAIN_COLUMNS = ("d1", "d2", "d3", "d4", "d5", "d6", "d7")
#: Columns of the table :func:`read_rob` returns, before any extra columns.
COLUMNS = (
    "study_id",
    "tool",
    "outcome",
    *DOMAIN_COLUMNS,
    "overall",
    "assessor",
    "note",
)
#: Harmonised overall judgements, from best to worst. ``unclear`` (ROBINS-I "no
#: information") ranks above ``low``: nothing says the study is at serious risk,
#: but it cannot be called low either.
HARMONISED = ("low", "unclear", "moderate", "high")

#: robvis colours.
_GREEN = "#02C100"
_YELLOW = "#E2DF07"
_RED = "#BF0000"
_DARK_RED = "#820000"
_BLUE = "#4EA1F7"


@dataclass(frozen=True)
class ToolSpec:
    """One risk-of-bias tool.

    Parameters
    ----------
    key : str
        Code used in the ``tool`` column (``rob2``, ``robins_i``).
    name : str
        Display name ("RoB 2").
    design : str
        The studies the tool is for ("randomised trials").
    reference : str
        Where the tool is published.
    domains : tuple of (str, str)
        Domain code ("D1") and short name ("Randomisation process"); domain
        ``Dk`` is read from column ``dk``.
    levels : tuple of str
        Judgements in order of severity, best first; a level listed in
        ``unranked`` (ROBINS-I ``no_information``) comes last and has no
        place in that order.
    unranked : tuple of str
        Levels that do not raise the overall judgement.
    labels : dict of str to str
        Display label of each level ("Some concerns").
    colours : dict of str to str
        Colour of each level (robvis: green, yellow, red, dark red, blue).
    symbols : dict of str to str
        Symbol drawn on each level's circle, so that the plots do not depend on
        colour alone.
    harmonised : dict of str to str
        Each level on the common scale low, unclear, moderate, high.
    """

    key: str
    name: str
    design: str
    reference: str
    domains: tuple[tuple[str, str], ...]
    levels: tuple[str, ...]
    unranked: tuple[str, ...]
    labels: dict[str, str]
    colours: dict[str, str]
    symbols: dict[str, str]
    harmonised: dict[str, str]

    @property
    def columns(self) -> tuple[str, ...]:
        """Input columns of the tool's domains (``d1`` ... ``d5`` for RoB 2)."""
        return tuple(code.lower() for code, _ in self.domains)

    def severity(self, level: str) -> int | None:
        """Position of a level in the order of severity, None if it has none."""
        if level in self.unranked:
            return None
        return self.levels.index(level)

    def rank(self, level: str) -> tuple[int, int]:
        """Sort key for the worst of several judgements (harmonised, then own)."""
        return HARMONISED.index(self.harmonised[level]), self.levels.index(level)

    def worst(self, levels: Iterable[str | None]) -> str | None:
        """Return the worst of several judgements (e.g. of one study's outcomes)."""
        present = [level for level in levels if level]
        return max(present, key=self.rank) if present else None


TOOLS: dict[str, ToolSpec] = {
    "rob2": ToolSpec(
        key="rob2",
        name="RoB 2",
        design="randomised trials",
        reference="Sterne et al. 2019, BMJ 366:l4898",
        domains=(
            ("D1", "Randomisation process"),
            ("D2", "Deviations from intended interventions"),
            ("D3", "Missing outcome data"),
            ("D4", "Measurement of the outcome"),
            ("D5", "Selection of the reported result"),
        ),
        levels=("low", "some_concerns", "high"),
        unranked=(),
        labels={"low": "Low", "some_concerns": "Some concerns", "high": "High"},
        colours={"low": _GREEN, "some_concerns": _YELLOW, "high": _RED},
        symbols={"low": "+", "some_concerns": "\u2212", "high": "\u00d7"},
        harmonised={"low": "low", "some_concerns": "moderate", "high": "high"},
    ),
    "robins_i": ToolSpec(
        key="robins_i",
        name="ROBINS-I",
        design="non-randomised studies",
        reference="Sterne et al. 2016, BMJ 355:i4919",
        domains=(
            ("D1", "Confounding"),
            ("D2", "Selection of participants"),
            ("D3", "Classification of interventions"),
            ("D4", "Deviations from intended interventions"),
            ("D5", "Missing data"),
            ("D6", "Measurement of outcomes"),
            ("D7", "Selection of the reported result"),
        ),
        levels=("low", "moderate", "serious", "critical", "no_information"),
        unranked=("no_information",),
        labels={
            "low": "Low",
            "moderate": "Moderate",
            "serious": "Serious",
            "critical": "Critical",
            "no_information": "No information",
        },
        colours={
            "low": _GREEN,
            "moderate": _YELLOW,
            "serious": _RED,
            "critical": _DARK_RED,
            "no_information": _BLUE,
        },
        symbols={
            "low": "+",
            "moderate": "\u2212",
            "serious": "\u00d7",
            "critical": "!",
            "no_information": "?",
        },
        harmonised={
            "low": "low",
            "moderate": "moderate",
            "serious": "high",
            "critical": "high",
            "no_information": "unclear",
        },
    ),
}


def tool_spec(tool: str) -> ToolSpec:
    """Look a tool up by its code.

    Parameters
    ----------
    tool : str
        ``rob2`` or ``robins_i``.

    Returns
    -------
    ToolSpec
        The tool.

    Raises
    ------
    ValueError
        For an unknown code.
    """
    try:
        return TOOLS[tool]
    except (KeyError, TypeError):
        known = ", ".join(TOOLS)
        raise ValueError(f"unknown risk-of-bias tool {tool!r} (use {known})") from None


# --- reading and checking -------------------------------------------------------


def _level_code(text: str) -> str:
    """Canonical spelling of a judgement: "Some concerns" -> ``some_concerns``."""
    return "_".join(text.strip().lower().replace("-", " ").split())


def _outcome(value: object) -> str:
    text = " ".join(str(value).split()) if value is not None else ""
    return text or DEFAULT_OUTCOME


def _levels_text(spec: ToolSpec) -> str:
    return f"one of {', '.join(spec.levels)} (the {spec.name} levels)"


def read_rob(path: str | Path, studies: set[str] | None = None) -> pd.DataFrame:
    """Read and check ``extraction/risk_of_bias.csv``.

    Parameters
    ----------
    path : str or Path
        The CSV file.
    studies : set of str, optional
        Study ids of the included studies (``studies.csv``); when given, every
        row must name one of them.

    Returns
    -------
    pandas.DataFrame
        One row per study, tool and outcome, in the file's order, with the
        columns ``study_id``, ``tool``, ``outcome`` (``"all outcomes"`` when
        empty), ``d1`` ... ``d7``, ``overall``, ``assessor`` and ``note``,
        then any extra columns. Judgements are the tool's level codes
        (``"some concerns"`` is read as ``some_concerns``); domains the tool
        does not have, and empty optional cells, are None.

    Raises
    ------
    InputError
        If the file breaks the schema, a judgement is not one of the tool's
        levels, a domain of the tool is empty or a domain it lacks is filled
        in, the overall judgement is better than the worst domain, a study is
        listed twice for the same tool and outcome, or a study is not in
        ``studies``. The message names the file, the row and the column.
    """
    table = read_table(path, "risk_of_bias")
    rows = []
    seen: dict[tuple[str, str, str], int] = {}
    for index, raw in enumerate(table.to_dict(orient="records")):
        where = {"file": path, "line": index + 2, "row": index + 1}
        row = _check_row(raw, where, studies)
        key = (row["study_id"], row["tool"], row["outcome"].casefold())
        if key in seen:
            raise InputError(
                f"study {row['study_id']!r} is listed twice for "
                f"{TOOLS[row['tool']].name} and outcome {row['outcome']!r} "
                f"(first in row {seen[key]})",
                column="outcome",
                expected="one row per study, tool and outcome",
                **where,
            )
        seen[key] = index + 1
        rows.append(row)
    extra = [c for c in table.columns if c not in COLUMNS]
    frame = pd.DataFrame(rows, columns=[*COLUMNS, *extra], dtype=object)
    return frame.astype(object).where(frame.notna(), None)


def _check_row(
    raw: dict[str, object], where: dict, studies: set[str] | None
) -> dict[str, object]:
    """Check one row against its tool's rules; return it with canonical levels."""
    row = {key: value for key, value in raw.items() if value is not None}
    study = str(row["study_id"])
    if studies is not None and study not in studies:
        raise InputError(
            f"{study!r} is not an included study in studies.csv",
            column="study_id",
            expected="the study_id of an included study",
            **where,
        )
    spec = TOOLS[str(row["tool"])]
    out: dict[str, object] = dict.fromkeys(COLUMNS)
    out.update(row)
    out["outcome"] = _outcome(row.get("outcome"))
    columns = spec.columns
    for column in DOMAIN_COLUMNS:
        value = row.get(column)
        code = column.upper()
        if column not in columns:
            if value is not None:
                raise InputError(
                    f"{spec.name} has no domain {code}, but the cell holds {value!r}",
                    column=column,
                    expected=f"an empty cell ({spec.name} uses d1-{columns[-1]})",
                    **where,
                )
            continue
        name = dict(spec.domains)[code]
        if value is None:
            raise InputError(
                f"empty cell: {spec.name} needs a judgement for {code} ({name})",
                column=column,
                expected=_levels_text(spec),
                **where,
            )
        out[column] = _level(str(value), spec, column, where)
    out["overall"] = _level(str(row["overall"]), spec, "overall", where)
    _check_overall(out, spec, where)
    return out


def _level(value: str, spec: ToolSpec, column: str, where: dict) -> str:
    level = _level_code(value)
    if level in spec.levels:
        return level
    others = [t.name for t in TOOLS.values() if t is not spec and level in t.levels]
    hint = f"; {value!r} is a {others[0]} level, is the tool right?" if others else ""
    raise InputError(
        f"{value!r} is not a {spec.name} judgement{hint}",
        column=column,
        expected=_levels_text(spec),
        **where,
    )


def _check_overall(row: dict[str, object], spec: ToolSpec, where: dict) -> None:
    """Check that the overall judgement is no better than the worst domain."""
    severities = {c: spec.severity(str(row[c])) for c in spec.columns}
    ranked = {c: s for c, s in severities.items() if s is not None}
    if not ranked:
        return
    worst = max(ranked.values())
    at_worst = [c.upper() for c, s in ranked.items() if s == worst]
    overall = str(row["overall"])
    severity = spec.severity(overall)
    if severity is None:  # ROBINS-I "no information": only without serious bias
        acceptable = worst <= spec.levels.index("moderate")
    else:
        acceptable = severity >= worst
    if acceptable:
        return
    worst_level = spec.levels[worst]
    if spec.key == "rob2":
        rule = (
            "RoB 2: overall low only if every domain is low, high if any domain is high"
        )
    else:
        rule = (
            "ROBINS-I: overall at least as severe as the most severe domain; "
            "no_information domains do not raise it"
        )
    raise InputError(
        f"overall judgement {overall!r} is better than the worst domain "
        f"({' and '.join(at_worst)} {'is' if len(at_worst) == 1 else 'are'} "
        f"{worst_level!r})",
        column="overall",
        expected=f"{worst_level!r} or worse ({rule})",
        **where,
    )


# --- tables ---------------------------------------------------------------------


def _rows(frame: pd.DataFrame, tool: str) -> pd.DataFrame:
    return frame[frame["tool"] == tool] if len(frame) else frame


def domain_title(code: str, name: str) -> str:
    """Column title of a domain: ``"D1 Randomisation process"``."""
    return f"{code} {name}"


def rob_table(
    frame: pd.DataFrame, tool: str, labels: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """Tabulate the judgements of one tool for the review's report.

    Parameters
    ----------
    frame : pandas.DataFrame
        As returned by :func:`read_rob`.
    tool : str
        ``rob2`` or ``robins_i``.
    labels : mapping of str to str, optional
        Each study's label for readers (author and year, see
        :mod:`evsynth.labels`); a study without one is shown by its id.

    Returns
    -------
    pandas.DataFrame
        One row per study and outcome, in the input's order, with the columns
        ``Study`` (the study's label), ``Outcome``, one per domain titled like
        ``"D1 Randomisation process"``, ``Overall``, ``Assessor``, ``Note``
        and ``study_id``. Judgements are display labels ("Some concerns"). A
        tool without rows gives an empty table with these columns.
    """
    from evsynth.labels import label_of

    spec = tool_spec(tool)
    domains = [domain_title(code, name) for code, name in spec.domains]
    columns = ["Study", "Outcome", *domains, "Overall", "Assessor", "Note"]
    columns.append("study_id")
    records = []
    for row in _rows(frame, tool).to_dict(orient="records"):
        records.append(
            [
                label_of(labels, row["study_id"]),
                row["outcome"],
                *(_label(spec, row[c]) for c in spec.columns),
                _label(spec, row["overall"]),
                row.get("assessor"),
                row.get("note"),
                row["study_id"],
            ]
        )
    return pd.DataFrame(records, columns=columns, dtype=object)


def _label(spec: ToolSpec, level: object) -> str | None:
    return spec.labels[str(level)] if level is not None else None


def overall_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Give the overall judgement of each study under each tool.

    A study judged for several outcomes gets its worst overall judgement.

    Parameters
    ----------
    frame : pandas.DataFrame
        As returned by :func:`read_rob`.

    Returns
    -------
    pandas.DataFrame
        Columns ``study_id``, ``tool``, ``overall`` (the tool's level code) and
        ``harmonised`` (low, unclear, moderate or high), one row per study and
        tool in the order they first appear.
    """
    worst: dict[tuple[str, str], str] = {}
    for row in frame.to_dict(orient="records"):
        key = (str(row["study_id"]), str(row["tool"]))
        spec = TOOLS[key[1]]
        worst[key] = spec.worst([worst.get(key), str(row["overall"])]) or ""
    records = [
        (study, tool, level, TOOLS[tool].harmonised[level])
        for (study, tool), level in worst.items()
    ]
    return pd.DataFrame(
        records, columns=["study_id", "tool", "overall", "harmonised"], dtype=object
    )


def overall_by_study(frame: pd.DataFrame) -> dict[str, str]:
    """Give the worst overall judgement of each study, on one scale for both tools.

    RoB 2 "some concerns" becomes ``moderate``; ROBINS-I "serious" and
    "critical" become ``high`` and "no information" becomes ``unclear``. A
    study judged for several outcomes, or with both tools, gets the worst, in
    the order low < unclear < moderate < high.

    Parameters
    ----------
    frame : pandas.DataFrame
        As returned by :func:`read_rob`.

    Returns
    -------
    dict of str to str
        Study id to ``"low"``, ``"unclear"``, ``"moderate"`` or ``"high"``, in
        the order the studies first appear; used by the meta-analysis (the
        forest plot's risk-of-bias column, the sensitivity analysis without
        studies at high risk).
    """
    out: dict[str, str] = {}
    for row in overall_table(frame).to_dict(orient="records"):
        study, level = str(row["study_id"]), str(row["harmonised"])
        previous = out.get(study)
        if previous is None or HARMONISED.index(level) > HARMONISED.index(previous):
            out[study] = level
    return out


def _check_weights(weights: Mapping[str, float]) -> dict[str, float]:
    out: dict[str, float] = {}
    for study, weight in weights.items():
        try:
            value = float(weight)
        except (TypeError, ValueError):
            raise ValueError(
                f"weight of study {study!r} must be a number, got {weight!r}"
            ) from None
        if not math.isfinite(value) or value < 0:
            raise ValueError(
                f"weight of study {study!r} must be finite and >= 0, got {weight!r}"
            )
        out[str(study)] = value
    return out


def summary_proportions(
    frame: pd.DataFrame, tool: str, weights: Mapping[str, float] | None = None
) -> pd.DataFrame:
    """Proportion of studies at each level, per domain and overall.

    Each study counts once: a study judged for several outcomes contributes
    its worst judgement in each domain (as :meth:`ToolSpec.worst`).

    Parameters
    ----------
    frame : pandas.DataFrame
        As returned by :func:`read_rob`.
    tool : str
        ``rob2`` or ``robins_i``.
    weights : mapping of str to float, optional
        Weight of each study (e.g. its meta-analysis weight); studies without
        one count with weight 0. By default every study counts equally.

    Returns
    -------
    pandas.DataFrame
        Index: the domain codes and ``"Overall"``; columns: the tool's levels;
        each row sums to 1 (all NaN when the studies' weights sum to 0).
        ``frame.attrs`` holds ``studies`` (studies assessed) and ``weighted``
        (studies with a positive weight).
    """
    spec = tool_spec(tool)
    checked = _check_weights(weights) if weights is not None else None
    rows = _rows(frame, tool)
    columns = [*spec.columns, "overall"]
    per_study: dict[str, dict[str, str | None]] = {}
    for row in rows.to_dict(orient="records"):
        study = per_study.setdefault(str(row["study_id"]), {})
        for column in columns:
            study[column] = spec.worst([study.get(column), row[column]])
    index = [code for code, _ in spec.domains] + ["Overall"]
    totals = pd.DataFrame(0.0, index=index, columns=list(spec.levels))
    total = 0.0
    for study, levels in per_study.items():
        weight = 1.0 if checked is None else checked.get(study, 0.0)
        total += weight
        for name, column in zip(index, columns, strict=True):
            level = levels[column]
            if level is not None:
                totals.loc[name, level] += weight
    out = totals / total if total > 0 else totals * math.nan
    out.attrs["studies"] = len(per_study)
    out.attrs["weighted"] = (
        len(per_study)
        if checked is None
        else sum(checked.get(s, 0.0) > 0 for s in per_study)
    )
    return out
