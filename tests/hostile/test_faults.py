"""Faults (issue 17, item 5): killed runs, full disks, closed pipes, missing files.

No subcommand shows a traceback, for any argument or state: bad input and
operating-system errors end with one line naming the file and exit status 2.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from evsynth import cli
from evsynth.project.template import init_example
from tests.hostile.conftest import assert_refused, evsynth, tree

#: Every subcommand (``evsynth --help``) and its arguments, with ``{f}`` where a
#: file (or folder) the command reads goes, and ``{out}`` for an output folder.
COMMANDS: dict[str, list[str]] = {
    "import": ["{f}", "--out", "{out}/records.csv"],
    "dedup": ["{f}", "--out-dir", "{out}"],
    "dedup-shard": ["gather", "{f}", "{out}", "--shards", "1", "--out-dir", "{out}"],
    "screening": ["{f}", "--out-dir", "{out}"],
    "effects": ["{f}", "--out", "{out}/effects.csv"],
    "meta": ["{f}"],
    "rob": ["{f}", "--out-dir", "{out}"],
    "qualitative": ["{f}", "--out-dir", "{out}"],
    "prisma": ["{f}", "--out-dir", "{out}"],
    "changes": ["{f}"],
    "grade": ["{f}"],
    "accept-log-edits": ["{f}"],
    "report": ["{f}"],
    "init": ["{f}"],
    "validate": ["{f}"],
    "status": ["{f}"],
    "formats": [],
    "run": ["{f}"],
}


def _errors(stderr: str) -> list[str]:
    """The error lines of a command's stderr (the INFO lines left out)."""
    return [line for line in stderr.splitlines() if line.startswith("evsynth:")]


def _no_traceback(proc: subprocess.CompletedProcess[str], ok: tuple[int, ...]) -> None:
    out = proc.stdout + proc.stderr
    assert "Traceback" not in out, out[-3000:]
    assert proc.returncode in ok, (proc.returncode, out[-3000:])
    if proc.returncode == 2:
        lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("evsynth:")]
        assert lines or "usage:" in proc.stderr, proc.stderr[-3000:]


def test_every_command_lists_itself() -> None:
    """The table above holds every subcommand of ``evsynth --help``."""
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert set(sub.choices) == set(COMMANDS)  # type: ignore[attr-defined]


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_no_arguments(command: str, tmp_path: Path) -> None:
    """With no arguments: usage and exit 2 (or a result), never a traceback."""
    proc = evsynth(command, cwd=tmp_path)
    _no_traceback(proc, (0, 2))


@pytest.mark.parametrize("kind", ["missing", "empty", "directory", "binary"])
@pytest.mark.parametrize("command", sorted(set(COMMANDS) - {"formats", "init"}))
def test_bad_file(command: str, kind: str, tmp_path: Path) -> None:
    """A missing, empty, binary file or a folder where a file goes: one line, exit 2."""
    target = tmp_path / "input.csv"
    if kind == "empty":
        target.write_bytes(b"")
    elif kind == "directory":
        target.mkdir()
    elif kind == "binary":
        target.write_bytes(bytes(range(256)) * 8)
    out = tmp_path / "out"
    args = [a.format(f=target, out=out) for a in COMMANDS[command]]
    proc = evsynth(command, *args, cwd=tmp_path)
    _no_traceback(proc, (0, 2))
    if kind == "missing":
        assert proc.returncode == 2, proc.stderr
        assert "input.csv" in proc.stderr, proc.stderr


def test_missing_records_dir(example: Path) -> None:
    """``evsynth screening --records-dir MISSING`` names the folder."""
    proc = evsynth(
        "screening",
        str(example / "data"),
        "--out-dir",
        str(example / "out"),
        "--records-dir",
        str(example / "MISSING"),
    )
    assert_refused(proc, "MISSING")
    assert len(_errors(proc.stderr)) == 1, proc.stderr


@pytest.mark.parametrize(
    ("rows", "fragments"),
    [
        ("0.1,1e-300\n0.2,0.01\n0.3,0.02\n", ["row 1", "'vi'", "too extreme"]),
        ("1e300,0.1\n0.2,0.01\n0.3,0.02\n", ["row 1", "'yi'", "too extreme"]),
        ("0.1,0\n0.2,0\n0.3,0\n", ["row 1", "'vi'", "> 0"]),
        (
            "0.1,1e-30\n0.2,1e30\n0.3,0.02\n0.5,1e-30\n",
            ["cannot be fitted", "row 1", "row 2"],
        ),
    ],
)
def test_meta_extreme_values(tmp_path: Path, rows: str, fragments: list[str]) -> None:
    """Extreme effect sizes or variances: which rows and what is wrong."""
    table = tmp_path / "effects.csv"
    table.write_text("yi,vi\n" + rows, encoding="utf-8")
    args = ["meta", str(table), "--bias", "--cluster", "yi", "--subgroup", "yi"]
    proc = evsynth(*args)
    assert_refused(proc, "effects.csv", *fragments)
    assert "Singular matrix" not in proc.stderr


