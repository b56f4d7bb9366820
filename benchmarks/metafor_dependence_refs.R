# Reference results for dependent effect sizes (evsynth.meta.dependence and
# evsynth.meta.subgroups) from metafor 3.8.1 and clubSandwich, on metadat
# datasets with several effect sizes per cluster. Writes, per dataset,
# dependence_<dataset>.csv (the input) and dependence_<dataset>.json.
#
# Usage: Rscript benchmarks/metafor_dependence_refs.R OUTDIR [dataset ...]
#   default datasets: dat.assink2016 dat.konstantopoulos2011
# Needs: apt-get install r-cran-metafor r-cran-metadat r-cran-jsonlite r-cran-clubsandwich
#
# Keys (the same as ../shared/validation/metafor/make_refs.R where they overlap):
#   multilevel, multilevel_ML, multilevel_t: rma.mv(yi, vi, random = ~ 1 | <cluster>/<row>)
#     with method REML / ML and test "z" / "t"; sigma2 = [between, within]
#   robust_CR1: robust(rma(yi, vi), cluster = <cluster>)
#   robust_CR2: robust(rma(yi, vi), cluster = <cluster>, clubSandwich = TRUE)
#   subgroups_<column>: as make_refs.R's subgroups()
suppressMessages({library(metafor); library(metadat); library(jsonlite); library(clubSandwich)})
args <- commandArgs(trailingOnly = TRUE)
outdir <- if (length(args) >= 1) args[1] else "tests/data/metafor"
datasets <- if (length(args) >= 2) args[-1] else c("dat.assink2016", "dat.konstantopoulos2011")
dir.create(outdir, showWarnings = FALSE, recursive = TRUE)
num <- function(x) unname(as.numeric(x))

fit_summary <- function(fit) {
  p <- predict(fit)
  list(k = fit$k, estimate = num(fit$beta)[1], se = num(fit$se)[1],
       ci_lb = num(fit$ci.lb)[1], ci_ub = num(fit$ci.ub)[1], pval = num(fit$pval)[1],
       zval = num(fit$zval)[1], tau2 = num(fit$tau2), I2 = num(fit$I2), H2 = num(fit$H2),
       Q = num(fit$QE), Q_p = num(fit$QEp),
       pi_lb = num(p$pi.lb)[1], pi_ub = num(p$pi.ub)[1])
}
# identical to make_refs.R
subgroups <- function(yi, vi, g) {
  g <- as.character(g); out <- list(groups = list())
  est <- c(); se <- c()
  for (lv in sort(unique(g))) {
    sel <- g == lv
    if (sum(sel) < 2) next
    f <- rma(yi[sel], vi[sel], method = "REML")
    out$groups[[lv]] <- fit_summary(f); est <- c(est, f$beta[1]); se <- c(se, f$se)
  }
  qb <- rma(est, sei = se, method = "EE")
  out$between_separate_tau2 <- list(Q = num(qb$QE), df = length(est) - 1, p = num(qb$QEp))
  keep <- g %in% names(out$groups)
  me <- rma(yi[keep], vi[keep], mods = ~ factor(g[keep]), method = "REML")
  out$between_common_tau2 <- list(QM = num(me$QM), df = num(me$QMdf[1]), p = num(me$QMp), tau2 = num(me$tau2))
  out
}
ml_summary <- function(ml) {
  p <- predict(ml)
  list(estimate = num(ml$beta)[1], se = num(ml$se)[1], zval = num(ml$zval)[1],
       pval = num(ml$pval)[1], df = if (ml$test == "t") num(ml$ddf)[1] else NULL,
       ci_lb = num(ml$ci.lb)[1], ci_ub = num(ml$ci.ub)[1],
       pi_lb = num(p$pi.lb)[1], pi_ub = num(p$pi.ub)[1], sigma2 = num(ml$sigma2),
       Q = num(ml$QE), Q_df = ml$k - ml$p, Q_p = num(ml$QEp),
       logLik = num(logLik(ml)), k = ml$k, n_clusters = num(ml$s.nlevels)[1])
}
robust_summary <- function(r, column) {
  list(cluster = column, n_clusters = length(unique(r$cluster)), estimate = num(r$beta)[1],
       se = num(r$se)[1], tval = num(r$zval)[1], df = num(r$ddf)[1], pval = num(r$pval)[1],
       ci_lb = num(r$ci.lb)[1], ci_ub = num(r$ci.ub)[1], tau2 = num(r$tau2))
}

for (ds in datasets) {
  if (ds == "dat.assink2016") {
    d <- dat.assink2016
    input <- d[, c("study", "esid", "id", "yi", "vi", "pubstatus", "year", "deltype")]
    cl_col <- "study"; row_col <- "esid"; sub_col <- "deltype"
  } else if (ds == "dat.konstantopoulos2011") {
    d <- dat.konstantopoulos2011
    input <- d[, c("district", "school", "study", "year", "yi", "vi")]
    cl_col <- "district"; row_col <- "school"; sub_col <- NULL
  } else {
    stop("no recipe for ", ds)
  }
  d$cl <- d[[cl_col]]; d$row <- d[[row_col]]
  ref <- list(dataset = ds, metafor_version = as.character(packageVersion("metafor")),
              clubSandwich_version = as.character(packageVersion("clubSandwich")),
              cluster_column = cl_col, row_column = row_col)
  ref$multilevel <- ml_summary(rma.mv(yi, vi, random = ~ 1 | cl/row, data = d))
  ref$multilevel_ML <- ml_summary(rma.mv(yi, vi, random = ~ 1 | cl/row, data = d, method = "ML"))
  ref$multilevel_t <- ml_summary(rma.mv(yi, vi, random = ~ 1 | cl/row, data = d, test = "t"))
  fit <- rma(yi, vi, data = d)
  ref$robust_CR1 <- robust_summary(robust(fit, cluster = d$cl), cl_col)
  ref$robust_CR2 <- robust_summary(robust(fit, cluster = d$cl, clubSandwich = TRUE), cl_col)
  if (!is.null(sub_col)) ref[[paste0("subgroups_", sub_col)]] <- subgroups(d$yi, d$vi, d[[sub_col]])
  name <- paste0("dependence_", ds)
  write.csv(input, file.path(outdir, paste0(name, ".csv")), row.names = FALSE, na = "")
  writeLines(toJSON(ref, auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null"),
             file.path(outdir, paste0(name, ".json")))
  cat("wrote", name, "\n")
}
