"""Forest and funnel plots: files, reproducibility, content and geometry."""

from __future__ import annotations

import itertools
import math
import xml.etree.ElementTree as ET

import matplotlib as mpl
import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.patches import Polygon, Rectangle

from evsynth.plots import forest, funnel
from evsynth.plots.forest import (
    ForestData,
    ForestRow,
    ForestSummary,
    draw_forest,
    forest_figure,
)
from evsynth.plots.funnel import FunnelData, draw_funnel, funnel_figure
from evsynth.plots.style import MEASURE_DPI

SVG_NS = "{http://www.w3.org/2000/svg}"
MINUS = "\u2212"
Z = 1.959963984540054

# dat.bcg, log risk ratios (metafor's escalc), with the arms' sizes.
BCG = [
    ("Aronson 1948", -0.8893, 0.3256, 123, 139, "random"),
    ("Ferguson & Simes 1949", -1.5854, 0.1946, 306, 303, "random"),
    ("Rosenthal et al 1960", -1.3481, 0.4154, 231, 220, "random"),
    ("Hart & Sutherland 1977", -1.4416, 0.0200, 13598, 12867, "random"),
    ("Frimodt-Moller et al 1973", -0.2175, 0.0512, 5069, 5808, "alternate"),
    ("Stein & Aronson 1953", -0.7861, 0.0069, 1541, 1451, "alternate"),
    ("Vandiviere et al 1973", -1.6209, 0.2230, 2545, 629, "random"),
    ("TPT Madras 1980", 0.0120, 0.0040, 88391, 88391, "random"),
    ("Coetzee & Berjak 1968", -0.4694, 0.0564, 7499, 7277, "random"),
    ("Rosenthal et al 1961", -1.3713, 0.0730, 1716, 1665, "systematic"),
    ("Comstock et al 1974", -0.3394, 0.0124, 50634, 27338, "systematic"),
    ("Comstock & Webster 1969", 0.4459, 0.5325, 2498, 2341, "systematic"),
    ("Comstock et al 1976", -0.0173, 0.0714, 16913, 17854, "systematic"),
]


def fmt(x: float, digits: int = 2) -> str:
    text = f"{x:.{digits}f}"
    if float(text) == 0:
        text = text.lstrip("-")
    return text.replace("-", MINUS)


def pooled(yi, vi):
    """DerSimonian-Laird, enough to give the plots realistic summaries."""
    yi, vi = np.asarray(yi, float), np.asarray(vi, float)
    w = 1 / vi
    mu = np.sum(w * yi) / np.sum(w)
    q = float(np.sum(w * (yi - mu) ** 2))
    c = np.sum(w) - np.sum(w**2) / np.sum(w)
    tau2 = max(0.0, (q - (yi.size - 1)) / c) if yi.size > 1 else 0.0
    ws = 1 / (vi + tau2)
    est = float(np.sum(ws * yi) / np.sum(ws))
    se = math.sqrt(1 / np.sum(ws))
    half = Z * math.sqrt(se**2 + tau2)
    return est, est - Z * se, est + Z * se, est - half, est + half, tau2, q, ws


def bcg_data(*, grouped: bool = False, **changes) -> ForestData:
    yi = [r[1] for r in BCG]
    vi = [r[2] for r in BCG]
    est, lb, ub, pi_lb, pi_ub, tau2, q, ws = pooled(yi, vi)
    rows = [
        ForestRow(
            label=label,
            yi=y,
            ci_lb=y - Z * math.sqrt(v),
            ci_ub=y + Z * math.sqrt(v),
            weight=float(100 * w / ws.sum()),
            n_t=nt,
            n_c=nc,
            group=alloc if grouped else None,
        )
        for (label, y, v, nt, nc, alloc), w in zip(BCG, ws, strict=True)
    ]
    subgroups = {}
    if grouped:
        for g in ("random", "alternate", "systematic"):
            idx = [i for i, r in enumerate(BCG) if r[5] == g]
            s = pooled([yi[i] for i in idx], [vi[i] for i in idx])
            subgroups[g] = ForestSummary(
                f"Subtotal ({g})",
                s[0],
                s[1],
                s[2],
                s[3],
                s[4],
                f"Heterogeneity: \u03c4\u00b2 = {s[5]:.2f}; Q = {s[6]:.2f} "
                f"(df = {len(idx) - 1})",
            )
    values = {
        "rows": rows,
        "overall": ForestSummary(
            "Random-effects model",
            est,
            lb,
            ub,
            pi_lb,
            pi_ub,
            f"Heterogeneity: \u03c4\u00b2 = {tau2:.2f}; Q = {q:.2f} (df = 12), "
            "p < 0.001\nTest for overall effect: z = \u22123.99, p < 0.001",
        ),
        "subgroups": subgroups,
        "subgroup_test": (
            "Test for subgroup differences: Q = 1.86, df = 2, p = 0.39"
            if grouped
            else ""
        ),
        "measure_label": "Log risk ratio",
        "left_label": "Favours vaccine",
        "right_label": "Favours control",
    }
    values.update(changes)
    return ForestData(**values)


