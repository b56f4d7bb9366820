# Risk-of-bias stage: tables, traffic-light and summary plots.


rule risk_of_bias:
    input:
        table=review_path(config["rob"]["file"]),
        studies=optional_review_file("studies"),
    output:
        overall="results/rob/overall.csv",
        files=rob_outputs(),
    log:
        "results/logs/risk_of_bias.log",
    conda:
        "../../environment.yml"
    params:
        version=EVSYNTH_VERSION,
    message:
        "Risk of bias: tables and plots from {input.table}"
    script:
        "../scripts/risk_of_bias.py"
