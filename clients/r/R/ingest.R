# POST /v1/ingest: a data frame of observations pushed as one load (new vintages).

json_str <- function(x) {
  vapply(x, function(s) as.character(jsonlite::toJSON(s, auto_unbox = TRUE)), character(1),
         USE.NAMES = FALSE)
}

# A univariate annual, quarterly or monthly ts as the rows of one series.
ts_rows <- function(x, key) {
  if (is.null(key) || !is.character(key) || length(key) != 1L || is.na(key) || !nzchar(key))
    stop_client("a ts needs `key`: the series to store it as")
  if (!is.null(dim(x)) && ncol(x) != 1L)
    stop_client("a multivariate ts cannot be ingested as one series: give one column, or a data frame")
  f <- stats::frequency(x)
  code <- switch(as.character(f), "1" = "A", "4" = "Q", "12" = "M",
                 stop_client(sprintf("a ts of frequency %g has no almanac period: use a data frame with periods", f)))
  year <- floor(as.numeric(stats::time(x)) + 1e-8)
  season <- as.integer(stats::cycle(x))
  period <- switch(code, A = sprintf("%04d", as.integer(year)),
                   Q = sprintf("%04dQ%d", as.integer(year), season),
                   M = sprintf("%04d-%02d", as.integer(year), season))
  data.frame(series = key, period = period, value = as.numeric(x), frequency = code,
             stringsAsFactors = FALSE)
}

ingest <- function(df, realtime_start = NULL, source = NULL, key = NULL, client = default_client()) {
  if (stats::is.ts(df)) {
    df <- ts_rows(df, key)
  } else if (is.data.frame(df) && !is.null(key)) {
    if ("series" %in% names(df)) stop_client("give `key` or a `series` column, not both")
    if (!is.character(key) || length(key) != 1L || is.na(key)) stop_client("`key` must be one series key")
    df$series <- rep(key, nrow(df))
  }
  if (!is.data.frame(df))
    stop_client("`df` must be a data frame with columns series, period, value (or a ts with `key`)")
  missing <- setdiff(c("series", "period", "value"), names(df))
  if (length(missing))
    stop_client(sprintf("`df` lacks the column%s %s (needed: series, period, value; optional: realtime_start, frequency)",
                        if (length(missing) > 1) "s" else "", paste(missing, collapse = ", ")))
  extra <- setdiff(names(df), c("series", "period", "value", "realtime_start", "frequency"))
  if (length(extra))
    stop_client(sprintf("`df` has unknown column%s %s (allowed: series, period, value, realtime_start, frequency)",
                        if (length(extra) > 1) "s" else "", paste(extra, collapse = ", ")))
  n <- nrow(df)
  if (n == 0L) stop_client("`df` has no rows: nothing to ingest")
  if (!is.numeric(df$value) && !all(is.na(df$value)))
    stop_client("`df$value` must be numeric (NA is sent as null: explicitly missing)")
  value <- as.numeric(df$value)
  bad <- which(is.infinite(value) | is.nan(value))
  if (length(bad)) stop_client(sprintf("`df$value` row %d is not finite", bad[1]))
  if (anyNA(df$series) || anyNA(df$period)) stop_client("`df$series` and `df$period` must not be NA")
  period <- if (inherits(df$period, "Date")) format(df$period, "%Y-%m-%d") else as.character(df$period)
  rs_default <- as_date_arg(realtime_start, "realtime_start")
  rs <- if ("realtime_start" %in% names(df)) {
    r <- df$realtime_start
    r <- if (inherits(r, "Date")) format(r, "%Y-%m-%d") else as.character(r)
    if (!is.null(rs_default)) r[is.na(r)] <- rs_default
    r
  } else rep(if (is.null(rs_default)) NA_character_ else rs_default, n)
  parts <- paste0('{"series":', json_str(as.character(df$series)),
                  ',"period":', json_str(period),
                  ',"value":', ifelse(is.na(value), "null", sprintf("%.17g", value)))
  has_rs <- !is.na(rs)
  parts[has_rs] <- paste0(parts[has_rs], ',"realtime_start":', json_str(rs[has_rs]))
  if ("frequency" %in% names(df)) {
    f <- as.character(df$frequency)
    has_f <- !is.na(f)
    parts[has_f] <- paste0(parts[has_f], ',"frequency":', json_str(f[has_f]))
  }
  body <- paste0(paste0(parts, "}"), collapse = "\n")
  j <- api(client, "POST", "/v1/ingest", query = list(source = source), body = body,
           content_type = "application/x-ndjson")
  v <- j$vintages
  if (!is.null(v))
    j$vintages <- data.frame(series = field(v, "series"),
                             realtime_start = as.Date(field(v, "realtime_start")),
                             observations = field(v, "observations", integer(1)),
                             stringsAsFactors = FALSE)
  j
}
