"""Snakemake script: each study's author-year label (see evsynth.labels)."""

from evsynth.cli import script_main
from evsynth.labels import write_study_labels

with script_main(snakemake.log[0]):
    write_study_labels(
        snakemake.input.studies[0] if snakemake.input.studies else None,
        snakemake.input.unique,
        snakemake.output.labels,
    )
