"""Effect sizes from the statistics papers report."""
