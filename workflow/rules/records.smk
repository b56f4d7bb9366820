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


# Sharded deduplication (config records.dedup_shards > 0): the keys of each
# chunk of the records, the pairs of each blocking-key shard, then the rule
# deduplicate gathers the shards (see evsynth.records.dedup.shard).


rule dedup_keys:
    input:
        records=rules.import_records.output.records,
    output:
        temp(directory("results/records/dedup_shards/keys/chunk_{chunk}")),
    log:
        "results/logs/dedup_keys/chunk_{chunk}.log",
    wildcard_constraints:
        chunk=r"\d+",
    conda:
        "../../environment.yml"
    resources:
        mem_mb=dedup_share_mem_mb,
        runtime=dedup_share_runtime,
    params:
        shards=DEDUP_SHARDS,
    message:
        "Computing the match keys of chunk {wildcards.chunk} of the records"
    script:
        "../scripts/dedup_keys.py"


rule dedup_compare:
    input:
        chunks=dedup_shard_dirs("keys/chunk"),
        # not read: sizes the job's resources (its share of the records)
        records=rules.import_records.output.records,
    output:
        temp(directory("results/records/dedup_shards/compared/shard_{shard}")),
    log:
        "results/logs/dedup_compare/shard_{shard}.log",
    wildcard_constraints:
        shard=r"\d+",
    conda:
        "../../environment.yml"
    resources:
        mem_mb=dedup_share_mem_mb,
        runtime=dedup_share_runtime,
    params:
        shards=DEDUP_SHARDS,
    message:
        "Comparing the candidate pairs of shard {wildcards.shard}"
    script:
        "../scripts/dedup_compare.py"


rule deduplicate:
    input:
        records=rules.import_records.output.records,
        decisions=dedup_decisions,
        compared=dedup_shard_dirs("compared/shard"),
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
    threads: 2
    params:
        version=EVSYNTH_VERSION,
        shards=DEDUP_SHARDS,
    message:
        "Finding duplicate records"
    script:
        "../scripts/deduplicate.py"
