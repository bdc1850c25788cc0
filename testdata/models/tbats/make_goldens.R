# TBATS goldens against R forecast 8.20's tbats() and forecast.tbats().
# Run from the repository root:  Rscript testdata/models/tbats/make_goldens.R
# (use.parallel = FALSE: the serial search is the one almanac follows.)
suppressPackageStartupMessages(library(forecast))
out <- "testdata/models/tbats/"
num <- function(v) trimws(formatC(as.numeric(v), digits = 17, format = "g"))
fmt <- function(v) if (length(v) == 0) "NA" else paste(num(v), collapse = ";")

# A weekly series with a non-integer period (52.18 weeks a year): simulated with a fixed seed
# (R's RNG is not reproduced by almanac, so the values themselves are the golden input).
set.seed(2511)
tt <- 1:209
weekly <- 200 + 0.15 * tt + 12 * sin(2 * pi * tt / 52.18) + 5 * cos(4 * pi * tt / 52.18) +
  as.numeric(arima.sim(list(ar = 0.5), n = 209, sd = 3))
cases <- list(
  # Hourly electricity demand: taylor's first four weeks, half-hours summed to hours
  # (672 values), periods 24 (day) and 168 (week).
  list(name = "taylor_hourly", x = colSums(matrix(taylor[1:1344], nrow = 2)), periods = c(24, 168), h = 48),
  # Passed as seasonal.periods: msts() of a single non-integer period returns a plain ts of
  # frequency floor(52.18), which tbats() would take as period 52.
  list(name = "weekly", x = weekly, periods = 52.18, h = 60),
  # Monthly airline passengers, 1949-1960 (R datasets; Box & Jenkins 1976).
  list(name = "airpassengers", x = as.numeric(AirPassengers), periods = 12, h = 24)
)

series <- do.call(rbind, lapply(cases, function(cs) {
  data.frame(series = cs$name, periods = fmt(cs$periods), t = seq_along(cs$x), value = num(cs$x))
}))
write.csv(series, paste0(out, "series.csv"), row.names = FALSE, quote = FALSE)

fits <- list(); fc <- list()
for (cs in cases) {
  fit <- tbats(cs$x, seasonal.periods = cs$periods, use.parallel = FALSE)
  kv <- function(k, v) data.frame(series = cs$name, key = k, value = v)
  fits[[cs$name]] <- rbind(
    kv("method", gsub(",", ";", as.character(fit))),
    kv("seasonal_periods", fmt(fit$seasonal.periods)), kv("k", fmt(fit$k.vector)),
    kv("lambda", fmt(fit$lambda)), kv("alpha", fmt(fit$alpha)), kv("beta", fmt(fit$beta)),
    kv("phi", fmt(fit$damping.parameter)), kv("gamma1", fmt(fit$gamma.one.values)),
    kv("gamma2", fmt(fit$gamma.two.values)), kv("ar", fmt(fit$ar.coefficients)),
    kv("ma", fmt(fit$ma.coefficients)), kv("seed", fmt(fit$seed.states)),
    kv("likelihood", fmt(fit$likelihood)), kv("aic", fmt(fit$AIC)), kv("variance", fmt(fit$variance)),
    kv("fitted_first", fmt(head(as.numeric(fitted(fit)), 5))))
  f <- forecast(fit, h = cs$h, level = c(80, 95))
  fc[[cs$name]] <- data.frame(series = cs$name, h = seq_len(cs$h), mean = num(f$mean),
    lo80 = num(f$lower[, 1]), hi80 = num(f$upper[, 1]), lo95 = num(f$lower[, 2]), hi95 = num(f$upper[, 2]))
  print(fit)
}
write.csv(do.call(rbind, fits), paste0(out, "fits.csv"), row.names = FALSE, quote = FALSE)
write.csv(do.call(rbind, fc), paste0(out, "forecasts.csv"), row.names = FALSE, quote = FALSE)
