"""The review folder: the unit that owns a review's config, results and history.

A review folder holds its config (``config.yaml``, as ``evsynth init`` writes
it, or ``config/config.yaml``, as in the evsynth repository's example), its
input tables (under the config's ``review_dir``, relative to the folder), and
everything the workflow writes: ``results/`` (with ``results/history/`` and
``results/logs/``) and Snakemake's state ``.snakemake/``. The workflow itself
comes from the installed evsynth package and runs with the review folder as
its working directory (``snakemake --directory DIR``), so that no file of the
review is code and no review reads another's results.

* :func:`find_review` finds the review a command acts on: the folder named on
  the command line, or the review of the current directory.
* :func:`check_results` is the guard against mixing: ``results/`` carries the
  identity of the review that wrote it (:data:`IDENTITY_FILE`), and a command
  on a ``results/`` written by another review stops.
* :func:`workflow_snakefile`, :func:`workflow_profile` and :func:`example_folder`
  find the workflow, its profiles and the example review shipped with evsynth.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evsynth.errors import EvsynthError, InputError
from evsynth.yamlsafe import read_yaml

__all__ = [
    "CONFIG_NAMES",
    "IDENTITY_FILE",
    "Review",
    "check_results",
    "config_file_in",
    "example_folder",
    "find_review",
    "new_review_id",
    "read_identity",
    "review_identity",
    "workflow_profile",
    "workflow_snakefile",
    "write_identity",
]

#: Where a review folder keeps its config, in the order looked for.
CONFIG_NAMES = ("config.yaml", "config/config.yaml")

#: The file in ``results/`` naming the review that wrote it.
IDENTITY_FILE = "evsynth_review.json"


@dataclass(frozen=True)
class Review:
    """A review folder and its config file.

    Parameters
    ----------
    root : Path
        The review folder: the workflow's working directory, holding
        ``results/`` and ``.snakemake/``.
    config_file : Path
        The review's config (usually ``root/config.yaml`` or
        ``root/config/config.yaml``).
    """

    root: Path
    config_file: Path

    @property
    def results(self) -> Path:
        """The review's results folder, ``root/results``."""
        return self.root / "results"

    def config_name(self) -> str:
        """Return the config file as the review's users name it.

        Returns
        -------
        str
            The path relative to the review folder (``config.yaml``,
            ``config/config.yaml``), or the full path of a config kept
            elsewhere.
        """
        return _relative_name(self.config_file, self.root)

    def data_dir(self, config: Mapping[str, Any]) -> Path:
        """Return the folder of the review's input tables (the config's ``review_dir``).

        Parameters
        ----------
        config : mapping
            The review's config.

        Returns
        -------
        Path
            ``review_dir`` joined to the review folder (as given if absolute).
        """
        return self.root / str(config.get("review_dir", "."))


