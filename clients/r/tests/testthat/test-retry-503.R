test_that("a 503 with Retry-After is retried; without retries it is almanac_unavailable", {
  script <- test_path("fake_503_server.R")
  skip_if_not(file.exists(script))
  port <- free_port()
  ready <- tempfile()
  rscript <- file.path(R.home("bin"), "Rscript")
  system2(rscript, c(shQuote(script), port, shQuote(ready), "503", "200", "503", "503", "503"), wait = FALSE,
          stdout = FALSE, stderr = FALSE)
  for (i in 1:200) if (file.exists(ready)) break else Sys.sleep(0.05)
  expect_true(file.exists(ready))
  url <- sprintf("http://127.0.0.1:%d", port)
  t0 <- Sys.time()
  s <- series_list(client = client(url, "t", retries = 2, set_default = FALSE))
  expect_equal(nrow(s), 0)
  expect_gte(as.numeric(difftime(Sys.time(), t0, units = "secs")), 0.9)   # Retry-After: 1
  e <- expect_error(series_list(client = client(url, "t", retries = 0, set_default = FALSE)),
                    class = "almanac_unavailable")
  expect_equal(e$status, 503L)
  expect_equal(e$request_id, "00000000000001f7")
  expect_equal(e$message, "overloaded: the worker queue is full")
  e <- expect_error(series_list(client = client(url, "t", retries = 1, max_wait = 0.1, set_default = FALSE)),
                    class = "almanac_unavailable")
  expect_match(e$message, "after 1 retries")
})
