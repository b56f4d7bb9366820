# evsynth: from search exports to an evidence synthesis.
# Run with `snakemake --cores 2` (or `evsynth run`). See README.md.

from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/records.smk"
include: "workflow/rules/screening.smk"
include: "workflow/rules/effects.smk"
include: "workflow/rules/meta.smk"
include: "workflow/rules/rob.smk"
include: "workflow/rules/qualitative.smk"
include: "workflow/rules/history.smk"


rule all:
    default_target: True
    input:
        final_targets,
