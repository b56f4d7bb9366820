"""The review's config file: where it is, its settings, and its checks.

* :func:`resolve_review` finds the config file and the review folder from the
  command line, as ``evsynth validate`` and ``status`` use them.
* :func:`check_config` checks a config against its JSON Schema and the
  screening settings' own checks, collecting every problem with its line and
  key.
* The private helpers read one setting (or the schema's default) and load a
  config that must be valid.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jsonschema

from evsynth.errors import EvsynthError, InputError
from evsynth.validation import describe_error, load_schema, with_defaults
from evsynth.yamlsafe import read_yaml_mapping

__all__ = ["check_config", "resolve_review"]


def _schema_default(path: Sequence[str]) -> Any:
    """Return the config schema's default of a key (``("records", "manifest")``)."""
    node: dict[str, Any] = load_schema("config")
    for key in path:
        node = node["properties"][key]
    return node.get("default")


def _setting(config: Mapping[str, Any], section: str, key: str) -> Any:
    """Return a config value if it has the right type, else the schema's default."""
    default = _schema_default((section, key))
    block = config.get(section)
    value = block.get(key) if isinstance(block, Mapping) else None
    return value if isinstance(value, type(default)) else default


def resolve_review(
    directory: str | Path | None, config: str | Path | None
) -> tuple[Path, Path | None, Path]:
    """Find the config file, the input folder and the review folder of a command.

    Without ``--config``, :func:`evsynth.project.review.find_review` finds the
    review: the folder ``DIR`` (or the ``review_dir`` of a review above it), or
    the review of the current directory. With ``--config FILE``, the review
    folder is the one holding the config (its parent's parent for
    ``config/config.yaml``) and ``DIR``, if given, is the folder of the input
    tables instead of the config's ``review_dir``.

    Parameters
    ----------
    directory : path or None
        The review folder given on the command line.
    config : path or None
        The config file given with ``--config``.

    Returns
    -------
    tuple of (Path, Path or None, Path)
        The config file, the folder of the input tables (None: the config's
        ``review_dir``, relative to the review folder) and the review folder.

    Raises
    ------
    EvsynthError
        If no review folder is found.
    """
    from evsynth.project.review import find_review

    if config is not None:
        review = find_review(None, config)
        return review.config_file, (Path(directory) if directory else None), review.root
    review = find_review(directory)
    return review.config_file, None, review.root


def check_config(path: str | Path) -> tuple[dict[str, Any] | None, list[InputError]]:
    """Check a config file and return it with defaults and every problem found.

    Parameters
    ----------
    path : str or Path
        The YAML config.

    Returns
    -------
    tuple of (dict or None, list of InputError)
        The config with the schema's defaults filled in (None if the file
        cannot be read as a YAML mapping), and every problem: each schema error
        with its line and key, then the screening settings' own checks.
    """
    from evsynth.screening.model import Settings

    path = Path(path)
    if not path.is_file():
        return None, [
            InputError(
                "config file not found",
                file=path,
                expected="a config (evsynth init writes one; or pass --config)",
            )
        ]
    try:
        document = read_yaml_mapping(path)
    except InputError as error:
        return None, [error]
    raw = document.data
    schema = load_schema("config")
    filled = with_defaults(raw, schema)
    errors: list[InputError] = []
    validator = jsonschema.Draft202012Validator(schema)
    bad_paths: list[tuple[Any, ...]] = []
    for error in sorted(
        validator.iter_errors(filled), key=lambda e: document.line_of(e.path) or 0
    ):
        where = tuple(error.path)
        bad_paths.append(where)
        if error.validator == "additionalProperties" and isinstance(
            error.instance, dict
        ):
            allowed = list(
                error.schema.get("properties", {})
                if isinstance(error.schema, dict)
                else {}
            )
            for key in error.instance:
                if key not in allowed:
                    errors.append(
                        InputError(
                            f"unknown key {key!r}",
                            file=path,
                            line=document.line_of((*where, key)),
                            column="/".join(str(p) for p in (*where, key)),
                            expected="one of " + ", ".join(allowed),
                        )
                    )
            continue
        errors.append(
            InputError(
                error.message,
                file=path,
                line=document.line_of(where),
                column="/".join(str(p) for p in where) or "(top level)",
                expected=describe_error(error),
            )
        )
    if not any(p[:1] == ("screening",) for p in bad_paths):
        try:
            Settings.from_config(filled["screening"], source=str(path))
        except InputError as exc:
            column = exc.location.column or ""
            errors.append(
                InputError(
                    exc.message,
                    file=path,
                    line=document.line_of(column.split("/")),
                    column=column or None,
                    expected=exc.expected,
                )
            )
    if isinstance(filled.get("meta"), dict):
        from evsynth.grade.binary import mid_problems

        for exc in mid_problems(filled["meta"], source=str(path)):
            column = exc.location.column or ""
            where = tuple(int(p) if p.isdigit() else p for p in column.split("/"))
            if any(where[: len(b)] == b or b[: len(where)] == where for b in bad_paths):
                continue  # the schema already named it
            errors.append(
                InputError(
                    exc.message,
                    file=path,
                    line=document.line_of(where),
                    column=column or None,
                    expected=exc.expected,
                )
            )
    return filled, errors


def _load_valid_config(path: Path) -> dict[str, Any]:
    """Return the config with defaults, or raise its first problem."""
    config, errors = check_config(path)
    if errors or config is None:
        raise EvsynthError(
            f"{errors[0]}; run evsynth validate to see every problem"
            if errors
            else f"{path}: cannot read the config"
        )
    return config
