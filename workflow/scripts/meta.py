"""Snakemake script: the meta-analysis stage (see evsynth.meta)."""

from pathlib import Path

from evsynth.cli import script_main
from evsynth.meta.analyses import MetaSettings
from evsynth.meta.api import read_inputs, read_rob_overall, run_meta, write_meta

with script_main(snakemake.log[0]):
    settings = MetaSettings.from_config(snakemake.params.settings)
    studies = snakemake.input.studies[0] if snakemake.input.studies else None
    effects, info = read_inputs(
        snakemake.input.effects, studies, snakemake.input.unique
    )
    rob_file = snakemake.input.rob[0] if snakemake.input.rob else None
    results = run_meta(effects, info, settings, read_rob_overall(rob_file, info))
    write_meta(results, Path(snakemake.output.summary).parent, settings)
