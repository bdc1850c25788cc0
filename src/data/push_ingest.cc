// NDJSON push ingest: records to batches, each batch one load.
#include <cmath>
#include <map>

#include "almanac/core/json.h"
#include "almanac/data.h"

namespace almanac::data {

Result<NdjsonRecord> ParseNdjsonRecord(std::string_view line) {
  auto parsed = ParseJson(line);
  if (!parsed.ok()) return InvalidArgumentError("not a JSON object (" + parsed.status().message() + ")");
  const Json& j = *parsed;
  if (!j.is_object()) return InvalidArgumentError("expected a JSON object with series, period and value");
  NdjsonRecord r;
  auto text = [&](const char* f, bool required, std::string* out) -> Status {
    auto it = j.find(f);
    if (it == j.end() || it->is_null()) {
      if (required) return InvalidArgumentError(std::string("no \"") + f + "\" field");
      return Status::Ok();
    }
    if (!it->is_string()) return InvalidArgumentError(std::string("\"") + f + "\" must be a string");
    *out = it->get<std::string>();
    return Status::Ok();
  };
  ALMANAC_RETURN_IF_ERROR(text("series", true, &r.key));
  ALMANAC_RETURN_IF_ERROR(ValidateSeriesKey(r.key));
  ALMANAC_RETURN_IF_ERROR(text("period", true, &r.period));
  std::string f, rt;
  ALMANAC_RETURN_IF_ERROR(text("frequency", false, &f));
  if (!f.empty()) {
    ALMANAC_ASSIGN_OR_RETURN(Frequency fr, ParseFrequency(f));
    r.frequency = fr;
  }
  ALMANAC_RETURN_IF_ERROR(text("realtime_start", false, &rt));
  if (!rt.empty()) {
    auto d = Date::Parse(rt);
    if (!d.ok()) return d.status().WithContext("realtime_start");
    r.realtime_start = *d;
  }
  auto v = j.find("value");
  if (v == j.end()) return InvalidArgumentError("no \"value\" field (use null for a missing value)");
  if (v->is_number()) {
    r.value = v->get<double>();
  } else if (v->is_string()) {
    const std::string s = v->get<std::string>();
    try {
      size_t used = 0;
      double d = std::stod(s, &used);
      if (used != s.size() || !std::isfinite(d)) throw std::invalid_argument(s);
      r.value = d;
    } catch (const std::exception&) {
      return InvalidArgumentError("\"value\" " + QuoteForMessage(s) + " is not a number");
    }
  } else if (!v->is_null()) {
    return InvalidArgumentError("\"value\" must be a number, a numeric string or null");
  }
  for (const auto& [k, _] : j.items())
    if (k != "series" && k != "period" && k != "value" && k != "realtime_start" && k != "frequency")
      return InvalidArgumentError("unknown field " + QuoteForMessage(k));
  return r;
}

Result<store::LoadReport> IngestBatch(const std::vector<NdjsonRecord>& batch, const std::string& loader,
                                      const std::string& source, store::SeriesStore& store) {
  if (batch.empty()) return InvalidArgumentError("empty batch");
  // Resolve every period before the load starts, so a bad record leaves nothing behind.
  std::map<std::string, std::optional<Frequency>> stored;
  std::vector<Period> periods;
  periods.reserve(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    const auto& r = batch[i];
    const std::string where = "record " + std::to_string(i + 1) + " (series " + r.key + ")";
    auto it = stored.find(r.key);
    if (it == stored.end()) {
      auto info = store.GetSeries(r.key);
      std::optional<Frequency> f;
      if (info.ok()) f = info->frequency;
      it = stored.emplace(r.key, f).first;
    }
    std::optional<Frequency> f = it->second ? it->second : r.frequency;
    if (it->second && r.frequency && *r.frequency != *it->second)
      return InvalidArgumentError(where + ": frequency " + std::string(FrequencyCode(*r.frequency)) +
                                  " differs from the stored series' " + std::string(FrequencyCode(*it->second)));
    auto p = f ? Period::Parse(r.period, *f) : Period::Parse(r.period);
    if (!p.ok()) return p.status().WithContext(where);
    if (!it->second) it->second = p->frequency();  // later records of a new series agree with the first
    periods.push_back(*p);
  }
  store::LoadOptions lo;
  lo.loader = loader;
  lo.source = source;
  lo.audit_details = Json{{"connector", "ndjson"}, {"records", batch.size()}};
  ALMANAC_ASSIGN_OR_RETURN(auto session, store.BeginLoad(lo));
  for (size_t i = 0; i < batch.size(); ++i) {
    Status s = session->Add(batch[i].key, periods[i], batch[i].value, batch[i].realtime_start);
    if (!s.ok()) return s.WithContext("record " + std::to_string(i + 1) + " (series " + batch[i].key + ")");
  }
  return session->Commit();
}

}  // namespace almanac::data
