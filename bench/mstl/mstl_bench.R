# R forecast's mstl() + forecast() on the same series and settings as mstl_bench.cc.
#   Rscript bench/mstl/mstl_bench.R [REPS]   (from the repository root)
suppressPackageStartupMessages(library(forecast))
args <- commandArgs(trailingOnly = TRUE)
reps <- if (length(args) > 0) as.integer(args[1]) else 20
s <- read.csv("testdata/models/mstl/series.csv")
x <- msts(s$value[s$series == "taylor4w"], seasonal.periods = c(48, 336))
for (method in c("naive", "ets")) {
  t <- sapply(seq_len(reps), function(i) system.time(forecast(mstl(x), method = method, h = 96))[["elapsed"]] * 1000)
  cat(sprintf("R mstl method=%s n=%d periods=48,336 h=96: best %.2f ms, mean %.2f ms over %d\n",
              method, length(x), min(t), mean(t), reps))
}
