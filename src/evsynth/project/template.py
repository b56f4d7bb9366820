"""``evsynth init``: the template files of a new review folder.

:func:`init_review` writes a new review folder: a complete, commented
``config.yaml`` (:func:`config_template`, built from the config schema), every
input table as a header-only CSV, and README files saying what goes where
(:func:`template_files` returns them all).
"""

from __future__ import annotations

import re
import shutil
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from evsynth.errors import EvsynthError
from evsynth.project.configfile import _schema_default
from evsynth.project.review import example_folder, new_review_id
from evsynth.project.tables import _SPECS, TABLES
from evsynth.validation import load_schema

__all__ = [
    "EXAMPLE_FILES",
    "InitResult",
    "config_template",
    "init_example",
    "init_review",
    "template_files",
]

#: Placeholder values ``init`` writes where the schema's default would not pass.
_INIT_VALUES: dict[tuple[str, ...], Any] = {
    ("review_dir",): ".",
    ("screening", "reviewers"): ["reviewer_1", "reviewer_2"],
    ("screening", "exclusion_reasons"): [
        "Wrong population",
        "Wrong intervention",
        "Wrong comparator",
        "Wrong outcomes",
        "Wrong study design",
        "Review or commentary",
        "Protocol or ongoing study",
    ],
}
#: Extra comments for some keys of the template config.
_INIT_NOTES: dict[tuple[str, ...], str] = {
    ("review_dir",): (
        "'.': the input tables sit in this folder, beside config.yaml. Results go "
        "to results/ in this folder."
    ),
    ("screening", "reviewers"): "Replace the placeholders with your reviewers' names.",
    ("screening", "reviewers_per_record", "title_abstract"): (
        "Decisions each record needs at title/abstract."
    ),
    ("screening", "reviewers_per_record", "full_text"): (
        "Decisions each report needs at full text."
    ),
    ("screening", "exclusion_reasons"): (
        "Edit before full-text screening starts: every full-text exclusion must "
        "give one of these, exactly as written."
    ),
    ("meta", "analyses"): (
        "Add one entry per analysis, e.g.:\n"
        "  - name: mental_health            # file-safe: a-z, 0-9, _\n"
        "    label: Mental health           # for tables and plots\n"
        "    domains: [mental_health]       # effects.csv domains pooled (default [name])\n"
        "    measure: SMD                   # SMD, MD, OR, RR or RD\n"
        "    subgroups: [design]            # studies.csv columns to split by\n"
        "    moderators: [months]           # numeric columns for meta-regression"
    ),
}


def _yaml_value(value: Any) -> str:
    text = yaml.safe_dump(
        value, default_flow_style=True, allow_unicode=True, width=1000
    )
    return text.removesuffix("\n...\n").strip()


def _comment(text: str, indent: int) -> list[str]:
    pad = " " * indent
    out = []
    for paragraph in text.split("\n"):
        if paragraph.startswith(" "):  # pre-formatted example lines
            out.append(f"{pad}#   {paragraph}")
            continue
        out += [
            f"{pad}# {line}"
            for line in textwrap.wrap(" ".join(paragraph.split()), 86 - indent)
        ]
    return out


def _config_lines(
    properties: Mapping[str, Any],
    values: Mapping[tuple[str, ...], Any],
    path: tuple[str, ...],
    indent: int,
) -> list[str]:
    lines: list[str] = []
    pad = " " * indent
    for key, sub in properties.items():
        here = (*path, key)
        if lines and not path:
            lines.append("")
        description = " ".join(str(sub.get("description", "")).split())
        note = _INIT_NOTES.get(here, "")
        choices = ""
        if "enum" in sub:
            choices = " One of: " + ", ".join(str(v) for v in sub["enum"]) + "."
        if description:
            text = description + choices + (f"\n{note}" if note else "")
        else:
            text = note + choices
        if text.strip():
            lines += _comment(text.strip(), indent)
        if sub.get("type") == "object" and "properties" in sub:
            lines.append(f"{pad}{key}:")
            lines += _config_lines(sub["properties"], values, here, indent + 2)
            continue
        value = values.get(here, sub.get("default"))
        if isinstance(value, list) and len(value) > 3:
            lines.append(f"{pad}{key}:")
            lines += [f"{pad}  - {_yaml_value(item)}" for item in value]
        else:
            lines.append(f"{pad}{key}: {_yaml_value(value)}")
    return lines


