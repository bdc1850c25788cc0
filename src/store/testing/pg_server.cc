#ifdef ALMANAC_WITH_POSTGRES
#include "store/testing/pg_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "store/postgres/pg_conn.h"

namespace almanac::store::testing {
namespace {

constexpr const char* kBin = "/usr/lib/postgresql/15/bin";

std::string& Reason() {
  static std::string r;
  return r;
}

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

// Runs a shell command (as the postgres user when we are root); its output goes to `log`.
int Sh(const std::string& dir, const std::string& cmd, const std::string& log) {
  const std::string as = ::geteuid() == 0 ? "runuser -u postgres -- " : "";
  const std::string full = "cd '" + dir + "' && " + as + cmd + " >>'" + log + "' 2>&1";
  return std::system(full.c_str());
}

}  // namespace

PgTestServer* PgTestServer::Get() {
  static std::once_flag once;
  static PgTestServer* server = nullptr;
  std::call_once(once, [] {
    auto s = std::unique_ptr<PgTestServer>(new PgTestServer());
    if (const char* uri = std::getenv("ALMANAC_TEST_POSTGRES_URI"); uri != nullptr && *uri) {
      s->base_uri_ = uri;
      // The password of postgresql://user:password@host..., for tests that alter it.
      const std::string u = uri;
      const size_t scheme = u.find("://"), at = u.find('@');
      if (scheme != std::string::npos && at != std::string::npos) {
        const size_t colon = u.find(':', scheme + 3);
        if (colon != std::string::npos && colon < at) s->password_ = u.substr(colon + 1, at - colon - 1);
      }
      server = s.release();
      return;
    }
    Status st = s->Launch();
    if (!st.ok()) {
      Reason() = st.message();
      return;
    }
    server = s.release();
    std::atexit([] { delete server; });
  });
  return server;
}

std::string PgTestServer::UnavailableReason() { return Reason(); }

Result<std::unique_ptr<PgTestServer>> PgTestServer::LaunchPrivate() {
  auto s = std::unique_ptr<PgTestServer>(new PgTestServer());
  ALMANAC_RETURN_IF_ERROR(s->Launch());
  return s;
}

Status PgTestServer::Launch() {
  namespace fs = std::filesystem;
  if (!fs::exists(std::string(kBin) + "/initdb"))
    return UnavailableError(std::string("PostgreSQL 15 server binaries not found in ") + kBin +
                            " (apt-get install postgresql-15, or set ALMANAC_TEST_POSTGRES_URI)");
  char tmpl[] = "/tmp/almanac-pg-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return InternalError("mkdtemp failed");
  dir_ = tmpl;
  password_ = "almanac-test-" + std::to_string(::getpid());
  std::ofstream(dir_ + "/pw") << password_ << "\n";
  if (::geteuid() == 0) {
    if (std::system(("chown -R postgres:postgres '" + dir_ + "'").c_str()) != 0)
      return UnavailableError("cannot chown " + dir_ + " to the postgres user (does it exist?)");
  }
  const std::string log = dir_ + "/setup.log";
  if (Sh(dir_, std::string(kBin) + "/initdb -U postgres --auth-local=trust --auth-host=scram-sha-256 --pwfile='" + dir_ +
                   "/pw' --no-sync --locale=C --encoding=UTF8 -D '" + dir_ + "/data'",
         log) != 0)
    return UnavailableError("initdb failed (see " + log + ")");
  port_ = FreePort();
  ALMANAC_RETURN_IF_ERROR(Start());
  // Watchdog: stop the server and remove the folder once this process is gone, however it ended.
  const std::string as = ::geteuid() == 0 ? "runuser -u postgres -- " : "";
  const std::string watchdog = "setsid sh -c 'while kill -0 " + std::to_string(::getpid()) +
                               " 2>/dev/null; do sleep 1; done; cd /tmp; " + as + std::string(kBin) +
                               "/pg_ctl stop -m immediate -D \"" + dir_ + "/data\" >/dev/null 2>&1; rm -rf \"" + dir_ +
                               "\"' >/dev/null 2>&1 </dev/null &";
  if (std::system(watchdog.c_str()) != 0) return InternalError("cannot start the PostgreSQL watchdog");
  return Status::Ok();
}

Status PgTestServer::Start() {
  if (dir_.empty()) return FailedPreconditionError("an external test server cannot be started");
  const std::string opts = "-c listen_addresses=127.0.0.1 -p " + std::to_string(port_) + " -k '" + dir_ +
                           "' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200";
  if (Sh(dir_, std::string(kBin) + "/pg_ctl -w -t 60 -D '" + dir_ + "/data' -l '" + dir_ + "/server.log' start -o \"" + opts + "\"",
         dir_ + "/setup.log") != 0)
    return UnavailableError("pg_ctl start failed (see " + dir_ + "/server.log)");
  return Status::Ok();
}

Status PgTestServer::Stop() {
  if (dir_.empty()) return FailedPreconditionError("an external test server cannot be stopped");
  if (Sh(dir_, std::string(kBin) + "/pg_ctl -w -D '" + dir_ + "/data' stop -m fast", dir_ + "/setup.log") != 0)
    return InternalError("pg_ctl stop failed");
  return Status::Ok();
}

PgTestServer::~PgTestServer() {
  if (dir_.empty()) return;
  Sh(dir_, std::string(kBin) + "/pg_ctl -D '" + dir_ + "/data' stop -m immediate", "/dev/null");
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string PgTestServer::UriFor(const std::string& database) const {
  if (!base_uri_.empty()) {
    // Replace the database part of the given URI.
    std::string u = base_uri_;
    const size_t scheme = u.find("://");
    const size_t slash = u.find('/', scheme == std::string::npos ? 0 : scheme + 3);
    const size_t q = u.find('?');
    const std::string query = q == std::string::npos ? "" : u.substr(q);
    const std::string head = slash == std::string::npos ? u.substr(0, q) : u.substr(0, slash);
    return head + "/" + database + query;
  }
  return "postgresql://" + user_ + ":" + password_ + "@" + host_ + ":" + std::to_string(port_) + "/" + database;
}

Result<std::string> PgTestServer::NewDatabase() {
  const std::string name = "almanac_t" + std::to_string(::getpid()) + "_" + std::to_string(++counter_);
  ALMANAC_ASSIGN_OR_RETURN(auto conn, pg::Conn::Connect(base_uri_.empty() ? AdminUri() : base_uri_, {}));
  ALMANAC_RETURN_IF_ERROR(conn->Exec("DROP DATABASE IF EXISTS " + name));
  ALMANAC_RETURN_IF_ERROR(conn->Exec("CREATE DATABASE " + name + " TEMPLATE template0"));
  return UriFor(name);
}

}  // namespace almanac::store::testing

#endif  // ALMANAC_WITH_POSTGRES
