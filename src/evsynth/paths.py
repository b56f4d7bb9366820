"""Paths taken from a review's files stay inside the review.

Every file of a review folder may come from someone else, so a path read from
one is checked before anything is opened: it must hold no control character
and lead (after symbolic links) inside the folder it belongs to: the config's
``review_dir`` inside the review folder, its table paths inside ``review_dir``,
a manifest's ``file`` inside the searches folder. A manifest name must also be
relative, without ``..``, and safe in the names of the files the workflow
writes for it (:data:`SAFE_NAME`, the ``{file}`` wildcard's constraint), so no
output built from one can leave ``results/``.

* :func:`path_problem` says why a path does not stay inside its folder.
* :func:`config_path_errors` checks the config's ``review_dir`` and the path
  of every input table.
* :func:`searches_path_errors` checks every ``file`` of the search manifest
  and every link in the searches folder.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from evsynth.errors import InputError

__all__ = [
    "SAFE_NAME",
    "config_path_errors",
    "name_error",
    "path_problem",
    "review_path_errors",
    "searches_path_errors",
]

_SEGMENT = r"[^./\\\x00-\x1f\x7f][^/\\\x00-\x1f\x7f]*"
#: A manifest name, and the ``{file}`` wildcard's constraint: parts separated
#: by ``/``, none empty or starting with ``.`` (so never ``..``), no backslash
#: and no control character (NUL, newline, ...).
SAFE_NAME = rf"{_SEGMENT}(?:/{_SEGMENT})*"
#: An analysis name (the config schema's pattern), the ``{analysis}`` wildcard's
#: constraint.
SAFE_ANALYSIS = r"[a-z0-9][a-z0-9_]*"
_SCHEMA_ANALYSIS = rf"^{SAFE_ANALYSIS}$"

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

#: Config paths of folders (which may be the folder they belong to, ``.``).
_FOLDER_SETTINGS = {("records", "searches_dir")}


def path_problem(
    value: object,
    folder: str | Path,
    *,
    allow_folder: bool = False,
    relative: bool = True,
) -> str | None:
    """Say why ``value``, a path read from an input, does not lead inside ``folder``.

    Parameters
    ----------
    value : object
        The path as read (relative to ``folder``).
    folder : str or Path
        The folder it must stay inside.
    allow_folder : bool
        Whether ``folder`` itself is allowed (``.``, for a folder setting).
    relative : bool
        Whether the path must also be written relative and without ``..`` (a
        manifest name); otherwise only where it leads counts (a config path).

    Returns
    -------
    str or None
        What is wrong, or None when the path, symbolic links resolved, lies
        inside ``folder``.
    """
    if not isinstance(value, str):
        return "is not a path"
    if _CONTROL.search(value):
        return "holds a control character (NUL, newline, tab, ...)"
    text = value
    if text == "" and not allow_folder:
        return "is empty"
    if relative and (text.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", text)):
        return "is an absolute path"
    if relative and ".." in PurePosixPath(text.replace("\\", "/")).parts:
        return "goes up out of its folder with '..'"
    try:
        base = Path(folder).resolve()
        target = (base / text).resolve()
    except (OSError, RuntimeError, ValueError):
        return "cannot be resolved (a loop of links?)"
    if target == base:
        return None if allow_folder else "is the folder itself, not a file in it"
    if not target.is_relative_to(base):
        return f"leads outside {folder} (to {target})"
    return None


def _expected(folder: str | Path, what: str, relative: bool = True) -> str:
    rule = " (relative, without '..')" if relative else ""
    return f"a path inside {what} {folder}{rule}"


def name_error(
    name: object,
    folder: str | Path,
    *,
    file: str | Path,
    row: int | None = None,
    line: int | None = None,
    column: str = "file",
) -> InputError | None:
    """Check one export name of the search manifest.

    Parameters
    ----------
    name : object
        The ``file`` cell.
    folder : str or Path
        The searches folder.
    file : str or Path
        The manifest (for the message).
    row : int, optional
        1-based data row.
    line : int, optional
        1-based line (default: ``row + 1``, the header being line 1).
    column : str
        The column (``file``).

    Returns
    -------
    InputError or None
        The problem, naming the manifest, row, column and what was expected.
    """
    if isinstance(name, str):
        name = name.strip()  # as the manifest's readers take it
    problem = path_problem(name, folder)
    if problem is None and not re.fullmatch(SAFE_NAME, str(name)):
        problem = (
            "has a part that is empty or starts with '.', or a backslash, which "
            "evsynth does not use in the names of the files it writes"
        )
    if problem is None:
        return None
    return InputError(
        f"{name!r} {problem}",
        file=file,
        line=line if line is not None or row is None else row + 1,
        row=row,
        column=column,
        expected=_expected(folder, "the searches folder"),
    )


def _line_finder(config_file: str | Path) -> Callable[[tuple[Any, ...]], int | None]:
    """Return a finder of the line of a config key, or of its nearest parent."""
    from evsynth.yamlsafe import YamlDocument, read_yaml

    try:
        document = read_yaml(config_file)
    except InputError:  # reported by the config's own checks
        document = YamlDocument(None)
    return document.line_of


def config_path_errors(
    config: Mapping[str, Any],
    root: str | Path,
    config_file: str | Path,
    review_dir: str | Path | None = None,
) -> list[InputError]:
    """Check that the config's paths stay inside the review.

    ``review_dir`` must lead inside the review folder, and every table path of
    the config (``records.manifest``, ``records.searches_dir``,
    ``records.dedup_decisions``, ``screening.*``, ``effects.file``,
    ``rob.file``, ``qualitative.*``) inside ``review_dir``. Nothing is opened
    but the config file (for line numbers).

    Parameters
    ----------
    config : mapping
        The config (with the schema's defaults).
    root : str or Path
        The review folder.
    config_file : str or Path
        The config file (for the messages).
    review_dir : str or Path, optional
        The folder of the input tables when named on the command line
        (``--config FILE DIR``); then ``review_dir`` of the config is not used.

    Returns
    -------
    list of InputError
        One per path that leads elsewhere, with the config's line and key. When
        ``review_dir`` leads outside the review, only that one.
    """
    from evsynth.project.configfile import _setting
    from evsynth.project.tables import TABLES

    line_of = _line_finder(config_file)
    if review_dir is None:
        value = config.get("review_dir", "data")
        if not isinstance(value, str):
            value = "data"  # the schema's problem; validate reads "data" then
        problem = path_problem(value, root, allow_folder=True, relative=False)
        if problem is not None:
            return [
                InputError(
                    f"review_dir {value!r} {problem}",
                    file=config_file,
                    line=line_of(("review_dir",)),
                    column="review_dir",
                    expected=_expected(root, "the review folder", relative=False),
                )
            ]
        review_dir = Path(root) / value
    settings = [(spec.section, spec.setting) for spec in TABLES]
    settings.insert(1, ("records", "searches_dir"))
    errors = []
    for section, key in settings:
        value = _setting(config, section, key)
        problem = path_problem(
            value,
            review_dir,
            allow_folder=(section, key) in _FOLDER_SETTINGS,
            relative=False,
        )
        if problem is not None:
            errors.append(
                InputError(
                    f"{section}.{key} {value!r} {problem}",
                    file=config_file,
                    line=line_of((section, key)),
                    column=f"{section}/{key}",
                    expected=_expected(review_dir, "review_dir", relative=False),
                )
            )
    meta = config.get("meta")
    analyses = meta.get("analyses") if isinstance(meta, Mapping) else None
    for index, analysis in enumerate(analyses if isinstance(analyses, list) else []):
        name = analysis.get("name") if isinstance(analysis, Mapping) else None
        # a name with a final line break (the schema refuses it too); the rest
        # of a bad name is the schema's problem
        if (
            isinstance(name, str)
            and re.search(_SCHEMA_ANALYSIS, name)
            and not re.fullmatch(SAFE_ANALYSIS, name)
        ):
            errors.append(
                InputError(
                    f"analysis name {name!r} ends with a line break",
                    file=config_file,
                    line=line_of(("meta", "analyses", index, "name")),
                    column=f"meta/analyses/{index}/name",
                    expected="a file-safe name (lower case letters, digits, _)",
                )
            )
    return errors


def searches_path_errors(manifest: str | Path, folder: str | Path) -> list[InputError]:
    """Check every ``file`` of the search manifest and every link in the folder.

    The manifest is read leniently (its other checks are the import's and
    ``evsynth validate``'s): every row's ``file`` must be a safe name
    (:func:`name_error`) and every file in the searches folder must resolve
    inside it. No export is opened.

    Parameters
    ----------
    manifest : str or Path
        ``searches.csv``.
    folder : str or Path
        The searches folder.

    Returns
    -------
    list of InputError
        Every problem, with the manifest's line, row and column, or the link.
    """
    errors: list[InputError] = []
    try:
        with Path(manifest).open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            header = [h.strip().lower() for h in next(reader, [])]
            column = header.index("file") if "file" in header else None
            row = 0
            line = reader.line_num + 1
            for cells in reader:
                if not cells:  # a blank line is not a row
                    line = reader.line_num + 1
                    continue
                row += 1
                if column is not None:
                    value = cells[column] if column < len(cells) else ""
                    error = name_error(value, folder, file=manifest, row=row, line=line)
                    if error is not None:
                        errors.append(error)
                line = reader.line_num + 1
    except (OSError, UnicodeDecodeError, csv.Error):
        pass  # unreadable: the manifest's own checks say so
    base = Path(folder)
    if base.is_dir():
        for path in sorted(base.rglob("*")):
            if not path.is_symlink():
                continue
            inside = path.relative_to(base).as_posix()
            problem = path_problem(inside, base)
            if problem is not None:
                errors.append(
                    InputError(
                        f"{inside!r} {problem}",
                        file=path,
                        expected=_expected(base, "the searches folder")
                        + ": an export file, not a link to a file elsewhere",
                    )
                )
    return errors


def review_path_errors(
    config: Mapping[str, Any],
    root: str | Path,
    config_file: str | Path,
    review_dir: str | Path | None = None,
) -> list[InputError]:
    """Every path problem of a review: the config's paths, then the manifest's.

    The manifest is checked only when the config's paths are safe (it is not
    opened otherwise).

    Parameters
    ----------
    config : mapping
        The config (with the schema's defaults).
    root : str or Path
        The review folder.
    config_file : str or Path
        The config file.
    review_dir : str or Path, optional
        The folder of the input tables when named on the command line.

    Returns
    -------
    list of InputError
        The problems of :func:`config_path_errors`, or else of
        :func:`searches_path_errors`.
    """
    from evsynth.project.configfile import _setting

    errors = config_path_errors(config, root, config_file, review_dir)
    if errors:
        return errors
    inputs = Path(root) / config["review_dir"] if review_dir is None else review_dir
    return searches_path_errors(
        Path(inputs) / _setting(config, "records", "manifest"),
        Path(inputs) / _setting(config, "records", "searches_dir"),
    )
