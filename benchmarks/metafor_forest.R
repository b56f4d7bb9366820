# Draw metafor's forest() and funnel() for a table of effect sizes, as the
# reference that benchmarks/compare_forest.py puts our plots next to.
#
# Usage: Rscript metafor_forest.R DATA.csv OUTDIR NAME [exp] [XLAB] [z|knha]
#   DATA.csv  columns: label, yi, vi and n (or n_t and n_c); yi on the analysis
#             scale (log ratios for ratio measures)
#   OUTDIR    where NAME_metafor_forest.png and NAME_metafor_funnel.png go
#   exp       "exp" to label the axis with exp(yi) (odds/risk ratios), else "id"
#   XLAB      axis label, e.g. "Hedges' g" or "Risk Ratio"
#   z|knha    inference of the model (default z, metafor's default)
suppressMessages(library(metafor))
args <- commandArgs(trailingOnly = TRUE)
if (length(args) < 3) stop("usage: Rscript metafor_forest.R DATA.csv OUTDIR NAME [exp|id] [XLAB]")
csv <- args[1]; outdir <- args[2]; name <- args[3]
ratio <- length(args) >= 4 && args[4] == "exp"
xlab <- if (length(args) >= 5) args[5] else "Observed Outcome"
dir.create(outdir, showWarnings = FALSE, recursive = TRUE)

dat <- read.csv(csv, stringsAsFactors = FALSE, check.names = FALSE)
test <- if (length(args) >= 6) args[6] else "z"
res <- rma(yi, vi, data = dat, method = "REML", test = test, slab = dat$label)
pred <- predict(res)
cat(sprintf("metafor %s: %s  k = %d  estimate = %.4f [%.4f, %.4f]  PI [%.4f, %.4f]  tau2 = %.4f  I2 = %.1f%%\n",
            packageVersion("metafor"), name, res$k, res$b[1], res$ci.lb, res$ci.ub,
            pred$pi.lb, pred$pi.ub, res$tau2, res$I2))

# Sample sizes as ilab columns: one column n, or one per arm.
if (all(c("n_t", "n_c") %in% names(dat))) {
  ilab <- cbind(dat$n_t, dat$n_c); ilab.lab <- c("n int.", "n comp.")
} else {
  ilab <- cbind(dat$n); ilab.lab <- "N"
}
# Leave room left of the panel for the ilab columns (metafor 3.8 needs xlim
# and ilab.xpos given together).
ci.lb <- dat$yi - 1.96 * sqrt(dat$vi); ci.ub <- dat$yi + 1.96 * sqrt(dat$vi)
lo <- min(ci.lb, pred$pi.lb); hi <- max(ci.ub, pred$pi.ub); w <- hi - lo
xlim <- c(lo - (1.0 + 0.25 * ncol(ilab)) * w, hi + 0.9 * w)
ilab.xpos <- lo - rev(seq_len(ncol(ilab))) * 0.22 * w - 0.05 * w

height <- 2.2 + 0.22 * (res$k + 4)
png(file.path(outdir, paste0(name, "_metafor_forest.png")), width = 9, height = height,
    units = "in", res = 150)
args_forest <- list(res, addpred = TRUE, header = TRUE, showweights = TRUE,
                    ilab = ilab, ilab.xpos = ilab.xpos, xlim = xlim, xlab = xlab,
                    cex = 0.8)
if (ratio) args_forest$atransf <- exp
do.call(forest, args_forest)
text(ilab.xpos, res$k + 2, ilab.lab, font = 2, cex = 0.8)
mtext(sprintf("tau2 = %.3f, I2 = %.1f%%, Q(%d) = %.2f", res$tau2, res$I2, res$k - 1, res$QE),
      side = 1, line = 4, adj = 0, cex = 0.7)
invisible(dev.off())

png(file.path(outdir, paste0(name, "_metafor_funnel.png")), width = 6.5, height = 5,
    units = "in", res = 150)
args_funnel <- list(res, level = c(90, 95, 99), shade = c("white", "gray55", "gray75"),
                    refline = 0, legend = TRUE, xlab = xlab)
if (ratio) args_funnel$atransf <- exp
do.call(funnel, args_funnel)
invisible(dev.off())

# Trim-and-fill, for the funnel with imputed studies.
tf <- trimfill(res)
png(file.path(outdir, paste0(name, "_metafor_trimfill.png")), width = 6.5, height = 5,
    units = "in", res = 150)
args_tf <- list(tf, legend = TRUE, xlab = xlab)
if (ratio) args_tf$atransf <- exp
do.call(funnel, args_tf)
invisible(dev.off())
cat(sprintf("trimfill: k0 = %d (%s), adjusted estimate = %.4f\n", tf$k0, tf$side, tf$b[1]))
