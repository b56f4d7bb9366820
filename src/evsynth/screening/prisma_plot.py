"""The PRISMA 2020 flow diagram, drawn with matplotlib as SVG, PNG and PDF.

The layout follows the PRISMA 2020 templates (Page et al. 2021, BMJ 372:n71):
the template for new reviews with databases and registers only, the one that
adds other methods (``other``), and the templates for updated reviews
(``previous``). Every box is sized from its text, measured with the font
renderer, so that nothing overflows and nothing overlaps whatever the counts.

The figure is built on a bare :class:`matplotlib.figure.Figure` with the Agg
canvas, never through pyplot, so it works headless and in parallel processes.
"""

from __future__ import annotations

import contextlib
import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import (
    ArrowStyle,
    BoxStyle,
    FancyArrowPatch,
    FancyBboxPatch,
    Rectangle,
)
from matplotlib.path import Path as MplPath

from evsynth.io import atomic_path
from evsynth.plots import style as _st

__all__ = ["PrismaFlow", "draw_prisma", "prisma_figure"]

# --- appearance ---------------------------------------------------------------
BODY_SIZE = 8.0  # pt, box text
HEAD_SIZE = 9.0  # pt, bold, header bars and side bars
NOTE_SIZE = 7.5  # pt, footnotes
TITLE_SIZE = 11.0  # pt, bold
#: Header bar of the databases-and-registers column (Goldenrod1, as in the
#: PRISMA2020 R package and the yellow of the template).
HEADER_COLOUR = "#FFC125"
#: Header bars of the "previous studies" and "other methods" columns, which the
#: template (and the R package, Gainsboro) shades grey.
GREY_HEADER_COLOUR = "#DCDCDC"
#: Blue side bars "Identification", "Screening", "Included" (LightSteelBlue2).
SIDE_COLOUR = "#BCD2EE"
BOX_FACE = "white"
INK = "black"
BOX_LINEWIDTH = 0.8  # pt
ARROW_LINEWIDTH = 0.8  # pt

# --- geometry, in inches unless the name says em (a multiple of the font size) -
MARGIN = 0.12
PAD_X = 0.085  # text to box border, left and right
PAD_Y = 0.07  # text to box border, top and bottom
HEADER_PAD_Y = 0.055
SIDE_PAD = 0.12  # label to the ends of a side bar
COL_GAP = 0.34  # between box columns: room for a horizontal arrow
ROW_GAP = 0.3  # between box rows: room for a vertical arrow
HEADER_GAP = 0.16  # header bars to the first row of boxes
SIDEBAR_GAP = 0.14  # side bars to the first column of boxes
TITLE_GAP = 0.14
FOOT_GAP = 0.2
LINE_PITCH_EM = 1.25  # baseline to baseline
PARA_GAP_EM = 0.45  # extra space before a new statement in a box
INDENT_EM = 1.0  # one level of indentation
HANG_EM = 1.0  # hanging indent of the wrapped lines of a listed item
ROUNDING = 0.06  # corner radius of header and side bars
#: The outline of an arrowhead, stroked with mitred joins, reaches about 1 pt
#: beyond its geometric tip; stopping this short of the box edge lands the
#: visible tip on the box's border line instead of inside the box.
TIP_GAP = 0.6 / 72
#: Widest line of box text, by the number of box columns, so that the full
#: five-column diagram stays within a landscape page.
TEXT_WIDTH = {2: 2.6, 3: 2.4, 4: 2.25, 5: 2.05}
MIN_TEXT_WIDTH = 1.45
FOOTNOTES = (
    (
        "*Consider, if feasible to do so, reporting the number of records identified "
        "from each database or register searched (rather than the total number "
        "across all databases/registers)."
    ),
    (
        "**If automation tools were used, indicate how many records were excluded "
        "by a human and how many were excluded by automation tools."
    ),
)


