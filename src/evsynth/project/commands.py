"""The ``init``, ``validate`` and ``status`` subcommands of ``evsynth``.

:func:`add_commands` registers the three commands on ``evsynth``'s subparsers;
each command's function prints its result and returns the exit status.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from evsynth.errors import EvsynthError
from evsynth.project.status import format_status, review_status
from evsynth.project.template import init_example, init_review
from evsynth.project.validate import _print_report, validate_review

__all__ = ["add_commands"]


def _cmd_init(args: argparse.Namespace) -> int:
    if args.example:
        if args.title or args.force:
            raise EvsynthError(
                "--example takes no --title or --force: it copies the example"
            )
        result = init_example(args.directory)
        print(
            f"copied the example review ({len(result.created)} files) into "
            f"{args.directory}"
        )
        print(
            f"next: `evsynth run --cores 2 {args.directory}`; then the update round: "
            f"`python {Path(args.directory) / 'data/updates/round_1/apply.py'} "
            f"{args.directory}` and `evsynth run --cores 2 {args.directory}`"
        )
        return 0
    result = init_review(args.directory, title=args.title, force=args.force)
    for path in result.created:
        print(f"created {path}")
    if result.kept:
        print(f"kept {len(result.kept)} existing file(s) unchanged")
    print(
        f"next: fill in {Path(args.directory) / 'config.yaml'} and searches/, then "
        f"`evsynth validate {args.directory}` and "
        f"`evsynth run --cores 2 {args.directory}`"
    )
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    report = validate_review(args.directory, args.config, args.results)
    return _print_report(report)


def _cmd_status(args: argparse.Namespace) -> int:
    status = review_status(args.directory, args.config, args.results)
    if args.json:
        print(json.dumps(status, indent=2, ensure_ascii=False))
    else:
        sys.stdout.write(format_status(status))
    return 0


def _review_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments naming a review: ``DIR``, ``--config``, ``--results``."""
    parser.add_argument(
        "directory",
        nargs="?",
        default=None,
        metavar="DIR",
        help="the review folder (default: the review of the current directory)",
    )
    parser.add_argument(
        "--config",
        default=None,
        metavar="FILE",
        help="config file (default: DIR/config.yaml, or DIR/config/config.yaml); "
        "with --config, DIR is the folder of the input tables",
    )
    parser.add_argument(
        "--results",
        default=None,
        metavar="RESULTS",
        help="the workflow's results folder (default: DIR/results)",
    )


def add_commands(subparsers: Any) -> None:
    """Register ``init``, ``validate`` and ``status`` on evsynth's subparsers.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        What ``parser.add_subparsers()`` returned in ``build_parser``. Each
        command's ``func`` takes the parsed arguments and returns the exit
        status.
    """
    p = subparsers.add_parser(
        "init",
        help="create a new review folder with every template file",
        description=(
            "Create a review folder: config.yaml (every key, commented, "
            "review_dir: .), searches/searches.csv and searches/README.md, "
            "screening/decisions.csv, screening/retrieval.csv, studies.csv, "
            "extraction/effects.csv, extraction/risk_of_bias.csv and "
            "qualitative/findings.csv, appraisal.csv and cerqual.csv (headers "
            "only), and a README.md saying what goes where. The new review "
            "passes evsynth validate. The folder is the review: evsynth run DIR "
            "writes its results to DIR/results/."
        ),
    )
    p.add_argument("directory", metavar="DIR", help="the new review folder")
    p.add_argument("--title", default=None, help="the review's title")
    p.add_argument(
        "--force",
        action="store_true",
        help="use a folder that is not empty: add the missing files only, never "
        "overwrite one",
    )
    p.add_argument(
        "--example",
        action="store_true",
        help="copy the example review instead (config/config.yaml, data/ with its "
        "update round data/updates/round_1/) into the new folder, to try the "
        "README's tour without touching the repository",
    )
    p.set_defaults(func=_cmd_init)

    p = subparsers.add_parser(
        "validate",
        help="check the config and every input table, reporting every problem",
        description=(
            "Check the config and every input table of a review against its schema "
            "and the stages' own checks, and print every problem, one line each "
            "(file, line, row, column, what is wrong, what was expected). Checks "
            "that need record ids use RESULTS/records when it exists. Exit status "
            "2 if there is any problem, 0 otherwise."
        ),
    )
    _review_arguments(p)
    p.set_defaults(func=_cmd_validate)

    p = subparsers.add_parser(
        "status",
        help="what is done and what is still to do, per stage",
        description=(
            "Per stage, from the inputs and the results: records imported and "
            "unique; records each reviewer still has to screen, open conflicts and "
            "full texts awaiting retrieval; included studies without effect "
            "statistics and rows excluded; effectiveness studies without a "
            "risk-of-bias judgement; qualitative studies without findings and "
            "CERQual coverage of the themes; meta-analyses run and skipped; and "
            "which results are older than their inputs."
        ),
    )
    _review_arguments(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_cmd_status)