def ratio_data(**changes) -> ForestData:
    return bcg_data(measure_label="Risk ratio", exponentiate=True, **changes)


def synthetic(k: int, *, seed: int = 1, groups: int = 0, **changes) -> ForestData:
    rng = np.random.default_rng(seed)
    yi = rng.normal(0.2, 0.3, k)
    vi = rng.uniform(0.01, 0.08, k)
    est, lb, ub, pi_lb, pi_ub, _tau2, q, ws = pooled(yi, vi)
    names = [f"Group {chr(65 + g)}" for g in range(groups)]
    rows = [
        ForestRow(
            f"Study {i + 1} ({2000 + i % 25})",
            float(y),
            float(y - Z * math.sqrt(v)),
            float(y + Z * math.sqrt(v)),
            float(100 * w / ws.sum()),
            n_t=float(rng.integers(10, 500)),
            n_c=float(rng.integers(10, 500)),
            group=names[i % groups] if groups else None,
            extra={"Year": str(2000 + i % 25), "RoB": ["low", "some", "high"][i % 3]},
        )
        for i, (y, v, w) in enumerate(zip(yi, vi, ws, strict=True))
    ]
    subgroups = {}
    for g in names:
        idx = [i for i, r in enumerate(rows) if r.group == g]
        s = pooled(yi[idx], vi[idx])
        subgroups[g] = ForestSummary(f"Subtotal {g}", *s[:5], text=f"Q = {s[6]:.2f}")
    values = {
        "rows": rows,
        "overall": ForestSummary(
            "Random-effects model", est, lb, ub, pi_lb, pi_ub, f"Q = {q:.2f}"
        ),
        "subgroups": subgroups,
        "extra_columns": ["Year", "RoB"],
    }
    values.update(changes)
    return ForestData(**values)


def single() -> ForestData:
    row = ForestRow("Only study 2020", 0.31, -0.05, 0.67, 100.0, n_t=40, n_c=41)
    return ForestData([row], ForestSummary("Fixed-effect model", 0.31, -0.05, 0.67))


LONG = (
    "A very long study label: the Mentoring for Care-Experienced Young People "
    "randomised trial in secondary schools of three local authorities, 2015-2019"
)


def long_labels() -> ForestData:
    data = synthetic(8, groups=2)
    data.rows[2].label = LONG
    data.rows[5].label = "X" * 120  # one word longer than the column
    data.rows[3].extra["RoB"] = "some concerns about the randomisation process " * 3
    data.rows[4].group = data.rows[0].group = (
        "Residential children's homes, secure units and other group settings "
        "in England, Wales, Scotland and Northern Ireland " * 2
    )
    data.subgroups = {
        data.rows[0].group: ForestSummary(
            LONG, 0.1, -0.1, 0.3, -0.4, 0.6, "Heterogeneity: " + "long text; " * 30
        )
    }
    data.overall.text = "Heterogeneity: " + "\u03c4\u00b2 = 0.05; I\u00b2 = 58%; " * 16
    data.subgroup_test = "Test for subgroup differences: " + "Q = 6.25, df = 3; " * 6
    data.title = "A title that is long enough to need wrapping " * 4
    return data


def no_weight() -> ForestData:
    data = bcg_data()
    data.rows[3].weight = None
    return data


def no_weights() -> ForestData:
    data = bcg_data()
    for row in data.rows:
        row.weight = None
    return data


FORESTS = {
    "bcg": bcg_data,
    "bcg-subgroups": lambda: bcg_data(grouped=True),
    "ratio": ratio_data,
    "ratio-subgroups": lambda: ratio_data(grouped=True),
    "k1": single,
    "weight-none": no_weight,
    "no-weights": no_weights,
    "long-labels": long_labels,
    "sixty": lambda: synthetic(60, groups=4, title="Sixty studies"),
    "sixty-plain": lambda: synthetic(60),
    "fixed-xlim": lambda: bcg_data(xlim=(-1.0, 0.5)),
    "null-outside": lambda: bcg_data(xlim=(-2.0, -0.1)),
    "no-ticks": lambda: bcg_data(xticks=[]),
    "one-tick": lambda: bcg_data(xticks=[0.0]),
    "long-measure": lambda: bcg_data(
        measure_label="Standardised mean difference of the primary outcome "
        "(Hedges' g, adjusted for clustering and baseline) " * 3,
        left_label="Favours usual care " * 3,
        right_label="Favours mentoring " * 3,
    ),
}


def funnel_data(**changes) -> FunnelData:
    values = {
        "yi": [r[1] for r in BCG],
        "sei": [math.sqrt(r[2]) for r in BCG],
        "estimate": -0.7145,
        "filled_yi": [-1.8749],
        "filled_sei": [math.sqrt(0.5325)],
        "filled_estimate": -0.6571,
        "measure_label": "Log risk ratio",
    }
    values.update(changes)
    return FunnelData(**values)


