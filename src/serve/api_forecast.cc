// POST /v1/forecast (a served version, or its spec refitted on the data known as of a date)
// and POST /v1/models/{name}/predict (refitted on history sent by the caller).
#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <optional>

#include "almanac/data/transforms.h"

#include "serve/api_common.h"
#include "serve/json_out.h"

namespace almanac::serve {
namespace {

using api::Fields;
using api::ParseAsOf;
using api::ParseHorizon;
using api::ParseLevels;
using api::ParseVersionRef;
using api::RenderedResponse;

constexpr size_t kMaxHistory = 100000;

void AppendDoubles(std::string& out, const std::vector<double>& v) {
  out += '[';
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += ',';
    json_out::Number(out, v[i]);
  }
  out += ']';
}

// The forecast response up to (not including) the request id: `{...,` so the caller appends
// `"request_id":"..."}`.
Result<std::string> RenderForecast(const ForecastParts& p) {
  const LoadedVersion& lv = p.version;
  const std::string& label = p.label;
  const int horizon = p.horizon;
  const models::Forecast& fc = p.forecast;
  std::string out;
  out.reserve(256 + static_cast<size_t>(horizon) * (24 + fc.intervals.size() * 48));
  out += '{';
  json_out::Key(out, "model");
  json_out::String(out, lv.model);
  out += ",\"version\":";
  json_out::Int(out, lv.version);
  out += ",\"alias\":";
  if (label == "version")
    out += "null";
  else
    json_out::String(out, label);
  out += ",\"model_type\":";
  json_out::String(out, lv.manifest.model_type);
  out += ",\"method\":";
  json_out::String(out, p.method);
  out += ",\"frequency\":";
  json_out::String(out, FrequencyCode(lv.frequency));
  out += ",\"horizon\":";
  json_out::Int(out, horizon);
  out += ",\"periods\":[";
  for (int i = 0; i < horizon; ++i) {
    if (i) out += ',';
    json_out::String(out, (p.first + i).ToString());
  }
  out += "],\"mean\":";
  AppendDoubles(out, fc.mean);
  out += ",\"intervals\":[";
  for (size_t i = 0; i < fc.intervals.size(); ++i) {
    if (i) out += ',';
    out += "{\"level\":";
    json_out::Number(out, fc.intervals[i].level);
    out += ",\"lower\":";
    AppendDoubles(out, fc.intervals[i].lower);
    out += ",\"upper\":";
    AppendDoubles(out, fc.intervals[i].upper);
    out += '}';
  }
  out += "],\"data\":";
  out += CompactJson(p.data);
  out += ",\"package_sha256\":";
  json_out::String(out, lv.package_sha256);
  out += ",\"notes\":[";
  for (size_t i = 0; i < fc.notes.size(); ++i) {
    if (i) out += ',';
    json_out::String(out, fc.notes[i]);
  }
  out += "],";
  return out;
}

std::string LevelsKey(const std::vector<double>& levels) {
  std::string s;
  for (double l : levels) {
    json_out::Number(s, l);
    s += ',';
  }
  return s;
}

// Refits the version's model spec on `target` and forecasts from its end.
Result<models::Forecast> Refit(const models::ForecasterRegistry& registry, const LoadedVersion& lv,
                               const TimeSeries& target, int horizon, const std::vector<double>& levels,
                               std::string* method) {
  models::ModelSpec spec;
  if (!lv.manifest.model_spec.is_object() || !lv.manifest.model_spec.contains("type"))
    return FailedPreconditionError("the package of " + lv.model + "@" + std::to_string(lv.version) +
                                   " records no model spec");
  spec.type = lv.manifest.model_spec.value("type", "");
  spec.params = lv.manifest.model_spec.value("params", Json::object());
  ALMANAC_ASSIGN_OR_RETURN(auto model, registry.Create(spec));
  Status fit = model->Fit(models::ToFitInput(target));
  if (!fit.ok()) return fit;
  *method = model->Describe().method;
  return model->Predict(horizon, levels);
}

// Every value of the forecast is finite (JSON has no NaN); InternalError otherwise.
Status CheckFinite(const LoadedVersion& lv, int horizon, const models::Forecast& fc) {
  auto finite = [](const std::vector<double>& v) {
    return std::all_of(v.begin(), v.end(), [](double x) { return std::isfinite(x); });
  };
  if (static_cast<int>(fc.mean.size()) != horizon || !finite(fc.mean))
    return InternalError("model " + lv.model + "@" + std::to_string(lv.version) + " produced a non-finite forecast");
  for (const auto& pi : fc.intervals)
    if (static_cast<int>(pi.lower.size()) != horizon || static_cast<int>(pi.upper.size()) != horizon ||
        !finite(pi.lower) || !finite(pi.upper))
      return InternalError("model " + lv.model + "@" + std::to_string(lv.version) +
                           " produced non-finite interval bounds");
  return Status::Ok();
}

// Checks the forecast and renders it.
Result<std::string> CheckAndRender(const ForecastRenderer& render, const ForecastParts& parts) {
  ALMANAC_RETURN_IF_ERROR(CheckFinite(parts.version, parts.horizon, parts.forecast));
  return render(parts);
}

// The forecast of `lv`'s model spec refitted on its target as known on `as_of` (the recorded
// transforms applied to the input series read as of then; never data from later), rendered
// by `render`. FailedPrecondition when that cannot be done, saying why.
Result<std::string> RenderRefitAsOf(const ApiContext& ctx, const LoadedVersion& lv, const std::string& label,
                                    int horizon, const std::vector<double>& levels, Date as_of,
                                    const ForecastRenderer& render) {
  const std::string id = lv.model + "@" + std::to_string(lv.version);
  if (lv.input_series.empty())
    return FailedPreconditionError("cannot forecast " + id + " as of a date: its training snapshot " +
                                   lv.manifest.snapshot_id.substr(0, 12) +
                                   " is not in this store, so its input series are unknown");
  // data's one "target as of a date": the input series read as of then, the package's
  // recorded transforms applied. A transform that fails on the data of then is a
  // precondition of the request (the same version refits on other dates).
  data::TargetRecipe recipe{lv.manifest.target, lv.manifest.transforms, lv.input_series};
  auto then = data::TargetAsOf(ctx.store->series(), recipe, as_of);
  if (!then.ok()) {
    if (then.status().code() == StatusCode::kInvalidArgument)
      return FailedPreconditionError("as_of " + as_of.ToString() + ": " + then.status().message());
    return then.status();
  }
  // The data the answer is computed from, named as every answer names it: the content id
  // of the input series as read (what `almanac snapshot create --series ... --as-of` stores
  // under that id; on the training snapshot's date, the version's own snapshot_id).
  std::vector<store::SnapshotSeries> as_read;
  for (const auto& [key_name, ts] : then->inputs) as_read.push_back({key_name, ts});
  auto snapshot_id = store::SnapshotContentId(as_read);
  if (!snapshot_id.ok()) return snapshot_id.status().WithContext("as_of " + as_of.ToString());
  const TimeSeries& target = then->target;
  if (target.size() < 4)
    return FailedPreconditionError("as of " + as_of.ToString() + ", the target " + lv.manifest.target + " had " +
                                   std::to_string(target.size()) + " observations; at least 4 are needed to refit");
  std::string method;
  auto fc = Refit(*ctx.models, lv, target, horizon, levels, &method);
  if (!fc.ok())
    return FailedPreconditionError("refitting " + id + " as of " + as_of.ToString() +
                                   " failed: " + fc.status().message());
  std::vector<store::SnapshotSeries> content{{lv.manifest.target, target}};
  auto target_id = store::SnapshotContentId(content);
  Json data = {{"snapshot_id", *snapshot_id},
               {"as_of", as_of.ToString()},
               {"target", lv.manifest.target},
               {"history_end", target.end().ToString()},
               {"observations", target.size()},
               {"target_sha256", target_id.ok() ? Json(*target_id) : Json(nullptr)},
               {"refit", true}};
  return CheckAndRender(render, {lv, label, horizon, target.end() + 1, *fc, method, data});
}

}  // namespace

