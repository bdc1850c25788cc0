// File: almanac/data/connectors.h (included by almanac/data.h)
//
// Provider connectors: parsers for each provider's documented response format, an HTTP
// client (libcurl) with retries, conditional requests and rate limits, the YAML source
// configuration, and LoadSource, which fetches one source and stores it as one load.
//
//   ALMANAC_ASSIGN_OR_RETURN(data::LoadConfig cfg, data::ReadLoadConfig("sources.yaml"));
//   data::SourceLoadOptions opts;
//   opts.loader = "scheduler";
//   for (const auto& src : cfg.sources) {
//     ALMANAC_ASSIGN_OR_RETURN(data::SourceLoadResult r, data::LoadSource(src, opts, *store));
//   }
//
// IMPORTANT: a source is all-or-nothing. Every request of a source is fetched and parsed
// before the load starts; any failure (HTTP, parse, validation) stores nothing, so no partial
// vintage is ever visible. Credentials (api keys) are redacted from every error, log line and
// audit entry.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "almanac/core.h"
#include "almanac/store.h"

namespace almanac::data {

// ------------------------------------------------------------------------------ parsed data

struct ParsedObservation {
  Period period;
  std::optional<double> value;          // nullopt: missing ('.', NaN, empty) or deleted
  std::optional<Date> realtime_start;   // nullopt: the load's default realtime_start
};

// One series as read from a response. `info.key` is the store key; frequency is set.
struct ParsedSeries {
  store::SeriesInfo info;
  std::vector<ParsedObservation> observations;
};

// ---- FRED / ALFRED (https://fred.stlouisfed.org/docs/api/fred/) ----

// fred/series: the first element of "seriess".
struct FredSeriesMeta {
  std::string id;
  std::string title;
  std::string units;
  std::string seasonal_adjustment;  // seasonal_adjustment_short
  Frequency frequency = Frequency::kAnnual;  // from frequency_short (A, Q, M, W, D; SA rejected)
};
// InvalidArgument naming `name` for malformed JSON, an error_message reply, an empty
// "seriess" or an unsupported frequency.
Result<FredSeriesMeta> ParseFredSeries(std::string_view body, const std::string& name);

struct FredObservation {
  Date realtime_start;
  Date realtime_end;
  Date date;
  std::optional<double> value;  // "." is missing
};
struct FredObservationsPage {
  int64_t count = 0;
  int64_t offset = 0;
  int64_t limit = 0;
  std::vector<FredObservation> observations;
};
// fred/series/observations (file_type=json). InvalidArgument naming `name` and the
// observation index for malformed JSON, invalid UTF-8, bad dates or non-numeric values.
Result<FredObservationsPage> ParseFredObservations(std::string_view body, const std::string& name);

// ---- SDMX 2.1 REST (ECB, OECD, Eurostat) ----

struct SdmxParseOptions {
  std::string key_prefix = "sdmx";  // store key = prefix:FLOW.DIM1.DIM2...
  std::string name;                 // for error messages (a redacted URL)
  std::string flow;                 // dataflow id when the message does not carry one
};
// SDMX-CSV 1.0 (DATAFLOW column first; ECB's csvdata also has KEY) and 2.0 (STRUCTURE,
// STRUCTURE_ID, ACTION). Dimension columns are those before TIME_PERIOD; ACTION=D rows
// become explicit deletions (value nullopt in the new vintage). Empty, "NaN" and "NA"
// values are missing. Series come out in first-seen order.
Result<std::vector<ParsedSeries>> ParseSdmxCsv(std::string_view body, const SdmxParseOptions& options);
// SDMX-JSON data messages 1.0 and 2.0 (dataSets[].series with "0:1:2" keys, structure
// dimensions, optional "action": "Delete"). Series-level time dimension only.
Result<std::vector<ParsedSeries>> ParseSdmxJson(std::string_view body, const SdmxParseOptions& options);

// ---- World Bank Indicators API v2 ----

struct WorldBankPage {
  int64_t page = 0;
  int64_t pages = 0;
  int64_t total = 0;
  std::vector<ParsedSeries> series;  // key: prefix:INDICATOR.ISO3
};
// The two-element [metadata, data] array; a one-element [{"message": [...]}] reply is an
// error naming the provider's message.
Result<WorldBankPage> ParseWorldBankPage(std::string_view body, const std::string& key_prefix,
                                         const std::string& name);

// ---- Generic HTTP CSV / JSON with a declared mapping ----

struct FieldMapping {
  // CSV: column names. JSON: JSON pointers relative to each record ("/date").
  std::string period;
  std::string value;
  std::string series;         // column/pointer holding the series code; empty: `series_key`
  std::string realtime_start; // optional
  std::string records = "";   // JSON only: pointer to the array of records ("" = root)
  std::string series_key;     // fixed key when `series` is empty
  std::string key_prefix;     // prepended as "prefix:" to codes read from `series`
  std::optional<Frequency> frequency;  // else inferred from the period text
};
Result<std::vector<ParsedSeries>> ParseMappedCsv(std::string_view body, const FieldMapping& mapping,
                                                 const std::string& name);
Result<std::vector<ParsedSeries>> ParseMappedJson(std::string_view body, const FieldMapping& mapping,
                                                  const std::string& name);

// ------------------------------------------------------------------------------ HTTP client

struct HttpClientOptions {
  int connect_timeout_ms = 10000;
  int timeout_ms = 60000;        // whole transfer of one attempt
  int max_retries = 4;           // retries after the first attempt
  int initial_backoff_ms = 500;  // doubled per retry, with full jitter, capped below
  int max_backoff_ms = 30000;
  int max_retry_after_s = 300;   // a longer Retry-After fails at once (Unavailable)
  int64_t max_body_bytes = 256LL << 20;
  double requests_per_minute = 0;  // 0: no limit (OECD: 20)
  std::string user_agent = "almanac";
  std::string ca_file;           // extra CA bundle; verification is always on
  // Values removed from every message (api keys). Query parameters named api_key, apikey,
  // key, token are redacted regardless.
  std::vector<std::string> secrets;
  // Seed of the backoff jitter (tests); 0 picks a random seed.
  uint64_t jitter_seed = 0;
  // How to wait (tests record instead of sleeping). Default: std::this_thread::sleep_for.
  std::function<void(std::chrono::milliseconds)> sleep;
};

struct HttpRequest {
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  // Validators of a previous response: sent as If-None-Match / If-Modified-Since.
  std::string etag;
  std::string last_modified;
};

struct HttpResponse {
  long status = 0;  // 200, or 304 when not modified
  std::string body;
  std::string content_type;
  std::string etag;
  std::string last_modified;
  int attempts = 0;
  bool not_modified() const { return status == 304; }
};

// A libcurl easy handle reused across requests (keep-alive). Proxies come from the
// environment (http_proxy, https_proxy, no_proxy), as libcurl reads them. Not thread-safe:
// one client per thread.
class HttpClient {
 public:
  ~HttpClient();
  static Result<std::unique_ptr<HttpClient>> Create(HttpClientOptions options);

