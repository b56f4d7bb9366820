# Certainty of the evidence (GRADE): each analysis's domains proposed from its
# meta-analysis, the team's judgements (grade.csv) applied, and the
# summary-of-findings table.


rule grade:
    input:
        reports=meta_reports(),
        inputs=meta_inputs(),
        studies=optional_review_file("studies"),
        rob=optional_rob_file,
        judgements=optional_grade_file,
    output:
        certainty="results/grade/certainty.csv",
        json="results/grade/certainty.json",
        sof=multiext("results/grade/summary_of_findings", ".csv", ".xlsx", ".docx"),
    log:
        "results/logs/grade.log",
    conda:
        "../../environment.yml"
    params:
        config=config,
        judgements=review_path(config["grade"]["file"]),
        version=EVSYNTH_VERSION,
    message:
        "Certainty of the evidence (GRADE) and the summary of findings"
    script:
        "../scripts/grade.py"
