"""The Slurm profile on a real Slurm: the example review through profiles/slurm.

The test starts a single-node Slurm on this machine from Debian's packages
(``slurm-wlm``, ``munge``): ``munged`` with a key of its own, ``slurmctld`` and
``slurmd``, all in the foreground as children of the test. It runs the example
review with ``evsynth run --profile slurm`` (``snakemake --workflow-profile
profiles/slurm``), so that Snakemake's Slurm executor plugin submits every job
with ``sbatch``, and compares every file of ``results/`` byte for byte with a
local run of the same review in the same folder. It checks in ``squeue`` that
every job ran in Slurm, with the memory and time the profile asked for.

Where the test Slurm differs from a site's, and why:

* Its ``slurm.conf`` is written to ``/etc/slurm/slurm.conf`` (and removed after):
  the job-step plugin (snakemake-executor-plugin-slurm-jobstep 0.6.1) removes
  ``SLURM_CONF`` (with every ``SLURM_*`` variable but the job's identity) from
  the environment of the ``srun`` it starts inside each job, so a Slurm found
  only through ``SLURM_CONF`` fails there with ``srun: fatal: Could not
  establish a configuration source``. A machine with a ``slurm.conf`` of its own
  is left alone: the test is skipped.
* It has no accounting database (slurmdbd), so ``sacct`` answers "Slurm
  accounting storage is disabled"; the plugin's default status command is
  ``sacct`` whenever the command exists, and with it a run never learns that its
  jobs finished. The test passes ``--slurm-status-command squeue``, as the
  README tells sites without accounting to, and ``--slurm-no-account``.

Skipped without Slurm (``apt-get install slurm-wlm munge``; ``.ci/run`` installs
them as root), without root (the daemons run as root) or without the plugin
(``pip install -e '.[cluster]'``).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from evsynth.cli import main
from evsynth.project.template import init_review
from tests.conftest import REPO, tree

PROFILE = REPO / "profiles/slurm"
DAEMONS = ("munged", "slurmctld", "slurmd")
CLIENTS = ("sbatch", "srun", "squeue", "scontrol", "sinfo", "scancel")
#: Where every Slurm command looks for its configuration (Debian's build).
SLURM_CONF = Path("/etc/slurm/slurm.conf")
#: First line of the slurm.conf this test writes (so a stale one is recognised).
MARK = "# written by evsynth tests/test_slurm.py for one test run; removed after it\n"
#: The whole run on Slurm must end within this (it takes about 3 minutes).
RUN_TIMEOUT = 900


def _which(name: str) -> str | None:
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")


def _skip_reason() -> str | None:
    missing = [name for name in DAEMONS + CLIENTS if _which(name) is None]
    if missing:
        return (
            f"Slurm is not installed ({', '.join(missing)} not found): "
            "apt-get install slurm-wlm munge (.ci/run does so as root)"
        )
    if os.geteuid() != 0:
        return "the test's Slurm runs munged, slurmctld and slurmd as root"
    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        return "snakemake-executor-plugin-slurm is not installed: pip install -e '.[cluster]'"
    if SLURM_CONF.exists() and not SLURM_CONF.read_text(errors="replace").startswith(
        MARK
    ):
        return f"{SLURM_CONF} exists: this machine has a Slurm of its own, left alone"
    return None


def _env() -> dict[str, str]:
    """The environment of every command: Slurm's configuration from /etc/slurm."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLURM_")}
    env["PATH"] = env.get("PATH", "") + ":/usr/sbin:/sbin"
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _slurm(*args: str) -> str:
    """Run a Slurm client command; its output."""
    return subprocess.run(
        args, capture_output=True, text=True, check=True, env=_env(), timeout=60
    ).stdout


def _node_line() -> str:
    """This machine as slurmd sees it: ``NodeName=... CPUs=... RealMemory=...``."""
    out = subprocess.run(
        [_which("slurmd") or "slurmd", "-C"],
        capture_output=True,
        text=True,
        check=True,
        env=_env(),
        timeout=60,
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("NodeName="))
    return line.strip()