def config_template(title: str | None = None, review_id: str | None = None) -> str:
    """Return the ``config.yaml`` that ``evsynth init`` writes: every key, commented.

    The keys, their defaults and their comments come from the config schema,
    so the template always has every key. ``review_dir`` is ``.``; the
    screening reviewers are placeholders and the full-text exclusion reasons a
    usual list, so that the new review validates.

    Parameters
    ----------
    title : str, optional
        The review's title (default: the schema's ``Untitled review``).
    review_id : str, optional
        The review's identity (default: empty, the folder's path).

    Returns
    -------
    str
        The YAML text.
    """
    schema = load_schema("config")
    values = dict(_INIT_VALUES)
    if title:
        values[("review_title",)] = title
    if review_id:
        values[("review_id",)] = review_id
    head = [
        "# Settings of this review, written by `evsynth init`. config/README.md in the",
        "# evsynth repository explains every key and every input table's columns;",
        "# src/evsynth/schemas/config.schema.yaml (workflow/schemas/) is the formal",
        "# definition. Paths are relative to review_dir. Check with `evsynth validate`.",
        "",
    ]
    body = _config_lines(schema["properties"], values, (), 0)
    return "\n".join([*head, *body]) + "\n"


_SEARCHES_README = """\
# Search exports

Put every raw export here exactly as the database gave it (never edit an export
by hand), and list each in `searches.csv`, one row per file. Every file in this
folder except `searches.csv`, `README*` and hidden files must be listed, so that
no search is left out by mistake.

## Columns of `searches.csv`

| column | required | meaning |
|---|---|---|
{rows}

## `kind`: where the records count in the PRISMA 2020 diagram

- `database`: a bibliographic database (MEDLINE, PsycInfo, Scopus, Web of
  Science, ...).
- `register`: a trials or study register (CENTRAL, ClinicalTrials.gov, ICTRP, ...).
- `website`: a web search or search engine (e.g. Google Scholar).
- `organisation`: hand-searching organisations' websites and publications.
- `citation`: citation searching (backward or forward).

Records found only via `website`, `organisation` or `citation` are identified via
other methods: they go straight to full-text retrieval and take no title/abstract
decision.

`update` is 0 for the original searches and 1, 2, ... for update searches.
`n_reported` is the number of records the database reported; it is compared with
the records found in the file. `format` forces a format (`evsynth formats` lists
them) instead of detecting it from the content.

Example row:

```text
file,database,kind,date_searched,update,query,n_reported,format
medline.nbib,MEDLINE (PubMed),database,2024-03-01,0,"mentor*[tiab] AND foster*[tiab]",38,
```
"""

_REVIEW_README = """\
# {title}

An evsynth review folder, made by `evsynth init`. Every table is a UTF-8 CSV with
a header line; `config/README.md` in the evsynth repository explains every key and
every column. A table with only its header means that stage has nothing to do yet.

| file | what goes in it |
|---|---|
| `config.yaml` | The review's settings: title, reviewers, resolvers, full-text exclusion reasons, effect-size and meta-analysis settings, and the paths below. |
| `searches/` | The raw search exports, never edited; `searches/README.md` says how to list them. |
{rows}

This folder is the review: the workflow runs here and writes everything to
`results/` in it (results, `results/history/` of each update round, the logs in
`results/logs/`), with Snakemake's state in `.snakemake/`. `results/` records
which review wrote it, so another review's results are never mixed in.

## Next

1. Put the search exports in `searches/` and list them in `searches/searches.csv`;
   set the reviewers and the exclusion reasons in `config.yaml`.
2. Check every file: `evsynth validate {directory}`
3. Run the workflow: `evsynth run --cores 2 {directory}` (or `evsynth run --cores 2`
   inside this folder).
4. See what is done and what is still to do: `evsynth status {directory}`
5. Screen with the sheets in `results/screening/sheets/` and append the decisions
   to `screening/decisions.csv`; record the full texts in
   `screening/retrieval.csv`; group the included reports in `studies.csv`;
   extract into `extraction/` and `qualitative/`; validate and run again.
"""


def _searches_readme() -> str:
    schema = load_schema("searches")
    props = schema["properties"]
    required = set(schema["required"])
    rows = "\n".join(
        f"| `{c}` | {'yes' if c in required else 'no'} | "
        f"{' '.join(str(props[c].get('description', '')).split())} |"
        for c in _SPECS["searches"].columns
    )
    return _SEARCHES_README.format(rows=rows)


def _review_readme(directory: str, title: str) -> str:
    rows = []
    for spec in TABLES:
        required = load_schema(spec.schema).get("required", [])
        path = _schema_default((spec.section, spec.setting))
        made = "" if spec.template else " Not created by `evsynth init`."
        columns = ", ".join(f"`{c}`" for c in spec.columns if c in required)
        purpose = spec.purpose[0].upper() + spec.purpose[1:]
        rows.append(f"| `{path}` | {purpose}.{made} Required columns: {columns}. |")
    return _REVIEW_README.format(title=title, rows="\n".join(rows), directory=directory)


@dataclass
class InitResult:
    """What :func:`init_review` did.

    Parameters
    ----------
    directory : Path
        The review folder.
    created : list of Path
        Files written.
    kept : list of Path
        Template files that already existed and were left as they were.
    """

    directory: Path
    created: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)


