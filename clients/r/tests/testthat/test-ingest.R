test_that("ingest() pushes a data frame as new vintages, NA as explicitly missing", {
  skip_without_server()
  cl <- server_client("analyst")
  df <- data.frame(series = "test:r-monthly", period = c("2024-01", "2024-02", "2024-03"),
                   value = c(1.5, NA, 3.25), frequency = "M")
  r <- ingest(df, realtime_start = "2024-04-02", source = "r-test", client = cl)
  expect_equal(r$records, 3L)
  expect_equal(r$vintages_created, 1L)
  expect_equal(r$user, "r-analyst")
  expect_equal(r$vintages$realtime_start, as.Date("2024-04-02"))
  x <- series("test:r-monthly", client = cl)
  expect_equal(stats::frequency(x), 12)
  expect_equal(stats::start(x), c(2024, 1))
  expect_equal(as.numeric(x), c(1.5, NA, 3.25))
  # the same values again: no new vintage
  expect_equal(ingest(df, realtime_start = "2024-04-03", client = cl)$vintages_created, 0L)
  # a revision with its own realtime_start column and Date periods
  rev <- data.frame(series = "test:r-monthly", period = as.Date("2024-03-01"), value = 3.5,
                    realtime_start = as.Date("2024-05-02"))
  expect_equal(ingest(rev, client = cl)$vintages_created, 1L)
  v <- vintages("test:r-monthly", client = cl)
  expect_equal(v$realtime_start, as.Date(c("2024-04-02", "2024-05-02")))
  expect_equal(as.numeric(series("test:r-monthly", as_of = "2024-04-30", client = cl))[3], 3.25)
  expect_equal(as.numeric(series("test:r-monthly", client = cl))[3], 3.5)
})

test_that("ingest() errors are typed: a viewer may not, a bad row refuses the batch", {
  skip_without_server()
  df <- data.frame(series = "test:r-refused", period = "2024-01", value = 1, frequency = "M")
  e <- expect_error(ingest(df, client = server_client("viewer")), class = "almanac_permission_denied")
  expect_equal(e$status, 403L)
  bad <- data.frame(series = "test:r-refused", period = c("2024-01", "2024-13"), value = 1, frequency = "M")
  e <- expect_error(ingest(bad, client = server_client("analyst")), class = "almanac_invalid_argument")
  expect_equal(e$status, 400L)
  expect_match(e$message, "record 2 .*2024-13")
  expect_error(series("test:r-refused", client = server_client()), class = "almanac_not_found")
})
