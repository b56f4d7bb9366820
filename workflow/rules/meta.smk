# Meta-analysis stage: one job per configured analysis, then the summary table.
# Each analysis computes its own effect sizes from the extraction rows of its
# domains, so correcting a row reruns only the analyses that use it.


rule effects_for_analysis:
    input:
        table=ancient(review_path(config["effects"]["file"])),
        studies=optional_review_file("studies"),
    output:
        "results/meta/inputs/{analysis}.csv",
    log:
        "results/logs/effects_{analysis}.log",
    wildcard_constraints:
        analysis=SAFE_ANALYSIS,
    conda:
        "../../environment.yml"
    params:
        settings=config["effects"],
        domains=analysis_domains,
        measure=lambda wildcards: analysis_spec(wildcards.analysis).get(
            "measure", "SMD"
        ),
        rows=analysis_rows_hash,
        version=EVSYNTH_VERSION,
    message:
        "Effect sizes for the analysis {wildcards.analysis}"
    script:
        "../scripts/effects_for_analysis.py"


rule meta_analysis:
    input:
        effects="results/meta/inputs/{analysis}.csv",
        studies=optional_review_file("studies"),
        rob=optional_rob_file,
        labels=rules.study_labels.output.labels,
    output:
        report="results/meta/{analysis}.json",
        plots=expand(
            "results/meta/{plot}_{{analysis}}.{ext}",
            plot=("forest", "funnel"),
            ext=("png", "svg"),
        ),
    log:
        "results/logs/meta_{analysis}.log",
    wildcard_constraints:
        analysis=SAFE_ANALYSIS,
    conda:
        "../../environment.yml"
    params:
        settings=config["meta"],
        value_labels=config["labels"]["values"],
        version=EVSYNTH_VERSION,
    message:
        "Meta-analysis {wildcards.analysis}"
    script:
        "../scripts/meta_analysis.py"


rule meta:
    input:
        reports=meta_reports(),
    output:
        summary=report(
            "results/meta/summary.csv",
            caption="../report/meta_summary.rst",
            category="Meta-analysis",
        ),
    log:
        "results/logs/meta.log",
    conda:
        "../../environment.yml"
    params:
        version=EVSYNTH_VERSION,
    message:
        "Summary of the meta-analyses"
    script:
        "../scripts/meta.py"
