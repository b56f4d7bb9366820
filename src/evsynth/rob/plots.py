"""Risk-of-bias figures in the style of robvis: traffic-light and summary plots.

The traffic-light plot (McGuinness & Higgins 2021, Res Syn Meth 12:55) has a
row per study and a column per domain and for the overall judgement; each
judgement is a coloured circle carrying a symbol (``+`` low, ``−`` some
concerns or moderate, ``×`` high or serious, ``!`` critical, ``?`` no
information), so that it reads without colour too. A key of the domains and a
legend of the judgements sit below. The summary plot has one 100% stacked bar
per domain and for the overall judgement, giving the share of studies (or of
their weights) at each level.

Both figures are laid out in inches from text measured with the font renderer,
so nothing overlaps however long the labels or however many the studies (the
figure grows). They are built on a bare :class:`matplotlib.figure.Figure` with
the Agg canvas, never through pyplot, and the same data give byte-identical
files when saved with :func:`save_figure`.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, Rectangle
from matplotlib.textpath import TextPath

from evsynth.labels import label_of
from evsynth.plots import style as _st
from evsynth.rob.model import (
    DEFAULT_OUTCOME,
    ToolSpec,
    summary_proportions,
    tool_spec,
)

__all__ = ["message_figure", "save_figure", "summary_figure", "traffic_light_figure"]

# --- appearance ---------------------------------------------------------------
TITLE_SIZE = 10.0  # pt, bold
BODY_SIZE = 8.0  # pt: study labels, column headers, key, legend
NOTE_SIZE = 7.0  # pt: the tool's reference
SYMBOL_SIZE = 9.5  # pt, bold: symbols on the traffic lights
LEGEND_SYMBOL_SIZE = 7.0  # pt, bold: symbols on the legend's circles
PERCENT_SIZE = 7.0  # pt: percentages inside the summary bars
INK = "black"
GREY_INK = "#404040"
STRIP_COLOUR = "#D9D9D9"  # "Risk of bias domains" header bar (robvis strip)
STRIPE_COLOUR = "#F2F2F2"  # every other study row
GRID_COLOUR = "#BFBFBF"
SEPARATOR_COLOUR = "#7F7F7F"  # between the domains and the Overall column
CIRCLE_EDGE = "#4D4D4D"
GRID_LINEWIDTH = 0.5  # pt
SEPARATOR_LINEWIDTH = 1.0  # pt
CIRCLE_LINEWIDTH = 0.5  # pt
AXIS_LINEWIDTH = 0.6  # pt
BAR_EDGE = "white"
BAR_LINEWIDTH = 0.6  # pt, between the segments of a bar
#: Symbols on these colours are white (contrast ratio above 4.5), others black.
DARK_COLOURS = frozenset({"#BF0000", "#820000"})
#: The multiplication sign is small for its font size; it is drawn larger.
SYMBOL_SCALE = {"\u00d7": 1.35}

# --- geometry, in inches ------------------------------------------------------
MARGIN = 0.15
CELL = 0.34  # traffic light: column width and row pitch
RADIUS = 0.12  # traffic light circle
LEGEND_RADIUS = 0.075
LEGEND_PITCH = 0.21
LABEL_GAP = 0.12  # study labels to the grid
LABEL_MAX = 2.6  # widest study label; longer ones are ellipsised
OVERALL_GAP = 0.08  # summary: extra space before the Overall row
STRIP_PAD = 0.05
TITLE_GAP = 0.12
HEADER_ROW = 0.26  # column headers D1, D2, ..., Overall
SECTION_GAP = 0.25  # grid to the key and legend
KEY_GAP = 0.4  # domain key to the legend
LINE_PITCH_EM = 1.4
BAR_WIDTH = 3.3  # summary: the 100% bar
BAR_HEIGHT = 0.22
BAR_PITCH = 0.32
TICK_LENGTH = 0.05
TICK_GAP = 0.03
LEGEND_SWATCH = 0.13
LEGEND_ENTRY_GAP = 0.22
PERCENT_PAD = 0.04
ELLIPSIS = "\u2026"
#: Resolution of the PNG files.
PNG_DPI = 300

# --- text measurement -----------------------------------------------------------


@functools.cache
def _ink_middle(text: str, size: float, bold: bool) -> float:
    """Height of the middle of a glyph's ink above the baseline, in inches."""
    extents = TextPath((0, 0), text, prop=_st.font(size, bold)).get_extents()
    return (extents.y0 + extents.y1) / 2 / 72


