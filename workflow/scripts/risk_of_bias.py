"""Snakemake script: the risk-of-bias stage (see evsynth.rob)."""

from pathlib import Path

from evsynth.cli import script_main
from evsynth.labels import read_study_labels
from evsynth.rob.api import run_rob

with script_main(snakemake.log[0]):
    run_rob(
        snakemake.input.table,
        Path(snakemake.output.overall).parent,
        # studies.csv, or where the config says it would be (named in errors)
        snakemake.input.studies[0]
        if snakemake.input.studies
        else snakemake.params.studies,
        list(snakemake.input.reports),
        labels=read_study_labels(snakemake.input.labels),
    )
