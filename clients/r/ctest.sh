#!/bin/sh
# What ctest runs (test r_client): R CMD INSTALL into a temporary library, then the testthat
# suite against a real `almanac serve` (ALMANAC_BIN must name the binary). Fails on any
# failure, error or skipped test. The full `R CMD check` is run by hand (docs/clients.md).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
[ -n "${ALMANAC_BIN:-}" ] || { echo "ALMANAC_BIN is not set" >&2; exit 1; }
lib=$(mktemp -d)
trap 'rm -rf "$lib"' EXIT
R CMD INSTALL --no-docs --no-html --library="$lib" "$here" >"$lib/install.log" 2>&1 || { cat "$lib/install.log"; exit 1; }
cd "$here/tests/testthat"
R_LIBS="$lib${R_LIBS:+:$R_LIBS}" Rscript -e '
  library(testthat)
  res <- as.data.frame(test_dir(".", package = "almanacr", load_package = "installed",
                                reporter = "summary", stop_on_failure = FALSE))
  bad <- sum(res$failed) + sum(res$error) + sum(res$skipped)
  cat(sprintf("\n%d tests, %d expectations, %d failed, %d errors, %d skipped\n", nrow(res),
              sum(res$nb), sum(res$failed), sum(res$error), sum(res$skipped)))
  quit(status = if (bad > 0) 1 else 0)'
