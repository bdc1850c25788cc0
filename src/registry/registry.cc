#include "almanac/registry.h"

#include <algorithm>

namespace almanac::registry {
namespace {

using store::MetadataTxn;

std::string VersionId(std::string_view model, int64_t v) { return std::string(model) + "@" + std::to_string(v); }

bool FourEyes(const RegisteredModelRecord& m) {
  // Four-eyes is the default; a policy must turn it off explicitly.
  return !(m.policy.is_object() && m.policy.contains("four_eyes") && m.policy["four_eyes"].is_boolean() &&
           !m.policy["four_eyes"].get<bool>());
}

// Moves `v` to `target` inside `t`, archiving the current production version when needed.
Result<PromotionResult> Apply(MetadataTxn& t, ModelVersionRecord v, Stage target, int64_t now) {
  PromotionResult out;
  if (target == Stage::kProduction) {
    ALMANAC_ASSIGN_OR_RETURN(auto all, t.ListVersions(v.model));
    for (auto& other : all) {
      if (other.version != v.version && other.stage == Stage::kProduction) {
        other.stage = Stage::kArchived;
        other.stage_changed_at = now;
        ALMANAC_RETURN_IF_ERROR(t.UpdateVersion(other));
        out.replaced = other;
      }
    }
  }
  v.stage = target;
  v.stage_changed_at = now;
  ALMANAC_RETURN_IF_ERROR(t.UpdateVersion(v));
  out.applied = true;
  out.version = v;
  return out;
}

Result<PromotionRequestRecord> PendingRequest(MetadataTxn& t, std::string_view model, int64_t version) {
  ALMANAC_ASSIGN_OR_RETURN(auto reqs, t.ListRequests(model));
  for (const auto& r : reqs)
    if (r.version == version && r.status == store::RequestStatus::kPending) return r;
  return FailedPreconditionError("no pending promotion request for " + VersionId(model, version));
}

}  // namespace

// ---------------------------------------------------------------------------- packages

Result<std::string> BuildPackage(const PackageManifest& m, const Json& envelope) {
  Json manifest = {{"model_type", m.model_type},
                   {"model_spec", m.model_spec},
                   {"snapshot_id", m.snapshot_id},
                   {"target", m.target},
                   {"frequency", m.frequency},
                   {"history_end", m.history_end},
                   {"horizon", m.horizon},
                   {"levels", m.levels},
                   {"metrics", m.metrics},
                   {"transforms", m.transforms},
                   {"pipeline_hash", m.pipeline_hash},
                   {"almanac_version", m.almanac_version}};
  if (!m.variables.empty()) manifest["variables"] = m.variables;
  return CanonicalJson({{"format", "almanac-model-package"},
                        {"format_version", kPackageFormatVersion},
                        {"manifest", manifest},
                        {"model", envelope}});
}

Result<ParsedPackage> ParsePackage(std::string_view bytes) {
  ALMANAC_ASSIGN_OR_RETURN(Json j, ParseJson(bytes));
  if (!j.is_object() || j.value("format", "") != "almanac-model-package")
    return InvalidArgumentError("not an almanac model package (format is not almanac-model-package)");
  if (!j.contains("format_version") || !j["format_version"].is_number_integer())
    return InvalidArgumentError("model package has no integer format_version");
  if (j["format_version"].get<int>() > kPackageFormatVersion)
    return FailedPreconditionError("model package format " + std::to_string(j["format_version"].get<int>()) +
                                   " is newer than this almanac supports (" + std::to_string(kPackageFormatVersion) + ")");
  if (!j.contains("manifest") || !j["manifest"].is_object() || !j.contains("model") || !j["model"].is_object())
    return InvalidArgumentError("model package lacks a manifest or a model");
  try {
    const Json& mj = j["manifest"];
    ParsedPackage p;
    p.manifest.model_type = mj.at("model_type").get<std::string>();
    p.manifest.model_spec = mj.at("model_spec");
    p.manifest.snapshot_id = mj.at("snapshot_id").get<std::string>();
    p.manifest.target = mj.at("target").get<std::string>();
    p.manifest.frequency = mj.at("frequency").get<std::string>();
    p.manifest.history_end = mj.at("history_end").get<std::string>();
    p.manifest.horizon = mj.at("horizon").get<int>();
    p.manifest.levels = mj.at("levels").get<std::vector<double>>();
    p.manifest.metrics = mj.at("metrics");
    p.manifest.transforms = mj.at("transforms");
    p.manifest.pipeline_hash = mj.at("pipeline_hash").get<std::string>();
    p.manifest.almanac_version = mj.at("almanac_version").get<std::string>();
    if (mj.contains("variables")) {
      const Json& vars = mj["variables"];
      if (!vars.is_array()) return InvalidArgumentError("malformed model package manifest: variables must be a list");
      for (size_t i = 0; i < vars.size(); ++i) {
        if (!vars[i].is_string() || vars[i].get<std::string>().empty())
          return InvalidArgumentError("malformed model package manifest: variables[" + std::to_string(i) +
                                      "] must be a non-empty string");
        std::string name = vars[i].get<std::string>();
        if (std::find(p.manifest.variables.begin(), p.manifest.variables.end(), name) != p.manifest.variables.end())
          return InvalidArgumentError("malformed model package manifest: variable " + QuoteForMessage(name) +
                                      " is listed twice");
        p.manifest.variables.push_back(std::move(name));
      }
    }
    p.model_envelope = j["model"];
    return p;
  } catch (const Json::exception& e) {
    return InvalidArgumentError(std::string("malformed model package manifest: ") + e.what());
  }
}

// ---------------------------------------------------------------------------- registry

Result<RegisteredModelRecord> Registry::EnsureModel(const RegisteredModelRecord& in, std::string_view actor) {
  ALMANAC_RETURN_IF_ERROR(ValidateName(in.name, "model name"));
  return store_.metadata().Transact<RegisteredModelRecord>([&](MetadataTxn& t) -> Result<RegisteredModelRecord> {
    auto existing = t.GetModel(in.name);
    if (existing.ok()) {
      RegisteredModelRecord m = *existing;
      bool changed = false;
      if (!in.owner.empty() && in.owner != m.owner) m.owner = in.owner, changed = true;
      if (!in.description.empty() && in.description != m.description) m.description = in.description, changed = true;
      if (in.policy.is_object() && !in.policy.empty() && in.policy != m.policy) m.policy = in.policy, changed = true;
      if (changed) {
        ALMANAC_RETURN_IF_ERROR(t.UpdateModel(m));
        ALMANAC_RETURN_IF_ERROR(t.Audit({std::string(actor), "model.update", "model", m.name,
                                         {{"owner", m.owner}, {"description", m.description}, {"policy", m.policy}}})
                                    .status());
      }
      return m;
    }
    if (existing.status().code() != StatusCode::kNotFound) return existing.status();
    RegisteredModelRecord m = in;
    if (m.owner.empty()) m.owner = std::string(actor);
    if (!m.policy.is_object() || m.policy.empty()) m.policy = {{"four_eyes", true}};
    if (!m.card.is_object()) m.card = Json::object();
    m.created_at = clock_.NowMicros();
    m.created_by = std::string(actor);
    ALMANAC_RETURN_IF_ERROR(t.InsertModel(m));
    ALMANAC_RETURN_IF_ERROR(t.Audit({std::string(actor), "model.create", "model", m.name,
                                     {{"owner", m.owner}, {"description", m.description}, {"policy", m.policy}}})
                                .status());
    return m;
  });
}

Result<RegisteredModelRecord> Registry::GetModel(std::string_view name) {
  return store_.metadata().Transact<RegisteredModelRecord>([&](MetadataTxn& t) { return t.GetModel(name); });
}

Result<std::vector<RegisteredModelRecord>> Registry::ListModels() {
  return store_.metadata().Transact<std::vector<RegisteredModelRecord>>([&](MetadataTxn& t) { return t.ListModels(); });
}

Result<RegisteredModelRecord> Registry::UpdateCard(std::string_view name, const Json& card, std::string_view actor) {
  if (!card.is_object()) return InvalidArgumentError("a model card must be a mapping of fields");
  return store_.metadata().Transact<RegisteredModelRecord>([&](MetadataTxn& t) -> Result<RegisteredModelRecord> {
    ALMANAC_ASSIGN_OR_RETURN(RegisteredModelRecord m, t.GetModel(name));
    for (auto it = card.begin(); it != card.end(); ++it) m.card[it.key()] = it.value();
    ALMANAC_RETURN_IF_ERROR(t.UpdateModel(m));
    ALMANAC_RETURN_IF_ERROR(t.Audit({std::string(actor), "model.card", "model", m.name, {{"card", card}}}).status());
    return m;
  });
}

Result<ModelVersionRecord> Registry::CreateVersion(const NewVersion& nv, std::string_view actor) {
  return store_.metadata().Transact<ModelVersionRecord>([&](MetadataTxn& t) -> Result<ModelVersionRecord> {
    ALMANAC_RETURN_IF_ERROR(t.GetModel(nv.model).status());
    ALMANAC_ASSIGN_OR_RETURN(store::RunRecord run, t.GetRun(nv.run_id));
    ALMANAC_ASSIGN_OR_RETURN(auto existing, t.ListVersions(nv.model));
    for (const auto& e : existing)
      if (e.run_id == nv.run_id)
        return AlreadyExistsError("run " + nv.run_id + " already created " + VersionId(nv.model, e.version));
    if (nv.reuse_identical_package)
      for (const auto& e : existing)
        if (e.artifact_sha256 == nv.package.sha256) return e;
    ALMANAC_ASSIGN_OR_RETURN(int64_t max, t.MaxVersion(nv.model));
    ModelVersionRecord v;
    v.model = nv.model;
    v.version = max + 1;
    v.run_id = nv.run_id;
    v.artifact_name = nv.package.name;
    v.artifact_sha256 = nv.package.sha256;
    v.snapshot_id = nv.snapshot_id.empty() ? run.snapshot_id : nv.snapshot_id;
    v.metrics = nv.metrics;
    v.description = nv.description;
    v.created_at = clock_.NowMicros();
    v.created_by = std::string(actor);
    ALMANAC_RETURN_IF_ERROR(t.InsertVersion(v));
    ALMANAC_RETURN_IF_ERROR(t.Audit({std::string(actor), "model.register", "model_version", VersionId(v.model, v.version),
                                     {{"run_id", v.run_id}, {"artifact", v.artifact_name}, {"sha256", v.artifact_sha256},
                                      {"snapshot_id", v.snapshot_id}, {"metrics", v.metrics}}})
                                .status());
    return v;
  });
}

Result<std::vector<ModelVersionRecord>> Registry::ListVersions(std::string_view model) {
  return store_.metadata().Transact<std::vector<ModelVersionRecord>>([&](MetadataTxn& t) -> Result<std::vector<ModelVersionRecord>> {
    ALMANAC_RETURN_IF_ERROR(t.GetModel(model).status());
    return t.ListVersions(model);
  });
}

Result<ModelVersionRecord> Registry::Resolve(std::string_view model, std::string_view ref) {
  return store_.metadata().Transact<ModelVersionRecord>([&](MetadataTxn& t) -> Result<ModelVersionRecord> {
    ALMANAC_RETURN_IF_ERROR(t.GetModel(model).status());
    if (ref.empty() || ref == "production" || ref == "staging" || ref == "latest") {
      ALMANAC_ASSIGN_OR_RETURN(auto all, t.ListVersions(model));
      if (ref == "latest") {
        if (all.empty()) return NotFoundError("model " + std::string(model) + " has no versions");
        return all.back();
      }
      const Stage want = ref == "staging" ? Stage::kStaging : Stage::kProduction;
      const ModelVersionRecord* found = nullptr;
      for (const auto& v : all)
        if (v.stage == want && (found == nullptr || v.stage_changed_at >= found->stage_changed_at)) found = &v;
      if (found == nullptr)
        return NotFoundError("model " + std::string(model) + " has no " + std::string(ref.empty() ? "production" : ref) +
                             " version");
      return *found;
    }
    auto n = ParseInt(ref);
    if (!n.ok() || *n < 1)
      return InvalidArgumentError("version " + QuoteForMessage(ref) + " is not a number, 'production', 'staging' or 'latest'");
    return t.GetVersion(model, *n);
  });
}

Result<PromotionResult> Registry::Promote(std::string_view model, int64_t version, Stage target, std::string_view actor,
                                          std::string_view reason) {
  if (target == Stage::kNone) return InvalidArgumentError("cannot promote to stage 'none'");
  return store_.metadata().Transact<PromotionResult>([&](MetadataTxn& t) -> Result<PromotionResult> {
    ALMANAC_ASSIGN_OR_RETURN(RegisteredModelRecord m, t.GetModel(model));
    ALMANAC_ASSIGN_OR_RETURN(ModelVersionRecord v, t.GetVersion(model, version));
    if (v.stage == target)
      return FailedPreconditionError(VersionId(model, version) + " is already in " + std::string(store::StageName(target)));
    ALMANAC_ASSIGN_OR_RETURN(auto reqs, t.ListRequests(model));
    for (const auto& r : reqs)
      if (r.version == version && r.status == store::RequestStatus::kPending)
        return FailedPreconditionError("a promotion of " + VersionId(model, version) + " requested by " + r.requested_by +
                                       " is already waiting for approval");
    const int64_t now = clock_.NowMicros();
    PromotionRequestRecord req;
    req.model = std::string(model);
    req.version = version;
    req.target = target;
    req.requested_by = std::string(actor);
    req.requested_at = now;
    req.reason = std::string(reason);
    const bool approval = target == Stage::kProduction && FourEyes(m);
    PromotionResult out;
    if (approval) {
      req.status = store::RequestStatus::kPending;
      ALMANAC_ASSIGN_OR_RETURN(req.id, t.InsertRequest(req));
      out.needs_approval = true;
      out.request = req;
      out.version = v;
      ALMANAC_RETURN_IF_ERROR(t.Audit({std::string(actor), "model.promote.request", "model_version", VersionId(model, version),
                                       {{"target", std::string(store::StageName(target))}, {"reason", req.reason},
                                        {"request_id", req.id}}})
                                  .status());
      return out;
    }
    ALMANAC_ASSIGN_OR_RETURN(out, Apply(t, v, target, now));
    ALMANAC_RETURN_IF_ERROR(t.Audit({std::string(actor), "model.promote", "model_version", VersionId(model, version),
                                     {{"target", std::string(store::StageName(target))}, {"reason", req.reason},
                                      {"from", std::string(store::StageName(v.stage))},
                                      {"replaced", out.replaced ? Json(out.replaced->version) : Json(nullptr)}}})
                                .status());
    return out;
  });
}

Result<PromotionResult> Registry::Approve(std::string_view model, int64_t version, std::string_view actor,
                                          std::string_view reason) {
  return store_.metadata().Transact<PromotionResult>([&](MetadataTxn& t) -> Result<PromotionResult> {
    ALMANAC_ASSIGN_OR_RETURN(ModelVersionRecord v, t.GetVersion(model, version));
    ALMANAC_ASSIGN_OR_RETURN(PromotionRequestRecord req, PendingRequest(t, model, version));
    if (req.requested_by == actor)
      return FailedPreconditionError("four-eyes policy: " + std::string(actor) + " requested the promotion of " +
                                     VersionId(model, version) + " and cannot also approve it; another person must approve");
    const int64_t now = clock_.NowMicros();
    req.status = store::RequestStatus::kApproved;
    req.decided_by = std::string(actor);
    req.decided_at = now;
    req.decision_reason = std::string(reason);
    ALMANAC_RETURN_IF_ERROR(t.UpdateRequest(req));
    ALMANAC_ASSIGN_OR_RETURN(PromotionResult out, Apply(t, v, req.target, now));
    out.request = req;
    ALMANAC_RETURN_IF_ERROR(t.Audit({std::string(actor), "model.approve", "model_version", VersionId(model, version),
                                     {{"request_id", req.id}, {"requested_by", req.requested_by}, {"reason", req.decision_reason},
                                      {"target", std::string(store::StageName(req.target))},
                                      {"replaced", out.replaced ? Json(out.replaced->version) : Json(nullptr)}}})
                                .status());
    return out;
  });
}

Result<PromotionResult> Registry::Reject(std::string_view model, int64_t version, std::string_view actor,
                                         std::string_view reason) {
  return store_.metadata().Transact<PromotionResult>([&](MetadataTxn& t) -> Result<PromotionResult> {
    ALMANAC_ASSIGN_OR_RETURN(ModelVersionRecord v, t.GetVersion(model, version));
    ALMANAC_ASSIGN_OR_RETURN(PromotionRequestRecord req, PendingRequest(t, model, version));
    req.status = store::RequestStatus::kRejected;
    req.decided_by = std::string(actor);
    req.decided_at = clock_.NowMicros();
    req.decision_reason = std::string(reason);
    ALMANAC_RETURN_IF_ERROR(t.UpdateRequest(req));
    ALMANAC_RETURN_IF_ERROR(t.Audit({std::string(actor), "model.reject", "model_version", VersionId(model, version),
                                     {{"request_id", req.id}, {"requested_by", req.requested_by}, {"reason", req.decision_reason}}})
                                .status());
    PromotionResult out;
    out.request = req;
    out.version = v;
    return out;
  });
}

Result<PromotionResult> Registry::Rollback(std::string_view model, std::string_view actor, std::string_view reason) {
  // The previous production version: the archived version that most recently left production.
  ALMANAC_ASSIGN_OR_RETURN(auto versions, ListVersions(model));
  const ModelVersionRecord* current = nullptr;
  for (const auto& v : versions)
    if (v.stage == Stage::kProduction) current = &v;
  const ModelVersionRecord* previous = nullptr;
  for (const auto& v : versions) {
    if (v.stage != Stage::kArchived || (current != nullptr && v.version == current->version)) continue;
    if (previous == nullptr || v.stage_changed_at > previous->stage_changed_at) previous = &v;
  }
  if (previous == nullptr)
    return FailedPreconditionError("model " + std::string(model) + " has no earlier production version to roll back to");
  std::string why = "rollback";
  if (current != nullptr) why += " from version " + std::to_string(current->version);
  if (!reason.empty()) why += ": " + std::string(reason);
  return Promote(model, previous->version, Stage::kProduction, actor, why);
}

Result<Lineage> Registry::GetLineage(std::string_view model, int64_t version) {
  Lineage l;
  ALMANAC_RETURN_IF_ERROR(store_.metadata().Run([&](MetadataTxn& t) -> Status {
    ALMANAC_ASSIGN_OR_RETURN(l.model, t.GetModel(model));
    ALMANAC_ASSIGN_OR_RETURN(l.version, t.GetVersion(model, version));
    ALMANAC_ASSIGN_OR_RETURN(l.run, t.GetRun(l.version.run_id));
    ALMANAC_ASSIGN_OR_RETURN(l.artifacts, t.GetArtifacts(l.version.run_id));
    ALMANAC_ASSIGN_OR_RETURN(auto reqs, t.ListRequests(model));
    for (const auto& r : reqs)
      if (r.version == version) l.approvals.push_back(r);
    return Status::Ok();
  }));
  if (!l.version.snapshot_id.empty()) {
    auto snap = store_.series().GetSnapshot(l.version.snapshot_id);
    if (snap.ok()) {
      l.snapshot = snap->info;
      // The vintages the snapshot was resolved from: those known at its as_of date.
      for (const auto& s : snap->series) {
        auto vs = store_.series().ListVintages(s.key);
        if (!vs.ok()) continue;  // a derived series has no vintages of its own
        for (const auto& v : *vs)
          if (!snap->info.as_of || v.realtime_start <= *snap->info.as_of) l.vintages.push_back(v);
      }
    }
  }
  ALMANAC_ASSIGN_OR_RETURN(auto audit, store_.metadata().ReadAudit(1, 0));
  const std::string vid = VersionId(model, version);
  for (const auto& e : audit)
    if ((e.event.object_type == "model_version" && e.event.object_id == vid) ||
        (e.event.object_type == "run" && e.event.object_id == l.run.id) ||
        (e.event.object_type == "model" && e.event.object_id == model))
      l.audit.push_back(e);
  return l;
}

// ------------------------------------------------------- a version's package, by reference

Result<std::pair<std::string, std::string>> SplitVersionRef(std::string_view ref) {
  const size_t at = ref.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == ref.size())
    return InvalidArgumentError("model version " + QuoteForMessage(ref) +
                                " is not NAME@VERSION (e.g. macro@3, or macro@production)");
  return std::make_pair(std::string(ref.substr(0, at)), std::string(ref.substr(at + 1)));
}

Result<VersionPackage> ReadVersionPackage(Registry& registry, store::ArtifactStore& artifacts, std::string_view ref) {
  ALMANAC_ASSIGN_OR_RETURN(auto parts, SplitVersionRef(ref));
  const auto& [name, which] = parts;
  Result<ModelVersionRecord> v = registry.Resolve(name, which);
  if (!v.ok()) return v.status().WithContext(std::string(ref));
  VersionPackage out;
  out.version = *v;
  out.id = VersionId(v->model, v->version);
  auto bytes = artifacts.Get(v->artifact_name, v->artifact_sha256);
  if (!bytes.ok()) return bytes.status().WithContext("the package of " + out.id);
  auto package = ParsePackage(*bytes);
  if (!package.ok()) return package.status().WithContext("the package of " + out.id);
  out.package = std::move(*package);
  out.bytes = std::move(*bytes);
  return out;
}

}  // namespace almanac::registry
