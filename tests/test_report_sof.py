"""The summary of findings (GRADE) in the report, its tables and its methods.

The page is checked against the GRADE stage's own files (results/grade/), the
pooled estimates of the meta stage (results/meta/summary.csv) and the team's
judgements (data/grade.csv); certainty levels are recomputed from the domain
ratings as GRADE adds them up (start high or low, one level down per serious,
two per very serious).
"""

from __future__ import annotations

import csv
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from evsynth.errors import InputError
from evsynth.report.build import REFERENCES, build_report, build_tables
from tests.conftest import example_results

ROOT = Path(__file__).resolve().parents[1]
RESULTS = example_results()
REVIEW = ROOT / "data"
CONFIG = ROOT / "config" / "config.yaml"
LEVELS = ("very low", "low", "moderate", "high")
CHANGE = {"serious": -1, "very_serious": -2, "up_one": 1, "up_two": 2}

pytestmark = pytest.mark.workflow


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def text_of(html: str) -> str:
    """Plain text of an HTML fragment, whitespace collapsed."""
    parser = _Text()
    parser.feed(html)
    return re.sub(r"\s+", " ", "".join(parser.parts)).strip()


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data):
        self.parts.append(data)


def between(html: str, start: str, end: str) -> str:
    i = html.index(start)
    return html[i : html.index(end, i)]


def sof_cells(html: str) -> list[list[str]]:
    """The body rows of the summary-of-findings table, as cell texts."""
    table = between(html, '<table class="sof">', "</table>")
    body = between(table, "<tbody>", "</tbody>")
    return [
        [
            text_of(cell)
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.DOTALL)
        ]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.DOTALL)
    ]


def analysis_section(html: str, name: str) -> str:
    return between(html, f'<section class="analysis" id="meta-{name}">', "</section>")


@pytest.fixture(scope="module")
def config() -> dict:
    with CONFIG.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@pytest.fixture(scope="module")
def built(tmp_path_factory, config) -> Path:
    out = tmp_path_factory.mktemp("sof_report")
    build_report(RESULTS, config, REVIEW, out)
    build_tables(RESULTS, config, REVIEW, out)
    return out


@pytest.fixture(scope="module")
def html(built) -> str:
    return (built / "index.html").read_text(encoding="utf-8")


def footnotes_by_analysis() -> dict[str, list[str]]:
    """Each analysis's footnotes, in domain order (certainty.csv)."""
    out: dict[str, list[str]] = {}
    for row in rows_of(RESULTS / "grade" / "certainty.csv"):
        out.setdefault(row["analysis"], [])
        if row["footnote"]:
            out[row["analysis"]].append(row["footnote"])
    return out


def expected_levels() -> dict[str, str]:
    """Each analysis's certainty, added up from its domain ratings (certainty.csv)."""
    totals: dict[str, int] = {}
    for row in rows_of(RESULTS / "grade" / "certainty.csv"):
        name = row["analysis"]
        if row["domain"] == "start":
            totals[name] = totals.get(name, 0) + (4 if row["rating"] == "high" else 2)
        else:
            totals[name] = totals.get(name, 0) + CHANGE.get(row["rating"], 0)
    return {name: LEVELS[max(1, min(4, t)) - 1] for name, t in totals.items()}


# --- the table ------------------------------------------------------------------