FUNNELS = {
    "bcg": funnel_data,
    "ratio": lambda: funnel_data(exponentiate=True, measure_label="Risk ratio"),
    "no-fill": lambda: funnel_data(filled_yi=[], filled_sei=[], filled_estimate=None),
    "no-contours": lambda: funnel_data(contours=()),
    "k1": lambda: FunnelData([0.3], [0.1], 0.3, title="One study " * 12),
}


# --- helpers ---------------------------------------------------------------------


def svg_texts(path) -> list[str]:
    root = ET.parse(path).getroot()
    return ["".join(t.itertext()) for t in root.iter(f"{SVG_NS}text")]


def gids(fig: Figure) -> dict:
    return {a.get_gid(): a for a in fig.findobj() if a.get_gid()}


def panel(fig: Figure):
    (ax,) = fig.axes
    return ax


def text_boxes(fig: Figure) -> list[tuple[str, object]]:
    renderer = fig.canvas.get_renderer()
    boxes = [
        (t.get_gid() or t.get_text(), t.get_window_extent(renderer))
        for t in fig.findobj(mpl.text.Text)
        if t.get_text() and t.get_visible()
    ]
    assert boxes
    return boxes


def inside(inner, outer, tol: float = 0.0) -> bool:
    return (
        inner.x0 >= outer.x0 - tol
        and inner.y0 >= outer.y0 - tol
        and inner.x1 <= outer.x1 + tol
        and inner.y1 <= outer.y1 + tol
    )


def check_texts(fig: Figure) -> None:
    """Every text lies inside the figure and no two texts overlap."""
    fig.canvas.draw()  # lays out the legend
    boxes = text_boxes(fig)
    for name, bbox in boxes:
        assert inside(bbox, fig.bbox), name
    for (a, box_a), (b, box_b) in itertools.combinations(boxes, 2):
        assert not box_a.overlaps(box_b), (a, b)


def x_pixels(ax, x: float) -> float:
    return float(ax.transData.transform((x, 0))[0])


def check_forest(fig: Figure, data: ForestData) -> None:
    check_texts(fig)
    renderer = fig.canvas.get_renderer()
    ax = panel(fig)
    frame = ax.get_window_extent(renderer)
    artists = gids(fig)
    # The table's texts stay clear of the effect panel.
    for t in fig.texts:
        assert not t.get_window_extent(renderer).overlaps(frame), t.get_gid()
    # Squares do not overlap one another, and each sits in its row.
    squares = [a for g, a in artists.items() if g.endswith("-square")]
    boxes = [s.get_window_extent(renderer) for s in squares]
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b)
    lo, hi = ax.get_xlim()
    for i, row in enumerate(data.rows):
        label = artists[f"forest-study-{i}-label-line0"].get_window_extent(renderer)
        marker = artists.get(f"forest-study-{i}-square") or artists.get(
            f"forest-study-{i}-dot"
        )
        if lo <= row.yi <= hi:
            box = marker.get_window_extent(renderer)
            # vertically within the label's row, horizontally at the estimate
            row_centre = (box.y0 + box.y1) / 2
            assert label.y0 - fig.dpi * 0.1 <= row_centre <= label.y1 + fig.dpi
            assert (box.x0 + box.x1) / 2 == pytest.approx(x_pixels(ax, row.yi), abs=0.5)
        # arrowheads exactly where the CI leaves the axis
        for side, cut, edge in (
            ("lower", row.ci_lb < lo, lo),
            ("upper", row.ci_ub > hi, hi),
        ):
            arrow = artists.get(f"forest-study-{i}-ci-arrow-{side}")
            assert (arrow is not None) == cut, (i, side)
            if cut:
                box = arrow.get_window_extent(renderer)
                tip = box.x0 if side == "lower" else box.x1
                assert tip == pytest.approx(x_pixels(ax, edge), abs=0.5)


def build(name: str):
    data = FORESTS[name]()
    return forest_figure(data), data


# --- files -----------------------------------------------------------------------


def draw_both(folder):
    paths = {
        "forest": (folder / "forest.png", folder / "forest.svg"),
        "funnel": (folder / "funnel.png", folder / "funnel.svg"),
    }
    draw_forest(bcg_data(grouped=True), *paths["forest"], dpi=100)
    draw_funnel(funnel_data(), *paths["funnel"], dpi=100)
    return [p for pair in paths.values() for p in pair]


def test_files_are_written_and_byte_identical(tmp_path):
    first = draw_both(tmp_path / "a")
    second = draw_both(tmp_path / "b")
    magic = {".svg": b"<?xml", ".png": b"\x89PNG"}
    for a, b in zip(first, second, strict=True):
        data = a.read_bytes()
        assert data.startswith(magic[a.suffix])
        assert len(data) > 1000
        assert data == b.read_bytes(), a.name
    # Nothing but the four files: the temporary files were renamed.
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == [
        "forest.png",
        "forest.svg",
        "funnel.png",
        "funnel.svg",
    ]
    again = draw_both(tmp_path / "a")
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in second]


