// File: almanac/store.h
//
// The store component: interfaces for everything almanac keeps, and a factory that picks the
// back-end by URI. Nothing back-end specific (SQL, sqlite3*, PGconn*) crosses this header.
//
//   StoreOptions opts;
//   ALMANAC_ASSIGN_OR_RETURN(std::unique_ptr<Store> store, OpenStore("sqlite:ws/almanac.db", opts));
//   SeriesStore& series = store->series();
//   ALMANAC_ASSIGN_OR_RETURN(auto load, series.BeginLoad({.loader = "alice", .source = "gdp.csv"}));
//   ALMANAC_RETURN_IF_ERROR(load->Add("fred:GDPC1", *Period::Parse("2024Q1"), 23053.5, std::nullopt));
//   ALMANAC_ASSIGN_OR_RETURN(LoadReport report, load->Commit());
//   ALMANAC_ASSIGN_OR_RETURN(TimeSeries gdp, series.ReadAsOf("fred:GDPC1", Date::Parse("2024-06-30").value()));
//
// Data model (docs/architecture.md, docs/schema.md): a series has vintages; each vintage
// holds only the observations that changed; an as-of read returns, per period, the value of
// the latest vintage whose realtime_start <= as_of (ties: the vintage loaded last).
//
// Back-ends: "sqlite:PATH" (embedded default), "postgresql://..." (shared by many processes and
// hosts; any libpq connection URI), "memory:" (tests).
// Split headers: almanac/store/metadata.h (tracking, registry, audit),
// almanac/store/artifacts.h (artifact blobs) and almanac/store/audit_anchor.h (the audit
// chain anchored outside the store: signing keys, the anchor file).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "almanac/core.h"
#include "almanac/store/artifacts.h"
#include "almanac/store/audit_anchor.h"
#include "almanac/store/metadata.h"

namespace almanac::store {

// Descriptive metadata of a series. `key` and `frequency` identify it; the other fields are
// free text (empty when unknown).
struct SeriesInfo {
  std::string key;
  Frequency frequency = Frequency::kAnnual;
  std::string title;
  std::string unit;
  std::string seasonal_adjustment;
  std::string source;
  int64_t created_at = 0;  // micros since epoch; set by the store
};

struct VintageInfo {
  int64_t id = 0;
  std::string series_key;
  Date realtime_start;
  int64_t loaded_at = 0;  // micros since epoch
  int64_t load_id = 0;
  std::string loader;       // who or what loaded it (user, connector)
  std::string source;       // file name or URL the values came from
  std::string source_hash;  // SHA-256 of the source payload
  // "load": values read from the source; "restate": values re-recorded at an existing later
  // vintage so that a back-filled earlier vintage does not change what was known then.
  std::string kind = "load";
  int64_t num_observations = 0;
};

// One value of one period in one vintage (value nullopt = explicitly missing).
struct RevisionEntry {
  int64_t vintage_id = 0;
  Date realtime_start;
  int64_t loaded_at = 0;
  std::optional<double> value;
};

struct LoadOptions {
  std::string loader;       // recorded on every vintage; default "unknown"
  std::string source;       // file name or URL
  std::string source_hash;  // hex SHA-256 of the payload, when known before Commit
  // realtime_start for rows added without one; default: today (from the store's clock).
  std::optional<Date> default_realtime_start;
  // Extra details recorded in the load's audit entry (e.g. the connector and its request).
  Json audit_details = Json::object();
};

struct LoadReport {
  int64_t load_id = 0;
  int64_t rows_read = 0;
  int64_t series_seen = 0;
  int64_t series_created = 0;
  int64_t series_unchanged = 0;    // seen, but nothing new
  int64_t vintages_created = 0;
  int64_t observations_written = 0;
  std::vector<VintageInfo> vintages;  // the created vintages (capped at 10,000 entries)
};

// One load: a transaction that turns rows into vintages. Rows of one series should be
// contiguous for speed (any order is accepted). Nothing is visible to readers until
// Commit(); destroying the session without Commit() rolls everything back.
// Not thread-safe: one thread per session; one write session per store at a time.
class LoadSession {
 public:
  virtual ~LoadSession() = default;

  // Creates the series or updates its metadata (non-empty fields overwrite).
  // FailedPrecondition when the series exists with another frequency; InvalidArgument for a
  // bad key.
  virtual Status DeclareSeries(const SeriesInfo& info) = 0;

  // Adds one observation. A series not declared is created with the period's frequency.
  // InvalidArgument for a bad key, a period whose frequency differs from the series', or the
  // same (series, period, realtime_start) twice in one load. After an error the session is
  // poisoned: Commit() fails and nothing is stored.
  virtual Status Add(std::string_view key, Period period, std::optional<double> value,
                     std::optional<Date> realtime_start) = 0;

