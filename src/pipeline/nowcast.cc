// Nowcast pipelines (issue 25): the `nowcast:` section and the computation of the nowcast
// steps (docs/nowcasting.md, "Platform").
#include "pipeline/nowcast.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "pipeline/section_parser.h"

namespace almanac::pipeline {
namespace {

// The `nowcast:` section, in the error form and scalar rules of the other step sections
// (section_parser.h). Its names are checked against data.series by SeriesList, not by the
// base's `Known`, so the base gets no names.
class NowcastParser : public SectionParser {
 public:
  explicit NowcastParser(const std::string& file) : SectionParser(file, NoNames()) {}

  // A list of series keys, each one of `allowed` (named `what` in errors), none twice.
  Result<std::vector<std::string>> SeriesList(const YAML::Node& n, const std::string& key,
                                              const std::vector<std::string>& allowed, const std::string& what) const {
    if (!n.IsSequence() || n.size() == 0) return Error(n, key, "expected a non-empty list of series keys");
    std::vector<std::string> out;
    for (size_t i = 0; i < n.size(); ++i) {
      const std::string at = key + "[" + std::to_string(i) + "]";
      ALMANAC_ASSIGN_OR_RETURN(std::string k, Text(n[i], at));
      if (std::find(allowed.begin(), allowed.end(), k) == allowed.end()) {
        std::string msg = "unknown series '" + k + "' (not " + what + ")";
        const std::string hint = DidYouMean(k, allowed);
        if (!hint.empty()) msg += " (did you mean '" + hint + "'?)";
        return Error(n[i], at, msg);
      }
      if (std::find(out.begin(), out.end(), k) != out.end()) return Error(n[i], at, "series '" + k + "' is listed twice");
      out.push_back(k);
    }
    return out;
  }

