#!/bin/sh
# What ctest runs (test r_client), against a real `almanac serve` (ALMANAC_BIN names the
# binary; ALMANAC_DATA_DIR the sample data, else it is found next to the binary):
#   ctest.sh          R CMD build + R CMD check --no-manual (the tests included); fails unless
#                     the check's status is OK and no test was skipped
#   ctest.sh quick    R CMD INSTALL into a temporary library + the testthat suite only
set -eu
here=$(cd "$(dirname "$0")" && pwd)
[ -n "${ALMANAC_BIN:-}" ] || { echo "ALMANAC_BIN is not set" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ "${1:-check}" = quick ]; then
  R CMD INSTALL --no-docs --no-html --library="$tmp" "$here" >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; exit 1; }
  cd "$here/tests/testthat"
  R_LIBS="$tmp${R_LIBS:+:$R_LIBS}" Rscript -e '
    library(testthat)
    res <- as.data.frame(test_dir(".", package = "almanacr", load_package = "installed",
                                  reporter = "summary", stop_on_failure = FALSE))
    bad <- sum(res$failed) + sum(res$error) + sum(res$skipped)
    cat(sprintf("\n%d tests, %d expectations, %d failed, %d errors, %d skipped\n", nrow(res),
                sum(res$nb), sum(res$failed), sum(res$error), sum(res$skipped)))
    quit(status = if (bad > 0) 1 else 0)'
  exit 0
fi
cd "$tmp"
R CMD build "$here" >build.log 2>&1 || { cat build.log; exit 1; }
status=0
R CMD check --no-manual almanacr_*.tar.gz >check.log 2>&1 || status=$?
cat check.log
out=almanacr.Rcheck/tests/testthat.Rout
[ -f "$out" ] && tail -n 20 "$out"
[ $status -eq 0 ] || { echo "FAIL: R CMD check exited $status"; exit 1; }
grep -q '^Status: OK' check.log || { echo "FAIL: R CMD check is not clean"; exit 1; }
grep -q 'SKIP 0 |' "$out" || { echo "FAIL: tests were skipped"; exit 1; }
echo PASS
