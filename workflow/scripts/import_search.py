"""Snakemake script: parse one search export (see evsynth.records.importer)."""

from pathlib import Path

from evsynth.cli import script_main
from evsynth.paths import name_error
from evsynth.records.importer import parse_export

with script_main(snakemake.log[0]):
    # the workflow plans no job for a name outside the searches folder
    folder = snakemake.params.searches_dir
    unsafe = name_error(snakemake.wildcards.file, folder, file=folder)
    if unsafe is not None:
        raise unsafe
    parse_export(
        snakemake.input.export,
        snakemake.params.format,
        snakemake.wildcards.file,
        Path(snakemake.output[0]),
    )
