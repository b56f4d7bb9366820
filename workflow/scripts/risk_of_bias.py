"""Snakemake script: the risk-of-bias stage (see evsynth.rob)."""

from pathlib import Path

from evsynth.cli import script_main
from evsynth.rob.api import write_rob
from evsynth.rob.model import read_rob
from evsynth.rob.weights import study_weights
from evsynth.studies import study_ids

with script_main(snakemake.log[0]):
    studies = snakemake.input.studies[0] if snakemake.input.studies else None
    frame = read_rob(snakemake.input.table, study_ids(studies))
    write_rob(
        frame,
        Path(snakemake.output.overall).parent,
        weights=study_weights(studies),
    )
