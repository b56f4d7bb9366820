"""Apply the example's update round 1 to a review folder.

    python data/updates/round_1/apply.py DIR

copies this round's two exports into DIR's searches folder and appends the
round's rows to DIR's manifest, decision log, retrieval file, studies.csv,
effects.csv and risk_of_bias.csv (the paths DIR's config names), as a review
team would. DIR is required: make a copy of the example to update with
`evsynth init --example DIR`. The repository's own example is refused, so that
its tracked files stay as they are. Run it with the Python that has evsynth
installed (e.g. .venv/bin/python).
"""

import argparse
import sys
from pathlib import Path

from evsynth.errors import EvsynthError
from evsynth.project.review import find_review
from evsynth.project.update import apply_round


def main() -> int:
    """Parse the command line, apply the round, print what was done."""
    parser = argparse.ArgumentParser(
        prog="apply.py", description="Apply the example's update round 1 to DIR."
    )
    parser.add_argument("review", metavar="DIR", help="the review folder to update")
    parser.add_argument(
        "--allow-repository",
        action="store_true",
        help="also change the evsynth repository's own example (its tracked files)",
    )
    args = parser.parse_args()
    try:
        review = find_review(args.review)
        done = apply_round(
            Path(__file__).resolve().parent,
            review,
            allow_repository=args.allow_repository,
        )
    except EvsynthError as exc:
        print(f"apply.py: error: {exc}", file=sys.stderr)
        return 2
    for export in done.exports:
        print(f"copied {export}")
    for table, count in done.rows.items():
        print(f"appended {count} row(s) to {table}")
    print(
        f"update round 1 applied to {review.root}; now run: evsynth run {args.review}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
