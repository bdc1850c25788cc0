// A thin RAII layer over libpq (store-internal): connections, prepared statements, results,
// COPY, SQLSTATE -> Status mapping, a connection pool, and the retry loop for transactions.
//
// Why libpq and not libpqxx: Debian 12 ships libpqxx 6.4, whose API throws on every error
// (almanac returns errors by value) and has no string_view parameters; libpq's C API maps
// one-to-one onto what we need (prepared statements, COPY, LISTEN/NOTIFY, SQLSTATE codes)
// with no exception boundary to guard.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "almanac/core.h"
#include "store/postgres/libpq.h"
#include "store/rows.h"

namespace almanac::store::pg {

// Query parameters, sent as text (bytea as binary). Text may not contain NUL bytes
// (PostgreSQL text cannot store them): Add() records an InvalidArgument error instead, which
// the query then returns.
class Params {
 public:
  Params& Add(std::string_view text);
  Params& Add(const std::string& text) { return Add(std::string_view(text)); }
  Params& Add(const char* text) { return Add(std::string_view(text)); }
  Params& Add(int64_t v);
  Params& Add(int v) { return Add(static_cast<int64_t>(v)); }
  Params& Add(double v);  // NaN -> NULL (almanac's explicit missing value)
  Params& Add(bool v);
  Params& AddNull();
  Params& AddBytes(std::string_view bytes);  // bytea, binary format
  template <typename T>
  Params& Add(const std::optional<T>& v) {
    return v ? Add(*v) : AddNull();
  }

  int size() const { return static_cast<int>(values_.size()); }
  const Status& error() const { return error_; }
  // Arrays for PQexecPrepared (valid while this object lives and is not modified).
  void Arrays(std::vector<const char*>* values, std::vector<int>* lengths, std::vector<int>* formats) const;

 private:
  std::vector<std::optional<std::string>> values_;
  std::vector<int> formats_;
  Status error_;
};

// A query result (owned). Rows and columns are 0-based.
class PgResult {
 public:
  PgResult() = default;
  explicit PgResult(PGresult* r) : r_(r, [](PGresult* p) { Pq().PQclear(p); }) {}
  int rows() const { return r_ ? Pq().PQntuples(r_.get()) : 0; }
  bool IsNull(int row, int col) const { return Pq().PQgetisnull(r_.get(), row, col) != 0; }
  std::string Text(int row, int col) const {
    return std::string(Pq().PQgetvalue(r_.get(), row, col), static_cast<size_t>(Pq().PQgetlength(r_.get(), row, col)));
  }
  std::string_view View(int row, int col) const {
    return {Pq().PQgetvalue(r_.get(), row, col), static_cast<size_t>(Pq().PQgetlength(r_.get(), row, col))};
  }
  int64_t Int(int row, int col) const;
  double Double(int row, int col) const;  // NULL -> NaN
  bool Bool(int row, int col) const { return View(row, col) == "t"; }
  std::string Bytes(int row, int col) const;  // a bytea column in text (hex) format
  // rows affected by INSERT/UPDATE/DELETE.
  int64_t Affected() const;

 private:
  std::shared_ptr<PGresult> r_;
};

struct ConnectOptions {
  // Seconds to wait for a connection (libpq connect_timeout); a connection string's own
  // connect_timeout wins.
  int connect_timeout_s = 10;
  std::string application_name = "almanac";
};

// Removes the password from a connection URI or key=value string, for messages and logs.
std::string RedactConnInfo(std::string_view conninfo);

// One connection. Not thread-safe (one user at a time, e.g. through the Pool).
class Conn {
 public:
  ~Conn();
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  // Unavailable (with libpq's reason, password never included) when the server cannot be
  // reached or refuses the login within the timeout.
  static Result<std::unique_ptr<Conn>> Connect(const std::string& conninfo, const ConnectOptions& options);

  // A statement without parameters (BEGIN, COMMIT, DDL, several statements separated by ';').
  Status Exec(std::string_view sql);
  // A parameterised statement, prepared on this connection on first use and reused after.
  Result<PgResult> Query(std::string_view sql, const Params& params = Params());
  // COPY ... FROM STDIN with the given text-format data (one call: all of it).
  Status CopyIn(std::string_view copy_sql, std::string_view data);

