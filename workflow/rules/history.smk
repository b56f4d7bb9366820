# Living review: a snapshot of each update round, the changes since the previous
# round, and the report that puts everything together.


rule review_identity:
    output:
        "results/evsynth_review.json",
    log:
        "results/logs/review_identity.log",
    conda:
        "../../environment.yml"
    params:
        # not the folder's path: a moved review keeps its results
        review_id=config["review_id"],
        title=config["review_title"],
        config_file=CONFIG_FILE,
    message:
        "Which review wrote results/: results/evsynth_review.json"
    script:
        "../scripts/review_identity.py"


rule snapshot:
    input:
        records=rules.import_records.output.records,
        unique=rules.deduplicate.output.unique,
        clusters=rules.deduplicate.output.clusters,
        screening=rules.screening.output.final,
        prisma=rules.screening.output.prisma_json,
        meta=snapshot_meta_inputs(),
        decisions=optional_review_file("decisions"),
    output:
        expand(
            "results/history/round_{round}/{name}",
            round=CURRENT_ROUND,
            name=SNAPSHOT_FILES,
        ),
    log:
        f"results/logs/snapshot_round_{CURRENT_ROUND}.log",
    conda:
        "../../environment.yml"
    params:
        round=CURRENT_ROUND,
        # the decision log is recorded (decision_log.csv) even when it is empty
        decisions=review_path(config["screening"]["decisions"]),
        version=EVSYNTH_VERSION,
    message:
        "Snapshot of update round {params.round}"
    script:
        "../scripts/snapshot.py"


rule changes:
    input:
        new=f"results/history/round_{CURRENT_ROUND}/meta.json",
        old=f"results/history/round_{CURRENT_ROUND - 1}/meta.json",
    output:
        summary="results/changes/summary.json",
        page=report(
            "results/changes/changes.md",
            caption="../report/changes.rst",
            category="Changes",
        ),
        files=expand("results/changes/{name}", name=CHANGES_FILES),
    log:
        "results/logs/changes.log",
    conda:
        "../../environment.yml"
    params:
        old=CURRENT_ROUND - 1,
        new=CURRENT_ROUND,
        title=config["review_title"],
        analysis_labels=analysis_labels(config["meta"]),
        version=EVSYNTH_VERSION,
    message:
        "Changes from round {params.old} to round {params.new}"
    script:
        "../scripts/changes.py"


rule report:
    input:
        report_inputs,
    output:
        html="results/report/index.html",
        tables=expand("results/report/tables.{ext}", ext=("xlsx", "docx")),
        exports=expand("results/report/included_studies.{ext}", ext=("ris", "csv")),
    log:
        "results/logs/report.log",
    conda:
        "../../environment.yml"
    params:
        config=config,
        config_file=CONFIG_FILE,
        review_dir=str(REVIEW_DIR),
        version=EVSYNTH_VERSION,
    message:
        "The report: results/report/index.html"
    script:
        "../scripts/report.py"
