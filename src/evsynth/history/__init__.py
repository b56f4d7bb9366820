"""Living-review history: per-round snapshots of key results and change reports."""
