// The PostgreSQL back-end: series, vintages, observations and snapshots (this file), the
// metadata store (pg_metadata.cc) and artifacts (pg_artifacts.cc). Every statement is a
// prepared statement with parameters; loads stream observations with COPY.
#include "store/postgres/pg_store.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <set>
#include <unordered_map>

#include "store/load_session_base.h"
#include "store/postgres/pg_migrations.h"
#include "store/snapshot_content.h"

namespace almanac::store::pg {

std::unique_ptr<MetadataStore> NewPostgresMetadataStore(std::shared_ptr<Pool> pool, const Clock& clock);

namespace {

constexpr int64_t kMaxRt = std::numeric_limits<int64_t>::max();

// Parses PostgreSQL's text form of a bigint[] ("{1,2,3}").
void ParseIntArray(std::string_view text, std::vector<int64_t>* out) {
  out->clear();
  if (text.size() < 2) return;
  const char* p = text.data() + 1;
  const char* end = text.data() + text.size() - 1;
  while (p < end) {
    int64_t v = 0;
    auto [next, ec] = std::from_chars(p, end, v);
    out->push_back(v);
    p = next + 1;  // past the comma
    if (ec != std::errc()) break;
  }
}

// Parses a double precision[] ("{1.5,NULL,-2e-05}"); NULL elements become NaN (missing).
void ParseDoubleArray(std::string_view text, std::vector<double>* out) {
  out->clear();
  if (text.size() < 2) return;
  const char* p = text.data() + 1;
  const char* end = text.data() + text.size() - 1;
  while (p < end) {
    const char* comma = static_cast<const char*>(std::memchr(p, ',', static_cast<size_t>(end - p)));
    if (comma == nullptr) comma = end;
    const std::string_view item(p, static_cast<size_t>(comma - p));
    double v = 0;
    if (item == "NULL" || item == "NaN") {
      v = TimeSeries::kMissing;
    } else if (auto [q, ec] = std::from_chars(item.data(), item.data() + item.size(), v); ec != std::errc()) {
      v = item == "Infinity" ? HUGE_VAL : item == "-Infinity" ? -HUGE_VAL : TimeSeries::kMissing;
    }
    out->push_back(v);
    p = comma + 1;
  }
}

std::string LockSql(int key) {
  return "SELECT pg_advisory_xact_lock(" + std::to_string(kAdvisoryLockSpace) + ", " + std::to_string(key) + ")";
}

}  // namespace

Status Migrate(Conn& conn, bool create_if_missing) {
  ALMANAC_RETURN_IF_ERROR(conn.Exec("BEGIN"));
  auto fail = [&](Status s) {
    if (!conn.broken()) conn.Exec("ROLLBACK").IgnoreError();
    return s;
  };
  // Serialises concurrent migrations: the second process waits here, then finds nothing to do.
  if (Status s = conn.Exec(LockSql(kLockMigrate)); !s.ok()) return fail(s);
  auto tables = conn.Query(
      "SELECT count(*), count(*) FILTER (WHERE table_name = 'schema_migrations') FROM information_schema.tables "
      "WHERE table_schema = current_schema()");
  if (!tables.ok()) return fail(tables.status());
  const bool has_tables = tables->Int(0, 0) > 0, has_migrations = tables->Int(0, 1) > 0;
  if (has_tables && !has_migrations)
    return fail(FailedPreconditionError("the PostgreSQL database holds other tables and no almanac schema; "
                                        "use an empty database (or schema) for almanac"));
  if (!has_migrations) {
    if (!create_if_missing)
      return fail(NotFoundError("the PostgreSQL database has no almanac store yet (run 'almanac init --store URI')"));
    if (Status s = conn.Exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL, "
                             "applied_at TEXT NOT NULL)");
        !s.ok())
      return fail(s);
  }
  auto current_r = conn.Query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
  if (!current_r.ok()) return fail(current_r.status());
  const int current = static_cast<int>(current_r->Int(0, 0));
  const int latest = Migrations().back().version;
  if (current > latest)
    return fail(FailedPreconditionError("the PostgreSQL store has schema version " + std::to_string(current) +
                                        ", newer than this almanac supports (" + std::to_string(latest) +
                                        "); upgrade almanac"));
  for (const auto& m : Migrations()) {
    if (m.version <= current) continue;
    if (Status s = conn.Exec(m.sql); !s.ok())
      return fail(s.WithContext("migration " + std::to_string(m.version) + " failed"));
    auto ins = conn.Query("INSERT INTO schema_migrations VALUES ($1, $2, $3)",
                          Params().Add(m.version).Add(m.description).Add(FormatTimestamp(SystemClock().NowMicros())));
    if (!ins.ok()) return fail(ins.status());
  }
  return conn.Exec("COMMIT");
}

