// File: almanac/registry.h
//
// The model registry: registered models with owner, description, policy and model card;
// versions created from runs (each pointing at a model package artifact); stages staging,
// production and archived; promotion to production with four-eyes approval when the model's
// policy asks for it; rollback; lineage. Every change is audited in the same transaction.
//
//   registry::Registry reg(store.metadata(), artifacts, SystemClock());
//   ALMANAC_ASSIGN_OR_RETURN(auto v, reg.CreateVersion({...}, "alice"));
//   ALMANAC_ASSIGN_OR_RETURN(auto p, reg.Promote("gdp", v.version, Stage::kProduction, "alice", "beats naive"));
//   // p.applied == false: waits for an approval by someone other than alice
//   ALMANAC_ASSIGN_OR_RETURN(auto a, reg.Approve("gdp", v.version, "bob", "checked backtest"));
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "almanac/core.h"
#include "almanac/core/json.h"
#include "almanac/store.h"

namespace almanac::registry {

using store::ModelVersionRecord;
using store::PromotionRequestRecord;
using store::RegisteredModelRecord;
using store::Stage;

// ----------------------------------------------------------------------- model packages

// The version of the package format written by BuildPackage.
inline constexpr int kPackageFormatVersion = 1;

// What a model package says about itself. Everything here is derived from the run's inputs,
// so packages built from the same inputs are byte-identical (no run ids or timestamps).
struct PackageManifest {
  std::string model_type;        // e.g. "auto_ets"
  Json model_spec;               // {"type":..., "params":...}
  std::string snapshot_id;       // training data
  std::string target;            // series the model forecasts ("" for a multivariate model)
  std::string frequency;         // "Q"
  std::string history_end;       // last period of the training data
  int horizon = 0;
  std::vector<double> levels;
  Json metrics = Json::object();  // backtest metrics
  Json transforms = Json::array();  // how the target was derived
  std::string pipeline_hash;
  std::string almanac_version;
  // A multivariate model (var, bvar): its variables, the series in model order (issue 24).
  // Empty for univariate models, whose packages then have no "variables" key at all, so
  // their bytes (and SHA-256) are those of packages written before the field existed.
  std::vector<std::string> variables;
};

// The package: {"format":"almanac-model-package","format_version":1,"manifest":{...},
// "model":<model envelope>} as canonical JSON.
Result<std::string> BuildPackage(const PackageManifest& manifest, const Json& model_envelope);
struct ParsedPackage {
  PackageManifest manifest;
  Json model_envelope;
};
// Parses and checks the structure. Never executes anything: the envelope is returned as data
// for models::ForecasterRegistry::Load (or LoadMultivariate when manifest.variables is not
// empty). InvalidArgument / FailedPrecondition (newer format). "variables" is optional (older
// packages lack it) and, when present, must be a list of distinct non-empty strings.
Result<ParsedPackage> ParsePackage(std::string_view bytes);

// ---------------------------------------------------------------------------- registry

struct NewVersion {
  std::string model;
  std::string run_id;
  store::ArtifactRecord package;  // already stored in the artifact store
  std::string snapshot_id;
  Json metrics = Json::object();
  std::string description;
  // When a version of the model already has this package (same SHA-256), return that version
  // instead of creating another: decided inside the registration transaction, so concurrent
  // or re-run registrations of one package (a task re-run after its worker died) make one version.
  bool reuse_identical_package = false;
};

struct PromotionResult {
  bool applied = false;       // the stage changed now
  bool needs_approval = false;
  PromotionRequestRecord request;  // the request (id 0 when none was needed)
  ModelVersionRecord version;      // after the change
  std::optional<ModelVersionRecord> replaced;  // the previous production version, now archived
};

struct Lineage {
  ModelVersionRecord version;
  RegisteredModelRecord model;
  store::RunRecord run;
  std::vector<store::ArtifactRecord> artifacts;  // of the run
  std::optional<store::SnapshotInfo> snapshot;
  std::vector<store::VintageInfo> vintages;       // of the snapshot's series, known at its as_of
  std::vector<PromotionRequestRecord> approvals;  // promotion requests of this version
  std::vector<store::AuditEntry> audit;           // entries about this model version
};

// Thread-safe when the stores are.
class Registry {
 public:
  Registry(store::Store& store, const Clock& clock) : store_(store), clock_(clock) {}

  // Creates the model, or updates owner/description/policy when it exists (audited).
  Result<RegisteredModelRecord> EnsureModel(const RegisteredModelRecord& model, std::string_view actor);
  Result<RegisteredModelRecord> GetModel(std::string_view name);
  Result<std::vector<RegisteredModelRecord>> ListModels();
  // Updates the model card fields (merged into the existing card).
  Result<RegisteredModelRecord> UpdateCard(std::string_view name, const Json& card, std::string_view actor);

  // Creates the next version from a run. AlreadyExists when the run already created one
  // (a version is created exactly once per run). NotFound for an unknown model. With
  // reuse_identical_package, an existing version with the same package is returned (its
  // run_id then differs from the caller's).
  Result<ModelVersionRecord> CreateVersion(const NewVersion& v, std::string_view actor);
  Result<std::vector<ModelVersionRecord>> ListVersions(std::string_view model);
  // By number, or by stage name ("production", "staging") or "latest".
  Result<ModelVersionRecord> Resolve(std::string_view model, std::string_view version_or_alias);

  // Moves a version to `target`. staging/archived: applied at once. production: applied at once
  // unless the model's policy has four_eyes (the default), in which case a pending request
  // is recorded. FailedPrecondition when the version is already there, archived versions go
  // back through a request, or a request is already pending.
  Result<PromotionResult> Promote(std::string_view model, int64_t version, Stage target, std::string_view actor,
                                  std::string_view reason);
  // Approves the pending request and applies it. FailedPrecondition when `actor` is the
  // requester (four-eyes) or nothing is pending for that version.
  Result<PromotionResult> Approve(std::string_view model, int64_t version, std::string_view actor,
                                  std::string_view reason);
  Result<PromotionResult> Reject(std::string_view model, int64_t version, std::string_view actor,
                                 std::string_view reason);
  // Requests production for the version that was in production before the current one.
  // FailedPrecondition when there is none.
  Result<PromotionResult> Rollback(std::string_view model, std::string_view actor, std::string_view reason);

  Result<Lineage> GetLineage(std::string_view model, int64_t version);

 private:
  store::Store& store_;
  const Clock& clock_;
};

// ------------------------------------------------------- a version's package, by reference

// "NAME@VERSION" split at the last '@': VERSION is a number or production, staging, latest.
// InvalidArgument naming the reference when either part is empty or there is no '@'.
Result<std::pair<std::string, std::string>> SplitVersionRef(std::string_view ref);

struct VersionPackage {
  ModelVersionRecord version;
  ParsedPackage package;
  std::string id;     // "NAME@N", the resolved number
  std::string bytes;  // the package as stored (its SHA-256 is version.artifact_sha256)
};
// Resolves `ref` ("NAME@VERSION", SplitVersionRef) with registry.Resolve, reads the package
// from `artifacts` by the SHA-256 the registry recorded (DataLoss when the bytes differ) and
// parses it (ParsePackage). NotFound for an unknown model or version; InvalidArgument for a
// malformed reference. Reads only.
Result<VersionPackage> ReadVersionPackage(Registry& registry, store::ArtifactStore& artifacts, std::string_view ref);

}  // namespace almanac::registry
