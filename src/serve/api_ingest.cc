// POST /v1/ingest (?source=label): NDJSON records pushed as one load, audited with the
// token's user.
#include "almanac/data.h"

#include "serve/api_common.h"

namespace almanac::serve {

// POST /v1/ingest: NDJSON records, one batch = one load (one transaction, one vintage per
// series per realtime_start), audited with the token's user. Any bad line refuses the whole
// batch, naming the line; nothing is stored.
Result<HttpResponse> HttpApi::Ingest(ApiCall& call) const {
  const HttpRequest& req = call.req;
  const std::map<std::string, std::string>& query = call.query;
  const Principal& who = call.who;
  std::string label = "api";
  if (auto it = query.find("source"); it != query.end()) {
    ALMANAC_RETURN_IF_ERROR(ValidateName(it->second, "source"));
    label = it->second;
  }
  std::vector<data::NdjsonRecord> batch;
  std::string_view body = req.body;
  int64_t line_no = 0;
  while (!body.empty()) {
    const size_t nl = body.find('\n');
    std::string_view line = Trim(body.substr(0, nl));
    body = nl == std::string_view::npos ? std::string_view() : body.substr(nl + 1);
    ++line_no;
    if (line.empty()) continue;
    auto rec = data::ParseNdjsonRecord(line);
    if (!rec.ok()) return rec.status().WithContext("line " + std::to_string(line_no));
    batch.push_back(std::move(*rec));
  }
  if (batch.empty())
    return InvalidArgumentError("no records: send NDJSON, one {\"series\", \"period\", \"value\"} object per line");
  const std::string source = "push:" + label + " (POST /v1/ingest, request " + req.request_id + ")";
  ALMANAC_ASSIGN_OR_RETURN(store::LoadReport r, data::IngestBatch(batch, who.user, source, ctx_.store->series()));
  Json vintages = Json::array();
  for (const auto& v : r.vintages)
    vintages.push_back({{"series", v.series_key},
                        {"realtime_start", v.realtime_start.ToString()},
                        {"observations", v.num_observations}});
  Json j = {{"load_id", r.load_id},
            {"records", static_cast<int64_t>(batch.size())},
            {"series", r.series_seen},
            {"series_created", r.series_created},
            {"series_unchanged", r.series_unchanged},
            {"vintages_created", r.vintages_created},
            {"observations_written", r.observations_written},
            {"vintages", std::move(vintages)},
            {"user", who.user}};
  return api::JsonResponse(j, req.request_id);
}

}  // namespace almanac::serve