def test_sof_table_shows_the_four_analyses_as_the_grade_stage_rated_them(html):
    sof = rows_of(RESULTS / "grade" / "summary_of_findings.csv")
    pooled = {r["analysis"]: r for r in rows_of(RESULTS / "meta" / "summary.csv")}
    assert [r["analysis"] for r in sof] == [
        "mental_health",
        "self_determination",
        "wellbeing",
        "education",
    ]
    cells = sof_cells(html)
    assert len(cells) == 4
    levels = expected_levels()
    for row, expected in zip(cells, sof, strict=True):
        outcome, participants, relative, absolute, certainty, statement = row
        assert outcome == pooled[expected["analysis"]]["label"] == expected["outcome"]
        assert participants == expected["participants_studies"]
        assert f"({pooled[expected['analysis']]['k']} studies)" in participants
        assert relative == (expected["relative_effect"] or "–")
        assert absolute == expected["absolute_effect"]
        # the estimate and its CI, as the meta stage pooled them (SMD: a
        # difference, "higher" above zero)
        estimate = float(pooled[expected["analysis"]]["estimate"])
        low = float(pooled[expected["analysis"]]["ci_lb"])
        high = float(pooled[expected["analysis"]]["ci_ub"])

        def shown(value: float) -> str:
            return f"{abs(value):.2f} {'higher' if value >= 0 else 'lower'}"

        assert absolute == (f"SMD {shown(estimate)} ({shown(low)} to {shown(high)})")
        assert certainty == expected["certainty"]
        level = levels[expected["analysis"]]
        assert expected["level"] == level
        n = LEVELS.index(level) + 1
        assert certainty.startswith("⊕" * n + "◯" * (4 - n) + " " + level.capitalize())
        assert statement == expected["statement"]
    # by hand from data/grade.csv and the rules: education starts high (RCTs and
    # a ROBINS-I study), serious risk of bias, serious indirectness (team), very
    # serious imprecision (team): 4 - 1 - 1 - 2 -> very low
    assert cells[3][4].startswith("⊕◯◯◯ Very low")
    assert cells[3][5] == (
        "The evidence is very uncertain about the effect of mentoring on education."
    )
    # moderate certainty and a small SMD (0.2 <= 0.26 < 0.5): "likely ... slightly"
    assert cells[0][5] == "Mentoring likely improves mental health slightly."


def test_sof_is_in_the_results_with_its_headings_and_definitions(html):
    meta = between(html, '<section id="meta">', '<section id="qualitative">')
    assert '<section class="sof" id="meta-summary-of-findings">' in meta
    # before the first analysis, and in the contents
    assert meta.index("meta-summary-of-findings") < meta.index(
        'id="meta-mental_health"'
    )
    assert '<a href="#meta-summary-of-findings">Summary of findings</a>' in html
    headers = re.findall(
        r"<th scope=\"col\">(.*?)</th>",
        between(html, '<table class="sof">', "</thead>"),
    )
    assert headers == [
        "Outcome",
        "№ of participants (studies)",
        "Relative effect (95% CI)",
        "Anticipated absolute effect (95% CI)",
        "Certainty of the evidence (GRADE)",
        "What happens",
    ]
    section = text_of(between(html, 'id="meta-summary-of-findings"', "</section>"))
    for word in ("High certainty:", "Moderate certainty:", "Low certainty:"):
        assert word in section
    assert "Very low certainty: we have very little confidence" in section
    assert "results/grade/summary_of_findings.csv" in section
    assert "results/grade/certainty.csv" in section
    # every analysis of the example has the team's indirectness: none provisional
    assert "(provisional)" not in section


def test_footnote_letters_in_the_table_match_the_footnotes_listed(html):
    table = between(html, '<table class="sof">', "</table>")
    linked = re.findall(r'<a href="#sof-note-([a-z]+)">\1</a>', table)
    listed = re.findall(
        r'<li id="sof-note-([a-z]+)"><span class="letter">\1\.</span> (.*?)</li>',
        between(html, 'id="meta-summary-of-findings"', "</section>"),
    )
    assert linked == [letter for letter, _ in listed]
    # a, b, c, ... in order through the table, as GRADEpro letters them
    assert linked == [chr(ord("a") + i) for i in range(len(linked))]
    # the footnotes are those of the rated domains, in the domains' order
    footnotes = [
        r["footnote"]
        for r in rows_of(RESULTS / "grade" / "certainty.csv")
        if r["footnote"]
    ]
    assert [text_of(t) for _, t in listed] == footnotes
    # each row's letters: as many as its analysis has footnotes
    per_row = [
        re.findall(r'href="#sof-note-([a-z]+)"', row)
        for row in re.findall(
            r"<tr[^>]*>(.*?)</tr>", between(table, "<tbody>", "</tbody>"), re.DOTALL
        )
    ]
    assert [len(letters) for letters in per_row] == [
        len(notes) for notes in footnotes_by_analysis().values()
    ]


# --- beside each forest plot ----------------------------------------------------


def test_each_forest_plot_has_its_certainty_beside_it(html):
    sof = {
        r["analysis"]: r for r in rows_of(RESULTS / "grade" / "summary_of_findings.csv")
    }
    for name, row in sof.items():
        section = analysis_section(html, name)
        figure = section.index("<figure")
        box = section.index('<div class="certainty-box')
        assert figure < box < section.index("<h4>Pooled result</h4>")
        shown = text_of(between(section, '<div class="certainty-box', "</div>"))
        assert row["certainty"] in shown
        assert row["statement"] in shown
        notes = footnotes_by_analysis()[name]
        assert notes
        letters = row["certainty"].split(" ")[-1].split(",")
        for letter, note in zip(letters, notes, strict=True):
            assert f"{letter}. {note}" in shown


