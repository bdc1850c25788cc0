// Accuracy of the production versions' stored forecasts against their targets as known now:
// one function for `almanac monitor`, the scheduler and serve.
#include <map>

#include "almanac/data/transforms.h"
#include "almanac/monitor.h"
#include "almanac/registry.h"
#include "monitor/package_target.h"

namespace almanac::monitor {

Result<data::TargetRecipe> PackageTargetRecipe(store::SeriesStore& store, const registry::PackageManifest& m) {
  data::TargetRecipe recipe{m.target, m.transforms, {}};
  if (!recipe.has_transforms()) return recipe;
  ALMANAC_ASSIGN_OR_RETURN(store::Snapshot snap, store.GetSnapshot(m.snapshot_id));
  for (const auto& s : snap.series) recipe.inputs.push_back(s.key);
  return recipe;
}

Result<std::vector<VersionAccuracy>> EvaluateProductionAccuracy(store::Store& store, store::ArtifactStore& artifacts,
                                                                const std::string& only_model) {
  struct Item {
    store::RegisteredModelRecord model;
    store::ModelVersionRecord version;
    std::vector<store::IssuedForecastRecord> forecasts;
  };
  std::vector<Item> items;
  ALMANAC_RETURN_IF_ERROR(store.metadata().Run([&](store::MetadataTxn& txn) -> Status {
    std::vector<store::RegisteredModelRecord> models;
    if (only_model.empty()) {
      ALMANAC_ASSIGN_OR_RETURN(models, txn.ListModels());
    } else {
      ALMANAC_ASSIGN_OR_RETURN(store::RegisteredModelRecord m, txn.GetModel(only_model));
      models.push_back(std::move(m));
    }
    for (auto& m : models) {
      ALMANAC_ASSIGN_OR_RETURN(auto versions, txn.ListVersions(m.name));
      for (auto& v : versions) {
        if (v.stage != store::Stage::kProduction) continue;
        ALMANAC_ASSIGN_OR_RETURN(auto forecasts, txn.ListForecasts(m.name, v.version));
        items.push_back({m, std::move(v), std::move(forecasts)});
      }
    }
    return Status::Ok();
  }));
  std::vector<VersionAccuracy> out;
  for (const auto& it : items) {
    const std::string id = it.model.name + "@" + std::to_string(it.version.version);
    auto rule = ParseAccuracyRule(it.model.policy);
    if (!rule.ok()) return rule.status().WithContext("model " + it.model.name);
    TimeSeries actuals;
    if (!it.forecasts.empty()) {
      ALMANAC_ASSIGN_OR_RETURN(std::string bytes, artifacts.Get(it.version.artifact_name, it.version.artifact_sha256));
      ALMANAC_ASSIGN_OR_RETURN(registry::ParsedPackage pkg, registry::ParsePackage(bytes));
      auto recipe = PackageTargetRecipe(store.series(), pkg.manifest);
      if (!recipe.ok()) return recipe.status().WithContext("actuals of " + id);
      auto target = data::TargetAsOf(store.series(), *recipe, std::nullopt);
      if (!target.ok()) return target.status().WithContext("actuals of " + id);
      actuals = std::move(target->target);
    }
    auto a = EvaluateAccuracy(it.model.name, it.version.version, it.version.metrics, it.forecasts, actuals, *rule);
    if (!a.ok()) return a.status();
    out.push_back(std::move(*a));
  }
  return out;
}

}  // namespace almanac::monitor
