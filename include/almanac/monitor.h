// File: almanac/monitor.h
//
// The monitor component: what an operator or a model validator watches. In this order:
//   1. metrics: counters, gauges and histograms with labels in a MetricRegistry object (not
//      a global), exported in the Prometheus text exposition format 0.0.4;
//   2. process metric helpers: the process collector, the /metrics endpoint of workers and
//      schedulers, and the pipeline and store metric families;
//   3. accuracy monitoring: rules, scores of stored production forecasts against the data that
//      arrived since, their metrics, and EvaluateProductionAccuracy (the one service serve,
//      the scheduler and `almanac monitor` call);
//   4. the model-risk report (BuildModelRiskReport, what `almanac report` writes);
//   5. logging: the structured (ECS JSON or text) Logger every long-running command and the
//      server write through, with secrets redacted.
// Each section starts with a "// ---" rule below.
//
// Metrics, for example (what `GET /metrics` returns and `promtool check metrics` accepts):
//   monitor::MetricRegistry metrics;
//   auto& requests = metrics.AddCounter("almanac_http_requests_total", "HTTP requests", {"route", "status"});
//   requests.WithLabels({"/v1/forecast", "200"}).Inc();
//   auto& latency = metrics.AddHistogram("almanac_http_request_duration_seconds", "Latency", {"route"},
//                                        monitor::DefaultLatencyBuckets());
//   latency.WithLabels({"/v1/forecast"}).Observe(0.0004);
//   std::string text = metrics.Exposition();
//
// Names follow Prometheus conventions: units in the name (`_seconds`, `_bytes`), counters end
// in `_total`. Label values are data (model names, routes) and are escaped on output; metric
// and label names are constants of the calling code, and a bad one is a programmer error.
// Keep label cardinality bounded: every distinct label set lives until removed.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <variant>
#include <vector>

#include "almanac/core.h"
#include "almanac/core/json.h"
#include "almanac/store.h"

namespace almanac::models {
class ForecasterRegistry;
}  // namespace almanac::models

namespace almanac::monitor {

// A monotonically increasing value. Thread-safe (lock-free).
class Counter {
 public:
  // IMPORTANT: `v` must be >= 0 (counters never go down); negative values are ignored.
  void Inc(double v = 1) {
    if (v > 0) value_.fetch_add(v, std::memory_order_relaxed);
  }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// A value that goes up and down. Thread-safe (lock-free).
class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Inc(double v = 1) { value_.fetch_add(v, std::memory_order_relaxed); }
  void Dec(double v = 1) { value_.fetch_sub(v, std::memory_order_relaxed); }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Counts observations into buckets with fixed upper bounds (plus +Inf). Thread-safe
// (lock-free). An exposition taken during updates may lag by the observations in progress,
// but its buckets, _count and +Inf always agree with each other.
class Histogram {
 public:
  explicit Histogram(const std::vector<double>* bounds);
  void Observe(double v);

  struct Snapshot {
    std::vector<uint64_t> cumulative;  // one per bound, then +Inf
    double sum = 0;
  };
  Snapshot Read() const;

 private:
  const std::vector<double>* bounds_;  // owned by the family; sorted ascending
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // per bucket (not cumulative), then overflow
  std::atomic<double> sum_{0};
};

// Buckets for request latencies in seconds: 50 µs .. 10 s.
std::vector<double> DefaultLatencyBuckets();

enum class MetricType { kCounter, kGauge, kHistogram };

// The metrics of one name, one child per distinct label-value set. WithLabels returns a
// reference that stays valid until Remove/Clear of that label set (hold it only while the
// label set cannot be removed, e.g. for the process lifetime). Thread-safe.
template <typename M>
class Family {
 public:
  // IMPORTANT: exactly one value per label name (a programmer error otherwise).
  M& WithLabels(std::initializer_list<std::string_view> values);
  M& WithLabels(const std::vector<std::string>& values);
  // Removes one label set (no-op when absent).
  void Remove(const std::vector<std::string>& values);
  void Clear();

