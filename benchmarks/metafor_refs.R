# Reference results from metafor for more metadat datasets, in the JSON layout of
# ../shared/validation/metafor/make_refs.R (pooled and metareg entries), plus:
#   - se_tau2 in every pooled entry,
#   - metareg_<x> with the residual I2/H2/QE and se_tau2 as well,
#   - methods_metareg_<x>: rma(yi, vi, mods = ~ x) for every method x test,
#   - nointercept_<x>: rma(yi, vi, mods = ~ x - 1) for every method,
#   - confint_REML: confint(rma(yi, vi)) (Q-profile CI of tau^2, tau, I^2, H^2),
#   - exact: REML/ML/PM tau^2 and the Q-profile bounds with tight convergence
#     controls (to check the exact solver, which metafor's defaults stop short of).
# The CSV holds the data with yi and vi (escalc where needed) at 17 significant
# digits, so Python reads exactly the doubles R fitted.
#
# Usage: Rscript benchmarks/metafor_refs.R OUTDIR [dataset ...]
# R is a validation tool, not a dependency: the tests read the committed files.
suppressMessages({library(metafor); library(metadat); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
outdir <- args[1]; dir.create(outdir, showWarnings = FALSE, recursive = TRUE)
num <- function(x) unname(as.numeric(x))
methods <- c("EE", "DL", "REML", "ML", "PM", "HE", "SJ")

fit_summary <- function(fit) {
  p <- predict(fit)
  list(k = fit$k, estimate = num(fit$beta)[1], se = num(fit$se)[1],
       ci_lb = num(fit$ci.lb)[1], ci_ub = num(fit$ci.ub)[1], pval = num(fit$pval)[1],
       zval = num(fit$zval)[1], tau2 = num(fit$tau2), I2 = num(fit$I2), H2 = num(fit$H2),
       Q = num(fit$QE), Q_p = num(fit$QEp),
       pi_lb = if (is.null(p$pi.lb)) "NA" else num(p$pi.lb)[1],
       pi_ub = if (is.null(p$pi.ub)) "NA" else num(p$pi.ub)[1],
       se_tau2 = if (is.na(fit$se.tau2)) "NA" else num(fit$se.tau2))
}
pooled <- function(yi, vi) {
  out <- list()
  for (m in methods) for (t in c("z", "knha")) {
    if (m == "EE" && t == "knha") next
    fit <- try(rma(yi, vi, method = m, test = t), silent = TRUE)
    if (!inherits(fit, "try-error")) out[[paste(m, t, sep = "_")]] <- fit_summary(fit)
  }
  out
}
reg_summary <- function(f) {
  list(coef = num(f$beta), se = num(f$se), pval = num(f$pval), tau2 = num(f$tau2),
       se_tau2 = if (is.na(f$se.tau2)) "NA" else num(f$se.tau2),
       QM = num(f$QM), QMp = num(f$QMp), R2 = if (is.null(f$R2)) "NA" else num(f$R2),
       I2 = num(f$I2), H2 = num(f$H2), QE = num(f$QE), QEp = num(f$QEp))
}
metareg <- function(yi, vi, x) {
  f <- rma(yi, vi, mods = ~ x, method = "REML")
  fk <- rma(yi, vi, mods = ~ x, method = "REML", test = "knha")
  c(reg_summary(f)[c("coef", "se", "pval", "tau2", "QM", "QMp", "R2", "se_tau2", "I2", "H2", "QE", "QEp")],
    list(knha = list(coef = num(fk$beta), se = num(fk$se), pval = num(fk$pval),
                     QM = num(fk$QM), QMp = num(fk$QMp))))
}
methods_metareg <- function(yi, vi, x) {
  out <- list()
  for (m in methods) for (t in c("z", "knha")) {
    if (m == "EE" && t == "knha") next
    f <- try(rma(yi, vi, mods = ~ x, method = m, test = t), silent = TRUE)
    if (!inherits(f, "try-error")) out[[paste(m, t, sep = "_")]] <- reg_summary(f)
  }
  out
}
nointercept <- function(yi, vi, x) {
  out <- list()
  for (m in methods) {
    f <- try(rma(yi, vi, mods = ~ x - 1, method = m), silent = TRUE)
    if (!inherits(f, "try-error")) out[[paste(m, "z", sep = "_")]] <- reg_summary(f)
  }
  out
}
confint_ref <- function(yi, vi, control = list()) {
  ci <- confint(rma(yi, vi, method = "REML"), control = control)$random
  list(tau2 = num(ci["tau^2", ]), tau = num(ci["tau", ]), I2 = num(ci["I^2(%)", ]),
       H2 = num(ci["H^2", ]))
}
exact_ref <- function(yi, vi) {
  tight <- list(threshold = 1e-14, tol = 1e-14, maxiter = 1000)
  list(REML = num(rma(yi, vi, method = "REML", control = tight)$tau2),
       ML = num(rma(yi, vi, method = "ML", control = tight)$tau2),
       PM = num(rma(yi, vi, method = "PM", control = tight)$tau2),
       confint_REML = confint_ref(yi, vi, control = list(tol = 1e-14))$tau2)
}

# dataset -> data frame with yi, vi (and label/moderator columns), measure, moderators
prepare <- function(ds) {
  d <- get(ds)
  switch(ds,
    dat.raudenbush1985 = list(
      input = data.frame(study_id = paste(d$author, d$year), year = d$year, weeks = d$weeks,
                         n_t = d$n1i, n_c = d$n2i, yi = d$yi, vi = d$vi),
      measure = "SMD", mods = c("weeks")),
    dat.molloy2014 = {
      e <- escalc(measure = "ZCOR", ri = ri, ni = ni, data = d)
      list(input = data.frame(study_id = paste(d$authors, d$year), year = d$year, ni = d$ni,
                              ri = d$ri, meanage = d$meanage, quality = d$quality,
                              yi = num(e$yi), vi = num(e$vi)),
           measure = "ZCOR", mods = c("meanage", "quality"))
    },
    dat.li2007 = {
      e <- escalc(measure = "OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = d)
      list(input = data.frame(study_id = d$study, year = d$year, events_t = d$ai, n_t = d$n1i,
                              events_c = d$ci, n_c = d$n2i, yi = num(e$yi), vi = num(e$vi)),
           measure = "OR", mods = c("year"))
    },
    dat.pritz1997 = {
      e <- escalc(measure = "PLO", xi = xi, ni = ni, data = d)
      list(input = data.frame(study_id = d$authors, events = d$xi, n = d$ni,
                              yi = num(e$yi), vi = num(e$vi)),
           measure = "PLO", mods = character(0))
    },
    dat.hine1989 = {
      e <- escalc(measure = "RD", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = d)
      list(input = data.frame(study_id = d$source, events_t = d$ai, n_t = d$n1i,
                              events_c = d$ci, n_c = d$n2i, yi = num(e$yi), vi = num(e$vi)),
           measure = "RD", mods = character(0))
    },
    stop("no recipe for ", ds))
}

datasets <- if (length(args) > 1) args[-1] else
  c("dat.raudenbush1985", "dat.molloy2014", "dat.li2007", "dat.pritz1997", "dat.hine1989")
for (ds in datasets) {
  s <- prepare(ds)
  input <- s$input; yi <- input$yi; vi <- input$vi
  ref <- list(dataset = ds, metafor_version = as.character(packageVersion("metafor")),
              generator = "benchmarks/metafor_refs.R", measure = s$measure)
  ref$pooled <- pooled(yi, vi)
  for (x in s$mods) {
    xv <- input[[x]]; ok <- !is.na(xv)
    ref[[paste0("metareg_", x)]] <- metareg(yi[ok], vi[ok], xv[ok])
    ref[[paste0("methods_metareg_", x)]] <- methods_metareg(yi[ok], vi[ok], xv[ok])
    ref[[paste0("nointercept_", x)]] <- nointercept(yi[ok], vi[ok], xv[ok])
  }
  ref$confint_REML <- confint_ref(yi, vi)
  ref$exact <- exact_ref(yi, vi)
  out <- input
  for (col in names(out)) if (is.double(out[[col]])) out[[col]] <- ifelse(is.na(out[[col]]), NA, sprintf("%.17g", out[[col]]))
  write.csv(out, file.path(outdir, paste0(ds, ".csv")), row.names = FALSE, na = "")
  writeLines(toJSON(ref, auto_unbox = TRUE, digits = NA, pretty = TRUE),
             file.path(outdir, paste0(ds, ".json")))
  cat("wrote", ds, "\n")
}
