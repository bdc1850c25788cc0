# What the client does on its own: argument checks, period arithmetic, transport errors,
# timeouts. No almanac server needed.

test_that("client() refuses bad arguments with almanac_invalid_argument", {
  expect_error(client("", "t", set_default = FALSE), class = "almanac_invalid_argument")
  expect_error(client("127.0.0.1:8080", "t", set_default = FALSE), "must start with http")
  expect_error(client("http://x", "t", timeout = 0, set_default = FALSE), "timeout")
  expect_error(client("http://x", "t", retries = -1, set_default = FALSE), "retries")
  cl <- client("http://127.0.0.1:9/", "alm_x", set_default = FALSE)
  expect_s3_class(cl, "almanac_client")
  expect_equal(cl$url, "http://127.0.0.1:9")
  expect_output(print(cl), "token: set")
  expect_false(grepl("alm_x", paste(capture.output(print(cl)), collapse = "")))
})

test_that("arguments are checked before anything is sent", {
  cl <- client("http://127.0.0.1:9", "t", set_default = FALSE)
  e <- expect_error(series("us:realgdp", as_of = "20-12-2009", client = cl), class = "almanac_invalid_argument")
  expect_true(is.na(e$status))
  expect_error(forecast("gdp", horizon = 0, client = cl), "horizon")
  expect_error(forecast("gdp", horizon = 2.5, client = cl), "horizon")
  expect_error(snapshot("xyz", client = cl), "snapshot content id")
  expect_error(ingest(data.frame(series = "a", period = "2024Q1"), client = cl), "lacks the column value")
  expect_error(ingest(data.frame(series = "a", period = "2024Q1", value = 1, colour = 2), client = cl),
               "unknown column colour")
  expect_error(ingest(data.frame(series = "a", period = "2024Q1", value = Inf), client = cl), "not finite")
  expect_error(series(c("a", "b"), client = cl), class = "almanac_invalid_argument")
  expect_error(series("a", client = list()), "made by client")
  expect_error(series("a", as = "zoo", client = cl), "`as` must be one of", class = "almanac_invalid_argument")
})

test_that("periods map to ts frequency and start", {
  ms <- almanacr:::make_series
  x <- ms(c("2009Q3", "2009Q4", "2010Q1"), c(1, NA, 3), "Q")
  expect_equal(stats::frequency(x), 4)
  expect_equal(stats::start(x), c(2009, 3))
  expect_equal(as.numeric(x), c(1, NA, 3))
  expect_equal(attr(x, "periods"), c("2009Q3", "2009Q4", "2010Q1"))
  expect_equal(stats::start(ms("2024-11", 1, "M")), c(2024, 11))
  expect_equal(stats::frequency(ms("2024-11", 1, "M")), 12)
  expect_equal(stats::start(ms("1999", 1, "A")), c(1999, 1))
  expect_equal(stats::start(ms("2024-W10", 1, "W")), c(2024, 10))
  expect_equal(stats::frequency(ms("2024-W10", 1, "W")), 52)
  # 1970-01-05 is a Monday: week 1, day 1; 2024-01-05 is a Friday.
  expect_equal(stats::start(ms("1970-01-05", 1, "D")), c(1, 1))
  expect_equal(stats::start(ms("2024-01-05", 1, "D"))[2], 5)
  expect_equal(stats::start(ms("2024-01-05", 1, "B"))[2], 5)
  expect_error(ms("2024-01-06", 1, "B"), "not a period")
  expect_error(ms("2009Q5", 1, "Q"), "not a period")
  psd <- almanacr:::period_start_date
  expect_equal(psd(c("2009Q3", "2010Q1"), "Q"), as.Date(c("2009-07-01", "2010-01-01")))
  expect_equal(psd("2021-W01", "W"), as.Date("2021-01-04"))
  expect_equal(psd("2020-W53", "W"), as.Date("2020-12-28"))
  expect_length(ms(character(0), numeric(0), "Q"), 0)  # R has no empty ts: a numeric(0)
})

test_that("a server that cannot be reached is almanac_connection_error", {
  port <- free_port()  # nothing listens there
  cl <- client(sprintf("http://127.0.0.1:%d", port), "t", set_default = FALSE)
  e <- expect_error(series("us:realgdp", client = cl), class = "almanac_connection_error")
  expect_s3_class(e, "almanac_unavailable")
  expect_s3_class(e, "almanac_error")
  expect_equal(e$code, "UNAVAILABLE")
  expect_true(is.na(e$status))
})

test_that("a server that accepts but never answers times out: almanac_timeout", {
  port <- free_port()
  s <- serverSocket(port)  # listens, accepts nothing, answers nothing
  on.exit(close(s))
  cl <- client(sprintf("http://127.0.0.1:%d", port), "t", timeout = 0.5, set_default = FALSE)
  t0 <- Sys.time()
  e <- expect_error(series("us:realgdp", client = cl), class = "almanac_timeout")
  expect_lt(as.numeric(difftime(Sys.time(), t0, units = "secs")), 5)
  expect_s3_class(e, "almanac_deadline_exceeded")
  expect_equal(e$code, "DEADLINE_EXCEEDED")
  expect_match(conditionMessage(e), "timeout")
})

test_that("Retry-After is honoured, in seconds or as an HTTP date, and capped", {
  cl <- client("http://x", "t", backoff = 0.5, max_wait = 30, set_default = FALSE)
  rw <- almanacr:::retry_wait
  expect_equal(rw(cl, c(`retry-after` = "2"), 0), 2)
  expect_equal(rw(client("http://x", max_wait = 1, set_default = FALSE), c(`retry-after` = "120"), 0), 1)
  later <- format(Sys.time() + 5, "%a, %d %b %Y %H:%M:%S GMT", tz = "GMT")
  w <- rw(cl, c(`retry-after` = later), 0)
  expect_gt(w, 3)
  expect_lte(w, 5)
  # no header: exponential backoff with at most 25 % jitter
  expect_gte(rw(cl, character(0), 2), 2)
  expect_lte(rw(cl, character(0), 2), 2.5)
})

test_that("as = \"tsibble\" works when tsibble is installed and says so when it is not", {
  ms <- almanacr:::make_series
  if (requireNamespace("tsibble", quietly = TRUE)) {
    x <- ms(c("2009Q3", "2009Q4"), c(1, 2), "Q", as = "tsibble")
    expect_true(inherits(x, "tbl_ts"))
    expect_equal(x$value, c(1, 2))
  } else {
    expect_error(ms(c("2009Q3", "2009Q4"), c(1, 2), "Q", as = "tsibble"),
                 "needs the tsibble package", class = "almanac_invalid_argument")
  }
  expect_error(ms("2009Q3", 1, "Q", as = "zoo"), "must be \"ts\", \"xts\" or \"tsibble\"")
})
