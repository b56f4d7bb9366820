"""The review report (index.html), its tables (XLSX, DOCX) and the RIS export."""

from __future__ import annotations

import base64
import csv
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from evsynth.report.build import build_report, build_tables
from evsynth.report.exports import CSV_COLUMNS, export_included
from evsynth.report.office import DOCX_TABLES, SHEETS
from evsynth.report.page import MISSING, SECTIONS
from evsynth.report.sof import UNRATED_COLUMNS
from tests.conftest import example_results

ROOT = Path(__file__).resolve().parents[1]
RESULTS = example_results()
REVIEW = ROOT / "data"
CONFIG = ROOT / "config" / "config.yaml"

pytestmark = pytest.mark.workflow

VOID = {"meta", "img", "br", "hr", "link", "input", "col", "source", "wbr"}


class Page(HTMLParser):
    """Collects what the tests look at, and checks that tags nest properly."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.headings: dict[str, list[str]] = {"h1": [], "h2": [], "h3": [], "h4": []}
        self.text: list[str] = []
        self._heading: str | None = None
        self._buffer: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.stack.append(tag)
        if tag in self.headings:
            self._heading, self._buffer = tag, []
        self._in_style = tag == "style"

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1:]}>")
            return
        self.stack.pop()
        if tag == self._heading:
            self.headings[tag].append("".join(self._buffer).strip())
            self._heading = None
        if tag == "style":
            self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            return
        self.text.append(data)
        if self._heading:
            self._buffer.append(data)

    @property
    def plain(self) -> str:
        return re.sub(r"\s+", " ", "".join(self.text))


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    return page


@pytest.fixture(scope="module")
def config() -> dict:
    with CONFIG.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@pytest.fixture(scope="module")
def built(tmp_path_factory, config) -> Path:
    out = tmp_path_factory.mktemp("report")
    assert build_report(RESULTS, config, REVIEW, out) == [out / "index.html"]
    assert build_tables(RESULTS, config, REVIEW, out) == [
        out / "tables.xlsx",
        out / "tables.docx",
    ]
    return out


@pytest.fixture(scope="module")
def page(built) -> Page:
    return parse(built / "index.html")


def summary_rows() -> list[dict[str, str]]:
    with (RESULTS / "meta" / "summary.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def studies_csv() -> list[dict[str, str]]:
    if not (REVIEW / "studies.csv").is_file():
        return []
    with (REVIEW / "studies.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


N_REPORTS = len(studies_csv())
N_STUDIES = len({row["study_id"] for row in studies_csv()})


def copy_results(target: Path) -> Path:
    shutil.copytree(RESULTS, target, ignore=shutil.ignore_patterns("logs", "sheets"))
    return target


# --- the page ------------------------------------------------------------------


def test_page_parses_with_balanced_tags(page):
    assert page.errors == []
    assert page.stack == []
    assert page.headings["h1"] == [
        (
            "Mentoring and befriending for care-experienced children and young "
            "people and those at risk of entering care"
        )
    ]


def test_every_section_heading(page):
    for _, heading in SECTIONS:
        assert heading in page.headings["h2"]
    ids = {attrs.get("id") for _, attrs in page.tags}
    assert {anchor for anchor, _ in SECTIONS} <= ids


def test_every_analysis_with_its_pooled_estimate(page):
    rows = summary_rows()
    assert rows
    for row in rows:
        assert row["label"] in page.headings["h3"]
        estimate = float(row["estimate"])
        low, high = float(row["ci_lb"]), float(row["ci_ub"])
        assert f"g = {estimate:.2f}" in page.plain
        assert f"{low:.2f} to {high:.2f}" in page.plain
        assert f"meta-{row['analysis']}" in {a.get("id") for _, a in page.tags}


def test_results_in_plain_words(page):
    text = page.plain
    assert (
        "Across 13 studies the pooled effect was g = 0.26 (95% CI 0.16 to 0.36; "
        "p < 0.001; prediction interval 0.09 to 0.43)." in text
    )
    assert "Heterogeneity was low (I² = 13%" in text
    assert (
        # crossage2016, therapeutic2019 and malrc2022 by their main reports'
        # authors and years (data/searches)
        "Leaving out the three studies at high risk of bias (Delgado & Fischer "
        "2016, Hollis & Wexler 2019 and Quinlan et al. 2022) gave g = 0.22 (95% CI "
        "0.11 to 0.33" in text
    )
    assert "Trim and fill (L0 estimator) imputed two studies on the left side" in text
    # wellbeing (three studies): no funnel plot, no small-study tests
    assert (
        "No funnel plot was drawn, and trim and fill, Egger's and Begg's tests and "
        "the fail-safe N were not computed: three studies, fewer than the 10 they "
        "need to be meaningful (meta.bias_min_k; Cochrane Handbook 13.3.5.4)."
    ) in text
    assert "The test for subgroup differences" in text
    assert "In a meta-regression on months" in text
    # screening agreement, PRISMA counts, study table, qualitative, methods
    assert "Cohen's κ = 0.82 (0.71 to 0.92)" in text
    assert f"In total {N_STUDIES} studies ({N_REPORTS} reports) were included." in text
    assert "Taussig & Culhane 2010" in text and "taussig2010_fhf" not in text
    assert "Trust and consistency" in text
    assert "High confidence" in text
    assert "Knapp-Hartung" in text
    assert "exact small-sample correction" in text
    assert "Viechtbauer W. Conducting meta-analyses in R with the metafor" in text
    assert "Page MJ, McKenzie JE" in text


def test_no_external_urls_and_images_are_embedded(page):
    images = [attrs for tag, attrs in page.tags if tag == "img"]
    # PRISMA, 4 RoB plots, a forest plot per analysis and a funnel plot per
    # analysis of meta.bias_min_k (10) studies or more, 2 heat maps
    funnels = sum(int(row["k"]) >= 10 for row in summary_rows())
    assert funnels == 1  # mental health, 13 studies
    assert len(images) == 1 + 4 + len(summary_rows()) + funnels + 2
    for tag, attrs in page.tags:
        assert tag not in ("script", "link", "iframe", "object", "embed")
        for name in ("src", "href"):
            value = attrs.get(name)
            if value is None:
                continue
            if name == "href":
                assert value.startswith("#"), value
            else:
                assert value.startswith(
                    ("data:image/svg+xml;base64,", "data:image/png;")
                ), value[:40]
    for attrs in images:
        assert attrs["alt"]
    forest = (RESULTS / "meta" / "forest_mental_health.svg").read_bytes()
    embedded = [
        base64.b64decode(a["src"].split(",", 1)[1])
        for a in images
        if a["alt"] == "Forest plot of Mental health"
    ]
    assert embedded == [forest]


def test_no_css_fetches(built):
    html = (built / "index.html").read_text(encoding="utf-8")
    style = re.search(r"<style>(.*?)</style>", html, re.DOTALL).group(1)
    assert "url(" not in style
    assert "@import" not in style


def test_page_is_byte_identical_when_built_again(built, config, tmp_path):
    build_report(RESULTS, config, REVIEW, tmp_path)
    build_tables(RESULTS, config, REVIEW, tmp_path)
    for name in ("index.html", "tables.xlsx", "tables.docx"):
        assert (tmp_path / name).read_bytes() == (built / name).read_bytes(), name


# --- text from the data is escaped; spreadsheet cells are guarded --------------


SCRIPT = '<script>alert("x")</script>'
FORMULA = '=HYPERLINK("http://example.invalid","click")'


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, config) -> Path:
    """A copy of results/ with markup and a formula in text from the data."""
    base = tmp_path_factory.mktemp("hostile")
    results = copy_results(base / "results")
    path = results / "qualitative" / "barriers.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    rows[0]["theme"] = SCRIPT
    rows[1]["theme"] = FORMULA
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    path = results / "rob" / "rob2_table.csv"
    text = path.read_text(encoding="utf-8").replace(
        "taussig2010_fhf", f"{SCRIPT}<b>x</b>", 1
    )
    path.write_text(text, encoding="utf-8")
    report = json.loads((results / "meta" / "mental_health.json").read_text())
    report["studies"][0]["study_id"] = SCRIPT
    (results / "meta" / "mental_health.json").write_text(json.dumps(report))
    title = dict(config, review_title=f"{SCRIPT} & review")
    out = base / "out"
    build_report(results, title, REVIEW, out)
    build_tables(results, title, REVIEW, out)
    return out


def test_text_from_the_data_is_escaped(hostile):
    html = (hostile / "index.html").read_text(encoding="utf-8")
    assert "<script" not in html.lower()
    assert "<b>x</b>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; review" in html
    page = parse(hostile / "index.html")
    assert page.errors == []
    assert SCRIPT in page.plain  # shown as text, not run
    assert not [tag for tag, _ in page.tags if tag == "script"]


def test_spreadsheet_cells_are_guarded(hostile):
    from openpyxl import load_workbook

    book = load_workbook(hostile / "tables.xlsx")
    themes = [row[0] for row in book["Barriers"].iter_rows(min_row=2, values_only=True)]
    assert "'" + FORMULA in themes
    assert SCRIPT in themes
    assert book["Contents"]["A1"].value == f"{SCRIPT} & review"
    # numbers stay numbers, negative ones too
    effects = book["Effects"]
    header = [c.value for c in effects[1]]
    yi = [
        row[header.index("yi")]
        for row in effects.iter_rows(min_row=2, values_only=True)
    ]
    assert all(isinstance(v, float) for v in yi)


# --- tables.xlsx and tables.docx -----------------------------------------------


def test_workbook_sheets_and_header_rows(built):
    from openpyxl import load_workbook

    book = load_workbook(built / "tables.xlsx")
    assert book.sheetnames == list(SHEETS)
    for name in SHEETS[1:]:
        sheet = book[name]
        assert sheet.freeze_panes == "A2"
        header = list(sheet[1])
        assert all(cell.font.bold for cell in header)
        assert all(cell.value for cell in header)
        assert sheet.max_row > 1
        assert sheet.column_dimensions["A"].width >= 8
    assert [c.value for c in book["Included studies"][1]][:5] == [
        "Study",
        "Main report",
        "Title",
        "Source",
        "Reports (n)",
    ]
    assert book["Included studies"].max_row == 1 + N_STUDIES
    assert [c.value for c in book["Barriers"][1]][:3] == [
        "theme",
        "subthemes",
        "n_studies",
    ]
    pooled = book["Pooled results"]
    header = [c.value for c in pooled[1]]
    main = [
        row
        for row in pooled.iter_rows(min_row=2, values_only=True)
        if row[header.index("model")] == "random effects"
    ]
    assert [r[0] for r in main] == [r["analysis"] for r in summary_rows()]
    for row, expected in zip(main, summary_rows(), strict=True):
        assert row[header.index("estimate")] == pytest.approx(
            float(expected["estimate"])
        )
    contents = list(book["Contents"].iter_rows(min_row=4, values_only=True))
    assert [r[0] for r in contents] == list(SHEETS[1:])


def test_document_tables(built):
    import docx

    document = docx.Document(str(built / "tables.docx"))
    tables = document.tables
    assert len(tables) == len(DOCX_TABLES)
    headings = [p.text for p in document.paragraphs if p.text.startswith("Table ")]
    assert headings == [f"Table {i}. {t}" for i, t in enumerate(DOCX_TABLES, start=1)]

    # the GRADE stage's summary of findings (tests/test_report_sof.py checks it)
    sof = tables[0]
    assert [c.text for c in sof.rows[0].cells] == [
        "Outcome",
        "№ of participants (studies)",
        "Relative effect (95% CI)",
        "Anticipated absolute effect (95% CI)",
        "Certainty of the evidence (GRADE)",
        "What happens",
    ]
    assert len(sof.rows) == 1 + len(summary_rows())
    first = [c.text for c in sof.rows[1].cells]
    # 1,022 + 1,060 participants as in the forest plot
    assert first[:3] == ["Mental health", "2,082 (13 studies)", "–"]
    assert first[3] == "SMD 0.26 higher (0.16 higher to 0.36 higher)"
    assert first[4].startswith("⊕⊕⊕◯ Moderate")

    studies = tables[1]
    assert [c.text for c in studies.rows[0].cells][:2] == ["Study", "Main report"]
    assert len(studies.rows) == 1 + N_STUDIES
    for table in tables[2:4]:
        assert [c.text for c in table.rows[0].cells][:3] == [
            "Theme",
            "Subthemes",
            "Studies (n)",
        ]
        assert len(table.rows) == 1 + 13
    soqf = tables[4]
    assert [c.text for c in soqf.rows[0].cells][:2] == [
        "#",
        "Summary of review finding",
    ]
    assert len(soqf.rows) == 1 + 12


def test_document_without_grade_results_leaves_certainty_to_the_team(tmp_path, config):
    import docx

    results = copy_results(tmp_path / "results")
    shutil.rmtree(results / "grade")
    build_tables(results, config, REVIEW, tmp_path / "out")
    sof = docx.Document(str(tmp_path / "out" / "tables.docx")).tables[0]
    assert [c.text for c in sof.rows[0].cells] == list(UNRATED_COLUMNS)
    assert len(sof.rows) == 1 + len(summary_rows())
    first = [c.text for c in sof.rows[1].cells]
    assert first[:2] == ["Mental health", "13"]
    assert first[2] == "2,082"  # 1,022 + 1,060 as in the forest plot
    assert first[3] == "g = 0.26 (0.16 to 0.36)"
    assert first[4] == "13%"
    assert first[5] == ""  # certainty: for the review team


# --- missing results and the change report --------------------------------------


def test_missing_sections_are_left_out_with_a_note(tmp_path, config):
    results = tmp_path / "results"
    shutil.copytree(RESULTS / "records", results / "records")
    out = tmp_path / "out"
    build_report(results, config, tmp_path / "no_review", out)
    build_tables(results, config, tmp_path / "no_review", out)
    page = parse(out / "index.html")
    assert page.errors == []
    for _, heading in SECTIONS:
        assert heading in page.headings["h2"]
    for key in ("rob", "meta", "qualitative", "changes", "studies", "agreement"):
        assert MISSING[key] in page.plain, key
    assert "No risk-of-bias table in this review." in page.plain
    assert not [tag for tag, _ in page.tags if tag == "img"]
    from openpyxl import load_workbook

    assert load_workbook(out / "tables.xlsx").sheetnames == ["Contents"]


def test_change_report_of_the_latest_update(tmp_path, config):
    results = copy_results(tmp_path / "results")
    changes = results / "changes"
    changes.mkdir()
    shutil.copy(RESULTS / "meta" / "funnel_education.png", changes / "estimates.png")
    (changes / "changes.md").write_text(
        "# Living review: changes from round 0 to round 1\n\n"
        "## Headline numbers\n\n"
        "- Records added in round 1: **12** (<i>new</i>)\n"
        "- Pooled analyses: 1 changed\n\n"
        "## Pooled estimates\n\n"
        "![Pooled estimates, round 0 (grey) and round 1 (black)](estimates.png)\n\n"
        "![remote](https://example.invalid/x.png)\n\n"
        "| Analysis | Estimate (0) | Estimate (1) |\n"
        "|---|---|---|\n"
        "| mental_health | 0.261 | 0.250 |\n",
        encoding="utf-8",
    )
    (changes / "summary.json").write_text(json.dumps({"old": 0, "new": 1}))
    out = tmp_path / "out"
    build_report(results, config, REVIEW, out)
    html = (out / "index.html").read_text(encoding="utf-8")
    page = parse(out / "index.html")
    assert page.errors == []
    section = html[
        html.index('<section id="changes">') : html.index('<section id="methods">')
    ]
    assert "Living review: changes from round 0 to round 1" in section
    assert "Records added in round 1: 12 (&lt;i&gt;new&lt;/i&gt;)" in section
    assert "<td>mental_health</td>" in section
    assert section.count("<img ") == 1
    assert 'src="data:image/png;base64,' in section
    assert "example.invalid" not in section
    assert MISSING["changes"] not in html


# --- a review in progress --------------------------------------------------------

#: Methods wording that belongs to stages a review in progress has not reached.
LATER_STAGES = (
    "meta-analys",
    "pooled",
    "random-effects",
    "Knapp",
    "Hedges' g",
    "prediction interval",
    "trim and fill",
    "sensitivity analyses",
    "CERQual",
    "CASP",
    "coded excerpts",
)


def section_text(html: str, anchor: str) -> str:
    """Plain text of one section of the page."""
    start = html.index(f'<section id="{anchor}">')
    end = html.index("</section>", start)
    page = Page()
    page.feed(html[start:end])
    return page.plain


def assert_reads_well(text: str) -> None:
    assert not re.search(r":\s*[.;,)]", text), re.search(r".{60}:\s*[.;,)]", text)
    assert "title abstract" not in text
    assert "n/a of them" not in text
    assert "n/a (n/a" not in text
    assert "from 0 studies" not in text
    assert not re.search(r"\b(?:0|one|1) \w+ were\b", text)


def empty_tables(results: Path) -> None:
    """Header-only stage tables, as the workflow writes them for a new review."""
    for name in (
        "effects/effects.csv",
        "rob/overall.csv",
        "qualitative/barriers.csv",
        "qualitative/facilitators.csv",
        "qualitative/cerqual_soqf.csv",
        "qualitative/casp_appraisal.csv",
    ):
        header = (RESULTS / name).read_text(encoding="utf-8").splitlines()[0]
        (results / name).parent.mkdir(parents=True, exist_ok=True)
        (results / name).write_text(header + "\n", encoding="utf-8")


def screen(results: Path, review: Path, config: dict, rows: list[dict]) -> None:
    """Run the screening stage on the example's records with these decisions."""
    from evsynth.screening.api import run_screening, write_screening
    from evsynth.screening.model import Settings
    from evsynth.validation import validate_config

    log = review / "screening" / "decisions.csv"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(
            handle,
            fieldnames=[
                *("record_id", "stage", "reviewer", "decision", "reason"),
                *("note", "timestamp"),
            ],
        )
        writer.writeheader()
        writer.writerows(rows)
    settings = Settings.from_config(validate_config(dict(config))["screening"])
    result = run_screening(results / "records", settings, log)
    write_screening(result, results / "screening", settings)


