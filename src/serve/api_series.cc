// The series endpoints: GET /v1/series, /v1/series/{key} (?as_of=),
// /v1/series/{key}/vintages in the JSON shape of `almanac --format json series ...`; and for
// the clients (issue 23) /v1/series/{key}/history?period= (one period in every vintage),
// /v1/series/{key}/vintage-matrix (periods x vintages, ALFRED style) and /v1/snapshots/{id}
// (a stored snapshot's content). All columnar, as every answer with values over periods.
#include <algorithm>
#include <cmath>
#include <optional>

#include "serve/api_common.h"
#include "serve/json_out.h"

namespace almanac::serve {
namespace {

// Vintage matrix bounds: the default and largest ?limit (vintage dates), and the cells
// (periods x vintages) one answer may hold: 2,000,000 cells are about 20 MB of JSON.
constexpr int64_t kMatrixDefaultVintages = 100;
constexpr int64_t kMatrixMaxVintages = 1000;
constexpr int64_t kMatrixMaxCells = 2000000;

bool IsHexId(std::string_view s) {
  if (s.size() < 6 || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace

Result<HttpResponse> HttpApi::SeriesList(ApiCall& call) const {
  store::Store& st = *ctx_.store;
  ALMANAC_ASSIGN_OR_RETURN(auto list, st.series().ListSeries());
  return api::JsonResponse(store::SeriesListJson(list), call.req.request_id);
}

Result<HttpResponse> HttpApi::Series(ApiCall& call) const {
  const std::vector<std::string>& params = call.params;
  store::Store& st = *ctx_.store;
  ALMANAC_RETURN_IF_ERROR(ValidateSeriesKey(params[0]));
  std::optional<Date> as_of;
  if (call.query.count("as_of")) {
    ALMANAC_ASSIGN_OR_RETURN(as_of, api::ParseAsOf(call.query.at("as_of"), *ctx_.clock));
  }
  ALMANAC_ASSIGN_OR_RETURN(store::SeriesInfo info, st.series().GetSeries(params[0]));
  ALMANAC_ASSIGN_OR_RETURN(TimeSeries ts, st.series().ReadAsOf(params[0], as_of));
  return api::JsonResponse(store::SeriesJson(info, ts, as_of), call.req.request_id);
}

Result<HttpResponse> HttpApi::SeriesVintages(ApiCall& call) const {
  const std::vector<std::string>& params = call.params;
  store::Store& st = *ctx_.store;
  ALMANAC_RETURN_IF_ERROR(ValidateSeriesKey(params[0]));
  ALMANAC_ASSIGN_OR_RETURN(auto vs, st.series().ListVintages(params[0]));
  return api::JsonResponse(store::VintagesJson(params[0], vs), call.req.request_id);
}

// {key, frequency, period, vintages: [id...], realtime_start: [...], loaded_at: [...],
//  values: [...]}: every value recorded for the period, oldest first (the store's
// RevisionHistory, as `almanac series history KEY PERIOD`). A vintage that did not change
// the period has no entry: the value known on a date is the last entry on or before it.
Result<HttpResponse> HttpApi::SeriesHistory(ApiCall& call) const {
  const std::string& key = call.params[0];
  ALMANAC_RETURN_IF_ERROR(ValidateSeriesKey(key));
  auto it = call.query.find("period");
  if (it == call.query.end() || it->second.empty())
    return InvalidArgumentError("missing query parameter 'period' (e.g. ?period=2009Q3)");
  ALMANAC_ASSIGN_OR_RETURN(store::SeriesInfo info, ctx_.store->series().GetSeries(key));
  auto period = Period::Parse(it->second, info.frequency);
  if (!period.ok())
    return InvalidArgumentError("period " + QuoteForMessage(it->second, 40) + " is not a period of series " + key +
                                " (frequency " + std::string(FrequencyCode(info.frequency)) + "): " +
                                period.status().message());
  ALMANAC_ASSIGN_OR_RETURN(auto hist, ctx_.store->series().RevisionHistory(key, *period));
  Json ids = Json::array(), starts = Json::array(), loaded = Json::array(), values = Json::array();
  for (const auto& e : hist) {
    ids.push_back(e.vintage_id);
    starts.push_back(e.realtime_start.ToString());
    loaded.push_back(api::TimestampJson(e.loaded_at));
    values.push_back(e.value ? Json(*e.value) : Json(nullptr));
  }
  Json j = {{"key", key},
            {"frequency", std::string(FrequencyCode(info.frequency))},
            {"period", period->ToString()},
            {"vintages", std::move(ids)},
            {"realtime_start", std::move(starts)},
            {"loaded_at", std::move(loaded)},
            {"values", std::move(values)}};
  return api::JsonResponse(j, call.req.request_id);
}

// {key, frequency, periods: [...], vintages: ["YYYY-MM-DD", ...], values: [[...], ...],
//  vintages_total, truncated}: column j is the series as known on vintages[j] (exactly
// GET /v1/series/{key}?as_of=vintages[j]), values[j][i] the value of periods[i] in it (null:
// not known yet, or explicitly missing). The columns are the distinct realtime_start dates
// of the series' vintages, oldest first, the latest `limit` of them.
Result<HttpResponse> HttpApi::SeriesVintageMatrix(ApiCall& call) const {
  const std::string& key = call.params[0];
  ALMANAC_RETURN_IF_ERROR(ValidateSeriesKey(key));
  ALMANAC_ASSIGN_OR_RETURN(int64_t limit,
                           api::IntParam(call.query, "limit", kMatrixDefaultVintages, 1, kMatrixMaxVintages));
  store::SeriesStore& series = ctx_.store->series();
  ALMANAC_ASSIGN_OR_RETURN(store::SeriesInfo info, series.GetSeries(key));
  ALMANAC_ASSIGN_OR_RETURN(auto vs, series.ListVintages(key));
  std::vector<Date> dates;  // ListVintages is ordered by realtime_start
  for (const auto& v : vs)
    if (dates.empty() || dates.back() != v.realtime_start) dates.push_back(v.realtime_start);
  const int64_t total = static_cast<int64_t>(dates.size());
  if (total > limit) dates.erase(dates.begin(), dates.end() - limit);
  std::vector<TimeSeries> columns;
  columns.reserve(dates.size());
  std::optional<int64_t> lo, hi;  // ordinals of the periods' span
  for (const Date& d : dates) {
    ALMANAC_ASSIGN_OR_RETURN(TimeSeries ts, series.ReadAsOf(key, d));
    if (!ts.empty()) {
      lo = std::min(lo.value_or(ts.start().ordinal()), ts.start().ordinal());
      hi = std::max(hi.value_or(ts.end().ordinal()), ts.end().ordinal());
      const int64_t cells = (*hi - *lo + 1) * static_cast<int64_t>(dates.size());
      if (cells > kMatrixMaxCells)
        return InvalidArgumentError("the vintage matrix of " + key + " would hold " + std::to_string(*hi - *lo + 1) +
                                    " periods x " + std::to_string(dates.size()) + " vintages, over the limit of " +
                                    std::to_string(kMatrixMaxCells) + " cells: ask for fewer vintages with ?limit=");
    }
    columns.push_back(std::move(ts));
  }
  std::string out;
  const int64_t n = lo ? *hi - *lo + 1 : 0;
  out.reserve(static_cast<size_t>(64 + n * 10 + n * static_cast<int64_t>(columns.size()) * 12));
  out += '{';
  json_out::Key(out, "key");
  json_out::String(out, key);
  out += ',';
  json_out::Key(out, "frequency");
  json_out::String(out, FrequencyCode(info.frequency));
  out += ',';
  json_out::Key(out, "periods");
  out += '[';
  for (int64_t i = 0; i < n; ++i) {
    if (i) out += ',';
    json_out::String(out, Period(info.frequency, *lo + i).ToString());
  }
  out += "],";
  json_out::Key(out, "vintages");
  out += '[';
  for (size_t j = 0; j < dates.size(); ++j) {
    if (j) out += ',';
    json_out::String(out, dates[j].ToString());
  }
  out += "],";
  json_out::Key(out, "values");
  out += '[';
  for (size_t j = 0; j < columns.size(); ++j) {
    if (j) out += ',';
    out += '[';
    const TimeSeries& c = columns[j];
    const std::span<const double> v = c.values();
    const int64_t first = c.empty() ? 0 : c.start().ordinal() - *lo;
    for (int64_t i = 0; i < n; ++i) {
      if (i) out += ',';
      const int64_t k = i - first;
      if (c.empty() || k < 0 || k >= c.size())
        out += "null";
      else
        json_out::NumberOrNull(out, v[static_cast<size_t>(k)]);
    }
    out += ']';
  }
  out += "],";
  json_out::Key(out, "vintages_total");
  json_out::Int(out, total);
  out += ',';
  json_out::Key(out, "truncated");
  out += total > static_cast<int64_t>(dates.size()) ? "true" : "false";
  out += ',';
  return api::RenderedResponse(out, call.req.request_id);
}

// {id, name, as_of, created_at, created_by, series: [{key, frequency, periods, values}]}:
// the data a snapshot stored, by its content id (64 hex digits) or a unique prefix of at
// least 6 (as `almanac snapshot export`; names are not looked up here).
Result<HttpResponse> HttpApi::SnapshotContent(ApiCall& call) const {
  const std::string& id = call.params[0];
  if (!IsHexId(id))
    return InvalidArgumentError("snapshot id " + QuoteForMessage(id, 80) +
                                " is not a content id (6 to 64 lowercase hex digits: the SHA-256 of the snapshot's "
                                "data, or a unique prefix of it)");
  ALMANAC_ASSIGN_OR_RETURN(store::Snapshot snap, ctx_.store->series().GetSnapshot(id));
  // GetSnapshot also takes names: a name made of hex digits is not this id.
  if (snap.info.id.compare(0, id.size(), id) != 0) return NotFoundError("no snapshot with id " + id);
  std::string out = "{";
  json_out::Key(out, "id");
  json_out::String(out, snap.info.id);
  out += ',';
  json_out::Key(out, "name");
  json_out::String(out, snap.info.name);
  out += ',';
  json_out::Key(out, "as_of");
  if (snap.info.as_of)
    json_out::String(out, snap.info.as_of->ToString());
  else
    out += "null";
  out += ',';
  json_out::Key(out, "created_at");
  if (snap.info.created_at != 0)
    json_out::String(out, FormatTimestamp(snap.info.created_at));
  else
    out += "null";
  out += ',';
  json_out::Key(out, "created_by");
  json_out::String(out, snap.info.created_by);
  out += ',';
  json_out::Key(out, "series");
  out += '[';
  for (size_t s = 0; s < snap.series.size(); ++s) {
    const TimeSeries& ts = snap.series[s].values;
    if (s) out += ',';
    out += '{';
    json_out::Key(out, "key");
    json_out::String(out, snap.series[s].key);
    out += ',';
    json_out::Key(out, "frequency");
    json_out::String(out, FrequencyCode(ts.frequency()));
    out += ',';
    json_out::Key(out, "periods");
    out += '[';
    for (int64_t i = 0; i < ts.size(); ++i) {
      if (i) out += ',';
      json_out::String(out, ts.PeriodAt(i).ToString());
    }
    out += "],";
    json_out::Key(out, "values");
    out += '[';
    for (int64_t i = 0; i < ts.size(); ++i) {
      if (i) out += ',';
      json_out::NumberOrNull(out, ts.values()[static_cast<size_t>(i)]);
    }
    out += "]}";
  }
  out += "],";
  return api::RenderedResponse(out, call.req.request_id);
}

}  // namespace almanac::serve
