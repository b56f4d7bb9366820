"""PRISMA columns conserve as drawn: every box follows from the one above it.

A reader checks the flow diagram by hand: in the databases column identified −
removed = screened, screened − excluded = sought, sought − not retrieved =
assessed, assessed − the excluded reasons = included; in the other-methods
column identified − removed = sought, and so on. These tests recompute those
identities from what the diagram prints (the flow's fields and the SVG's
text), and compare every box with counts worked out here from the generated
records and decisions, never from :mod:`evsynth.screening.prisma`.
"""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evsynth.cli import main
from evsynth.history.changes import update_flow
from evsynth.history.snapshot import take_snapshot
from evsynth.plots.style import style
from evsynth.records import import_searches, write_import
from evsynth.records.dedup import dedup_file
from evsynth.screening import prisma
from evsynth.screening.api import run_screening
from evsynth.screening.model import FULL_TEXT, TITLE_ABSTRACT, Settings
from evsynth.screening.prisma_plot import PrismaFlow, prisma_figure
from tests.conftest import REPO

SVG_NS = "{http://www.w3.org/2000/svg}"
REASONS = ("Wrong population", "Wrong study design")
SETTINGS = Settings(
    ("a", "b"), ("consensus",), {TITLE_ABSTRACT: 2, FULL_TEXT: 2}, REASONS
)
#: Searches of a random review: file stem, manifest name, kind.
SOURCES = (
    ("db_a", "Database A", "database"),
    ("db_b", "Database B", "database"),
    ("reg", "Register R", "register"),
    ("web", "Website W", "website"),
    ("org", "Organisation O", "organisation"),
    ("cit", "Citation chasing", "citation"),
)
DBR_KINDS = {"database", "register"}
LOG_HEADER = ["record_id", "stage", "reviewer", "decision", "reason", "note"]


# --- what the diagram prints ---------------------------------------------------------


def printed_identities(flow: PrismaFlow, at_ta: int, at_ft: dict[str, int]):
    """Each column's identities from the flow's printed numbers (left, right, box).

    ``at_ta`` and ``at_ft`` are the records still at title/abstract and at full
    text (the diagram's notes say how many).
    """
    total = sum
    identified = total(n for _, n in flow.databases) + total(
        n for _, n in flow.registers
    )
    removed = flow.duplicates + flow.excluded_automatic + flow.excluded_other
    rows = [
        ("records screened", identified - removed, flow.records_screened + at_ta),
        (
            "dbr sought",
            flow.records_screened - flow.records_excluded,
            flow.dbr_sought_reports,
        ),
        (
            "dbr assessed",
            flow.dbr_sought_reports - flow.dbr_notretrieved_reports,
            flow.dbr_assessed + at_ft["dbr"],
        ),
    ]
    included = flow.dbr_assessed - total(n for _, n in flow.dbr_excluded)
    if flow.other:
        other_identified = sum(
            n
            for items in (flow.websites, flow.organisations, flow.citations)
            for _, n in items
        )
        rows += [
            (
                "other sought",
                other_identified - total(n for _, n in flow.other_removed),
                flow.other_sought_reports,
            ),
            (
                "other assessed",
                flow.other_sought_reports - flow.other_notretrieved_reports,
                flow.other_assessed + at_ft["other"],
            ),
        ]
        included += flow.other_assessed - total(n for _, n in flow.other_excluded)
    rows.append(("reports included", included, flow.new_reports))
    return rows


def svg_boxes(flow: PrismaFlow) -> dict[str, list[tuple[str, int]]]:
    """Every box of the drawn SVG: its (label, n) items, read from the text."""
    buffer = io.StringIO()
    with style():  # text as text, as draw_prisma writes it
        prisma_figure(flow).savefig(buffer, format="svg")
    root = ET.fromstring(buffer.getvalue())
    lines: dict[str, list[tuple[int, str]]] = {}
    for group in root.iter(f"{SVG_NS}g"):
        match = re.fullmatch(r"prisma-box-(.+)-line(\d+)", group.get("id", ""))
        if match:
            text = "".join(group.itertext()).strip()
            lines.setdefault(match[1], []).append((int(match[2]), text))
    out = {}
    for box, items in lines.items():
        text = " ".join(t for _, t in sorted(items))
        out[box] = [
            (
                " ".join(label.split()).rsplit(":", 1)[-1].strip(),
                int(n.replace(",", "")),
            )
            for label, n in re.findall(r"([^()]*?)\s*\(n = ([\d,]+)\)", text)
        ]
    return out


