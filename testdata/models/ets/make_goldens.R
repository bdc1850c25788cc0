# Golden values for almanac's ETS (src/models/ets) from R's forecast package.
#
#   Rscript testdata/models/ets/make_goldens.R        (from the repository root)
#
# Needs R >= 4.2 with forecast 8.20. Reads the M3 series listed below from m3_subset.csv
# (extracted once from the M3 data, see README.md; set M3_CSV to the tidy m3.csv to
# re-extract) and writes:
#   series.csv     name,period,t,value           the input series (NA = missing)
#   fits.tsv       one row per case: the spec almanac runs (JSON), R's selected model,
#                  parameters, information criteria, sigma2, initial states
#   forecasts.csv  case,h,mean,lo80,hi80,lo95,hi95
suppressMessages(library(forecast))
stopifnot(packageVersion("forecast") == "8.20")
out_dir <- "testdata/models/ets"

# ---- series -----------------------------------------------------------------------------
m3_ids <- c(N0250 = "YEARLY", N0251 = "YEARLY", N0290 = "YEARLY", N0934 = "QUARTERLY",
            N1100 = "QUARTERLY", N2211 = "MONTHLY", N2400 = "MONTHLY")
subset_file <- file.path(out_dir, "m3_subset.csv")
m3_csv <- Sys.getenv("M3_CSV", "")
if (nzchar(m3_csv)) {
  m3 <- read.csv(m3_csv, stringsAsFactors = FALSE)
  m3 <- m3[m3$series_id %in% names(m3_ids) & m3$split == "train",
           c("series_id", "category", "frequency", "period", "t", "value")]
  write.csv(m3, subset_file, row.names = FALSE, quote = FALSE)
}
m3 <- read.csv(subset_file, stringsAsFactors = FALSE)

series <- list(AirPassengers = AirPassengers, USAccDeaths = USAccDeaths, WWWusage = WWWusage,
               lynx = lynx, UKgas = UKgas, nottem = nottem)
for (id in names(m3_ids)) {
  d <- m3[m3$series_id == id, ]
  d <- d[order(d$t), ]
  series[[id]] <- ts(d$value, frequency = d$frequency[1])
}
# Missing values: the longest stretch is the last one (NA at 30), or not (NA at 100).
ap_na_last <- AirPassengers; ap_na_last[30] <- NA
ap_na_mid <- AirPassengers; ap_na_mid[100] <- NA
series$AirPassengersNA30 <- ap_na_last
series$AirPassengersNA100 <- ap_na_mid
# Too short for maximum likelihood: R's Holt-Winters fallbacks.
series$WWWusage6 <- ts(WWWusage[1:6], frequency = 1)
series$USAccDeaths26 <- ts(USAccDeaths[1:26], frequency = 12)
series$UKgas8 <- ts(UKgas[1:8], frequency = 4)

rows <- list()
for (nm in names(series)) {
  y <- series[[nm]]
  rows[[nm]] <- data.frame(name = nm, period = frequency(y), t = seq_along(y),
                           value = ifelse(is.na(y), "NA", sprintf("%.17g", as.numeric(y))))
}
write.table(do.call(rbind, rows), file.path(out_dir, "series.csv"), sep = ",", row.names = FALSE,
            quote = FALSE)

# ---- cases ------------------------------------------------------------------------------
# Each case: the series, the R arguments, and the almanac spec they correspond to.
auto <- function(s, ...) list(series = s, type = "auto_ets", args = list(...))
fixed <- function(s, model, ...) list(series = s, type = "ets", args = list(model = model, ...))
cases <- list()
for (nm in names(series)) cases[[paste0("auto_", nm)]] <- auto(nm)
cases$auto_UKgas_bic <- auto("UKgas", ic = "bic")
cases$auto_AirPassengers_additive <- auto("AirPassengers", additive.only = TRUE)
cases$auto_AirPassengers_multrend <- auto("AirPassengers", allow.multiplicative.trend = TRUE)
cases$auto_N0934_usual <- auto("N0934", bounds = "usual")
cases$ANN_AirPassengers <- fixed("AirPassengers", "ANN")
cases$AAdN_AirPassengers <- fixed("AirPassengers", "AAN", damped = TRUE)
cases$MAM_AirPassengers <- fixed("AirPassengers", "MAM", damped = FALSE)
cases$MNM_AirPassengers <- fixed("AirPassengers", "MNM")
cases$AAA_USAccDeaths <- fixed("USAccDeaths", "AAA", damped = FALSE)
cases$MAA_USAccDeaths <- fixed("USAccDeaths", "MAA")
cases$ANA_nottem <- fixed("nottem", "ANA")
cases$MAdM_UKgas <- fixed("UKgas", "MAM", damped = TRUE)
cases$MMN_WWWusage <- fixed("WWWusage", "MMN", damped = FALSE)
cases$MAN_WWWusage <- fixed("WWWusage", "MAN", damped = FALSE)
cases$MAdN_N2400 <- fixed("N2400", "MAN", damped = TRUE)
cases$MNN_lynx <- fixed("lynx", "MNN")
cases$AAN_N0250 <- fixed("N0250", "AAN", damped = FALSE)
cases$ANN_fixed_alpha <- fixed("USAccDeaths", "ANN", alpha = 0.5)
cases$AAdN_fixed_phi <- fixed("WWWusage", "AAN", damped = TRUE, phi = 0.9)
cases$ANN_mse <- fixed("WWWusage", "ANN", opt.crit = "mse")
cases$AAN_amse <- fixed("WWWusage", "AAN", damped = FALSE, opt.crit = "amse", nmse = 3)
cases$AAA_UKgas8 <- fixed("UKgas8", "AAA")
cases$MAM_UKgas8 <- fixed("UKgas8", "MAM")
cases$AAN_WWWusage6 <- fixed("WWWusage6", "AAN")
cases$ANM_unrestricted <- fixed("AirPassengers", "ANM", restrict = FALSE)
cases$MAM_admissible <- fixed("AirPassengers", "MAM", damped = FALSE, bounds = "admissible")

