// GET /v1/nowcast/{model} (issue 25) without a network: which run's nowcast is answered
// (newest, ?as_of=, reproductions and runs without a nowcast skipped), the answer is the stored
// document, and the errors: unknown model 404, bad dates 400, roles, a server without an
// artifact store, a broken document; and that the runs are found by index (no run without a
// nowcast is read). The end-to-end comparison with `almanac nowcast` is
// tests/integration/nowcast_serve_test.cc.
#include "almanac/tracking.h"
#include "serve/http_api.h"
#include "serve/openapi.h"
#include "serve/testing/serve_fixture.h"
#include "store/testing/fault_injecting_store.h"

namespace almanac::serve {
namespace {

using ::testing::HasSubstr;

class NowcastApiTest : public testing::ServeFixture {
 protected:
  void SetUp() override {
    ServeFixture::SetUp();
    // Counts the store's calls (the fixture's registry keeps the inner store, which lives on).
    auto counting = std::make_unique<store::testing::FaultInjectingStore>(std::move(store_));
    calls_ = counting.get();
    store_ = std::move(counting);
    auth_ = std::make_unique<Authenticator>(store_->metadata());
    for (Role r : {Role::kViewer, Role::kAnalyst}) {
      auto t = CreateToken(store_->metadata(), clock_, r, std::string(RoleName(r)) + "-user", "", "admin");
      ASSERT_TRUE(t.ok());
      tokens_[r] = t->secret;
    }
    ASSERT_TRUE(auth_->Refresh().ok());
    api_ = Api(artifacts_.get());
  }

  std::unique_ptr<HttpApi> Api(store::ArtifactStore* artifacts) {
    ApiContext ctx;
    ctx.store = store_.get();
    ctx.models = &models_;
    ctx.auth = auth_.get();
    ctx.metrics = &metrics_;
    ctx.clock = &clock_;
    ctx.openapi_json = OpenApiDocument();
    ctx.artifacts = artifacts;
    return std::make_unique<HttpApi>(ctx);
  }

  // A finished run of pipeline `pipeline` with `doc` as its nowcast.json and, as the pipeline
  // logs with it, the metric "nowcast" (neither when `doc` is empty). Other runs log other
  // metrics (`metric`), as a forecasting pipeline does.
  std::string AddRun(const std::string& pipeline, const std::string& doc, const std::string& reproduces = "",
                     store::RunStatus status = store::RunStatus::kFinished, const std::string& metric = "mase") {
    clock_.Advance(1000000);
    tracking::Tracker t(store_->metadata(), *artifacts_, clock_);
    auto run = t.StartRun({.experiment = pipeline, .pipeline = pipeline, .user = "alice", .reproduces = reproduces});
    EXPECT_TRUE(run.ok());
    if (!doc.empty()) {
      EXPECT_TRUE(t.LogArtifact(run->id, "nowcast.json", doc, "nowcast.json").ok());
      auto parsed = ParseJson(doc);
      const double value = parsed.ok() && parsed->is_object() ? (*parsed)["nowcast"]["value"].get<double>() : 0.0;
      EXPECT_TRUE(t.LogMetrics(run->id, {{"nowcast", 0, value, 0}}).ok());
    } else {
      EXPECT_TRUE(t.LogMetrics(run->id, {{metric, 0, 1.5, 0}}).ok());
    }
    EXPECT_TRUE(t.FinishRun(run->id, status, "").ok());
    return run->id;
  }

  static std::string Doc(const std::string& as_of, double value) {
    return Json({{"type", "dfm_nowcast"},
                 {"target", "sim:gdp"},
                 {"quarter", "2023Q4"},
                 {"as_of", as_of.empty() ? Json(nullptr) : Json(as_of)},
                 {"snapshot_id", "abc"},
                 {"nowcast", {{"value", value}, {"std_error", 0.5}}},
                 {"model", Json::object()},
                 {"news", nullptr}})
        .dump();
  }

  HttpResponse Get(const std::string& target, std::optional<Role> role = Role::kAnalyst, const HttpApi* api = nullptr) {
    HttpRequest req;
    req.method = "GET";
    req.target = target;
    const std::string auth = role ? "Bearer " + tokens_[*role] : "";
    req.authorization = auth;
    req.request_id = "req-nowcast";
    return testing::HandleAsTransport(api != nullptr ? *api : *api_, req);
  }

