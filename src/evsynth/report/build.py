"""Build the review's report: one self-contained HTML page, and its tables.

:func:`build_report` reads what the workflow's stages wrote under ``results/``
(and the review's ``studies.csv``) and writes ``index.html``: the title and
question, the PRISMA 2020 flow with the import and deduplication summaries,
screening agreement, the included studies, risk of bias, every meta-analysis
with its forest and funnel plots and its results in plain words, the summary
of findings with the certainty of each outcome (GRADE; :mod:`evsynth.report.sof`),
the qualitative synthesis, the change report of the latest update, the methods
with references, and an appendix of the settings (naming the review's config
file), all generated from the numbers and the configuration. Images are
embedded as data URIs, so the page needs no network and no other file; it has
no JavaScript and prints on A4. A stage whose results are missing (or still
empty) leaves its section with a short note, and the methods describe only the
stages the review has reached, citing only the references they use.

:func:`build_tables` writes the report's tables as ``tables.xlsx`` (one sheet
per table) and ``tables.docx`` (summary of findings, study characteristics,
barriers, facilitators, CERQual summary of qualitative findings).

Every output is deterministic: equal inputs give byte-identical files (no
timestamps, sorted iteration over mappings, fixed zip metadata).
"""

from __future__ import annotations

import base64
import io
import json
import math
import platform
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from evsynth.io import guard_formula, write_files, write_workbook
from evsynth.labels import (
    label_of,
    ordered_values,
    read_study_labels,
    value_label,
    value_labels,
)
from evsynth.report import sof as grade_sof
from evsynth.report.exports import included_reports, read_optional_csv
from evsynth.report.journals import display_journal
from evsynth.validation import with_defaults

__all__ = [
    "DOCX_FILE",
    "DOCX_TABLES",
    "REFERENCES",
    "REPORT_FILE",
    "SECTIONS",
    "SHEETS",
    "XLSX_FILE",
    "Analysis",
    "Review",
    "Scale",
    "build_report",
    "build_tables",
    "config_name",
    "load_review",
    "pooled_results",
    "render_report",
    "scale_of",
    "summary_of_findings",
    "versions",
]

REPORT_FILE = "index.html"
XLSX_FILE = "tables.xlsx"
DOCX_FILE = "tables.docx"

#: The page's sections: anchor and heading, in order.
SECTIONS: tuple[tuple[str, str], ...] = (
    ("question", "Review question"),
    ("prisma", "Search and selection (PRISMA 2020)"),
    ("agreement", "Screening agreement"),
    ("studies", "Included studies"),
    ("rob", "Risk of bias"),
    ("meta", "Meta-analyses"),
    ("qualitative", "Qualitative synthesis"),
    ("changes", "Changes in the latest update"),
    ("methods", "Methods"),
    ("references", "References"),
    ("settings", "Appendix: settings"),
)
#: What a section says when its results are missing.
MISSING = {
    "prisma": "No PRISMA flow diagram in this review (the screening stage has "
    "not written results/screening/).",
    "agreement": "No screening agreement table in this review.",
    "studies": "No included studies in this review yet.",
    "rob": "No risk-of-bias table in this review.",
    "meta": "No meta-analyses in this review.",
    "qualitative": "No qualitative synthesis in this review.",
    "changes": "No update round in this review yet: this is its first version.",
}
#: Worksheets of tables.xlsx (a table without data is left out).
SHEETS: tuple[str, ...] = (
    "Contents",
    "Summary of findings",
    "Included studies",
    "Effects",
    "Pooled results",
    "RoB 2",
    "ROBINS-I",
    "Barriers",
    "Facilitators",
    "CERQual SoQF",
)
#: Tables of tables.docx (a table without data is left out).
DOCX_TABLES: tuple[str, ...] = (
    "Summary of findings",
    "Characteristics of included studies",
    "Barriers",
    "Facilitators",
    "Summary of qualitative findings (GRADE-CERQual)",
)
#: Summary-of-findings columns (certainty is left for the review team).
SOF_COLUMNS: tuple[str, ...] = (
    "Outcome",
    "Studies (k)",
    "Participants",
    "Effect (95% CI)",
    "I²",
    "Certainty of the evidence (GRADE)",
)

#: Reference list: key, full reference (no links: the page stays offline).
REFERENCES: tuple[tuple[str, str], ...] = (
    (
        "Begg & Mazumdar 1994",
        (
            "Begg CB, Mazumdar M. Operating characteristics of a rank correlation test "
            "for publication bias. Biometrics. 1994;50(4):1088-1101. "
            "doi:10.2307/2533446"
        ),
    ),
    (
        "Borenstein et al. 2009",
        (
            "Borenstein M, Hedges LV, Higgins JPT, Rothstein HR. Introduction to "
            "Meta-Analysis. Chichester: Wiley; 2009."
        ),
    ),
    (
        "CASP 2018",
        (
            "Critical Appraisal Skills Programme. CASP Qualitative Checklist. "
            "Oxford: CASP UK; 2018."
        ),
    ),
    (
        "Duval & Tweedie 2000",
        (
            "Duval S, Tweedie R. Trim and fill: a simple funnel-plot-based method of "
            "testing and adjusting for publication bias in meta-analysis. Biometrics. "
            "2000;56(2):455-463. doi:10.1111/j.0006-341X.2000.00455.x"
        ),
    ),
    (
        "Egger et al. 1997",
        (
            "Egger M, Davey Smith G, Schneider M, Minder C. Bias in meta-analysis "
            "detected by a simple, graphical test. BMJ. 1997;315(7109):629-634. "
            "doi:10.1136/bmj.315.7109.629"
        ),
    ),
    (
        "Hedges 1981",
        (
            "Hedges LV. Distribution theory for Glass's estimator of effect size and "
            "related estimators. Journal of Educational Statistics. 1981;6(2):107-128. "
            "doi:10.3102/10769986006002107"
        ),
    ),
    (
        "Knapp & Hartung 2003",
        (
            "Knapp G, Hartung J. Improved tests for a random effects meta-regression "
            "with a single covariate. Statistics in Medicine. 2003;22(17):2693-2710. "
            "doi:10.1002/sim.1482"
        ),
    ),
    (
        "Lewin et al. 2018",
        (
            "Lewin S, Bohren M, Rashidian A, et al. Applying GRADE-CERQual to "
            "qualitative evidence synthesis findings - paper 2: how to make an overall "
            "CERQual assessment of confidence and create a Summary of Qualitative "
            "Findings table. Implementation Science. 2018;13(Suppl 1):10. "
            "doi:10.1186/s13012-017-0689-2"
        ),
    ),
    (
        "Page et al. 2021",
        (
            "Page MJ, McKenzie JE, Bossuyt PM, et al. The PRISMA 2020 statement: an "
            "updated guideline for reporting systematic reviews. BMJ. 2021;372:n71. "
            "doi:10.1136/bmj.n71"
        ),
    ),
    (
        "Riley et al. 2011",
        (
            "Riley RD, Higgins JPT, Deeks JJ. Interpretation of random effects "
            "meta-analyses. BMJ. 2011;342:d549. doi:10.1136/bmj.d549"
        ),
    ),
    (
        "Rosenthal 1979",
        (
            "Rosenthal R. The file drawer problem and tolerance for null results. "
            "Psychological Bulletin. 1979;86(3):638-641. doi:10.1037/0033-2909.86.3.638"
        ),
    ),
    (
        "Sterne et al. 2016",
        (
            "Sterne JA, Hernán MA, Reeves BC, et al. ROBINS-I: a tool for assessing "
            "risk of bias in non-randomised studies of interventions. BMJ. "
            "2016;355:i4919. doi:10.1136/bmj.i4919"
        ),
    ),
    (
        "Sterne et al. 2019",
        (
            "Sterne JAC, Savović J, Page MJ, et al. RoB 2: a revised tool for "
            "assessing risk of bias in randomised trials. BMJ. 2019;366:l4898. "
            "doi:10.1136/bmj.l4898"
        ),
    ),
    (
        "Viechtbauer 2010",
        (
            "Viechtbauer W. Conducting meta-analyses in R with the metafor package. "
            "Journal of Statistical Software. 2010;36(3):1-48. "
            "doi:10.18637/jss.v036.i03"
        ),
    ),
    (
        "Viechtbauer & Cheung 2010",
        (
            "Viechtbauer W, Cheung MWL. Outlier and influence diagnostics for "
            "meta-analysis. Research Synthesis Methods. 2010;1(2):112-125. "
            "doi:10.1002/jrsm.11"
        ),
    ),
)

REFERENCES = grade_sof.merge_references(REFERENCES, grade_sof.REFERENCES)

#: Packages whose versions the methods paragraph names (distribution, label).
PACKAGES: tuple[tuple[str, str], ...] = (
    ("numpy", "numpy"),
    ("pandas", "pandas"),
    ("scipy", "SciPy"),
    ("statsmodels", "statsmodels"),
    ("PyMARE", "PyMARE"),
    ("matplotlib", "matplotlib"),
)

_ESTIMATORS = {
    "EE": "an equal-effects model",
    "DL": "the DerSimonian-Laird estimator of τ²",
    "REML": "the restricted maximum-likelihood (REML) estimator of τ²",
    "ML": "the maximum-likelihood estimator of τ²",
    "PM": "the Paule-Mandel estimator of τ²",
    "HE": "the Hedges estimator of τ²",
    "SJ": "the Sidik-Jonkman estimator of τ²",
}
_NUMBER_WORDS = (
    "no",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
)
_STAGE_NAMES = {"title_abstract": "Title and abstract", "full_text": "Full text"}
_STUDY_HEADINGS = {
    "design": "Design",
    "country": "Country",
    "programme": "Programme",
    "mentoring_type": "Mentoring type",
    "population": "Population",
    "age_mean": "Mean age (years)",
    "n_total": "Participants (n)",
}
_HUMANISE = ("design", "population", "mentoring_type")


# --------------------------------------------------------------------------
# Small formatting helpers


def _num(value: object) -> float | None:
    """Read a finite float; None for anything missing or not a number."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _f(value: object, digits: int = 2) -> str:
    number = _num(value)
    if number is None:
        return "n/a"
    text = f"{number:.{digits}f}"
    return "0." + "0" * digits if text == "-0." + "0" * digits else text


def _p(value: object) -> str:
    """Write a p value as 'p = 0.42', 'p = 0.047' or 'p < 0.001'."""
    p = _num(value)
    if p is None:
        return "p n/a"
    if p < 0.001:
        return "p < 0.001"
    return f"p = {p:.3f}" if p < 0.1 else f"p = {p:.2f}"


def _pct(value: object) -> str:
    number = _num(value)
    return "n/a" if number is None else f"{number:.0f}%"


def _small(value: object) -> str:
    """Write a variance such as τ² with three decimals, '< 0.001' when tiny."""
    number = _num(value)
    if number is None:
        return "n/a"
    if number == 0:
        return "0"
    if abs(number) < 0.0005:
        return "< 0.001"
    return f"{number:.3f}"


def _tau2(value: object) -> str:
    """'τ² = 0.004', or 'τ² < 0.001' when tiny."""
    text = _small(value)
    return f"τ² {text}" if text.startswith("<") else f"τ² = {text}"


def _count(n: int, one: str, many: str) -> str:
    """'three studies', '13 studies', 'one study'."""
    word = _NUMBER_WORDS[n] if 0 <= n < len(_NUMBER_WORDS) else f"{n:,}"
    return f"{word} {one if n == 1 else many}"


def _n(n: int, one: str, many: str) -> str:
    """'3 studies', '1 study' (digits, for tables and lists)."""
    return f"{n:,} {one if n == 1 else many}"


def _join(items: Sequence[str], last: str = "and") -> str:
    items = [str(i) for i in items if str(i)]
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {last} {items[-1]}"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _in_sentence(label: str) -> str:
    """Write a label inside a sentence: "Quasi-experimental" -> "quasi-experimental".

    A label starting with an acronym ("RCT") is left as it is.
    """
    return label[:1].lower() + label[1:] if label[1:2].islower() else label


def _humanise(value: str) -> str:
    return value.replace("_", " ")


def _heading(column: str) -> str:
    return _STUDY_HEADINGS.get(column, _capital(column.replace("_", " ")))


def _i2_words(i2: float | None) -> str:
    """Rough reading of I² after the Cochrane Handbook (section 10.10.2)."""
    if i2 is None:
        return "not estimable"
    if i2 < 30:
        return "low"
    if i2 < 50:
        return "moderate"
    if i2 < 75:
        return "substantial"
    return "considerable"


def _display(value: object) -> str:
    """Show a CSV cell, long decimals rounded to three places."""
    text = "" if value is None else str(value)
    if re.fullmatch(r"-?\d+\.\d{4,}(e-?\d+)?", text):
        return f"{float(text):.3f}"
    return text


@dataclass(frozen=True)
class Scale:
    """How to show an effect measure.

    Parameters
    ----------
    symbol : str
        Short name in sentences ("g").
    name : str
        Full name ("Hedges' g").
    ratio : bool
        Stored on the log scale and shown exponentiated (OR, RR).
    """

    symbol: str
    name: str
    ratio: bool = False

    def show(self, value: object, digits: int = 2) -> str:
        """Write the value on the scale it is read on."""
        number = _num(value)
        if number is None:
            return "n/a"
        return _f(math.exp(number) if self.ratio else number, digits)

    @property
    def null(self) -> str:
        """Where 'no effect' lies, in words."""
        return "1" if self.ratio else "zero"


MEASURES: dict[str, Scale] = {
    "SMD": Scale("g", "Hedges' g (standardised mean difference)"),
    "MD": Scale("MD", "mean difference"),
    "OR": Scale("OR", "odds ratio", ratio=True),
    "RR": Scale("RR", "risk ratio", ratio=True),
    "RD": Scale("RD", "risk difference"),
}


def scale_of(measure: str) -> Scale:
    """Return the :class:`Scale` of a measure code (SMD, MD, OR, RR, RD, ...)."""
    return MEASURES.get(measure, Scale(measure or "effect", measure or "effect"))


def _interval(scale: Scale, low: object, high: object) -> str:
    return f"{scale.show(low)} to {scale.show(high)}"


# --------------------------------------------------------------------------
# Reading the results


def _read_json(path: Path) -> Any:
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def _data_uri(path: Path) -> str:
    kind = "image/svg+xml" if path.suffix == ".svg" else "image/png"
    return f"data:{kind};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def _image(stem: Path) -> str | None:
    """Embed a figure as a data URI: the SVG if there is one, else the PNG."""
    for suffix in (".svg", ".png"):
        path = stem.with_suffix(suffix)
        if path.is_file():
            return _data_uri(path)
    return None


def _settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """Fill in the schema's defaults of the configuration (without validating)."""
    from evsynth.validation import load_schema

    return with_defaults(dict(config), load_schema("config"))


