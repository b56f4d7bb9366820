"""Forest plots of a meta-analysis, drawn with matplotlib.

The layout follows RevMan and metafor's ``forest()``: study labels, per-arm
sample sizes and optional extra columns on the left; the effect panel with a
square per study (area proportional to its weight), its confidence interval
(an arrowhead where the interval runs beyond the axis), a line at the null
value and a diamond per pooled estimate; the estimates with their confidence
intervals and the weights on the right. Subgroups get a heading, a diamond and
their heterogeneity text; the overall estimate gets its prediction interval
(a bar in a row of its own), the heterogeneity text and the test for subgroup
differences. "Favours" labels sit under the axis.

The plot takes plain numbers (:class:`ForestData`); it computes no statistics.
Every column is sized from its text, measured with the font renderer, and the
figure grows with the rows, so nothing overlaps whatever the labels. The figure
is built on a bare :class:`matplotlib.figure.Figure` with the Agg canvas, never
through pyplot, and the same data always give byte-identical files.
"""

from __future__ import annotations

import contextlib
import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib as mpl
import matplotlib.style
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, Polygon, Rectangle
from matplotlib.transforms import ScaledTranslation, Transform

from evsynth.io import atomic_path
from evsynth.plots import style as _st

__all__ = [
    "ForestData",
    "ForestRow",
    "ForestSummary",
    "draw_forest",
    "forest_figure",
]

# --- appearance ---------------------------------------------------------------
BODY_SIZE = 8.0  # pt: rows, headers, ticks
NOTE_SIZE = 7.5  # pt: heterogeneity and test lines
TITLE_SIZE = 10.0  # pt, bold
INK = "black"
SQUARE_COLOUR = "#4a6fa5"  # study squares; the black whisker stays visible on it
DOT_COLOUR = "#4a6fa5"
DIAMOND_COLOUR = INK
PI_COLOUR = "#7f7f7f"  # prediction-interval bar
NULL_COLOUR = "#595959"
RULE_COLOUR = "#8c8c8c"
#: Risk-of-bias judgements get the colours of Cochrane's traffic lights (dark
#: enough to read as text) when a whole extra column holds such judgements.
ROB_COLOURS = {
    "low": "#1b7837",
    "some": "#b35806",
    "some concerns": "#b35806",
    "unclear": "#b35806",
    "moderate": "#b35806",
    "high": "#b2182b",
    "serious": "#b2182b",
    "critical": "#67001f",
}
CI_LINEWIDTH = 0.8  # pt
NULL_LINEWIDTH = 0.6  # pt
AXIS_LINEWIDTH = 0.6  # pt
RULE_LINEWIDTH = 0.5  # pt
MINUS = "\u2212"
ELLIPSIS = "\u2026"

# --- geometry, in inches unless the name says em (a multiple of the font size) -
MARGIN = 0.12
COL_GAP = 0.16  # between table columns
PANEL_GAP = 0.2  # between the table and the effect panel, each side
PANEL_WIDTH = 2.7
LABEL_MAX = 2.6  # the study-label column never gets wider (labels wrap)
LABEL_LINES = 2  # a label longer than this many lines is ellipsised
HEADING_LINES = 2
EXTRA_MAX = 1.3  # widest extra column
EST_HEADER_MAX = 1.9  # a longer estimate header wraps (at most 3 lines)
FAVOURS_MAX = 2.0  # a longer favours label wraps (at most 2 lines)
LEFT_MIN = 2.4  # the left table is at least this wide (notes wrap in it)
TITLE_GAP = 0.1
HEADER_GAP = 0.05  # header rule to the first row
BLOCK_GAP_EM = 0.6  # space between subgroups and before the overall row
PITCH_EM = 1.5  # row height
AXIS_PAD = 0.05  # last row to the axis line
TICK_LENGTH = 3.0  # pt
TICK_PAD = 2.0  # pt
FAVOURS_GAP = 0.05  # tick labels to the favours labels
FAVOURS_SIDE_GAP = 0.06  # null line to a favours label
XLABEL_GAP = 0.03
SQUARE_MAX_EM = 1.05  # side of the heaviest study's square
SQUARE_MIN = 2.0 / 72  # smallest square side, so that light studies stay visible
SQUARE_PLAIN_EM = 0.6  # side when no study has a weight
DOT_RADIUS = 1.6 / 72  # a study without a weight among weighted ones
DIAMOND_HALF_EM = 0.55  # half the diamond's height
PI_HALF_EM = 0.16  # half the prediction-interval bar's height
ARROW_LENGTH = 4.5 / 72
ARROW_HALF = 2.2 / 72
TICK_LABEL_GAP = 0.08  # least space between two tick labels
MAX_TICK_INTERVALS = 7
# --- data ---------------------------------------------------------------------


@dataclass
class ForestRow:
    """One study (or effect size) of a forest plot.

    Parameters
    ----------
    label : str
        Study label, e.g. "Smith 2019".
    yi, ci_lb, ci_ub : float
        Effect size and confidence interval, on the analysis scale (log odds
        or risk ratios for ratio measures).
    weight : float or None
        Weight in percent; it sets the square's area. ``None`` draws a dot
        (or, when no row has a weight, equal squares and no weight column).
    n_t, n_c : float, optional
        Sample sizes of the intervention and comparison arms.
    group : str, optional
        Subgroup label; rows of one group are drawn together under a heading.
    extra : dict of str to str
        Text for the columns named in :attr:`ForestData.extra_columns`.
    """

    label: str
    yi: float
    ci_lb: float
    ci_ub: float
    weight: float | None
    n_t: float | None = None
    n_c: float | None = None
    group: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


@dataclass
class ForestSummary:
    """A pooled estimate, drawn as a diamond.

    Parameters
    ----------
    label : str
        Row label, e.g. "Random-effects model (REML)".
    estimate, ci_lb, ci_ub : float
        Pooled estimate and confidence interval (analysis scale).
    pi_lb, pi_ub : float, optional
        Prediction interval, drawn as a bar in a row of its own. None (or
        NaN, "not estimable") for none.
    text : str
        Heterogeneity (and other) text printed under the diamond; a newline
        starts a new line.
    """

    label: str
    estimate: float
    ci_lb: float
    ci_ub: float
    pi_lb: float | None = None
    pi_ub: float | None = None
    text: str = ""


