"""Screening: reviewers' decisions, conflicts, agreement and the PRISMA 2020 flow."""
