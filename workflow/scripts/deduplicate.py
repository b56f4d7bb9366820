"""Snakemake script: deduplicate the imported records (see evsynth.records.dedup)."""

from pathlib import Path

from evsynth.cli import script_main
from evsynth.records.dedup import dedup_file

with script_main(snakemake.log[0]):
    dedup_file(
        snakemake.input.records,
        Path(snakemake.output.unique).parent,
        id_column="record_id",
        decisions=snakemake.input.decisions[0] if snakemake.input.decisions else None,
    )
