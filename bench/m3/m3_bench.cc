// almanac_m3_bench: the M3 competition benchmark (accuracy and speed of almanac's models).
//
//   almanac_m3_bench M3_CSV [--methods naive2,theta,...] [--method LABEL=JSON_SPEC]...
//                    [--category MACRO] [--period MONTHLY] [--sample N] [--seed S]
//                    [--threads N] [--out DIR] [--forecasts] [--rescore [--submissions CSV]]
//
// Reads the tidy M3 file (datasets/m3/m3.csv: series_id,category,frequency,period,split,t,
// time_label,value), fits every requested model on the training part of every selected series,
// forecasts the official horizon (6 yearly, 8 quarterly, 18 monthly, 8 other) with 80% and 95%
// intervals, and scores the forecasts against the test part with almanac::eval. With
// --rescore it also scores the 24 original M3 submissions (m3_original_submissions.csv) on the
// same series with the same code.
//
// Output in DIR (default ./m3_out):
//   results.csv    one row per (engine, method, series): status, seconds (wall time of create
//                  + fit + forecast), sMAPE, MASE, MAPE, coverage and interval score at 80/95,
//                  MSIS95, cpu_seconds (thread CPU time of the same).
//                  bench/m3/run_r.R writes the same columns for R's forecast package, so
//                  bench/m3/compare.sh can put both side by side.
//   summary.md     per method and period: series, failures, sMAPE (mean over series and pooled
//                  over all points as in the M3 paper), MASE, coverage, time.
//   series.txt     the selected series ids (run_r.R --ids reads it).
//   forecasts.csv  with --forecasts: every forecast step with its bounds and actual value.
//
// Timing: each (method, series) task is timed on the thread that runs it. With --threads 1 the
// times are single-thread times comparable to R's; with more threads they include contention.
// Sampling: --sample N picks N series from the filtered, id-sorted list by a Fisher-Yates
// shuffle driven by the Park-Miller generator (x <- 16807 x mod 2^31-1, seeded with --seed),
// chosen because R can reproduce it exactly in doubles (run_r.R implements the same rule).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "almanac/core.h"
#include "almanac/core/json.h"
#include "almanac/eval.h"
#include "almanac/models.h"

