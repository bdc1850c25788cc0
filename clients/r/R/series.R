# Series, vintages and real-time views.

as_date_arg <- function(x, name) {
  if (is.null(x)) return(NULL)
  if (inherits(x, "Date")) x <- format(x, "%Y-%m-%d")
  if (!is.character(x) || length(x) != 1L || is.na(x) || !grepl("^[0-9]{4}-[0-9]{2}-[0-9]{2}$", x))
    stop_client(sprintf("`%s` must be one date, a Date or \"YYYY-MM-DD\"", name))
  x
}

parse_time <- function(x) {
  x <- vapply(x, function(v) if (is.null(v) || (length(v) == 1L && is.na(v))) NA_character_ else as.character(v),
              character(1), USE.NAMES = FALSE)
  as.POSIXct(sub("Z$", "", x), format = "%Y-%m-%dT%H:%M:%OS", tz = "UTC")
}

field <- function(rows, name, type = character(1)) {
  na <- switch(typeof(type), character = NA_character_, double = NA_real_, integer = NA_integer_,
               logical = NA)
  vapply(rows, function(r) {
    v <- r[[name]]
    if (is.null(v) || length(v) != 1L) na else methods_as(v, type)
  }, type, USE.NAMES = FALSE)
}

methods_as <- function(v, type) {
  switch(typeof(type), character = as.character(v), double = as.numeric(v),
         integer = as.integer(v), logical = as.logical(v))
}

num_vec <- function(x) {
  if (is.null(x) || length(x) == 0L) return(numeric(0))
  if (is.list(x)) x <- vapply(x, function(v) if (is.null(v)) NA_real_ else as.numeric(v), numeric(1))
  as.numeric(x)
}

chr_vec <- function(x) if (is.null(x) || length(x) == 0L) character(0) else as.character(unlist(x))

series <- function(key, as_of = NULL, as = c("ts", "xts", "tsibble"), client = default_client()) {
  as <- one_of(as, c("ts", "xts", "tsibble"), "as")
  as_of <- as_date_arg(as_of, "as_of")
  j <- api(client, "GET", paste0("/v1/series/", seg(key)), query = list(as_of = as_of))
  meta <- list(key = j$key, frequency = j$frequency, title = j$title, unit = j$unit,
               seasonal_adjustment = j$seasonal_adjustment, source = j$source,
               as_of = if (is.null(j$as_of)) NA_character_ else j$as_of, request_id = j$request_id)
  make_series(chr_vec(j$periods), num_vec(j$values), j$frequency, as = as, meta = meta)
}

series_list <- function(client = default_client()) {
  j <- api(client, "GET", "/v1/series")
  rows <- j$series
  data.frame(key = field(rows, "key"), frequency = field(rows, "frequency"),
             title = field(rows, "title"), unit = field(rows, "unit"),
             seasonal_adjustment = field(rows, "seasonal_adjustment"),
             source = field(rows, "source"), stringsAsFactors = FALSE)
}

vintages <- function(key, client = default_client()) {
  j <- api(client, "GET", paste0("/v1/series/", seg(key), "/vintages"))
  rows <- j$vintages
  df <- data.frame(id = field(rows, "id", numeric(1)),
                   realtime_start = as.Date(field(rows, "realtime_start")),
                   loaded_at = parse_time(lapply(rows, `[[`, "loaded_at")),
                   loader = field(rows, "loader"), source = field(rows, "source"),
                   source_sha256 = field(rows, "source_sha256"), kind = field(rows, "kind"),
                   observations = field(rows, "observations", integer(1)),
                   stringsAsFactors = FALSE)
  attr(df, "key") <- j$key
  df
}

history <- function(key, period, client = default_client()) {
  if (inherits(period, "Date")) period <- format(period, "%Y-%m-%d")
  if (!is.character(period) || length(period) != 1L || is.na(period) || !nzchar(period))
    stop_client("`period` must be one period, e.g. \"2009Q3\", \"2024-03\" or a Date")
  j <- api(client, "GET", paste0("/v1/series/", seg(key), "/history"), query = list(period = period))
  df <- data.frame(vintage = num_vec(j$vintages), realtime_start = as.Date(chr_vec(j$realtime_start)),
                   loaded_at = parse_time(as.list(j$loaded_at)), value = num_vec(j$values),
                   stringsAsFactors = FALSE)
  attr(df, "key") <- j$key
  attr(df, "frequency") <- j$frequency
  attr(df, "period") <- j$period
  df
}

vintage_matrix <- function(key, limit = NULL, client = default_client()) {
  if (!is.null(limit) && (!is.numeric(limit) || length(limit) != 1L || is.na(limit) || limit < 1))
    stop_client("`limit` must be one number >= 1")
  j <- api(client, "GET", paste0("/v1/series/", seg(key), "/vintage-matrix"),
           query = list(limit = if (is.null(limit)) NULL else as.integer(limit)))
  periods <- chr_vec(j$periods)
  dates <- chr_vec(j$vintages)
  cols <- lapply(j$values, num_vec)
  m <- matrix(if (length(cols)) unlist(cols) else numeric(0), nrow = length(periods),
              ncol = length(dates), dimnames = list(periods, dates))
  attr(m, "key") <- j$key
  attr(m, "frequency") <- j$frequency
  attr(m, "vintages_total") <- j$vintages_total
  attr(m, "truncated") <- isTRUE(j$truncated)
  m
}

snapshot <- function(id, as = c("ts", "xts", "tsibble"), client = default_client()) {
  as <- one_of(as, c("ts", "xts", "tsibble"), "as")
  if (!is.character(id) || length(id) != 1L || !grepl("^[0-9a-f]{6,64}$", id))
    stop_client("`id` must be a snapshot content id: 64 lowercase hex digits, or a unique prefix of at least 6")
  j <- api(client, "GET", paste0("/v1/snapshots/", id))
  out <- lapply(j$series, function(s)
    make_series(chr_vec(s$periods), num_vec(s$values), s$frequency, as = as,
                meta = list(key = s$key, frequency = s$frequency, snapshot_id = j$id)))
  names(out) <- vapply(j$series, function(s) s$key, character(1))
  attr(out, "almanac") <- list(id = j$id, name = j$name,
                               as_of = if (is.null(j$as_of)) NA_character_ else j$as_of,
                               created_at = parse_time(list(j$created_at)), created_by = j$created_by,
                               request_id = j$request_id)
  class(out) <- c("almanac_snapshot", "list")
  out
}

print.almanac_snapshot <- function(x, ...) {
  a <- attr(x, "almanac")
  cat(sprintf("<almanac snapshot %s> %s, as of %s, %d series: %s\n", substr(a$id, 1, 12), a$name,
              if (is.na(a$as_of)) "latest" else a$as_of, length(x), paste(names(x), collapse = ", ")))
  invisible(x)
}
