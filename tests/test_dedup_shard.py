"""Deduplication within bounded memory and sharded across jobs: the same tables.

The row-by-row path (``dedup_file``), the in-memory one (``deduplicate`` and
``write_dedup``) and the sharded one (keys, compare, gather) must write the
five tables byte for byte alike, whatever the number of shards and chunks,
with reviewers' verdicts and update searches.
"""

from __future__ import annotations

import csv
import random
import sys
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evsynth.errors import InputError
from evsynth.records.dedup import TABLES, dedup_file, deduplicate, write_dedup
from evsynth.records.dedup.api import FieldStore, iter_csv_rows
from evsynth.records.dedup.engine import candidate_codes, family_blocks
from evsynth.records.dedup.keys import match_keys
from evsynth.records.dedup.shard import (
    compare_shard,
    dedup_sharded,
    gather,
    shard_of,
    write_keys,
)
from tests.conftest import REPO


def _tables(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in TABLES}


def _in_memory(records: Path, out: Path, decisions: pd.DataFrame | None) -> None:
    frame = pd.read_csv(records, dtype=str, keep_default_na=False)
    write_dedup(deduplicate(frame, "ID", decisions=decisions), out)


def _all_ways(
    records: Path, work: Path, decisions: pd.DataFrame | None, layouts
) -> dict[str, dict[str, bytes]]:
    """Deduplicate one file every way; return each way's tables."""
    out = {}
    _in_memory(records, work / "memory", decisions)
    out["memory"] = _tables(work / "memory")
    decisions_file = None
    if decisions is not None:
        decisions_file = work / "decisions.csv"
        decisions.assign(reviewer="ab", date="2026-01-01").to_csv(
            decisions_file, index=False
        )
    dedup_file(records, work / "file", id_column="ID", decisions=decisions_file)
    out["file"] = _tables(work / "file")
    for shards, chunks in layouts:
        name = f"sharded_{shards}_{chunks}"
        dedup_sharded(
            records,
            work / name,
            shards=shards,
            chunks=chunks,
            id_column="ID",
            decisions=decisions_file,
        )
        out[name] = _tables(work / name)
    return out


def _assert_same(ways: dict[str, dict[str, bytes]]) -> None:
    reference = ways["memory"]
    for way, tables in ways.items():
        for name in TABLES:
            assert tables[name] == reference[name], (way, name)


# --- a small hand-made set ----------------------------------------------------

BASE = {
    "title": "Impact of a mentoring and skills group program on mental health "
    "outcomes for maltreated children in foster care",
    "author": "Taussig, Heather N and Culhane, Sara E",
    "year": "2010",
    "journal": "Archives of Pediatrics & Adolescent Medicine",
    "volume": "164",
    "number": "8",
    "pages": "739-746",
    "doi": "10.1001/archpediatrics.2010.124",
}
TITLES = [
    BASE["title"],
    BASE["title"].upper() + ".",
    BASE["title"].replace("mentoring", "mentornig"),
    "Erratum: " + BASE["title"],
    BASE["title"] + ": Part II",
    "Peer support for young people leaving residential care",
    "Peer support for young people leaving residential care: a trial",
    "Effects of exercise in adults with chronic heart failure",
    "Effects of exercise in children with chronic heart failure",
]


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    columns = ["ID", *BASE, "update"]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _record(number: int, title: int, doi: int, pages: int, year: int, update: int):
    return {
        "ID": f"r{number}",
        **BASE,
        "title": TITLES[title],
        "doi": ["", BASE["doi"], "10.1001/other.2010.9"][doi],
        "pages": ["", "739-746", "739-46", "1034"][pages],
        "year": str(2009 + year),
        "update": str(update),
    }