@dataclass(frozen=True)
class _Type:
    """One font size and weight."""

    size: float
    bold: bool = False

    @property
    def em(self) -> float:
        return self.size / 72

    @property
    def ascent(self) -> float:
        return _st.vertical_metrics()[0] * self.em

    @property
    def descent(self) -> float:
        return _st.vertical_metrics()[1] * self.em

    @property
    def pitch(self) -> float:
        return LINE_PITCH_EM * self.em

    @property
    def middle(self) -> float:
        """Baseline to the middle of the capitals, in inches."""
        return 0.365 * self.em  # DejaVu Sans: cap height 0.729 em

    def width(self, text: str) -> float:
        return _st.text_width(text, self.size, self.bold)

    def ellipsise(self, text: str, width: float) -> str:
        """Cut the text and end it with an ellipsis if it is wider than ``width``."""
        if self.width(text) <= width:
            return text
        lo, hi = 0, len(text)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.width(text[:mid].rstrip() + ELLIPSIS) <= width:
                lo = mid
            else:
                hi = mid - 1
        return text[:lo].rstrip() + ELLIPSIS

    def wrap(self, text: str, width: float) -> list[str]:
        """Greedy word wrap; a word wider than the line is ellipsised."""
        lines: list[str] = []
        current = ""
        for word in text.split():
            candidate = f"{current} {word}" if current else word
            if self.width(candidate) <= width or not current:
                current = candidate
            else:
                lines.append(current)
                current = word
        lines.append(current)
        return [self.ellipsise(line, width) for line in lines]


TITLE = _Type(TITLE_SIZE, bold=True)
BODY = _Type(BODY_SIZE)
BOLD = _Type(BODY_SIZE, bold=True)
NOTE = _Type(NOTE_SIZE)
PERCENT = _Type(PERCENT_SIZE)


# --- drawing helpers --------------------------------------------------------------


class _Canvas:
    """A figure addressed in inches from its top-left corner."""

    def __init__(self, width: float, height: float) -> None:
        self.width = width
        self.height = height
        self.fig = Figure(figsize=(width, height), dpi=100, facecolor="white")
        FigureCanvasAgg(self.fig)
        self.inches = self.fig.dpi_scale_trans

    def text(
        self,
        x: float,
        baseline: float,
        text: str,
        style: _Type,
        gid: str,
        *,
        ha: str = "left",
        colour: str = INK,
    ) -> None:
        self.fig.text(
            x,
            self.height - baseline,
            text,
            transform=self.inches,
            fontproperties=_st.font(style.size, style.bold),
            color=colour,
            ha=ha,
            va="baseline",
            parse_math=False,
            usetex=False,
            gid=gid,
            zorder=4,
        )

    def rect(
        self,
        x: float,
        top: float,
        w: float,
        h: float,
        colour: str,
        gid: str,
        *,
        edge: str = "none",
        linewidth: float = 0.0,
        zorder: float = 1,
    ) -> None:
        self.fig.add_artist(
            Rectangle(
                (x, self.height - top - h),
                w,
                h,
                transform=self.inches,
                facecolor=colour,
                edgecolor=edge,
                linewidth=linewidth,
                joinstyle="miter",
                gid=gid,
                zorder=zorder,
            )
        )

    def line(
        self,
        xs: Sequence[float],
        ys: Sequence[float],
        colour: str,
        width: float,
        gid: str,
        zorder: float = 2,
    ) -> None:
        self.fig.add_artist(
            Line2D(
                list(xs),
                [self.height - y for y in ys],
                transform=self.inches,
                color=colour,
                linewidth=width,
                solid_capstyle="butt",
                gid=gid,
                zorder=zorder,
            )
        )

    def light(
        self,
        x: float,
        y: float,
        radius: float,
        level: str,
        spec: ToolSpec,
        size: float,
        gid: str,
    ) -> None:
        """Draw a coloured circle with the level's symbol, centred on (x, y)."""
        colour = spec.colours[level]
        self.fig.add_artist(
            Circle(
                (x, self.height - y),
                radius,
                transform=self.inches,
                facecolor=colour,
                edgecolor=CIRCLE_EDGE,
                linewidth=CIRCLE_LINEWIDTH,
                gid=gid,
                zorder=3,
            )
        )
        symbol = spec.symbols[level]
        size = size * SYMBOL_SCALE.get(symbol, 1.0)
        style = _Type(size, bold=True)
        ink = "white" if colour.upper() in DARK_COLOURS else INK
        self.text(
            x,
            y + _ink_middle(symbol, size, True),
            symbol,
            style,
            f"{gid}-symbol",
            ha="center",
            colour=ink,
        )


