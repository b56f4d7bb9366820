"""Risk of bias: reading and checking, tables, harmonisation, figures and files."""

from __future__ import annotations

import csv
import itertools
import json
import re
import xml.etree.ElementTree as ET

import matplotlib as mpl
import pandas as pd
import pytest
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.patches import Circle, Rectangle

from evsynth.errors import InputError
from evsynth.rob import api, plots
from evsynth.rob.api import (
    TOOLS,
    overall_by_study,
    read_rob,
    rob_table,
    summary_figure,
    summary_proportions,
    traffic_light_figure,
    write_rob,
)

SVG_NS = "{http://www.w3.org/2000/svg}"
HEADER = [
    "study_id",
    "tool",
    "outcome",
    "d1",
    "d2",
    "d3",
    "d4",
    "d5",
    "d6",
    "d7",
    "overall",
    "assessor",
    "note",
]
# 18 studies of a review of mentoring for care-experienced young people: the
# RCTs and cluster RCTs with RoB 2, the QEDs with ROBINS-I; one study is judged
# for two outcomes.
EXAMPLE = """\
study_id,tool,outcome,d1,d2,d3,d4,d5,d6,d7,overall,assessor,note
crossage2016,rob2,,low,low,some_concerns,low,low,,,some_concerns,consensus,Attrition 18% vs 11%
reunification2019,robins_i,,serious,low,low,moderate,moderate,low,moderate,serious,consensus,No adjustment for placement history
yim_qed2020,robins_i,,moderate,low,low,low,no_information,moderate,low,moderate,consensus,
ementoring2022,rob2,,low,some_concerns,high,low,some_concerns,,,high,consensus,Outcome data missing for 41%
yim_crct2023,rob2,,some_concerns,low,low,low,low,,,some_concerns,consensus,Clusters recruited after randomisation
befriending_atrisk2017,rob2,,low,low,low,low,low,,,low,consensus,
schoolmentoring2018,rob2,,low,high,some_concerns,some_concerns,low,,,high,consensus,
groupmentoring2018,rob2,,some_concerns,some_concerns,low,some_concerns,low,,,high,consensus,Concerns in three domains
therapeutic2019,robins_i,,critical,moderate,low,low,serious,moderate,moderate,critical,consensus,
sport2021,robins_i,,serious,moderate,low,low,low,serious,moderate,serious,consensus,
kinship_befriending2021,rob2,,some_concerns,low,some_concerns,low,low,,,some_concerns,consensus,
employment_did2021,robins_i,,moderate,low,low,no_information,low,low,no_information,no_information,consensus,
malrc2022,rob2,,low,low,low,some_concerns,low,,,some_concerns,consensus,
bbbs_kinship2016,robins_i,,moderate,low,low,low,moderate,low,low,moderate,consensus,
taussig2010_fhf,rob2,mental health,low,low,low,low,low,,,low,consensus,
taussig2010_fhf,rob2,placement stability,low,low,some_concerns,low,low,,,some_concerns,consensus,
powers2012_mylife,rob2,,low,some_concerns,low,low,low,,,some_concerns,consensus,
geenen2015_betterfutures,rob2,,low,low,high,low,low,,,high,consensus,
geenen2013_takecharge,rob2,,low,low,low,low,some_concerns,,,some_concerns,consensus,
"""
STUDIES = {
    "crossage2016",
    "reunification2019",
    "yim_qed2020",
    "ementoring2022",
    "yim_crct2023",
    "befriending_atrisk2017",
    "schoolmentoring2018",
    "groupmentoring2018",
    "therapeutic2019",
    "sport2021",
    "kinship_befriending2021",
    "employment_did2021",
    "malrc2022",
    "bbbs_kinship2016",
    "taussig2010_fhf",
    "powers2012_mylife",
    "geenen2015_betterfutures",
    "geenen2013_takecharge",
}
QEDS = {
    "reunification2019",
    "yim_qed2020",
    "therapeutic2019",
    "sport2021",
    "employment_did2021",
    "bbbs_kinship2016",
}


def example_rows() -> list[dict[str, str]]:
    return list(csv.DictReader(EXAMPLE.splitlines()))


def write_rows(path, rows, header=HEADER):
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def example_csv(tmp_path):
    path = tmp_path / "risk_of_bias.csv"
    path.write_text(EXAMPLE, encoding="utf-8")
    return path


@pytest.fixture
def frame(example_csv):
    return read_rob(example_csv, STUDIES)


def bad_file(tmp_path, index: int, **changes: str):
    """The example with row ``index`` (0-based) changed."""
    rows = example_rows()
    rows[index].update(changes)
    return write_rows(tmp_path / "bad.csv", rows)


def error_for(path, studies=None) -> InputError:
    with pytest.raises(InputError) as info:
        read_rob(path, studies)
    return info.value


def where(error: InputError) -> tuple[int | None, int | None, str | None]:
    return error.location.line, error.location.row, error.location.column


# --- reading ---------------------------------------------------------------------


def test_the_example_is_read_and_typed(frame):
    assert list(frame.columns) == HEADER
    assert len(frame) == 19
    assert set(frame["study_id"]) == STUDIES
    assert set(frame.loc[frame["tool"] == "robins_i", "study_id"]) == QEDS
    first = frame.iloc[0]
    assert first["outcome"] == "all outcomes"
    assert first["d3"] == "some_concerns"
    assert first["d6"] is None and first["d7"] is None
    assert frame.iloc[2]["note"] is None
    for tool, spec in TOOLS.items():
        rows = frame[frame["tool"] == tool]
        for column in (*spec.columns, "overall"):
            assert set(rows[column]) <= set(spec.levels)


def test_levels_are_read_whatever_their_case_and_spacing(tmp_path):
    rows = example_rows()
    rows[0].update(d3="Some concerns", overall=" Some-Concerns ")
    rows[1].update(d4="Moderate", d1="SERIOUS", overall="serious")
    rows[2].update(d5="No information")
    frame = read_rob(write_rows(tmp_path / "rob.csv", rows))
    assert frame.iloc[0]["d3"] == frame.iloc[0]["overall"] == "some_concerns"
    assert frame.iloc[1]["d1"] == "serious"
    assert frame.iloc[2]["d5"] == "no_information"


