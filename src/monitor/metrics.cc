#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "almanac/core.h"
#include "almanac/monitor.h"

namespace almanac::monitor {
namespace {

constexpr char kSep = '\xff';  // cannot appear in valid UTF-8, so joined keys never collide

std::string JoinKey(const std::vector<std::string>& values) {
  std::string key;
  for (const auto& v : values) {
    key += v;
    key += kSep;
  }
  return key;
}

const char* TypeName(MetricType t) {
  switch (t) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

// `{a="x",b="y"}` with an optional extra label (histogram `le`); "" when there are none.
void AppendLabels(std::string& out, const std::vector<std::string>& names, const std::vector<std::string>& values,
                  std::string_view extra_name = {}, std::string_view extra_value = {}) {
  if (names.empty() && extra_name.empty()) return;
  out += '{';
  for (size_t i = 0; i < names.size(); ++i) {
    if (i) out += ',';
    out += names[i];
    out += "=\"";
    out += EscapeLabelValue(values[i]);
    out += '"';
  }
  if (!extra_name.empty()) {
    if (!names.empty()) out += ',';
    out += extra_name;
    out += "=\"";
    out += extra_value;
    out += '"';
  }
  out += '}';
}

}  // namespace

// ------------------------------------------------------------------------------ helpers

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string EscapeHelp(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string FormatSampleValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto [p, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  if (ec != std::errc()) return "NaN";
  return std::string(buf, p);
}

bool IsValidMetricName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

bool IsValidLabelName(std::string_view name) {
  if (name.empty() || name.substr(0, 2) == "__") return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

std::vector<double> DefaultLatencyBuckets() {
  return {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

// ---------------------------------------------------------------------------- histogram

Histogram::Histogram(const std::vector<double>* bounds)
    : bounds_(bounds), counts_(new std::atomic<uint64_t>[bounds->size() + 1]) {
  for (size_t i = 0; i <= bounds_->size(); ++i) counts_[i].store(0, std::memory_order_relaxed);
}

void Histogram::Observe(double v) {
  if (std::isnan(v)) return;
  // Bucket i counts values in (bound[i-1], bound[i]]; the last one everything above.
  const size_t i = static_cast<size_t>(std::lower_bound(bounds_->begin(), bounds_->end(), v) - bounds_->begin());
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::Read() const {
  Snapshot s;
  s.cumulative.resize(bounds_->size() + 1);
  uint64_t total = 0;
  for (size_t i = 0; i <= bounds_->size(); ++i) {
    total += counts_[i].load(std::memory_order_relaxed);
    s.cumulative[i] = total;
  }
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

// ------------------------------------------------------------------------------ family

template <typename M>
Family<M>::Family(std::string name, std::string help, std::vector<std::string> labels, std::vector<double> buckets)
    : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(labels)), buckets_(std::move(buckets)) {}

template <typename M>
M& Family<M>::Get(std::string key, std::vector<std::string> values) {
  ALMANAC_DCHECK(values.size() == label_names_.size());
  std::lock_guard lock(mu_);
  auto it = children_.find(key);
  if (it != children_.end()) return *it->second.metric;
  Child c;
  c.values = std::move(values);
  if constexpr (std::is_same_v<M, Histogram>)
    c.metric = std::make_unique<Histogram>(&buckets_);
  else
    c.metric = std::make_unique<M>();
  M& ref = *c.metric;
  children_.emplace(std::move(key), std::move(c));
  return ref;
}

template <typename M>
M& Family<M>::WithLabels(std::initializer_list<std::string_view> values) {
  std::string key;
  std::vector<std::string> v;
  v.reserve(values.size());
  for (auto s : values) {
    key += s;
    key += kSep;
  }
  // Fast path: an existing child needs no vector.
  {
    std::lock_guard lock(mu_);
    auto it = children_.find(key);
    if (it != children_.end()) return *it->second.metric;
  }
  for (auto s : values) v.emplace_back(s);
  return Get(std::move(key), std::move(v));
}

template <typename M>
M& Family<M>::WithLabels(const std::vector<std::string>& values) {
  return Get(JoinKey(values), values);
}

template <typename M>
void Family<M>::Remove(const std::vector<std::string>& values) {
  std::lock_guard lock(mu_);
  children_.erase(JoinKey(values));
}

template <typename M>
void Family<M>::Clear() {
  std::lock_guard lock(mu_);
  children_.clear();
}

template <typename M>
std::vector<std::pair<std::vector<std::string>, typename Family<M>::Sample>> Family<M>::Samples() const {
  std::vector<std::pair<std::vector<std::string>, Sample>> out;
  {
    std::lock_guard lock(mu_);
    out.reserve(children_.size());
    for (const auto& [k, c] : children_) {
      if constexpr (std::is_same_v<M, Histogram>)
        out.emplace_back(c.values, c.metric->Read());
      else
        out.emplace_back(c.values, c.metric->Value());
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

// ---------------------------------------------------------------------------- registry

MetricRegistry::Entry& MetricRegistry::Add(MetricType type, const std::string& name,
                                           const std::vector<std::string>& labels) {
  ALMANAC_DCHECK(IsValidMetricName(name));
  for (const auto& l : labels) ALMANAC_DCHECK(IsValidLabelName(l));
  if (type == MetricType::kCounter) ALMANAC_DCHECK(name.size() > 6 && name.substr(name.size() - 6) == "_total");
  auto it = families_.find(name);
  if (it != families_.end()) {
    ALMANAC_DCHECK(it->second.type == type);
    return it->second;
  }
  Entry& e = families_[name];
  e.type = type;
  return e;
}

Family<Counter>& MetricRegistry::AddCounter(std::string name, std::string help, std::vector<std::string> labels) {
  std::lock_guard lock(mu_);
  Entry& e = Add(MetricType::kCounter, name, labels);
  if (!e.counter) e.counter.reset(new Family<Counter>(name, std::move(help), std::move(labels), {}));
  return *e.counter;
}

Family<Gauge>& MetricRegistry::AddGauge(std::string name, std::string help, std::vector<std::string> labels) {
  std::lock_guard lock(mu_);
  Entry& e = Add(MetricType::kGauge, name, labels);
  if (!e.gauge) e.gauge.reset(new Family<Gauge>(name, std::move(help), std::move(labels), {}));
  return *e.gauge;
}

Family<Histogram>& MetricRegistry::AddHistogram(std::string name, std::string help, std::vector<std::string> labels,
                                                std::vector<double> buckets) {
  std::lock_guard lock(mu_);
  for (const auto& l : labels) ALMANAC_DCHECK(l != "le");
  for (size_t i = 0; i < buckets.size(); ++i) {
    ALMANAC_DCHECK(std::isfinite(buckets[i]));
    ALMANAC_DCHECK(i == 0 || buckets[i] > buckets[i - 1]);
  }
  Entry& e = Add(MetricType::kHistogram, name, labels);
  if (!e.histogram) e.histogram.reset(new Family<Histogram>(name, std::move(help), std::move(labels), std::move(buckets)));
  return *e.histogram;
}

void MetricRegistry::AddCollector(std::function<void()> collect) {
  std::lock_guard lock(mu_);
  collectors_.push_back(std::move(collect));
}

std::string MetricRegistry::Exposition() const {
  std::vector<std::function<void()>> collectors;
  {
    std::lock_guard lock(mu_);
    collectors = collectors_;
  }
  for (const auto& c : collectors) c();
  std::lock_guard lock(mu_);
  std::string out;
  out.reserve(4096);
  for (const auto& [name, e] : families_) {
    // Structured bindings are not captured by lambdas before Clang 16 (the sanitizer build).
    auto header = [&out, &name = name, type = e.type](const std::string& help) {
      out += "# HELP " + name + " " + EscapeHelp(help) + "\n";
      out += "# TYPE " + name + " " + TypeName(type) + "\n";
    };
    if (e.type == MetricType::kCounter) {
      header(e.counter->help_);
      for (const auto& [values, v] : e.counter->Samples()) {
        out += name;
        AppendLabels(out, e.counter->label_names_, values);
        out += ' ' + FormatSampleValue(v) + '\n';
      }
    } else if (e.type == MetricType::kGauge) {
      header(e.gauge->help_);
      for (const auto& [values, v] : e.gauge->Samples()) {
        out += name;
        AppendLabels(out, e.gauge->label_names_, values);
        out += ' ' + FormatSampleValue(v) + '\n';
      }
    } else {
      const auto& f = *e.histogram;
      header(f.help_);
      for (const auto& [values, s] : f.Samples()) {
        for (size_t i = 0; i <= f.buckets_.size(); ++i) {
          out += name + "_bucket";
          AppendLabels(out, f.label_names_, values, "le", i < f.buckets_.size() ? FormatSampleValue(f.buckets_[i]) : "+Inf");
          out += ' ' + std::to_string(s.cumulative[i]) + '\n';
        }
        out += name + "_sum";
        AppendLabels(out, f.label_names_, values);
        out += ' ' + FormatSampleValue(s.sum) + '\n';
        out += name + "_count";
        AppendLabels(out, f.label_names_, values);
        out += ' ' + std::to_string(s.cumulative.back()) + '\n';
      }
    }
  }
  return out;
}

// --------------------------------------------------------------------- process metrics

namespace {

struct ProcessStat {
  double cpu_seconds = 0;
  double virtual_bytes = 0;
  double resident_bytes = 0;
  double start_time_seconds = 0;
};

bool ReadProcessStat(ProcessStat* out) {
  std::ifstream f("/proc/self/stat");
  std::string line;
  if (!std::getline(f, line)) return false;
  // The command name (field 2) may hold spaces and parentheses: parse after the last ')'.
  const size_t close = line.rfind(')');
  if (close == std::string::npos) return false;
  std::istringstream rest(line.substr(close + 2));
  std::vector<std::string> fields;
  std::string tok;
  while (rest >> tok) fields.push_back(tok);
  // fields[0] is field 3 (state); utime=14, stime=15, starttime=22, vsize=23, rss=24.
  if (fields.size() < 22) return false;
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  out->cpu_seconds = (std::stod(fields[11]) + std::stod(fields[12])) / ticks;
  out->virtual_bytes = std::stod(fields[20]);
  out->resident_bytes = std::stod(fields[21]) * page;
  double boot = 0;
  std::ifstream s("/proc/stat");
  for (std::string l; std::getline(s, l);)
    if (l.rfind("btime ", 0) == 0) boot = std::stod(l.substr(6));
  out->start_time_seconds = boot + std::stod(fields[19]) / ticks;
  return true;
}

}  // namespace

void AddProcessMetrics(MetricRegistry& registry) {
  auto& cpu = registry.AddCounter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.")
                  .WithLabels(std::vector<std::string>{});
  auto& vmem = registry.AddGauge("process_virtual_memory_bytes", "Virtual memory size in bytes.").WithLabels(std::vector<std::string>{});
  auto& rss = registry.AddGauge("process_resident_memory_bytes", "Resident memory size in bytes.").WithLabels(std::vector<std::string>{});
  auto& start = registry.AddGauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.")
                    .WithLabels(std::vector<std::string>{});
  auto& fds = registry.AddGauge("process_open_fds", "Number of open file descriptors.").WithLabels(std::vector<std::string>{});
  registry.AddCollector([&cpu, &vmem, &rss, &start, &fds]() {
    ProcessStat st;
    try {
      if (!ReadProcessStat(&st)) return;
    } catch (const std::exception&) {
      return;  // an unexpected /proc format: leave the last values
    }
    cpu.Inc(st.cpu_seconds - cpu.Value());
    vmem.Set(st.virtual_bytes);
    rss.Set(st.resident_bytes);
    start.Set(st.start_time_seconds);
    std::error_code ec;
    double n = 0;
    for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec); !ec && it != std::filesystem::directory_iterator();
         it.increment(ec))
      ++n;
    fds.Set(n);
  });
}

}  // namespace almanac::monitor
