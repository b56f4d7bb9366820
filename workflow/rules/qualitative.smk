# Qualitative synthesis: theme matrices, barrier and facilitator tables, CERQual, CASP.


rule qualitative:
    input:
        findings=review_path(config["qualitative"]["findings"]),
        appraisal=review_path(config["qualitative"]["appraisal"]),
        cerqual=review_path(config["qualitative"]["cerqual"]),
        studies=optional_review_file("studies"),
        labels=rules.study_labels.output.labels,
    output:
        soqf=report(
            "results/qualitative/cerqual_soqf.docx",
            caption="../report/qualitative.rst",
            category="Qualitative synthesis",
        ),
        files=expand(
            "results/qualitative/{name}",
            name=[
                f"{stem}.{ext}"
                for stem, exts in (
                    ("theme_matrix", ("csv", "xlsx")),
                    ("theme_matrix_excerpts", ("csv", "xlsx")),
                    ("theme_by_perspective", ("csv", "xlsx")),
                    ("barriers", ("csv", "xlsx", "docx")),
                    ("facilitators", ("csv", "xlsx", "docx")),
                    ("cerqual_soqf", ("csv", "xlsx")),
                    ("cerqual_evidence_profile", ("csv", "xlsx", "docx")),
                    ("casp_appraisal", ("csv", "xlsx")),
                    ("heatmap_themes_by_study", ("png", "svg")),
                    ("heatmap_themes_by_perspective", ("png", "svg")),
                )
                for ext in exts
            ],
        ),
    log:
        "results/logs/qualitative.log",
    conda:
        "../../environment.yml"
    params:
        coverage=config["qualitative"]["cerqual_coverage"],
        version=EVSYNTH_VERSION,
    message:
        "Qualitative synthesis from {input.findings}"
    script:
        "../scripts/qualitative.py"
