"""Snakemake script: deduplicate the imported records (see evsynth.records.dedup).

Unsharded, one job; sharded (config records.dedup_shards > 0), the gather of
the shards' pairs, with the same tables.
"""

from pathlib import Path

from evsynth.cli import script_main
from evsynth.records.dedup import dedup_file
from evsynth.records.dedup.shard import gather

with script_main(snakemake.log[0]):
    out_dir = Path(snakemake.output.unique).parent
    decisions = snakemake.input.decisions[0] if snakemake.input.decisions else None
    if snakemake.params.shards:
        gather(
            snakemake.input.records,
            Path(snakemake.input.compared[0]).parent,
            out_dir,
            shards=snakemake.params.shards,
            id_column="record_id",
            decisions=decisions,
            workers=snakemake.threads,
        )
    else:
        dedup_file(
            snakemake.input.records,
            out_dir,
            id_column="record_id",
            decisions=decisions,
            workers=snakemake.threads,
        )
