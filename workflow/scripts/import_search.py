"""Snakemake script: parse one search export (see evsynth.records.importer)."""

from pathlib import Path

from evsynth.cli import script_main
from evsynth.records.importer import parse_export

with script_main(snakemake.log[0]):
    parse_export(
        snakemake.input.export,
        snakemake.params.format,
        snakemake.wildcards.file,
        Path(snakemake.output[0]),
    )