@dataclass
class ForestData:
    """Everything a forest plot shows.

    All effect sizes, limits and ticks are on the analysis scale; with
    ``exponentiate=True`` (odds, risk and hazard ratios analysed as logs)
    the axis is drawn on a log scale and labelled, like the numbers, with
    ratios.

    Parameters
    ----------
    rows : list of ForestRow
        The studies, in the order to draw them (subgroups are gathered in the
        order in which they first appear).
    overall : ForestSummary
        The pooled estimate of all studies.
    subgroups : dict of str to ForestSummary
        Pooled estimate per subgroup label.
    subgroup_test : str
        The test for subgroup differences, printed at the bottom.
    measure_label : str
        Name of the effect measure, e.g. "Hedges' g" or "Risk ratio".
    null_value : float
        Where the line of no effect is drawn (0 for ratios analysed as logs).
    exponentiate : bool
        Show ``exp`` of the values (ratio measures).
    left_label, right_label : str
        "Favours" labels under the axis, left and right of the null value.
    extra_columns : list of str
        Names of extra columns (keys of :attr:`ForestRow.extra`), drawn after
        the sample sizes.
    title : str, optional
        Title above the plot.
    xlim : (float, float), optional
        Fixed axis limits; by default they are chosen from the data.
    xticks : sequence of float, optional
        Fixed tick positions; by default nice values within the limits.
    digits : int
        Decimals of the estimates and confidence limits.
    ci_label : str
        Names the interval in the column header.
    n_labels : (str, str)
        Headers of the two sample-size columns.
    study_header : str
        Header of the label column.
    """

    rows: list[ForestRow]
    overall: ForestSummary
    subgroups: dict[str, ForestSummary] = field(default_factory=dict)
    subgroup_test: str = ""
    measure_label: str = "Hedges' g"
    null_value: float = 0.0
    exponentiate: bool = False
    left_label: str = "Favours comparison"
    right_label: str = "Favours intervention"
    extra_columns: list[str] = field(default_factory=list)
    title: str | None = None
    xlim: tuple[float, float] | None = None
    xticks: Sequence[float] | None = None
    digits: int = 2
    ci_label: str = "95% CI"
    n_labels: tuple[str, str] = ("n int.", "n comp.")
    study_header: str = "Study"


# --- validation ---------------------------------------------------------------


def check_real(value: object, where: str, *, optional: bool = False) -> float | None:
    """Return ``value`` as a finite float, or raise naming ``where``.

    ``None`` passes when ``optional``; booleans and non-numbers are refused.
    """
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{where} must be a number, got {value!r}")
    x = float(value)
    if not math.isfinite(x):
        raise ValueError(f"{where} must be finite, got {value!r}")
    return x


def check_text(value: object, where: str) -> str:
    """Return ``value`` if it is a string, or raise naming ``where``."""
    if not isinstance(value, str):
        raise TypeError(f"{where} must be text, got {value!r}")
    return value


def _check_interval(lb: float, x: float, ub: float, where: str) -> None:
    tol = 1e-9 * max(1.0, abs(lb), abs(ub))
    if not lb <= ub:
        raise ValueError(f"{where}: the lower limit {lb} exceeds the upper {ub}")
    if not lb - tol <= x <= ub + tol:
        raise ValueError(f"{where}: the estimate {x} lies outside [{lb}, {ub}]")


def _check_summary(s: object, where: str) -> None:
    if not isinstance(s, ForestSummary):
        raise TypeError(f"{where} must be a ForestSummary, got {type(s).__name__}")
    check_text(s.label, f"{where}.label")
    check_text(s.text, f"{where}.text")
    est = check_real(s.estimate, f"{where}.estimate")
    lb = check_real(s.ci_lb, f"{where}.ci_lb")
    ub = check_real(s.ci_ub, f"{where}.ci_ub")
    _check_interval(lb, est, ub, where)
    pi = [s.pi_lb, s.pi_ub]
    if all(isinstance(v, float) and math.isnan(v) for v in pi):
        pi = [None, None]  # not estimable
    pi_lb = check_real(pi[0], f"{where}.pi_lb", optional=True)
    pi_ub = check_real(pi[1], f"{where}.pi_ub", optional=True)
    if (pi_lb is None) != (pi_ub is None):
        raise ValueError(f"{where}: give both pi_lb and pi_ub, or neither")
    if pi_lb is not None:
        _check_interval(pi_lb, est, pi_ub, f"{where} (prediction interval)")


def _has_pi(s: ForestSummary) -> bool:
    return s.pi_lb is not None and not math.isnan(s.pi_lb)


def _validate(data: object) -> None:
    if not isinstance(data, ForestData):
        raise TypeError(f"expected a ForestData, got {type(data).__name__}")
    if not isinstance(data.rows, Sequence) or not data.rows:
        raise ValueError("ForestData.rows must hold at least one ForestRow")
    for i, row in enumerate(data.rows):
        where = f"ForestData.rows[{i}]"
        if not isinstance(row, ForestRow):
            raise TypeError(f"{where} must be a ForestRow, got {type(row).__name__}")
        check_text(row.label, f"{where}.label")
        yi = check_real(row.yi, f"{where}.yi")
        lb = check_real(row.ci_lb, f"{where}.ci_lb")
        ub = check_real(row.ci_ub, f"{where}.ci_ub")
        _check_interval(lb, yi, ub, f"{where} ({row.label})")
        for name in ("weight", "n_t", "n_c"):
            x = check_real(getattr(row, name), f"{where}.{name}", optional=True)
            if x is not None and x < 0:
                raise ValueError(f"{where}.{name} must not be negative, got {x}")
        if row.group is not None:
            check_text(row.group, f"{where}.group")
        if not isinstance(row.extra, dict):
            raise TypeError(f"{where}.extra must be a dict of texts")
        for key, value in row.extra.items():
            check_text(value, f"{where}.extra[{key!r}]")
    _check_summary(data.overall, "ForestData.overall")
    groups = {row.group for row in data.rows}
    for name, s in data.subgroups.items():
        if name not in groups:
            raise ValueError(f"ForestData.subgroups: no row is in group {name!r}")
        _check_summary(s, f"ForestData.subgroups[{name!r}]")
    for name in (
        "subgroup_test",
        "measure_label",
        "left_label",
        "right_label",
        "ci_label",
        "study_header",
    ):
        check_text(getattr(data, name), f"ForestData.{name}")
    if data.title is not None:
        check_text(data.title, "ForestData.title")
    check_real(data.null_value, "ForestData.null_value")
    if data.exponentiate not in (True, False):
        raise ValueError("ForestData.exponentiate must be True or False")
    for name in data.extra_columns:
        check_text(name, "ForestData.extra_columns[]")
    if len(data.n_labels) != 2:
        raise ValueError("ForestData.n_labels must be two texts")
    for label in data.n_labels:
        check_text(label, "ForestData.n_labels[]")
    if (
        isinstance(data.digits, bool)
        or not isinstance(data.digits, numbers.Integral)
        or not 0 <= data.digits <= 6
    ):
        raise ValueError(f"ForestData.digits must be 0 to 6, got {data.digits!r}")
    if data.xlim is not None:
        if len(data.xlim) != 2:
            raise ValueError("ForestData.xlim must be a pair (low, high)")
        lo = check_real(data.xlim[0], "ForestData.xlim[0]")
        hi = check_real(data.xlim[1], "ForestData.xlim[1]")
        if not lo < hi:
            raise ValueError(f"ForestData.xlim must rise, got {data.xlim!r}")
    if data.xticks is not None:
        ticks = [check_real(t, "ForestData.xticks[]") for t in data.xticks]
        if ticks != sorted(set(ticks)):
            raise ValueError("ForestData.xticks must rise strictly")
    if data.exponentiate:
        values = [v for r in data.rows for v in (r.ci_lb, r.ci_ub)]
        if max(abs(v) for v in values) > 700:
            raise ValueError("exponentiate=True needs values on the log scale")


