#include "pipeline/evaluate.h"

#include <cmath>

#include "almanac/eval.h"

namespace almanac::pipeline {

Result<CandidateEvaluation> EvaluateCandidate(const models::ForecasterRegistry& registry, const models::ModelSpec& model,
                                              const TimeSeries& series, const EvaluationSpec& ev, int threads) {
  CandidateEvaluation out;
  if (ev.origins == 0) return out;
  const auto y = series.values();
  const int64_t n = series.size();
  const int h = ev.horizon;
  const int m = SeasonalPeriod(series.frequency());
  // Origins (the number of observations used for training), last one leaving h points.
  std::vector<int64_t> origins;
  for (int k = ev.origins - 1; k >= 0; --k) origins.push_back(n - h - static_cast<int64_t>(k) * ev.step);
  const int64_t min_train = std::max<int64_t>(2 * m, 8);
  if (origins.front() < min_train)
    return InvalidArgumentError("evaluation needs more data: " + std::to_string(ev.origins) + " origins " +
                                std::to_string(ev.step) + " apart with horizon " + std::to_string(h) + " leave only " +
                                std::to_string(std::max<int64_t>(0, origins.front())) + " observations at the first origin (at least " +
                                std::to_string(min_train) + " needed); lower evaluation.origins or evaluation.horizon");
  const int64_t window = ev.window == "sliding" ? (ev.window_size > 0 ? ev.window_size : origins.front()) : 0;
  struct OriginResult {
    Status status;
    eval::Accuracy acc;
    std::vector<std::string> notes;
  };
  std::vector<OriginResult> res(origins.size());
  const std::vector<double> levels{80, 95};
  ParallelFor(origins.size(), threads, [&](size_t i) {
    const int64_t end = origins[i];
    const int64_t begin = window > 0 ? std::max<int64_t>(0, end - window) : 0;
    std::span<const double> train = y.subspan(static_cast<size_t>(begin), static_cast<size_t>(end - begin));
    auto fm = registry.Create(model);
    if (!fm.ok()) {
      res[i].status = fm.status();
      return;
    }
    Status s = (*fm)->Fit({train, m});
    if (!s.ok()) {
      res[i].status = s.WithContext("origin " + series.PeriodAt(end - 1).ToString());
      return;
    }
    auto fc = (*fm)->Predict(h, levels);
    if (!fc.ok()) {
      res[i].status = fc.status().WithContext("origin " + series.PeriodAt(end - 1).ToString());
      return;
    }
    res[i].notes = fc->notes;
    auto acc = eval::Evaluate(y.subspan(static_cast<size_t>(end), static_cast<size_t>(h)), *fc, train, m);
    if (!acc.ok()) {
      res[i].status = acc.status();
      return;
    }
    res[i].acc = *acc;
  });
  std::map<std::string, std::pair<double, int>> sums;
  for (size_t i = 0; i < origins.size(); ++i) {
    if (!res[i].status.ok()) return res[i].status;
    const auto& a = res[i].acc;
    Json row = {{"origin", series.PeriodAt(origins[i] - 1).ToString()}};
    auto put = [&](const std::string& k, double v) {
      if (!std::isfinite(v)) return;
      row[k] = v;
      sums[k].first += v;
      sums[k].second += 1;
    };
    put("mae", a.mae);
    put("rmse", a.rmse);
    put("mape", a.mape);
    put("smape", a.smape);
    put("mase", a.mase);
    for (const auto& iv : a.intervals) {
      const std::string lv = FormatDouble(iv.level);
      put("coverage" + lv, iv.coverage);
      put("winkler" + lv, iv.score);
    }
    out.by_origin.push_back(std::move(row));
    for (const auto& nt : res[i].notes)
      if (std::find(out.notes.begin(), out.notes.end(), nt) == out.notes.end()) out.notes.push_back(nt);
  }
  for (const auto& k : ev.metrics) {
    auto it = sums.find(k);
    if (it != sums.end() && it->second.second > 0) out.metrics[k] = it->second.first / it->second.second;
  }
  return out;
}

}  // namespace almanac::pipeline