  Status Parse(const YAML::Node& root, PipelineSpec& spec) const {
    // The sections of a forecast pipeline that a nowcast pipeline does not have.
    for (const char* k : {"target", "models", "transforms", "horizon", "levels", "evaluation", "promote"})
      if (root[k])
        return Error(root[k], k, "does not apply to a nowcast pipeline (its target and model are in 'nowcast:'); remove it");
    if (root["register"])
      return Error(root["register"], "register",
                   "a nowcast pipeline stores its model and nowcast on the run (served by GET /v1/nowcast/PIPELINE), "
                   "not in the model registry, whose versions are forecasters that serve loads and /v1/forecast "
                   "answers; remove it");
    const YAML::Node n = root["nowcast"];
    ALMANAC_RETURN_IF_ERROR(Keys(n, "nowcast", {"type", "target", "indicators", "blocks", "quarter", "max_iterations",
                                                "tolerance", "standardize", "min_observations"}));
    if (spec.series.empty())
      return Error(root["data"], "data.series", "a nowcast pipeline lists its series (a snapshot alone does not say which)");
    NowcastSpec c;
    if (n["type"]) {
      ALMANAC_ASSIGN_OR_RETURN(c.type, Text(n["type"], "nowcast.type"));
      if (c.type != "dfm_nowcast") {
        const std::string hint = DidYouMean(c.type, {"dfm_nowcast"});
        return Error(n["type"], "nowcast.type",
                     "unknown nowcast model type '" + c.type + "'" +
                         (hint.empty() ? " (the one type is dfm_nowcast)" : " (did you mean '" + hint + "'?)"));
      }
    }
    if (!n["target"]) return Error(n, "nowcast.target", "required key is missing (the quarterly series to nowcast)");
    ALMANAC_ASSIGN_OR_RETURN(c.target, Text(n["target"], "nowcast.target"));
    if (std::find(spec.series.begin(), spec.series.end(), c.target) == spec.series.end()) {
      std::string msg = "'" + c.target + "' is not one of data.series";
      const std::string hint = DidYouMean(c.target, spec.series);
      if (!hint.empty()) msg += " (did you mean '" + hint + "'?)";
      return Error(n["target"], "nowcast.target", msg);
    }
    std::vector<std::string> others;
    for (const auto& k : spec.series)
      if (k != c.target) others.push_back(k);
    if (n["indicators"]) {
      for (size_t i = 0; n["indicators"].IsSequence() && i < n["indicators"].size(); ++i)
        if (n["indicators"][i].IsScalar() && n["indicators"][i].Scalar() == c.target)
          return Error(n["indicators"][i], "nowcast.indicators[" + std::to_string(i) + "]",
                       "the target '" + c.target + "' cannot also be an indicator");
      ALMANAC_ASSIGN_OR_RETURN(c.indicators, SeriesList(n["indicators"], "nowcast.indicators", others, "one of data.series"));
    } else {
      c.indicators = others;
    }
    if (c.indicators.empty()) return Error(n, "nowcast.indicators", "a nowcast needs at least one monthly indicator in data.series");
    if (n["blocks"]) {
      const YAML::Node& bs = n["blocks"];
      if (!bs.IsSequence() || bs.size() == 0) return Error(bs, "nowcast.blocks", "expected a non-empty list of factor blocks");
      std::vector<std::string> vars = c.indicators;
      vars.push_back(c.target);
      c.options.blocks.clear();
      std::set<std::string> names;
      for (size_t i = 0; i < bs.size(); ++i) {
        const std::string path = "nowcast.blocks[" + std::to_string(i) + "]";
        ALMANAC_RETURN_IF_ERROR(Keys(bs[i], path, {"name", "factors", "order", "variables"}));
        models::DfmBlock b;
        if (bs[i]["name"]) {
          ALMANAC_ASSIGN_OR_RETURN(b.name, Text(bs[i]["name"], path + ".name"));
        }
        if (!names.insert(b.name).second) return Error(bs[i], path + ".name", "block '" + b.name + "' is defined twice");
        if (bs[i]["factors"]) {
          ALMANAC_ASSIGN_OR_RETURN(b.factors, Int(bs[i]["factors"], path + ".factors", 1, 20));
        }
        if (bs[i]["order"]) {
          ALMANAC_ASSIGN_OR_RETURN(b.order, Int(bs[i]["order"], path + ".order", 1, 12));
        }
        if (bs[i]["variables"]) {
          ALMANAC_ASSIGN_OR_RETURN(b.variables, SeriesList(bs[i]["variables"], path + ".variables", vars,
                                                           "the nowcast's target or one of its indicators"));
        }
        c.options.blocks.push_back(std::move(b));
      }
    }
    if (n["quarter"]) {
      ALMANAC_ASSIGN_OR_RETURN(std::string q, Text(n["quarter"], "nowcast.quarter"));
      auto p = Period::Parse(q);
      if (!p.ok() || p->frequency() != Frequency::kQuarterly)
        return Error(n["quarter"], "nowcast.quarter", "'" + q + "' is not a quarter (e.g. 2024Q1)");
      c.quarter = *p;
    }
    if (n["max_iterations"]) {
      ALMANAC_ASSIGN_OR_RETURN(c.options.max_iterations, Int(n["max_iterations"], "nowcast.max_iterations", 1, 100000));
    }
    if (n["min_observations"]) {
      ALMANAC_ASSIGN_OR_RETURN(c.options.min_observations, Int(n["min_observations"], "nowcast.min_observations", 1, 100000));
    }
    if (n["tolerance"]) {
      const YAML::Node& t = n["tolerance"];
      auto v = t.IsScalar() ? ParseFiniteDouble(t.Scalar()) : Result<double>(InvalidArgumentError("expected a number"));
      if (!v.ok() || !(*v > 0))
        return Error(t, "nowcast.tolerance", "expected a finite number > 0" + (t.IsScalar() ? ", got '" + t.Scalar() + "'" : std::string()));
      c.options.tolerance = *v;
    }
    if (n["standardize"]) {
      bool v = true;
      if (!n["standardize"].IsScalar() || !YAML::convert<bool>::decode(n["standardize"], v))
        return Error(n["standardize"], "nowcast.standardize", "expected true or false");
      c.options.standardize = v;
    }
    spec.nowcast = std::move(c);
    return Status::Ok();
  }

