# Reference numbers from metafor for evsynth.meta.bias and evsynth.meta.sensitivity.
#
# Writes what metafor reports (not what evsynth computes) for small-study-effect
# tests and sensitivity analyses, one JSON file per dataset:
#   tests/data/metafor/bias_extra_<dataset>.json
# Each file holds the inputs (yi, vi, the cumulative order variable) and, for the
# default REML model and for variants (Knapp-Hartung, DL, EE, the R0/Q0 trim-and-
# fill estimators, the other side), regtest(), ranktest(), trimfill(),
# leave1out(), cumul(), fsn() and influence().
#
# Usage (from the repository root; needs r-cran-metafor, r-cran-metadat,
# r-cran-jsonlite):
#   Rscript benchmarks/metafor_bias_refs.R tests/data/metafor
# The tests compare against the committed JSON, so they need no R.
suppressMessages({library(metafor); library(metadat); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
outdir <- if (length(args) >= 1) args[1] else "tests/data/metafor"
dir.create(outdir, showWarnings = FALSE, recursive = TRUE)
num <- function(x) unname(as.numeric(x))

datasets <- list(
  # Datasets also in ../shared/validation/metafor (there without influence()).
  dat.bcg = function() {
    e <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
    list(yi = e$yi, vi = e$vi, order = dat.bcg$year, order_by = "year", measure = "RR",
         mods = cbind(ablat = dat.bcg$ablat, year = dat.bcg$year))
  },
  dat.bangertdrowns2004 = function() {
    d <- dat.bangertdrowns2004
    list(yi = d$yi, vi = d$vi, order = d$year, order_by = "year", measure = "SMD")
  },
  dat.hackshaw1998 = function() {
    d <- dat.hackshaw1998
    list(yi = d$yi, vi = d$vi, order = d$year, order_by = "year", measure = "OR")
  },
  dat.konstantopoulos2011 = function() {
    d <- dat.konstantopoulos2011
    list(yi = d$yi, vi = d$vi, order = d$year, order_by = "year", measure = "SMD")
  },
  # Extra datasets of other shapes.
  # k = 19, ties among the vi (Begg's test falls back to the normal approximation).
  dat.raudenbush1985 = function() {
    d <- dat.raudenbush1985
    list(yi = d$yi, vi = d$vi, order = d$year, order_by = "year", measure = "SMD")
  },
  # k = 9, no ties (exact Kendall test), large tau^2, trim-and-fill finds k0 = 0.
  dat.normand1999 = function() {
    d <- dat.normand1999
    e <- escalc(measure = "SMD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i, data = d)
    list(yi = e$yi, vi = e$vi, order = e$vi, order_by = "vi", measure = "SMD")
  },
  # k = 6, tau^2 = 0 (REML on the boundary), two studies with the same year.
  dat.hart1999 = function() {
    d <- dat.hart1999
    e <- escalc(measure = "IRR", x1i = x1i, t1i = t1i, x2i = x2i, t2i = t2i, data = d)
    list(yi = e$yi, vi = e$vi, order = d$year, order_by = "year", measure = "IRR")
  }
)

regtest_out <- function(r) list(z = num(r$zval), p = num(r$pval), df = num(r$ddf),
                                 limit_estimate = num(r$est), limit_ci_lb = num(r$ci.lb), limit_ci_ub = num(r$ci.ub))

trimfill_out <- function(tf) {
  list(k0 = num(tf$k0), side = tf$side, se_k0 = num(tf$se.k0), p_k0 = num(tf$p.k0),
       estimate = num(tf$beta)[1], se = num(tf$se)[1], zval = num(tf$zval)[1],
       pval = num(tf$pval)[1], ci_lb = num(tf$ci.lb)[1], ci_ub = num(tf$ci.ub)[1],
       tau2 = num(tf$tau2), Q = num(tf$QE), Q_p = num(tf$QEp),
       yi = num(tf$yi), vi = num(tf$vi), filled = as.logical(tf$fill))
}

list_out <- function(l) {
  stat <- if (!is.null(l$zval)) l$zval else l$tval
  p <- if (!is.null(l$pval)) l$pval else l$pvals
  out <- list(estimate = num(l$estimate), se = num(l$se), zval = num(stat), pval = num(p),
              ci_lb = num(l$ci.lb), ci_ub = num(l$ci.ub), Q = num(l$Q), Q_p = num(l$Qp),
              I2 = num(l$I2), H2 = num(l$H2))
  if (!is.null(l$tau2)) out$tau2 <- num(l$tau2)
  out
}

influence_out <- function(fit) {
  inf <- influence(fit)
  list(rstudent = num(inf$inf$rstudent), dffits = num(inf$inf$dffits),
       cooks_d = num(inf$inf$cook.d), cov_r = num(inf$inf$cov.r),
       tau2_del = num(inf$inf$tau2.del), QE_del = num(inf$inf$QE.del),
       hat = num(inf$inf$hat), weight = num(inf$inf$weight),
       dfbetas = lapply(unclass(inf$dfbs)[seq_len(fit$p)], num),
       inf = as.logical(inf$is.infl))
}

bundle <- function(yi, vi, order, method, test) {
  fit <- rma(yi, vi, method = method, test = test)
  out <- list(
    egger_rma = regtest_out(regtest(fit)),
    begg = {rk <- suppressWarnings(ranktest(fit)); list(tau = num(rk$tau), p = num(rk$pval))},
    # test passed on: trimfill(fit) alone refits the filled data with test = "z"
    trimfill = trimfill_out(trimfill(fit, test = test)),
    leave1out = list_out(leave1out(fit)),
    cumulative = list_out(cumul(fit, order = order)),
    influence = influence_out(fit))
  out
}

for (ds in names(datasets)) {
  x <- datasets[[ds]]()
  yi <- num(x$yi); vi <- num(x$vi); order <- num(x$order)
  ref <- list(dataset = ds, metafor_version = as.character(packageVersion("metafor")),
              measure = x$measure, yi = yi, vi = vi, order_by = x$order_by, order = order)
  ref$egger_lm <- {r <- regtest(yi, vi, model = "lm"); list(t = num(r$zval), p = num(r$pval), df = num(r$ddf),
                  limit_estimate = num(r$est), limit_ci_lb = num(r$ci.lb), limit_ci_ub = num(r$ci.ub))}
  ref$failsafe_rosenthal <- num(fsn(yi, vi)$fsnum)
  ref$models <- list()
  for (mt in list(c("REML", "z"), c("REML", "knha"), c("DL", "z"), c("EE", "z"))) {
    ref$models[[paste(mt, collapse = "_")]] <- bundle(yi, vi, order, mt[1], mt[2])
  }
  fit <- rma(yi, vi, method = "REML")
  tf <- trimfill(fit)
  other <- if (tf$side == "left") "right" else "left"
  ref$trimfill_variants <- list(
    R0 = trimfill_out(trimfill(fit, estimator = "R0")),
    Q0 = trimfill_out(trimfill(fit, estimator = "Q0")),
    other_side = trimfill_out(trimfill(fit, side = other)))
  if (!is.null(x$mods)) {
    fm <- rma(yi, vi, mods = x$mods, method = "REML")
    ref$influence_mods <- c(list(mods = lapply(as.data.frame(x$mods), num)), influence_out(fm))
  }
  writeLines(toJSON(ref, auto_unbox = TRUE, digits = NA, pretty = TRUE, na = "null"),
             file.path(outdir, paste0("bias_extra_", ds, ".json")))
  cat("wrote", ds, "\n")
}
