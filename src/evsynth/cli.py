"""The ``evsynth`` command line: one subcommand per stage, plus ``run``.

Every subcommand reads files and writes files, so a stage can be run without
Snakemake. Errors in the input are reported as one line naming the file, the
line or row and the column, with exit status 2 and no output written.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evsynth import __version__
from evsynth.errors import EvsynthError, InputError

if TYPE_CHECKING:
    from evsynth.project.review import Review

log = logging.getLogger("evsynth")

#: Exit status for bad input.
EXIT_INPUT = 2


class _StderrHandler(logging.Handler):
    """Write to whatever ``sys.stderr`` is at the time (tests swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
        except (OSError, ValueError):  # pragma: no cover - logging must not raise
            self.handleError(record)


class _FileHandler(logging.FileHandler):
    """A job's log file; a write it cannot make (a full disk) is not a traceback.

    The job's error still reaches stderr from :func:`script_main`, in one line.
    """

    def handleError(self, record: logging.LogRecord) -> None:
        return


def _setup_logging(verbosity: int, path: str | None = None) -> None:
    """Send evsynth's messages to stderr, or to a log file."""
    level = logging.WARNING if verbosity < 0 else logging.INFO
    if verbosity > 0:
        level = logging.DEBUG
    handler: logging.Handler = (
        _FileHandler(path, mode="w", encoding="utf-8")
        if path is not None
        else _StderrHandler()
    )
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    for old in list(log.handlers):
        log.removeHandler(old)
        old.close()
    log.addHandler(handler)
    log.setLevel(level)
    log.propagate = False


@contextlib.contextmanager
def script_main(log_path: str | None) -> Iterator[None]:
    """Run a Snakemake script's body with evsynth's logging and error handling.

    Messages go to the rule's log file. Bad input ends the job with the
    one-line message (in the log and on stderr, no traceback) and exit status 1;
    Snakemake then removes the job's outputs. The message is also left in
    ``.snakemake/evsynth_refusals/`` so that ``evsynth run`` ends with it and
    exit status 2 (see :func:`evsynth.project.runlock.record_refusal`).

    Parameters
    ----------
    log_path : str or None
        The rule's ``log`` file.

    Yields
    ------
    None
    """
    from evsynth.project import runlock

    _setup_logging(0, path=log_path)
    try:
        yield
    except EvsynthError as exc:
        log.error("%s", exc)
        print(f"evsynth: error: {exc}", file=sys.stderr)
        if isinstance(exc, InputError):
            # a stage stops at the first problem of a file; validate lists all
            log.info("`evsynth validate` lists every problem of the input tables")
        runlock.record_refusal(str(exc))
        raise SystemExit(1) from None
    except OSError as exc:
        # a full disk or an unwritable results folder: one line, no traceback
        message = os_error_message(exc)
        log.error("%s", message)
        print(f"evsynth: error: {message}", file=sys.stderr)
        runlock.record_refusal(message, kind="system")
        raise SystemExit(1) from None


def _cmd_import(args: argparse.Namespace) -> int:
    from evsynth.records import import_files, write_import

    result = import_files(args.files, args.format)
    write_import(result, args.out, args.summary, args.issues)
    total = len(result.records)
    log.info(
        "%d records from %d file(s) written to %s", total, len(args.files), args.out
    )
    return 0


def _cmd_dedup(args: argparse.Namespace) -> int:
    from evsynth.records.dedup import dedup_file
    from evsynth.records.dedup.shard import dedup_sharded

    if args.shards:
        result = dedup_sharded(
            args.input,
            args.out_dir,
            shards=args.shards,
            chunks=args.chunks,
            id_column=args.id_column,
            decisions=args.decisions,
            work_dir=args.work_dir,
        )
    else:
        result = dedup_file(
            args.input,
            args.out_dir,
            id_column=args.id_column,
            decisions=args.decisions,
            workers=args.workers,
        )
    _log_dedup(result, args.out_dir)
    return 0


def _log_dedup(result: Any, out_dir: str) -> None:
    """Log what a deduplication (whole, or gathered from shards) wrote."""
    log.info(
        "%d records in %d clusters; %d pairs to review; written to %s",
        result.n_records,
        result.n_clusters,
        result.n_review,
        out_dir,
    )


def _cmd_dedup_shard(args: argparse.Namespace) -> int:
    from evsynth.records.dedup import shard

    if args.stage == "keys":
        folder = shard.write_keys(
            args.input,
            args.out_dir,
            chunk=args.chunk,
            chunks=args.chunks,
            shards=args.shards,
            id_column=args.id_column,
        )
        log.info(
            "keys of chunk %d of %d written to %s", args.chunk, args.chunks, folder
        )
    elif args.stage == "compare":
        folder = shard.compare_shard(
            args.keys_dir, args.out_dir, shard=args.shard, shards=args.shards
        )
        log.info(
            "pairs of shard %d of %d written to %s", args.shard, args.shards, folder
        )
    else:
        result = shard.gather(
            args.input,
            args.compared_dir,
            args.out_dir,
            shards=args.shards,
            id_column=args.id_column,
            decisions=args.decisions,
        )
        _log_dedup(result, args.out_dir)
    return 0


def _load_config(path: str) -> dict:
    from evsynth.validation import validate_config
    from evsynth.yamlsafe import read_yaml_mapping

    config_path = Path(path)
    if not config_path.is_file():
        raise EvsynthError(f"{path}: config file not found (pass --config)")
    return validate_config(read_yaml_mapping(config_path).data, source=path)


def _check_stage_paths(config: dict, config_file: str, review_dir: str) -> None:
    """Stop if a table path of the config leads out of the stage's ``REVIEW_DIR``.

    The stage commands read the config's tables inside the folder named on the
    command line, whichever config they were given (``--config`` included).
    """
    from evsynth.paths import config_path_errors

    problems = config_path_errors(config, review_dir, config_file, review_dir)
    if problems:
        raise problems[0]


def _stage_config(args: argparse.Namespace, required: bool = True) -> str | None:
    """Return the config of a stage command: ``--config``, else the review's own.

    The review is the one whose input folder (or review folder) is
    ``REVIEW_DIR``; its ``results/records`` becomes the default
    ``--records-dir`` where the command has one.
    """
    from evsynth.project.review import find_review

    if args.config is not None and getattr(args, "records_dir", "") is not None:
        return args.config
    try:
        review = find_review(args.review_dir)
    except EvsynthError as exc:
        if args.config is not None or not required:
            if getattr(args, "records_dir", "") is None:
                args.records_dir = "results/records"
            return args.config
        raise EvsynthError(f"{exc}; or pass --config") from None
    if getattr(args, "records_dir", "") is None:
        args.records_dir = str(review.results / "records")
    return args.config if args.config is not None else str(review.config_file)


def _cmd_screening(args: argparse.Namespace) -> int:
    from evsynth.history.snapshot import check_decision_log
    from evsynth.screening.api import run_screening, write_screening
    from evsynth.screening.model import Settings

    args.config = _stage_config(args)
    config = _load_config(args.config)
    _check_stage_paths(config, args.config, args.review_dir)
    section = config["screening"]
    settings = Settings.from_config(section, source=args.config)
    review = Path(args.review_dir)
    # the append-only log against the last run's snapshot (beside the records)
    check_decision_log(
        review / section["decisions"], Path(args.records_dir).parent / "history"
    )
    result = run_screening(
        args.records_dir,
        settings,
        review / section["decisions"],
        review / section["retrieval"],
        review / section["studies"],
    )
    write_screening(result, args.out_dir, settings, title=args.title)
    states = result.counts["states"]
    log.info(
        "%d unique records: %s; written to %s",
        result.counts["n_unique"],
        ", ".join(
            f"{n} {s.replace('title_abstract', 'title/abstract').replace('_', ' ')}"
            for s, n in states.items()
            if n
        ),
        args.out_dir,
    )
    return 0


def _cmd_effects(args: argparse.Namespace) -> int:
    from evsynth.effects.api import run_effects, write_effects
    from evsynth.effects.compute import EffectSettings

    section: dict = {}
    analyses: list = []
    if args.config:
        config = _load_config(args.config)
        section = dict(config["effects"])
        # with measure auto, a domain's rows give the measure its analyses pool
        analyses = list((config.get("meta") or {}).get("analyses") or [])
    if args.measure:
        section["measure"] = args.measure
    settings = EffectSettings.from_config(section, analyses)
    result = run_effects(args.input, settings, studies=args.studies)
    write_effects(result, args.out, excluded=args.excluded)
    log.info(
        "%d effects written to %s; %d rows excluded",
        len(result.effects),
        args.out,
        len(result.excluded),
    )
    return 0


def _cmd_meta(args: argparse.Namespace) -> int:
    import json

    from evsynth.meta.cli import meta_object, print_meta, read_meta_input

    table = read_meta_input(args.input, args)
    result = meta_object(table, args)
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        print_meta(result, args)
    return 0


def _cmd_rob(args: argparse.Namespace) -> int:
    from evsynth.labels import read_study_labels
    from evsynth.rob.api import run_rob

    frame = run_rob(
        args.table,
        args.out_dir,
        args.studies,
        args.meta,
        labels=read_study_labels(args.labels),
    )
    log.info(
        "risk of bias of %d studies written to %s",
        frame["study_id"].nunique(),
        args.out_dir,
    )
    return 0


def _cmd_qualitative(args: argparse.Namespace) -> int:
    from evsynth.labels import read_study_labels
    from evsynth.qualitative.api import run_qualitative, write_qualitative
    from evsynth.studies import study_ids

    review = Path(args.review_dir)
    section: dict = {
        "findings": "qualitative/findings.csv",
        "appraisal": "qualitative/appraisal.csv",
        "cerqual": "qualitative/cerqual.csv",
        "cerqual_coverage": "full",
    }
    studies = review / "studies.csv"
    args.config = _stage_config(args, required=False)
    if args.config:
        config = _load_config(args.config)
        _check_stage_paths(config, args.config, args.review_dir)
        section = dict(config["qualitative"])
        studies = review / config["screening"]["studies"]
    result = run_qualitative(
        review / section["findings"],
        review / section["appraisal"],
        review / section["cerqual"],
        study_ids(studies),
        coverage=section["cerqual_coverage"],
        labels=read_study_labels(args.labels),
    )
    write_qualitative(result, args.out_dir)
    log.info("qualitative synthesis written to %s", args.out_dir)
    return 0


def _checked_review(folder: str | None) -> tuple[Review, dict]:
    """Return the review of ``folder`` (or of the current directory) and its config.

    The config is read strictly and validated, and the review's ``results/``
    must have been written by this review.
    """
    from evsynth.project.configfile import _load_valid_config
    from evsynth.project.review import check_results, find_review

    review = find_review(folder)
    config = _load_valid_config(review.config_file)
    check_results(review.root, config, review.config_file)
    return review, config


def _review_results(args: argparse.Namespace, **defaults: str) -> list[Path]:
    """Return the folders a command reads or writes, by option name.

    Each is the option's value if given, else its default inside the review
    folder (``args.folder``, or the review of the current directory), whose
    ``results/`` must have been written by that review.
    """
    given = {name: getattr(args, name) for name in defaults}
    if args.folder is None and all(v is not None for v in given.values()):
        return [Path(v) for v in given.values()]
    review, _ = _checked_review(args.folder)
    return [
        Path(v) if v is not None else review.root / defaults[name]
        for name, v in given.items()
    ]


def _cmd_changes(args: argparse.Namespace) -> int:
    from evsynth.history.changes import compare_rounds, write_changes
    from evsynth.history.snapshot import list_rounds
    from evsynth.labels import analysis_labels

    labels: dict[str, str] = {}
    if args.folder is not None or args.history is None or args.out_dir is None:
        # the review's config names the analyses (meta.analyses[].label)
        from evsynth.project.configfile import _load_valid_config
        from evsynth.project.review import find_review

        config = _load_valid_config(find_review(args.folder).config_file)
        labels = analysis_labels(config.get("meta"))
    history, out_dir = _review_results(
        args, history="results/history", out_dir="results/changes"
    )
    args.out_dir = str(out_dir)
    rounds = list_rounds(history)
    if not rounds:
        raise EvsynthError(
            f"{history}: no snapshot of an update round yet (evsynth run takes one)"
        )
    new = args.to if args.to is not None else max(rounds)
    old = args.from_ if args.from_ is not None else new - 1
    if old < 0 or old == new:
        raise EvsynthError(
            f"{history}: only round {new} to compare; evsynth changes compares two "
            "update rounds: add an update round (the manifest's update column) and "
            "run again, or name two rounds with --from and --to"
        )
    missing = [r for r in (old, new) if r not in rounds]
    if missing:
        have = ", ".join(str(r) for r in sorted(rounds))
        raise EvsynthError(
            f"{history}: no snapshot of round {missing[0]} (rounds with one: {have}); "
            "evsynth changes compares two rounds: add an update round (the manifest's "
            "update column) and run again"
        )
    changes = compare_rounds(history, old, new)
    write_changes(changes, args.out_dir, old=old, new=new, labels=labels)
    log.info("changes from round %d to round %d written to %s", old, new, args.out_dir)
    print((Path(args.out_dir) / "changes.md").read_text(encoding="utf-8"))
    return 0


def _cmd_grade(args: argparse.Namespace) -> int:
    from evsynth.grade.api import run_grade, write_grade

    review, config = _checked_review(args.folder)
    data = review.data_dir(config)
    meta_dir = Path(args.meta_dir) if args.meta_dir else review.results / "meta"
    out_dir = Path(args.out_dir) if args.out_dir else review.results / "grade"
    names = [str(a["name"]) for a in config["meta"]["analyses"]]
    reports = [meta_dir / f"{name}.json" for name in names]
    missing = [p for p in reports if not p.is_file()]
    if not names:
        raise EvsynthError(f"{review.config_file}: no meta.analyses to rate")
    if missing:
        raise EvsynthError(
            f"{missing[0]}: no meta-analysis report (run evsynth run, or give "
            "--meta-dir)"
        )
    result = run_grade(
        reports,
        config,
        studies=data / config["screening"]["studies"],
        rob=data / config["rob"]["file"],
        judgements=data / config["grade"]["file"],
        inputs_dir=meta_dir / "inputs",
    )
    write_grade(result, out_dir, title=config.get("review_title", ""))
    for row in result.rows:
        # the summary of findings' columns: relative effect only where the
        # measure has one (OR, RR), absolute effect where it can be computed
        effects = [row.participants_studies, row.relative_effect, row.absolute_effect]
        print(
            f"{row.outcome}: {'; '.join(e for e in effects if e)}; "
            f"{row.certainty}. {row.statement}"
        )
        for letter, text in row.footnotes:
            print(f"  {letter}. {text}")
    log.info("certainty and summary of findings written to %s", out_dir)
    return 0


def _cmd_accept_log_edits(args: argparse.Namespace) -> int:
    from evsynth.history.snapshot import accept_log_edits, decision_log_edits

    review, config = _checked_review(args.folder)
    log_file = review.data_dir(config) / config["screening"]["decisions"]
    history = review.results / "history"
    if args.reason is None:
        edits = decision_log_edits(log_file, history)
        if not edits:
            print(f"{log_file}: no earlier row changed since the last run")
            return 0
        for edit in edits:
            print(f"evsynth: error: {edit}", file=sys.stderr)
        print(
            f"evsynth: {len(edits)} edited row(s); if the edits are deliberate, run "
            "again with --reason TEXT to record them (else restore the rows and "
            "append superseding ones)",
            file=sys.stderr,
        )
        return EXIT_INPUT
    edits, out = accept_log_edits(log_file, history, args.reason)
    if out is None:
        print(f"{log_file}: no earlier row changed since the last run")
        return 0
    for edit in edits:
        print(f"accepted: {edit.location}: {edit.message}")
    print(f"{len(edits)} edit(s) and the reason recorded in {out}")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from evsynth.paths import config_path_errors
    from evsynth.project.review import check_results, find_review
    from evsynth.report.build import build_report, build_tables
    from evsynth.report.exports import export_included

    found = find_review(args.folder, args.config)
    config = _load_config(str(found.config_file))
    problems = config_path_errors(
        config, found.root, found.config_file, args.review_dir
    )
    if problems:  # paths read from the config stay inside the review
        raise problems[0]
    review = args.review_dir or found.data_dir(config)
    results = Path(args.results) if args.results else found.results
    out_dir = Path(args.out_dir) if args.out_dir else found.results / "report"
    check_results(found.root, config, found.config_file, results)
    config_file = found.config_name()
    build_report(results, config, review, out_dir, config_file=config_file)
    build_tables(results, config, review, out_dir)
    export_included(results, review, out_dir, studies=config["screening"]["studies"])
    log.info("report written to %s/index.html", out_dir)
    return 0


def _cmd_prisma(args: argparse.Namespace) -> int:
    from evsynth.screening.prisma import (
        FlowError,
        check_flow,
        flow_from_counts,
        read_template,
    )
    from evsynth.screening.prisma_plot import draw_prisma

    counts = read_template(args.counts)
    try:
        check_flow(counts)
    except FlowError as exc:
        if not args.no_check:
            raise InputError(
                str(exc),
                file=args.counts,
                column="n",
                expected="counts whose columns add up box by box (other-methods "
                "duplicates under other_removed_dbr and other_removed_within), or "
                "--no-check to draw them anyway",
            ) from None
        log.warning("drawn although the boxes do not add up: %s", exc)
    flow = flow_from_counts(counts)
    out = Path(args.out_dir)
    stem = args.name
    draw_prisma(
        flow,
        out / f"{stem}.svg",
        out / f"{stem}.png",
        out / f"{stem}.pdf",
        title=args.title,
    )
    log.info("PRISMA flow diagram written to %s/%s.{svg,png,pdf}", out, stem)
    return 0


def _cmd_formats(args: argparse.Namespace) -> int:
    from evsynth.records.detect import FORMATS

    for key, description in FORMATS.items():
        print(f"{key:12} {description}")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from evsynth.paths import review_path_errors
    from evsynth.project.configfile import _load_valid_config
    from evsynth.project.review import (
        check_results,
        find_review,
        workflow_profile,
        workflow_snakefile,
    )

    named = [f for f in (args.folder, args.review_dir, args.directory) if f]
    if len({str(Path(f).resolve()) for f in named}) > 1:
        raise EvsynthError(
            "name the review folder once: " + ", ".join(named) + " differ "
            "(--review-dir and --directory are older names of the folder argument)"
        )
    review = find_review(named[0] if named else None)
    config = _load_valid_config(review.config_file)
    # paths read from the review's files stay inside it: checked before snakemake
    # (or anything else) opens a file they name
    problems = review_path_errors(config, review.root, review.config_file)
    if problems:
        raise problems[0]
    data = review.data_dir(config)
    if not data.is_dir():
        raise EvsynthError(
            f"{review.config_file}: review_dir {config['review_dir']!r} is not a "
            f"folder (relative paths are relative to the review folder {review.root})"
        )
    check_results(review.root, config, review.config_file)
    # the snakemake installed beside evsynth, whatever is first on PATH
    command = [sys.executable, "-m", "snakemake"]
    command += ["--snakefile", str(workflow_snakefile())]
    command += ["--directory", str(review.root)]
    command += ["--cores", str(args.cores)]
    extra = list(args.snakemake_args)
    if args.profile is not None:
        if any(a.startswith("--workflow-profile") for a in extra):
            raise EvsynthError(
                "name the workflow profile once: --profile, or --workflow-profile "
                "after '--'"
            )
        # an absolute folder: Snakemake would run without a profile it cannot find
        command += ["--workflow-profile", str(workflow_profile(args.profile))]
    if _NO_LOCK_ARGS & set(extra):
        # a dry run, an unlock or a lock-free run: no run to record
        log.info("running: %s", " ".join(command + extra))
        return subprocess.call(command + extra)
    return _run_recorded(review.root, command, extra)


#: Snakemake options with which a run takes no lock (or removes it).
_NO_LOCK_ARGS = {
    "-n",
    "--dry-run",
    "--dryrun",
    "--unlock",
    "--nolock",
    "--summary",
    "--detailed-summary",
    "--list-rules",
    "--list",
    "-l",
    "--lint",
}


def _run_recorded(root: Path, command: list[str], extra: list[str]) -> int:
    """Run Snakemake on ``root`` with a PID file; clear a killed run's locks first.

    A run killed by a signal or a power cut leaves Snakemake's locks in
    ``.snakemake/locks``; when the process recorded in
    ``.snakemake/evsynth_run.pid`` is gone they are cleared with ``snakemake
    --unlock``, and the half-written files it left in ``results/`` are removed.
    A live recorded process stops this run (exit 2).
    """
    from evsynth.io import remove_partial_files
    from evsynth.project import runlock

    if runlock.check_not_running(root):
        record = runlock.read_record(root)
        since = f", started {record.started}" if record and record.started else ""
        pid = record.pid if record else "?"
        log.warning(
            "%s: the previous run (process %s%s) was interrupted; removing its "
            "Snakemake lock (snakemake --unlock)",
            root,
            pid,
            since,
        )
        unlocked = subprocess.run(
            [*command, "--unlock"], capture_output=True, text=True, check=False
        )
        if unlocked.returncode != 0:
            raise EvsynthError(
                f"{root}: could not remove the lock of an interrupted run "
                f"(snakemake --unlock: {unlocked.stderr.strip().splitlines()[-1:]})"
            )
    partial = remove_partial_files(root / "results")
    if partial:
        log.warning(
            "%s: removed %d half-written file(s) an interrupted run left in results/",
            root,
            len(partial),
        )
    command = command + extra
    log.info("running: %s", " ".join(command))
    runlock.clear_refusals(root)
    with runlock.recording(root) as record:
        process = subprocess.Popen(command)
        record.snakemake_pid = process.pid
        record.snakemake_created = runlock._create_time(process.pid)
        runlock.write_record(root, record)
        try:
            code = process.wait()
        except KeyboardInterrupt:
            # snakemake got the signal too and stops its jobs: let it finish
            process.wait()
            raise
    if code == 0:
        return code
    refusals = runlock.read_refusals(root)
    if not refusals:
        full = _disk_full(root)
        if full is None:
            return code  # a failure of the run itself: Snakemake's status
        refusals = [("system", full)]
    # a job refused its input (or had no room to write): the run ends like every
    # other command on bad input, with the message(s) last and exit status 2
    for _, message in refusals:
        print(f"evsynth: error: {message}", file=sys.stderr)
    inputs = sum(kind == "input" for kind, _ in refusals)
    hint = (
        "fix the file named and run again (evsynth validate lists every problem "
        "of the input tables)"
        if inputs
        else "free the space or the permission named and run again"
    )
    print(
        f"evsynth: the run stopped on {len(refusals)} problem(s) above; {hint}",
        file=sys.stderr,
    )
    return EXIT_INPUT


#: Free space below which a failed run is put down to a full disk.
_FULL_BYTES = 1 << 20


def _disk_full(root: Path) -> str | None:
    """Return a message if the file system of ``root`` is (nearly) full."""
    import shutil

    try:
        free = shutil.disk_usage(root).free
    except OSError:
        return None
    if free >= _FULL_BYTES:
        return None
    return (
        f"{root / 'results'}: No space left on device ({free:,} bytes free on its "
        "file system)"
    )


def _folder_argument(parser: argparse.ArgumentParser) -> None:
    """Add the optional review folder argument ``DIR`` to a subcommand."""
    parser.add_argument(
        "folder",
        nargs="?",
        default=None,
        metavar="DIR",
        help="the review folder (default: the review of the current directory)",
    )


def _count(minimum: int) -> Callable[[str], int]:
    """Return an argparse type: a whole number of at least ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a whole number >= {minimum}"
            )
        return value

    return parse


_positive = _count(1)
_non_negative = _count(0)


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of the ``evsynth`` command.

    Returns
    -------
    argparse.ArgumentParser
        The parser with every subcommand.
    """
    from evsynth.records.detect import FORMATS

    parser = argparse.ArgumentParser(
        prog="evsynth",
        description="Systematic-review evidence synthesis, one stage at a time.",
    )
    parser.add_argument("--version", action="version", version=f"evsynth {__version__}")
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_const",
        const=-1,
        default=0,
        dest="verbosity",
        help="only print warnings and errors",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_const",
        const=1,
        dest="verbosity",
        help="print debugging messages",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "import",
        help="import search exports into one normalised records table",
        description=(
            "Import bibliographic exports (format detected from the content) into "
            "one CSV of normalised records with stable record ids."
        ),
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="export files to import")
    p.add_argument("--out", required=True, metavar="CSV", help="records table to write")
    p.add_argument(
        "--format",
        choices=sorted(FORMATS),
        default=None,
        help="force this format for every file instead of detecting it",
    )
    p.add_argument(
        "--summary",
        metavar="CSV",
        default=None,
        help="also write a per-file summary (records parsed, encoding, format)",
    )
    p.add_argument(
        "--issues",
        metavar="CSV",
        default=None,
        help="also write every warning and repair, with file, line and field",
    )
    p.set_defaults(func=_cmd_import)

    p = sub.add_parser(
        "dedup",
        help="find and merge duplicate records",
        description=(
            "Deduplicate a CSV of bibliographic records (columns such as title, "
            "author, year, journal, volume, number/issue, pages, doi, abstract, "
            "isbn; missing columns allowed). Writes unique.csv (one row per "
            "cluster; the id column holds the kept record's id), clusters.csv "
            "(cluster_id, record_id), dedup_pairs.csv (every candidate pair with "
            "its similarities, verdict and rule), dedup_review.csv (uncertain "
            "pairs to decide) and dedup_summary.csv."
        ),
    )
    p.add_argument("input", metavar="INPUT.csv", help="records to deduplicate")
    p.add_argument(
        "--id-column",
        default="record_id",
        metavar="ID",
        help="column holding each record's unique id (default: record_id)",
    )
    p.add_argument("--out-dir", required=True, metavar="DIR", help="output folder")
    p.add_argument(
        "--decisions",
        default=None,
        metavar="CSV",
        help="reviewers' verdicts (record_id_a, record_id_b, verdict, reviewer, "
        "date) that override the automatic ones",
    )
    p.add_argument(
        "--shards",
        type=_non_negative,
        default=0,
        metavar="N",
        help="run the sharded deduplication (the stages of `evsynth dedup-shard`) "
        "with N blocking-key shards, one after the other in this process; the "
        "tables are the same as unsharded (default: 0, unsharded)",
    )
    p.add_argument(
        "--chunks",
        type=_positive,
        default=1,
        metavar="K",
        help="with --shards: split the keys stage into K chunks (default: 1)",
    )
    p.add_argument(
        "--work-dir",
        default=None,
        metavar="DIR",
        help="with --shards: keep the stages' intermediate files in DIR (default: "
        "a temporary folder next to the output folder, removed afterwards)",
    )
    p.add_argument(
        "--workers",
        type=_positive,
        default=1,
        metavar="N",
        help="processes that normalise the records and compute their keys "
        "(default: 1); the tables are the same",
    )
    p.set_defaults(func=_cmd_dedup)

    p = sub.add_parser(
        "dedup-shard",
        help="one stage of the sharded deduplication (keys, compare, gather)",
        description=(
            "Deduplication in three stages of jobs that a cluster runs in "
            "parallel, each within bounded memory: `keys` (one job per chunk of "
            "the records: match and blocking keys, split by blocking-key shard), "
            "`compare` (one job per shard: the pairs of the shard's blocks) and "
            "`gather` (one job: clusters, and the five tables of `evsynth dedup`, "
            "byte for byte the same)."
        ),
    )
    stages = p.add_subparsers(dest="stage", required=True, metavar="STAGE")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--shards", type=_positive, required=True, metavar="N", help="number of shards"
    )
    common.add_argument(
        "--id-column",
        default="record_id",
        metavar="ID",
        help="column holding each record's unique id (default: record_id)",
    )
    common.add_argument("--out-dir", required=True, metavar="DIR", help="output folder")
    q = stages.add_parser(
        "keys",
        parents=[common],
        help="match and blocking keys of one chunk of the records",
        description="Write DIR/chunk_<C>: the keys of every K-th record from row C.",
    )
    q.add_argument("input", metavar="RECORDS.csv", help="the records")
    q.add_argument("--chunk", type=_non_negative, default=0, metavar="C")
    q.add_argument("--chunks", type=_positive, default=1, metavar="K")
    q = stages.add_parser(
        "compare",
        parents=[common],
        help="compare the candidate pairs of one shard",
        description="Read the chunks' keys in KEYS_DIR; write DIR/shard_<S>.",
    )
    q.add_argument("keys_dir", metavar="KEYS_DIR", help="the keys stage's folder")
    q.add_argument("--shard", type=_non_negative, required=True, metavar="S")
    q = stages.add_parser(
        "gather",
        parents=[common],
        help="cluster the shards' pairs and write the five tables",
        description=(
            "Read the records again and every shard's pairs in COMPARED_DIR; "
            "write unique.csv, clusters.csv, dedup_pairs.csv, dedup_review.csv "
            "and dedup_summary.csv into DIR."
        ),
    )
    q.add_argument("input", metavar="RECORDS.csv", help="the records")
    q.add_argument(
        "compared_dir", metavar="COMPARED_DIR", help="the compare stage's folder"
    )
    q.add_argument(
        "--decisions",
        default=None,
        metavar="CSV",
        help="reviewers' verdicts (skipped if the file does not exist)",
    )
    p.set_defaults(func=_cmd_dedup_shard)

    p = sub.add_parser(
        "screening",
        help="screening state, conflicts, agreement and the PRISMA 2020 flow",
        description=(
            "Read the review's decision log (screening.decisions), retrieval file "
            "and studies.csv with the records stage's outputs, and write to "
            "--out-dir: final_decisions.csv, conflicts.csv, audit.csv, "
            "exclusion_reasons.csv, agreement.csv, screening_summary.csv, "
            "prisma_counts.csv (PRISMA2020 template), prisma_counts.json, "
            "prisma.svg/png/pdf, and sheets/ (what each reviewer still has to "
            "screen, CSV and XLSX)."
        ),
    )
    p.add_argument("review_dir", metavar="REVIEW_DIR", help="the review's folder")
    p.add_argument("--out-dir", required=True, metavar="DIR", help="output folder")
    p.add_argument(
        "--config",
        default=None,
        metavar="FILE",
        help="config with the screening settings (default: the config of the "
        "review whose inputs REVIEW_DIR holds)",
    )
    p.add_argument(
        "--records-dir",
        default=None,
        metavar="DIR",
        help="outputs of the records stage (default: that review's results/records)",
    )
    p.add_argument("--title", default=None, help="title above the flow diagram")
    p.set_defaults(func=_cmd_screening)

    p = sub.add_parser(
        "effects",
        help="effect sizes (Hedges' g, log OR, ...) from reported statistics",
        description=(
            "Compute an effect size and its variance for every row of an "
            "extraction table (extraction/effects.csv; columns in "
            "config/README.md), from whichever statistics the row gives. Writes "
            "the effects CSV, an XLSX copy beside it, and excluded.csv (rows that "
            "give no effect on the measure asked for, with the reason). A positive "
            "effect always favours the intervention."
        ),
    )
    p.add_argument("input", metavar="INPUT.csv", help="the extraction table")
    p.add_argument("--out", required=True, metavar="CSV", help="effects table to write")
    p.add_argument(
        "--measure",
        choices=["SMD", "MD", "OR", "RR", "RD", "OR2DL"],
        default=None,
        help="measure every row must give (default: SMD for continuous rows, "
        "log OR for binary ones, or with --config the measure the analyses of a "
        "row's domain pool where the row can give it); OR2DL: SMD, binary rows "
        "converted (logistic)",
    )
    p.add_argument(
        "--config",
        default=None,
        metavar="FILE",
        help="config whose effects section sets the measure, imputed r, default "
        "ICC, tolerance and binary_to_smd, and whose meta.analyses give each "
        "domain's measure under measure auto (default: the built-in defaults)",
    )
    p.add_argument(
        "--excluded",
        default=None,
        metavar="CSV",
        help="where to write the excluded rows (default: excluded.csv beside --out)",
    )
    p.add_argument(
        "--studies",
        default=None,
        metavar="CSV",
        help="studies.csv: refuse rows of a study it does not list",
    )
    p.set_defaults(func=_cmd_effects)

    p = sub.add_parser(
        "meta",
        help="a random-effects meta-analysis of a CSV with yi and vi",
        description=(
            "Fit metafor's rma() to a CSV with columns yi and vi (or sei) and print "
            "the pooled result: k, estimate, se, ci_lb, ci_ub, zval, pval, tau2, I2, "
            "H2, Q, Q_p, pi_lb, pi_ub (as JSON with --json, with the key names of "
            "metafor's reference files). --bias, --subgroup, --moderator and "
            "--cluster add those analyses."
        ),
    )
    p.add_argument("input", metavar="INPUT.csv", help="effects with yi and vi or sei")
    p.add_argument(
        "--method",
        default="REML",
        choices=["EE", "FE", "DL", "REML", "ML", "PM", "HE", "SJ"],
        help="tau-squared estimator (default: REML)",
    )
    p.add_argument(
        "--test",
        default="knha",
        choices=["knha", "z"],
        help="Knapp-Hartung (default) or z inference",
    )
    p.add_argument(
        "--pi",
        default="metafor",
        choices=["metafor", "riley", "none"],
        help="prediction interval: metafor's predict() (default) or t(k-2) (Riley)",
    )
    p.add_argument("--level", type=float, default=95.0, help="confidence level (95)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument(
        "--bias", action="store_true", help="add small-study tests and sensitivity"
    )
    p.add_argument(
        "--year", metavar="COL", help="order of the cumulative meta-analysis"
    )
    p.add_argument("--label", metavar="COL", help="study labels for leave-one-out")
    p.add_argument("--subgroup", metavar="COL", help="add a subgroup analysis by COL")
    p.add_argument("--moderator", metavar="COL", help="add a meta-regression on COL")
    p.add_argument(
        "--cluster",
        metavar="COL",
        help="add the three-level model and cluster-robust (CR1, CR2) inference",
    )
    p.set_defaults(func=_cmd_meta)

    p = sub.add_parser(
        "rob",
        help="risk-of-bias tables, traffic-light and summary plots",
        description=(
            "Validate a risk-of-bias table (RoB 2 and ROBINS-I; columns in "
            "config/README.md) and write per tool the table (CSV, XLSX), the "
            "traffic-light plot and the summary plot (PNG, SVG), and overall.csv "
            "(each study's overall judgement)."
        ),
    )
    p.add_argument("table", metavar="RISK_OF_BIAS.csv", help="the judgements")
    p.add_argument("--out-dir", required=True, metavar="DIR", help="output folder")
    p.add_argument(
        "--studies",
        metavar="CSV",
        help="studies.csv: check that every study is included; with --meta, "
        "the participants (n_total) of the studies in a meta-analysis weigh "
        "the summary plot of each tool",
    )
    p.add_argument(
        "--meta",
        nargs="+",
        metavar="JSON",
        help="the meta stage's reports (results/meta/ANALYSIS.json): a summary "
        "plot per analysis weighted by its meta-analysis weights, and each "
        "tool's summary plot by participants of the studies in any analysis; "
        "without, each study counts once",
    )
    p.add_argument(
        "--labels",
        metavar="CSV",
        help="study labels (results/studies/labels.csv: study_id, label) to name "
        "the studies by (default: their ids)",
    )
    p.set_defaults(func=_cmd_rob)

    p = sub.add_parser(
        "qualitative",
        help="theme matrices, barrier and facilitator tables, CERQual and CASP",
        description=(
            "Read REVIEW_DIR/qualitative/findings.csv, appraisal.csv and cerqual.csv "
            "(or the paths in --config) and write to --out-dir the theme x study and "
            "theme x perspective matrices, barrier and facilitator tables, heat maps, "
            "the CERQual Summary of Qualitative Findings and evidence profile and the "
            "CASP table, as CSV and XLSX, with DOCX for the report tables."
        ),
    )
    p.add_argument("review_dir", metavar="REVIEW_DIR", help="the review's folder")
    p.add_argument("--out-dir", required=True, metavar="DIR", help="output folder")
    p.add_argument(
        "--config",
        default=None,
        metavar="FILE",
        help="config with the qualitative paths (default: the config of the review "
        "whose inputs REVIEW_DIR holds, else the default paths)",
    )
    p.add_argument(
        "--labels",
        metavar="CSV",
        help="study labels (results/studies/labels.csv: study_id, label) to name "
        "the studies by (default: their ids)",
    )
    p.set_defaults(func=_cmd_qualitative)

    p = sub.add_parser(
        "prisma",
        help="draw a PRISMA 2020 flow diagram from counts",
        description=(
            "Draw the PRISMA 2020 flow diagram as SVG, PNG and PDF from a "
            "PRISMA2020 data template (the R package's CSV: data,node,box,"
            "description,boxtext,tooltips,url,n) or from evsynth's "
            "prisma_counts.json."
        ),
    )
    p.add_argument("counts", metavar="COUNTS", help="prisma_counts.csv or .json")
    p.add_argument("--out-dir", required=True, metavar="DIR", help="output folder")
    p.add_argument("--name", default="prisma", help="file name stem (default: prisma)")
    p.add_argument("--title", default=None, help="title above the diagram")
    p.add_argument(
        "--no-check",
        action="store_true",
        help="draw even if a column does not add up box by box (identified − "
        "removed = screened or sought, and so on; by default that is an error "
        "naming the box)",
    )
    p.set_defaults(func=_cmd_prisma)

    p = sub.add_parser(
        "changes",
        help="what an update round changed (records, decisions, effects, estimates, certainty)",
        description=(
            "Compare two update rounds' snapshots (results/history/round_N, taken by "
            "every workflow run) and write records_added.csv, decisions_changed.csv, "
            "effects_changed.csv, pooled_changes.csv, certainty_changes.csv, "
            "summary.json, changes.md and estimates.png/svg to --out-dir; print "
            "changes.md."
        ),
    )
    p.add_argument(
        "--from",
        dest="from_",
        type=int,
        default=None,
        metavar="ROUND",
        help="the earlier round (default: the one before --to)",
    )
    p.add_argument(
        "--to",
        type=int,
        default=None,
        metavar="ROUND",
        help="the later round (default: the latest snapshot)",
    )
    _folder_argument(p)
    p.add_argument(
        "--history",
        default=None,
        metavar="HISTORY",
        help="folder of the snapshots (default: DIR/results/history)",
    )
    p.add_argument(
        "--out-dir",
        default=None,
        metavar="OUT",
        help="output folder (default: DIR/results/changes)",
    )
    p.set_defaults(func=_cmd_changes)

    p = sub.add_parser(
        "grade",
        help="certainty of the evidence (GRADE) and the summary-of-findings table",
        description=(
            "Propose each GRADE domain of every analysis from its meta-analysis "
            "(results/meta/ANALYSIS.json), apply the team's judgements (grade.file "
            "of the config, e.g. data/grade.csv), and write certainty.csv, "
            "certainty.json and summary_of_findings.csv/.xlsx/.docx to --out-dir. "
            "Prints the summary of findings."
        ),
    )
    _folder_argument(p)
    p.add_argument(
        "--meta-dir",
        default=None,
        metavar="META",
        help="the meta stage's results (default: DIR/results/meta)",
    )
    p.add_argument(
        "--out-dir",
        default=None,
        metavar="OUT",
        help="output folder (default: DIR/results/grade)",
    )
    p.set_defaults(func=_cmd_grade)

    p = sub.add_parser(
        "accept-log-edits",
        help="accept deliberate edits of earlier decision-log rows, with a reason",
        description=(
            "The decision log is append-only: a run stops when an earlier row was "
            "changed or deleted since the last run. When the edit is deliberate (a "
            "mistyped reviewer name, a row entered twice), list the edits, and with "
            "--reason record them in results/history/round_N/decision_log_edits.csv "
            "beside the last run's snapshot, which then records the log as it is; "
            "the next run goes ahead. Without --reason the edits are listed and "
            "nothing is written (exit 2)."
        ),
    )
    _folder_argument(p)
    p.add_argument(
        "--reason",
        default=None,
        metavar="TEXT",
        help="why the rows were edited (kept with each edit)",
    )
    p.set_defaults(func=_cmd_accept_log_edits)

    p = sub.add_parser(
        "report",
        help="the review's HTML report, manuscript tables and exports",
        description=(
            "Write index.html (one self-contained page), tables.xlsx, tables.docx and "
            "the included studies as RIS and CSV from a results folder."
        ),
    )
    _folder_argument(p)
    p.add_argument(
        "--config",
        default=None,
        metavar="FILE",
        help="config file (default: DIR's config.yaml or config/config.yaml)",
    )
    p.add_argument(
        "--review-dir",
        default=None,
        metavar="INPUTS",
        help="folder of the input tables (default: the config's review_dir)",
    )
    p.add_argument(
        "--results",
        default=None,
        metavar="RESULTS",
        help="results folder read (default: DIR/results)",
    )
    p.add_argument(
        "--out-dir",
        default=None,
        metavar="OUT",
        help="output folder (default: DIR/results/report)",
    )
    p.set_defaults(func=_cmd_report)

    from evsynth.project import add_commands

    add_commands(sub)

    p = sub.add_parser("formats", help="list the export formats evsynth reads")
    p.set_defaults(func=_cmd_formats)

    p = sub.add_parser(
        "run",
        help="run the whole workflow on a review folder with Snakemake",
        description=(
            "Run the Snakemake workflow on the review folder DIR (default: the "
            "review of the current directory): snakemake --snakefile "
            "EVSYNTH/Snakefile --directory DIR --cores N. The review's config "
            "(DIR/config.yaml or DIR/config/config.yaml) is read, and everything is "
            "written under DIR: results/, results/history/, results/logs/ and "
            "Snakemake's .snakemake/. Arguments after '--' go to snakemake "
            "unchanged, e.g. evsynth run DIR -- --dry-run."
        ),
    )
    _folder_argument(p)
    p.add_argument("--cores", default="2", help="CPU cores to use (default: 2)")
    p.add_argument(
        "--profile",
        default=None,
        metavar="NAME",
        help=(
            "the Snakemake workflow profile: one of the workflow's profiles/ "
            "(default: 'default', jobs on this machine; 'slurm' submits every job "
            "to a Slurm cluster, see README 'Run on a cluster') or the path of a "
            "folder holding a config.yaml"
        ),
    )
    p.add_argument(
        "--directory",
        default=None,
        metavar="DIR",
        help="older name of DIR, kept for scripts",
    )
    p.add_argument(
        "--review-dir",
        default=None,
        metavar="DIR",
        help="older name of DIR, kept for scripts",
    )
    p.set_defaults(func=_cmd_run, snakemake_args=[])
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``evsynth`` command.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0 on success, 2 for bad input.
    """
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    cut = argv.index("--") if "--" in argv else None
    if cut is not None and "run" in argv[:cut]:
        # everything after '--' goes to snakemake, never to DIR
        args = parser.parse_args(argv[:cut])
        args.snakemake_args = [*args.snakemake_args, *argv[cut + 1 :]]
    else:
        args = parser.parse_args(argv)
    _setup_logging(args.verbosity)
    try:
        status = int(args.func(args))
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return status
    except BrokenPipeError:
        return _broken_pipe()
    except EvsynthError as exc:
        print(f"evsynth: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except OSError as exc:
        # a full disk, a read-only or unwritable folder, a missing or wrong file
        print(f"evsynth: error: {os_error_message(exc)}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("evsynth: interrupted", file=sys.stderr)
        return 130


#: Exit status when the reader of stdout went away (``evsynth changes | head``):
#: 128 + SIGPIPE, what a shell reports for a tool that the signal stopped.
EXIT_BROKEN_PIPE = 141


def _broken_pipe() -> int:
    """Stop quietly after stdout was closed by its reader (Python's recipe)."""
    import os

    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    return EXIT_BROKEN_PIPE


def os_error_message(exc: OSError) -> str:
    """One line for an operating-system error: the file, then what went wrong.

    Parameters
    ----------
    exc : OSError
        The error (no space left, permission denied, read-only file system,
        file not found, is a directory, ...).

    Returns
    -------
    str
        ``"<file>: <reason>"``, or the reason alone if no file is known.
    """
    reason = exc.strerror or str(exc) or type(exc).__name__
    if exc.filename is None:
        return reason
    name = exc.filename
    if isinstance(name, bytes):
        name = name.decode(errors="replace")
    text = f"{name}: {reason}"
    if exc.filename2 is not None:
        text += f" (and {exc.filename2})"
    return text


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
