# Third-party dependencies, all from Debian 12 packages (see scripts/deps.sh). Only what the code
# links: logging is monitor's own ECS/text logger (one JSON line per event, secrets redacted),
# not spdlog, and formatting is std::to_chars, not fmt (docs/architecture.md, "Dependencies").
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(Eigen3 3.3 REQUIRED NO_MODULE)
find_package(SQLite3 REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(CLI11 REQUIRED)
find_package(Boost 1.74 REQUIRED)
find_package(CURL REQUIRED)
find_package(simdjson 3 REQUIRED)
# NLopt: the C++ config (nlopt_cxx); the plain one lacks the C++-only algorithms.
pkg_check_modules(NLOPT REQUIRED IMPORTED_TARGET nlopt_cxx)
# libxlsxwriter (.xlsx exports): headers only, the library is opened on first use
# (src/cli/xlsx_writer.h).
pkg_check_modules(XLSXWRITER REQUIRED IMPORTED_TARGET xlsxwriter)

# The PostgreSQL back-end uses libpq directly (src/store/postgres/pg_conn.h says why not libpqxx).
if(ALMANAC_WITH_POSTGRES)
  find_package(PostgreSQL QUIET)
  if(NOT PostgreSQL_FOUND)
    message(STATUS "PostgreSQL back-end disabled: libpq-dev not found")
    set(ALMANAC_WITH_POSTGRES OFF)
  endif()
endif()

if(ALMANAC_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(ALMANAC_BUILD_BENCH)
  find_package(benchmark QUIET)
  if(NOT benchmark_FOUND)
    message(STATUS "Google Benchmark not found: bench/ disabled")
    set(ALMANAC_BUILD_BENCH OFF)
  endif()
endif()