def svg_identities(boxes: dict[str, list[tuple[str, int]]]):
    """Each column's identities recomputed from the SVG's printed numbers."""

    def one(box: str) -> int:
        (item,) = boxes[box]
        return item[1]

    def total(box: str) -> int:
        return sum(n for _, n in boxes[box])

    identified = dict(boxes["identified"])
    removed = total("removed")
    included = dict(boxes["included"])
    rows = [
        (
            "records screened",
            identified["Databases"] + identified["Registers"] - removed,
            one("screened"),
        ),
        ("dbr sought", one("screened") - one("excluded"), one("sought")),
        ("dbr assessed", one("sought") - one("notretrieved"), one("assessed")),
    ]
    reports = one("assessed") - total("reports-excluded")
    if "other-identified" in boxes:
        found = dict(boxes["other-identified"])
        other = sum(
            found.get(k, 0) for k in ("Websites", "Organisations", "Citation searching")
        )
        rows += [
            ("other sought", other - total("other-removed"), one("other-sought")),
            (
                "other assessed",
                one("other-sought") - one("other-notretrieved"),
                one("other-assessed"),
            ),
        ]
        reports += one("other-assessed") - total("other-excluded")
    rows.append(("reports included", reports, included["Reports of included studies"]))
    return rows


# --- the example review, counted here from its records ---------------------------------


@pytest.fixture(scope="module")
def records_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("records")
    searches = REPO / "data/searches"
    imported = import_searches(searches / "searches.csv", searches)
    write_import(imported, out / "records.csv", out / "import_summary.csv")
    dedup_file(out / "records.csv", out)
    return out


def by_hand(records_dir: Path) -> dict[str, int]:
    """The example's identification and removal counts, from the tables."""
    read = {"dtype": str, "keep_default_na": False}
    records = pd.read_csv(records_dir / "records.csv", **read)
    summary = pd.read_csv(records_dir / "import_summary.csv", **read)
    clusters = pd.read_csv(records_dir / "clusters.csv", **read)
    kind = dict(zip(summary["file"], summary["kind"], strict=True))
    table = records[["record_id", "source_file", "update"]].merge(
        clusters, on="record_id"
    )
    table["dbr"] = table["source_file"].map(kind).isin(DBR_KINDS)
    table["update"] = table["update"].replace("", "0").astype(int)
    table["first"] = table.groupby("cluster_id")["update"].transform("min")
    first_dbr = table[table["update"] == table["first"]].groupby("cluster_id")["dbr"]
    column_dbr = first_dbr.any()
    table["column_dbr"] = table["cluster_id"].map(column_dbr)
    per = table.groupby("cluster_id").agg(
        dbr=("dbr", "sum"), n=("dbr", "size"), column_dbr=("column_dbr", "first")
    )
    per["other"] = per["n"] - per["dbr"]
    dbr, other = per[per["column_dbr"]], per[~per["column_dbr"]]
    return {
        "database_results": int(table["dbr"].sum()),
        "other_results": int((~table["dbr"]).sum()),
        "duplicates": int((dbr["dbr"] - 1).sum() + other["dbr"].sum()),
        "other_removed_dbr": int(dbr["other"].sum()),
        "other_removed_within": int((other["other"] - 1).sum()),
        "dbr_unique": len(dbr),
        "other_unique": len(other),
    }