def _title(spec: ToolSpec, kind: str) -> str:
    return f"{kind}: {spec.name} ({spec.design})"


def _message_figure(text: str, gid: str) -> Figure:
    """Draw a small figure that only says ``text`` (a tool without studies)."""
    width = BODY.width(text) + 2 * MARGIN + 0.2
    height = 2 * MARGIN + BODY.ascent + BODY.descent + 0.2
    canvas = _Canvas(width, height)
    baseline = height / 2 + BODY.middle
    canvas.text(width / 2, baseline, text, BODY, gid, ha="center", colour=GREY_INK)
    return canvas.fig


def _empty_text(spec: ToolSpec) -> str:
    return f"No studies assessed with {spec.name}"


def _row_label(row: Mapping[str, object]) -> str:
    study = str(row.get("label") or row["study_id"])
    outcome = row.get("outcome")
    if outcome and str(outcome) != DEFAULT_OUTCOME:
        return f"{study}: {outcome}"
    return study


# --- traffic-light plot -------------------------------------------------------


def traffic_light_figure(
    frame: pd.DataFrame, tool: str, labels: Mapping[str, str] | None = None
) -> Figure:
    """Draw a robvis-style traffic-light plot of one tool's judgements.

    Parameters
    ----------
    frame : pandas.DataFrame
        As returned by :func:`evsynth.rob.model.read_rob`.
    tool : str
        ``rob2`` or ``robins_i``.
    labels : mapping of str to str, optional
        Each study's label for readers (author and year, see
        :mod:`evsynth.labels`); a study without one is shown by its id.

    Returns
    -------
    matplotlib.figure.Figure
        A figure on the Agg canvas, sized in inches to its content: a row per
        study (and outcome, "study: outcome", when not "all outcomes"), a
        column per domain (D1 ...) and Overall. Artists carry ids:
        ``rob-light-<i>-<column>`` for the circle of row ``i`` (0-based) and
        column ``D1`` ... or ``overall``, ``<circle id>-symbol`` for its
        symbol, ``rob-study-<i>`` for the row label, ``rob-column-<column>``
        for the column headers, ``rob-key-<code>`` for the domain key and
        ``rob-legend-<level>`` (circle) and ``rob-legend-<level>-label``. A
        tool without studies gives a small figure saying so.
    """
    spec = tool_spec(tool)
    rows = frame[frame["tool"] == tool].to_dict(orient="records")
    for row in rows:
        row["label"] = label_of(labels, row["study_id"])
    with _st.style():
        if not rows:
            return _message_figure(_empty_text(spec), "rob-empty")
        return _traffic_light(spec, rows)