Result<HttpResponse> HttpApi::Forecast(ApiCall& call) const {
  ALMANAC_ASSIGN_OR_RETURN(
      Fields f, Fields::Parse(call.req.body, {"model", "version", "alias", "horizon", "levels", "as_of"}, false));
  ALMANAC_ASSIGN_OR_RETURN(std::string model, f.String("model"));
  ALMANAC_ASSIGN_OR_RETURN(VersionRef ref, ParseVersionRef(f));
  ALMANAC_ASSIGN_OR_RETURN(int horizon, ParseHorizon(f));
  std::optional<Date> as_of;
  if (f.Has("as_of")) {
    ALMANAC_ASSIGN_OR_RETURN(std::string text, f.String("as_of"));
    ALMANAC_ASSIGN_OR_RETURN(as_of, ParseAsOf(text, *ctx_.clock));
  }
  ALMANAC_ASSIGN_OR_RETURN(ServableHandle handle, ctx_.manager->Get(model, ref));
  ALMANAC_ASSIGN_OR_RETURN(std::vector<double> levels, ParseLevels(f, handle.version->manifest.levels));
  static const ForecastRenderer kRender = RenderForecast;
  bool cache_hit = false;
  ALMANAC_ASSIGN_OR_RETURN(auto rendered, ServeForecast(call, handle, horizon, levels, as_of, "", kRender, &cache_hit));
  if (rendered == nullptr) return HttpResponse();  // call.needs_worker
  HttpResponse res = RenderedResponse(*rendered, call.req.request_id);
  res.cache_hit = cache_hit;
  return res;
}

