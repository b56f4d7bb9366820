"""The evsynth command line."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd

from evsynth.cli import main
from tests import samples


def test_import_writes_records_summary_and_issues(tmp_path):
    ris = tmp_path / "a.ris"
    ris.write_text(samples.ris(junk=True), encoding="utf-8")
    bib = tmp_path / "b.bib"
    bib.write_text(samples.bibtex(), encoding="utf-8")
    out = tmp_path / "out" / "records.csv"
    code = main(
        [
            "import",
            str(ris),
            str(bib),
            "--out",
            str(out),
            "--summary",
            str(tmp_path / "s.csv"),
            "--issues",
            str(tmp_path / "i.csv"),
        ]
    )
    assert code == 0
    records = pd.read_csv(out, dtype=str)
    assert len(records) == 6
    assert set(records["format"]) == {"ris", "bibtex"}
    assert records["record_id"].str.startswith(("a:", "b:")).all()
    summary = pd.read_csv(tmp_path / "s.csv")
    assert list(summary["n_parsed"]) == [3, 3]
    assert len(pd.read_csv(tmp_path / "i.csv")) == 1


def test_format_can_be_forced(tmp_path):
    path = tmp_path / "export.txt"
    path.write_text(samples.ris(), encoding="utf-8")
    out = tmp_path / "records.csv"
    assert main(["import", str(path), "--format", "ris", "--out", str(out)]) == 0
    assert main(["import", str(path), "--format", "pubmed", "--out", str(out)]) == 0


def test_bad_input_exits_2_with_one_line_and_no_output(tmp_path):
    good = tmp_path / "good.ris"
    good.write_text(samples.ris(), encoding="utf-8")
    bad = tmp_path / "bad.ris"
    bad.write_text("AU  - Lost, A\nTY  - JOUR\nER  - \n", encoding="utf-8")
    out = tmp_path / "records.csv"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "evsynth.cli",
            "import",
            str(good),
            str(bad),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    error = [line for line in proc.stderr.splitlines() if "error" in line]
    assert error == [
        (
            f"evsynth: error: {bad}, line 1, column 'AU': tag 'AU' outside a record "
            "(expected a record to start with 'TY')"
        )
    ]
    assert not out.exists()
    assert set(tmp_path.iterdir()) == {good, bad}  # no temporary file left either


def test_formats_lists_every_format(capsys):
    assert main(["formats"]) == 0
    printed = capsys.readouterr().out
    for fmt in (
        "ris",
        "pubmed",
        "bibtex",
        "scopus_csv",
        "wos",
        "endnote_xml",
        "zotero_csv",
    ):
        assert fmt in printed


def test_cli_rob_and_qualitative_on_the_example(tmp_path):
    from evsynth.cli import main
    from tests.conftest import REPO

    data = REPO / "data"
    out = tmp_path / "rob"
    assert (
        main(
            [
                "rob",
                str(data / "extraction/risk_of_bias.csv"),
                "--out-dir",
                str(out),
                "--studies",
                str(data / "studies.csv"),
            ]
        )
        == 0
    )
    assert (out / "traffic_light_rob2.png").stat().st_size > 0
    qual = tmp_path / "qual"
    assert main(["qualitative", str(data), "--out-dir", str(qual)]) == 0
    assert (qual / "cerqual_soqf.docx").stat().st_size > 0


def test_cli_rob_bad_level_exits_2(tmp_path, capsys):
    from evsynth.cli import main
    from tests.conftest import REPO

    text = (REPO / "data/extraction/risk_of_bias.csv").read_text(encoding="utf-8")
    bad = tmp_path / "rob.csv"
    lines = text.splitlines()
    lines[1] = lines[1].replace("some_concerns", "medium", 1)
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert main(["rob", str(bad), "--out-dir", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "rob.csv, line 2, row 1" in err
    assert not (tmp_path / "out").exists()


def test_empty_csv_input_is_a_clean_error(tmp_path, capsys):
    """A zero-byte table, to any stage that reads one: exit 2, the file named,
    what was expected said, no output written."""
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    out = tmp_path / "out"
    for argv in (
        ["dedup", str(empty), "--id-column", "ID", "--out-dir", str(out)],
        ["effects", str(empty), "--out", str(out / "effects.csv")],
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "empty.csv" in err and "empty file" in err and "expected" in err
        assert "Traceback" not in err
    assert not out.exists()


def test_outputs_are_ordinary_files(tmp_path):
    """Outputs get the usual mode (0666 less the umask), not mkstemp's 0600."""
    import os

    from evsynth.io import atomic_path

    mask = os.umask(0o022)
    try:
        with atomic_path(tmp_path / "a.csv") as tmp:
            tmp.write_text("x\n", encoding="utf-8")
    finally:
        os.umask(mask)
    assert (tmp_path / "a.csv").stat().st_mode & 0o777 == 0o644
