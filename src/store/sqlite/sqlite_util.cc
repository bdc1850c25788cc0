#include "store/sqlite/sqlite_util.h"

namespace almanac::store::sqlite {

Status SqliteError(sqlite3* db, int rc, std::string_view what) {
  std::string msg(what);
  msg += ": ";
  msg += (db != nullptr) ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return UnavailableError(msg + " (the store is in use by another writer; try again)");
    case SQLITE_CONSTRAINT: return AlreadyExistsError(msg);
    case SQLITE_CORRUPT: return DataLossError(msg);
    case SQLITE_NOTADB: return FailedPreconditionError(msg + " (not an SQLite database)");
    case SQLITE_FULL: return ResourceExhaustedError(msg + " (disk full)");
    case SQLITE_CANTOPEN: return NotFoundError(msg);
    case SQLITE_READONLY:
    case SQLITE_PERM: return PermissionDeniedError(msg);
    case SQLITE_INTERRUPT: return CancelledError(msg);
    default: return InternalError(msg);
  }
}

Db::~Db() {
  if (db_ != nullptr) sqlite3_close_v2(db_);
}

Db& Db::operator=(Db&& o) noexcept {
  if (this != &o) {
    if (db_ != nullptr) sqlite3_close_v2(db_);
    db_ = o.db_;
    o.db_ = nullptr;
  }
  return *this;
}

Result<Db> Db::Open(const std::string& path, bool create, int busy_timeout_ms, int cache_kib) {
  // Memory statistics take a global mutex on every allocation; almanac does not use them.
  static const bool configured = [] {
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    return true;
  }();
  (void)configured;
  Db db;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  int rc = sqlite3_open_v2(path.c_str(), &db.db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    Status s = SqliteError(db.db_, rc, "cannot open " + path);
    return s;
  }
  sqlite3_busy_timeout(db.db_, busy_timeout_ms);
  sqlite3_extended_result_codes(db.db_, 1);
  ALMANAC_RETURN_IF_ERROR(db.Exec("PRAGMA journal_mode=WAL", "cannot use " + path));
  ALMANAC_RETURN_IF_ERROR(db.Exec("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA cache_size=-" +
                                      std::to_string(cache_kib) + "; PRAGMA temp_store=FILE",
                                  "cannot configure " + path));
  return db;
}

Status Db::Exec(std::string_view sql, std::string_view what) {
  char* err = nullptr;
  std::string s(sql);
  int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err);
  if (err != nullptr) sqlite3_free(err);
  if (rc != SQLITE_OK) return SqliteError(db_, rc, what);
  return Status::Ok();
}

Stmt::~Stmt() {
  if (stmt_ != nullptr) sqlite3_finalize(stmt_);
}

Stmt& Stmt::operator=(Stmt&& o) noexcept {
  if (this != &o) {
    if (stmt_ != nullptr) sqlite3_finalize(stmt_);
    db_ = o.db_;
    stmt_ = o.stmt_;
    o.stmt_ = nullptr;
  }
  return *this;
}

Result<Stmt> Stmt::Prepare(sqlite3* db, std::string_view sql) {
  Stmt s;
  s.db_ = db;
  int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &s.stmt_, nullptr);
  if (rc != SQLITE_OK) return SqliteError(db, rc, "cannot prepare statement");
  return s;
}

Result<bool> Stmt::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Status s = SqliteError(db_, rc, "query failed");
  sqlite3_reset(stmt_);
  return s;
}

Status Stmt::Run() {
  auto r = Step();
  Reset();
  if (!r.ok()) return r.status();
  return Status::Ok();
}

}  // namespace almanac::store::sqlite