def test_output_does_not_depend_on_the_callers_matplotlib_settings(tmp_path):
    plain = draw_both(tmp_path / "plain")
    style = {
        "font.size": 20,
        "font.family": "serif",
        "svg.fonttype": "path",
        "savefig.bbox": "tight",
        "savefig.facecolor": "red",
        "lines.linewidth": 5,
        "xtick.major.size": 10,
        "axes.unicode_minus": False,
        "text.parse_math": True,
    }
    with mpl.rc_context(style):
        styled = draw_both(tmp_path / "styled")
    for a, b in zip(plain, styled, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_png_resolution_follows_dpi(tmp_path):
    from PIL import Image

    data = bcg_data()
    draw_forest(data, tmp_path / "a.png", tmp_path / "a.svg", dpi=100)
    draw_forest(data, tmp_path / "b.png", tmp_path / "b.svg", dpi=200)
    with Image.open(tmp_path / "a.png") as a, Image.open(tmp_path / "b.png") as b:
        assert b.size[0] == pytest.approx(2 * a.size[0], abs=2)
        assert b.size[1] == pytest.approx(2 * a.size[1], abs=2)


def test_a_failure_leaves_no_partial_files(tmp_path, monkeypatch):
    real = Figure.savefig

    def failing(self, fname, *args, **kwargs):
        if kwargs.get("format") == "svg":
            raise OSError("disk full")
        return real(self, fname, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", failing)
    with pytest.raises(OSError, match="disk full"):
        draw_forest(bcg_data(), tmp_path / "f.png", tmp_path / "f.svg")
    with pytest.raises(OSError, match="disk full"):
        draw_funnel(funnel_data(), tmp_path / "g.png", tmp_path / "g.svg")
    assert list(tmp_path.iterdir()) == []


# --- forest: content ---------------------------------------------------------------


def test_svg_has_every_label_and_number_as_text(tmp_path):
    data = bcg_data(grouped=True, title="BCG vaccine trials")
    png, svg = tmp_path / "f.png", tmp_path / "f.svg"
    draw_forest(data, png, svg, dpi=100)
    raw = svg.read_text(encoding="utf-8")
    assert "DejaVu Sans" in raw
    assert "<path" in raw
    texts = svg_texts(svg)
    joined = " ".join(texts)  # wrapped lines come one after the other
    present = set(texts)

    for row in data.rows:
        assert row.label in present, row.label
        assert fmt(row.yi) in present
        assert f"[{fmt(row.ci_lb)}," in present
        assert f"{fmt(row.ci_ub)}]" in present
        assert f"{row.weight:.1f}%" in present
        assert f"{row.n_t:,}" in present
        assert f"{row.n_c:,}" in present
    for label, s in data.subgroups.items():
        assert label in present
        assert s.label in present
        assert fmt(s.estimate) in present
        assert f"[{fmt(s.pi_lb)}," in present
        assert s.text in joined
    o = data.overall
    for text in [
        o.label,
        fmt(o.estimate),
        f"[{fmt(o.ci_lb)},",
        f"{fmt(o.ci_ub)}]",
        f"[{fmt(o.pi_lb)},",
        f"{fmt(o.pi_ub)}]",
        "100.0%",
        f"{sum(r.n_t for r in data.rows):,}",
        "Prediction interval",
        "Study",
        "n int.",
        "n comp.",
        "Weight",
        "Log risk ratio [95% CI]",
        "Log risk ratio",
        "Favours vaccine",
        "Favours control",
        "BCG vaccine trials",
    ]:
        assert text in present, text
    for line in o.text.split("\n"):
        assert line in joined, line
    assert data.subgroup_test in joined
    # Negative numbers carry a real minus sign, never a hyphen.
    assert all("-" not in t for t in texts if t.lstrip("[").startswith(MINUS))


def test_ratio_measures_are_shown_as_ratios(tmp_path):
    data = ratio_data()
    fig = forest_figure(data)
    texts = {t.get_text() for t in fig.texts}
    for row in data.rows:
        assert fmt(math.exp(row.yi)) in texts
        assert f"[{fmt(math.exp(row.ci_lb))}," in texts
    assert "Risk ratio (log scale)" in texts
    assert "Risk ratio [95% CI]" in texts
    ax = panel(fig)
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert "1" in ticks
    for label, position in zip(ticks, ax.get_xticks(), strict=True):
        assert float(label.replace(MINUS, "-")) == pytest.approx(
            math.exp(position), rel=1e-9
        )
    # The null line is at a ratio of 1.
    null = gids(fig)["forest-null"]
    assert set(null.get_xdata()) == {0.0}
    check_forest(fig, data)


def test_axis_limits_are_nice_and_hold_the_data():
    for name in ("bcg", "bcg-subgroups", "sixty", "k1"):
        fig, data = build(name)
        ax = panel(fig)
        lo, hi = ax.get_xlim()
        ticks = list(ax.get_xticks())
        assert ticks[0] == pytest.approx(lo)
        assert ticks[-1] == pytest.approx(hi)
        assert 3 <= len(ticks) <= 8
        steps = np.diff(ticks)
        assert np.allclose(steps, steps[0])
        assert lo <= data.null_value <= hi
        for row in data.rows:
            assert lo <= row.yi <= hi
        for s in [data.overall, *data.subgroups.values()]:
            assert lo <= s.ci_lb and s.ci_ub <= hi
            if s.pi_lb is not None:
                assert lo <= s.pi_lb and s.pi_ub <= hi


def test_fixed_limits_and_ticks():
    data = bcg_data(xlim=(-1.0, 0.5), xticks=[-1.0, -0.5, 0.0, 0.5])
    fig = forest_figure(data)
    ax = panel(fig)
    assert ax.get_xlim() == (-1.0, 0.5)
    assert [t.get_text() for t in ax.get_xticklabels()] == [
        f"{MINUS}1.0",
        f"{MINUS}0.5",
        "0.0",
        "0.5",
    ]
    check_forest(fig, data)


def test_arrows_mark_intervals_beyond_the_axis():
    fig, data = build("fixed-xlim")
    artists = gids(fig)
    arrows = [g for g in artists if "-arrow-" in g]
    lower = {i for i, r in enumerate(data.rows) if r.ci_lb < -1.0}
    upper = {i for i, r in enumerate(data.rows) if r.ci_ub > 0.5}
    assert lower
    assert upper
    assert len(arrows) >= len(lower) + len(upper)
    check_forest(fig, data)
    # Whiskers stop at the axis.
    for i, _ in enumerate(data.rows):
        line = artists.get(f"forest-study-{i}-ci")
        if line is not None:
            xs = line.get_xdata()
            assert min(xs) >= -1.0
            assert max(xs) <= 0.5
    # A diamond cut by the axis gets an arrowhead too.
    for lo in (-1.2, -0.6):
        cut = data.overall.ci_lb < lo
        names = gids(forest_figure(bcg_data(xlim=(lo, 0.5))))
        assert ("forest-summary-overall-ci-arrow-lower" in names) == cut
        assert "forest-summary-overall-ci-arrow-upper" not in names


def test_no_arrows_when_everything_fits():
    fig, data = build("sixty-plain")
    assert not [g for g in gids(fig) if "-arrow-" in g]
    check_forest(fig, data)


def test_square_areas_are_proportional_to_the_weights():
    fig, data = build("bcg")
    renderer = fig.canvas.get_renderer()
    artists = gids(fig)
    ratios = []
    for i, row in enumerate(data.rows):
        box = artists[f"forest-study-{i}-square"].get_window_extent(renderer)
        assert box.width == pytest.approx(box.height, rel=1e-9)
        ratios.append(box.width * box.height / row.weight)
    assert np.allclose(ratios, ratios[0], rtol=1e-6)
    # The largest square does not fill the row.
    pitch = forest.PITCH_EM * forest.BODY_SIZE / 72 * fig.dpi
    widest = max(
        artists[f"forest-study-{i}-square"].get_window_extent(renderer).height
        for i in range(len(data.rows))
    )
    assert widest < pitch


def test_diamonds_span_the_confidence_intervals():
    fig, data = build("bcg-subgroups")
    renderer = fig.canvas.get_renderer()
    ax = panel(fig)
    artists = gids(fig)
    summaries = {"overall": data.overall}
    for j, name in enumerate(["random", "alternate", "systematic"]):
        summaries[f"group-{j}"] = data.subgroups[name]
    for key, s in summaries.items():
        diamond = artists[f"forest-summary-{key}-diamond"]
        assert isinstance(diamond, Polygon)
        box = diamond.get_window_extent(renderer)
        assert box.x0 == pytest.approx(x_pixels(ax, s.ci_lb), abs=0.5)
        assert box.x1 == pytest.approx(x_pixels(ax, s.ci_ub), abs=0.5)
        # the widest point is at the estimate, the tips at the limits
        xy = diamond.get_xy()
        assert {round(x, 9) for x in xy[:, 0]} == {
            round(s.ci_lb, 9),
            round(s.estimate, 9),
            round(s.ci_ub, 9),
        }
        bar = artists[f"forest-pi-{key}-bar"]
        assert isinstance(bar, Rectangle)
        bar_box = bar.get_window_extent(renderer)
        assert bar_box.x0 == pytest.approx(x_pixels(ax, s.pi_lb), abs=0.5)
        assert bar_box.x1 == pytest.approx(x_pixels(ax, s.pi_ub), abs=0.5)
        assert bar_box.y1 < box.y0  # under the diamond
    check_forest(fig, data)


def test_subgroups_are_drawn_in_blocks():
    fig, data = build("bcg-subgroups")
    renderer = fig.canvas.get_renderer()
    artists = gids(fig)

    def top(gid):
        return artists[gid].get_window_extent(renderer).y1

    headings = [f"forest-heading-group-{j}-label-line0" for j in range(3)]
    assert [artists[h].get_text() for h in headings] == [
        "random",
        "alternate",
        "systematic",
    ]
    assert artists[headings[0]].get_fontweight() == "bold"
    # Each block: heading, then its studies, then its diamond.
    for j, group in enumerate(["random", "alternate", "systematic"]):
        members = [i for i, r in enumerate(data.rows) if r.group == group]
        diamond = artists[f"forest-summary-group-{j}-diamond"]
        d_top = diamond.get_window_extent(renderer).y1
        for i in members:
            y = top(f"forest-study-{i}-label-line0")
            assert top(headings[j]) > y > d_top
        if j + 1 < 3:
            assert d_top > top(headings[j + 1])
    # Subgroup weights and totals.
    texts = {t.get_gid(): t.get_text() for t in fig.texts}
    weights = sum(r.weight for r in data.rows if r.group == "random")
    assert texts["forest-summary-group-0-weight"] == f"{weights:.1f}%"
    # The test for subgroup differences comes last, under the overall row.
    assert top("forest-note-subgroup-test-label-line0") < top(
        "forest-summary-overall-label-line0"
    )
    check_forest(fig, data)


def test_favours_labels_flank_the_null_line_under_the_axis():
    fig, _data = build("bcg")
    renderer = fig.canvas.get_renderer()
    ax = panel(fig)
    artists = gids(fig)
    left = artists["forest-favours-left-line0"].get_window_extent(renderer)
    right = artists["forest-favours-right-line0"].get_window_extent(renderer)
    null = x_pixels(ax, 0.0)
    assert left.x1 < null < right.x0
    ticks = [t.get_window_extent(renderer) for t in ax.get_xticklabels()]
    assert left.y1 < min(t.y0 for t in ticks)
    assert left.y0 == pytest.approx(right.y0)


@pytest.mark.parametrize("name", FORESTS)
def test_forest_texts_fit_and_nothing_overlaps(name):
    fig, data = build(name)
    check_forest(fig, data)


@pytest.mark.parametrize("dpi", [72, 300])
def test_forest_geometry_holds_at_the_png_resolution(dpi):
    for name in ("long-labels", "ratio-subgroups"):
        data = FORESTS[name]()
        fig = forest._figure(data, (*MEASURE_DPI, dpi))
        fig.set_dpi(dpi)
        check_forest(fig, data)


def test_long_labels_are_wrapped_and_ellipsised():
    fig, data = build("long-labels")
    renderer = fig.canvas.get_renderer()
    texts = {t.get_gid(): t for t in fig.texts}
    lines = [
        texts[g].get_text()
        for g in sorted(texts)
        if g.startswith("forest-study-2-label-")
    ]
    assert len(lines) == forest.LABEL_LINES
    assert lines[-1].endswith("\u2026")
    assert LONG.startswith(" ".join(lines)[:40])
    # The 120-character word is broken and cut, never wider than the column.
    x_lines = [texts[g] for g in texts if g.startswith("forest-study-5-label-")]
    assert len(x_lines) == forest.LABEL_LINES
    for t in x_lines:
        width = t.get_window_extent(renderer).width / fig.dpi
        assert width <= forest.LABEL_MAX + 0.01
    # Long extra cells are ellipsised within their column.
    rob = texts["forest-study-3-extra1"]
    assert rob.get_text().endswith("\u2026")
    assert rob.get_window_extent(renderer).width / fig.dpi <= forest.EXTRA_MAX + 0.01
    # Notes wrap onto as many lines as they need; headings stop at two.
    notes = [g for g in texts if g.startswith("forest-note-overall-label-line")]
    assert len(notes) >= 3
    heading = [g for g in texts if g.startswith("forest-heading-group-0-label-line")]
    assert len(heading) == forest.HEADING_LINES
    # Lines break at semicolons, and never inside "x = y".
    for g in notes:
        text = texts[g].get_text()
        assert not text.endswith(("=", "<")), text
        assert not text.startswith(("=", "<")), text
    check_forest(fig, data)


def test_wrapping_keeps_relations_whole():
    ts = forest.TextFont(forest.NOTE_SIZE, MEASURE_DPI)
    text = "Heterogeneity: \u03c4\u00b2 = 0.31; I\u00b2 = 92%; Q = 152.23 (df = 12), p < 0.001"
    for width in (1.0, 1.5, 2.0, 2.5):
        lines = ts.wrap(text, width, clauses=True)
        assert " ".join(lines) == text
        for line in lines:
            assert ts.width(line) <= width
            assert not line.endswith(("=", "<"))
        assert "p < 0.001" in " ".join(lines[-1:]) or any(
            "p < 0.001" in x for x in lines
        )
    assert ts.wrap(text, 2.6, clauses=True) == [
        "Heterogeneity: \u03c4\u00b2 = 0.31; I\u00b2 = 92%;",
        "Q = 152.23 (df = 12), p < 0.001",
    ]


def test_a_row_without_weight_gets_a_dot():
    fig, data = build("weight-none")
    artists = gids(fig)
    assert "forest-study-3-dot" in artists
    assert "forest-study-3-square" not in artists
    assert "forest-study-2-square" in artists
    texts = {t.get_gid(): t.get_text() for t in fig.texts}
    assert texts["forest-study-3-weight"] == "\u2013"
    assert "forest-summary-overall-weight" not in texts  # the total is unknown
    check_forest(fig, data)


def test_no_weights_means_equal_squares_and_no_weight_column():
    fig, data = build("no-weights")
    renderer = fig.canvas.get_renderer()
    artists = gids(fig)
    sizes = {
        round(artists[f"forest-study-{i}-square"].get_window_extent(renderer).width, 6)
        for i in range(len(data.rows))
    }
    assert len(sizes) == 1
    assert not any(g.endswith("-weight") for g in artists)
    assert "Weight" not in {t.get_text() for t in fig.texts}


def test_a_prediction_interval_that_is_not_estimable_is_left_out():
    data = bcg_data()
    data.overall.pi_lb = data.overall.pi_ub = math.nan
    fig = forest_figure(data)
    assert "forest-pi-overall-bar" not in gids(fig)
    assert "Prediction interval" not in {t.get_text() for t in fig.texts}
    check_forest(fig, data)


def test_a_single_study():
    fig, data = build("k1")
    artists = gids(fig)
    assert "forest-study-0-square" in artists
    assert "forest-summary-overall-diamond" in artists
    assert "forest-pi-overall-bar" not in artists
    texts = {t.get_text() for t in fig.texts}
    assert "Only study 2020" in texts
    assert "100.0%" in texts
    check_forest(fig, data)


def test_the_figure_grows_with_the_rows():
    heights = [forest_figure(synthetic(k)).get_size_inches()[1] for k in (5, 15, 60)]
    assert heights[0] < heights[1] < heights[2]
    per_row = (heights[2] - heights[1]) / 45
    assert per_row == pytest.approx(forest.PITCH_EM * forest.BODY_SIZE / 72)


def test_risk_of_bias_columns_are_coloured():
    fig, _data = build("sixty")
    texts = {t.get_gid(): t for t in fig.texts}
    colours = {
        texts[f"forest-study-{i}-extra1"].get_text(): texts[
            f"forest-study-{i}-extra1"
        ].get_color()
        for i in range(3)
    }
    assert colours["low"] == forest.ROB_COLOURS["low"]
    assert colours["high"] == forest.ROB_COLOURS["high"]
    assert texts["forest-study-0-extra0"].get_color() == forest.INK  # year


def test_math_and_markup_in_labels_are_printed_literally(tmp_path):
    data = bcg_data()
    data.rows[0].label = "Smith $x^2$ & <Jones> 2020"
    fig = forest_figure(data)
    texts = {t.get_text() for t in fig.texts}
    assert "Smith $x^2$ & <Jones> 2020" in texts
    draw_forest(data, tmp_path / "f.png", tmp_path / "f.svg", dpi=72)
    assert "Smith $x^2$ & <Jones> 2020" in svg_texts(tmp_path / "f.svg")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: setattr(d.rows[0], "yi", 5.0), "outside"),
        (lambda d: setattr(d.rows[1], "ci_lb", math.nan), "finite"),
        (lambda d: setattr(d.rows[1], "weight", -1.0), "negative"),
        (lambda d: setattr(d.overall, "pi_lb", None), "both pi_lb and pi_ub"),
        (lambda d: d.subgroups.update({"nope": d.overall}), "no row is in group"),
        (lambda d: setattr(d, "rows", []), "at least one"),
        (lambda d: setattr(d, "xlim", (1.0, 0.0)), "rise"),
        (lambda d: setattr(d, "digits", 9), "digits"),
    ],
)
def test_bad_forest_data_is_refused(change, message, tmp_path):
    data = bcg_data()
    change(data)
    with pytest.raises(ValueError, match=message):
        forest_figure(data)
    with pytest.raises(ValueError, match=message):
        draw_forest(data, tmp_path / "f.png", tmp_path / "f.svg")
    assert list(tmp_path.iterdir()) == []


