# Golden forecasts for src/models/naive (naive, snaive, drift, mean) from R's forecast package.
#
#   cd testdata/models/naive && Rscript make_goldens.R
#
# Produced with R 4.2 and forecast 8.20. Writes (numbers with 17 significant digits, NA for
# missing):
#   series.csv  series,period,t,value                         the inputs (R datasets; NileGaps is
#                                                             Nile with values 10, 11 and 50 removed)
#   naive.csv   series,method,h,mean,lo80,hi80,lo95,hi95      naive(), snaive(), rwf(drift = TRUE),
#                                                             meanf() with level = c(80, 95)
suppressMessages(library(forecast))
stopifnot(packageVersion("forecast") == "8.20")

fmt <- function(x) ifelse(is.na(x), "NA", sprintf("%.17g", x))
nile_gaps <- Nile
nile_gaps[c(10, 11, 50)] <- NA
series <- list(AirPassengers = AirPassengers, USAccDeaths = USAccDeaths, Nile = Nile, WWWusage = WWWusage,
               LakeHuron = LakeHuron, NileGaps = nile_gaps)
methods <- list(
  naive = function(y, h) naive(y, h = h, level = c(80, 95)),
  snaive = function(y, h) snaive(y, h = h, level = c(80, 95)),
  drift = function(y, h) rwf(y, h = h, drift = TRUE, level = c(80, 95)),
  mean = function(y, h) meanf(y, h = h, level = c(80, 95))
)
s_rows <- c(); f_rows <- c()
for (name in names(series)) {
  y <- series[[name]]
  m <- frequency(y)
  s_rows <- c(s_rows, sprintf("%s,%d,%d,%s", name, m, seq_along(y), fmt(as.numeric(y))))
  h <- if (m > 1) 2 * m else 10
  for (method in names(methods)) {
    fc <- methods[[method]](y, h)
    f_rows <- c(f_rows, sprintf("%s,%s,%d,%s,%s,%s,%s,%s", name, method, seq_len(h), fmt(fc$mean), fmt(fc$lower[, 1]),
                                fmt(fc$upper[, 1]), fmt(fc$lower[, 2]), fmt(fc$upper[, 2])))
  }
}
writeLines(c("series,period,t,value", s_rows), "series.csv")
writeLines(c("series,method,h,mean,lo80,hi80,lo95,hi95", f_rows), "naive.csv")
