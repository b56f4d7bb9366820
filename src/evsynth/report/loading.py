"""Read what the report shows: :func:`load_review` and its :class:`Review`.

:func:`load_review` reads every result the workflow's stages wrote under
``results/`` (import and deduplication summaries, PRISMA counts and diagram,
screening agreement, the included studies, effect sizes, each meta-analysis's
JSON and plots, the GRADE results, risk of bias, the qualitative tables and
heat maps, the change report of the latest update) and the configuration with
the schema's defaults. Figures are embedded as data URIs. A missing file, or a
stage's table without rows, leaves its field None or empty. ``changes.md`` is
read by a small Markdown parser (:func:`_markdown_blocks`).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from evsynth.labels import read_study_labels
from evsynth.report import sof as grade_sof
from evsynth.report.exports import included_reports, read_optional_csv
from evsynth.report.formatting import _flatten, _frame_table, _table
from evsynth.validation import with_defaults

__all__ = ["Analysis", "Review", "load_review"]


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
