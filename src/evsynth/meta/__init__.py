"""Meta-analysis: pooled models, heterogeneity, moderators, bias."""

#: Largest absolute effect size, and the range of sampling variances, that a
#: model can fit in double precision (weights 1/vi and squares yi**2/vi must
#: stay far from overflow and underflow). The effects stage and ``evsynth meta``
#: refuse rows outside them, naming the row.
MAX_ABS_YI = 1e50
VI_RANGE = (1e-50, 1e50)
