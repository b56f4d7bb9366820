"""Meta-analysis: pooled models, heterogeneity, moderators, bias."""