  // The connection is unusable (server gone, network error); the pool discards it.
  bool broken() const { return Pq().PQstatus(conn_) != CONNECTION_OK; }
  // Transaction state of the session (for sanity checks before reuse).
  bool idle() const { return Pq().PQtransactionStatus(conn_) == PQTRANS_IDLE; }
  PGconn* raw() { return conn_; }
  // Waits up to timeout for NOTIFY messages on channels this connection LISTENs to; returns
  // (channel, payload) pairs (empty on timeout). Unavailable when the connection broke.
  Result<std::vector<std::pair<std::string, std::string>>> WaitNotifications(std::chrono::milliseconds timeout);

 private:
  explicit Conn(PGconn* c) : conn_(c) {}
  Status ResultStatus(PGresult* r, std::string_view what);

  PGconn* conn_;
  std::unordered_map<std::string, std::string> prepared_;  // sql -> statement name
};

// Maps a failed result / connection to a Status: unique violation -> AlreadyExists, check
// and data errors -> InvalidArgument, foreign-key -> FailedPrecondition, serialization
// failure and deadlock -> Aborted (retryable), connection problems and server shutdown ->
// Unavailable, anything else -> Internal. The message is PostgreSQL's primary message.
Status StatusFromSqlState(std::string_view sqlstate, std::string message);

// True for errors after which the whole transaction may be retried: Aborted (serialization
// failure, deadlock) and Unavailable (lost connection) that were raised by the database.
bool IsRetryable(const Status& s);

// A bounded pool of connections to one database. Thread-safe.
class Pool {
 public:
  Pool(std::string conninfo, ConnectOptions options, int max_size);
  ~Pool();

  class Lease {
   public:
    Lease(Pool* pool, std::unique_ptr<Conn> conn) : pool_(pool), conn_(std::move(conn)) {}
    Lease(Lease&& o) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    Conn& operator*() { return *conn_; }
    Conn* operator->() { return conn_.get(); }
    // Do not return this connection to the pool (e.g. after an error left it in doubt).
    void Discard() { discard_ = true; }

   private:
    Pool* pool_;
    std::unique_ptr<Conn> conn_;
    bool discard_ = false;
  };

  // A connection: an idle one, a new one while below max_size, or waits for one to be
  // returned (up to the connect timeout: then Unavailable).
  Result<Lease> Acquire();
  const std::string& conninfo() const { return conninfo_; }
  const ConnectOptions& options() const { return options_; }

 private:
  void Release(std::unique_ptr<Conn> conn, bool discard);

  std::string conninfo_;
  ConnectOptions options_;
  int max_size_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Conn>> idle_;
  int open_ = 0;
};

// Runs `body` in a transaction on a pooled connection, retrying the whole transaction (up
// to `attempts` times, with jittered exponential backoff) when it failed with a serialization
// failure, a deadlock or a lost connection before COMMIT was sent. A connection lost during
// COMMIT is not retried: its outcome is unknown, and the error says so.
// `begin` is the statement that opens the transaction (e.g. "BEGIN ISOLATION LEVEL SERIALIZABLE").
Status RunTransaction(Pool& pool, std::string_view begin, const std::function<Status(Conn&)>& body, int attempts = 8);

// Row `i` of a result, for the shared row mapping (store/rows.h).
class PgRow final : public Row {
 public:
  PgRow(const PgResult& r, int i) : r_(r), i_(i) {}
  std::string Text(int col) const override { return r_.Text(i_, col); }
  int64_t Int(int col) const override { return r_.Int(i_, col); }
  double Double(int col) const override { return r_.Double(i_, col); }
  bool Bool(int col) const override { return r_.Bool(i_, col); }
  bool IsNull(int col) const override { return r_.IsNull(i_, col); }

 private:
  const PgResult& r_;
  int i_;
};

// Adds fields to query parameters, in order (store/rows.h).
class ParamFields final : public Fields {
 public:
  explicit ParamFields(Params& p) : p_(p) {}
  Fields& Text(std::string_view v) override { p_.Add(v); return *this; }
  Fields& Int(int64_t v) override { p_.Add(v); return *this; }
  Fields& Real(double v) override { p_.Add(v); return *this; }
  Fields& Bool(bool v) override { p_.Add(v); return *this; }

 private:
  Params& p_;
};

// The parameters `write` adds (e.g. WriteRun).
template <typename Record>
Params ParamsOf(void (*write)(const Record&, Fields&), const Record& record) {
  Params p;
  ParamFields f(p);
  write(record, f);
  return p;
}

}  // namespace almanac::store::pg