@pytest.fixture(scope="module", params=["records", "title_abstract"])
def in_progress(request, tmp_path_factory, config) -> tuple[str, str]:
    """The report of a new review: records only, or part-way through title/abstract.

    Returns the page's HTML and the config file's name as the report shows it.
    """
    base = tmp_path_factory.mktemp(f"progress_{request.param}")
    results, review = base / "results", base / "review"
    shutil.copytree(RESULTS / "records", results / "records")
    review.mkdir()
    (review / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    rows: list[dict] = []
    if request.param == "title_abstract":
        with (REVIEW / "screening" / "decisions.csv").open(encoding="utf-8") as handle:
            decisions = list(csv.DictReader(handle))
        first = list(
            dict.fromkeys(
                r["record_id"] for r in decisions if r["stage"] == "title_abstract"
            )
        )[:20]
        rows = [
            r
            for r in decisions
            if r["stage"] == "title_abstract" and r["record_id"] in first
        ]
    screen(results, review, config, rows)
    empty_tables(results)
    out = base / "out"
    build_report(results, config, review, out, config_file=review / "config.yaml")
    return request.param, (out / "index.html").read_text(encoding="utf-8")


def test_review_in_progress_reads_well(in_progress):
    stage, html = in_progress
    page = Page()
    page.feed(html)
    page.close()
    assert page.errors == []
    assert_reads_well(page.plain)
    methods = section_text(html, "methods")
    for words in LATER_STAGES:
        assert words.lower() not in methods.lower(), words
    assert "Risk of bias was judged" not in methods
    assert "full-text report" not in methods
    assert "Full-text exclusions" not in methods
    references = section_text(html, "references")
    assert "Page MJ, McKenzie JE" in references
    for author in ("Knapp G", "Egger M", "Lewin S", "Sterne J", "Hedges LV"):
        assert author not in references
    prisma = section_text(html, "prisma")
    assert "title/abstract screening" in prisma
    assert "No study has been included yet." in prisma
    assert "In total 0" not in prisma
    if stage == "records":
        assert "screened each record" not in methods
        assert "via other methods" not in methods
        assert "Of the 0 records" not in prisma
        assert "no record has been decided by both amira and jonas" in page.plain
        assert "Agreement between the two reviewers" not in methods
    else:
        assert "Two reviewers screened each record by title and abstract" in methods
        assert "Cohen's κ = " in section_text(html, "agreement")
    for key in ("rob", "meta", "qualitative", "studies"):
        assert MISSING[key] in page.plain, key


def test_settings_are_the_last_section_and_name_the_config_file(in_progress):
    _, html = in_progress
    page = Page()
    page.feed(html)
    page.close()
    assert page.headings["h2"][-1] == "Appendix: settings"
    sections = [a["id"] for tag, a in page.tags if tag == "section" and "id" in a]
    assert sections[-1] == "settings"
    contents = [
        a["href"][1:]
        for tag, a in page.tags
        if tag == "a"
        and a.get("href", "").startswith("#")
        and not a["href"].startswith("#meta-")
    ]
    assert contents == [anchor for anchor, _ in SECTIONS]
    assert [s for s in sections if s in dict(SECTIONS)] == contents
    appendix = section_text(html, "settings")
    assert "the review's config file, config.yaml," in appendix
    assert "screening.reviewers" in appendix
    assert "config.yaml" in section_text(html, "methods")
    assert "/config.yaml" not in html  # named as the user knows it, not by its path


def test_example_report_names_its_config_file(tmp_path, config):
    build_report(RESULTS, config, REVIEW, tmp_path, config_file="config/config.yaml")
    html = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "config file, config/config.yaml," in section_text(html, "settings")
    assert "config file, config/config.yaml," in section_text(html, "methods")
    page = parse(tmp_path / "index.html")
    assert page.headings["h2"][-1] == "Appendix: settings"
    assert_reads_well(page.plain)
    # without a name the page still says where the settings come from
    build_report(RESULTS, config, REVIEW, tmp_path / "unnamed")
    html = (tmp_path / "unnamed" / "index.html").read_text(encoding="utf-8")
    assert "those of the review's config file, with the" in html


def test_config_file_is_named_relative_to_the_review(tmp_path, monkeypatch):
    from evsynth.report.build import config_name

    review = tmp_path / "rv"
    (review / "config").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    assert config_name(review / "config.yaml", review) == "config.yaml"
    assert config_name(review / "config" / "config.yaml", "rv") == "config/config.yaml"
    assert config_name(tmp_path / "config.yaml", "data") == "config.yaml"
    assert config_name("config/config.yaml", "data") == "config/config.yaml"
    outside = tmp_path.parent / "elsewhere.yaml"
    assert config_name(outside, review) == str(outside)


def test_review_without_effects_has_no_meta_analysis_methods(tmp_path, config):
    results = copy_results(tmp_path / "results")
    for stage in ("effects", "meta", "qualitative"):
        shutil.rmtree(results / stage)
    build_report(results, config, REVIEW, tmp_path / "out")
    html = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    methods = section_text(html, "methods")
    for words in LATER_STAGES:
        assert words.lower() not in methods.lower(), words
    # the stages reached are still described
    assert "Two reviewers screened each record by title and abstract" in methods
    assert "Records identified via other methods went straight" in methods
    assert (
        "Risk of bias was judged with RoB 2 for randomised trials (Sterne et al. "
        "2019) and ROBINS-I for non-randomised studies (Sterne et al. 2016)."
    ) in methods
    references = section_text(html, "references")
    assert "Sterne JAC, Savović J" in references
    assert "Knapp G" not in references
    assert_reads_well(parse(tmp_path / "out" / "index.html").plain)


def test_full_example_methods_describe_every_stage(page):
    text = page.plain
    for words in (
        (
            "Two reviewers screened each record by title and abstract and two "
            "reviewers each full-text report, independently (amira and jonas)."
        ),
        "Records identified via other methods went straight to full-text retrieval",
        "Full-text exclusions gave one of: Wrong population;",
        "Continuous outcomes were expressed as Hedges' g with the exact",
        "Each analysis pooled one effect per study in a random-effects model",
        "Subgroup analyses and meta-regression used mixed-effects models.",
        (
            "Sensitivity analyses left out the studies at high risk of bias, and "
            "each study in turn"
        ),
        "for the sensitivity analyses each study's worst overall judgement",
        "Qualitative studies were appraised with the CASP Qualitative Checklist",
        "every theme belonging to a review finding.",
        "The CERQual summary lists 12 review findings; confidence: ",
    ):
        assert words in text, words
    assert_reads_well(text)


def test_included_reports_missing_from_studies_csv_are_studies_of_their_own(
    tmp_path,
):
    from evsynth.report.exports import included_reports

    review = tmp_path / "review"
    review.mkdir()
    header = (REVIEW / "studies.csv").read_text(encoding="utf-8").splitlines()[0]
    (review / "studies.csv").write_text(header + "\n", encoding="utf-8")
    with (RESULTS / "screening" / "final_decisions.csv").open(encoding="utf-8") as f:
        included = {
            r["record_id"] for r in csv.DictReader(f) if r["final_state"] == "included"
        }
    reports = included_reports(RESULTS, review)
    assert len(reports) == len(included) == N_REPORTS
    assert set(reports["record_id"]) == included
    assert set(reports["role"]) == {"main"}


# --- RIS and CSV of the included reports ---------------------------------------


def test_included_reports_round_trip_through_rispy(tmp_path):
    import rispy

    paths = export_included(RESULTS, REVIEW, tmp_path)
    assert paths == [
        tmp_path / "included_studies.ris",
        tmp_path / "included_studies.csv",
    ]
    entries = rispy.loads(paths[0].read_text(encoding="utf-8"))
    with paths[1].open(encoding="utf-8") as handle:
        table = list(csv.DictReader(handle))
    assert list(table[0]) == list(CSV_COLUMNS)
    studies = studies_csv()
    assert len(entries) == len(table) == len(studies) == N_REPORTS
    assert {r["study_id"] for r in table} == {r["study_id"] for r in studies}
    for entry, row in zip(entries, table, strict=True):
        assert entry["type_of_reference"] in {"JOUR", "RPRT", "THES", "CPAPER", "GEN"}
        assert entry["title"] == row["title"]
        assert entry["authors"] == [a.strip() for a in row["authors"].split(";") if a]
        assert entry.get("year", "") == row["year"]
        assert entry["notes"] == [
            (
                f"study_id: {row['study_id']}; role: {row['role']}; "
                f"record_id: {row['record_id']}"
            )
        ]
        if row["doi"]:
            assert entry["doi"] == row["doi"]
    taussig = next(
        e
        for e in entries
        if e["notes"][0].startswith("study_id: taussig2010_fhf; role: main")
    )
    assert taussig["start_page"] == "739"
    assert taussig["end_page"] == "746"
    assert taussig["journal_name"] == "Archives of Pediatrics and Adolescent Medicine"
    kinds = {e["type_of_reference"] for e in entries}
    assert {"JOUR", "THES", "RPRT"} <= kinds
    again = tmp_path / "again"
    export_included(RESULTS, REVIEW, again)
    for path in paths:
        assert (again / path.name).read_bytes() == path.read_bytes()


# --- an event that is better when lower, pooled as measured ----------------------


def _offending(favourable: str | None) -> dict:
    """An OR analysis of offending: OR 0.58 (0.45 to 0.75), as the meta stage writes."""
    import math

    report = {
        "analysis": "offending",
        "measure": "OR",
        "k": 5,
        "pooled": {"k": 5, "estimate": math.log(0.58), "ci_lb": math.log(0.45),
                   "ci_ub": math.log(0.75), "pval": 0.004, "pi_lb": math.log(0.45),
                   "pi_ub": math.log(0.75)},
    }  # fmt: skip
    if favourable:
        report["favourable"] = favourable
    return report


def test_report_words_follow_the_side_that_favours_the_intervention():
    from evsynth.report.formatting import lower_better_note, scale_of_report
    from evsynth.report.loading import Analysis
    from evsynth.report.meta_text import _pooled_sentence

    lower = scale_of_report(_offending("lower"))
    text = _pooled_sentence(_offending("lower"), lower, "95")
    assert text.startswith(
        "Across five studies the pooled effect was OR = 0.58 (95% CI"
    )
    assert "lies below 1: the effect favours the intervention." in text
    assert lower.favouring == "values below 1 favour the intervention"
    # the same numbers of an event better when higher favour the comparison
    higher = scale_of_report(_offending("higher"))
    assert "lies below 1: the effect favours the comparison." in _pooled_sentence(
        _offending("higher"), higher, "95"
    )
    assert higher.favouring == "values above 1 favour the intervention"
    assert scale_of_report(_offending(None)) == higher
    analyses = [
        Analysis("offending", "Offending", _offending("lower")),
        Analysis("stability", "Stability", _offending("higher")),
    ]
    assert lower_better_note(analyses) == (
        "; for Offending, an event that is better when lower, values below no "
        "effect favour it"
    )
    assert lower_better_note(analyses[1:]) == ""
