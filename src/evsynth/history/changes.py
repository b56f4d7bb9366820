"""What changed between two rounds of a living review, and its PRISMA flow per round.

:func:`compare_rounds` reads two snapshots (:mod:`evsynth.history.snapshot`)
and lists the records added (new unique records or duplicates of records the
review already had), the screening outcomes of the new records and the earlier
records whose final decision changed, the effect sizes added, removed or
changed, every pooled estimate before and after, and the certainty of the
evidence (GRADE) of every analysis before and after. :func:`write_changes`
writes these as CSV tables, a JSON summary, a Markdown page and a plot of the
old and new pooled estimates (the "diff" outputs suggested for living reviews:
included records and estimates, previous against current).

:func:`living_prisma` puts the PRISMA 2020 counts of every round side by side,
one column per round as livingPRISMAflow does (Haddaway 2021); the pipeline's
counts are cumulative, so each round's column holds the difference from the
round before. :func:`write_living_prisma` also draws the flow diagram of the
latest update with the template for updated reviews: the studies included up
to the previous round in the "previous studies" column and only what is new
in the main columns.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib as mpl
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from evsynth.history.snapshot import (
    CERTAINTY_DOMAINS,
    EFFECT_KEY,
    HistoryError,
    Snapshot,
    list_rounds,
    read_snapshot,
    snapshot_dir,
)
from evsynth.io import frame_to_csv, write_files
from evsynth.plots import style as _st
from evsynth.plots.forest import (
    AXIS_LINEWIDTH,
    BODY_SIZE,
    CI_LINEWIDTH,
    INK,
    NOTE_SIZE,
    NULL_COLOUR,
    NULL_LINEWIDTH,
    RULE_COLOUR,
    RULE_LINEWIDTH,
    TICK_LENGTH,
    TICK_PAD,
    TITLE_SIZE,
    TextFont,
    fmt_number,
    linear_ticks,
)
from evsynth.screening.decide import SOUGHT_STATES, STATES, UNFINISHED_STATES
from evsynth.screening.model import DBR, OTHER
from evsynth.screening.prisma import (
    BOX_LABELS,
    TEMPLATE,
    TEMPLATE_COLUMNS,
    check_flow,
    column_checks,
    counts_from_json,
    flow_from_counts,
    other_removed,
    progress_notes,
)
from evsynth.screening.prisma_plot import PrismaFlow, prisma_figure

_log = logging.getLogger(__name__)

__all__ = [
    "Changes",
    "certainty_changes",
    "compare_rounds",
    "estimates_figure",
    "living_prisma",
    "update_flow",
    "write_changes",
    "write_living_prisma",
]

#: Relative difference above which an effect size or estimate has changed.
RELATIVE_TOLERANCE = 1e-12
#: Final states counted as excluded.
EXCLUDED_STATES = ("excluded_title_abstract", "excluded_full_text")

ADDED_COLUMNS = [
    "record_id",
    "update",
    "cluster_id",
    "kind",
    "duplicate_of_earlier",
    "earlier_records",
]
REMOVED_COLUMNS = ["record_id", "update", "cluster_id"]
NEW_DECISION_COLUMNS = ["record_id", "new_state", "reason"]
CHANGED_DECISION_COLUMNS = [
    "record_id",
    "old_state",
    "new_state",
    "old_reason",
    "new_reason",
]
DECISIONS_CSV_COLUMNS = ["kind", *CHANGED_DECISION_COLUMNS]
EFFECT_ROW_COLUMNS = [
    *EFFECT_KEY,
    "measure",
    "yi",
    "vi",
    "ci_lb",
    "ci_ub",
    "input_set",
    "method",
]
EFFECT_CHANGE_COLUMNS = [
    *EFFECT_KEY,
    "measure",
    "yi_old",
    "yi_new",
    "yi_diff",
    "vi_old",
    "vi_new",
    "vi_diff",
]
EFFECTS_CSV_COLUMNS = ["kind", *EFFECT_CHANGE_COLUMNS]
#: Pooled statistics compared between rounds.
POOLED_STATS = ("k", "estimate", "ci_lb", "ci_ub", "tau2", "I2")
POOLED_CHANGE_COLUMNS = [
    "analysis",
    "status",
    "k_old",
    "k_new",
    "estimate_old",
    "estimate_new",
    "estimate_diff",
    "ci_lb_old",
    "ci_lb_new",
    "ci_ub_old",
    "ci_ub_new",
    "tau2_old",
    "tau2_new",
    "I2_old",
    "I2_new",
]
CERTAINTY_CHANGE_COLUMNS = [
    "analysis",
    "label",
    "status",
    "certainty_old",
    "certainty_new",
    "level_old",
    "level_new",
    "level_change",
    "provisional_old",
    "provisional_new",
    "domains_changed",
    "domain_changes",
]
#: Files written by :func:`write_changes`, in order.
CHANGE_FILES = (
    "records_added.csv",
    "decisions_changed.csv",
    "effects_changed.csv",
    "pooled_changes.csv",
    "certainty_changes.csv",
    "summary.json",
    "changes.md",
    "estimates.png",
    "estimates.svg",
)
#: Rows shown per table on the Markdown page (the CSVs hold every row).
MD_MAX_ROWS = 50


# --- numbers ----------------------------------------------------------------------


def _num(text: object) -> float:
    """Read a snapshot cell as a float; NaN when empty or not a number."""
    if text is None:
        return math.nan
    if isinstance(text, int | float):
        return float(text)
    value = str(text).strip()
    if not value:
        return math.nan
    try:
        return float(value)
    except ValueError:
        return math.nan


def _int_or_none(text: object) -> int | None:
    value = _num(text)
    return int(value) if math.isfinite(value) and value.is_integer() else None


def _differs(a: float, b: float) -> bool:
    """Tell whether two numbers differ by more than the relative tolerance."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) != math.isnan(b)
    if a == b:
        return False
    return abs(a - b) > RELATIVE_TOLERANCE * max(abs(a), abs(b))


def _frame(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    *,
    ints: Iterable[str] = (),
    floats: Iterable[str] = (),
    bools: Iterable[str] = (),
) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(list(rows), columns=list(columns))
    frame = frame.astype(object) if len(frame) else frame
    types: dict[str, Any] = dict.fromkeys(ints, "Int64")
    types.update(dict.fromkeys(floats, "float64"))
    types.update(dict.fromkeys(bools, "bool"))
    for column in columns:
        if column not in types:
            types[column] = object
    return frame.astype(types).reset_index(drop=True)


# --- comparison ---------------------------------------------------------------


@dataclass
class Changes:
    """What changed from one round of a living review to a later one.

    Parameters
    ----------
    old, new : int
        The rounds compared.
    records_added : pandas.DataFrame
        Records of ``new`` that ``old`` did not have: record_id, update,
        cluster_id, kind (``new_unique``: the unique record of a new cluster;
        ``duplicate_of_earlier``: its cluster holds a record ``old`` already
        had; ``duplicate_within_round``: a duplicate of another added record),
        duplicate_of_earlier (bool) and earlier_records (the ``old`` records
        of its cluster, ``; ``-separated).
    records_removed : pandas.DataFrame
        Records of ``old`` missing from ``new`` (record_id, update, cluster_id);
        normally empty.
    included_new, excluded_new, other_new : pandas.DataFrame
        Records screened for the first time in ``new`` (no final state in
        ``old``), by final state: included; excluded at title/abstract or
        full text; anything else (still in progress, not retrieved). Columns
        record_id, new_state, reason.
    decision_changed : pandas.DataFrame
        Records whose final state differs between the rounds: record_id,
        old_state, new_state, old_reason, new_reason (a state is empty when
        the record has none in that round).
    effects_added, effects_removed : pandas.DataFrame
        Effect sizes (keyed by study_id, outcome, domain, timepoint,
        comparison) only in ``new`` or only in ``old``, with measure, yi, vi,
        ci_lb, ci_ub, input_set and method.
    effects_changed : pandas.DataFrame
        Effect sizes in both rounds whose yi or vi differ by more than
        :data:`RELATIVE_TOLERANCE` (relative): the key, measure, and yi_old,
        yi_new, yi_diff, vi_old, vi_new, vi_diff (diff = new - old).
    pooled : pandas.DataFrame
        One row per analysis (those of ``new`` in their order, then those only
        in ``old``): status (``added``, ``removed``, ``changed`` or
        ``unchanged``), old and new k, estimate, ci_lb, ci_ub, tau2 and I2,
        and estimate_diff; the missing side of an analysis of one round only
        is empty.
    summary : dict
        Headline counts (see :func:`compare_rounds`).
    certainty : pandas.DataFrame
        The certainty of the evidence (GRADE), one row per analysis rated in
        either round (see :func:`certainty_changes`), columns
        :data:`CERTAINTY_CHANGE_COLUMNS`.
    """

    old: int
    new: int
    records_added: pd.DataFrame
    records_removed: pd.DataFrame
    included_new: pd.DataFrame
    excluded_new: pd.DataFrame
    other_new: pd.DataFrame
    decision_changed: pd.DataFrame
    effects_added: pd.DataFrame
    effects_removed: pd.DataFrame
    effects_changed: pd.DataFrame
    pooled: pd.DataFrame
    summary: dict[str, Any]
    certainty: pd.DataFrame = dataclasses.field(
        default_factory=lambda: _frame([], CERTAINTY_CHANGE_COLUMNS)
    )

    @property
    def duplicates_of_earlier(self) -> int:
        """Added records that duplicate a record of the earlier round."""
        return int(self.records_added["duplicate_of_earlier"].sum())