namespace almanac::bench {
namespace {

constexpr double kLevels[] = {80, 95};
const double kNaN = std::nan("");

struct Series {
  std::string id, category, period;
  int frequency = 1;
  std::vector<double> train, test;
};

struct Method {
  std::string label;
  models::ModelSpec spec;
};

struct Options {
  std::string data;
  std::string submissions;
  std::vector<Method> methods;
  std::set<std::string> categories, periods;
  int sample = 0;
  long seed = 1;
  int threads = 0;
  std::string out = "m3_out";
  bool forecasts = false;
  bool rescore = false;
};

struct Outcome {
  std::string engine, method;
  const Series* series = nullptr;
  std::string status = "ok";
  double seconds = kNaN;      // wall time
  double cpu_seconds = kNaN;  // CPU time of the thread that ran the task
  eval::Accuracy acc;
  models::Forecast forecast;
};

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string field;
  std::stringstream ss(s);
  while (std::getline(ss, field, sep)) out.push_back(field);
  if (!s.empty() && s.back() == sep) out.emplace_back();
  return out;
}

std::string Num(double v) {
  if (std::isnan(v)) return "NA";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

// CSV fields of the output: quote when needed.
std::string Field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

Result<Options> ParseArgs(int argc, char** argv) {
  Options o;
  std::vector<std::string> args(argv + 1, argv + argc);
  auto need = [&](size_t& i) -> Result<std::string> {
    if (i + 1 >= args.size()) return InvalidArgumentError(args[i] + " needs a value");
    return args[++i];
  };
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--methods") {
      ALMANAC_ASSIGN_OR_RETURN(std::string v, need(i));
      for (const auto& name : Split(v, ','))
        if (!name.empty()) o.methods.push_back({name, {name, Json::object()}});
    } else if (a == "--method") {
      ALMANAC_ASSIGN_OR_RETURN(std::string v, need(i));
      const size_t eq = v.find('=');
      if (eq == std::string::npos) return InvalidArgumentError("--method expects LABEL=JSON_SPEC, got " + v);
      ALMANAC_ASSIGN_OR_RETURN(Json spec, ParseJson(v.substr(eq + 1)));
      if (!spec.is_object() || !spec.contains("type") || !spec["type"].is_string())
        return InvalidArgumentError("--method " + v.substr(0, eq) + ": the spec needs a \"type\"");
      o.methods.push_back({v.substr(0, eq), {spec["type"].get<std::string>(), spec.value("params", Json::object())}});
    } else if (a == "--category") {
      ALMANAC_ASSIGN_OR_RETURN(std::string v, need(i));
      for (const auto& c : Split(v, ',')) o.categories.insert(c);
    } else if (a == "--period") {
      ALMANAC_ASSIGN_OR_RETURN(std::string v, need(i));
      for (const auto& p : Split(v, ',')) o.periods.insert(p);
    } else if (a == "--sample") {
      ALMANAC_ASSIGN_OR_RETURN(std::string v, need(i));
      ALMANAC_ASSIGN_OR_RETURN(int64_t n, ParseInt(v));
      o.sample = static_cast<int>(n);
    } else if (a == "--seed") {
      ALMANAC_ASSIGN_OR_RETURN(std::string v, need(i));
      ALMANAC_ASSIGN_OR_RETURN(int64_t n, ParseInt(v));
      o.seed = static_cast<long>(n);
    } else if (a == "--threads") {
      ALMANAC_ASSIGN_OR_RETURN(std::string v, need(i));
      ALMANAC_ASSIGN_OR_RETURN(int64_t n, ParseInt(v));
      o.threads = static_cast<int>(n);
    } else if (a == "--out") {
      ALMANAC_ASSIGN_OR_RETURN(o.out, need(i));
    } else if (a == "--submissions") {
      ALMANAC_ASSIGN_OR_RETURN(o.submissions, need(i));
    } else if (a == "--forecasts") {
      o.forecasts = true;
    } else if (a == "--rescore") {
      o.rescore = true;
    } else if (a == "-h" || a == "--help") {
      return InvalidArgumentError("usage");
    } else if (!a.empty() && a[0] == '-') {
      return InvalidArgumentError("unknown option " + a);
    } else if (o.data.empty()) {
      o.data = a;
    } else {
      return InvalidArgumentError("unexpected argument " + a);
    }
  }
  if (o.data.empty()) return InvalidArgumentError("missing the path of m3.csv");
  if (o.submissions.empty())
    o.submissions = (std::filesystem::path(o.data).parent_path() / "m3_original_submissions.csv").string();
  if (o.methods.empty() && !o.rescore) return InvalidArgumentError("no methods given (--methods or --method)");
  return o;
}

Result<std::vector<Series>> ReadM3(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFoundError("cannot open " + path);
  std::string line;
  std::getline(in, line);
  if (line.rfind("series_id,category,frequency,period,split,t,", 0) != 0)
    return InvalidArgumentError(path + ": unexpected header (expected the tidy M3 format)");
  std::map<std::string, size_t> index;
  std::vector<Series> out;
  std::vector<std::vector<std::pair<int, double>>> train, test;
  int lineno = 1;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.empty()) continue;
    const std::vector<std::string> f = Split(line, ',');
    if (f.size() != 8) return InvalidArgumentError(path + ":" + std::to_string(lineno) + ": expected 8 fields");
    auto [it, added] = index.emplace(f[0], out.size());
    if (added) {
      ALMANAC_ASSIGN_OR_RETURN(int64_t freq, ParseInt(f[2]));
      out.push_back({f[0], f[1], f[3], static_cast<int>(freq), {}, {}});
      train.emplace_back();
      test.emplace_back();
    }
    ALMANAC_ASSIGN_OR_RETURN(int64_t t, ParseInt(f[5]));
    Result<double> v = ParseFiniteDouble(f[7]);
    if (!v.ok()) return v.status().WithContext(path + ":" + std::to_string(lineno));
    auto& dest = f[4] == "train" ? train[it->second] : test[it->second];
    dest.push_back({static_cast<int>(t), *v});
  }
  for (size_t i = 0; i < out.size(); ++i) {
    std::sort(train[i].begin(), train[i].end());
    std::sort(test[i].begin(), test[i].end());
    for (auto& [t, v] : train[i]) out[i].train.push_back(v);
    for (auto& [t, v] : test[i]) out[i].test.push_back(v);
  }
  std::sort(out.begin(), out.end(), [](const Series& a, const Series& b) { return a.id < b.id; });
  return out;
}