def _traffic_light(spec: ToolSpec, rows: list[dict]) -> Figure:
    codes = [code for code, _ in spec.domains]
    labels = [BODY.ellipsise(_row_label(row), LABEL_MAX) for row in rows]
    label_w = max(BOLD.width("Study"), *(BODY.width(t) for t in labels))
    overall_w = max(CELL, BOLD.width("Overall") + 0.1)
    grid_w = CELL * len(codes) + overall_w
    title = _title(spec, "Risk of bias")

    key_lines = [f"{code}: {name}" for code, name in spec.domains]
    key_w = max(BOLD.width("Domains:"), *(BODY.width(t) for t in key_lines))
    legend_labels = [spec.labels[level] for level in spec.levels]
    legend_w = max(
        BOLD.width("Judgement"),
        *(2 * LEGEND_RADIUS + 0.08 + BODY.width(t) for t in legend_labels),
    )
    reference = f"{spec.name}: {spec.reference}"

    left = MARGIN
    grid_x = left + label_w + LABEL_GAP
    content_w = max(
        TITLE.width(title),
        grid_x - left + grid_w,
        key_w + KEY_GAP + legend_w,
        NOTE.width(reference),
    )
    width = content_w + 2 * MARGIN

    # Vertical positions, top down.
    y = MARGIN
    title_baseline = y + TITLE.ascent
    y += TITLE.ascent + TITLE.descent + TITLE_GAP
    strip_top = y
    strip_h = BOLD.ascent + BOLD.descent + 2 * STRIP_PAD
    y += strip_h
    header_top = y
    y += HEADER_ROW
    grid_top = y
    y += CELL * len(rows)
    grid_bottom = y
    y += SECTION_GAP
    key_top = y
    key_h = BOLD.pitch + BODY.pitch * (len(key_lines) - 1) + BODY.ascent
    key_h += BODY.descent
    legend_h = BOLD.pitch + LEGEND_PITCH * (len(legend_labels) - 1) + LEGEND_RADIUS
    legend_h += BOLD.ascent - BOLD.middle
    y += max(key_h, legend_h) + 0.12
    reference_baseline = y + NOTE.ascent
    y += NOTE.ascent + NOTE.descent
    height = y + MARGIN

    canvas = _Canvas(width, height)
    canvas.text(left, title_baseline, title, TITLE, "rob-title")

    # Strip over the domain columns, as robvis' "Risk of bias domains".
    canvas.rect(grid_x, strip_top, grid_w, strip_h, STRIP_COLOUR, "rob-strip")
    canvas.text(
        grid_x + grid_w / 2,
        strip_top + strip_h / 2 + BOLD.middle,
        "Risk of bias domains",
        BOLD,
        "rob-strip-label",
        ha="center",
    )

    column_x = [grid_x + CELL * (i + 0.5) for i in range(len(codes))]
    overall_x = grid_x + CELL * len(codes) + overall_w / 2
    header_baseline = header_top + HEADER_ROW / 2 + BOLD.middle
    canvas.text(left, header_baseline, "Study", BOLD, "rob-column-study")
    for code, x in zip(codes, column_x, strict=True):
        canvas.text(x, header_baseline, code, BOLD, f"rob-column-{code}", ha="center")
    canvas.text(
        overall_x, header_baseline, "Overall", BOLD, "rob-column-overall", ha="center"
    )

    # Rows: stripes, then labels and lights.
    grid_right = grid_x + grid_w
    for i, (row, label) in enumerate(zip(rows, labels, strict=True)):
        top = grid_top + CELL * i
        centre = top + CELL / 2
        if i % 2 == 0:
            canvas.rect(
                left, top, grid_right - left, CELL, STRIPE_COLOUR, f"rob-stripe-{i}"
            )
        canvas.text(left, centre + BODY.middle, label, BODY, f"rob-study-{i}")
        for code, x in zip(codes, column_x, strict=True):
            level = row[code.lower()]
            if level:
                canvas.light(
                    x,
                    centre,
                    RADIUS,
                    str(level),
                    spec,
                    SYMBOL_SIZE,
                    f"rob-light-{i}-{code}",
                )
        canvas.light(
            overall_x,
            centre,
            RADIUS,
            str(row["overall"]),
            spec,
            SYMBOL_SIZE,
            f"rob-light-{i}-overall",
        )

    # Grid lines: around the panel and between columns; a darker one before
    # the Overall column.
    edges = [grid_x + CELL * k for k in range(len(codes) + 1)] + [grid_right]
    for k, x in enumerate(edges):
        separator = k == len(codes)
        canvas.line(
            [x, x],
            [header_top, grid_bottom],
            SEPARATOR_COLOUR if separator else GRID_COLOUR,
            SEPARATOR_LINEWIDTH if separator else GRID_LINEWIDTH,
            f"rob-grid-v{k}",
            zorder=2.5 if separator else 2,
        )
    for k, yy in enumerate((header_top, grid_top, grid_bottom)):
        canvas.line(
            [left, grid_right], [yy, yy], GRID_COLOUR, GRID_LINEWIDTH, f"rob-grid-h{k}"
        )

    # Domain key (left) and judgement legend (right).
    canvas.text(left, key_top + BOLD.ascent, "Domains:", BOLD, "rob-key-title")
    baseline = key_top + BOLD.ascent + BOLD.pitch
    for (code, _), text in zip(spec.domains, key_lines, strict=True):
        canvas.text(left, baseline, text, BODY, f"rob-key-{code}")
        baseline += BODY.pitch
    legend_x = left + key_w + KEY_GAP
    canvas.text(legend_x, key_top + BOLD.ascent, "Judgement", BOLD, "rob-legend-title")
    centre = key_top + BOLD.ascent + BOLD.pitch - BODY.middle
    for level, text in zip(spec.levels, legend_labels, strict=True):
        gid = f"rob-legend-{level}"
        canvas.light(
            legend_x + LEGEND_RADIUS,
            centre,
            LEGEND_RADIUS,
            level,
            spec,
            LEGEND_SYMBOL_SIZE,
            gid,
        )
        x = legend_x + 2 * LEGEND_RADIUS + 0.08
        canvas.text(x, centre + BODY.middle, text, BODY, f"{gid}-label")
        centre += LEGEND_PITCH
    canvas.text(
        left, reference_baseline, reference, NOTE, "rob-reference", colour=GREY_INK
    )
    return canvas.fig