def _records_changes(old: Snapshot, new: Snapshot) -> tuple[pd.DataFrame, pd.DataFrame]:
    old_ids = set(old.records["record_id"])
    new_ids = set(new.records["record_id"])
    earlier: dict[str, list[str]] = {}
    for record_id, cluster in zip(
        new.records["record_id"], new.records["cluster_id"], strict=True
    ):
        if record_id in old_ids:
            earlier.setdefault(cluster, []).append(record_id)
    added = []
    for row in new.records.itertuples(index=False):
        if row.record_id in old_ids:
            continue
        matches = earlier.get(row.cluster_id, [])
        if matches:
            kind = "duplicate_of_earlier"
        elif row.kept == "True":
            kind = "new_unique"
        else:
            kind = "duplicate_within_round"
        added.append(
            {
                "record_id": row.record_id,
                "update": _int_or_none(row.update),
                "cluster_id": row.cluster_id,
                "kind": kind,
                "duplicate_of_earlier": bool(matches),
                "earlier_records": "; ".join(matches),
            }
        )
    removed = [
        {
            "record_id": row.record_id,
            "update": _int_or_none(row.update),
            "cluster_id": row.cluster_id,
        }
        for row in old.records.itertuples(index=False)
        if row.record_id not in new_ids
    ]
    return (
        _frame(added, ADDED_COLUMNS, ints=["update"], bools=["duplicate_of_earlier"]),
        _frame(removed, REMOVED_COLUMNS, ints=["update"]),
    )


def _final_states(decisions: pd.DataFrame) -> dict[str, tuple[str, str]]:
    """Record -> (final state, reason of its last decision that gave one)."""
    out: dict[str, tuple[str, str]] = {}
    for row in decisions.itertuples(index=False):
        _, reason = out.get(row.record_id, ("", ""))
        out[row.record_id] = (row.final_state, row.reason or reason)
    return out


def _decision_changes(old: Snapshot, new: Snapshot) -> dict[str, pd.DataFrame]:
    before = _final_states(old.decisions)
    after = _final_states(new.decisions)
    first: dict[str, list[dict[str, Any]]] = {
        "included": [],
        "excluded": [],
        "other": [],
    }
    changed = []
    for record_id, (state, reason) in after.items():
        if record_id not in before:
            group = (
                "included"
                if state == "included"
                else "excluded"
                if state in EXCLUDED_STATES
                else "other"
            )
            first[group].append(
                {"record_id": record_id, "new_state": state, "reason": reason}
            )
        elif before[record_id][0] != state:
            changed.append(
                {
                    "record_id": record_id,
                    "old_state": before[record_id][0],
                    "new_state": state,
                    "old_reason": before[record_id][1],
                    "new_reason": reason,
                }
            )
    for record_id, (state, reason) in before.items():
        if record_id not in after:
            changed.append(
                {
                    "record_id": record_id,
                    "old_state": state,
                    "new_state": "",
                    "old_reason": reason,
                    "new_reason": "",
                }
            )
    return {
        "included_new": _frame(first["included"], NEW_DECISION_COLUMNS),
        "excluded_new": _frame(first["excluded"], NEW_DECISION_COLUMNS),
        "other_new": _frame(first["other"], NEW_DECISION_COLUMNS),
        "decision_changed": _frame(changed, CHANGED_DECISION_COLUMNS),
    }


def _keyed_effects(effects: pd.DataFrame) -> dict[tuple[str, ...], dict[str, Any]]:
    """Effect rows by key; repeated keys are told apart by their order."""
    seen: Counter[tuple[str, ...]] = Counter()
    out: dict[tuple[str, ...], dict[str, Any]] = {}
    for row in effects.to_dict(orient="records"):
        key = tuple(str(row[c]) for c in EFFECT_KEY)
        seen[key] += 1
        out[(*key, str(seen[key]))] = row
    return out


def _effect_row(row: Mapping[str, Any]) -> dict[str, Any]:
    out = {c: row[c] for c in EFFECT_ROW_COLUMNS}
    for column in ("yi", "vi", "ci_lb", "ci_ub"):
        out[column] = _num(row[column])
    return out


def _effect_changes(old: Snapshot, new: Snapshot) -> dict[str, pd.DataFrame]:
    before = _keyed_effects(old.effects)
    after = _keyed_effects(new.effects)
    added = [_effect_row(row) for key, row in after.items() if key not in before]
    removed = [_effect_row(row) for key, row in before.items() if key not in after]
    changed = []
    for key, row in after.items():
        if key not in before:
            continue
        was = before[key]
        yi_old, yi_new = _num(was["yi"]), _num(row["yi"])
        vi_old, vi_new = _num(was["vi"]), _num(row["vi"])
        if _differs(yi_old, yi_new) or _differs(vi_old, vi_new):
            changed.append(
                {
                    **{c: row[c] for c in EFFECT_KEY},
                    "measure": row["measure"],
                    "yi_old": yi_old,
                    "yi_new": yi_new,
                    "yi_diff": yi_new - yi_old,
                    "vi_old": vi_old,
                    "vi_new": vi_new,
                    "vi_diff": vi_new - vi_old,
                }
            )
    floats = ["yi", "vi", "ci_lb", "ci_ub"]
    return {
        "effects_added": _frame(added, EFFECT_ROW_COLUMNS, floats=floats),
        "effects_removed": _frame(removed, EFFECT_ROW_COLUMNS, floats=floats),
        "effects_changed": _frame(
            changed,
            EFFECT_CHANGE_COLUMNS,
            floats=[c for c in EFFECT_CHANGE_COLUMNS if c[:3] in ("yi_", "vi_")],
        ),
    }


def _pooled_changes(old: Snapshot, new: Snapshot) -> pd.DataFrame:
    before = {row["analysis"]: row for row in old.pooled.to_dict(orient="records")}
    after = {row["analysis"]: row for row in new.pooled.to_dict(orient="records")}
    names = list(after) + [a for a in before if a not in after]
    rows = []
    for name in names:
        was, now = before.get(name), after.get(name)
        row: dict[str, Any] = {"analysis": name}
        for stat in POOLED_STATS:
            convert = _int_or_none if stat == "k" else _num
            row[f"{stat}_old"] = convert(was[stat]) if was else None
            row[f"{stat}_new"] = convert(now[stat]) if now else None
        if was is None:
            row["status"] = "added"
        elif now is None:
            row["status"] = "removed"
        else:
            differs = any(
                _differs(_num(was[stat]), _num(now[stat])) for stat in POOLED_STATS
            )
            row["status"] = "changed" if differs else "unchanged"
        old_est = _num(row["estimate_old"])
        new_est = _num(row["estimate_new"])
        row["estimate_diff"] = new_est - old_est
        rows.append(row)
    floats = [
        c
        for c in POOLED_CHANGE_COLUMNS
        if c not in ("analysis", "status", "k_old", "k_new")
    ]
    return _frame(rows, POOLED_CHANGE_COLUMNS, ints=["k_old", "k_new"], floats=floats)


def _certainty_rows(snap: Snapshot) -> dict[str, dict[str, Any]] | None:
    if snap.certainty is None:
        return None
    return {str(r["analysis"]): r for r in snap.certainty.to_dict(orient="records")}


def _side(row: Mapping[str, Any] | None, side: str) -> dict[str, Any]:
    return {
        f"certainty_{side}": row["certainty"] if row else None,
        f"level_{side}": _int_or_none(row["level"]) if row else None,
        f"provisional_{side}": row["provisional"] if row else None,
    }


def certainty_changes(old: Snapshot, new: Snapshot) -> pd.DataFrame:
    """Compare the certainty of the evidence (GRADE) of two rounds' analyses.

    Parameters
    ----------
    old, new : Snapshot
        The two rounds' snapshots (:func:`~evsynth.history.snapshot.read_snapshot`).

    Returns
    -------
    pandas.DataFrame
        One row per analysis rated in either round (those of ``new`` in their
        order, then those only in ``old``), columns
        :data:`CERTAINTY_CHANGE_COLUMNS`: the analysis and its label; status
        ``changed`` (the level, provisional or the rating that counts of a
        domain differ), ``unchanged``, ``added`` (rated only in ``new``),
        ``removed`` (only in ``old``) or ``not_recorded`` (the other round's
        snapshot records no certainty: it was taken before snapshots did);
        the certainty word, level (4 high ... 1 very low) and provisional
        (yes/no) of each round; level_change (new - old); domains_changed
        (the domains whose rating differs, ``; ``-separated, in the order of
        :data:`~evsynth.history.snapshot.CERTAINTY_DOMAINS`) and
        domain_changes (``imprecision: no → serious; ...``). The missing
        side of an analysis is empty.
    """
    before, after = _certainty_rows(old), _certainty_rows(new)
    rows: list[dict[str, Any]] = []
    if before is None or after is None:
        only = after if before is None else before
        for name, row in (only or {}).items():
            rows.append(
                {
                    "analysis": name,
                    "label": row["label"] or name,
                    "status": "not_recorded",
                    **_side(row if only is after else None, "new"),
                    **_side(row if only is before else None, "old"),
                    "level_change": None,
                    "domains_changed": "",
                    "domain_changes": "",
                }
            )
    else:
        for name in list(after) + [a for a in before if a not in after]:
            was, now = before.get(name), after.get(name)
            domains: list[str] = []
            pairs: list[str] = []
            if was and now:
                domains = [d for d in CERTAINTY_DOMAINS if was[d] != now[d]]
                pairs = [
                    f"{d}: {was[d] or '(none)'} → {now[d] or '(none)'}" for d in domains
                ]
            row = {
                "analysis": name,
                "label": (now or was or {}).get("label") or name,
                **_side(was, "old"),
                **_side(now, "new"),
                "domains_changed": "; ".join(domains),
                "domain_changes": "; ".join(pairs),
            }
            if was is None:
                row["status"] = "added"
            elif now is None:
                row["status"] = "removed"
            else:
                same = (
                    row["level_old"] == row["level_new"]
                    and row["provisional_old"] == row["provisional_new"]
                    and not domains
                )
                row["status"] = "unchanged" if same else "changed"
            level_old, level_new = row["level_old"], row["level_new"]
            row["level_change"] = (
                level_new - level_old
                if level_old is not None and level_new is not None
                else None
            )
            rows.append(row)
    return _frame(
        rows, CERTAINTY_CHANGE_COLUMNS, ints=["level_old", "level_new", "level_change"]
    )


