"""The report page: its sections, in order, rendered to HTML.

:func:`render_report` gathers every section (the review question, the PRISMA
flow, screening agreement, included studies, risk of bias, meta-analyses with
the summary of findings, qualitative synthesis, changes, methods, references
and the settings appendix) into the context of the Jinja template
``templates/report.html.j2``. :data:`SECTIONS` lists the sections and
:data:`MISSING` what each says when its stage has no results yet.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from evsynth.report import sof as grade_sof
from evsynth.report.agreement import _agreement
from evsynth.report.formatting import _flatten, _join, _table, _value_text
from evsynth.report.loading import Review
from evsynth.report.meta import _meta
from evsynth.report.methods import _methods, _version
from evsynth.report.prisma import _prisma
from evsynth.report.qualitative import _qualitative
from evsynth.report.references import _cited
from evsynth.report.rob import _rob
from evsynth.report.studies import _studies, _study_frame

__all__ = ["MISSING", "SECTIONS", "render_report"]

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
