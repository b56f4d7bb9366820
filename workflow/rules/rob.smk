# Risk-of-bias stage: tables, traffic-light and summary plots. The summary
# plots are weighted by the meta-analyses' study weights (one per analysis) and
# by the participants of the studies in a meta-analysis (one per tool), so the
# stage reads each analysis's report.


rule risk_of_bias:
    input:
        table=review_path(config["rob"]["file"]),
        studies=optional_review_file("studies"),
        reports=rob_meta_reports(),
        labels=rules.study_labels.output.labels,
    output:
        overall="results/rob/overall.csv",
        files=rob_outputs(),
    log:
        "results/logs/risk_of_bias.log",
    conda:
        "../../environment.yml"
    params:
        studies=review_path(config["screening"]["studies"]),
        version=EVSYNTH_VERSION,
    message:
        "Risk of bias: tables and plots from {input.table}"
    script:
        "../scripts/risk_of_bias.py"