# --- text measurement ---------------------------------------------------------


class TextFont:
    """One font: measures, wraps and ellipsises text."""

    def __init__(
        self,
        size: float,
        dpis: tuple[float, ...],
        *,
        bold: bool = False,
        italic: bool = False,
    ) -> None:
        self.size = size
        self.bold = bold
        self.italic = italic
        self.dpis = dpis
        self.em = size / 72
        ascent, descent = _st.vertical_metrics()
        self.ascent = ascent * self.em
        self.descent = descent * self.em
        self.pitch = PITCH_EM * self.em

    @property
    def font(self) -> FontProperties:
        return _st.font(self.size, self.bold, self.italic)

    def width(self, text: str) -> float:
        return _st.text_width(text, self.size, self.bold, self.dpis, self.italic)

    def ellipsise(self, text: str, width: float) -> str:
        """Cut the text and end it with an ellipsis if it is wider than ``width``."""
        if self.width(text) <= width:
            return text
        lo, hi = 0, len(text)
        while lo < hi:  # longest prefix that fits with the ellipsis
            mid = (lo + hi + 1) // 2
            if self.width(text[:mid].rstrip() + ELLIPSIS) <= width:
                lo = mid
            else:
                hi = mid - 1
        return text[:lo].rstrip() + ELLIPSIS

    def _fit(self, word: str, width: float) -> int:
        lo, hi = 1, len(word)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.width(word[:mid]) <= width:
                lo = mid
            else:
                hi = mid - 1
        return lo

    def _greedy(self, units: list[str], width: float) -> list[str]:
        """Fill lines with units; a unit too long for a line is broken."""
        lines: list[str] = []
        current = ""
        for unit in units:
            candidate = f"{current} {unit}" if current else unit
            if self.width(candidate) <= width:
                current = candidate
                continue
            if current:
                lines.append(current)
            while len(unit) > 1 and self.width(unit) > width:
                k = self._fit(unit, width)
                lines.append(unit[:k])
                unit = unit[k:].lstrip()
            current = unit
        lines.append(current)
        return lines

    def wrap(
        self,
        text: str,
        width: float,
        max_lines: int | None = None,
        *,
        clauses: bool = False,
    ) -> list[str]:
        """Greedy word wrap; words too long for a line are broken.

        A line never breaks next to a relation sign, so "p < 0.001" and
        "Q = 27.09" stay whole. With ``clauses`` (for statistics such as
        "tau² = 0.05; I² = 58%; Q = 107.1"), lines break after a semicolon
        where possible and are balanced: as many lines as greedy wrapping
        gives, but as even as possible, so no word is left alone on the last
        line. With ``max_lines``, the text beyond the last line is dropped and
        the last line ends with an ellipsis.
        """
        lines: list[str] = []
        for paragraph in text.split("\n"):
            units = _units(paragraph)
            if clauses:
                units = [
                    u
                    for clause in _clauses(units)
                    for u in (
                        [" ".join(clause)]
                        if self.width(" ".join(clause)) <= width
                        else clause
                    )
                ]
            wrapped = self._greedy(units, width)
            widest = max((self.width(u) for u in units), default=0.0)
            if clauses and len(wrapped) > 1 and widest <= width:
                lo, hi = widest, width  # never break a unit to balance lines
                for _ in range(30):  # the narrowest width giving as few lines
                    mid = (lo + hi) / 2
                    if len(self._greedy(units, mid)) <= len(wrapped):
                        hi = mid
                    else:
                        lo = mid
                wrapped = self._greedy(units, hi)
            lines += wrapped
        if max_lines is not None and len(lines) > max_lines:
            rest = " ".join(lines[max_lines - 1 :])
            lines = [*lines[: max_lines - 1], self.ellipsise(rest + ELLIPSIS, width)]
        return lines


#: A line never breaks before or after these signs.
_RELATIONS = frozenset({"=", "<", ">", "\u2264", "\u2265", "\u2248", "\u00b1", "~"})


def _units(paragraph: str) -> list[str]:
    """Split into words, each relation sign glued to both its neighbours."""
    units: list[str] = []
    glue = False
    for word in paragraph.split():
        if units and (glue or word in _RELATIONS):
            units[-1] += " " + word
        else:
            units.append(word)
        glue = word in _RELATIONS
    return units


def _clauses(units: list[str]) -> list[list[str]]:
    """Group units into clauses, each ending with a semicolon."""
    out: list[list[str]] = [[]]
    for unit in units:
        out[-1].append(unit)
        if unit.endswith(";"):
            out.append([])
    return [c for c in out if c]


# --- numbers ------------------------------------------------------------------


def fmt_number(x: float, digits: int) -> str:
    """Format a number with a typographic minus and no negative zero."""
    text = f"{x:.{digits}f}"
    if float(text) == 0:
        text = text.lstrip("-")
    return text.replace("-", MINUS)


def _count(n: float) -> str:
    if float(n).is_integer():
        return f"{int(n):,}"
    return f"{n:,.1f}"


def _ratio_text(r: float) -> str:
    """Format a ratio tick label: 0.05, 0.1, 0.25, 1, 4, 10, 100."""
    text = f"{r:.6g}"
    if "e" in text:
        text = f"{r:.10f}".rstrip("0").rstrip(".")
    return text.replace("-", MINUS)


# --- axis limits and ticks ----------------------------------------------------


