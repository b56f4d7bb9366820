"""Snakemake script: what the latest update round changed (see evsynth.history)."""

from pathlib import Path

from evsynth.cli import script_main
from evsynth.history.changes import compare_rounds, write_changes, write_living_prisma

with script_main(snakemake.log[0]):
    out = Path(snakemake.output.summary).parent
    old, new = snakemake.params.old, snakemake.params.new
    write_changes(
        compare_rounds("results/history", old, new),
        out,
        old=old,
        new=new,
        labels=snakemake.params.analysis_labels,
    )
    write_living_prisma("results/history", out, title=snakemake.params.title)
