#include "store/postgres/pg_conn.h"

#include <poll.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <thread>

namespace almanac::store::pg {

// --------------------------------------------------------------------------------- Params

Params& Params::Add(std::string_view text) {
  if (text.find('\0') != std::string_view::npos && error_.ok())
    error_ = InvalidArgumentError("a text value contains a NUL byte, which PostgreSQL text cannot store (parameter " +
                                  std::to_string(values_.size() + 1) + ")");
  values_.emplace_back(std::string(text));
  formats_.push_back(0);
  return *this;
}

Params& Params::Add(int64_t v) {
  values_.emplace_back(std::to_string(v));
  formats_.push_back(0);
  return *this;
}

Params& Params::Add(double v) {
  if (std::isnan(v)) return AddNull();
  char buf[32];
  // 17 significant digits round-trip every double exactly.
  const int n = std::snprintf(buf, sizeof buf, "%.17g", v);
  values_.emplace_back(std::string(buf, static_cast<size_t>(n)));
  formats_.push_back(0);
  return *this;
}

Params& Params::Add(bool v) {
  values_.emplace_back(v ? "t" : "f");
  formats_.push_back(0);
  return *this;
}

Params& Params::AddNull() {
  values_.emplace_back(std::nullopt);
  formats_.push_back(0);
  return *this;
}

Params& Params::AddBytes(std::string_view bytes) {
  values_.emplace_back(std::string(bytes));
  formats_.push_back(1);
  return *this;
}

void Params::Arrays(std::vector<const char*>* values, std::vector<int>* lengths, std::vector<int>* formats) const {
  values->clear();
  lengths->clear();
  for (const auto& v : values_) {
    values->push_back(v ? v->data() : nullptr);
    lengths->push_back(v ? static_cast<int>(v->size()) : 0);
  }
  *formats = formats_;
}

// ------------------------------------------------------------------------------- PgResult

int64_t PgResult::Int(int row, int col) const {
  std::string_view v = View(row, col);
  int64_t out = 0;
  std::from_chars(v.data(), v.data() + v.size(), out);
  return out;
}

double PgResult::Double(int row, int col) const {
  if (IsNull(row, col)) return std::nan("");
  std::string_view v = View(row, col);
  double out = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc()) {
    if (v == "NaN") return std::nan("");
    if (v == "Infinity") return HUGE_VAL;
    if (v == "-Infinity") return -HUGE_VAL;
  }
  return out;
}

std::string PgResult::Bytes(int row, int col) const {
  size_t n = 0;
  const auto* text = reinterpret_cast<const unsigned char*>(Pq().PQgetvalue(r_.get(), row, col));
  unsigned char* raw = Pq().PQunescapeBytea(text, &n);
  if (raw == nullptr) return {};
  std::string out(reinterpret_cast<char*>(raw), n);
  Pq().PQfreemem(raw);
  return out;
}

int64_t PgResult::Affected() const {
  const char* n = Pq().PQcmdTuples(r_.get());
  return (n == nullptr || *n == 0) ? 0 : std::strtoll(n, nullptr, 10);
}

// --------------------------------------------------------------------------------- errors

Status StatusFromSqlState(std::string_view state, std::string message) {
  if (state == "23505") return AlreadyExistsError(std::move(message));
  if (state == "23503") return FailedPreconditionError(std::move(message));
  if (state == "40001" || state == "40P01") return AbortedError(std::move(message));
  if (state.rfind("08", 0) == 0 || state == "57P01" || state == "57P02" || state == "57P03" || state == "53300")
    return UnavailableError(std::move(message));
  if (state == "55P03") return UnavailableError(std::move(message));  // lock not available
  if (state.rfind("22", 0) == 0 || state.rfind("23", 0) == 0) return InvalidArgumentError(std::move(message));
  if (state == "57014") return DeadlineExceededError(std::move(message));  // statement timeout
  return InternalError(std::move(message));
}

