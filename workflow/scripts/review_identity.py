"""Snakemake script: record which review wrote results/ (see evsynth.project.review)."""

from evsynth.cli import script_main
from evsynth.project.review import review_identity, write_identity

with script_main(snakemake.log[0]):
    config = {
        "review_id": snakemake.params.review_id,
        "review_title": snakemake.params.title,
    }
    identity = review_identity(".", config, snakemake.params.config_file)
    write_identity(snakemake.output[0], identity)
