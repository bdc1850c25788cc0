// The YAML source configuration (docs/connectors.md).
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <set>
#include <sstream>

#include "almanac/core/time_zone.h"
#include "almanac/data.h"

namespace almanac::data {
namespace {

struct Ctx {
  std::string file;
  std::string Where(const YAML::Node& n, const std::string& what) const {
    return file + ": line " + std::to_string(n.Mark().line + 1) + ": " + what;
  }
};

Status Unknown(const Ctx& c, const YAML::Node& n, const std::string& where, const std::string& name,
               const std::vector<std::string>& known) {
  std::string msg = c.Where(n, where + ": unknown field " + QuoteForMessage(name));
  std::string hint = DidYouMean(name, known);
  if (!hint.empty()) msg += " (did you mean '" + hint + "'?)";
  return InvalidArgumentError(msg);
}

Result<std::string> Scalar(const Ctx& c, const YAML::Node& n, const std::string& what) {
  if (!n.IsScalar()) return InvalidArgumentError(c.Where(n, what + " must be a plain value"));
  return n.as<std::string>("");
}

Result<double> Number(const Ctx& c, const YAML::Node& n, const std::string& what) {
  ALMANAC_ASSIGN_OR_RETURN(std::string s, Scalar(c, n, what));
  try {
    size_t used = 0;
    double v = std::stod(s, &used);
    if (used != s.size()) throw std::invalid_argument(s);
    return v;
  } catch (const std::exception&) {
    return InvalidArgumentError(c.Where(n, what + " must be a number, not " + QuoteForMessage(s)));
  }
}

Result<int64_t> Integer(const Ctx& c, const YAML::Node& n, const std::string& what, int64_t lo, int64_t hi) {
  ALMANAC_ASSIGN_OR_RETURN(double v, Number(c, n, what));
  if (v != static_cast<double>(static_cast<int64_t>(v)) || v < static_cast<double>(lo) || v > static_cast<double>(hi))
    return InvalidArgumentError(c.Where(n, what + " must be an integer in " + std::to_string(lo) + ".." + std::to_string(hi)));
  return static_cast<int64_t>(v);
}

Status ReadRules(const Ctx& c, const YAML::Node& n, const std::string& where, ValidationRules* r) {
  if (!n.IsMap()) return InvalidArgumentError(c.Where(n, where + ": rules must be a mapping"));
  static const std::vector<std::string> kKnown = {"frequency", "min", "max", "max_revision", "max_staleness_days", "max_gap"};
  for (const auto& f : n) {
    const std::string name = f.first.as<std::string>("");
    const std::string w = where + ": rules." + name;
    if (name == "frequency") {
      ALMANAC_ASSIGN_OR_RETURN(std::string s, Scalar(c, f.second, w));
      auto fr = ParseFrequency(s);
      if (!fr.ok()) return fr.status().WithContext(c.Where(f.second, w));
      r->frequency = *fr;
    } else if (name == "min") {
      ALMANAC_ASSIGN_OR_RETURN(double v, Number(c, f.second, w));
      r->min = v;
    } else if (name == "max") {
      ALMANAC_ASSIGN_OR_RETURN(double v, Number(c, f.second, w));
      r->max = v;
    } else if (name == "max_revision") {
      ALMANAC_ASSIGN_OR_RETURN(double v, Number(c, f.second, w));
      if (v < 0) return InvalidArgumentError(c.Where(f.second, w + " must not be negative"));
      r->max_revision = v;
    } else if (name == "max_staleness_days") {
      ALMANAC_ASSIGN_OR_RETURN(int64_t v, Integer(c, f.second, w, 0, 100000));
      r->max_staleness_days = static_cast<int>(v);
    } else if (name == "max_gap") {
      ALMANAC_ASSIGN_OR_RETURN(int64_t v, Integer(c, f.second, w, 0, 100000));
      r->max_gap = static_cast<int>(v);
    } else {
      return Unknown(c, f.first, where + ": rules", name, kKnown);
    }
  }
  if (r->min && r->max && *r->min > *r->max)
    return InvalidArgumentError(c.Where(n, where + ": rules.min is greater than rules.max"));
  return Status::Ok();
}

Result<SeriesSpec> ReadSeries(const Ctx& c, const YAML::Node& n, const std::string& where) {
  SeriesSpec s;
  if (n.IsScalar()) {
    s.id = n.as<std::string>("");
  } else if (n.IsMap()) {
    static const std::vector<std::string> kKnown = {"id", "key", "title", "unit", "frequency", "seasonal_adjustment", "rules"};
    for (const auto& f : n) {
      const std::string name = f.first.as<std::string>("");
      const std::string w = where + ": " + name;
      if (name == "rules") {
        ALMANAC_RETURN_IF_ERROR(ReadRules(c, f.second, where, &s.rules));
        continue;
      }
      if (std::find(kKnown.begin(), kKnown.end(), name) == kKnown.end()) return Unknown(c, f.first, where, name, kKnown);
      ALMANAC_ASSIGN_OR_RETURN(std::string v, Scalar(c, f.second, w));
      if (name == "id") s.id = v;
      else if (name == "key") s.key = v;
      else if (name == "title") s.metadata.title = v;
      else if (name == "unit") s.metadata.unit = v;
      else if (name == "seasonal_adjustment") s.metadata.seasonal_adjustment = v;
      else if (name == "frequency") {
        auto fr = ParseFrequency(v);
        if (!fr.ok()) return fr.status().WithContext(c.Where(f.second, w));
        s.metadata.frequency = *fr;
      }
    }
  } else {
    return InvalidArgumentError(c.Where(n, where + ": a series is an id or a mapping with 'id'"));
  }
  if (Trim(s.id).empty()) return InvalidArgumentError(c.Where(n, where + ": the series has no id"));
  if (!s.key.empty()) ALMANAC_RETURN_IF_ERROR_CTX(ValidateSeriesKey(s.key), c.Where(n, where));
  return s;
}

Result<SourceType> ParseType(const std::string& t, std::string* default_url, std::string* default_prefix,
                             double* default_rpm) {
  if (t == "fred" || t == "alfred") {
    *default_url = "https://api.stlouisfed.org";
    *default_prefix = "fred";
    return t == "fred" ? SourceType::kFred : SourceType::kAlfred;
  }
  if (t == "ecb") {
    *default_url = "https://data-api.ecb.europa.eu/service";
    *default_prefix = "ecb";
    return SourceType::kSdmx;
  }
  if (t == "oecd") {
    *default_url = "https://sdmx.oecd.org/public/rest";
    *default_prefix = "oecd";
    *default_rpm = 20;  // OECD's published limit: 20 queries a minute
    return SourceType::kSdmx;
  }
  if (t == "eurostat") {
    *default_url = "https://ec.europa.eu/eurostat/api/dissemination/sdmx/2.1";
    *default_prefix = "eurostat";
    return SourceType::kSdmx;
  }
  if (t == "sdmx") return SourceType::kSdmx;
  if (t == "worldbank") {
    *default_url = "https://api.worldbank.org/v2";
    *default_prefix = "wb";
    return SourceType::kWorldBank;
  }
  if (t == "http_csv") return SourceType::kHttpCsv;
  if (t == "http_json") return SourceType::kHttpJson;
  return InvalidArgumentError("unknown source type " + QuoteForMessage(t) +
                              " (expected fred, alfred, ecb, oecd, eurostat, sdmx, worldbank, http_csv or http_json)");
}

Result<SourceConfig> ReadSource(const Ctx& c, const YAML::Node& n, size_t index) {
  std::string where = "sources[" + std::to_string(index) + "]";
  if (!n.IsMap()) return InvalidArgumentError(c.Where(n, where + " must be a mapping"));
  SourceConfig s;
  if (n["name"]) {
    ALMANAC_ASSIGN_OR_RETURN(s.name, Scalar(c, n["name"], where + ": name"));
  }
  if (s.name.empty()) return InvalidArgumentError(c.Where(n, where + ": every source needs a name"));
  where = "source " + QuoteForMessage(s.name);
  for (char ch : s.name)
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-'))
      return InvalidArgumentError(c.Where(n["name"], where + ": the name may use letters, digits, '_' and '-' only"));
  if (!n["type"]) return InvalidArgumentError(c.Where(n, where + ": no type"));
  ALMANAC_ASSIGN_OR_RETURN(std::string type, Scalar(c, n["type"], where + ": type"));
  std::string default_url, default_prefix = s.name;
  double rpm = 0;
  auto t = ParseType(type, &default_url, &default_prefix, &rpm);
  if (!t.ok()) return t.status().WithContext(c.Where(n["type"], where));
  s.type = *t;
  s.base_url = default_url;
  s.key_prefix = default_prefix;
  s.http.requests_per_minute = rpm;
  static const std::vector<std::string> kKnown = {
      "name", "type", "base_url", "url", "key_prefix", "api_key_env", "format", "series", "rules", "params",
      "start_period", "updated_after", "realtime_start", "realtime_end", "page_size", "country", "mapping",
      "schedule", "timezone", "rate_limit_per_minute", "timeout_s", "connect_timeout_s", "retries", "max_body_mb"};
  for (const auto& f : n) {
    const std::string name = f.first.as<std::string>("");
    const std::string w = where + ": " + name;
    const YAML::Node& v = f.second;
    if (name == "name" || name == "type") continue;
    if (name == "base_url" || name == "url") {
      ALMANAC_ASSIGN_OR_RETURN(s.base_url, Scalar(c, v, w));
      if (s.base_url.rfind("http://", 0) != 0 && s.base_url.rfind("https://", 0) != 0)
        return InvalidArgumentError(c.Where(v, w + " must start with http:// or https://"));
      while (!s.base_url.empty() && s.base_url.back() == '/' && name == "base_url") s.base_url.pop_back();
    } else if (name == "key_prefix") {
      ALMANAC_ASSIGN_OR_RETURN(s.key_prefix, Scalar(c, v, w));
    } else if (name == "api_key_env") {
      ALMANAC_ASSIGN_OR_RETURN(s.api_key_env, Scalar(c, v, w));
    } else if (name == "format") {
      ALMANAC_ASSIGN_OR_RETURN(s.format, Scalar(c, v, w));
      if (s.format != "csv" && s.format != "json")
        return InvalidArgumentError(c.Where(v, w + " must be csv or json"));
    } else if (name == "series") {
      if (!v.IsSequence()) return InvalidArgumentError(c.Where(v, w + " must be a list"));
      std::set<std::string> seen;
      for (size_t i = 0; i < v.size(); ++i) {
        ALMANAC_ASSIGN_OR_RETURN(SeriesSpec sp, ReadSeries(c, v[i], where + ": series[" + std::to_string(i) + "]"));
        if (!seen.insert(sp.id).second)
          return InvalidArgumentError(c.Where(v[i], where + ": series " + QuoteForMessage(sp.id) + " is listed twice"));
        s.series.push_back(std::move(sp));
      }
    } else if (name == "rules") {
      ALMANAC_RETURN_IF_ERROR(ReadRules(c, v, where, &s.rules));
    } else if (name == "params") {
      if (!v.IsMap()) return InvalidArgumentError(c.Where(v, w + " must be a mapping"));
      for (const auto& p : v) {
        ALMANAC_ASSIGN_OR_RETURN(std::string pv, Scalar(c, p.second, w));
        s.params[p.first.as<std::string>("")] = pv;
      }
    } else if (name == "start_period") {
      ALMANAC_ASSIGN_OR_RETURN(s.start_period, Scalar(c, v, w));
    } else if (name == "updated_after") {
      ALMANAC_ASSIGN_OR_RETURN(s.updated_after, Scalar(c, v, w));
    } else if (name == "realtime_start" || name == "realtime_end") {
      ALMANAC_ASSIGN_OR_RETURN(std::string d, Scalar(c, v, w));
      auto pd = Date::Parse(d);
      if (!pd.ok()) return pd.status().WithContext(c.Where(v, w));
      (name == "realtime_start" ? s.realtime_start : s.realtime_end) = d;
    } else if (name == "page_size") {
      ALMANAC_ASSIGN_OR_RETURN(s.page_size, Integer(c, v, w, 1, 100000));
    } else if (name == "country") {
      ALMANAC_ASSIGN_OR_RETURN(s.country, Scalar(c, v, w));
    } else if (name == "schedule") {
      ALMANAC_ASSIGN_OR_RETURN(s.schedule, Scalar(c, v, w));
    } else if (name == "timezone") {
      ALMANAC_ASSIGN_OR_RETURN(s.timezone, Scalar(c, v, w));
      if (auto z = TimeZone::Load(s.timezone); !z.ok()) return InvalidArgumentError(c.Where(v, w + ": " + z.status().message()));
    } else if (name == "rate_limit_per_minute") {
      ALMANAC_ASSIGN_OR_RETURN(double r, Number(c, v, w));
      if (r < 0) return InvalidArgumentError(c.Where(v, w + " must not be negative"));
      s.http.requests_per_minute = r;
    } else if (name == "timeout_s") {
      ALMANAC_ASSIGN_OR_RETURN(double r, Number(c, v, w));
      if (r <= 0 || r > 3600) return InvalidArgumentError(c.Where(v, w + " must be in (0, 3600]"));
      s.http.timeout_ms = static_cast<int>(r * 1000);
    } else if (name == "connect_timeout_s") {
      ALMANAC_ASSIGN_OR_RETURN(double r, Number(c, v, w));
      if (r <= 0 || r > 600) return InvalidArgumentError(c.Where(v, w + " must be in (0, 600]"));
      s.http.connect_timeout_ms = static_cast<int>(r * 1000);
    } else if (name == "retries") {
      ALMANAC_ASSIGN_OR_RETURN(int64_t r, Integer(c, v, w, 0, 20));
      s.http.max_retries = static_cast<int>(r);
    } else if (name == "max_body_mb") {
      ALMANAC_ASSIGN_OR_RETURN(int64_t r, Integer(c, v, w, 1, 16384));
      s.http.max_body_bytes = r << 20;
    } else if (name == "mapping") {
      if (!v.IsMap()) return InvalidArgumentError(c.Where(v, w + " must be a mapping"));
      static const std::vector<std::string> kMap = {"period", "value", "series", "realtime_start", "records",
                                                    "series_key", "frequency"};
      for (const auto& p : v) {
        const std::string k = p.first.as<std::string>("");
        ALMANAC_ASSIGN_OR_RETURN(std::string pv, Scalar(c, p.second, w + "." + k));
        if (k == "period") s.mapping.period = pv;
        else if (k == "value") s.mapping.value = pv;
        else if (k == "series") s.mapping.series = pv;
        else if (k == "realtime_start") s.mapping.realtime_start = pv;
        else if (k == "records") s.mapping.records = pv;
        else if (k == "series_key") s.mapping.series_key = pv;
        else if (k == "frequency") {
          auto fr = ParseFrequency(pv);
          if (!fr.ok()) return fr.status().WithContext(c.Where(p.second, w + ".frequency"));
          s.mapping.frequency = *fr;
        } else {
          return Unknown(c, p.first, w, k, kMap);
        }
      }
    } else {
      return Unknown(c, f.first, where, name, kKnown);
    }
  }
  if (s.base_url.empty()) return InvalidArgumentError(c.Where(n, where + ": needs base_url (or url)"));
  s.mapping.key_prefix = s.key_prefix;
  if (s.type == SourceType::kHttpCsv || s.type == SourceType::kHttpJson) {
    if (s.mapping.period.empty() || s.mapping.value.empty())
      return InvalidArgumentError(c.Where(n, where + ": a generic HTTP source needs mapping.period and mapping.value"));
    if (s.mapping.series.empty() && s.mapping.series_key.empty())
      return InvalidArgumentError(c.Where(n, where + ": the mapping needs 'series' (a column/pointer) or 'series_key'"));
    if (!s.mapping.series_key.empty()) ALMANAC_RETURN_IF_ERROR_CTX(ValidateSeriesKey(s.mapping.series_key), c.Where(n, where));
  } else if (s.series.empty()) {
    return InvalidArgumentError(c.Where(n, where + ": lists no series"));
  }
  return s;
}

Result<std::string> ReadFileToString(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot read source configuration " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::string_view SourceTypeName(SourceType t) {
  switch (t) {
    case SourceType::kFred: return "fred";
    case SourceType::kAlfred: return "alfred";
    case SourceType::kSdmx: return "sdmx";
    case SourceType::kWorldBank: return "worldbank";
    case SourceType::kHttpCsv: return "http_csv";
    case SourceType::kHttpJson: return "http_json";
  }
  return "?";
}

Result<LoadConfig> ParseLoadConfig(std::string_view yaml, const std::string& name) {
  Ctx c{name};
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError(name + ": line " + std::to_string(e.mark.line + 1) + ": invalid YAML: " + e.msg);
  }
  if (!root.IsMap() || !root["sources"] || !root["sources"].IsSequence())
    return InvalidArgumentError(name + ": expected a mapping with a 'sources' list");
  for (const auto& f : root) {
    const std::string k = f.first.as<std::string>("");
    if (k != "sources") return Unknown(c, f.first, "top level", k, {"sources"});
  }
  LoadConfig cfg;
  cfg.path = name;
  std::set<std::string> names;
  const YAML::Node& list = root["sources"];
  for (size_t i = 0; i < list.size(); ++i) {
    ALMANAC_ASSIGN_OR_RETURN(SourceConfig s, ReadSource(c, list[i], i));
    if (!names.insert(s.name).second)
      return InvalidArgumentError(c.Where(list[i], "source " + QuoteForMessage(s.name) + " is defined twice"));
    cfg.sources.push_back(std::move(s));
  }
  if (cfg.sources.empty()) return InvalidArgumentError(name + ": 'sources' is empty");
  return cfg;
}

Result<LoadConfig> ReadLoadConfig(const std::string& path) {
  ALMANAC_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  return ParseLoadConfig(text, path);
}

}  // namespace almanac::data
