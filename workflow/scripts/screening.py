"""Snakemake script: the screening stage (see evsynth.screening)."""

from pathlib import Path

from evsynth.cli import script_main
from evsynth.history.snapshot import check_decision_log
from evsynth.screening.api import run_screening, write_screening
from evsynth.screening.model import Settings

with script_main(snakemake.log[0]):
    settings = Settings.from_config(snakemake.params.settings, "config/config.yaml")
    review = Path(snakemake.params.review_dir)
    # the log is append-only: an earlier row rewritten or deleted since the last
    # run (its snapshot in results/history) stops here, before anything is written
    check_decision_log(
        review / snakemake.params.settings["decisions"], "results/history"
    )
    result = run_screening(
        Path(snakemake.input.unique).parent,
        settings,
        review / snakemake.params.settings["decisions"],
        review / snakemake.params.settings["retrieval"],
        review / snakemake.params.settings["studies"],
    )
    write_screening(
        result,
        Path(snakemake.output.final).parent,
        settings,
        title=snakemake.params.title,
    )
