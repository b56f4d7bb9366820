# Helpers only: configuration validation and review paths. No rules here.

from pathlib import Path

from evsynth import __version__ as EVSYNTH_VERSION
from evsynth.validation import validate_config

config.update(validate_config(config, source="config/config.yaml"))

REVIEW_DIR = Path(config["review_dir"])


def review_path(*parts):
    """Path of a file in the review folder, as a string for Snakemake."""
    return str(REVIEW_DIR.joinpath(*parts))


def search_exports():
    """Every file in the review's searches folder, so that adding one reruns the import."""
    folder = Path(review_path(config["records"]["searches_dir"]))
    if not folder.is_dir():
        return []
    return sorted(str(p) for p in folder.rglob("*") if p.is_file())


def searches_dir(wildcards):
    """The folder of the review's search exports."""
    return review_path(config["records"]["searches_dir"])


def dedup_decisions(wildcards):
    """The reviewers' dedup verdicts, if the review has them (else no input)."""
    path = Path(review_path(config["records"]["dedup_decisions"]))
    return [str(path)] if path.is_file() else []


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


def meta_outputs():
    """Each configured analysis's JSON and its forest and funnel plots."""
    files = []
    for analysis in config["meta"]["analyses"]:
        name = analysis["name"]
        files.append(f"results/meta/{name}.json")
        for plot in ("forest", "funnel"):
            files += [
                f"results/meta/{plot}_{name}.png",
                f"results/meta/{plot}_{name}.svg",
            ]
    return files


def optional_rob_file(wildcards):
    """The risk-of-bias table, if the review has one (else no input)."""
    path = Path(review_path(config["rob"]["file"]))
    return [str(path)] if path.is_file() else []


def final_targets(wildcards):
    """What `snakemake` builds: every stage whose inputs the review has.

    Records and screening always run; effect sizes and meta-analyses when the
    review has an extraction table, risk of bias and the qualitative synthesis
    when it has their files. A new review can run before it has them all.
    """
    targets = [
        *rules.import_records.output,
        *rules.deduplicate.output,
        *rules.screening.output,
    ]
    if Path(review_path(config["effects"]["file"])).is_file():
        targets += [*rules.effects.output, *rules.meta.output]
    if Path(review_path(config["rob"]["file"])).is_file():
        targets += [*rules.risk_of_bias.output]
    qualitative = config["qualitative"]
    if all(
        Path(review_path(qualitative[key])).is_file()
        for key in ("findings", "appraisal", "cerqual")
    ):
        targets += [*rules.qualitative.output]
    return targets
