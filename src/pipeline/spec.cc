// Pipeline files: YAML parsing and validation with file, line and key in every error.
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <set>
#include <sstream>

#include "almanac/pipeline.h"
#include "pipeline/nowcast.h"
#include "pipeline/risk_step.h"
#include "pipeline/simulate_step.h"

namespace almanac::pipeline {
namespace {

class Parser {
 public:
  Parser(std::string_view file, const models::ForecasterRegistry& models) : file_(file), models_(models) {}

  Status Error(const YAML::Node& node, const std::string& key, const std::string& msg) const {
    std::string where = file_;
    if (node.IsDefined() && node.Mark().line >= 0) where += ":" + std::to_string(node.Mark().line + 1);
    return InvalidArgumentError(where + ": " + key + ": " + msg);
  }

  // Unknown keys of a mapping, with a did-you-mean.
  Status CheckKeys(const YAML::Node& map, const std::string& path, const std::vector<std::string>& known) const {
    if (!map.IsMap()) return Error(map, path, "expected a mapping");
    for (const auto& kv : map) {
      const std::string k = kv.first.as<std::string>("");
      if (std::find(known.begin(), known.end(), k) != known.end()) continue;
      std::string msg = "unknown key '" + k + "'";
      std::string hint = DidYouMean(k, known);
      if (!hint.empty()) msg += " (did you mean '" + hint + "'?)";
      return Error(kv.first, path.empty() ? k : path + "." + k, msg);
    }
    return Status::Ok();
  }

  Result<std::string> String(const YAML::Node& n, const std::string& key) const {
    if (!n.IsScalar()) return Error(n, key, "expected a text value");
    return n.as<std::string>();
  }