# --- summary plot -----------------------------------------------------------------


def summary_figure(
    frame: pd.DataFrame,
    tool: str,
    weights: Mapping[str, float] | None = None,
    *,
    title: str | None = None,
    subtitle: Sequence[str] | None = None,
    axis_label: str | None = None,
) -> Figure:
    """Draw a robvis-style summary plot: the share of studies at each level.

    Parameters
    ----------
    frame : pandas.DataFrame
        As returned by :func:`evsynth.rob.model.read_rob`: the rows to show
        (a caller drawing a subset of the studies passes only theirs).
    tool : str
        ``rob2`` or ``robins_i``.
    weights : mapping of str to float, optional
        Weight of each study (its meta-analysis weight, its participants);
        the bars then give the share of the total weight. Every study of the
        tool in ``frame`` must have one. By default each study counts once.
    title : str, optional
        The title; by default "Risk of bias summary: <tool> (<design>)".
    subtitle : sequence of str, optional
        Sentences under the title saying what the bars weigh, each wrapped to
        the figure's width; by default a sentence saying "Unweighted" or
        "Weighted" and the number of studies.
    axis_label : str, optional
        The axis's label; by default "Share of studies (%)" or "Share of the
        total weight (%)".

    Returns
    -------
    matplotlib.figure.Figure
        One horizontal 100% stacked bar per domain and for the overall
        judgement, levels from best (left) to worst, "no information" last.
        Artists carry ids: ``rob-title``, ``rob-subtitle-<k>`` for the
        subtitle's lines, ``rob-bar-<row>-<level>`` for a bar segment (row
        ``D1`` ... or ``overall``; drawn only when its share is above 0),
        ``rob-bar-<row>-<level>-percent`` for its percentage (when it fits),
        ``rob-bar-<row>-label`` for the row label, ``rob-axis-label`` and
        ``rob-legend-<level>`` / ``-label`` for the legend. A tool without
        studies (or whose studies all have weight 0) gives a small figure
        saying so.

    Raises
    ------
    ValueError
        If a study of the tool has no weight in ``weights``, or a weight is
        negative or not a finite number.
    """
    spec = tool_spec(tool)
    if weights is not None:
        assessed = frame.loc[frame["tool"] == tool, "study_id"].astype(str)
        missing = [s for s in dict.fromkeys(assessed) if s not in weights]
        if missing:
            raise ValueError(
                f"no weight for study {missing[0]!r} in the {spec.name} summary "
                f"plot ({len(missing)} {_studies(len(missing))} without one)"
            )
    shares = summary_proportions(frame, tool, weights)
    with _st.style():
        if shares.attrs["studies"] == 0:
            return _message_figure(_empty_text(spec), "rob-empty")
        if shares.attrs["weighted"] == 0:
            return _message_figure(
                f"No study assessed with {spec.name} has a weight", "rob-empty"
            )
        studies = shares.attrs["studies"]
        if subtitle is None:
            subtitle = [
                f"Weighted: share of the total weight of {studies} "
                f"{_studies(studies)} at each level"
                if weights is not None
                else f"Unweighted: share of the {studies} {_studies(studies)} "
                "at each level"
            ]
        if axis_label is None:
            axis_label = (
                "Share of the total weight (%)"
                if weights is not None
                else "Share of studies (%)"
            )
        return _summary(
            spec,
            shares,
            title=title or _title(spec, "Risk of bias summary"),
            subtitle=list(subtitle),
            axis_label=axis_label,
        )


