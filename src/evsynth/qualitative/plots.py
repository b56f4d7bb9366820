"""Heat maps of a framework matrix: themes x studies, or themes x perspectives.

Each cell is shaded by its count and the count is printed in it. The layout is
worked out in inches from text measured with the font renderer: theme labels
wrap, study labels stand upright when they do not fit side by side, and the
figure grows with the number of rows and columns, so no label is cut or
overlaps another whatever the names. The figure is built on a bare
:class:`matplotlib.figure.Figure` with the Agg canvas (never pyplot), and the
same matrix always gives byte-identical SVG and PNG files.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import matplotlib as mpl
import matplotlib.style
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import findfont, get_font
from matplotlib.patches import Rectangle

from evsynth.plots import style as _st

__all__ = ["heatmap_figure", "save_figure"]

# --- appearance ---------------------------------------------------------------
LABEL_SIZE = 8.0  # pt: theme and study labels, counts
AXIS_SIZE = 9.0  # pt, bold: xlabel and ylabel
TITLE_SIZE = 10.5  # pt, bold
INK = "black"
ZERO_INK = "#767676"  # a zero count: legible but quiet (4.5:1 on white)
GRID_COLOUR = "#bfbfbf"
GRID_LINEWIDTH = 0.6  # pt
CMAP = "Blues"
#: Counts from 1 to the largest are shaded along this stretch of the colour
#: map on a square-root scale (one large count does not wash out the rest);
#: 0 is white, so a count of 1 is already visibly tinted.
CMAP_RANGE = (0.18, 0.9)
#: Text in a cell is white where white contrasts more with the shade than
#: black does (WCAG contrast ratios cross at this relative luminance).
DARK = 0.179

# --- geometry, in inches unless the name says em ------------------------------
MARGIN = 0.15
TITLE_GAP = 0.14
AXIS_GAP = 0.08  # axis label to the labels it names
LABEL_GAP = 0.07  # labels to the grid
LINE_PITCH_EM = 1.2
ROW_LABEL_MAX = 3.2  # theme labels wrap at this width
ROW_MIN = 0.28
ROW_PAD = 0.05  # above and below a row label's lines
CELL_MIN = 0.4
CELL_PAD = 0.06  # around a count or an upright label's lines
#: Column labels are set side by side, wrapped at this width in at most two
#: lines, when they all fit; otherwise upright, wrapped at COL_UPRIGHT_MAX.
COL_FLAT_MAX = 1.15
COL_FLAT_LINES = 2
COL_FLAT_GRID_MAX = 9.0
COL_UPRIGHT_MAX = 1.9
#: A word too long for a line is broken after one of these if it can be.
BREAK_AFTER = ("_", "-", ".", "/")
TITLE_MIN_WIDTH = 4.0
TITLE_MAX_WIDTH = 7.0
PNG_DPI = 300


@functools.cache
def _metrics(size: float, bold: bool) -> tuple[float, float, float]:
    """Ascent, descent and line pitch in inches."""
    font = get_font(findfont(_st.font(size, bold)))
    em = size / 72
    return (
        font.ascender / font.units_per_EM * em,
        -font.descender / font.units_per_EM * em,
        LINE_PITCH_EM * em,
    )


@dataclass(frozen=True)
class _Block:
    """Wrapped lines of one label, in one font."""

    lines: tuple[str, ...]
    size: float
    bold: bool
    broken: bool = False  # a word had to be broken between characters

    @property
    def width(self) -> float:
        return max(
            (_st.text_width(line, self.size, self.bold) for line in self.lines),
            default=0,
        )

    @property
    def height(self) -> float:
        ascent, descent, pitch = _metrics(self.size, self.bold)
        return ascent + descent + (len(self.lines) - 1) * pitch


def _wrap(text: str, width: float, size: float, bold: bool = False) -> _Block:
    """Greedy word wrap; a word too long for a line is broken between characters."""
    lines: list[str] = []
    current = ""
    broken = False
    for word in str(text).split():
        candidate = f"{current} {word}" if current else word
        if _st.text_width(candidate, size, bold) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        while len(word) > 1 and _st.text_width(word, size, bold) > width:
            k = len(word) - 1
            while k > 1 and _st.text_width(word[:k], size, bold) > width:
                k -= 1
            # Break after a separator (study ids like smith_jones_2021) if any.
            cut = max(word.rfind(sep, 0, k) for sep in BREAK_AFTER) + 1
            k = cut if cut > 0 else k
            lines.append(word[:k])
            word = word[k:]
            broken = True
        current = word
    if current or not lines:
        lines.append(current)
    return _Block(tuple(lines), size, bold, broken)


def _colour(count: int, vmax: int) -> tuple[float, float, float]:
    if count <= 0:
        return (1.0, 1.0, 1.0)
    lo, hi = CMAP_RANGE
    share = 0.0 if vmax <= 1 else ((count - 1) / (vmax - 1)) ** 0.5
    rgba = mpl.colormaps[CMAP](lo + share * (hi - lo))
    return (float(rgba[0]), float(rgba[1]), float(rgba[2]))


def _luminance(rgb: tuple[float, float, float]) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def heatmap_figure(
    matrix: pd.DataFrame, *, title: str, xlabel: str, ylabel: str
) -> Figure:
    """Draw a count matrix as a labelled heat map.

    Parameters
    ----------
    matrix : pandas.DataFrame
        Counts: one row per theme (the index gives the labels, top to bottom)
        and one column per study or perspective (left to right), e.g. from
        :func:`~evsynth.qualitative.tables.theme_matrix`.
    title : str
        Printed above the map (wrapped if long); ``""`` for none.
    xlabel, ylabel : str
        Names of the columns (printed above the column labels) and of the rows
        (printed upright left of the row labels); ``""`` for none.

    Returns
    -------
    matplotlib.figure.Figure
        A figure on the Agg canvas, sized in inches to its content. Artists
        carry ids: ``heatmap-cell-<i>-<j>`` for the cells,
        ``heatmap-count-<i>-<j>`` for their counts, ``heatmap-row-<i>-line<k>``
        and ``heatmap-col-<j>-line<k>`` for the labels, and
        ``heatmap-title-line<k>``, ``heatmap-xlabel-line<k>`` and
        ``heatmap-ylabel`` for the rest.

    Raises
    ------
    ValueError
        If a count is not a non-negative whole number.
    """
    values = matrix.to_numpy(dtype=float, na_value=np.nan) if matrix.size else None
    if values is not None and (
        not np.all(np.isfinite(values))
        or np.any(values < 0)
        or np.any(values != np.round(values))
    ):
        raise ValueError("the matrix must hold non-negative whole counts")
    counts = (
        values.astype(np.int64)
        if values is not None
        else np.zeros(matrix.shape, dtype=np.int64)
    )
    with _st.style():
        return _draw(
            counts,
            [str(r) for r in matrix.index],
            [str(c) for c in matrix.columns],
            " ".join(str(title).split()),
            " ".join(str(xlabel).split()),
            " ".join(str(ylabel).split()),
        )


def _draw(
    counts: np.ndarray,
    rows: list[str],
    cols: list[str],
    title: str,
    xlabel: str,
    ylabel: str,
) -> Figure:
    n_rows, n_cols = counts.shape
    empty = n_rows == 0 or n_cols == 0
    if empty:
        rows, cols = ["No coded findings"], []
    ascent, descent, pitch = _metrics(LABEL_SIZE, False)

    # Row labels, and the height of every row.
    row_blocks = [_wrap(r, ROW_LABEL_MAX, LABEL_SIZE) for r in rows]
    row_band = max(b.width for b in row_blocks)
    row_h = max(ROW_MIN, *(b.height + 2 * ROW_PAD for b in row_blocks))

    # Column labels: side by side if they fit, else upright.
    flat = [_wrap(c, COL_FLAT_MAX, LABEL_SIZE) for c in cols]
    count_w = max(
        (_st.text_width(str(v), LABEL_SIZE, False) for v in counts.flat), default=0
    )
    cell_w = max(CELL_MIN, count_w + 2 * CELL_PAD)
    flat_w = max((b.width for b in flat), default=0) + 2 * CELL_PAD
    upright = not (
        all(len(b.lines) <= COL_FLAT_LINES and not b.broken for b in flat)
        and n_cols * max(cell_w, flat_w) <= COL_FLAT_GRID_MAX
    )
    if upright:
        col_blocks = [_wrap(c, COL_UPRIGHT_MAX, LABEL_SIZE) for c in cols]
        col_band = max((b.width for b in col_blocks), default=0)
        lines = max((len(b.lines) for b in col_blocks), default=1)
        cell_w = max(cell_w, ascent + descent + (lines - 1) * pitch + 2 * CELL_PAD)
    else:
        col_blocks = flat
        col_band = max((b.height for b in col_blocks), default=0)
        cell_w = max(cell_w, flat_w)
    grid_w = n_cols * cell_w
    grid_h = len(rows) * row_h if not empty else row_h

    # Axis labels and title.
    y_asc, y_desc, _ = _metrics(AXIS_SIZE, True)
    ylabel_band = (y_asc + y_desc + AXIS_GAP) if ylabel else 0.0
    content_w = ylabel_band + row_band + LABEL_GAP + grid_w
    xlabel_block = _wrap(xlabel, max(content_w, TITLE_MIN_WIDTH), AXIS_SIZE, True)
    title_w = min(max(content_w, TITLE_MIN_WIDTH), TITLE_MAX_WIDTH)
    title_block = _wrap(title, max(title_w, content_w), TITLE_SIZE, True)
    inner_w = max(
        content_w,
        title_block.width if title else 0.0,
        xlabel_block.width if xlabel else 0.0,
    )
    width = inner_w + 2 * MARGIN

    top = MARGIN
    title_top = top
    if title:
        top += title_block.height + TITLE_GAP
    xlabel_top = top
    if xlabel:
        top += xlabel_block.height + AXIS_GAP
    col_top = top
    top += col_band + (LABEL_GAP if cols else 0.0)
    grid_top = top
    height = grid_top + grid_h + MARGIN
    ylabel_len = _st.text_width(ylabel, AXIS_SIZE, True) if ylabel else 0.0
    # The upright y label may run above and below the grid, never past the title.
    band_top = xlabel_top
    height = max(height, band_top + ylabel_len + MARGIN)

    x0 = MARGIN + (inner_w - content_w) / 2
    grid_left = x0 + ylabel_band + row_band + LABEL_GAP

    fig = Figure(figsize=(width, height), dpi=100, facecolor="white")
    FigureCanvasAgg(fig)
    inches = fig.dpi_scale_trans

    def text(x: float, y: float, s: str, size: float, bold: bool, gid: str, **kw):
        fig.text(
            x,
            height - y,
            s,
            transform=inches,
            fontproperties=_st.font(size, bold),
            parse_math=False,
            usetex=False,
            gid=gid,
            **{"color": INK, **kw},
        )

    def block(b: _Block, x: float, y_top: float, gid: str, ha: str) -> None:
        b_asc, _, b_pitch = _metrics(b.size, b.bold)
        for k, line in enumerate(b.lines):
            text(
                x,
                y_top + b_asc + k * b_pitch,
                line,
                b.size,
                b.bold,
                f"{gid}-line{k}",
                ha=ha,
                va="baseline",
            )

    if title:
        block(title_block, MARGIN + inner_w / 2, title_top, "heatmap-title", "center")
    if xlabel:
        centre = grid_left + grid_w / 2 if cols else MARGIN + inner_w / 2
        half = xlabel_block.width / 2
        centre = min(max(centre, MARGIN + half), width - MARGIN - half)
        block(xlabel_block, centre, xlabel_top, "heatmap-xlabel", "center")
    if ylabel:
        centre = grid_top + grid_h / 2
        half = ylabel_len / 2
        centre = min(max(centre, band_top + half), height - MARGIN - half)
        text(
            x0 + y_asc,
            centre,
            ylabel,
            AXIS_SIZE,
            True,
            "heatmap-ylabel",
            ha="center",
            va="baseline",
            rotation=90,
            rotation_mode="anchor",
        )

    for i, b in enumerate(row_blocks):
        y_top = grid_top + i * row_h + (row_h - b.height) / 2
        block(b, grid_left - LABEL_GAP, y_top, f"heatmap-row-{i}", "right")

    for j, b in enumerate(col_blocks):
        cx = grid_left + (j + 0.5) * cell_w
        if upright:
            left = cx - b.height / 2
            for k, line in enumerate(b.lines):
                text(
                    left + ascent + k * pitch,
                    grid_top - LABEL_GAP,
                    line,
                    LABEL_SIZE,
                    False,
                    f"heatmap-col-{j}-line{k}",
                    ha="left",
                    va="baseline",
                    rotation=90,
                    rotation_mode="anchor",
                )
        else:
            y_top = col_top + col_band - b.height  # bottom-aligned on the grid
            block(b, cx, y_top, f"heatmap-col-{j}", "center")

    if empty:
        return fig
    vmax = int(counts.max()) if counts.size else 0
    for i in range(n_rows):
        for j in range(n_cols):
            value = int(counts[i, j])
            shade = _colour(value, vmax)
            x = grid_left + j * cell_w
            y = grid_top + (i + 1) * row_h
            fig.add_artist(
                Rectangle(
                    (x, height - y),
                    cell_w,
                    row_h,
                    transform=inches,
                    facecolor=shade,
                    edgecolor=GRID_COLOUR,
                    linewidth=GRID_LINEWIDTH,
                    gid=f"heatmap-cell-{i}-{j}",
                    zorder=1,
                )
            )
            ink = ZERO_INK if value == 0 else INK
            if _luminance(shade) < DARK:
                ink = "white"
            text(
                x + cell_w / 2,
                y - row_h / 2,
                str(value),
                LABEL_SIZE,
                False,
                f"heatmap-count-{i}-{j}",
                ha="center",
                va="center_baseline",
                color=ink,
                zorder=2,
            )
    return fig


def save_figure(fig: Figure, path: str | Path, fmt: str, dpi: int = PNG_DPI) -> None:
    """Save a heat map as SVG or PNG with deterministic bytes.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        From :func:`heatmap_figure`.
    path : str or Path
        Where to write (not atomic: use inside :func:`evsynth.io.write_files`).
    fmt : {"svg", "png"}
        File format.
    dpi : int
        Resolution of a PNG.
    """
    if fmt not in ("svg", "png"):
        raise ValueError(f"fmt must be 'svg' or 'png', got {fmt!r}")
    metadata = {"Date": None} if fmt == "svg" else {"Software": None}
    with _st.style():
        fig.savefig(path, format=fmt, dpi=dpi, metadata=metadata)