def test_wrong_types_are_refused():
    with pytest.raises(TypeError):
        forest_figure("not data")
    data = bcg_data()
    data.rows[0].label = 3
    with pytest.raises(TypeError, match="label"):
        forest_figure(data)
    with pytest.raises(ValueError, match="dpi"):
        draw_forest(bcg_data(), "x.png", "x.svg", dpi=0)


# --- funnel ------------------------------------------------------------------------


def check_funnel(fig: Figure) -> None:
    check_texts(fig)
    renderer = fig.canvas.get_renderer()
    ax = panel(fig)
    frame = ax.get_window_extent(renderer)
    legend = gids(fig)["funnel-legend"].get_window_extent(renderer)
    assert inside(legend, fig.bbox)
    assert not legend.overlaps(frame)  # so it covers no point
    for t in fig.texts:
        assert not t.get_window_extent(renderer).overlaps(frame), t.get_gid()


@pytest.mark.parametrize("name", FUNNELS)
def test_funnel_texts_fit_and_nothing_overlaps(name):
    check_funnel(funnel_figure(FUNNELS[name]()))


@pytest.mark.parametrize("dpi", [72, 300])
def test_funnel_geometry_holds_at_the_png_resolution(dpi):
    fig = funnel._figure(funnel_data(), (*MEASURE_DPI, dpi))
    fig.set_dpi(dpi)
    check_funnel(fig)