  // Makes the load visible atomically and returns what it did. The payload hash, when only
  // known at the end, may be set first.
  virtual void SetSourceHash(std::string hash) = 0;
  virtual Result<LoadReport> Commit() = 0;
};

// A named, immutable data version. `id` is the SHA-256 of the canonical content (the series
// keys, frequencies and values), so identical data has the same id on any machine and
// back-end; the name, as_of and creator are not part of the id.
struct SnapshotInfo {
  std::string id;
  std::string name;
  std::optional<Date> as_of;  // nullopt: latest data
  int64_t created_at = 0;
  std::string created_by;
  int64_t num_series = 0;
  int64_t num_observations = 0;
};

struct SnapshotSeries {
  std::string key;
  TimeSeries values;
};

struct Snapshot {
  SnapshotInfo info;
  std::vector<SnapshotSeries> series;  // sorted by key
};

struct SnapshotRequest {
  std::string name;
  std::vector<std::string> keys;  // empty: every series
  std::optional<Date> as_of;
  std::string created_by;
};

// Series, vintages, observations and snapshots. Thread-safe: may be shared by threads; each
// call is its own transaction. Every write (a committed load, a snapshot) appends an entry to
// the audit log in the same transaction.
class SeriesStore {
 public:
  virtual ~SeriesStore() = default;

  // Starts a load (takes the store's write lock). Unavailable when another writer holds it
  // beyond the busy timeout.
  virtual Result<std::unique_ptr<LoadSession>> BeginLoad(const LoadOptions& options) = 0;

  virtual Result<std::vector<SeriesInfo>> ListSeries() = 0;
  // NotFound when the key is unknown.
  virtual Result<SeriesInfo> GetSeries(std::string_view key) = 0;
  // The series as known at `as_of` (nullopt: everything loaded). Periods with no value at
  // that date are missing; leading/trailing ones are dropped. NotFound for an unknown key;
  // an empty series when nothing was known yet.
  virtual Result<TimeSeries> ReadAsOf(std::string_view key, std::optional<Date> as_of) = 0;
  virtual Result<std::vector<VintageInfo>> ListVintages(std::string_view key) = 0;
  // Every value recorded for one period, oldest first (ordered by realtime_start, then id).
  virtual Result<std::vector<RevisionEntry>> RevisionHistory(std::string_view key, Period period) = 0;

