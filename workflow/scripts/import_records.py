"""Snakemake script: import the review's search exports (see evsynth.records)."""

from evsynth.cli import script_main
from evsynth.records import import_searches, write_import

with script_main(snakemake.log[0]):
    folder = "results/records/parsed/"
    parsed = {
        str(path).removeprefix(folder).removesuffix(".json"): path
        for path in snakemake.input.parsed
    }
    result = import_searches(
        snakemake.input.manifest,
        snakemake.params.searches_dir,
        count_mismatch=snakemake.params.count_mismatch,
        parsed=parsed,
    )
    write_import(
        result,
        snakemake.output.records,
        snakemake.output.summary,
        snakemake.output.issues,
    )
