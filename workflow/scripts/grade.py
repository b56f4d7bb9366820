"""Snakemake script: the GRADE stage (see evsynth.grade)."""

from pathlib import Path

from evsynth.cli import script_main
from evsynth.grade.api import run_grade, write_grade

with script_main(snakemake.log[0]):
    inputs = {Path(p).parent for p in snakemake.input.inputs}
    result = run_grade(
        list(snakemake.input.reports),
        snakemake.params.config,
        studies=snakemake.input.studies[0] if snakemake.input.studies else None,
        rob=snakemake.input.rob[0] if snakemake.input.rob else None,
        # grade.csv, or where the config says it would be (named in errors)
        judgements=snakemake.input.judgements[0]
        if snakemake.input.judgements
        else None,
        inputs_dir=inputs.pop() if inputs else None,
    )
    write_grade(
        result,
        Path(snakemake.output.certainty).parent,
        title=snakemake.params.config.get("review_title", ""),
    )
