# The connection to an almanac server: base URL, bearer token, timeouts and the retry policy.
# client() returns it and (by default) makes it the session's default, which every other
# function uses unless given `client =` explicitly.

.almanac <- new.env(parent = emptyenv())

client <- function(url = Sys.getenv("ALMANAC_URL", "http://127.0.0.1:8080"),
                   token = Sys.getenv("ALMANAC_TOKEN", ""),
                   timeout = 30, connect_timeout = 10, retries = 3, backoff = 0.5,
                   max_wait = 30, set_default = TRUE) {
  if (!is.character(url) || length(url) != 1L || !nzchar(url))
    stop_client("`url` must be one non-empty string, e.g. \"http://127.0.0.1:8080\"")
  if (!grepl("^https?://", url))
    stop_client(sprintf("`url` must start with http:// or https://, not \"%s\"", url))
  if (is.null(token)) token <- ""
  if (!is.character(token) || length(token) != 1L)
    stop_client("`token` must be one string (the secret `almanac tokens create` printed)")
  num_ok <- function(x, min) is.numeric(x) && length(x) == 1L && !is.na(x) && x >= min
  if (!num_ok(timeout, 0) || timeout == 0) stop_client("`timeout` must be a positive number of seconds")
  if (!num_ok(connect_timeout, 0) || connect_timeout == 0)
    stop_client("`connect_timeout` must be a positive number of seconds")
  if (!num_ok(retries, 0)) stop_client("`retries` must be a number >= 0")
  if (!num_ok(backoff, 0)) stop_client("`backoff` must be a number of seconds >= 0")
  if (!num_ok(max_wait, 0)) stop_client("`max_wait` must be a number of seconds >= 0")
  cl <- structure(list(url = sub("/+$", "", url), token = token, timeout = timeout,
                       connect_timeout = connect_timeout, retries = as.integer(retries),
                       backoff = backoff, max_wait = max_wait,
                       # one curl handle per client, reused: its connection stays open
                       # between requests (HTTP/1.1 keep-alive)
                       state = new.env(parent = emptyenv())),
                  class = "almanac_client")
  if (isTRUE(set_default)) .almanac$client <- cl
  invisible(cl)
}

default_client <- function() {
  cl <- .almanac$client
  if (is.null(cl)) {
    url <- Sys.getenv("ALMANAC_URL", "")
    if (!nzchar(url))
      stop_client("no almanac client: call client(url, token) first (or set ALMANAC_URL and ALMANAC_TOKEN)")
    cl <- client(url, Sys.getenv("ALMANAC_TOKEN", ""))
  }
  cl
}

print.almanac_client <- function(x, ...) {
  cat(sprintf("<almanac client> %s (token: %s; timeout %gs; %d retries)\n", x$url,
              if (nzchar(x$token)) "set" else "none", x$timeout, x$retries))
  invisible(x)
}

check_client <- function(cl) {
  if (!inherits(cl, "almanac_client")) stop_client("`client` must be an almanac client made by client()")
  cl
}

# ------------------------------------------------------------------------------ HTTP

# Percent-encodes one path segment (series keys hold ':').
seg <- function(x) {
  if (!is.character(x) && !is.numeric(x)) stop_client("a path parameter must be a string or a number")
  if (length(x) != 1L || is.na(x) || !nzchar(as.character(x)))
    stop_client("a path parameter must be one non-empty value")
  curl::curl_escape(as.character(x))
}

query_string <- function(query) {
  query <- query[!vapply(query, is.null, logical(1))]
  if (length(query) == 0L) return("")
  parts <- vapply(names(query), function(n) {
    v <- query[[n]]
    if (length(v) != 1L || is.na(v)) stop_client(sprintf("`%s` must be one value", n))
    paste0(curl::curl_escape(n), "=", curl::curl_escape(as.character(v)))
  }, character(1))
  paste0("?", paste(parts, collapse = "&"))
}

