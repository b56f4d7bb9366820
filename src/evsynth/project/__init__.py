"""Commands around the pipeline: ``evsynth init``, ``validate`` and ``status``.

* :func:`init_review` writes a new review folder: a complete, commented
  ``config.yaml``, every input table as a header-only CSV, and README files
  saying what goes where (:mod:`evsynth.project.template`).
* :func:`validate_review` checks the config and every input table of a review
  against its JSON Schema, row by row, and then runs the stages' own checks
  (record, reviewer and study ids, CERQual themes, risk-of-bias levels, effect
  statistics). Unlike the stages, which stop at the first problem, it collects
  every problem of the schema checks and of the effect statistics; the stages'
  other checks stop at their first problem in a file, which is reported with a
  note that more may follow (:mod:`evsynth.project.validate`).
* :func:`review_status` says per stage what is done and what is still to do,
  from the inputs and the results, and whether the results are stale
  (:mod:`evsynth.project.status`).

:func:`add_commands` registers the three commands on ``evsynth``'s subparsers
(:mod:`evsynth.project.commands`).

The modules:

* :mod:`~evsynth.project.tables`: the review's input tables (:data:`TABLES`),
  the study designs, and the row-by-row schema check :func:`check_table`.
* :mod:`~evsynth.project.configfile`: finding the config and the review folder
  (:func:`resolve_review`), reading settings, and :func:`check_config`.
* :mod:`~evsynth.project.validate`: ``evsynth validate``.
* :mod:`~evsynth.project.template`: ``evsynth init``'s template files.
* :mod:`~evsynth.project.status`: ``evsynth status``.
* :mod:`~evsynth.project.commands`: the command-line commands.
"""

from __future__ import annotations

from evsynth.project.commands import add_commands
from evsynth.project.configfile import check_config, resolve_review
from evsynth.project.status import format_status, review_status
from evsynth.project.tables import (
    EFFECTIVENESS_DESIGNS as EFFECTIVENESS_DESIGNS,
)
from evsynth.project.tables import (
    NO_EFFECTS_DESIGNS as NO_EFFECTS_DESIGNS,
)
from evsynth.project.tables import (
    QUALITATIVE_DESIGNS as QUALITATIVE_DESIGNS,
)
from evsynth.project.tables import (
    TABLES,
    TableCheck,
    TableSpec,
    check_table,
)
from evsynth.project.template import (
    InitResult,
    config_template,
    init_review,
    template_files,
)
from evsynth.project.validate import EXIT_PROBLEMS as EXIT_PROBLEMS
from evsynth.project.validate import MORE_MAY_FOLLOW as MORE_MAY_FOLLOW
from evsynth.project.validate import Problem, ValidationReport, validate_review

__all__ = [
    "TABLES",
    "InitResult",
    "Problem",
    "TableCheck",
    "TableSpec",
    "ValidationReport",
    "add_commands",
    "check_config",
    "check_table",
    "config_template",
    "format_status",
    "init_review",
    "resolve_review",
    "review_status",
    "template_files",
    "validate_review",
]