  // GET with retries: 429, 500, 502, 503, 504 and connection errors (refused, reset,
  // timeout, truncated body) are retried with exponential backoff and jitter, honouring
  // Retry-After. Returns 200/304 responses (other 2xx too). Errors, with the redacted URL:
  // Unavailable (retries exhausted, or Retry-After too long), DeadlineExceeded (timeouts
  // exhausted), NotFound (404), PermissionDenied (401/403), InvalidArgument (other 4xx),
  // ResourceExhausted (body over max_body_bytes), DataLoss (truncated body after retries).
  Result<HttpResponse> Get(const HttpRequest& request);

  const HttpClientOptions& options() const { return options_; }
  std::string Redact(std::string_view text) const;

 private:
  explicit HttpClient(HttpClientOptions options);
  struct Impl;
  HttpClientOptions options_;
  std::unique_ptr<Impl> impl_;
};

// Replaces each secret and the values of query parameters named api_key, apikey, key, token
// with "***".
std::string RedactSecrets(std::string_view text, const std::vector<std::string>& secrets);

// ------------------------------------------------------------------------------ source config

enum class SourceType { kFred, kAlfred, kSdmx, kWorldBank, kHttpCsv, kHttpJson };
std::string_view SourceTypeName(SourceType t);

// Validation rules of one series (or defaults of a source). A violation fails the load of
// the whole source with an error naming the series, period and rule; nothing is stored.
struct ValidationRules {
  std::optional<Frequency> frequency;  // expected frequency
  std::optional<double> min;           // allowed range of values
  std::optional<double> max;
  std::optional<double> max_revision;  // largest |new - stored latest| for a period
  std::optional<int> max_staleness_days;  // last period must end within N days of today
  std::optional<int> max_gap;          // most consecutive missing periods inside the series
};

struct SeriesSpec {
  std::string id;   // provider id: FRED series id, SDMX "FLOW/KEY", WB "INDICATOR" (+country)
  std::string key;  // store key; default derived from the source's prefix and id
  SeriesMetadata metadata;
  ValidationRules rules;
};

struct SourceConfig {
  std::string name;
  SourceType type = SourceType::kFred;
  std::string base_url;
  std::string key_prefix;      // default: the source name
  std::string api_key_env;     // environment variable holding the api key (FRED)
  std::string format = "csv";  // SDMX: csv or json
  std::vector<SeriesSpec> series;
  ValidationRules rules;       // defaults for every series of the source
  std::map<std::string, std::string> params;  // extra query parameters
  std::string start_period;    // SDMX startPeriod, FRED observation_start, WB date range start
  std::string updated_after;   // SDMX updatedAfter
  std::string realtime_start;  // ALFRED: real-time window (default 1776-07-04 .. 9999-12-31)
  std::string realtime_end;
  int64_t page_size = 0;       // FRED limit / WB per_page (0: provider maximum)
  std::string country = "all"; // World Bank
  FieldMapping mapping;        // generic HTTP sources
  std::string schedule;        // cron expression run by the scheduler (may be empty)
  std::string timezone;        // IANA zone of the schedule (empty: UTC); checked when read
  HttpClientOptions http;
};

struct LoadConfig {
  std::string path;
  std::vector<SourceConfig> sources;
};

// Reads the YAML source configuration (docs/connectors.md). InvalidArgument naming the
// file, source and field.
Result<LoadConfig> ReadLoadConfig(const std::string& path);
Result<LoadConfig> ParseLoadConfig(std::string_view yaml, const std::string& name);

// ------------------------------------------------------------------------------ loading

struct SourceProgress {
  std::string source;
  int64_t requests_done = 0;
  int64_t requests_total = 0;  // known series count (paging may add more requests)
  int64_t bytes = 0;
};

struct SourceLoadOptions {
  std::string loader = "almanac";
  // Only changes since this date: SDMX updatedAfter, FRED/ALFRED realtime_start,
  // World Bank date range start.
  std::optional<Date> since;
  // Skip conditional requests (fetch everything).
  bool force = false;
  // Overrides of the source's HTTP options (tests and benchmarks); applied when set.
  std::function<void(HttpClientOptions&)> adjust_http;
  std::function<void(const SourceProgress&)> progress;
  // Looks up environment variables (tests). Default: getenv.
  std::function<std::optional<std::string>(const std::string&)> getenv;
  // A load that breaks a validation rule goes to the quarantine (true) or fails with the
  // violation (false). Either way nothing becomes a vintage.
  bool quarantine = true;
};

struct SourceLoadResult {
  std::string source;
  int64_t requests = 0;
  int64_t not_modified = 0;   // 304 replies
  int64_t bytes = 0;
  int64_t series_fetched = 0;
  int64_t series_unchanged = 0;  // skipped thanks to 304
  bool committed = false;        // false: nothing new, or quarantined (no load was made)
  store::LoadReport report;
  // Quarantined: the entry's id (the same id when an identical load is already pending) and
  // every violation, one line each.
  int64_t quarantine_id = 0;
  bool quarantine_repeat = false;
  std::vector<std::string> violations;
};

// Fetches every series of `source`, validates, and stores them in one load (one vintage
// per series per realtime_start). Updates the stored HTTP validators (ETag/Last-Modified)
// only after the load commits. On error nothing is stored; the message names the source,
// the series and the redacted URL. A load that breaks a validation rule is quarantined
// (SourceLoadResult::quarantine_id; audited as "load.quarantine"), unless options say not to.
Result<SourceLoadResult> LoadSource(const SourceConfig& source, const SourceLoadOptions& options,
                                    store::Store& store);

// Applies validation rules to parsed series (also used by push ingest). `stored` reads the
// current latest values for revision checks. InvalidArgument naming series, period, rule.
Status ValidateSeries(const ParsedSeries& series, const ValidationRules& rules, store::SeriesStore& store,
                      Date today);

// ------------------------------------------------------------------------------ quarantine

// The payload of a quarantined load: its parsed series, as versioned JSON (docs/connectors.md).
std::string EncodeQuarantinePayload(const std::vector<ParsedSeries>& series);
// DataLoss when the text is not a payload EncodeQuarantinePayload wrote.
Result<std::vector<ParsedSeries>> DecodeQuarantinePayload(std::string_view text);

struct QuarantineDecision {
  std::string user;    // who decides (audited)
  std::string reason;  // required
  // Release even when a series got a newer vintage after the load was quarantined (which
  // would make the quarantined, older values the latest).
  bool force = false;
};

// Stores a pending quarantined load as one load (its vintages start at the release, when the
// data was accepted), marks it released and audits "quarantine.release". FailedPrecondition
// when it is not pending or a series changed since (without force); InvalidArgument without
// a reason; NotFound for an unknown id; DataLoss when the payload no longer matches its digest.
Result<store::LoadReport> ReleaseQuarantined(int64_t id, const QuarantineDecision& decision, store::Store& store);
// Marks a pending quarantined load dropped (nothing is stored) and audits "quarantine.drop".
Status DropQuarantined(int64_t id, const QuarantineDecision& decision, store::Store& store);

// ------------------------------------------------------------------------------ push ingest

// One NDJSON record: {"series": KEY, "period": "2024-01", "value": 1.5 | null | "1.5",
// "realtime_start": "2024-02-01" (optional), "frequency": "M" (optional)}.
struct NdjsonRecord {
  std::string key;
  std::string period;  // resolved against the series' frequency when the batch is stored
  std::optional<Frequency> frequency;
  std::optional<double> value;
  std::optional<Date> realtime_start;
};
// InvalidArgument naming the field for malformed JSON, a missing field, a bad key, value or date.
Result<NdjsonRecord> ParseNdjsonRecord(std::string_view line);

// Stores a batch as one load (one transaction; one vintage per series per realtime_start).
// A period is read with the stored series' frequency, else the record's, else inferred from
// its text. On any error nothing is stored; the message names the record (1-based in the batch).
Result<store::LoadReport> IngestBatch(const std::vector<NdjsonRecord>& batch, const std::string& loader,
                                      const std::string& source, store::SeriesStore& store);

}  // namespace almanac::data