def test_funnel_has_standard_errors_downwards():
    data = funnel_data()
    fig = funnel_figure(data)
    ax = panel(fig)
    assert ax.yaxis_inverted()
    bottom, top = ax.get_ylim()
    assert top == 0.0
    assert bottom >= max(data.sei + data.filled_sei)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0] in ("0", "0.0", "0.00")
    texts = {t.get_text() for t in fig.texts}
    assert "Standard error" in texts
    assert "Log risk ratio" in texts
    # Every point lies within the axes.
    lo, hi = ax.get_xlim()
    for x in data.yi + data.filled_yi:
        assert lo < x < hi


def test_funnel_draws_studies_and_filled_studies():
    data = funnel_data()
    fig = funnel_figure(data)
    artists = gids(fig)
    studies = artists["funnel-studies"]
    filled = artists["funnel-filled"]
    assert list(studies.get_xdata()) == data.yi
    assert list(studies.get_ydata()) == data.sei
    assert list(filled.get_xdata()) == data.filled_yi
    assert list(filled.get_ydata()) == data.filled_sei
    assert mpl.colors.to_hex(studies.get_markerfacecolor()) == "#000000"
    assert mpl.colors.to_hex(filled.get_markerfacecolor()) == "#ffffff"  # open
    assert set(artists["funnel-estimate"].get_xdata()) == {data.estimate}
    adjusted = artists["funnel-adjusted-estimate"]
    assert set(adjusted.get_xdata()) == {data.filled_estimate}
    assert adjusted.get_linestyle() == "--"
    legend = [t.get_text() for t in artists["funnel-legend"].get_texts()]
    assert "Imputed studies" in legend
    assert "Adjusted estimate" in legend