def _data_ranges(data: ForestData) -> list[tuple[float, float]]:
    """Candidate limits that show every estimate and pooled interval.

    Study CIs reaching further than the spread of the estimates and pooled
    intervals on either side are cut (they get an arrowhead) rather than
    squeezing every other study into a few points. When the null value lies
    inside, a symmetric range around it is a second candidate.
    """
    summaries = [data.overall, *data.subgroups.values()]
    core = [r.yi for r in data.rows] + [data.null_value]
    for s in summaries:
        core += [s.estimate, s.ci_lb, s.ci_ub]
        if _has_pi(s):
            core += [s.pi_lb, s.pi_ub]
    core_lo, core_hi = min(core), max(core)
    span = core_hi - core_lo
    ci_lo = min(r.ci_lb for r in data.rows)
    ci_hi = max(r.ci_ub for r in data.rows)
    if span <= 0:
        span = max(ci_hi - ci_lo, abs(core_hi), 1.0)
    lo = min(core_lo, max(ci_lo, core_lo - span))
    hi = max(core_hi, min(ci_hi, core_hi + span))
    if lo == hi:
        lo, hi = lo - 1.0, hi + 1.0
    ranges = [(lo, hi)]
    null = data.null_value
    below, above = null - lo, hi - null
    if below > 0 and above > 0 and max(below, above) <= 2 * min(below, above):
        half = max(below, above)
        ranges.insert(0, (null - half, null + half))
    return ranges


def _steps(span: float) -> list[float]:
    e0 = math.floor(math.log10(span)) - 3
    return sorted(m * 10.0**e for e in range(e0, e0 + 6) for m in (1, 2, 2.5, 5))


def tick_decimals(step: float) -> int:
    """Decimals needed to print multiples of a tick step exactly (8 if none fits)."""
    for d in range(8):
        if abs(round(step * 10**d) - step * 10**d) < 1e-9 * 10**d:
            return d
    return 8


def _fits(
    positions: Sequence[float],
    labels: Sequence[str],
    lim: tuple[float, float],
    panel: float,
) -> bool:
    """Tell whether the tick labels fit side by side on an axis ``panel`` wide."""
    body = TextFont(BODY_SIZE, _st.MEASURE_DPI)
    scale = panel / (lim[1] - lim[0])
    widths = [body.width(t) for t in labels]
    for i in range(len(positions) - 1):
        room = (positions[i + 1] - positions[i]) * scale
        if room < (widths[i] + widths[i + 1]) / 2 + TICK_LABEL_GAP:
            return False
    return True


def linear_ticks(
    lo: float, hi: float, panel: float = PANEL_WIDTH
) -> tuple[list[float], list[str]]:
    """Choose evenly spaced nice ticks that cover ``lo`` to ``hi``."""
    for step in _steps(hi - lo):
        first = math.floor(lo / step + 1e-9)
        last = math.ceil(hi / step - 1e-9)
        if last - first > MAX_TICK_INTERVALS:
            continue
        ticks = [k * step for k in range(first, last + 1)]
        labels = [fmt_number(t, tick_decimals(step)) for t in ticks]
        if _fits(ticks, labels, (ticks[0], ticks[-1]), panel):
            return ticks, labels
    raise AssertionError("no tick step fits")  # pragma: no cover


#: Ratio ticks: the mantissas used in a decade and every how many decades.
_RATIO_FAMILIES = (
    ((1.0, 2.0, 5.0), 1),
    ((1.0, 3.0), 1),
    ((1.0,), 1),
    ((1.0,), 2),
    ((1.0,), 3),
)


def ratio_ticks(
    lo: float, hi: float, panel: float = PANEL_WIDTH
) -> tuple[list[float], list[str]]:
    """Choose ticks at nice ratios for a log axis; ``lo`` and ``hi`` are logs."""
    r_lo, r_hi = math.exp(lo), math.exp(hi)
    candidates: list[list[float]] = []
    if r_hi / r_lo < 4:
        # A narrow range: nice steps on the ratio scale itself.
        for step in _steps(r_hi - r_lo):
            first = math.floor(r_lo / step + 1e-9)
            last = math.ceil(r_hi / step - 1e-9)
            if first > 0 and last - first <= MAX_TICK_INTERVALS:
                candidates.append([k * step for k in range(first, last + 1)])
    # Powers of two around 1 (0.25, 0.5, 1, 2, 4) ...
    for k in range(1, 4):
        if 2.0**-k <= r_lo * (1 + 1e-9) and r_hi <= 2.0**k * (1 + 1e-9):
            first = math.floor(math.log2(r_lo) + 1e-9)
            last = math.ceil(math.log2(r_hi) - 1e-9)
            candidates.append([2.0**j for j in range(first, last + 1)])
            break
    # ... then 1-2-5, 1-3 and decades.
    e_lo = math.floor(math.log10(r_lo)) - 3
    e_hi = math.ceil(math.log10(r_hi)) + 3
    for mantissas, every in _RATIO_FAMILIES:
        grid = [
            float(f"{m * 10.0**e:.12g}")
            for e in range(e_lo, e_hi + 1)
            if e % every == 0
            for m in mantissas
        ]
        below = [g for g in grid if g <= r_lo * (1 + 1e-9)]
        above = [g for g in grid if g >= r_hi * (1 - 1e-9)]
        if below and above:
            candidates.append([g for g in grid if below[-1] <= g <= above[0]])
    for ticks in candidates:
        if len(ticks) - 1 > MAX_TICK_INTERVALS:
            continue
        positions = [math.log(t) for t in ticks]
        labels = [_ratio_text(t) for t in ticks]
        if _fits(positions, labels, (positions[0], positions[-1]), panel):
            return positions, labels
    raise AssertionError("no ratio ticks fit")  # pragma: no cover


def _axis(data: ForestData) -> tuple[tuple[float, float], list[float], list[str]]:
    """Choose the x limits, tick positions and tick labels (analysis scale)."""
    auto = ratio_ticks if data.exponentiate else linear_ticks
    if data.xlim is None and data.xticks is None:
        # The tightest axis; the symmetric one wins a tie.
        options = [auto(*r) for r in _data_ranges(data)]
        ticks, labels = min(options, key=lambda o: round(o[0][-1] - o[0][0], 9))
        return (ticks[0], ticks[-1]), ticks, labels
    if data.xticks is not None:
        ticks = [float(t) for t in data.xticks]
        if data.xlim is not None:
            lim = (float(data.xlim[0]), float(data.xlim[1]))
        elif len(ticks) > 1:
            lim = (ticks[0], ticks[-1])
        else:
            lo, hi = _data_ranges(data)[-1]
            lim = (min([lo, *ticks]), max([hi, *ticks]))
    else:
        lim = (float(data.xlim[0]), float(data.xlim[1]))
        ticks, _ = auto(*lim)
    tol = 1e-9 * (lim[1] - lim[0])
    ticks = [t for t in ticks if lim[0] - tol <= t <= lim[1] + tol]
    if data.exponentiate:
        labels = [_ratio_text(float(f"{math.exp(t):.6g}")) for t in ticks]
    else:
        decimals = min(max((tick_decimals(abs(t)) for t in ticks), default=0), 4)
        labels = [fmt_number(t, decimals) for t in ticks]
    return lim, ticks, labels


