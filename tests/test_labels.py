"""Labels for readers: author-year study labels, value labels, and their use in plots.

Expected labels are written out by hand from the rules of evsynth.labels (APA's
author-date citation: one author "Smith 2010", two "Taussig & Culhane 2010",
three or more "Geenen et al. 2013", a/b after the year for the same authors
and year, ordered by title).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evsynth.errors import InputError
from evsynth.labels import (
    DEFAULT_VALUE_LABELS,
    analysis_labels,
    author_year,
    authors_phrase,
    build_study_labels,
    label_of,
    ordered_values,
    read_study_labels,
    study_labels_from_files,
    value_label,
    value_labels,
    write_study_labels,
)

# --- the author part and the year ---------------------------------------------------


@pytest.mark.parametrize(
    ("authors", "expected"),
    [
        ("Smith, John", "Smith"),
        ("Taussig, Heather N.; Culhane, Sara E.", "Taussig & Culhane"),
        ("Geenen, Sarah; Powers, Laurie E.; Powers, Jennifer", "Geenen et al."),
        ("Geenen, S; Powers, L; Powers, J; Cunningham, M; McMahon, L", "Geenen et al."),
        # a list cut short: more authors than written
        ("Smith, J.; et al.", "Smith et al."),
        ("Smith, J; Jones, K; et al", "Smith et al."),
        # particles and non-ASCII letters as written
        ("van der Heijden, Maaike; de Wit, Joëlle", "van der Heijden & de Wit"),
        ("Bråten, Ingrid", "Bråten"),
        ("O'Donnell, Ciarán; Hartley, F", "O'Donnell & Hartley"),
        # a family name in capitals (Web of Science) in title case
        ("TAUSSIG, HN; CULHANE, SE", "Taussig & Culhane"),
        # a group author, whole
        ("Foundations", "Foundations"),
        ("Foundations; Smith, J", "Foundations & Smith"),
        # spaces and empty entries do not count
        ("  Smith,   John ;  ; ", "Smith"),
    ],
)
def test_authors_phrase(authors, expected):
    assert authors_phrase(authors) == expected


def test_a_group_author_with_a_comma_is_taken_whole():
    authors = "Centre for Evidence, University of Oxford; Smith, J"
    assert authors_phrase(authors) == "Centre for Evidence & Smith"
    groups = "Centre for Evidence, University of Oxford"
    assert (
        authors_phrase(authors, groups)
        == "Centre for Evidence, University of Oxford & Smith"
    )


@pytest.mark.parametrize("authors", ["", "  ", ";", "et al.", None])
def test_no_authors_gives_no_phrase(authors):
    assert authors_phrase(authors) is None
    assert author_year(authors, 2010) is None


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        (2010, "Smith 2010"),
        ("2010", "Smith 2010"),
        (2010.0, "Smith 2010"),
        ("2010 Mar 5", "Smith 2010"),
        ("Epub 2019-11-02", "Smith 2019"),
        ("", "Smith n.d."),
        (None, "Smith n.d."),
        (float("nan"), "Smith n.d."),
        ("in press", "Smith n.d."),
    ],
)
def test_author_year(year, expected):
    assert author_year("Smith, J", year) == expected


# --- labels of the studies of studies.csv ---------------------------------------------


def studies_table(*rows: tuple[str, ...], extra: tuple[str, ...] = ()) -> pd.DataFrame:
    columns = ["study_id", "record_id", "role", "year", *extra]
    return pd.DataFrame([list(r) for r in rows], columns=columns, dtype=str)


def records_table(*rows: tuple[str, str, str, str], merged: dict | None = None):
    """unique.csv: record_id, authors, year, title (and merged_ids)."""
    frame = pd.DataFrame(
        [list(r) for r in rows], columns=["record_id", "authors", "year", "title"]
    )
    frame["merged_ids"] = [(merged or {}).get(r[0], "") for r in rows]
    return frame


def labels_of(table: pd.DataFrame) -> dict[str, str]:
    return dict(zip(table["study_id"], table["label"], strict=True))


def test_labels_from_the_main_reports():
    studies = studies_table(
        ("taussig2010", "r1", "main", "2010"),
        ("taussig2010", "r2", "secondary", ""),
        ("geenen2013", "r3", "main", "2013"),
        ("whitmore2020", "r4", "main", "2020"),
    )
    records = records_table(
        ("r1", "Taussig, Heather N.; Culhane, Sara E.", "2010", "Impact of"),
        ("r2", "Someone, Else", "2012", "Follow-up"),
        ("r3", "Geenen, S; Powers, L; Powers, J", "2013", "Take charge"),
        ("r4", "Whitmore, Clara", "2020", "Visits"),
    )
    table = build_study_labels(studies, records)
    assert list(table.columns) == ["study_id", "label", "source", "record_id", "note"]
    assert labels_of(table) == {
        "taussig2010": "Taussig & Culhane 2010",
        "geenen2013": "Geenen et al. 2013",
        "whitmore2020": "Whitmore 2020",
    }
    assert set(table["source"]) == {"main report"}
    assert list(table["record_id"]) == ["r1", "r3", "r4"]


def test_the_main_row_wins_wherever_it_is():
    studies = studies_table(
        ("s", "r2", "secondary", ""),
        ("s", "r1", "main", ""),
    )
    records = records_table(
        ("r1", "Main, A", "2001", "Main report"),
        ("r2", "Follow, B", "2005", "Follow-up"),
    )
    assert labels_of(build_study_labels(studies, records)) == {"s": "Main 2001"}


def test_a_record_merged_into_another_stands_for_its_cluster():
    studies = studies_table(("s", "medline:1", "main", ""))
    records = records_table(
        ("scopus:9", "Kept, Author; Other, B", "2015", "T"),
        merged={"scopus:9": "medline:1; wos:7"},
    )
    table = build_study_labels(studies, records)
    assert labels_of(table) == {"s": "Kept & Other 2015"}


def test_a_record_without_a_year_takes_the_year_of_studies_csv():
    studies = studies_table(("s", "r1", "main", "2011"), ("t", "r2", "main", ""))
    records = records_table(("r1", "Smith, J", "", "A"), ("r2", "Jones, K", "", "B"))
    assert labels_of(build_study_labels(studies, records)) == {
        "s": "Smith 2011",
        "t": "Jones n.d.",
    }


def test_colliding_labels_get_letters_in_the_order_of_the_titles():
    studies = studies_table(
        ("smith_b", "r1", "main", ""),
        ("smith_a", "r2", "main", ""),
        ("smith_c", "r3", "main", ""),
        ("jones", "r4", "main", ""),
    )
    records = records_table(
        # "The" is ignored: "Zebra ..." sorts last, "Apples" first, "Mentoring" between
        ("r1", "Smith, J", "2010", "The Zebra study"),
        ("r2", "SMITH, J", "2010", "Apples and mentoring"),
        ("r3", "Smith, Jane", "2010", "Mentoring outcomes"),
        ("r4", "Jones, K", "2010", "Unrelated"),
    )
    assert labels_of(build_study_labels(studies, records)) == {
        "smith_b": "Smith 2010c",
        "smith_a": "Smith 2010a",
        "smith_c": "Smith 2010b",
        "jones": "Jones 2010",
    }


def test_letters_follow_the_study_id_for_equal_titles_and_n_d_gets_a_hyphen():
    studies = studies_table(("y", "r1", "main", ""), ("x", "r2", "main", ""))
    records = records_table(("r1", "Lee, A", "", "Same"), ("r2", "Lee, B", "", "Same"))
    assert labels_of(build_study_labels(studies, records)) == {
        "x": "Lee n.d.-a",
        "y": "Lee n.d.-b",
    }


def test_et_al_labels_of_different_teams_collide_too():
    studies = studies_table(("one", "r1", "main", ""), ("two", "r2", "main", ""))
    records = records_table(
        ("r1", "Geenen, S; Powers, L; Phillips, L", "2015", "Better futures"),
        ("r2", "Geenen, S; Nelson, M; Turner, A", "2015", "A trial"),
    )
    assert labels_of(build_study_labels(studies, records)) == {
        # "A trial" sorts as "trial", after "Better futures"
        "one": "Geenen et al. 2015a",
        "two": "Geenen et al. 2015b",
    }


def test_the_label_column_overrides_and_takes_no_letter():
    studies = studies_table(
        ("a", "r1", "main", "", "Smith 2010 (pilot)"),
        ("b", "r2", "main", "", ""),
        ("b", "r3", "secondary", "", "  Smith   2010   (main trial) "),
        extra=("label",),
    )
    records = records_table(
        ("r1", "Smith, J", "2010", "Pilot"),
        ("r2", "Smith, J", "2010", "Trial"),
        ("r3", "Smith, J", "2011", "Follow-up"),
    )
    table = build_study_labels(studies, records)
    assert labels_of(table) == {
        "a": "Smith 2010 (pilot)",
        "b": "Smith 2010 (main trial)",
    }
    assert list(table["source"]) == ["studies.csv label", "studies.csv label"]


def test_two_labels_for_one_study_are_refused():
    studies = studies_table(
        ("a", "r1", "main", "", "Smith 2010"),
        ("a", "r2", "secondary", "", "Smith 2011"),
        extra=("label",),
    )
    with pytest.raises(InputError) as info:
        build_study_labels(studies, None, studies_file="studies.csv", lines=[2, 5])
    error = info.value
    assert (error.location.file, error.location.line, error.location.row) == (
        "studies.csv",
        5,
        2,
    )
    assert error.location.column == "label"
    assert "'Smith 2010' (line 2)" in str(error)


def test_an_override_that_repeats_another_studys_label_is_refused():
    studies = studies_table(
        ("a", "r1", "main", "", ""),
        ("b", "r2", "main", "", "smith 2010"),
        extra=("label",),
    )
    records = records_table(
        ("r1", "Smith, J", "2010", "T"), ("r2", "Jones, K", "2010", "U")
    )
    with pytest.raises(InputError) as info:
        build_study_labels(studies, records, studies_file="studies.csv")
    error = info.value
    assert (error.location.row, error.location.column) == (2, "label")
    assert "also the label of study 'a'" in str(error)


def test_without_authors_or_record_a_study_keeps_its_id(caplog):
    studies = studies_table(
        ("anon2019", "r1", "main", "2019"),
        ("lost", "r9", "main", ""),
        ("ok", "r2", "main", ""),
    )
    records = records_table(("r1", "", "2019", "T"), ("r2", "Ok, A", "2020", "U"))
    with caplog.at_level(logging.WARNING, logger="evsynth.labels"):
        table = build_study_labels(studies, records, studies_file="studies.csv")
    assert labels_of(table) == {"anon2019": "anon2019", "lost": "lost", "ok": "Ok 2020"}
    notes = dict(zip(table["study_id"], table["note"], strict=True))
    assert notes["anon2019"] == "record 'r1' has no authors"
    assert notes["lost"] == "record 'r9' is not among the records"
    assert notes["ok"] == ""
    assert list(table["source"]) == ["study_id", "study_id", "main report"]
    warned = [r.getMessage() for r in caplog.records]
    assert len(warned) == 2
    assert "study anon2019 is labelled by its study_id" in warned[0]


def test_without_records_every_study_keeps_its_id():
    studies = studies_table(("a", "r1", "main", ""))
    table = build_study_labels(studies, None)
    assert labels_of(table) == {"a": "a"}
    assert table.loc[0, "note"] == "no records table"


def test_files_round_trip(tmp_path):
    studies = tmp_path / "studies.csv"
    studies.write_text(
        "study_id,record_id,role,year,label\na,r1,main,2010,\nb,r2,main,2011,=SUM(1)\n",
        encoding="utf-8",
    )
    unique = tmp_path / "unique.csv"
    unique.write_text(
        "record_id,merged_ids,authors,year,title\n"
        'r1,,"Smith, J; Jones, K",2010,T\n'
        'r2,,"Lee, A",2011,U\n',
        encoding="utf-8",
    )
    out = tmp_path / "results" / "studies" / "labels.csv"
    table = write_study_labels(studies, unique, out)
    assert labels_of(table) == {"a": "Smith & Jones 2010", "b": "=SUM(1)"}
    # the CSV guards the formula-like label; reading it back undoes that
    assert "'=SUM(1)" in out.read_text(encoding="utf-8")
    assert read_study_labels(out) == {"a": "Smith & Jones 2010", "b": "=SUM(1)"}
    assert read_study_labels(tmp_path / "missing.csv") == {}
    assert read_study_labels(None) == {}
    assert label_of({"a": "Smith 2010"}, "a") == "Smith 2010"
    assert label_of({"a": "Smith 2010"}, "z") == "z"
    assert label_of(None, "z") == "z"


def test_studies_csv_is_validated(tmp_path):
    studies = tmp_path / "studies.csv"
    studies.write_text(
        "study_id,record_id,role\na,r1,main\nb,r2,primary\n", encoding="utf-8"
    )
    with pytest.raises(InputError) as info:
        study_labels_from_files(studies, None)
    assert (info.value.location.row, info.value.location.column) == (2, "role")
    assert study_labels_from_files(tmp_path / "none.csv", None).empty


# --- value and analysis labels -----------------------------------------------------


def test_value_labels_defaults_and_config():
    values = value_labels()
    assert values == DEFAULT_VALUE_LABELS
    assert value_label(values, "design", "cluster_RCT") == "Cluster RCT"
    assert value_label(values, "design", "QED") == "Quasi-experimental"
    assert value_label(values, "mentoring_type", "one_to_one") == "one to one"
    assert value_label(values, "nowhere", 3) == "3"
    configured = value_labels(
        {
            "design": {"QED": "  Quasi-experimental   design "},
            "mode": {"f2f": "In person"},
        }
    )
    assert configured["design"]["QED"] == "Quasi-experimental design"
    assert configured["design"]["cluster_RCT"] == "Cluster RCT"
    assert configured["mode"] == {"f2f": "In person"}
    assert DEFAULT_VALUE_LABELS["design"]["QED"] == "Quasi-experimental"  # unchanged


def test_ordered_values():
    values = value_labels({"design": {"zeta": "Another design"}})
    assert ordered_values(values, "design", ["QED", "RCT", "cluster_RCT", "QED"]) == [
        "RCT",
        "cluster_RCT",
        "QED",
    ]
    # configured values after the built-in ones; unknown ones by their labels
    assert ordered_values(values, "design", ["zz_top", "zeta", "aa", "RCT"]) == [
        "RCT",
        "zeta",
        "aa",
        "zz_top",
    ]


def test_analysis_labels():
    meta = {
        "analyses": [
            {"name": "mental_health", "label": "Mental health"},
            {"name": "self_determination"},
        ]
    }
    assert analysis_labels(meta) == {
        "mental_health": "Mental health",
        "self_determination": "Self determination",
    }
    assert analysis_labels(None) == {}


def test_the_config_schema_takes_value_labels():
    from evsynth.validation import validate_config

    config = validate_config(
        {"review_dir": "data", "labels": {"values": {"design": {"QED": "QED"}}}}
    )
    assert config["labels"]["values"] == {"design": {"QED": "QED"}}
    assert validate_config({"review_dir": "data"})["labels"] == {"values": {}}
    with pytest.raises(InputError):
        validate_config(
            {"review_dir": "data", "labels": {"values": {"design": {"QED": ""}}}}
        )
    with pytest.raises(InputError):
        validate_config({"review_dir": "data", "labels": {"studies": {}}})


# --- the plots and tables use them --------------------------------------------------

STUDY_LABELS = {
    "s1": "Adams 2001",
    "s2": "Brown & Cole 2002",
    "s3": "Dunn et al. 2003",
    "s4": "Evans 2004",
    "s5": "Fox 2005",
    "s6": "Gray et al. 2006",
}


def small_analysis(k: int = 6, bias_min_k: int = 10):
    from evsynth.meta.analyses import AnalysisSpec, MetaSettings, run_analysis

    ids = [f"s{i}" for i in range(1, k + 1)]
    rng = np.random.default_rng(7)
    effects = pd.DataFrame(
        {
            "study_id": ids,
            "outcome": "o",
            "domain": "d",
            "timepoint": "",
            "months": 6,
            "measure": "SMD",
            "yi": rng.normal(0.3, 0.2, k),
            "vi": rng.uniform(0.02, 0.08, k),
            "n_t": 40,
            "n_c": 40,
        }
    )
    designs = ["QED", "RCT", "cluster_RCT"] * (k // 3)
    studies = pd.DataFrame(
        {
            "study_id": ids,
            "design": designs,
            "year": [2000 + i for i in range(1, k + 1)],
        }
    )
    spec = AnalysisSpec("d", ("d",), "SMD", subgroups=("design",), label="D")
    settings = MetaSettings(analyses=(spec,), bias_min_k=bias_min_k)
    result = run_analysis(effects, studies, spec, settings, labels=STUDY_LABELS)
    return result, settings


def test_the_forest_plot_names_studies_and_subgroups_by_their_labels():
    from evsynth.meta.figures import forest_data

    result, settings = small_analysis()
    forest = forest_data(result, settings)
    # subgroups in the order of the design labels: RCT, cluster RCT, QED
    assert [(r.group, r.label) for r in forest.rows] == [
        ("RCT", "Brown & Cole 2002"),
        ("RCT", "Fox 2005"),
        ("Cluster RCT", "Dunn et al. 2003"),
        ("Cluster RCT", "Gray et al. 2006"),
        ("Quasi-experimental", "Adams 2001"),
        ("Quasi-experimental", "Evans 2004"),
    ]
    assert set(forest.subgroups) == {"RCT", "Cluster RCT", "Quasi-experimental"}
    assert forest.subgroups["Cluster RCT"].label == "Subgroup Cluster RCT"
    # every label shows its year: no Year column
    assert "Year" not in forest.extra_columns
    assert [s["label"] for s in result.report["studies"]] == list(STUDY_LABELS.values())
    # configured labels
    configured = value_labels({"design": {"QED": "Non-randomised"}})
    forest = forest_data(result, settings, configured)
    assert forest.rows[-1].group == "Non-randomised"
    assert "Subgroup Non-randomised" in [s.label for s in forest.subgroups.values()]


def test_the_forest_plot_keeps_a_year_column_for_labels_without_years():
    from evsynth.meta.analyses import AnalysisSpec, MetaSettings, run_analysis
    from evsynth.meta.figures import forest_data

    effects = pd.DataFrame(
        {
            "study_id": ["a", "b", "c"],
            "outcome": "o",
            "domain": "d",
            "timepoint": "",
            "months": 6,
            "measure": "SMD",
            "yi": [0.1, 0.3, 0.2],
            "vi": [0.04, 0.05, 0.03],
            "n_t": 30,
            "n_c": 30,
        }
    )
    studies = pd.DataFrame({"study_id": ["a", "b", "c"], "year": [2001, 2002, 2003]})
    spec = AnalysisSpec("d", ("d",), "SMD", label="D")
    settings = MetaSettings(analyses=(spec,))
    labels = {"a": "Alpha trial", "b": "Beta 2002"}
    result = run_analysis(effects, studies, spec, settings, labels=labels)
    forest = forest_data(result, settings)
    assert [r.label for r in forest.rows] == ["Alpha trial", "Beta 2002", "c"]
    assert forest.extra_columns == ["Year"]
    assert [r.extra["Year"] for r in forest.rows] == ["2001", "2002", "2003"]


def test_funnel_plot_and_small_study_methods_need_bias_min_k_studies(tmp_path):
    from evsynth.meta.api import write_analysis
    from evsynth.meta.figures import funnel_data

    few, settings = small_analysis(k=6, bias_min_k=10)
    report = few.report
    assert report["funnel"] == {
        "drawn": False,
        "note": "funnel plot not drawn: 6 studies, fewer than meta.bias_min_k = 10",
    }
    assert "skipped" in report["bias"] and "skipped" in report["trimfill"]
    assert funnel_data(few) == report["funnel"]["note"]
    written = write_analysis(few, tmp_path, settings)
    assert {p.name for p in written} == {
        "d.json",
        "forest_d.png",
        "forest_d.svg",
        "funnel_d.png",
        "funnel_d.svg",
    }
    svg = (tmp_path / "funnel_d.svg").read_text(encoding="utf-8")
    assert "Funnel plot not drawn: 6 studies" in svg

    enough, settings = small_analysis(k=6, bias_min_k=6)
    assert enough.report["funnel"] == {"drawn": True}
    assert {"egger_rma", "begg"} <= set(enough.report["bias"])
    assert "k0" in enough.report["trimfill"]
    assert not isinstance(funnel_data(enough), str)


def test_the_traffic_light_plot_and_table_use_the_labels(tmp_path):
    from evsynth.rob.model import read_rob, rob_table
    from evsynth.rob.plots import traffic_light_figure

    path = tmp_path / "rob.csv"
    path.write_text(
        "study_id,tool,outcome,d1,d2,d3,d4,d5,d6,d7,overall,assessor,note\n"
        "s1,rob2,,low,low,low,low,low,,,low,x,\n"
        "s2,rob2,placement,low,high,low,low,low,,,high,x,\n"
        "zz,rob2,,low,low,low,low,low,,,low,x,\n",
        encoding="utf-8",
    )
    frame = read_rob(path, None)
    fig = traffic_light_figure(frame, "rob2", STUDY_LABELS)
    texts = {t.get_gid(): t.get_text() for t in fig.findobj() if hasattr(t, "get_text")}
    assert texts["rob-study-0"] == "Adams 2001"
    assert texts["rob-study-1"] == "Brown & Cole 2002: placement"
    assert texts["rob-study-2"] == "zz"
    table = rob_table(frame, "rob2", STUDY_LABELS)
    assert list(table["Study"]) == ["Adams 2001", "Brown & Cole 2002", "zz"]
    assert list(table["study_id"]) == ["s1", "s2", "zz"]


def test_the_qualitative_tables_and_heat_map_use_the_labels():
    from evsynth.qualitative.api import by_study_labels
    from evsynth.qualitative.tables import (
        barrier_facilitator_table,
        casp_table,
        theme_matrix,
    )

    findings = pd.DataFrame(
        {
            "study_id": ["q2", "q10", "q1", "q2"],
            "finding_id": ["F1", "F2", "F3", "F4"],
            "theme": ["Trust", "Trust", "Trust", "Endings"],
            "subtheme": ["", "", "", ""],
            "kind": ["barrier"] * 4,
            "perspective": ["young_person"] * 4,
            "excerpt": ["a", "bb", "ccc", "dddd"],
            "source": ["p. 1", "Zed et al. 2019, p. 2", "p. 3", "p. 4"],
        }
    )
    labels = {"q1": "Young 2020", "q2": "Abel & Baker 2018", "q10": "Zed et al. 2019"}
    table = barrier_facilitator_table(findings, "barrier", labels)
    trust = table.set_index("theme").loc["Trust"]
    assert trust["studies"] == "Abel & Baker 2018; Young 2020; Zed et al. 2019"
    assert trust["study_ids"] == "q2; q1; q10"
    # the source already names the study: not repeated
    assert (
        trust["example_excerpts"]
        == "a (Abel & Baker 2018, p. 1) | bb (Zed et al. 2019, p. 2)"
    )
    matrix = theme_matrix(findings)
    assert list(matrix.columns) == ["q1", "q2", "q10"]  # the CSV keeps the ids
    shown = by_study_labels(matrix, labels)
    assert list(shown.columns) == ["Abel & Baker 2018", "Young 2020", "Zed et al. 2019"]
    assert shown.loc["Trust"].tolist() == [1, 1, 1]
    assert shown.loc["Endings"].tolist() == [1, 0, 0]
    appraisal = pd.DataFrame(
        {
            "study_id": ["q1", "q2"],
            "item": [1, 1],
            "answer": ["yes", "no"],
            "note": ["", ""],
            "appraiser": ["x", "x"],
        }
    )
    casp = casp_table(appraisal, labels)
    assert list(casp.columns[:2]) == ["study_id", "study"]
    assert list(casp["study"]) == ["Abel & Baker 2018", "Young 2020"]
    assert list(casp["study_id"]) == ["q2", "q1"]


def test_the_estimates_plot_of_the_change_report_uses_analysis_labels(tmp_path):
    from evsynth.history.changes import compare_rounds, estimates_figure, write_changes
    from tests.test_history import _three_analyses

    changes = compare_rounds(_three_analyses(tmp_path), 0, 1)
    names = list(changes.pooled["analysis"])
    labels = {name: f"Label of {name}" for name in names[:2]}
    fig = estimates_figure(changes, labels)
    texts = {t.get_gid(): t.get_text() for t in fig.texts}
    assert texts["estimates-0-label"] == f"Label of {names[0]}"
    assert texts["estimates-1-label"] == f"Label of {names[1]}"
    assert texts["estimates-2-label"] == names[2]  # no label: its name
    write_changes(changes, tmp_path / "out", old=0, new=1, labels=labels)
    page = (tmp_path / "out" / "changes.md").read_text(encoding="utf-8")
    assert f"| Label of {names[0]} | " in page and f"| {names[2]} | " in page
    pooled = pd.read_csv(tmp_path / "out" / "pooled_changes.csv")
    assert list(pooled["analysis"]) == names  # the CSV keeps the names


def test_the_report_names_studies_by_their_labels(tmp_path):
    from evsynth.report.meta import _shown_report

    report = {
        "studies": [
            {"study_id": "s1", "label": "Adams 2001"},
            {"study_id": "s2", "label": "Brown & Cole 2002"},
        ],
        "left_out": [{"study_id": "s9", "outcome": "o", "reason": "r"}],
        "sensitivity_without_high_rob": {"left_out": ["s1"], "not_assessed": ["s2"]},
        "leave1out": {"label": ["s1", "s2"], "estimate": [0.1, 0.2]},
        "subgroups": {
            "design": {
                "groups": {"QED": {"k": 1}, "cluster_RCT": {"k": 1}},
                "skipped": ["RCT"],
            }
        },
    }
    shown = _shown_report(report, value_labels(), {"s9": "Zed 2009"})
    assert shown["sensitivity_without_high_rob"]["left_out"] == ["Adams 2001"]
    assert shown["sensitivity_without_high_rob"]["not_assessed"] == [
        "Brown & Cole 2002"
    ]
    assert shown["leave1out"]["label"] == ["Adams 2001", "Brown & Cole 2002"]
    assert shown["left_out"][0]["study_id"] == "Zed 2009"
    assert list(shown["subgroups"]["design"]["groups"]) == [
        "Cluster RCT",
        "Quasi-experimental",
    ]
    assert shown["subgroups"]["design"]["skipped"] == ["RCT"]
    assert report["leave1out"]["label"] == ["s1", "s2"]  # the report is unchanged


def test_labels_are_documented():
    from tests.conftest import REPO

    readme = (REPO / "config/README.md").read_text(encoding="utf-8")
    assert "`label`" in readme and "`labels.values`" in readme
    assert (
        Path(REPO / "src/evsynth/schemas/studies.schema.yaml")
        .read_text(encoding="utf-8")
        .count("label:")
        == 1
    )


def test_the_rob_command_takes_the_labels(tmp_path):
    from tests.conftest import evsynth

    table = tmp_path / "rob.csv"
    table.write_text(
        "study_id,tool,outcome,d1,d2,d3,d4,d5,d6,d7,overall,assessor,note\n"
        "s1,rob2,,low,low,low,low,low,,,low,x,\n",
        encoding="utf-8",
    )
    labels = tmp_path / "labels.csv"
    labels.write_text(
        "study_id,label,source,record_id,note\ns1,Adams 2001,main report,r1,\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    proc = evsynth("rob", str(table), "--out-dir", str(out), "--labels", str(labels))
    assert proc.returncode == 0, proc.stderr
    rob2 = pd.read_csv(out / "rob2_table.csv")
    assert list(rob2["Study"]) == ["Adams 2001"] and list(rob2["study_id"]) == ["s1"]
    assert "Adams 2001" in (out / "traffic_light_rob2.svg").read_text("utf-8")
