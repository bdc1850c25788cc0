# Golden values for the arima / auto_arima models, from R 4.2 with forecast 8.20.
#
#   cd testdata/models/arima && Rscript make_goldens.R
#
# Writes goldens.json (read by src/models/arima/*_test.cc). The series are R's datasets
# (AirPassengers, USAccDeaths, WWWusage, lynx, LakeHuron, Nile) and the M3 MACRO series in
# m3_macro_sample.csv (see README.md). No JSON package is needed: a small writer is below.
suppressMessages(library(forecast))
stopifnot(packageVersion("forecast") == "8.20")

num <- function(x) {
  if (length(x) == 0) return("[]")
  s <- ifelse(is.na(x), "null", ifelse(is.infinite(x), ifelse(x > 0, "\"Infinity\"", "\"-Infinity\""),
                                       sprintf("%.17g", x)))
  if (length(x) == 1) s else paste0("[", paste(s, collapse = ","), "]")
}
numv <- function(x) if (length(x) == 1) paste0("[", num(x), "]") else num(x)
str1 <- function(x) paste0("\"", x, "\"")
obj <- function(...) {
  kv <- list(...)
  paste0("{", paste(paste0(str1(names(kv)), ":", unlist(kv)), collapse = ","), "}")
}
arr <- function(items) paste0("[", paste(unlist(items), collapse = ",\n"), "]")

series <- list(
  air = list(x = AirPassengers, m = 12),
  logair = list(x = log(AirPassengers), m = 12),
  usacc = list(x = USAccDeaths, m = 12),
  www = list(x = WWWusage, m = 1),
  lynx = list(x = lynx, m = 1),
  huron = list(x = LakeHuron, m = 1),
  nile = list(x = Nile, m = 1)
)
m3 <- read.csv("m3_macro_sample.csv", stringsAsFactors = FALSE)
for (id in unique(m3$series_id)) {
  d <- m3[m3$series_id == id, ]
  d <- d[order(d$t), ]
  series[[id]] <- list(x = ts(d$value, frequency = d$frequency[1]), m = d$frequency[1])
}
# A series with missing values inside.
la <- log(AirPassengers)
la[c(10, 50, 51, 100)] <- NA
series$logair_na <- list(x = la, m = 12)

series_json <- arr(lapply(names(series), function(nm) obj(name = str1(nm), m = num(series[[nm]]$m),
                                                           y = numv(as.numeric(series[[nm]]$x)))))

fc_json <- function(f, h) {
  fc <- forecast(f, h = h, level = c(80, 95))
  obj(h = num(h), mean = numv(as.numeric(fc$mean)),
      lower80 = numv(as.numeric(fc$lower[, 1])), upper80 = numv(as.numeric(fc$upper[, 1])),
      lower95 = numv(as.numeric(fc$lower[, 2])), upper95 = numv(as.numeric(fc$upper[, 2])))
}
fit_json <- function(f) {
  obj(method = str1(forecast:::arima.string(f)),
      arma = numv(f$arma),
      coef_names = if (length(f$coef)) paste0("[", paste(str1(names(f$coef)), collapse = ","), "]") else "[]",
      coef = numv(unname(f$coef)),
      se = numv(if (length(f$var.coef)) sqrt(diag(f$var.coef)) else numeric()),
      loglik = num(f$loglik), aic = num(f$aic), aicc = num(f$aicc), bic = num(f$bic),
      sigma2 = num(f$sigma2), nobs = num(f$nobs),
      fitted = numv(as.numeric(fitted(f))))
}

# Fixed-order fits: (case name, series, Arima arguments).
cases <- list(
  list("logair_airline", "logair", list(order = c(0, 1, 1), seasonal = c(0, 1, 1))),
  list("logair_sar", "logair", list(order = c(2, 1, 0), seasonal = c(1, 1, 0))),
  list("air_211_010", "air", list(order = c(2, 1, 1), seasonal = c(0, 1, 0))),
  list("air_111_011_ml", "air", list(order = c(1, 1, 1), seasonal = c(0, 1, 1), method = "ML")),
  list("usacc_airline", "usacc", list(order = c(0, 1, 1), seasonal = c(0, 1, 1))),
  list("usacc_100_011_drift", "usacc", list(order = c(1, 0, 0), seasonal = c(0, 1, 1), include.drift = TRUE)),
  list("www_111", "www", list(order = c(1, 1, 1))),
  list("www_310_css", "www", list(order = c(3, 1, 0), method = "CSS")),
  list("www_111_fixed_ar", "www", list(order = c(1, 1, 1), fixed = c(0.5, NA))),
  list("lynx_200", "lynx", list(order = c(2, 0, 0))),
  list("lynx_201", "lynx", list(order = c(2, 0, 1))),
  list("huron_101_drift", "huron", list(order = c(1, 0, 1), include.drift = TRUE)),
  list("huron_200", "huron", list(order = c(2, 0, 0))),
  list("nile_011_drift", "nile", list(order = c(0, 1, 1), include.drift = TRUE)),
  list("nile_111", "nile", list(order = c(1, 1, 1))),
  list("nile_011_constant", "nile", list(order = c(0, 1, 1), include.constant = TRUE)),
  list("nile_100_zero_mean", "nile", list(order = c(1, 0, 0), include.mean = FALSE)),
  list("q970_110_011", "N0970", list(order = c(1, 1, 0), seasonal = c(0, 1, 1))),
  list("q1010_011_011", "N1010", list(order = c(0, 1, 1), seasonal = c(0, 1, 1))),
  list("m2231_111_011", "N2231", list(order = c(1, 1, 1), seasonal = c(0, 1, 1))),
  list("m2311_210_110_drift", "N2311", list(order = c(2, 1, 0), seasonal = c(1, 0, 0), include.drift = TRUE)),
  list("y249_022", "N0249", list(order = c(0, 2, 2))),
  list("y289_110_drift", "N0289", list(order = c(1, 1, 0), include.drift = TRUE)),
  list("logair_na_airline", "logair_na", list(order = c(0, 1, 1), seasonal = c(0, 1, 1)))
)
fixed_json <- arr(lapply(cases, function(cs) {
  s <- series[[cs[[2]]]]
  f <- do.call(Arima, c(list(y = s$x), cs[[3]]))
  a <- cs[[3]]
  args <- obj(order = numv(a$order), seasonal = numv(if (is.null(a$seasonal)) c(0, 0, 0) else a$seasonal),
              include_mean = if (is.null(a$include.mean)) "true" else tolower(a$include.mean),
              include_drift = if (is.null(a$include.drift)) "false" else tolower(a$include.drift),
              include_constant = if (is.null(a$include.constant)) "null" else tolower(a$include.constant),
              method = str1(if (is.null(a$method)) "CSS-ML" else a$method),
              fixed = if (is.null(a$fixed)) "null" else numv(a$fixed))
  obj(name = str1(cs[[1]]), series = str1(cs[[2]]), args = args, fit = fit_json(f),
      forecast = fc_json(f, if (s$m > 1) 2 * s$m else 10))
}))

