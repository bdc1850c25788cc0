#include <yaml-cpp/yaml.h>

#include "almanac/data.h"

namespace almanac::data {

Result<std::map<std::string, SeriesMetadata>> ReadMetadataFile(const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    return NotFoundError("cannot read metadata file " + path);
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError(path + ": line " + std::to_string(e.mark.line + 1) + ": invalid YAML: " + e.msg);
  }
  if (!root.IsMap() || !root["series"] || !root["series"].IsMap())
    return InvalidArgumentError(path + ": expected a mapping with a 'series' key (series: {KEY: {title: ..., ...}})");
  std::map<std::string, SeriesMetadata> out;
  static const std::vector<std::string> kFields = {"title", "unit", "frequency", "seasonal_adjustment", "source"};
  for (const auto& entry : root["series"]) {
    const std::string key = entry.first.as<std::string>("");
    const std::string where = path + ": line " + std::to_string(entry.first.Mark().line + 1) + ": series " + QuoteForMessage(key);
    ALMANAC_RETURN_IF_ERROR_CTX(ValidateSeriesKey(key), path + ": line " + std::to_string(entry.first.Mark().line + 1));
    if (!entry.second.IsMap()) return InvalidArgumentError(where + ": expected a mapping of fields");
    SeriesMetadata m;
    for (const auto& field : entry.second) {
      const std::string name = field.first.as<std::string>("");
      if (!field.second.IsScalar())
        return InvalidArgumentError(where + ": field " + QuoteForMessage(name) + " must be a plain value");
      const std::string value = field.second.as<std::string>("");
      if (name == "title") m.title = value;
      else if (name == "unit") m.unit = value;
      else if (name == "seasonal_adjustment") m.seasonal_adjustment = value;
      else if (name == "source") m.source = value;
      else if (name == "frequency") {
        auto f = ParseFrequency(value);
        if (!f.ok()) return f.status().WithContext(where);
        m.frequency = *f;
      } else {
        std::string msg = where + ": unknown field " + QuoteForMessage(name);
        std::string hint = DidYouMean(name, kFields);
        if (!hint.empty()) msg += " (did you mean '" + hint + "'?)";
        return InvalidArgumentError(msg);
      }
    }
    if (!out.emplace(key, std::move(m)).second) return InvalidArgumentError(where + ": listed twice");
  }
  return out;
}

}  // namespace almanac::data
