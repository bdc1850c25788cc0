// The quarantine: loads that broke a validation rule wait here until a person releases them
// (they become vintages) or drops them. Every decision is audited.
#include <cmath>

#include "almanac/core/hash.h"
#include "almanac/core/json.h"
#include "almanac/data.h"

namespace almanac::data {
namespace {

constexpr std::string_view kPayloadFormat = "almanac.quarantine.v1";

std::string Describe(const store::QuarantineRecord& q) {
  return "quarantined load " + std::to_string(q.id) + " (source " + q.source + ")";
}

Status CheckDecision(const store::QuarantineRecord& q, const QuarantineDecision& d) {
  if (q.state != store::QuarantineState::kPending)
    return FailedPreconditionError(Describe(q) + " was already " + std::string(store::QuarantineStateName(q.state)) +
                                   " by " + q.decided_by + " at " + FormatTimestamp(q.decided_at));
  if (Trim(d.reason).empty()) return InvalidArgumentError(Describe(q) + ": a reason is required (--reason)");
  if (d.user.empty()) return InvalidArgumentError(Describe(q) + ": the deciding user is required");
  return Status::Ok();
}

// Marks `id` decided inside one transaction with its audit entry. The state is checked again:
// another person may have decided meanwhile.
Status Decide(int64_t id, store::QuarantineState state, const QuarantineDecision& d, int64_t load_id,
              store::MetadataStore& md) {
  return md.Run([&](store::MetadataTxn& t) -> Status {
    ALMANAC_ASSIGN_OR_RETURN(store::QuarantineRecord q, t.GetQuarantine(id));
    ALMANAC_RETURN_IF_ERROR(CheckDecision(q, d));
    q.state = state;
    q.decided_at = t.clock().NowMicros();
    q.decided_by = d.user;
    q.decision_reason = d.reason;
    q.load_id = load_id;
    ALMANAC_RETURN_IF_ERROR(t.UpdateQuarantine(q));
    store::AuditEvent ev;
    ev.actor = d.user;
    ev.action = state == store::QuarantineState::kReleased ? "quarantine.release" : "quarantine.drop";
    ev.object_type = "quarantine";
    ev.object_id = std::to_string(id);
    ev.details = Json{{"source", q.source}, {"reason", d.reason}, {"payload_sha256", q.payload_sha256}};
    if (load_id > 0) ev.details["load_id"] = load_id;
    if (d.force) ev.details["force"] = true;
    return t.Audit(ev).status();
  });
}

}  // namespace

std::string EncodeQuarantinePayload(const std::vector<ParsedSeries>& series) {
  Json all = Json::array();
  for (const auto& s : series) {
    Json obs = Json::array();
    for (const auto& o : s.observations) {
      Json row = Json::array();
      row.push_back(o.period.ToString());
      if (o.value && std::isfinite(*o.value)) row.push_back(*o.value);
      else row.push_back(nullptr);
      if (o.realtime_start) row.push_back(o.realtime_start->ToString());
      else row.push_back(nullptr);
      obs.push_back(std::move(row));
    }
    all.push_back(Json{{"key", s.info.key},
                       {"frequency", std::string(FrequencyCode(s.info.frequency))},
                       {"title", s.info.title},
                       {"unit", s.info.unit},
                       {"seasonal_adjustment", s.info.seasonal_adjustment},
                       {"source", s.info.source},
                       {"observations", std::move(obs)}});
  }
  return CompactJson(Json{{"format", kPayloadFormat}, {"series", std::move(all)}});
}

Result<std::vector<ParsedSeries>> DecodeQuarantinePayload(std::string_view text) {
  auto bad = [](const std::string& why) { return DataLossError("quarantine payload: " + why); };
  auto j = ParseJson(text);
  if (!j.ok()) return bad("not JSON");
  if (!j->is_object() || !j->contains("format") || (*j)["format"] != kPayloadFormat)
    return bad("not an " + std::string(kPayloadFormat) + " document");
  if (!j->contains("series") || !(*j)["series"].is_array()) return bad("no series array");
  auto text_of = [](const Json& o, const char* k) -> std::string {
    return o.contains(k) && o[k].is_string() ? o[k].get<std::string>() : std::string();
  };
  std::vector<ParsedSeries> out;
  for (const auto& js : (*j)["series"]) {
    if (!js.is_object() || !js.contains("observations") || !js["observations"].is_array()) return bad("malformed series");
    ParsedSeries s;
    s.info.key = text_of(js, "key");
    ALMANAC_ASSIGN_OR_RETURN(s.info.frequency, ParseFrequency(text_of(js, "frequency")));
    s.info.title = text_of(js, "title");
    s.info.unit = text_of(js, "unit");
    s.info.seasonal_adjustment = text_of(js, "seasonal_adjustment");
    s.info.source = text_of(js, "source");
    for (const auto& row : js["observations"]) {
      if (!row.is_array() || row.size() != 3 || !row[0].is_string()) return bad("malformed observation of " + s.info.key);
      ParsedObservation o;
      auto p = Period::Parse(row[0].get<std::string>(), s.info.frequency, /*require_period_start=*/false);
      if (!p.ok()) return bad(s.info.key + ": " + p.status().message());
      o.period = *p;
      if (row[1].is_number()) o.value = row[1].get<double>();
      else if (!row[1].is_null()) return bad(s.info.key + ": a value is neither a number nor null");
      if (row[2].is_string()) {
        auto d = Date::Parse(row[2].get<std::string>());
        if (!d.ok()) return bad(s.info.key + ": " + d.status().message());
        o.realtime_start = *d;
      } else if (!row[2].is_null()) {
        return bad(s.info.key + ": a realtime_start is neither a date nor null");
      }
      s.observations.push_back(o);
    }
    out.push_back(std::move(s));
  }
  return out;
}

Result<store::LoadReport> ReleaseQuarantined(int64_t id, const QuarantineDecision& d, store::Store& store) {
  ALMANAC_ASSIGN_OR_RETURN(
      store::QuarantineRecord q,
      store.metadata().Transact<store::QuarantineRecord>([&](store::MetadataTxn& t) { return t.GetQuarantine(id); }));
  ALMANAC_RETURN_IF_ERROR(CheckDecision(q, d));
  if (Sha256Hex(q.payload) != q.payload_sha256)
    return DataLossError(Describe(q) + ": the stored payload does not match its SHA-256; it was altered");
  ALMANAC_ASSIGN_OR_RETURN(std::vector<ParsedSeries> series, DecodeQuarantinePayload(q.payload));
  if (!d.force) {
    // Releasing older values over newer ones would silently roll the series back.
    for (const auto& s : series) {
      auto vintages = store.series().ListVintages(s.info.key);
      if (!vintages.ok()) {
        if (vintages.status().code() == StatusCode::kNotFound) continue;
        return vintages.status();
      }
      for (const auto& v : *vintages) {
        if (v.loaded_at > q.created_at)
          return FailedPreconditionError(Describe(q) + ": series " + s.info.key + " got a newer vintage (load " +
                                         std::to_string(v.load_id) + " at " + FormatTimestamp(v.loaded_at) +
                                         ") after the load was quarantined; releasing would make the older values "
                                         "current. Drop it, or release with --force");
      }
    }
  }
  store::LoadOptions lo;
  lo.loader = d.user;
  lo.source = "quarantine:" + std::to_string(id) + " (source " + q.source + ")";
  lo.source_hash = q.payload_sha256;
  lo.audit_details = Json{{"quarantine_id", id}, {"source", q.source}, {"reason", d.reason}};
  store::LoadReport report;
  {
    // The session holds the store's write lock until destroyed: commit in its own scope.
    ALMANAC_ASSIGN_OR_RETURN(auto session, store.series().BeginLoad(lo));
    for (const auto& s : series) {
      ALMANAC_RETURN_IF_ERROR_CTX(session->DeclareSeries(s.info), Describe(q));
      for (const auto& o : s.observations)
        ALMANAC_RETURN_IF_ERROR_CTX(session->Add(s.info.key, o.period, o.value, o.realtime_start),
                                    Describe(q) + ", series " + s.info.key + ", " + o.period.ToString());
    }
    session->SetSourceHash(q.payload_sha256);
    ALMANAC_ASSIGN_OR_RETURN(report, session->Commit());
  }
  // A crash here leaves the entry pending with its data stored; releasing again (--force, as
  // the series now has a newer vintage: this one) stores nothing new and then marks it.
  ALMANAC_RETURN_IF_ERROR(Decide(id, store::QuarantineState::kReleased, d, report.load_id, store.metadata()));
  return report;
}

Status DropQuarantined(int64_t id, const QuarantineDecision& d, store::Store& store) {
  return Decide(id, store::QuarantineState::kDropped, d, 0, store.metadata());
}

}  // namespace almanac::data