def _certainty_summary(
    table: pd.DataFrame, old: Snapshot, new: Snapshot
) -> dict[str, Any]:
    """Return the ``certainty`` entry of summary.json (see :func:`compare_rounds`)."""
    status = Counter(table["status"])
    levels = [int(v) for v in table["level_change"].dropna()]

    def rated(snap: Snapshot) -> int | None:
        return None if snap.certainty is None else len(snap.certainty)

    def plain(value: Any) -> Any:
        return None if value is None or pd.isna(value) else value

    before, after = _certainty_rows(old) or {}, _certainty_rows(new) or {}
    changes = []
    for row in table.to_dict(orient="records"):
        if row["status"] not in ("changed", "added", "removed"):
            continue
        name = row["analysis"]
        domains = [
            {"domain": d, "old": before[name][d], "new": after[name][d]}
            for d in row["domains_changed"].split("; ")
            if d
        ]
        changes.append(
            {
                "analysis": row["analysis"],
                "label": row["label"],
                "status": row["status"],
                "certainty": {
                    "old": plain(row["certainty_old"]),
                    "new": plain(row["certainty_new"]),
                },
                "level_change": (
                    None if pd.isna(row["level_change"]) else int(row["level_change"])
                ),
                "provisional": {
                    "old": plain(row["provisional_old"]),
                    "new": plain(row["provisional_new"]),
                },
                "domains": domains,
            }
        )
    return {
        "recorded": {
            "old": old.certainty is not None,
            "new": new.certainty is not None,
        },
        "analyses": {"old": rated(old), "new": rated(new)},
        "changed": status["changed"],
        "unchanged": status["unchanged"],
        "added": status["added"],
        "removed": status["removed"],
        "not_recorded": status["not_recorded"],
        "level_down": sum(v < 0 for v in levels),
        "level_up": sum(v > 0 for v in levels),
        "changes": changes,
    }


def compare_rounds(history_dir: str | Path, old: int, new: int) -> Changes:
    """Compare the snapshots of two rounds of a living review.

    Parameters
    ----------
    history_dir : str or Path
        The folder of the snapshots (:func:`~evsynth.history.snapshot.take_snapshot`).
    old, new : int
        The rounds to compare, ``old < new`` (normally the previous and the
        latest round).

    Returns
    -------
    Changes
        The tables of changes and a summary with: ``old``, ``new``,
        ``records`` / ``unique_records`` / ``included_records`` / ``effects``
        / ``analyses`` (each ``{"old": n, "new": n}``), ``records_added``,
        ``records_removed``, ``new_unique``, ``duplicates_of_earlier``,
        ``duplicates_within_round``, ``included_new``, ``excluded_new``,
        ``other_new``, ``new_record_states`` (final states of the records
        screened for the first time), ``decision_changed``,
        ``effects_added``, ``effects_removed``, ``effects_changed``,
        ``analyses_added``, ``analyses_removed``, ``analyses_changed``,
        ``analyses_unchanged`` and ``certainty``: the certainty of the
        evidence (GRADE, :func:`certainty_changes`) as ``recorded`` (``{"old":
        bool, "new": bool}``, false for a snapshot taken before snapshots
        recorded certainty), ``analyses`` (analyses rated per round, null
        when not recorded), the counts of ``changed``, ``unchanged``,
        ``added``, ``removed`` and ``not_recorded`` analyses, ``level_down``
        and ``level_up`` (analyses whose level fell or rose), and
        ``changes``: per analysis changed, added or removed, its analysis,
        label, status, ``certainty`` and ``provisional`` (each ``{"old",
        "new"}``), ``level_change`` and ``domains`` (``[{"domain", "old",
        "new"}]``, the ratings that count).

    Raises
    ------
    HistoryError
        If a round has no snapshot (run the pipeline before and after adding
        the update, taking a snapshot after each run) or ``old >= new``.
    """
    if int(old) >= int(new):
        raise HistoryError(
            f"compare an earlier round with a later one (got old={old}, new={new})"
        )
    before = read_snapshot(history_dir, old)
    after = read_snapshot(history_dir, new)
    added, removed = _records_changes(before, after)
    decisions = _decision_changes(before, after)
    effects = _effect_changes(before, after)
    pooled = _pooled_changes(before, after)
    certainty = certainty_changes(before, after)

    kinds = Counter(added["kind"])
    states = Counter(
        state
        for frame in ("included_new", "excluded_new", "other_new")
        for state in decisions[frame]["new_state"]
    )
    status = Counter(pooled["status"])

    def both(count: Callable[[Snapshot], int]) -> dict[str, int]:
        return {"old": int(count(before)), "new": int(count(after))}

    def included(snap: Snapshot) -> int:
        return sum(s == "included" for s, _ in _final_states(snap.decisions).values())

    summary: dict[str, Any] = {
        "old": int(old),
        "new": int(new),
        "records": both(lambda s: len(s.records)),
        "unique_records": both(lambda s: int((s.records["kept"] == "True").sum())),
        "included_records": both(included),
        "effects": both(lambda s: len(s.effects)),
        "analyses": both(lambda s: len(s.pooled)),
        "records_added": len(added),
        "records_removed": len(removed),
        "new_unique": kinds["new_unique"],
        "duplicates_of_earlier": kinds["duplicate_of_earlier"],
        "duplicates_within_round": kinds["duplicate_within_round"],
        "included_new": len(decisions["included_new"]),
        "excluded_new": len(decisions["excluded_new"]),
        "other_new": len(decisions["other_new"]),
        "new_record_states": {
            s: states[s]
            for s in (*STATES, *sorted(set(states) - set(STATES)))
            if states[s]
        },
        "decision_changed": len(decisions["decision_changed"]),
        "effects_added": len(effects["effects_added"]),
        "effects_removed": len(effects["effects_removed"]),
        "effects_changed": len(effects["effects_changed"]),
        "analyses_added": status["added"],
        "analyses_removed": status["removed"],
        "analyses_changed": status["changed"],
        "analyses_unchanged": status["unchanged"],
        "certainty": _certainty_summary(certainty, before, after),
    }
    return Changes(
        old=int(old),
        new=int(new),
        records_added=added,
        records_removed=removed,
        **decisions,
        **effects,
        pooled=pooled,
        summary=summary,
        certainty=certainty,
    )


# --- the estimates plot -------------------------------------------------------

OLD_COLOUR = "#8c8c8c"
NEW_COLOUR = INK
MARGIN = 0.12
PANEL_WIDTH = 2.6
COL_GAP = 0.18
TICK_LABEL_ROOM = 0.1  # an end tick label to the next column
TITLE_GAP = 0.1
HEADER_GAP = 0.05
PAD_EM = 0.4  # panel edge to the first and last row
BLOCK_GAP_EM = 0.7  # between analyses
XLABEL_GAP = 0.05
DOT_SIZE = 4.0  # pt, marker diameter


def _side_text(row: Mapping[str, Any], side: str, round_no: int) -> str:
    est = _num(row[f"estimate_{side}"])
    k = row[f"k_{side}"]
    if row["status"] == ("added" if side == "old" else "removed"):
        return f"Round {round_no}: not analysed"
    k_text = f"k = {int(k)}" if not pd.isna(k) else "k not given"
    if math.isnan(est):
        return f"Round {round_no}: not pooled ({k_text})"
    lb, ub = _num(row[f"ci_lb_{side}"]), _num(row[f"ci_ub_{side}"])
    ci = (
        f" [{fmt_number(lb, 2)}, {fmt_number(ub, 2)}]"
        if math.isfinite(lb) and math.isfinite(ub)
        else ""
    )
    return f"Round {round_no}: {fmt_number(est, 2)}{ci}, {k_text}"


