// The argument layer: one parser and one rule per kind of option value.
#include "cli/arguments.h"

#include "almanac/data/transforms.h"

namespace almanac::cli {

Result<std::optional<Date>> ParseAsOfOption(const std::string& text, const Clock& clock) {
  if (text.empty()) return std::optional<Date>();
  ALMANAC_ASSIGN_OR_RETURN(Date d, ParseAsOfDate(text, clock, "--as-of"));
  return std::optional<Date>(d);
}

Result<std::optional<Date>> OptionalDate(const std::string& text, std::string_view what) {
  if (text.empty()) return std::optional<Date>();
  auto d = Date::Parse(text);
  if (!d.ok()) return d.status().WithContext(std::string(what));
  return std::optional<Date>(*d);
}

Status CheckHorizon(int horizon) { return models::ValidateHorizon(horizon); }

int HorizonOrDefault(int given, std::optional<int> fallback) {
  if (given > 0) return given;
  return fallback.value_or(models::kDefaultHorizon);
}

Status CheckLevels(const std::vector<double>& levels) {
  // The models' own rule (ValidatePredictArgs) with a valid horizon: only the levels are checked.
  return models::ValidatePredictArgs(1, levels);
}

Result<std::vector<double>> ParseLevelList(const std::string& text) {
  std::vector<double> out;
  for (const auto& part : SplitList({text})) {
    auto v = ParseFiniteDouble(part);
    if (!v.ok()) return v.status().WithContext("--level");
    out.push_back(*v);
  }
  if (Status s = CheckLevels(out); !s.ok()) return s.WithContext("--level");
  return out;
}

Result<std::string> ParseTransformOption(const std::string& text) {
  auto name = data::CanonicalTransformName(text);
  if (!name.ok()) return name.status().WithContext("--transform");
  return name;
}

std::vector<std::string> SplitList(const std::vector<std::string>& items) {
  std::vector<std::string> out;
  for (const auto& item : items) {
    size_t start = 0;
    while (start <= item.size()) {
      size_t comma = item.find(',', start);
      if (comma == std::string::npos) comma = item.size();
      std::string part(Trim(std::string_view(item).substr(start, comma - start)));
      if (!part.empty()) out.push_back(part);
      start = comma + 1;
    }
  }
  return out;
}

}  // namespace almanac::cli
