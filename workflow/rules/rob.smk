# Risk-of-bias stage: tables, traffic-light and summary plots.


rule risk_of_bias:
    input:
        table=review_path(config["rob"]["file"]),
        studies=optional_review_file("studies"),
        effects=rules.effects.output.effects,
    output:
        overall="results/rob/overall.csv",
        files=expand(
            "results/rob/{name}",
            name=[
                f"{kind}_{tool}.{ext}"
                for tool in ("rob2", "robins_i")
                for kind, exts in (
                    ("traffic_light", ("png", "svg")),
                    ("summary", ("png", "svg")),
                )
                for ext in exts
            ]
            + [
                f"{tool}_table.{ext}"
                for tool in ("rob2", "robins_i")
                for ext in ("csv", "xlsx")
            ],
        ),
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