def estimates_figure(
    changes: Changes, labels: Mapping[str, str] | None = None
) -> Figure:
    """Plot each analysis's old and new pooled estimate with its 95% CI.

    Analyses are rows, in the order of ``changes.pooled``; in each, the old
    round's estimate (grey) sits above the new one (black), with the numbers
    on the right. The axis is the analysis scale (log for ratio measures),
    with a line at 0.

    Parameters
    ----------
    changes : Changes
        From :func:`compare_rounds`.
    labels : mapping of str to str, optional
        Each analysis's label (``meta.analyses[].label``, see
        :func:`evsynth.labels.analysis_labels`); an analysis without one is
        named by its name.

    Returns
    -------
    matplotlib.figure.Figure
        A figure on the Agg canvas sized to its content. Artists carry ids
        ``estimates-<i>-<old|new>-ci`` and ``-dot`` for analysis ``i`` (from
        0), ``estimates-null`` and ``estimates-panel``.
    """
    with _st.style():
        return _estimates_figure(changes, labels or {})


def _estimates_figure(changes: Changes, names: Mapping[str, str]) -> Figure:
    body = TextFont(BODY_SIZE, _st.MEASURE_DPI)
    bold = TextFont(BODY_SIZE, _st.MEASURE_DPI, bold=True)
    big = TextFont(TITLE_SIZE, _st.MEASURE_DPI, bold=True)
    note = TextFont(NOTE_SIZE, _st.MEASURE_DPI)
    line_h = body.ascent + body.descent
    pitch = body.pitch
    rows = changes.pooled.to_dict(orient="records")
    sides = (("old", changes.old, OLD_COLOUR), ("new", changes.new, NEW_COLOUR))
    title = (
        f"Pooled estimates: round {changes.old} (grey) and round {changes.new} (black)"
    )
    labels = [names.get(str(r["analysis"])) or str(r["analysis"]) for r in rows]
    texts = [[_side_text(r, side, n) for side, n, _ in sides] for r in rows]
    head_left, head_right = "Analysis", "Estimate [95% CI], k"
    label_w = max([bold.width(head_left), *(body.width(t) for t in labels)])
    right_w = max(
        [bold.width(head_right), *(body.width(t) for pair in texts for t in pair)]
    )
    values = [0.0]
    for r in rows:
        for side, _, _ in sides:
            for stat in ("estimate", "ci_lb", "ci_ub"):
                v = _num(r[f"{stat}_{side}"])
                if math.isfinite(v):
                    values.append(v)
    lo, hi = min(values), max(values)
    if hi - lo < 1e-12:
        lo, hi = lo - 1.0, hi + 1.0
    ticks, tick_labels = linear_ticks(lo, hi, PANEL_WIDTH)
    # the end tick labels overhang the panel by half their width
    left_gap = max(COL_GAP, body.width(tick_labels[0]) / 2 + TICK_LABEL_ROOM)
    right_gap = max(COL_GAP, body.width(tick_labels[-1]) / 2 + TICK_LABEL_ROOM)
    panel_x = MARGIN + label_w + left_gap
    text_x = panel_x + PANEL_WIDTH + right_gap
    width = max(text_x + right_w, MARGIN + big.width(title)) + MARGIN

    y = MARGIN
    title_base = y + big.ascent
    y += big.ascent + big.descent + TITLE_GAP
    if not rows:
        height = y + line_h + MARGIN
        fig = Figure(figsize=(width, height), dpi=100, facecolor="white")
        FigureCanvasAgg(fig)
        _put(fig, MARGIN, title_base, title, big, height, "estimates-title")
        _put(
            fig,
            MARGIN,
            y + body.ascent,
            "No pooled analyses in either round.",
            body,
            height,
            "estimates-empty",
        )
        return fig
    header_base = y + bold.ascent
    y += line_h + HEADER_GAP
    rule_y = y
    y += HEADER_GAP
    panel_top = y
    pad, gap = PAD_EM * body.em, BLOCK_GAP_EM * body.em
    centres = [
        [panel_top + pad + i * (2 * pitch + gap) + (j + 0.5) * pitch for j in (0, 1)]
        for i in range(len(rows))
    ]
    panel_bottom = centres[-1][1] + 0.5 * pitch + pad
    tick_base = panel_bottom + (TICK_LENGTH + TICK_PAD) / 72 + body.ascent
    xlabel_base = tick_base + body.descent + XLABEL_GAP + note.ascent
    height = xlabel_base + note.descent + MARGIN

    fig = Figure(figsize=(width, height), dpi=100, facecolor="white")
    FigureCanvasAgg(fig)
    _put(fig, MARGIN, title_base, title, big, height, "estimates-title")
    _put(fig, MARGIN, header_base, head_left, bold, height, "estimates-head-analysis")
    _put(fig, text_x, header_base, head_right, bold, height, "estimates-head-estimate")
    fig.add_artist(
        Line2D(
            [MARGIN, width - MARGIN],
            [height - rule_y, height - rule_y],
            transform=fig.dpi_scale_trans,
            color=RULE_COLOUR,
            linewidth=RULE_LINEWIDTH,
            gid="estimates-header-rule",
        )
    )
    middle = (body.ascent - body.descent) / 2
    for i, (label, pair) in enumerate(zip(labels, texts, strict=True)):
        block_mid = (centres[i][0] + centres[i][1]) / 2
        _put(
            fig, MARGIN, block_mid + middle, label, body, height, f"estimates-{i}-label"
        )
        for (side, _, colour), text, centre in zip(
            sides, pair, centres[i], strict=True
        ):
            _put(
                fig,
                text_x,
                centre + middle,
                text,
                body,
                height,
                f"estimates-{i}-{side}-text",
                colour=colour,
            )

    ax = fig.add_axes(
        (
            panel_x / width,
            (height - panel_bottom) / height,
            PANEL_WIDTH / width,
            (panel_bottom - panel_top) / height,
        )
    )
    ax.set_gid("estimates-panel")
    ax.set_xlim(ticks[0], ticks[-1])
    ax.set_ylim(panel_bottom, panel_top)  # data y = inches from the top
    ax.patch.set_visible(False)
    for spine in ("top", "left", "right"):
        ax.spines[spine].set_visible(False)
    ax.spines["bottom"].set_linewidth(AXIS_LINEWIDTH)
    ax.yaxis.set_visible(False)
    ax.set_xticks(ticks, tick_labels, fontproperties=_st.font(BODY_SIZE))
    ax.xaxis.set_minor_locator(mpl.ticker.NullLocator())
    ax.tick_params(
        axis="x",
        direction="out",
        length=TICK_LENGTH,
        width=AXIS_LINEWIDTH,
        pad=TICK_PAD,
        colors=INK,
    )
    for tick_label in ax.get_xticklabels():
        tick_label.set_parse_math(False)
    ax.add_line(
        Line2D(
            [0.0, 0.0],
            [panel_top, panel_bottom],
            color=NULL_COLOUR,
            linewidth=NULL_LINEWIDTH,
            gid="estimates-null",
            zorder=1,
        )
    )
    for i, r in enumerate(rows):
        for (side, _, colour), centre in zip(sides, centres[i], strict=True):
            est = _num(r[f"estimate_{side}"])
            lb, ub = _num(r[f"ci_lb_{side}"]), _num(r[f"ci_ub_{side}"])
            if math.isfinite(lb) and math.isfinite(ub):
                ax.add_line(
                    Line2D(
                        [lb, ub],
                        [centre, centre],
                        color=colour,
                        linewidth=CI_LINEWIDTH,
                        solid_capstyle="butt",
                        gid=f"estimates-{i}-{side}-ci",
                        zorder=2,
                    )
                )
            if math.isfinite(est):
                ax.add_line(
                    Line2D(
                        [est],
                        [centre],
                        color=colour,
                        linestyle="none",
                        marker="o",
                        markersize=DOT_SIZE,
                        markerfacecolor=colour,
                        markeredgecolor=colour,
                        gid=f"estimates-{i}-{side}-dot",
                        zorder=3,
                    )
                )
    fig.text(
        panel_x + PANEL_WIDTH / 2,
        height - xlabel_base,
        "Pooled estimate and 95% CI (analysis scale; log for ratio measures)",
        transform=fig.dpi_scale_trans,
        fontproperties=note.font,
        color=INK,
        ha="center",
        va="baseline",
        parse_math=False,
        usetex=False,
        gid="estimates-xlabel",
    )
    return fig


def _put(
    fig: Figure,
    x: float,
    baseline: float,
    text: str,
    kind: TextFont,
    height: float,
    gid: str,
    *,
    colour: str = INK,
) -> None:
    fig.text(
        x,
        height - baseline,
        text,
        transform=fig.dpi_scale_trans,
        fontproperties=kind.font,
        color=colour,
        ha="left",
        va="baseline",
        parse_math=False,
        usetex=False,
        gid=gid,
    )


def _figure_writer(fig: Figure, fmt: str, dpi: int = 300) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        with _st.style():
            if fmt == "svg":
                fig.savefig(path, format="svg", dpi=dpi, metadata={"Date": None})
            else:
                fig.savefig(path, format=fmt, dpi=dpi)

    return write


# --- the Markdown page --------------------------------------------------------


def _plural(count: int, word: str) -> str:
    """Return ``word`` as the noun of ``count`` things ("duplicate", "duplicates")."""
    return word if count == 1 else word + "s"


def _cell(value: object, digits: int | None = 3, *, signed: bool = False) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and digits is not None:
        return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"
    if isinstance(value, float):
        return f"{value:+.4g}" if signed else f"{value:.4g}"
    text = " ".join(str(value).split())
    return text.replace("\\", "\\\\").replace("|", "\\|")


