// The HTTP handler without a network: routing, path checks, input validation, roles, the
// forecast cache, as_of refits, and the OpenAPI document kept in sync with the routes.
#include <fstream>
#include <set>
#include <sstream>

#include "serve/http_api.h"
#include "serve/openapi.h"
#include "serve/testing/serve_fixture.h"

namespace almanac::serve {
namespace {

using ::almanac::testing::IsOk;
using ::almanac::testing::StatusIs;
using ::testing::HasSubstr;

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

TEST(OpenApiTest, EveryRouteIsDocumentedAndNothingElse) {
  const std::string file = ReadFile(ALMANAC_SOURCE_DIR "/docs/openapi.json");
  ASSERT_FALSE(file.empty());
  // The server serves exactly the committed document.
  EXPECT_EQ(OpenApiDocument(), file);
  ASSERT_OK_AND_ASSIGN(Json doc, ParseJson(file));
  EXPECT_EQ(doc["openapi"].get<std::string>().substr(0, 2), "3.");
  std::set<std::pair<std::string, std::string>> documented;
  std::map<std::pair<std::string, std::string>, std::string> permission;
  for (auto p = doc["paths"].begin(); p != doc["paths"].end(); ++p)
    for (auto m = p.value().begin(); m != p.value().end(); ++m) {
      std::string method = m.key();
      for (auto& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      documented.insert({method, p.key()});
      permission[{method, p.key()}] = m.value().value("x-almanac-permission", "");
    }
  std::set<std::pair<std::string, std::string>> routes;
  for (const auto& r : HttpApi::Routes()) {
    routes.insert({std::string(r.method), std::string(r.path)});
    const std::string documented_permission = permission[std::make_pair(std::string(r.method), std::string(r.path))];
    EXPECT_EQ(documented_permission, PermissionName(r.permission)) << r.path;
  }
  for (const auto& d : documented) EXPECT_TRUE(routes.count(d)) << "documented but not routed: " << d.first << " " << d.second;
  for (const auto& r : routes) EXPECT_TRUE(documented.count(r)) << "routed but not documented: " << r.first << " " << r.second;
}

struct PathCase {
  std::string target;
  bool ok;
  std::string why;
};

TEST(SplitTargetTest, RefusesTraversalEncodedDotsSemicolonsNulAndOverlongSegments) {
  const PathCase cases[] = {
      {"/v1/series/us:realgdp", true, ""},
      {"/v1/series/us%3Arealgdp?as_of=2010-01-01", true, ""},
      {"/v1/models/gdp/versions", true, ""},
      {"/v1/series/../../etc/passwd", false, "'.' and '..'"},
      {"/v1/series/%2e%2e/x", false, "'.' and '..'"},
      {"/v1/series/%2E%2E%2Fetc", false, "invalid character '/'"},
      {"/v1/series/a;b", false, "invalid character ';'"},
      {"/v1/series/a%3bb", false, "invalid character ';'"},
      {"/v1/series/a%00b", false, "byte 0x00"},
      {"/v1/series/a%zzb", false, "bad percent escape"},
      {"/v1/series/a%2", false, "bad percent escape"},
      {"/v1/series/a%252e", false, "invalid character '%'"},
      {"/v1//series", false, "empty path segment"},
      {"/v1/series/", false, "empty path segment"},
      {"/v1/series/a\\b", false, "invalid character"},
      {"/v1/series/" + std::string(300, 'a'), false, "longer than 256"},
      {"/" + std::string(5000, 'a'), false, "longer than 4096"},
      {"v1/series", false, "absolute path"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> segs;
    std::string q;
    Status s = SplitTarget(c.target, &segs, &q);
    EXPECT_EQ(s.ok(), c.ok) << c.target << ": " << s.ToString();
    if (!c.ok) {
      EXPECT_THAT(s.message(), HasSubstr(c.why)) << c.target;
    }
  }
  std::vector<std::string> segs;
  std::string q;
  ASSERT_OK(SplitTarget("/v1/series/us%3Arealgdp?as_of=2010-01-01", &segs, &q));
  EXPECT_EQ(segs.back(), "us:realgdp");
  EXPECT_EQ(q, "as_of=2010-01-01");
}

class HttpApiTest : public testing::ServeFixture {
 protected:
  void SetUp() override {
    ServeFixture::SetUp();
    Ingest("us:gdp", Growth(40), "2010-01-15");
    v1_ = Register("gdp", "auto_ets", "us:gdp", "2010-02-01");
    Promote("gdp", v1_);
    ServableManager::Options mo;
    mo.policy = *ParseVersionPolicy("production");
    manager_ = std::make_unique<ServableManager>(mo, *artifacts_, models_, &store_->series(), clock_);
    manager_->Reconcile(*ReadRegistryState(store_->metadata()));
    auth_ = std::make_unique<Authenticator>(store_->metadata());
    cache_ = std::make_unique<ForecastCache>(100, 1 << 20);
    for (Role r : {Role::kViewer, Role::kAnalyst, Role::kModeler, Role::kApprover, Role::kAdmin}) {
      auto t = CreateToken(store_->metadata(), clock_, r, std::string(RoleName(r)) + "-user", "", "admin");
      ASSERT_TRUE(t.ok());
      tokens_[r] = t->secret;
    }
    ASSERT_OK(auth_->Refresh());
    ApiContext ctx;
    ctx.manager = manager_.get();
    ctx.store = store_.get();
    ctx.models = &models_;
    ctx.auth = auth_.get();
    ctx.cache = cache_.get();
    ctx.metrics = &metrics_;
    ctx.clock = &clock_;
    ctx.openapi_json = OpenApiDocument();
    api_ = std::make_unique<HttpApi>(ctx);
  }

  HttpResponse Call(std::string_view method, std::string_view target, std::string_view body = "",
                    std::optional<Role> role = Role::kAdmin) {
    HttpRequest req;
    req.method = method;
    req.target = target;
    req.body = body;
    const std::string auth = role ? "Bearer " + tokens_[*role] : "";
    req.authorization = auth;
    req.request_id = "req-1";
    HttpResponse res;
    if (api_->Handle(req, res, /*may_block=*/false) == HttpApi::Disposition::kNeedsWorker) {
      res = HttpResponse();
      EXPECT_EQ(api_->Handle(req, res, /*may_block=*/true), HttpApi::Disposition::kDone);
    }
    return res;
  }
  Json Body(const HttpResponse& r) { return *ParseJson(r.body); }

  int64_t v1_ = 0;
  std::unique_ptr<ServableManager> manager_;
  std::unique_ptr<Authenticator> auth_;
  std::unique_ptr<ForecastCache> cache_;
  monitor::MetricRegistry metrics_;
  std::unique_ptr<HttpApi> api_;
  std::map<Role, std::string> tokens_;
};

TEST_F(HttpApiTest, ForecastFromTheProductionVersionIsCached) {
  auto r = Call("POST", "/v1/forecast", R"({"model":"gdp","horizon":8,"levels":[80,95]})", Role::kViewer);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_FALSE(r.cache_hit);
  Json j = Body(r);
  EXPECT_EQ(j["version"], v1_);
  EXPECT_EQ(j["alias"], "production");
  EXPECT_EQ(j["periods"].size(), 8u);
  EXPECT_EQ(j["periods"][0], "2010Q1");
  EXPECT_EQ(j["intervals"].size(), 2u);
  EXPECT_EQ(j["intervals"][1]["level"], 95);
  EXPECT_EQ(j["data"]["refit"], false);
  EXPECT_EQ(j["data"]["as_of"], "2010-02-01");
  EXPECT_EQ(j["request_id"], "req-1");
  for (int i = 0; i < 8; ++i) {
    EXPECT_LT(j["intervals"][1]["lower"][i].get<double>(), j["intervals"][0]["lower"][i].get<double>());
    EXPECT_GT(j["intervals"][1]["upper"][i].get<double>(), j["mean"][i].get<double>());
  }
  auto again = Call("POST", "/v1/forecast", R"({"model":"gdp","horizon":8,"levels":[80,95]})", Role::kViewer);
  EXPECT_TRUE(again.cache_hit);
  EXPECT_EQ(again.body, r.body);
  // Another horizon or level set is another entry.
  EXPECT_FALSE(Call("POST", "/v1/forecast", R"({"model":"gdp","horizon":4,"levels":[80,95]})").cache_hit);
  EXPECT_FALSE(Call("POST", "/v1/forecast", R"({"model":"gdp","horizon":8,"levels":[90]})").cache_hit);
  // By version number: same numbers, no alias.
  auto by_number = Body(Call("POST", "/v1/forecast", R"({"model":"gdp","version":1,"horizon":8})"));
  EXPECT_EQ(by_number["alias"], nullptr);
  EXPECT_EQ(by_number["mean"], j["mean"]);
}

TEST_F(HttpApiTest, ForecastBadInputs) {
  struct Bad {
    std::string body;
    int status;
    std::string message;
  };
  const Bad cases[] = {
      {"", 400, "must be a JSON object"},
      {"{", 400, "malformed JSON"},
      {"[1,2]", 400, "must be a JSON object"},
      {R"({"model":"gdp","horizon":8,"horizn":8})", 400, "unknown field 'horizn' (did you mean 'horizon'"},
      {R"({"horizon":8})", 400, "missing field 'model'"},
      {R"({"model":42,"horizon":8})", 400, "'model' must be a string"},
      {R"({"model":"gdp","horizon":"8"})", 400, "'horizon' must be an integer"},
      {R"({"model":"gdp","horizon":8.5})", 400, "'horizon' must be an integer"},
      {R"({"model":"gdp"})", 400, "missing field 'horizon'"},
      {R"({"model":"gdp","horizon":0})", 400, "horizon must be in 1..10000, got 0"},
      {R"({"model":"gdp","horizon":-3})", 400, "got -3"},
      {R"({"model":"gdp","horizon":1000000000})", 400, "got 1000000000"},
      {R"({"model":"gdp","horizon":99999999999999999999})", 400, "must be an integer"},
      {R"({"model":"gdp","horizon":8,"levels":[0]})", 400, "outside (0, 100)"},
      {R"({"model":"gdp","horizon":8,"levels":[100]})", 400, "outside (0, 100)"},
      {R"({"model":"gdp","horizon":8,"levels":[-5]})", 400, "outside (0, 100)"},
      {R"({"model":"gdp","horizon":8,"levels":80})", 400, "must be an array"},
      {R"({"model":"gdp","horizon":8,"levels":["80"]})", 400, "must hold numbers"},
      {R"({"model":"nope","horizon":8})", 404, "not served"},
      {R"({"model":"gdp","version":9,"horizon":8})", 404, "version 9 is not served"},
      {R"({"model":"gdp","version":0,"horizon":8})", 400, "positive"},
      {R"({"model":"gdp","version":1,"alias":"production","horizon":8})", 400, "not both"},
      {R"({"model":"gdp","alias":"latest","horizon":8})", 400, "unknown alias"},
      {R"({"model":"gdp","horizon":8,"as_of":"yesterday"})", 400, "not a date"},
      {R"({"model":"gdp","horizon":8,"as_of":"2010-02-30"})", 400, "not a date"},
      {R"({"model":"gdp","horizon":8,"as_of":"2099-01-01"})", 400, "in the future"},
      {R"({"model":"gdp","horizon":8,"as_of":20100101})", 400, "must be a string"},
      {R"({"model":"gdp","horizon":8,"as_of":"1990-01-01"})", 409, "0 observations"},
  };
  for (const auto& c : cases) {
    auto r = Call("POST", "/v1/forecast", c.body);
    EXPECT_EQ(r.status, c.status) << c.body << " -> " << r.body;
    Json j = Body(r);
    EXPECT_THAT(j["message"].get<std::string>(), HasSubstr(c.message)) << c.body;
    EXPECT_EQ(j["request_id"], "req-1");
    EXPECT_FALSE(j["code"].get<std::string>().empty());
  }
  // A deeply nested body is refused without recursion trouble.
  auto deep = Call("POST", "/v1/forecast", std::string(100000, '[') + std::string(100000, ']'));
  EXPECT_EQ(deep.status, 400);
}

TEST_F(HttpApiTest, AsOfRefitsOnTheDataKnownThen) {
  auto served = Body(Call("POST", "/v1/forecast", R"({"model":"gdp","horizon":6})"));
  // As of the training snapshot's date: the same data, the same model spec, the same numbers.
  auto same = Call("POST", "/v1/forecast", R"({"model":"gdp","horizon":6,"as_of":"2010-02-01"})");
  ASSERT_EQ(same.status, 200) << same.body;
  Json s = Body(same);
  EXPECT_EQ(s["data"]["refit"], true);
  EXPECT_EQ(s["data"]["history_end"], "2009Q4");
  EXPECT_EQ(s["mean"], served["mean"]);
  EXPECT_EQ(s["intervals"], served["intervals"]);
  // A revision known from 2010-03-01 changes what is known later, not what was known before.
  Ingest("us:gdp", {30, 31, 32}, "2010-03-01", Period(Frequency::kQuarterly, 2009 * 4 + 1));
  cache_->Clear();  // the server does this when it sees the write in the audit log
  Json later = Body(Call("POST", "/v1/forecast", R"({"model":"gdp","horizon":6,"as_of":"2010-03-15"})"));
  EXPECT_NE(later["mean"], served["mean"]);
  EXPECT_EQ(later["data"]["as_of"], "2010-03-15");
  Json before = Body(Call("POST", "/v1/forecast", R"({"model":"gdp","horizon":6,"as_of":"2010-02-01"})"));
  EXPECT_EQ(before["mean"], served["mean"]);
}

TEST_F(HttpApiTest, PredictRefitsOnCallerHistoryAndStoresNothing) {
  const auto head_before = *store_->metadata().AuditHead();
  auto r = Call("POST", "/v1/models/gdp/predict",
                R"({"horizon":3,"levels":[80],"history":{"start":"2015Q1","values":[1,2,3,4,5,6,null,8,9,10,11,12]}})",
                Role::kAnalyst);
  ASSERT_EQ(r.status, 200) << r.body;
  Json j = Body(r);
  EXPECT_EQ(j["periods"][0], "2018Q1");
  EXPECT_EQ(j["data"]["source"], "request");
  EXPECT_EQ(*store_->metadata().AuditHead(), head_before);
  EXPECT_EQ(Call("POST", "/v1/models/gdp/predict", R"({"horizon":3,"history":{"start":"2015Q1","values":[1,2,3]}})",
                 Role::kViewer)
                .status,
            403);
  EXPECT_EQ(Call("POST", "/v1/models/gdp/predict", R"({"horizon":3,"history":{"start":"2015-13","values":[1,2,3]}})").status, 400);
  EXPECT_EQ(Call("POST", "/v1/models/gdp/predict", R"({"horizon":3,"history":{"start":"2015Q1","values":[1,"x"]}})").status, 400);
  EXPECT_EQ(Call("POST", "/v1/models/gdp/predict", R"({"horizon":3,"history":{"start":"2015Q1","values":[1]}})").status, 400);
  EXPECT_EQ(Call("POST", "/v1/models/gdp/predict", R"({"horizon":3,"history":{"start":"2015Q1","values":[1,2],"x":1}})").status, 400);
  EXPECT_EQ(Call("POST", "/v1/models/nope/predict", R"({"horizon":3,"history":{"start":"2015Q1","values":[1,2]}})").status, 404);
}

TEST_F(HttpApiTest, AuthAndRoles) {
  EXPECT_EQ(Call("GET", "/v1/models", "", std::nullopt).status, 401);
  auto bad = Call("GET", "/healthz", "", std::nullopt);
  EXPECT_EQ(bad.status, 200);  // probes need no token
  HttpRequest req;
  req.method = "GET";
  req.target = "/v1/models";
  const std::string unknown = "Bearer alm_" + std::string(64, 'e');
  req.authorization = unknown;
  req.request_id = "r";
  HttpResponse res;
  ASSERT_EQ(api_->Handle(req, res, false), HttpApi::Disposition::kNeedsWorker);
  ASSERT_EQ(api_->Handle(req, res, true), HttpApi::Disposition::kDone);
  EXPECT_EQ(res.status, 401);
  EXPECT_EQ(res.headers[0].first, "WWW-Authenticate");
  auto viewer = Call("POST", "/v1/models/gdp/versions/1/promote", R"({"to":"staging"})", Role::kViewer);
  EXPECT_EQ(viewer.status, 403);
  EXPECT_THAT(Body(viewer)["message"].get<std::string>(), HasSubstr("needs modeler, admin"));
  EXPECT_EQ(Call("POST", "/v1/models/gdp/versions/1/approve", "", Role::kModeler).status, 403);
  EXPECT_EQ(Call("POST", "/v1/scenarios", "{}", Role::kViewer).status, 403);
  auto scen = Call("POST", "/v1/scenarios", "{}", Role::kAnalyst);
  EXPECT_EQ(scen.status, 501);
  EXPECT_THAT(Body(scen)["message"].get<std::string>(), HasSubstr("multivariate"));
}

TEST_F(HttpApiTest, FourEyesPromotionAuditedWithTheTokensUsers) {
  const int64_t v2 = Register("gdp4", "naive", "us:gdp", "2010-02-01", /*four_eyes=*/true);
  auto req = Call("POST", "/v1/models/gdp4/versions/" + std::to_string(v2) + "/promote", R"({"reason":"better"})",
                  Role::kAdmin);
  ASSERT_EQ(req.status, 202) << req.body;
  EXPECT_EQ(Body(req)["needs_approval"], true);
  // The requester (admin-user) cannot approve its own request.
  auto own = Call("POST", "/v1/models/gdp4/versions/1/approve", R"({"reason":"mine"})", Role::kAdmin);
  EXPECT_EQ(own.status, 409);
  EXPECT_THAT(Body(own)["message"].get<std::string>(), HasSubstr("four-eyes"));
  auto ok = Call("POST", "/v1/models/gdp4/versions/1/approve", R"({"reason":"checked"})", Role::kApprover);
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(Body(ok)["stage"], "production");
  auto audit = *store_->metadata().ReadAudit(1, 0);
  std::vector<std::string> actors;
  for (const auto& e : audit)
    if (e.event.object_id == "gdp4@1") actors.push_back(e.event.action + ":" + e.event.actor);
  EXPECT_THAT(actors, ::testing::IsSupersetOf({"model.promote.request:admin-user", "model.approve:approver-user"}));
  EXPECT_EQ(Call("POST", "/v1/models/gdp4/versions/1/reject", "{}", Role::kApprover).status, 409);  // nothing pending
  EXPECT_EQ(Call("POST", "/v1/models/gdp4/versions/1/promote", R"({"to":"nowhere"})").status, 400);
  EXPECT_EQ(Call("POST", "/v1/models/gdp4/versions/1/promote", R"({"stage":"x"})").status, 400);
  EXPECT_EQ(Call("POST", "/v1/models/gdp4/versions/x/promote", "").status, 400);
  EXPECT_EQ(Call("POST", "/v1/models/gdp4/versions/9/promote", "").status, 404);
}

TEST_F(HttpApiTest, ReadEndpoints) {
  auto series = Body(Call("GET", "/v1/series", "", Role::kViewer));
  EXPECT_EQ(series["series"][0]["key"], "us:gdp");
  auto s = Call("GET", "/v1/series/us:gdp?as_of=2010-01-20");
  ASSERT_EQ(s.status, 200) << s.body;
  EXPECT_EQ(Body(s)["periods"].size(), 40u);
  EXPECT_EQ(Call("GET", "/v1/series/us:gdp?as_of=2099-01-01").status, 400);
  EXPECT_EQ(Call("GET", "/v1/series/us:gdp?asof=2010-01-01").status, 400);
  EXPECT_EQ(Call("GET", "/v1/series/us:nope").status, 404);
  EXPECT_EQ(Body(Call("GET", "/v1/series/us:gdp/vintages"))["vintages"].size(), 1u);
  auto models = Body(Call("GET", "/v1/models"));
  EXPECT_EQ(models["models"][0]["production"], 1);
  EXPECT_EQ(models["models"][0]["served"][0]["state"], "ready");
  EXPECT_EQ(Body(Call("GET", "/v1/models/gdp"))["owner"], "team");
  EXPECT_EQ(Body(Call("GET", "/v1/models/gdp/versions"))["versions"][0]["stage"], "production");
  EXPECT_EQ(Call("GET", "/v1/models/nope/versions").status, 404);
  auto run_id = Body(Call("GET", "/v1/models/gdp/versions"))["versions"][0]["run_id"].get<std::string>();
  EXPECT_EQ(Body(Call("GET", "/v1/runs/" + run_id))["id"], run_id);
  EXPECT_EQ(Call("GET", "/v1/runs/r404").status, 404);
  auto lineage = Call("GET", "/v1/lineage/gdp/1");
  ASSERT_EQ(lineage.status, 200) << lineage.body;
  EXPECT_EQ(Body(lineage)["vintages"].size(), 1u);
  EXPECT_EQ(Call("GET", "/v1/lineage/gdp/0").status, 400);
  EXPECT_EQ(Call("GET", "/healthz").status, 200);
  EXPECT_EQ(Call("GET", "/readyz").status, 200);
  auto metrics = Call("GET", "/metrics");
  EXPECT_THAT(std::string(metrics.content_type), HasSubstr("version=0.0.4"));
  EXPECT_EQ(Call("GET", "/openapi.json").body, std::string(OpenApiDocument()));
  auto wrong_method = Call("DELETE", "/v1/models");
  EXPECT_EQ(wrong_method.status, 405);
  EXPECT_EQ(Call("GET", "/v2/nothing").status, 404);
  EXPECT_EQ(Call("GET", "/v1/series/..").status, 400);
}

}  // namespace
}  // namespace almanac::serve