def test_example_columns_add_up_as_printed(records_dir):
    hand = by_hand(records_dir)
    # the numbers measured on the example (issue 18): 59 duplicates among the
    # database records, 21 other-methods records duplicating database records,
    # 1 within other methods; 168 − 59 = 109 screened, 52 − 22 = 30 sought
    assert (hand["database_results"], hand["other_results"]) == (168, 52)
    assert (
        hand["duplicates"],
        hand["other_removed_dbr"],
        hand["other_removed_within"],
    ) == (59, 21, 1)
    assert (hand["dbr_unique"], hand["other_unique"]) == (109, 30)

    data = REPO / "data"
    config = yaml.safe_load((REPO / "config/config.yaml").read_text(encoding="utf-8"))
    counts = run_screening(
        records_dir,
        Settings.from_config(config["screening"]),
        data / "screening/decisions.csv",
        data / "screening/retrieval.csv",
        data / "studies.csv",
    ).counts
    for key in ("database_results", "duplicates", "other_removed_dbr"):
        assert counts[key] == hand[key], key
    assert counts["other_removed_within"] == hand["other_removed_within"]
    assert counts["duplicates_all"] == 81
    assert counts["records_screened"] == hand["dbr_unique"]  # screening finished
    assert counts["other_sought_reports"] == hand["other_unique"]

    flow = prisma.flow_from_counts(counts)
    for name, left, right in printed_identities(flow, 0, {"dbr": 0, "other": 0}):
        assert left == right, name
    # what the drawing prints, read back from the SVG
    boxes = svg_boxes(flow)
    assert dict(boxes["identified"])["Databases"] == 168
    assert dict(boxes["removed"])["Duplicate records removed"] == 59
    assert boxes["screened"] == [("Records screened", 109)]
    assert boxes["other-removed"] == [
        ("Duplicates of records from databases and registers", 21),
        ("Duplicates within other methods", 1),
    ]
    assert boxes["other-sought"] == [("Reports sought for retrieval", 30)]
    for name, left, right in svg_identities(boxes):
        assert left == right, name


def test_the_report_says_what_each_column_removed():
    from evsynth.report.prisma import _prisma_paragraphs

    counts = {
        "databases": [{"name": "A", "n": 100}, {"name": "B", "n": 68}],
        "websites": [{"name": "W", "n": 22}],
        "organisations": [{"name": "O", "n": 30}],
        "database_results": 168,
        "website_results": 22,
        "organisation_results": 30,
        "duplicates": 59,
        "other_removed_dbr": 21,
        "other_removed_within": 1,
        "n_imported": 220,
        "n_unique": 139,
        "unique_records": {"databases_registers": 109, "other_methods": 30},
    }
    text = _prisma_paragraphs(counts)[1]
    assert text.startswith(
        "Removing 59 duplicates from the 168 records found in databases left 109 "
        "records to screen; of the 52 records found via other methods, 21 were "
        "duplicates of records from databases and 1 was a duplicate of another "
        "record found via other methods, leaving 30 reports to seek."
    )
    assert "109 from databases and registers" not in text


def test_check_names_the_box_and_both_numbers():
    counts = {
        "database_results": 168,
        "website_results": 22,
        "organisation_results": 30,
        "databases": [("A", 168)],
        "duplicates": 59,
        "other_removed_dbr": 21,
        "other_removed_within": 0,  # the one duplicate within other methods left out
        "records_screened": 109,
        "records_excluded": 52,
        "dbr_sought_reports": 57,
        "dbr_notretrieved_reports": 2,
        "dbr_assessed": 55,
        "dbr_excluded": [("Wrong population", 19)],
        "other_sought_reports": 30,
        "other_notretrieved_reports": 2,
        "other_assessed": 28,
        "other_excluded": [("Wrong population", 22)],
        "new_reports": 42,
        "new_studies": 36,
    }
    with pytest.raises(prisma.FlowError) as error:
        prisma.check_flow(counts)
    message = str(error.value)
    assert "'Reports sought for retrieval' in the other methods column" in message
    assert "31 != 30" in message
    assert "identified 52 − removed before retrieval 21" in message
    prisma.check_flow(dict(counts, other_removed_within=1))


def test_cli_refuses_a_template_whose_column_does_not_add_up(tmp_path, capsys):
    rows = [
        ["data", "node", "box", "description", "boxtext", "tooltips", "url", "n"],
        ["database_results", "", "", "", "", "", "", "168"],
        ["duplicates", "", "", "", "", "", "", "81"],  # both columns' duplicates
        ["records_screened", "", "", "", "", "", "", "109"],
        ["records_excluded", "", "", "", "", "", "", "52"],
        ["dbr_sought_reports", "", "", "", "", "", "", "57"],
        ["dbr_assessed", "", "", "", "", "", "", "57"],
        ["new_reports", "", "", "", "", "", "", "57"],
    ]
    path = tmp_path / "counts.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    out = tmp_path / "out"
    assert main(["prisma", str(path), "--out-dir", str(out)]) == 2
    err = capsys.readouterr().err
    assert "'Records screened'" in err and "87 != 109" in err
    assert str(path) in err
    assert not out.exists()
    assert main(["prisma", str(path), "--out-dir", str(out), "--no-check"]) == 0
    assert (out / "prisma.png").is_file()


