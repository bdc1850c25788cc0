// Thin RAII wrappers over the SQLite C API with errors as Status (store-internal).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "almanac/core.h"
#include "store/rows.h"

namespace almanac::store::sqlite {

// Maps an SQLite result code to a Status with `what` as context.
Status SqliteError(sqlite3* db, int rc, std::string_view what);

class Db {
 public:
  Db() = default;
  ~Db();
  Db(Db&& o) noexcept : db_(o.db_) { o.db_ = nullptr; }
  Db& operator=(Db&& o) noexcept;
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // Opens `path` (create when `create`); sets busy timeout, WAL, foreign keys and cache size.
  static Result<Db> Open(const std::string& path, bool create, int busy_timeout_ms, int cache_kib);

  sqlite3* get() const { return db_; }
  // Runs one or more statements without results.
  Status Exec(std::string_view sql, std::string_view what);

 private:
  sqlite3* db_ = nullptr;
};

// A prepared statement. Bind indices are 1-based as in SQLite.
class Stmt {
 public:
  Stmt() = default;
  ~Stmt();
  Stmt(Stmt&& o) noexcept : db_(o.db_), stmt_(o.stmt_) { o.stmt_ = nullptr; }
  Stmt& operator=(Stmt&& o) noexcept;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  static Result<Stmt> Prepare(sqlite3* db, std::string_view sql);

  Stmt& Bind(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); return *this; }
  Stmt& Bind(int i, double v) { sqlite3_bind_double(stmt_, i, v); return *this; }
  Stmt& Bind(int i, std::string_view v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& BindBlob(int i, std::string_view v) {
    sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& BindNull(int i) { sqlite3_bind_null(stmt_, i); return *this; }
  Stmt& BindOptional(int i, std::optional<double> v) { return v ? Bind(i, *v) : BindNull(i); }

  // Steps once: true when a row is available, false when done.
  Result<bool> Step();
  // Steps to completion (for statements without results) and resets.
  Status Run();
  // Resets for the next execution, keeping the bindings.
  void Rewind() { sqlite3_reset(stmt_); }
  void Reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  double Double(int col) const { return sqlite3_column_double(stmt_, col); }
  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  int Type(int col) const { return sqlite3_column_type(stmt_, col); }
  std::string Text(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col))) : std::string();
  }
  std::string Blob(int col) const {
    const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, col));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col))) : std::string();
  }

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

// The current row of a statement, for the shared row mapping (store/rows.h).
class StmtRow final : public Row {
 public:
  explicit StmtRow(const Stmt& q) : q_(q) {}
  std::string Text(int col) const override { return q_.Text(col); }
  int64_t Int(int col) const override { return q_.Int(col); }
  double Double(int col) const override { return q_.Double(col); }
  bool Bool(int col) const override { return q_.Int(col) != 0; }
  bool IsNull(int col) const override { return q_.IsNull(col); }

 private:
  const Stmt& q_;
};

// Binds fields in order, from index `first` on (store/rows.h).
class StmtFields final : public Fields {
 public:
  explicit StmtFields(Stmt& q, int first = 1) : q_(q), next_(first) {}
  Fields& Text(std::string_view v) override { q_.Bind(next_++, v); return *this; }
  Fields& Int(int64_t v) override { q_.Bind(next_++, v); return *this; }
  Fields& Real(double v) override { q_.Bind(next_++, v); return *this; }
  Fields& Bool(bool v) override { q_.Bind(next_++, int64_t{v ? 1 : 0}); return *this; }

 private:
  Stmt& q_;
  int next_;
};

// Binds the fields `write` adds (e.g. WriteRun) from ?1 on.
template <typename Record>
void BindFields(Stmt& q, void (*write)(const Record&, Fields&), const Record& record) {
  StmtFields f(q);
  write(record, f);
}

}  // namespace almanac::store::sqlite
