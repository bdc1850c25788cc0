test_that("series() is a quarterly ts from 1959Q1 with the sample file's values", {
  skip_without_server()
  cl <- server_client()
  gdp <- series("us:realgdp", client = cl)
  expect_s3_class(gdp, "ts")
  expect_equal(stats::frequency(gdp), 4)
  expect_equal(stats::start(gdp), c(1959, 1))
  expect_equal(stats::end(gdp), c(2009, 3))
  expected <- sample_column("us:realgdp")
  expected[length(expected)] <- 12971.884  # the revision known from 2009-12-22
  expect_equal(as.numeric(gdp), expected)
  meta <- attr(gdp, "almanac")
  expect_equal(meta$key, "us:realgdp")
  expect_equal(meta$title, "Real gross domestic product")
  expect_true(is.na(meta$as_of))
  expect_match(meta$request_id, "^[0-9a-f]{16}$")
})

test_that("series(as_of =) is the real-time read", {
  skip_without_server()
  cl <- server_client()
  before <- series("us:realgdp", as_of = as.Date("2009-12-20"), client = cl)
  after <- series("us:realgdp", as_of = "2009-12-22", client = cl)
  expect_equal(attr(before, "almanac")$as_of, "2009-12-20")
  n <- length(before)
  expect_equal(as.numeric(before)[n], tail(sample_column("us:realgdp"), 1))
  expect_equal(as.numeric(after)[n], 12971.884)
  expect_equal(as.numeric(before)[-n], as.numeric(after)[-n])
  # nothing was known before the first vintage: no values (R has no empty ts: numeric(0))
  early <- series("us:realgdp", as_of = "2009-12-01", client = cl)
  expect_length(early, 0)
  expect_equal(attr(early, "almanac")$as_of, "2009-12-01")
})

test_that("series(as = \"xts\") is indexed by the first day of each period", {
  skip_without_server()
  skip_if_not_installed("xts")
  x <- series("us:cpi", as = "xts", client = server_client())
  expect_s3_class(x, "xts")
  expect_equal(as.Date(zoo::index(x))[1:2], as.Date(c("1959-01-01", "1959-04-01")))
  expect_equal(as.numeric(x[, 1]), sample_column("us:cpi"))
})

test_that("series_list() and vintages() are data frames", {
  skip_without_server()
  cl <- server_client()
  s <- series_list(client = cl)
  expect_s3_class(s, "data.frame")
  expect_true(all(c("us:realgdp", "us:cpi", "us:unemp") %in% s$key))
  expect_equal(unique(s$frequency[startsWith(s$key, "us:")]), "Q")
  v <- vintages("us:realgdp", client = cl)
  expect_s3_class(v, "data.frame")
  expect_equal(v$realtime_start, as.Date(c("2009-12-15", "2009-12-22")))
  expect_equal(v$observations, c(203L, 1L))
  expect_s3_class(v$loaded_at, "POSIXct")
  expect_equal(v$kind, c("load", "load"))
})

test_that("an unknown series is almanac_not_found with status, code and request id", {
  skip_without_server()
  e <- expect_error(series("no:such", client = server_client()), class = "almanac_not_found")
  expect_equal(e$status, 404L)
  expect_equal(e$code, "NOT_FOUND")
  expect_match(e$request_id, "^[0-9a-f]{16}$")
  expect_match(conditionMessage(e), "^NOT_FOUND: .*no:such.*\\[HTTP 404, request [0-9a-f]{16}\\]")
  expect_error(vintages("no:such", client = server_client()), class = "almanac_not_found")
})

test_that("a date in the future is almanac_invalid_argument from the server (400)", {
  skip_without_server()
  e <- expect_error(series("us:realgdp", as_of = format(Sys.Date() + 30), client = server_client()),
                    class = "almanac_invalid_argument")
  expect_equal(e$status, 400L)
})

test_that("a wrong token is almanac_unauthenticated (401)", {
  skip_without_server()
  cl <- server_client()
  bad <- client(cl$url, paste0("alm_", strrep("0", 64)), set_default = FALSE)
  e <- expect_error(series("us:realgdp", client = bad), class = "almanac_unauthenticated")
  expect_equal(e$status, 401L)
  none <- client(cl$url, "", set_default = FALSE)
  expect_error(models(client = none), class = "almanac_unauthenticated")
})

test_that("the default client is used when none is given", {
  skip_without_server()
  cl <- server_client()
  old <- almanacr:::.almanac$client
  on.exit(assign("client", old, envir = almanacr:::.almanac))
  client(cl$url, cl$token)
  expect_equal(stats::start(series("us:unemp")), c(1959, 1))
})