# --- random reviews ---------------------------------------------------------------------


@st.composite
def reviews(draw, rounds: int = 1):
    """Clusters of records from several searches, and what reviewers decided.

    Returns a list of clusters; each is a dict with ``members`` (source index,
    round) and the decisions to log for it: ``ta`` (pending, conflict,
    include, exclude), ``retrieved`` (yes, no, "") and ``ft`` (pending,
    conflict, include, or an exclusion reason), and ``given`` (which member's
    id the reviewers wrote) and ``kept`` (which member unique.csv keeps among
    the earliest round's).
    """
    n = draw(st.integers(1, 10))
    clusters = []
    for _ in range(n):
        members = draw(
            st.lists(
                st.tuples(st.integers(0, len(SOURCES) - 1), st.integers(0, rounds - 1)),
                min_size=1,
                max_size=4,
            )
        )
        clusters.append(
            {
                "members": members,
                "ta": draw(
                    st.sampled_from(["pending", "conflict", "include", "exclude"])
                ),
                "retrieved": draw(st.sampled_from(["yes", "yes", "no", ""])),
                "ft": draw(
                    st.sampled_from(["pending", "conflict", "include", *REASONS])
                ),
                "given": draw(st.integers(0, 3)),
                "kept": draw(st.integers(0, 3)),
            }
        )
    return clusters


def first_round(cluster) -> int:
    return min(u for _, u in cluster["members"])


def in_dbr_column(cluster) -> bool:
    """Screened at title/abstract: a database or register record in its first round."""
    start = first_round(cluster)
    return any(SOURCES[s][2] in DBR_KINDS for s, u in cluster["members"] if u == start)


def record_ids(index: int, cluster) -> list[str]:
    return [
        f"{SOURCES[s][0]}:c{index}:m{j}" for j, (s, _) in enumerate(cluster["members"])
    ]


def write_records(folder: Path, review, upto: int) -> None:
    """The records stage's outputs for the records of rounds 0..upto."""
    folder.mkdir(parents=True, exist_ok=True)
    records, clusters, unique = [], [], []
    parsed: Counter[tuple[int, int]] = Counter()
    for index, cluster in enumerate(review):
        ids = record_ids(index, cluster)
        members = [
            (rid, s, u)
            for rid, (s, u) in zip(ids, cluster["members"], strict=True)
            if u <= upto
        ]
        if not members:
            continue
        start = first_round(cluster)
        earliest = [rid for rid, _, u in members if u == start]
        kept = earliest[cluster["kept"] % len(earliest)]
        for rid, s, u in members:
            records.append([rid, f"{SOURCES[s][0]}_u{u}.txt", str(u)])
            clusters.append([kept, rid])
            parsed[(s, u)] += 1
        unique.append([kept, kept, f"Title {index}"])
    summary = [
        [f"{SOURCES[s][0]}_u{u}.txt", SOURCES[s][1], SOURCES[s][2], str(u), str(k)]
        for (s, u), k in sorted(parsed.items())
    ]
    tables = {
        "records.csv": (["record_id", "source_file", "update"], records),
        "clusters.csv": (["cluster_id", "record_id"], clusters),
        "unique.csv": (["record_id", "cluster_id", "title"], unique),
        "import_summary.csv": (
            ["file", "database", "kind", "update", "n_parsed"],
            summary,
        ),
    }
    for name, (header, rows) in tables.items():
        with (folder / name).open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows)


