"""The PRISMA 2020 flow diagram: files, reproducibility, content and geometry."""

from __future__ import annotations

import dataclasses
import itertools
import xml.etree.ElementTree as ET

import matplotlib as mpl
import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from evsynth.plots.style import MEASURE_DPI
from evsynth.screening import prisma_plot
from evsynth.screening.prisma_plot import PrismaFlow, draw_prisma, prisma_figure

SVG_NS = "{http://www.w3.org/2000/svg}"


def example_flow(**changes) -> PrismaFlow:
    values = {
        "databases": [
            ("PsycINFO (Ovid)", 52),
            ("MEDLINE (PubMed)", 38),
            ("Scopus", 48),
            ("Web of Science Core Collection", 30),
            ("EndNote library (hand searching)", 30),
        ],
        "registers": [],
        "duplicates": 81,
        "excluded_automatic": 0,
        "excluded_other": 0,
        "records_screened": 139,
        "records_excluded": 101,
        "dbr_sought_reports": 38,
        "dbr_notretrieved_reports": 3,
        "dbr_assessed": 35,
        "dbr_excluded": [
            ("Wrong population", 9),
            ("Wrong intervention", 6),
            ("Wrong study design", 5),
            ("Wrong outcomes", 3),
        ],
        "new_studies": 9,
        "new_reports": 12,
    }
    values.update(changes)
    return PrismaFlow(**values)


def full_flow(**changes) -> PrismaFlow:
    values = {
        "other": True,
        "citations": [("Citation searching", 22)],
        "other_sought_reports": 5,
        "other_notretrieved_reports": 1,
        "other_assessed": 4,
        "other_excluded": [("Wrong study design", 2)],
        "previous": True,
        "previous_studies": 6,
        "previous_reports": 8,
        "total_studies": 17,
        "total_reports": 22,
    }
    values.update(changes)
    return example_flow(**values)


def long_name(i: int, stem: str) -> str:
    name = f"{stem} {i}: " + " ".join(["participants", "outside", "the", "scope"] * 8)
    return name[:80]


def extreme_flow() -> PrismaFlow:
    reasons = [(long_name(i, "Reason"), 10_000_000 + i) for i in range(12)]
    reasons[3] = ("X" * 80, 99_999_999)  # a single 80-character word
    return full_flow(
        databases=[(long_name(i, "Database"), 12_345_678 + i) for i in range(3)]
        + [("D" * 80, 7)],
        registers=[(long_name(1, "Register"), 1_234_567), ("ClinicalTrials.gov", 5)],
        duplicates=10_000_000,
        excluded_automatic=99_999_999,
        excluded_other=12_345_678,
        records_screened=88_888_888,
        records_excluded=77_777_777,
        dbr_sought_reports=10_000_000,
        dbr_notretrieved_reports=9_999_999,
        dbr_assessed=10_000_000,
        dbr_excluded=reasons,
        new_studies=10_000_000,
        new_reports=10_000_000,
        websites=[(long_name(1, "Website"), 10_000_000)],
        organisations=[("Org A", 1), (long_name(2, "Organisation"), 22_222_222)],
        citations=[("Citation searching", 10_000_000)],
        other_sought_reports=10_000_000,
        other_notretrieved_reports=10_000_000,
        other_assessed=10_000_000,
        other_excluded=reasons[:1],
        previous_studies=10_000_000,
        previous_reports=10_000_000,
        total_studies=10_000_000,
        total_reports=10_000_000,
    )


FLOWS = {
    "example": example_flow,
    "one-reason": lambda: example_flow(dbr_excluded=[("Wrong population", 23)]),
    "no-reasons": lambda: example_flow(dbr_excluded=[]),
    "other-and-previous": full_flow,
    "other-only": lambda: full_flow(previous=False),
    "previous-only": lambda: full_flow(other=False),
    "extreme": extreme_flow,
}


def draw(flow: PrismaFlow, folder, **kwargs):
    paths = [folder / "prisma.svg", folder / "prisma.png", folder / "prisma.pdf"]
    draw_prisma(flow, *paths, dpi=100, **kwargs)
    return paths


