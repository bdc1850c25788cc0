#include "store/snapshot_content.h"

#include <algorithm>

namespace almanac::store {

Result<Json> SnapshotContent(const std::vector<SnapshotSeries>& series) {
  std::vector<const SnapshotSeries*> sorted;
  for (const auto& s : series) sorted.push_back(&s);
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->key < b->key; });
  Json arr = Json::array();
  for (size_t i = 0; i < sorted.size(); ++i) {
    if (i > 0 && sorted[i]->key == sorted[i - 1]->key)
      return InvalidArgumentError("series " + sorted[i]->key + " appears twice in the snapshot");
    const TimeSeries& ts = sorted[i]->values;
    Json obs = Json::array();
    for (int64_t k = 0; k < ts.size(); ++k) {
      auto v = ts.at(k);
      obs.push_back(Json::array({ts.PeriodAt(k).ToString(), v ? Json(*v) : Json(nullptr)}));
    }
    arr.push_back({{"key", sorted[i]->key},
                   {"frequency", std::string(FrequencyCode(ts.frequency()))},
                   {"observations", std::move(obs)}});
  }
  return Json{{"format", "almanac-snapshot"}, {"format_version", 1}, {"series", std::move(arr)}};
}

Result<std::string> SnapshotCanonicalContent(const std::vector<SnapshotSeries>& series) {
  ALMANAC_ASSIGN_OR_RETURN(Json content, SnapshotContent(series));
  return CanonicalJson(content);
}

Result<std::string> SnapshotContentId(const std::vector<SnapshotSeries>& series) {
  ALMANAC_ASSIGN_OR_RETURN(std::string bytes, SnapshotCanonicalContent(series));
  return Sha256Hex(bytes);
}

Result<std::vector<SnapshotSeries>> ParseSnapshotCanonicalContent(std::string_view bytes) {
  auto j = ParseJson(bytes);
  if (!j.ok()) return DataLossError("snapshot content is not valid JSON");
  return ParseSnapshotContent(*j);
}

Result<std::vector<SnapshotSeries>> ParseSnapshotContent(const Json& content) {
  try {
    if (content.at("format").get<std::string>() != "almanac-snapshot" || content.at("format_version").get<int>() != 1)
      return DataLossError("snapshot content has an unknown format");
    std::vector<SnapshotSeries> out;
    for (const auto& s : content.at("series")) {
      ALMANAC_ASSIGN_OR_RETURN(Frequency f, ParseFrequency(s.at("frequency").get<std::string>()));
      SnapshotSeries ss{s.at("key").get<std::string>(), TimeSeries()};
      for (const auto& o : s.at("observations")) {
        ALMANAC_ASSIGN_OR_RETURN(Period p, Period::Parse(o.at(0).get<std::string>(), f));
        std::optional<double> v;
        if (!o.at(1).is_null()) v = o.at(1).get<double>();
        ALMANAC_RETURN_IF_ERROR(ss.values.Set(p, v));
      }
      if (ss.values.empty()) ss.values = TimeSeries(Period(f, 0));
      out.push_back(std::move(ss));
    }
    return out;
  } catch (const Json::exception& e) {
    return DataLossError(std::string("malformed snapshot content: ") + e.what());
  }
}

}  // namespace almanac::store

namespace almanac::store {

Result<ResolvedSnapshot> ResolveSnapshot(SeriesStore& store, const SnapshotRequest& request) {
  ALMANAC_RETURN_IF_ERROR(ValidateName(request.name, "snapshot name"));
  std::vector<std::string> keys = request.keys;
  if (keys.empty()) {
    ALMANAC_ASSIGN_OR_RETURN(auto all, store.ListSeries());
    for (const auto& s : all) keys.push_back(s.key);
  }
  if (keys.empty()) return InvalidArgumentError("snapshot " + request.name + " would be empty: the store has no series");
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  std::vector<SnapshotSeries> series;
  ResolvedSnapshot out;
  for (const auto& k : keys) {
    ALMANAC_RETURN_IF_ERROR(ValidateSeriesKey(k));
    ALMANAC_ASSIGN_OR_RETURN(TimeSeries ts, store.ReadAsOf(k, request.as_of));
    out.num_observations += ts.size() - ts.CountMissing();
    series.push_back({k, std::move(ts)});
  }
  ALMANAC_ASSIGN_OR_RETURN(out.content, SnapshotCanonicalContent(series));
  out.id = Sha256Hex(out.content);
  out.num_series = static_cast<int64_t>(series.size());
  return out;
}

Result<Snapshot> DecodeSnapshot(SnapshotInfo info, std::string_view content) {
  if (Sha256Hex(content) != info.id)
    return DataLossError("snapshot " + info.id + " is corrupt: its stored content no longer hashes to its id");
  ALMANAC_ASSIGN_OR_RETURN(Json j, ParseJson(content));
  ALMANAC_ASSIGN_OR_RETURN(auto series, ParseSnapshotContent(j));
  return Snapshot{std::move(info), std::move(series)};
}

}  // namespace almanac::store
