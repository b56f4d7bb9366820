"""Snakemake script: the effect-size stage (see evsynth.effects)."""

from dataclasses import replace

from evsynth.cli import script_main
from evsynth.effects.api import run_effects, write_effects
from evsynth.effects.compute import EffectSettings

with script_main(snakemake.log[0]):
    settings = EffectSettings.from_config(snakemake.params.settings)
    result = run_effects(
        snakemake.input.table,
        replace(settings, domain_measures=snakemake.params.domain_measures),
        studies=snakemake.input.studies[0] if snakemake.input.studies else None,
    )
    write_effects(
        result,
        snakemake.output.effects,
        xlsx=snakemake.output.xlsx,
        excluded=snakemake.output.excluded,
    )
