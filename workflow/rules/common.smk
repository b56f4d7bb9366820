# Helpers only: configuration validation and review paths. No rules here.
# The working directory is the review folder (snakemake --directory DIR).

from pathlib import Path

from evsynth import __version__ as EVSYNTH_VERSION
from evsynth.errors import EvsynthError
from evsynth.labels import analysis_labels
from evsynth.paths import (
    SAFE_ANALYSIS,
    SAFE_NAME,
    config_path_errors,
    searches_path_errors,
)
from evsynth.project.review import check_results
from evsynth.validation import validate_config
from evsynth.yamlsafe import read_yaml_mapping

# the review's config file: the one given with --configfile, else the folder's own
CONFIG_FILE = str(
    (workflow.overwrite_configfiles or workflow.configfiles or ["config/config.yaml"])[
        -1
    ]
)

# Snakemake loaded the config with its own YAML reader, which takes a key given
# twice (last wins) and expands aliases: read it again with evsynth's strict reader
# (evsynth run has already done so), then validate what Snakemake loaded.
read_yaml_mapping(CONFIG_FILE)
config.update(validate_config(config, source=CONFIG_FILE))

# every path of the config leads inside the review, before any file is opened
PATH_ERRORS = config_path_errors(config, ".", CONFIG_FILE)
if PATH_ERRORS:
    raise PATH_ERRORS[0]
REVIEW_DIR = Path(config["review_dir"])
if not REVIEW_DIR.is_dir():
    raise EvsynthError(
        f"{CONFIG_FILE}: review_dir {config['review_dir']!r} is not a folder "
        f"(relative paths are relative to the review folder {Path.cwd()})"
    )
# results/ written by another review stops the run (the guard against mixing)
check_results(".", config, CONFIG_FILE)


def review_path(*parts):
    """Path of a file in the review folder, as a string for Snakemake."""
    return str(REVIEW_DIR.joinpath(*parts))


def search_exports():
    """Every file in the review's searches folder, so that adding one reruns the import."""
    folder = Path(review_path(config["records"]["searches_dir"]))
    if not folder.is_dir():
        return []
    return sorted(str(p) for p in folder.rglob("*") if p.is_file())


def manifest_table(path):
    """The manifest's rows, read by evsynth's strict CSV reader.

    An unreadable manifest plans no import jobs here: the import job reads it
    again and stops with a message naming the file, line and column.
    """
    from evsynth.errors import InputError
    from evsynth.io import read_csv_text

    try:
        frame = read_csv_text(path, "a header line: file, database, ...")
    except (InputError, OSError):
        return []
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    return frame.to_dict("records")


def manifest_rows():
    """The manifest's file and format columns, read when the workflow is parsed.

    Each listed export is parsed in a job of its own (so a new export is the only
    file read again); the import job validates the manifest properly and reports
    any problem with its row and column. A name leading outside the searches
    folder (or a link there leading elsewhere) stops the workflow here, before a
    job is planned or a file opened.
    """
    path = Path(review_path(config["records"]["manifest"]))
    folder = Path(review_path(config["records"]["searches_dir"]))
    errors = searches_path_errors(path, folder)
    if errors:
        raise errors[0]
    rows = manifest_table(path)
    out = {}
    for row in rows:
        name = (row.get("file") or "").strip()
        if name and (folder / name).is_file() and name not in out:
            out[name] = (row.get("format") or "").strip() or None
    return out


MANIFEST_ROWS = manifest_rows()


def current_round():
    """The latest update round of the manifest (0 for the original searches)."""
    path = Path(review_path(config["records"]["manifest"]))
    values = [row.get("update", "") for row in manifest_table(path)]
    rounds = [int(v) for v in values if str(v).strip().isdigit()]
    return max(rounds, default=0)


