"""How the report writes values: numbers, p values, intervals, counts, tables.

The small helpers every part of the report shares: numbers with fixed decimals
(:func:`_f`), p values (:func:`_p`), percentages, variances such as τ², counts
in words or digits, lists joined with "and", CSV cells rounded for display,
effect measures and the scale they are read on (:class:`Scale`,
:func:`scale_of`), settings flattened to text, and the table dicts
(``headers``, ``rows``, ``numeric``, ``caption``, ``small``) that the page's
template renders (:func:`_table`, :func:`_frame_table`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

__all__ = [
    "MEASURES",
    "Scale",
    "lower_better_labels",
    "lower_better_note",
    "scale_of",
    "scale_of_report",
]

_NUMBER_WORDS = (
    "no",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
)


def _num(value: object) -> float | None:
    """Read a finite float; None for anything missing or not a number."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _f(value: object, digits: int = 2) -> str:
    number = _num(value)
    if number is None:
        return "n/a"
    text = f"{number:.{digits}f}"
    return "0." + "0" * digits if text == "-0." + "0" * digits else text


def _p(value: object) -> str:
    """Write a p value as 'p = 0.42', 'p = 0.047' or 'p < 0.001'."""
    p = _num(value)
    if p is None:
        return "p n/a"
    if p < 0.001:
        return "p < 0.001"
    return f"p = {p:.3f}" if p < 0.1 else f"p = {p:.2f}"


def _pct(value: object) -> str:
    number = _num(value)
    return "n/a" if number is None else f"{number:.0f}%"


def _small(value: object) -> str:
    """Write a variance such as τ² with three decimals, '< 0.001' when tiny."""
    number = _num(value)
    if number is None:
        return "n/a"
    if number == 0:
        return "0"
    if abs(number) < 0.0005:
        return "< 0.001"
    return f"{number:.3f}"


def _tau2(value: object) -> str:
    """'τ² = 0.004', or 'τ² < 0.001' when tiny."""
    text = _small(value)
    return f"τ² {text}" if text.startswith("<") else f"τ² = {text}"


def _count(n: int, one: str, many: str) -> str:
    """'three studies', '13 studies', 'one study'."""
    word = _NUMBER_WORDS[n] if 0 <= n < len(_NUMBER_WORDS) else f"{n:,}"
    return f"{word} {one if n == 1 else many}"


def _n(n: int, one: str, many: str) -> str:
    """'3 studies', '1 study' (digits, for tables and lists)."""
    return f"{n:,} {one if n == 1 else many}"


def _join(items: Sequence[str], last: str = "and") -> str:
    items = [str(i) for i in items if str(i)]
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {last} {items[-1]}"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _humanise(value: str) -> str:
    return value.replace("_", " ")


def _display(value: object) -> str:
    """Show a CSV cell, long decimals rounded to three places."""
    text = "" if value is None else str(value)
    if re.fullmatch(r"-?\d+\.\d{4,}(e-?\d+)?", text):
        return f"{float(text):.3f}"
    return text


@dataclass(frozen=True)
class Scale:
    """How to show an effect measure.

    Parameters
    ----------
    symbol : str
        Short name in sentences ("g").
    name : str
        Full name ("Hedges' g").
    ratio : bool
        Stored on the log scale and shown exponentiated (OR, RR).
    lower_better : bool
        Values below no effect favour the intervention: a binary analysis of
        an event that is better when lower, pooled as measured (its report's
        ``favourable`` is ``lower``; :func:`scale_of_report`).
    """

    symbol: str
    name: str
    ratio: bool = False
    lower_better: bool = False

    def show(self, value: object, digits: int = 2) -> str:
        """Write the value on the scale it is read on."""
        number = _num(value)
        if number is None:
            return "n/a"
        return _f(math.exp(number) if self.ratio else number, digits)

    @property
    def null(self) -> str:
        """Where 'no effect' lies, in words."""
        return "1" if self.ratio else "zero"

    def favours(self, side: str) -> str:
        """Return whom values on a side of no effect (``above``, ``below``) favour."""
        above = "comparison" if self.lower_better else "intervention"
        below = "intervention" if self.lower_better else "comparison"
        return above if side == "above" else below

    @property
    def favouring(self) -> str:
        """Which values favour the intervention, in words."""
        if self.ratio:
            side = "below" if self.lower_better else "above"
            return f"values {side} 1 favour the intervention"
        sign = "negative" if self.lower_better else "positive"
        return f"{sign} values favour the intervention"


