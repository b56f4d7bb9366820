"""The review's included studies (studies.csv), as the later stages need them."""

from __future__ import annotations

from pathlib import Path

from evsynth.validation import read_table


def study_ids(path: str | Path | None) -> set[str] | None:
    """Return the study ids of studies.csv, validated (None if there is no file).

    Parameters
    ----------
    path : path or None
        studies.csv.

    Returns
    -------
    set of str or None
        The included studies, or None when the review has no studies.csv (the
        stages then do not check study ids against it).
    """
    if path is None or not Path(path).is_file():
        return None
    return {str(s) for s in read_table(path, "studies")["study_id"]}
