// The JSON objects of series shared by the HTTP API and the CLI (issue 19): one shape, columnar.
#include "almanac/store.h"

namespace almanac::store {

Json SeriesInfoJson(const SeriesInfo& s) {
  return {{"key", s.key},   {"frequency", std::string(FrequencyCode(s.frequency))}, {"title", s.title},
          {"unit", s.unit}, {"seasonal_adjustment", s.seasonal_adjustment},         {"source", s.source}};
}

Json SeriesListJson(const std::vector<SeriesInfo>& series) {
  Json a = Json::array();
  for (const auto& s : series) a.push_back(SeriesInfoJson(s));
  return {{"series", std::move(a)}};
}

Json SeriesJson(const SeriesInfo& info, const TimeSeries& values, std::optional<Date> as_of) {
  Json periods = Json::array(), vals = Json::array();
  for (int64_t i = 0; i < values.size(); ++i) {
    periods.push_back(values.PeriodAt(i).ToString());
    auto v = values.at(i);
    vals.push_back(v ? Json(*v) : Json(nullptr));
  }
  Json j = SeriesInfoJson(info);
  j["as_of"] = as_of ? Json(as_of->ToString()) : Json(nullptr);
  j["periods"] = std::move(periods);
  j["values"] = std::move(vals);
  return j;
}

Json VintagesJson(std::string_view key, const std::vector<VintageInfo>& vintages) {
  Json a = Json::array();
  for (const auto& v : vintages)
    a.push_back({{"id", v.id},
                 {"realtime_start", v.realtime_start.ToString()},
                 {"loaded_at", v.loaded_at == 0 ? Json(nullptr) : Json(FormatTimestamp(v.loaded_at))},
                 {"loader", v.loader},
                 {"source", v.source},
                 {"source_sha256", v.source_hash},
                 {"kind", v.kind},
                 {"observations", v.num_observations}});
  return {{"key", std::string(key)}, {"vintages", std::move(a)}};
}

}  // namespace almanac::store