def test_hand_made_set_with_tricky_cells(tmp_path: Path) -> None:
    # ids and titles a spreadsheet would run as formulas, a short row, empty
    # fields, accents: the row-by-row writer guards them as the table writer does
    rows = [_record(i, i % len(TITLES), i % 3, i % 4, i % 2, i // 6) for i in range(18)]
    rows[0]["ID"] = "=1+1"
    rows[1]["ID"] = "-r1"
    rows[2]["title"] = "@" + rows[2]["title"]
    rows[3]["author"] = "Kjøbli, John and Ogden, Terje"
    rows[4]["journal"] = ""
    path = _write(tmp_path / "records.csv", rows)
    text = path.read_text(encoding="utf-8").rstrip("\n")
    path.write_text(text + "\nr99,Short row\n", encoding="utf-8")
    decisions = pd.DataFrame(
        {
            "record_id_a": ["r5", "r7", "-r1"],
            "record_id_b": ["=1+1", "r16", "r10"],
            "verdict": ["duplicate", "distinct", "duplicate"],
        }
    )
    ways = _all_ways(path, tmp_path, decisions, [(1, 1), (3, 2), (16, 5)])
    _assert_same(ways)
    pairs = ways["file"]["dedup_pairs.csv"].decode()
    assert "'=1+1" in pairs and "'-r1" in pairs  # guarded, as frame_to_csv does
    assert "reviewer" in pairs


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    records=st.lists(
        st.tuples(
            st.integers(0, len(TITLES) - 1),
            st.integers(0, 2),
            st.integers(0, 3),
            st.integers(0, 2),
            st.integers(0, 2),
        ),
        min_size=0,
        max_size=30,
    ),
    decided=st.lists(
        st.tuples(st.integers(0, 29), st.integers(0, 29), st.booleans()), max_size=6
    ),
    shards=st.integers(1, 9),
    chunks=st.integers(1, 4),
)
def test_shard_count_never_changes_the_result(
    records, decided, shards: int, chunks: int
) -> None:
    rows = [_record(i, *fields) for i, fields in enumerate(records)]
    # a record paired with itself is refused (tests/test_dedup.py)
    pairs = [(a, b, v) for a, b, v in decided if a != b and max(a, b) < len(rows)]
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        path = _write(work / "records.csv", rows)
        decisions_file = None
        if pairs:
            decisions_file = work / "decisions.csv"
            pd.DataFrame(
                {
                    "record_id_a": [f"r{a}" for a, _, _ in pairs],
                    "record_id_b": [f"r{b}" for _, b, _ in pairs],
                    "verdict": ["duplicate" if v else "distinct" for *_, v in pairs],
                    "reviewer": "ab",
                    "date": "2026-01-01",
                }
            ).to_csv(decisions_file, index=False)
        dedup_file(path, work / "one", id_column="ID", decisions=decisions_file)
        dedup_sharded(
            path,
            work / "sharded",
            shards=shards,
            chunks=chunks,
            id_column="ID",
            decisions=decisions_file,
        )
        assert _tables(work / "one") == _tables(work / "sharded")


# --- the labelled sets and a few thousand synthetic records ---------------------


@pytest.mark.shared
@pytest.mark.parametrize("name", ["special_cases", "stroke", "haematology"])
def test_labelled_sets_every_way(shared: Path, name: str, tmp_path: Path) -> None:
    records = shared / "benchmarks/dedup" / name / "records.csv"
    _assert_same(_all_ways(records, tmp_path, None, [(1, 1), (3, 2), (16, 3)]))


def _builder():
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        import dedup  # benchmarks/dedup.py
    finally:
        sys.path.pop(0)
    return dedup


@pytest.mark.shared
def test_synthetic_records_with_updates_and_verdicts(
    shared: Path, tmp_path: Path
) -> None:
    builder = _builder()
    builder.build_scaling_set(3000, 7, tmp_path / "set")
    frame = pd.read_csv(tmp_path / "set/records.csv", dtype=str, keep_default_na=False)
    n = len(frame)
    frame["update"] = [str(min(2, 3 * i // n)) for i in range(n)]
    records = tmp_path / "records.csv"
    frame.to_csv(records, index=False)
    # verdicts on pairs the rules found duplicates, on pairs left to review,
    # and on pairs that are no candidates at all
    _in_memory(records, tmp_path / "first", None)
    pairs = pd.read_csv(
        tmp_path / "first/dedup_pairs.csv", dtype=str, keep_default_na=False
    )
    duplicates = pairs[pairs["verdict"] == "duplicate"].head(15)
    others = pairs[pairs["verdict"] != "duplicate"].head(15)
    rng = random.Random(3)
    ids = list(frame["ID"])
    strangers = [rng.sample(ids, 2) for _ in range(10)]
    decisions = pd.DataFrame(
        {
            "record_id_a": [*duplicates["record_id_b"], *others["record_id_a"]]
            + [a for a, _ in strangers],
            "record_id_b": [*duplicates["record_id_a"], *others["record_id_b"]]
            + [b for _, b in strangers],
            "verdict": ["distinct"] * len(duplicates)
            + ["duplicate"] * len(others)
            + ["duplicate", "distinct"] * 5,
        }
    )
    ways = _all_ways(records, tmp_path, decisions, [(1, 1), (3, 2), (16, 4)])
    _assert_same(ways)
    summary = ways["file"]["dedup_summary.csv"].decode().splitlines()
    assert len(summary) == 4  # three updates
    assert ways["file"]["dedup_pairs.csv"].decode().count(",reviewer,") == len(
        decisions
    )


# --- the pieces -----------------------------------------------------------------


def test_shard_of_is_a_stable_hash() -> None:
    # CRC-32 of the key's UTF-8 (the standard check value of "123456789" is
    # 0xCBF43926), whatever the process's hash seed
    assert shard_of("123456789", 1000) == 0xCBF43926 % 1000 == 262
    assert shard_of("t:anything", 1) == 0


def test_blocks_are_exact_whatever_the_hashes_say() -> None:
    # the hash only narrows the search: records meet on the key text itself
    keys = [
        match_keys({"title": t, "pages": "1-9"})
        for t in ("Alpha beta gamma delta epsilon", "Alpha beta gamma delta epsilon")
    ]
    assert list(family_blocks(keys, "t")) == [[0, 1]]
    codes = candidate_codes(keys)
    assert codes.tolist() == [1]  # the pair (0, 1), coded 0 * 2 + 1


def test_field_store_round_trip(tmp_path: Path) -> None:
    store = FieldStore(tmp_path)
    values = [{"title": f"t{i}", "authors": "é" * i} for i in range(2000)] + [{}]
    for value in values:
        store.append(value)
    assert len(store) == len(values)
    assert [store[i] for i in (0, 1999, 2000, 17)] == [
        values[0],
        values[1999],
        {},
        values[17],
    ]
    store.close()


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("ID,title,title\nr1,a,b\n", "named twice"),
        ("ID,title\nr1,a,extra\n", "3 cells where the header has 2"),
        ('ID,title\nr1,"never closed\n', "cannot be read as CSV"),
        ("", "empty file"),
    ],
)
def test_bad_records_file(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "records.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=fragment) as caught:
        dedup_file(path, tmp_path / "out", id_column="ID")
    assert "records.csv" in str(caught.value)
    assert not (tmp_path / "out").exists()
    with pytest.raises(InputError, match=fragment):
        list(iter_csv_rows(path, "records"))


def test_stages_refuse_another_layout(tmp_path: Path) -> None:
    rows = [_record(i, i % 3, 1, 1, 0, 0) for i in range(6)]
    path = _write(tmp_path / "records.csv", rows)
    with pytest.raises(InputError, match="file not found"):
        compare_shard(tmp_path / "keys", tmp_path / "compared", shard=0, shards=2)
    for chunk in range(2):
        write_keys(
            path, tmp_path / "keys", chunk=chunk, chunks=2, shards=2, id_column="ID"
        )
    with pytest.raises(InputError, match="another chunking"):
        compare_shard(tmp_path / "keys", tmp_path / "compared", shard=0, shards=3)
    for shard in range(2):
        compare_shard(tmp_path / "keys", tmp_path / "compared", shard=shard, shards=2)
    with pytest.raises(InputError, match="another shard count"):
        gather(path, tmp_path / "compared", tmp_path / "out", shards=3, id_column="ID")
    other = _write(tmp_path / "other.csv", rows[:4])
    with pytest.raises(InputError, match="another shard count or records file"):
        gather(other, tmp_path / "compared", tmp_path / "out", shards=2, id_column="ID")
    with pytest.raises(InputError, match="no column"):
        write_keys(path, tmp_path / "k2", chunk=0, chunks=1, shards=1, id_column="nope")


@pytest.mark.workflow
def test_workflow_sharded_rules_give_the_same_tables(tmp_path: Path) -> None:
    """The example review's deduplication with records.dedup_shards: 3."""
    import subprocess

    from evsynth.project.template import init_example

    tables = {}
    for shards in (0, 3):
        folder = tmp_path / f"shards_{shards}"
        init_example(folder)
        config = folder / "config/config.yaml"
        text = config.read_text(encoding="utf-8")
        config.write_text(
            text.replace(
                "  dedup_decisions: records/dedup_decisions.csv\n",
                "  dedup_decisions: records/dedup_decisions.csv\n"
                f"  dedup_shards: {shards}\n",
            ),
            encoding="utf-8",
        )
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "snakemake",
                "--snakefile",
                str(REPO / "Snakefile"),
                "--directory",
                str(folder),
                "--cores",
                "2",
                "results/records/unique.csv",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        tables[shards] = _tables(folder / "results/records")
        if shards:
            assert "dedup_compare" in proc.stderr
            assert (folder / "results/logs/dedup_compare/shard_2.log").is_file()
            # the stages' folders are temporary
            assert not (folder / "results/records/dedup_shards").exists()
    assert tables[0] == tables[3]


def test_worker_processes_give_the_same_tables(tmp_path: Path, monkeypatch) -> None:
    from evsynth.records.dedup import api

    monkeypatch.setattr(api, "_WORKER_ROWS", 5)  # a pool even for a small file
    rows = [_record(i, i % len(TITLES), i % 3, i % 4, i % 2, i // 9) for i in range(27)]
    rows[3]["author"] = "Kjøbli, John and Ogden, Terje"
    path = _write(tmp_path / "records.csv", rows)
    dedup_file(path, tmp_path / "one", id_column="ID", workers=1)
    dedup_file(path, tmp_path / "three", id_column="ID", workers=3)
    gather_dir = tmp_path / "sharded"
    dedup_sharded(path, gather_dir, shards=2, chunks=2, id_column="ID")
    assert _tables(tmp_path / "one") == _tables(tmp_path / "three")
    assert _tables(tmp_path / "one") == _tables(gather_dir)
    # a row a worker cannot read is read again here, with the same error
    rows[12]["update"] = "soon"
    _write(path, rows)
    with pytest.raises(
        InputError, match=r"row 13, column .update.: invalid update .soon."
    ):
        dedup_file(path, tmp_path / "bad", id_column="ID", workers=2)


def test_cli_sharded_work_folder(tmp_path: Path, monkeypatch) -> None:
    """`evsynth dedup --shards`: intermediates beside the outputs, gone after; kept with --work-dir."""
    from evsynth.cli import main
    from evsynth.records.dedup import shard

    made: list[Path] = []
    real = tempfile.TemporaryDirectory

    def spy(*args, **kwargs):
        made.append(Path(kwargs["dir"]))
        return real(*args, **kwargs)

    monkeypatch.setattr(shard.tempfile, "TemporaryDirectory", spy)
    rows = [_record(i, i % 4, i % 3, i % 4, 0, 0) for i in range(12)]
    path = _write(tmp_path / "records.csv", rows)
    out = tmp_path / "out" / "dedup"
    common = ["dedup", str(path), "--id-column", "ID", "--shards", "3"]
    assert main([*common, "--out-dir", str(out)]) == 0
    # the nearest existing folder of the outputs (their parent was not made yet)
    assert made == [tmp_path]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "records.csv"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["dedup"]
    assert sorted(p.name for p in out.iterdir()) == sorted(TABLES)
    work = tmp_path / "work"
    kept = tmp_path / "kept"
    assert main([*common, "--out-dir", str(kept), "--work-dir", str(work)]) == 0
    assert sorted(p.name for p in work.iterdir()) == ["compared", "keys"]
    assert sorted(p.name for p in (work / "compared").iterdir()) == [
        f"shard_{s}" for s in range(3)
    ]
    assert _tables(kept) == _tables(out)


def test_tables_written_in_many_small_blocks_are_the_same(
    tmp_path: Path, monkeypatch
) -> None:
    """The gather's ranges of pairs and the writers' blocks of rows, made tiny."""
    from evsynth.records.dedup import api, shard

    rows = [_record(i, i % len(TITLES), i % 3, i % 4, i % 2, i // 9) for i in range(40)]
    path = _write(tmp_path / "records.csv", rows)
    dedup_file(path, tmp_path / "whole", id_column="ID")
    whole = _tables(tmp_path / "whole")
    assert whole["dedup_pairs.csv"].count(b"\n") > 20  # many ranges below
    monkeypatch.setattr(shard, "_PAIRS_PER_RANGE", 3)
    monkeypatch.setattr(api, "_ROWS", 2)
    dedup_file(path, tmp_path / "blocks", id_column="ID")
    dedup_sharded(path, tmp_path / "sharded", shards=3, chunks=2, id_column="ID")
    assert _tables(tmp_path / "blocks") == whole
    assert _tables(tmp_path / "sharded") == whole
