"""Snakemake script: import the review's search exports (see evsynth.records)."""

from evsynth.cli import script_main
from evsynth.records import import_searches, write_import

with script_main(snakemake.log[0]):
    result = import_searches(
        snakemake.input.manifest,
        snakemake.params.searches_dir,
        count_mismatch=snakemake.params.count_mismatch,
    )
    write_import(
        result,
        snakemake.output.records,
        snakemake.output.summary,
        snakemake.output.issues,
    )
