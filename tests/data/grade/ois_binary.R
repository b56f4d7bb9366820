# Reference optimal information sizes of binary outcomes for tests/test_grade_binary.py.
#
# GRADE guidelines 6 (Guyatt et al. 2011): the OIS is the total of a single
# two-arm trial powered to detect the planned relative risk reduction from the
# control group's risk. R's power.prop.test gives the participants per arm
# (not rounded); the OIS is 2 * ceiling(n). Run:
#
#   Rscript tests/data/grade/ois_binary.R
#
# and copy the printed lines into OIS_R in the test (R 4.x, stats only).
cases <- list(
  # control risk, planned risk, alpha, power
  c(0.20, 0.15, 0.05, 0.8),      # 25% RRR of 20% (the end-to-end example)
  c(0.30, 0.225, 0.05, 0.8),     # 25% RRR of 30%
  c(0.10, 0.075, 0.05, 0.8),     # 25% RRR of 10%
  c(0.50, 0.375, 0.05, 0.8),     # 25% RRR of 50%
  c(0.05, 0.0375, 0.05, 0.8),    # 25% RRR of 5%
  c(0.20, 0.15, 0.05, 0.9),      # power 0.9
  c(0.20, 0.15, 0.01, 0.8),      # alpha 0.01
  c(0.20, 0.25, 0.05, 0.8)       # a 25% relative increase
)
for (x in cases) {
  r <- power.prop.test(p1 = x[1], p2 = x[2], sig.level = x[3], power = x[4])
  cat(sprintf("(%g, %g, %g, %g, %.6f, %d),\n", x[1], x[2], x[3], x[4], r$n,
              as.integer(2 * ceiling(r$n))))
}