namespace {
// Statuses raised by the database layer carry this marker in their message so that callers'
// own Aborted/Unavailable errors are not mistaken for retryable ones.
constexpr std::string_view kDbMarker = "PostgreSQL: ";

std::string Trimmed(const char* s) {
  std::string out = s ? s : "";
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}
}  // namespace

bool IsRetryable(const Status& s) {
  return (s.code() == StatusCode::kAborted || s.code() == StatusCode::kUnavailable) &&
         s.message().find(kDbMarker) != std::string::npos;
}

std::string RedactConnInfo(std::string_view conninfo) {
  std::string s(conninfo);
  if (s.rfind("postgresql://", 0) == 0 || s.rfind("postgres://", 0) == 0) {
    const size_t scheme = s.find("://") + 3;
    const size_t at = s.find('@', scheme);
    const size_t slash = s.find('/', scheme);
    if (at != std::string::npos && (slash == std::string::npos || at < slash)) {
      const size_t colon = s.find(':', scheme);
      if (colon != std::string::npos && colon < at) s.replace(colon + 1, at - colon - 1, "***");
    }
    // password=... in the query string.
    for (size_t p = s.find("password="); p != std::string::npos; p = s.find("password=", p + 1)) {
      const size_t end = s.find('&', p);
      s.replace(p + 9, (end == std::string::npos ? s.size() : end) - p - 9, "***");
    }
    return s;
  }
  for (size_t p = s.find("password"); p != std::string::npos; p = s.find("password", p + 1)) {
    size_t eq = s.find('=', p);
    if (eq == std::string::npos) break;
    size_t v = eq + 1;
    while (v < s.size() && s[v] == ' ') ++v;
    size_t end = v;
    if (end < s.size() && s[end] == '\'') {
      ++end;
      while (end < s.size() && s[end] != '\'') end += (s[end] == '\\') ? 2 : 1;
      end = std::min(end + 1, s.size());
    } else {
      while (end < s.size() && s[end] != ' ') ++end;
    }
    s.replace(v, end - v, "***");
  }
  return s;
}

// ----------------------------------------------------------------------------------- Conn

Conn::~Conn() { Pq().PQfinish(conn_); }

Result<std::unique_ptr<Conn>> Conn::Connect(const std::string& conninfo, const ConnectOptions& options) {
  ALMANAC_RETURN_IF_ERROR(LoadLibPq().status());
  const std::string timeout = std::to_string(options.connect_timeout_s);
  // Our defaults first: with expand_dbname the connection string's own settings override them.
  const char* keys[] = {"connect_timeout", "application_name", "dbname", nullptr};
  const char* values[] = {timeout.c_str(), options.application_name.c_str(), conninfo.c_str(), nullptr};
  PGconn* c = Pq().PQconnectdbParams(keys, values, 1);
  if (c == nullptr) return ResourceExhaustedError("cannot allocate a PostgreSQL connection");
  if (Pq().PQstatus(c) != CONNECTION_OK) {
    std::string why = Trimmed(Pq().PQerrorMessage(c));
    Pq().PQfinish(c);
    return UnavailableError(std::string(kDbMarker) + "cannot connect to " + RedactConnInfo(conninfo) + ": " + why);
  }
  // Quiet NOTICEs (they would go to stderr).
  Pq().PQsetNoticeProcessor(c, [](void*, const char*) {}, nullptr);
  std::unique_ptr<Conn> out(new Conn(c));
  // UTC timestamps, and errors instead of silent truncation.
  ALMANAC_RETURN_IF_ERROR(out->Exec("SET TIME ZONE 'UTC'"));
  return out;
}

Status Conn::ResultStatus(PGresult* r, std::string_view what) {
  const ExecStatusType st = r ? Pq().PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_COPY_IN || st == PGRES_EMPTY_QUERY)
    return Status::Ok();
  if (r == nullptr || Pq().PQstatus(conn_) != CONNECTION_OK) {
    return UnavailableError(std::string(kDbMarker) + "connection lost (" + Trimmed(Pq().PQerrorMessage(conn_)) + ")" +
                            (what.empty() ? "" : " during " + std::string(what)));
  }
  const char* state = Pq().PQresultErrorField(r, PG_DIAG_SQLSTATE);
  std::string msg = Trimmed(Pq().PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY));
  if (msg.empty()) msg = Trimmed(Pq().PQresultErrorMessage(r));
  if (const char* detail = Pq().PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL); detail != nullptr)
    msg += " (" + Trimmed(detail) + ")";
  return StatusFromSqlState(state ? state : "", std::string(kDbMarker) + msg);
}

