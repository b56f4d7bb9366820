# Records stage: import every search export listed in the manifest.


rule import_search:
    input:
        export=export_path,
    output:
        "results/records/parsed/{file}.json",
    log:
        "results/logs/import/{file}.log",
    wildcard_constraints:
        # a manifest name: never absolute, never '..' (see evsynth.paths)
        file=SAFE_NAME,
    conda:
        "../../environment.yml"
    params:
        format=export_format,
        searches_dir=searches_dir,
        version=EVSYNTH_VERSION,
    message:
        "Parsing {input.export}"
    script:
        "../scripts/import_search.py"


rule import_records:
    input:
        manifest=review_path(config["records"]["manifest"]),
        exports=search_exports(),
        parsed=parsed_exports(),
    output:
        records=report(
            "results/records/records.csv",
            caption="../report/records.rst",
            category="Records",
        ),
        summary=report(
            "results/records/import_summary.csv",
            caption="../report/import_summary.rst",
            category="Records",
        ),
        issues="results/records/import_issues.csv",
    log:
        "results/logs/import_records.log",
    conda:
        "../../environment.yml"
    params:
        searches_dir=searches_dir,
        count_mismatch=config["records"]["count_mismatch"],
        version=EVSYNTH_VERSION,
    message:
        "Importing the search exports listed in {input.manifest}"
    script:
        "../scripts/import_records.py"


rule deduplicate:
    input:
        records=rules.import_records.output.records,
        decisions=dedup_decisions,
    output:
        unique=report(
            "results/records/unique.csv",
            caption="../report/unique.rst",
            category="Records",
        ),
        clusters="results/records/clusters.csv",
        pairs="results/records/dedup_pairs.csv",
        review=report(
            "results/records/dedup_review.csv",
            caption="../report/dedup_review.rst",
            category="Records",
        ),
        summary="results/records/dedup_summary.csv",
    log:
        "results/logs/deduplicate.log",
    conda:
        "../../environment.yml"
    params:
        version=EVSYNTH_VERSION,
    message:
        "Finding duplicate records"
    script:
        "../scripts/deduplicate.py"
