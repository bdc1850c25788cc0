// The control loop without a network (issue 26): the first poll loads what the policy selects,
// and polling follows the store: a promotion swaps the served version and drops cached
// forecasts, a new or revoked token is seen from the next poll, the tokens' last use and the
// production forecasts answered are written, and accuracy is re-scored after a change.
#include "serve/controller.h"

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "serve/testing/serve_fixture.h"

namespace almanac::serve {
namespace {

using ::testing::HasSubstr;

class ControllerTest : public testing::ServeFixture {
 protected:
  void SetUp() override {
    ServeFixture::SetUp();
    Ingest("us:gdp", Growth(40), "2010-01-15");
    v1_ = Register("gdp", "naive", "us:gdp", "2010-02-01");
    Promote("gdp", v1_);
    options_.poll_seconds = 0.02;
    options_.policy = *ParseVersionPolicy("production");
    options_.accuracy = [this]() -> Result<std::vector<monitor::VersionAccuracy>> {
      ++accuracy_calls_;
      return std::vector<monitor::VersionAccuracy>{};
    };
    ServerDeps deps;
    deps.store = store_.get();
    deps.artifacts = artifacts_.get();
    deps.models = &models_;
    controller_ = std::make_unique<Controller>(options_, deps, clock_, metrics_, [this](std::string_view line) {
      std::lock_guard lock(log_mu_);
      log_ += std::string(line) + "\n";
    });
  }

  // Polls until `done` holds (at most 20 s of real time: the poller waits on a steady clock).
  bool Eventually(const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return done();
  }

  int64_t ServedProduction() {
    for (const auto& [model, handles] : controller_->manager().Loaded())
      for (const auto& h : handles)
        if (model == "gdp" && h.label == "production") return h.version->version;
    return 0;
  }

  std::string Log() {
    std::lock_guard lock(log_mu_);
    return log_;
  }

  int64_t v1_ = 0;
  ServerOptions options_;
  monitor::MetricRegistry metrics_;
  std::atomic<int> accuracy_calls_{0};
  std::mutex log_mu_;
  std::string log_;
  std::unique_ptr<Controller> controller_;
};

TEST_F(ControllerTest, InitLoadsThePolicysVersionsAndPollingFollowsAPromotion) {
  controller_->Init();
  EXPECT_TRUE(controller_->manager().Ready());
  EXPECT_EQ(ServedProduction(), v1_);
  EXPECT_TRUE(controller_->StoreStatus().first);
  EXPECT_THAT(Log(), HasSubstr("serving gdp@1 as production"));
  EXPECT_THAT(metrics_.Exposition(),
              HasSubstr(R"(almanac_model_version_info{model="gdp",version="1",stage="production"} 1)"));
  // A cached forecast, then a promotion: the poller swaps the version and drops the cache.
  ForecastCache& cache = controller_->cache();
  cache.Put("k", std::make_shared<const std::string>("cached"), cache.generation());
  ASSERT_TRUE(cache.Get("k"));
  const int64_t v2 = Register("gdp", "naive", "us:gdp", "2010-02-01");
  Promote("gdp", v2);
  controller_->StartPolling();
  ASSERT_TRUE(Eventually([&] { return ServedProduction() == v2; })) << Log();
  EXPECT_FALSE(cache.Get("k"));
  controller_->StopPolling();
  EXPECT_THAT(Log(), HasSubstr("serving gdp@2 as production"));
  const std::string exposition = metrics_.Exposition();
  EXPECT_THAT(exposition, HasSubstr(R"(almanac_model_version_info{model="gdp",version="2",stage="production"} 1)"));
  EXPECT_THAT(exposition, ::testing::Not(HasSubstr(R"(almanac_model_version_info{model="gdp",version="1")")));
  EXPECT_THAT(exposition, HasSubstr(R"(almanac_model_reloads_total{result="success"} 2)"));
  EXPECT_GE(accuracy_calls_.load(), 2);  // the first poll and the promotion
}

TEST_F(ControllerTest, TokensAreReadFromTheNextPollAndTheirLastUseIsWritten) {
  controller_->Init();
  auto created = CreateToken(store_->metadata(), clock_, Role::kViewer, "vera", "", "admin");
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  const std::string header = "Bearer " + created->secret;
  Principal who;
  std::string why;
  // Not in the copy yet: the API would look it up on a worker.
  EXPECT_EQ(controller_->auth().Check(header, &who, &why), Authenticator::Outcome::kNeedsStore);
  controller_->StartPolling();
  ASSERT_TRUE(Eventually([&] { return controller_->auth().Check(header, &who, &why) == Authenticator::Outcome::kOk; }));
  EXPECT_EQ(who.user, "vera");
  // The use just made is written by a following poll.
  ASSERT_TRUE(Eventually([&] {
    auto tokens = ListTokens(store_->metadata());
    return tokens.ok() && tokens->size() == 1 && (*tokens)[0].last_used_at != 0;
  }));
  ASSERT_TRUE(RevokeToken(store_->metadata(), clock_, created->record.id, "admin").ok());
  ASSERT_TRUE(Eventually(
      [&] { return controller_->auth().Check(header, &who, &why) == Authenticator::Outcome::kUnauthenticated; }));
  EXPECT_THAT(why, HasSubstr("revoked"));
  controller_->StopPolling();
}

TEST_F(ControllerTest, ProductionForecastsAreQueuedOnceAndWrittenByThePoller) {
  controller_->Init();
  auto handle = controller_->manager().Get("gdp", VersionRef{.alias = "production"});
  ASSERT_TRUE(handle.ok()) << handle.status().ToString();
  const LoadedVersion& lv = *handle->version;
  const std::vector<double> levels = {80};
  auto fc = lv.forecaster->Predict(4, levels);
  ASSERT_TRUE(fc.ok());
  controller_->RecordForecast(lv, *fc);
  controller_->RecordForecast(lv, *fc);  // the same horizon again: not queued twice
  const int calls_before = accuracy_calls_.load();
  controller_->StartPolling();
  ASSERT_TRUE(Eventually([&] {
    auto stored = store_->metadata().Transact<std::vector<store::IssuedForecastRecord>>(
        [&](store::MetadataTxn& t) { return t.ListForecasts("gdp", v1_); });
    return stored.ok() && stored->size() == 1;
  }));
  // A new forecast re-scores accuracy.
  ASSERT_TRUE(Eventually([&] { return accuracy_calls_.load() > calls_before; }));
  controller_->StopPolling();
  auto stored = store_->metadata().Transact<std::vector<store::IssuedForecastRecord>>(
      [&](store::MetadataTxn& t) { return t.ListForecasts("gdp", v1_); });
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(stored->size(), 1u);
  EXPECT_EQ((*stored)[0].mean, fc->mean);
  EXPECT_EQ((*stored)[0].issued_by, "serve");
  EXPECT_EQ((*stored)[0].origin, lv.history_end.ToString());
}

}  // namespace
}  // namespace almanac::serve
