# The R side of the M3 benchmark: R forecast's ets(), auto.arima(), thetaf() and the mean of
# the three on the same series as almanac_m3_bench, written in the same results.csv format.
#
#   Rscript bench/m3/run_r.R M3_CSV [--methods ets,auto.arima,thetaf,comb] [--category MACRO]
#           [--period MONTHLY] [--sample N] [--seed S] [--ids FILE] [--out DIR] [--forecasts]
#
# Series selection is the same as almanac_m3_bench's: filter, sort by id, and with --sample N
# a Fisher-Yates shuffle driven by the Park-Miller generator (x <- 16807 x mod (2^31 - 1),
# seeded with --seed), keeping the first N (exact in doubles). --ids FILE (e.g. the series.txt
# written by almanac_m3_bench) overrides the filters.
#
# Each method is timed per series: `seconds` is the elapsed time of the fit plus the forecast
# (one R process, single-threaded), `cpu_seconds` the CPU time of the same (proc.time()
# user.self + sys.self), which other processes on shared cores disturb less. "comb" is the equal-weight mean of the ets, auto.arima and thetaf point
# forecasts and of their 80/95% bounds (the same rule as almanac's combination with
# intervals = "mean"); its time is the sum of the three. Metrics use the definitions of
# almanac::eval (include/almanac/eval.h): sMAPE = mean 200|y-f|/(|y|+|f|), MASE scaled by the
# in-sample seasonal naive MAE with m = frequency, coverage, Winkler interval score.
# Output in DIR (default ./m3_r_out): results.csv, series.txt, forecasts.csv (--forecasts).
suppressMessages(library(forecast))

args <- commandArgs(trailingOnly = TRUE)
opt <- list(data = NA, methods = "ets,auto.arima,thetaf,comb", category = NA, period = NA, sample = 0,
            seed = 1, ids = NA, out = "m3_r_out", forecasts = FALSE)
i <- 1
while (i <= length(args)) {
  a <- args[i]
  if (a == "--forecasts") {
    opt$forecasts <- TRUE
  } else if (startsWith(a, "--")) {
    key <- substring(a, 3)
    if (!(key %in% names(opt)) || i == length(args)) stop("unknown option or missing value: ", a)
    opt[[key]] <- args[i + 1]
    i <- i + 1
  } else {
    opt$data <- a
  }
  i <- i + 1
}
if (is.na(opt$data)) stop("usage: Rscript run_r.R M3_CSV [options] (see the header of this file)")
methods <- strsplit(opt$methods, ",")[[1]]
known <- c("ets", "auto.arima", "thetaf", "comb")
if (!all(methods %in% known)) stop("unknown method; known: ", paste(known, collapse = ", "))

d <- read.csv(opt$data, stringsAsFactors = FALSE)
info <- unique(d[, c("series_id", "category", "frequency", "period")])
info <- info[order(info$series_id), ]
if (!is.na(opt$ids)) {
  ids <- readLines(opt$ids)
  info <- info[info$series_id %in% ids, ]
} else {
  if (!is.na(opt$category)) info <- info[info$category %in% strsplit(opt$category, ",")[[1]], ]
  if (!is.na(opt$period)) info <- info[info$period %in% strsplit(opt$period, ",")[[1]], ]
  n_sample <- as.integer(opt$sample)
  if (n_sample > 0 && n_sample < nrow(info)) {
    mod <- 2147483647
    state <- as.numeric(opt$seed) %% mod
    if (state == 0) state <- 1
    idx <- seq_len(nrow(info))
    for (k in seq(nrow(info) - 1, 1)) {  # k is the 0-based position i of the C++ loop
      state <- (16807 * state) %% mod
      j <- state %% (k + 1)
      tmp <- idx[k + 1]; idx[k + 1] <- idx[j + 1]; idx[j + 1] <- tmp
    }
    info <- info[sort(idx[seq_len(n_sample)]), ]
  }
}
dir.create(opt$out, showWarnings = FALSE, recursive = TRUE)
writeLines(info$series_id, file.path(opt$out, "series.txt"))

