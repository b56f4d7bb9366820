# Screening stage: decisions, conflicts, agreement and the PRISMA 2020 flow.


rule screening:
    input:
        records=rules.import_records.output.records,
        summary=rules.import_records.output.summary,
        unique=rules.deduplicate.output.unique,
        clusters=rules.deduplicate.output.clusters,
        decisions=optional_review_file("decisions"),
        retrieval=optional_review_file("retrieval"),
        studies=optional_review_file("studies"),
    output:
        final=report(
            "results/screening/final_decisions.csv",
            caption="../report/final_decisions.rst",
            category="Screening",
        ),
        conflicts="results/screening/conflicts.csv",
        audit="results/screening/audit.csv",
        reasons="results/screening/exclusion_reasons.csv",
        agreement=report(
            "results/screening/agreement.csv",
            caption="../report/agreement.rst",
            category="Screening",
        ),
        summary="results/screening/screening_summary.csv",
        prisma_csv="results/screening/prisma_counts.csv",
        prisma_json="results/screening/prisma_counts.json",
        prisma_svg="results/screening/prisma.svg",
        prisma_png=report(
            "results/screening/prisma.png",
            caption="../report/prisma.rst",
            category="Screening",
        ),
        prisma_pdf="results/screening/prisma.pdf",
        sheets_csv=screening_sheets("csv"),
        sheets_xlsx=screening_sheets("xlsx"),
    log:
        "results/logs/screening.log",
    conda:
        "../../environment.yml"
    params:
        settings=config["screening"],
        review_dir=REVIEW_DIR,
        title=config["review_title"],
        version=EVSYNTH_VERSION,
    message:
        "Screening: decisions, conflicts, agreement and the PRISMA 2020 flow"
    script:
        "../scripts/screening.py"
