# evsynth: from search exports to an evidence synthesis.
# Runs in a review folder: `evsynth run DIR`, which is
# `snakemake --snakefile THIS_FILE --directory DIR`. The review folder holds its
# config (config.yaml, or config/config.yaml as in this repository's example),
# its inputs and everything written: results/ and .snakemake/. See README.md.

from snakemake.utils import min_version

from evsynth.project.review import config_file_in

min_version("9.0")


configfile: str(config_file_in(".") or "config/config.yaml")


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/records.smk"
include: "workflow/rules/screening.smk"
include: "workflow/rules/studies.smk"
include: "workflow/rules/effects.smk"
include: "workflow/rules/meta.smk"
include: "workflow/rules/rob.smk"
include: "workflow/rules/grade.smk"
include: "workflow/rules/qualitative.smk"
include: "workflow/rules/history.smk"


rule all:
    default_target: True
    input:
        final_targets,