  const std::string& name() const { return name_; }

 private:
  friend class MetricRegistry;
  Family(std::string name, std::string help, std::vector<std::string> labels, std::vector<double> buckets);
  M& Get(std::string key, std::vector<std::string> values);
  // Label values and a copy of each child's state (double, or a histogram snapshot), sorted
  // by label values; taken under the lock so a concurrent Remove cannot invalidate them.
  using Sample = std::conditional_t<std::is_same_v<M, Histogram>, Histogram::Snapshot, double>;
  std::vector<std::pair<std::vector<std::string>, Sample>> Samples() const;

  std::string name_;
  std::string help_;
  std::vector<std::string> label_names_;
  std::vector<double> buckets_;  // histograms only
  mutable std::mutex mu_;
  struct Child {
    std::vector<std::string> values;
    std::unique_ptr<M> metric;
  };
  std::unordered_map<std::string, Child> children_;  // key: values joined by '\xff'
};

// Owns metric families and renders them. Thread-safe. Not a global: create one per process
// (or per test) and pass it to the components that record.
class MetricRegistry {
 public:
  MetricRegistry() = default;
  MetricRegistry(const MetricRegistry&) = delete;
  MetricRegistry& operator=(const MetricRegistry&) = delete;

  // Adds a family (or returns the existing one of that name and type). A name must match
  // [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]* not starting with "__"; a
  // counter's name ends in "_total"; histograms may not use the label "le". Violations, or
  // the same name with another type or labels, are programmer errors (ALMANAC_DCHECK).
  Family<Counter>& AddCounter(std::string name, std::string help, std::vector<std::string> labels = {});
  Family<Gauge>& AddGauge(std::string name, std::string help, std::vector<std::string> labels = {});
  // `buckets`: strictly increasing finite upper bounds (+Inf is implicit).
  Family<Histogram>& AddHistogram(std::string name, std::string help, std::vector<std::string> labels,
                                  std::vector<double> buckets);

  // Runs before every exposition, e.g. to set gauges read from the process (memory, sizes).
  void AddCollector(std::function<void()> collect);

  // The text exposition format 0.0.4: HELP and TYPE lines, then samples, families in name
  // order and label sets in value order (stable output for tests and diffs).
  std::string Exposition() const;

  static constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

 private:
  struct Entry {
    MetricType type;
    std::unique_ptr<Family<Counter>> counter;
    std::unique_ptr<Family<Gauge>> gauge;
    std::unique_ptr<Family<Histogram>> histogram;
  };
  Entry& Add(MetricType type, const std::string& name, const std::vector<std::string>& labels);

  mutable std::mutex mu_;
  std::map<std::string, Entry> families_;
  std::vector<std::function<void()>> collectors_;
};

// Escapes a label value for the text format: backslash, double quote and line feed become
// \\, \" and \n.
std::string EscapeLabelValue(std::string_view value);
// Escapes HELP text: backslash and line feed.
std::string EscapeHelp(std::string_view text);
// A sample value: shortest round-trip decimal, "+Inf", "-Inf" or "NaN".
std::string FormatSampleValue(double v);

bool IsValidMetricName(std::string_view name);
bool IsValidLabelName(std::string_view name);

// Process metrics read from /proc/self (Linux): resident and virtual memory, CPU seconds,
// open file descriptors and the start time, as the standard `process_*` gauges and counter.
// Registers its families and a collector on `registry`.
void AddProcessMetrics(MetricRegistry& registry);


// ------------------------------------------------------------------- process metric helpers
//
// What every long-running process exports, so `almanac serve`, `almanac scheduler` and
// `almanac worker` show the same series (docs/monitoring.md lists them). A process without an
// HTTP API starts a MetricsEndpoint; serve answers /metrics from its own listener.

// GET /metrics (the registry's exposition) and GET /healthz on its own thread (Boost.Beast).
// Any other path: 404. Each connection gets 10 s to send its request. Thread-safe.
class MetricsEndpoint {
 public:
  // `listen`: "host:port" (port 0 picks a free one). InvalidArgument for a malformed address;
  // Unavailable when it cannot bind. `registry` must outlive the endpoint.
  static Result<std::unique_ptr<MetricsEndpoint>> Start(std::string_view listen, MetricRegistry& registry);
  ~MetricsEndpoint();  // stops and joins
  int port() const;
  void Stop();