def test_extra_columns_are_kept(tmp_path):
    rows = example_rows()
    for row in rows:
        row["source"] = "form v2"
    frame = read_rob(write_rows(tmp_path / "rob.csv", rows, [*HEADER, "source"]))
    assert list(frame.columns) == [*HEADER, "source"]
    assert set(frame["source"]) == {"form v2"}


def test_schema_errors_name_the_file_row_and_column(tmp_path):
    error = error_for(bad_file(tmp_path, 3, tool="rob1"))
    assert where(error) == (5, 4, "tool")
    assert error.location.file.endswith("bad.csv")
    assert "rob2, robins_i" in str(error)

    error = error_for(bad_file(tmp_path, 0, study_id="cross age"))
    assert where(error) == (2, 1, "study_id")

    error = error_for(bad_file(tmp_path, 4, overall=""))
    assert where(error) == (6, 5, "overall")
    assert "empty cell" in str(error)

    header = [c for c in HEADER if c != "overall"]
    path = write_rows(tmp_path / "no_overall.csv", example_rows(), header)
    error = error_for(path)
    assert error.location.line == 1
    assert "overall" in str(error)


@pytest.mark.parametrize(
    ("index", "column", "value", "levels"),
    [
        (0, "d2", "moderate", "low, some_concerns, high"),
        (0, "overall", "unclear", "low, some_concerns, high"),
        (1, "d3", "some_concerns", "low, moderate, serious, critical, no_information"),
        (1, "d7", "medium", "low, moderate, serious, critical, no_information"),
    ],
)
def test_a_level_outside_the_tools_scale(tmp_path, index, column, value, levels):
    error = error_for(bad_file(tmp_path, index, **{column: value}))
    assert where(error) == (index + 2, index + 1, column)
    name = "RoB 2" if index == 0 else "ROBINS-I"
    assert f"is not a {name} judgement" in error.message
    assert error.expected.startswith(f"one of {levels}")
    if value in ("moderate", "some_concerns"):  # a level of the other tool
        assert "is the tool right?" in error.message


@pytest.mark.parametrize(("index", "column"), [(0, "d4"), (1, "d1"), (1, "d7")])
def test_a_missing_domain(tmp_path, index, column):
    error = error_for(bad_file(tmp_path, index, **{column: ""}))
    assert where(error) == (index + 2, index + 1, column)
    assert "empty cell" in error.message
    assert column.upper() in error.message
    assert "one of low" in error.expected


@pytest.mark.parametrize("column", ["d6", "d7"])
def test_a_domain_the_tool_does_not_have(tmp_path, column):
    error = error_for(bad_file(tmp_path, 0, **{column: "low"}))
    assert where(error) == (2, 1, column)
    assert f"RoB 2 has no domain {column.upper()}" in error.message
    assert error.expected.startswith("an empty cell")


@pytest.mark.parametrize(
    ("index", "changes", "worst"),
    [
        # RoB 2: low only if every domain is low
        (0, {"overall": "low"}, "D3 is 'some_concerns'"),
        # RoB 2: high if any domain is high
        (3, {"overall": "some_concerns"}, "D3 is 'high'"),
        # ROBINS-I: at least as severe as the most severe domain
        (1, {"overall": "moderate"}, "D1 is 'serious'"),
        (8, {"overall": "serious"}, "D1 is 'critical'"),
        # ROBINS-I: "no information" overall hides no serious domain
        (9, {"overall": "no_information"}, "D1 and D6 are 'serious'"),
    ],
)
def test_an_overall_judgement_better_than_the_worst_domain(
    tmp_path, index, changes, worst
):
    error = error_for(bad_file(tmp_path, index, **changes))
    assert where(error) == (index + 2, index + 1, "overall")
    assert "is better than the worst domain" in error.message
    assert worst in error.message
    tool = example_rows()[index]["tool"]
    assert ("RoB 2: overall low only if" in error.expected) == (tool == "rob2")
    assert ("at least as severe" in error.expected) == (tool == "robins_i")


@pytest.mark.parametrize(
    ("index", "changes"),
    [
        (7, {}),  # RoB 2: high for concerns in several domains
        (0, {"overall": "high"}),  # worse than the domains is allowed
        (2, {"overall": "moderate"}),  # a no_information domain raises nothing
        (2, {"d1": "low", "d6": "low", "overall": "low"}),
        (11, {}),  # ROBINS-I "no information" overall with moderate domains
    ],
)
def test_overall_judgements_the_guidance_allows(tmp_path, index, changes):
    frame = read_rob(bad_file(tmp_path, index, **changes))
    assert len(frame) == 19


def test_a_study_listed_twice_for_the_same_tool_and_outcome(tmp_path):
    rows = example_rows()
    rows.append(dict(rows[5]))  # befriending_atrisk2017, all outcomes
    error = error_for(write_rows(tmp_path / "twice.csv", rows))
    assert where(error) == (21, 20, "outcome")
    assert "listed twice" in error.message
    assert "first in row 6" in error.message
    # The outcome is compared without regard to case and spacing.
    rows = example_rows()
    rows.append({**rows[14], "outcome": "Mental  Health"})
    error = error_for(write_rows(tmp_path / "twice.csv", rows))
    assert where(error) == (21, 20, "outcome")
    assert "first in row 15" in error.message


def test_the_same_study_with_another_tool_or_outcome_is_fine(tmp_path):
    rows = example_rows()
    rows.append({**rows[5], "outcome": "school attendance"})
    rows.append(
        {
            **rows[5],
            "tool": "robins_i",
            "d6": "low",
            "d7": "low",
            "overall": "low",
        }
    )
    frame = read_rob(write_rows(tmp_path / "rob.csv", rows), STUDIES)
    assert len(frame) == 21


def test_a_study_not_in_studies_csv(example_csv, tmp_path):
    error = error_for(example_csv, STUDIES - {"sport2021"})
    assert where(error) == (11, 10, "study_id")
    assert "not an included study in studies.csv" in error.message
    assert read_rob(example_csv).shape == (19, 13)  # no check without studies


# --- tables -----------------------------------------------------------------------