MEASURES: dict[str, Scale] = {
    "SMD": Scale("g", "Hedges' g (standardised mean difference)"),
    "MD": Scale("MD", "mean difference"),
    "OR": Scale("OR", "odds ratio", ratio=True),
    "RR": Scale("RR", "risk ratio", ratio=True),
    "RD": Scale("RD", "risk difference"),
}


def scale_of(measure: str) -> Scale:
    """Return the :class:`Scale` of a measure code (SMD, MD, OR, RR, RD, ...)."""
    return MEASURES.get(measure, Scale(measure or "effect", measure or "effect"))


def scale_of_report(report: Mapping[str, Any]) -> Scale:
    """Return the :class:`Scale` of an analysis report (``measure``, ``favourable``).

    A binary analysis of an event that is better when lower was pooled as
    measured (``favourable`` ``lower``): values below no effect favour the
    intervention.
    """
    scale = scale_of(str(report.get("measure", "")))
    if report.get("favourable") == "lower":
        return replace(scale, lower_better=True)
    return scale


def lower_better_labels(analyses: Iterable[Any]) -> list[str]:
    """Return the labels of the pooled analyses whose values favour the intervention below no effect.

    Parameters
    ----------
    analyses : iterable
        Objects with ``label`` and ``report``
        (:class:`evsynth.report.loading.Analysis`).
    """
    return [
        str(a.label)
        for a in analyses
        if (a.report or {}).get("pooled") and scale_of_report(a.report).lower_better
    ]


def lower_better_note(analyses: Iterable[Any]) -> str:
    """Name the pooled analyses whose values favour the intervention below no effect.

    Parameters
    ----------
    analyses : iterable
        Objects with ``label`` and ``report``
        (:class:`evsynth.report.loading.Analysis`).

    Returns
    -------
    str
        "; for Offending, an event that is better when lower, values below no
        effect favour it", to add to a caption that says values above no effect
        favour the intervention; "" when there is none.
    """
    names = lower_better_labels(analyses)
    if not names:
        return ""
    what = "an event" if len(names) == 1 else "events"
    return (
        f"; for {_join(names)}, {what} that {'is' if len(names) == 1 else 'are'} "
        "better when lower, values below no effect favour it"
    )


def _interval(scale: Scale, low: object, high: object) -> str:
    return f"{scale.show(low)} to {scale.show(high)}"


def _flatten(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    """Nested mappings as sorted ('a.b', 'text') pairs."""
    if isinstance(value, Mapping):
        pairs: list[tuple[str, str]] = []
        for key in sorted(value, key=str):
            name = f"{prefix}.{key}" if prefix else str(key)
            pairs += _flatten(value[key], name)
        return pairs
    return [(prefix, _value_text(value))]


def _value_text(value: Any) -> str:
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={_value_text(value[k])}" for k in sorted(value, key=str))
    if isinstance(value, list | tuple):
        parts = [_value_text(v) for v in value]
        if any(isinstance(v, Mapping) for v in value):
            return "; ".join(parts)
        return "[" + ", ".join(parts) + "]"
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _display(repr(value))
    return str(value)


def _table(
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    caption: str = "",
    numeric: Sequence[bool] | None = None,
    small: bool = False,
) -> dict[str, Any]:
    return {
        "headers": [str(h) for h in headers],
        "rows": [list(r) for r in rows],
        "numeric": list(numeric) if numeric else [False] * len(headers),
        "caption": caption,
        "small": small,
    }


def _frame_table(
    frame: pd.DataFrame,
    *,
    caption: str = "",
    headings: Mapping[str, str] | None = None,
    split: Mapping[str, str] | None = None,
    small: bool = False,
) -> dict[str, Any]:
    """Show a CSV table; ``split`` breaks a column's cells into lines."""
    headings = dict(headings or {})
    split = dict(split or {})
    rows = []
    for record in frame.to_dict("records"):
        row: list[Any] = []
        for column in frame.columns:
            text = _display(record[column])
            if column in split and split[column] in text:
                row.append([part.strip() for part in text.split(split[column])])
            else:
                row.append(text)
        rows.append(row)
    numeric = [
        bool(len(frame))
        and all(_num(v) is not None or v == "" for v in frame[c])
        and any(v != "" for v in frame[c])
        for c in frame.columns
    ]
    return _table(
        [headings.get(str(c), str(c)) for c in frame.columns],
        rows,
        caption=caption,
        numeric=numeric,
        small=small,
    )
