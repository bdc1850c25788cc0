// Test helpers for serve: an in-memory store with a series, fitted model versions registered
// as real packages, and stage changes without four-eyes.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "almanac/models.h"
#include "almanac/registry.h"
#include "almanac/serve.h"
#include "almanac/store.h"
#include "core/testing/status_matchers.h"
#include "serve/http_api.h"

namespace almanac::serve::testing {

// Handles `req` as the transport does: on the I/O thread first, then on a worker thread when
// the route asks for one (a blocking route, or a forecast as of a date).
inline HttpResponse HandleAsTransport(const HttpApi& api, const HttpRequest& req) {
  HttpResponse res;
  if (api.Handle(req, res, /*may_block=*/false) == HttpApi::Disposition::kNeedsWorker) {
    res = HttpResponse();
    EXPECT_EQ(api.Handle(req, res, /*may_block=*/true), HttpApi::Disposition::kDone);
  }
  return res;
}

class ServeFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    store::StoreOptions o;
    o.clock = &clock_;
    store_ = *store::OpenStore("memory:", o);
    artifacts_ = *store::OpenArtifactStore("memory:");
    models::RegisterBuiltinModels(models_);
    registry_ = std::make_unique<registry::Registry>(*store_, clock_);
  }

  // Loads quarterly values from 2000Q1, known from `known` (YYYY-MM-DD).
  void Ingest(const std::string& key, const std::vector<double>& values, const std::string& known, Period start = Period(Frequency::kQuarterly, 2000 * 4)) {
    auto load = store_->series().BeginLoad({.loader = "test", .source = "test"});
    ASSERT_TRUE(load.ok()) << load.status().ToString();
    for (size_t i = 0; i < values.size(); ++i)
      ASSERT_TRUE((*load)->Add(key, start + static_cast<int64_t>(i), values[i], Date::Parse(known).value()).ok());
    ASSERT_TRUE((*load)->Commit().ok());
  }

  // Fits `type` on `key` as known at `as_of`, builds a package and registers the next version
  // of `model` (created without four-eyes unless `four_eyes`). Returns the version number.
  int64_t Register(const std::string& model, const std::string& type, const std::string& key, const std::string& as_of,
                   bool four_eyes = false, Json params = Json::object()) {
    EXPECT_TRUE(registry_->EnsureModel({model, "team", "test model", {{"four_eyes", four_eyes}}}, "alice").ok());
    clock_.Advance(1000000);
    auto snap = store_->series().CreateSnapshot({model + "-snap-" + std::to_string(++counter_), {key}, Date::Parse(as_of).value(), "alice"});
    EXPECT_TRUE(snap.ok()) << snap.status().ToString();
    auto ts = *store_->series().ReadAsOf(key, Date::Parse(as_of).value());
    models::ModelSpec spec{type, params};
    auto m = *models_.Create(spec);
    EXPECT_TRUE(m->Fit(models::ToFitInput(ts)).ok());
    registry::PackageManifest man;
    man.model_type = type;
    man.model_spec = {{"type", type}, {"params", params}};
    man.snapshot_id = snap->id;
    man.target = key;
    man.frequency = "Q";
    man.history_end = ts.end().ToString();
    man.horizon = 8;
    man.levels = {80, 95};
    man.pipeline_hash = "test-" + std::to_string(counter_);
    auto package = *registry::BuildPackage(man, *models::ModelEnvelope(*m));
    auto art = artifacts_->Put(store::ContentAddressedName(Sha256Hex(package)), package);
    EXPECT_TRUE(art.ok()) << art.status().ToString();
    const std::string run_id = "r" + std::to_string(1000000000000000 + counter_);
    InsertFinishedRun(run_id, snap->id);
    auto v = registry_->CreateVersion({model, run_id, *art, snap->id, {{"mase", 0.9}}, ""}, "alice");
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? v->version : 0;
  }

  // Issue 24: fits a var (or bvar) on `keys` as known at `as_of` and registers it as the next
  // version of `model`, as `almanac var ... --register` does: the package lists the variables.
  int64_t RegisterVar(const std::string& model, const std::vector<std::string>& keys, const std::string& as_of,
                      const std::string& type = "var", Json params = Json{{"lags", 2}}) {
    EXPECT_TRUE(registry_->EnsureModel({model, "team", "macro model", {{"four_eyes", false}}}, "alice").ok());
    clock_.Advance(1000000);
    std::vector<TimeSeries> series;
    for (const auto& k : keys) series.push_back(store_->series().ReadAsOf(k, Date::Parse(as_of).value())->Trimmed());
    auto data = models::AlignSeries(keys, series);
    EXPECT_TRUE(data.ok()) << data.status().ToString();
    auto m = models::CreateMultivariate({type, params});
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    const Status fit = (*m)->Fit(*data);
    EXPECT_TRUE(fit.ok()) << fit.ToString();
    registry::PackageManifest man;
    man.model_type = type;
    man.model_spec = {{"type", type}, {"params", params}};
    man.frequency = "Q";
    man.history_end = (*data->start + static_cast<int64_t>(data->size() - 1)).ToString();
    man.horizon = 8;
    man.variables = keys;
    man.pipeline_hash = "test-var-" + std::to_string(++counter_);
    auto package = *registry::BuildPackage(man, *models::MultivariateEnvelope(**m));
    auto art = artifacts_->Put(store::ContentAddressedName(Sha256Hex(package)), package);
    EXPECT_TRUE(art.ok()) << art.status().ToString();
    const std::string run_id = "r" + std::to_string(2000000000000000 + counter_);
    InsertFinishedRun(run_id, "");
    auto v = registry_->CreateVersion({model, run_id, *art, "", {}, ""}, "alice");
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? v->version : 0;
  }

  // A finished run of experiment "test" by alice, for a version to be made from.
  void InsertFinishedRun(const std::string& run_id, const std::string& snapshot_id) {
    const Status inserted = store_->metadata().Run([&](store::MetadataTxn& t) {
      store::RunRecord r;
      r.id = run_id;
      r.experiment = "test";
      r.user = "alice";
      r.host = "h";
      r.almanac_version = "test";
      r.snapshot_id = snapshot_id;
      r.status = store::RunStatus::kFinished;
      return t.InsertRun(r);
    });
    EXPECT_TRUE(inserted.ok()) << inserted.ToString();
  }

  void Promote(const std::string& model, int64_t version, store::Stage stage = store::Stage::kProduction) {
    clock_.Advance(1000000);
    auto p = registry_->Promote(model, version, stage, "alice", "test");
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    ASSERT_TRUE(p->applied);
  }

  std::vector<double> Growth(int n, double base = 1.0) {
    std::vector<double> v;
    for (int i = 0; i < n; ++i) v.push_back(base + 0.5 * i + ((i * 7) % 5) * 0.3);
    return v;
  }

  FixedClock clock_{1735689600000000};  // 2025-01-01
  int counter_ = 0;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<store::ArtifactStore> artifacts_;
  models::ForecasterRegistry models_;
  std::unique_ptr<registry::Registry> registry_;
};

}  // namespace almanac::serve::testing