CURRENT_ROUND = current_round()
SNAPSHOT_FILES = [
    "records.csv",
    "decisions.csv",
    "effects.csv",
    "pooled.csv",
    "prisma.json",
    "decision_log.csv",
    "certainty.csv",
    "meta.json",
]
CHANGES_FILES = [
    "records_added.csv",
    "decisions_changed.csv",
    "effects_changed.csv",
    "pooled_changes.csv",
    "certainty_changes.csv",
    "estimates.png",
    "estimates.svg",
    "living_prisma.csv",
    "prisma_update.svg",
    "prisma_update.png",
    "prisma_update.pdf",
]


def parsed_exports():
    """The parsed form of every listed export (one import_search job each)."""
    return [f"results/records/parsed/{name}.json" for name in MANIFEST_ROWS]


def export_path(wildcards):
    """The export file of one import_search job."""
    return review_path(config["records"]["searches_dir"], wildcards.file)


def export_format(wildcards):
    """The manifest's format for one export (None: detect it)."""
    return MANIFEST_ROWS.get(wildcards.file)


def searches_dir(wildcards):
    """The folder of the review's search exports."""
    return review_path(config["records"]["searches_dir"])


def dedup_decisions(wildcards):
    """The reviewers' dedup verdicts, if the review has them (else no input)."""
    path = Path(review_path(config["records"]["dedup_decisions"]))
    return [str(path)] if path.is_file() else []


#: Blocking-key shards of the deduplication (0: one job, unsharded).
DEDUP_SHARDS = int(config["records"].get("dedup_shards", 0))