def _slurm_conf(base: Path, node: str) -> str:
    name = re.match(r"NodeName=(\S+)", node)
    assert name, node
    host = name.group(1)
    return MARK + "\n".join(
        [
            "ClusterName=evsynthtest",
            f"SlurmctldHost={host}(127.0.0.1)",
            f"SlurmctldPort={_free_port()}",
            f"SlurmdPort={_free_port()}",
            "SlurmUser=root",
            "SlurmdUser=root",
            "AuthType=auth/munge",
            "CredType=cred/munge",
            f"AuthInfo=socket={base / 'munge/munge.socket.2'}",
            f"StateSaveLocation={base / 'state'}",
            f"SlurmdSpoolDir={base / 'spool'}",
            f"SlurmctldPidFile={base / 'slurmctld.pid'}",
            f"SlurmdPidFile={base / 'slurmd.pid'}",
            f"SlurmctldLogFile={base / 'log/slurmctld.log'}",
            f"SlurmdLogFile={base / 'log/slurmd.log'}",
            # no cgroups: processes tracked through /proc, tasks not bound
            "ProctrackType=proctrack/linuxproc",
            "TaskPlugin=task/none",
            "SelectType=select/cons_tres",
            "SelectTypeParameters=CR_CPU_Memory",
            "SchedulerType=sched/backfill",
            # no slurmdbd: nothing to account to, and no job accounting gathered
            "AccountingStorageType=accounting_storage/none",
            "JobAcctGatherType=jobacct_gather/none",
            "JobCompType=jobcomp/none",
            "MpiDefault=none",
            "ReturnToService=2",
            # finished jobs stay in squeue for an hour: the status command and
            # the test's own look at the jobs find them all
            "MinJobAge=3600",
            f"{node} NodeAddr=127.0.0.1 State=UNKNOWN",
            f"PartitionName=debug Nodes={host} Default=YES MaxTime=INFINITE State=UP",
            "",
        ]
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)


def _wait_for(what: str, ready, timeout: float, logs: list[Path]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.5)
    text = "\n".join(
        f"--- {p}\n" + p.read_text(errors="replace")[-2000:] for p in logs if p.exists()
    )
    pytest.fail(f"{what} not ready after {timeout:.0f} s\n{text}", pytrace=False)


def _node_idle() -> bool:
    try:
        return _slurm("sinfo", "--noheader", "--Node", "--format=%T").strip() == "idle"
    except subprocess.CalledProcessError:
        return False


@pytest.fixture(scope="module")
def slurm() -> Iterator[Path]:
    """A single-node Slurm on this machine for the module; stopped after it.

    Yields the folder holding its state and logs.
    """
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    base = Path(tempfile.mkdtemp(prefix="evsynth-slurm-"))
    # munged wants its socket's folder (and those above) open to everyone
    base.chmod(0o755)
    for sub in ("munge", "state", "spool", "log"):
        (base / sub).mkdir(mode=0o755)
    key = base / "munge/munge.key"
    key.write_bytes(os.urandom(1024))
    key.chmod(0o400)
    SLURM_CONF.parent.mkdir(parents=True, exist_ok=True)
    SLURM_CONF.write_text(_slurm_conf(base, _node_line()), encoding="utf-8")
    started: list[subprocess.Popen[bytes]] = []
    logs = [
        base / "log/munged.log",
        base / "log/slurmctld.log",
        base / "log/slurmd.log",
    ]

    def start(*command: str) -> None:
        out = (base / "log" / f"{Path(command[0]).name}.out").open("wb")
        started.append(
            subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, env=_env(), cwd=base
            )
        )
        out.close()

    try:
        start(
            _which("munged") or "munged",
            "--foreground",
            f"--key-file={key}",
            f"--socket={base / 'munge/munge.socket.2'}",
            f"--pid-file={base / 'munge/munged.pid'}",
            f"--log-file={logs[0]}",
            f"--seed-file={base / 'munge/munged.seed'}",
        )
        _wait_for("munged", (base / "munge/munge.socket.2").exists, 30, logs)
        start(_which("slurmctld") or "slurmctld", "-D", "-i")
        start(_which("slurmd") or "slurmd", "-D")
        _wait_for("the Slurm node", _node_idle, 90, logs)
        yield base
    finally:
        # the jobs of a run that failed half-way, then the daemons, newest first
        with contextlib.suppress(Exception):
            _slurm("scancel", "--full", "--user=root")
            _wait_for_no_jobs()
        for process in reversed(started):
            _stop(process)
        if SLURM_CONF.exists() and SLURM_CONF.read_text(errors="replace").startswith(
            MARK
        ):
            SLURM_CONF.unlink()
        shutil.rmtree(base, ignore_errors=True)