def test_rob_table_columns_and_labels(frame):
    table = rob_table(frame, "rob2")
    assert list(table.columns) == [
        "Study",
        "Outcome",
        "D1 Randomisation process",
        "D2 Deviations from intended interventions",
        "D3 Missing outcome data",
        "D4 Measurement of the outcome",
        "D5 Selection of the reported result",
        "Overall",
        "Assessor",
        "Note",
        "study_id",
    ]
    assert len(table) == 13
    first = table.iloc[0]
    assert first["Study"] == "crossage2016"
    assert first["Outcome"] == "all outcomes"
    assert first["D3 Missing outcome data"] == "Some concerns"
    assert first["Overall"] == "Some concerns"
    assert first["Note"] == "Attrition 18% vs 11%"
    taussig = table[table["Study"] == "taussig2010_fhf"]
    assert list(taussig["Outcome"]) == ["mental health", "placement stability"]

    table = rob_table(frame, "robins_i")
    assert list(table.columns[2:9]) == [
        "D1 Confounding",
        "D2 Selection of participants",
        "D3 Classification of interventions",
        "D4 Deviations from intended interventions",
        "D5 Missing data",
        "D6 Measurement of outcomes",
        "D7 Selection of the reported result",
    ]
    assert list(table["Study"]) == [s for s in frame["study_id"] if s in QEDS]
    row = table.set_index("Study").loc["employment_did2021"]
    assert row["D4 Deviations from intended interventions"] == "No information"
    assert row["Overall"] == "No information"
    assert set(table["Overall"]) == {
        "Serious",
        "Moderate",
        "Critical",
        "No information",
    }


def test_rob_table_of_a_tool_without_studies(frame):
    table = rob_table(frame[frame["tool"] == "rob2"], "robins_i")
    assert table.empty
    assert list(table.columns)[:3] == ["Study", "Outcome", "D1 Confounding"]
    with pytest.raises(ValueError, match="unknown risk-of-bias tool"):
        rob_table(frame, "rob1")


def test_overall_by_study_harmonises_the_tools(frame):
    overall = overall_by_study(frame)
    assert list(overall) == list(dict.fromkeys(frame["study_id"]))
    assert overall["befriending_atrisk2017"] == "low"  # RoB 2 low
    assert overall["crossage2016"] == "moderate"  # RoB 2 some concerns
    assert overall["ementoring2022"] == "high"  # RoB 2 high
    assert overall["bbbs_kinship2016"] == "moderate"  # ROBINS-I moderate
    assert overall["reunification2019"] == "high"  # ROBINS-I serious
    assert overall["therapeutic2019"] == "high"  # ROBINS-I critical
    assert overall["employment_did2021"] == "unclear"  # ROBINS-I no information
    # the worst of a study's outcomes
    assert overall["taussig2010_fhf"] == "moderate"
    assert set(overall.values()) <= {"low", "unclear", "moderate", "high"}


def test_overall_by_study_takes_the_worst_across_tools(tmp_path):
    rows = example_rows()
    rows.append({**rows[11], "study_id": "befriending_atrisk2017"})  # NI
    rows.append({**rows[11], "study_id": "crossage2016"})  # NI
    frame = read_rob(write_rows(tmp_path / "rob.csv", rows))
    overall = overall_by_study(frame)
    assert overall["befriending_atrisk2017"] == "unclear"  # low < unclear
    assert overall["crossage2016"] == "moderate"  # unclear < moderate


# --- figures: helpers -------------------------------------------------------------


def gids(fig: Figure) -> dict:
    return {a.get_gid(): a for a in fig.findobj() if a.get_gid()}


def text_boxes(fig: Figure) -> list:
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    return [
        (t.get_gid() or t.get_text(), t.get_window_extent(renderer))
        for t in fig.findobj(mpl.text.Text)
        if t.get_text() and t.get_visible()
    ]


def check_texts(fig: Figure) -> None:
    """Every text lies inside the figure and no two texts overlap."""
    boxes = text_boxes(fig)
    assert boxes
    figure_box = fig.bbox
    for name, box in boxes:
        assert box.x0 >= figure_box.x0 and box.x1 <= figure_box.x1, name
        assert box.y0 >= figure_box.y0 and box.y1 <= figure_box.y1, name
    for (a, box_a), (b, box_b) in itertools.combinations(boxes, 2):
        assert not box_a.overlaps(box_b), (a, b)


def svg_texts(fig: Figure, path) -> list[str]:
    plots.save_figure(fig, path, "svg")
    root = ET.parse(path).getroot()
    return ["".join(t.itertext()) for t in root.iter(f"{SVG_NS}text")]


def row_labels(frame, tool) -> list[str]:
    rows = frame[frame["tool"] == tool]
    return [
        s if o == "all outcomes" else f"{s}: {o}"
        for s, o in zip(rows["study_id"], rows["outcome"], strict=True)
    ]


# --- traffic-light plots ------------------------------------------------------


@pytest.mark.parametrize("tool", ["rob2", "robins_i"])
def test_traffic_light_texts(frame, tool, tmp_path):
    spec = TOOLS[tool]
    fig = traffic_light_figure(frame, tool)
    texts = svg_texts(fig, tmp_path / "tl.svg")
    for label in row_labels(frame, tool):
        assert label in texts
    for code, name in spec.domains:
        assert code in texts
        assert f"{code}: {name}" in texts
    for label in spec.labels.values():
        assert label in texts
    for text in ("Overall", "Study", "Risk of bias domains", "Judgement"):
        assert text in texts
    assert f"Risk of bias: {spec.name} ({spec.design})" in texts
    check_texts(fig)