def test_broken_pipe_is_quiet(example: Path) -> None:
    """``evsynth formats | head`` and the like: no traceback, exit 141 (SIGPIPE)."""
    for args in (["formats"], ["status", str(example)]):
        process = subprocess.Popen(
            [sys.executable, "-m", "evsynth.cli", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert process.stdout is not None and process.stderr is not None
        process.stdout.close()  # the reader went away before the first line
        with process.stderr:
            err = process.stderr.read().decode()
        assert process.wait() == cli.EXIT_BROKEN_PIPE, err
        assert "Traceback" not in err and "BrokenPipe" not in err, err


@pytest.mark.parametrize(
    "code", [errno.ENOSPC, errno.EACCES, errno.EROFS, errno.EDQUOT, errno.EIO]
)
def test_os_error_is_one_line(
    code: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A full disk or an unwritable folder while writing: file named, exit 2."""
    target = tmp_path / "results" / "effects.csv"

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise OSError(code, os.strerror(code), str(target))

    monkeypatch.setattr("evsynth.effects.api.write_effects", refuse)
    source = Path(__file__).parents[2] / "data" / "extraction" / "effects.csv"
    status = cli.main(["effects", str(source), "--out", str(target)])
    err = capsys.readouterr().err
    assert status == 2
    assert _errors(err) == [f"evsynth: error: {target}: {os.strerror(code)}"]


def test_results_that_is_a_file(example: Path) -> None:
    """results/ that cannot be written (here a file): one line, exit 2, no traceback.

    Tests run as root, for whom chmod does not stop writes; a file where the
    folder goes fails the same way for everyone.
    """
    out = example / "results"
    out.write_text("not a folder\n", encoding="utf-8")
    proc = evsynth(
        "effects",
        str(example / "data" / "extraction" / "effects.csv"),
        "--out",
        str(out / "effects" / "effects.csv"),
    )
    assert_refused(proc, "results")
    assert len(_errors(proc.stderr)) == 1, proc.stderr


def test_script_main_logs_os_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In a workflow job an OSError ends the job with one line in its log.

    The job runs in its review folder, where it also leaves the line for
    ``evsynth run`` (kind "system": not an input problem).
    """
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".snakemake").mkdir()
    log_file = tmp_path / "job.log"
    with pytest.raises(SystemExit) as stop, cli.script_main(str(log_file)):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "results/x.csv")
    assert stop.value.code == 1
    text = log_file.read_text(encoding="utf-8")
    assert "results/x.csv: No space left on device" in text
    assert "Traceback" not in text
    from evsynth.project.runlock import read_refusals

    assert read_refusals(tmp_path) == [
        ("system", "results/x.csv: No space left on device")
    ]


def _write_lock(example: Path, pid: int) -> None:
    locks = example / ".snakemake" / "locks"
    locks.mkdir(parents=True)
    (locks / "0.input.lock").write_text("data/studies.csv\n", encoding="utf-8")
    record = {"pid": pid, "started": "2026-01-01 00:00:00"}
    (example / ".snakemake" / "evsynth_run.pid").write_text(json.dumps(record))


def test_live_run_is_refused(example: Path) -> None:
    """A live recorded run (here the test itself): refused, naming PID and folder."""
    _write_lock(example, os.getpid())
    before = tree(example)
    proc = evsynth("run", str(example), "--", "--cores", "1")
    assert_refused(proc, str(os.getpid()), str(example), "already running")
    assert "LockException" not in proc.stderr
    assert tree(example) == before


def test_stale_lock_is_cleared(example: Path) -> None:
    """A dead recorded run's lock is cleared with snakemake --unlock, and said so."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    _write_lock(example, dead.pid)
    proc = evsynth("run", str(example), "--", "results/evsynth_review.json")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "interrupted" in proc.stderr and "--unlock" in proc.stderr, proc.stderr
    assert "LockException" not in proc.stderr, proc.stderr
    assert not any((example / ".snakemake" / "locks").glob("*.lock"))
    assert not (example / ".snakemake" / "evsynth_run.pid").exists()


def _results(folder: Path) -> dict[str, bytes]:
    skip = ("logs/", "evsynth_review.json")
    return {k: v for k, v in tree(folder / "results").items() if not k.startswith(skip)}


@pytest.mark.workflow
def test_killed_run_reruns(example: Path, tmp_path: Path) -> None:
    """``kill -9`` mid-run, then a plain ``evsynth run``: the same results as one run."""
    reference = tmp_path / "reference"
    shutil.copytree(example, reference)  # the same review_id, so the same report
    command = [sys.executable, "-m", "evsynth.cli", "run"]
    process = subprocess.Popen(
        [*command, str(example)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    # kill it once the records are imported: deduplication, screening, effects,
    # meta-analyses and the report (most of the run) are still to come
    deadline = time.monotonic() + 120
    records = example / "results" / "records" / "records.csv"
    while time.monotonic() < deadline and process.poll() is None:
        if records.is_file():
            break
        time.sleep(0.05)
    assert process.poll() is None, "the run ended before it could be killed"
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert any((example / ".snakemake" / "locks").glob("*.lock"))
    # a write the kill cut short (the writers' temporary name) and a look-alike
    # that is not one (no leading dot): only the first goes
    partial = example / "results/records/.records.csv.partial-k1ll3d"
    partial.write_text("record_id,ti")
    kept = example / "results/records/notes.partial-kept"
    kept.write_text("mine")

    again = evsynth("run", str(example))
    assert again.returncode == 0, again.stderr[-3000:]
    assert "LockException" not in again.stderr
    assert "interrupted" in again.stderr
    assert "removed 1 half-written file(s)" in again.stderr
    assert not partial.exists()
    kept.unlink()
    done = evsynth("run", str(reference))
    assert done.returncode == 0, done.stderr[-3000:]
    got, want = _results(example), _results(reference)
    assert sorted(got) == sorted(want)
    assert [k for k in want if got[k] != want[k]] == []


def test_remove_partial_files_keeps_links_and_other_files(tmp_path: Path) -> None:
    from evsynth.io import atomic_path, remove_partial_files

    results = tmp_path / "results"
    (results / "meta").mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    outside = elsewhere / ".pooled.csv.partial-abc"
    outside.write_text("not ours")
    (results / "linked").symlink_to(elsewhere, target_is_directory=True)
    (results / ".link.partial-x").symlink_to(outside)
    left = results / "meta" / ".pooled.csv.partial-abc"
    left.write_text("yi,v")
    (results / "meta" / "pooled.csv").write_text("yi,vi\n")
    # the writers' temporary files carry the mark the cleaning looks for
    with atomic_path(results / "meta" / "pooled.csv") as tmp:
        assert tmp.name.startswith(".pooled.csv.partial-")
        assert sorted(remove_partial_files(results)) == sorted([left, tmp])
        tmp.write_text("yi,vi\n1,2\n")
    assert outside.exists() and (results / ".link.partial-x").is_symlink()
    assert (results / "meta" / "pooled.csv").read_text() == "yi,vi\n1,2\n"


# --- a real full disk (a small tmpfs; needs root and mount) --------------------------


@pytest.fixture
def small_disk(tmp_path: Path):
    """Mount a 1 MiB tmpfs (skipped where mounting is not allowed)."""
    mount = shutil.which("mount")
    point = tmp_path / "disk"
    point.mkdir()
    if mount is None or os.geteuid() != 0:
        pytest.skip("a real full disk needs root and mount")
    done = subprocess.run(
        [mount, "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(point)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], check=False)


def _fill(folder: Path, leave: int) -> None:
    """Fill the file system of ``folder`` up to ``leave`` bytes."""
    free = shutil.disk_usage(folder).free - leave
    with (folder / "ballast").open("wb") as out:
        while free > 0:
            chunk = min(free, 1 << 16)
            try:
                out.write(b"\0" * chunk)
                out.flush()
            except OSError:
                break
            free -= chunk


def test_a_full_disk_names_the_output(small_disk: Path) -> None:
    """A stage command writing to a full disk: the output named, exit 2, nothing left."""
    source = Path(__file__).parents[2] / "data" / "extraction" / "effects.csv"
    out = small_disk / "effects"
    out.mkdir()
    _fill(small_disk, 0)
    proc = evsynth("effects", str(source), "--out", str(out / "effects.csv"))
    assert_refused(proc, "No space left on device", str(out))
    assert len(_errors(proc.stderr)) == 1, proc.stderr
    assert sorted(p.name for p in out.iterdir()) == []  # no partial output


@pytest.mark.workflow
def test_a_run_on_a_full_disk_ends_with_one_line(small_disk: Path) -> None:
    """evsynth run on a review whose disk fills up: exit 2, the last line says so."""
    review = small_disk / "review"
    init_example(review)
    _fill(small_disk, 64 << 10)  # room for Snakemake to start, not for the results
    proc = evsynth("run", str(review))
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2, out[-3000:]
    assert "Traceback" not in out, out[-3000:]
    last = proc.stderr.strip().splitlines()
    assert "free the space" in last[-1], last[-3:]
    assert "No space left on device" in last[-2], last[-3:]
    assert not list((review / "results").rglob(".*.partial-*"))
