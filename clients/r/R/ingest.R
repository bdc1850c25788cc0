# POST /v1/ingest: a data frame of observations pushed as one load (new vintages).

json_str <- function(x) {
  vapply(x, function(s) as.character(jsonlite::toJSON(s, auto_unbox = TRUE)), character(1),
         USE.NAMES = FALSE)
}

ingest <- function(df, realtime_start = NULL, source = NULL, client = default_client()) {
  if (!is.data.frame(df)) stop_client("`df` must be a data frame with columns series, period, value")
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