def message_figure(text: str) -> Figure:
    """Draw a small figure that only says ``text`` (id ``rob-empty``).

    Parameters
    ----------
    text : str
        E.g. why a summary plot has nothing to show.

    Returns
    -------
    matplotlib.figure.Figure
        On the Agg canvas, as the other figures.
    """
    with _st.style():
        return _message_figure(text, "rob-empty")


def _summary(
    spec: ToolSpec,
    shares: pd.DataFrame,
    *,
    title: str,
    subtitle: list[str],
    axis_label: str,
) -> Figure:
    names = {code: f"{code} {name}" for code, name in spec.domains}
    names["Overall"] = "Overall risk of bias"
    keys = list(shares.index)
    label_w = max(
        BOLD.width(names["Overall"]), *(BODY.width(names[k]) for k in keys[:-1])
    )
    legend = [(level, _legend_label(spec, level)) for level in spec.levels]

    left = MARGIN
    bar_x = left + label_w + LABEL_GAP
    overhang = BODY.width("100%") / 2  # the last tick label, centred on the end
    content_w = max(bar_x - left + BAR_WIDTH + overhang, TITLE.width(title))
    subtitle_lines = [line for text in subtitle for line in BODY.wrap(text, content_w)]
    content_w = max(content_w, *(BODY.width(t) for t in subtitle_lines))
    # Legend: entries in aligned columns, as many as fit, centred under the
    # figure as in robvis.
    entry_w = max(LEGEND_SWATCH + 0.06 + BODY.width(text) for _, text in legend)
    pitch = entry_w + LEGEND_ENTRY_GAP
    per_row = max(1, min(len(legend), int((content_w + LEGEND_ENTRY_GAP) // pitch)))
    legend_w = per_row * pitch - LEGEND_ENTRY_GAP
    content_w = max(content_w, legend_w)
    legend_x = left + (content_w - legend_w) / 2
    legend_rows = [
        [
            (level, text, legend_x + (k - start) * pitch)
            for k, (level, text) in enumerate(legend)
            if start <= k < start + per_row
        ]
        for start in range(0, len(legend), per_row)
    ]
    width = content_w + 2 * MARGIN

    y = MARGIN
    title_baseline = y + TITLE.ascent
    y += TITLE.ascent + TITLE.descent + 0.04
    subtitle_baseline = y + BODY.ascent
    y += BODY.pitch * (len(subtitle_lines) - 1) + BODY.ascent + BODY.descent
    y += TITLE_GAP
    row_top = {}
    for key in keys:
        if key == "Overall":
            y += OVERALL_GAP
        row_top[key] = y
        y += BAR_PITCH
    axis_y = y
    tick_baseline = axis_y + TICK_LENGTH + TICK_GAP + BODY.ascent
    y = tick_baseline + BODY.descent + 0.06
    axis_label_baseline = y + BODY.ascent
    y = axis_label_baseline + BODY.descent + 0.16
    legend_top = y
    y += LEGEND_PITCH * len(legend_rows)
    height = y + MARGIN - (LEGEND_PITCH - LEGEND_SWATCH)

    canvas = _Canvas(width, height)
    canvas.text(left, title_baseline, title, TITLE, "rob-title")
    for k, text in enumerate(subtitle_lines):
        canvas.text(
            left, subtitle_baseline + k * BODY.pitch, text, BODY, f"rob-subtitle-{k}"
        )

    for key in keys:
        gid = f"rob-bar-{key if key != 'Overall' else 'overall'}"
        centre = row_top[key] + BAR_PITCH / 2
        style = BOLD if key == "Overall" else BODY
        canvas.text(
            bar_x - LABEL_GAP,
            centre + style.middle,
            names[key],
            style,
            f"{gid}-label",
            ha="right",
        )
        x = bar_x
        for level in spec.levels:
            share = float(shares.loc[key, level])
            if not share > 0:
                continue
            w = share * BAR_WIDTH
            canvas.rect(
                x,
                centre - BAR_HEIGHT / 2,
                w,
                BAR_HEIGHT,
                spec.colours[level],
                f"{gid}-{level}",
                edge=BAR_EDGE,
                linewidth=BAR_LINEWIDTH,
                zorder=2,
            )
            percent = f"{share * 100:.0f}%"
            if PERCENT.width(percent) + 2 * PERCENT_PAD <= w:
                colour = "white" if spec.colours[level] in DARK_COLOURS else INK
                canvas.text(
                    x + w / 2,
                    centre + PERCENT.middle,
                    percent,
                    PERCENT,
                    f"{gid}-{level}-percent",
                    ha="center",
                    colour=colour,
                )
            x += w

    canvas.line(
        [bar_x, bar_x + BAR_WIDTH], [axis_y, axis_y], INK, AXIS_LINEWIDTH, "rob-axis"
    )
    for tick in (0, 25, 50, 75, 100):
        x = bar_x + BAR_WIDTH * tick / 100
        canvas.line(
            [x, x],
            [axis_y, axis_y + TICK_LENGTH],
            INK,
            AXIS_LINEWIDTH,
            f"rob-tick-{tick}",
        )
        canvas.text(
            x, tick_baseline, f"{tick}%", BODY, f"rob-tick-{tick}-label", ha="center"
        )
    canvas.text(
        bar_x + BAR_WIDTH / 2,
        axis_label_baseline,
        axis_label,
        BODY,
        "rob-axis-label",
        ha="center",
    )

    for r, entries in enumerate(legend_rows):
        top = legend_top + r * LEGEND_PITCH
        for level, text, x in entries:
            gid = f"rob-legend-{level}"
            canvas.rect(
                x,
                top,
                LEGEND_SWATCH,
                LEGEND_SWATCH,
                spec.colours[level],
                gid,
                edge=CIRCLE_EDGE,
                linewidth=CIRCLE_LINEWIDTH,
            )
            canvas.text(
                x + LEGEND_SWATCH + 0.06,
                top + LEGEND_SWATCH / 2 + BODY.middle,
                text,
                BODY,
                f"{gid}-label",
            )
    return canvas.fig


def _studies(n: int) -> str:
    return "study" if n == 1 else "studies"


def _legend_label(spec: ToolSpec, level: str) -> str:
    label = spec.labels[level]
    if level in spec.unranked or level == "some_concerns":
        return label
    return f"{label} risk of bias"


# --- files ------------------------------------------------------------------------


def save_figure(fig: Figure, path: Path, fmt: str, dpi: int = PNG_DPI) -> None:
    """Save a figure so that the same figure always gives the same bytes.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        From :func:`traffic_light_figure` or :func:`summary_figure`.
    path : Path
        Where to write (not atomic: use inside :func:`evsynth.io.write_files`).
    fmt : str
        ``"png"`` or ``"svg"``.
    dpi : int, default 300
        Resolution of a PNG.
    """
    with _st.style():
        if fmt == "svg":
            fig.savefig(path, format="svg", dpi=dpi, metadata={"Date": None})
        elif fmt == "png":
            fig.savefig(path, format="png", dpi=dpi)
        else:
            raise ValueError(f"unknown figure format {fmt!r} (use png or svg)")