  class Impl;

 private:
  explicit MetricsEndpoint(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Pipeline runs and steps (scheduler and worker). Outcomes: runs "success", "failure",
// "skipped"; steps "computed", "cached", "failed". Thread-safe.
class PipelineMetrics {
 public:
  explicit PipelineMetrics(MetricRegistry& registry);
  void RunFinished(std::string_view pipeline, std::string_view outcome, double seconds, int64_t finished_micros);
  void StepFinished(std::string_view pipeline, std::string_view step, std::string_view outcome, double seconds);
  // Work waiting to start, by queue ("scheduled": fires due but not started).
  void SetQueueDepth(std::string_view queue, int64_t depth);
  // A scheduled load of a source finished: almanac_source_loads_total{source,outcome} and
  // almanac_source_load_duration_seconds{source,outcome} (outcome from pipeline::LoadOutcome);
  // a "committed" or "unchanged" one (the store holds what the provider serves) also sets
  // almanac_source_last_success_timestamp_seconds{source} to `finished_micros`.
  void LoadFinished(std::string_view source, std::string_view outcome, double seconds, int64_t finished_micros);
  // Task queue workers: a claimed task started (almanac_worker_busy_tasks + 1) or an attempt
  // ended (busy - 1, almanac_tasks_total{kind,outcome}, almanac_task_duration_seconds{kind,outcome};
  // outcomes from pipeline::WorkerOptions::on_task: done, retry, failed, lost).
  void TaskStarted(std::string_view kind);
  void TaskFinished(std::string_view kind, std::string_view outcome, double seconds);

 private:
  Family<Counter>& runs_;
  Family<Histogram>& run_seconds_;
  Family<Histogram>& step_seconds_;
  Family<Gauge>& last_run_;
  Family<Gauge>& last_success_;
  Family<Gauge>& queue_depth_;
  Family<Counter>& source_loads_;
  Family<Histogram>& source_load_seconds_;
  Family<Gauge>& source_last_success_;
  Family<Counter>& tasks_;
  Family<Histogram>& task_seconds_;
  Family<Gauge>& busy_;
};

// Data freshness per series and loads per source, read from the store by Refresh() and
// exported from a copy, so that a scrape never touches the store:
//   almanac_series_last_vintage_timestamp_seconds{series}  the newest realtime_start of the
//       series' vintages (00:00 UTC): the date the provider published the newest data, so
//       time() - value is the age of the data, whenever it was loaded
//   almanac_series_last_load_timestamp_seconds{series}  the newest loaded_at: when a load last
//       stored a new vintage (a load that changes nothing records no vintage)
//   almanac_series_tracked, almanac_data_loads{source}
// Restatement vintages (back-fill bookkeeping) count for neither timestamp.
// Call Refresh on a background thread when the store changed (serve's poller does after every
// audit-log move). Thread-safe.
class StoreMetrics {
 public:
  StoreMetrics(MetricRegistry& registry, store::SeriesStore& series);
  // Re-reads every series' vintages. Errors of the store are returned (the old values stay).
  Status Refresh();

 private:
  store::SeriesStore& series_;
  Family<Gauge>& last_vintage_;
  Family<Gauge>& last_load_;
  Family<Gauge>& tracked_;
  Family<Gauge>& loads_;
  std::mutex mu_;
  std::vector<std::string> series_seen_;  // GUARDED_BY(mu_)
};


// ------------------------------------------------------------------- accuracy monitoring
//
// Outcomes analysis of production forecasts (SR 11-7, SS1/23): the forecasts a production
// version issued (store::IssuedForecastRecord) are scored against the actuals that arrived
// since (a newer vintage of the target), per horizon, and compared with the version's backtest
// (its registered metrics `mase`, `coverage80`, `coverage95`). The verdict follows the rule in
// the model's policy:
//   policy: {"monitor": {"max_mase_ratio": 1.5, "max_coverage_shortfall": 0.15, "min_errors": 4}}

struct AccuracyRule {
  double max_mase_ratio = 1.5;           // degraded: realized MASE > ratio x backtest MASE
  double max_coverage_shortfall = 0.15;  // degraded: realized coverage < level/100 - shortfall
  int min_errors = 4;                    // fewer (forecast, horizon) errors: no verdict yet
};
// Reads policy["monitor"] (defaults for absent keys). InvalidArgument naming an unknown key or
// a bad value (ratio <= 0, shortfall outside [0, 1], min_errors < 1).
Result<AccuracyRule> ParseAccuracyRule(const Json& policy);

struct HorizonError {
  int horizon = 0;
  int n = 0;         // forecasts with an actual at this horizon
  double mae = 0;
  double mase = 0;   // NaN when no forecast had a MASE scale
};

struct LevelCoverage {
  double level = 0;     // percent
  int n = 0;
  double realized = 0;  // fraction of actuals inside the interval
  double backtest = 0;  // NaN when the backtest did not record it
};

enum class AccuracyVerdict { kNoForecasts, kNoActuals, kTooFew, kOk, kDegraded };
// "no_forecasts", "no_actuals", "too_few", "ok", "degraded"
std::string_view AccuracyVerdictName(AccuracyVerdict v);

struct VersionAccuracy {
  std::string model;
  int64_t version = 0;
  std::string target;
  int forecasts = 0;  // stored forecasts of the version
  int evaluated = 0;  // (forecast, horizon) pairs with an actual
  double realized_mae = 0;
  double realized_mase = 0;  // pooled: mean of |error| / scale of its forecast's origin; NaN if none
  double backtest_mase = 0;  // NaN without a backtest
  std::vector<HorizonError> by_horizon;
  std::vector<LevelCoverage> coverage;
  AccuracyVerdict verdict = AccuracyVerdict::kNoForecasts;
  std::string reason;  // for people: why this verdict
};

// Scores `forecasts` (of one version) against `actuals` (the target as known now; the MASE
// scale of each forecast uses the actuals up to its origin with the seasonal period of the
// frequency, as the backtests do). `backtest` is the version's metrics object. A forecast whose
// origin does not parse in the actuals' frequency is InvalidArgument.
Result<VersionAccuracy> EvaluateAccuracy(std::string_view model, int64_t version, const Json& backtest,
                                         const std::vector<store::IssuedForecastRecord>& forecasts,
                                         const TimeSeries& actuals, const AccuracyRule& rule);

// Scores the stored forecasts of every production version (of `only_model` when not empty)
// against its target as known now (data::TargetAsOf on the package's recorded target: its
// input series with everything loaded, its transforms applied). What `almanac monitor`, the
// scheduler's and serve's accuracy metrics report. NotFound for an unknown `only_model`;
// errors reading a package or its actuals name the version ("actuals of gdp@3: ...").
Result<std::vector<VersionAccuracy>> EvaluateProductionAccuracy(store::Store& store, store::ArtifactStore& artifacts,
                                                                const std::string& only_model);

// ------------------------------------------------------------------- model-risk report

// One self-contained HTML file for model-risk review (SR 11-7, SS1/23) of `model`@`which`
// (a version number or an alias: production, staging): model card, fan chart of the forecast
// with history (inline SVG), backtests against naive and the production version, Diebold-
// Mariano tests, lineage, approvals, audit entries and monitoring history. No scripts, fonts
// or images from the network. `models` loads and refits the model types; `clock` dates the
// report. NotFound for an unknown model or version; errors reading the version's package.
// Parts that cannot be computed (a snapshot not in the store, no backtest) are said in the HTML.
struct ModelRiskReport {
  std::string model;
  int64_t version = 0;
  std::string html;
};
Result<ModelRiskReport> BuildModelRiskReport(store::Store& store, store::ArtifactStore& artifacts,
                                             const models::ForecasterRegistry& models, const std::string& model,
                                             const std::string& which, const Clock& clock);

// Gauges of the latest evaluation, one series per production version:
//   almanac_forecast_realized_mase, almanac_forecast_backtest_mase{model,version}
//   almanac_forecast_interval_coverage_ratio{model,version,level}
//   almanac_forecast_errors_evaluated, almanac_forecast_accuracy_degraded (1 or 0){model,version}
// Publish replaces the whole set (versions no longer passed disappear). Thread-safe.
class AccuracyMetrics {
 public:
  explicit AccuracyMetrics(MetricRegistry& registry);
  void Publish(const std::vector<VersionAccuracy>& accuracies);

 private:
  Family<Gauge>& realized_;
  Family<Gauge>& backtest_;
  Family<Gauge>& coverage_;
  Family<Gauge>& evaluated_;
  Family<Gauge>& degraded_;
  std::mutex mu_;
  std::vector<std::vector<std::string>> two_;    // GUARDED_BY(mu_): {model, version} sets
  std::vector<std::vector<std::string>> three_;  // GUARDED_BY(mu_): {model, version, level}
};

// ------------------------------------------------------------------------------- logging
//
// Structured logs shared by every long-running process (serve, scheduler, worker):
//   monitor::Logger log({.format = monitor::LogFormat::kJson, .service = "almanac-serve"});
//   log.Info("GET /v1/models 200", {{"trace.id", rid}, {"http.response.status_code", int64_t{200}}});
// kJson writes one JSON object per line with Elastic Common Schema field names (`@timestamp`,
// `log.level`, `message`, `service.name`, `ecs.version`, then the caller's fields such as
// `trace.id`, `http.request.method`, `url.path`, `http.response.status_code`,
// `event.duration` in nanoseconds, `user.name`), flat dotted keys, which Elasticsearch maps
// to the nested ECS objects. kText writes "TIMESTAMP SERVICE: [ERROR: |WARNING: ]message
// key=value ..." for people. Bearer tokens, almanac API secrets and `api_key=`-style URL
// parameters are redacted from the message and every string field (RedactSecrets).

enum class LogLevel { kDebug, kInfo, kWarning, kError };
enum class LogFormat { kText, kJson };
std::string_view LogLevelName(LogLevel level);  // "debug", "info", "warn", "error" (ECS log.level)
// "json" or "text"; InvalidArgument otherwise.
Result<LogFormat> ParseLogFormat(std::string_view text);

// One ECS field. IMPORTANT: string values are views; they must outlive the Log call only.
struct LogField {
  std::string_view key;
  std::variant<std::string_view, int64_t, double> value;
  LogField(std::string_view k, std::string_view v) : key(k), value(v) {}
  LogField(std::string_view k, const std::string& v) : key(k), value(std::string_view(v)) {}
  LogField(std::string_view k, const char* v) : key(k), value(std::string_view(v)) {}
  LogField(std::string_view k, int64_t v) : key(k), value(v) {}
  LogField(std::string_view k, int v) : key(k), value(int64_t{v}) {}
  LogField(std::string_view k, double v) : key(k), value(v) {}
};

// Writes log lines. Thread-safe: each line is written whole, under a lock.
class Logger {
 public:
  struct Options {
    LogFormat format = LogFormat::kText;
    std::string service = "almanac";  // ECS service.name, e.g. "almanac-serve"
    LogLevel min_level = LogLevel::kInfo;
    // Receives each finished line (with its '\n'). Default: stdout for kJson (one object per
    // line, as log shippers expect), stderr for kText.
    std::function<void(std::string_view line)> sink;
    const Clock* clock = nullptr;  // default SystemClock()
    // > 0 (without a sink): lines are collected and written by a background thread at most
    // this many milliseconds later (or at 64 KiB), so a busy server makes one write per batch
    // instead of one per access-log line; warnings and errors are written at once (with what
    // is pending), and the destructor writes the rest. A SIGKILL loses at most this window.
    int64_t buffer_ms = 0;
    // > 0: a warn or error line is written at most this many times per second with the same
    // level, message and `client.ip` field (lines without one count as one client); the
    // repeats are counted instead, and when the second is over one line at the same level
    // says "suppressed N similar lines: MESSAGE" (with the client.ip). The summary is written
    // with the next warn or error line, by the flusher (buffer_ms), or by the destructor. So a
    // flood of refused requests cannot fill the disk with warnings. Info lines (the access log
    // of ordinary requests) are never suppressed. At most 4096 distinct (message, client)
    // pairs are tracked per second; the lines of any others share one budget.
    int repeat_limit = 0;
  };
  Logger() : Logger(Options{}) {}
  explicit Logger(Options options);
  ~Logger();
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  void Log(LogLevel level, std::string_view message, std::initializer_list<LogField> fields = {}) const {
    LogFields(level, message, std::span<const LogField>(fields.begin(), fields.size()));
  }
  // As Log, with a field list built at run time (e.g. optional fields left out).
  void LogFields(LogLevel level, std::string_view message, std::span<const LogField> fields) const;
  void Info(std::string_view message, std::initializer_list<LogField> fields = {}) const {
    Log(LogLevel::kInfo, message, fields);
  }
  void Warn(std::string_view message, std::initializer_list<LogField> fields = {}) const {
    Log(LogLevel::kWarning, message, fields);
  }
  void Error(std::string_view message, std::initializer_list<LogField> fields = {}) const {
    Log(LogLevel::kError, message, fields);
  }
  // A free-text line from a callback that predates levels: "ERROR: " or "WARNING: " at its
  // start sets the level (and is dropped from the message in kJson); anything else is info.
  void Line(std::string_view line, std::initializer_list<LogField> fields = {}) const;
  // The line Log would write (no trailing newline), for tests and other sinks.
  std::string Format(LogLevel level, std::string_view message, std::initializer_list<LogField> fields) const {
    return FormatFields(level, message, std::span<const LogField>(fields.begin(), fields.size()));
  }
  std::string FormatFields(LogLevel level, std::string_view message, std::span<const LogField> fields) const;

  LogFormat format() const { return options_.format; }
  const std::string& service() const { return options_.service; }
  // Writes the summaries of repeats whose second is over (see repeat_limit). Thread-safe.
  void FlushSuppressed() const;

 private:
  struct Repeats;             // the repeat_limit state (log.cc)
  struct Suppressed;          // a summary line to write
  void WritePending() const;  // REQUIRES mu_
  void FlushLoop();
  void Write(LogLevel level, std::string_view line) const;  // `line` ends with '\n'
  void WriteSuppressed(const std::vector<Suppressed>& due) const;

  Options options_;
  std::string text_prefix_;  // "almanac serve: "
  mutable std::mutex mu_;
  mutable std::string pending_;  // GUARDED_BY(mu_): buffered lines
  mutable std::condition_variable flush_cv_;
  bool stop_ = false;  // GUARDED_BY(mu_)
  std::unique_ptr<Repeats> repeats_;  // null without repeat_limit; has a lock of its own
  std::thread flusher_;
};

// Replaces secrets in free text: "Bearer <anything>" -> "Bearer [REDACTED]", almanac API
// secrets ("alm_" + 64 hex) -> "alm_[REDACTED]", and the values of URL/query parameters named
// api_key, apikey, token, access_token, password, secret -> "[REDACTED]".
std::string RedactSecrets(std::string_view text);

}  // namespace almanac::monitor
