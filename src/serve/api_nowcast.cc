// The nowcast endpoint (issue 25; docs/nowcasting.md, "Platform"): GET /v1/nowcast/{model}
// answers the latest nowcast of a nowcast pipeline (a pipeline file with a `nowcast:`
// section, named {model}) with its news decomposition, as its newest finished run stored it;
// ?as_of=YYYY-MM-DD the newest one made on data as known on that date.
#include <optional>

#include "almanac/tracking.h"

#include "serve/api_common.h"

namespace almanac::serve {
namespace {

// The run artifact holding a nowcast and its news: pipeline::kNowcastArtifact (serve reads
// runs through tracking and does not include the pipeline component).
constexpr std::string_view kNowcastDocument = "nowcast.json";
// How many of a pipeline's newest runs are searched for one with a nowcast.
constexpr int kNowcastRunsSearched = 1000;

// The date of the data a nowcast used: its snapshot's as-of date, or (latest data) the day
// its run started.
std::optional<Date> DataDate(const Json& doc, const store::RunRecord& run) {
  if (doc.contains("as_of") && doc["as_of"].is_string()) {
    auto d = Date::Parse(doc["as_of"].get<std::string>());
    if (d.ok()) return *d;
  }
  return Date::FromDays(run.start_time / (int64_t{86400} * 1000000));
}

}  // namespace

Result<HttpResponse> HttpApi::Nowcast(ApiCall& call) const {
  const std::string& name = call.params[0];
  std::optional<Date> as_of;
  if (auto it = call.query.find("as_of"); it != call.query.end()) {
    ALMANAC_ASSIGN_OR_RETURN(as_of, api::ParseAsOf(it->second, *ctx_.clock));
  }
  if (ctx_.artifacts == nullptr) return UnavailableError("this server has no artifact store to read nowcasts from");
  tracking::Tracker tracker(ctx_.store->metadata(), *ctx_.artifacts, *ctx_.clock);
  store::RunFilter filter;
  filter.pipeline = name;
  filter.status = store::RunStatus::kFinished;
  filter.limit = kNowcastRunsSearched;
  ALMANAC_ASSIGN_OR_RETURN(std::vector<store::RunRecord> runs, tracker.ListRuns(filter));
  std::optional<Date> earliest;
  for (const auto& r : runs) {  // newest first
    if (!r.reproduces.empty()) continue;  // a reproduction repeats an earlier run's nowcast
    ALMANAC_ASSIGN_OR_RETURN(tracking::RunDetails details, tracker.GetRun(r.id));
    std::optional<Json> doc;
    for (const auto& a : details.artifacts) {
      if (a.kind != kNowcastDocument) continue;
      ALMANAC_ASSIGN_OR_RETURN(std::string bytes, tracker.ReadArtifact(a));
      ALMANAC_ASSIGN_OR_RETURN(doc, ParseJson(bytes));
      if (!doc->is_object() || !doc->contains("nowcast"))
        return DataLossError("the nowcast of run " + r.id + " is not a nowcast document");
    }
    if (!doc) continue;
    const std::optional<Date> date = DataDate(*doc, r);
    if (as_of && date && *as_of < *date) {
      earliest = date;  // runs are newest first: the last one seen is the earliest
      continue;
    }
    Json out = {{"name", name}, {"run_id", r.id}, {"finished", api::TimestampJson(r.end_time)}};
    for (auto it = doc->begin(); it != doc->end(); ++it) out[it.key()] = it.value();
    return api::JsonResponse(out, call.req.request_id);
  }
  if (earliest)
    return NotFoundError("nowcast model " + QuoteForMessage(name) + " has no nowcast on data as of " + as_of->ToString() +
                         " (its earliest is on data of " + earliest->ToString() + ")");
  return NotFoundError("nowcast model " + QuoteForMessage(name) +
                       " not found: no finished run of a pipeline named so stored a nowcast (a pipeline file with a "
                       "'nowcast:' section; docs/nowcasting.md)");
}

}  // namespace almanac::serve