# --- layout -------------------------------------------------------------------


@dataclass
class _Row:
    """One row of the table, top to bottom."""

    kind: str  # header, study, heading, summary, pi, note, gap
    key: str
    label: str = ""
    bold: bool = False
    italic: bool = False
    note: bool = False  # drawn in the smaller note font
    cells: dict[str, str] = field(default_factory=dict)
    colours: dict[str, str] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)  # the label, wrapped
    height: float = 0.0
    top: float = 0.0
    # graphics, analysis scale
    x: float | None = None
    lb: float | None = None
    ub: float | None = None
    side: float | None = None  # square side, inches
    mark: str | None = None  # square, dot, diamond, bar

    @property
    def centre(self) -> float:
        return self.top + self.height / 2


def _display(x: float, exponentiate: bool) -> float:
    return math.exp(x) if exponentiate else x


def _ci_cells(
    est: float | None, lb: float, ub: float, data: ForestData
) -> dict[str, str]:
    def f(x: float) -> str:
        return fmt_number(_display(x, data.exponentiate), data.digits)

    cells = {"ci_lb": f"[{f(lb)},", "ci_ub": f"{f(ub)}]"}
    if est is not None:
        cells["est"] = f(est)
    return cells


def _rob_colours(data: ForestData) -> dict[str, bool]:
    """Extra columns whose every value is a risk-of-bias judgement."""
    out = {}
    for name in data.extra_columns:
        values = [r.extra.get(name, "").strip().casefold() for r in data.rows]
        values = [v for v in values if v]
        out[name] = bool(values) and all(v in ROB_COLOURS for v in values)
    return out


def _summary_rows(
    key: str, s: ForestSummary, members: list[ForestRow], data: ForestData, show
) -> list[_Row]:
    cells = _ci_cells(s.estimate, s.ci_lb, s.ci_ub, data)
    if show["weight"] and all(r.weight is not None for r in members):
        cells["weight"] = f"{sum(r.weight for r in members):.1f}%"
    for arm in ("n_t", "n_c"):
        values = [getattr(r, arm) for r in members]
        if show[arm] and all(v is not None for v in values):
            cells[arm] = _count(sum(values))
    rows = [
        _Row(
            "summary",
            key,
            s.label,
            bold=True,
            cells=cells,
            x=s.estimate,
            lb=s.ci_lb,
            ub=s.ci_ub,
            mark="diamond",
        )
    ]
    if _has_pi(s):
        rows.append(
            _Row(
                "pi",
                key,
                "Prediction interval",
                cells=_ci_cells(None, s.pi_lb, s.pi_ub, data),
                lb=s.pi_lb,
                ub=s.pi_ub,
                mark="bar",
            )
        )
    if s.text.strip():
        rows.append(_Row("note", key, s.text, note=True))
    return rows


def _rows(data: ForestData, show: dict[str, bool]) -> list[_Row]:
    weights = [r.weight for r in data.rows if r.weight is not None]
    w_max = max(weights, default=0.0)
    rob = _rob_colours(data)
    # Subgroups, in the order in which they first appear.
    order: list[str | None] = []
    for r in data.rows:
        if r.group not in order:
            order.append(r.group)
    rows: list[_Row] = []
    for g_index, group in enumerate(order):
        members = [(i, r) for i, r in enumerate(data.rows) if r.group == group]
        if rows:
            rows.append(_Row("gap", f"gap-{g_index}"))
        if group is not None:
            rows.append(_Row("heading", f"group-{g_index}", group, bold=True))
        for i, r in members:
            cells = _ci_cells(r.yi, r.ci_lb, r.ci_ub, data)
            colours = {}
            if show["weight"]:
                cells["weight"] = "\u2013" if r.weight is None else f"{r.weight:.1f}%"
            for arm in ("n_t", "n_c"):
                value = getattr(r, arm)
                if show[arm]:
                    cells[arm] = "" if value is None else _count(value)
            for j, name in enumerate(data.extra_columns):
                value = " ".join(r.extra.get(name, "").split())
                cells[f"extra{j}"] = value
                if rob[name] and value:
                    colours[f"extra{j}"] = ROB_COLOURS[value.casefold()]
            if r.weight is None:
                side = None if show["weight"] else SQUARE_PLAIN_EM * BODY_SIZE / 72
                mark = "dot" if show["weight"] else "square"
            else:
                big = SQUARE_MAX_EM * BODY_SIZE / 72
                side = big * math.sqrt(r.weight / w_max) if w_max > 0 else 0.0
                side = max(side, SQUARE_MIN)
                mark = "square"
            rows.append(
                _Row(
                    "study",
                    str(i),
                    r.label,
                    cells=cells,
                    colours=colours,
                    x=r.yi,
                    lb=r.ci_lb,
                    ub=r.ci_ub,
                    side=side,
                    mark=mark,
                )
            )
        if group is not None and group in data.subgroups:
            rows += _summary_rows(
                f"group-{g_index}",
                data.subgroups[group],
                [r for _, r in members],
                data,
                show,
            )
    rows.append(_Row("gap", "gap-overall"))
    rows += _summary_rows("overall", data.overall, list(data.rows), data, show)
    if data.subgroup_test.strip():
        rows.append(_Row("note", "subgroup-test", data.subgroup_test, note=True))
    return rows


@dataclass
class _Column:
    key: str
    header: str
    ha: str  # alignment of the cells: left, right or center
    x: float = 0.0  # left edge, inches
    width: float = 0.0

    def anchor(self) -> float:
        return {
            "left": self.x,
            "right": self.x + self.width,
            "center": self.x + self.width / 2,
        }[self.ha]


@dataclass
class _Text:
    gid: str
    text: str
    x: float  # inches from the left
    baseline: float  # inches from the top
    ha: str
    type: TextFont
    colour: str = INK


@dataclass
class _Layout:
    width: float
    height: float
    texts: list[_Text]
    rows: list[_Row]
    panel_x: float
    panel_top: float  # inches from the top of the figure
    panel_bottom: float
    header_rule: tuple[float, float, float]  # x0, x1, y
    lim: tuple[float, float]
    ticks: list[float]
    tick_labels: list[str]


