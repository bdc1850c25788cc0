#!/usr/bin/env bash
# Installs the Debian 12 packages almanac needs, or says exactly what to install.
#   scripts/deps.sh build   compiler, CMake and libraries
#   scripts/deps.sh test    build + what the test suite uses
#   scripts/deps.sh bench   test + reference implementations for benchmarks
# As root it installs directly; otherwise through sudo when available; without either it
# prints the apt-get line to run and exits 1.
set -euo pipefail

BUILD_PKGS=(build-essential cmake ninja-build pkg-config git
  libeigen3-dev libnlopt-cxx-dev libsqlite3-dev sqlite3 libpq-dev libyaml-cpp-dev
  libcli11-dev nlohmann-json3-dev libssl-dev libcurl4-openssl-dev
  libsimdjson-dev libboost-dev libgtest-dev libgmock-dev libbenchmark-dev curl
  libxlsxwriter-dev)
# prometheus: promtool and a Prometheus server for the monitoring tests; openssl: TLS test
# certificates; chromium: renders the model-risk report headless (and prints --pdf);
# postgresql-15: the throwaway server of the PostgreSQL back-end's tests; clang-14 with its
# sanitizer runtimes: the sanitizer pass (Clang builds it 2.5x faster than GCC at -O0), and
# lld-14, which links its test binaries (4x less CPU than GNU ld);
# tzdata: the IANA time zones of schedules (`timezone:`; also needed where such schedules run).
# python3-openpyxl: reads back the .xlsx exports in the export tests. python3-pandas: the
# Python client's tests (clients/python); R with curl, jsonlite, testthat and xts: the R
# client's package and its tests (clients/r).
TEST_PKGS=(python3 python3-openpyxl python3-pandas prometheus openssl chromium postgresql-15 clang-14 libclang-rt-14-dev
  lld-14 tzdata r-base-core r-cran-curl r-cran-jsonlite r-cran-testthat r-cran-xts)
# The deployment tests (issue 21, scripts/container_test.sh): podman with runc (crun cannot run
# here), catatonit for pods, mmdebstrap for the Debian base image, podman-compose and the
# CNI dnsname plugin (compose services find each other by name), nodejs and npm for the offline
# manifest and workflow validators (deploy/validate, package-lock.json).
TEST_PKGS+=(podman runc catatonit mmdebstrap uidmap slirp4netns fuse-overlayfs podman-compose
  golang-github-containernetworking-plugin-dnsname nodejs)
# Debian's npm only where no npm exists (a Node.js from elsewhere brings its own).
command -v npm >/dev/null 2>&1 || TEST_PKGS+=(npm)
# nginx, FastAPI and uvicorn: the serving benchmark's reference ceiling and Python peer.
BENCH_PKGS=(hyperfine wrk r-cran-forecast python3-statsmodels nginx python3-fastapi python3-uvicorn)

what=${1:-build}
pkgs=("${BUILD_PKGS[@]}")
case "$what" in
  build) ;;
  test) pkgs+=("${TEST_PKGS[@]}") ;;
  bench) pkgs+=("${TEST_PKGS[@]}" "${BENCH_PKGS[@]}") ;;
  *) echo "usage: $0 build|test|bench" >&2; exit 2 ;;
esac

# nodejs and npm (issue 20): build the web console (ui/, Vite; the quick start builds it too) and
# run its Vitest and Playwright tests (Playwright drives the chromium above; no browser download).
# Only when no npm is on the PATH: a NodeSource nodejs bundles its own npm and conflicts with
# Debian's.
if ! command -v npm >/dev/null 2>&1; then
  pkgs+=(nodejs npm)
fi

# ALMANAC_EXTRA_PACKAGES adds packages (also used by tests to exercise the "missing" path).
read -r -a extra <<< "${ALMANAC_EXTRA_PACKAGES:-}"
pkgs+=("${extra[@]}")

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

apt_line="apt-get install -y -o DPkg::Lock::Timeout=600 --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO="sudo"
else
  echo "almanac needs these Debian packages, and this script cannot install them without root or sudo:" >&2
  echo "  sudo apt-get update && sudo $apt_line" >&2
  exit 1
fi
echo "Installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -o DPkg::Lock::Timeout=600 -qq
$SUDO $apt_line -qq