def dedup_share_mem_mb(wildcards, input, attempt):
    """Memory (MB) of a keys or compare job: its share of the records, measured.

    At 1 to 10 million records a job peaked at 2 to 4 times its share of
    records.csv (benchmarks/RESULTS.md, "Deduplication at scale"); this asks
    for 8 times, from a floor of 1000 MB, doubled on a second attempt.
    """
    return (1000 + 8 * int(input.size_mb) // max(DEDUP_SHARDS, 1)) * attempt


def dedup_share_runtime(wildcards, input, attempt):
    """Wall time (minutes) of a keys or compare job: 10 plus 1 per 10 MB of its share."""
    return (10 + int(input.size_mb) // (10 * max(DEDUP_SHARDS, 1))) * attempt


def dedup_shard_dirs(prefix):
    """The folders of each shard (or chunk) of the sharded deduplication, if sharded."""
    return [f"results/records/dedup_shards/{prefix}_{n}" for n in range(DEDUP_SHARDS)]


def optional_review_file(key):
    """An input function giving a review file named in config if it exists (else none)."""

    def inner(wildcards):
        path = Path(review_path(config["screening"][key]))
        return [str(path)] if path.is_file() else []

    return inner


def screening_sheets(suffix):
    """The screening sheets (one per reviewer and stage, one per stage to resolve)."""
    from evsynth.screening.model import STAGES

    people = [*config["screening"]["reviewers"], "resolve"]
    return [
        f"results/screening/sheets/{person}_{stage}.{suffix}"
        for person in people
        for stage in STAGES
    ]


def analysis_spec(name):
    """The configured analysis of this name."""
    for analysis in config["meta"]["analyses"]:
        if analysis["name"] == name:
            return analysis
    raise ValueError(f"no analysis {name!r} in config meta.analyses")


def analysis_domains(wildcards):
    """The outcome domains one analysis pools."""
    analysis = analysis_spec(wildcards.analysis)
    return list(analysis.get("domains") or [analysis["name"]])


def analysis_rows_hash(wildcards):
    """A hash of the extraction rows of one analysis's domains.

    The extraction table is an `ancient` input of the per-analysis jobs, so a
    change elsewhere in the table does not rerun them; this parameter does,
    when one of their own rows changes.
    """
    import csv
    import hashlib

    path = Path(review_path(config["effects"]["file"]))
    domains = set(analysis_domains(wildcards))
    digest = hashlib.sha256()
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader, [])
            digest.update("\x1f".join(header).encode())
            column = header.index("domain") if "domain" in header else None
            for row in reader:
                if column is None or (len(row) > column and row[column] in domains):
                    digest.update(("\x1e" + "\x1f".join(row)).encode())
    except OSError:
        return ""
    except (UnicodeDecodeError, csv.Error):  # the effects job refuses it
        return hashlib.sha256(path.read_bytes()).hexdigest()
    return digest.hexdigest()


def meta_reports():
    """Each configured analysis's JSON report."""
    return [f"results/meta/{a['name']}.json" for a in config["meta"]["analyses"]]


def rob_analyses():
    """The analyses whose weights the risk-of-bias summary plots use (none without effects)."""
    if not has_effects():
        return []
    return [a["name"] for a in config["meta"]["analyses"]]


def rob_meta_reports():
    """The meta-analyses' reports, which weigh the risk-of-bias summary plots."""
    return [f"results/meta/{name}.json" for name in rob_analyses()]


def rob_outputs():
    """The risk-of-bias stage's tables and plots (see evsynth.rob.api.output_names)."""
    from evsynth.rob.api import output_names

    return [
        f"results/rob/{name}"
        for name in output_names(rob_analyses())
        if name != "overall.csv"
    ]


def optional_rob_file(wildcards):
    """The risk-of-bias table, if the review has one (else no input)."""
    path = Path(review_path(config["rob"]["file"]))
    return [str(path)] if path.is_file() else []


def optional_grade_file(wildcards):
    """The team's GRADE judgements, if the review has them (else no input)."""
    path = Path(review_path(config["grade"]["file"]))
    return [str(path)] if path.is_file() else []


def meta_inputs():
    """Each configured analysis's effect rows (for the participants GRADE counts)."""
    return [f"results/meta/inputs/{a['name']}.csv" for a in config["meta"]["analyses"]]


def has_effects():
    return Path(review_path(config["effects"]["file"])).is_file()


def snapshot_meta_inputs():
    """Effect sizes, meta-analyses and their certainty (GRADE) go into the snapshot
    when the review has them."""
    if not has_effects():
        return []
    inputs = ["results/effects/effects.csv", "results/meta/summary.csv"]
    if config["meta"]["analyses"]:
        inputs.append("results/grade/certainty.csv")
    return inputs


def has_previous_round():
    """Whether a snapshot of the previous update round is on disk (from an earlier run)."""
    if CURRENT_ROUND == 0:
        return False
    return Path(f"results/history/round_{CURRENT_ROUND - 1}/meta.json").is_file()


def stage_targets():
    """Outputs of every stage whose inputs the review has (not the report)."""
    targets = [
        *rules.import_records.output,
        *rules.deduplicate.output,
        *rules.screening.output,
        *rules.study_labels.output,
        *rules.snapshot.output,
    ]
    if has_effects():
        targets += [*rules.effects.output, *rules.meta.output]
        for analysis in config["meta"]["analyses"]:
            name = analysis["name"]
            targets += [
                f"results/meta/{name}.json",
                *(
                    f"results/meta/{plot}_{name}.{ext}"
                    for plot in ("forest", "funnel")
                    for ext in ("png", "svg")
                ),
            ]
    if has_effects() and config["meta"]["analyses"]:
        targets += [*rules.grade.output]
    if Path(review_path(config["rob"]["file"])).is_file():
        targets += [*rules.risk_of_bias.output]
    qualitative = config["qualitative"]
    if all(
        Path(review_path(qualitative[key])).is_file()
        for key in ("findings", "appraisal", "cerqual")
    ):
        targets += [*rules.qualitative.output]
    if has_previous_round():
        targets += [*rules.changes.output]
    return targets


def report_inputs(wildcards):
    """The report reads every stage's results."""
    return stage_targets()


def final_targets(wildcards):
    """What `snakemake` builds: every stage whose inputs the review has, and the report.

    Records and screening always run; effect sizes and meta-analyses when the
    review has an extraction table, risk of bias and the qualitative synthesis
    when it has their files, the change report when an earlier update round was
    run. A new review can run before it has them all.
    """
    return [*stage_targets(), *rules.review_identity.output, *rules.report.output]
