# Studies: how plots, tables and the report name each included study
# (author and year of its main report; see evsynth.labels).


rule study_labels:
    input:
        unique=rules.deduplicate.output.unique,
        studies=optional_review_file("studies"),
    output:
        labels="results/studies/labels.csv",
    log:
        "results/logs/study_labels.log",
    conda:
        "../../environment.yml"
    params:
        version=EVSYNTH_VERSION,
    message:
        "Study labels (author and year) from the main reports"
    script:
        "../scripts/study_labels.py"