@dataclass
class Analysis:
    """One meta-analysis: its JSON report and its figures."""

    name: str
    label: str
    report: dict[str, Any] | None
    forest: str | None = None
    funnel: str | None = None
    note: str = ""


@dataclass
class Review:
    """Everything the report shows, read from ``results/`` and the review folder.

    A missing file gives ``None`` (or an empty container) and the report says
    that the section has no results. So does a stage's table without rows
    (effects, risk of bias, themes, CERQual, CASP): the review has not reached
    the stage yet.
    """

    results: Path
    review_dir: Path
    settings: dict[str, Any]
    import_summary: pd.DataFrame | None = None
    dedup_summary: pd.DataFrame | None = None
    dedup_review: pd.DataFrame | None = None
    dedup_decisions: pd.DataFrame | None = None
    prisma_counts: dict[str, Any] | None = None
    prisma_image: str | None = None
    agreement: pd.DataFrame | None = None
    exclusion_reasons: pd.DataFrame | None = None
    reports: pd.DataFrame | None = None
    effects: pd.DataFrame | None = None
    analyses: list[Analysis] = field(default_factory=list)
    rob_overall: pd.DataFrame | None = None
    rob_tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    rob_figures: list[dict[str, str]] = field(default_factory=list)
    barriers: pd.DataFrame | None = None
    facilitators: pd.DataFrame | None = None
    soqf: pd.DataFrame | None = None
    appraisal: pd.DataFrame | None = None
    heatmaps: list[dict[str, str]] = field(default_factory=list)
    changes: dict[str, Any] | None = None
    labels: dict[str, str] = field(default_factory=dict)
    grade: grade_sof.Grade | None = None


def _rows(frame: pd.DataFrame | None) -> pd.DataFrame | None:
    """Return the table, or None if it is missing or empty (a stage not reached)."""
    return frame if frame is not None and len(frame) else None


def _for_readers(frame: pd.DataFrame | None) -> pd.DataFrame | None:
    """Drop the study ids a stage's table keeps beside its study labels."""
    if frame is None:
        return None
    return frame.drop(columns=["study_id", "study_ids"], errors="ignore")


def load_review(
    results_dir: str | Path, config: Mapping[str, Any], review_dir: str | Path
) -> Review:
    """Read every result the report uses.

    Parameters
    ----------
    results_dir : str or Path
        The workflow's ``results/`` folder.
    config : dict
        The configuration (``config/config.yaml``); missing keys take the
        schema's defaults.
    review_dir : str or Path
        The review folder (for studies.csv and the dedup verdicts).

    Returns
    -------
    Review
        The results; what is missing is None or empty.
    """
    from evsynth.rob.model import TOOLS

    results = Path(results_dir)
    review = Path(review_dir)
    settings = _settings(config)
    out = Review(results=results, review_dir=review, settings=settings)
    out.labels = read_study_labels(results / "studies" / "labels.csv")

    records = results / "records"
    out.import_summary = read_optional_csv(records / "import_summary.csv")
    out.dedup_summary = read_optional_csv(records / "dedup_summary.csv")
    out.dedup_review = read_optional_csv(records / "dedup_review.csv")
    decisions = settings.get("records", {}).get("dedup_decisions")
    if decisions:
        out.dedup_decisions = read_optional_csv(review / decisions)

    screening = results / "screening"
    out.prisma_counts = _read_json(screening / "prisma_counts.json")
    out.prisma_image = _image(screening / "prisma")
    out.agreement = read_optional_csv(screening / "agreement.csv")
    out.exclusion_reasons = read_optional_csv(screening / "exclusion_reasons.csv")
    studies_file = settings.get("screening", {}).get("studies", "studies.csv")
    if (records / "unique.csv").is_file() or (review / studies_file).is_file():
        out.reports = included_reports(results, review, studies_file)

    effects_path = results / "effects" / "effects.csv"
    if effects_path.is_file():
        effects = pd.read_csv(effects_path)
        for column in ("study_id", "domain", "measure", "outcome"):
            if column in effects.columns:
                effects[column] = effects[column].astype(str)
        out.effects = _rows(effects)

    meta = results / "meta"
    summary = read_optional_csv(meta / "summary.csv")
    names: list[tuple[str, str, str]] = []
    if summary is not None:
        names += [
            (r["analysis"], r.get("label", ""), r.get("note", ""))
            for r in summary.to_dict("records")
        ]
    configured = settings.get("meta", {}).get("analyses", []) or []
    for spec in configured if meta.is_dir() else []:
        name = str(spec.get("name", ""))
        if name and name not in {n for n, _, _ in names}:
            names.append((name, str(spec.get("label", "")), ""))
    for name, label, note in names:
        report = _read_json(meta / f"{name}.json")
        label = (report or {}).get("label") or label or name
        note = (report or {}).get("skipped") or note
        if report is None and not note:
            note = f"no results: results/meta/{name}.json is missing"
        out.analyses.append(
            Analysis(
                name=name,
                label=str(label),
                report=report,
                forest=_image(meta / f"forest_{name}"),
                funnel=_image(meta / f"funnel_{name}"),
                note=str(note),
            )
        )

    out.grade = grade_sof.read_grade(
        results, [a.name for a in out.analyses if "pooled" in (a.report or {})]
    )

    rob = results / "rob"
    out.rob_overall = _rows(read_optional_csv(rob / "overall.csv"))
    for tool, spec in TOOLS.items():
        table = read_optional_csv(rob / f"{tool}_table.csv")
        if table is None or not len(table):
            continue
        out.rob_tables[tool] = _for_readers(table)
        for kind, title in (
            ("traffic_light", f"{spec.name}: judgements by study and domain"),
            ("summary", f"{spec.name}: judgements by domain"),
        ):
            uri = _image(rob / f"{kind}_{tool}")
            if uri:
                out.rob_figures.append({"title": title, "uri": uri, "alt": title})

    qual = results / "qualitative"
    out.barriers = _for_readers(_rows(read_optional_csv(qual / "barriers.csv")))
    out.facilitators = _for_readers(_rows(read_optional_csv(qual / "facilitators.csv")))
    out.soqf = _for_readers(_rows(read_optional_csv(qual / "cerqual_soqf.csv")))
    out.appraisal = _rows(read_optional_csv(qual / "casp_appraisal.csv"))
    for stem, title in (
        ("heatmap_themes_by_study", "Themes by study: number of coded excerpts"),
        ("heatmap_themes_by_perspective", "Themes by perspective: number of studies"),
    ):
        uri = _image(qual / stem)
        if uri:
            out.heatmaps.append({"title": title, "uri": uri, "alt": title})

    out.changes = _read_changes(results / "changes")
    return out


def _read_changes(folder: Path) -> dict[str, Any] | None:
    """Read the change report of the latest update (results/changes/), if any.

    changes.md is shown as it is written (with its images embedded); without
    it, the pooled estimates before and after, the plot and summary.json.
    """
    if not folder.is_dir():
        return None
    changes: dict[str, Any] = {
        "blocks": [],
        "summary": None,
        "table": None,
        "figure": None,
    }
    markdown = folder / "changes.md"
    if markdown.is_file():
        changes["blocks"] = _markdown_blocks(
            markdown.read_text(encoding="utf-8"), folder
        )
    if not any(b["kind"] == "img" for b in changes["blocks"]):
        changes["figure"] = _image(folder / "estimates")
    if not changes["blocks"]:
        summary = _read_json(folder / "summary.json")
        if summary is not None:
            changes["summary"] = _table(
                ["Item", "Value"],
                [[key, value] for key, value in _flatten(summary)],
                caption="Summary of the changes (results/changes/summary.json)",
            )
        pooled = read_optional_csv(folder / "pooled_changes.csv")
        if pooled is not None:
            changes["table"] = _frame_table(
                pooled,
                caption="Pooled estimates before and after the update "
                "(results/changes/pooled_changes.csv)",
                small=True,
            )
    if not any(changes.values()):
        return None
    return changes


_MD_IMAGE = re.compile(r"^!\[([^\]]*)\]\(([^)\s]+)\)$")
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")


def _markdown_blocks(text: str, folder: Path) -> list[dict[str, Any]]:
    """Parse a little Markdown (headings, lists, tables, images, paragraphs).

    The blocks hold plain text, which the template escapes; an image is
    embedded only if it is a file in ``folder`` (never fetched from elsewhere).
    """
    blocks: list[dict[str, Any]] = []
    paragraph: list[str] = []

    def clean(line: str) -> str:
        line = _MD_LINK.sub(lambda m: m.group(1), line)
        return re.sub(r"(\*\*|__|`)", "", line).strip()

    def flush() -> None:
        if paragraph:
            blocks.append({"kind": "p", "text": " ".join(paragraph)})
            paragraph.clear()

    for raw in text.splitlines():
        stripped = raw.strip()
        if not stripped:
            flush()
            continue
        image = _MD_IMAGE.match(stripped)
        if stripped.startswith("#"):
            flush()
            level = min(5, 2 + len(stripped) - len(stripped.lstrip("#")))
            blocks.append(
                {"kind": "h", "level": level, "text": clean(stripped.lstrip("#"))}
            )
        elif image:
            flush()
            name = image.group(2)
            local = folder / name
            if (
                ":" not in name
                and not name.startswith(("/", "\\"))
                and ".." not in Path(name).parts
                and local.is_file()
                and local.suffix in (".png", ".svg")
            ):
                svg = local.with_suffix(".svg")
                uri = _data_uri(svg if svg.is_file() else local)
                blocks.append({"kind": "img", "uri": uri, "alt": image.group(1)})
            else:
                blocks.append({"kind": "p", "text": clean(image.group(1))})
        elif re.match(r"^[-*+] ", stripped):
            flush()
            if not blocks or blocks[-1]["kind"] != "ul":
                blocks.append({"kind": "ul", "items": []})
            blocks[-1]["items"].append(clean(stripped[2:]))
        elif stripped.startswith("|"):
            flush()
            cells = [clean(c) for c in stripped.strip("|").split("|")]
            if all(re.fullmatch(r":?-{2,}:?", c.replace(" ", "")) for c in cells):
                continue
            if not blocks or blocks[-1]["kind"] != "table":
                blocks.append({"kind": "table", "table": _table(cells, [], small=True)})
            else:
                blocks[-1]["table"]["rows"].append(cells)
        else:
            paragraph.append(clean(stripped))
    flush()
    for block in blocks:
        if block["kind"] == "table":
            table = block["table"]
            table["numeric"] = [
                bool(table["rows"])
                and all(
                    re.fullmatch(r"[-+]?[\d,.]+%?", row[j] if j < len(row) else "")
                    for row in table["rows"]
                )
                for j in range(len(table["headers"]))
            ]
    return blocks


