# Retries against a real server: --rate-limit 1 --rate-burst 1 answers the second request of
# a second with 429 and Retry-After, which the client waits out (the same path as 503).

test_that("a 429 with Retry-After is retried after the wait; without retries it is an error", {
  skip_without_server()
  url <- start_server("--rate-limit", "1", "--rate-burst", "1")
  tok <- .srv$tokens$viewer
  patient <- client(url, tok, retries = 3, set_default = FALSE)
  impatient <- client(url, tok, retries = 0, set_default = FALSE)
  series_list(client = patient)                    # uses the burst
  e <- expect_error(series_list(client = impatient), class = "almanac_resource_exhausted")
  expect_equal(e$status, 429L)
  t0 <- Sys.time()
  s <- series_list(client = patient)                # 429, waits Retry-After, then 200
  waited <- as.numeric(difftime(Sys.time(), t0, units = "secs"))
  expect_true("us:realgdp" %in% s$key)
  expect_gte(waited, 0.5)
  # the wait is bounded by max_wait
  capped <- client(url, tok, retries = 1, max_wait = 0, set_default = FALSE)
  series_list(client = patient)
  e <- expect_error(series_list(client = capped), class = "almanac_resource_exhausted")
  expect_match(e$message, "after 1 retries")
})