def _layout(data: ForestData, dpis: tuple[float, ...]) -> _Layout:
    body = TextFont(BODY_SIZE, dpis)
    bold = TextFont(BODY_SIZE, dpis, bold=True)
    note = TextFont(NOTE_SIZE, dpis)
    big = TextFont(TITLE_SIZE, dpis, bold=True)
    show = {
        "n_t": any(r.n_t is not None for r in data.rows),
        "n_c": any(r.n_c is not None for r in data.rows),
        "weight": any(r.weight is not None for r in data.rows),
    }
    rows = _rows(data, show)

    def type_of(row: _Row) -> TextFont:
        if row.note:
            return note
        return bold if row.bold else body

    # Columns: label, sample sizes, extras | panel | estimate [CI], weight.
    left_cols = [_Column("label", data.study_header, "left")]
    if show["n_t"]:
        left_cols.append(_Column("n_t", data.n_labels[0], "right"))
    if show["n_c"]:
        left_cols.append(_Column("n_c", data.n_labels[1], "right"))
    for j, name in enumerate(data.extra_columns):
        left_cols.append(_Column(f"extra{j}", " ".join(name.split()), "center"))
    right_cols = [
        _Column("est", "", "right"),
        _Column("ci_lb", "", "right"),
        _Column("ci_ub", "", "right"),
    ]
    if show["weight"]:
        right_cols.append(_Column("weight", "Weight", "right"))
    columns = {c.key: c for c in [*left_cols, *right_cols]}

    for col in [*left_cols, *right_cols]:
        widths = [bold.width(col.header)]
        for row in rows:
            if col.key in row.cells:
                widths.append(type_of(row).width(row.cells[col.key]))
        col.width = max(widths)
    label_col = columns["label"]
    natural = [bold.width(data.study_header)] + [
        type_of(r).width(r.label) for r in rows if r.kind in ("study", "summary", "pi")
    ]
    label_col.width = min(max(natural), LABEL_MAX)
    for j, _ in enumerate(data.extra_columns):
        columns[f"extra{j}"].width = min(columns[f"extra{j}"].width, EXTRA_MAX)
    left_width = sum(c.width for c in left_cols) + COL_GAP * (len(left_cols) - 1)
    if left_width < LEFT_MIN:
        label_col.width += LEFT_MIN - left_width
        left_width = LEFT_MIN

    # The estimate column: estimate, "[lower," and "upper]" right-aligned in
    # three sub-columns, so that the decimal points line up.
    space = body.width(" ")
    est_width = (
        columns["est"].width + columns["ci_lb"].width + columns["ci_ub"].width
    ) + 2 * space
    est_header = f"{' '.join(data.measure_label.split())} [{data.ci_label}]"
    est_total = max(est_width, min(bold.width(est_header), EST_HEADER_MAX))
    est_header_lines = bold.wrap(est_header, est_total, 3)

    # Axis: limits and ticks; favours labels flank the null line.
    lim, ticks, tick_labels = _axis(data)
    null_frac = (data.null_value - lim[0]) / (lim[1] - lim[0])
    null_frac = min(max(null_frac, 0.0), 1.0)
    left_fav = body.wrap(" ".join(data.left_label.split()), FAVOURS_MAX, 2)
    right_fav = body.wrap(" ".join(data.right_label.split()), FAVOURS_MAX, 2)
    left_fav, right_fav = [t for t in left_fav if t], [t for t in right_fav if t]
    xlabel = " ".join(data.measure_label.split())
    if data.exponentiate and xlabel:
        xlabel += " (log scale)"

    # Horizontal positions.
    x = MARGIN
    panel_x = x + left_width + PANEL_GAP
    null_x = panel_x + null_frac * PANEL_WIDTH
    fav_left_edge = (
        null_x - FAVOURS_SIDE_GAP - max(map(body.width, left_fav), default=0)
    )
    shift = max(0.0, MARGIN - fav_left_edge)
    x += shift
    panel_x += shift
    null_x += shift
    for col in left_cols:
        col.x = x
        x += col.width + COL_GAP
    right_x = panel_x + PANEL_WIDTH + PANEL_GAP
    est_right = right_x + est_total
    columns["ci_ub"].x = est_right - columns["ci_ub"].width
    columns["ci_lb"].x = columns["ci_ub"].x - space - columns["ci_lb"].width
    columns["est"].x = columns["ci_lb"].x - space - columns["est"].width
    right_edge = est_right
    if show["weight"]:
        columns["weight"].x = est_right + COL_GAP
        right_edge = columns["weight"].x + columns["weight"].width
    fav_right_edge = (
        null_x + FAVOURS_SIDE_GAP + max(map(body.width, right_fav), default=0)
    )
    tick_right = panel_x + PANEL_WIDTH
    if ticks:  # the last tick label may reach beyond the panel
        last = panel_x + (ticks[-1] - lim[0]) / (lim[1] - lim[0]) * PANEL_WIDTH
        tick_right = max(tick_right, last + body.width(tick_labels[-1]) / 2)
    right_edge = max(right_edge, fav_right_edge, tick_right)
    width = right_edge + MARGIN
    content_w = width - 2 * MARGIN
    xlabel_lines = body.wrap(xlabel, content_w, 2) if xlabel else []

    # Wrap labels now that the widths are known.
    for row in rows:
        ts = type_of(row)
        if row.kind in ("study", "summary", "pi"):
            row.lines = ts.wrap(row.label, label_col.width, LABEL_LINES)
        elif row.kind == "heading":
            row.lines = ts.wrap(row.label, left_width, HEADING_LINES)
        elif row.kind == "note":
            row.lines = ts.wrap(row.label, left_width, clauses=True)
        for j, _ in enumerate(data.extra_columns):
            key = f"extra{j}"
            if key in row.cells:
                row.cells[key] = ts.ellipsise(row.cells[key], columns[key].width)
        if row.kind == "gap":
            row.height = BLOCK_GAP_EM * body.em
        else:
            row.height = ts.pitch * max(1, len(row.lines))

    # Vertical positions, top down.
    texts: list[_Text] = []
    y = MARGIN
    if data.title and data.title.strip():
        for i, line in enumerate(big.wrap(" ".join(data.title.split()), content_w)):
            texts.append(
                _Text(
                    f"forest-title-line{i}", line, MARGIN, y + big.ascent, "left", big
                )
            )
            y += big.pitch
        y += TITLE_GAP - (big.pitch - big.ascent - big.descent)

    def baseline(top: float, height: float, ts: TextFont, i: int = 0, n: int = 1):
        centre = top + height / 2
        return centre + (ts.ascent - ts.descent) / 2 + (i - (n - 1) / 2) * ts.pitch

    header_top = y
    header_n = len(est_header_lines)
    header_h = bold.pitch * header_n
    header_base = baseline(header_top, header_h, bold, header_n - 1, header_n)
    for col in left_cols:
        text = bold.ellipsise(col.header, col.width)
        texts.append(
            _Text(
                f"forest-header-{col.key}",
                text,
                col.anchor(),
                header_base,
                col.ha,
                bold,
            )
        )
    for i, line in enumerate(est_header_lines):
        texts.append(
            _Text(
                f"forest-header-est-line{i}",
                line,
                est_right,
                baseline(header_top, header_h, bold, i, header_n),
                "right",
                bold,
            )
        )
    if show["weight"]:
        col = columns["weight"]
        texts.append(
            _Text(
                "forest-header-weight",
                col.header,
                col.anchor(),
                header_base,
                "right",
                bold,
            )
        )
    y += header_h
    rule_y = y
    y += HEADER_GAP
    panel_top = y
    for row in rows:
        row.top = y
        y += row.height
    panel_bottom = y + AXIS_PAD

    for row in rows:
        ts = type_of(row)
        gid = f"forest-{row.kind}-{row.key}"
        n = len(row.lines)
        start = label_col.x
        for i, line in enumerate(row.lines):
            texts.append(
                _Text(
                    f"{gid}-label-line{i}",
                    line,
                    start,
                    baseline(row.top, row.height, ts, i, n),
                    "left",
                    ts,
                )
            )
        base = baseline(row.top, row.height, ts)
        for key, text in row.cells.items():
            if not text:
                continue
            col = columns[key]
            texts.append(
                _Text(
                    f"{gid}-{key}",
                    text,
                    col.anchor(),
                    base,
                    col.ha,
                    ts,
                    row.colours.get(key, INK),
                )
            )

    # Under the axis: tick labels, favours labels, the measure.
    tick_bottom = (
        panel_bottom + (TICK_LENGTH + TICK_PAD) / 72 + body.ascent + body.descent
    )
    y = tick_bottom + FAVOURS_GAP
    for i in range(max(len(left_fav), len(right_fav), 0)):
        base = y + body.ascent + i * body.pitch
        if i < len(left_fav):
            texts.append(
                _Text(
                    f"forest-favours-left-line{i}",
                    left_fav[i],
                    null_x - FAVOURS_SIDE_GAP,
                    base,
                    "right",
                    body,
                )
            )
        if i < len(right_fav):
            texts.append(
                _Text(
                    f"forest-favours-right-line{i}",
                    right_fav[i],
                    null_x + FAVOURS_SIDE_GAP,
                    base,
                    "left",
                    body,
                )
            )
    n_fav = max(len(left_fav), len(right_fav))
    if n_fav:
        y += body.ascent + body.descent + (n_fav - 1) * body.pitch + XLABEL_GAP
    xlabel_w = max(map(body.width, xlabel_lines), default=0.0)
    centre = panel_x + PANEL_WIDTH / 2
    centre = min(max(centre, MARGIN + xlabel_w / 2), width - MARGIN - xlabel_w / 2)
    for i, line in enumerate(xlabel_lines):
        base = y + body.ascent + i * body.pitch
        texts.append(
            _Text(f"forest-xlabel-line{i}", line, centre, base, "center", body)
        )
    if xlabel_lines:
        y += body.ascent + body.descent + (len(xlabel_lines) - 1) * body.pitch
    height = y + MARGIN

    return _Layout(
        width=width,
        height=height,
        texts=texts,
        rows=rows,
        panel_x=panel_x,
        panel_top=panel_top,
        panel_bottom=panel_bottom,
        header_rule=(label_col.x, right_edge, rule_y),
        lim=lim,
        ticks=ticks,
        tick_labels=tick_labels,
    )


