"""Plots for meta-analyses: forest and funnel."""
