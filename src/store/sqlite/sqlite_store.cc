#include "store/sqlite/sqlite_store.h"

#include <sys/stat.h>

#include <limits>
#include <mutex>
#include <set>

#include "store/load_session_base.h"
#include "store/snapshot_content.h"
#include "store/sqlite/migrations.h"
#include "store/sqlite/sqlite_metadata.h"
#include "store/sqlite/sqlite_util.h"

namespace almanac::store::sqlite {
namespace {

constexpr int64_t kMaxRt = std::numeric_limits<int64_t>::max();

Result<Frequency> FreqFromText(const std::string& s) { return ParseFrequency(s); }

Status Migrate(Db& db, const std::string& path) {
  ALMANAC_RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE", "cannot lock " + path + " for migration"));
  auto fail = [&](Status s) {
    db.Exec("ROLLBACK", "rollback").IgnoreError();
    return s;
  };
  // An existing database must be ours.
  ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db.get(), "SELECT name FROM sqlite_master WHERE type='table'"));
  bool has_tables = false, has_migrations = false;
  for (;;) {
    auto row = q.Step();
    if (!row.ok()) return fail(row.status().WithContext(path));
    if (!*row) break;
    has_tables = true;
    if (q.Text(0) == "schema_migrations") has_migrations = true;
  }
  if (has_tables && !has_migrations)
    return fail(FailedPreconditionError(path + " is an SQLite database but not an almanac store"));
  if (!has_migrations) {
    Status s = db.Exec(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL)",
        "cannot create schema_migrations");
    if (!s.ok()) return fail(s);
  }
  ALMANAC_ASSIGN_OR_RETURN(Stmt v, Stmt::Prepare(db.get(), "SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
  auto row = v.Step();
  if (!row.ok()) return fail(row.status());
  const int current = static_cast<int>(v.Int(0));
  v.Reset();
  const int latest = Migrations().back().version;
  if (current > latest)
    return fail(FailedPreconditionError(path + " has schema version " + std::to_string(current) +
                                        ", newer than this almanac supports (" + std::to_string(latest) +
                                        "); upgrade almanac"));
  for (const auto& m : Migrations()) {
    if (m.version <= current) continue;
    Status s = db.Exec(m.sql, "migration " + std::to_string(m.version) + " failed");
    if (!s.ok()) return fail(s);
    ALMANAC_ASSIGN_OR_RETURN(Stmt ins, Stmt::Prepare(db.get(), "INSERT INTO schema_migrations VALUES (?1, ?2, ?3)"));
    ins.Bind(1, int64_t{m.version}).Bind(2, m.description).Bind(3, FormatTimestamp(SystemClock().NowMicros()));
    s = ins.Run();
    if (!s.ok()) return fail(s);
  }
  return db.Exec("COMMIT", "cannot commit migration");
}

class SqliteLoadSession : public LoadSessionBase {
 public:
  SqliteLoadSession(LoadOptions options, const Clock& clock, Db db)
      : LoadSessionBase(std::move(options), clock), db_(std::move(db)), clock_(clock) {}

  ~SqliteLoadSession() override {
    if (open_) db_.Exec("ROLLBACK", "rollback").IgnoreError();
  }

  Status Begin() {
    ALMANAC_RETURN_IF_ERROR(db_.Exec("BEGIN IMMEDIATE", "cannot start a load"));
    open_ = true;
    sqlite3* h = db_.get();
    ALMANAC_ASSIGN_OR_RETURN(find_series_, Stmt::Prepare(h, "SELECT id, frequency, latest_max_rt, latest_sha256, latest_periods FROM series WHERE key = ?1"));
    ALMANAC_ASSIGN_OR_RETURN(write_digest_,
                             Stmt::Prepare(h, "UPDATE series SET latest_max_rt = ?2, latest_sha256 = ?3, latest_periods = ?4 WHERE id = ?1"));
    ALMANAC_ASSIGN_OR_RETURN(insert_series_,
                             Stmt::Prepare(h, "INSERT INTO series (key, frequency, title, unit, seasonal_adjustment, "
                                              "source, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
    ALMANAC_ASSIGN_OR_RETURN(
        update_series_,
        Stmt::Prepare(h, "UPDATE series SET title = CASE WHEN ?2 <> '' THEN ?2 ELSE title END, "
                         "unit = CASE WHEN ?3 <> '' THEN ?3 ELSE unit END, "
                         "seasonal_adjustment = CASE WHEN ?4 <> '' THEN ?4 ELSE seasonal_adjustment END, "
                         "source = CASE WHEN ?5 <> '' THEN ?5 ELSE source END WHERE id = ?1"));
    ALMANAC_ASSIGN_OR_RETURN(read_rows_,
                             Stmt::Prepare(h, "SELECT period, realtime_start, vintage_id, value FROM observations "
                                              "WHERE series_id = ?1 ORDER BY period, realtime_start, vintage_id"));
    ALMANAC_ASSIGN_OR_RETURN(insert_vintage_,
                             Stmt::Prepare(h, "INSERT INTO vintages (series_id, load_id, realtime_start, loaded_at, kind) "
                                              "VALUES (?1, ?2, ?3, ?4, ?5)"));
    ALMANAC_ASSIGN_OR_RETURN(insert_obs_, Stmt::Prepare(h, InsertObservationsSql(1)));
    ALMANAC_ASSIGN_OR_RETURN(insert_obs_batch_, Stmt::Prepare(h, InsertObservationsSql(kInsertBatch)));
    ALMANAC_ASSIGN_OR_RETURN(Stmt load, Stmt::Prepare(h, "INSERT INTO loads (started_at, loader, source) VALUES (?1, ?2, ?3)"));
    load.Bind(1, now_micros()).Bind(2, options().loader).Bind(3, options().source);
    ALMANAC_RETURN_IF_ERROR(load.Run());
    load_id_ = sqlite3_last_insert_rowid(h);
    return Status::Ok();
  }

 protected:
  Result<std::optional<SeriesRef>> FindSeries(std::string_view key) override {
    find_series_.Bind(1, key);
    auto row = find_series_.Step();
    if (!row.ok()) return row.status();
    std::optional<SeriesRef> out;
    if (*row) {
      ALMANAC_ASSIGN_OR_RETURN(Frequency f, FreqFromText(find_series_.Text(1)));
      out = SeriesRef{find_series_.Int(0), f, false};
      if (!find_series_.IsNull(2) && !find_series_.IsNull(3))
        out->digest = LatestDigest{find_series_.Int(2), find_series_.Text(3), find_series_.Int(4)};
    }
    find_series_.Reset();
    return out;
  }

  Result<SeriesRef> ResolveSeries(const SeriesInfo& info, bool update) override {
    ALMANAC_ASSIGN_OR_RETURN(auto found, FindSeries(info.key));
    if (found) {
      ALMANAC_RETURN_IF_ERROR(CheckStoredFrequency(info.key, found->frequency, info.frequency));
      if (update) {
        update_series_.Bind(1, found->id).Bind(2, info.title).Bind(3, info.unit).Bind(4, info.seasonal_adjustment).Bind(5, info.source);
        ALMANAC_RETURN_IF_ERROR(update_series_.Run());
      }
      return *found;
    }
    insert_series_.Bind(1, info.key)
        .Bind(2, FrequencyCode(info.frequency))
        .Bind(3, info.title)
        .Bind(4, info.unit)
        .Bind(5, info.seasonal_adjustment)
        .Bind(6, info.source)
        .Bind(7, now_micros());
    ALMANAC_RETURN_IF_ERROR(insert_series_.Run());
    return SeriesRef{sqlite3_last_insert_rowid(db_.get()), info.frequency, true};
  }

  Status ReadStoredRows(int64_t series_id, std::vector<StoredRow>* rows) override {
    read_rows_.Bind(1, series_id);
    for (;;) {
      auto row = read_rows_.Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      rows->push_back({read_rows_.Int(0), read_rows_.Int(1), read_rows_.Int(2),
                       read_rows_.IsNull(3) ? TimeSeries::kMissing : read_rows_.Double(3)});
    }
    read_rows_.Reset();
    return Status::Ok();
  }

  Status WriteLatestDigest(int64_t series_id, const LatestDigest& digest) override {
    write_digest_.Bind(1, series_id).Bind(2, digest.max_rt).Bind(3, digest.sha256).Bind(4, digest.periods);
    return write_digest_.Run();
  }

  Result<int64_t> CreateVintage(int64_t series_id, int64_t rt, bool restate) override {
    insert_vintage_.Bind(1, series_id).Bind(2, load_id_).Bind(3, rt).Bind(4, now_micros()).Bind(5, restate ? "restate" : "load");
    ALMANAC_RETURN_IF_ERROR(insert_vintage_.Run());
    const int64_t id = sqlite3_last_insert_rowid(db_.get());
    // ReadAsOf packs (realtime_start, vintage_id) into one integer with 32 bits for the id.
    if (id >= (int64_t{1} << 32)) return ResourceExhaustedError("vintage ids exhausted (2^32 vintages)");
    return id;
  }

  // Rows go in batches of kInsertBatch per statement: one statement execution per row costs
  // more than the b-tree insert itself.
  Status WriteRows(int64_t series_id, int64_t vintage_id, int64_t rt,
                   const std::vector<std::pair<int64_t, double>>& rows) override {
    size_t i = 0;
    auto bind = [&](Stmt& st, int base, const std::pair<int64_t, double>& row) {
      st.Bind(base + 1, series_id).Bind(base + 2, row.first).Bind(base + 3, rt).Bind(base + 4, vintage_id);
      if (std::isnan(row.second)) st.BindNull(base + 5);
      else st.Bind(base + 5, row.second);
    };
    for (; i + kInsertBatch <= rows.size(); i += kInsertBatch) {
      for (size_t k = 0; k < kInsertBatch; ++k) bind(insert_obs_batch_, static_cast<int>(k * 5), rows[i + k]);
      auto r = insert_obs_batch_.Step();
      insert_obs_batch_.Rewind();
      if (!r.ok()) return r.status();
    }
    for (; i < rows.size(); ++i) {
      bind(insert_obs_, 0, rows[i]);
      auto r = insert_obs_.Step();
      insert_obs_.Rewind();
      if (!r.ok()) return r.status();
    }
    return Status::Ok();
  }

  Status Finish(LoadReport* report, const std::vector<VintageInfo>& vintages) override {
    ALMANAC_ASSIGN_OR_RETURN(Stmt upd, Stmt::Prepare(db_.get(), "UPDATE vintages SET num_observations = ?2 WHERE id = ?1"));
    for (const auto& v : vintages) {
      upd.Bind(1, v.id).Bind(2, v.num_observations);
      ALMANAC_RETURN_IF_ERROR(upd.Run());
    }
    ALMANAC_ASSIGN_OR_RETURN(Stmt load, Stmt::Prepare(db_.get(), "UPDATE loads SET committed_at = ?2, source_hash = ?3, "
                                                                "rows_read = ?4, vintages_created = ?5 WHERE id = ?1"));
    load.Bind(1, load_id_).Bind(2, clock_.NowMicros()).Bind(3, options().source_hash).Bind(4, report->rows_read)
        .Bind(5, report->vintages_created);
    ALMANAC_RETURN_IF_ERROR(load.Run());
    report->load_id = load_id_;
    ALMANAC_ASSIGN_OR_RETURN(AuditEvent event, LoadAuditEvent(options(), *report, vintages));
    ALMANAC_RETURN_IF_ERROR(AppendAudit(db_.get(), clock_, event).status());
    // Statements must be finalized before COMMIT releases nothing of theirs; reset is enough.
    ALMANAC_RETURN_IF_ERROR(db_.Exec("COMMIT", "cannot commit the load"));
    open_ = false;
    return Status::Ok();
  }

 private:
  static constexpr size_t kInsertBatch = 64;

  static std::string InsertObservationsSql(size_t rows) {
    std::string sql = "INSERT INTO observations (series_id, period, realtime_start, vintage_id, value) VALUES ";
    for (size_t k = 0; k < rows; ++k) {
      const size_t b = k * 5;
      sql += (k ? ",(" : "(") + std::string("?") + std::to_string(b + 1) + ",?" + std::to_string(b + 2) + ",?" +
             std::to_string(b + 3) + ",?" + std::to_string(b + 4) + ",?" + std::to_string(b + 5) + ")";
    }
    return sql;
  }

  Db db_;
  const Clock& clock_;
  bool open_ = false;
  int64_t load_id_ = 0;
  Stmt find_series_, write_digest_, insert_series_, update_series_, read_rows_, insert_vintage_, insert_obs_, insert_obs_batch_;
};

class SqliteSeriesStore : public SeriesStore {
 public:
  SqliteSeriesStore(std::string path, StoreOptions options, Db db)
      : path_(std::move(path)), options_(options), db_(std::move(db)) {}

  Result<std::unique_ptr<LoadSession>> BeginLoad(const LoadOptions& options) override {
    ALMANAC_ASSIGN_OR_RETURN(Db db, Db::Open(path_, false, options_.busy_timeout_ms, options_.cache_kib));
    auto session = std::make_unique<SqliteLoadSession>(options, *options_.clock, std::move(db));
    ALMANAC_RETURN_IF_ERROR(session->Begin());
    return std::unique_ptr<LoadSession>(std::move(session));
  }

  Result<std::vector<SeriesInfo>> ListSeries() override {
    std::lock_guard lock(mu_);
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_.get(), "SELECT key, frequency, title, unit, seasonal_adjustment, "
                                                             "source, created_at FROM series ORDER BY key"));
    std::vector<SeriesInfo> out;
    for (;;) {
      ALMANAC_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      ALMANAC_ASSIGN_OR_RETURN(SeriesInfo info, SeriesInfoFromRow(StmtRow(q)));
      out.push_back(std::move(info));
    }
    return out;
  }

  Result<SeriesInfo> GetSeries(std::string_view key) override {
    std::lock_guard lock(mu_);
    return GetSeriesLocked(key);
  }

  Result<TimeSeries> ReadAsOf(std::string_view key, std::optional<Date> as_of) override {
    std::lock_guard lock(mu_);
    ALMANAC_ASSIGN_OR_RETURN(auto ref, FindLocked(key));
    // Two plans for one result: each period's row with the largest (realtime_start,
    // vintage_id) at or before as_of.
    //  - Few rows per period (the usual case): one pass over the series' primary-key range,
    //    the choice made inside SQLite by max() over (realtime_start, vintage_id) packed into
    //    one integer (|realtime_start| < 2^22 days, vintage ids below 2^32), whose bare columns
    //    SQLite returns from the row holding the max.
    //  - Many rows per period (a series revised in full by many vintages): a skip scan, one
    //    seek per period to its newest row, instead of reading every stored row. The value
    //    comes back NULL when the period has no row yet at as_of, 'missing' for a stored
    //    missing value.
    // The period count is recorded by loads (series.latest_periods); rows per series come
    // from the vintages' counts.
    ALMANAC_RETURN_IF_ERROR(Prepare(&read_shape_, "SELECT s.latest_periods, (SELECT sum(num_observations) FROM vintages "
                                                  "WHERE series_id = s.id) FROM series s WHERE s.id = ?1"));
    read_shape_.Bind(1, ref.first);
    int64_t periods = 0, rows = 0;
    {
      auto row = read_shape_.Step();
      if (row.ok() && *row && !read_shape_.IsNull(0)) {
        periods = read_shape_.Int(0);
        rows = read_shape_.Int(1);
      }
      read_shape_.Reset();
      if (!row.ok()) return row.status();
    }
    constexpr int64_t kSkipScanRowsPerPeriod = 16;  // measured: a seek costs ~15-20 row steps
    const bool skip_scan = periods > 0 && rows >= kSkipScanRowsPerPeriod * periods;
    Stmt& q = skip_scan ? read_asof_skip_ : read_asof_;
    if (skip_scan) {
      ALMANAC_RETURN_IF_ERROR(Prepare(
          &read_asof_skip_,
          "WITH RECURSIVE p(period) AS ("
          " SELECT (SELECT min(period) FROM observations WHERE series_id = ?1)"
          " UNION ALL SELECT (SELECT min(period) FROM observations WHERE series_id = ?1 AND period > p.period)"
          " FROM p WHERE p.period IS NOT NULL) "
          "SELECT p.period, (SELECT coalesce(o.value, 'missing') FROM observations o WHERE o.series_id = ?1 AND "
          "o.period = p.period AND o.realtime_start <= ?2 ORDER BY o.realtime_start DESC, o.vintage_id DESC LIMIT 1) "
          "FROM p WHERE p.period IS NOT NULL"));
    } else {
      ALMANAC_RETURN_IF_ERROR(Prepare(&read_asof_, "SELECT period, value, max(realtime_start * 4294967296 + vintage_id) "
                                                   "FROM observations WHERE series_id = ?1 AND realtime_start <= ?2 "
                                                   "GROUP BY period ORDER BY period"));
    }
    q.Bind(1, ref.first).Bind(2, as_of ? as_of->days() : kMaxRt);
    std::vector<std::pair<int64_t, double>> latest;
    for (;;) {
      auto row = q.Step();
      if (!row.ok()) {
        q.Reset();
        return row.status();
      }
      if (!*row) break;
      const int64_t p = q.Int(0);
      const int type = q.Type(1);
      if (skip_scan && type == SQLITE_NULL) continue;  // nothing known yet for this period
      const double v = (type == SQLITE_NULL || type == SQLITE_TEXT) ? TimeSeries::kMissing : q.Double(1);
      latest.emplace_back(p, v);
    }
    q.Reset();
    return SeriesFromLatest(ref.second, latest);
  }

  Result<std::vector<VintageInfo>> ListVintages(std::string_view key) override {
    std::lock_guard lock(mu_);
    ALMANAC_ASSIGN_OR_RETURN(auto ref, FindLocked(key));
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_.get(),
        "SELECT v.id, v.realtime_start, v.loaded_at, v.load_id, l.loader, l.source, l.source_hash, v.kind, "
        "v.num_observations FROM vintages v JOIN loads l ON l.id = v.load_id WHERE v.series_id = ?1 "
        "ORDER BY v.realtime_start, v.id"));
    q.Bind(1, ref.first);
    std::vector<VintageInfo> out;
    for (;;) {
      ALMANAC_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      VintageInfo v;
      v.id = q.Int(0);
      v.series_key = std::string(key);
      v.realtime_start = Date::FromDays(q.Int(1));
      v.loaded_at = q.Int(2);
      v.load_id = q.Int(3);
      v.loader = q.Text(4);
      v.source = q.Text(5);
      v.source_hash = q.Text(6);
      v.kind = q.Text(7);
      v.num_observations = q.Int(8);
      out.push_back(std::move(v));
    }
    return out;
  }

  Result<std::vector<RevisionEntry>> RevisionHistory(std::string_view key, Period period) override {
    std::lock_guard lock(mu_);
    ALMANAC_ASSIGN_OR_RETURN(auto ref, FindLocked(key));
    if (period.frequency() != ref.second)
      return InvalidArgumentError("period " + period.ToString() + " does not fit series " + std::string(key) +
                                  " (frequency " + std::string(FrequencyCode(ref.second)) + ")");
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_.get(),
        "SELECT o.vintage_id, o.realtime_start, v.loaded_at, o.value FROM observations o JOIN vintages v "
        "ON v.id = o.vintage_id WHERE o.series_id = ?1 AND o.period = ?2 ORDER BY o.realtime_start, o.vintage_id"));
    q.Bind(1, ref.first).Bind(2, period.ordinal());
    std::vector<RevisionEntry> out;
    for (;;) {
      ALMANAC_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      RevisionEntry e;
      e.vintage_id = q.Int(0);
      e.realtime_start = Date::FromDays(q.Int(1));
      e.loaded_at = q.Int(2);
      if (!q.IsNull(3)) e.value = q.Double(3);
      out.push_back(e);
    }
    return out;
  }

  Result<SnapshotInfo> CreateSnapshot(const SnapshotRequest& request) override {
    ALMANAC_ASSIGN_OR_RETURN(ResolvedSnapshot r, ResolveSnapshot(*this, request));
    std::lock_guard lock(mu_);
    ALMANAC_RETURN_IF_ERROR(db_.Exec("BEGIN IMMEDIATE", "cannot create snapshot"));
    auto rollback = [&](Status s) {
      db_.Exec("ROLLBACK", "rollback").IgnoreError();
      return s;
    };
    SnapshotInfo info = NewSnapshotInfo(r, request, options_.clock->NowMicros());
    {
      ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_.get(), "SELECT snapshot_id FROM snapshots WHERE name = ?1"));
      q.Bind(1, request.name);
      auto row = q.Step();
      if (!row.ok()) return rollback(row.status());
      if (*row)
        return rollback(AlreadyExistsError("a snapshot named " + request.name + " already exists (id " + q.Text(0) +
                                           "); snapshot names are immutable, choose another name"));
    }
    {
      ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_.get(), "INSERT OR IGNORE INTO snapshot_contents VALUES (?1, ?2, ?3, ?4)"));
      q.Bind(1, r.id).BindBlob(2, r.content).Bind(3, r.num_series).Bind(4, r.num_observations);
      Status s = q.Run();
      if (!s.ok()) return rollback(s);
    }
    {
      ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_.get(), "INSERT INTO snapshots VALUES (?1, ?2, ?3, ?4, ?5)"));
      q.Bind(1, info.name).Bind(2, info.id);
      if (info.as_of) q.Bind(3, info.as_of->days());
      else q.BindNull(3);
      q.Bind(4, info.created_at).Bind(5, info.created_by);
      Status s = q.Run();
      if (!s.ok()) return rollback(s);
    }
    if (auto a = AppendAudit(db_.get(), *options_.clock, SnapshotAuditEvent(info)); !a.ok()) return rollback(a.status());
    ALMANAC_RETURN_IF_ERROR(db_.Exec("COMMIT", "cannot commit snapshot"));
    return info;
  }

  Result<std::vector<SnapshotInfo>> ListSnapshots() override {
    std::lock_guard lock(mu_);
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_.get(), std::string(kSnapshotSelect) + " ORDER BY s.created_at, s.name"));
    std::vector<SnapshotInfo> out;
    for (;;) {
      ALMANAC_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      out.push_back(SnapshotInfoFromRow(StmtRow(q)));
    }
    return out;
  }

  Result<Snapshot> GetSnapshot(std::string_view name_or_id) override {
    std::lock_guard lock(mu_);
    std::vector<SnapshotInfo> matches;
    {
      ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_.get(), std::string(kSnapshotSelect) + " WHERE s.name = ?1"));
      q.Bind(1, name_or_id);
      ALMANAC_ASSIGN_OR_RETURN(bool row, q.Step());
      if (row) matches.push_back(SnapshotInfoFromRow(StmtRow(q)));
    }
    if (matches.empty() && name_or_id.size() >= 6) {
      ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_.get(), std::string(kSnapshotSelect) +
                                                                " WHERE substr(s.snapshot_id, 1, length(?1)) = ?1 "
                                                                "ORDER BY s.created_at"));
      q.Bind(1, name_or_id);
      for (;;) {
        ALMANAC_ASSIGN_OR_RETURN(bool row, q.Step());
        if (!row) break;
        SnapshotInfo info = SnapshotInfoFromRow(StmtRow(q));
        bool same_id = !matches.empty() && matches.front().id == info.id;
        if (!same_id) matches.push_back(info);
      }
    }
    if (matches.empty()) return NotFoundError("no snapshot named or with id " + QuoteForMessage(name_or_id));
    if (matches.size() > 1)
      return InvalidArgumentError("snapshot id prefix " + QuoteForMessage(name_or_id) + " is ambiguous (" +
                                  std::to_string(matches.size()) + " snapshots match)");
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_.get(), "SELECT content FROM snapshot_contents WHERE id = ?1"));
    q.Bind(1, matches.front().id);
    ALMANAC_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return DataLossError("snapshot " + matches.front().id + " has no stored content");
    return DecodeSnapshot(matches.front(), q.Blob(0));
  }

 private:
  static constexpr std::string_view kSnapshotSelect =
      "SELECT s.snapshot_id, s.name, s.as_of, s.created_at, s.created_by, c.num_series, c.num_observations "
      "FROM snapshots s JOIN snapshot_contents c ON c.id = s.snapshot_id";

  Status Prepare(Stmt* stmt, std::string_view sql) {
    if (stmt_ready_.count(stmt)) return Status::Ok();
    ALMANAC_ASSIGN_OR_RETURN(*stmt, Stmt::Prepare(db_.get(), sql));
    stmt_ready_.insert(stmt);
    return Status::Ok();
  }

  Result<SeriesInfo> GetSeriesLocked(std::string_view key) {
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db_.get(), "SELECT key, frequency, title, unit, seasonal_adjustment, "
                                                             "source, created_at FROM series WHERE key = ?1"));
    q.Bind(1, key);
    ALMANAC_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return NotFoundError("no series " + QuoteForMessage(key) + " in the store");
    return SeriesInfoFromRow(StmtRow(q));
  }

  // (id, frequency) of a series.
  Result<std::pair<int64_t, Frequency>> FindLocked(std::string_view key) {
    ALMANAC_RETURN_IF_ERROR(Prepare(&find_, "SELECT id, frequency FROM series WHERE key = ?1"));
    find_.Bind(1, key);
    auto row = find_.Step();
    if (!row.ok()) {
      find_.Reset();
      return row.status();
    }
    if (!*row) {
      find_.Reset();
      return NotFoundError("no series " + QuoteForMessage(key) + " in the store");
    }
    const int64_t id = find_.Int(0);
    auto f = FreqFromText(find_.Text(1));
    find_.Reset();
    if (!f.ok()) return f.status();
    return std::make_pair(id, *f);
  }

  std::string path_;
  StoreOptions options_;
  std::mutex mu_;
  Db db_;
  Stmt find_, read_asof_, read_asof_skip_, read_shape_;
  std::set<Stmt*> stmt_ready_;
};