# --- drawing ------------------------------------------------------------------


def _at(fig: Figure, ax: Axes, x: float, y: float) -> Transform:
    """Inches, with the origin at the data point (x, y) of the panel."""
    return fig.dpi_scale_trans + ScaledTranslation(x, y, ax.transData)


def _arrowhead(fig, ax, x: float, y: float, pointing: int, gid: str) -> Polygon:
    """Make an arrowhead with its tip at (x, y), pointing left (-1) or right (1)."""
    back = -pointing * ARROW_LENGTH
    return Polygon(
        [(0.0, 0.0), (back, -ARROW_HALF), (back, ARROW_HALF)],
        closed=True,
        transform=_at(fig, ax, x, y),
        facecolor=INK,
        edgecolor="none",
        linewidth=0.0,
        clip_on=False,
        gid=gid,
        zorder=4,
    )


def _interval(fig, ax, row: _Row, lim, y: float, gid: str, lw: float, colour: str):
    """Draw an interval clipped to the axis, with arrowheads where it is cut."""
    lo, hi = lim
    a, b = max(row.lb, lo), min(row.ub, hi)
    if a > b:  # entirely off the axis: one arrowhead at the near edge
        edge, pointing = (lo, -1) if row.ub < lo else (hi, 1)
        side = "lower" if pointing < 0 else "upper"
        ax.add_artist(_arrowhead(fig, ax, edge, y, pointing, f"{gid}-arrow-{side}"))
        return
    cut_lo, cut_hi = row.lb < lo, row.ub > hi
    if colour is not None and b > a:
        ax.add_artist(
            Line2D(
                [a, b],
                [y, y],
                color=colour,
                linewidth=lw,
                solid_capstyle="butt",
                clip_on=False,
                gid=gid,
                zorder=3,
            )
        )
    if cut_lo:
        ax.add_artist(_arrowhead(fig, ax, lo, y, -1, f"{gid}-arrow-lower"))
    if cut_hi:
        ax.add_artist(_arrowhead(fig, ax, hi, y, 1, f"{gid}-arrow-upper"))


