# MSTL goldens against R forecast 8.20's mstl() and its forecast (stlf-style: the seasonal
# naive of each seasonal component + a model on the seasonally adjusted series).
# Run from the repository root:  Rscript testdata/models/mstl/make_goldens.R
suppressPackageStartupMessages(library(forecast))
out <- "testdata/models/mstl/"
fmt <- function(v) trimws(formatC(v, digits = 17, format = "g"))

# Series: the first four weeks of taylor (half-hourly electricity demand in England and
# Wales, June-August 2000; Taylor 2003, J. Oper. Res. Soc. 54; R forecast's `taylor`),
# periods 48 (day) and 336 (week); and the same with a Box-Cox lambda of 0.
cases <- list(
  list(name = "taylor4w", x = msts(taylor[1:1344], seasonal.periods = c(48, 336)), lambda = NULL),
  list(name = "taylor4w_log", x = msts(taylor[1:1344], seasonal.periods = c(48, 336)), lambda = 0),
  list(name = "taylor2w_day", x = msts(taylor[1:672], seasonal.periods = c(48)), lambda = NULL),
  list(name = "usaccdeaths", x = USAccDeaths, lambda = NULL)
)

series <- do.call(rbind, lapply(cases, function(cs) {
  p <- if (is.null(attr(cs$x, "msts"))) frequency(cs$x) else attr(cs$x, "msts")
  data.frame(series = cs$name, periods = paste(p, collapse = ";"),
             lambda = if (is.null(cs$lambda)) "NA" else cs$lambda, t = seq_along(cs$x),
             value = fmt(as.numeric(cs$x)))
}))
write.csv(series, paste0(out, "series.csv"), row.names = FALSE, quote = FALSE)

dec <- list(); fc <- list()
for (cs in cases) {
  d <- mstl(cs$x, lambda = cs$lambda)
  cn <- colnames(d)
  df <- data.frame(series = cs$name, t = seq_len(nrow(d)), trend = fmt(d[, "Trend"]),
                   remainder = fmt(d[, "Remainder"]))
  seas <- cn[grepl("Seasonal", cn)]
  # Columns seasonal1, seasonal2 (ascending periods), empty when absent.
  for (k in 1:2) df[[paste0("seasonal", k)]] <- if (k <= length(seas)) fmt(d[, seas[k]]) else "NA"
  dec[[cs$name]] <- df
  # Two cycles of the shortest period: enough to see each seasonal naive repeat.
  h <- 2 * min(if (is.null(attr(cs$x, "msts"))) frequency(cs$x) else attr(cs$x, "msts"))
  for (method in c("ets", "naive", "rwdrift", "arima")) {
    f <- forecast(d, method = method, h = h, level = c(80, 95), lambda = cs$lambda)
    fc[[paste(cs$name, method)]] <- data.frame(series = cs$name, method = method, h = seq_len(h),
      mean = fmt(f$mean), lo80 = fmt(f$lower[, 1]), hi80 = fmt(f$upper[, 1]),
      lo95 = fmt(f$lower[, 2]), hi95 = fmt(f$upper[, 2]), inner = gsub(",", ";", f$method))
  }
}
write.csv(do.call(rbind, dec), paste0(out, "decomposition.csv"), row.names = FALSE, quote = FALSE)
write.csv(do.call(rbind, fc), paste0(out, "forecasts.csv"), row.names = FALSE, quote = FALSE)
