#include "store/issued_forecast.h"

#include <cmath>

namespace almanac::store {

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

}  // namespace almanac::store
