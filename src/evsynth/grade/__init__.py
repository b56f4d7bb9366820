"""Certainty of the evidence (GRADE): proposals from the data, the team's judgements, the summary of findings."""
