"""The review's report: one self-contained HTML page, its tables and exports."""