Result<std::shared_ptr<const std::string>> HttpApi::ServeForecast(ApiCall& call, const ServableHandle& handle,
                                                                  int horizon, const std::vector<double>& levels,
                                                                  const std::optional<Date>& as_of, std::string_view tag,
                                                                  const ForecastRenderer& render,
                                                                  bool* cache_hit) const {
  *cache_hit = false;
  const LoadedVersion& lv = *handle.version;
  if (as_of && !call.may_block) {
    call.needs_worker = true;  // refits on data read from the store
    return std::shared_ptr<const std::string>();
  }

  // Everything the answer depends on: the version (by content), the label it was served under,
  // horizon, levels and as_of (whose data changes clear the cache), and the rendering.
  std::string key;
  const uint64_t generation = ctx_.cache->generation();
  if (ctx_.cache->enabled()) {
    key.reserve(lv.model.size() + 128);
    key += lv.model;
    key += '\x1f';
    json_out::Int(key, lv.version);
    key += '\x1f';
    key += lv.package_sha256;
    key += '\x1f';
    key += handle.label;
    key += '\x1f';
    json_out::Int(key, horizon);
    key += '\x1f';
    key += LevelsKey(levels);
    key += '\x1f';
    if (as_of) key += as_of->ToString();
    if (!tag.empty()) {
      key += '\x1f';
      key += tag;
    }
    if (auto hit = ctx_.cache->Get(key)) {
      if (ctx_.cache_hits) ctx_.cache_hits->Inc();
      *cache_hit = true;
      return hit;
    }
    if (ctx_.cache_misses) ctx_.cache_misses->Inc();
  }

  std::string rendered;
  if (!as_of) {
    // The served model as fitted, forecasting from the end of its training data.
    ALMANAC_ASSIGN_OR_RETURN(models::Forecast fc, lv.forecaster->Predict(horizon, levels));
    Json data = {{"snapshot_id", lv.manifest.snapshot_id},
                 {"as_of", lv.snapshot_as_of ? Json(lv.snapshot_as_of->ToString()) : Json(nullptr)},
                 {"target", lv.manifest.target},
                 {"history_end", lv.manifest.history_end},
                 {"refit", false}};
    ALMANAC_ASSIGN_OR_RETURN(rendered,
                             CheckAndRender(render, {lv, handle.label, horizon, lv.history_end + 1, fc, lv.method, data}));
    if (ctx_.record_forecast && handle.label == "production") ctx_.record_forecast(lv, fc);
  } else {
    ALMANAC_ASSIGN_OR_RETURN(rendered, RenderRefitAsOf(ctx_, lv, handle.label, horizon, levels, *as_of, render));
  }
  auto shared = std::make_shared<const std::string>(std::move(rendered));
  if (ctx_.cache->enabled()) ctx_.cache->Put(key, shared, generation);
  return std::shared_ptr<const std::string>(std::move(shared));
}