def _draw(layout: _Layout, data: ForestData) -> Figure:
    width, height = layout.width, layout.height
    fig = Figure(figsize=(width, height), dpi=100, facecolor="white")
    FigureCanvasAgg(fig)
    inches = fig.dpi_scale_trans

    for t in layout.texts:
        fig.text(
            t.x,
            height - t.baseline,
            t.text,
            transform=inches,
            fontproperties=t.type.font,
            color=t.colour,
            ha=t.ha,
            va="baseline",
            parse_math=False,
            usetex=False,
            gid=t.gid,
            zorder=3,
        )
    x0, x1, rule_y = layout.header_rule
    fig.add_artist(
        Line2D(
            [x0, x1],
            [height - rule_y, height - rule_y],
            transform=inches,
            color=RULE_COLOUR,
            linewidth=RULE_LINEWIDTH,
            gid="forest-header-rule",
        )
    )

    top, bottom = layout.panel_top, layout.panel_bottom
    ax = fig.add_axes(
        (
            layout.panel_x / width,
            (height - bottom) / height,
            PANEL_WIDTH / width,
            (bottom - top) / height,
        )
    )
    ax.set_gid("forest-panel")
    lo, hi = layout.lim
    ax.set_xlim(lo, hi)
    ax.set_ylim(bottom, top)  # data y = inches from the top of the figure
    ax.patch.set_visible(False)
    for side in ("top", "left", "right"):
        ax.spines[side].set_visible(False)
    ax.spines["bottom"].set_linewidth(AXIS_LINEWIDTH)
    ax.yaxis.set_visible(False)
    ax.set_xticks(layout.ticks, layout.tick_labels, fontproperties=_st.font(BODY_SIZE))
    ax.xaxis.set_minor_locator(mpl.ticker.NullLocator())
    ax.tick_params(
        axis="x",
        direction="out",
        length=TICK_LENGTH,
        width=AXIS_LINEWIDTH,
        pad=TICK_PAD,
        colors=INK,
    )
    for label in ax.get_xticklabels():
        label.set_parse_math(False)

    null = data.null_value
    if lo <= null <= hi:
        first = min((r.top for r in layout.rows if r.mark), default=top)
        ax.add_artist(
            Line2D(
                [null, null],
                [first, bottom],
                color=NULL_COLOUR,
                linewidth=NULL_LINEWIDTH,
                gid="forest-null",
                zorder=1,
            )
        )

    for row in layout.rows:
        gid = f"forest-{row.kind}-{row.key}"
        y = row.centre
        if row.mark in ("square", "dot"):
            _interval(fig, ax, row, layout.lim, y, f"{gid}-ci", CI_LINEWIDTH, INK)
            if lo <= row.x <= hi:
                if row.mark == "square":
                    s = row.side
                    patch = Rectangle(
                        (-s / 2, -s / 2),
                        s,
                        s,
                        transform=_at(fig, ax, row.x, y),
                        facecolor=SQUARE_COLOUR,
                        edgecolor="none",
                        linewidth=0.0,
                        clip_on=False,
                        gid=f"{gid}-square",
                        zorder=2,
                    )
                else:
                    patch = Circle(
                        (0.0, 0.0),
                        DOT_RADIUS,
                        transform=_at(fig, ax, row.x, y),
                        facecolor=DOT_COLOUR,
                        edgecolor="none",
                        linewidth=0.0,
                        clip_on=False,
                        gid=f"{gid}-dot",
                        zorder=2,
                    )
                ax.add_artist(patch)
        elif row.mark == "diamond":
            half = DIAMOND_HALF_EM * BODY_SIZE / 72
            ax.add_patch(
                Polygon(
                    [
                        (row.lb, y),
                        (row.x, y - half),
                        (row.ub, y),
                        (row.x, y + half),
                    ],
                    closed=True,
                    facecolor=DIAMOND_COLOUR,
                    edgecolor=DIAMOND_COLOUR,
                    linewidth=0.5,
                    joinstyle="miter",
                    gid=f"{gid}-diamond",
                    zorder=3,
                )
            )
            _interval(fig, ax, row, layout.lim, y, f"{gid}-ci", 0.0, None)
        elif row.mark == "bar":
            half = PI_HALF_EM * BODY_SIZE / 72
            a, b = max(row.lb, lo), min(row.ub, hi)
            if b > a:
                ax.add_patch(
                    Rectangle(
                        (a, y - half),
                        b - a,
                        2 * half,
                        facecolor=PI_COLOUR,
                        edgecolor="none",
                        linewidth=0.0,
                        gid=f"{gid}-bar",
                        zorder=2,
                    )
                )
            _interval(fig, ax, row, layout.lim, y, f"{gid}-ci", 0.0, None)
    return fig


def _figure(data: ForestData, dpis: tuple[float, ...]) -> Figure:
    _validate(data)
    with _st.style():
        layout = _layout(data, dpis)
        return _draw(layout, data)


def forest_figure(data: ForestData) -> Figure:
    """Build a forest plot as a matplotlib figure.

    Parameters
    ----------
    data : ForestData
        The rows, pooled estimates and labels.

    Returns
    -------
    matplotlib.figure.Figure
        A figure on the Agg canvas (not managed by pyplot), sized in inches to
        its content. Artists carry ids: ``forest-study-<i>-square`` (or
        ``-dot``) and ``forest-study-<i>-ci`` for study ``i``,
        ``forest-summary-overall-diamond`` and ``forest-summary-group-<j>-diamond``
        for the pooled estimates, ``forest-pi-<key>-bar`` for prediction
        intervals, ``<row id>-ci-arrow-lower`` / ``-upper`` for arrowheads
        where an interval leaves the axis, ``forest-null`` for the null line
        and ``forest-panel`` for the effect axes; texts are
        ``<row id>-label-line<k>`` and ``<row id>-<column>``.

    Raises
    ------
    ValueError
        If a number is missing or not finite, an estimate lies outside its
        interval, or a subgroup summary names no group of the rows.
    """
    return _figure(data, _st.MEASURE_DPI)


def check_dpi(dpi: object) -> int:
    """Return ``dpi`` as an int, or raise ``ValueError`` unless a positive integer."""
    if isinstance(dpi, bool) or not isinstance(dpi, numbers.Integral) or dpi <= 0:
        raise ValueError(f"dpi must be a positive integer, got {dpi!r}")
    return int(dpi)


def save_png_svg(fig: Figure, png: str | Path, svg: str | Path, dpi: int) -> None:
    """Write PNG and SVG, both or neither, with deterministic bytes."""
    with _st.style(), contextlib.ExitStack() as stack:
        tmp_png = stack.enter_context(atomic_path(png))
        tmp_svg = stack.enter_context(atomic_path(svg))
        fig.savefig(tmp_png, format="png", dpi=dpi)
        fig.savefig(tmp_svg, format="svg", dpi=dpi, metadata={"Date": None})


def draw_forest(
    data: ForestData, png: str | Path, svg: str | Path, *, dpi: int = 300
) -> None:
    """Draw a forest plot to PNG and SVG files.

    The same data always give byte-identical files. Each file is written to a
    temporary file in its folder and renamed only when both have been drawn.

    Parameters
    ----------
    data : ForestData
        The rows, pooled estimates and labels.
    png, svg : str or Path
        Output paths; their folders are created if needed.
    dpi : int, default 300
        Resolution of the PNG.

    Raises
    ------
    ValueError
        If the data are invalid (see :func:`forest_figure`) or ``dpi`` is not
        a positive integer.
    """
    dpi = check_dpi(dpi)
    dpis = tuple(sorted({*_st.MEASURE_DPI, dpi}))
    fig = _figure(data, dpis)
    save_png_svg(fig, png, svg, dpi)