def write_decisions(folder: Path, review, upto: int) -> None:
    """The decision log and retrieval file for the clusters of rounds 0..upto."""
    folder.mkdir(parents=True, exist_ok=True)
    log, retrieval = [], []

    def votes(rid: str, stage: str, outcome: str) -> None:
        if outcome == "pending":
            log.append([rid, stage, "a", "include", "", ""])
            return
        first, second = {
            "conflict": ("include", "exclude"),
            "include": ("include", "include"),
            "exclude": ("exclude", "exclude"),
        }.get(outcome, ("exclude", "exclude"))
        reason = outcome if outcome in REASONS else ""
        for who, word in (("a", first), ("b", second)):
            if stage == TITLE_ABSTRACT:
                log.append([rid, stage, who, word, "", ""])
            else:
                why = (reason or REASONS[0]) if word == "exclude" else ""
                log.append([rid, stage, who, word, why, ""])

    for index, cluster in enumerate(review):
        if first_round(cluster) > upto:
            continue
        ids = record_ids(index, cluster)
        start = first_round(cluster)
        eligible = [
            rid
            for rid, (_, u) in zip(ids, cluster["members"], strict=True)
            if u == start
        ]
        rid = eligible[cluster["given"] % len(eligible)]
        if in_dbr_column(cluster):
            votes(rid, TITLE_ABSTRACT, cluster["ta"])
            if cluster["ta"] != "include":
                continue
        if cluster["retrieved"]:
            retrieval.append([rid, cluster["retrieved"]])
        if cluster["retrieved"] == "yes":
            votes(rid, FULL_TEXT, cluster["ft"])
    with (folder / "decisions.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(LOG_HEADER)
        writer.writerows(log)
    with (folder / "retrieval.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["record_id", "retrieved"])
        writer.writerows(retrieval)


def expected_boxes(review, new_round: int | None = None) -> dict[str, int]:
    """Every box, counted from the generated clusters.

    With ``new_round``, only what that round's searches found (the update
    diagram); otherwise the whole review.
    """
    out: Counter[str] = Counter()
    for cluster in review:
        dbr = in_dbr_column(cluster)
        new = new_round is None or first_round(cluster) == new_round
        members = [
            SOURCES[s][2] in DBR_KINDS
            for s, u in cluster["members"]
            if new_round is None or u == new_round
        ]
        out["dbr_identified"] += sum(members)
        out["other_identified"] += len(members) - sum(members)
        if dbr:
            out["other_removed_dbr"] += len(members) - sum(members)
            out["duplicates"] += sum(members) - (1 if new else 0)
        else:
            out["duplicates"] += sum(members)
            out["other_removed_within"] += (
                len(members) - sum(members) - (1 if new else 0)
            )
        if not new:
            continue
        column = "dbr" if dbr else "other"
        if dbr:
            if cluster["ta"] in ("pending", "conflict"):
                out["at_ta"] += 1
                continue
            out["records_screened"] += 1
            if cluster["ta"] == "exclude":
                out["records_excluded"] += 1
                continue
        out[f"{column}_sought"] += 1
        if cluster["retrieved"] == "no":
            out[f"{column}_notretrieved"] += 1
        elif cluster["retrieved"] == "" or cluster["ft"] in ("pending", "conflict"):
            out[f"{column}_at_ft"] += 1
        else:
            out[f"{column}_assessed"] += 1
            out["included" if cluster["ft"] == "include" else f"{column}_excluded"] += 1
    return dict(out)


def compare(flow: PrismaFlow, want: dict[str, int]) -> None:
    """The flow's boxes against the counts worked out from the clusters."""
    get = want.get
    assert sum(n for _, n in flow.databases) + sum(n for _, n in flow.registers) == get(
        "dbr_identified", 0
    )
    assert flow.duplicates == get("duplicates", 0)
    assert flow.records_screened == get("records_screened", 0)
    assert flow.records_excluded == get("records_excluded", 0)
    assert flow.dbr_sought_reports == get("dbr_sought", 0)
    assert flow.dbr_notretrieved_reports == get("dbr_notretrieved", 0)
    assert flow.dbr_assessed == get("dbr_assessed", 0)
    assert sum(n for _, n in flow.dbr_excluded) == get("dbr_excluded", 0)
    assert flow.new_reports == get("included", 0)
    if get("other_identified", 0):
        assert flow.other
        assert sum(
            n
            for items in (flow.websites, flow.organisations, flow.citations)
            for _, n in items
        ) == get("other_identified", 0)
        assert [n for _, n in flow.other_removed] == [
            get("other_removed_dbr", 0),
            get("other_removed_within", 0),
        ]
        assert flow.other_sought_reports == get("other_sought", 0)
        assert flow.other_notretrieved_reports == get("other_notretrieved", 0)
        assert flow.other_assessed == get("other_assessed", 0)
        assert sum(n for _, n in flow.other_excluded) == get("other_excluded", 0)
    at_ft = {"dbr": get("dbr_at_ft", 0), "other": get("other_at_ft", 0)}
    for name, left, right in printed_identities(flow, get("at_ta", 0), at_ft):
        assert left == right, name


#: Boxes a reader checks, and the box each wrong number is caught at.
PERTURB = {
    "duplicates": "Records screened",
    "records_excluded": "Reports sought for retrieval",
    "dbr_notretrieved_reports": "Reports assessed for eligibility",
    "other_removed_dbr": "Reports sought for retrieval",
    "other_removed_within": "Reports sought for retrieval",
    "other_notretrieved_reports": "Reports assessed for eligibility",
}


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(review=reviews(), wrong=st.sampled_from(sorted(PERTURB)))
def test_random_reviews_add_up_column_by_column(tmp_path_factory, review, wrong):
    folder = tmp_path_factory.mktemp("review")
    write_records(folder / "records", review, 0)
    write_decisions(folder, review, 0)
    counts = run_screening(
        folder / "records",
        SETTINGS,
        folder / "decisions.csv",
        folder / "retrieval.csv",
    ).counts  # run_screening checks the flow first
    compare(prisma.flow_from_counts(counts), expected_boxes(review))
    # a box one out is caught, naming the box below it
    with pytest.raises(prisma.FlowError, match=PERTURB[wrong]):
        prisma.check_flow(dict(counts, **{wrong: counts[wrong] + 1}))


def run_rounds(folder: Path, review) -> Path:
    """Screen rounds 0 and 1 of a random review, snapshotting each; the history."""
    history = folder / "history"
    for round_no in (0, 1):
        results = folder / f"results_{round_no}"
        write_records(results / "records", review, round_no)
        write_decisions(folder / f"input_{round_no}", review, round_no)
        result = run_screening(
            results / "records",
            SETTINGS,
            folder / f"input_{round_no}/decisions.csv",
            folder / f"input_{round_no}/retrieval.csv",
        )
        (results / "screening").mkdir()
        result.tables["final_decisions"].to_csv(
            results / "screening/final_decisions.csv", index=False
        )
        (results / "screening/prisma_counts.json").write_text(
            prisma.counts_json(result.counts), encoding="utf-8"
        )
        take_snapshot(results, history, round_no)
        if round_no == 0:
            first = [
                dict(c, members=[m for m in c["members"] if m[1] == 0]) for c in review
            ]
            first = [c for c in first if c["members"]]
            compare(prisma.flow_from_counts(result.counts), expected_boxes(first))
    return history


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(review=reviews(rounds=2))
def test_random_update_rounds_add_up_column_by_column(tmp_path_factory, review):
    history = run_rounds(tmp_path_factory.mktemp("update"), review)
    flow = update_flow(history)
    assert flow.previous
    assert "follow the records of round 1's searches" in flow.notes[0]
    compare(flow, expected_boxes(review, new_round=1))


def test_a_database_finding_an_earlier_other_methods_report_is_a_duplicate(tmp_path):
    """Round 0 finds a report by citation chasing, round 1 in Database A.

    The report was retrieved and included via other methods; the database
    record of round 1 is a duplicate removed in the update's databases column,
    and the report is not sent back to title/abstract screening.
    """
    review = [
        {
            "members": [(5, 0), (0, 1)],
            "ta": "exclude",  # not used: never screened at title/abstract
            "retrieved": "yes",
            "ft": "include",
            "given": 0,
            "kept": 0,
        },
        {  # a new database record of round 1, excluded at title/abstract
            "members": [(1, 1)],
            "ta": "exclude",
            "retrieved": "",
            "ft": "pending",
            "given": 0,
            "kept": 0,
        },
    ]
    history = run_rounds(tmp_path, review)
    decisions = pd.read_csv(history / "round_1/decisions.csv", dtype=str)
    column = dict(zip(decisions["record_id"], decisions["prisma_column"], strict=True))
    assert column["cit:c0:m0"] == "other_methods"
    flow = update_flow(history)
    assert flow.databases == [("Database A", 1), ("Database B", 1)]
    assert (flow.duplicates, flow.records_screened, flow.records_excluded) == (1, 1, 1)
    assert (flow.other_sought_reports, flow.new_reports) == (0, 0)
    assert (flow.previous_reports, flow.total_reports) == (1, 1)
