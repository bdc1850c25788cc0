// `almanac migrate`: copies a whole SQLite store and its artifact folder into an empty
// PostgreSQL store, table by table with COPY (ids, timestamps and the audit chain kept
// exactly), then verifies counts, the audit chain and head, every snapshot's content hash,
// every series' latest view and every artifact's SHA-256 on the destination.
#include <sys/stat.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "almanac/store.h"
#include "store/postgres/pg_store.h"
#include "store/sqlite/sqlite_util.h"

namespace almanac::store {
namespace {

// Tables in foreign-key order. schema_migrations is the destination's own; the PostgreSQL-only
// artifact tables are filled from the artifact folder.
constexpr const char* kTables[] = {"series",        "loads",        "vintages",          "observations",
                                   "snapshot_contents", "snapshots", "experiments", "runs", "run_params",
                                   "run_metrics",   "run_latest_metrics", "run_tags",     "run_artifacts",     "step_cache",
                                   "registered_models", "model_versions", "promotion_requests", "model_tags", "model_aliases", "audit_log",
                                   "audit_head",    "api_tokens",   "scheduled_runs", "issued_forecasts",
                                   "quarantine",    "tasks"};
constexpr const char* kIdentityTables[] = {"series", "loads", "vintages", "promotion_requests", "quarantine", "tasks",
                                           "experiments"};

void AppendCopyText(std::string* out, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '\\': *out += "\\\\"; break;
      case '\t': *out += "\\t"; break;
      case '\n': *out += "\\n"; break;
      case '\r': *out += "\\r"; break;
      default: *out += c;
    }
  }
}

Result<std::vector<std::string>> Columns(sqlite3* db, const std::string& table) {
  ALMANAC_ASSIGN_OR_RETURN(sqlite::Stmt q, sqlite::Stmt::Prepare(db, "SELECT name FROM pragma_table_info(?1) ORDER BY cid"));
  q.Bind(1, table);
  std::vector<std::string> out;
  for (;;) {
    ALMANAC_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back(q.Text(0));
  }
  if (out.empty()) return DataLossError("the SQLite store has no table " + table);
  return out;
}

// SQLite keeps one row per observation; PostgreSQL one row per vintage with arrays
// (pg_migrations.cc). Returns the number of observations copied.
Result<int64_t> CopyObservations(sqlite3* db, pg::Conn& conn, const std::function<void(const std::string&)>& progress) {
  const std::string copy_sql = "COPY observations (series_id, realtime_start, vintage_id, part, periods, \"values\") FROM STDIN";
  ALMANAC_ASSIGN_OR_RETURN(sqlite::Stmt q, sqlite::Stmt::Prepare(db, "SELECT series_id, realtime_start, vintage_id, period, value "
                                                                     "FROM observations ORDER BY series_id, vintage_id, period"));
  std::string buf, periods, values;
  int64_t rows = 0, cur_series = -1, cur_rt = 0, cur_vintage = -1;
  char num[40];
  auto flush_vintage = [&] {
    if (cur_vintage < 0) return;
    buf += std::to_string(cur_series) + '\t' + std::to_string(cur_rt) + '\t' + std::to_string(cur_vintage) + "\t0\t{" +
           periods + "}\t{" + values + "}\n";
    periods.clear();
    values.clear();
  };
  for (;;) {
    ALMANAC_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    if (q.Int(2) != cur_vintage || q.Int(0) != cur_series) {
      flush_vintage();
      cur_series = q.Int(0);
      cur_rt = q.Int(1);
      cur_vintage = q.Int(2);
    }
    if (!periods.empty()) {
      periods += ',';
      values += ',';
    }
    periods += std::to_string(q.Int(3));
    if (q.IsNull(4)) {
      values += "NULL";
    } else {
      auto [end, ec] = std::to_chars(num, num + sizeof num, q.Double(4));
      values.append(num, end);
    }
    ++rows;
    if (buf.size() >= (16u << 20)) {
      ALMANAC_RETURN_IF_ERROR(conn.CopyIn(copy_sql, buf).WithContext("copying observations"));
      buf.clear();
      if (progress) progress("  observations: " + std::to_string(rows) + " rows...");
    }
  }
  flush_vintage();
  if (!buf.empty()) ALMANAC_RETURN_IF_ERROR(conn.CopyIn(copy_sql, buf).WithContext("copying observations"));
  return rows;
}