# Seconds to wait before retry `attempt` (0-based): the server's Retry-After (delta seconds or
# an HTTP date) when it sent one, else exponential backoff with jitter; at most max_wait.
retry_wait <- function(cl, headers, attempt) {
  ra <- header_value(headers, "retry-after")
  wait <- NA_real_
  if (!is.null(ra)) {
    if (grepl("^[0-9]+$", ra)) {
      wait <- as.numeric(ra)
    } else {
      when <- suppressWarnings(as.POSIXct(ra, format = "%a, %d %b %Y %H:%M:%S", tz = "GMT"))
      if (!is.na(when)) wait <- max(0, as.numeric(difftime(when, Sys.time(), units = "secs")))
    }
  }
  if (is.na(wait)) wait <- cl$backoff * 2^attempt * (1 + stats::runif(1) * 0.25)
  min(wait, cl$max_wait)
}

header_value <- function(headers, name) {
  v <- headers[tolower(names(headers)) == name]
  if (length(v) == 0L) NULL else unname(v[[1L]])
}

parse_headers <- function(raw) {
  lines <- curl::parse_headers(raw)
  lines <- lines[grepl(":", lines, fixed = TRUE)]
  stats::setNames(trimws(sub("^[^:]*:", "", lines)), tolower(trimws(sub(":.*$", "", lines))))
}

# One API call: returns the parsed JSON answer (a list), or signals an almanac_error.
# 503 and 429 answers are retried up to cl$retries times (after Retry-After, or backoff).
api <- function(cl, method, path, query = NULL, body = NULL,
                content_type = "application/json") {
  cl <- check_client(cl)
  url <- paste0(cl$url, path, query_string(query))
  headers <- c(Accept = "application/json",
               `User-Agent` = paste0("almanacr/", utils::packageVersion("almanacr")))
  if (nzchar(cl$token)) headers <- c(headers, Authorization = paste("Bearer", cl$token))
  if (!is.null(body)) headers <- c(headers, `Content-Type` = content_type)
  attempt <- 0L
  repeat {
    h <- cl$state$handle
    if (is.null(h)) {
      h <- curl::new_handle()
      cl$state$handle <- h
    } else {
      curl::handle_reset(h)  # options go, the open connection stays
    }
    curl::handle_setopt(h, customrequest = method, timeout_ms = round(cl$timeout * 1000),
                        connecttimeout_ms = round(cl$connect_timeout * 1000),
                        followlocation = FALSE)
    if (!is.null(body)) {
      raw_body <- if (is.raw(body)) body else charToRaw(enc2utf8(body))
      curl::handle_setopt(h, post = TRUE, postfieldsize = length(raw_body), postfields = raw_body)
    }
    do.call(curl::handle_setheaders, c(list(h), as.list(headers)))
    res <- tryCatch(curl::curl_fetch_memory(url, handle = h), error = function(e) e)
    if (inherits(res, "error")) stop_transport(conditionMessage(res), method, url, cl)
    hdrs <- parse_headers(res$headers)
    status <- res$status_code
    if (status %in% c(429L, 503L) && attempt < cl$retries) {
      Sys.sleep(retry_wait(cl, hdrs, attempt))
      attempt <- attempt + 1L
      next
    }
    text <- rawToChar(res$content)
    Encoding(text) <- "UTF-8"
    if (status >= 400L) stop_http(status, text, hdrs, method, path, attempt)
    out <- tryCatch(jsonlite::fromJSON(text, simplifyVector = TRUE, simplifyDataFrame = FALSE,
                                       simplifyMatrix = FALSE),
                    error = function(e) {
                      stop_almanac("DATA_LOSS", sprintf("the server's answer to %s %s is not JSON: %s",
                                                        method, path, conditionMessage(e)),
                                   header_value(hdrs, "x-request-id"), status)
                    })
    attr(out, "retries") <- attempt
    return(out)
  }
}