class SqliteStore : public Store {
 public:
  SqliteStore(std::string uri, std::unique_ptr<SqliteSeriesStore> series, std::unique_ptr<MetadataStore> metadata,
              std::string path, StoreOptions options)
      : uri_(std::move(uri)), series_(std::move(series)), metadata_(std::move(metadata)), path_(std::move(path)),
        options_(options) {}

  SeriesStore& series() override { return *series_; }
  MetadataStore& metadata() override { return *metadata_; }
  const std::string& uri() const override { return uri_; }
  Result<int> SchemaVersion() override {
    ALMANAC_ASSIGN_OR_RETURN(Db db, Db::Open(path_, false, options_.busy_timeout_ms, 1024));
    ALMANAC_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db.get(), "SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
    ALMANAC_ASSIGN_OR_RETURN(bool row, q.Step());
    return row ? static_cast<int>(q.Int(0)) : 0;
  }

 private:
  std::string uri_;
  std::unique_ptr<SqliteSeriesStore> series_;
  std::unique_ptr<MetadataStore> metadata_;
  std::string path_;
  StoreOptions options_;
};

}  // namespace

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& uri, const std::string& path,
                                               const StoreOptions& options) {
  if (path.empty()) return InvalidArgumentError("sqlite store URI has no path: " + uri);
  struct stat st {};
  const bool exists = ::stat(path.c_str(), &st) == 0;
  if (!exists && !options.create_if_missing)
    return NotFoundError("no almanac store at " + path + " (run 'almanac init' to create a workspace)");
  if (exists && !S_ISREG(st.st_mode)) return FailedPreconditionError(path + " is not a regular file");
  ALMANAC_ASSIGN_OR_RETURN(Db db, Db::Open(path, options.create_if_missing, options.busy_timeout_ms, options.cache_kib));
  ALMANAC_RETURN_IF_ERROR(Migrate(db, path));
  auto series = std::make_unique<SqliteSeriesStore>(path, options, std::move(db));
  ALMANAC_ASSIGN_OR_RETURN(Db meta_db, Db::Open(path, false, options.busy_timeout_ms, 8192));
  auto metadata = NewSqliteMetadataStore(std::move(meta_db), *options.clock);
  return std::unique_ptr<Store>(
      std::make_unique<SqliteStore>(uri, std::move(series), std::move(metadata), path, options));
}

}  // namespace almanac::store::sqlite