def _md_table(
    frame: pd.DataFrame, columns: Sequence[tuple[str, str, Callable[[Any], str]]]
) -> list[str]:
    if not len(frame):
        return ["None.", ""]
    lines = [
        "| " + " | ".join(h for h, _, _ in columns) + " |",
        "|" + "|".join("---" for _ in columns) + "|",
    ]
    for row in frame.head(MD_MAX_ROWS).to_dict(orient="records"):
        lines.append("| " + " | ".join(f(row[c]) for _, c, f in columns) + " |")
    if len(frame) > MD_MAX_ROWS:
        lines += ["", f"… and {len(frame) - MD_MAX_ROWS:,} more rows."]
    return [*lines, ""]


def _ci(row: Mapping[str, Any], side: str) -> str:
    lb, ub = row[f"ci_lb_{side}"], row[f"ci_ub_{side}"]
    if pd.isna(lb) or pd.isna(ub):
        return ""
    return f"[{lb:.3f}, {ub:.3f}]"


def _markdown(changes: Changes, labels: Mapping[str, str] | None = None) -> str:
    s = changes.summary
    o, n = changes.old, changes.new
    text = _cell

    def num(digits: int | None = 3, signed: bool = False) -> Callable[[Any], str]:
        return lambda v: _cell(v, digits, signed=signed)

    lines = [
        f"# Living review: changes from round {o} to round {n}",
        "",
        "## Headline numbers",
        "",
        (
            f"- Records added in round {n}: **{s['records_added']:,}** "
            f"({s['new_unique']:,} new unique, {s['duplicates_of_earlier']:,} "
            f"{_plural(s['duplicates_of_earlier'], 'duplicate')} of records from "
            f"earlier rounds, {s['duplicates_within_round']:,} "
            f"{_plural(s['duplicates_within_round'], 'duplicate')} within the round); "
            f"{s['records']['old']:,} → {s['records']['new']:,} records, "
            f"{s['unique_records']['old']:,} → {s['unique_records']['new']:,} "
            "unique."
        ),
    ]
    if s["records_removed"]:
        lines.append(
            f"- Records of round {o} no longer present: {s['records_removed']:,}."
        )
    lines += [
        (
            f"- Records screened for the first time: {s['included_new']:,} included, "
            f"{s['excluded_new']:,} excluded, {s['other_new']:,} not (yet) decided "
            "or not retrieved."
        ),
        (
            f"- Records whose final decision changed: **{s['decision_changed']:,}**; "
            f"included records {s['included_records']['old']:,} → "
            f"{s['included_records']['new']:,}."
        ),
        (
            f"- Effect sizes: {s['effects_added']:,} added, {s['effects_removed']:,} "
            f"removed, {s['effects_changed']:,} changed "
            f"({s['effects']['old']:,} → {s['effects']['new']:,})."
        ),
        (
            f"- Pooled analyses: {s['analyses_changed']:,} changed, "
            f"{s['analyses_added']:,} added, {s['analyses_removed']:,} removed, "
            f"{s['analyses_unchanged']:,} unchanged."
        ),
        _certainty_headline(s["certainty"], o, n),
        "",
        "## Pooled estimates",
        "",
        f"![Pooled estimates, round {o} (grey) and round {n} (black)](estimates.png)",
        "",
    ]
    pooled = changes.pooled.assign(
        ci_old=[_ci(r, "old") for r in changes.pooled.to_dict(orient="records")],
        ci_new=[_ci(r, "new") for r in changes.pooled.to_dict(orient="records")],
        shown=[
            (labels or {}).get(str(name)) or str(name)
            for name in changes.pooled["analysis"]
        ],
    )
    lines += _md_table(
        pooled,
        [
            ("Analysis", "shown", text),
            ("Status", "status", text),
            (f"k ({o})", "k_old", text),
            (f"k ({n})", "k_new", text),
            (f"Estimate ({o})", "estimate_old", num()),
            (f"Estimate ({n})", "estimate_new", num()),
            ("Change", "estimate_diff", num(signed=True)),
            (f"95% CI ({o})", "ci_old", text),
            (f"95% CI ({n})", "ci_new", text),
            (f"τ² ({o})", "tau2_old", num(4)),
            (f"τ² ({n})", "tau2_new", num(4)),
            (f"I² ({o})", "I2_old", num(1)),
            (f"I² ({n})", "I2_new", num(1)),
        ],
    )
    lines += ["## Certainty of the evidence", ""]
    lines += _certainty_lines(changes, labels)
    lines += ["## Records added", ""]
    lines += _md_table(
        changes.records_added,
        [
            ("Record", "record_id", text),
            ("Update", "update", text),
            ("Cluster", "cluster_id", text),
            ("Kind", "kind", text),
            ("Earlier records in its cluster", "earlier_records", text),
        ],
    )
    lines += ["## Screening decisions", ""]
    lines += _md_table(
        _decisions_table(changes),
        [
            ("Kind", "kind", text),
            ("Record", "record_id", text),
            (f"State ({o})", "old_state", text),
            (f"State ({n})", "new_state", text),
            (f"Reason ({o})", "old_reason", text),
            (f"Reason ({n})", "new_reason", text),
        ],
    )
    lines += ["## Effect sizes", ""]
    lines += _md_table(
        _effects_table(changes),
        [
            ("Kind", "kind", text),
            ("Study", "study_id", text),
            ("Outcome", "outcome", text),
            ("Timepoint", "timepoint", text),
            ("Comparison", "comparison", text),
            ("Measure", "measure", text),
            (f"yi ({o})", "yi_old", num()),
            (f"yi ({n})", "yi_new", num()),
            ("Δ yi", "yi_diff", num(None, signed=True)),
            (f"vi ({o})", "vi_old", num(4)),
            (f"vi ({n})", "vi_new", num(4)),
            ("Δ vi", "vi_diff", num(None, signed=True)),
        ],
    )
    lines += [
        (
            "Full tables: records_added.csv, decisions_changed.csv, "
            "effects_changed.csv and pooled_changes.csv; counts in summary.json."
            " The certainty of every analysis before and after: "
            "certainty_changes.csv."
        ),
        "",
    ]
    return "\n".join(lines)


def _certainty_headline(summary: Mapping[str, Any], old: int, new: int) -> str:
    """Return the headline bullet on the certainty of the evidence."""
    head = "- Certainty of the evidence (GRADE): "
    recorded = summary["recorded"]
    if not (recorded["old"] or recorded["new"]):
        return head + "not recorded in either round's snapshot."
    if not (recorded["old"] and recorded["new"]):
        missing, present = (old, new) if recorded["new"] else (new, old)
        return (
            head + f"not recorded in round {missing}'s snapshot (taken before "
            f"snapshots recorded it); round {present}'s is listed below without "
            "a comparison."
        )
    changed = summary["changed"]
    noun = "analysis" if changed == 1 else "analyses"
    levels = (
        f" ({summary['level_down']:,} to a lower level, {summary['level_up']:,} to "
        "a higher)"
        if changed
        else ""
    )
    return head + (
        f"{changed:,} {noun} changed{levels}, {summary['added']:,} rated for the "
        f"first time, {summary['removed']:,} no longer rated, "
        f"{summary['unchanged']:,} unchanged."
    )


def _rating_text(value: object) -> str:
    text = "" if value is None or pd.isna(value) else str(value)
    return text.replace("_", " ") if text else "(none)"


def _certainty_word(row: Mapping[str, Any], side: str) -> str:
    word = _rating_text(row[f"certainty_{side}"])
    return word + (" (provisional)" if row[f"provisional_{side}"] == "yes" else "")


def _certainty_lines(
    changes: Changes, labels: Mapping[str, str] | None = None
) -> list[str]:
    """Return the Markdown section on the certainty of the evidence."""
    o, n = changes.old, changes.new
    table = changes.certainty
    if not len(table):
        return ["No analyses rated in either round.", ""]
    domains = {
        item["analysis"]: item["domains"]
        for item in changes.summary.get("certainty", {}).get("changes", [])
    }
    lines: list[str] = []
    unchanged: list[str] = []
    for row in table.to_dict(orient="records"):
        name = str(row["analysis"])
        label = _cell((labels or {}).get(name) or row["label"] or name)
        status = row["status"]
        if status == "unchanged":
            unchanged.append(f"{label} ({_certainty_word(row, 'new')})")
            continue
        if status == "added":
            lines.append(
                f"- {label}: rated for the first time in round {n}: "
                f"{_certainty_word(row, 'new')}."
            )
            continue
        if status == "removed":
            lines.append(
                f"- {label}: not rated in round {n} (round {o}: "
                f"{_certainty_word(row, 'old')})."
            )
            continue
        if status == "not_recorded":
            side, round_no = ("new", n) if pd.notna(row["level_new"]) else ("old", o)
            lines.append(
                f"- {label}: {_certainty_word(row, side)} in round {round_no}."
            )
            continue
        if row["level_old"] != row["level_new"]:
            words = f"{_certainty_word(row, 'old')} → {_certainty_word(row, 'new')}"
        else:
            words = f"{_certainty_word(row, 'new')}, level unchanged"
        parts = []
        if row["provisional_old"] != row["provisional_new"]:
            parts.append(
                f"provisional: {_rating_text(row['provisional_old'])} → "
                f"{_rating_text(row['provisional_new'])}"
            )
        for item in domains.get(name, []):
            domain = item["domain"]
            shown = "starting level" if domain == "start" else domain.replace("_", " ")
            parts.append(
                f"{shown}: {_rating_text(item['old'])} → {_rating_text(item['new'])}"
            )
        lines.append(f"- {label}: {words} ({'; '.join(parts)}).")
    if lines:
        lines.append("")
    if unchanged:
        lines += [f"Unchanged since round {o}: {', '.join(unchanged)}.", ""]
    return lines


