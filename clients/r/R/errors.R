# Errors are R conditions of class c("almanac_<code>", "almanac_error", "error", "condition"),
# where <code> is the server's canonical status code in lower case (almanac_not_found,
# almanac_invalid_argument, almanac_permission_denied, ...). Each carries `code`, `message`
# (the server's message), `request_id` (also the X-Request-Id header; NA when no answer came)
# and `status` (the HTTP status; NA when no answer came).

# The code the server uses for an HTTP status (serve::HttpStatusFor, in reverse), for answers
# whose body is not the usual {"code","message","request_id"}.
status_code_name <- function(status) {
  switch(as.character(status),
         "400" = "INVALID_ARGUMENT", "401" = "UNAUTHENTICATED", "403" = "PERMISSION_DENIED",
         "404" = "NOT_FOUND", "405" = "METHOD_NOT_ALLOWED", "409" = "FAILED_PRECONDITION",
         "413" = "RESOURCE_EXHAUSTED", "429" = "RESOURCE_EXHAUSTED", "501" = "UNIMPLEMENTED",
         "503" = "UNAVAILABLE", "504" = "DEADLINE_EXCEEDED", "INTERNAL")
}

almanac_condition <- function(code, message, request_id = NA_character_, status = NA_integer_,
                              call = NULL, extra_class = NULL) {
  code <- toupper(code)
  cls <- unique(c(extra_class, paste0("almanac_", tolower(code)), "almanac_error", "error", "condition"))
  structure(list(message = message, call = call, code = code,
                 request_id = if (is.null(request_id)) NA_character_ else as.character(request_id),
                 status = as.integer(status)),
            class = cls)
}

stop_almanac <- function(code, message, request_id = NA_character_, status = NA_integer_,
                         extra_class = NULL) {
  stop(almanac_condition(code, message, request_id, status, extra_class = extra_class))
}

# A mistake the client catches before sending anything.
stop_client <- function(message) stop_almanac("INVALID_ARGUMENT", message)

stop_http <- function(status, text, headers, method, path, retries) {
  body <- tryCatch(jsonlite::fromJSON(text, simplifyVector = TRUE), error = function(e) NULL)
  rid <- header_value(headers, "x-request-id")
  if (is.list(body) && is.character(body$code) && is.character(body$message)) {
    code <- body$code
    msg <- body$message
    if (is.character(body$request_id)) rid <- body$request_id
  } else {
    code <- status_code_name(status)
    msg <- if (nzchar(trimws(text))) trimws(substr(text, 1, 500)) else sprintf("HTTP %d", status)
  }
  if (retries > 0) msg <- sprintf("%s (after %d retries)", msg, retries)
  stop_almanac(code, msg, rid, status)
}

stop_transport <- function(message, method, url, cl) {
  if (grepl("Timeout was reached|timed out", message, ignore.case = TRUE)) {
    stop_almanac("DEADLINE_EXCEEDED",
                 sprintf("%s %s: no answer within the timeout (%gs): %s", method, url, cl$timeout, message),
                 extra_class = "almanac_timeout")
  }
  stop_almanac("UNAVAILABLE", sprintf("%s %s: %s", method, url, message),
               extra_class = "almanac_connection_error")
}

conditionMessage.almanac_error <- function(c) {
  where <- character(0)
  if (!is.na(c$status)) where <- c(where, paste("HTTP", c$status))
  if (!is.na(c$request_id)) where <- c(where, paste("request", c$request_id))
  paste0(c$code, ": ", c$message, if (length(where)) paste0(" [", paste(where, collapse = ", "), "]") else "")
}

# match.arg() that signals almanac_invalid_argument.
one_of <- function(x, choices, name) {
  if (identical(x, choices)) return(choices[[1L]])
  if (!is.character(x) || length(x) != 1L || !(x %in% choices))
    stop_client(sprintf("`%s` must be one of %s", name, paste0("\"", choices, "\"", collapse = ", ")))
  x
}
