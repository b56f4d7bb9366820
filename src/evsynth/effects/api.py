"""Run the effect-size stage: read the extraction table, compute, write."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from evsynth.effects.compute import (
    EffectSettings,
    EffectsResult,
    check_rows,
    compute_effects,
    read_effects,
)
from evsynth.io import frame_to_csv, write_files, write_frame_xlsx
from evsynth.studies import study_ids

log = logging.getLogger("evsynth.effects")


def run_effects(
    path: str | Path, settings: EffectSettings, studies: str | Path | None = None
) -> EffectsResult:
    """Read ``extraction/effects.csv`` and compute every row.

    Parameters
    ----------
    path : path
        The extraction table.
    settings : EffectSettings
        Measure, imputation defaults and tolerance.
    studies : path, optional
        studies.csv: every row's ``study_id`` must be one of its studies (not
        checked when None or the file does not exist).

    Returns
    -------
    EffectsResult
        Effects and excluded rows.

    Raises
    ------
    InputError
        For bad input, naming the file, row and column: also an exact duplicate
        of an earlier row, and a row of a study not in ``studies``.
    """
    table = read_effects(path)
    check_rows(table, path, study_ids(studies), studies or "studies.csv")
    result = compute_effects(table, settings, source=path)
    log.info(
        "%d rows: %d effects, %d excluded",
        len(table),
        len(result.effects),
        len(result.excluded),
    )
    return result


def write_effects(
    result: EffectsResult,
    out: str | Path,
    xlsx: str | Path | None = None,
    excluded: str | Path | None = None,
) -> None:
    """Write effects.csv, and effects.xlsx and excluded.csv beside it, all or none.

    Parameters
    ----------
    result : EffectsResult
        From :func:`run_effects`.
    out : path
        The effects CSV.
    xlsx, excluded : path, optional
        Default: ``effects.xlsx`` and ``excluded.csv`` in the folder of ``out``.
    """
    out = Path(out)
    xlsx = Path(xlsx) if xlsx else out.with_suffix(".xlsx")
    excluded = Path(excluded) if excluded else out.parent / "excluded.csv"
    write_files(
        {
            out: lambda p: frame_to_csv(result.effects, p),
            xlsx: lambda p: write_frame_xlsx(result.effects, p, sheet="effects"),
            excluded: lambda p: frame_to_csv(result.excluded, p),
        }
    )


def write_analysis_effects(
    path: str | Path,
    settings: EffectSettings,
    domains: Sequence[str],
    out: str | Path,
    studies: str | Path | None = None,
    measure: str | None = None,
) -> None:
    """Compute and write the effect sizes of the rows of some outcome domains.

    The workflow runs this once per configured analysis, so that correcting a
    row reruns only the analyses of its domain. ``source_row`` still gives the
    row's position in the whole extraction table. Those rows are checked as
    :func:`run_effects` checks them (duplicates, studies of ``studies``).
    ``measure`` is the analysis's: with ``effects.measure`` auto, rows without
    a measure of their own give it where they can (event counts of an RR or RD
    analysis, means of an MD analysis; ``EffectSettings.domain_measures``).
    """
    if measure is not None:
        settings = replace(settings, domain_measures={str(d): measure for d in domains})
    table = read_effects(path)
    subset = table[table["domain"].isin(list(domains))]
    check_rows(subset, path, study_ids(studies), studies or "studies.csv")
    result = compute_effects(subset, settings, source=path)
    write_files({Path(out): lambda p: frame_to_csv(result.effects, p)})
