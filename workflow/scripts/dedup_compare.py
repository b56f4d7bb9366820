"""Snakemake script: compare the pairs of one blocking-key shard (see evsynth.records.dedup.shard)."""

from pathlib import Path

from evsynth.cli import script_main
from evsynth.records.dedup.shard import compare_shard

with script_main(snakemake.log[0]):
    compare_shard(
        Path(snakemake.input.chunks[0]).parent,
        Path(snakemake.output[0]).parent,
        shard=int(snakemake.wildcards.shard),
        shards=snakemake.params.shards,
    )