  Result<int64_t> Int(const YAML::Node& n, const std::string& key, int64_t lo, int64_t hi) const {
    if (!n.IsScalar()) return Error(n, key, "expected an integer");
    auto v = ParseInt(n.as<std::string>());
    if (!v.ok()) return Error(n, key, "expected an integer, got '" + n.as<std::string>() + "'");
    if (*v < lo || *v > hi) return Error(n, key, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
    return *v;
  }

  Result<double> Number(const YAML::Node& n, const std::string& key) const {
    if (!n.IsScalar()) return Error(n, key, "expected a number");
    auto v = ParseFiniteDouble(n.as<std::string>());
    if (!v.ok()) return Error(n, key, v.status().message());
    return *v;
  }

  // YAML scalars and collections as JSON (numbers, booleans and null typed).
  Result<Json> ToJson(const YAML::Node& n, const std::string& key) const {
    if (n.IsNull()) return Json(nullptr);
    if (n.IsSequence()) {
      Json a = Json::array();
      for (size_t i = 0; i < n.size(); ++i) {
        ALMANAC_ASSIGN_OR_RETURN(Json v, ToJson(n[i], key + "[" + std::to_string(i) + "]"));
        a.push_back(std::move(v));
      }
      return a;
    }
    if (n.IsMap()) {
      Json o = Json::object();
      for (const auto& kv : n) {
        const std::string k = kv.first.as<std::string>("");
        ALMANAC_ASSIGN_OR_RETURN(o[k], ToJson(kv.second, key + "." + k));
      }
      return o;
    }
    const std::string s = n.as<std::string>();
    if (n.Tag() == "!") return Json(s);  // quoted: a string
    if (s == "true" || s == "True") return Json(true);
    if (s == "false" || s == "False") return Json(false);
    if (s == "null" || s == "~") return Json(nullptr);
    if (auto i = ParseInt(s); i.ok()) return Json(*i);
    if (!s.empty() && (std::isdigit(static_cast<unsigned char>(s[0])) || s[0] == '-' || s[0] == '+' || s[0] == '.')) {
      auto d = ParseFiniteDouble(s);
      if (d.ok()) return Json(*d);
      if (ToLower(s).find("nan") != std::string::npos || ToLower(s).find("inf") != std::string::npos)
        return Error(n, key, "NaN and infinities are not allowed");
    }
    return Json(s);
  }

  Result<PipelineSpec> Parse(std::string_view yaml) {
    YAML::Node root;
    try {
      root = YAML::Load(std::string(yaml));
    } catch (const YAML::Exception& e) {
      return InvalidArgumentError(file_ + ":" + std::to_string(e.mark.line + 1) + ": invalid YAML: " + e.msg);
    }
    if (!root.IsMap()) return InvalidArgumentError(file_ + ": a pipeline file is a mapping (name:, data:, models:, ...)");
    ALMANAC_RETURN_IF_ERROR(CheckKeys(root, "", {"name", "description", "experiment", "data", "transforms", "target",
                                                 "horizon", "levels", "models", "evaluation", "register", "promote",
                                                 "schedule", "timezone", "catchup", "trigger", "max_retries", "seed",
                                                 "risk", "var_backtest", "nowcast", "simulate"}));
    PipelineSpec spec;
    // A nowcast pipeline (issue 25) has no target or models of its own; a pipeline with a risk
    // section (issue 24) may train no forecaster: target and models are then optional.
    const bool nowcast = root["nowcast"].IsDefined();
    for (const char* req : {"name", "data", "target", "models"}) {
      const bool optional = std::string_view(req) == "target" || std::string_view(req) == "models";
      if (!root[req] && !(optional && (nowcast || root["risk"] || root["simulate"])))
        return InvalidArgumentError(file_ + ": " + req + ": required key is missing");
    }
    if (nowcast && root["simulate"])
      return Error(root["simulate"], "simulate", "a nowcast pipeline has no simulate step (put it in a pipeline of its own)");
    if (nowcast && (root["risk"] || root["var_backtest"]))
      return Error(root["risk"] ? root["risk"] : root["var_backtest"], root["risk"] ? "risk" : "var_backtest",
                   "a nowcast pipeline has no risk steps (put them in a pipeline of their own)");
    if (!nowcast && static_cast<bool>(root["target"]) != static_cast<bool>(root["models"]))
      return InvalidArgumentError(file_ + ": " + (root["target"] ? "models" : "target") +
                                  ": required key is missing (a forecasting target needs models, and models a target)");
    ALMANAC_ASSIGN_OR_RETURN(spec.name, String(root["name"], "name"));
    if (Status s = ValidateName(spec.name, "pipeline name"); !s.ok()) return Error(root["name"], "name", s.message());
    if (root["description"]) {
      ALMANAC_ASSIGN_OR_RETURN(spec.description, String(root["description"], "description"));
    }
    spec.experiment = spec.name;
    if (root["experiment"]) {
      ALMANAC_ASSIGN_OR_RETURN(spec.experiment, String(root["experiment"], "experiment"));
      if (Status s = ValidateName(spec.experiment, "experiment"); !s.ok()) return Error(root["experiment"], "experiment", s.message());
    }
    ALMANAC_RETURN_IF_ERROR(ParseData(root["data"], spec));
    if (nowcast) {  // issue 25: a nowcast pipeline (src/pipeline/nowcast.cc)
      ALMANAC_RETURN_IF_ERROR(ParseNowcastSection(root, file_, spec));
      return Tail(root, std::move(spec), std::string(yaml));
    }
    std::set<std::string> available(spec.series.begin(), spec.series.end());
    if (root["transforms"]) ALMANAC_RETURN_IF_ERROR(ParseTransforms(root["transforms"], spec, available));
    ALMANAC_RETURN_IF_ERROR(ParseRiskSections(root, file_, available, spec));
    ALMANAC_RETURN_IF_ERROR(ParseSimulateSection(root, file_, available, spec));  // issue 24: stored macro paths
    if (root["target"]) {
      ALMANAC_ASSIGN_OR_RETURN(spec.target, String(root["target"], "target"));
      if (!available.count(spec.target)) {
        std::vector<std::string> names(available.begin(), available.end());
        std::string msg = "'" + spec.target + "' is neither a data series nor a transform";
        std::string hint = DidYouMean(spec.target, names);
        if (!hint.empty()) msg += " (did you mean '" + hint + "'?)";
        return Error(root["target"], "target", msg);
      }
    }
    if (root["horizon"]) {
      ALMANAC_ASSIGN_OR_RETURN(spec.horizon, Int(root["horizon"], "horizon", 1, models::kMaxHorizon));
    }
    if (root["levels"]) {
      if (!root["levels"].IsSequence() || root["levels"].size() == 0)
        return Error(root["levels"], "levels", "expected a list of percentages, e.g. [80, 95]");
      spec.levels.clear();
      for (size_t i = 0; i < root["levels"].size(); ++i) {
        ALMANAC_ASSIGN_OR_RETURN(double l, Number(root["levels"][i], "levels[" + std::to_string(i) + "]"));
        if (!(l > 0 && l < 100)) return Error(root["levels"][i], "levels[" + std::to_string(i) + "]", "must be in (0, 100)");
        spec.levels.push_back(l);
      }
    }
    if (root["models"]) ALMANAC_RETURN_IF_ERROR(ParseModels(root["models"], spec));
    spec.evaluation.horizon = spec.horizon;
    if (root["evaluation"]) ALMANAC_RETURN_IF_ERROR(ParseEvaluation(root["evaluation"], spec));
    if (root["register"] && spec.candidates.empty())
      return Error(root["register"], "register", "needs models (there is nothing to register)");
    if (root["register"]) ALMANAC_RETURN_IF_ERROR(ParseRegister(root["register"], spec));
    if (root["promote"]) {
      if (!spec.register_spec.enabled) return Error(root["promote"], "promote", "needs a register section");
      ALMANAC_RETURN_IF_ERROR(ParsePromote(root["promote"], spec));
    }
    return Tail(root, std::move(spec), std::string(yaml));
  }

  // The schedule and run settings, common to forecast and nowcast pipelines.
  Result<PipelineSpec> Tail(const YAML::Node& root, PipelineSpec spec, const std::string& yaml) {
    TimeZone zone = TimeZone::Utc();
    if (root["timezone"]) {
      if (!root["schedule"]) return Error(root["timezone"], "timezone", "applies to a schedule; add 'schedule:'");
      ALMANAC_ASSIGN_OR_RETURN(std::string name, String(root["timezone"], "timezone"));
      auto z = TimeZone::Load(name);
      if (!z.ok()) return Error(root["timezone"], "timezone", z.status().message());
      zone = std::move(*z);
    }
    if (root["schedule"]) {
      ALMANAC_ASSIGN_OR_RETURN(std::string cron, String(root["schedule"], "schedule"));
      auto c = CronSchedule::Parse(cron, zone);
      if (!c.ok()) return Error(root["schedule"], "schedule", c.status().message());
      spec.schedule = *c;
    }
    if (root["catchup"]) {
      if (!root["schedule"]) return Error(root["catchup"], "catchup", "applies to a schedule; add 'schedule:'");
      const YAML::Node& n = root["catchup"];
      bool v = false;
      if (!n.IsScalar() || !YAML::convert<bool>::decode(n, v)) return Error(n, "catchup", "expected true or false");
      if (v && !spec.snapshot.empty())
        return Error(n, "catchup", "a pipeline on snapshot '" + spec.snapshot + "' gives the same run at every fire; nothing to catch up");
      spec.catchup = v;
    }
    if (root["trigger"]) {
      ALMANAC_ASSIGN_OR_RETURN(std::string t, String(root["trigger"], "trigger"));
      const std::vector<std::string> kTriggers = {"on_new_data"};
      if (t != "on_new_data") {
        std::string msg = "unknown trigger '" + t + "' (use on_new_data)";
        std::string hint = DidYouMean(t, kTriggers);
        if (!hint.empty()) msg = "unknown trigger '" + t + "' (did you mean '" + hint + "'?)";
        return Error(root["trigger"], "trigger", msg);
      }
      // A snapshot never changes: new data could not change what the pipeline reads.
      if (!spec.snapshot.empty())
        return Error(root["trigger"], "trigger", "a pipeline on snapshot '" + spec.snapshot +
                                                     "' never sees new data; use data.series to re-run on new vintages");
      spec.trigger = Trigger::kOnNewData;
    }
    if (root["max_retries"]) {
      ALMANAC_ASSIGN_OR_RETURN(spec.max_retries, Int(root["max_retries"], "max_retries", 0, 20));
    }
    if (root["seed"]) {
      ALMANAC_ASSIGN_OR_RETURN(spec.seed, Int(root["seed"], "seed", 0, INT64_MAX));
    }
    spec.file = file_;
    spec.source_bytes = std::string(yaml);
    spec.source_hash = Sha256Hex(yaml);
    return spec;
  }

 private:
  Status ParseData(const YAML::Node& d, PipelineSpec& spec) {
    ALMANAC_RETURN_IF_ERROR(CheckKeys(d, "data", {"series", "as_of", "snapshot"}));
    if (d["snapshot"] && d["as_of"]) return Error(d["snapshot"], "data.snapshot", "give either as_of or snapshot, not both");
    if (d["snapshot"]) {
      ALMANAC_ASSIGN_OR_RETURN(spec.snapshot, String(d["snapshot"], "data.snapshot"));
    }
    if (!d["series"]) {
      if (spec.snapshot.empty()) return Error(d, "data.series", "required key is missing");
    } else {
      const YAML::Node& s = d["series"];
      if (!s.IsSequence() || s.size() == 0) return Error(s, "data.series", "expected a list of series keys");
      std::set<std::string> seen;
      for (size_t i = 0; i < s.size(); ++i) {
        const std::string key = "data.series[" + std::to_string(i) + "]";
        ALMANAC_ASSIGN_OR_RETURN(std::string k, String(s[i], key));
        if (Status st = ValidateSeriesKey(k); !st.ok()) return Error(s[i], key, st.message());
        if (!seen.insert(k).second) return Error(s[i], key, "series '" + k + "' is listed twice");
        spec.series.push_back(k);
      }
    }
    if (d["as_of"]) {
      ALMANAC_ASSIGN_OR_RETURN(std::string t, String(d["as_of"], "data.as_of"));
      auto date = Date::Parse(t);
      if (!date.ok()) return Error(d["as_of"], "data.as_of", date.status().message());
      spec.as_of = *date;
    }
    return Status::Ok();
  }

  Status ParseTransforms(const YAML::Node& ts, PipelineSpec& spec, std::set<std::string>& available) {
    if (!ts.IsSequence()) return Error(ts, "transforms", "expected a list of transforms");
    for (size_t i = 0; i < ts.size(); ++i) {
      const std::string path = "transforms[" + std::to_string(i) + "]";
      const YAML::Node& t = ts[i];
      if (!t.IsMap()) return Error(t, path, "expected a mapping with name, op and input");
      for (const char* req : {"name", "op", "input"})
        if (!t[req]) return Error(t, path + "." + req, "required key is missing");
      TransformSpec tr;
      ALMANAC_ASSIGN_OR_RETURN(tr.name, String(t["name"], path + ".name"));
      if (Status st = ValidateSeriesKey(tr.name); !st.ok()) return Error(t["name"], path + ".name", st.message());
      if (available.count(tr.name)) return Error(t["name"], path + ".name", "'" + tr.name + "' is already defined");
      ALMANAC_ASSIGN_OR_RETURN(tr.op, String(t["op"], path + ".op"));
      // Aliases are recorded by their canonical name, so step hashes do not depend on the spelling.
      auto canonical = data::CanonicalTransformName(tr.op);
      if (!canonical.ok()) return Error(t["op"], path + ".op", canonical.status().message());
      tr.op = *canonical;
      const data::TransformOp* op = nullptr;
      for (const auto& row : data::TransformOps())
        if (row.name == tr.op) op = &row;
      if (op == nullptr) return InternalError("transformation '" + tr.op + "' has no row in data::TransformOps");
      std::vector<std::string> known = {"name", "op", "input"};
      known.insert(known.end(), op->params.begin(), op->params.end());
      ALMANAC_RETURN_IF_ERROR(CheckKeys(t, path, known));
      ALMANAC_ASSIGN_OR_RETURN(tr.input, String(t["input"], path + ".input"));
      auto need = [&](const std::string& name, const YAML::Node& at) -> Status {
        if (available.count(name)) return Status::Ok();
        if (name == tr.name) return Error(at, path, "transform '" + tr.name + "' uses itself (a cycle)");
        // A later transform: a cycle or an ordering problem; either way it is not defined yet.
        for (size_t j = i + 1; j < ts.size(); ++j)
          if (ts[j]["name"] && ts[j]["name"].as<std::string>("") == name)
            return Error(at, path, "'" + name + "' is defined by a later transform (transforms must come after their "
                                   "inputs; cycles are not allowed)");
        std::vector<std::string> names(available.begin(), available.end());
        std::string msg = "input '" + name + "' is neither a data series nor an earlier transform";
        std::string hint = DidYouMean(name, names);
        if (!hint.empty()) msg += " (did you mean '" + hint + "'?)";
        return Error(at, path, msg);
      };
      ALMANAC_RETURN_IF_ERROR(need(tr.input, t["input"]));
      for (const auto param : op->params) {
        const std::string p(param);
        if (!t[p]) continue;
        ALMANAC_ASSIGN_OR_RETURN(tr.params[p], ToJson(t[p], path + "." + p));
      }
      if (tr.op == "deflate") {
        if (!tr.params.contains("by") || !tr.params["by"].is_string())
          return Error(t, path + ".by", "deflate needs 'by: SERIES'");
        ALMANAC_RETURN_IF_ERROR(need(tr.params["by"].get<std::string>(), t["by"]));
      }
      if (tr.op == "resample" && (!tr.params.contains("to") || !tr.params["to"].is_string()))
        return Error(t, path + ".to", "resample needs 'to: A|Q|M|W'");
      if (tr.op == "moving_average" && !tr.params.contains("window"))
        return Error(t, path + ".window", "moving_average needs 'window: N'");
      available.insert(tr.name);
      spec.transforms.push_back(std::move(tr));
    }
    return Status::Ok();
  }

  Status ParseModels(const YAML::Node& ms, PipelineSpec& spec) {
    if (!ms.IsSequence() || ms.size() == 0) return Error(ms, "models", "expected a list of model candidates");
    std::set<std::string> names;
    for (size_t i = 0; i < ms.size(); ++i) {
      const std::string path = "models[" + std::to_string(i) + "]";
      const YAML::Node& m = ms[i];
      ALMANAC_RETURN_IF_ERROR(CheckKeys(m, path, {"name", "type", "params"}));
      if (!m["type"]) return Error(m, path + ".type", "required key is missing");
      CandidateSpec c;
      ALMANAC_ASSIGN_OR_RETURN(c.model.type, String(m["type"], path + ".type"));
      c.name = c.model.type;
      if (m["name"]) {
        ALMANAC_ASSIGN_OR_RETURN(c.name, String(m["name"], path + ".name"));
      }
      if (Status st = ValidateName(c.name, "model name"); !st.ok()) return Error(m["name"], path + ".name", st.message());
      if (!names.insert(c.name).second)
        return Error(m, path + ".name", "two candidates are named '" + c.name + "' (give them distinct names)");
      if (m["params"]) {
        if (!m["params"].IsMap()) return Error(m["params"], path + ".params", "expected a mapping of parameters");
        ALMANAC_ASSIGN_OR_RETURN(c.model.params, ToJson(m["params"], path + ".params"));
      }
      Status v = models_.Validate(c.model);
      if (!v.ok()) {
        const bool type_problem = v.code() == StatusCode::kNotFound;
        return Error(type_problem ? m["type"] : m["params"], type_problem ? path + ".type" : path + ".params", v.message());
      }
      spec.candidates.push_back(std::move(c));
    }
    return Status::Ok();
  }

  Status ParseEvaluation(const YAML::Node& e, PipelineSpec& spec) {
    ALMANAC_RETURN_IF_ERROR(CheckKeys(e, "evaluation", {"origins", "step", "window", "window_size", "horizon", "metrics", "select_by"}));
    auto& ev = spec.evaluation;
    if (e["origins"]) {
      ALMANAC_ASSIGN_OR_RETURN(ev.origins, Int(e["origins"], "evaluation.origins", 0, 1000));
    }
    if (e["step"]) {
      ALMANAC_ASSIGN_OR_RETURN(ev.step, Int(e["step"], "evaluation.step", 1, 1000));
    }
    if (e["window_size"]) {
      ALMANAC_ASSIGN_OR_RETURN(ev.window_size, Int(e["window_size"], "evaluation.window_size", 2, 100000));
    }
    if (e["horizon"]) {
      ALMANAC_ASSIGN_OR_RETURN(ev.horizon, Int(e["horizon"], "evaluation.horizon", 1, models::kMaxHorizon));
    }
    if (e["window"]) {
      ALMANAC_ASSIGN_OR_RETURN(ev.window, String(e["window"], "evaluation.window"));
      if (ev.window != "expanding" && ev.window != "sliding")
        return Error(e["window"], "evaluation.window", "expected expanding or sliding");
    }
    static const std::vector<std::string> kMetrics = {"mase", "smape", "rmse", "mae", "mape", "coverage80", "coverage95",
                                                      "winkler80", "winkler95"};
    if (e["metrics"]) {
      if (!e["metrics"].IsSequence()) return Error(e["metrics"], "evaluation.metrics", "expected a list of metric names");
      ev.metrics.clear();
      for (size_t i = 0; i < e["metrics"].size(); ++i) {
        const std::string key = "evaluation.metrics[" + std::to_string(i) + "]";
        ALMANAC_ASSIGN_OR_RETURN(std::string m, String(e["metrics"][i], key));
        if (std::find(kMetrics.begin(), kMetrics.end(), m) == kMetrics.end()) {
          std::string hint = DidYouMean(m, kMetrics);
          return Error(e["metrics"][i], key, "unknown metric '" + m + "'" + (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
        }
        ev.metrics.push_back(m);
      }
    }
    if (e["select_by"]) {
      ALMANAC_ASSIGN_OR_RETURN(ev.select_by, String(e["select_by"], "evaluation.select_by"));
      if (std::find(ev.metrics.begin(), ev.metrics.end(), ev.select_by) == ev.metrics.end())
        return Error(e["select_by"], "evaluation.select_by", "'" + ev.select_by + "' is not one of the evaluation metrics");
    }
    return Status::Ok();
  }

  Status ParseRuleAt(const YAML::Node& n, const std::string& key, Rule* out) {
    ALMANAC_ASSIGN_OR_RETURN(std::string text, String(n, key));
    auto r = ParseRule(text);
    if (!r.ok()) return Error(n, key, r.status().message());
    *out = *r;
    return Status::Ok();
  }

  Status ParseRegister(const YAML::Node& r, PipelineSpec& spec) {
    ALMANAC_RETURN_IF_ERROR(CheckKeys(r, "register", {"model", "owner", "description", "policy", "card", "when"}));
    auto& rs = spec.register_spec;
    rs.enabled = true;
    rs.model = spec.name;
    if (r["model"]) {
      ALMANAC_ASSIGN_OR_RETURN(rs.model, String(r["model"], "register.model"));
    }
    if (Status st = ValidateName(rs.model, "model name"); !st.ok()) return Error(r["model"], "register.model", st.message());
    if (r["owner"]) {
      ALMANAC_ASSIGN_OR_RETURN(rs.owner, String(r["owner"], "register.owner"));
    }
    if (r["description"]) {
      ALMANAC_ASSIGN_OR_RETURN(rs.description, String(r["description"], "register.description"));
    }
    if (r["policy"]) {
      ALMANAC_RETURN_IF_ERROR(CheckKeys(r["policy"], "register.policy", {"four_eyes"}));
      ALMANAC_ASSIGN_OR_RETURN(rs.policy, ToJson(r["policy"], "register.policy"));
      if (rs.policy.contains("four_eyes") && !rs.policy["four_eyes"].is_boolean())
        return Error(r["policy"]["four_eyes"], "register.policy.four_eyes", "expected true or false");
    }
    if (r["card"]) {
      ALMANAC_RETURN_IF_ERROR(CheckKeys(r["card"], "register.card",
                                        {"purpose", "assumptions", "limitations", "data_sources", "method", "contact"}));
      ALMANAC_ASSIGN_OR_RETURN(rs.card, ToJson(r["card"], "register.card"));
    }
    rs.when = *ParseRule("always");
    if (r["when"]) ALMANAC_RETURN_IF_ERROR(ParseRuleAt(r["when"], "register.when", &rs.when));
    return CheckRuleMetrics(rs.when, r["when"], "register.when", spec);
  }

  Status ParsePromote(const YAML::Node& p, PipelineSpec& spec) {
    ALMANAC_RETURN_IF_ERROR(CheckKeys(p, "promote", {"to", "when"}));
    spec.promote.enabled = true;
    if (p["to"]) {
      ALMANAC_ASSIGN_OR_RETURN(std::string to, String(p["to"], "promote.to"));
      auto st = store::ParseStage(to);
      if (!st.ok() || (*st != store::Stage::kStaging && *st != store::Stage::kProduction))
        return Error(p["to"], "promote.to", "expected staging or production");
      spec.promote.to = *st;
    }
    spec.promote.when = *ParseRule("always");
    if (p["when"]) ALMANAC_RETURN_IF_ERROR(ParseRuleAt(p["when"], "promote.when", &spec.promote.when));
    return CheckRuleMetrics(spec.promote.when, p["when"], "promote.when", spec);
  }

  Status CheckRuleMetrics(const Rule& rule, const YAML::Node& at, const std::string& key, const PipelineSpec& spec) const {
    for (const auto& c : rule.clauses) {
      if (c.metric.empty()) continue;
      const auto& m = spec.evaluation.metrics;
      if (std::find(m.begin(), m.end(), c.metric) == m.end())
        return Error(at, key, "metric '" + c.metric + "' is not computed (add it to evaluation.metrics)");
      if (spec.evaluation.origins == 0) return Error(at, key, "a rule on metrics needs evaluation.origins > 0");
    }
    return Status::Ok();
  }

  std::string file_;
  const models::ForecasterRegistry& models_;
};

}  // namespace

Result<Rule> ParseRule(std::string_view text) {
  Rule r;
  r.text = std::string(Trim(text));
  std::istringstream in{std::string(text)};
  std::vector<std::string> tokens;
  for (std::string tok; in >> tok;) tokens.push_back(tok);
  if (tokens.empty()) return InvalidArgumentError("empty rule (use 'always')");
  size_t i = 0;
  for (;;) {
    if (i >= tokens.size()) return InvalidArgumentError("rule '" + r.text + "' ends with 'and'");
    Rule::Clause c;
    if (tokens[i] == "always" || tokens[i] == "better_than_production") {
      c.keyword = tokens[i++];
    } else {
      if (i + 2 >= tokens.size())
        return InvalidArgumentError("rule '" + r.text + "': expected METRIC OP NUMBER near '" + tokens[i] + "'");
      c.metric = tokens[i];
      c.op = tokens[i + 1];
      if (c.op != "<" && c.op != "<=" && c.op != ">" && c.op != ">=")
        return InvalidArgumentError("rule '" + r.text + "': unknown comparison '" + c.op + "' (use <, <=, > or >=)");
      auto v = ParseFiniteDouble(tokens[i + 2]);
      if (!v.ok()) return InvalidArgumentError("rule '" + r.text + "': '" + tokens[i + 2] + "' is not a number");
      c.value = *v;
      i += 3;
    }
    r.clauses.push_back(c);
    if (i == tokens.size()) break;
    if (tokens[i] != "and")
      return InvalidArgumentError("rule '" + r.text + "': expected 'and' between conditions, got '" + tokens[i] + "'");
    ++i;
  }
  return r;
}

std::string_view TriggerName(Trigger t) {
  switch (t) {
    case Trigger::kNone: return "none";
    case Trigger::kOnNewData: return "on_new_data";
  }
  return "?";
}

Result<PipelineSpec> ParsePipeline(std::string_view yaml, std::string_view file, const models::ForecasterRegistry& models) {
  return Parser(file, models).Parse(yaml);
}

Result<PipelineSpec> LoadPipelineFile(const std::string& path, const models::ForecasterRegistry& models) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot read pipeline file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ParsePipeline(ss.str(), path, models);
}

}  // namespace almanac::pipeline
