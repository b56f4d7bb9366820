#!/usr/bin/env bash
# Copy update round 1 into the example review (run from the repository root).
# Every table is appended to, never rewritten, as a review team would do it.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
review="${1:-data}"
cp "$here"/searches/* "$review/searches/"
tail -n +2 "$here/searches_rows.csv" >> "$review/searches/searches.csv"
tail -n +2 "$here/decisions_rows.csv" >> "$review/screening/decisions.csv"
tail -n +2 "$here/retrieval_rows.csv" >> "$review/screening/retrieval.csv"
tail -n +2 "$here/studies_rows.csv" >> "$review/studies.csv"
tail -n +2 "$here/effects_rows.csv" >> "$review/extraction/effects.csv"
tail -n +2 "$here/risk_of_bias_rows.csv" >> "$review/extraction/risk_of_bias.csv"
echo "update round 1 copied into $review; now run: evsynth run --cores 2"