Result<HttpResponse> HttpApi::Predict(ApiCall& call) const {
  const std::string& model = call.params[0];
  const HttpRequest& req = call.req;
  ALMANAC_RETURN_IF_ERROR(ValidateName(model, "model name"));
  ALMANAC_ASSIGN_OR_RETURN(Fields f,
                           Fields::Parse(req.body, {"version", "alias", "horizon", "levels", "history"}, false));
  ALMANAC_ASSIGN_OR_RETURN(VersionRef ref, ParseVersionRef(f));
  ALMANAC_ASSIGN_OR_RETURN(int horizon, ParseHorizon(f));
  ALMANAC_ASSIGN_OR_RETURN(ServableHandle handle, ctx_.manager->Get(model, ref));
  const LoadedVersion& lv = *handle.version;
  ALMANAC_ASSIGN_OR_RETURN(std::vector<double> levels, ParseLevels(f, lv.manifest.levels));
  if (!f.Has("history"))
    return InvalidArgumentError(
        "missing field 'history' ({\"start\": \"2001Q1\", \"values\": [...]}, in the model's frequency " +
        std::string(FrequencyCode(lv.frequency)) + ")");
  const Json& h = f.Raw("history");
  if (!h.is_object()) return InvalidArgumentError("field 'history' must be an object {\"start\", \"values\"}");
  for (auto it = h.begin(); it != h.end(); ++it)
    if (it.key() != "start" && it.key() != "values")
      return InvalidArgumentError("unknown field " + QuoteForMessage("history." + it.key()) +
                                  " (fields: start, values)");
  if (!h.contains("start") || !h["start"].is_string())
    return InvalidArgumentError("history.start must be a period, e.g. \"2001Q1\"");
  auto start = Period::Parse(h["start"].get<std::string>(), lv.frequency);
  if (!start.ok()) return InvalidArgumentError("history.start: " + start.status().message());
  if (!h.contains("values") || !h["values"].is_array())
    return InvalidArgumentError("history.values must be an array of numbers");
  const Json& vals = h["values"];
  if (vals.size() > kMaxHistory)
    return InvalidArgumentError("history.values holds more than " + std::to_string(kMaxHistory) + " values");
  std::vector<double> values;
  values.reserve(vals.size());
  for (size_t i = 0; i < vals.size(); ++i) {
    if (vals[i].is_null()) {
      values.push_back(TimeSeries::kMissing);
    } else if (vals[i].is_number()) {
      const double x = vals[i].get<double>();
      if (!std::isfinite(x)) return InvalidArgumentError("history.values[" + std::to_string(i) + "] is not finite");
      values.push_back(x);
    } else {
      return InvalidArgumentError("history.values[" + std::to_string(i) + "] must be a number or null");
    }
  }
  ALMANAC_ASSIGN_OR_RETURN(TimeSeries history, TimeSeries::FromValues(*start, std::move(values)));
  const TimeSeries target = history.Trimmed();
  if (target.size() < 2) return InvalidArgumentError("history holds fewer than 2 observations");

  std::vector<store::SnapshotSeries> content{{"history", target}};
  ALMANAC_ASSIGN_OR_RETURN(std::string history_id, store::SnapshotContentId(content));
  std::string key = "predict\x1f" + lv.model + '\x1f' + std::to_string(lv.version) + '\x1f' + lv.package_sha256 +
                    '\x1f' + std::to_string(horizon) + '\x1f' + LevelsKey(levels) + '\x1f' + history_id;
  const uint64_t generation = ctx_.cache->generation();
  if (auto hit = ctx_.cache->Get(key)) {
    if (ctx_.cache_hits) ctx_.cache_hits->Inc();
    HttpResponse res = RenderedResponse(*hit, req.request_id);
    res.cache_hit = true;
    return res;
  }
  if (ctx_.cache_misses && ctx_.cache->enabled()) ctx_.cache_misses->Inc();
  std::string method;
  auto fc = Refit(*ctx_.models, lv, target, horizon, levels, &method);
  if (!fc.ok())
    return fc.status().WithContext("refitting " + lv.model + "@" + std::to_string(lv.version) +
                                   " on the given history");
  Json data = {{"source", "request"},
               {"history_start", target.start().ToString()},
               {"history_end", target.end().ToString()},
               {"observations", target.size()},
               {"history_sha256", history_id},
               {"refit", true}};
  ALMANAC_ASSIGN_OR_RETURN(std::string rendered,
                           CheckAndRender(RenderForecast, {lv, handle.label, horizon, target.end() + 1, *fc, method, data}));
  auto shared = std::make_shared<const std::string>(std::move(rendered));
  ctx_.cache->Put(key, shared, generation);
  return RenderedResponse(*shared, req.request_id);
}

}  // namespace almanac::serve