  store::testing::FaultInjectingStore* calls_ = nullptr;
  std::unique_ptr<Authenticator> auth_;
  monitor::MetricRegistry metrics_;
  std::unique_ptr<HttpApi> api_;
  std::map<Role, std::string> tokens_;
};

TEST_F(NowcastApiTest, AnswersTheNewestNowcastOrTheOneOfTheAsOfDate) {
  const std::string first = AddRun("gdp_nowcast", Doc("2024-01-10", 2.5));
  const std::string second = AddRun("gdp_nowcast", Doc("2024-01-25", 3.0));
  AddRun("gdp_nowcast", Doc("2024-01-25", 9.0), /*reproduces=*/second);  // a reproduction: skipped
  AddRun("gdp_nowcast", "");                                             // no nowcast: skipped
  AddRun("gdp_nowcast", Doc("2024-02-01", 7.0), "", store::RunStatus::kFailed);  // not finished
  AddRun("other", Doc("2024-02-01", 8.0));                                       // another pipeline

  HttpResponse r = Get("/v1/nowcast/gdp_nowcast");
  ASSERT_EQ(r.status, 200) << r.body;
  Json j = *ParseJson(r.body);
  EXPECT_EQ(j["name"], "gdp_nowcast");
  EXPECT_EQ(j["run_id"], second);
  EXPECT_EQ(j["nowcast"]["value"], 3.0);
  EXPECT_EQ(j["quarter"], "2023Q4");
  EXPECT_EQ(j["request_id"], "req-nowcast");
  EXPECT_FALSE(j["finished"].is_null());

  j = *ParseJson(Get("/v1/nowcast/gdp_nowcast?as_of=2024-01-24").body);
  EXPECT_EQ(j["run_id"], first);
  j = *ParseJson(Get("/v1/nowcast/gdp_nowcast?as_of=2024-01-25").body);
  EXPECT_EQ(j["run_id"], second);
  r = Get("/v1/nowcast/gdp_nowcast?as_of=2024-01-09");
  EXPECT_EQ(r.status, 404);
  EXPECT_THAT(r.body, HasSubstr("has no nowcast on data as of 2024-01-09 (its earliest is on data of 2024-01-10)"));
  // A run on the latest data counts from the day it started (the clock: 2025-01-01).
  const std::string latest = AddRun("gdp_latest", Doc("", 1.0));
  EXPECT_EQ(ParseJson(Get("/v1/nowcast/gdp_latest?as_of=2025-01-01").body).value()["run_id"], latest);
  EXPECT_EQ(Get("/v1/nowcast/gdp_latest?as_of=2024-12-31").status, 404);
}

TEST_F(NowcastApiTest, ErrorsAreThoseOfTheOtherRoutes) {
  AddRun("gdp_nowcast", Doc("2024-01-25", 3.0));
  HttpResponse r = Get("/v1/nowcast/nope");
  EXPECT_EQ(r.status, 404);
  Json j = *ParseJson(r.body);
  EXPECT_THAT(j["message"].get<std::string>(), HasSubstr("nowcast model 'nope' not found"));
  EXPECT_EQ(j["request_id"], "req-nowcast");
  EXPECT_TRUE(j.contains("code"));
  EXPECT_EQ(Get("/v1/nowcast/gdp_nowcast?as_of=2024-02-30").status, 400);
  r = Get("/v1/nowcast/gdp_nowcast?as_of=2025-01-02");  // after the clock's today
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("in the future"));
  EXPECT_EQ(Get("/v1/nowcast/gdp_nowcast", Role::kViewer).status, 403);  // needs predict
  EXPECT_EQ(Get("/v1/nowcast/gdp_nowcast", std::nullopt).status, 401);
  EXPECT_EQ(Get("/v1/nowcast/gdp_nowcast?as_of=2024-01-25&x=1").status, 400);  // unknown query parameter
  // Without an artifact store the server cannot read nowcasts: 503.
  auto without = Api(nullptr);
  EXPECT_EQ(Get("/v1/nowcast/gdp_nowcast", Role::kAnalyst, without.get()).status, 503);
  // A stored document that is not a nowcast is reported, not served.
  AddRun("broken", "[1, 2]");
  EXPECT_EQ(Get("/v1/nowcast/broken").status, 500);
}

// The route finds nowcast runs by index: however many runs of a pipeline stored no nowcast
// (a forecasting pipeline, or a nowcast pipeline's newest runs after the file changed), it reads
// no run's details and only the artifacts of the run it answers.
TEST_F(NowcastApiTest, FindsTheNowcastRunsByIndexWithoutReadingOtherRuns) {
  const std::string nowcast = AddRun("gdp", Doc("2024-01-25", 3.0));
  for (int i = 0; i < 15; ++i) AddRun("gdp", "");
  for (int i = 0; i < 15; ++i) AddRun("gdp_forecast", "", "", store::RunStatus::kFinished, "nowcast_like");
  const int get_runs = calls_->calls("GetRun");
  const int get_artifacts = calls_->calls("GetArtifacts");

  HttpResponse r = Get("/v1/nowcast/gdp");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(ParseJson(r.body).value()["run_id"], nowcast);
  EXPECT_EQ(calls_->calls("GetRun") - get_runs, 0);
  EXPECT_EQ(calls_->calls("GetArtifacts") - get_artifacts, 1);  // the answered run's only

  r = Get("/v1/nowcast/gdp_forecast");
  EXPECT_EQ(r.status, 404) << r.body;
  EXPECT_THAT(r.body, HasSubstr("nowcast model 'gdp_forecast' not found"));
  EXPECT_EQ(calls_->calls("GetRun") - get_runs, 0);
  EXPECT_EQ(calls_->calls("GetArtifacts") - get_artifacts, 1);  // none more
  // A metric named "nowcast" alone does not make a run a nowcast: it needs its nowcast.json.
  AddRun("gdp_metric_only", "", "", store::RunStatus::kFinished, "nowcast");
  r = Get("/v1/nowcast/gdp_metric_only");
  EXPECT_EQ(r.status, 404) << r.body;
  EXPECT_EQ(calls_->calls("GetArtifacts") - get_artifacts, 2);
}

}  // namespace
}  // namespace almanac::serve
