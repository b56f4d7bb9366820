"""Snakemake script: the review's report, tables and exports (see evsynth.report)."""

from pathlib import Path

from evsynth.cli import script_main
from evsynth.report.build import build_report, build_tables
from evsynth.report.exports import export_included

with script_main(snakemake.log[0]):
    out = Path(snakemake.output.html).parent
    config = snakemake.params.config
    review = snakemake.params.review_dir
    build_report(
        "results", config, review, out, config_file=snakemake.params.config_file
    )
    build_tables("results", config, review, out)
    export_included("results", review, out, studies=config["screening"]["studies"])
