// Scenario files (see almanac/models/multivariate.h for the format).
#include <cmath>
#include <fstream>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "almanac/models.h"

namespace almanac::models {
namespace {

// "file:line: key: message".
Status At(const std::string& file, const YAML::Node& node, const std::string& key, const std::string& message) {
  const int line = node.Mark().line + 1;
  std::string where = file;
  if (line > 0) where += ":" + std::to_string(line);
  return InvalidArgumentError(where + ": " + key + ": " + message);
}

Status UnknownKey(const std::string& file, const YAML::Node& key_node, const std::string& path, const std::string& key,
                  const std::vector<std::string>& known) {
  std::string msg = "unknown key";
  const std::string hint = DidYouMean(key, known);
  if (!hint.empty()) msg += " (did you mean '" + hint + "'?)";
  std::string list;
  for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
  return At(file, key_node, path.empty() ? key : path + "." + key, msg + "; expected one of: " + list);
}

Result<double> Number(const std::string& file, const YAML::Node& node, const std::string& key) {
  if (node.IsNull()) return kNaN;
  if (!node.IsScalar()) return At(file, node, key, "expected a number or null");
  const std::string text = node.Scalar();
  auto v = ParseFiniteDouble(text);
  if (!v.ok()) return At(file, node, key, "expected a number or null, got " + QuoteForMessage(text));
  return *v;
}

Result<ScenarioPath> ParsePath(const std::string& file, const YAML::Node& key_node, const YAML::Node& value,
                               const std::string& key, std::optional<int> horizon) {
  ScenarioPath path;
  path.variable = key_node.Scalar();
  path.line = key_node.Mark().line + 1;
  if (value.IsSequence()) {
    path.is_list = true;
    for (size_t i = 0; i < value.size(); ++i) {
      ALMANAC_ASSIGN_OR_RETURN(double v, Number(file, value[i], key + "[" + std::to_string(i + 1) + "]"));
      path.steps.push_back(v);
    }
    if (horizon && static_cast<int>(path.steps.size()) != *horizon)
      return At(file, key_node, key,
                "the path has " + std::to_string(path.steps.size()) + " values but the horizon is " +
                    std::to_string(*horizon) +
                    " (give one value per step, null for a free step, or a mapping PERIOD: VALUE)");
    bool any = false;
    for (double v : path.steps) any = any || !std::isnan(v);
    if (!any) return At(file, key_node, key, "the path has no values (all null)");
  } else if (value.IsMap()) {
    path.is_list = false;
    for (const auto& entry : value) {
      const std::string period = entry.first.Scalar();
      for (const auto& [p, v] : path.by_period)
        if (p == period) return At(file, entry.first, key + "." + period, "period listed twice");
      ALMANAC_ASSIGN_OR_RETURN(double v, Number(file, entry.second, key + "." + period));
      if (std::isnan(v)) continue;
      path.by_period.emplace_back(period, v);
    }
    if (path.by_period.empty()) return At(file, key_node, key, "the path has no values");
  } else {
    return At(file, key_node, key, "expected a list of values (one per step) or a mapping PERIOD: VALUE");
  }
  return path;
}

Result<ScenarioSet> ParseRoot(const YAML::Node& root, const std::string& file) {
  ScenarioSet set;
  set.file = file;
  if (!root.IsMap()) return InvalidArgumentError(file + ": expected a mapping with a 'scenarios' key");
  static const std::vector<std::string> kTop = {"horizon", "series", "model", "scenarios"};
  std::vector<std::string> seen;
  for (const auto& entry : root) {
    const std::string key = entry.first.Scalar();
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) return At(file, entry.first, key, "key given twice");
    seen.push_back(key);
    if (std::find(kTop.begin(), kTop.end(), key) == kTop.end()) return UnknownKey(file, entry.first, "", key, kTop);
  }
  if (const YAML::Node h = root["horizon"]; h) {
    auto v = h.IsScalar() ? ParseFiniteDouble(h.Scalar()) : Result<double>(InvalidArgumentError(""));
    if (!v.ok() || *v != std::floor(*v) || *v < 1 || *v > kMaxHorizon)
      return At(file, h, "horizon", "expected a whole number of steps in 1.." + std::to_string(kMaxHorizon));
    set.horizon = static_cast<int>(*v);
  }
  if (const YAML::Node s = root["series"]; s) {
    if (!s.IsSequence()) return At(file, s, "series", "expected a list of series keys");
    for (const auto& k : s) {
      if (!k.IsScalar()) return At(file, k, "series", "expected a series key");
      set.series.push_back(k.Scalar());
    }
  }
  if (const YAML::Node m = root["model"]; m) {
    if (m.IsScalar()) {
      set.model_type = m.Scalar();
    } else if (m.IsMap()) {
      for (const auto& entry : m) {
        const std::string key = entry.first.Scalar();
        if (key != "type" && key != "params") return UnknownKey(file, entry.first, "model", key, {"type", "params"});
      }
      if (!m["type"] || !m["type"].IsScalar())
        return At(file, m, "model.type", "expected the model type (var or bvar)");
      set.model_type = m["type"].Scalar();
      if (const YAML::Node p = m["params"]; p) {
        if (!p.IsMap()) return At(file, p, "model.params", "expected a mapping of parameters");
        for (const auto& entry : p) {
          const std::string key = entry.first.Scalar();
          const YAML::Node& v = entry.second;
          Json value;
          if (v.IsNull()) {
            value = nullptr;
          } else if (v.IsScalar()) {
            // A number, a boolean, or text.
            auto parsed = ParseJson(v.Scalar());
            value = (parsed.ok() && !parsed->is_object() && !parsed->is_array()) ? *parsed : Json(v.Scalar());
            if (v.Tag() == "!") value = v.Scalar();  // quoted: always text
          } else if (v.IsSequence()) {
            value = Json::array();
            for (const auto& item : v) {
              // Keep integers integers (e.g. order: [1, 0, 0]).
              auto parsed = item.IsScalar() ? ParseJson(item.Scalar()) : Result<Json>(InvalidArgumentError(""));
              if (!parsed.ok() || !parsed->is_number())
                return At(file, item, "model.params." + key, "expected a list of numbers");
              value.push_back(*parsed);
            }
          } else {
            return At(file, v, "model.params." + key, "expected a value or a list of numbers");
          }
          set.model_params[key] = value;
        }
      }
    } else {
      return At(file, m, "model", "expected a model type or {type: ..., params: {...}}");
    }
  }
  const YAML::Node scenarios = root["scenarios"];
  if (!scenarios)
    return InvalidArgumentError(file + ": no 'scenarios' key (expected scenarios: {baseline: ..., adverse: ...})");
  if (!scenarios.IsMap() || scenarios.size() == 0)
    return At(file, scenarios, "scenarios",
              "expected a mapping of named scenarios (e.g. baseline, adverse, severely_adverse)");
  for (const auto& entry : scenarios) {
    Scenario sc;
    sc.name = entry.first.Scalar();
    sc.line = entry.first.Mark().line + 1;
    const std::string where = "scenarios." + sc.name;
    for (const auto& other : set.scenarios)
      if (other.name == sc.name) return At(file, entry.first, where, "scenario defined twice");
    const YAML::Node& body = entry.second;
    if (!body.IsNull()) {
      if (!body.IsMap()) return At(file, entry.first, where, "expected a mapping with 'description' and 'paths'");
      for (const auto& field : body) {
        const std::string key = field.first.Scalar();
        if (key == "description") {
          if (!field.second.IsScalar()) return At(file, field.first, where + ".description", "expected text");
          sc.description = field.second.Scalar();
        } else if (key == "paths") {
          if (field.second.IsNull()) continue;
          if (!field.second.IsMap())
            return At(file, field.first, where + ".paths",
                      "expected a mapping VARIABLE: [values] or VARIABLE: {PERIOD: value}");
          for (const auto& p : field.second) {
            const std::string pkey = where + ".paths." + p.first.Scalar();
            for (const auto& existing : sc.paths)
              if (existing.variable == p.first.Scalar()) return At(file, p.first, pkey, "variable given twice");
            ALMANAC_ASSIGN_OR_RETURN(ScenarioPath path, ParsePath(file, p.first, p.second, pkey, set.horizon));
            sc.paths.push_back(std::move(path));
          }
        } else {
          return UnknownKey(file, field.first, where, key, {"description", "paths"});
        }
      }
    }
    set.scenarios.push_back(std::move(sc));
  }
  return set;
}

}  // namespace

