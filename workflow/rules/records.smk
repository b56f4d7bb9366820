# Records stage: import every search export listed in the manifest.


rule import_records:
    input:
        manifest=review_path(config["records"]["manifest"]),
        exports=search_exports(),
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