def test_the_education_override_is_shown_beside_its_forest_plot(html):
    judgements = {
        (r["analysis"], r["domain"]): r for r in rows_of(REVIEW / "grade.csv")
    }
    imprecision = judgements[("education", "imprecision")]
    proposal = next(
        r["proposal"]
        for r in rows_of(RESULTS / "grade" / "certainty.csv")
        if r["analysis"] == "education" and r["domain"] == "imprecision"
    )
    # the data propose serious (the CI crosses zero); the team says very serious
    assert (proposal, imprecision["judgement"]) == ("serious", "very_serious")
    box = text_of(
        between(
            analysis_section(html, "education"), '<div class="certainty-box', "</div>"
        )
    )
    assert (
        "override Imprecision — proposed: serious; review team: very serious — "
        f"{imprecision['reason']} (amira, 2024-03-05)"
    ) in box
    indirectness = judgements[("education", "indirectness")]
    assert (
        "Indirectness — proposed: not judged (only the review team can judge this "
        f"domain); review team: serious — {indirectness['reason']}"
    ) in box
    assert "(1 overriding the proposal from the data)" in box
    # an analysis whose proposals the team left alone shows no override
    mental = between(
        analysis_section(html, "mental_health"), '<div class="certainty-box', "</div>"
    )
    assert "override" not in text_of(mental)
    assert "review team: no — Care-experienced young people" in text_of(mental)


def test_every_judgement_of_the_team_is_beside_its_analysis(html):
    for row in rows_of(REVIEW / "grade.csv"):
        box = text_of(
            between(
                analysis_section(html, row["analysis"]),
                '<div class="certainty-box',
                "</div>",
            )
        )
        said = row["judgement"].replace("_", " ")
        assert f"review team: {said} — {row['reason']}" in box, row


# --- methods, references, tables ------------------------------------------------


def test_methods_say_how_certainty_was_rated(html):
    methods = text_of(between(html, '<section id="methods">', "</section>"))
    assert "rated with GRADE (Guyatt et al. 2011)" in methods
    assert "judgements in grade.csv, each with a reason" in methods
    assert "publication bias from Egger's test when at least 10 studies" in methods
    assert "marked provisional while a domain only the team can judge" in methods
    assert "ROBINS-I starting high (Schünemann et al. 2019)" in methods
    references = text_of(between(html, '<section id="references">', "</section>"))
    for author in ("Guyatt G, Oxman AD", "Santesso N, Glenton C", "Schünemann HJ"):
        assert author in references
    keys = [key for key, _ in REFERENCES]
    assert keys.index("Egger et al. 1997") < keys.index("Guyatt et al. 2011")
    assert keys.index("Guyatt et al. 2011") < keys.index("Hedges 1981")
    assert keys.index("Rosenthal 1979") < keys.index("Santesso et al. 2020")
    assert keys.index("Schünemann et al. 2019") < keys.index("Sterne et al. 2016")


def test_tables_hold_the_summary_of_findings(built):
    import docx
    from openpyxl import load_workbook

    sof = rows_of(RESULTS / "grade" / "summary_of_findings.csv")
    book = load_workbook(built / "tables.xlsx")
    assert book.sheetnames[1] == "Summary of findings"
    sheet = list(book["Summary of findings"].iter_rows(values_only=True))
    assert sheet[0] == (
        "Outcome",
        "№ of participants (studies)",
        "Relative effect (95% CI)",
        "Anticipated absolute effect (95% CI)",
        "Certainty of the evidence (GRADE)",
        "What happens",
        "Footnotes",
    )
    assert [r[4] for r in sheet[1:]] == [r["certainty"] for r in sof]
    assert [r[6] for r in sheet[1:]] == [r["footnotes"] for r in sof]

    document = docx.Document(str(built / "tables.docx"))
    table = document.tables[0]
    assert [c.text for c in table.rows[0].cells][
        4
    ] == "Certainty of the evidence (GRADE)"
    assert [[c.text for c in row.cells][4] for row in table.rows[1:]] == [
        r["certainty"] for r in sof
    ]
    note = next(p.text for p in document.paragraphs if p.text.startswith("a. "))
    lines = note.splitlines()
    notes = [n for ns in footnotes_by_analysis().values() for n in ns]
    assert lines[: len(notes)] == [
        f"{chr(ord('a') + i)}. {text}" for i, text in enumerate(notes)
    ]
    assert "results/grade/summary_of_findings.csv" in note


