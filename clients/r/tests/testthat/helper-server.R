# A real `almanac serve` on 127.0.0.1 over a fresh SQLite workspace, set up with the CLI the
# way scripts/quickstart.sh does: the quick-start data (known on 2009-12-15), the
# illustrative revision of 2009Q3 GDP (known on 2009-12-22), a GDP growth pipeline whose
# model is registered and promoted to production (four-eyes off), and tokens per role.
# Needs ALMANAC_BIN (the almanac binary); the sample data is found next to it in the source
# tree, or in ALMANAC_DATA_DIR.

almanac_bin <- function() Sys.getenv("ALMANAC_BIN", "")

skip_without_server <- function() {
  if (!nzchar(almanac_bin()))
    skip("ALMANAC_BIN is not set: set it to the almanac binary to run the tests against a real server")
  if (!file.exists(almanac_bin())) skip(paste("ALMANAC_BIN names no file:", almanac_bin()))
  if (is.null(find_data_dir()))
    skip("the quick-start data (examples/data) was not found: set ALMANAC_DATA_DIR")
}

find_data_dir <- function() {
  d <- Sys.getenv("ALMANAC_DATA_DIR", "")
  if (nzchar(d) && file.exists(file.path(d, "us_macro_quarterly.csv"))) return(normalizePath(d))
  dir <- dirname(normalizePath(almanac_bin(), mustWork = FALSE))
  for (i in 1:8) {
    cand <- file.path(dir, "examples", "data")
    if (file.exists(file.path(cand, "us_macro_quarterly.csv"))) return(normalizePath(cand))
    dir <- dirname(dir)
  }
  NULL
}

.srv <- new.env(parent = emptyenv())

cli <- function(..., user = "tester") {
  args <- c("--workspace", .srv$ws, "--user", user, ...)
  out <- suppressWarnings(system2(almanac_bin(), shQuote(args), stdout = TRUE, stderr = TRUE))
  status <- attr(out, "status")
  if (!is.null(status) && status != 0)
    stop(sprintf("almanac %s failed (%d):\n%s", paste(args, collapse = " "), status, paste(out, collapse = "\n")))
  out
}

pipeline_yaml <- "name: r-gdp-growth
data:
  series: [us:realgdp]
  as_of: 2009-12-20
transforms:
  - name: gdp_growth
    op: pct_change
    input: us:realgdp
    periods: 1
target: gdp_growth
horizon: 8
levels: [80, 95]
models:
  - name: rw
    type: naive
evaluation:
  origins: 2
  horizon: 2
register:
  model: gdp
  policy:
    four_eyes: false
promote:
  to: production
"

setup_workspace <- function() {
  if (!is.null(.srv$ws)) return(invisible())
  dir <- tempfile("almanacr-test-")
  dir.create(dir)
  .srv$dir <- dir
  .srv$ws <- file.path(dir, "ws")
  data <- find_data_dir()
  cli("init", user = "root")
  cli("ingest", file.path(data, "us_macro_quarterly.csv"), "--metadata",
      file.path(data, "us_macro_quarterly.meta.yaml"), "--realtime-start", "2009-12-15")
  cli("ingest", file.path(data, "us_gdp_revision_illustrative.csv"))
  pfile <- file.path(dir, "gdp.yaml")
  writeLines(pipeline_yaml, pfile)
  cli("run", pfile, user = "alice")
  .srv$tokens <- list()
  for (role in c("viewer", "analyst")) {
    .srv$tokens[[role]] <- tail(cli("--quiet", "tokens", "create", "--role", role, "--user", paste0("r-", role),
                                    user = "root"), 1)
  }
  invisible()
}

# Starts `almanac serve` (extra arguments: `...`) and returns its base URL; stopped (SIGTERM)
# when the test file's environment `env` ends.
start_server <- function(..., env = parent.frame()) {
  setup_workspace()
  n <- length(.srv$servers) + 1L
  log <- file.path(.srv$dir, sprintf("serve-%d.log", n))
  pidfile <- file.path(.srv$dir, sprintf("serve-%d.pid", n))
  args <- c("--workspace", .srv$ws, "--user", "operator", "serve", "--listen", "127.0.0.1:0",
            "--poll-seconds", "0.2", ...)
  system(sprintf("%s %s 2> %s & echo $! > %s", shQuote(almanac_bin()),
                 paste(shQuote(args), collapse = " "), shQuote(log), shQuote(pidfile)), wait = TRUE)
  pid <- as.integer(readLines(pidfile))
  .srv$servers <- c(.srv$servers, pid)
  withr::defer(stop_server(pid), envir = env)
  deadline <- Sys.time() + 20
  while (Sys.time() < deadline) {
    text <- if (file.exists(log)) paste(readLines(log, warn = FALSE), collapse = "\n") else ""
    m <- regmatches(text, regexpr("listening on http://127\\.0\\.0\\.1:[0-9]+", text))
    if (length(m)) return(sub("^listening on ", "", m))
    Sys.sleep(0.05)
  }
  stop("almanac serve did not start:\n", paste(readLines(log, warn = FALSE), collapse = "\n"))
}

stop_server <- function(pid) {
  tools::pskill(pid, tools::SIGTERM)
  for (i in 1:200) {
    # kill -0: is it still there?
    if (system(sprintf("kill -0 %d 2>/dev/null", pid)) != 0) return(invisible())
    Sys.sleep(0.05)
  }
  tools::pskill(pid, tools::SIGKILL)
}

# The suite's shared server (one per test file) and a client on it with the role's token.
server_client <- function(role = "viewer", env = parent.frame(), ...) {
  if (is.null(.srv$url) || !isTRUE(.srv$url_alive)) {
    .srv$url <- start_server(env = teardown_env())
    .srv$url_alive <- TRUE
  }
  client(.srv$url, .srv$tokens[[role]], set_default = FALSE, ...)
}

# The sample file's values of one column.
sample_column <- function(col) {
  d <- utils::read.csv(file.path(find_data_dir(), "us_macro_quarterly.csv"), check.names = FALSE)
  d[[col]]
}

# A TCP port on 127.0.0.1 that nothing listens on (found by binding it, then letting go).
free_port <- function() {
  for (p in sample(40000:60000, 50)) {
    s <- tryCatch(suppressWarnings(serverSocket(p)), error = function(e) NULL)
    if (!is.null(s)) {
      close(s)
      return(p)
    }
  }
  stop("no free TCP port found")
}
