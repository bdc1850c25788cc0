#!/usr/bin/env bash
# CLI start-up time (issue 18): hyperfine, in one run, on commands that do next to nothing,
# against reference programs measured in the same run:
#   /usr/bin/true            the cost of starting any process here (the floor)
#   git --version            a C program with a few shared libraries
#   psql --version           PostgreSQL's client: libpq and its Kerberos/LDAP/GnuTLS chain
#   almanac --version, almanac series --help, almanac frobnicate (a usage error)
# Goal: a no-op almanac command under 5 ms. Prints a markdown table (also written to $OUT).
#   bench/cli/startup.sh      (BUILD=build/default RUNS=300 by default)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
RUNS=${RUNS:-300}
OUT=${OUT:-$ROOT/bench/cli/results.md}
scripts/deps.sh bench
BUILD=${BUILD:-build/default}  # any configured build tree (e.g. build/ci)
if [ "$BUILD" = build/default ] && [ ! -f build/default/build.ninja ]; then cmake --preset default >/dev/null; fi
cmake --build "$BUILD" --target almanac >/dev/null
A=$ROOT/$BUILD/src/cli/almanac
PSQL=$(command -v psql || echo /usr/lib/postgresql/15/bin/psql)

TMP=$(mktemp -d /tmp/almanac-cli-bench.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
# -N: no shell in between; -i: the usage error exits 2 on purpose.
hyperfine -N -i --warmup 20 --runs "$RUNS" --export-json "$TMP/r.json" \
  -n "true" /usr/bin/true \
  -n "git --version" "git --version" \
  -n "psql --version" "$PSQL --version" \
  -n "almanac --version" "$A --version" \
  -n "almanac series --help" "$A series --help" \
  -n "almanac frobnicate (usage error)" "$A frobnicate" >/dev/null 2>&1
/usr/bin/python3 - "$TMP/r.json" "$OUT" <<'PY'
import json, sys
rs = json.load(open(sys.argv[1]))["results"]
by = {r["command"]: r for r in rs}
git = by["git --version"]["median"]
lines = ["| command | median ms | mean ms | x git --version |", "|---|---|---|---|"]
for r in rs:
    lines.append("| %s | %.2f | %.2f | %.2f |" % (r["command"], r["median"] * 1e3, r["mean"] * 1e3, r["median"] / git))
text = "\n".join(lines) + "\n"
open(sys.argv[2], "w").write(text)
print(text, end="")
PY