Status Conn::Exec(std::string_view sql) {
  PGresult* r = Pq().PQexec(conn_, std::string(sql).c_str());
  Status s = ResultStatus(r, "");
  Pq().PQclear(r);
  return s;
}

Result<PgResult> Conn::Query(std::string_view sql, const Params& params) {
  if (!params.error().ok()) return params.error();
  auto it = prepared_.find(std::string(sql));
  if (it == prepared_.end()) {
    std::string name = "s" + std::to_string(prepared_.size() + 1);
    PGresult* r = Pq().PQprepare(conn_, name.c_str(), std::string(sql).c_str(), 0, nullptr);
    Status s = ResultStatus(r, "prepare");
    Pq().PQclear(r);
    if (!s.ok()) return s;
    it = prepared_.emplace(std::string(sql), std::move(name)).first;
  }
  std::vector<const char*> values;
  std::vector<int> lengths, formats;
  params.Arrays(&values, &lengths, &formats);
  PGresult* r = Pq().PQexecPrepared(conn_, it->second.c_str(), params.size(), values.data(), lengths.data(), formats.data(), 0);
  Status s = ResultStatus(r, "");
  if (!s.ok()) {
    Pq().PQclear(r);
    return s;
  }
  return PgResult(r);
}

Status Conn::CopyIn(std::string_view copy_sql, std::string_view data) {
  PGresult* r = Pq().PQexec(conn_, std::string(copy_sql).c_str());
  Status s = ResultStatus(r, "COPY");
  Pq().PQclear(r);
  if (!s.ok()) return s;
  // Send in pieces: libpq buffers each call in memory.
  constexpr size_t kPiece = 1 << 20;
  for (size_t off = 0; off < data.size(); off += kPiece) {
    const size_t n = std::min(kPiece, data.size() - off);
    if (Pq().PQputCopyData(conn_, data.data() + off, static_cast<int>(n)) != 1) {
      return UnavailableError(std::string(kDbMarker) + "COPY failed: " + Trimmed(Pq().PQerrorMessage(conn_)));
    }
  }
  if (Pq().PQputCopyEnd(conn_, nullptr) != 1)
    return UnavailableError(std::string(kDbMarker) + "COPY failed: " + Trimmed(Pq().PQerrorMessage(conn_)));
  Status out;
  while (PGresult* res = Pq().PQgetResult(conn_)) {
    Status st = ResultStatus(res, "COPY");
    if (out.ok() && !st.ok()) out = st;
    Pq().PQclear(res);
  }
  return out;
}

Result<std::vector<std::pair<std::string, std::string>>> Conn::WaitNotifications(std::chrono::milliseconds timeout) {
  std::vector<std::pair<std::string, std::string>> out;
  auto drain = [&]() -> Status {
    if (Pq().PQconsumeInput(conn_) != 1)
      return UnavailableError(std::string(kDbMarker) + "connection lost while listening (" + Trimmed(Pq().PQerrorMessage(conn_)) + ")");
    while (PGnotify* n = Pq().PQnotifies(conn_)) {
      out.emplace_back(n->relname, n->extra ? n->extra : "");
      Pq().PQfreemem(n);
    }
    return Status::Ok();
  };
  ALMANAC_RETURN_IF_ERROR(drain());
  if (!out.empty()) return out;
  pollfd pfd{Pq().PQsocket(conn_), POLLIN, 0};
  if (pfd.fd < 0) return UnavailableError(std::string(kDbMarker) + "connection lost while listening");
  const int rc = ::poll(&pfd, 1, static_cast<int>(timeout.count()));
  if (rc < 0 && errno != EINTR) return UnavailableError(std::string("poll failed: ") + std::strerror(errno));
  if (rc > 0) ALMANAC_RETURN_IF_ERROR(drain());
  return out;
}