// The Park-Miller shuffle described at the top (reproduced exactly by run_r.R).
std::vector<const Series*> Select(const std::vector<Series>& all, const Options& o) {
  std::vector<const Series*> s;
  for (const auto& x : all)
    if ((o.categories.empty() || o.categories.count(x.category)) && (o.periods.empty() || o.periods.count(x.period)))
      s.push_back(&x);
  if (o.sample > 0 && o.sample < static_cast<int>(s.size())) {
    constexpr int64_t kMod = 2147483647;
    int64_t state = ((o.seed % kMod) + kMod) % kMod;
    if (state == 0) state = 1;
    for (size_t i = s.size() - 1; i >= 1; --i) {
      state = (16807 * state) % kMod;
      std::swap(s[i], s[static_cast<size_t>(state % static_cast<int64_t>(i + 1))]);
    }
    s.resize(static_cast<size_t>(o.sample));
    std::sort(s.begin(), s.end(), [](const Series* a, const Series* b) { return a->id < b->id; });
  }
  return s;
}

void Score(Outcome& r) {
  Result<eval::Accuracy> a = eval::Evaluate(r.series->test, r.forecast, r.series->train, r.series->frequency);
  if (!a.ok()) {
    r.status = "error: " + a.status().ToString();
    return;
  }
  r.acc = std::move(*a);
}

// CPU time consumed by the calling thread, in seconds (POSIX thread CPU clock). Other processes
// on shared cores disturb it much less than wall time.
double ThreadCpuSeconds() {
  timespec ts{};
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) return kNaN;
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