num <- function(x) ifelse(is.na(x), "NA", sprintf("%.10g", x))
score <- function(y, f, lo80, hi80, lo95, hi95, train, m) {
  scale <- mean(abs(diff(train, lag = m)))
  ae <- abs(y - f)
  denom <- abs(y) + abs(f)
  smape <- mean(ifelse(denom == 0, 0, 200 * ae / denom))
  is <- function(lo, hi, level) {
    a <- 1 - level / 100
    mean((hi - lo) + 2 / a * (lo - y) * (y < lo) + 2 / a * (y - hi) * (y > hi))
  }
  is95 <- is(lo95, hi95, 95)
  c(smape = smape, mase = mean(ae) / scale, mape = mean(100 * ae / abs(y)),
    cov80 = mean(lo80 <= y & y <= hi80), cov95 = mean(lo95 <= y & y <= hi95),
    is80 = is(lo80, hi80, 80), is95 = is95, msis95 = is95 / scale)
}

fit_one <- function(method, x, h) {
  start <- proc.time()
  fc <- switch(method,
    ets = forecast(ets(x), h = h, level = c(80, 95)),
    auto.arima = forecast(auto.arima(x), h = h, level = c(80, 95)),
    thetaf = thetaf(x, h = h, level = c(80, 95)))
  used <- proc.time() - start
  list(seconds = used[["elapsed"]], cpu_seconds = used[["user.self"]] + used[["sys.self"]], mean = as.numeric(fc$mean),
       lo80 = as.numeric(fc$lower[, 1]), hi80 = as.numeric(fc$upper[, 1]),
       lo95 = as.numeric(fc$lower[, 2]), hi95 = as.numeric(fc$upper[, 2]))
}

rows <- c()
frows <- c()
base <- setdiff(unique(c(methods[methods != "comb"], if ("comb" %in% methods) c("ets", "auto.arima", "thetaf"))), "comb")
for (k in seq_len(nrow(info))) {
  s <- info[k, ]
  tr <- d[d$series_id == s$series_id & d$split == "train", ]
  te <- d[d$series_id == s$series_id & d$split == "test", ]
  train <- tr$value[order(tr$t)]
  y <- te$value[order(te$t)]
  h <- length(y)
  x <- ts(train, frequency = s$frequency)
  results <- list()
  for (method in base) {
    results[[method]] <- tryCatch(fit_one(method, x, h), error = function(e) list(error = conditionMessage(e)))
  }
  if ("comb" %in% methods) {
    parts <- results[c("ets", "auto.arima", "thetaf")]
    failed <- Filter(function(p) !is.null(p$error), parts)
    if (length(failed) > 0) {
      results$comb <- list(error = paste("component failed:", failed[[1]]$error))
    } else {
      avg <- function(field) Reduce(`+`, lapply(parts, `[[`, field)) / 3
      results$comb <- list(seconds = sum(sapply(parts, `[[`, "seconds")),
                           cpu_seconds = sum(sapply(parts, `[[`, "cpu_seconds")), mean = avg("mean"), lo80 = avg("lo80"),
                           hi80 = avg("hi80"), lo95 = avg("lo95"), hi95 = avg("hi95"))
    }
  }
  for (method in methods) {
    r <- results[[method]]
    prefix <- sprintf("R,%s,%s,%s,%s,%d,%d,%d", method, s$series_id, s$category, s$period, s$frequency,
                      length(train), h)
    if (!is.null(r$error)) {
      rows <- c(rows, paste0(prefix, ",\"error: ", gsub("\"", "'", r$error), "\",NA,NA,NA,NA,NA,NA,NA,NA,NA,NA"))
      next
    }
    sc <- score(y, r$mean, r$lo80, r$hi80, r$lo95, r$hi95, train, s$frequency)
    rows <- c(rows, paste(prefix, "ok", num(r$seconds), paste(num(sc), collapse = ","), num(r$cpu_seconds), sep = ","))
    if (opt$forecasts) {
      frows <- c(frows, sprintf("R,%s,%s,%d,%s,%s,%s,%s,%s,%s", method, s$series_id, seq_len(h), num(y), num(r$mean),
                                num(r$lo80), num(r$hi80), num(r$lo95), num(r$hi95)))
    }
  }
}
writeLines(c("engine,method,series_id,category,period,frequency,n_train,h,status,seconds,smape,mase,mape,cov80,cov95,is80,is95,msis95,cpu_seconds",
             rows), file.path(opt$out, "results.csv"))
if (opt$forecasts) {
  writeLines(c("engine,method,series_id,h,actual,mean,lo80,hi80,lo95,hi95", frows), file.path(opt$out, "forecasts.csv"))
}
cat(sprintf("run_r.R: %d series, methods %s; wrote %s\n", nrow(info), paste(methods, collapse = ","),
            file.path(opt$out, "results.csv")))