def test_funnel_without_filled_studies():
    fig = funnel_figure(FUNNELS["no-fill"]())
    artists = gids(fig)
    assert "funnel-filled" not in artists
    assert "funnel-adjusted-estimate" not in artists
    legend = [t.get_text() for t in artists["funnel-legend"].get_texts()]
    assert "Imputed studies" not in legend


def test_funnel_contours_around_the_null():
    data = funnel_data()
    fig = funnel_figure(data)
    artists = gids(fig)
    ax = panel(fig)
    y_max = ax.get_ylim()[0]
    for level, z in ((0.9, 1.6448536), (0.95, 1.9599640), (0.99, 2.5758293)):
        wedge = artists[f"funnel-contour-{level:g}"]
        xs = sorted(wedge.get_xy()[:, 0])
        assert xs[0] == pytest.approx(-z * y_max, rel=1e-6)
        assert xs[-1] == pytest.approx(z * y_max, rel=1e-6)
    legend = [t.get_text() for t in artists["funnel-legend"].get_texts()]
    for band in [
        "p > 0.10",
        "0.05 < p \u2264 0.10",
        "0.01 < p \u2264 0.05",
        "p \u2264 0.01",
    ]:
        assert band in legend
    plain = gids(funnel_figure(FUNNELS["no-contours"]()))
    assert not [g for g in plain if g.startswith("funnel-contour")]


def test_funnel_ratio_axis(tmp_path):
    fig = funnel_figure(FUNNELS["ratio"]())
    ax = panel(fig)
    for label, x in zip(ax.get_xticklabels(), ax.get_xticks(), strict=True):
        assert float(label.get_text()) == pytest.approx(math.exp(x), rel=1e-9)
    assert "Risk ratio (log scale)" in {t.get_text() for t in fig.texts}
    draw_funnel(FUNNELS["ratio"](), tmp_path / "r.png", tmp_path / "r.svg", dpi=72)
    assert "Risk ratio (log scale)" in svg_texts(tmp_path / "r.svg")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"sei": [0.1] * 12}, "equally long"),
        ({"sei": [0.0] + [0.1] * 12}, "positive"),
        ({"filled_sei": []}, "filled"),
        ({"contours": (0.95, 1.5)}, "contours"),
        ({"estimate": math.inf}, "finite"),
    ],
)
def test_bad_funnel_data_is_refused(changes, message):
    with pytest.raises(ValueError, match=message):
        funnel_figure(funnel_data(**changes))