Outcome RunOne(const models::ForecasterRegistry& registry, const Method& m, const Series& s) {
  Outcome r;
  r.engine = "almanac";
  r.method = m.label;
  r.series = &s;
  const double cpu_start = ThreadCpuSeconds();
  const auto start = std::chrono::steady_clock::now();
  Status st;
  auto model = registry.Create(m.spec);
  if (!model.ok()) {
    st = model.status();
  } else {
    st = (*model)->Fit({s.train, s.frequency});
    if (st.ok()) {
      auto f = (*model)->Predict(static_cast<int>(s.test.size()), kLevels);
      if (f.ok()) {
        r.forecast = std::move(*f);
      } else {
        st = f.status();
      }
    }
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.cpu_seconds = ThreadCpuSeconds() - cpu_start;
  if (!st.ok()) {
    r.status = "error: " + st.ToString();
    return r;
  }
  Score(r);
  return r;
}

// The original M3 submissions for the selected series, scored like our forecasts.
Result<std::vector<Outcome>> Rescore(const std::string& path, const std::vector<const Series*>& selected) {
  std::ifstream in(path);
  if (!in) return NotFoundError("cannot open " + path + " (use --submissions)");
  std::map<std::string, const Series*> by_id;
  for (const Series* s : selected) by_id[s->id] = s;
  std::map<std::pair<std::string, std::string>, std::vector<std::pair<int, double>>> fc;
  std::vector<std::string> method_order;
  std::string line;
  std::getline(in, line);
  if (line != "method,series_id,h,forecast") return InvalidArgumentError(path + ": unexpected header");
  int lineno = 1;
  while (std::getline(in, line)) {
    ++lineno;
    const std::vector<std::string> f = Split(line, ',');
    if (f.size() != 4) return InvalidArgumentError(path + ":" + std::to_string(lineno) + ": expected 4 fields");
    if (std::find(method_order.begin(), method_order.end(), f[0]) == method_order.end()) method_order.push_back(f[0]);
    if (!by_id.count(f[1])) continue;
    ALMANAC_ASSIGN_OR_RETURN(int64_t h, ParseInt(f[2]));
    Result<double> v = ParseFiniteDouble(f[3]);
    if (!v.ok()) return v.status().WithContext(path + ":" + std::to_string(lineno));
    fc[{f[0], f[1]}].push_back({static_cast<int>(h), *v});
  }
  std::vector<Outcome> out;
  for (const auto& method : method_order) {
    for (const Series* s : selected) {
      auto it = fc.find({method, s->id});
      if (it == fc.end()) continue;  // AAM1/AAM2 did not forecast yearly and other series
      Outcome r;
      r.engine = "M3";
      r.method = method;
      r.series = s;
      auto points = it->second;
      std::sort(points.begin(), points.end());
      r.forecast.mean.assign(s->test.size(), kNaN);
      for (auto [h, v] : points)
        if (h >= 1 && h <= static_cast<int>(s->test.size())) r.forecast.mean[h - 1] = v;
      Score(r);
      out.push_back(std::move(r));
    }
  }
  return out;
}

double IntervalField(const Outcome& r, double level, bool score) {
  for (const auto& ia : r.acc.intervals)
    if (ia.level == level) return score ? ia.score : ia.coverage;
  return kNaN;
}

Status WriteResults(const std::string& path, const std::vector<Outcome>& rows) {
  std::ofstream out(path);
  if (!out) return UnavailableError("cannot write " + path);
  out << "engine,method,series_id,category,period,frequency,n_train,h,status,seconds,smape,mase,mape,cov80,cov95,"
         "is80,is95,msis95,cpu_seconds\n";
  for (const auto& r : rows) {
    const bool ok = r.status == "ok";
    const double is95 = ok ? IntervalField(r, 95, true) : kNaN;
    out << Field(r.engine) << ',' << Field(r.method) << ',' << r.series->id << ',' << r.series->category << ','
        << r.series->period << ',' << r.series->frequency << ',' << r.series->train.size() << ','
        << r.series->test.size() << ',' << Field(r.status) << ',' << Num(r.seconds) << ','
        << Num(ok ? r.acc.smape : kNaN) << ',' << Num(ok ? r.acc.mase : kNaN) << ',' << Num(ok ? r.acc.mape : kNaN)
        << ',' << Num(ok ? IntervalField(r, 80, false) : kNaN) << ',' << Num(ok ? IntervalField(r, 95, false) : kNaN)
        << ',' << Num(ok ? IntervalField(r, 80, true) : kNaN) << ',' << Num(is95) << ','
        << Num(ok ? is95 / r.acc.mase_scale : kNaN) << ',' << Num(r.cpu_seconds) << '\n';
  }
  return out.good() ? Status::Ok() : UnavailableError("error writing " + path);
}

Status WriteForecasts(const std::string& path, const std::vector<Outcome>& rows) {
  std::ofstream out(path);
  if (!out) return UnavailableError("cannot write " + path);
  out << "engine,method,series_id,h,actual,mean,lo80,hi80,lo95,hi95\n";
  for (const auto& r : rows) {
    if (r.forecast.mean.empty()) continue;
    for (size_t h = 0; h < r.series->test.size() && h < r.forecast.mean.size(); ++h) {
      out << Field(r.engine) << ',' << Field(r.method) << ',' << r.series->id << ',' << h + 1 << ','
          << Num(r.series->test[h]) << ',' << Num(r.forecast.mean[h]);
      for (size_t k = 0; k < 2; ++k) {
        const bool has = k < r.forecast.intervals.size();
        out << ',' << Num(has ? r.forecast.intervals[k].lower[h] : kNaN) << ','
            << Num(has ? r.forecast.intervals[k].upper[h] : kNaN);
      }
      out << '\n';
    }
  }
  return out.good() ? Status::Ok() : UnavailableError("error writing " + path);
}

// Aggregates of one (engine, method) over a group of series.
struct Summary {
  int series = 0, failed = 0;
  double smape_sum = 0, mase_sum = 0, seconds = 0;
  double smape_points = 0;  // sum over series of smape * h (pooled sMAPE numerator)
  int points = 0, mase_n = 0;
  double cov80_points = 0, cov95_points = 0;
  int cov_points = 0;
};

void Add(Summary& s, const Outcome& r) {
  ++s.series;
  if (!std::isnan(r.seconds)) s.seconds += r.seconds;
  if (r.status != "ok") {
    ++s.failed;
    return;
  }
  s.smape_sum += r.acc.smape;
  s.smape_points += r.acc.smape * r.acc.n;
  s.points += r.acc.n;
  if (!std::isnan(r.acc.mase)) {
    s.mase_sum += r.acc.mase;
    ++s.mase_n;
  }
  const double c80 = IntervalField(r, 80, false), c95 = IntervalField(r, 95, false);
  if (!std::isnan(c80) && !std::isnan(c95)) {
    s.cov80_points += c80 * r.acc.n;
    s.cov95_points += c95 * r.acc.n;
    s.cov_points += r.acc.n;
  }
}

std::string Fixed(double v, int digits) { return std::isnan(v) ? "-" : FormatFixed(v, digits); }

Status WriteSummary(const std::string& path, const std::vector<Outcome>& rows, const Options& o, size_t nseries,
                    double wall) {
  std::ofstream out(path);
  if (!out) return UnavailableError("cannot write " + path);
  std::vector<std::pair<std::string, std::string>> keys;  // (engine, method) in first-seen order
  std::map<std::pair<std::string, std::string>, std::map<std::string, Summary>> by;
  for (const auto& r : rows) {
    std::pair<std::string, std::string> k{r.engine, r.method};
    if (!by.count(k)) keys.push_back(k);
    Add(by[k][r.series->period], r);
    Add(by[k]["ALL"], r);
  }
  out << "# M3 benchmark: " << nseries << " series";
  if (!o.categories.empty()) {
    out << ", category";
    for (const auto& c : o.categories) out << ' ' << c;
  }
  if (!o.periods.empty()) {
    out << ", period";
    for (const auto& p : o.periods) out << ' ' << p;
  }
  if (o.sample > 0) out << ", sample " << o.sample << " (seed " << o.seed << ")";
  out << "\n\nalmanac " << (o.threads > 0 ? std::to_string(o.threads) : std::to_string(HardwareThreads()))
      << " thread(s), wall time " << FormatFixed(wall, 3) << " s.\n\n"
      << "sMAPE: per-series mean, then mean over series (sMAPE) and pooled over all forecast points as in the "
         "M3 paper (pooled); MASE: per-series, scaled by the in-sample seasonal naive MAE, mean over series; "
         "coverage: pooled over points; ms: mean create+fit+forecast time per series.\n\n"
      << "| engine | method | period | series | failed | sMAPE | pooled sMAPE | MASE | cov80 | cov95 | ms/series |\n"
      << "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const auto& k : keys) {
    for (const char* period : {"YEARLY", "QUARTERLY", "MONTHLY", "OTHER", "ALL"}) {
      auto it = by[k].find(period);
      if (it == by[k].end()) continue;
      const Summary& s = it->second;
      const int good = s.series - s.failed;
      out << "| " << k.first << " | " << k.second << " | " << period << " | " << s.series << " | " << s.failed << " | "
          << Fixed(good ? s.smape_sum / good : kNaN, 3) << " | "
          << Fixed(s.points ? s.smape_points / s.points : kNaN, 3) << " | "
          << Fixed(s.mase_n ? s.mase_sum / s.mase_n : kNaN, 3) << " | "
          << Fixed(s.cov_points ? s.cov80_points / s.cov_points : kNaN, 3) << " | "
          << Fixed(s.cov_points ? s.cov95_points / s.cov_points : kNaN, 3) << " | "
          << (k.first == "M3" ? "-" : Fixed(1000 * s.seconds / s.series, 3)) << " |\n";
    }
  }
  return out.good() ? Status::Ok() : UnavailableError("error writing " + path);
}

