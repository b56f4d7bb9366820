"""Snakemake script: one configured meta-analysis (see evsynth.meta)."""

from pathlib import Path

from evsynth.cli import script_main
from evsynth.labels import read_study_labels, value_labels
from evsynth.meta.analyses import MetaSettings
from evsynth.meta.api import run_one, write_analysis

with script_main(snakemake.log[0]):
    settings = MetaSettings.from_config(snakemake.params.settings)
    result = run_one(
        snakemake.input.effects,
        snakemake.input.studies[0] if snakemake.input.studies else None,
        snakemake.input.rob[0] if snakemake.input.rob else None,
        settings,
        snakemake.wildcards.analysis,
        labels=read_study_labels(snakemake.input.labels),
    )
    write_analysis(
        result,
        Path(snakemake.output.report).parent,
        settings,
        value_labels(snakemake.params.value_labels),
    )