@dataclass
class PrismaFlow:
    """Counts for a PRISMA 2020 flow diagram.

    Every count is a non-negative integer. Lists of ``(name, n)`` pairs are
    printed in their order. The "other methods" column is drawn only when
    ``other`` is true and the "previous studies" column only when ``previous``
    is true (the template for updated reviews).

    Parameters
    ----------
    databases : list of (str, int)
        Records identified from each database (the template's footnote *).
    registers : list of (str, int)
        Records identified from each register; may be empty.
    duplicates, excluded_automatic, excluded_other : int
        Records removed before screening.
    records_screened, records_excluded : int
        Title and abstract screening.
    dbr_sought_reports, dbr_notretrieved_reports, dbr_assessed : int
        Reports from databases and registers.
    dbr_excluded : list of (str, int)
        Reports excluded at full text, by reason.
    new_studies, new_reports : int
        Studies and reports included (new ones, for an updated review).
    other : bool
        Draw the "Identification of studies via other methods" column.
    websites, organisations, citations : list of (str, int)
        Records identified from other methods, by source.
    other_removed : list of (str, int)
        Records of the other-methods column removed before retrieval, by
        kind: duplicates of database or register records, duplicates within
        other methods (see :func:`evsynth.screening.prisma.removed_counts`).
        The template has no such box; it is drawn beside the column's
        identification box, as the databases column's removals are, so that
        identified − removed = reports sought. Empty: "Duplicate records
        removed (n = 0)".
    other_sought_reports, other_notretrieved_reports, other_assessed : int
        Reports from other methods.
    other_excluded : list of (str, int)
        Reports from other methods excluded, by reason.
    previous : bool
        Draw the "Previous studies" column of an updated review.
    previous_studies, previous_reports : int
        Studies and reports included in the previous version of the review.
    total_studies, total_reports : int
        Studies and reports included in the updated review.
    """

    # identification, databases and registers
    databases: list[tuple[str, int]]
    registers: list[tuple[str, int]]
    duplicates: int
    excluded_automatic: int
    excluded_other: int
    records_screened: int
    records_excluded: int
    dbr_sought_reports: int
    dbr_notretrieved_reports: int
    dbr_assessed: int
    dbr_excluded: list[tuple[str, int]]
    new_studies: int
    new_reports: int
    # identification via other methods
    other: bool = False
    websites: list[tuple[str, int]] = field(default_factory=list)
    organisations: list[tuple[str, int]] = field(default_factory=list)
    citations: list[tuple[str, int]] = field(default_factory=list)
    other_removed: list[tuple[str, int]] = field(default_factory=list)
    other_sought_reports: int = 0
    other_notretrieved_reports: int = 0
    other_assessed: int = 0
    other_excluded: list[tuple[str, int]] = field(default_factory=list)
    # updated reviews
    previous: bool = False
    previous_studies: int = 0
    previous_reports: int = 0
    total_studies: int = 0
    total_reports: int = 0
    # extra lines printed under the template's footnotes (e.g. work in progress)
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Check every field.

        Raises
        ------
        ValueError
            If a count is negative or not an integer, a name is empty or not
            text, or a flag is not a boolean; the message names the field.
        """
        for f in fields(self):
            value = getattr(self, f.name)
            where = f"PrismaFlow.{f.name}"
            if f.name == "notes":
                if not isinstance(value, list) or not all(
                    isinstance(n, str) and n.strip() for n in value
                ):
                    raise ValueError(f"{where} must be a list of non-empty texts")
            elif f.name in _FLAGS:
                if isinstance(value, str) or value not in (True, False):
                    raise ValueError(f"{where} must be True or False, got {value!r}")
            elif f.name in _PAIRS:
                _check_pairs(value, where)
            else:
                _check_count(value, where)


_FLAGS = frozenset({"other", "previous"})
_PAIRS = frozenset(
    {
        "databases",
        "registers",
        "dbr_excluded",
        "websites",
        "organisations",
        "citations",
        "other_removed",
        "other_excluded",
    }
)


def _check_count(value: object, where: str) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Integral)
        or int(value) < 0
    ):
        raise ValueError(f"{where} must be a non-negative integer, got {value!r}")


def _check_pairs(value: object, where: str) -> None:
    is_list = isinstance(value, Sequence) and not isinstance(
        value, str | bytes | Mapping
    )
    if not is_list:
        raise ValueError(f"{where} must be a list of (name, count) pairs")
    for i, pair in enumerate(value):
        item = f"{where}[{i}]"
        is_pair = (
            isinstance(pair, Sequence)
            and not isinstance(pair, str | bytes)
            and len(pair) == 2
        )
        if not is_pair:
            raise ValueError(f"{item} must be a (name, count) pair, got {pair!r}")
        name, n = pair
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"{item}: the name must be non-empty text, got {name!r}")
        _check_count(n, f"{item} ({name.strip()})")


# --- text measurement -----------------------------------------------------------


@dataclass(frozen=True)
class _Para:
    """One statement in a box: words, indentation level, space before it."""

    tokens: tuple[str, ...]
    level: int = 0
    gap: bool = False


@dataclass(frozen=True)
class _Line:
    text: str
    dx: float  # indentation in inches
    dy: float  # baseline below the first baseline, in inches


def _n(value: int) -> str:
    return f"(n = {int(value):,})"


def _para(text: str, n: int | None = None, *, level: int = 0, gap: bool = False):
    tokens = text.split()
    if n is not None:
        tokens.append(_n(n))  # never broken across lines
    return _Para(tuple(tokens), level, gap)


class _Typesetter:
    """Wraps and measures text in one font."""

    def __init__(self, size: float, bold: bool, dpis: tuple[float, ...]) -> None:
        self.size = size
        self.bold = bold
        self.dpis = dpis
        self.em = size / 72
        ascent, descent = _st.vertical_metrics()
        self.ascent = ascent * self.em
        self.descent = descent * self.em
        self.pitch = LINE_PITCH_EM * self.em

    def width(self, text: str) -> float:
        return _st.text_width(text, self.size, self.bold, self.dpis)

    def natural(self, para: _Para) -> float:
        return para.level * INDENT_EM * self.em + self.width(" ".join(para.tokens))

    def _fit(self, word: str, avail: float) -> int:
        """Length of the longest prefix of ``word`` that fits (at least 1)."""
        lo, hi = 1, len(word)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.width(word[:mid]) <= avail:
                lo = mid
            else:
                hi = mid - 1
        return lo

    def wrap(self, para: _Para, width: float) -> list[tuple[str, float]]:
        """Greedy word wrap; returns lines with their indentation in inches.

        Listed items (level 1 and deeper) get a hanging indent; a word too long
        for a line is broken between characters.
        """
        indent = para.level * INDENT_EM * self.em
        hang = indent + (HANG_EM * self.em if para.level else 0.0)
        lines: list[tuple[str, float]] = []

        def x() -> float:
            return hang if lines else indent

        current = ""
        for token in para.tokens:
            candidate = f"{current} {token}" if current else token
            if self.width(candidate) <= width - x():
                current = candidate
                continue
            if current:
                lines.append((current, x()))
            while len(token) > 1 and self.width(token) > width - x():
                k = self._fit(token, width - x())
                lines.append((token[:k], x()))
                token = token[k:]
            current = token
        if current or not lines:
            lines.append((current, x()))
        return lines

    def block(self, paras: Sequence[_Para], width: float) -> tuple[list[_Line], float]:
        """Lay out paragraphs; returns the lines and the height of the block."""
        lines: list[_Line] = []
        y = 0.0
        for para in paras:
            if lines:
                y += self.pitch + (PARA_GAP_EM * self.em if para.gap else 0.0)
            for i, (text, dx) in enumerate(self.wrap(para, width)):
                if i:
                    y += self.pitch
                lines.append(_Line(text, dx, y))
        return lines, y + self.ascent + self.descent


# --- layout ---------------------------------------------------------------------


@dataclass
class _Box:
    key: str
    row: str
    col: str
    paras: list[_Para]
    lines: list[_Line] = field(default_factory=list)
    x: float = 0.0  # left, inches from the left of the figure
    y: float = 0.0  # top, inches from the top of the figure
    w: float = 0.0
    h: float = 0.0

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h


@dataclass
class _Bar:
    key: str
    x: float
    y: float
    w: float
    h: float
    colour: str
    lines: list[_Line]
    vertical: bool = False


@dataclass
class _Layout:
    width: float
    height: float
    boxes: dict[str, _Box]
    bars: list[_Bar]
    arrows: list[tuple[str, list[tuple[float, float]]]]
    texts: list[tuple[str, list[_Line], float, float, str, _Typesetter]]


def _total(items: Sequence[tuple[str, int]]) -> int:
    return sum(int(n) for _, n in items)


def _sources(label: str, items: Sequence[tuple[str, int]]) -> list[_Para]:
    """Give a category total with each source's count indented under it.

    A single source named like its category (only a total is known) is not
    repeated.
    """
    total = _total(items)
    if len(items) == 1 and items[0][0].strip().casefold() == label.casefold():
        return [_para(label, total, level=1)]
    return [_para(label, total, level=1)] + [
        _para(name, n, level=2) for name, n in items
    ]


def _reasons(items: Sequence[tuple[str, int]]) -> list[_Para]:
    if not items:
        return [_para("Reports excluded"), _para("", 0)]
    return [_para("Reports excluded:")] + [_para(name, n, level=1) for name, n in items]


def _stat(label: str, n: int) -> list[_Para]:
    return [_para(label), _para("", n)]


def _pair(label1: str, n1: int, label2: str, n2: int) -> list[_Para]:
    return [_para(label1), _para("", n1), _para(label2, gap=True), _para("", n2)]


def _boxes(flow: PrismaFlow) -> list[_Box]:
    boxes = [
        _Box(
            "identified",
            "ident",
            "main",
            [
                _para("Records identified from*:"),
                *_sources("Databases", flow.databases),
                *_sources("Registers", flow.registers),
            ],
        ),
        _Box(
            "removed",
            "ident",
            "side",
            [
                _para("Records removed before screening:"),
                _para("Duplicate records removed", flow.duplicates, level=1),
                _para(
                    "Records marked as ineligible by automation tools",
                    flow.excluded_automatic,
                    level=1,
                ),
                _para(
                    "Records removed for other reasons", flow.excluded_other, level=1
                ),
            ],
        ),
        _Box(
            "screened",
            "screened",
            "main",
            _stat("Records screened", flow.records_screened),
        ),
        _Box(
            "excluded",
            "screened",
            "side",
            _stat("Records excluded**", flow.records_excluded),
        ),
        _Box(
            "sought",
            "sought",
            "main",
            _stat("Reports sought for retrieval", flow.dbr_sought_reports),
        ),
        _Box(
            "notretrieved",
            "sought",
            "side",
            _stat("Reports not retrieved", flow.dbr_notretrieved_reports),
        ),
        _Box(
            "assessed",
            "assessed",
            "main",
            _stat("Reports assessed for eligibility", flow.dbr_assessed),
        ),
        _Box("reports-excluded", "assessed", "side", _reasons(flow.dbr_excluded)),
        _Box(
            "included",
            "included",
            "main",
            _pair(
                "New studies included in review"
                if flow.previous
                else "Studies included in review",
                flow.new_studies,
                "Reports of new included studies"
                if flow.previous
                else "Reports of included studies",
                flow.new_reports,
            ),
        ),
    ]
    if flow.other:
        categories = [
            ("Websites", flow.websites),
            ("Organisations", flow.organisations),
            ("Citation searching", flow.citations),
        ]
        used = [(label, items) for label, items in categories if items]
        sources = [p for label, items in used for p in _sources(label, items)]
        if not used:
            sources = [_para(label, 0, level=1) for label, _ in categories]
        boxes += [
            _Box(
                "other-identified",
                "ident",
                "other",
                [_para("Records identified from:"), *sources],
            ),
            _Box(
                "other-removed",
                "ident",
                "other-side",
                [
                    _para("Records removed before retrieval:"),
                    *(
                        _para(name, n, level=1)
                        for name, n in (
                            flow.other_removed or [("Duplicate records removed", 0)]
                        )
                    ),
                ],
            ),
            _Box(
                "other-sought",
                "sought",
                "other",
                _stat("Reports sought for retrieval", flow.other_sought_reports),
            ),
            _Box(
                "other-notretrieved",
                "sought",
                "other-side",
                _stat("Reports not retrieved", flow.other_notretrieved_reports),
            ),
            _Box(
                "other-assessed",
                "assessed",
                "other",
                _stat("Reports assessed for eligibility", flow.other_assessed),
            ),
            _Box(
                "other-excluded",
                "assessed",
                "other-side",
                _reasons(flow.other_excluded),
            ),
        ]
    if flow.previous:
        boxes += [
            _Box(
                "previous",
                "ident",
                "previous",
                _pair(
                    "Studies included in previous version of review",
                    flow.previous_studies,
                    "Reports of studies included in previous version of review",
                    flow.previous_reports,
                ),
            ),
            _Box(
                "total",
                "total",
                "main",
                _pair(
                    "Total studies included in review",
                    flow.total_studies,
                    "Reports of total included studies",
                    flow.total_reports,
                ),
            ),
        ]
    return boxes


def _layout(flow: PrismaFlow, title: str | None, dpis: tuple[float, ...]) -> _Layout:
    body = _Typesetter(BODY_SIZE, False, dpis)
    head = _Typesetter(HEAD_SIZE, True, dpis)
    note = _Typesetter(NOTE_SIZE, False, dpis)
    big = _Typesetter(TITLE_SIZE, True, dpis)

    columns = ["main", "side"]
    if flow.previous:
        columns.insert(0, "previous")
    if flow.other:
        columns += ["other", "other-side"]
    rows = ["ident", "screened", "sought", "assessed", "included"]
    if flow.previous:
        rows.append("total")
    sections = {
        "Identification": ["ident"],
        "Screening": ["screened", "sought", "assessed"],
        "Included": ["included", "total"] if flow.previous else ["included"],
    }

    boxes = {box.key: box for box in _boxes(flow)}

    # One width for every box, as in the template: the widest text, capped.
    natural = max(body.natural(p) for box in boxes.values() for p in box.paras)
    text_w = max(MIN_TEXT_WIDTH, min(TEXT_WIDTH[len(columns)], natural))
    box_w = text_w + 2 * PAD_X
    for box in boxes.values():
        box.lines, text_h = body.block(box.paras, text_w)
        box.w = box_w
        box.h = text_h + 2 * PAD_Y

    row_h = {
        r: max(b.h for b in boxes.values() if b.row == r) for r in rows
    }  # every row holds a box in the main column

    # Side bars must be long enough for their rotated labels.
    for label, members in sections.items():
        need = head.width(label) + 2 * SIDE_PAD
        have = sum(row_h[r] for r in members) + ROW_GAP * (len(members) - 1)
        if have < need:
            for r in members:
                row_h[r] += (need - have) / len(members)

    # Horizontal positions.
    side_w = head.ascent + head.descent + 2 * HEADER_PAD_Y + 0.04
    left = MARGIN
    x = left + side_w + SIDEBAR_GAP
    col_x = {}
    for c in columns:
        col_x[c] = x
        x += box_w + COL_GAP
    right = x - COL_GAP
    diagram_w = right - left

    # Header bars: main spans main+side, other spans other+other-side.
    header_specs = []
    if flow.previous:
        header_specs.append(
            ("previous", "Previous studies", ["previous"], GREY_HEADER_COLOUR)
        )
    newer = "new " if flow.previous else ""
    header_specs.append(
        (
            "databases",
            f"Identification of {newer}studies via databases and registers",
            ["main", "side"],
            HEADER_COLOUR,
        )
    )
    if flow.other:
        header_specs.append(
            (
                "other",
                f"Identification of {newer}studies via other methods",
                ["other", "other-side"],
                GREY_HEADER_COLOUR,
            )
        )
    header_blocks = []
    for key, text, cols, colour in header_specs:
        bx = col_x[cols[0]]
        bw = col_x[cols[-1]] + box_w - bx
        lines, text_h = head.block([_para(text)], bw - 2 * PAD_X)
        header_blocks.append((key, bx, bw, colour, lines, text_h))
    header_h = max(t for *_, t in header_blocks) + 2 * HEADER_PAD_Y

    # Vertical positions, top down.
    texts = []
    y = MARGIN
    if title:
        lines, text_h = big.block([_para(title)], diagram_w)
        texts.append(("prisma-title", lines, left + diagram_w / 2, y, "center", big))
        y += text_h + TITLE_GAP
    header_y = y
    y += header_h + HEADER_GAP
    row_y = {}
    for r in rows:
        row_y[r] = y
        y += row_h[r] + ROW_GAP
    diagram_bottom = y - ROW_GAP
    y = diagram_bottom + FOOT_GAP
    lines, text_h = note.block([_para(t) for t in (*FOOTNOTES, *flow.notes)], diagram_w)
    texts.append(("prisma-footnote", lines, left, y, "left", note))
    height = y + text_h + MARGIN
    width = right + MARGIN

    for box in boxes.values():
        box.x = col_x[box.col]
        box.y = row_y[box.row] + (row_h[box.row] - box.h) / 2

    bars = []
    for key, bx, bw, colour, lines, _ in header_blocks:
        bar = _Bar(f"prisma-header-{key}", bx, header_y, bw, header_h, colour, lines)
        bars.append(bar)
    for label, members in sections.items():
        top = row_y[members[0]]
        bottom = row_y[members[-1]] + row_h[members[-1]]
        bars.append(
            _Bar(
                f"prisma-side-{label.lower()}",
                left,
                top,
                side_w,
                bottom - top,
                SIDE_COLOUR,
                [_Line(label, 0.0, 0.0)],
                vertical=True,
            )
        )

    def down(a: str, b: str) -> tuple[str, list[tuple[float, float]]]:
        p, q = boxes[a], boxes[b]
        return f"{a}-{b}", [(p.cx, p.bottom), (p.cx, q.y)]

    def across(a: str, b: str) -> tuple[str, list[tuple[float, float]]]:
        p, q = boxes[a], boxes[b]
        y = row_y[p.row] + row_h[p.row] / 2
        return f"{a}-{b}", [(p.right, y), (q.x, y)]

    arrows = [
        across("identified", "removed"),
        down("identified", "screened"),
        across("screened", "excluded"),
        down("screened", "sought"),
        across("sought", "notretrieved"),
        down("sought", "assessed"),
        across("assessed", "reports-excluded"),
        down("assessed", "included"),
    ]
    if flow.other:
        p, q = boxes["other-assessed"], boxes["included"]
        y = row_y["included"] + row_h["included"] / 2
        arrows += [
            across("other-identified", "other-removed"),
            down("other-identified", "other-sought"),
            across("other-sought", "other-notretrieved"),
            down("other-sought", "other-assessed"),
            across("other-assessed", "other-excluded"),
            ("other-assessed-included", [(p.cx, p.bottom), (p.cx, y), (q.right, y)]),
        ]
    if flow.previous:
        p, q = boxes["previous"], boxes["total"]
        y = row_y["total"] + row_h["total"] / 2
        arrows += [
            down("included", "total"),
            ("previous-total", [(p.cx, p.bottom), (p.cx, y), (q.x, y)]),
        ]

    return _Layout(width, height, boxes, bars, arrows, texts)


# --- drawing --------------------------------------------------------------------


def _draw(layout: _Layout, body: _Typesetter, head: _Typesetter) -> Figure:
    fig = Figure(figsize=(layout.width, layout.height), dpi=100, facecolor="white")
    FigureCanvasAgg(fig)
    inches = fig.dpi_scale_trans
    height = layout.height

    def text(x: float, y: float, s: str, ts: _Typesetter, gid: str, **kw) -> None:
        fig.text(
            x,
            height - y,
            s,
            transform=inches,
            fontproperties=_st.font(ts.size, ts.bold),
            color=INK,
            parse_math=False,
            usetex=False,
            gid=gid,
            zorder=3,
            **kw,
        )

    def block(lines, x, top, ts, gid, ha="left") -> None:
        for i, line in enumerate(lines):
            text(
                x + line.dx,
                top + ts.ascent + line.dy,
                line.text,
                ts,
                f"{gid}-line{i}",
                ha=ha,
                va="baseline",
            )

    for bar in layout.bars:
        fig.add_artist(
            FancyBboxPatch(
                (bar.x, height - bar.y - bar.h),
                bar.w,
                bar.h,
                boxstyle=BoxStyle.Round(pad=0.0, rounding_size=ROUNDING),
                transform=inches,
                facecolor=bar.colour,
                edgecolor="none",
                linewidth=0.0,
                gid=bar.key,
                zorder=2,
            )
        )
        if bar.vertical:
            text(
                bar.x + bar.w / 2,
                bar.y + bar.h / 2,
                bar.lines[0].text,
                head,
                f"{bar.key}-label",
                ha="center",
                va="center",
                rotation=90,
            )
        else:
            text_h = bar.lines[-1].dy + head.ascent + head.descent
            top = bar.y + (bar.h - text_h) / 2
            block(bar.lines, bar.x + bar.w / 2, top, head, bar.key, ha="center")

    for box in layout.boxes.values():
        gid = f"prisma-box-{box.key}"
        fig.add_artist(
            Rectangle(
                (box.x, height - box.bottom),
                box.w,
                box.h,
                transform=inches,
                facecolor=BOX_FACE,
                edgecolor=INK,
                linewidth=BOX_LINEWIDTH,
                joinstyle="miter",
                gid=gid,
                zorder=2,
            )
        )
        block(box.lines, box.x + PAD_X, box.y + PAD_Y, body, gid)

    head_style = ArrowStyle("-|>", head_length=0.55, head_width=0.25)
    for key, points in layout.arrows:
        (x0, y0), (x1, y1) = points[-2:]
        length = math.hypot(x1 - x0, y1 - y0)
        tip = (x1 - TIP_GAP * (x1 - x0) / length, y1 - TIP_GAP * (y1 - y0) / length)
        vertices = [(x, height - y) for x, y in [*points[:-1], tip]]
        codes = [MplPath.MOVETO] + [MplPath.LINETO] * (len(points) - 1)
        fig.add_artist(
            FancyArrowPatch(
                path=MplPath(vertices, codes),
                arrowstyle=head_style,
                mutation_scale=10,
                transform=inches,
                color=INK,
                linewidth=ARROW_LINEWIDTH,
                joinstyle="miter",
                capstyle="butt",
                gid=f"prisma-arrow-{key}",
                zorder=1,
            )
        )

    for gid, lines, x, top, ha, ts in layout.texts:
        block(lines, x, top, ts, gid, ha=ha)
    return fig


def _figure(flow: PrismaFlow, title: str | None, dpis: tuple[float, ...]) -> Figure:
    if not isinstance(flow, PrismaFlow):
        raise TypeError(f"expected a PrismaFlow, got {type(flow).__name__}")
    flow.validate()
    if title is not None and not isinstance(title, str):
        raise ValueError(f"title must be text or None, got {title!r}")
    title = " ".join(title.split()) if title else None
    with _st.style():
        layout = _layout(flow, title, dpis)
        body = _Typesetter(BODY_SIZE, False, dpis)
        head = _Typesetter(HEAD_SIZE, True, dpis)
        return _draw(layout, body, head)


def prisma_figure(flow: PrismaFlow, *, title: str | None = None) -> Figure:
    """Build the PRISMA 2020 flow diagram as a matplotlib figure.

    Parameters
    ----------
    flow : PrismaFlow
        The counts.
    title : str, optional
        A title printed above the diagram.

    Returns
    -------
    matplotlib.figure.Figure
        A figure on the Agg canvas (not managed by pyplot), sized in inches to
        its content. Artists carry ids: ``prisma-box-<name>`` for the boxes,
        ``prisma-header-<name>`` and ``prisma-side-<name>`` for the coloured
        bars, ``<parent id>-line<i>`` or ``<parent id>-label`` for their text
        and ``prisma-arrow-<from>-<to>`` for the arrows.

    Raises
    ------
    ValueError
        If a count is negative or not an integer (the message names the field).
    """
    return _figure(flow, title, _st.MEASURE_DPI)


def draw_prisma(
    flow: PrismaFlow,
    svg: str | Path,
    png: str | Path,
    pdf: str | Path,
    *,
    title: str | None = None,
    dpi: int = 300,
) -> None:
    """Draw the PRISMA 2020 flow diagram to SVG, PNG and PDF files.

    The same input always gives byte-identical files. Each file is written to
    a temporary file in its folder and renamed only once all three have been
    drawn, so a failure leaves no partial output.

    Parameters
    ----------
    flow : PrismaFlow
        The counts.
    svg, png, pdf : str or Path
        Output paths; their folders are created if needed.
    title : str, optional
        A title printed above the diagram.
    dpi : int, default 300
        Resolution of the PNG.

    Raises
    ------
    ValueError
        If a count is negative or not an integer (the message names the
        field), or ``dpi`` is not a positive integer.
    """
    if isinstance(dpi, bool) or not isinstance(dpi, numbers.Integral) or dpi <= 0:
        raise ValueError(f"dpi must be a positive integer, got {dpi!r}")
    dpis = tuple(sorted({*_st.MEASURE_DPI, int(dpi)}))
    fig = _figure(flow, title, dpis)
    with _st.style(), contextlib.ExitStack() as stack:
        tmp_svg = stack.enter_context(atomic_path(svg))
        tmp_png = stack.enter_context(atomic_path(png))
        tmp_pdf = stack.enter_context(atomic_path(pdf))
        fig.savefig(tmp_svg, format="svg", dpi=dpi, metadata={"Date": None})
        fig.savefig(tmp_png, format="png", dpi=dpi)
        fig.savefig(
            tmp_pdf,
            format="pdf",
            dpi=dpi,
            metadata={"CreationDate": None, "ModDate": None},
        )