int Main(int argc, char** argv) {
  Result<Options> opts = ParseArgs(argc, argv);
  if (!opts.ok()) {
    if (opts.status().message() != "usage") std::cerr << "almanac_m3_bench: " << opts.status().message() << "\n";
    std::cerr << "usage: almanac_m3_bench M3_CSV [--methods a,b] [--method LABEL=JSON] [--category C] [--period P]\n"
                 "       [--sample N] [--seed S] [--threads N] [--out DIR] [--forecasts] [--rescore]\n"
                 "       [--submissions CSV]\n";
    return 2;
  }
  const Options& o = *opts;
  models::ForecasterRegistry registry;
  models::RegisterBuiltinModels(registry);
  for (const auto& m : o.methods) {
    // Creating one model checks the whole spec, including a combination's components.
    auto probe = registry.Create(m.spec);
    const Status s = probe.ok() ? Status::Ok() : probe.status();
    if (!s.ok()) {
      std::cerr << "almanac_m3_bench: method " << m.label << ": " << s.ToString() << "\n";
      return 2;
    }
  }
  Result<std::vector<Series>> all = ReadM3(o.data);
  if (!all.ok()) {
    std::cerr << "almanac_m3_bench: " << all.status().ToString() << "\n";
    return 1;
  }
  const std::vector<const Series*> selected = Select(*all, o);
  if (selected.empty()) {
    std::cerr << "almanac_m3_bench: no series match the filters\n";
    return 1;
  }
  std::error_code ec;
  std::filesystem::create_directories(o.out, ec);
  if (ec) {
    std::cerr << "almanac_m3_bench: cannot create " << o.out << ": " << ec.message() << "\n";
    return 1;
  }
  {
    std::ofstream ids(o.out + "/series.txt");
    for (const Series* s : selected) ids << s->id << '\n';
  }
  // One task per (method, series); results land by index, so the output order and content do
  // not depend on the thread count (only the timings do).
  const size_t ns = selected.size();
  std::vector<Outcome> rows(o.methods.size() * ns);
  const auto start = std::chrono::steady_clock::now();
  ParallelFor(rows.size(), o.threads,
              [&](size_t i) { rows[i] = RunOne(registry, o.methods[i / ns], *selected[i % ns]); });
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (o.rescore) {
    Result<std::vector<Outcome>> m3 = Rescore(o.submissions, selected);
    if (!m3.ok()) {
      std::cerr << "almanac_m3_bench: " << m3.status().ToString() << "\n";
      return 1;
    }
    for (auto& r : *m3) rows.push_back(std::move(r));
  }
  Status st = WriteResults(o.out + "/results.csv", rows);
  if (st.ok() && o.forecasts) st = WriteForecasts(o.out + "/forecasts.csv", rows);
  if (st.ok()) st = WriteSummary(o.out + "/summary.md", rows, o, ns, wall);
  if (!st.ok()) {
    std::cerr << "almanac_m3_bench: " << st.ToString() << "\n";
    return 1;
  }
  int failed = 0;
  for (const auto& r : rows) failed += r.status != "ok";
  std::cout << "almanac_m3_bench: " << ns << " series, " << o.methods.size() << " method(s), " << failed
            << " failure(s), " << FormatFixed(wall, 2) << " s; wrote " << o.out << "/results.csv and summary.md\n";
  return 0;
}

}  // namespace
}  // namespace almanac::bench

int main(int argc, char** argv) { return almanac::bench::Main(argc, argv); }
