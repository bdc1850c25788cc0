# The registry, tracked runs, lineage and forecasts.

scalar_or_na <- function(v, na = NA) if (is.null(v) || length(v) != 1L) na else v

models <- function(client = default_client()) {
  j <- api(client, "GET", "/v1/models")
  rows <- j$models
  df <- data.frame(name = field(rows, "name"), owner = field(rows, "owner"),
                   description = field(rows, "description"),
                   four_eyes = field(rows, "four_eyes", logical(1)),
                   production = field(rows, "production", integer(1)),
                   staging = field(rows, "staging", integer(1)),
                   versions = field(rows, "versions", integer(1)),
                   stringsAsFactors = FALSE)
  df$served <- lapply(rows, function(r) r$served)
  df
}

run <- function(id, client = default_client()) {
  j <- api(client, "GET", paste0("/v1/runs/", seg(id)))
  for (k in c("start", "end")) j[[k]] <- parse_time(list(j[[k]]))
  if (length(j$artifacts)) {
    a <- j$artifacts
    j$artifacts <- data.frame(name = field(a, "name"), kind = field(a, "kind"),
                              sha256 = field(a, "sha256"), size = field(a, "size", numeric(1)),
                              stringsAsFactors = FALSE)
  }
  structure(j, class = c("almanac_run", "list"))
}

print.almanac_run <- function(x, ...) {
  cat(sprintf("<almanac run %s> pipeline %s, %s, by %s, snapshot %s\n", x$id, x$pipeline, x$status,
              x$user, substr(scalar_or_na(x$snapshot_id, ""), 1, 12)))
  m <- unlist(x$metrics)
  if (length(m)) {
    shown <- utils::head(m, 6)
    cat(sprintf("%d params, %d metrics: %s%s\n", length(x$params), length(m),
                paste(sprintf("%s=%.4g", names(shown), shown), collapse = ", "),
                if (length(m) > length(shown)) ", ..." else ""))
  }
  invisible(x)
}

lineage <- function(model, version, client = default_client()) {
  j <- api(client, "GET", paste0("/v1/lineage/", seg(model), "/", seg(version)))
  v <- j$vintages
  j$vintages <- data.frame(series = field(v, "series"), vintage = field(v, "vintage", numeric(1)),
                           realtime_start = as.Date(field(v, "realtime_start")),
                           loaded_at = parse_time(lapply(v, `[[`, "loaded_at")),
                           source = field(v, "source"), source_sha256 = field(v, "source_sha256"),
                           stringsAsFactors = FALSE)
  structure(j, class = c("almanac_lineage", "list"))
}

print.almanac_lineage <- function(x, ...) {
  cat(sprintf("<almanac lineage %s@%s> stage %s, run %s, snapshot %s, %d vintages, %d approvals\n",
              x$model, x$version, x$stage, x$run$id,
              if (is.null(x$snapshot)) "none" else substr(x$snapshot$id, 1, 12),
              nrow(x$vintages), length(x$approvals)))
  invisible(x)
}

level_name <- function(level) format(level, trim = TRUE, drop0trailing = TRUE)

forecast <- function(model, horizon, as_of = NULL, levels = c(80, 95), version = NULL,
                     alias = NULL, client = default_client()) {
  if (!is.character(model) || length(model) != 1L || !nzchar(model))
    stop_client("`model` must be one model name")
  if (!is.numeric(horizon) || length(horizon) != 1L || is.na(horizon) || horizon < 1 ||
      horizon != round(horizon))
    stop_client("`horizon` must be one whole number >= 1")
  req <- list(model = model, horizon = as.integer(horizon))
  if (!is.null(version)) req$version <- as.integer(version)
  if (!is.null(alias)) req$alias <- alias
  if (!is.null(levels)) {
    if (!is.numeric(levels) || anyNA(levels)) stop_client("`levels` must be numbers in (0, 100)")
    req$levels <- I(as.numeric(levels))
  }
  if (!is.null(as_of)) req$as_of <- as_date_arg(as_of, "as_of")
  body <- jsonlite::toJSON(req, auto_unbox = TRUE, digits = NA)
  j <- api(client, "POST", "/v1/forecast", body = body)
  periods <- chr_vec(j$periods)
  df <- data.frame(period = periods, mean = num_vec(j$mean), stringsAsFactors = FALSE)
  for (iv in j$intervals) {
    n <- level_name(iv$level)
    df[[paste0("lower_", n)]] <- num_vec(iv$lower)
    df[[paste0("upper_", n)]] <- num_vec(iv$upper)
  }
  if (length(periods)) df$date <- period_start_date(periods, j$frequency)
  j$periods <- j$mean <- j$intervals <- NULL
  attr(df, "almanac") <- j
  class(df) <- c("almanac_forecast", "data.frame")
  df
}