Result<ScenarioSet> ParseScenarios(std::string_view yaml_text, std::string_view file_name) {
  const std::string file(file_name);
  try {
    const YAML::Node root = YAML::Load(std::string(yaml_text));
    return ParseRoot(root, file);
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError(file + ":" + std::to_string(e.mark.line + 1) + ": invalid YAML: " + e.msg);
  }
}

Result<ScenarioSet> ReadScenarioFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot read scenario file " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return ParseScenarios(text.str(), path);
}

Result<std::vector<PathCondition>> ResolveScenario(const ScenarioSet& set, const Scenario& scenario,
                                                   std::span<const std::string> names,
                                                   std::optional<Period> first_period, int horizon) {
  std::vector<PathCondition> out;
  const std::vector<std::string> known(names.begin(), names.end());
  for (const auto& path : scenario.paths) {
    const std::string where =
        set.file + ":" + std::to_string(path.line) + ": scenarios." + scenario.name + ".paths." + path.variable;
    if (std::find(known.begin(), known.end(), path.variable) == known.end()) {
      std::string msg = where + ": unknown variable";
      const std::string hint = DidYouMean(path.variable, known);
      if (!hint.empty()) msg += " (did you mean '" + hint + "'?)";
      std::string list;
      for (const auto& n : known) list += (list.empty() ? "" : ", ") + n;
      return InvalidArgumentError(msg + "; the model's variables are: " + list);
    }
    PathCondition pc{path.variable, std::vector<double>(static_cast<size_t>(horizon), kNaN)};
    if (path.is_list) {
      if (static_cast<int>(path.steps.size()) != horizon)
        return InvalidArgumentError(where + ": the path has " + std::to_string(path.steps.size()) +
                                    " values but the horizon is " + std::to_string(horizon));
      pc.values = path.steps;
    } else {
      if (!first_period) return InvalidArgumentError(where + ": paths by period need data with dated periods");
      for (const auto& [text, v] : path.by_period) {
        auto p = Period::Parse(text, first_period->frequency());
        if (!p.ok())
          return InvalidArgumentError(where + "." + text + ": not a period of the data's frequency (" +
                                      std::string(FrequencyCode(first_period->frequency())) +
                                      "): " + p.status().message());
        const int64_t h = *p->Diff(*first_period);
        if (h < 0 || h >= horizon)
          return InvalidArgumentError(where + "." + text + ": outside the forecast horizon " +
                                      first_period->ToString() + ".." + (*first_period + (horizon - 1)).ToString());
        pc.values[static_cast<size_t>(h)] = v;
      }
    }
    out.push_back(std::move(pc));
  }
  return out;
}

}  // namespace almanac::models
