// File: almanac/monitor.h
//
// The monitor component (basics): counters, gauges and histograms with labels, kept in a
// MetricRegistry object (not a global) and exported in the Prometheus text exposition format
// 0.0.4 (what `GET /metrics` returns and `promtool check metrics` accepts).
//
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
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

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

}  // namespace almanac::monitor