def template_files(
    directory: str | Path, title: str | None = None, review_id: str | None = None
) -> dict[str, str]:
    """Return every file ``evsynth init`` writes, by path relative to the review folder.

    Parameters
    ----------
    directory : str or Path
        The review folder as the user names it (shown in the README).
    title : str, optional
        The review's title.
    review_id : str, optional
        The review's identity written into ``config.yaml`` (default: none).

    Returns
    -------
    dict of str to str
        Relative path -> text.
    """
    title = title or str(_schema_default(("review_title",)))
    files = {
        "config.yaml": config_template(title, review_id),
        "README.md": _review_readme(Path(directory).as_posix(), title),
        "searches/README.md": _searches_readme(),
    }
    for spec in TABLES:
        if not spec.template:
            continue
        path = str(_schema_default((spec.section, spec.setting)))
        files[path] = ",".join(spec.columns) + "\n"
    return files


def init_review(
    directory: str | Path, *, title: str | None = None, force: bool = False
) -> InitResult:
    """Create a review folder with every template file.

    Parameters
    ----------
    directory : str or Path
        The new review folder (created if needed).
    title : str, optional
        The review's title, for ``config.yaml`` and ``README.md``.
    force : bool
        Allow a folder that is not empty; only missing files are added, an
        existing file is never overwritten.

    Notes
    -----
    ``config.yaml`` gets a new ``review_id`` (a slug of the title and random
    digits), the identity that ``results/`` records.

    Returns
    -------
    InitResult
        Files created and kept.

    Raises
    ------
    EvsynthError
        If ``directory`` is a file, or a non-empty folder without ``force``.
    """
    folder = Path(directory)
    if folder.exists() and not folder.is_dir():
        raise EvsynthError(f"{folder} exists and is not a folder")
    if folder.is_dir() and any(folder.iterdir()) and not force:
        raise EvsynthError(
            f"{folder} is not empty: choose a new folder, or pass --force to add the "
            "missing template files (existing files are never overwritten)"
        )
    result = InitResult(folder)
    review_id = new_review_id(title)
    for relative, text in template_files(directory, title, review_id).items():
        path = folder / relative
        if path.exists():
            result.kept.append(path)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        result.created.append(path)
    return result


#: What ``evsynth init --example`` copies from the example review.
EXAMPLE_FILES = ("config/config.yaml", "config/README.md", "data")

_EXAMPLE_README = """\
# A copy of evsynth's example review

Made by `evsynth init --example`: the example review of the evsynth repository
(mentoring and befriending for care-experienced children and young people), to
try the workflow and its update round without touching the repository.

- `config/config.yaml`: the review's settings (`config/README.md` explains every
  key); `data/`: its inputs (`data/README.md` says which numbers are published and
  which constructed).
- Run it: `evsynth run --cores 2 {directory}`; everything is written to
  `{directory}/results/`.
- Then apply the update round and run again:
  `python {directory}/data/updates/round_1/apply.py {directory}` and
  `evsynth run --cores 2 {directory}`; `results/changes/changes.md` says what
  changed.
"""


def init_example(directory: str | Path) -> InitResult:
    """Copy the example review, with its update round, into a new review folder.

    The copy has the repository's layout (``config/config.yaml`` with
    ``review_dir: data``, ``data/``), so that the README's tour runs in it
    unchanged, and a new ``review_id``: it is a review of its own.

    Parameters
    ----------
    directory : str or Path
        The new review folder (created; must not exist or be empty).

    Returns
    -------
    InitResult
        Files created.

    Raises
    ------
    EvsynthError
        If ``directory`` is a file or a non-empty folder, or evsynth's example
        is not installed.
    """
    source = example_folder()
    folder = Path(directory)
    if folder.exists() and not folder.is_dir():
        raise EvsynthError(f"{folder} exists and is not a folder")
    if folder.is_dir() and any(folder.iterdir()):
        raise EvsynthError(
            f"{folder} is not empty: choose a new folder for the example"
        )
    result = InitResult(folder)
    for name in EXAMPLE_FILES:
        origin = source / name
        if origin.is_dir():
            shutil.copytree(origin, folder / name, symlinks=False)
            result.created += sorted(
                p for p in (folder / name).rglob("*") if p.is_file()
            )
        else:
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(origin, folder / name)
            result.created.append(folder / name)
    config = folder / "config/config.yaml"
    text = config.read_text(encoding="utf-8")
    line = f"review_id: {new_review_id('example')}"
    text, found = re.subn(r"(?m)^review_id:.*$", line, text, count=1)
    if not found:
        text = f"{line}\n{text}"
    config.write_text(text, encoding="utf-8", newline="\n")
    readme = folder / "README.md"
    readme.write_text(
        _EXAMPLE_README.format(directory=folder.as_posix()),
        encoding="utf-8",
        newline="\n",
    )
    result.created.append(readme)
    return result