as.ts.almanac_forecast <- function(x, ...) {
  a <- attr(x, "almanac")
  out <- make_series(x$period, as.matrix(as.data.frame(x)[setdiff(names(x), c("period", "date"))]),
                     a$frequency, as = "ts", meta = a)
  out
}

print.almanac_forecast <- function(x, ...) {
  a <- attr(x, "almanac")
  cat(sprintf("<almanac forecast> %s@%s (%s, %s), data as of %s, from %s\n", a$model, a$version,
              scalar_or_na(a$model_type, "?"), scalar_or_na(a$method, "?"),
              scalar_or_na(a$data$as_of, "?"), scalar_or_na(a$data$history_end, "?")))
  print(as.data.frame(unclass_df(x)), ...)
  invisible(x)
}

unclass_df <- function(x) {
  class(x) <- "data.frame"
  x
}

runs <- function(experiment = NULL, pipeline = NULL, status = NULL, limit = NULL,
                 client = default_client()) {
  if (!is.null(status)) status <- one_of(status, c("running", "finished", "failed", "killed"), "status")
  if (!is.null(limit) && (!is.numeric(limit) || length(limit) != 1L || is.na(limit) || limit < 1))
    stop_client("`limit` must be one number >= 1")
  j <- api(client, "GET", "/v1/runs",
           query = list(experiment = experiment, pipeline = pipeline, status = status,
                        limit = if (is.null(limit)) NULL else as.integer(limit)))
  r <- j$runs
  data.frame(id = field(r, "id"), experiment = field(r, "experiment"), pipeline = field(r, "pipeline"),
             status = field(r, "status"), start = parse_time(lapply(r, `[[`, "start")),
             end = parse_time(lapply(r, `[[`, "end")), user = field(r, "user"), host = field(r, "host"),
             pipeline_sha256 = field(r, "pipeline_sha256"), snapshot_id = field(r, "snapshot_id"),
             git_commit = field(r, "git_commit"), almanac_version = field(r, "almanac_version"),
             seed = field(r, "seed", numeric(1)), error = field(r, "error"),
             reproduces = field(r, "reproduces"), stringsAsFactors = FALSE)
}

model <- function(name, client = default_client()) {
  j <- api(client, "GET", paste0("/v1/models/", seg(name)))
  j$created_at <- parse_time(list(j$created_at))
  j
}

versions <- function(name, client = default_client()) {
  j <- api(client, "GET", paste0("/v1/models/", seg(name), "/versions"))
  v <- j$versions
  df <- data.frame(version = field(v, "version", integer(1)), stage = field(v, "stage"),
                   run_id = field(v, "run_id"), snapshot_id = field(v, "snapshot_id"),
                   description = field(v, "description"),
                   created_at = parse_time(lapply(v, `[[`, "created_at")),
                   created_by = field(v, "created_by"),
                   stage_changed_at = parse_time(lapply(v, `[[`, "stage_changed_at")),
                   package_sha256 = vapply(v, function(x) scalar_or_na(x$package$sha256, NA_character_), character(1)),
                   stringsAsFactors = FALSE)
  df$metrics <- lapply(v, function(x) unlist(x$metrics))
  df
}
