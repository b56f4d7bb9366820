"""Snakemake script: snapshot of the current update round (see evsynth.history)."""

from evsynth.cli import script_main
from evsynth.history.snapshot import take_snapshot

with script_main(snakemake.log[0]):
    take_snapshot(
        "results",
        "results/history",
        snakemake.params.round,
        decision_log=snakemake.params.decisions,
    )