def _certainty_csv(
    changes: Changes, labels: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """Return certainty_changes.csv, with the labels of ``labels`` where it has them."""
    table = changes.certainty.copy()
    if labels:
        table["label"] = [
            labels.get(str(a)) or label
            for a, label in zip(table["analysis"], table["label"], strict=True)
        ]
    return table


def _decisions_table(changes: Changes) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    for kind, frame in (
        ("included_new", changes.included_new),
        ("excluded_new", changes.excluded_new),
        ("other_new", changes.other_new),
    ):
        rows += [
            {
                "kind": kind,
                "record_id": r["record_id"],
                "old_state": "",
                "new_state": r["new_state"],
                "old_reason": "",
                "new_reason": r["reason"],
            }
            for r in frame.to_dict(orient="records")
        ]
    rows += [
        {"kind": "decision_changed", **r}
        for r in changes.decision_changed.to_dict(orient="records")
    ]
    return _frame(rows, DECISIONS_CSV_COLUMNS)


def _effects_table(changes: Changes) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    for kind, frame, side in (
        ("added", changes.effects_added, "new"),
        ("removed", changes.effects_removed, "old"),
    ):
        for r in frame.to_dict(orient="records"):
            row = {c: r[c] for c in [*EFFECT_KEY, "measure"]}
            row.update({f"yi_{side}": r["yi"], f"vi_{side}": r["vi"]})
            rows.append({"kind": kind, **row})
    rows += [
        {"kind": "changed", **r}
        for r in changes.effects_changed.to_dict(orient="records")
    ]
    floats = [c for c in EFFECTS_CSV_COLUMNS if c[:3] in ("yi_", "vi_")]
    return _frame(rows, EFFECTS_CSV_COLUMNS, floats=floats)


def _json_writer(value: Any) -> Callable[[Path], None]:
    text = json.dumps(value, indent=2, ensure_ascii=False) + "\n"
    return lambda path: path.write_text(text, encoding="utf-8", newline="\n")


def _csv_writer(frame: pd.DataFrame) -> Callable[[Path], None]:
    return lambda path: frame_to_csv(frame, path)


def write_changes(
    changes: Changes,
    out_dir: str | Path,
    *,
    old: int,
    new: int,
    labels: Mapping[str, str] | None = None,
) -> list[Path]:
    """Write the change report of two rounds.

    Parameters
    ----------
    changes : Changes
        From :func:`compare_rounds`.
    out_dir : str or Path
        Output folder; created if needed.
    old, new : int
        The rounds compared (must be those of ``changes``).
    labels : mapping of str to str, optional
        Each analysis's label (``meta.analyses[].label``): the estimates plot,
        the table of pooled estimates and the certainty section in changes.md
        name analyses by them (pooled_changes.csv keeps the names;
        certainty_changes.csv's label column takes them, else the label the
        GRADE stage recorded).

    Returns
    -------
    list of Path
        records_added.csv; decisions_changed.csv (kind ``included_new``,
        ``excluded_new``, ``other_new`` or ``decision_changed``);
        effects_changed.csv (kind ``added``, ``removed`` or ``changed``, old
        and new yi and vi and their differences); pooled_changes.csv;
        certainty_changes.csv (:func:`certainty_changes`); summary.json;
        changes.md (headline numbers, tables, the plot and the certainty of
        the evidence before and after);
        estimates.png and estimates.svg (:func:`estimates_figure`). All are
        written or none, and the same changes give the same bytes.

    Raises
    ------
    ValueError
        If ``old`` or ``new`` are not the rounds of ``changes``.
    """
    if (int(old), int(new)) != (changes.old, changes.new):
        raise ValueError(
            f"the changes compare rounds {changes.old} and {changes.new}, "
            f"not {old} and {new}"
        )
    out = Path(out_dir)
    fig = estimates_figure(changes, labels)
    writers: dict[Path, Callable[[Path], None]] = {
        out / "records_added.csv": _csv_writer(changes.records_added),
        out / "decisions_changed.csv": _csv_writer(_decisions_table(changes)),
        out / "effects_changed.csv": _csv_writer(_effects_table(changes)),
        out / "pooled_changes.csv": _csv_writer(changes.pooled),
        out / "certainty_changes.csv": _csv_writer(_certainty_csv(changes, labels)),
        out / "summary.json": _json_writer(changes.summary),
        out / "changes.md": lambda p: p.write_text(
            _markdown(changes, labels), encoding="utf-8", newline="\n"
        ),
        out / "estimates.png": _figure_writer(fig, "png"),
        out / "estimates.svg": _figure_writer(fig, "svg"),
    }
    write_files(writers)
    return list(writers)


# --- living PRISMA ------------------------------------------------------------

#: Template keys whose value is a stock at the end of a round, not a flow:
#: not summed over rounds.
STOCK_KEYS = ("previous_studies", "previous_reports", "total_studies", "total_reports")
#: Template keys holding ``Name, n; Name, n`` lists, and the counts' list name.
LIST_KEYS = {
    "database_specific_results": "databases",
    "register_specific_results": "registers",
    "dbr_excluded": "dbr_excluded",
    "other_excluded": "other_excluded",
}
#: Template keys that label boxes and hold no count.
LABEL_KEYS = ("identification", "screening", "included")
#: Counts that add up over rounds (every other template key).
ADDITIVE_KEYS = tuple(
    row[0]
    for row in TEMPLATE
    if row[0] != "NA"
    and row[0] not in STOCK_KEYS
    and row[0] not in LIST_KEYS
    and row[0] not in LABEL_KEYS
)
#: Per-source lists diffed for the update's flow diagram.
_FLOW_LISTS = (
    "databases",
    "registers",
    "websites",
    "organisations",
    "citations",
    "dbr_excluded",
    "other_excluded",
)


def _all_snapshots(history_dir: str | Path) -> dict[int, Snapshot]:
    history = Path(history_dir)
    rounds = list_rounds(history)
    if not rounds:
        raise HistoryError(
            f"no snapshots in {history}: run the pipeline before and after adding "
            "the update, taking a snapshot after each run "
            "(take_snapshot(results, history, current_round(records)))"
        )
    return {r: read_snapshot(history, r) for r in rounds}


def _all_counts(
    history_dir: str | Path, snapshots: Mapping[int, Snapshot]
) -> dict[int, dict[str, Any]]:
    """Each round's cumulative PRISMA counts, from its snapshot's prisma.json."""
    out = {}
    for round_no, snapshot in snapshots.items():
        counts = counts_from_json(snapshot.prisma)
        if "database_results" not in counts:
            path = snapshot_dir(history_dir, round_no) / "prisma.json"
            raise HistoryError(
                f"the snapshot of round {round_no} has no PRISMA counts ({path} is "
                "empty): run the screening stage of the pipeline for this round and "
                "take the snapshot again"
            )
        out[round_no] = counts
    return out


def _int(counts: Mapping[str, Any], key: str) -> int:
    value = counts.get(key, 0)
    return int(value) if isinstance(value, int | float) else 0


def _pairs_dict(items: Iterable[Sequence[Any]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for name, n in items:
        out[str(name)] = out.get(str(name), 0) + int(n)
    return out


def _list_diff(
    new: Iterable[Sequence[Any]], old: Iterable[Sequence[Any]]
) -> list[tuple[str, int]]:
    after, before = _pairs_dict(new), _pairs_dict(old)
    names = list(after) + [name for name in before if name not in after]
    diff = [(name, after.get(name, 0) - before.get(name, 0)) for name in names]
    return [(name, n) for name, n in diff if n]


def _pairs_text(items: Sequence[tuple[str, int]]) -> str:
    return "; ".join(f"{name}, {n}" for name, n in items)


def living_prisma(history_dir: str | Path) -> pd.DataFrame:
    """Tabulate the PRISMA 2020 counts of every round, livingPRISMAflow style.

    Parameters
    ----------
    history_dir : str or Path
        The folder of the snapshots.

    Returns
    -------
    pandas.DataFrame
        One row per ``data`` key of the PRISMA2020 template
        (:data:`evsynth.screening.prisma.TEMPLATE`, in its order) with the
        template's columns ``data`` to ``url``, then ``round_<n>`` for every
        snapshotted round and ``total``. A round's column holds what that
        round added: the difference between its cumulative counts and those
        of the round before (round 0: its own counts); lists (per database,
        exclusion reasons) as ``Name, n; Name, n`` of the differences.
        ``previous_studies`` / ``previous_reports`` hold the studies and
        reports included before the round, ``total_studies`` /
        ``total_reports`` those included after it. ``total`` is the sum over
        rounds for additive keys (equal to the latest cumulative count) and
        empty for these four; the label rows (identification, screening,
        included) are empty.

    Raises
    ------
    HistoryError
        If there are no snapshots, or a round's snapshot has no PRISMA counts.
    """
    all_counts = _all_counts(history_dir, _all_snapshots(history_dir))
    rounds = list(all_counts)
    columns = [f"round_{r}" for r in rounds]
    rows = []
    for template_row in TEMPLATE:
        key = template_row[0]
        if key == "NA":
            continue
        row: dict[str, Any] = dict(
            zip(TEMPLATE_COLUMNS[:-1], template_row, strict=True)
        )
        for i, (r, column) in enumerate(zip(rounds, columns, strict=True)):
            now = all_counts[r]
            before = all_counts[rounds[i - 1]] if i else None
            if key in LABEL_KEYS:
                value: Any = None
            elif key in LIST_KEYS:
                name = LIST_KEYS[key]
                value = _pairs_text(
                    _list_diff(
                        now.get(name, []),
                        before.get(name, []) if before is not None else [],
                    )
                )
            elif key in ("previous_studies", "previous_reports"):
                total = key.replace("previous_", "total_")
                value = _int(before, total) if before is not None else _int(now, key)
            elif key in STOCK_KEYS:
                value = _int(now, key)
            else:
                value = _int(now, key) - (
                    _int(before, key) if before is not None else 0
                )
            row[column] = value
        latest = all_counts[rounds[-1]]
        if key in LIST_KEYS:
            row["total"] = _pairs_text(_list_diff(latest.get(LIST_KEYS[key], []), []))
        elif key in ADDITIVE_KEYS:
            row["total"] = sum(int(row[c]) for c in columns)
        else:
            row["total"] = None
        rows.append(row)
    return pd.DataFrame(
        rows, columns=[*TEMPLATE_COLUMNS[:-1], *columns, "total"]
    ).astype(object)


def _difference_counts(
    new: Mapping[str, Any], old: Mapping[str, Any]
) -> dict[str, Any]:
    """Return what a round added: the difference of two rounds' cumulative counts.

    The records removed in each column are worked out from the boxes below
    them (identified − screened or sought, counting records still in
    progress), as in :func:`_removed_in_round`, so that snapshots written
    before the other-methods column had its own removals (when
    ``duplicates`` counted both columns') still give columns that add up.
    """
    diff: dict[str, Any] = {k: _int(new, k) - _int(old, k) for k in ADDITIVE_KEYS}
    for name in _FLOW_LISTS:
        diff[name] = _list_diff(new.get(name, []), old.get(name, []))
    progress = {
        column: {
            state: _progress(new, column, state) - _progress(old, column, state)
            for state in (UNFINISHED_STATES if column == DBR else UNFINISHED_STATES[2:])
        }
        for column in (DBR, OTHER)
    }
    diff["in_progress"] = progress
    at_ta = sum(progress[DBR][s] for s in UNFINISHED_STATES[:2])
    diff["duplicates"] = (
        diff["database_results"]
        + diff["register_results"]
        - diff["excluded_automatic"]
        - diff["excluded_other"]
        - diff["records_screened"]
        - at_ta
    )
    other_total = (
        diff["website_results"]
        + diff["organisation_results"]
        + diff["citations_results"]
        - diff["other_sought_reports"]
    )
    split = {k: diff[k] for k in ("other_removed_dbr", "other_removed_within")}
    if all(k in new and k in old for k in split) and sum(split.values()) == other_total:
        diff["other_removed"] = other_removed(split)
    else:
        diff["other_removed"] = [("Duplicate records removed", other_total)]
    return diff


def _progress(counts: Mapping[str, Any], column: str, state: str) -> int:
    progress = counts.get("in_progress", {}) or {}
    return int((progress.get(column, {}) or {}).get(state, 0) or 0)


def _new_record_counts(
    old: Snapshot,
    new: Snapshot,
    before: Mapping[str, Any],
    latest: Mapping[str, Any],
) -> tuple[dict[str, Any], int, int] | None:
    """Count the PRISMA boxes of the records that a round's searches added.

    The records of ``new``'s own searches (``update`` = its round) go through
    the boxes
    by their final state; earlier records are left out even if a decision on
    them changed. Identification comes from the difference of the per-source
    lists, and the records removed from what the round identified less its new
    unique records, column by column (:func:`_removed_in_round`). Returns the counts, the number of earlier records whose screening
    was unfinished and is now further on, and the number of earlier records
    whose final decision changed; or None if the snapshots lack what this
    needs (snapshots older than the ``prisma_column`` and ``study_id``
    columns) or disagree with the PRISMA counts (the caller then uses the
    difference of the counts).
    """
    decisions = new.decisions.drop_duplicates("record_id", keep="last")
    state = dict(zip(decisions["record_id"], decisions["final_state"], strict=True))
    column = dict(zip(decisions["record_id"], decisions["prisma_column"], strict=True))
    studies = _study_ids(new.decisions)
    old_decisions = old.decisions.drop_duplicates("record_id", keep="last")
    old_state = dict(
        zip(old_decisions["record_id"], old_decisions["final_state"], strict=True)
    )
    old_included = {r for r, s in old_state.items() if s == "included"}
    old_studies = _study_ids(old.decisions)
    if not old_included <= set(old_studies) or any(
        c not in (DBR, OTHER) for c in column.values()
    ):
        return None  # an older snapshot: no PRISMA column or study ids
    records = new.records
    added = records[records["update"] == str(new.round)]
    unique = [
        r for r, k in zip(added["record_id"], added["kept"], strict=True) if k == "True"
    ]
    if any(r not in state for r in unique):
        return None
    included = [r for r in unique if state[r] == "included"]
    if not set(included) <= set(studies):
        return None
    counts: dict[str, Any] = {
        name: _list_diff(latest.get(name, []), before.get(name, []))
        for name in ("databases", "registers", "websites", "organisations", "citations")
    }
    identified = sum(n for name in counts for _, n in counts[name])
    if identified != len(added) or any(
        n < 0 for name in list(counts) for _, n in counts[name]
    ):
        return None  # the import summaries and the records disagree
    tally = {DBR: Counter[str](), OTHER: Counter[str]()}
    for record_id in unique:
        tally[column[record_id]][state[record_id]] += 1
    d, o = tally[DBR], tally[OTHER]
    reasons = {DBR: Counter[str](), OTHER: Counter[str]()}
    full_text = new.decisions[
        (new.decisions["stage"] == "full_text")
        & (new.decisions["final_state"] == "excluded_full_text")
    ]
    new_ids = set(unique)
    for record_id, reason in zip(
        full_text["record_id"], full_text["reason"], strict=True
    ):
        if record_id in new_ids:
            reasons[column[record_id]][reason] += 1

    def ordered(col: str, key: str) -> list[tuple[str, int]]:
        order = [str(name) for name, _ in latest.get(key, [])]
        names = order + sorted(set(reasons[col]) - set(order))
        return [(n, reasons[col][n]) for n in names if reasons[col][n]]

    counts.update(
        database_results=sum(n for _, n in counts["databases"]),
        register_results=sum(n for _, n in counts["registers"]),
        website_results=sum(n for _, n in counts["websites"]),
        organisation_results=sum(n for _, n in counts["organisations"]),
        citations_results=sum(n for _, n in counts["citations"]),
        excluded_automatic=0,
        excluded_other=0,
        records_screened=d["excluded_title_abstract"]
        + sum(d[s] for s in SOUGHT_STATES),
        records_excluded=d["excluded_title_abstract"],
        dbr_sought_reports=sum(d[s] for s in SOUGHT_STATES),
        dbr_notretrieved_reports=d["not_retrieved"],
        dbr_assessed=d["excluded_full_text"] + d["included"],
        dbr_excluded=ordered(DBR, "dbr_excluded"),
        other_sought_reports=sum(o[s] for s in SOUGHT_STATES),
        other_notretrieved_reports=o["not_retrieved"],
        other_assessed=o["excluded_full_text"] + o["included"],
        other_excluded=ordered(OTHER, "other_excluded"),
        new_studies=len(
            {studies[r] for r in included} - {old_studies[r] for r in old_included}
        ),
        new_reports=len(included),
        dbr_included_reports=d["included"],
        other_included_reports=o["included"],
        in_progress={
            DBR: {s: d[s] for s in UNFINISHED_STATES},
            OTHER: {s: o[s] for s in UNFINISHED_STATES[2:]},
        },
    )
    removed = _removed_in_round(counts, before, latest, d, o)
    if removed is None:
        return None
    counts.update(removed)
    moved = [
        (s, state[r]) for r, s in old_state.items() if r in state and state[r] != s
    ]
    finished = sum(1 for s, _ in moved if s in UNFINISHED_STATES)
    return counts, finished, len(moved) - finished


def _removed_in_round(
    counts: Mapping[str, Any],
    before: Mapping[str, Any],
    latest: Mapping[str, Any],
    dbr: Mapping[str, int],
    other: Mapping[str, int],
) -> dict[str, Any] | None:
    """Count the records a round's searches found that were removed, by column.

    A record of the round that does not stand for a new unique record is a
    duplicate (of an earlier record, or of another of the round's records),
    removed in the column of the search that found it: the databases
    column's "Duplicate records removed" is the round's database and register
    records less its new unique records of that column, and the other-methods
    column's "Records removed before retrieval" likewise, so that both
    columns add up as printed. The other-methods removals are split into
    duplicates of database or register records and duplicates within other
    methods by the difference of the two rounds' cumulative counts
    (:func:`evsynth.screening.prisma.removed_counts`) when both snapshots
    have them and agree; otherwise they are shown as one number.

    Returns
    -------
    dict or None
        ``duplicates``, ``other_removed`` (the box's items) and, when known,
        ``other_removed_dbr`` and ``other_removed_within``; or None if a count
        comes out negative (the snapshots disagree).
    """
    dbr_unique = sum(dbr.values())
    other_unique = sum(other.values())
    duplicates = counts["database_results"] + counts["register_results"] - dbr_unique
    other_total = (
        counts["website_results"]
        + counts["organisation_results"]
        + counts["citations_results"]
        - other_unique
    )
    if duplicates < 0 or other_total < 0:
        return None
    split = {
        key: _int(latest, key) - _int(before, key)
        for key in ("other_removed_dbr", "other_removed_within")
    }
    known = all(k in latest and k in before for k in split) and (
        min(split.values()) >= 0 and sum(split.values()) == other_total
    )
    if known:
        return {
            "duplicates": duplicates,
            **split,
            "other_removed": other_removed(split),
        }
    return {
        "duplicates": duplicates,
        "other_removed": [("Duplicate records removed", other_total)],
    }


def _study_ids(decisions: pd.DataFrame) -> dict[str, str]:
    """Study id of every record that has one (from any of its rows)."""
    out: dict[str, str] = {}
    for record_id, study in zip(
        decisions["record_id"], decisions["study_id"], strict=True
    ):
        if study:
            out[record_id] = study
    return out


def update_flow(history_dir: str | Path) -> PrismaFlow:
    """Return the PRISMA flow of the latest round, as an update of the review.

    With one round only, that round's flow for a new review. Otherwise the
    template for updated reviews: the studies and reports included up to the
    previous round in the "previous studies" column; in the main columns the
    records of the latest round's searches, followed through the boxes by
    their final state; the latest round's totals at the bottom. Earlier
    records whose decision changed in the round are not in the new boxes; a
    note counts them, as the totals include them. Each new column adds up box
    by box as printed (:func:`evsynth.screening.prisma.column_checks`); if one
    does not (snapshots that disagree), the whole review is drawn instead, with
    a note naming the box.

    Snapshots older than the ``prisma_column`` and ``study_id`` columns give
    the difference between the two rounds' cumulative counts instead (as a
    note says). If a box shrank between them (an earlier decision changed)
    the difference cannot be drawn: the flow of the whole review at the
    latest round is returned, with a note naming the boxes, and a warning is
    logged. :func:`living_prisma` shows the differences.

    Raises
    ------
    HistoryError
        If there are no snapshots or a round has no PRISMA counts.
    """
    snapshots = _all_snapshots(history_dir)
    all_counts = _all_counts(history_dir, snapshots)
    rounds = list(all_counts)
    latest = all_counts[rounds[-1]]
    if len(rounds) == 1:
        return flow_from_counts(latest)
    prev_round, new_round = rounds[-2], rounds[-1]
    before = all_counts[prev_round]
    by_record = _new_record_counts(
        snapshots[prev_round], snapshots[new_round], before, latest
    )
    if by_record is not None:
        counts, finished, changed = by_record
        head = (
            f"Update round {new_round}: the boxes under 'Identification of new "
            f"studies' follow the records of round {new_round}'s searches; "
            f"'Previous studies' are those included up to round {prev_round}."
        )
        new_total = _int(before, "total_studies") + counts["new_studies"]
        new_reports = _int(before, "total_reports") + counts["new_reports"]
        if finished or changed:
            parts = []
            if finished:
                parts.append(
                    f"{finished:,} earlier record{'s' if finished != 1 else ''} "
                    f"still in screening at round {prev_round} moved on"
                )
            if changed:
                parts.append(
                    f"a decision on {changed:,} earlier record"
                    f"{'s' if changed != 1 else ''} changed (decisions_changed.csv "
                    "of the change report)"
                )
            head += (
                " In this round "
                + " and ".join(parts)
                + ": they are not in the new boxes, and the totals include them"
                + (
                    f", so previous + new ({new_total} studies, {new_reports} "
                    "reports) differ from them."
                    if (new_total, new_reports)
                    != (_int(latest, "total_studies"), _int(latest, "total_reports"))
                    else "."
                )
            )
        unbalanced = _unbalanced(counts)
        if unbalanced:
            message = (
                f"the boxes of round {new_round}'s records do not add up "
                f"({unbalanced}); the diagram shows the whole review as of round "
                f"{new_round}"
            )
            return _whole_review(latest, new_round, message)
    else:
        counts = _difference_counts(latest, before)
        label = {row[0]: row[3] for row in TEMPLATE}
        shrunk = [
            f"{label.get(k, k)} ({_int(before, k)} → {_int(latest, k)})"
            for k in ADDITIVE_KEYS
            if counts[k] < 0
        ]
        shrunk += [
            f"{label.get(name, name.capitalize())}: {item} ({n:+d})"
            for name in _FLOW_LISTS
            for item, n in counts[name]
            if n < 0
        ]
        if shrunk:
            message = (
                f"the PRISMA counts of round {new_round} are smaller than those of "
                f"round {prev_round} for {'; '.join(shrunk)}: decisions on earlier "
                "records changed, so the update cannot be drawn as new against "
                "previous studies (new counts = the difference of the cumulative "
                f"counts); the diagram shows the whole review as of round {new_round}."
                " decisions_changed.csv of the change report lists the changed "
                "decisions and living_prisma.csv the differences per round"
            )
            return _whole_review(latest, new_round, message)
        unbalanced = _unbalanced(counts)
        if unbalanced:
            message = (
                f"the differences of the cumulative PRISMA counts of rounds "
                f"{new_round} and {prev_round} do not add up column by column "
                f"({unbalanced}); the diagram shows the whole review as of round "
                f"{new_round}"
            )
            return _whole_review(latest, new_round, message)
        head = (
            f"Update round {new_round}: the boxes under 'Identification of new "
            f"studies' count what is new since round {prev_round}, computed as the "
            f"difference between the cumulative counts of rounds {new_round} and "
            f"{prev_round}; 'Previous studies' are those included up to round "
            f"{prev_round}."
        )
    flow = flow_from_counts(
        {**counts, "previous_studies": 0, "previous_reports": 0, "in_progress": {}}
    )
    other = any(
        _int(latest, k)
        for k in ("website_results", "organisation_results", "citations_results")
    )
    return dataclasses.replace(
        flow,
        other=other,
        previous=True,
        previous_studies=_int(before, "total_studies"),
        previous_reports=_int(before, "total_reports"),
        total_studies=_int(latest, "total_studies"),
        total_reports=_int(latest, "total_reports"),
        notes=[head, *progress_notes(latest)],
    )


def _unbalanced(counts: Mapping[str, Any]) -> str:
    """Name the first box of an update's columns that does not add up ("" if none)."""
    for key, computed, given, how in column_checks(counts):
        if computed != given:
            column, label = BOX_LABELS.get(key, ("", key))
            return f"{label!r} ({column}): {computed} != {given}, {how}"
    return ""


def _whole_review(
    latest: Mapping[str, Any], new_round: int, message: str
) -> PrismaFlow:
    """Return the whole review's flow at the latest round, with a note saying why.

    Raises
    ------
    FlowError
        If the latest round's own counts do not add up box by box.
    """
    _log.warning("%s", message)
    check_flow(latest)
    whole = flow_from_counts(latest)
    return dataclasses.replace(
        whole, notes=[f"Update round {new_round}: {message}.", *whole.notes]
    )


def write_living_prisma(
    history_dir: str | Path, out_dir: str | Path, *, title: str | None = None
) -> list[Path]:
    """Write the living PRISMA table and the flow diagram of the latest update.

    Parameters
    ----------
    history_dir : str or Path
        The folder of the snapshots.
    out_dir : str or Path
        Output folder; created if needed.
    title : str, optional
        Title of the diagram; by default "PRISMA 2020 flow diagram, update
        round <n>" ("..., round 0" before any update, "..., whole review at
        round <n>" when :func:`update_flow` draws the whole review).

    Returns
    -------
    list of Path
        living_prisma.csv (:func:`living_prisma`) and prisma_update.svg,
        .png and .pdf (:func:`update_flow`, drawn as
        :func:`evsynth.screening.prisma_plot.draw_prisma` does), all written
        or none; the same snapshots give the same bytes.

    Raises
    ------
    HistoryError
        As :func:`living_prisma` and :func:`update_flow`.
    """
    table = living_prisma(history_dir)
    flow = update_flow(history_dir)
    latest = list_rounds(history_dir)[-1]
    if title is None:
        if flow.previous:
            title = f"PRISMA 2020 flow diagram, update round {latest}"
        elif latest:  # earlier decisions changed: the whole review is drawn
            title = f"PRISMA 2020 flow diagram, whole review at round {latest}"
        else:
            title = f"PRISMA 2020 flow diagram, round {latest}"
    fig = prisma_figure(flow, title=title)
    out = Path(out_dir)

    def save(fmt: str) -> Callable[[Path], None]:
        def write(path: Path) -> None:
            with _st.style():
                if fmt == "svg":
                    fig.savefig(path, format="svg", dpi=300, metadata={"Date": None})
                elif fmt == "pdf":
                    fig.savefig(
                        path,
                        format="pdf",
                        dpi=300,
                        metadata={"CreationDate": None, "ModDate": None},
                    )
                else:
                    fig.savefig(path, format="png", dpi=300)

        return write

    writers: dict[Path, Callable[[Path], None]] = {
        out / "living_prisma.csv": _csv_writer(table),
        out / "prisma_update.svg": save("svg"),
        out / "prisma_update.png": save("png"),
        out / "prisma_update.pdf": save("pdf"),
    }
    write_files(writers)
    return list(writers)