# --- reviews without GRADE results, and ratings still provisional ----------------


@pytest.mark.parametrize("grade", ["kept", "removed"])
def test_review_without_meta_analyses_has_no_summary_of_findings(
    tmp_path, config, grade
):
    results = tmp_path / "results"
    shutil.copytree(RESULTS, results, ignore=shutil.ignore_patterns("logs", "sheets"))
    for stage in ("effects", "meta"):
        shutil.rmtree(results / stage)
    if grade == "removed":
        shutil.rmtree(results / "grade")
    # "kept": stale GRADE files of analyses the results no longer have
    out = tmp_path / "out"
    build_report(results, config, REVIEW, out)
    build_tables(results, config, REVIEW, out)
    html = (out / "index.html").read_text(encoding="utf-8")
    assert "summary-of-findings" not in html
    assert '<div class="certainty-box' not in html
    assert "Certainty of the evidence (GRADE)" not in html
    assert "Guyatt" not in html
    assert "⊕" not in html
    from openpyxl import load_workbook

    assert "Summary of findings" not in load_workbook(out / "tables.xlsx").sheetnames
    import docx

    headings = [p.text for p in docx.Document(str(out / "tables.docx")).paragraphs]
    assert not any("Summary of findings" in h for h in headings)


def test_ratings_without_the_teams_judgements_are_provisional(tmp_path, config):
    from evsynth.grade.api import run_grade, write_grade
    from evsynth.validation import load_schema, with_defaults

    results = tmp_path / "results"
    shutil.copytree(RESULTS, results, ignore=shutil.ignore_patterns("logs", "sheets"))
    settings = with_defaults(dict(config), load_schema("config"))
    names = [a["name"] for a in settings["meta"]["analyses"]]
    result = run_grade(
        [results / "meta" / f"{n}.json" for n in names],
        settings,
        studies=REVIEW / "studies.csv",
        rob=REVIEW / settings["rob"]["file"],
        judgements=None,
        inputs_dir=results / "meta" / "inputs",
    )
    write_grade(result, results / "grade")
    out = tmp_path / "out"
    build_report(results, config, REVIEW, out)
    html = (out / "index.html").read_text(encoding="utf-8")
    cells = sof_cells(html)
    # indirectness is never proposed from the data: every rating waits for it
    assert all(row[4].endswith(" (provisional)") for row in cells)
    # education from the proposals alone: high - 1 (risk of bias) - 1
    # (imprecision: the CI crosses zero) = low
    assert cells[3][4].startswith("⊕⊕◯◯ Low")
    section = text_of(between(html, 'id="meta-summary-of-findings"', "</section>"))
    assert "Provisional: a domain only the review team can judge" in section
    box = between(
        analysis_section(html, "education"), '<div class="certainty-box', "</div>"
    )
    assert "Judgements of the review team" not in box
    assert "(provisional)" in text_of(box)


def test_text_from_grade_files_is_escaped_and_bad_files_refused(tmp_path, config):
    results = tmp_path / "results"
    shutil.copytree(RESULTS, results, ignore=shutil.ignore_patterns("logs", "sheets"))
    path = results / "grade" / "certainty.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    education = data["analyses"][3]
    imprecision = next(d for d in education["domains"] if d["domain"] == "imprecision")
    imprecision["reason"] = '<script>alert("x")</script>'
    education["summary_of_findings"]["statement"] = "<b>bold</b>"
    path.write_text(json.dumps(data), encoding="utf-8")
    build_report(results, config, REVIEW, tmp_path / "out")
    html = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert "<script" not in html and "<b>bold</b>" not in html
    assert "&lt;script&gt;" in html and "&lt;b&gt;bold&lt;/b&gt;" in html

    # letters that do not match the footnotes: refused, naming the file
    education["summary_of_findings"]["certainty"] = "⊕◯◯◯ Very low l,m"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InputError, match=r"certainty\.json.*'education'.*l,m"):
        build_report(results, config, REVIEW, tmp_path / "out2")
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(InputError, match=r"certainty\.json.*not readable as JSON"):
        build_report(results, config, REVIEW, tmp_path / "out3")
