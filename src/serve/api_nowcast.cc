// The nowcast endpoint (issue 25; docs/nowcasting.md, "Platform"): GET /v1/nowcast/{model}
// answers the latest nowcast of a nowcast pipeline (a pipeline file with a `nowcast:`
// section, named {model}) with its news decomposition, as its newest finished run stored it;
// ?as_of=YYYY-MM-DD the newest one made on data as known on that date.
#include <limits>
#include <optional>
#include <set>

#include "almanac/store.h"

#include "serve/api_common.h"

namespace almanac::serve {
namespace {

// The run artifact holding a nowcast and its news: pipeline::kNowcastArtifact (serve reads
// runs from the store and does not include the pipeline component).
constexpr std::string_view kNowcastDocument = "nowcast.json";
// The metric the pipeline logs with every nowcast.json (its "nowcast" step): the index that
// finds nowcast runs without reading each run's artifacts.
constexpr std::string_view kNowcastMetric = "nowcast";
// How many of a pipeline's newest finished runs are searched for one with a nowcast (one
// indexed read of run records, not of their details).
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
  store::MetadataStore& md = ctx_.store->metadata();
  // One read transaction finds the candidates by index, without reading any run's details: the
  // pipeline's newest finished runs (runs_by_pipeline) and, per experiment they belong to, the
  // runs that logged the nowcast metric (run_latest_metrics_by_key_value); a nowcast's value is always
  // a finite number (it is JSON), so ">= lowest" matches every one. Only the candidates'
  // artifacts are then read, newest first: usually one run's.
  ALMANAC_ASSIGN_OR_RETURN(
      std::vector<store::RunRecord> runs,
      md.Transact<std::vector<store::RunRecord>>([&](store::MetadataTxn& t) -> Result<std::vector<store::RunRecord>> {
        store::RunFilter filter;
        filter.pipeline = name;
        filter.status = store::RunStatus::kFinished;
        filter.limit = kNowcastRunsSearched;
        ALMANAC_ASSIGN_OR_RETURN(std::vector<store::RunRecord> finished, t.ListRuns(filter));
        std::set<std::string> experiments;
        for (const auto& r : finished) experiments.insert(r.experiment);
        std::set<std::string> with_nowcast;
        for (const auto& e : experiments) {
          ALMANAC_ASSIGN_OR_RETURN(std::vector<std::string> ids,
                                   t.RunsWithLatestMetric(e, kNowcastMetric, ">=", std::numeric_limits<double>::lowest()));
          with_nowcast.insert(ids.begin(), ids.end());
        }
        std::vector<store::RunRecord> out;
        for (auto& r : finished)  // newest first
          if (r.reproduces.empty() && with_nowcast.count(r.id) > 0) out.push_back(std::move(r));
        return out;
      }));
  std::optional<Date> earliest;
  for (const auto& r : runs) {  // newest first
    ALMANAC_ASSIGN_OR_RETURN(std::vector<store::ArtifactRecord> artifacts,
                             md.Transact<std::vector<store::ArtifactRecord>>(
                                 [&](store::MetadataTxn& t) { return t.GetArtifacts(r.id); }));
    std::optional<Json> doc;
    for (const auto& a : artifacts) {
      if (a.kind != kNowcastDocument) continue;
      ALMANAC_ASSIGN_OR_RETURN(std::string bytes, ctx_.artifacts->Get(a.name, a.sha256));
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
