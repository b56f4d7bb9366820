# Reference pooled ratios of offending for tests/test_binary_workflow.py.
#
# The example review with four constructed studies of offending given as 2x2
# counts (OFFENDING_ROWS in the test) and the example's own odds ratio with
# its CI (geenen2013_takecharge: OR 0.52, 0.27 to 0.99). Offending is better
# when lower; the ratios are those of the event as measured (an OR or RR below
# 1: fewer offences with the intervention). metafor's rma() with REML and
# Knapp-Hartung, as the example's config; the RR analysis pools the four
# studies with counts (an odds ratio gives no risk ratio). Run:
#
#   Rscript tests/data/grade/offending_metafor.R
#
# and copy the printed lines into the test (R 4.2, metafor 3.8.1).
suppressMessages(library(metafor))
counts <- data.frame(
  ai = c(12, 18, 9, 15), n1i = c(79, 140, 85, 96),
  ci = c(21, 29, 14, 17), n2i = c(77, 138, 88, 92)
)
or <- escalc("OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = counts)
sei <- (log(0.99) - log(0.27)) / (2 * qnorm(0.975))
fit <- rma(c(log(0.52), or$yi), c(sei^2, or$vi), method = "REML", test = "knha")
p <- predict(fit, transf = exp)
cat(sprintf("OR_METAFOR = (%.6f, %.6f, %.6f)\n", p$pred, p$ci.lb, p$ci.ub))
rr <- escalc("RR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = counts)
fit <- rma(yi, vi, data = rr, method = "REML", test = "knha")
p <- predict(fit, transf = exp)
cat(sprintf("RR_METAFOR = (%.6f, %.6f, %.6f)\n", p$pred, p$ci.lb, p$ci.ub))