def _flatten(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    """Nested mappings as sorted ('a.b', 'text') pairs."""
    if isinstance(value, Mapping):
        pairs: list[tuple[str, str]] = []
        for key in sorted(value, key=str):
            name = f"{prefix}.{key}" if prefix else str(key)
            pairs += _flatten(value[key], name)
        return pairs
    return [(prefix, _value_text(value))]


def _value_text(value: Any) -> str:
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={_value_text(value[k])}" for k in sorted(value, key=str))
    if isinstance(value, list | tuple):
        parts = [_value_text(v) for v in value]
        if any(isinstance(v, Mapping) for v in value):
            return "; ".join(parts)
        return "[" + ", ".join(parts) + "]"
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _display(repr(value))
    return str(value)


# --------------------------------------------------------------------------
# Tables for the template: {"headers", "rows", "numeric", "caption"}


def _table(
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    caption: str = "",
    numeric: Sequence[bool] | None = None,
    small: bool = False,
) -> dict[str, Any]:
    return {
        "headers": [str(h) for h in headers],
        "rows": [list(r) for r in rows],
        "numeric": list(numeric) if numeric else [False] * len(headers),
        "caption": caption,
        "small": small,
    }


def _frame_table(
    frame: pd.DataFrame,
    *,
    caption: str = "",
    headings: Mapping[str, str] | None = None,
    split: Mapping[str, str] | None = None,
    small: bool = False,
) -> dict[str, Any]:
    """Show a CSV table; ``split`` breaks a column's cells into lines."""
    headings = dict(headings or {})
    split = dict(split or {})
    rows = []
    for record in frame.to_dict("records"):
        row: list[Any] = []
        for column in frame.columns:
            text = _display(record[column])
            if column in split and split[column] in text:
                row.append([part.strip() for part in text.split(split[column])])
            else:
                row.append(text)
        rows.append(row)
    numeric = [
        bool(len(frame))
        and all(_num(v) is not None or v == "" for v in frame[c])
        and any(v != "" for v in frame[c])
        for c in frame.columns
    ]
    return _table(
        [headings.get(str(c), str(c)) for c in frame.columns],
        rows,
        caption=caption,
        numeric=numeric,
        small=small,
    )


# --------------------------------------------------------------------------
# Sections


def _question(review: Review) -> dict[str, Any]:
    settings = review.settings
    question = str(settings.get("review_question", "") or "").strip()
    parts = []
    labels = [a.label for a in review.analyses if a.report and "pooled" in a.report]
    if labels:
        parts.append(
            "the effects on "
            + _join([label.lower() for label in labels])
            + " (meta-analyses)"
        )
    if review.barriers is not None or review.soqf is not None:
        parts.append(
            "the barriers and facilitators reported in qualitative studies "
            "(qualitative evidence synthesis)"
        )
    scope = ""
    if parts:
        scope = "This report synthesises " + _join(parts) + "."
    return {"question": question, "scope": scope}


def _settings_table(settings: Mapping[str, Any]) -> dict[str, Any]:
    rows = []
    for key, text in _flatten(settings):
        if key == "meta.analyses" or key.startswith("meta.analyses."):
            continue
        rows.append([key, text])
    analyses = settings.get("meta", {}).get("analyses", []) or []
    for i, spec in enumerate(analyses, start=1):
        rows.append([f"meta.analyses[{i}]", _value_text(spec)])
    if not analyses:
        rows.append(["meta.analyses", "[]"])
    rows.sort(key=lambda r: r[0])
    return _table(["Setting", "Value"], rows, small=True)


#: Records still in progress, in workflow order: (state, one, many).
_OPEN_STATES: tuple[tuple[str, str, str], ...] = (
    (
        "pending_title_abstract",
        "record awaiting title/abstract screening",
        "records awaiting title/abstract screening",
    ),
    (
        "conflict_title_abstract",
        "title/abstract conflict to resolve",
        "title/abstract conflicts to resolve",
    ),
    ("awaiting_retrieval", "report awaiting retrieval", "reports awaiting retrieval"),
    (
        "pending_full_text",
        "report awaiting full-text screening",
        "reports awaiting full-text screening",
    ),
    (
        "conflict_full_text",
        "full-text conflict to resolve",
        "full-text conflicts to resolve",
    ),
)


def _were(n: int) -> str:
    return "was" if n == 1 else "were"


def _prisma_paragraphs(counts: Mapping[str, Any]) -> list[str]:
    """Write the PRISMA flow in words, saying only what the review has reached."""

    def n(key: str) -> int:
        return int(counts.get(key, 0) or 0)

    paragraphs = []
    n_db = n("database_results") + n("register_results")
    other = {
        "websites": n("website_results"),
        "organisations": n("organisation_results"),
        "citation searching": n("citations_results"),
    }
    n_other = sum(other.values())
    databases = len(counts.get("databases", []) or [])
    registers = len(counts.get("registers", []) or [])
    searched = _join(
        [
            _n(databases, "database", "databases") if databases else "",
            _n(registers, "register", "registers") if registers else "",
        ]
    )
    total = int(counts.get("n_imported", n_db + n_other) or 0)
    parts = []
    if n_db or searched:
        parts.append(f"{n_db:,} from {searched or 'databases and registers'}")
    if n_other:
        detail = _join([f"{v:,} from {k}" for k, v in other.items() if v])
        parts.append(f"{n_other:,} via other methods ({detail})")
    if len(parts) == 1 and n_db and searched:
        text = f"The searches of {searched} found {_n(total, 'record', 'records')}."
    elif parts:
        text = f"The searches found {_n(total, 'record', 'records')}: {_join(parts)}."
    else:
        text = f"The searches found {_n(total, 'record', 'records')}."
    paragraphs.append(text)

    if n_db or n_other:
        paragraphs.append(_duplicates_text(counts, n_db, n_other))

    screened = n("records_screened")
    excluded_db = sum(int(e["n"]) for e in counts.get("dbr_excluded", []) or [])
    excluded_other = sum(int(e["n"]) for e in counts.get("other_excluded", []) or [])
    sentences = []
    if screened:
        excluded = n("records_excluded")
        text = (
            f"Of the {_n(screened, 'record', 'records')} screened by title and "
            f"abstract, {excluded:,} {_were(excluded)} excluded"
        )
        sought = n("dbr_sought_reports")
        if sought:
            text += "; " + _retrieval_text(
                sought,
                n("dbr_notretrieved_reports"),
                n("dbr_assessed"),
                excluded_db,
                " at full text",
            )
        sentences.append(text + ".")
    if n("other_sought_reports"):
        sentences.append(
            "Via other methods "
            + _retrieval_text(
                n("other_sought_reports"),
                n("other_notretrieved_reports"),
                n("other_assessed"),
                excluded_other,
                "",
            )
            + "."
        )
    if sentences:
        paragraphs.append(" ".join(sentences))

    states = counts.get("states", {}) or {}
    open_states = [
        _n(int(states.get(state, 0) or 0), one, many)
        for state, one, many in _OPEN_STATES
        if int(states.get(state, 0) or 0)
    ]
    studies, reports = n("total_studies"), n("total_reports")
    if not studies:
        paragraphs.append("No study has been included yet.")
    elif open_states:
        paragraphs.append(
            f"So far {_n(studies, 'study', 'studies')} "
            f"({_n(reports, 'report', 'reports')}) "
            + ("has" if studies == 1 else "have")
            + " been included."
        )
    else:
        paragraphs.append(
            f"In total {_n(studies, 'study', 'studies')} "
            f"({_n(reports, 'report', 'reports')}) {_were(studies)} included."
        )
    if open_states:
        paragraphs.append("Still open: " + _join(open_states) + ".")
    return paragraphs


def _duplicates_text(counts: Mapping[str, Any], n_db: int, n_other: int) -> str:
    """Say how many duplicates each PRISMA column removed, as the diagram does.

    Each column's duplicates are those of its own searches
    (:func:`evsynth.screening.prisma.removed_counts`), so that identified −
    duplicates = the column's unique records, as a reader recomputes.
    Counts written before the columns were split (no ``other_removed_dbr``)
    give the overall number only.
    """

    def n(key: str) -> int:
        return int(counts.get(key, 0) or 0)

    unique = counts.get("unique_records", {}) or {}
    unique_db = int(unique.get("databases_registers", 0) or 0)
    unique_other = int(unique.get("other_methods", 0) or 0)
    n_unique = n("n_unique")
    if "other_removed_dbr" not in counts:
        duplicates = n("duplicates")
        if duplicates:
            text = (
                f"Removing {_n(duplicates, 'duplicate', 'duplicates')} left "
                f"{_n(n_unique, 'unique record', 'unique records')}"
            )
        else:
            text = "No duplicates were found: " + _n(
                n_unique, "unique record", "unique records"
            )
        if unique_other:
            text += (
                f" ({unique_db:,} from databases and registers, {unique_other:,} "
                "via other methods)"
            )
        return text + "."
    removed = n("duplicates") + n("excluded_automatic") + n("excluded_other")
    db_source = "databases and registers" if n("register_results") else "databases"
    if n_db or not n_other:
        detail = _join(
            [
                _n(n("duplicates"), "duplicate", "duplicates"),
                _n(n("excluded_automatic"), "record", "records")
                + " marked as ineligible by automation tools"
                if n("excluded_automatic")
                else "",
                _n(n("excluded_other"), "record", "records")
                + " removed for other reasons"
                if n("excluded_other")
                else "",
            ]
        )
        text = (
            f"Removing {detail} from the {_n(n_db, 'record', 'records')} found "
            f"in {db_source} left {_n(unique_db, 'record', 'records')} to screen"
            if removed
            else f"None of the {_n(n_db, 'record', 'records')} found in "
            f"{db_source} was a duplicate: {_n(unique_db, 'record', 'records')} "
            "to screen"
        )
        sentences = [text]
    else:
        sentences = []
    if n_other:
        of_db, within = n("other_removed_dbr"), n("other_removed_within")
        parts = []
        if of_db:
            parts.append(
                _n(of_db, "was a duplicate of a record", "were duplicates of records")
                + f" from {db_source}"
            )
        if within:
            parts.append(
                _n(within, "was a duplicate of another", "were duplicates of other")
                + " records found via other methods"
                if within > 1
                else "1 was a duplicate of another record found via other methods"
            )
        left = f"leaving {_n(unique_other, 'report', 'reports')} to seek"
        found = f"the {_n(n_other, 'record', 'records')} found via other methods"
        if parts:
            sentences.append(f"of {found}, {_join(parts)}, {left}")
        else:
            sentences.append(f"none of {found} was a duplicate, {left}")
    text = _capital("; ".join(sentences)) + "."
    if n_other and n_db:
        total = removed + n("other_removed_dbr") + n("other_removed_within")
        text += (
            f" In all, {_n(total, 'record was', 'records were')} removed and "
            f"{_n(n_unique, 'unique record remains', 'unique records remain')}."
        )
    return text


def _retrieval_text(
    sought: int, not_retrieved: int, assessed: int, excluded: int, where: str
) -> str:
    """'57 reports were sought (2 not retrieved) and 55 assessed at full text, ...'."""
    text = f"{_n(sought, 'report', 'reports')} {_were(sought)} sought"
    if not_retrieved:
        text += f" ({not_retrieved:,} not retrieved)"
    if assessed:
        text += (
            f" and {assessed:,} assessed{where}, of which {excluded:,} "
            f"{_were(excluded)} excluded"
        )
    else:
        text += f", none assessed{where} yet"
    return text


def _prisma(review: Review) -> dict[str, Any]:
    counts = review.prisma_counts or {}
    paragraphs = _prisma_paragraphs(counts) if counts else []
    imports = None
    if review.import_summary is not None:
        frame = review.import_summary
        columns = [
            c
            for c in (
                "file",
                "database",
                "kind",
                "date_searched",
                "update",
                "format",
                "n_parsed",
                "n_reported",
                "count_differs",
                "n_issues",
            )
            if c in frame.columns
        ]
        imports = _frame_table(
            frame[columns],
            caption="Search exports imported (results/records/import_summary.csv)",
            headings={
                "file": "File",
                "database": "Source",
                "kind": "Kind",
                "date_searched": "Searched",
                "update": "Update",
                "format": "Format",
                "n_parsed": "Records read",
                "n_reported": "Records reported",
                "count_differs": "Counts differ",
                "n_issues": "Import issues",
            },
        )
    dedup = None
    if review.dedup_summary is not None:
        dedup = _frame_table(
            review.dedup_summary,
            caption="Deduplication by search update (results/records/"
            "dedup_summary.csv)",
            headings={
                "update": "Update",
                "n_records": "Records",
                "n_duplicates_within": "Duplicates within the update",
                "n_duplicates_of_earlier": "Duplicates of earlier records",
                "n_unique_new": "New unique records",
            },
        )
    available = bool(review.prisma_image or counts or imports or dedup)
    return {
        "available": available,
        "image": review.prisma_image,
        "paragraphs": paragraphs,
        "imports": imports,
        "dedup": dedup,
    }


def _ci(row: Mapping[str, str], stat: str) -> str:
    """'0.82 (0.71 to 0.92)'; 'not estimable' without a value."""
    if _num(row.get(stat)) is None:
        return "not estimable"
    text = _f(row.get(stat))
    if _num(row.get(stat + "_low")) is not None:
        text += f" ({_f(row.get(stat + '_low'))} to {_f(row.get(stat + '_high'))})"
    return text


def _statistic(name: str, row: Mapping[str, str], stat: str) -> str:
    """Write "Cohen's κ = 0.82 (0.71 to 0.92)", or "Cohen's κ not estimable"."""
    text = _ci(row, stat)
    return f"{name} {text}" if text == "not estimable" else f"{name} = {text}"


def _has_exclusions(reasons: pd.DataFrame | None) -> bool:
    """Whether the exclusion-reasons table counts any exclusion yet."""
    if reasons is None or not len(reasons):
        return False
    if "total" not in reasons.columns:
        return True
    return any((_num(v) or 0) > 0 for v in reasons["total"])


def _agreement(review: Review) -> dict[str, Any]:
    frame = review.agreement
    reasons = review.exclusion_reasons
    out: dict[str, Any] = {
        "available": False,
        "paragraphs": [],
        "table": None,
        "reasons": None,
    }
    if frame is not None and len(frame):
        out["available"] = True
        rows = []
        for row in frame.to_dict("records"):
            stage = _STAGE_NAMES.get(row["stage"], _humanise(row["stage"]))
            scale = (
                "include / exclude"
                if row.get("scale") == "binary"
                else "include / exclusion reason"
            )
            pair = f"{row.get('reviewer_a', '')} and {row.get('reviewer_b', '')}"
            decided = int(_num(row.get("n")) or 0)
            if decided:
                rows.append(
                    [
                        stage,
                        scale,
                        pair,
                        row.get("n", ""),
                        _ci(row, "observed"),
                        _ci(row, "kappa"),
                        _ci(row, "pabak"),
                        _ci(row, "ac1"),
                    ]
                )
            if row.get("scale") != "binary":
                continue
            if not decided:
                out["paragraphs"].append(
                    f"{stage}: no record has been decided by both {pair} yet, so "
                    "their agreement cannot be estimated."
                )
                continue
            observed = _num(row.get("observed"))
            text = (
                f"{stage}: {pair} decided {_n(decided, 'record', 'records')} "
                "independently"
            )
            if observed is not None:
                text += f" and agreed on {_pct(100 * observed)} of them"
            out["paragraphs"].append(
                text
                + " ("
                + "; ".join(
                    _statistic(name, row, stat)
                    for name, stat in (
                        ("Cohen's κ", "kappa"),
                        ("PABAK", "pabak"),
                        ("Gwet's AC1", "ac1"),
                    )
                )
                + "; 95% confidence intervals)."
            )
        if rows:
            out["table"] = _table(
                [
                    "Stage",
                    "Decision",
                    "Reviewers",
                    "Records (n)",
                    "Observed agreement",
                    "Cohen's κ",
                    "PABAK",
                    "Gwet's AC1",
                ],
                rows,
                caption="Agreement between reviewers, with 95% confidence intervals "
                "(results/screening/agreement.csv)",
                numeric=[False, False, False, True, True, True, True, True],
            )
    if _has_exclusions(reasons):
        assert reasons is not None
        out["available"] = True
        headings = {
            "stage": "Stage",
            "reason": "Reason",
            "databases_registers": "Databases and registers",
            "other_methods": "Other methods",
            "total": "Total",
        }
        shown = reasons.copy()
        if {"stage", "total"} <= set(shown.columns):
            # a stage without any exclusion yet is left out
            totals = [_num(v) or 0 for v in shown["total"]]
            reached = {st for st, n in zip(shown["stage"], totals, strict=True) if n}
            shown = shown[[st in reached for st in shown["stage"]]]
        if "stage" in shown.columns:
            shown["stage"] = [_STAGE_NAMES.get(s, s) for s in shown["stage"]]
        out["reasons"] = _frame_table(
            shown,
            caption="Exclusion reasons (results/screening/exclusion_reasons.csv)",
            headings=headings,
        )
    return out


def _first_author(authors: str, year: str) -> str:
    names = [a.strip() for a in str(authors).split(";") if a.strip()]
    surnames = [n.split(",")[0].strip() for n in names]
    if not surnames:
        who = "Anonymous"
    elif len(surnames) == 1:
        who = surnames[0]
    elif len(surnames) == 2:
        who = f"{surnames[0]} & {surnames[1]}"
    else:
        who = f"{surnames[0]} et al."
    return f"{who} ({year})" if year else who


def _study_frame(review: Review) -> pd.DataFrame | None:
    """One row per included study: main report, characteristics, RoB, analyses."""
    from evsynth.rob.model import TOOLS

    reports = review.reports
    if reports is None or not len(reports):
        return None
    skip = {"study_id", "role", "record_id", "authors", "year", "title", "journal"}
    characteristics = [
        c
        for c in reports.columns
        if c not in skip
        and c not in {"type", "journal_abbrev", "volume", "issue", "pages", "doi"}
        and c not in {"pmid", "isbn", "issn", "accession", "language", "url"}
        and any(str(v) for v in reports[c])
    ]
    rob: dict[str, list[str]] = {}
    if review.rob_overall is not None:
        for row in review.rob_overall.to_dict("records"):
            spec = TOOLS.get(row.get("tool", ""))
            label = spec.labels.get(row["overall"], row["overall"]) if spec else ""
            name = spec.name if spec else row.get("tool", "")
            rob.setdefault(row["study_id"], []).append(f"{label} ({name})")
    analyses: dict[str, list[str]] = {}
    for analysis in review.analyses:
        for study in (analysis.report or {}).get("studies", []) or []:
            analyses.setdefault(str(study.get("study_id")), []).append(analysis.label)
    values = value_labels((review.settings.get("labels") or {}).get("values"))
    rows = []
    for study, group in reports.groupby("study_id", sort=False):
        main = group[group["role"] == "main"]
        first = (main if len(main) else group).iloc[0]
        row: dict[str, Any] = {
            "Study": label_of(review.labels, study),
            "Main report": _first_author(first["authors"], first["year"]),
            "Title": first["title"],
            "Source": display_journal(first["journal"]),
            "Reports (n)": len(group),
        }
        for column in characteristics:
            value = str(first[column])
            row[_heading(column)] = (
                value_label(values, column, value) if column in _HUMANISE else value
            )
        row["Risk of bias"] = "; ".join(rob.get(str(study), []))
        row["Meta-analyses"] = "; ".join(analyses.get(str(study), []))
        rows.append(row)
    rows.sort(key=lambda r: str(r["Study"]).casefold())  # by author, as journals
    frame = pd.DataFrame(rows, dtype=object)
    for column in ("Risk of bias", "Meta-analyses"):
        if not any(frame[column]):
            frame = frame.drop(columns=column)
    return frame


def _studies(review: Review, frame: pd.DataFrame | None) -> dict[str, Any]:
    if frame is None:
        return {"available": False}
    paragraphs = []
    n_reports = int(frame["Reports (n)"].sum())
    text = (
        f"{_capital(_count(len(frame), 'study', 'studies'))} "
        f"({_n(n_reports, 'report', 'reports')}) "
        + ("is" if len(frame) == 1 else "are")
        + " included."
    )
    if "Design" in frame.columns:
        designs = frame["Design"].replace("", "design not given").value_counts()
        parts = [
            f"{n} {_in_sentence(design)}"
            for design, n in sorted(designs.items(), key=lambda kv: (-kv[1], kv[0]))
        ]
        text += " By design: " + _join(parts) + "."
    paragraphs.append(text)
    rows = []
    for record in frame.to_dict("records"):
        row = []
        for column in frame.columns:
            value = record[column]
            if column == "Main report":
                row.append([str(value), str(record["Title"]), str(record["Source"])])
            elif column in ("Title", "Source"):
                continue
            else:
                row.append(str(value))
        rows.append(row)
    headers = [c for c in frame.columns if c not in ("Title", "Source")]
    table = _table(
        headers,
        rows,
        caption="Included studies (the review's studies.csv with "
        "results/records/unique.csv)",
        numeric=[c in ("Reports (n)", "Participants (n)") for c in headers],
        small=True,
    )
    return {"available": True, "paragraphs": paragraphs, "table": table}


def _rob(review: Review) -> dict[str, Any]:
    from evsynth.rob.model import TOOLS

    if review.rob_overall is None and not review.rob_tables:
        return {"available": False}
    paragraphs = []
    if review.rob_overall is not None:
        for tool, spec in TOOLS.items():
            rows = review.rob_overall[review.rob_overall["tool"] == tool]
            if not len(rows):
                continue
            counts = rows["overall"].value_counts()
            parts = [
                f"{int(counts[level])} {spec.labels[level].lower()}"
                for level in spec.levels
                if level in counts
            ]
            paragraphs.append(
                f"{spec.name} ({spec.design}) was applied to "
                f"{_n(len(rows), 'study', 'studies')}; overall judgements: "
                f"{_join(parts)}."
            )
    tables = []
    for tool, frame in review.rob_tables.items():
        tables.append(
            _frame_table(
                frame,
                caption=f"{TOOLS[tool].name} judgements (results/rob/{tool}_table.csv)",
                small=True,
            )
        )
    return {
        "available": True,
        "paragraphs": paragraphs,
        "figures": review.rob_figures,
        "tables": tables,
    }


# --------------------------------------------------------------------------
# Meta-analyses in words


def _pooled_sentence(report: Mapping[str, Any], scale: Scale, level: str) -> str:
    pooled = report["pooled"]
    k = int(pooled.get("k", report.get("k", 0)))
    text = (
        f"Across {_count(k, 'study', 'studies')} the pooled effect was "
        f"{scale.symbol} = {scale.show(pooled.get('estimate'))} ({level}% CI "
        f"{_interval(scale, pooled.get('ci_lb'), pooled.get('ci_ub'))}; "
        f"{_p(pooled.get('pval'))}"
    )
    if _num(pooled.get("pi_lb")) is not None:
        text += (
            f"; prediction interval "
            f"{_interval(scale, pooled.get('pi_lb'), pooled.get('pi_ub'))}"
        )
    text += ")."
    low, high = _num(pooled.get("ci_lb")), _num(pooled.get("ci_ub"))
    if low is not None and high is not None:
        if low > 0:
            text += (
                f" The confidence interval lies above {scale.null}: the effect "
                "favours the intervention."
            )
        elif high < 0:
            text += (
                f" The confidence interval lies below {scale.null}: the effect "
                "favours the comparison."
            )
        else:
            text += (
                f" The confidence interval includes {scale.null} (no effect), so "
                "the direction of the effect is uncertain."
            )
    pi_low, pi_high = _num(pooled.get("pi_lb")), _num(pooled.get("pi_ub"))
    if pi_low is not None and pi_high is not None:
        if pi_low > 0 or pi_high < 0:
            text += (
                f" The prediction interval also excludes {scale.null}: a new "
                "study like these would be expected to find an effect in the "
                "same direction."
            )
        else:
            text += (
                f" The prediction interval includes {scale.null}: in a new setting "
                "like these the effect could be absent."
            )
    n_rows = int(report.get("n_rows", k) or k)
    if n_rows > k:
        rho = (report.get("model") or {}).get("within_study_rho")
        text += (
            f" Studies reporting several outcomes contributed their mean effect "
            f"({n_rows} effect sizes in all; correlation between outcomes "
            f"assumed {_f(rho, 1)})."
        )
    left_out = report.get("left_out") or []
    if left_out:
        items = [
            f"{r.get('study_id', '')} ({r.get('outcome', '')}, "
            f"{r.get('timepoint', '')}): {r.get('reason', '')}"
            for r in left_out
        ]
        text += (
            f" {_capital(_count(len(items), 'row was', 'rows were'))} left out: "
            + "; ".join(items)
            + "."
        )
    return text


def _heterogeneity_sentence(report: Mapping[str, Any], level: str) -> str:
    pooled = report["pooled"]
    k = int(pooled.get("k", report.get("k", 0)))
    i2 = _num(pooled.get("I2"))
    if k < 2:
        return "Heterogeneity cannot be estimated from one study."
    parts = [f"I² = {_pct(i2)}", _tau2(pooled.get("tau2"))]
    if _num(pooled.get("tau2_ci_lb")) is not None:
        parts[-1] += (
            f" ({level}% CI {_small(pooled.get('tau2_ci_lb'))} to "
            f"{_small(pooled.get('tau2_ci_ub'))})"
        )
    parts.append(f"Q = {_f(pooled.get('Q'))} on {k - 1} df, {_p(pooled.get('Q_p'))}")
    text = f"Heterogeneity was {_i2_words(i2)} ({'; '.join(parts)})."
    if k < 5:
        text += (
            f" With only {_count(k, 'study', 'studies')} these estimates are imprecise."
        )
    return text


def _group_text(name: str, fit: Mapping[str, Any], scale: Scale) -> str:
    return (
        f"{name} {scale.show(fit.get('estimate'))} "
        f"({_interval(scale, fit.get('ci_lb'), fit.get('ci_ub'))}; "
        f"k = {fit.get('k', '?')})"
    )


def _test_text(test: Mapping[str, Any]) -> str:
    if _num(test.get("df2")) is not None:
        return (
            f"F({_f(test.get('df'), 0)}, {_f(test.get('df2'), 0)}) = "
            f"{_f(test.get('QM'))}, {_p(test.get('p'))}"
        )
    return (
        f"QM = {_f(test.get('QM'))} on {_f(test.get('df'), 0)} df, {_p(test.get('p'))}"
    )


def _moderator_sentences(
    report: Mapping[str, Any], scale: Scale, model_test: str
) -> list[str]:
    sentences = []
    for column, sub in sorted((report.get("subgroups") or {}).items()):
        label = _humanise(column)
        if "groups" not in sub:
            sentences.append(
                f"The subgroup analysis by {label} was not run: "
                f"{sub.get('skipped', 'no groups')}."
            )
            continue
        groups = sub.get("groups") or {}
        text = f"By {label}: " + "; ".join(
            _group_text(name, groups[name], scale) for name in sorted(groups)
        )
        text += "."
        common = sub.get("between_common_tau2") or {}
        separate = sub.get("between_separate_tau2") or {}
        p_values = []
        if common:
            text += (
                " The test for subgroup differences (mixed-effects model with a "
                f"common τ²) gave {_test_text(common)}"
            )
            p_values.append(_num(common.get("p")))
        if separate:
            text += (
                "; allowing a separate τ² in each subgroup (Q test of the "
                "subgroup estimates with their z-based standard errors), "
                f"Q = {_f(separate.get('Q'))} on {_f(separate.get('df'), 0)} df, "
                f"{_p(separate.get('p'))}"
            )
            p_values.append(_num(separate.get("p")))
        if common or separate:
            text += "."
        known = [p for p in p_values if p is not None]
        if known and all(p < 0.05 for p in known):
            text += f" The effect appears to differ by {label}."
        elif known and all(p >= 0.05 for p in known):
            text += f" There is no clear evidence that the effect differs by {label}."
        elif known:
            text += " The two tests disagree, so the evidence of a difference is weak."
        skipped = sub.get("skipped") or []
        if skipped:
            text += " Too few studies to fit: " + _join([str(s) for s in skipped]) + "."
        sentences.append(text)
    for column, fit in sorted((report.get("metareg") or {}).items()):
        label = _humanise(column)
        if "coef" not in fit:
            sentences.append(
                f"The meta-regression on {label} was not run: "
                f"{fit.get('skipped', 'no data')}."
            )
            continue
        knha = model_test == "knha" and isinstance(fit.get("knha"), Mapping)
        source = fit["knha"] if knha else fit
        coef = list(source.get("coef") or [])
        se = list(source.get("se") or [])
        pval = list(source.get("pval") or [])
        how = "Knapp-Hartung" if knha else "z test"
        r2 = _num(fit.get("R2"))
        if len(coef) == 2:
            unit = " on the log scale" if scale.ratio else ""
            text = (
                f"In a meta-regression on {label}, each unit more went with a "
                f"change in the effect of {_f(coef[1], 3)}{unit} (SE "
                f"{_f(se[1] if len(se) > 1 else None, 3)}; "
                f"{_p(pval[1] if len(pval) > 1 else None)}, {how})"
            )
        else:
            text = (
                f"In a meta-regression on {label}, the test of the moderator gave "
                f"QM = {_f(source.get('QM'))}, {_p(source.get('QMp'))} ({how})"
            )
        if r2 is not None:
            text += f"; it explained {_pct(r2)} of the heterogeneity (R²)"
        text += "."
        sentences.append(text)
    return sentences


def _bias_sentences(
    report: Mapping[str, Any], scale: Scale, level: str, bias_min_k: int
) -> list[str]:
    sentences = []
    bias = report.get("bias") or {}
    k = int(report.get("k", 0))
    funnel = report.get("funnel") or {}
    if funnel.get("drawn") is False:
        sentences.append(
            "No funnel plot was drawn, and trim and fill, Egger's and Begg's "
            "tests and the fail-safe N were not computed: "
            f"{_count(k, 'study', 'studies')}, fewer than the {bias_min_k} they "
            "need to be meaningful (meta.bias_min_k; Cochrane Handbook 13.3.5.4)."
        )
    elif "skipped" in bias or not bias:
        sentences.append(
            "Egger's and Begg's tests and the fail-safe N were not computed: "
            f"{_count(k, 'study', 'studies')}, fewer than the {bias_min_k} these "
            "tests need to be meaningful (meta.bias_min_k)."
        )
    else:
        egger = bias.get("egger_rma") or {}
        egger_lm = bias.get("egger_lm") or {}
        begg = bias.get("begg") or {}
        parts = []
        p_values = []
        if egger:
            parts.append(
                f"Egger's regression test gave z = {_f(egger.get('z'))}, "
                f"{_p(egger.get('p'))} (limit estimate for a study of infinite "
                f"precision {scale.show(egger.get('limit_estimate'))}, {level}% CI "
                + _interval(scale, egger.get("limit_ci_lb"), egger.get("limit_ci_ub"))
                + ")"
            )
            p_values.append(_num(egger.get("p")))
        if egger_lm:
            parts.append(
                f"its classical form t = {_f(egger_lm.get('t'))} on "
                f"{egger_lm.get('df', '?')} df, {_p(egger_lm.get('p'))}"
            )
            p_values.append(_num(egger_lm.get("p")))
        if begg:
            parts.append(
                f"Begg's rank correlation τ = {_f(begg.get('tau'))}, "
                f"{_p(begg.get('p'))}"
            )
            p_values.append(_num(begg.get("p")))
        if bias.get("failsafe_rosenthal") is not None:
            parts.append(
                f"Rosenthal's fail-safe N was {bias.get('failsafe_rosenthal')}"
            )
        text = "; ".join(parts) + "."
        known = [p for p in p_values if p is not None]
        if known and any(p < 0.10 for p in known):
            text += (
                " At least one test suggests funnel-plot asymmetry (p < 0.10), "
                "which may reflect small-study effects or publication bias."
            )
        elif known:
            text += " No test suggested funnel-plot asymmetry (all p ≥ 0.10)."
        sentences.append(_capital(text))
    fill = report.get("trimfill")
    if fill and "skipped" not in fill:
        k0 = int(fill.get("k0", 0) or 0)
        side = fill.get("side", "")
        if k0 == 0:
            text = (
                f"Trim and fill ({fill.get('estimator', 'L0')} estimator) imputed "
                "no missing studies."
            )
        else:
            text = (
                f"Trim and fill ({fill.get('estimator', 'L0')} estimator) imputed "
                f"{_count(k0, 'study', 'studies')} on the {side} side; the adjusted "
                f"pooled effect was {scale.symbol} = "
                f"{scale.show(fill.get('estimate'))} ({level}% CI "
                f"{_interval(scale, fill.get('ci_lb'), fill.get('ci_ub'))})."
            )
        if k < bias_min_k:
            text += " With so few studies trim and fill is unreliable."
        sentences.append(text)
    return sentences


def _excludes_null(low: object, high: object) -> bool | None:
    lo, hi = _num(low), _num(high)
    if lo is None or hi is None:
        return None
    return lo > 0 or hi < 0


def _sensitivity_sentences(
    report: Mapping[str, Any], scale: Scale, level: str
) -> list[str]:
    sentences = []
    pooled = report["pooled"]
    main = _excludes_null(pooled.get("ci_lb"), pooled.get("ci_ub"))
    rob = report.get("sensitivity_without_high_rob")
    if rob is None:
        sentences.append(
            "Without risk-of-bias judgements no sensitivity analysis by risk of "
            "bias was run."
        )
    else:
        high = list(rob.get("left_out") or [])
        if rob.get("pooled"):
            fit = rob["pooled"]
            sentences.append(
                f"Leaving out the {_count(len(high), 'study', 'studies')} at high "
                f"risk of bias ({_join(high)}) gave {scale.symbol} = "
                f"{scale.show(fit.get('estimate'))} ({level}% CI "
                f"{_interval(scale, fit.get('ci_lb'), fit.get('ci_ub'))}; "
                f"k = {fit.get('k', '?')}; I² = {_pct(fit.get('I2'))})."
            )
        elif high:
            sentences.append(
                f"Leaving out the {_count(len(high), 'study', 'studies')} at high "
                f"risk of bias ({_join(high)}) was not possible: "
                f"{rob.get('note', 'too few studies left')}."
            )
        else:
            sentences.append(
                "No study in this analysis was at high risk of bias, so the "
                "analysis without them is the main model."
            )
        unrated = list(rob.get("not_assessed") or [])
        if unrated:
            sentences.append("Not assessed for risk of bias: " + _join(unrated) + ".")
    l1o = report.get("leave1out")
    if l1o and l1o.get("estimate"):
        estimates = [_num(v) for v in l1o["estimate"]]
        labels = [str(x) for x in l1o.get("label", [])]
        pairs = [
            (e, lab) for e, lab in zip(estimates, labels, strict=False) if e is not None
        ]
        if pairs:
            low = min(pairs, key=lambda p: p[0])
            high = max(pairs, key=lambda p: p[0])
            text = (
                "Leaving out one study at a time, the pooled effect ranged from "
                f"{scale.show(low[0])} (without {low[1]}) to "
                f"{scale.show(high[0])} (without {high[1]})"
            )
            changed = [
                lab
                for lab, lo, hi in zip(
                    labels, l1o.get("ci_lb", []), l1o.get("ci_ub", []), strict=False
                )
                if _excludes_null(lo, hi) is not None and _excludes_null(lo, hi) != main
            ]
            if main is not None and not changed:
                text += (
                    "; the confidence interval "
                    + ("excluded" if main else "included")
                    + f" {scale.null} every time"
                )
            elif changed:
                text += (
                    "; leaving out "
                    + _join(changed, "or")
                    + " changed whether the confidence interval included "
                    + scale.null
                )
            sentences.append(text + ".")
    influence = report.get("influence")
    if influence and influence.get("inf") is not None:
        labels = [str(x) for x in influence.get("label", [])]
        studies = [str(s.get("study_id")) for s in report.get("studies") or []]
        if len(studies) == len(influence["inf"]):
            labels = studies  # the diagnostics are in the studies' order
        flagged = [
            lab
            for lab, flag in zip(labels, influence["inf"], strict=False)
            if flag is True or str(flag).strip() in ("True", "*")
        ]
        if flagged:
            sentences.append(
                _join(flagged)
                + (" was" if len(flagged) == 1 else " were")
                + " flagged as influential by the diagnostics of Viechtbauer & "
                "Cheung (2010)."
            )
        else:
            sentences.append(
                "No study was flagged as influential by the diagnostics of "
                "Viechtbauer & Cheung (2010)."
            )
    multilevel = report.get("multilevel")
    robust = report.get("robust_CR2") or report.get("robust_CR1")
    if multilevel or robust:
        parts = []
        n_rows = (multilevel or robust or {}).get("k", report.get("n_rows"))
        if multilevel:
            parts.append(
                f"a three-level model gave {scale.show(multilevel.get('estimate'))} "
                f"({level}% CI "
                f"{_interval(scale, multilevel.get('ci_lb'), multilevel.get('ci_ub'))})"
            )
        if robust:
            parts.append(
                f"cluster-robust inference ({robust.get('kind', 'CR2')}, "
                f"{_f(robust.get('df'), 1)} df) gave "
                f"{scale.show(robust.get('estimate'))} ({level}% CI "
                f"{_interval(scale, robust.get('ci_lb'), robust.get('ci_ub'))})"
            )
        sentences.append(
            f"Using all {n_rows} effect sizes without combining them within "
            f"studies, {_join(parts)}."
        )
    return sentences


def _model_rows(report: Mapping[str, Any], scale: Scale) -> list[list[str]]:
    """Rows of an analysis's table of pooled estimates."""
    model = report.get("model") or {}
    method = model.get("method", "")
    test = "Knapp-Hartung" if model.get("test") == "knha" else "z"
    rows = []

    def add(name: str, fit: Mapping[str, Any] | None, *, tau: bool = True) -> None:
        if not fit or _num(fit.get("estimate")) is None:
            return
        pi = (
            _interval(scale, fit.get("pi_lb"), fit.get("pi_ub"))
            if _num(fit.get("pi_lb")) is not None
            else ""
        )
        rows.append(
            [
                name,
                str(fit.get("k", "")),
                scale.show(fit.get("estimate")),
                _interval(scale, fit.get("ci_lb"), fit.get("ci_ub")),
                pi,
                _p(fit.get("pval")).removeprefix("p = ").removeprefix("p "),
                _small(fit.get("tau2")) if tau else "",
                _pct(fit.get("I2")) if _num(fit.get("I2")) is not None else "",
            ]
        )

    add(f"Random effects ({method}, {test})", report.get("pooled"))
    add(
        "Without studies at high risk of bias",
        (report.get("sensitivity_without_high_rob") or {}).get("pooled"),
    )
    fill = report.get("trimfill") or {}
    if fill and int(fill.get("k0", 0) or 0) > 0:
        add(
            f"Trim and fill ({int(fill['k0'])} imputed)",
            {**fill, "k": f"{fill.get('k', '?')} + {int(fill['k0'])}"},
        )
    add("Three-level model (all effect sizes)", report.get("multilevel"), tau=False)
    for kind in ("CR1", "CR2"):
        add(
            f"Cluster-robust {kind} (all effect sizes)",
            report.get(f"robust_{kind}"),
        )
    return rows


MODEL_HEADERS = (
    "Model",
    "k",
    "Estimate",
    "95% CI",
    "Prediction interval",
    "p",
    "τ²",
    "I²",
)


def _shown_report(
    report: Mapping[str, Any],
    values: Mapping[str, Mapping[str, str]],
    labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Copy an analysis's report, naming things as readers see them.

    Studies by their labels (the report's ``studies[].label``, author and
    year; see :mod:`evsynth.labels`) in the sensitivity analyses and
    diagnostics, and subgroups by the labels of their values (``values``,
    :func:`evsynth.labels.value_labels`), in the order of those labels. Only
    for the text: the numbers are those of the report. ``labels`` (from
    ``results/studies/labels.csv``) names studies the report's ``studies``
    do not list (rows left out).
    """
    names = dict(labels or {})
    names.update(
        {
            str(s.get("study_id")): str(s.get("label") or s.get("study_id"))
            for s in report.get("studies") or []
        }
    )

    def shown(items: Any) -> list[str]:
        return [names.get(str(x), str(x)) for x in items or []]

    out = dict(report)
    out["left_out"] = [
        {**r, "study_id": names.get(str(r.get("study_id")), r.get("study_id"))}
        for r in report.get("left_out") or []
    ]
    out["studies"] = [
        {**s, "study_id": names.get(str(s.get("study_id")), s.get("study_id"))}
        for s in report.get("studies") or []
    ]
    rob = report.get("sensitivity_without_high_rob")
    if isinstance(rob, Mapping):
        out["sensitivity_without_high_rob"] = {
            **rob,
            "left_out": shown(rob.get("left_out")),
            "not_assessed": shown(rob.get("not_assessed")),
        }
    for key in ("leave1out", "influence"):
        block = report.get(key)
        if isinstance(block, Mapping) and "label" in block:
            out[key] = {**block, "label": shown(block.get("label"))}
    subgroups = report.get("subgroups")
    if isinstance(subgroups, Mapping):
        out["subgroups"] = {}
        for column, sub in subgroups.items():
            groups = sub.get("groups") if isinstance(sub, Mapping) else None
            if not isinstance(groups, Mapping):
                out["subgroups"][column] = sub
                continue
            order = ordered_values(values, str(column), list(groups))
            label = {v: value_label(values, str(column), v) for v in order}
            if len(set(label.values())) < len(label):
                label = {v: v for v in order}
            out["subgroups"][column] = {
                **sub,
                "groups": {label[v]: groups[v] for v in order},
                "skipped": [
                    value_label(values, str(column), v)
                    for v in sub.get("skipped") or []
                ],
            }
    return out


def _analysis(
    analysis: Analysis,
    settings: Mapping[str, Any],
    labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    meta = settings.get("meta", {}) or {}
    bias_min_k = int(meta.get("bias_min_k", 10))
    report = analysis.report or {}
    drawn = (report.get("funnel") or {}).get("drawn", True) is not False
    out: dict[str, Any] = {
        "name": analysis.name,
        "anchor": f"meta-{re.sub(r'[^A-Za-z0-9_-]', '-', analysis.name)}",
        "label": analysis.label,
        "forest": analysis.forest,
        "funnel": analysis.funnel if drawn else None,
        "note": analysis.note,
        "headline": "",
        "blocks": [],
        "table": None,
        "subgroup_tables": [],
    }
    if "pooled" not in report:
        out["note"] = analysis.note or "no pooled result"
        return out
    measure = str(report.get("measure", ""))
    scale = scale_of(measure)
    model = report.get("model") or {}
    level = _f(model.get("level", meta.get("level", 95)), 0)
    pooled = report["pooled"]
    values = value_labels((settings.get("labels") or {}).get("values"))
    report = _shown_report(report, values, labels)
    out["measure"] = measure
    out["headline"] = (
        f"{scale.symbol} = {scale.show(pooled.get('estimate'))} ({level}% CI "
        f"{_interval(scale, pooled.get('ci_lb'), pooled.get('ci_ub'))}), "
        f"k = {pooled.get('k', report.get('k'))}"
    )
    blocks = [
        ("Pooled result", [_pooled_sentence(report, scale, level)]),
        ("Heterogeneity", [_heterogeneity_sentence(report, level)]),
    ]
    moderators = _moderator_sentences(report, scale, str(model.get("test", "")))
    if moderators:
        blocks.append(("Subgroups and moderators", moderators))
    blocks.append(
        ("Small-study effects", _bias_sentences(report, scale, level, bias_min_k))
    )
    blocks.append(
        ("Sensitivity analyses", _sensitivity_sentences(report, scale, level))
    )
    out["blocks"] = [{"title": t, "sentences": s} for t, s in blocks if s]
    headers = list(MODEL_HEADERS)
    headers[2] = scale.symbol if scale.symbol != "effect" else "Estimate"
    headers[3] = f"{level}% CI"
    out["table"] = _table(
        headers,
        _model_rows(report, scale),
        caption=f"{analysis.label}: pooled estimates ({scale.name}; "
        + (
            "values above 1 favour the intervention)"
            if scale.ratio
            else "positive values favour the intervention)"
        ),
        numeric=[False, True, True, True, True, True, True, True],
    )
    for column, sub in sorted((report.get("subgroups") or {}).items()):
        groups = sub.get("groups") or {}
        if not groups:
            continue
        rows = []
        for name in groups:
            fit = groups[name]
            rows.append(
                [
                    name,
                    str(fit.get("k", "")),
                    scale.show(fit.get("estimate")),
                    _interval(scale, fit.get("ci_lb"), fit.get("ci_ub")),
                    _small(fit.get("tau2")),
                    _pct(fit.get("I2")),
                ]
            )
        out["subgroup_tables"].append(
            _table(
                [_capital(_humanise(column)), "k", headers[2], headers[3], "τ²", "I²"],
                rows,
                caption=f"{analysis.label} by {_humanise(column)}",
                numeric=[False, True, True, True, True, True],
            )
        )
    return out


def _meta(review: Review) -> dict[str, Any]:
    analyses = [_analysis(a, review.settings, review.labels) for a in review.analyses]
    if not analyses:
        return {"available": False, "analyses": []}
    rows = []
    for analysis in review.analyses:
        report = analysis.report or {}
        pooled = report.get("pooled")
        if not pooled:
            rows.append([analysis.label, str(report.get("k", "")), "", "", "", "", ""])
            continue
        scale = scale_of(str(report.get("measure", "")))
        rows.append(
            [
                analysis.label,
                str(pooled.get("k", "")),
                f"{scale.symbol} = {scale.show(pooled.get('estimate'))}",
                _interval(scale, pooled.get("ci_lb"), pooled.get("ci_ub")),
                _interval(scale, pooled.get("pi_lb"), pooled.get("pi_ub"))
                if _num(pooled.get("pi_lb")) is not None
                else "",
                _pct(pooled.get("I2")),
                _p(pooled.get("pval")).removeprefix("p = ").removeprefix("p "),
            ]
        )
    overview = _table(
        ["Analysis", "k", "Pooled effect", "95% CI", "Prediction interval", "I²", "p"],
        rows,
        caption="Pooled results (random-effects models; values above no effect, "
        "0 or 1 for ratios, favour the intervention)",
        numeric=[False, True, True, True, True, True, True],
    )
    return {"available": True, "analyses": analyses, "overview": overview}


def _qualitative(review: Review) -> dict[str, Any]:
    from evsynth.qualitative.tables import BF_HEADINGS, EXCERPT_SEP

    tables = []
    paragraphs = []
    for frame, title, kind in (
        (review.barriers, "Barriers", "barrier"),
        (review.facilitators, "Facilitators", "facilitator"),
    ):
        if frame is None:
            continue
        tables.append(
            _frame_table(
                frame,
                caption=f"{title}: themes across the included qualitative studies "
                f"(results/qualitative/{title.lower()}.csv)",
                headings=BF_HEADINGS,
                split={"example_excerpts": EXCERPT_SEP},
                small=True,
            )
        )
        studies = {
            s.strip()
            for cell in frame.get("studies", pd.Series(dtype=str))
            for s in str(cell).split(";")
            if s.strip()
        }
        paragraphs.append(
            f"{_capital(_count(len(frame), kind + ' theme', kind + ' themes'))} "
            f"from {_n(len(studies), 'study', 'studies')}."
        )
    soqf = None
    if review.soqf is not None:
        soqf = _frame_table(
            review.soqf,
            caption="Summary of qualitative findings (GRADE-CERQual; "
            "results/qualitative/cerqual_soqf.csv)",
            small=True,
        )
        confidence = next(
            (c for c in review.soqf.columns if "confidence" in c.lower()), None
        )
        if confidence:
            counts = review.soqf[confidence].value_counts()
            counts = counts[[str(label).strip() != "" for label in counts.index]]
            order = ["High", "Moderate", "Low", "Very low"]
            parts = [
                f"{int(counts[label])} {label.lower()}"
                for label in sorted(
                    counts.index,
                    key=lambda x: (
                        next(
                            (i for i, o in enumerate(order) if str(x).startswith(o)),
                            len(order),
                        ),
                        str(x),
                    ),
                )
            ]
            text = (
                "The CERQual summary lists "
                f"{_count(len(review.soqf), 'review finding', 'review findings')}"
            )
            if parts:
                text += "; confidence: " + _join(
                    [p.replace(" confidence", "") for p in parts]
                )
            paragraphs.append(text + ".")
    available = bool(tables or soqf)
    return {
        "available": available,
        "paragraphs": paragraphs,
        "tables": tables,
        "soqf": soqf,
        "figures": review.heatmaps if available else [],
    }


# --------------------------------------------------------------------------
# Methods


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "(not installed)"


def versions() -> dict[str, str]:
    """Versions of evsynth, Python and the numerical packages, by label."""
    out = {"evsynth": _version("evsynth"), "Python": platform.python_version()}
    out.update({label: _version(dist) for dist, label in PACKAGES})
    return out


def _reached(review: Review) -> dict[str, bool]:
    """Which stages the review has reached, read from what their results hold.

    A stage counts once its results have something in them: a screening
    decision at title/abstract or full text, effect sizes, a meta-analysis,
    risk-of-bias judgements, themes, CERQual findings, CASP appraisals.
    """
    counts = review.prisma_counts or {}
    states = counts.get("states", {}) or {}
    decided: dict[str, int] = {}
    if review.agreement is not None:
        for row in review.agreement.to_dict("records"):
            stage = str(row.get("stage", ""))
            decided[stage] = max(decided.get(stage, 0), int(_num(row.get("n")) or 0))

    def n(key: str) -> int:
        return int(_num(counts.get(key)) or 0)

    unique = counts.get("unique_records", {}) or {}
    return {
        "records": review.import_summary is not None
        or review.dedup_summary is not None,
        "title_abstract": n("records_screened") > 0
        or int(states.get("conflict_title_abstract", 0) or 0) > 0
        or decided.get("title_abstract", 0) > 0,
        "full_text": n("dbr_assessed") + n("other_assessed") > 0
        or int(states.get("conflict_full_text", 0) or 0) > 0
        or decided.get("full_text", 0) > 0,
        "other_methods": int(unique.get("other_methods", 0) or 0) > 0,
        "agreement": any(decided.values()),
        "effects": review.effects is not None,
        "meta": any(a.report is not None for a in review.analyses),
        "rob": review.rob_overall is not None or bool(review.rob_tables),
        "themes": review.barriers is not None or review.facilitators is not None,
        "cerqual": review.soqf is not None,
        "casp": review.appraisal is not None,
    }


def _records_methods(review: Review) -> str:
    records = review.settings.get("records", {}) or {}
    frame = review.import_summary
    if frame is not None and len(frame):
        sources = list(dict.fromkeys(frame["database"]))
        dates = sorted(d for d in frame.get("date_searched", []) if d)
        text = (
            f"Records from {_n(len(frame), 'search export', 'search exports')} "
            f"({_join(sources)}"
        )
        if dates:
            text += (
                f"; searched {dates[0]}"
                if dates[0] == dates[-1]
                else f"; searched {dates[0]} to {dates[-1]}"
            )
        text += ") were imported with evsynth and their counts checked against "
        error = records.get("count_mismatch") == "error"
        mismatch = "stops the run" if error else "is flagged"
        text += f"the numbers the databases reported (a mismatch {mismatch})."
    else:
        text = "Records were imported with evsynth."
    if review.dedup_summary is None:
        return text
    text += (
        " Duplicates were found by comparing records within blocks (same DOI or "
        "PMID, title start or end, first author, year and first page, year, volume "
        "and first page, or the three longest title words) on normalised fields, "
        "and pairs were decided by named rules: must-not-merge rules first (an "
        "erratum, comment or retraction and the paper it concerns, parts of a "
        "series, a conference abstract and an article in another venue, different "
        "DOIs or PMIDs, years more than one apart), then duplicate rules (the same "
        "DOI or PMID with a similar title; the same title with agreeing authors "
        "and citation details; a title contained in the other with the same "
        "journal, volume and pages; the same citation under a translated title); "
        "pairs close but unproven were left to the reviewers."
    )
    verdicts = review.dedup_decisions
    open_pairs = review.dedup_review
    n_open = 0 if open_pairs is None else len(open_pairs)
    if verdicts is not None and len(verdicts):
        text += (
            f" The reviewers decided {_n(len(verdicts), 'pair', 'pairs')} "
            f"({records.get('dedup_decisions', '')})."
        )
    elif not n_open:
        text += (
            " No reviewer verdicts were needed or given; the rules decided every pair."
        )
    if n_open:
        text += (
            " "
            + _capital(_n(n_open, "uncertain pair awaits", "uncertain pairs await"))
            + " a reviewer's verdict (results/records/dedup_review.csv)."
        )
    return text


def _screening_methods(review: Review, reached: Mapping[str, bool]) -> str:
    screening = review.settings.get("screening", {}) or {}
    per = screening.get("reviewers_per_record", {}) or {}
    ta, ft = reached["title_abstract"], reached["full_text"]
    if not (ta or ft):
        return ""
    n_ta, n_ft = int(per.get("title_abstract", 2)), int(per.get("full_text", 2))
    reviewers = list(screening.get("reviewers", []) or [])
    resolvers = list(screening.get("resolvers", []) or [])
    clauses = []
    if ta:
        clauses.append(
            f"{_count(n_ta, 'reviewer', 'reviewers')} screened each record by title "
            "and abstract"
        )
    if ft:
        clauses.append(
            f"{_count(n_ft, 'reviewer', 'reviewers')} "
            + ("each full-text report" if ta else "screened each full-text report")
        )
    pairs = (ta and n_ta > 1) or (ft and n_ft > 1)
    text = _capital(_join(clauses)) + (", independently" if pairs else "")
    if reviewers:
        text += f" ({_join(reviewers)})"
    text += "."
    rules = []
    if ta:
        rules.append(
            "at title and abstract two includes (or maybes) moved a record on, two "
            "excludes excluded it and one of each was a conflict"
            if n_ta > 1
            else "at title and abstract one include (or maybe) moved a record on "
            "and one exclude excluded it"
        )
    if ft:
        if n_ft > 1:
            rules.append(
                "at full text two exclusions for different reasons were also a conflict"
                if ta and n_ta > 1
                else "at full text an include and an exclude, or two exclusions "
                "for different reasons, were a conflict"
            )
        else:
            rules.append("at full text one reviewer's decision was final")
    text += " " + _capital("; ".join(rules)) + "."
    if pairs and resolvers:
        names = [
            "by the reviewers together" if r == "consensus" else f"by {r}"
            for r in resolvers
        ]
        text += f" Conflicts were resolved {_join(names, 'or')}."
    if reached["other_methods"]:
        text += (
            " Records identified via other methods went straight to full-text "
            "retrieval, as in the PRISMA 2020 flow diagram (Page et al. 2021)."
        )
    reasons = list(screening.get("exclusion_reasons", []) or [])
    if ft and reasons:
        text += " Full-text exclusions gave one of: " + "; ".join(reasons) + "."
    if reached["agreement"]:
        text += (
            " Agreement between the two reviewers is reported as observed agreement "
            "(Wilson interval), Cohen's κ (large-sample standard error), PABAK and "
            "Gwet's AC1, each with a 95% confidence interval."
        )
    return text


#: How each effects.measure setting expresses the outcomes.
_MEASURE_WORDS = {
    "SMD": "Outcomes were expressed as Hedges' g",
    "MD": "Outcomes were expressed as mean differences",
    "OR": "Outcomes were expressed as log odds ratios",
    "RR": "Outcomes were expressed as log risk ratios",
    "RD": "Outcomes were expressed as risk differences",
    "OR2DL": "Outcomes were expressed as Hedges' g",
}


def _effects_methods(review: Review) -> str:
    effects = review.settings.get("effects", {}) or {}
    correction = (
        "the exact small-sample correction (gamma functions; Hedges 1981)"
        if effects.get("smd_correction", "exact") == "exact"
        else "the approximate small-sample correction 1 - 3/(4m - 1) (Hedges 1981)"
    )
    measure = str(effects.get("measure", "auto"))
    if measure == "auto":
        text = (
            f"Continuous outcomes were expressed as Hedges' g with {correction}, "
            "binary outcomes as log odds ratios"
        )
    else:
        text = _MEASURE_WORDS.get(measure, f"Outcomes were expressed as {measure}")
        if measure in ("SMD", "OR2DL"):
            text += f" with {correction}"
        if measure == "OR2DL":
            text += ", binary outcomes converted from log odds ratios by the "
            text += "logistic method"
    text += "; effects were signed so that positive values favour the intervention."
    to_smd = effects.get("binary_to_smd", "none")
    if measure == "auto" and to_smd and to_smd != "none":
        text += f" Binary outcomes were put on the SMD scale by the {to_smd} method."
    text += (
        f" Difference-in-differences rows without a pre-post correlation used "
        f"r = {effects.get('imputed_r', 0.5)}, and cluster designs without a "
        f"reported ICC used ICC = {effects.get('default_icc', 0.1)}; the output "
        "marks every imputed value."
    )
    return text


def _meta_methods(review: Review) -> str:
    meta = review.settings.get("meta", {}) or {}
    method = str(meta.get("method", "REML"))
    test = str(meta.get("test", "knha"))
    pi = str(meta.get("prediction_interval", "metafor"))
    level = _f(meta.get("level", 95), 0)
    reports = [a.report for a in review.analyses if a.report is not None]
    specs = meta.get("analyses", []) or []
    moderators = any(r.get("subgroups") or r.get("metareg") for r in reports) or any(
        isinstance(spec, Mapping) and (spec.get("subgroups") or spec.get("moderators"))
        for spec in specs
    )
    by_rob = any(r.get("sensitivity_without_high_rob") is not None for r in reports)
    text = (
        f"Each analysis pooled one effect per study in a "
        f"{'random-effects model with ' if method != 'EE' else ''}"
        f"{_ESTIMATORS.get(method, method)}"
    )
    text += (
        ", with the Knapp-Hartung adjustment for the confidence interval and test "
        "of the pooled effect (Knapp & Hartung 2003)"
        if test == "knha"
        else ", with z-based confidence intervals and tests"
    )
    text += f" and {level}% confidence intervals. "
    text += {
        "metafor": "Prediction intervals were computed as metafor's predict() "
        "(t distribution with k - 1 df under Knapp-Hartung). ",
        "riley": "Prediction intervals used the t distribution with k - 2 df "
        "(Riley et al. 2011). ",
        "none": "No prediction intervals were computed. ",
    }.get(pi, f"Prediction intervals: {pi}. ")
    text += (
        f"Where a study reported several outcomes of an analysis, they were "
        f"combined into their mean with a variance assuming a correlation of "
        f"{meta.get('rho', 0.6)} (Borenstein et al. 2009), and a three-level model "
        "and cluster-robust (CR1, CR2) inference on all effect sizes are reported "
        f"beside it; of several time points the {meta.get('timepoint', 'latest')} "
        f"was used. Analyses with fewer than {meta.get('min_k', 2)} studies were "
        "not pooled. Heterogeneity is reported as τ² (with a Q-profile "
        "confidence interval), I² and Cochran's Q."
    )
    if moderators:
        text += " Subgroup analyses and meta-regression used mixed-effects models."
    text += (
        " Small-study effects were examined with funnel plots, trim and fill "
        "(Duval & Tweedie 2000), Egger's regression test (Egger et al. 1997), "
        "Begg's rank correlation (Begg & Mazumdar 1994) and Rosenthal's "
        f"fail-safe N (Rosenthal 1979) when at least {meta.get('bias_min_k', 10)} "
        "studies were available (Cochrane Handbook 13.3.5.4). "
    )
    text += (
        "Sensitivity analyses left out the studies at high risk of bias, and "
        "each study in turn,"
        if by_rob
        else "Sensitivity analyses left out each study in turn,"
    )
    text += (
        " with influence diagnostics after Viechtbauer & Cheung (2010). The models "
        "follow metafor (Viechtbauer 2010), reproduced in Python and checked "
        "against metafor 3.8.1."
    )
    return text


def _rob_methods(review: Review, reached: Mapping[str, bool]) -> str:
    from evsynth.rob.model import TOOLS

    used = set(review.rob_tables)
    if review.rob_overall is not None and "tool" in review.rob_overall.columns:
        used |= {str(t) for t in review.rob_overall["tool"]}
    citations = {"rob2": "Sterne et al. 2019", "robins_i": "Sterne et al. 2016"}
    tools = [
        f"{spec.name} for {spec.design}"
        + (f" ({citations[key]})" if key in citations else "")
        for key, spec in TOOLS.items()
        if key in used
    ]
    text = "Risk of bias was judged with " + (_join(tools) or "RoB 2 or ROBINS-I")
    if reached["meta"]:
        text += (
            "; for the sensitivity analyses each study's worst overall judgement was "
            "harmonised to low, moderate (RoB 2 some concerns), high (ROBINS-I "
            "serious or critical) or unclear (no information)"
        )
    return text + "."


def _qualitative_methods(review: Review, reached: Mapping[str, bool]) -> str:
    coverage = (review.settings.get("qualitative", {}) or {}).get(
        "cerqual_coverage", "full"
    )
    sentences = []
    if reached["casp"]:
        sentences.append(
            "Qualitative studies were appraised with the CASP Qualitative Checklist "
            "(CASP 2018)."
        )
    clauses = []
    if reached["themes"]:
        clauses.append(
            "coded excerpts were grouped into themes and tabulated as barriers and "
            "facilitators by study and perspective"
        )
    if reached["cerqual"]:
        clauses.append(
            "confidence in each review finding was assessed with GRADE-CERQual "
            "(Lewin et al. 2018)"
            + (
                ", every theme belonging to a review finding"
                if coverage == "full" and reached["themes"]
                else ""
            )
        )
    if clauses:
        sentences.append(_capital(", and ".join(clauses)) + ".")
    return " ".join(sentences)


def _methods(review: Review, config_file: str | None = None) -> list[str]:
    """Write the methods, one paragraph per stage the review has reached."""
    reached = _reached(review)
    paragraphs = []
    if reached["records"]:
        paragraphs.append(_records_methods(review))
    paragraphs.append(_screening_methods(review, reached))
    if reached["effects"]:
        paragraphs.append(_effects_methods(review))
    if reached["meta"]:
        paragraphs.append(_meta_methods(review))
    if reached["rob"]:
        paragraphs.append(_rob_methods(review, reached))
    paragraphs.append(grade_sof.methods_text(review.grade, review.settings))
    paragraphs.append(_qualitative_methods(review, reached))
    v = versions()
    packages = _join([f"{label} {v[label]}" for _, label in PACKAGES])
    text = (
        f"All stages ran in evsynth {v['evsynth']} (a Snakemake workflow) on "
        f"Python {v['Python']} with {packages}. The review is reported following "
        "PRISMA 2020 (Page et al. 2021). The appendix lists every setting of the "
        "run"
    )
    if config_file:
        text += (
            f": those of the review's config file, {config_file}, with the "
            "defaults of any it leaves out"
        )
    paragraphs.append(text + ".")
    return [p for p in paragraphs if p]


def _cited(texts: Sequence[str]) -> list[str]:
    """List the references the texts cite, as 'Hedges 1981' or 'Hedges (1981)'."""
    joined = " ".join(texts)
    out = []
    for key, reference in REFERENCES:
        who, year = key.rsplit(" ", 1)
        if key in joined or f"{who} ({year})" in joined:
            out.append(reference)
    return out


# --------------------------------------------------------------------------
# The page


def _environment():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    return Environment(
        loader=FileSystemLoader(str(Path(__file__).parent / "templates")),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_report(review: Review, config_file: str | None = None) -> str:
    """Render the report page as HTML text.

    Parameters
    ----------
    review : Review
        From :func:`load_review`.
    config_file : str, optional
        The review's config file as its users know it (``config.yaml``,
        ``config/config.yaml``), named in the methods and the settings appendix.

    Returns
    -------
    str
        A complete, self-contained HTML document.
    """
    studies = _study_frame(review)
    meta = _meta(review)
    methods = _methods(review, config_file)
    sentences = [
        text
        for analysis in meta["analyses"]
        for block in analysis["blocks"]
        for text in block["sentences"]
    ]
    context = {
        "title": str(review.settings.get("review_title", "") or "Untitled review"),
        "question": _question(review),
        "sections": [{"id": i, "heading": h} for i, h in SECTIONS],
        "h": dict(SECTIONS),
        "missing": MISSING,
        "settings": _settings_table(review.settings),
        "config_file": config_file or "",
        "prisma": _prisma(review),
        "agreement": _agreement(review),
        "studies": _studies(review, studies),
        "rob": _rob(review),
        "meta": meta,
        "sof": grade_sof.sof_table(review.grade),
        "certainty": grade_sof.certainty_boxes(review.grade),
        "qualitative": _qualitative(review),
        "changes": review.changes,
        "methods": methods,
        "references": _cited([*methods, *sentences]),
        "version": _version("evsynth"),
    }
    return _environment().get_template("report.html.j2").render(**context)


def config_name(config_file: str | Path, review_dir: str | Path) -> str:
    """Name the config file as the review's users know it.

    A relative name (``config.yaml``, ``config/config.yaml``) is kept as it is
    given. A full path is shortened: relative to the review folder if the file
    is in it, else relative to the working directory (the review's root when
    the workflow runs) if it is in that, else kept whole.
    """
    path = Path(config_file)
    if not path.is_absolute():
        return path.as_posix()
    for root in (Path(review_dir), Path.cwd()):
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            continue
    return str(config_file)


def build_report(
    results_dir: str | Path,
    config: Mapping[str, Any],
    review_dir: str | Path,
    out_dir: str | Path,
    config_file: str | Path | None = None,
) -> list[Path]:
    """Write the review's report, ``out_dir/index.html``.

    One self-contained page (images embedded as data URIs, CSS inline, no
    JavaScript, no network) with a section per stage; see the module
    docstring. Text from the data is HTML-escaped. Equal inputs give equal
    bytes.

    Parameters
    ----------
    results_dir : str or Path
        The workflow's ``results/`` folder.
    config : dict
        The configuration (``config/config.yaml``).
    review_dir : str or Path
        The review folder (studies.csv, the dedup verdicts).
    out_dir : str or Path
        Output folder (created if needed).
    config_file : str or Path, optional
        The review's config file as its users know it (``config.yaml``,
        ``config/config.yaml``: relative to the review's root), which the
        methods and the settings appendix name; a full path is shortened by
        :func:`config_name`. Without it the page names no file.

    Returns
    -------
    list of Path
        ``[out_dir/index.html]``.
    """
    review = load_review(results_dir, config, review_dir)
    name = None if config_file is None else config_name(config_file, review_dir)
    html = render_report(review, name)
    target = Path(out_dir) / REPORT_FILE
    write_files({target: lambda p: p.write_bytes(html.encode("utf-8"))})
    return [target]


# --------------------------------------------------------------------------
# tables.xlsx and tables.docx


def _participants(report: Mapping[str, Any], effects: pd.DataFrame | None) -> str:
    """Participants of an analysis: per study the largest n_t plus n_c of its rows."""
    if effects is None:
        return ""
    from evsynth.meta.analyses import AnalysisSpec, MetaSettings, select_rows

    model = report.get("model") or {}
    spec = AnalysisSpec(
        name=str(report.get("analysis", "")),
        domains=tuple(report.get("domains") or ()),
        measure=str(report.get("measure", "SMD")),
    )
    try:
        rows, _ = select_rows(
            effects, spec, MetaSettings(timepoint=str(model.get("timepoint", "latest")))
        )
    except (KeyError, ValueError):
        return ""
    if not {"study_id", "n_t", "n_c"} <= set(rows.columns):
        return ""
    studies = [str(s.get("study_id")) for s in report.get("studies", []) or []]
    total, missing = 0, 0
    for study in studies:
        group = rows[rows["study_id"] == study]
        n_t = pd.to_numeric(group["n_t"], errors="coerce").max()
        n_c = pd.to_numeric(group["n_c"], errors="coerce").max()
        if pd.isna(n_t) or pd.isna(n_c):
            missing += 1
            continue
        total += round(n_t + n_c)
    if studies and missing == len(studies):
        return ""
    text = f"{total:,}"
    if missing:
        text += f" ({_n(missing, 'study', 'studies')} without n)"
    return text


def summary_of_findings(review: Review) -> pd.DataFrame:
    """One row per pooled analysis; certainty is left for the review team.

    tables.docx uses it when the review has no GRADE results
    (``results/grade/``); with them, :func:`evsynth.report.sof.sof_frame`.

    Parameters
    ----------
    review : Review
        From :func:`load_review`.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`SOF_COLUMNS`.
    """
    rows = []
    for analysis in review.analyses:
        report = analysis.report or {}
        pooled = report.get("pooled")
        if not pooled:
            rows.append(
                [analysis.label, str(report.get("k", "")), "", "not pooled", "", ""]
            )
            continue
        scale = scale_of(str(report.get("measure", "")))
        level = _f((report.get("model") or {}).get("level", 95), 0)
        effect = (
            f"{scale.symbol} = {scale.show(pooled.get('estimate'))} "
            f"({_interval(scale, pooled.get('ci_lb'), pooled.get('ci_ub'))})"
        )
        if level != "95":
            effect += f" [{level}% CI]"
        rows.append(
            [
                analysis.label,
                str(pooled.get("k", "")),
                _participants(report, review.effects),
                effect,
                _pct(pooled.get("I2")),
                "",
            ]
        )
    return pd.DataFrame(rows, columns=list(SOF_COLUMNS), dtype=object)


def pooled_results(review: Review) -> pd.DataFrame:
    """Every pooled estimate of every analysis, one row per analysis and model.

    Estimates are on the analysis scale (log scale for OR and RR).
    """
    columns = [
        "analysis",
        "label",
        "measure",
        "model",
        "k",
        "estimate",
        "se",
        "ci_lb",
        "ci_ub",
        "pi_lb",
        "pi_ub",
        "pval",
        "tau2",
        "I2",
        "Q",
        "Q_p",
        "note",
    ]
    rows = []
    for analysis in review.analyses:
        report = analysis.report or {}
        base = {
            "analysis": analysis.name,
            "label": analysis.label,
            "measure": report.get("measure", ""),
        }
        if "pooled" not in report:
            rows.append(
                {**base, "model": "", "k": report.get("k"), "note": analysis.note}
            )
            continue
        fill = report.get("trimfill") or {}
        models = [
            ("random effects", report.get("pooled")),
            (
                "without high risk of bias",
                (report.get("sensitivity_without_high_rob") or {}).get("pooled"),
            ),
            ("trim and fill", fill if fill and fill.get("k0") else None),
            ("three-level (all effect sizes)", report.get("multilevel")),
            ("cluster-robust CR1", report.get("robust_CR1")),
            ("cluster-robust CR2", report.get("robust_CR2")),
        ]
        for name, fit in models:
            if not fit:
                continue
            rows.append(
                {
                    **base,
                    "model": name,
                    **{c: fit.get(c) for c in columns[4:-1]},
                    "note": f"{fill.get('k0')} studies imputed"
                    if name == "trim and fill"
                    else "",
                }
            )
    return pd.DataFrame(rows, columns=columns, dtype=object)


def _xlsx_value(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
        if isinstance(value, float) and math.isnan(value):
            return None
    if isinstance(value, str) and value == "":
        return None
    return guard_formula(value)


def _add_sheet(book: Any, title: str, frame: pd.DataFrame) -> None:
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    sheet = book.create_sheet(title)
    sheet.append([str(c) for c in frame.columns])
    for row in frame.itertuples(index=False, name=None):
        sheet.append([_xlsx_value(v) for v in row])
    for index, column in enumerate(frame.columns, start=1):
        letter = get_column_letter(index)
        cell = sheet[f"{letter}1"]
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        longest = max(
            [len(str(column))]
            + [len(_display(v)) for v in frame[column] if v is not None]
        )
        sheet.column_dimensions[letter].width = max(8, min(60, longest + 2))
    sheet.freeze_panes = "A2"


def _xlsx_tables(review: Review) -> list[tuple[str, str, pd.DataFrame]]:
    """(sheet, source, table) of every table with data, in :data:`SHEETS` order."""
    tables = []
    if review.grade is not None:
        tables.append(
            (
                "Summary of findings",
                "results/grade/summary_of_findings.csv",
                grade_sof.sof_frame(review.grade),
            )
        )
    studies = _study_frame(review)
    if studies is not None:
        tables.append(
            ("Included studies", "studies.csv with results/records/unique.csv", studies)
        )
    if review.effects is not None:
        tables.append(("Effects", "results/effects/effects.csv", review.effects))
    pooled = pooled_results(review)
    if len(pooled):
        tables.append(("Pooled results", "results/meta/<analysis>.json", pooled))
    for tool, sheet in (("rob2", "RoB 2"), ("robins_i", "ROBINS-I")):
        if tool in review.rob_tables:
            tables.append(
                (sheet, f"results/rob/{tool}_table.csv", review.rob_tables[tool])
            )
    for frame, sheet, source in (
        (review.barriers, "Barriers", "results/qualitative/barriers.csv"),
        (review.facilitators, "Facilitators", "results/qualitative/facilitators.csv"),
        (review.soqf, "CERQual SoQF", "results/qualitative/cerqual_soqf.csv"),
    ):
        if frame is not None:
            tables.append((sheet, source, frame))
    return tables


def _write_xlsx(review: Review, path: Path) -> None:
    from openpyxl import Workbook

    tables = _xlsx_tables(review)
    book = Workbook()
    contents = book.active
    assert contents is not None
    book.remove(contents)
    title = str(review.settings.get("review_title", "") or "Untitled review")
    index = pd.DataFrame(
        [[sheet, len(frame), source] for sheet, source, frame in tables],
        columns=["Sheet", "Rows", "Source"],
    )
    _add_sheet(book, "Contents", index)
    book["Contents"].insert_rows(1, 2)
    book["Contents"]["A1"] = guard_formula(title)
    book["Contents"].freeze_panes = "A4"
    from openpyxl.styles import Font

    book["Contents"]["A1"].font = Font(bold=True, size=13)
    for cell in book["Contents"][3]:
        cell.font = Font(bold=True)
    for sheet, _, frame in tables:
        _add_sheet(book, sheet, frame)
    book.properties.creator = "evsynth"
    book.properties.title = title
    write_workbook(book, path)


def _docx_tables(review: Review) -> list[tuple[str, pd.DataFrame, str, dict[str, str]]]:
    """(title, table, note, headings) of every DOCX table with data."""
    from evsynth.qualitative.tables import BF_HEADINGS, EXCERPT_SEP

    tables: list[tuple[str, pd.DataFrame, str, dict[str, str]]] = []
    sof = summary_of_findings(review)
    if review.grade is not None:  # the GRADE stage's table, certainty rated
        tables.append(
            (
                "Summary of findings",
                grade_sof.sof_frame(review.grade, footnotes=False, blank="–"),
                grade_sof.sof_note(review.grade),
                {},
            )
        )
    elif len(sof):
        tables.append(
            (
                "Summary of findings",
                sof,
                (
                    "Effects are random-effects estimates with 95% confidence "
                    "intervals; values above no effect (0, or 1 for ratios) favour "
                    "the intervention; g: Hedges' g. Participants: for each study "
                    "the largest number analysed in any of its outcomes of the "
                    "analysis, summed over studies. Certainty of the evidence: to "
                    "be judged by the review team (GRADE)."
                ),
                {},
            )
        )
    studies = _study_frame(review)
    if studies is not None:
        tables.append(
            (
                "Characteristics of included studies",
                studies,
                (
                    "Main report: first author and year of the study's main report; "
                    "Reports (n): every report of the study."
                ),
                {},
            )
        )
    for frame, title in (
        (review.barriers, "Barriers"),
        (review.facilitators, "Facilitators"),
    ):
        if frame is None:
            continue
        shown = frame.copy()
        if "example_excerpts" in shown.columns:
            shown["example_excerpts"] = [
                str(v).replace(EXCERPT_SEP, "\n") for v in shown["example_excerpts"]
            ]
        tables.append(
            (
                title,
                shown,
                (
                    "Studies (n): studies with an excerpt coded to the theme as a "
                    f"{title.lower()[:-1]}."
                ),
                dict(BF_HEADINGS),
            )
        )
    if review.soqf is not None:
        tables.append(
            (
                "Summary of qualitative findings (GRADE-CERQual)",
                review.soqf,
                (
                    "Confidence after Lewin et al. 2018 (Implementation Science "
                    "13(Suppl 1):10)."
                ),
                {},
            )
        )
    return tables


def _write_docx(review: Review, path: Path) -> None:
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.shared import Cm, Pt

    from evsynth.qualitative import docx as qdocx

    title = str(review.settings.get("review_title", "") or "Untitled review")
    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width = Cm(qdocx.PAGE_WIDTH_CM)
    section.page_height = Cm(qdocx.PAGE_HEIGHT_CM)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(qdocx.MARGIN_CM))
    document.styles["Normal"].font.size = Pt(qdocx.BODY_PT)

    def heading(text: str, size: float) -> None:
        paragraph = document.add_paragraph()
        run = paragraph.add_run(qdocx.docx_text(text))
        run.bold = True
        run.font.size = Pt(size)
        paragraph.paragraph_format.space_after = Pt(6)
        paragraph.paragraph_format.keep_with_next = True

    heading(title, qdocx.TITLE_PT + 2)
    tables = _docx_tables(review)
    if not tables:
        document.add_paragraph("No tables: the review has no results yet.")
    for number, (name, frame, note, headings) in enumerate(tables, start=1):
        if number > 1:
            document.add_page_break()
        heading(f"Table {number}. {name}", qdocx.TITLE_PT)
        headers = [qdocx.docx_text(headings.get(str(c), c)) for c in frame.columns]
        rows = [
            [qdocx.docx_text(v) for v in row] for row in frame.itertuples(index=False)
        ]
        table = document.add_table(rows=1 + len(rows), cols=len(headers))
        table.style = document.styles["Table Grid"]
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        table.autofit = False
        widths = qdocx.column_widths(
            headers, rows, qdocx.PAGE_WIDTH_CM - 2 * qdocx.MARGIN_CM
        )
        for j, width in enumerate(widths):
            table.columns[j].width = Cm(width)
            for cell in table.columns[j].cells:
                cell.width = Cm(width)
        header_row = table.rows[0]
        qdocx.repeat_header_row(header_row)
        for cell, text in zip(header_row.cells, headers, strict=True):
            qdocx.fill_cell(cell, text, bold=True)
            qdocx.shade_cell(cell, qdocx.HEADER_FILL)
        for row, texts in zip(table.rows[1:], rows, strict=True):
            for cell, text in zip(row.cells, texts, strict=True):
                qdocx.fill_cell(cell, text)
        if note:
            paragraph = document.add_paragraph(qdocx.docx_text(note))
            paragraph.paragraph_format.space_before = Pt(6)

    properties = document.core_properties
    properties.title = qdocx.docx_text(title)
    properties.author = "evsynth"
    properties.last_modified_by = "evsynth"
    properties.comments = ""
    properties.revision = 1
    properties.created = qdocx._FIXED_TIME
    properties.modified = qdocx._FIXED_TIME
    properties.last_printed = qdocx._FIXED_TIME
    buffer = io.BytesIO()
    document.save(buffer)
    qdocx.write_stable_docx(buffer.getvalue(), path)


def build_tables(
    results_dir: str | Path,
    config: Mapping[str, Any],
    review_dir: str | Path,
    out_dir: str | Path,
) -> list[Path]:
    """Write the report's tables as ``tables.xlsx`` and ``tables.docx``.

    ``tables.xlsx`` has a contents sheet and one sheet per table with data
    (:data:`SHEETS`): bold frozen header row, column widths from the content,
    text cells that a spreadsheet would run as formulas guarded with a leading
    apostrophe. ``tables.docx`` (landscape A4) holds :data:`DOCX_TABLES`: the
    summary of findings (the GRADE stage's, with certainty and footnotes; without
    GRADE results the pooled effects, certainty left blank), study
    characteristics, barriers, facilitators and the CERQual summary of
    qualitative findings. Both files appear or neither does, and equal input
    gives byte-identical files.

    Parameters
    ----------
    results_dir : str or Path
        The workflow's ``results/`` folder.
    config : dict
        The configuration (``config/config.yaml``).
    review_dir : str or Path
        The review folder (studies.csv).
    out_dir : str or Path
        Output folder (created if needed).

    Returns
    -------
    list of Path
        ``[out_dir/tables.xlsx, out_dir/tables.docx]``.
    """
    review = load_review(results_dir, config, review_dir)
    out = Path(out_dir)
    writers: dict[Path, Callable[[Path], None]] = {
        out / XLSX_FILE: lambda p: _write_xlsx(review, p),
        out / DOCX_FILE: lambda p: _write_docx(review, p),
    }
    write_files(writers)
    return list(writers)