Result<int64_t> CopyTable(sqlite3* db, pg::Conn& conn, const std::string& table,
                          const std::function<void(const std::string&)>& progress) {
  if (table == "observations") return CopyObservations(db, conn, progress);
  ALMANAC_ASSIGN_OR_RETURN(std::vector<std::string> cols, Columns(db, table));
  std::string col_list;
  for (size_t i = 0; i < cols.size(); ++i) col_list += (i ? ", \"" : "\"") + cols[i] + "\"";
  const std::string copy_sql = "COPY " + table + " (" + col_list + ") FROM STDIN";
  // rowid order keeps insertion order (metrics' tie order, audit order); WITHOUT ROWID tables
  // come in primary-key order.
  auto has_rowid = sqlite::Stmt::Prepare(db, "SELECT rowid FROM " + table + " LIMIT 0");
  const std::string order = has_rowid.ok() ? " ORDER BY rowid" : "";
  ALMANAC_ASSIGN_OR_RETURN(sqlite::Stmt q, sqlite::Stmt::Prepare(db, "SELECT " + col_list + " FROM " + table + order));
  std::string buf;
  int64_t rows = 0;
  char num[40];
  static constexpr char kHex[] = "0123456789abcdef";
  for (;;) {
    ALMANAC_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    for (int c = 0; c < static_cast<int>(cols.size()); ++c) {
      if (c) buf += '\t';
      switch (q.Type(c)) {
        case SQLITE_NULL:
          // SQLite stores a NaN metric value as NULL (migration 10); PostgreSQL keeps the NaN.
          buf += (table == "run_metrics" || table == "run_latest_metrics") && cols[static_cast<size_t>(c)] == "value" ? "NaN" : "\\N";
          break;
        case SQLITE_INTEGER: buf += std::to_string(q.Int(c)); break;
        case SQLITE_FLOAT: {
          const int n = std::snprintf(num, sizeof num, "%.17g", q.Double(c));
          buf.append(num, static_cast<size_t>(n));
          break;
        }
        case SQLITE_BLOB: {
          // bytea hex input, its backslash escaped for COPY's text format.
          buf += "\\\\x";
          for (unsigned char b : q.Blob(c)) {
            buf += kHex[b >> 4];
            buf += kHex[b & 15];
          }
          break;
        }
        default: {
          const std::string text = q.Text(c);
          if (text.find('\0') != std::string::npos)
            return InvalidArgumentError("table " + table + " holds a text value with a NUL byte, which PostgreSQL "
                                        "cannot store (row " + std::to_string(rows + 1) + ", column " + cols[static_cast<size_t>(c)] + ")");
          AppendCopyText(&buf, text);
        }
      }
    }
    buf += '\n';
    ++rows;
    if (buf.size() >= (16u << 20)) {
      ALMANAC_RETURN_IF_ERROR(conn.CopyIn(copy_sql, buf).WithContext("copying " + table));
      buf.clear();
      if (progress) progress("  " + table + ": " + std::to_string(rows) + " rows...");
    }
  }
  if (!buf.empty()) ALMANAC_RETURN_IF_ERROR(conn.CopyIn(copy_sql, buf).WithContext("copying " + table));
  return rows;
}

}  // namespace