def svg_text(path) -> str:
    """Every text element of the SVG, in drawing order, one per line."""
    root = ET.parse(path).getroot()
    return "\n".join("".join(t.itertext()) for t in root.iter(f"{SVG_NS}text"))


def squeeze(text: str) -> str:
    return "".join(text.split())


# --- files -----------------------------------------------------------------------


def test_files_are_written_and_byte_identical(tmp_path):
    first = draw(full_flow(), tmp_path / "a", title="PRISMA 2020 flow diagram")
    second = draw(full_flow(), tmp_path / "b", title="PRISMA 2020 flow diagram")
    magic = {".svg": b"<?xml", ".png": b"\x89PNG", ".pdf": b"%PDF"}
    for a, b in zip(first, second, strict=True):
        data = a.read_bytes()
        assert data.startswith(magic[a.suffix])
        assert len(data) > 1000
        assert data == b.read_bytes(), a.name
    # Nothing but the three files: the temporary files were renamed.
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == [
        "prisma.pdf",
        "prisma.png",
        "prisma.svg",
    ]
    # Overwriting gives the same bytes again.
    again = draw(full_flow(), tmp_path / "a", title="PRISMA 2020 flow diagram")
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in second]


def test_output_does_not_depend_on_the_callers_matplotlib_settings(tmp_path):
    plain = draw(example_flow(), tmp_path / "plain")
    style = {
        "font.size": 20,
        "font.family": "serif",
        "svg.fonttype": "path",
        "pdf.fonttype": 3,
        "savefig.bbox": "tight",
        "savefig.facecolor": "red",
        "text.parse_math": True,
    }
    with mpl.rc_context(style):
        styled = draw(example_flow(), tmp_path / "styled")
    for a, b in zip(plain, styled, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_a_failure_leaves_no_partial_files(tmp_path, monkeypatch):
    real = Figure.savefig

    def failing(self, fname, *args, **kwargs):
        if kwargs.get("format") == "pdf":
            raise OSError("disk full")
        return real(self, fname, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", failing)
    with pytest.raises(OSError, match="disk full"):
        draw(example_flow(), tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []


# --- content ---------------------------------------------------------------------


def test_svg_has_every_count_reason_and_name_as_text(tmp_path):
    flow = full_flow(
        databases=[("MEDLINE (PubMed)", 1_234), ("Embase & Emcare", 56_789)],
        registers=[("ClinicalTrials.gov", 2_345_678)],
        duplicates=10_000_000,
        dbr_excluded=[("Not a randomised trial", 1_001), ("Wrong outcomes", 3)],
        websites=[("Google Scholar", 4_321)],
        organisations=[("WHO", 17)],
    )
    svg, _, _ = draw(flow, tmp_path, title="Flow of studies")
    raw = svg.read_text(encoding="utf-8")
    text = svg_text(svg)
    flat = squeeze(text)
    assert 'style="font' in raw  # text kept as text, not glyph paths
    assert "DejaVu Sans" in raw

    counts = [
        value
        for f in dataclasses.fields(flow)
        if isinstance(value := getattr(flow, f.name), int)
        and not isinstance(value, bool)
    ]
    pairs = [
        *flow.databases,
        *flow.registers,
        *flow.dbr_excluded,
        *flow.websites,
        *flow.organisations,
        *flow.citations,
        *flow.other_excluded,
    ]
    counts += [n for _, n in pairs]
    counts += [1_234 + 56_789, 2_345_678, 4_321, 17]  # category totals
    for n in counts:
        assert f"(n = {n:,})" in text, n
    assert "(n = 10,000,000)" in text
    assert "(n = 58,023)" in text  # databases total
    for name, _ in pairs:
        assert squeeze(name) in flat, name

    for label in [
        "Identification of new studies via databases and registers",
        "Identification of new studies via other methods",
        "Previous studies",
        "Identification",
        "Screening",
        "Included",
        "Records identified from*:",
        "Records removed before screening:",
        "Duplicate records removed",
        "Records marked as ineligible by automation tools",
        "Records removed for other reasons",
        "Records screened",
        "Records excluded**",
        "Reports sought for retrieval",
        "Reports not retrieved",
        "Reports assessed for eligibility",
        "Reports excluded:",
        "New studies included in review",
        "Reports of new included studies",
        "Studies included in previous version of review",
        "Reports of studies included in previous version of review",
        "Total studies included in review",
        "Reports of total included studies",
        "Records identified from:",
        "Flow of studies",
    ]:
        assert squeeze(label) in flat, label
    assert "*Consider, if feasible" in text
    assert "**If automation tools were used" in text


def test_new_review_wording(tmp_path):
    svg, _, _ = draw(example_flow(), tmp_path)
    flat = squeeze(svg_text(svg))
    assert squeeze("Identification of studies via databases and registers") in flat
    assert squeeze("Studies included in review") in flat
    assert squeeze("Reports of included studies") in flat
    assert "other methods" not in flat
    assert "Previous" not in flat
    assert squeeze("Databases (n = 198)") in flat
    assert squeeze("Registers (n = 0)") in flat


def test_columns_are_drawn_only_when_asked():
    def gids(flow):
        return {a.get_gid() for a in prisma_figure(flow).get_children()}

    plain = gids(example_flow())
    assert "prisma-box-other-assessed" not in plain
    assert "prisma-box-previous" not in plain
    full = gids(full_flow())
    for gid in [
        "prisma-header-other",
        "prisma-header-previous",
        "prisma-box-other-identified",
        "prisma-box-total",
        "prisma-arrow-other-assessed-included",
        "prisma-arrow-previous-total",
        "prisma-arrow-included-total",
    ]:
        assert gid in full


# --- geometry --------------------------------------------------------------------


def shrink(bbox, px):
    return bbox.__class__.from_extents(
        bbox.x0 + px, bbox.y0 + px, bbox.x1 - px, bbox.y1 - px
    )


def inside(inner, outer) -> bool:
    return (
        inner.x0 >= outer.x0
        and inner.y0 >= outer.y0
        and inner.x1 <= outer.x1
        and inner.y1 <= outer.y1
    )


def check_geometry(fig: Figure) -> None:
    renderer = fig.canvas.get_renderer()
    px = fig.dpi / 72  # one point in pixels
    children = fig.get_children()
    shapes = {
        a.get_gid(): a.get_window_extent(renderer)
        for a in children
        if isinstance(a, Patch)
        and (a.get_gid() or "").startswith(
            ("prisma-box-", "prisma-header-", "prisma-side-")
        )
    }
    boxes = {gid: bbox for gid, bbox in shapes.items() if gid.startswith("prisma-box-")}
    texts = [(t.get_gid(), t.get_window_extent(renderer)) for t in fig.texts]
    arrows = [a for a in children if (a.get_gid() or "").startswith("prisma-arrow-")]
    assert len(boxes) >= 9
    assert texts
    assert arrows

    # Every artist is on the page.
    page = fig.bbox
    for gid, bbox in [*shapes.items(), *texts]:
        assert inside(bbox, page), gid

    # Each text lies inside its box or bar, clear of the border line; the
    # title and footnotes lie outside every box.
    for gid, bbox in texts:
        parent = gid.rsplit("-", 1)[0]
        if parent in shapes:
            assert inside(bbox, shrink(shapes[parent], 0.5 * px)), gid
        else:
            assert gid.startswith(("prisma-title-", "prisma-footnote-")), gid
            for other, shape in shapes.items():
                assert not bbox.overlaps(shape), (gid, other)

    # No two boxes or bars overlap, no two texts overlap.
    for (a, bbox_a), (b, bbox_b) in itertools.combinations(shapes.items(), 2):
        assert not bbox_a.overlaps(bbox_b), (a, b)
    for (a, bbox_a), (b, bbox_b) in itertools.combinations(texts, 2):
        assert not bbox_a.overlaps(bbox_b), (a, b)

    # Arrows run between boxes without crossing any box, and end on a box edge.
    for arrow in arrows:
        path = arrow.get_transform().transform_path(arrow.get_path())
        for polyline in path.to_polygons(closed_only=False):
            for start, end in itertools.pairwise(polyline):
                for t in np.linspace(0, 1, 25):
                    x, y = start + t * (end - start)
                    for gid, bbox in boxes.items():
                        assert not shrink(bbox, 1.5 * px).contains(x, y), (
                            arrow.get_gid(),
                            gid,
                        )
        # It starts on one box and its head touches another.
        touching = [
            {gid for gid, bbox in boxes.items() if gap(bbox, point) <= 2 * px}
            for point in path.vertices
        ]
        assert touching[0], arrow.get_gid()
        assert set().union(*touching[1:]) - touching[0], arrow.get_gid()


def gap(bbox, point) -> float:
    """Distance from a point to a box (0 inside)."""
    dx = max(bbox.x0 - point[0], point[0] - bbox.x1, 0)
    dy = max(bbox.y0 - point[1], point[1] - bbox.y1, 0)
    return float(np.hypot(dx, dy))


@pytest.mark.parametrize("name", FLOWS)
def test_text_fits_boxes_and_nothing_overlaps(name):
    fig = prisma_figure(FLOWS[name](), title="A title that is long enough " * 4)
    check_geometry(fig)


@pytest.mark.parametrize("dpi", [72, 300])
def test_geometry_holds_at_the_png_resolution(dpi):
    # draw_prisma measures text at the PNG's resolution too.
    fig = prisma_plot._figure(extreme_flow(), None, (*MEASURE_DPI, dpi))
    fig.set_dpi(dpi)
    check_geometry(fig)


def test_boxes_grow_with_their_content():
    def box(flow, key):
        fig = prisma_figure(flow)
        renderer = fig.canvas.get_renderer()
        (patch,) = [a for a in fig.get_children() if a.get_gid() == f"prisma-box-{key}"]
        return patch.get_window_extent(renderer)

    few = box(example_flow(dbr_excluded=[("Wrong population", 1)]), "reports-excluded")
    many = box(extreme_flow(), "reports-excluded")
    assert many.height > 5 * few.height


def test_columns_are_aligned():
    fig = prisma_figure(full_flow())
    renderer = fig.canvas.get_renderer()
    boxes = {
        a.get_gid().removeprefix("prisma-box-"): a.get_window_extent(renderer)
        for a in fig.get_children()
        if isinstance(a, Patch) and (a.get_gid() or "").startswith("prisma-box-")
    }
    main = ["identified", "screened", "sought", "assessed", "included", "total"]
    side = ["removed", "excluded", "notretrieved", "reports-excluded"]
    for column in (main, side, ["other-identified", "other-sought", "other-assessed"]):
        assert len({round(boxes[k].x0, 3) for k in column}) == 1, column
    assert len({round(b.width, 3) for b in boxes.values()}) == 1
    # Horizontal arrows are straight: paired boxes share their vertical centre.
    for a, b in [("screened", "excluded"), ("assessed", "reports-excluded")]:
        assert boxes[a].y0 + boxes[a].y1 == pytest.approx(boxes[b].y0 + boxes[b].y1)


# --- validation ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"records_excluded": -1}, "records_excluded"),
        ({"duplicates": -5}, "duplicates"),
        ({"dbr_excluded": [("Wrong population", -2)]}, "dbr_excluded"),
        ({"databases": [("MEDLINE", 3), ("Embase", -1)]}, "databases"),
        ({"total_reports": -1}, "total_reports"),
        ({"new_studies": 2.5}, "new_studies"),
        ({"dbr_excluded": [("", 2)]}, "dbr_excluded"),
    ],
)
def test_bad_flow_names_the_field(changes, field):
    with pytest.raises(ValueError, match=field):
        example_flow(**changes)


def test_bad_flow_is_caught_when_drawing(tmp_path):
    flow = example_flow()
    flow.records_screened = -139
    with pytest.raises(ValueError, match="records_screened"):
        prisma_figure(flow)
    with pytest.raises(ValueError, match="records_screened"):
        draw(flow, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_bare_total_is_not_repeated():
    fig = prisma_figure(example_flow(databases=[("Databases", 1_500)]))
    texts = [t.get_text() for t in fig.texts]
    assert texts.count("Databases (n = 1,500)") == 1


def test_numpy_integers_are_counts():
    flow = example_flow(duplicates=np.int64(81), dbr_excluded=[("A", np.int32(4))])
    fig = prisma_figure(flow)
    texts = {t.get_text() for t in fig.texts}
    assert "Duplicate records removed (n = 81)" in texts
