"""Snakemake script: effect sizes of one analysis's domains (see evsynth.effects)."""

from evsynth.cli import script_main
from evsynth.effects.api import write_analysis_effects
from evsynth.effects.compute import EffectSettings

with script_main(snakemake.log[0]):
    write_analysis_effects(
        snakemake.input.table,
        EffectSettings.from_config(snakemake.params.settings),
        snakemake.params.domains,
        snakemake.output[0],
        studies=snakemake.input.studies[0] if snakemake.input.studies else None,
        measure=snakemake.params.measure,
    )