Result<CopyReport> CopySqliteToPostgres(const std::string& sqlite_path, const std::string& artifacts_dir,
                                        const std::string& pg_uri, const std::function<void(const std::string&)>& progress) {
  auto say = [&](const std::string& line) {
    if (progress) progress(line);
  };
  CopyReport report;
  // The source: brought to the current schema, and its audit chain must verify (a tampered
  // log would be copied as if it were sound).
  ALMANAC_ASSIGN_OR_RETURN(auto src, OpenStore("sqlite:" + sqlite_path, StoreOptions{}));
  auto src_chain = VerifyAuditChain(src->metadata());
  if (!src_chain.ok())
    return FailedPreconditionError("the source store's audit log does not verify, so it is not migrated: " +
                                   src_chain.status().message());
  StoreOptions dest_opts;
  dest_opts.create_if_missing = true;
  ALMANAC_ASSIGN_OR_RETURN(auto dest, OpenStore(pg_uri, dest_opts));
  ALMANAC_ASSIGN_OR_RETURN(auto conn, pg::Conn::Connect(pg_uri, {}));
  {
    std::string sql = "SELECT 0";
    for (const char* t : kTables)
      if (std::string(t) != "audit_head" && std::string(t) != "experiments")
        sql += " + (SELECT count(*) FROM " + std::string(t) + ")";
    // Experiment 0, Default, is created by the destination's migration 10.
    sql += " + (SELECT count(*) FROM artifacts) + (SELECT count(*) FROM experiments WHERE id <> 0)";
    ALMANAC_ASSIGN_OR_RETURN(pg::PgResult r, conn->Query(sql));
    if (r.Int(0, 0) != 0)
      return FailedPreconditionError("the destination store is not empty (" + dest->uri() +
                                     "); migrate into a new, empty database");
  }
  ALMANAC_ASSIGN_OR_RETURN(sqlite::Db db, sqlite::Db::Open(sqlite_path, false, 30000, 65536));
  // One transaction: a failed copy leaves the destination empty.
  ALMANAC_RETURN_IF_ERROR(conn->Exec("BEGIN"));
  auto fail = [&](Status s) {
    if (!conn->broken()) conn->Exec("ROLLBACK").IgnoreError();
    return s.WithContext("nothing was migrated");
  };
  // The observation arrays compressed with lz4 as loads store them (pg_store.cc).
  if (auto r = conn->Query("SELECT set_config('default_toast_compression', 'lz4', true) FROM pg_settings "
                           "WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)");
      !r.ok())
    return fail(r.status());
  if (Status s = conn->Exec("DELETE FROM audit_head"); !s.ok()) return fail(s);
  if (Status s = conn->Exec("DELETE FROM experiments"); !s.ok()) return fail(s);
  for (const char* t : kTables) {
    say("copying " + std::string(t));
    auto n = CopyTable(db.get(), *conn, t, progress);
    if (!n.ok()) return fail(n.status());
    report.tables.emplace_back(t, *n);
  }
  for (const char* t : kIdentityTables) {
    const std::string sql = "SELECT setval(pg_get_serial_sequence('" + std::string(t) + "', 'id'), "
                            "COALESCE((SELECT max(id) FROM " + t + "), 0) + 1, false)";
    if (auto r = conn->Query(sql); !r.ok()) return fail(r.status());
  }
  if (Status s = conn->Exec("COMMIT"); !s.ok()) return fail(s);

  // Artifacts: every regular file of the folder, by its relative path.
  ALMANAC_ASSIGN_OR_RETURN(auto dest_artifacts, OpenArtifactStore(pg_uri));
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!artifacts_dir.empty() && fs::is_directory(artifacts_dir, ec)) {
    say("copying artifacts from " + artifacts_dir);
    for (auto it = fs::recursive_directory_iterator(artifacts_dir, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      if (it->is_symlink() || !it->is_regular_file()) continue;
      const std::string name = fs::relative(it->path(), artifacts_dir).generic_string();
      if (!ValidateArtifactName(name).ok()) continue;  // temporary or foreign files
      std::ifstream in(it->path(), std::ios::binary);
      std::stringstream bytes;
      bytes << in.rdbuf();
      ALMANAC_ASSIGN_OR_RETURN(ArtifactRecord rec, dest_artifacts->Put(name, bytes.str()));
      ++report.artifacts;
      report.artifact_bytes += rec.size;
    }
    if (ec) return InternalError("cannot list " + artifacts_dir + ": " + ec.message());
  }

  // Verification on the destination.
  say("verifying");
  for (const auto& [table, n] : report.tables) {
    ALMANAC_ASSIGN_OR_RETURN(pg::PgResult r, conn->Query(table == "observations"
                                                             ? "SELECT COALESCE(sum(cardinality(periods)), 0) FROM observations"
                                                             : "SELECT count(*) FROM " + table));
    if (r.Int(0, 0) != n)
      return DataLossError("table " + table + ": " + std::to_string(n) + " rows copied but " +
                           std::to_string(r.Int(0, 0)) + " found");
  }
  ALMANAC_ASSIGN_OR_RETURN(AuditVerification chain, VerifyAuditChain(dest->metadata()));
  if (chain.entries != src_chain->entries || chain.head_hash != src_chain->head_hash)
    return DataLossError("the copied audit log's head differs from the source's");
  report.audit_entries = chain.entries;
  report.audit_head = chain.head_hash;
  ALMANAC_ASSIGN_OR_RETURN(auto snaps, src->series().ListSnapshots());
  for (const auto& s : snaps) ALMANAC_RETURN_IF_ERROR(dest->series().GetSnapshot(s.name).status().WithContext("snapshot " + s.name));
  report.snapshots_verified = static_cast<int64_t>(snaps.size());
  ALMANAC_ASSIGN_OR_RETURN(auto series, src->series().ListSeries());
  for (const auto& info : series) {
    ALMANAC_ASSIGN_OR_RETURN(TimeSeries a, src->series().ReadAsOf(info.key, std::nullopt));
    ALMANAC_ASSIGN_OR_RETURN(TimeSeries b, dest->series().ReadAsOf(info.key, std::nullopt));
    ALMANAC_ASSIGN_OR_RETURN(std::string ha, SnapshotContentId({{info.key, a}}));
    ALMANAC_ASSIGN_OR_RETURN(std::string hb, SnapshotContentId({{info.key, b}}));
    if (ha != hb) return DataLossError("series " + info.key + " reads differently after the copy");
  }
  report.series_verified = static_cast<int64_t>(series.size());
  // Every artifact a run or a model version refers to is present and intact.
  ALMANAC_ASSIGN_OR_RETURN(sqlite::Stmt refs, sqlite::Stmt::Prepare(db.get(), "SELECT name, sha256 FROM run_artifacts UNION "
                                                                              "SELECT artifact_name, artifact_sha256 FROM model_versions"));
  for (;;) {
    ALMANAC_ASSIGN_OR_RETURN(bool row, refs.Step());
    if (!row) break;
    auto got = dest_artifacts->Get(refs.Text(0), refs.Text(1));
    if (!got.ok()) return DataLossError("artifact " + refs.Text(0) + " after the copy: " + got.status().message());
    ++report.artifacts_verified;
  }
  return report;
}

}  // namespace almanac::store
