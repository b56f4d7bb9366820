# Reference results from metafor for the two tests for subgroup differences, under
# z and Knapp-Hartung inference, with the REML and DL estimators of tau^2.
#
# For each dataset, subgrouping column, method, test and min_k, the JSON holds what
# evsynth.meta.subgroups.subgroup_analysis() returns:
#   - groups: one rma(yi, vi, method, test) per subgroup with at least min_k
#     studies (metafor itself switches a subgroup of one study to test = "z"),
#   - between_separate_tau2: the subgroups' z-based estimates and SEs
#     (rma(..., test = "z") per subgroup, whatever the analysis's test, as RevMan
#     and R's meta use), combined by rma(b, sei = se, method = "FE"): QE on m - 1
#     df with its chi-squared p,
#   - between_common_tau2: rma(yi, vi, mods = ~ factor(g), method, test) on the
#     studies of the fitted subgroups: QM, its df and p (under test = "knha"
#     metafor's F test: F = QM, df1, df2 and the p of the F distribution),
#   - skipped: subgroups with fewer than min_k studies.
# The CSV holds the data (yi, vi at 17 significant digits, so Python reads exactly
# the doubles R fitted) and the subgrouping column.
#
# Usage: Rscript benchmarks/metafor_subgroup_refs.R OUTDIR
# R is a validation tool, not a dependency: the tests read the committed files
# (tests/data/metafor/subgroups_*.json and .csv).
suppressMessages({library(metafor); library(metadat); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
outdir <- args[1]; dir.create(outdir, showWarnings = FALSE, recursive = TRUE)
num <- function(x) unname(as.numeric(x))

fit_summary <- function(fit) {
  p <- predict(fit)
  list(k = fit$k, estimate = num(fit$beta)[1], se = num(fit$se)[1],
       ci_lb = num(fit$ci.lb)[1], ci_ub = num(fit$ci.ub)[1], pval = num(fit$pval)[1],
       zval = num(fit$zval)[1], tau2 = num(fit$tau2), I2 = num(fit$I2), H2 = num(fit$H2),
       Q = num(fit$QE), Q_p = num(fit$QEp),
       pi_lb = num(p$pi.lb)[1], pi_ub = num(p$pi.ub)[1])
}

subgroups <- function(yi, vi, g, method, test, min_k) {
  g <- as.character(g)
  groups <- list(); separate <- list(); skipped <- character(0)
  for (lv in sort(unique(g))) {
    sel <- g == lv
    if (sum(sel) < min_k) { skipped <- c(skipped, lv); next }
    # k = 1: metafor warns 'Setting argument test="z" since k=1.'
    fit <- suppressWarnings(rma(yi[sel], vi[sel], method = method, test = test))
    groups[[lv]] <- fit_summary(fit)
    fz <- suppressWarnings(rma(yi[sel], vi[sel], method = method, test = "z"))
    separate[[lv]] <- list(estimate = num(fz$beta), se = num(fz$se))
  }
  b <- sapply(separate, function(s) s$estimate)
  se <- sapply(separate, function(s) s$se)
  qb <- rma(b, sei = se, method = "FE")
  keep <- g %in% names(groups)
  me <- rma(yi[keep], vi[keep], mods = ~ factor(g[keep]), method = method, test = test)
  common <- list(QM = num(me$QM), df = num(me$QMdf[1]), p = num(me$QMp),
                 tau2 = num(me$tau2))
  if (test == "knha")
    common <- c(common, list(F = num(me$QM), df1 = num(me$QMdf[1]), df2 = num(me$QMdf[2])))
  list(groups = groups,
       between_separate_tau2 = list(Q = num(qb$QE), df = num(qb$k - 1), p = num(qb$QEp),
                                    subgroups = separate),
       between_common_tau2 = common,
       skipped = I(skipped))
}

# dataset -> data frame with yi, vi and the subgrouping column; the min_k to use
prepare <- function(ds) {
  d <- get(ds)
  switch(ds,
    dat.bcg = {
      e <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = d)
      list(input = data.frame(study_id = paste(d$author, d$year), yi = num(e$yi),
                              vi = num(e$vi), alloc = d$alloc),
           measure = "RR", column = "alloc", min_k = 2)
    },
    dat.curtis1998 = {
      e <- escalc(measure = "SMD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i,
                  sd2i = sd2i, n2i = n2i, data = d)
      list(input = data.frame(study_id = paste0("id", d$id), yi = num(e$yi),
                              vi = num(e$vi), fungrp = d$fungrp),
           measure = "SMD", column = "fungrp", min_k = 2)
    },
    # Color_Form has a subgroup of one study (Dot): fitted with min_k = 1,
    # skipped (and left out of both tests) with min_k = 2
    dat.lehmann2018 = list(
      input = data.frame(study_id = sprintf("s%02d", seq_len(nrow(d))), yi = d$yi,
                         vi = d$vi, Color_Form = d$Color_Form),
      measure = "SMD", column = "Color_Form", min_k = c(1, 2)),
    # small subgroups (indiv: 3 studies) where Knapp-Hartung changes the SEs
    dat.raudenbush1985 = list(
      input = data.frame(study_id = paste(d$author, d$year), yi = d$yi, vi = d$vi,
                         setting = d$setting),
      measure = "SMD", column = "setting", min_k = 2),
    stop("no recipe for ", ds))
}

for (ds in c("dat.bcg", "dat.curtis1998", "dat.lehmann2018", "dat.raudenbush1985")) {
  s <- prepare(ds)
  input <- s$input
  ref <- list(dataset = ds, metafor_version = as.character(packageVersion("metafor")),
              generator = "benchmarks/metafor_subgroup_refs.R", measure = s$measure,
              column = s$column, cases = list())
  for (min_k in s$min_k) for (method in c("REML", "DL")) for (test in c("z", "knha")) {
    key <- paste(method, test, paste0("min", min_k), sep = "_")
    ref$cases[[key]] <- list(method = method, test = test, min_k = min_k,
                             result = subgroups(input$yi, input$vi, input[[s$column]],
                                                method, test, min_k))
  }
  out <- input
  for (col in c("yi", "vi")) out[[col]] <- sprintf("%.17g", out[[col]])
  write.csv(out, file.path(outdir, paste0("subgroups_", ds, ".csv")), row.names = FALSE)
  writeLines(toJSON(ref, auto_unbox = TRUE, digits = NA, pretty = TRUE),
             file.path(outdir, paste0("subgroups_", ds, ".json")))
  cat("wrote", ds, "\n")
}