def _relative_name(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` if inside it, else its full path (POSIX)."""
    full, base = Path(path).resolve(), Path(root).resolve()
    try:
        return full.relative_to(base).as_posix()
    except ValueError:
        return full.as_posix()


def config_file_in(folder: str | Path) -> Path | None:
    """Return the config of the review folder ``folder``, if it has one.

    Parameters
    ----------
    folder : str or Path
        A folder.

    Returns
    -------
    Path or None
        ``folder/config.yaml`` or ``folder/config/config.yaml``.

    Raises
    ------
    EvsynthError
        If the folder has both, so that two commands could read different
        settings.
    """
    found = [Path(folder) / name for name in CONFIG_NAMES]
    found = [path for path in found if path.is_file()]
    if len(found) > 1:
        raise EvsynthError(
            f"{folder} has both {found[0].name} and {found[1].relative_to(folder)}: "
            "keep one, so that every command reads the same settings"
        )
    return found[0] if found else None


def _root_of_config(config_file: Path) -> Path:
    """Return the review folder of a config named with ``--config``."""
    parent = config_file.parent
    if parent.name == "config" and config_file.name == "config.yaml":
        return parent.parent
    return parent


def _declared_data_dir(review: Review) -> Path | None:
    """Return the ``review_dir`` a config names, read leniently (None if unreadable)."""
    try:
        raw = read_yaml(review.config_file).data
    except InputError:  # the config's own check reports it
        return None
    if not isinstance(raw, dict):
        return None
    value = raw.get("review_dir", "data")
    return review.data_dir({"review_dir": value}) if isinstance(value, str) else None


def _same_folder(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:  # pragma: no cover - unresolvable paths are not the same
        return False


def _not_a_review(folder: Path, inside: Path | None = None) -> EvsynthError:
    if inside is not None:
        return EvsynthError(
            f"{folder} is not a review folder: it has no config.yaml (nor "
            f"config/config.yaml); it lies inside the review {inside}: name that "
            "folder instead"
        )
    return EvsynthError(
        f"{folder} is not a review folder: it has no config.yaml (nor "
        f"config/config.yaml). Make one with `evsynth init {folder}`, or name the "
        "review folder on the command line"
    )


def find_review(
    directory: str | Path | None = None, config: str | Path | None = None
) -> Review:
    """Find the review a command acts on.

    * With ``config`` (``--config FILE``): that config, in the folder
      ``directory`` if given, else in the folder holding the config (its
      parent's parent for ``config/config.yaml``).
    * With ``directory``: the review folder ``directory`` (it holds
      ``config.yaml`` or ``config/config.yaml``). A folder that is the
      ``review_dir`` (input tables) of a review above it, such as the
      example's ``data/``, stands for that review.
    * With neither: the review of the current directory, or of the nearest
      folder above it that holds a config (as ``git`` finds its repository).

    Parameters
    ----------
    directory : str or Path, optional
        The review folder named on the command line.
    config : str or Path, optional
        The config file named with ``--config``.

    Returns
    -------
    Review
        The review folder and its config.

    Raises
    ------
    EvsynthError
        If the folder does not exist or is not a review folder.
    """
    if config is not None:
        config_file = Path(config)
        if not config_file.is_file():
            raise EvsynthError(f"{config_file}: config file not found")
        root = (
            Path(directory) if directory is not None else _root_of_config(config_file)
        )
        if not root.is_dir():
            raise EvsynthError(f"{root}: review folder not found")
        return Review(root, config_file)
    if directory is not None:
        folder = Path(directory)
        if not folder.is_dir():
            raise EvsynthError(
                f"{folder}: review folder not found (make one with "
                f"`evsynth init {folder}`)"
            )
        found = config_file_in(folder)
        if found is not None:
            return Review(folder, found)
        for above in Path(folder).resolve().parents:
            found = config_file_in(above)
            if found is None:
                continue
            review = Review(above, found)
            data = _declared_data_dir(review)
            if data is not None and _same_folder(data, folder):
                return Review(_shortest(above), _shortest(found))
            raise _not_a_review(folder, _shortest(above))
        raise _not_a_review(folder)
    here = Path.cwd()
    for folder in (here, *here.parents):
        found = config_file_in(folder)
        if found is not None:
            return Review(_shortest(folder), _shortest(found))
    raise EvsynthError(
        f"no review here: neither {here} nor a folder above it has a config.yaml "
        "(or config/config.yaml). Make a review with `evsynth init DIR`, then run "
        "the command inside DIR or name DIR on the command line"
    )


def _shortest(path: Path) -> Path:
    """``path`` relative to the current directory when inside it (for messages)."""
    try:
        relative = Path(path).resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return Path(path).resolve()
    return relative if str(relative) != "" else Path()


# --- identity of the review that wrote results/ ------------------------------------


def new_review_id(title: str | None = None) -> str:
    """Make a new review id: a slug of the title and 8 random hex digits.

    Parameters
    ----------
    title : str, optional
        The review's title.

    Returns
    -------
    str
        For example ``mentoring-for-care-leavers-3f9a01c2``.
    """
    words = re.findall(r"[a-z0-9]+", (title or "").lower())
    slug = "-".join(words)[:40].strip("-") or "review"
    return f"{slug}-{secrets.token_hex(4)}"


def review_identity(
    root: str | Path, config: Mapping[str, Any], config_file: str | Path
) -> dict[str, str]:
    """Return what ``results/`` records of the review that wrote it.

    Parameters
    ----------
    root : str or Path
        The review folder.
    config : mapping
        The review's config.
    config_file : str or Path
        The config file.

    Returns
    -------
    dict
        ``review_id`` (the config's, "" if it has none), ``title``, ``config``
        (relative to the folder when inside it) and ``folder`` (its full path).
    """
    return {
        "review_id": str(config.get("review_id") or ""),
        "title": str(config.get("review_title") or ""),
        "config": _relative_name(Path(config_file), Path(root)),
        "folder": Path(root).resolve().as_posix(),
    }


def read_identity(results: str | Path) -> dict[str, str] | None:
    """Return the identity recorded in a results folder (None if it has none).

    Parameters
    ----------
    results : str or Path
        A results folder.

    Returns
    -------
    dict or None
        The recorded identity.

    Raises
    ------
    EvsynthError
        If the identity file cannot be read as the JSON evsynth writes.
    """
    path = Path(results) / IDENTITY_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise EvsynthError(
            f"{path}: cannot read which review wrote these results ({exc}); "
            f"move {results} aside and run again"
        ) from None
    if not isinstance(data, dict):
        raise EvsynthError(
            f"{path}: not the identity evsynth writes (a JSON object); move "
            f"{results} aside and run again"
        )
    return {str(k): str(v) for k, v in data.items()}


def _same_review(recorded: Mapping[str, str], current: Mapping[str, str]) -> bool:
    """Whether two identities are of one review.

    Two review ids decide when both are set (a moved or renamed folder keeps
    its id); otherwise the folder does.
    """
    old_id, new_id = recorded.get("review_id", ""), current.get("review_id", "")
    if old_id and new_id:
        return old_id == new_id
    return recorded.get("folder", "") == current.get("folder", "")


def check_results(
    root: str | Path,
    config: Mapping[str, Any],
    config_file: str | Path,
    results: str | Path | None = None,
) -> None:
    """Stop if ``results/`` was written by another review.

    Parameters
    ----------
    root : str or Path
        The review folder.
    config : mapping
        The review's config.
    config_file : str or Path
        The review's config file.
    results : str or Path, optional
        The results folder checked (default ``root/results``).

    Raises
    ------
    EvsynthError
        If the results folder records another review, naming it and saying
        what to do.
    """
    folder = Path(results) if results is not None else Path(root) / "results"
    recorded = read_identity(folder)
    if recorded is None:
        return
    current = review_identity(root, config, config_file)
    if _same_review(recorded, current):
        return
    if (
        not (recorded.get("review_id") and current["review_id"])
        and recorded.get("title") == current["title"]
    ):
        raise EvsynthError(
            f"{folder} was written by the review '{current['title']}' in "
            f"{recorded.get('folder', '?')}, not in {current['folder']}, and the "
            "config has no review_id to tell whether it is this review. If this "
            "review was moved there, set a review_id in its config and delete "
            f"{folder / IDENTITY_FILE}; if it is another review, move these results "
            f"aside (mv {folder} {folder}.old) and run again"
        )
    who = f"'{recorded.get('title', '')}'"
    if recorded.get("review_id"):
        who += f" (review_id {recorded['review_id']})"
    where = recorded.get("folder", "?")
    raise EvsynthError(
        f"{folder} was written by another review: {who}, config "
        f"{recorded.get('config', '?')} in {where}; this review is "
        f"'{current['title']}' ({current['config']}"
        + (f", review_id {current['review_id']}" if current["review_id"] else "")
        + "). Each review keeps its own results: run the other review in its own "
        f"folder, or move these results aside (mv {folder} {folder}.old) and run "
        "again"
    )


def write_identity(path: str | Path, identity: Mapping[str, str]) -> None:
    """Write the identity of a review into its ``results/`` (see :func:`check_results`).

    Parameters
    ----------
    path : str or Path
        The file to write (``results/evsynth_review.json``).
    identity : mapping
        What :func:`review_identity` returns.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(
        json.dumps(dict(identity), indent=2, sort_keys=True, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )


# --- what evsynth ships: the workflow and the example review -----------------------


def _package_dir() -> Path:
    return Path(__file__).resolve().parents[1]


def workflow_snakefile() -> Path:
    """Return the Snakefile of the workflow that evsynth installed.

    Returns
    -------
    Path
        ``evsynth/_workflow/Snakefile`` in an installed wheel, or the
        ``Snakefile`` of the repository an editable install comes from.

    Raises
    ------
    EvsynthError
        If neither is there.
    """
    package = _package_dir()
    for candidate in (
        package / "_workflow" / "Snakefile",
        package.parents[1] / "Snakefile",
    ):
        if candidate.is_file() and (candidate.parent / "workflow" / "rules").is_dir():
            return candidate
    raise EvsynthError(
        f"the evsynth workflow (Snakefile) is not installed beside {package}: "
        "reinstall evsynth from its repository (pip install -e .)"
    )


def workflow_profile(name: str) -> Path:
    """Return the folder of a workflow profile: one shipped with evsynth, or a path.

    Parameters
    ----------
    name : str
        A profile shipped with the workflow (a folder of its ``profiles/``, such
        as ``default`` or ``slurm``), or the path of a folder holding a
        ``config.yaml`` (a site's own profile).

    Returns
    -------
    Path
        The profile folder, absolute, for ``snakemake --workflow-profile``.

    Raises
    ------
    EvsynthError
        If there is no such profile. Snakemake itself would run without one.
    """
    shipped = workflow_snakefile().parent / "profiles"
    candidates = [shipped / name] if re.fullmatch(r"[A-Za-z0-9_.-]+", name) else []
    candidates.append(Path(name).expanduser())
    for candidate in candidates:
        if (candidate / "config.yaml").is_file():
            return candidate.resolve()
    names = sorted(p.parent.name for p in shipped.glob("*/config.yaml"))
    raise EvsynthError(
        f"no workflow profile {name!r}: give one of the workflow's profiles "
        f"({', '.join(names)}) or a folder holding a config.yaml"
    )


def example_folder() -> Path:
    """Return the folder holding the example review (``config/`` and ``data/``).

    Returns
    -------
    Path
        ``evsynth/_example`` in an installed wheel, or the repository root of an
        editable install.

    Raises
    ------
    EvsynthError
        If the example is not installed.
    """
    package = _package_dir()
    for candidate in (package / "_example", package.parents[1]):
        if (candidate / "config" / "config.yaml").is_file() and (
            candidate / "data" / "searches"
        ).is_dir():
            return candidate
    raise EvsynthError(
        f"the example review is not installed beside {package}: reinstall evsynth "
        "from its repository (pip install -e .)"
    )
