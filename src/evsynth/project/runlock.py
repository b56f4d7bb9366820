"""Who is running a review: ``evsynth run``'s PID file and Snakemake's stale locks.

While ``evsynth run`` runs Snakemake on a review folder it keeps
``.snakemake/evsynth_run.pid`` there: its own process id, Snakemake's, and when
each started. A run killed by a signal or a power cut leaves that file and
Snakemake's locks (``.snakemake/locks/``) behind; the next ``evsynth run`` finds
that no recorded process is alive and clears the locks with ``snakemake
--unlock`` before it starts. If a recorded process is still alive, the review is
being run and the new run stops, naming the process.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from evsynth.errors import EvsynthError

#: The PID file, relative to the review folder.
PID_FILE = Path(".snakemake") / "evsynth_run.pid"
#: Snakemake's lock folder, relative to the review folder.
LOCKS = Path(".snakemake") / "locks"


def _create_time(pid: int) -> float | None:
    """When process ``pid`` started (seconds since the epoch), None if unknown."""
    try:
        import psutil
    except ImportError:  # pragma: no cover - psutil comes with snakemake
        return None
    try:
        return float(psutil.Process(pid).create_time())
    except (psutil.Error, OSError):
        return None


def _zombie(pid: int) -> bool:
    """Whether ``pid`` has ended but not been reaped (it holds no lock any more)."""
    try:
        import psutil
    except ImportError:  # pragma: no cover - psutil comes with snakemake
        return False
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except (psutil.Error, OSError):
        return False


def _alive(pid: int, created: float | None) -> bool:
    """Whether ``pid`` is a live process, and the same one if its start is known."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, another user's
    except OSError:  # pragma: no cover - e.g. no kill(0) on this system
        return False
    if _zombie(pid):
        return False  # killed, not yet reaped by its new parent
    if created is None:
        return True
    now = _create_time(pid)
    # a new process with a reused PID started later than the recorded one
    return now is None or abs(now - created) < 1.0


@dataclass
class RunRecord:
    """A run recorded in the PID file."""

    pid: int
    created: float | None = None
    snakemake_pid: int | None = None
    snakemake_created: float | None = None
    started: str = ""

    def live_pid(self) -> int | None:
        """Return the first recorded process still alive, or None."""
        if _alive(self.pid, self.created):
            return self.pid
        if self.snakemake_pid is not None and _alive(
            self.snakemake_pid, self.snakemake_created
        ):
            return self.snakemake_pid
        return None


def read_record(root: Path) -> RunRecord | None:
    """Read the PID file of the review folder ``root``; None if absent or unreadable."""
    path = root / PID_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        record = RunRecord(
            pid=int(data["pid"]),
            created=_float(data.get("created")),
            snakemake_pid=_int(data.get("snakemake_pid")),
            snakemake_created=_float(data.get("snakemake_created")),
            started=str(data.get("started", "")),
        )
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None
    return record


def _float(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


def _int(value: object) -> int | None:
    return None if value is None else int(value)  # type: ignore[call-overload]


def write_record(root: Path, record: RunRecord) -> None:
    """Write the PID file of the review folder ``root``."""
    path = root / PID_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "pid": record.pid,
        "created": record.created,
        "snakemake_pid": record.snakemake_pid,
        "snakemake_created": record.snakemake_created,
        "started": record.started,
    }
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)


def has_locks(root: Path) -> bool:
    """Whether Snakemake's lock folder of ``root`` holds a lock."""
    folder = root / LOCKS
    return folder.is_dir() and any(folder.glob("*.lock"))


def check_not_running(root: Path) -> bool:
    """Stop if a recorded run of ``root`` is alive; say whether stale locks remain.

    Parameters
    ----------
    root : Path
        The review folder.

    Returns
    -------
    bool
        True if Snakemake's locks are there and no recorded process is alive
        (a run was killed): the caller clears them with ``snakemake --unlock``.

    Raises
    ------
    EvsynthError
        If a recorded ``evsynth run`` (or its Snakemake) of this review is alive.
    """
    record = read_record(root)
    if record is not None:
        pid = record.live_pid()
        if pid is not None:
            since = f", started {record.started}" if record.started else ""
            raise EvsynthError(
                f"{root}: evsynth run is already running on this review (process "
                f"{pid}{since}); wait for it to finish, or stop it (kill {pid}) "
                "and run again"
            )
    if not has_locks(root):
        return False
    # locks with no PID file: a snakemake run outside evsynth, leave it to
    # snakemake; with a dead recorded run: stale
    return record is not None


@contextlib.contextmanager
def recording(root: Path) -> Iterator[RunRecord]:
    """Keep the PID file of ``root`` while the block runs; remove it at the end.

    Parameters
    ----------
    root : Path
        The review folder.

    Yields
    ------
    RunRecord
        The record; set ``snakemake_pid`` and call :func:`write_record` once
        Snakemake has started.
    """
    record = RunRecord(
        pid=os.getpid(),
        created=_create_time(os.getpid()),
        started=time.strftime("%Y-%m-%d %H:%M:%S"),
    )
    write_record(root, record)
    try:
        yield record
    finally:
        current = read_record(root)
        if current is not None and current.pid == record.pid:
            with contextlib.suppress(OSError):
                (root / PID_FILE).unlink()


#: Where a workflow job that refused its input leaves its message, relative to
#: the review folder (one file per refusal; cleared when ``evsynth run`` starts).
REFUSALS = Path(".snakemake") / "evsynth_refusals"


def record_refusal(
    message: str, root: Path | None = None, *, kind: str = "input"
) -> None:
    """Leave a job's refusal message for ``evsynth run`` to report (exit 2).

    A Snakemake job runs in the review folder; a job stopped by bad input (or a
    full disk) leaves its one-line message here, so that ``evsynth run`` can tell
    a refused input (exit 2) from a failed run (Snakemake's exit 1). Nothing is
    written outside a Snakemake working folder (one with ``.snakemake/``).

    Parameters
    ----------
    message : str
        The one-line message the job printed.
    root : Path, optional
        The review folder (default: the current directory).
    kind : {"input", "system"}
        A refused input, or a failure of the system (a full disk, a folder
        that cannot be written).
    """
    base = Path.cwd() if root is None else root
    if not (base / ".snakemake").is_dir():
        return
    folder = base / REFUSALS
    try:
        folder.mkdir(exist_ok=True)
        handle, _ = tempfile.mkstemp(dir=folder, prefix="job-", suffix=".txt")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(f"{kind}\t" + message.replace("\n", " ") + "\n")
    except OSError:  # a full disk: the job's own message still reaches stderr
        return


def clear_refusals(root: Path) -> None:
    """Remove the refusal messages of an earlier run of ``root``."""
    folder = root / REFUSALS
    if folder.is_dir():
        for path in folder.glob("job-*.txt"):
            path.unlink(missing_ok=True)


def read_refusals(root: Path) -> list[tuple[str, str]]:
    """Return the refusals the jobs of the last run of ``root`` left.

    Returns
    -------
    list of (str, str)
        Each refusal's kind (``"input"`` or ``"system"``) and message, in the
        order the jobs stopped, without repeats.
    """
    folder = root / REFUSALS
    if not folder.is_dir():
        return []
    paths = sorted(folder.glob("job-*.txt"), key=lambda p: (p.stat().st_mtime_ns, p))
    messages = []
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            continue
        kind, _, message = text.partition("\t")
        if message and (kind, message) not in messages:
            messages.append((kind, message))
    return messages
