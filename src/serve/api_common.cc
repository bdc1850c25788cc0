#include "serve/api_common.h"

#include <algorithm>
#include <cstdint>

#include "serve/json_out.h"

namespace almanac::serve::api {

Result<Fields> Fields::Parse(std::string_view body, std::vector<std::string> allowed, bool allow_empty) {
  Fields f;
  f.allowed_ = std::move(allowed);
  if (Trim(body).empty()) {
    if (!allow_empty) return InvalidArgumentError("the request body must be a JSON object");
    f.j_ = Json::object();
    return f;
  }
  auto j = ParseJson(body);
  if (!j.ok()) return InvalidArgumentError("malformed JSON body: " + j.status().message());
  if (!j->is_object()) return InvalidArgumentError("the request body must be a JSON object");
  f.j_ = std::move(*j);
  for (auto it = f.j_.begin(); it != f.j_.end(); ++it)
    if (std::find(f.allowed_.begin(), f.allowed_.end(), it.key()) == f.allowed_.end())
      return InvalidArgumentError("unknown field " + QuoteForMessage(it.key()) + Hint(it.key(), f.allowed_) +
                                  " (fields: " + JoinList(f.allowed_) + ")");
  return f;
}

Result<std::string> Fields::String(const std::string& k) const {
  if (!Has(k)) return InvalidArgumentError("missing field " + QuoteForMessage(k));
  if (!j_[k].is_string()) return InvalidArgumentError("field " + QuoteForMessage(k) + " must be a string");
  return j_[k].get<std::string>();
}

Result<int64_t> Fields::Int(const std::string& k) const {
  if (!Has(k)) return InvalidArgumentError("missing field " + QuoteForMessage(k));
  const Json& v = j_[k];
  if (!v.is_number_integer()) return InvalidArgumentError("field " + QuoteForMessage(k) + " must be an integer");
  if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
    return InvalidArgumentError("field " + QuoteForMessage(k) + " is out of range");
  return v.get<int64_t>();
}

Result<int> ParseHorizon(const Fields& f) {
  ALMANAC_ASSIGN_OR_RETURN(int64_t h, f.Int("horizon"));
  return CheckHorizon(h);
}

Result<int> CheckHorizon(int64_t h) {
  if (h < 1 || h > models::kMaxHorizon)
    return InvalidArgumentError("horizon must be in 1.." + std::to_string(models::kMaxHorizon) + ", got " +
                                std::to_string(h));
  return static_cast<int>(h);
}

std::vector<double> DefaultLevels(const std::vector<double>& fallback) {
  return fallback.empty() ? std::vector<double>{80, 95} : fallback;
}

Status CheckLevel(double x) {
  if (!(x > 0 && x < 100)) return InvalidArgumentError("level " + FormatDouble(x) + " is outside (0, 100)");
  return Status::Ok();
}

Result<std::vector<double>> ParseLevels(const Fields& f, const std::vector<double>& fallback) {
  if (!f.Has("levels")) return DefaultLevels(fallback);
  const Json& a = f.Raw("levels");
  if (!a.is_array()) return InvalidArgumentError("field 'levels' must be an array of numbers, e.g. [80, 95]");
  if (a.size() > kMaxLevels) return InvalidArgumentError("at most " + std::to_string(kMaxLevels) + " levels");
  std::vector<double> out;
  for (const auto& v : a) {
    if (!v.is_number()) return InvalidArgumentError("field 'levels' must hold numbers");
    const double x = v.get<double>();
    ALMANAC_RETURN_IF_ERROR(CheckLevel(x));
    out.push_back(x);
  }
  return out;
}

Result<VersionRef> ParseVersionRef(const Fields& f) {
  VersionRef ref;
  if (f.Has("version") && f.Has("alias")) return InvalidArgumentError("give either 'version' or 'alias', not both");
  if (f.Has("version")) {
    ALMANAC_ASSIGN_OR_RETURN(int64_t v, f.Int("version"));
    if (v < 1) return InvalidArgumentError("version must be a positive integer, got " + std::to_string(v));
    ref.version = v;
  }
  if (f.Has("alias")) {
    ALMANAC_ASSIGN_OR_RETURN(ref.alias, f.String("alias"));
    if (ref.alias != "production" && ref.alias != "staging")
      return InvalidArgumentError("unknown alias " + QuoteForMessage(ref.alias) + " (use production or staging)");
  }
  return ref;
}

Result<Date> ParseAsOf(std::string_view text, const Clock& clock) {
  return ParseAsOfDate(text, clock);  // core's one as-of rule, as the CLI and pipelines
}

Result<int64_t> VersionParam(const std::string& text) {
  auto v = ParseInt(text);
  if (!v.ok() || *v < 1) return InvalidArgumentError("version " + QuoteForMessage(text) + " is not a positive integer");
  return *v;
}

Json TimestampJson(int64_t micros) { return micros == 0 ? Json(nullptr) : Json(FormatTimestamp(micros)); }

Json RequestJson(const store::PromotionRequestRecord& r) {
  return {{"id", r.id},
          {"version", r.version},
          {"target", std::string(store::StageName(r.target))},
          {"requested_by", r.requested_by},
          {"requested_at", TimestampJson(r.requested_at)},
          {"reason", r.reason},
          {"status", std::string(store::RequestStatusName(r.status))},
          {"decided_by", r.decided_by},
          {"decided_at", TimestampJson(r.decided_at)},
          {"decision_reason", r.decision_reason}};
}

HttpResponse RenderedResponse(const std::string& prefix, const std::string& request_id) {
  HttpResponse res;
  res.body.reserve(prefix.size() + request_id.size() + 20);
  res.body = prefix;
  res.body += "\"request_id\":";
  json_out::String(res.body, request_id);
  res.body += '}';
  return res;
}

HttpResponse JsonResponse(const Json& j, const std::string& request_id, int status) {
  Json out = j;
  out["request_id"] = request_id;
  HttpResponse res;
  res.status = status;
  res.body = CompactJson(out);
  return res;
}

Result<int64_t> IntParam(const std::map<std::string, std::string>& query, const std::string& name, int64_t fallback,
                         int64_t lo, int64_t hi) {
  auto it = query.find(name);
  if (it == query.end()) return fallback;
  auto v = ParseInt(it->second);
  if (!v.ok() || *v < lo || *v > hi)
    return InvalidArgumentError(name + " must be an integer in " + std::to_string(lo) + ".." + std::to_string(hi) +
                                ", got " + QuoteForMessage(it->second, 40));
  return *v;
}

}  // namespace almanac::serve::api
