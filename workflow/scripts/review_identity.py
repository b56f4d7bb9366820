"""Snakemake script: record which review wrote results/ (see evsynth.project.review)."""

from evsynth.cli import script_main
from evsynth.project.review import write_identity

with script_main(snakemake.log[0]):
    write_identity(snakemake.output[0], snakemake.params.identity)
