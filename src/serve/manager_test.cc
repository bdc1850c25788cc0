// The loader and the manager: loading through the artifact store, atomic swaps, handles that
// pin a version, failures that keep the previous version, lifecycle events.
#include <atomic>
#include <thread>

#include "serve/forecast_cache.h"
#include "serve/testing/serve_fixture.h"

namespace almanac::serve {
namespace {

using ::almanac::testing::IsOk;
using ::almanac::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class ManagerTest : public testing::ServeFixture {
 protected:
  std::unique_ptr<ServableManager> NewManager(const std::string& policy = "production") {
    ServableManager::Options o;
    o.policy = *ParseVersionPolicy(policy);
    o.on_event = [this](const ServableEvent& e) {
      std::lock_guard lock(mu_);
      events_.push_back(e.model + "@" + std::to_string(e.version) + ":" + std::string(ServableStateName(e.state)));
    };
    return std::make_unique<ServableManager>(o, *artifacts_, models_, &store_->series(), clock_);
  }
  ServableManager::ReconcileReport Reconcile(ServableManager& m) { return m.Reconcile(*ReadRegistryState(store_->metadata())); }
  std::vector<std::string> TakeEvents() {
    std::lock_guard lock(mu_);
    return std::exchange(events_, {});
  }

  std::mutex mu_;
  std::vector<std::string> events_;
};

TEST_F(ManagerTest, LoadsTheProductionVersionThroughTheArtifactStore) {
  Ingest("us:gdp", Growth(40), "2010-01-15");
  const int64_t v1 = Register("gdp", "drift", "us:gdp", "2010-02-01");
  auto m = NewManager();
  auto r = Reconcile(*m);
  EXPECT_EQ(r.loaded, 0);  // nothing in production yet
  EXPECT_TRUE(m->Ready());  // and nothing is wanted
  Promote("gdp", v1);
  r = Reconcile(*m);
  EXPECT_EQ(r.loaded, 1);
  EXPECT_TRUE(r.changed);
  EXPECT_THAT(TakeEvents(), ElementsAre("gdp@1:new", "gdp@1:loading", "gdp@1:ready"));
  ASSERT_OK_AND_ASSIGN(ServableHandle h, m->Get("gdp", {}));
  EXPECT_EQ(h.version->version, v1);
  EXPECT_EQ(h.label, "production");
  EXPECT_EQ(h.version->method, h.version->forecaster->Describe().method);
  EXPECT_EQ(h.version->history_end.ToString(), "2009Q4");
  EXPECT_THAT(h.version->input_series, ElementsAre("us:gdp"));
  EXPECT_EQ(h.version->snapshot_as_of->ToString(), "2010-02-01");
  // Unchanged registry: nothing happens.
  const uint64_t gen = m->generation();
  r = Reconcile(*m);
  EXPECT_FALSE(r.changed);
  EXPECT_EQ(m->generation(), gen);
  EXPECT_TRUE(m->Ready());
}

TEST_F(ManagerTest, SwapsAtomicallyAndHandlesPinTheirVersion) {
  Ingest("us:gdp", Growth(40), "2010-01-15");
  const int64_t v1 = Register("gdp", "naive", "us:gdp", "2010-02-01");
  const int64_t v2 = Register("gdp", "mean", "us:gdp", "2010-02-01");
  Promote("gdp", v1);
  auto m = NewManager();
  Reconcile(*m);
  ASSERT_OK_AND_ASSIGN(ServableHandle old, m->Get("gdp", {}));
  const double level = 80;
  const double old_mean = old.version->forecaster->Predict(1, std::span<const double>(&level, 1))->mean[0];
  TakeEvents();
  Promote("gdp", v2);
  auto r = Reconcile(*m);
  EXPECT_EQ(r.loaded, 1);
  EXPECT_EQ(r.unloaded, 1);
  EXPECT_THAT(TakeEvents(), ElementsAre("gdp@2:new", "gdp@2:loading", "gdp@1:unloading", "gdp@2:ready", "gdp@1:disabled"));
  ASSERT_OK_AND_ASSIGN(ServableHandle now, m->Get("gdp", {}));
  EXPECT_EQ(now.version->version, v2);
  // The request that started with version 1 still has it, intact.
  EXPECT_EQ(old.version->version, v1);
  EXPECT_EQ(old.version->forecaster->Predict(1, std::span<const double>(&level, 1))->mean[0], old_mean);
  EXPECT_THAT(m->Get("gdp", {.version = v1}), StatusIs(StatusCode::kNotFound, "serves version 2 (production)"));
}

TEST_F(ManagerTest, AVersionThatFailsToLoadIsReportedAndThePreviousStays) {
  Ingest("us:gdp", Growth(40), "2010-01-15");
  const int64_t v1 = Register("gdp", "naive", "us:gdp", "2010-02-01");
  Promote("gdp", v1);
  // Version 2 points at bytes whose SHA-256 is not the registered one (a tampered package).
  ASSERT_OK(store_->metadata().Run([](store::MetadataTxn& t) {
    store::RunRecord r;
    r.id = "rbad";
    r.experiment = "x";
    r.user = "u";
    r.host = "h";
    r.almanac_version = "t";
    return t.InsertRun(r);
  }));
  auto good = *artifacts_->Put("bad/package.json", "{\"format\":\"almanac-model-package\"}");
  store::ArtifactRecord tampered = good;
  tampered.sha256 = std::string(64, 'f');
  ASSERT_OK(registry_->CreateVersion({"gdp", "rbad", tampered, "", {}, ""}, "alice").status());
  auto m = NewManager();
  Reconcile(*m);
  TakeEvents();
  Promote("gdp", 2);
  auto r = Reconcile(*m);
  EXPECT_EQ(r.failed, 1);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_THAT(r.errors[0], HasSubstr("gdp@2"));
  EXPECT_THAT(TakeEvents(), ElementsAre("gdp@2:new", "gdp@2:loading", "gdp@2:error"));
  // Still served: version 1, under the production label.
  ASSERT_OK_AND_ASSIGN(ServableHandle h, m->Get("gdp", {}));
  EXPECT_EQ(h.version->version, v1);
  EXPECT_TRUE(m->Ready());  // production is served, by the previous version
  bool reported = false;
  for (const auto& s : m->Statuses())
    if (s.version == 2 && s.state == ServableState::kError) reported = !s.error.empty();
  EXPECT_TRUE(reported);
  // Not retried before the retry interval...
  r = Reconcile(*m);
  EXPECT_THAT(TakeEvents(), ElementsAre());
  // ...and retried after it.
  clock_.Advance(31'000'000);
  r = Reconcile(*m);
  EXPECT_THAT(TakeEvents(), ElementsAre("gdp@2:loading", "gdp@2:error"));
}

// Issue 24: a registered var is for the risk routes; the loader skips it (not an error), the
// server is ready, other models are served, and asking for it says why it is not served.
TEST_F(ManagerTest, AMultivariateVersionIsSkippedAndOtherModelsAreServed) {
  Ingest("us:gdp", Growth(40), "2010-01-15");
  std::vector<double> cpi;  // not collinear with us:gdp's Growth pattern
  for (int i = 0; i < 40; ++i) cpi.push_back(3 + 0.2 * i + ((i * 3) % 7) * 0.4);
  Ingest("us:cpi", cpi, "2010-01-15");
  const int64_t gdp = Register("gdp", "naive", "us:gdp", "2010-02-01");
  Promote("gdp", gdp);
  const int64_t macro = RegisterVar("macro", {"us:gdp", "us:cpi"}, "2010-02-01");
  Promote("macro", macro);
  auto m = NewManager("production,macro@1");
  auto r = Reconcile(*m);
  EXPECT_EQ(r.loaded, 1);
  EXPECT_EQ(r.failed, 0);
  EXPECT_TRUE(r.errors.empty());
  EXPECT_THAT(TakeEvents(), ::testing::UnorderedElementsAre("gdp@1:new", "gdp@1:loading", "gdp@1:ready", "macro@1:new",
                                                            "macro@1:loading", "macro@1:disabled"));
  EXPECT_TRUE(m->Ready());
  EXPECT_EQ(m->Get("gdp", {})->version->version, gdp);
  EXPECT_THAT(m->Get("macro", {}), StatusIs(StatusCode::kFailedPrecondition, "macro@1 is a var model (multivariate"));
  EXPECT_THAT(m->Get("macro", {.version = macro}), StatusIs(StatusCode::kFailedPrecondition, "not servable by /v1/forecast"));
  EXPECT_EQ(m->Loaded().count("macro"), 0u);
  bool said = false;
  for (const auto& s : m->Statuses())
    if (s.model == "macro" && s.state == ServableState::kDisabled) said = s.error.find("us:gdp, us:cpi") != std::string::npos;
  EXPECT_TRUE(said);
  // Read once: the next reconcile neither reloads nor reports it again.
  const uint64_t gen = m->generation();
  r = Reconcile(*m);
  EXPECT_FALSE(r.changed);
  EXPECT_EQ(m->generation(), gen);
  EXPECT_THAT(TakeEvents(), ElementsAre());
  clock_.Advance(31'000'000);
  Reconcile(*m);
  EXPECT_THAT(TakeEvents(), ElementsAre());
}

TEST_F(ManagerTest, AFirstVersionThatFailsLeavesTheServerNotReady) {
  ASSERT_OK(registry_->EnsureModel({"gdp", "t", "", {{"four_eyes", false}}}, "alice").status());
  ASSERT_OK(store_->metadata().Run([](store::MetadataTxn& t) {
    store::RunRecord r;
    r.id = "r1";
    r.experiment = "x";
    r.user = "u";
    r.host = "h";
    r.almanac_version = "t";
    return t.InsertRun(r);
  }));
  // A package whose model type does not exist: parsed as data, refused, nothing executed.
  registry::PackageManifest man;
  man.model_type = "rm -rf";
  man.frequency = "Q";
  man.history_end = "2009Q4";
  auto bytes = *registry::BuildPackage(man, {{"format", "almanac-model"}, {"format_version", 1},
                                             {"spec", {{"type", "system('rm -rf /')"}, {"params", Json::object()}}},
                                             {"state", Json::object()}});
  auto art = *artifacts_->Put("p/evil.json", bytes);
  ASSERT_OK(registry_->CreateVersion({"gdp", "r1", art, "", {}, ""}, "alice").status());
  Promote("gdp", 1);
  auto m = NewManager();
  auto r = Reconcile(*m);
  EXPECT_EQ(r.failed, 1);
  EXPECT_FALSE(m->Ready());
  EXPECT_THAT(m->Get("gdp", {}), StatusIs(StatusCode::kNotFound, "not served"));
}

TEST_F(ManagerTest, StagingAndPinnedVersionsAndGetErrors) {
  Ingest("us:gdp", Growth(40), "2010-01-15");
  const int64_t v1 = Register("gdp", "naive", "us:gdp", "2010-02-01");
  const int64_t v2 = Register("gdp", "drift", "us:gdp", "2010-02-01");
  const int64_t v3 = Register("gdp", "mean", "us:gdp", "2010-02-01");
  Promote("gdp", v2);
  Promote("gdp", v3, store::Stage::kStaging);
  auto m = NewManager("production,staging,gdp@1");
  Reconcile(*m);
  EXPECT_EQ(m->Get("gdp", {})->version->version, v2);
  EXPECT_EQ(m->Get("gdp", {.alias = "staging"})->version->version, v3);
  EXPECT_EQ(m->Get("gdp", {.version = v1})->version->version, v1);
  EXPECT_EQ(m->Get("gdp", {.version = v1})->label, "version");
  EXPECT_THAT(m->Get("gdq", {}), StatusIs(StatusCode::kNotFound, "did you mean 'gdp'"));
  EXPECT_THAT(m->Get("gdp", {.alias = "latest"}), StatusIs(StatusCode::kInvalidArgument, "unknown alias"));
  EXPECT_THAT(m->Get("gdp", {.version = 7}), StatusIs(StatusCode::kNotFound, "1 (pinned)"));
  auto prod_only = NewManager("production");
  Reconcile(*prod_only);
  EXPECT_THAT(prod_only->Get("gdp", {.alias = "staging"}), StatusIs(StatusCode::kNotFound, "no staging version"));
  // Promoting the staging version relabels it without a reload.
  TakeEvents();
  Promote("gdp", v3);
  auto r = Reconcile(*m);
  EXPECT_TRUE(r.changed);
  EXPECT_EQ(r.loaded, 0);
  EXPECT_EQ(m->Get("gdp", {})->version->version, v3);
  EXPECT_THAT(m->Get("gdp", {.alias = "staging"}), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(m->Get("gdp", {.version = v2}), StatusIs(StatusCode::kNotFound));
}

TEST_F(ManagerTest, ConcurrentRequestsDuringSwapsSeeWholeVersions) {
  Ingest("us:gdp", Growth(40), "2010-01-15");
  const int64_t v1 = Register("gdp", "naive", "us:gdp", "2010-02-01");
  const int64_t v2 = Register("gdp", "mean", "us:gdp", "2010-02-01");
  Promote("gdp", v1);
  auto m = NewManager();
  Reconcile(*m);
  const double level = 80;
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0}, seen1{0}, seen2{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t)
    readers.emplace_back([&] {
      while (!stop) {
        auto h = m->Get("gdp", {});
        if (!h.ok()) {
          ++bad;
          continue;
        }
        auto fc = h->version->forecaster->Predict(2, std::span<const double>(&level, 1));
        if (!fc.ok() || fc->mean.size() != 2) ++bad;
        (h->version->version == v1 ? seen1 : seen2)++;
      }
    });
  // Swap only once every reader runs (on a busy machine the swaps could otherwise all finish
  // before any reader was scheduled, and the test would check nothing).
  while (seen1 + seen2 + bad < 3) std::this_thread::yield();
  for (int i = 0; i < 20; ++i) {
    Promote("gdp", i % 2 ? v1 : v2);
    Reconcile(*m);
  }
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(bad, 0);
  EXPECT_GT(seen1 + seen2, 0);
}

TEST(ForecastCacheTest, LruBoundsAndGenerations) {
  ForecastCache c(2, 1 << 20);
  const uint64_t g = c.generation();
  c.Put("a", std::make_shared<const std::string>("A"), g);
  c.Put("b", std::make_shared<const std::string>("B"), g);
  ASSERT_NE(c.Get("a"), nullptr);  // a is now the most recent
  c.Put("c", std::make_shared<const std::string>("C"), g);
  EXPECT_EQ(c.Get("b"), nullptr);  // evicted
  EXPECT_EQ(*c.Get("a"), "A");
  EXPECT_EQ(c.entries(), 2u);
  c.Clear();
  EXPECT_EQ(c.entries(), 0u);
  c.Put("old", std::make_shared<const std::string>("computed before the clear"), g);
  EXPECT_EQ(c.Get("old"), nullptr);
  ForecastCache small(100, 10);
  small.Put("k", std::make_shared<const std::string>("0123456789"), small.generation());  // over the byte bound
  EXPECT_EQ(small.Get("k"), nullptr);
  small.Put("k", std::make_shared<const std::string>("01"), small.generation());
  small.Put("l", std::make_shared<const std::string>("0123"), small.generation());
  small.Put("m", std::make_shared<const std::string>("0123"), small.generation());
  EXPECT_LE(small.bytes(), 10u);
  EXPECT_EQ(small.Get("k"), nullptr);
  ForecastCache off(0, 0);
  off.Put("x", std::make_shared<const std::string>("x"), off.generation());
  EXPECT_EQ(off.Get("x"), nullptr);
}

}  // namespace
}  // namespace almanac::serve