@pytest.mark.parametrize("tool", ["rob2", "robins_i"])
def test_traffic_light_circles_match_the_judgements(frame, tool):
    spec = TOOLS[tool]
    fig = traffic_light_figure(frame, tool)
    artists = gids(fig)
    renderer = fig.canvas.get_renderer()
    rows = frame[frame["tool"] == tool].to_dict(orient="records")
    circles = [a for a in fig.findobj(Circle) if a.get_gid().startswith("rob-light")]
    assert len(circles) == len(rows) * (len(spec.domains) + 1)
    for i, row in enumerate(rows):
        label = artists[f"rob-study-{i}"].get_window_extent(renderer)
        columns = [(code, code.lower()) for code, _ in spec.domains]
        for gid_part, column in [*columns, ("overall", "overall")]:
            level = row[column]
            circle = artists[f"rob-light-{i}-{gid_part}"]
            assert to_hex(circle.get_facecolor()) == spec.colours[level].lower()
            symbol = artists[f"rob-light-{i}-{gid_part}-symbol"]
            assert symbol.get_text() == spec.symbols[level]
            # the symbol sits inside its circle, the circle in the label's row
            box = circle.get_window_extent(renderer)
            inner = symbol.get_window_extent(renderer)
            centre_x, centre_y = (box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2
            assert abs((inner.x0 + inner.x1) / 2 - centre_x) < 1
            assert label.y0 <= centre_y <= label.y1
    for level in spec.levels:
        legend = artists[f"rob-legend-{level}"]
        assert to_hex(legend.get_facecolor()) == spec.colours[level].lower()
        assert artists[f"rob-legend-{level}-label"].get_text() == spec.labels[level]


def test_traffic_light_colours_and_symbols_are_robvis():
    rob2, robins = TOOLS["rob2"], TOOLS["robins_i"]
    assert rob2.colours == {
        "low": "#02C100",
        "some_concerns": "#E2DF07",
        "high": "#BF0000",
    }
    assert robins.colours["critical"] == "#820000"
    assert robins.colours["no_information"] == "#4EA1F7"
    assert rob2.labels["some_concerns"] == "Some concerns"
    assert [robins.symbols[level] for level in robins.levels] == [
        "+",
        "\u2212",
        "\u00d7",
        "!",
        "?",
    ]


def test_a_long_traffic_light_plot_stays_legible(tmp_path):
    levels = TOOLS["rob2"].levels
    rows = []
    for i in range(40):
        domains = {
            "d1": levels[i % 3],
            "d2": "low",
            "d3": levels[i % 2],
            "d4": "low",
            "d5": levels[(i // 5) % 2],
        }
        rows.append(
            {
                "study_id": f"study{i:02d}_{'long' * (i % 4)}",
                "tool": "rob2",
                **domains,
                "overall": max(domains.values(), key=levels.index),
            }
        )
    rows[7]["outcome"] = "a very long outcome name " * 6  # gets ellipsised
    frame = read_rob(write_rows(tmp_path / "forty.csv", rows))
    small = traffic_light_figure(frame.head(18), "rob2")
    big = traffic_light_figure(frame, "rob2")
    height = big.get_size_inches()[1]
    assert height > small.get_size_inches()[1] + 22 * plots.CELL - 1e-9
    assert big.get_size_inches()[0] < 6  # the long label does not widen it
    check_texts(big)
    texts = svg_texts(big, tmp_path / "forty.svg")
    for label in row_labels(frame, "rob2"):
        if label.startswith("study07"):
            assert any(
                t.startswith("study07_long") and t.endswith("\u2026") for t in texts
            )
        else:
            assert label in texts
    # rows stay apart: circles of consecutive rows do not touch
    renderer = big.canvas.get_renderer()
    artists = gids(big)
    for i in range(39):
        a = artists[f"rob-light-{i}-D1"].get_window_extent(renderer)
        b = artists[f"rob-light-{i + 1}-D1"].get_window_extent(renderer)
        assert not a.overlaps(b)
    big.savefig(tmp_path / "forty.png", dpi=100)


# --- summary plots ------------------------------------------------------------------


def segment_shares(fig: Figure, row: str, levels) -> dict[str, float]:
    artists = gids(fig)
    widths = {
        level: artists[f"rob-bar-{row}-{level}"].get_width()
        for level in levels
        if f"rob-bar-{row}-{level}" in artists
    }
    return {level: w / plots.BAR_WIDTH for level, w in widths.items()}


def test_summary_proportions_unweighted(frame):
    shares = summary_proportions(frame, "rob2")
    # 12 RoB 2 studies; taussig2010_fhf counts once, with its worse outcome.
    assert shares.attrs["studies"] == 12
    overall = shares.loc["Overall"]
    assert overall["low"] == pytest.approx(1 / 12)
    assert overall["some_concerns"] == pytest.approx(7 / 12)
    assert overall["high"] == pytest.approx(4 / 12)
    assert shares.loc["D3"].to_dict() == pytest.approx(
        {"low": 6 / 12, "some_concerns": 4 / 12, "high": 2 / 12}
    )
    assert shares.sum(axis=1).tolist() == pytest.approx([1.0] * 6)


def test_weighted_summary_proportions(frame, tmp_path):
    weights = {
        "crossage2016": 10.0,  # D1 low, overall some concerns
        "ementoring2022": 30.0,  # D1 low, overall high
        "yim_crct2023": 20.0,  # D1 some concerns, overall some concerns
        "befriending_atrisk2017": 40.0,  # D1 low, overall low
        "reunification2019": 99.0,  # ROBINS-I: not in the RoB 2 plot
    }
    total = 10 + 30 + 20 + 40
    expected_overall = {
        "low": 40 / total,
        "some_concerns": 30 / total,
        "high": 30 / total,
    }
    expected_d1 = {"low": 80 / total, "some_concerns": 20 / total}
    shares = summary_proportions(frame, "rob2", weights)
    assert shares.loc["Overall"].to_dict() == pytest.approx(
        {**expected_overall}, abs=1e-12
    )
    assert shares.loc["D1"].to_dict() == pytest.approx(
        {**expected_d1, "high": 0.0}, abs=1e-12
    )
    assert shares.attrs["weighted"] == 4

    # The figure shows the studies it is given, each with a weight.
    shown = frame[frame["study_id"].isin(weights)].reset_index(drop=True)
    fig = summary_figure(shown, "rob2", weights)
    levels = TOOLS["rob2"].levels
    assert segment_shares(fig, "overall", levels) == pytest.approx(expected_overall)
    assert segment_shares(fig, "D1", levels) == pytest.approx(expected_d1)
    artists = gids(fig)
    assert artists["rob-bar-overall-low-percent"].get_text() == "40%"
    assert artists["rob-bar-D1-low-percent"].get_text() == "80%"
    # segments are laid end to end, best level first
    low = artists["rob-bar-overall-low"]
    some = artists["rob-bar-overall-some_concerns"]
    assert some.get_x() == pytest.approx(low.get_x() + low.get_width())
    texts = svg_texts(fig, tmp_path / "summary.svg")
    assert "Weighted: share of the total weight of 4 studies at each level" in texts
    assert "Share of the total weight (%)" in texts
    check_texts(fig)
    # A study of the tool without a weight is an error, never left out.
    with pytest.raises(ValueError, match="no weight for study 'schoolmentoring2018'"):
        summary_figure(frame, "rob2", weights)


@pytest.mark.parametrize("tool", ["rob2", "robins_i"])
def test_summary_texts(frame, tool, tmp_path):
    spec = TOOLS[tool]
    fig = summary_figure(frame, tool)
    texts = svg_texts(fig, tmp_path / "summary.svg")
    for code, name in spec.domains:
        assert f"{code} {name}" in texts
    assert "Overall risk of bias" in texts
    assert "Share of studies (%)" in texts
    for tick in ("0%", "25%", "50%", "75%", "100%"):
        assert tick in texts
    legend = {
        "rob2": ["Low risk of bias", "Some concerns", "High risk of bias"],
        "robins_i": [
            "Low risk of bias",
            "Moderate risk of bias",
            "Serious risk of bias",
            "Critical risk of bias",
            "No information",
        ],
    }[tool]
    for text in legend:
        assert text in texts
    artists = gids(fig)
    for level in spec.levels:
        swatch = artists[f"rob-legend-{level}"]
        assert to_hex(swatch.get_facecolor()) == spec.colours[level].lower()
    for rect in fig.findobj(Rectangle):
        gid = rect.get_gid() or ""
        if gid.startswith("rob-bar-"):
            level = gid.split("-", 3)[3]
            assert to_hex(rect.get_facecolor()) == spec.colours[level].lower()
    check_texts(fig)


def test_summary_with_no_weighted_study(frame):
    fig = summary_figure(frame, "robins_i", dict.fromkeys(QEDS, 0.0))
    assert "has a weight" in gids(fig)["rob-empty"].get_text()
    rob2 = set(frame.loc[frame["tool"] == "rob2", "study_id"])
    for bad in (-1.0, float("nan")):
        weights = dict.fromkeys(rob2, 1.0) | {"crossage2016": bad}
        with pytest.raises(ValueError, match="crossage2016"):
            summary_figure(frame, "rob2", weights)


# --- files ----------------------------------------------------------------------------


def test_write_rob_writes_every_file_byte_identically(frame, tmp_path):
    studies = write_studies(tmp_path / "studies.csv", dict.fromkeys(STUDIES, 50))
    analyses = [
        analysis_weights("mh", {"crossage2016": 40.0, "sport2021": 60.0}),
        analysis_weights("edu", {"malrc2022": 100.0}),
    ]
    first = write_rob(frame, tmp_path / "a", analyses, studies)
    second = write_rob(frame, tmp_path / "b", analyses, studies)
    names = [p.name for p in first]
    assert names == [
        "rob2_table.csv",
        "rob2_table.xlsx",
        "robins_i_table.csv",
        "robins_i_table.xlsx",
        "traffic_light_rob2.png",
        "traffic_light_rob2.svg",
        "traffic_light_robins_i.png",
        "traffic_light_robins_i.svg",
        "summary_rob2.png",
        "summary_rob2.svg",
        "summary_robins_i.png",
        "summary_robins_i.svg",
        "overall.csv",
        "summary_weights.csv",
        "summary_mh_rob2.png",
        "summary_mh_rob2.svg",
        "summary_mh_robins_i.png",
        "summary_mh_robins_i.svg",
        "summary_edu_rob2.png",
        "summary_edu_rob2.svg",
        "summary_edu_robins_i.png",
        "summary_edu_robins_i.svg",
    ]
    assert names == api.output_names(["mh", "edu"])
    assert api.output_names()[-2:] == ["overall.csv", "summary_weights.csv"]
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == sorted(names)

    overall = pd.read_csv(tmp_path / "a" / "overall.csv", dtype=str)
    assert list(overall.columns) == ["study_id", "tool", "overall", "harmonised"]
    assert len(overall) == 18
    row = overall.set_index("study_id").loc["taussig2010_fhf"]
    assert (row["tool"], row["overall"], row["harmonised"]) == (
        "rob2",
        "some_concerns",
        "moderate",
    )
    row = overall.set_index("study_id").loc["therapeutic2019"]
    assert (row["overall"], row["harmonised"]) == ("critical", "high")
    table = pd.read_csv(tmp_path / "a" / "robins_i_table.csv", dtype=str)
    assert list(table.columns) == list(rob_table(frame, "robins_i").columns)
    xlsx = pd.read_excel(tmp_path / "a" / "rob2_table.xlsx", dtype=str)
    assert list(xlsx.columns) == list(rob_table(frame, "rob2").columns)
    assert len(xlsx) == 13


def test_a_tool_without_studies_still_gets_its_files(frame, tmp_path):
    only_rob2 = frame[frame["tool"] == "rob2"].reset_index(drop=True)
    paths = write_rob(only_rob2, tmp_path)
    assert [p.name for p in paths] == api.output_names()
    table = pd.read_csv(tmp_path / "robins_i_table.csv", dtype=str)
    assert table.empty
    assert list(table.columns) == list(rob_table(frame, "robins_i").columns)
    for kind in ("traffic_light", "summary"):
        root = ET.parse(tmp_path / f"{kind}_robins_i.svg").getroot()
        texts = ["".join(t.itertext()) for t in root.iter(f"{SVG_NS}text")]
        assert texts == ["No studies assessed with ROBINS-I"]
        fig = traffic_light_figure(only_rob2, "robins_i")
        assert fig.get_size_inches()[1] < 1
        check_texts(fig)


def test_write_rob_writes_all_files_or_none(frame, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(api, "write_frame_xlsx", broken)
    with pytest.raises(RuntimeError):
        write_rob(frame, tmp_path / "out")
    assert not list((tmp_path / "out").iterdir())


def test_figures_do_not_depend_on_the_callers_matplotlib_settings(frame, tmp_path):
    plain = traffic_light_figure(frame, "rob2")
    plots.save_figure(plain, tmp_path / "plain.svg", "svg")
    with mpl.rc_context({"font.size": 20, "lines.linewidth": 5, "svg.hashsalt": "x"}):
        styled = traffic_light_figure(frame, "rob2")
        plots.save_figure(styled, tmp_path / "styled.svg", "svg")
    assert (tmp_path / "plain.svg").read_bytes() == (
        tmp_path / "styled.svg"
    ).read_bytes()


# --- weights of the summary plots -----------------------------------------------------


def write_studies(path, n_total, extra_rows=()):
    """studies.csv: a main row per study with ``n_total[study]`` (None: empty)."""
    rows = [
        {
            "study_id": study,
            "record_id": f"rec:{study}",
            "role": "main",
            "n_total": "" if n is None else str(n),
        }
        for study, n in n_total.items()
    ]
    rows += list(extra_rows)
    header = ["study_id", "record_id", "role", "n_total"]
    return write_rows(path, rows, header=header)


def analysis_weights(name, weights, method="REML"):
    from evsynth.rob.weights import AnalysisWeights

    return AnalysisWeights(name, name.capitalize(), method, dict(weights))


def write_report(path, report):
    path.write_text(json.dumps(report), encoding="utf-8")
    return path


# An analysis of five studies, one (yim_crct2023) with two rows: four judged with
# RoB 2, one (sport2021) with ROBINS-I. Effects on the SMD scale.
POOLED = [
    ("crossage2016", 0.10, 0.040),
    ("ementoring2022", 0.90, 0.020),
    ("befriending_atrisk2017", -0.20, 0.050),
    ("yim_crct2023", 0.30, 0.050),
    ("yim_crct2023", 0.50, 0.070),
    ("sport2021", 0.60, 0.030),
]
RHO = 0.6


def pooled_by_hand(method: str) -> tuple[float, dict[str, float]]:
    """tau^2 (DerSimonian-Laird, or 0 for EE) and percent weights 1/(v + tau^2).

    Two rows of one study are first combined into their mean with variance
    (v1 + v2 + 2 rho sqrt(v1 v2)) / 4 (Borenstein et al. 2009, eq. 24.6), as
    the meta stage does.
    """
    by_study: dict[str, list[tuple[float, float]]] = {}
    for study, y, v in POOLED:
        by_study.setdefault(study, []).append((y, v))
    ys, vs = {}, {}
    for study, rows in by_study.items():
        if len(rows) == 1:
            ys[study], vs[study] = rows[0]
        else:
            (y1, v1), (y2, v2) = rows
            ys[study] = (y1 + y2) / 2
            vs[study] = (v1 + v2 + 2 * RHO * (v1 * v2) ** 0.5) / 4
    tau2 = 0.0
    if method == "DL":
        w = {s: 1 / v for s, v in vs.items()}
        sw = sum(w.values())
        mean = sum(w[s] * ys[s] for s in w) / sw
        q = sum(w[s] * (ys[s] - mean) ** 2 for s in w)
        c = sw - sum(x * x for x in w.values()) / sw
        tau2 = max(0.0, (q - (len(w) - 1)) / c)
    re = {s: 1 / (v + tau2) for s, v in vs.items()}
    total = sum(re.values())
    return tau2, {s: 100 * x / total for s, x in re.items()}


def meta_report(tmp_path, method: str):
    """Run the meta stage's analysis on POOLED and write its JSON report."""
    from evsynth.meta.analyses import AnalysisSpec, MetaSettings, run_analysis

    effects = pd.DataFrame(
        [
            {
                "study_id": study,
                "outcome": f"outcome {i}",
                "domain": "mh",
                "timepoint": "post",
                "months": 6.0,
                "measure": "SMD",
                "yi": y,
                "vi": v,
                "n_t": None,
                "n_c": None,
            }
            for i, (study, y, v) in enumerate(POOLED)
        ]
    )
    spec = AnalysisSpec("mh", ("mh",), label="Mental health")
    settings = MetaSettings(method=method, test="z", rho=RHO, analyses=(spec,))
    result = run_analysis(effects, None, spec, settings)
    return write_report(tmp_path / f"mh_{method}.json", result.report)


@pytest.mark.parametrize("method", ["DL", "EE"])
def test_meta_analysis_weights_are_the_pooled_models_weights_by_hand(
    frame, tmp_path, method
):
    from evsynth.rob.weights import read_analysis_weights

    tau2, expected = pooled_by_hand(method)
    if method == "DL":
        assert tau2 > 0.05  # heterogeneous: the weights differ from 1/v
    analysis = read_analysis_weights(meta_report(tmp_path, method))
    assert (analysis.name, analysis.label, analysis.method) == (
        "mh",
        "Mental health",
        method,
    )
    assert list(analysis.weights) == list(expected)  # one entry per study
    for study, weight in expected.items():
        assert analysis.weights[study] == pytest.approx(weight, rel=1e-9)

    # The analysis's RoB 2 plot: its four RoB 2 studies, by these weights.
    studies = write_studies(tmp_path / "studies.csv", dict.fromkeys(STUDIES, 10))
    plans = {p.stem: p for p in api.summary_plots(frame, [analysis], studies)}
    plan = plans["summary_mh_rob2"]
    fig = summary_figure(
        plan.frame, "rob2", plan.weights, subtitle=plan.subtitle, title=plan.title
    )
    rob2 = {s: w for s, w in expected.items() if s != "sport2021"}
    total = sum(rob2.values())
    # overall: crossage2016 some concerns, ementoring2022 high,
    # befriending_atrisk2017 low, yim_crct2023 some concerns
    by_hand = {
        "low": rob2["befriending_atrisk2017"] / total,
        "some_concerns": (rob2["crossage2016"] + rob2["yim_crct2023"]) / total,
        "high": rob2["ementoring2022"] / total,
    }
    levels = TOOLS["rob2"].levels
    assert segment_shares(fig, "overall", levels) == pytest.approx(by_hand, rel=1e-9)
    share = 100 * total / sum(expected.values())
    texts = " ".join(svg_texts(fig, tmp_path / "mh.svg"))
    assert f"together they carry {share:.1f}% of the analysis's weight" in texts
    assert f"1 study assessed with ROBINS-I ({100 - share:.1f}% of the weight)" in texts


def test_entries_of_one_study_in_a_report_are_added_up(tmp_path):
    from evsynth.rob.weights import read_analysis_weights

    report = {
        "analysis": "mh",
        "model": {"method": "REML"},
        "studies": [
            {"study_id": "a", "weight": 20.0},
            {"study_id": "b", "weight": 50.0},
            {"study_id": "a", "weight": 30.0},
        ],
    }
    analysis = read_analysis_weights(write_report(tmp_path / "mh.json", report))
    assert analysis.weights == {"a": 50.0, "b": 50.0}
    assert analysis.pooled


@pytest.mark.parametrize("weight", [None, "12", -1.0, True])
def test_a_study_without_a_weight_in_the_report_is_refused(tmp_path, weight):
    from evsynth.rob.weights import read_analysis_weights

    second = (
        {"study_id": "b"} if weight is None else {"study_id": "b", "weight": weight}
    )
    report = {
        "analysis": "mh",
        "model": {"method": "REML"},
        "studies": [{"study_id": "a", "weight": 60.0}, second],
    }
    path = write_report(tmp_path / "mh.json", report)
    with pytest.raises(InputError) as info:
        read_analysis_weights(path)
    error = info.value
    assert error.location.file == str(path)
    assert (error.location.row, error.location.column) == (2, "weight")
    assert "study 'b' of the analysis 'mh' has no weight" in str(error)


def test_a_skipped_analysis_gets_a_plot_saying_so(frame, tmp_path):
    from evsynth.rob.weights import read_analysis_weights

    report = {
        "analysis": "edu",
        "label": "Education",
        "k": 1,
        "study_ids": ["crossage2016"],
        "skipped": "1 studies, fewer than min_k = 2",
    }
    analysis = read_analysis_weights(write_report(tmp_path / "edu.json", report))
    assert not analysis.pooled and analysis.weights == {}
    studies = write_studies(tmp_path / "studies.csv", dict.fromkeys(STUDIES, 10))
    plans = api.summary_plots(frame, [analysis], studies)
    assert [p.stem for p in plans] == [
        "summary_rob2",
        "summary_robins_i",
        "summary_edu_rob2",
        "summary_edu_robins_i",
    ]
    for plan in plans[2:]:
        assert plan.message == (
            "Education: not pooled (1 studies, fewer than min_k = 2), so there are "
            "no meta-analysis weights"
        )
    # no study is in a pooled analysis: nothing to weigh by participants
    assert plans[0].message == (
        "None of the 12 studies assessed with RoB 2 is in a meta-analysis "
        "(see the traffic-light plot)"
    )


def test_overall_plot_weighs_the_studies_in_any_analysis_by_participants(
    frame, tmp_path
):
    n_total = dict.fromkeys(STUDIES, None) | {
        "crossage2016": 100,  # overall some concerns
        "ementoring2022": 300,  # high
        "befriending_atrisk2017": 50,  # low
        "malrc2022": 150,  # some concerns
        "sport2021": 80,  # ROBINS-I serious
        "yim_qed2020": 20,  # ROBINS-I moderate
    }
    studies = write_studies(tmp_path / "studies.csv", n_total)
    analyses = [
        analysis_weights("mh", {"crossage2016": 30, "sport2021": 50, "x": 20}),
        analysis_weights(
            "edu",
            {"ementoring2022": 40, "befriending_atrisk2017": 40, "malrc2022": 10}
            | {"yim_qed2020": 10},
        ),
    ]
    write_rob(frame, tmp_path / "out", analyses, studies)
    out = tmp_path / "out"

    # RoB 2 over all analyses: 4 of the 12 RoB 2 studies, by participants
    fig_texts = svg_file_texts(out / "summary_rob2.svg")
    assert fig_texts[0] == "Risk of bias summary: RoB 2 (randomised trials)"
    assert svg_subtitle(out / "summary_rob2.svg") == (
        "Weighted by participants (n_total in studies.csv): share of the 600 "
        "participants of the 4 studies assessed with RoB 2 that are in a "
        "meta-analysis, at each level. 8 studies in no meta-analysis are not "
        "shown (see the traffic-light plot)."
    )
    assert "Share of participants (%)" in fig_texts
    assert svg_shares(out / "summary_rob2.svg", "overall") == pytest.approx(
        {"low": 50 / 600, "some_concerns": 250 / 600, "high": 300 / 600}
    )
    # ROBINS-I: sport2021 and yim_qed2020 (100 participants)
    assert svg_shares(out / "summary_robins_i.svg", "overall") == pytest.approx(
        {"moderate": 0.2, "serious": 0.8}
    )
    assert svg_subtitle(out / "summary_robins_i.svg").endswith(
        "of the 2 studies assessed with ROBINS-I that are in a meta-analysis, at "
        "each level. 4 studies in no meta-analysis are not shown (see the "
        "traffic-light plot)."
    )

    # per analysis, by meta-analysis weight; "x" has no judgement
    assert svg_subtitle(out / "summary_mh_rob2.svg") == (
        "Weighted by meta-analysis weight (random-effects model, REML estimate of "
        "\u03c4\u00b2): share of the weight of the 1 study assessed with RoB 2 at "
        "each level; it carries 30.0% of the analysis's weight. Not in this plot: "
        "1 study assessed with ROBINS-I (50.0% of the weight); 1 study without a "
        "risk-of-bias judgement (20.0% of the weight)."
    )
    texts = svg_file_texts(out / "summary_mh_rob2.svg")
    assert texts[0] == "Risk of bias summary, Mh: RoB 2 (randomised trials)"
    assert "Share of the meta-analysis weight (%)" in texts
    assert svg_shares(out / "summary_edu_rob2.svg", "overall") == pytest.approx(
        {"low": 40 / 90, "some_concerns": 10 / 90, "high": 40 / 90}
    )

    # every plot's studies, weights and shares, to check the bars by hand
    table = pd.read_csv(out / "summary_weights.csv", dtype=str, keep_default_na=False)
    rows = table[table["plot"] == "summary_rob2"]
    assert list(rows["study_id"]) == [
        "crossage2016",
        "ementoring2022",
        "befriending_atrisk2017",
        "malrc2022",
    ]
    assert list(rows["weight"]) == ["100", "300", "50", "150"]
    assert set(rows["weighted_by"]) == {"participants"}
    rows = table[table["plot"] == "summary_edu_rob2"].set_index("study_id")
    assert float(rows.loc["malrc2022", "share_percent"]) == pytest.approx(100 / 9)
    assert rows.loc["malrc2022", "overall"] == "some_concerns"
    assert rows.loc["malrc2022", "analysis"] == "edu"
    assert set(rows["weighted_by"]) == {"meta_analysis_weight"}


def test_a_study_in_an_analysis_without_n_total_is_refused(frame, tmp_path):
    n_total = dict.fromkeys(STUDIES, 100) | {
        "ementoring2022": None,  # in the analysis: refused
        "reunification2019": None,  # in no analysis: not needed
    }
    studies = write_studies(tmp_path / "studies.csv", n_total)
    analyses = [analysis_weights("edu", {"crossage2016": 50, "ementoring2022": 50})]
    row = list(n_total).index("ementoring2022") + 1
    with pytest.raises(InputError) as info:
        write_rob(frame, tmp_path / "out", analyses, studies)
    error = info.value
    assert error.location.file == str(studies)
    assert (error.location.line, error.location.row, error.location.column) == (
        row + 1,
        row,
        "n_total",
    )
    assert (
        "study 'ementoring2022' gives no n_total, but it is in the meta-analysis "
        "'edu'" in str(error)
    )
    assert not (tmp_path / "out").exists()

    # n_total may sit on another row of the study; two different ones are refused
    secondary = {
        "study_id": "ementoring2022",
        "record_id": "rec:2",
        "role": "secondary",
        "n_total": "239",
    }
    studies = write_studies(tmp_path / "studies2.csv", n_total, [secondary])
    plans = api.summary_plots(frame, analyses, studies)
    assert plans[0].weights == {"crossage2016": 100.0, "ementoring2022": 239.0}
    n_total["ementoring2022"] = 240
    studies = write_studies(tmp_path / "studies3.csv", n_total, [secondary])
    with pytest.raises(InputError, match="gives n_total 239 here and 240") as info:
        api.summary_plots(frame, analyses, studies)
    assert info.value.location.row == len(n_total) + 1

    # without studies.csv the participants are missing too
    with pytest.raises(InputError, match=r"no studies\.csv gives the participants"):
        api.summary_plots(frame, analyses, tmp_path / "none.csv")


def test_without_meta_analyses_each_study_counts_once(frame, tmp_path):
    write_rob(frame, tmp_path)
    assert svg_subtitle(tmp_path / "summary_rob2.svg") == (
        "Unweighted (no meta-analyses): each study counts once; share of the 12 "
        "studies assessed with RoB 2 at each level."
    )
    assert "Share of studies (%)" in svg_file_texts(tmp_path / "summary_rob2.svg")
    table = pd.read_csv(tmp_path / "summary_weights.csv", dtype=str)
    assert set(table["weighted_by"]) == {"equal"}
    assert len(table) == 18


def test_cli_rob_with_meta_reports(tmp_path, capsys):
    from evsynth.cli import main

    rows = [r for r in example_rows() if r["study_id"] in ("crossage2016", "sport2021")]
    example_csv = write_rows(tmp_path / "rob.csv", rows)

    studies = write_studies(tmp_path / "studies.csv", dict.fromkeys(STUDIES, 40))
    report = {
        "analysis": "mh",
        "label": "Mental health",
        "model": {"method": "DL"},
        "studies": [
            {"study_id": "crossage2016", "weight": 25.0},
            {"study_id": "sport2021", "weight": 75.0},
        ],
    }
    meta = write_report(tmp_path / "mh.json", report)
    out = tmp_path / "out"
    args = ["rob", str(example_csv), "--out-dir", str(out), "--studies", str(studies)]
    assert main([*args, "--meta", str(meta)]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(api.output_names(["mh"]))
    assert svg_subtitle(out / "summary_mh_robins_i.svg").startswith(
        "Weighted by meta-analysis weight (random-effects model, DL estimate of "
        "\u03c4\u00b2): share of the weight of the 1 study assessed with ROBINS-I"
    )
    report["studies"][1].pop("weight")
    write_report(meta, report)
    assert main([*args, "--meta", str(meta)]) == 2
    err = capsys.readouterr().err
    assert f"{meta}, row 2, column 'weight'" in err
    assert "study 'sport2021' of the analysis 'mh' has no weight" in err


def svg_file_texts(path) -> list[str]:
    root = ET.parse(path).getroot()
    return ["".join(t.itertext()) for t in root.iter(f"{SVG_NS}text")]


def svg_shares(path, row: str) -> dict[str, float]:
    """Each level's share of a bar, from the segments' widths in the SVG."""
    root = ET.parse(path).getroot()
    widths = {}
    prefix = f"rob-bar-{row}-"
    for group in root.iter(f"{SVG_NS}g"):
        gid = group.get("id") or ""
        level = gid[len(prefix) :]
        if not gid.startswith(prefix) or level.endswith(("label", "percent")):
            continue
        xs = [float(x) for x in re.findall(r"[ML] ([\d.]+) ", group[0].get("d"))]
        widths[level] = max(xs) - min(xs)
    total = sum(widths.values())
    return {level: w / total for level, w in widths.items()}


def svg_subtitle(path) -> str:
    """The subtitle's lines (ids ``rob-subtitle-<k>``) joined by spaces."""
    root = ET.parse(path).getroot()
    lines = [
        "".join(group.itertext()).strip()
        for group in root.iter(f"{SVG_NS}g")
        if (group.get("id") or "").startswith("rob-subtitle-")
    ]
    return " ".join(lines)
