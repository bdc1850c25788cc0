#include "store/record_text.h"

#include <cmath>

namespace almanac::store {

Result<Json> ParseStoredJson(const std::string& text, std::string_view what) {
  auto j = ParseJson(text);
  if (!j.ok()) return DataLossError("stored " + std::string(what) + " is not valid JSON");
  return j;
}

std::string JsonText(const Json& j) {
  auto c = CanonicalJson(j.is_null() ? Json::object() : j);
  return c.ok() ? *c : "{}";
}

Status ValidateIssuedForecast(const IssuedForecastRecord& f) {
  const std::string id = f.model + "@" + std::to_string(f.version) + " from " + f.origin;
  if (f.model.empty() || f.origin.empty() || f.target.empty())
    return InvalidArgumentError("issued forecast " + id + ": model, origin and target are required");
  if (f.version <= 0) return InvalidArgumentError("issued forecast " + id + ": version must be positive");
  if (f.mean.empty()) return InvalidArgumentError("issued forecast " + id + ": empty forecast (horizon 0)");
  if (f.lower.size() != f.levels.size() || f.upper.size() != f.levels.size())
    return InvalidArgumentError("issued forecast " + id + ": expected one lower and one upper bound row per level (" +
                                std::to_string(f.levels.size()) + " levels)");
  auto finite = [](const std::vector<double>& v) {
    for (double x : v)
      if (!std::isfinite(x)) return false;
    return true;
  };
  if (!finite(f.mean) || !finite(f.levels)) return InvalidArgumentError("issued forecast " + id + ": a value is not finite");
  for (size_t i = 0; i < f.levels.size(); ++i) {
    if (f.lower[i].size() != f.mean.size() || f.upper[i].size() != f.mean.size())
      return InvalidArgumentError("issued forecast " + id + ": the bounds of level " + FormatDouble(f.levels[i]) +
                                  " are not as long as the forecast (" + std::to_string(f.mean.size()) + ")");
    if (!finite(f.lower[i]) || !finite(f.upper[i]))
      return InvalidArgumentError("issued forecast " + id + ": a bound is not finite");
  }
  return Status::Ok();
}

std::string DoublesToJson(const std::vector<double>& v) {
  Json j = Json::array();
  for (double x : v) j.push_back(x);
  return CompactJson(j);
}

std::string DoubleRowsToJson(const std::vector<std::vector<double>>& rows) {
  Json j = Json::array();
  for (const auto& r : rows) {
    Json row = Json::array();
    for (double x : r) row.push_back(x);
    j.push_back(std::move(row));
  }
  return CompactJson(j);
}

namespace {
Result<std::vector<double>> Doubles(const Json& j, std::string_view what) {
  if (!j.is_array()) return DataLossError("stored issued forecast: " + std::string(what) + " is not an array");
  std::vector<double> out;
  for (const auto& x : j) {
    if (!x.is_number()) return DataLossError("stored issued forecast: " + std::string(what) + " holds a non-number");
    out.push_back(x.get<double>());
  }
  return out;
}
}  // namespace

Result<std::vector<double>> DoublesFromJson(std::string_view text) {
  auto j = ParseJson(text);
  if (!j.ok()) return DataLossError("stored issued forecast: " + j.status().message());
  return Doubles(*j, "values");
}

Result<std::vector<std::vector<double>>> DoubleRowsFromJson(std::string_view text) {
  auto j = ParseJson(text);
  if (!j.ok()) return DataLossError("stored issued forecast: " + j.status().message());
  if (!j->is_array()) return DataLossError("stored issued forecast: bounds are not an array");
  std::vector<std::vector<double>> out;
  for (const auto& row : *j) {
    ALMANAC_ASSIGN_OR_RETURN(std::vector<double> r, Doubles(row, "bounds"));
    out.push_back(std::move(r));
  }
  return out;
}

Status ValidateQuarantine(const QuarantineRecord& q) {
  if (q.source.empty()) return InvalidArgumentError("quarantined load: the source is required");
  if (q.reasons.empty()) return InvalidArgumentError("quarantined load of " + q.source + ": no reason given");
  if (q.payload.empty()) return InvalidArgumentError("quarantined load of " + q.source + ": empty payload");
  if (q.payload_sha256.size() != 64) return InvalidArgumentError("quarantined load of " + q.source + ": bad payload digest");
  if (q.observations < 0) return InvalidArgumentError("quarantined load of " + q.source + ": negative observation count");
  return Status::Ok();
}

Status ValidateTask(const TaskRecord& t) {
  if (t.kind.empty() || t.name.empty()) return InvalidArgumentError("task: kind and name are required");
  if (t.dedupe_key.empty()) return InvalidArgumentError("task " + t.name + ": a dedupe key is required");
  if (t.max_attempts < 1) return InvalidArgumentError("task " + t.name + ": max_attempts must be at least 1");
  return Status::Ok();
}

std::string StringsToJson(const std::vector<std::string>& v) {
  Json j = Json::array();
  for (const auto& s : v) j.push_back(s);
  return CompactJson(j);
}

Result<std::vector<std::string>> StringsFromJson(std::string_view text, std::string_view what) {
  auto j = ParseJson(text);
  if (!j.ok() || !j->is_array()) return DataLossError("stored " + std::string(what) + " is not a JSON array");
  std::vector<std::string> out;
  for (const auto& x : *j) {
    if (!x.is_string()) return DataLossError("stored " + std::string(what) + " holds a non-string");
    out.push_back(x.get<std::string>());
  }
  return out;
}

}  // namespace almanac::store
