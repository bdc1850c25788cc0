// A PostgreSQL server for tests (used by the store conformance suite and the CLI tests).
//
// ALMANAC_TEST_POSTGRES_URI set: an existing server (the URI names a database the user may
// connect to and a role that may CREATE DATABASE); tests create their own databases there.
// Otherwise a throwaway server: initdb into a temp folder (owned by the `postgres` user when
// running as root, since initdb refuses root), started on a free 127.0.0.1 port with fsync
// off, password authentication over TCP, and stopped (folder removed) when the process exits
// — also when it is killed: a watchdog shell stops the server once the test process is gone.
#pragma once

#include <memory>
#include <string>

#include "almanac/core.h"

namespace almanac::store::testing {

class PgTestServer {
 public:
  // The process-wide server, started on first use; nullptr when none can run here (see
  // UnavailableReason()).
  static PgTestServer* Get();
  static std::string UnavailableReason();
  // A private throwaway server (for tests that stop and restart it), stopped when destroyed.
  static Result<std::unique_ptr<PgTestServer>> LaunchPrivate();

  // The URI of a fresh, empty database.
  Result<std::string> NewDatabase();
  // The URI of the maintenance database ("postgres").
  std::string AdminUri() const { return UriFor("postgres"); }
  std::string UriFor(const std::string& database) const;
  int port() const { return port_; }
  const std::string& password() const { return password_; }

  // For fault tests of a throwaway server: stop and start it again on the same port.
  Status Stop();
  Status Start();
  bool throwaway() const { return !dir_.empty(); }

  ~PgTestServer();

 private:
  PgTestServer() = default;
  Status Launch();

  std::string dir_;       // throwaway server's folder ("" for an external server)
  std::string base_uri_;  // external: the given URI
  std::string user_ = "postgres";
  std::string password_;
  std::string host_ = "127.0.0.1";
  int port_ = 0;
  int counter_ = 0;
};

}  // namespace almanac::store::testing

// Skips the test when no PostgreSQL server can run here, unless ALMANAC_REQUIRE_POSTGRES=1
// (set by scripts/test.sh, so CI fails instead of skipping silently).
#define ALMANAC_REQUIRE_PG_SERVER()                                                                  \
  do {                                                                                               \
    if (::almanac::store::testing::PgTestServer::Get() == nullptr) {                                 \
      const char* req = std::getenv("ALMANAC_REQUIRE_POSTGRES");                                     \
      if (req != nullptr && std::string(req) == "1")                                                 \
        FAIL() << "PostgreSQL is required: " << ::almanac::store::testing::PgTestServer::UnavailableReason(); \
      GTEST_SKIP() << "no PostgreSQL server: " << ::almanac::store::testing::PgTestServer::UnavailableReason(); \
    }                                                                                                \
  } while (0)