to_json <- function(type, args) {
  names_map <- c(opt.crit = "opt_crit", additive.only = "additive_only",
                 allow.multiplicative.trend = "allow_multiplicative_trend")
  parts <- character(0)
  for (k in names(args)) {
    v <- args[[k]]
    key <- if (k %in% names(names_map)) names_map[[k]] else k
    val <- if (is.character(v)) sprintf("\"%s\"", v) else if (is.logical(v)) tolower(as.character(v))
           else sprintf("%.17g", v)
    parts <- c(parts, sprintf("\"%s\":%s", key, val))
  }
  sprintf("{\"type\":\"%s\",\"params\":{%s}}", type, paste(parts, collapse = ","))
}
num <- function(x) if (is.null(x) || length(x) == 0 || is.na(x)) "NA" else sprintf("%.17g", x)

fit_rows <- character(0)
fc_rows <- character(0)
for (cn in names(cases)) {
  cs <- cases[[cn]]
  y <- series[[cs$series]]
  fit <- do.call(ets, c(list(y = y), cs$args))
  # Observations after the fitted stretch (missing values): almanac forecasts from the end of
  # the input, so R's forecasts are extended by this many steps and the first ones dropped.
  offset <- round((tsp(y)[2] - tsp(fit$x)[2]) * frequency(y))
  h <- if (frequency(y) > 1) 2 * frequency(y) else 10
  set.seed(2026)  # simulated intervals (multiplicative trends) are reproducible
  fc <- forecast(fit, h = h + offset, level = c(80, 95))
  par <- fit$par
  init <- fit$initstate
  fallback <- is.null(fit$loglik)
  comps <- fit$components
  interval <- if ((comps[1] == "A" && comps[2] %in% c("A", "N") && comps[3] %in% c("A", "N")) ||
                  (comps[1] == "M" && comps[2] %in% c("A", "N") && comps[3] %in% c("A", "N")) ||
                  (comps[1] == "M" && comps[3] == "M" && comps[2] != "M")) "analytic" else "simulated"
  fit_rows <- c(fit_rows, paste(cn, cs$series, to_json(cs$type, cs$args), fit$method,
                                num(par["alpha"]), num(par["beta"]), num(par["gamma"]), num(par["phi"]),
                                num(fit$loglik), num(fit$aic), num(fit$aicc), num(fit$bic),
                                num(fit$sigma2), length(fit$x), offset,
                                paste(sprintf("%.17g", init), collapse = ";"), interval,
                                as.integer(fallback), sep = "\t"))
  idx <- (offset + 1):(offset + h)
  fc_rows <- c(fc_rows, sprintf("%s,%d,%.17g,%.17g,%.17g,%.17g,%.17g", cn, seq_len(h),
                                fc$mean[idx], fc$lower[idx, 1], fc$upper[idx, 1], fc$lower[idx, 2],
                                fc$upper[idx, 2]))
}
writeLines(c(paste("case", "series", "spec", "method", "alpha", "beta", "gamma", "phi", "loglik", "aic",
                   "aicc", "bic", "sigma2", "nobs", "offset", "init", "interval", "fallback", sep = "\t"),
             fit_rows), file.path(out_dir, "fits.tsv"))
writeLines(c("case,h,mean,lo80,hi80,lo95,hi95", fc_rows), file.path(out_dir, "forecasts.csv"))
cat("wrote", length(fit_rows), "cases\n")
