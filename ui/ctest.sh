#!/usr/bin/env bash
# The web console's test group (ctest ui_e2e; docs/ui.md): npm ci, type check and Vite build,
# Vitest unit tests, then the Playwright end-to-end test against a real `almanac serve`.
#   ALMANAC_BIN=build/dev/src/cli/almanac UI_OUT=build/dev/ui bash ui/ctest.sh
# Skipped (exit 77, ctest's SKIP_RETURN_CODE) only when Node.js or npm is missing.
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "SKIPPED: Node.js and npm are needed for the web console's tests (scripts/deps.sh test installs nodejs, npm and chromium)"
  exit 77
fi
: "${ALMANAC_BIN:?set ALMANAC_BIN to the almanac binary}"
OUT=${UI_OUT:-$PWD/test-results}
mkdir -p "$OUT"
t() { date +%s.%N; }
T0=$(t)
# Offline when the npm cache has the locked packages (nothing else is fetched).
npm ci --prefer-offline --no-audit --no-fund --loglevel=error
T1=$(t)
npx tsc --noEmit -p .
npx vite build --logLevel warn --outDir "$OUT/dist" --emptyOutDir
T2=$(t)
npx vitest run --reporter=dot
T3=$(t)
node e2e/run.mjs --almanac "$ALMANAC_BIN" --ui-dir "$OUT/dist" --out "$OUT/e2e" ${UI_DOCS_IMG:+--docs-img "$UI_DOCS_IMG"}
T4=$(t)
awk -v a="$T0" -v b="$T1" -v c="$T2" -v d="$T3" -v e="$T4" 'BEGIN {
  printf "ui_e2e timing: npm ci %.1f s, tsc+vite build %.1f s, vitest %.1f s, playwright %.1f s, total %.1f s\n",
         b-a, c-b, d-c, e-d, e-a }'