 private:
  static const std::set<std::string>& NoNames() {
    static const std::set<std::string> none;
    return none;
  }
};

// `d` on the monthly grid of `size` months from `start` (missing months added; d must fit).
models::MixedFrequencyData OnGrid(const models::MixedFrequencyData& d, Period start, int64_t size) {
  models::MixedFrequencyData out = d;
  out.start = start;
  const int64_t offset = d.start.ordinal() - start.ordinal();
  for (size_t i = 0; i < d.values.size(); ++i) {
    std::vector<double> v(static_cast<size_t>(size), std::numeric_limits<double>::quiet_NaN());
    for (int64_t t = 0; t < d.size(); ++t) v[static_cast<size_t>(offset + t)] = d.values[i][static_cast<size_t>(t)];
    out.values[i] = std::move(v);
  }
  return out;
}

// The series of one vintage: indicators, then the target, checked, on a grid through `through`.
Result<models::MixedFrequencyData> Vintage(const NowcastSpec& spec, const NowcastSeries& data, Period through,
                                           const std::string& what) {
  std::vector<std::string> names = spec.indicators;
  names.push_back(spec.target);
  std::vector<TimeSeries> series;
  for (size_t i = 0; i < names.size(); ++i) {
    const bool is_target = i + 1 == names.size();
    auto it = data.find(names[i]);
    if (it == data.end()) return NotFoundError("series " + names[i] + " is not in " + what);
    TimeSeries t = it->second.Trimmed();
    if (t.empty()) return InvalidArgumentError("series " + names[i] + " has no observations in " + what);
    const Frequency want = is_target ? Frequency::kQuarterly : Frequency::kMonthly;
    if (t.frequency() != want)
      return InvalidArgumentError(std::string(is_target ? "nowcast.target" : "nowcast.indicators") + ": series " + names[i] +
                                  " has frequency " + std::string(FrequencyCode(t.frequency())) + "; the " +
                                  (is_target ? "target must be quarterly (Q)" : "indicators must be monthly (M)"));
    series.push_back(std::move(t));
  }
  return models::AlignMixedFrequency(names, series, through);
}

bool IsQuarterly(const models::MixedFrequencyData& d, const std::string& name) {
  for (int i = 0; i < d.num_vars(); ++i)
    if (d.names[static_cast<size_t>(i)] == name) return d.quarterly[static_cast<size_t>(i)];
  return false;
}

// "variable@period" with a quarterly variable's month shown as its quarter.
std::string RevisedLabel(const models::MixedFrequencyData& d, const std::string& text) {
  const size_t at = text.rfind('@');
  if (at == std::string::npos || !IsQuarterly(d, text.substr(0, at))) return text;
  auto p = Period::Parse(text.substr(at + 1));
  return p.ok() ? text.substr(0, at) + "@" + p->Convert(Frequency::kQuarterly).ToString() : text;
}

Json DateOrNull(const std::optional<Date>& d) { return d ? Json(d->ToString()) : Json(nullptr); }

}  // namespace

Json NowcastSpecJson(const NowcastSpec& spec) {
  Json blocks = Json::array();
  for (const auto& b : spec.options.blocks)
    blocks.push_back({{"name", b.name}, {"factors", b.factors}, {"order", b.order}, {"variables", b.variables}});
  return {{"type", spec.type},
          {"target", spec.target},
          {"indicators", spec.indicators},
          {"blocks", blocks},
          {"quarter", spec.quarter ? Json(spec.quarter->ToString()) : Json(nullptr)},
          {"max_iterations", spec.options.max_iterations},
          {"tolerance", spec.options.tolerance},
          {"standardize", spec.options.standardize},
          {"min_observations", spec.options.min_observations}};
}

Status ParseNowcastSection(const YAML::Node& root, const std::string& file, PipelineSpec& spec) {
  return NowcastParser(file).Parse(root, spec);
}

Result<NowcastGrid> BuildNowcastGrid(const NowcastSpec& spec, const NowcastSeries& now, const NowcastSeries* before,
                                     const std::string& what_now, const std::string& what_before) {
  NowcastGrid g;
  if (spec.quarter) {
    g.quarter = *spec.quarter;
  } else {
    auto it = now.find(spec.target);
    if (it == now.end()) return NotFoundError("series " + spec.target + " is not in " + what_now);
    const TimeSeries t = it->second.Trimmed();
    if (t.empty()) return InvalidArgumentError("series " + spec.target + " has no observations in " + what_now);
    if (t.frequency() != Frequency::kQuarterly)
      return InvalidArgumentError("nowcast.target: series " + spec.target + " has frequency " +
                                  std::string(FrequencyCode(t.frequency())) + "; the target must be quarterly (Q)");
    g.quarter = t.end() + 1;  // the first quarter not yet published
  }
  const Period through = g.quarter.Convert(Frequency::kMonthly, Anchor::kEnd);
  ALMANAC_ASSIGN_OR_RETURN(g.now, Vintage(spec, now, through, what_now));
  if (g.quarter.Convert(Frequency::kMonthly, Anchor::kStart) < g.now.start)
    return InvalidArgumentError("nowcast.quarter " + g.quarter.ToString() + " is before the data start " + g.now.start.ToString());
  if (before != nullptr) {
    ALMANAC_ASSIGN_OR_RETURN(models::MixedFrequencyData old, Vintage(spec, *before, through, what_before));
    const Period start = std::min(old.start, g.now.start);
    const Period end = std::max(old.start + (old.size() - 1), g.now.start + (g.now.size() - 1));
    const int64_t size = end.ordinal() - start.ordinal() + 1;
    g.now = OnGrid(g.now, start, size);
    g.before = OnGrid(old, start, size);
  }
  return g;
}

Result<std::string> FitNowcastModel(const NowcastSpec& spec, const NowcastGrid& grid) {
  ALMANAC_ASSIGN_OR_RETURN(models::DynamicFactorModel model, models::DynamicFactorModel::Fit(grid.now, spec.options));
  return CanonicalJson(model.ToJson());
}

Result<std::string> NowcastDocument(const NowcastSpec& spec, const NowcastGrid& grid, const std::string& model_json,
                                    const std::string& snapshot_id, std::optional<Date> as_of,
                                    const std::optional<NowcastBaseline>& baseline) {
  ALMANAC_ASSIGN_OR_RETURN(Json saved, ParseJson(model_json));
  ALMANAC_ASSIGN_OR_RETURN(models::DynamicFactorModel model, models::DynamicFactorModel::FromJson(saved));
  ALMANAC_ASSIGN_OR_RETURN(models::Nowcast now, model.NowcastOf(grid.now, spec.target, grid.quarter));
  const auto& report = model.report();
  const std::string span = grid.now.start.ToString() + ".." + (grid.now.start + (grid.now.size() - 1)).ToString();
  Json doc = {{"type", spec.type},
              {"target", spec.target},
              {"quarter", grid.quarter.ToString()},
              {"as_of", DateOrNull(as_of)},
              {"snapshot_id", snapshot_id},
              {"nowcast", {{"value", now.value}, {"std_error", now.std_error}}},
              {"model",
               {{"variables", grid.now.names},
                {"factors", model.params().factors},
                {"sample", span},
                {"iterations", report.iterations},
                {"converged", report.converged},
                {"loglik", report.loglik},
                {"notes", report.notes}}},
              {"news", nullptr}};
  if (baseline && grid.before) {
    ALMANAC_ASSIGN_OR_RETURN(models::NewsDecomposition news, model.News(*grid.before, grid.now, spec.target, grid.quarter));
    Json revised = Json::array();
    for (const auto& r : news.revised) revised.push_back(RevisedLabel(grid.now, r));
    Json releases = Json::array();
    for (const auto& it : news.items)
      releases.push_back({{"series", it.variable},
                          {"period", IsQuarterly(grid.now, it.variable) ? it.period.Convert(Frequency::kQuarterly).ToString()
                                                                        : it.period.ToString()},
                          {"actual", it.observed},
                          {"forecast", it.forecast},
                          {"news", it.news},
                          {"weight", it.weight},
                          {"impact", it.impact}});
    doc["news"] = {{"compare_run", baseline->run_id},
                   {"compare_snapshot", baseline->snapshot_id},
                   {"compare_as_of", DateOrNull(baseline->as_of)},
                   {"old_value", news.old_value},
                   {"new_value", news.new_value},
                   {"change", news.new_value - news.old_value},
                   {"revision_impact", news.revision_impact},
                   {"news_impact", news.news_impact},
                   {"revised", revised},
                   {"releases", releases}};
  }
  return CanonicalJson(doc);
}

}  // namespace almanac::pipeline
