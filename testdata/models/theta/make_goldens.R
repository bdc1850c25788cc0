# Golden values for src/models/theta and src/models/decompose, from R's forecast package.
#
#   cd testdata/models/theta && Rscript make_goldens.R [/work/shared/datasets/m3/m3.csv]
#
# Produced with R 4.2 and forecast 8.20. Writes (all numbers with 17 significant digits):
#   series.csv          series,source,period,t,value     the input series (see README.md)
#   thetaf.csv          series,h,mean,lo80,hi80,lo95,hi95  thetaf(y, h) forecasts
#   thetaf_params.csv   series,n,seasonal,acf_m,threshold,alpha,drift,sigma2,ets_l0
#   decompose.csv       series,i,figure                   decompose(type="multiplicative")$figure
#   decompose_trend.csv series,t,trend                    its centred moving average (NA at the ends)
#   naive2.csv          series,h,mean,lo80,hi80,lo95,hi95  M3 NAIVE2 as in the M4 benchmark code: the
#                       same test with n >= 3m, naive() on seasadj(decompose(y, "multiplicative")),
#                       forecasts and bounds multiplied by the last m seasonal indices
# When series.csv already exists the M3 series are read from it, so the script runs without
# the M3 file.
suppressMessages(library(forecast))
stopifnot(packageVersion("forecast") == "8.20")

args <- commandArgs(trailingOnly = TRUE)
m3_path <- if (length(args) >= 1) args[1] else "/work/shared/datasets/m3/m3.csv"
m3_ids <- c("N2210", "N2216", "N0933", "N0936", "N0249")

fmt <- function(x) ifelse(is.na(x), "NA", sprintf("%.17g", x))

series <- list(
  AirPassengers = list(source = "R datasets", y = AirPassengers),
  USAccDeaths = list(source = "R datasets", y = USAccDeaths),
  Nile = list(source = "R datasets", y = Nile),
  WWWusage = list(source = "R datasets", y = WWWusage)
)
if (file.exists("series.csv")) {
  old <- read.csv("series.csv", stringsAsFactors = FALSE)
  for (id in m3_ids) {
    s <- old[old$series == id, ]
    series[[id]] <- list(source = s$source[1], y = ts(s$value, frequency = s$period[1]))
  }
} else {
  d <- read.csv(m3_path, stringsAsFactors = FALSE)
  for (id in m3_ids) {
    s <- d[d$series_id == id & d$split == "train", ]
    s <- s[order(s$t), ]
    series[[id]] <- list(source = paste0("M3 ", s$category[1], " ", s$period[1], " (train)"),
                         y = ts(s$value, frequency = s$frequency[1]))
  }
}
m3_h <- c(N2210 = 18, N2216 = 18, N0933 = 8, N0936 = 8, N0249 = 6)

rows <- c(); fc_rows <- c(); n2_rows <- c(); par_rows <- c(); dec_rows <- c(); tr_rows <- c()
for (name in names(series)) {
  y <- series[[name]]$y
  m <- frequency(y)
  n <- length(y)
  rows <- c(rows, sprintf("%s,%s,%d,%d,%s", name, series[[name]]$source, m, seq_len(n), fmt(as.numeric(y))))
  h <- if (name %in% names(m3_h)) m3_h[[name]] else if (m > 1) 2 * m else 10
  fc <- thetaf(y, h = h, level = c(80, 95))
  fc_rows <- c(fc_rows, sprintf("%s,%d,%s,%s,%s,%s,%s", name, seq_len(h), fmt(fc$mean), fmt(fc$lower[, 1]),
                                fmt(fc$upper[, 1]), fmt(fc$lower[, 2]), fmt(fc$upper[, 2])))
  # The seasonality test exactly as thetaf runs it.
  acf_m <- NA; thr <- NA; seasonal <- FALSE
  if (m > 1 && !is.constant(y) && n > 2 * m) {
    r <- as.numeric(acf(y, lag.max = m, plot = FALSE)$acf)[-1]
    thr <- qnorm(0.95) * sqrt((1 + 2 * sum(r[-m]^2)) / n)
    acf_m <- r[m]
    seasonal <- abs(acf_m) > thr
  }
  # NAIVE2 (M4 benchmarks' SeasonalityTest: same statistic, needs n >= 3m).
  n2_seasonal <- m > 1 && n >= 3 * m && {
    r <- as.numeric(acf(y, lag.max = m, plot = FALSE)$acf)[-1]
    abs(r[m]) > qnorm(0.95) * sqrt((1 + 2 * sum(r[-m]^2)) / n)
  }
  si <- rep(1, h); xa <- y
  if (n2_seasonal) {
    dec <- decompose(y, type = "multiplicative")
    si <- rep(tail(dec$seasonal, m), trunc(1 + h / m))[1:h]
    xa <- y / dec$seasonal
  }
  nf <- naive(xa, h = h, level = c(80, 95))
  n2_rows <- c(n2_rows, sprintf("%s,%d,%s,%s,%s,%s,%s", name, seq_len(h), fmt(nf$mean * si), fmt(nf$lower[, 1] * si),
                                fmt(nf$upper[, 1] * si), fmt(nf$lower[, 2] * si), fmt(nf$upper[, 2] * si)))
  x <- y
  if (seasonal) x <- seasadj(decompose(y, type = "multiplicative"))
  fit <- ets(x, "ANN", opt.crit = "mse")
  par_rows <- c(par_rows, sprintf("%s,%d,%s,%s,%s,%s,%s,%s,%s", name, n, ifelse(seasonal, "true", "false"), fmt(acf_m),
                                  fmt(thr), fmt(fc$model$alpha), fmt(fc$model$drift), fmt(fc$model$sigma),
                                  fmt(fit$par["l"])))
  if (m > 1 && n >= 2 * m) {
    dec <- decompose(y, type = "multiplicative")
    dec_rows <- c(dec_rows, sprintf("%s,%d,%s", name, seq_len(m), fmt(dec$figure)))
    tr_rows <- c(tr_rows, sprintf("%s,%d,%s", name, seq_len(n), fmt(as.numeric(dec$trend))))
  }
}
writeLines(c("series,source,period,t,value", rows), "series.csv")
writeLines(c("series,h,mean,lo80,hi80,lo95,hi95", fc_rows), "thetaf.csv")
writeLines(c("series,n,seasonal,acf_m,threshold,alpha,drift,sigma2,ets_l0", par_rows), "thetaf_params.csv")
writeLines(c("series,i,figure", dec_rows), "decompose.csv")
writeLines(c("series,h,mean,lo80,hi80,lo95,hi95", n2_rows), "naive2.csv")
writeLines(c("series,t,trend", tr_rows), "decompose_trend.csv")