auto_names <- c("air", "logair", "usacc", "www", "lynx", "huron", "nile",
                "N0249", "N0289", "N0329", "N0970", "N1010", "N1130", "N1250",
                "N2231", "N2311", "N2391", "N2471", "logair_na")
auto_json <- arr(lapply(auto_names, function(nm) {
  s <- series[[nm]]
  f <- auto.arima(s$x)
  obj(name = str1(nm), fit = fit_json(f), forecast = fc_json(f, if (s$m > 1) 2 * s$m else 10))
}))
# A non-stepwise search on two short series.
full_json <- arr(lapply(c("N0249", "N0970"), function(nm) {
  s <- series[[nm]]
  f <- auto.arima(s$x, stepwise = FALSE)
  obj(name = str1(nm), fit = fit_json(f), forecast = fc_json(f, if (s$m > 1) 2 * s$m else 10))
}))

# The CSS approximation during the search (R's default when n > 150 or m > 12).
approx_json <- arr(lapply(c("logair", "usacc", "nile", "N2231"), function(nm) {
  s <- series[[nm]]
  f <- auto.arima(s$x, approximation = TRUE)
  obj(name = str1(nm), fit = fit_json(f), forecast = fc_json(f, if (s$m > 1) 2 * s$m else 10))
}))

# Differencing tests and their ingredients.
kpss_stat <- function(x) {
  x <- as.numeric(na.omit(as.numeric(x)))
  urca::ur.kpss(x, type = "mu", use.lag = trunc(3 * sqrt(length(x)) / 13))@teststat
}
test_json <- arr(lapply(names(series), function(nm) {
  s <- series[[nm]]
  x <- s$x
  strength <- if (s$m > 1 && length(x) > 2 * s$m) forecast:::seas.heuristic(x) else NA
  obj(name = str1(nm), kpss = num(kpss_stat(x)), kpss_diff1 = num(kpss_stat(diff(na.omit(as.numeric(x))))),
      ndiffs = num(ndiffs(x)), nsdiffs = num(if (s$m > 1) nsdiffs(x) else 0),
      seas_strength = num(strength))
}))
stl_json <- arr(lapply(c("air", "usacc", "N0970", "N2231"), function(nm) {
  x <- series[[nm]]$x
  f <- stl(x, s.window = 11)
  obj(name = str1(nm), seasonal = numv(as.numeric(f$time.series[, "seasonal"])),
      trend = numv(as.numeric(f$time.series[, "trend"])))
}))
# Exact stationary state covariances (R's Rossignol 2011 method) for a few ARMA models.
q0_cases <- list(list(c(0.5, -0.3), c(0.4)), list(numeric(), c(-0.4, 0, 0.2)),
                 list(c(0.9), numeric()), list(c(0.2, 0.1, -0.3), c(0.5, 0.25, 0.1, -0.2)))
q0_json <- arr(lapply(q0_cases, function(cs) {
  P <- makeARIMA(cs[[1]], cs[[2]], numeric(), SSinit = "Rossignol2011")$Pn
  obj(phi = numv(cs[[1]]), theta = numv(cs[[2]]), q0 = numv(as.numeric(t(P))))
}))

out <- paste0("{\"generator\":\"make_goldens.R, R ", getRversion(), ", forecast ", packageVersion("forecast"), "\",\n",
              "\"series\":", series_json, ",\n\"arima\":", fixed_json, ",\n\"auto_arima\":", auto_json,
              ",\n\"auto_arima_full\":", full_json, ",\n\"auto_arima_approx\":", approx_json, ",\n\"tests\":", test_json, ",\n\"stl\":", stl_json,
              ",\n\"q0\":", q0_json, "}\n")
writeLines(out, "goldens.json")
cat("wrote goldens.json\n")
