"""Contour-enhanced funnel plots, drawn with matplotlib.

As metafor's ``funnel()``: effect sizes across, standard errors down (0 at the
top), a vertical line at the pooled estimate with its pseudo 95% confidence
region, and shading for the regions where a study would be statistically
significant around the null value (Peters et al. 2008, J Clin Epidemiol 61:991).
Trim-and-fill's imputed studies are drawn as open circles and the adjusted
estimate as a dashed line. The legend stands to the right of the axes, so it
never covers a point.

The plot takes plain numbers (:class:`FunnelData`); it computes no statistics.
It is built on a bare :class:`matplotlib.figure.Figure` with the Agg canvas and
the same data always give byte-identical files.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from statistics import NormalDist

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Polygon

from evsynth.plots import style as _st
from evsynth.plots.forest import (
    AXIS_LINEWIDTH,
    BODY_SIZE,
    INK,
    NOTE_SIZE,
    TITLE_SIZE,
    TextFont,
    check_dpi,
    check_real,
    check_text,
    fmt_number,
    linear_ticks,
    ratio_ticks,
    save_png_svg,
    tick_decimals,
)

__all__ = ["FunnelData", "draw_funnel", "funnel_figure"]

# --- appearance ---------------------------------------------------------------
POINT_SIZE = 5.0  # pt, marker diameter
POINT_EDGE = 0.6  # pt
ESTIMATE_COLOUR = INK
ADJUSTED_COLOUR = "#b2182b"
PSEUDO_CI_COLOUR = "#404040"
NULL_COLOUR = "#595959"
#: Greys of the significance regions, from "not significant" (white) to the
#: most significant region outside the outermost contour.
SHADE_LIGHTEST = 1.0
SHADE_DARKEST = 0.76

# --- geometry, inches ---------------------------------------------------------
MARGIN = 0.12
AXES_WIDTH = 3.6
AXES_HEIGHT = 2.9
LEGEND_GAP = 0.15
TITLE_GAP = 0.1
LABEL_GAP = 0.06  # tick labels to the axis labels
TICK_LENGTH = 3.0  # pt
TICK_PAD = 2.0  # pt
LEGEND_SLACK = 0.04  # room for rounding when the legend is measured
MAX_Y_INTERVALS = 5


@dataclass
class FunnelData:
    """Everything a funnel plot shows.

    Parameters
    ----------
    yi, sei : list of float
        Effect sizes (analysis scale: logs for ratio measures) and their
        standard errors.
    estimate : float
        The pooled estimate; the pseudo 95% confidence region is drawn around
        it.
    filled_yi, filled_sei : list of float
        Studies imputed by trim-and-fill, drawn as open circles.
    filled_estimate : float, optional
        The estimate adjusted by trim-and-fill, drawn as a dashed line.
    contours : tuple of float
        Confidence levels whose two-sided significance contours around
        ``null_value`` are shaded; empty for none.
    null_value : float
        The value of no effect.
    measure_label : str
        Axis label, e.g. "Hedges' g".
    title : str, optional
        Title above the plot.
    exponentiate : bool
        Label the axis with ratios (``exp``) on a log scale.
    """

    yi: list[float]
    sei: list[float]
    estimate: float
    filled_yi: list[float] = field(default_factory=list)
    filled_sei: list[float] = field(default_factory=list)
    filled_estimate: float | None = None
    contours: tuple[float, ...] = (0.90, 0.95, 0.99)
    null_value: float = 0.0
    measure_label: str = "Hedges' g"
    title: str | None = None
    exponentiate: bool = False


def _numbers(values: object, where: str, *, positive: bool = False) -> list[float]:
    if not isinstance(values, Sequence) or isinstance(values, str):
        raise TypeError(f"{where} must be a list of numbers")
    out = [check_real(v, f"{where}[{i}]") for i, v in enumerate(values)]
    if positive:
        for i, v in enumerate(out):
            if v <= 0:
                raise ValueError(f"{where}[{i}] must be positive, got {v}")
    return out


def _validate(data: object) -> None:
    if not isinstance(data, FunnelData):
        raise TypeError(f"expected a FunnelData, got {type(data).__name__}")
    yi = _numbers(data.yi, "FunnelData.yi")
    sei = _numbers(data.sei, "FunnelData.sei", positive=True)
    if not yi or len(yi) != len(sei):
        raise ValueError("FunnelData.yi and sei must be equally long, not empty")
    fyi = _numbers(data.filled_yi, "FunnelData.filled_yi")
    fsei = _numbers(data.filled_sei, "FunnelData.filled_sei", positive=True)
    if len(fyi) != len(fsei):
        raise ValueError("FunnelData.filled_yi and filled_sei must be equally long")
    check_real(data.estimate, "FunnelData.estimate")
    check_real(data.filled_estimate, "FunnelData.filled_estimate", optional=True)
    check_real(data.null_value, "FunnelData.null_value")
    levels = _numbers(list(data.contours), "FunnelData.contours")
    if any(not 0 < v < 1 for v in levels) or len(set(levels)) != len(levels):
        raise ValueError("FunnelData.contours must be distinct levels in (0, 1)")
    check_text(data.measure_label, "FunnelData.measure_label")
    if data.title is not None:
        check_text(data.title, "FunnelData.title")
    if data.exponentiate not in (True, False):
        raise ValueError("FunnelData.exponentiate must be True or False")


def _p_text(p: float) -> str:
    return f"{p:.2f}" if p >= 0.01 else f"{p:.3g}"


def _bands(levels: Sequence[float]) -> list[tuple[str, str]]:
    """Legend labels and greys of the regions, innermost first."""
    levels = sorted(levels)
    alphas = [1 - v for v in levels]  # decreasing
    labels = [f"p > {_p_text(alphas[0])}"]
    labels += [
        f"{_p_text(alphas[i + 1])} < p \u2264 {_p_text(alphas[i])}"
        for i in range(len(alphas) - 1)
    ]
    labels.append(f"p \u2264 {_p_text(alphas[-1])}")
    m = len(levels)
    greys = [
        SHADE_LIGHTEST - (SHADE_LIGHTEST - SHADE_DARKEST) * i / m for i in range(m + 1)
    ]
    return [(label, f"{g:.3f}") for label, g in zip(labels, greys, strict=True)]


def _y_ticks(se_max: float) -> tuple[float, list[float], list[str]]:
    """Choose the bottom of the axis (a nice value above the largest SE) and ticks."""
    top = se_max * 1.04
    for m in (0.01, 0.02, 0.025, 0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 2.5, 5):
        step = m * 10.0 ** math.floor(math.log10(top))
        n = math.ceil(top / step - 1e-9)
        if n <= MAX_Y_INTERVALS:
            ticks = [k * step for k in range(n + 1)]
            labels = [fmt_number(t, tick_decimals(step)) for t in ticks]
            return ticks[-1], ticks, labels
    raise AssertionError("no y step fits")  # pragma: no cover


def _figure(data: FunnelData, dpis: tuple[float, ...]) -> Figure:
    _validate(data)
    with _st.style():
        return _draw(data, dpis)


def _draw(data: FunnelData, dpis: tuple[float, ...]) -> Figure:
    body = TextFont(BODY_SIZE, dpis)
    big = TextFont(TITLE_SIZE, dpis, bold=True)
    z95 = NormalDist().inv_cdf(0.975)
    yi = [float(v) for v in data.yi]
    sei = [float(v) for v in data.sei]
    fyi = [float(v) for v in data.filled_yi]
    fsei = [float(v) for v in data.filled_sei]
    null = float(data.null_value)
    estimate = float(data.estimate)
    levels = sorted(float(v) for v in data.contours)
    zs = [NormalDist().inv_cdf(0.5 + v / 2) for v in levels]

    y_max, y_ticks, y_labels = _y_ticks(max(sei + fsei))
    xs = [*yi, *fyi, estimate - z95 * y_max, estimate + z95 * y_max, null]
    if data.filled_estimate is not None:
        xs.append(float(data.filled_estimate))
    if zs:
        xs += [null - zs[-1] * y_max, null + zs[-1] * y_max]
    lo, hi = min(xs), max(xs)
    pad = 0.03 * (hi - lo)
    lo, hi = lo - pad, hi + pad
    if data.exponentiate:
        x_ticks, x_labels = ratio_ticks(lo, hi, AXES_WIDTH)
    else:
        x_ticks, x_labels = linear_ticks(lo, hi, AXES_WIDTH)
    # The axis ends at the data, not at the next tick beyond it.
    x_lim = (lo, hi)
    kept = [i for i, t in enumerate(x_ticks) if lo <= t <= hi]
    x_ticks = [x_ticks[i] for i in kept]
    x_labels = [x_labels[i] for i in kept]
    xlabel = " ".join(data.measure_label.split())
    if data.exponentiate and xlabel:
        xlabel += " (log scale)"
    ylabel = "Standard error"

    # Horizontal and vertical room, in inches.
    tick_out = (TICK_LENGTH + TICK_PAD) / 72
    line_h = body.ascent + body.descent
    y_label_w = max(body.width(t) for t in y_labels)
    left = MARGIN + line_h + LABEL_GAP + y_label_w + tick_out
    overhang = max(0.0, body.width(x_labels[0]) / 2 - (left - MARGIN))
    left += overhang
    title_lines: list[str] = []
    top = MARGIN
    if data.title and data.title.strip():
        title_lines = big.wrap(" ".join(data.title.split()), 4.5)
        top += big.pitch * (len(title_lines) - 1) + big.ascent + big.descent
        top += TITLE_GAP
    top += body.ascent / 2  # the top tick label reaches above the axis
    bottom = MARGIN + line_h + LABEL_GAP + line_h + tick_out
    height = top + AXES_HEIGHT + bottom

    fig = Figure(figsize=(10.0, height), dpi=100, facecolor="white")
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_gid("funnel-axes")
    ax.set_xlim(*x_lim)
    ax.set_ylim(y_max, 0.0)  # standard errors downwards: 0 at the top
    ax.set_xticks(x_ticks, x_labels, fontproperties=_st.font(BODY_SIZE))
    ax.set_yticks(y_ticks, y_labels, fontproperties=_st.font(BODY_SIZE))
    ax.minorticks_off()
    ax.tick_params(
        direction="out",
        length=TICK_LENGTH,
        width=AXIS_LINEWIDTH,
        pad=TICK_PAD,
        colors=INK,
    )
    for spine in ax.spines.values():
        spine.set_linewidth(AXIS_LINEWIDTH)
    for label in [*ax.get_xticklabels(), *ax.get_yticklabels()]:
        label.set_parse_math(False)

    # Significance regions: the background is the most significant band;
    # each contour's wedge is painted over it, widest first.
    handles: list[tuple[object, str]] = []
    if levels:
        bands = _bands(levels)
        ax.set_facecolor(bands[-1][1])
        for i in reversed(range(len(levels))):
            w = zs[i] * y_max
            ax.add_patch(
                Polygon(
                    [(null, 0.0), (null - w, y_max), (null + w, y_max)],
                    closed=True,
                    facecolor=bands[i][1],
                    edgecolor="none",
                    linewidth=0.0,
                    gid=f"funnel-contour-{levels[i]:g}",
                    zorder=0.5,
                )
            )
        band_handles = [
            (
                Patch(facecolor=grey, edgecolor="#8c8c8c", linewidth=0.5),
                label,
            )
            for label, grey in bands
        ]
        ax.add_line(
            Line2D(
                [null, null],
                [0.0, y_max],
                color=NULL_COLOUR,
                linewidth=0.6,
                linestyle=(0, (1, 1.5)),
                gid="funnel-null",
                zorder=1,
            )
        )
    else:
        band_handles = []

    # Pseudo 95% confidence region around the estimate, and the estimate.
    w = z95 * y_max
    ax.add_line(
        Line2D(
            [estimate - w, estimate, estimate + w],
            [y_max, 0.0, y_max],
            color=PSEUDO_CI_COLOUR,
            linewidth=0.8,
            linestyle=(0, (4, 2)),
            gid="funnel-pseudo-ci",
            zorder=2,
        )
    )
    ax.add_line(
        Line2D(
            [estimate, estimate],
            [0.0, y_max],
            color=ESTIMATE_COLOUR,
            linewidth=1.0,
            gid="funnel-estimate",
            zorder=2,
        )
    )
    handles.append(
        (Line2D([], [], color=ESTIMATE_COLOUR, linewidth=1.0), "Pooled estimate")
    )
    handles.append(
        (
            Line2D(
                [], [], color=PSEUDO_CI_COLOUR, linewidth=0.8, linestyle=(0, (4, 2))
            ),
            "Pseudo 95% CI",
        )
    )
    if data.filled_estimate is not None:
        adj = float(data.filled_estimate)
        ax.add_line(
            Line2D(
                [adj, adj],
                [0.0, y_max],
                color=ADJUSTED_COLOUR,
                linewidth=1.0,
                linestyle=(0, (3, 1.5)),
                gid="funnel-adjusted-estimate",
                zorder=2,
            )
        )
        handles.append(
            (
                Line2D(
                    [],
                    [],
                    color=ADJUSTED_COLOUR,
                    linewidth=1.0,
                    linestyle=(0, (3, 1.5)),
                ),
                "Adjusted estimate",
            )
        )

    marker = {
        "marker": "o",
        "markersize": POINT_SIZE,
        "markeredgewidth": POINT_EDGE,
        "markeredgecolor": INK,
        "linestyle": "none",
    }
    ax.add_line(
        Line2D(yi, sei, markerfacecolor=INK, gid="funnel-studies", zorder=4, **marker)
    )
    handles.insert(0, (Line2D([], [], markerfacecolor=INK, **marker), "Studies"))
    if fyi:
        ax.add_line(
            Line2D(
                fyi,
                fsei,
                markerfacecolor="white",
                gid="funnel-filled",
                zorder=4,
                **marker,
            )
        )
        handles.insert(
            1,
            (Line2D([], [], markerfacecolor="white", **marker), "Imputed studies"),
        )
    for artist in ax.lines:
        artist.set_clip_on(False)

    legend = Legend(
        ax,
        [h for h, _ in handles + band_handles],
        [t for _, t in handles + band_handles],
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
        borderaxespad=0.0,
        prop=_st.font(NOTE_SIZE),
        frameon=False,
        handlelength=2.2,
    )
    legend.set_gid("funnel-legend")
    ax.add_artist(legend)
    for text in legend.get_texts():
        text.set_parse_math(False)

    # Size the figure: measure the legend at every resolution it is drawn at.
    legend_w = 0.0
    for dpi in dpis:
        fig.set_dpi(dpi)
        renderer = fig.canvas.get_renderer()
        legend_w = max(legend_w, legend.get_window_extent(renderer).width / dpi)
    fig.set_dpi(100)
    legend_x = left + AXES_WIDTH + LEGEND_GAP
    width = legend_x + legend_w + LEGEND_SLACK + MARGIN
    fig.set_size_inches(width, height)
    ax.set_position(
        (left / width, bottom / height, AXES_WIDTH / width, AXES_HEIGHT / height)
    )
    legend.set_bbox_to_anchor(
        (legend_x / width, (height - top) / height), fig.transFigure
    )

    inches = fig.dpi_scale_trans

    def text(x, y, s, ts, gid, **kw):
        fig.text(
            x,
            y,
            s,
            transform=inches,
            fontproperties=ts.font,
            color=INK,
            parse_math=False,
            usetex=False,
            gid=gid,
            **kw,
        )

    y = height - MARGIN - big.ascent
    for i, line in enumerate(title_lines):
        text(MARGIN, y - i * big.pitch, line, big, f"funnel-title-line{i}", ha="left")
    text(
        left + AXES_WIDTH / 2,
        MARGIN + body.descent,
        xlabel,
        body,
        "funnel-xlabel",
        ha="center",
        va="baseline",
    )
    text(
        MARGIN + body.ascent,
        bottom + AXES_HEIGHT / 2,
        ylabel,
        body,
        "funnel-ylabel",
        ha="center",
        va="baseline",
        rotation=90,
        rotation_mode="anchor",
    )
    return fig


def funnel_figure(data: FunnelData) -> Figure:
    """Build a contour-enhanced funnel plot as a matplotlib figure.

    Parameters
    ----------
    data : FunnelData
        Effect sizes, standard errors, estimates and contour levels.

    Returns
    -------
    matplotlib.figure.Figure
        A figure on the Agg canvas (not managed by pyplot). The axes' id is
        ``funnel-axes``; its artists are ``funnel-studies`` and
        ``funnel-filled`` (markers), ``funnel-estimate``,
        ``funnel-adjusted-estimate``, ``funnel-pseudo-ci``, ``funnel-null``,
        ``funnel-contour-<level>`` and ``funnel-legend``.

    Raises
    ------
    ValueError
        If a number is not finite, a standard error is not positive, lists
        differ in length or a contour level is outside (0, 1).
    """
    return _figure(data, _st.MEASURE_DPI)


def draw_funnel(
    data: FunnelData, png: str | Path, svg: str | Path, *, dpi: int = 300
) -> None:
    """Draw a funnel plot to PNG and SVG files, byte-identical for the same data.

    Parameters
    ----------
    data : FunnelData
        Effect sizes, standard errors, estimates and contour levels.
    png, svg : str or Path
        Output paths; their folders are created if needed.
    dpi : int, default 300
        Resolution of the PNG.

    Raises
    ------
    ValueError
        If the data are invalid (see :func:`funnel_figure`) or ``dpi`` is not
        a positive integer.
    """
    dpi = check_dpi(dpi)
    fig = _figure(data, tuple(sorted({*_st.MEASURE_DPI, dpi})))
    save_png_svg(fig, png, svg, dpi)
