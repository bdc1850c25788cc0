// The series endpoints: GET /v1/series, /v1/series/{key} (?as_of=) and
// /v1/series/{key}/vintages, in the JSON shape of `almanac --format json series ...`.
#include <optional>

#include "serve/api_common.h"

namespace almanac::serve {

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

}  // namespace almanac::serve