// ----------------------------------------------------------------------------------- Pool

Pool::Pool(std::string conninfo, ConnectOptions options, int max_size)
    : conninfo_(std::move(conninfo)), options_(std::move(options)), max_size_(std::max(1, max_size)) {}

Pool::~Pool() = default;

Pool::Lease::~Lease() {
  if (pool_ != nullptr && conn_ != nullptr) pool_->Release(std::move(conn_), discard_);
}

Result<Pool::Lease> Pool::Acquire() {
  std::unique_lock lock(mu_);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(std::max(1, options_.connect_timeout_s));
  for (;;) {
    while (!idle_.empty()) {
      std::unique_ptr<Conn> c = std::move(idle_.back());
      idle_.pop_back();
      if (!c->broken() && c->idle()) return Lease(this, std::move(c));
      --open_;  // drop a dead connection
    }
    if (open_ < max_size_) {
      ++open_;
      lock.unlock();
      auto c = Conn::Connect(conninfo_, options_);
      if (!c.ok()) {
        std::lock_guard relock(mu_);
        --open_;
        cv_.notify_one();
        return c.status();
      }
      return Lease(this, std::move(*c));
    }
    if (cv_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() && open_ >= max_size_)
      return UnavailableError("all " + std::to_string(max_size_) + " PostgreSQL connections of this process are busy");
  }
}

void Pool::Release(std::unique_ptr<Conn> conn, bool discard) {
  std::lock_guard lock(mu_);
  if (discard || conn->broken() || !conn->idle()) {
    --open_;
    conn.reset();
  } else {
    idle_.push_back(std::move(conn));
  }
  cv_.notify_one();
}

// ------------------------------------------------------------------------- transactions

Status RunTransaction(Pool& pool, std::string_view begin, const std::function<Status(Conn&)>& body, int attempts) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  Status last;
  for (int attempt = 0; attempt < attempts; ++attempt) {
    // A serialization failure usually means a concurrent transaction that held a row we
    // needed (the audit head, a task) has just committed: the first retry goes at once, later
    // ones back off, so contention costs a redo rather than a sleep.
    const bool immediate = attempt == 1 && last.code() == StatusCode::kAborted;
    if (attempt > 0 && !immediate) {
      // Jittered exponential backoff: 5, 10, 20, ... ms (capped at 1 s), times [0.5, 1.5).
      const double base = std::min(1000.0, 5.0 * static_cast<double>(1 << std::min(attempt - 1, 8)));
      std::uniform_real_distribution<double> jitter(0.5, 1.5);
      std::this_thread::sleep_for(std::chrono::microseconds(static_cast<int64_t>(base * jitter(rng) * 1000)));
    }
    auto lease = pool.Acquire();
    if (!lease.ok()) {
      last = lease.status();
      if (IsRetryable(last)) continue;
      return last;
    }
    Conn& c = **lease;
    Status s = c.Exec(begin);
    if (s.ok()) {
      try {
        s = body(c);
      } catch (const std::exception& e) {
        s = InternalError(std::string("transaction failed: ") + e.what());
      }
    }
    if (!s.ok()) {
      if (!c.broken()) c.Exec("ROLLBACK").IgnoreError();
      if (c.broken()) lease->Discard();
      last = s;
      if (IsRetryable(s)) continue;
      return s;
    }
    Status commit = c.Exec("COMMIT");
    if (commit.ok()) return Status::Ok();
    if (c.broken()) {
      lease->Discard();
      return UnavailableError("the connection to PostgreSQL was lost while committing; the outcome of the "
                              "transaction is unknown (" + commit.message() + ")");
    }
    c.Exec("ROLLBACK").IgnoreError();
    last = commit;
    if (commit.code() == StatusCode::kAborted) continue;  // serialization failure at commit
    return commit;
  }
  return last.WithContext("gave up after " + std::to_string(attempts) + " attempts");
}

}  // namespace almanac::store::pg
