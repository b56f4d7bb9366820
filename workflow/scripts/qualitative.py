"""Snakemake script: the qualitative synthesis (see evsynth.qualitative)."""

from pathlib import Path

from evsynth.cli import script_main
from evsynth.labels import read_study_labels
from evsynth.qualitative.api import run_qualitative, write_qualitative
from evsynth.studies import study_ids

with script_main(snakemake.log[0]):
    studies = snakemake.input.studies[0] if snakemake.input.studies else None
    result = run_qualitative(
        snakemake.input.findings,
        snakemake.input.appraisal,
        snakemake.input.cerqual,
        study_ids(studies),
        coverage=snakemake.params.coverage,
        labels=read_study_labels(snakemake.input.labels),
    )
    write_qualitative(result, Path(snakemake.output.soqf).parent)