  // Resolves the series as of the date and stores the snapshot. AlreadyExists when the name
  // is taken; NotFound for an unknown key; InvalidArgument for a bad name.
  virtual Result<SnapshotInfo> CreateSnapshot(const SnapshotRequest& request) = 0;
  virtual Result<std::vector<SnapshotInfo>> ListSnapshots() = 0;
  // By name, full id, or a unique id prefix of at least 6 characters. NotFound otherwise;
  // InvalidArgument for an ambiguous prefix.
  virtual Result<Snapshot> GetSnapshot(std::string_view name_or_id) = 0;
};

struct StoreOptions {
  // Used for loaded_at/created_at and the default realtime_start. Default: SystemClock().
  const Clock* clock = nullptr;
  // Create the database when missing (false: NotFound).
  bool create_if_missing = false;
  // How long a writer waits for another writer before Unavailable.
  int busy_timeout_ms = 30000;
  // Page cache per connection, in KiB.
  int cache_kib = 65536;
};

// Tells about writes by any process as they commit (see Store::WatchChanges).
class ChangeWatcher {
 public:
  virtual ~ChangeWatcher() = default;
  // Waits up to `timeout` for a write by anyone; true when one was announced (re-read what
  // you cache), false on timeout. Unavailable when the connection broke.
  virtual Result<bool> Wait(std::chrono::milliseconds timeout) = 0;
};

// A lock held until destroyed (see Store::TryLock).
class StoreLock {
 public:
  virtual ~StoreLock() = default;
};

// The database role a store's connections authenticate as (see Store::Login).
struct DatabaseLogin {
  std::string role;    // PostgreSQL: current_user
  bool owner = false;  // a superuser or a member of the database owner's role
};

// The root of every back-end.
class Store {
 public:
  virtual ~Store() = default;
  virtual SeriesStore& series() = 0;
  virtual MetadataStore& metadata() = 0;
  // The URI it was opened with.
  virtual const std::string& uri() const = 0;
  // The applied schema version (migrations are numbered and forward-only).
  virtual Result<int> SchemaVersion() = 0;
  // The database login of a shared store (PostgreSQL: current_user). Unimplemented for
  // back-ends without logins (SQLite, memory: the operating-system user is the identity).
  virtual Result<DatabaseLogin> Login() {
    return UnimplementedError("the store back-end " + uri() + " has no database logins");
  }
  // Takes a named lock shared by every process and host using this store (PostgreSQL: a
  // session advisory lock on a connection of its own, released when the returned object is
  // destroyed or the process dies). Unavailable when another holder has it. Unimplemented on
  // back-ends whose users share one host (SQLite: the workspace's lock files do this).
  virtual Result<std::unique_ptr<StoreLock>> TryLock(std::string_view /*name*/) {
    return UnimplementedError("named locks are not provided by the store back-end " + uri());
  }
  // Push notification of writes (PostgreSQL: LISTEN on the channel every audit append
  // NOTIFYs, so serving replicas and schedulers learn of promotions and new data at once).
  // Unimplemented where callers must poll (SQLite, memory).
  virtual Result<std::unique_ptr<ChangeWatcher>> WatchChanges() {
    return UnimplementedError("the store back-end " + uri() + " has no change notifications; poll instead");
  }
};

// Opens a store by URI: "sqlite:PATH", "postgresql://..." or "memory:". InvalidArgument for an
// unknown scheme; Unavailable when a PostgreSQL server cannot be reached or refuses the login;
// NotFound when the database does not exist and !create_if_missing; FailedPrecondition when
// the database was written by a newer almanac (schema version too new) or is not an almanac
// database.
Result<std::unique_ptr<Store>> OpenStore(std::string_view uri, const StoreOptions& options);

// What CopySqliteToPostgres copied and verified.
struct CopyReport {
  std::vector<std::pair<std::string, int64_t>> tables;  // (table, rows copied), in copy order
  int64_t artifacts = 0;
  int64_t artifact_bytes = 0;
  int64_t artifacts_verified = 0;  // referenced by runs and model versions, read back by SHA-256
  int64_t snapshots_verified = 0;
  int64_t series_verified = 0;
  int64_t audit_entries = 0;
  std::string audit_head;
};

// Copies a whole SQLite store (data, vintages, snapshots, runs, registry, tokens, the audit
// log with its chain) and its artifact folder into an empty PostgreSQL store (its schema is
// created when missing), then verifies row counts, the audit chain and head, every snapshot's
// content hash, every series' latest view and every referenced artifact. FailedPrecondition
// when the destination is not empty or the source's audit chain does not verify; nothing is
// copied then, and a failed copy leaves the destination's tables empty. `progress` gets lines.
Result<CopyReport> CopySqliteToPostgres(const std::string& sqlite_path, const std::string& artifacts_dir,
                                        const std::string& pg_uri,
                                        const std::function<void(const std::string&)>& progress);

// The schema version this build writes.
int CurrentSchemaVersion();

// The canonical content of a snapshot's data (canonical JSON bytes, shared by every
// back-end) and its id, the SHA-256 of those bytes.
Result<std::string> SnapshotCanonicalContent(const std::vector<SnapshotSeries>& series);
Result<std::string> SnapshotContentId(const std::vector<SnapshotSeries>& series);
// Reads canonical content back (DataLoss when malformed).
Result<std::vector<SnapshotSeries>> ParseSnapshotCanonicalContent(std::string_view bytes);

// The JSON objects of series: one shape for the HTTP API (GET /v1/series, /v1/series/{key},
// /v1/series/{key}/vintages; the API adds request_id) and `almanac --format json series
// list|show|vintages`, described in docs/openapi.json (schemas SeriesList, Series,
// SeriesVintages). Values are columnar, as in forecasts: periods[i] holds values[i].
//   SeriesInfoJson: {key, frequency, title, unit, seasonal_adjustment, source}
//   SeriesListJson: {series: [SeriesInfoJson...]}
//   SeriesJson: SeriesInfoJson + {as_of (null: everything loaded), periods: ["2024Q1", ...],
//               values: [number | null (explicitly missing), ...]}
//   VintagesJson: {key, vintages: [{id, realtime_start, loaded_at (ISO 8601 UTC), loader,
//                  source, source_sha256, kind, observations}]}
// (Snapshot content keeps its own [period, value] pairs: its bytes are its id.)
Json SeriesInfoJson(const SeriesInfo& info);
Json SeriesListJson(const std::vector<SeriesInfo>& series);
Json SeriesJson(const SeriesInfo& info, const TimeSeries& values, std::optional<Date> as_of);
Json VintagesJson(std::string_view key, const std::vector<VintageInfo>& vintages);

}  // namespace almanac::store
