// Request parsing and response rendering shared by the route families of HttpApi
// (serve-internal). Errors are returned as Status; HttpApi::Error renders them.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "almanac/core/json.h"
#include "almanac/serve.h"
#include "almanac/store.h"

#include "serve/http_api.h"

namespace almanac::serve::api {

// Reads the fields of a JSON object body with exact types and a did-you-mean for unknown keys.
class Fields {
 public:
  // InvalidArgument for malformed JSON, a body that is not an object (or empty, unless
  // `allow_empty`), or a key outside `allowed`.
  static Result<Fields> Parse(std::string_view body, std::vector<std::string> allowed, bool allow_empty);

  bool Has(const std::string& k) const { return j_.contains(k) && !j_[k].is_null(); }
  const Json& Raw(const std::string& k) const { return j_[k]; }
  // InvalidArgument when missing or not a string / an integer in int64 range.
  Result<std::string> String(const std::string& k) const;
  Result<int64_t> Int(const std::string& k) const;

 private:
  Json j_;
  std::vector<std::string> allowed_;
};

// "horizon": 1..models::kMaxHorizon (CheckHorizon: the range check alone).
Result<int> ParseHorizon(const Fields& f);
Result<int> CheckHorizon(int64_t horizon);
// "levels": up to 10 numbers in (0, 100); `fallback` (else 80, 95) when absent. CheckLevel:
// the range check of one; DefaultLevels: `fallback`, else 80, 95.
Result<std::vector<double>> ParseLevels(const Fields& f, const std::vector<double>& fallback);
Status CheckLevel(double level);
std::vector<double> DefaultLevels(const std::vector<double>& fallback);
inline constexpr size_t kMaxLevels = 10;
// "version" (positive) or "alias" (production, staging), not both.
Result<VersionRef> ParseVersionRef(const Fields& f);
// A date that is not after the clock's today.
Result<Date> ParseAsOf(std::string_view text, const Clock& clock);
// A path parameter that must be a positive version number.
Result<int64_t> VersionParam(const std::string& text);
// An integer query parameter in [lo, hi], `fallback` when absent. InvalidArgument "NAME must be
// an integer in LO..HI, got '...'".
Result<int64_t> IntParam(const std::map<std::string, std::string>& query, const std::string& name, int64_t fallback,
                         int64_t lo, int64_t hi);

// A timestamp as ISO 8601 text, null for 0 (not set).
Json TimestampJson(int64_t micros);

// A promotion request as the models and lineage answers show it.
Json RequestJson(const store::PromotionRequestRecord& r);

// A 200 answer whose body is `prefix` (a rendered object up to its last member and a comma)
// followed by the request id.
HttpResponse RenderedResponse(const std::string& prefix, const std::string& request_id);
// An answer with body `j` plus "request_id" and status `status`.
HttpResponse JsonResponse(const Json& j, const std::string& request_id, int status = 200);

}  // namespace almanac::serve::api
