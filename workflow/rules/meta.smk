# Meta-analysis stage: the configured analyses, their tables and plots.


rule meta:
    input:
        effects=rules.effects.output.effects,
        studies=optional_review_file("studies"),
        unique=rules.deduplicate.output.unique,
        rob=optional_rob_file,
    output:
        summary=report(
            "results/meta/summary.csv",
            caption="../report/meta_summary.rst",
            category="Meta-analysis",
        ),
        files=meta_outputs(),
    log:
        "results/logs/meta.log",
    conda:
        "../../environment.yml"
    params:
        settings=config["meta"],
        version=EVSYNTH_VERSION,
    message:
        "Meta-analyses: {params.settings[method]} with {params.settings[test]}"
    script:
        "../scripts/meta.py"
