"""Snakemake script: match keys of one chunk of the records (see evsynth.records.dedup.shard)."""

from pathlib import Path

from evsynth.cli import script_main
from evsynth.records.dedup.shard import write_keys

with script_main(snakemake.log[0]):
    write_keys(
        snakemake.input.records,
        Path(snakemake.output[0]).parent,
        chunk=int(snakemake.wildcards.chunk),
        chunks=snakemake.params.shards,
        shards=snakemake.params.shards,
        id_column="record_id",
    )
