# R forecast's tbats() + forecast() on the same series and settings as tbats_bench.cc.
#   Rscript bench/tbats/tbats_bench.R [SERIES...]   (from the repository root)
suppressPackageStartupMessages(library(forecast))
args <- commandArgs(trailingOnly = TRUE)
s <- read.csv("testdata/models/tbats/series.csv", stringsAsFactors = FALSE)
names <- if (length(args) > 0) args else c("airpassengers", "weekly", "taylor_hourly")
for (name in names) {
  rows <- s[s$series == name, ]
  p <- as.numeric(strsplit(rows$periods[1], ";")[[1]])
  t <- system.time({
    fit <- tbats(rows$value, seasonal.periods = p, use.parallel = FALSE)
    f <- forecast(fit, h = 48)
  })[["elapsed"]]
  cat(sprintf("R tbats %s n=%d: %s AIC %.4f, %.2f s\n", name, nrow(rows), as.character(fit), fit$AIC, t))
}