Result<AuditEntry> AppendAudit(Conn& conn, const Clock& clock, const AuditEvent& event) {
  ALMANAC_ASSIGN_OR_RETURN(PgResult head, conn.Query("SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE"));
  if (head.rows() != 1) return DataLossError("the audit log's head row is missing");
  ALMANAC_ASSIGN_OR_RETURN(AuditEntry e, NextAuditEntry(head.Int(0, 0), head.Text(0, 1), clock, event));
  ALMANAC_ASSIGN_OR_RETURN(std::string details, CanonicalJson(e.event.details));
  Params params;
  ParamFields fields(params);
  WriteAuditEntry(e, details, fields);
  ALMANAC_RETURN_IF_ERROR(conn.Query("INSERT INTO audit_log VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)", params).status());
  ALMANAC_RETURN_IF_ERROR(
      conn.Query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1", Params().Add(e.seq).Add(e.hash)).status());
  // Serving replicas and schedulers LISTEN on this channel (payload: the new head's seq).
  ALMANAC_RETURN_IF_ERROR(
      conn.Query("SELECT pg_notify('almanac_audit', $1)", Params().Add(std::to_string(e.seq) + " " + e.event.action))
          .status());
  return e;
}

namespace {

class PgLoadSession : public LoadSessionBase {
 public:
  PgLoadSession(LoadOptions options, const Clock& clock, Pool::Lease lease, int busy_timeout_ms)
      : LoadSessionBase(std::move(options), clock), lease_(std::move(lease)), clock_(clock),
        busy_timeout_ms_(busy_timeout_ms) {}

  ~PgLoadSession() override {
    if (open_) {
      if (!lease_->broken()) lease_->Exec("ROLLBACK").IgnoreError();
      if (lease_->broken()) lease_.Discard();
    }
  }

  Status Begin() {
    Conn& c = *lease_;
    ALMANAC_RETURN_IF_ERROR(c.Exec("BEGIN"));
    open_ = true;
    // One load at a time per store, as on SQLite: vintage planning reads what is stored.
    ALMANAC_RETURN_IF_ERROR(c.Exec("SET LOCAL lock_timeout = " + std::to_string(std::max(1, busy_timeout_ms_))));
    Status locked = c.Exec(LockSql(kLockLoad));
    if (!locked.ok()) {
      if (locked.code() == StatusCode::kUnavailable && !c.broken())
        return UnavailableError("another load holds the store's write lock (waited " +
                                std::to_string(busy_timeout_ms_ / 1000) + " s); try again when it has finished");
      return locked;
    }
    ALMANAC_RETURN_IF_ERROR(c.Exec("SET LOCAL lock_timeout = 0"));
    // A vintage row holds its periods and values as arrays of tens of kilobytes, which
    // PostgreSQL compresses when it stores them out of line. Its default, pglz, took most of
    // the server's time on a bulk load (bench/pg); lz4 compresses these arrays about as well
    // at a fraction of the cost. Servers built without lz4 keep their default. Reads
    // decompress either form, so stores written before keep working.
    ALMANAC_RETURN_IF_ERROR(c.Query("SELECT set_config('default_toast_compression', 'lz4', true) FROM pg_settings "
                                    "WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)")
                                .status());
    ALMANAC_ASSIGN_OR_RETURN(PgResult r, c.Query("INSERT INTO loads (started_at, loader, source) VALUES ($1, $2, $3) "
                                                 "RETURNING id",
                                                 Params().Add(now_micros()).Add(options().loader).Add(options().source)));
    load_id_ = r.Int(0, 0);
    return Status::Ok();
  }

 protected:
  Result<std::optional<SeriesRef>> FindSeries(std::string_view key) override {
    ALMANAC_ASSIGN_OR_RETURN(PgResult r, lease_->Query("SELECT id, frequency, latest_max_rt, latest_sha256, latest_periods "
                                                       "FROM series WHERE key = $1",
                                                       Params().Add(key)));
    std::optional<SeriesRef> out;
    if (r.rows() == 1) {
      ALMANAC_ASSIGN_OR_RETURN(Frequency f, ParseFrequency(r.Text(0, 1)));
      out = SeriesRef{r.Int(0, 0), f, false};
      if (!r.IsNull(0, 2) && !r.IsNull(0, 3)) out->digest = LatestDigest{r.Int(0, 2), r.Text(0, 3), r.Int(0, 4)};
    }
    return out;
  }

  Result<SeriesRef> ResolveSeries(const SeriesInfo& info, bool update) override {
    for (const std::string* field : {&info.title, &info.unit, &info.seasonal_adjustment, &info.source})
      if (field->find('\0') != std::string::npos)
        return InvalidArgumentError("metadata of series " + info.key + " contains a NUL byte");
    ALMANAC_ASSIGN_OR_RETURN(auto found, FindSeries(info.key));
    if (found) {
      ALMANAC_RETURN_IF_ERROR(CheckStoredFrequency(info.key, found->frequency, info.frequency));
      if (update) {
        ALMANAC_RETURN_IF_ERROR(lease_->Query("UPDATE series SET title = CASE WHEN $2 <> '' THEN $2 ELSE title END, "
                                              "unit = CASE WHEN $3 <> '' THEN $3 ELSE unit END, "
                                              "seasonal_adjustment = CASE WHEN $4 <> '' THEN $4 ELSE seasonal_adjustment END, "
                                              "source = CASE WHEN $5 <> '' THEN $5 ELSE source END WHERE id = $1",
                                              Params().Add(found->id).Add(info.title).Add(info.unit)
                                                  .Add(info.seasonal_adjustment).Add(info.source))
                                    .status());
      }
      return *found;
    }
    ALMANAC_ASSIGN_OR_RETURN(PgResult r, lease_->Query("INSERT INTO series (key, frequency, title, unit, seasonal_adjustment, "
                                                       "source, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                                                       Params()
                                                           .Add(info.key)
                                                           .Add(FrequencyCode(info.frequency))
                                                           .Add(info.title)
                                                           .Add(info.unit)
                                                           .Add(info.seasonal_adjustment)
                                                           .Add(info.source)
                                                           .Add(now_micros())));
    created_.insert(r.Int(0, 0));
    return SeriesRef{r.Int(0, 0), info.frequency, true};
  }

  Status ReadStoredRows(int64_t series_id, std::vector<StoredRow>* rows) override {
    // A series this load created has no rows but those it wrote: no round trip for a new one.
    if (created_.count(series_id) && !written_.count(series_id)) return Status::Ok();
    // Rows of this series still in the COPY buffer must be visible to the planner.
    if (pending_series_.count(series_id)) ALMANAC_RETURN_IF_ERROR(FlushCopy());
    ALMANAC_ASSIGN_OR_RETURN(PgResult r, lease_->Query("SELECT realtime_start, vintage_id, periods, \"values\" FROM "
                                                       "observations WHERE series_id = $1",
                                                       Params().Add(series_id)));
    const size_t first = rows->size();
    std::vector<int64_t> periods;
    std::vector<double> values;
    for (int i = 0; i < r.rows(); ++i) {
      ParseIntArray(r.View(i, 2), &periods);
      ParseDoubleArray(r.View(i, 3), &values);
      if (periods.size() != values.size()) return DataLossError("stored observations of a vintage are malformed");
      for (size_t k = 0; k < periods.size(); ++k) rows->push_back({periods[k], r.Int(i, 0), r.Int(i, 1), values[k]});
    }
    std::sort(rows->begin() + static_cast<std::ptrdiff_t>(first), rows->end(), [](const StoredRow& a, const StoredRow& b) {
      return a.period != b.period ? a.period < b.period : a.rt != b.rt ? a.rt < b.rt : a.vintage_id < b.vintage_id;
    });
    return Status::Ok();
  }

  // Kept until Finish, which writes them all in one statement: one round trip per load rather
  // than per series. Nothing reads them back before (the base class keeps each series' digest).
  Status WriteLatestDigest(int64_t series_id, const LatestDigest& digest) override {
    digests_[series_id] = digest;
    return Status::Ok();
  }

  Result<int64_t> CreateVintage(int64_t series_id, int64_t rt, bool restate) override {
    ALMANAC_ASSIGN_OR_RETURN(PgResult r, lease_->Query("INSERT INTO vintages (series_id, load_id, realtime_start, loaded_at, "
                                                       "kind) VALUES ($1, $2, $3, $4, $5) RETURNING id",
                                                       Params().Add(series_id).Add(load_id_).Add(rt).Add(now_micros())
                                                           .Add(restate ? "restate" : "load")));
    return r.Int(0, 0);
  }

  // Each planned vintage becomes one row (periods and values as arrays), buffered in COPY's
  // binary format and streamed in large pieces: the server then neither parses numbers nor
  // array literals, and the client skips formatting them.
  Status WriteRows(int64_t series_id, int64_t vintage_id, int64_t rt,
                   const std::vector<std::pair<int64_t, double>>& rows) override {
    if (rows.empty()) return Status::Ok();
    const int part = parts_[vintage_id]++;
    if (copy_buffer_.empty()) copy_buffer_.append(kCopyBinaryHeader, sizeof kCopyBinaryHeader - 1);
    bool has_null = false;
    for (const auto& r : rows) has_null |= std::isnan(r.second);
    const size_t n = rows.size();
    const size_t array_header = 20;  // ndim, has-null flag, element type, size, lower bound
    const size_t bytes = 2 + 3 * (4 + 8) + (4 + 4) + 2 * (4 + array_header + 12 * n);
    const size_t start = copy_buffer_.size();
    copy_buffer_.resize(start + bytes);
    char* out = copy_buffer_.data() + start;
    PutBe16(out, 6);  // fields
    for (int64_t v : {series_id, rt, vintage_id}) {
      PutBe32(out, 8);
      PutBe64(out, static_cast<uint64_t>(v));
    }
    PutBe32(out, 4);
    PutBe32(out, static_cast<uint32_t>(part));
    auto put_array_header = [&](uint32_t element_oid, bool nulls) {
      PutBe32(out, static_cast<uint32_t>(array_header + 12 * n));
      PutBe32(out, 1);  // one dimension
      PutBe32(out, nulls ? 1 : 0);
      PutBe32(out, element_oid);
      PutBe32(out, static_cast<uint32_t>(n));
      PutBe32(out, 1);  // lower bound
    };
    put_array_header(kInt8Oid, false);
    for (const auto& r : rows) {
      PutBe32(out, 8);
      PutBe64(out, static_cast<uint64_t>(r.first));
    }
    put_array_header(kFloat8Oid, has_null);
    for (const auto& r : rows) {
      if (std::isnan(r.second)) {  // explicitly missing: a NULL element, which takes no bytes
        PutBe32(out, 0xFFFFFFFFu);
      } else {
        PutBe32(out, 8);
        PutBe64(out, std::bit_cast<uint64_t>(r.second));
      }
    }
    // NULL elements are 8 bytes shorter than the reservation, and so is the values array.
    if (has_null) {
      const size_t nulls = static_cast<size_t>(std::count_if(rows.begin(), rows.end(),
                                                              [](const auto& r) { return std::isnan(r.second); }));
      char* len_at = copy_buffer_.data() + start + 2 + 3 * 12 + 8 + 4 + array_header + 12 * n;
      PutBe32(len_at, static_cast<uint32_t>(array_header + 12 * n - 8 * nulls));
    }
    copy_buffer_.resize(static_cast<size_t>(out - copy_buffer_.data()));
    pending_series_.insert(series_id);
    written_.insert(series_id);
    if (copy_buffer_.size() >= kCopyFlushBytes) return FlushCopy();
    return Status::Ok();
  }

  Status Finish(LoadReport* report, const std::vector<VintageInfo>& vintages) override {
    ALMANAC_RETURN_IF_ERROR(FlushCopy());
    Conn& c = *lease_;
    if (!digests_.empty()) {
      std::string ids = "{", rts = "{", shas = "{", periods = "{";
      for (const auto& [id, d] : digests_) {
        if (ids.size() > 1) {
          ids += ',';
          rts += ',';
          shas += ',';
          periods += ',';
        }
        ids += std::to_string(id);
        rts += std::to_string(d.max_rt);
        shas += d.sha256.empty() ? "\"\"" : d.sha256;  // hex digits need no quoting
        periods += std::to_string(d.periods);
      }
      ALMANAC_RETURN_IF_ERROR(c.Query("UPDATE series s SET latest_max_rt = u.rt, latest_sha256 = u.sha, latest_periods = u.n "
                                      "FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[]) AS u(id, rt, sha, n) "
                                      "WHERE s.id = u.id",
                                      Params().Add(ids + '}').Add(rts + '}').Add(shas + '}').Add(periods + '}'))
                                  .status());
    }
    // Vintage counts in one statement.
    if (!vintages.empty()) {
      std::string ids = "{", counts = "{";
      for (size_t i = 0; i < vintages.size(); ++i) {
        if (i) {
          ids += ',';
          counts += ',';
        }
        ids += std::to_string(vintages[i].id);
        counts += std::to_string(vintages[i].num_observations);
      }
      ids += '}';
      counts += '}';
      ALMANAC_RETURN_IF_ERROR(c.Query("UPDATE vintages v SET num_observations = u.n FROM unnest($1::bigint[], $2::bigint[]) "
                                      "AS u(id, n) WHERE v.id = u.id",
                                      Params().Add(ids).Add(counts))
                                  .status());
    }
    ALMANAC_RETURN_IF_ERROR(c.Query("UPDATE loads SET committed_at = $2, source_hash = $3, rows_read = $4, "
                                    "vintages_created = $5 WHERE id = $1",
                                    Params().Add(load_id_).Add(clock_.NowMicros()).Add(options().source_hash)
                                        .Add(report->rows_read).Add(report->vintages_created))
                                .status());
    report->load_id = load_id_;
    ALMANAC_ASSIGN_OR_RETURN(AuditEvent event, LoadAuditEvent(options(), *report, vintages));
    ALMANAC_RETURN_IF_ERROR(AppendAudit(c, clock_, event).status());
    Status commit = c.Exec("COMMIT");
    if (!commit.ok()) {
      if (c.broken())
        return UnavailableError("the connection to PostgreSQL was lost while committing the load; whether it was "
                                "stored is unknown: check 'almanac series vintages' (" + commit.message() + ")");
      return commit;
    }
    open_ = false;
    return Status::Ok();
  }

 private:
  static constexpr size_t kCopyFlushBytes = 16 << 20;
  // COPY's binary format: signature, flags, header extension length; a tuple count of -1 ends it.
  static constexpr char kCopyBinaryHeader[] = "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0";
  static constexpr uint32_t kInt8Oid = 20, kFloat8Oid = 701;  // fixed in every PostgreSQL

  static void PutBe16(char*& out, uint16_t v) {
    out[0] = static_cast<char>(v >> 8);
    out[1] = static_cast<char>(v);
    out += 2;
  }
  static void PutBe32(char*& out, uint32_t v) {
    for (int i = 0; i < 4; ++i) out[i] = static_cast<char>(v >> (24 - 8 * i));
    out += 4;
  }
  static void PutBe64(char*& out, uint64_t v) {
    for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(v >> (56 - 8 * i));
    out += 8;
  }

  Status FlushCopy() {
    if (copy_buffer_.empty()) return Status::Ok();
    copy_buffer_.append("\xFF\xFF", 2);
    Status s = lease_->CopyIn("COPY observations (series_id, realtime_start, vintage_id, part, periods, \"values\") FROM STDIN "
                              "(FORMAT binary)",
                              copy_buffer_);
    copy_buffer_.clear();
    pending_series_.clear();
    return s;
  }

  Pool::Lease lease_;
  const Clock& clock_;
  int busy_timeout_ms_;
  bool open_ = false;
  int64_t load_id_ = 0;
  std::string copy_buffer_;
  std::set<int64_t> pending_series_;
  std::unordered_map<int64_t, int> parts_;  // vintage id -> rows written so far
  std::set<int64_t> created_;                 // series this load created
  std::set<int64_t> written_;                 // series this load wrote rows for
  std::unordered_map<int64_t, LatestDigest> digests_;  // series id -> latest view, written at Finish
};

class PgSeriesStore : public SeriesStore {
 public:
  PgSeriesStore(std::shared_ptr<Pool> pool, StoreOptions options) : pool_(std::move(pool)), options_(options) {}

  Result<std::unique_ptr<LoadSession>> BeginLoad(const LoadOptions& options) override {
    ALMANAC_ASSIGN_OR_RETURN(Pool::Lease lease, pool_->Acquire());
    auto session = std::make_unique<PgLoadSession>(options, *options_.clock, std::move(lease), options_.busy_timeout_ms);
    ALMANAC_RETURN_IF_ERROR(session->Begin());
    return std::unique_ptr<LoadSession>(std::move(session));
  }

  Result<std::vector<SeriesInfo>> ListSeries() override {
    ALMANAC_ASSIGN_OR_RETURN(PgResult r, Read(std::string(kSeriesSelect) + " ORDER BY key", Params()));
    std::vector<SeriesInfo> out;
    out.reserve(static_cast<size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) {
      ALMANAC_ASSIGN_OR_RETURN(SeriesInfo info, SeriesInfoFromRow(PgRow(r, i)));
      out.push_back(std::move(info));
    }
    return out;
  }

  Result<SeriesInfo> GetSeries(std::string_view key) override {
    ALMANAC_ASSIGN_OR_RETURN(PgResult r, Read(std::string(kSeriesSelect) + " WHERE key = $1", Params().Add(key)));
    if (r.rows() == 0) return NotFoundError("no series " + QuoteForMessage(key) + " in the store");
    return SeriesInfoFromRow(PgRow(r, 0));
  }

  Result<TimeSeries> ReadAsOf(std::string_view key, std::optional<Date> as_of) override {
    // One round trip: the series' frequency and its vintages up to as_of, oldest first; each
    // period then takes its value from the newest vintage that recorded it. A series with no
    // vintage yet returns one row with NULL arrays; an unknown key returns none.
    ALMANAC_ASSIGN_OR_RETURN(
        PgResult r,
        Read("SELECT s.frequency, o.periods, o.\"values\", o.periods IS NOT NULL FROM series s LEFT JOIN observations o "
             "ON o.series_id = s.id AND o.realtime_start <= $2 WHERE s.key = $1 "
             "ORDER BY o.realtime_start, o.vintage_id, o.part",
             Params().Add(key).Add(as_of ? as_of->days() : kMaxRt)));
    if (r.rows() == 0) return NotFoundError("no series " + QuoteForMessage(key) + " in the store");
    ALMANAC_ASSIGN_OR_RETURN(Frequency f, ParseFrequency(r.Text(0, 0)));
    struct Entry {
      int64_t period;
      int seq;
      double value;
    };
    std::vector<Entry> all;
    std::vector<int64_t> periods;
    std::vector<double> values;
    for (int i = 0; i < r.rows(); ++i) {
      if (!r.Bool(i, 3)) continue;
      ParseIntArray(r.View(i, 1), &periods);
      ParseDoubleArray(r.View(i, 2), &values);
      if (periods.size() != values.size()) return DataLossError("stored observations of " + std::string(key) + " are malformed");
      for (size_t k = 0; k < periods.size(); ++k) all.push_back({periods[k], i, values[k]});
    }
    std::sort(all.begin(), all.end(), [](const Entry& a, const Entry& b) {
      return a.period != b.period ? a.period < b.period : a.seq < b.seq;
    });
    std::vector<std::pair<int64_t, double>> latest;
    for (size_t k = 0; k < all.size(); ++k)
      if (k + 1 == all.size() || all[k + 1].period != all[k].period) latest.emplace_back(all[k].period, all[k].value);
    return SeriesFromLatest(f, latest);
  }

  Result<std::vector<VintageInfo>> ListVintages(std::string_view key) override {
    ALMANAC_ASSIGN_OR_RETURN(
        PgResult r,
        Read("SELECT v.id, v.realtime_start, v.loaded_at, v.load_id, l.loader, l.source, l.source_hash, v.kind, "
             "v.num_observations FROM vintages v JOIN loads l ON l.id = v.load_id JOIN series s ON s.id = v.series_id "
             "WHERE s.key = $1 ORDER BY v.realtime_start, v.id",
             Params().Add(key)));
    // No rows: an unknown series is NotFound (asked only then, to spare a round trip).
    if (r.rows() == 0) ALMANAC_RETURN_IF_ERROR(GetSeries(key).status());
    std::vector<VintageInfo> out;
    for (int i = 0; i < r.rows(); ++i) {
      VintageInfo v;
      v.id = r.Int(i, 0);
      v.series_key = std::string(key);
      v.realtime_start = Date::FromDays(r.Int(i, 1));
      v.loaded_at = r.Int(i, 2);
      v.load_id = r.Int(i, 3);
      v.loader = r.Text(i, 4);
      v.source = r.Text(i, 5);
      v.source_hash = r.Text(i, 6);
      v.kind = r.Text(i, 7);
      v.num_observations = r.Int(i, 8);
      out.push_back(std::move(v));
    }
    return out;
  }

  Result<std::vector<RevisionEntry>> RevisionHistory(std::string_view key, Period period) override {
    ALMANAC_ASSIGN_OR_RETURN(SeriesInfo info, GetSeries(key));
    if (period.frequency() != info.frequency)
      return InvalidArgumentError("period " + period.ToString() + " does not fit series " + std::string(key) +
                                  " (frequency " + std::string(FrequencyCode(info.frequency)) + ")");
    ALMANAC_ASSIGN_OR_RETURN(
        PgResult r,
        Read("SELECT o.vintage_id, o.realtime_start, v.loaded_at, o.\"values\"[array_position(o.periods, $2::bigint)] "
             "FROM observations o JOIN vintages v ON v.id = o.vintage_id JOIN series s ON s.id = o.series_id "
             "WHERE s.key = $1 AND $2::bigint = ANY(o.periods) ORDER BY o.realtime_start, o.vintage_id",
             Params().Add(key).Add(period.ordinal())));
    std::vector<RevisionEntry> out;
    for (int i = 0; i < r.rows(); ++i) {
      RevisionEntry e;
      e.vintage_id = r.Int(i, 0);
      e.realtime_start = Date::FromDays(r.Int(i, 1));
      e.loaded_at = r.Int(i, 2);
      if (!r.IsNull(i, 3)) e.value = r.Double(i, 3);
      out.push_back(e);
    }
    return out;
  }

  Result<SnapshotInfo> CreateSnapshot(const SnapshotRequest& request) override {
    ALMANAC_ASSIGN_OR_RETURN(ResolvedSnapshot r, ResolveSnapshot(*this, request));
    SnapshotInfo info = NewSnapshotInfo(r, request, options_.clock->NowMicros());
    Status s = RunTransaction(*pool_, "BEGIN ISOLATION LEVEL SERIALIZABLE", [&](Conn& c) -> Status {
      ALMANAC_ASSIGN_OR_RETURN(PgResult q, c.Query("SELECT snapshot_id FROM snapshots WHERE name = $1", Params().Add(request.name)));
      if (q.rows() > 0)
        return AlreadyExistsError("a snapshot named " + request.name + " already exists (id " + q.Text(0, 0) +
                                  "); snapshot names are immutable, choose another name");
      ALMANAC_RETURN_IF_ERROR(c.Query("INSERT INTO snapshot_contents VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING",
                                      Params().Add(r.id).AddBytes(r.content).Add(r.num_series).Add(r.num_observations))
                                  .status());
      Params p;
      p.Add(info.name).Add(info.id);
      if (info.as_of) p.Add(info.as_of->days());
      else p.AddNull();
      p.Add(info.created_at).Add(info.created_by);
      ALMANAC_RETURN_IF_ERROR(c.Query("INSERT INTO snapshots VALUES ($1, $2, $3, $4, $5)", p).status());
      return AppendAudit(c, *options_.clock, SnapshotAuditEvent(info)).status();
    });
    if (!s.ok()) return s;
    return info;
  }

  Result<std::vector<SnapshotInfo>> ListSnapshots() override {
    ALMANAC_ASSIGN_OR_RETURN(PgResult r, Read(std::string(kSnapshotSelect) + " ORDER BY s.created_at, s.name", Params()));
    std::vector<SnapshotInfo> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(SnapshotInfoFromRow(PgRow(r, i)));
    return out;
  }

  Result<Snapshot> GetSnapshot(std::string_view name_or_id) override {
    std::vector<SnapshotInfo> matches;
    {
      ALMANAC_ASSIGN_OR_RETURN(PgResult r, Read(std::string(kSnapshotSelect) + " WHERE s.name = $1", Params().Add(name_or_id)));
      if (r.rows() > 0) matches.push_back(SnapshotInfoFromRow(PgRow(r, 0)));
    }
    if (matches.empty() && name_or_id.size() >= 6) {
      ALMANAC_ASSIGN_OR_RETURN(PgResult r, Read(std::string(kSnapshotSelect) +
                                                    " WHERE left(s.snapshot_id, length($1)) = $1 ORDER BY s.created_at",
                                                Params().Add(name_or_id)));
      for (int i = 0; i < r.rows(); ++i) {
        SnapshotInfo info = SnapshotInfoFromRow(PgRow(r, i));
        const bool same_id = !matches.empty() && matches.front().id == info.id;
        if (!same_id) matches.push_back(info);
      }
    }
    if (matches.empty()) return NotFoundError("no snapshot named or with id " + QuoteForMessage(name_or_id));
    if (matches.size() > 1)
      return InvalidArgumentError("snapshot id prefix " + QuoteForMessage(name_or_id) + " is ambiguous (" +
                                  std::to_string(matches.size()) + " snapshots match)");
    ALMANAC_ASSIGN_OR_RETURN(PgResult r, Read("SELECT content FROM snapshot_contents WHERE id = $1", Params().Add(matches.front().id)));
    if (r.rows() == 0) return DataLossError("snapshot " + matches.front().id + " has no stored content");
    return DecodeSnapshot(matches.front(), r.Bytes(0, 0));
  }

 private:
  static constexpr std::string_view kSeriesSelect =
      "SELECT key, frequency, title, unit, seasonal_adjustment, source, created_at FROM series";
  static constexpr std::string_view kSnapshotSelect =
      "SELECT s.snapshot_id, s.name, s.as_of, s.created_at, s.created_by, c.num_series, c.num_observations "
      "FROM snapshots s JOIN snapshot_contents c ON c.id = s.snapshot_id";

  // A read-only statement on a pooled connection; retried once on a fresh connection when the
  // pooled one turned out to be dead (e.g. the server restarted since it was opened).
  Result<PgResult> Read(const std::string& sql, const Params& params) {
    Status last;
    for (int attempt = 0; attempt < 3; ++attempt) {
      ALMANAC_ASSIGN_OR_RETURN(Pool::Lease lease, pool_->Acquire());
      auto r = lease->Query(sql, params);
      if (r.ok() || !IsRetryable(r.status())) return r;
      if (lease->broken()) lease.Discard();
      last = r.status();
    }
    return last;
  }

  std::shared_ptr<Pool> pool_;
  StoreOptions options_;
};

class PgLock : public StoreLock {
 public:
  explicit PgLock(std::unique_ptr<Conn> conn) : conn_(std::move(conn)) {}

 private:
  std::unique_ptr<Conn> conn_;  // closing it releases the lock
};

class PgWatcher : public ChangeWatcher {
 public:
  explicit PgWatcher(std::unique_ptr<Conn> conn) : conn_(std::move(conn)) {}
  Result<bool> Wait(std::chrono::milliseconds timeout) override {
    ALMANAC_ASSIGN_OR_RETURN(auto notes, conn_->WaitNotifications(timeout));
    return !notes.empty();
  }

 private:
  std::unique_ptr<Conn> conn_;
};

class PgStore : public Store {
 public:
  PgStore(std::string uri, std::shared_ptr<Pool> pool, StoreOptions options)
      : uri_(std::move(uri)), pool_(pool), series_(pool, options), metadata_(NewPostgresMetadataStore(pool, *options.clock)) {}

  SeriesStore& series() override { return series_; }
  MetadataStore& metadata() override { return *metadata_; }
  const std::string& uri() const override { return uri_; }
  Result<int> SchemaVersion() override {
    ALMANAC_ASSIGN_OR_RETURN(Pool::Lease lease, pool_->Acquire());
    ALMANAC_ASSIGN_OR_RETURN(PgResult r, lease->Query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
    return static_cast<int>(r.Int(0, 0));
  }

  Result<DatabaseLogin> Login() override {
    ALMANAC_ASSIGN_OR_RETURN(Pool::Lease lease, pool_->Acquire());
    ALMANAC_ASSIGN_OR_RETURN(
        PgResult r, lease->Query("SELECT current_user::text, COALESCE((SELECT rolsuper FROM pg_roles WHERE rolname = current_user), "
                                 "false) OR pg_has_role(current_user, (SELECT datdba FROM pg_database WHERE datname = "
                                 "current_database()), 'MEMBER')"));
    return DatabaseLogin{r.Text(0, 0), r.Bool(0, 1)};
  }

  Result<std::unique_ptr<StoreLock>> TryLock(std::string_view name) override {
    ALMANAC_ASSIGN_OR_RETURN(auto conn, Conn::Connect(pool_->conninfo(), pool_->options()));
    ALMANAC_ASSIGN_OR_RETURN(PgResult r, conn->Query("SELECT pg_try_advisory_lock($1::int, hashtext($2))",
                                                     Params().Add(kLockNamed).Add(name)));
    if (!r.Bool(0, 0)) return UnavailableError(std::string(name) + " is held by another process");
    return std::unique_ptr<StoreLock>(std::make_unique<PgLock>(std::move(conn)));
  }

  Result<std::unique_ptr<ChangeWatcher>> WatchChanges() override {
    ALMANAC_ASSIGN_OR_RETURN(auto conn, Conn::Connect(pool_->conninfo(), pool_->options()));
    ALMANAC_RETURN_IF_ERROR(conn->Exec("LISTEN almanac_audit"));
    return std::unique_ptr<ChangeWatcher>(std::make_unique<PgWatcher>(std::move(conn)));
  }

 private:
  std::string uri_;
  std::shared_ptr<Pool> pool_;
  PgSeriesStore series_;
  std::unique_ptr<MetadataStore> metadata_;
};

}  // namespace

Result<std::unique_ptr<Store>> OpenPostgresStore(const std::string& uri, const StoreOptions& options) {
  ConnectOptions co;
  auto pool = std::make_shared<Pool>(uri, co, 8);
  {
    ALMANAC_ASSIGN_OR_RETURN(Pool::Lease lease, pool->Acquire());
    ALMANAC_RETURN_IF_ERROR(Migrate(*lease, options.create_if_missing));
  }
  return std::unique_ptr<Store>(std::make_unique<PgStore>(RedactConnInfo(uri), std::move(pool), options));
}

}  // namespace almanac::store::pg
