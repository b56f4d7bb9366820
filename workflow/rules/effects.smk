# Effect-size stage: one effect size per extraction row, with its method.

from evsynth.effects.compute import domain_measures


rule effects:
    input:
        table=review_path(config["effects"]["file"]),
        studies=optional_review_file("studies"),
    output:
        effects=report(
            "results/effects/effects.csv",
            caption="../report/effects.rst",
            category="Effect sizes",
        ),
        xlsx="results/effects/effects.xlsx",
        excluded="results/effects/excluded.csv",
    log:
        "results/logs/effects.log",
    conda:
        "../../environment.yml"
    params:
        settings=config["effects"],
        domain_measures=domain_measures(config["meta"]["analyses"]),
        version=EVSYNTH_VERSION,
    message:
        "Computing effect sizes from {input.table}"
    script:
        "../scripts/effects.py"