def _wait_for_no_jobs(timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _slurm("squeue", "--noheader", "--states=PENDING,RUNNING,COMPLETING"):
            return
        time.sleep(1)


def _run(command: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    """Run ``command`` in a session of its own; on a timeout kill that session.

    ``evsynth run`` starts Snakemake, which waits for its jobs on SIGTERM: the
    whole process group goes, not ``evsynth`` alone.
    """
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
        start_new_session=True,
    )
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
        pytest.fail(
            f"{' '.join(command)} did not end within {timeout} s\n{err[-4000:]}",
            pytrace=False,
        )
    return subprocess.CompletedProcess(command, process.returncode, out, err)


def _evsynth(*args: str, timeout: float = RUN_TIMEOUT):
    return _run([sys.executable, "-m", "evsynth.cli", *args], timeout)


def _slurm_jobs() -> list[dict[str, str]]:
    """Every job slurmctld knows, finished ones included (MinJobAge is an hour)."""
    fields = {"id": "%i", "state": "%T", "comment": "%k", "memory": "%m"}
    fields |= {"time": "%l", "cpus": "%C"}
    out = _slurm(
        "squeue",
        "--noheader",
        "--states=all",
        "--format=" + "|".join(fields.values()),
    )
    return [
        dict(zip(fields, line.split("|"), strict=True)) for line in out.splitlines()
    ]


@pytest.mark.workflow
def test_example_review_on_slurm_is_byte_identical_to_a_local_run(slurm, tmp_path):
    review = tmp_path / "review"
    made = _evsynth("init", "--example", str(review), timeout=120)
    assert made.returncode == 0, made.stderr
    shutil.copytree(review, tmp_path / "pristine")

    # the local run, then the same review in the same folder on Slurm
    local = _evsynth("run", "--cores", "2", str(review))
    assert local.returncode == 0, local.stderr[-4000:]
    steps = re.findall(r"(\d+) of \1 steps \(100%\) done", local.stderr)
    assert steps, local.stderr[-2000:]
    review.rename(tmp_path / "local")
    shutil.copytree(tmp_path / "pristine", review)
    assert _slurm_jobs() == []
    on_slurm = _evsynth(
        "run",
        "--profile",
        "slurm",
        str(review),
        "--",
        "--slurm-status-command",
        "squeue",
        "--slurm-init-seconds-before-status-checks",
        "2",
        "--slurm-no-account",
    )
    assert on_slurm.returncode == 0, on_slurm.stderr[-6000:]
    assert "profiles/slurm for setting default command line arguments" in (
        on_slurm.stderr
    )

    # every job but the target rule `all` ran in Slurm, and finished there
    jobs = _slurm_jobs()
    assert len(jobs) == int(steps[-1]) - 1, jobs
    assert {job["state"] for job in jobs} == {"COMPLETED"}, jobs
    rules = [job["comment"].split("_wildcards_")[0] for job in jobs]
    assert rules.count("rule_import_search") == len(
        list((review / "results/records/parsed").glob("*.json"))
    )
    # with the profile's resources: the floor for these small inputs, and one CPU
    # for an export under 8 MB
    dedup = next(job for job in jobs if job["comment"] == "rule_deduplicate")
    assert (dedup["memory"], dedup["time"]) == ("1000M", "10:00")
    imports = [j for j in jobs if j["comment"].startswith("rule_import_search_")]
    assert {(j["memory"], j["time"], j["cpus"]) for j in imports} == {
        ("1000M", "10:00", "1")
    }

    # the same results, byte for byte: every file, logs included
    expected, got = tree(tmp_path / "local/results"), tree(review / "results")
    assert sorted(got) == sorted(expected)
    differ = [name for name in expected if got[name] != expected[name]]
    assert differ == []


# --- the profile's resources, as Snakemake computes them (no Slurm needed) ----------


class _Input(list):
    """A job's input files as a resource expression sees them: ``input.size_mb``."""

    def __init__(self, size_mb: float) -> None:
        super().__init__(["input"])
        self.size_mb = size_mb


def _asks(rule: str, size_mb: float, attempt: int = 1) -> dict[str, int]:
    """What the profile asks Slurm for a job of ``rule`` with this much input.

    The profile's entries go through Snakemake's own parsers of
    ``--default-resources``, ``--set-resources`` and ``--set-threads``.
    """
    from snakemake.cli import parse_set_resources, parse_set_threads
    from snakemake.resources import Resources

    profile = yaml.safe_load((PROFILE / "config.yaml").read_text(encoding="utf-8"))
    default = Resources.parse(
        [f"{k}={v}" for k, v in profile["default-resources"].items()],
        allow_expressions=True,
    )
    rules = parse_set_resources(
        [
            f"{name}:{k}={v}"
            for name, entries in profile["set-resources"].items()
            for k, v in entries.items()
        ]
    )
    threads = parse_set_threads([f"{k}={v}" for k, v in profile["set-threads"].items()])
    given = {**dict(default.items()), **dict(rules.get(rule, Resources()).items())}
    context = {"wildcards": None, "input": _Input(size_mb), "attempt": attempt}
    asks = {
        name: resource.evaluate(
            **context, threads=1, rulename=rule, async_run=None
        ).value
        for name, resource in given.items()
    }
    asks["threads"] = (
        threads[rule].evaluate(**context, rulename=rule, async_run=None).value
        if rule in threads
        else 1
    )
    return asks


#: Measured in benchmarks/RESULTS.md: the records.csv of the 100k and 1M scaling
#: sets (MB), deduplication's peak memory on them before the memory work (MiB)
#: and its time at 1M (s); a 159 MiB RIS export parsed at a peak of 1296 MiB.
RECORDS_MB = {100_000: 47.6, 1_000_000: 473.3}
DEDUP_PEAK_MIB = {100_000: 482, 1_000_000: 5481}
DEDUP_SECONDS_1M = 345
RIS_MB, RIS_PEAK_MIB = 159 * 1.048576, 1296


def test_small_jobs_ask_for_little():
    rules = ["import_search", "import_records", "deduplicate", "screening", "report"]
    for rule in rules:
        asks = _asks(rule, 0.1)  # the example review's inputs are all below 1 MB
        assert asks["mem_mb"] <= 1000, (rule, asks)
        assert asks["runtime"] <= 10, (rule, asks)
        assert asks["threads"] == 1, (rule, asks)


def test_a_large_deduplication_asks_for_what_it_needs():
    mib = 1.048576  # MB per MiB
    one_million = _asks("deduplicate", RECORDS_MB[1_000_000])
    # about 2 GB a million records (the bound of the memory work), with room
    assert 2000 <= one_million["mem_mb"] <= 8000
    assert one_million["runtime"] * 60 >= 2 * DEDUP_SECONDS_1M
    # a retry (after running out of memory) covers the peak measured before it
    retry = _asks("deduplicate", RECORDS_MB[1_000_000], attempt=2)
    assert retry["mem_mb"] >= DEDUP_PEAK_MIB[1_000_000] * mib
    assert retry["runtime"] >= 2 * one_million["runtime"] - 1
    hundred_k = _asks("deduplicate", RECORDS_MB[100_000])
    assert hundred_k["mem_mb"] >= DEDUP_PEAK_MIB[100_000] * mib
    assert hundred_k["mem_mb"] < one_million["mem_mb"]
    # more records, never less asked for
    sizes = [0, 1, 10, 100, 1000, 5000]
    asked = [_asks("deduplicate", size) for size in sizes]
    assert asked == sorted(asked, key=lambda a: (a["mem_mb"], a["runtime"]))
    assert asked[-1]["mem_mb"] > 10 * asked[0]["mem_mb"]


def test_a_large_export_is_parsed_with_more_memory_and_cpus():
    asks = _asks("import_search", RIS_MB)
    assert asks["mem_mb"] >= RIS_PEAK_MIB * 1.048576
    assert asks["threads"] > 1
    assert _asks("import_search", 1)["threads"] == 1


# --- evsynth run --profile ---------------------------------------------------------


def test_run_profile_names_a_profile_of_the_workflow_or_a_folder(
    tmp_path, monkeypatch, capsys
):
    init_review(tmp_path / "mine")
    calls: list[list[str]] = []
    monkeypatch.setattr(
        "evsynth.cli._run_recorded",
        lambda root, command, extra: calls.append([*command, *extra]) or 0,
    )
    review = str(tmp_path / "mine")
    assert main(["run", "--profile", "slurm", review]) == 0
    command = calls[-1]
    assert command[command.index("--workflow-profile") + 1] == str(PROFILE.resolve())
    # a site's own profile: a folder with a config.yaml
    site = tmp_path / "site"
    site.mkdir()
    (site / "config.yaml").write_text("jobs: 10\n", encoding="utf-8")
    assert main(["run", "--profile", str(site), review]) == 0
    assert calls[-1][calls[-1].index("--workflow-profile") + 1] == str(site)
    # without --profile, Snakemake finds the workflow's profiles/default itself
    assert main(["run", review]) == 0
    assert "--workflow-profile" not in calls[-1]
    # a profile that is not there stops the run (Snakemake would run without it)
    count = len(calls)
    assert main(["run", "--profile", "slrum", review]) == 2
    assert "no workflow profile 'slrum'" in capsys.readouterr().err
    assert main(["run", "--profile", str(tmp_path), review]) == 2
    assert (
        main(["run", "--profile", "slurm", review, "--", "--workflow-profile=x"]) == 2
    )
    assert "name the workflow profile once" in capsys.readouterr().err
    assert len(calls) == count
