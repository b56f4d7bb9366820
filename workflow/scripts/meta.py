"""Snakemake script: the table of all meta-analyses (see evsynth.meta)."""

from evsynth.cli import script_main
from evsynth.meta.api import write_summary

with script_main(snakemake.log[0]):
    write_summary(snakemake.input.reports, snakemake.output.summary)
