// The HTTP handler without a network: routing, path checks, input validation, roles, the
// forecast cache, as_of refits, and the OpenAPI document kept in sync with the routes.
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
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
    ctx.artifacts = artifacts_.get();
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
    return testing::HandleAsTransport(*api_, req);
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
  EXPECT_EQ(Call("POST", "/v1/scenarios", "{}", std::nullopt).status, 401);
  auto scen = Call("POST", "/v1/scenarios", "{}", Role::kAnalyst);
  EXPECT_EQ(scen.status, 400);
  EXPECT_THAT(Body(scen)["message"].get<std::string>(), HasSubstr("missing field 'series'"));
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

// Issue 23: the routes the Python and R clients need: one period in every vintage, the
// vintage matrix, a snapshot's content and the runs list, with their bad inputs.
TEST_F(HttpApiTest, Issue23HistoryOfOnePeriodInEveryVintage) {
  Ingest("us:gdp", {30, 31, 32}, "2010-03-01", Period(Frequency::kQuarterly, 2009 * 4 + 1));  // 2009Q2..Q4
  auto r = Call("GET", "/v1/series/us:gdp/history?period=2009Q3", "", Role::kViewer);
  ASSERT_EQ(r.status, 200) << r.body;
  Json j = Body(r);
  EXPECT_EQ(j["key"], "us:gdp");
  EXPECT_EQ(j["frequency"], "Q");
  EXPECT_EQ(j["period"], "2009Q3");
  EXPECT_EQ(j["realtime_start"], Json({"2010-01-15", "2010-03-01"}));
  EXPECT_EQ(j["values"][0].get<double>(), Growth(40)[38]);
  EXPECT_EQ(j["values"][1].get<double>(), 31);
  EXPECT_EQ(j["vintages"].size(), 2u);
  EXPECT_EQ(j["loaded_at"].size(), 2u);
  EXPECT_EQ(j["request_id"], "req-1");
  // The first day of the period is the same period; a period never recorded has no entries.
  EXPECT_EQ(Body(Call("GET", "/v1/series/us:gdp/history?period=2009-07-01"))["values"], j["values"]);
  Json none = Body(Call("GET", "/v1/series/us:gdp/history?period=1990Q1"));
  EXPECT_TRUE(none["values"].empty());
  EXPECT_TRUE(none["realtime_start"].empty());
  struct Bad {
    std::string target;
    int status;
    std::string message;
  };
  const Bad cases[] = {
      {"/v1/series/us:gdp/history", 400, "missing query parameter 'period'"},
      {"/v1/series/us:gdp/history?period=", 400, "missing query parameter 'period'"},
      {"/v1/series/us:gdp/history?period=2009Q5", 400, "is not a period of series us:gdp (frequency Q)"},
      {"/v1/series/us:gdp/history?period=2009-03", 400, "is not a period of series us:gdp"},
      {"/v1/series/us:gdp/history?period=2009-08-15", 400, "is not a period of series us:gdp"},
      {"/v1/series/us:gdp/history?period=yesterday", 400, "is not a period"},
      {"/v1/series/us:gdp/history?perod=2009Q3", 400, "unknown query parameter 'perod' (did you mean 'period'"},
      {"/v1/series/us:nope/history?period=2009Q3", 404, "us:nope"},
      {"/v1/series/us..gdp/history?period=2009Q3", 400, "must not contain"},
      {"/v1/series/@gdp/history?period=2009Q3", 400, "must start with a letter or digit"},
  };
  for (const auto& c : cases) {
    auto b = Call("GET", c.target);
    EXPECT_EQ(b.status, c.status) << c.target << " -> " << b.body;
    EXPECT_THAT(Body(b)["message"].get<std::string>(), HasSubstr(c.message)) << c.target;
  }
  EXPECT_EQ(Call("GET", "/v1/series/us:gdp/history?period=2009Q3", "", std::nullopt).status, 401);
}

TEST_F(HttpApiTest, Issue23VintageMatrixColumnsAreTheAsOfReads) {
  Ingest("us:gdp", {30, 31, 32}, "2010-03-01", Period(Frequency::kQuarterly, 2009 * 4 + 1));
  Ingest("us:gdp", {33}, "2010-04-01", Period(Frequency::kQuarterly, 2010 * 4));  // 2010Q1, new
  Ingest("us:gdp", {34}, "2010-04-01", Period(Frequency::kQuarterly, 2010 * 4 + 1));  // same date: one column
  auto r = Call("GET", "/v1/series/us:gdp/vintage-matrix", "", Role::kViewer);
  ASSERT_EQ(r.status, 200) << r.body;
  Json m = Body(r);
  EXPECT_EQ(m["key"], "us:gdp");
  EXPECT_EQ(m["frequency"], "Q");
  EXPECT_EQ(m["vintages"], Json({"2010-01-15", "2010-03-01", "2010-04-01"}));
  EXPECT_EQ(m["vintages_total"], 3);
  EXPECT_EQ(m["truncated"], false);
  ASSERT_EQ(m["periods"].size(), 42u);  // 2000Q1..2010Q2
  EXPECT_EQ(m["periods"][0], "2000Q1");
  EXPECT_EQ(m["periods"][41], "2010Q2");
  ASSERT_EQ(m["values"].size(), 3u);
  // Column j is exactly the series as of vintages[j], aligned on the matrix's periods.
  for (size_t j = 0; j < 3; ++j) {
    Json col = Body(Call("GET", "/v1/series/us:gdp?as_of=" + m["vintages"][j].get<std::string>()));
    ASSERT_EQ(m["values"][j].size(), 42u);
    for (size_t i = 0; i < 42; ++i) {
      const auto p = std::find(col["periods"].begin(), col["periods"].end(), m["periods"][i]);
      const Json expected = p == col["periods"].end() ? Json(nullptr) : col["values"][p - col["periods"].begin()];
      EXPECT_EQ(m["values"][j][i], expected) << "vintage " << j << " period " << m["periods"][i];
    }
  }
  EXPECT_TRUE(m["values"][0][40].is_null());  // 2010Q1 not known on 2010-01-15
  EXPECT_EQ(m["values"][1][38], 31);
  EXPECT_EQ(m["values"][2][41], 34);
  // ?limit keeps the latest dates and says so.
  Json last2 = Body(Call("GET", "/v1/series/us:gdp/vintage-matrix?limit=2"));
  EXPECT_EQ(last2["vintages"], Json({"2010-03-01", "2010-04-01"}));
  EXPECT_EQ(last2["vintages_total"], 3);
  EXPECT_EQ(last2["truncated"], true);
  EXPECT_EQ(last2["values"][1], m["values"][2]);
  struct Bad {
    std::string target;
    int status;
    std::string message;
  };
  const Bad cases[] = {
      {"/v1/series/us:gdp/vintage-matrix?limit=0", 400, "limit must be an integer in 1..1000, got '0'"},
      {"/v1/series/us:gdp/vintage-matrix?limit=1001", 400, "limit must be an integer in 1..1000"},
      {"/v1/series/us:gdp/vintage-matrix?limit=-1", 400, "limit must be an integer in 1..1000"},
      {"/v1/series/us:gdp/vintage-matrix?limit=ten", 400, "got 'ten'"},
      {"/v1/series/us:gdp/vintage-matrix?limit=", 400, "limit must be"},
      {"/v1/series/us:gdp/vintage-matrix?as_of=2010-01-01", 400, "unknown query parameter 'as_of'"},
      {"/v1/series/us:nope/vintage-matrix", 404, "us:nope"},
      {"/v1/series/_x/vintage-matrix", 400, "must start with a letter or digit"},
  };
  for (const auto& c : cases) {
    auto b = Call("GET", c.target);
    EXPECT_EQ(b.status, c.status) << c.target << " -> " << b.body;
    EXPECT_THAT(Body(b)["message"].get<std::string>(), HasSubstr(c.message)) << c.target;
  }
  EXPECT_EQ(Call("GET", "/v1/series/us:gdp/vintage-matrix", "", std::nullopt).status, 401);
}

TEST_F(HttpApiTest, Issue23VintageMatrixOverTheCellLimitIsRefused) {
  // 20,001 daily periods x 100 vintage dates (the default limit) = 2,000,100 cells > 2,000,000.
  {
    auto load = store_->series().BeginLoad({.loader = "test", .source = "test"});
    ASSERT_TRUE(load.ok());
    const Period start(Frequency::kDaily, 0);
    for (int i = 0; i < 20001; ++i)
      ASSERT_OK((*load)->Add("us:daily", start + i, 1.0 + i, Date::Parse("2020-01-01").value()));
    ASSERT_OK((*load)->Commit().status());
  }
  for (int d = 1; d < 100; ++d) {
    auto load = store_->series().BeginLoad({.loader = "test", .source = "test"});
    ASSERT_TRUE(load.ok());
    ASSERT_OK((*load)->Add("us:daily", Period(Frequency::kDaily, 0), 100.0 + d, Date::Parse("2020-01-01").value() + d));
    ASSERT_OK((*load)->Commit().status());
  }
  auto r = Call("GET", "/v1/series/us:daily/vintage-matrix");
  EXPECT_EQ(r.status, 400) << r.body.substr(0, 300);
  EXPECT_THAT(Body(r)["message"].get<std::string>(),
              HasSubstr("would hold 20001 periods x 100 vintages, over the limit of 2000000 cells: ask for fewer "
                        "vintages with ?limit="));
  auto fewer = Call("GET", "/v1/series/us:daily/vintage-matrix?limit=5");
  ASSERT_EQ(fewer.status, 200);
  Json m = Body(fewer);
  EXPECT_EQ(m["truncated"], true);
  EXPECT_EQ(m["vintages_total"], 100);
  EXPECT_EQ(m["vintages"][4], "2020-04-09");
  EXPECT_EQ(m["values"][4][0], 199.0);
  EXPECT_EQ(m["values"][4][20000], 20001.0);
}

TEST_F(HttpApiTest, Issue23SnapshotContentByIdOrPrefix) {
  auto snaps = *store_->series().ListSnapshots();
  ASSERT_EQ(snaps.size(), 1u);
  const std::string id = snaps[0].id;
  auto r = Call("GET", "/v1/snapshots/" + id, "", Role::kViewer);
  ASSERT_EQ(r.status, 200) << r.body;
  Json j = Body(r);
  EXPECT_EQ(j["id"], id);
  EXPECT_EQ(j["name"], snaps[0].name);
  EXPECT_EQ(j["as_of"], "2010-02-01");
  EXPECT_EQ(j["created_by"], "alice");
  EXPECT_FALSE(j["created_at"].is_null());
  ASSERT_EQ(j["series"].size(), 1u);
  Json series = Body(Call("GET", "/v1/series/us:gdp?as_of=2010-02-01"));
  EXPECT_EQ(j["series"][0]["key"], "us:gdp");
  EXPECT_EQ(j["series"][0]["frequency"], "Q");
  EXPECT_EQ(j["series"][0]["periods"], series["periods"]);
  EXPECT_EQ(j["series"][0]["values"], series["values"]);
  // The content id of what was sent is the snapshot's id.
  auto stored = *store_->series().GetSnapshot(id);
  EXPECT_EQ(*store::SnapshotContentId(stored.series), id);
  EXPECT_EQ(Call("GET", "/v1/snapshots/" + id.substr(0, 8)).body, r.body);
  struct Bad {
    std::string id;
    int status;
    std::string message;
  };
  const Bad cases[] = {
      {"abc", 400, "is not a content id"},
      {"not-hex", 400, "is not a content id"},
      {"ABCDEF0123", 400, "is not a content id"},
      {id + "0", 400, "is not a content id"},
      {snaps[0].name, 400, "is not a content id"},  // names are not looked up here
      {std::string(64, '0') == id ? std::string(64, '1') : std::string(64, '0'), 404, "snapshot"},
      {id.substr(0, 6) == "ffffff" ? "eeeeee" : "ffffff", 404, "snapshot"},
  };
  for (const auto& c : cases) {
    auto b = Call("GET", "/v1/snapshots/" + c.id);
    EXPECT_EQ(b.status, c.status) << c.id << " -> " << b.body;
    EXPECT_THAT(Body(b)["message"].get<std::string>(), HasSubstr(c.message)) << c.id;
  }
  EXPECT_EQ(Call("GET", "/v1/snapshots/" + id, "", std::nullopt).status, 401);
  EXPECT_EQ(Call("GET", "/v1/snapshots/" + id + "?x=1").status, 400);
}

// Issue 20: GET /v1/runs/{id} returns the run's timeline.json as `timeline` and its run.log as
// `log` (the last 64 KiB, whole lines), neither for a run without them.
TEST_F(HttpApiTest, Issue20RunTimelineAndLog) {
  auto run_id = Body(Call("GET", "/v1/models/gdp/versions"))["versions"][0]["run_id"].get<std::string>();
  Json before = Body(Call("GET", "/v1/runs/" + run_id, "", Role::kViewer));
  EXPECT_FALSE(before.contains("timeline"));
  EXPECT_FALSE(before.contains("log"));
  EXPECT_FALSE(before.contains("records_error"));

  auto run_of = [&](int64_t version) {
    const Json list = Body(Call("GET", "/v1/models/gdp/versions"));
    for (const auto& v : list["versions"])
      if (v["version"] == version) return v["run_id"].get<std::string>();
    return std::string();
  };
  auto record = [&](const std::string& run, const std::string& kind, const std::string& bytes) {
    auto rec = artifacts_->Put("runs/" + run + "/" + kind, bytes);
    ASSERT_TRUE(rec.ok()) << rec.status().ToString();
    rec->kind = kind;
    ASSERT_OK(store_->metadata().Run([&](store::MetadataTxn& t) { return t.InsertArtifact(run, *rec); }));
  };
  const Json timeline = Json::parse(R"([{"step":"load","start":0.001,"seconds":0.25,"cached":false,"status":"ok"},
                                        {"step":"train:naive","start":0.3,"seconds":1.5,"cached":true,"status":"ok"}])");
  record(run_id, "timeline.json", timeline.dump());
  record(run_id, "run.log", "run " + run_id + " of pipeline gdp\n[load] done (0.250 s)\n");
  Json j = Body(Call("GET", "/v1/runs/" + run_id, "", Role::kViewer));
  EXPECT_EQ(j["timeline"], timeline);
  EXPECT_EQ(j["log"], "run " + run_id + " of pipeline gdp\n[load] done (0.250 s)\n");
  EXPECT_EQ(j["log_truncated"], false);
  EXPECT_FALSE(j.contains("records_error"));
  EXPECT_EQ(j["artifacts"].size(), before["artifacts"].size() + 2);

  // A long log: only the last 64 KiB, starting at a whole line.
  const int64_t v2 = Register("gdp", "naive", "us:gdp", "2010-02-01");
  const std::string run2 = run_of(v2);
  ASSERT_NE(run2, "");
  std::string long_log;
  for (int i = 0; long_log.size() < 100 * 1024; ++i) long_log += "line " + std::to_string(i) + " of the progress log\n";
  record(run2, "run.log", long_log);
  j = Body(Call("GET", "/v1/runs/" + run2));
  const std::string tail = j["log"].get<std::string>();
  EXPECT_EQ(j["log_truncated"], true);
  EXPECT_LE(tail.size(), 64u * 1024);
  EXPECT_GT(tail.size(), 63u * 1024);
  EXPECT_EQ(tail.rfind("line ", 0), 0u) << tail.substr(0, 40);
  EXPECT_EQ(long_log.substr(long_log.size() - tail.size()), tail);
  EXPECT_FALSE(j.contains("timeline"));

  // A record whose bytes were altered is named, the rest of the run still shows.
  const int64_t v3 = Register("gdp", "naive", "us:gdp", "2010-02-01");
  const std::string run3 = run_of(v3);
  ASSERT_NE(run3, "");
  auto rec = artifacts_->Put("runs/" + run3 + "/timeline.json", "[]");
  ASSERT_TRUE(rec.ok());
  rec->kind = "timeline.json";
  rec->sha256 = std::string(64, '0');
  ASSERT_OK(store_->metadata().Run([&](store::MetadataTxn& t) { return t.InsertArtifact(run3, *rec); }));
  auto r3 = Call("GET", "/v1/runs/" + run3);
  ASSERT_EQ(r3.status, 200) << r3.body;
  EXPECT_FALSE(Body(r3).contains("timeline"));
  EXPECT_THAT(Body(r3)["records_error"].get<std::string>(), HasSubstr("timeline: "));
}

TEST_F(HttpApiTest, Issue23RunsListFiltersAndLimits) {
  Register("gdp", "naive", "us:gdp", "2010-02-01");  // a second run, started later
  auto r = Call("GET", "/v1/runs", "", Role::kViewer);
  ASSERT_EQ(r.status, 200) << r.body;
  Json j = Body(r);
  ASSERT_EQ(j["runs"].size(), 2u);
  EXPECT_EQ(j["request_id"], "req-1");
  const std::string newest = j["runs"][0]["id"].get<std::string>();
  // Each entry is GET /v1/runs/{id} without params, metrics, tags and artifacts.
  Json one = Body(Call("GET", "/v1/runs/" + newest));
  for (const char* k : {"params", "metrics", "tags", "artifacts", "request_id"}) one.erase(k);
  EXPECT_EQ(j["runs"][0], one);
  EXPECT_EQ(Body(Call("GET", "/v1/runs?limit=1"))["runs"].size(), 1u);
  EXPECT_EQ(Body(Call("GET", "/v1/runs?limit=1"))["runs"][0]["id"], newest);
  EXPECT_EQ(Body(Call("GET", "/v1/runs?status=finished&experiment=test"))["runs"].size(), 2u);
  EXPECT_EQ(Body(Call("GET", "/v1/runs?status=failed"))["runs"].size(), 0u);
  EXPECT_EQ(Body(Call("GET", "/v1/runs?experiment=nope"))["runs"].size(), 0u);
  EXPECT_EQ(Body(Call("GET", "/v1/runs?pipeline=nope"))["runs"].size(), 0u);
  struct Bad {
    std::string target;
    std::string message;
  };
  const Bad cases[] = {
      {"/v1/runs?status=done", "status 'done' is not a run status (running, finished, failed, killed)"},
      {"/v1/runs?limit=0", "limit must be an integer in 1..1000, got '0'"},
      {"/v1/runs?limit=5000", "limit must be an integer in 1..1000"},
      {"/v1/runs?limit=1.5", "limit must be an integer"},
      {"/v1/runs?user=alice", "unknown query parameter 'user'"},
  };
  for (const auto& c : cases) {
    auto b = Call("GET", c.target);
    EXPECT_EQ(b.status, 400) << c.target << " -> " << b.body;
    EXPECT_THAT(Body(b)["message"].get<std::string>(), HasSubstr(c.message)) << c.target;
  }
  EXPECT_EQ(Call("GET", "/v1/runs", "", std::nullopt).status, 401);
  EXPECT_EQ(Call("POST", "/v1/runs", "{}").status, 405);
}

// Issue 27: HEAD is answered on every GET route as GET is (status, headers, the body whose
// length the transport sends as Content-Length), with GET's authorization; the transport
// drops the body (tests/integration/serve_test.cc checks that over real HTTP).
TEST_F(HttpApiTest, Issue27HeadAnswersEveryGetRouteAsGet) {
  auto run_id = Body(Call("GET", "/v1/models/gdp/versions"))["versions"][0]["run_id"].get<std::string>();
  const std::vector<std::string> targets = {"/v1/series",
                                            "/v1/series/us:gdp?as_of=2010-01-20",
                                            "/v1/series/us:gdp/vintages",
                                            "/v1/series/us:gdp/history?period=2009Q3",
                                            "/v1/series/us:gdp/vintage-matrix?limit=5",
                                            "/v1/runs?limit=3",
                                            "/v1/models",
                                            "/v1/models/gdp",
                                            "/v1/models/gdp/versions",
                                            "/v1/runs/" + run_id,
                                            "/v1/lineage/gdp/1",
                                            "/healthz",
                                            "/readyz",
                                            "/openapi.json"};
  for (const std::string& target : targets) {
    const HttpResponse get = Call("GET", target, "", Role::kViewer);
    const HttpResponse head = Call("HEAD", target, "", Role::kViewer);
    ASSERT_EQ(get.status, 200) << target << ": " << get.body;
    EXPECT_EQ(head.status, get.status) << target;
    EXPECT_EQ(head.body, get.body) << target;
    EXPECT_EQ(head.content_type, get.content_type) << target;
    EXPECT_EQ(head.route, get.route) << target;
  }
  // Every GET route of the table is reachable with HEAD (none is refused as a method).
  for (const auto& r : HttpApi::Routes())
    if (r.method == "GET") {
      std::string target(r.path);
      for (const char* p : {"{name}", "{key}", "{id}", "{version}"})
        if (auto at = target.find(p); at != std::string::npos) target.replace(at, std::strlen(p), "x");
      EXPECT_NE(Call("HEAD", target).status, 405) << r.path;
    }
  const HttpResponse metrics = Call("HEAD", "/metrics", "", std::nullopt);
  EXPECT_EQ(metrics.status, 200);
  EXPECT_THAT(std::string(metrics.content_type), HasSubstr("version=0.0.4"));
  EXPECT_EQ(metrics.body, Call("GET", "/metrics", "", std::nullopt).body);  // no metric is registered here
  // The same errors as GET: no token 401 (with WWW-Authenticate), unknown series 404.
  const HttpResponse anonymous = Call("HEAD", "/v1/series/us:gdp", "", std::nullopt);
  EXPECT_EQ(anonymous.status, 401);
  ASSERT_FALSE(anonymous.headers.empty());
  EXPECT_EQ(anonymous.headers[0].first, "WWW-Authenticate");
  EXPECT_EQ(Call("HEAD", "/v1/series/us:nope").status, 404);
  // HEAD where only POST is routed: 405, and Allow names what is.
  const HttpResponse post_only = Call("HEAD", "/v1/forecast");
  EXPECT_EQ(post_only.status, 405);
  ASSERT_EQ(post_only.headers.size(), 1u);
  EXPECT_EQ(post_only.headers[0].first, "Allow");
  EXPECT_EQ(post_only.headers[0].second, "POST");
  EXPECT_THAT(Body(post_only)["message"].get<std::string>(), HasSubstr("method HEAD is not allowed here"));
  // A 405 on a GET route lists HEAD with GET.
  const HttpResponse wrong = Call("DELETE", "/v1/models");
  EXPECT_EQ(wrong.status, 405);
  ASSERT_EQ(wrong.headers.size(), 1u);
  EXPECT_EQ(wrong.headers[0].second, "GET, HEAD");
}

// Issue 27: an error answer carries its code and message for the access log; others do not.
TEST_F(HttpApiTest, Issue27ErrorAnswersCarryTheirReasonForTheAccessLog) {
  const HttpResponse ok = Call("GET", "/v1/models");
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.error_code, "");
  EXPECT_EQ(ok.error_message, "");
  const HttpResponse missing = Call("GET", "/v1/nothing");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.error_code, "NOT_FOUND");
  EXPECT_THAT(missing.error_message, HasSubstr("no such endpoint: GET '/v1/nothing'"));
  EXPECT_EQ(Body(missing)["message"], missing.error_message);
  const HttpResponse anonymous = Call("GET", "/v1/models", "", std::nullopt);
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_EQ(anonymous.error_code, "UNAUTHENTICATED");
  EXPECT_EQ(Body(anonymous)["message"], anonymous.error_message);
  EXPECT_FALSE(anonymous.error_message.empty());
  const HttpResponse bad = Call("POST", "/v1/forecast", R"({"model":"gdp","horizon":0})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.error_code, "INVALID_ARGUMENT");
  EXPECT_THAT(bad.error_message, HasSubstr("horizon must be in 1.."));
  EXPECT_EQ(bad.route, "/v1/forecast");  // the route is known even when the handler refuses
  const HttpResponse forbidden = Call("POST", "/v1/models/gdp/versions/1/promote", "{}", Role::kViewer);
  EXPECT_EQ(forbidden.status, 403);
  EXPECT_EQ(forbidden.error_code, "PERMISSION_DENIED");
  EXPECT_EQ(forbidden.user, "viewer-user");  // the access line names who was refused
  // The one mapping: the rendered body, the status and the fields agree.
  const HttpResponse e = HttpApi::Error(FailedPreconditionError("four-eyes"), "rid-9");
  EXPECT_EQ(e.status, 409);
  EXPECT_EQ(Body(e), Json({{"code", "FAILED_PRECONDITION"}, {"message", "four-eyes"}, {"request_id", "rid-9"}}));
  EXPECT_EQ(e.error_code, "FAILED_PRECONDITION");
  EXPECT_EQ(e.error_message, "four-eyes");
}

// Issue 22: the Open Inference Protocol (KServe V2) adapter (api_v2.cc). Its infer answers
// are /v1/forecast's numbers (one code path, HttpApi::ServeForecast); its errors are the
// protocol's {"error": "..."} with the statuses of HttpStatusFor, chosen by the routes'
// ErrorFormat; bad input changes nothing.
std::string V2Infer(const std::string& inputs, const std::string& extra = "") {
  return "{\"inputs\":[" + inputs + "]" + extra + "}";
}
const std::string kV2Horizon8 = R"({"name":"horizon","shape":[1],"datatype":"INT32","data":[8]})";

// A V2 error body: exactly {"error": message}, the message containing `what`.
void ExpectV2Error(const HttpResponse& r, int status, const std::string& what, const std::string& context) {
  EXPECT_EQ(r.status, status) << context << " -> " << r.body;
  auto j = ParseJson(r.body);
  ASSERT_TRUE(j.ok()) << context << ": " << r.body;
  ASSERT_TRUE(j->is_object()) << context;
  EXPECT_EQ(j->size(), 1u) << context << ": " << r.body;
  ASSERT_TRUE(j->contains("error") && (*j)["error"].is_string()) << context << ": " << r.body;
  EXPECT_THAT((*j)["error"].get<std::string>(), HasSubstr(what)) << context;
  EXPECT_EQ(r.error_message, (*j)["error"].get<std::string>()) << context;  // and the access log has it
}

TEST(ErrorFormatTest, Issue22ChosenByTheRouteFamilyOfThePath) {
  EXPECT_EQ(HttpApi::ErrorFormatFor("/v2"), ErrorFormat::kV2);
  EXPECT_EQ(HttpApi::ErrorFormatFor("/v2?x=1"), ErrorFormat::kV2);
  EXPECT_EQ(HttpApi::ErrorFormatFor("/v2/models/gdp/infer"), ErrorFormat::kV2);
  EXPECT_EQ(HttpApi::ErrorFormatFor("/v2/anything/else"), ErrorFormat::kV2);
  EXPECT_EQ(HttpApi::ErrorFormatFor("/v1/forecast"), ErrorFormat::kAlmanac);
  EXPECT_EQ(HttpApi::ErrorFormatFor("/healthz"), ErrorFormat::kAlmanac);
  EXPECT_EQ(HttpApi::ErrorFormatFor("/v22/x"), ErrorFormat::kAlmanac);
  EXPECT_EQ(HttpApi::ErrorFormatFor(""), ErrorFormat::kAlmanac);
  const HttpResponse e = HttpApi::Error(NotFoundError("no model"), "rid", false, ErrorFormat::kV2);
  EXPECT_EQ(e.status, 404);
  EXPECT_EQ(e.body, R"({"error":"no model"})");
  EXPECT_EQ(e.error_code, "NOT_FOUND");
  const HttpResponse u = HttpApi::Error(UnauthenticatedError("no token"), "rid", false, ErrorFormat::kV2);
  EXPECT_EQ(u.status, 401);
  ASSERT_EQ(u.headers.size(), 1u);
  EXPECT_EQ(u.headers[0].first, "WWW-Authenticate");
}

TEST_F(HttpApiTest, Issue22V2ServerHealthAndModelMetadata) {
  auto server = Call("GET", "/v2", "", std::nullopt);
  ASSERT_EQ(server.status, 200) << server.body;
  Json s = Body(server);
  EXPECT_EQ(s["name"], "almanac");
  EXPECT_FALSE(s["version"].get<std::string>().empty());
  EXPECT_EQ(s["extensions"], Json::array());
  auto live = Call("GET", "/v2/health/live", "", std::nullopt);
  EXPECT_EQ(live.status, 200);
  EXPECT_EQ(Body(live), Json({{"live", true}}));
  auto ready = Call("GET", "/v2/health/ready", "", std::nullopt);
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(Body(ready), Json({{"ready", true}}));

  for (const std::string target : {"/v2/models/gdp", "/v2/models/gdp/versions/1"}) {
    auto meta = Call("GET", target, "", Role::kViewer);
    ASSERT_EQ(meta.status, 200) << target << ": " << meta.body;
    Json m = Body(meta);
    EXPECT_EQ(m["name"], "gdp");
    EXPECT_EQ(m["versions"], Json::array({"1"}));
    EXPECT_EQ(m["platform"], "almanac_auto_ets");
    ASSERT_EQ(m["inputs"].size(), 3u);
    EXPECT_EQ(m["inputs"][0], Json({{"name", "horizon"}, {"datatype", "INT32"}, {"shape", {1}}}));
    EXPECT_EQ(m["inputs"][1], Json({{"name", "as_of"}, {"datatype", "BYTES"}, {"shape", {1}}}));
    EXPECT_EQ(m["inputs"][2], Json({{"name", "levels"}, {"datatype", "FP64"}, {"shape", {-1}}}));
    std::vector<std::string> outputs;
    for (const auto& o : m["outputs"]) {
      outputs.push_back(o["name"].get<std::string>());
      EXPECT_EQ(o["datatype"], o["name"] == "periods" ? "BYTES" : "FP64");
      EXPECT_EQ(o["shape"], Json::array({-1}));
    }
    EXPECT_EQ(outputs, (std::vector<std::string>{"mean", "lower_80", "upper_80", "lower_95", "upper_95", "periods"}));
    EXPECT_EQ(m["parameters"]["version"], "1");
    EXPECT_EQ(m["parameters"]["frequency"], "Q");
    for (auto it = m["parameters"].begin(); it != m["parameters"].end(); ++it)
      EXPECT_TRUE(it.value().is_string()) << it.key();  // $parameters are scalars
  }
  auto model_ready = Call("GET", "/v2/models/gdp/ready", "", Role::kViewer);
  EXPECT_EQ(model_ready.status, 200) << model_ready.body;
  EXPECT_EQ(Body(model_ready), Json({{"name", "gdp"}, {"version", "1"}, {"ready", true}}));
  EXPECT_EQ(Call("GET", "/v2/models/gdp/versions/1/ready", "", Role::kViewer).status, 200);

  // Errors in the protocol's shape, with almanac's statuses.
  ExpectV2Error(Call("GET", "/v2/models/nope"), 404, "not served", "unknown model");
  ExpectV2Error(Call("GET", "/v2/models/gdp/versions/9"), 404, "version 9 is not served", "unknown version");
  ExpectV2Error(Call("GET", "/v2/models/gdp/versions/x"), 400, "not a positive integer", "bad version");
  ExpectV2Error(Call("GET", "/v2/models/gdp/versions/0/ready"), 400, "not a positive integer", "version 0");
  ExpectV2Error(Call("GET", "/v2/models/nope/ready"), 404, "not served", "unknown model ready");
  ExpectV2Error(Call("GET", "/v2/models/gdp/versions/9/ready"), 404, "version 9", "unknown version ready");
  ExpectV2Error(Call("GET", "/v2/models/gdp", "", std::nullopt), 401, "", "no token");
  ExpectV2Error(Call("GET", "/v2/nothing"), 404, "no such endpoint", "unrouted");
  ExpectV2Error(Call("GET", "/v2/models/a;b"), 400, "invalid character", "bad path");
  auto wrong_method = Call("GET", "/v2/models/gdp/infer");
  ExpectV2Error(wrong_method, 405, "method GET is not allowed here", "GET infer");
  ASSERT_EQ(wrong_method.headers.size(), 1u);
  EXPECT_EQ(wrong_method.headers[0].second, "POST");
  // almanac's own routes keep almanac's errors.
  EXPECT_EQ(Body(Call("GET", "/v1/nothing"))["code"], "NOT_FOUND");
}

TEST_F(HttpApiTest, Issue22V2ReadinessFollowsTheManager) {
  // A version the policy wants that is not loaded (its package is missing): the server and
  // the model are not ready, a 4xx as the protocol's health API says.
  const int64_t v2 = Register("gdp", "theta", "us:gdp", "2010-02-01");
  ServableManager::Options mo;
  mo.policy = *ParseVersionPolicy("production,gdp@" + std::to_string(v2));
  ServableManager broken(mo, *artifacts_, models_, &store_->series(), clock_);
  auto versions = *ReadRegistryState(store_->metadata());
  for (auto& v : versions)
    if (v.version == v2) v.artifact_sha256 = std::string(64, '0');  // cannot be verified: fails to load
  broken.Reconcile(versions);
  ApiContext ctx;
  ctx.manager = &broken;
  ctx.store = store_.get();
  ctx.models = &models_;
  ctx.auth = auth_.get();
  ctx.cache = cache_.get();
  ctx.metrics = &metrics_;
  ctx.clock = &clock_;
  HttpApi api(ctx);
  auto call = [&](const std::string& target) {
    HttpRequest req;
    req.method = "GET";
    req.target = target;
    const std::string auth = "Bearer " + tokens_[Role::kViewer];
    req.authorization = auth;
    req.request_id = "r";
    HttpResponse res;
    EXPECT_EQ(api.Handle(req, res, false), HttpApi::Disposition::kDone);
    return res;
  };
  ExpectV2Error(call("/v2/health/ready"), 400, "not ready", "server ready");
  EXPECT_EQ(call("/v2/health/live").status, 200);
  EXPECT_EQ(call("/v2/models/gdp/ready").status, 200);  // production (v1) is served
  ExpectV2Error(call("/v2/models/gdp/versions/" + std::to_string(v2) + "/ready"), 400, "is not ready: error",
                "pinned version that failed");
}

TEST_F(HttpApiTest, Issue22V2InferIsTheForecastOfV1) {
  const std::string v1_body = R"({"model":"gdp","horizon":8})";
  const Json v1 = Body(Call("POST", "/v1/forecast", v1_body, Role::kViewer));
  auto r = Call("POST", "/v2/models/gdp/infer",
                V2Infer(kV2Horizon8, R"(,"id":"my-id-7","parameters":{"team":"macro","n":3,"flag":true})"),
                Role::kViewer);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_FALSE(r.cache_hit);
  EXPECT_EQ(r.route, "/v2/models/{name}/infer");
  Json j = Body(r);
  EXPECT_EQ(j["model_name"], "gdp");
  EXPECT_EQ(j["model_version"], "1");
  EXPECT_EQ(j["id"], "my-id-7");
  EXPECT_EQ(j["parameters"], Json({{"team", "macro"}, {"n", 3}, {"flag", true}}));
  ASSERT_EQ(j["outputs"].size(), 6u);
  std::map<std::string, Json> out;
  for (const auto& o : j["outputs"]) {
    EXPECT_EQ(o["shape"], Json::array({8})) << o["name"];
    EXPECT_EQ(o["data"].size(), 8u) << o["name"];
    out[o["name"].get<std::string>()] = o;
  }
  EXPECT_EQ(j["outputs"][0]["name"], "mean");
  EXPECT_EQ(out["mean"]["datatype"], "FP64");
  // The same numbers, to the last bit (the same rendering of the same doubles).
  EXPECT_EQ(out["mean"]["data"], v1["mean"]);
  EXPECT_EQ(out["lower_80"]["data"], v1["intervals"][0]["lower"]);
  EXPECT_EQ(out["upper_80"]["data"], v1["intervals"][0]["upper"]);
  EXPECT_EQ(out["lower_95"]["data"], v1["intervals"][1]["lower"]);
  EXPECT_EQ(out["upper_95"]["data"], v1["intervals"][1]["upper"]);
  EXPECT_EQ(out["periods"]["datatype"], "BYTES");
  EXPECT_EQ(out["periods"]["data"], v1["periods"]);
  // Cached as /v1/forecast is; the id and parameters are per request.
  auto again = Call("POST", "/v2/models/gdp/infer", V2Infer(kV2Horizon8, R"(,"id":"other")"), Role::kViewer);
  EXPECT_TRUE(again.cache_hit);
  Json a = Body(again);
  EXPECT_EQ(a["id"], "other");
  EXPECT_FALSE(a.contains("parameters"));
  EXPECT_EQ(a["outputs"], j["outputs"]);
  EXPECT_FALSE(Body(Call("POST", "/v2/models/gdp/infer", V2Infer(kV2Horizon8))).contains("id"));

  // A version by number, other levels (FP64 or FP32), INT64 horizon, nested data, and outputs
  // chosen and ordered by the request.
  const Json v1_90 = Body(Call("POST", "/v1/forecast", R"({"model":"gdp","version":1,"horizon":3,"levels":[90]})"));
  for (const std::string levels_type : {"FP64", "FP32"}) {
    auto v = Call("POST", "/v2/models/gdp/versions/1/infer",
                  V2Infer(R"({"name":"horizon","shape":[1],"datatype":"INT64","data":[[3]]},)"
                          R"({"name":"levels","shape":[1],"datatype":")" + levels_type + R"(","data":[90]})",
                          R"(,"outputs":[{"name":"upper_90"},{"name":"mean","parameters":{"binary_data":false}}])"));
    ASSERT_EQ(v.status, 200) << v.body;
    Json vj = Body(v);
    EXPECT_EQ(vj["model_version"], "1");
    ASSERT_EQ(vj["outputs"].size(), 2u);
    EXPECT_EQ(vj["outputs"][0]["name"], "upper_90");
    EXPECT_EQ(vj["outputs"][0]["data"], v1_90["intervals"][0]["upper"]);
    EXPECT_EQ(vj["outputs"][1]["data"], v1_90["mean"]);
  }
  // Codec hints as MLServer and KServe clients send them (parameters.content_type on the
  // request and on inputs) are accepted and passed back; flat and nested data are the same.
  auto hinted = Call("POST", "/v2/models/gdp/infer",
                     V2Infer(R"({"name":"horizon","shape":[1],"datatype":"INT32","parameters":{"content_type":"np"},)"
                             R"("data":[3]},{"name":"levels","shape":[1],"datatype":"FP64","data":[[90]]})",
                             R"(,"parameters":{"content_type":"pd"},"outputs":[{"name":"upper_90"}])"));
  ASSERT_EQ(hinted.status, 200) << hinted.body;
  EXPECT_EQ(Body(hinted)["parameters"], Json({{"content_type", "pd"}}));
  EXPECT_EQ(Body(hinted)["outputs"][0]["data"], v1_90["intervals"][0]["upper"]);
  // The one-pass reader of the common request and the general reader (which alone reads
  // escaped strings: "\u0068orizon" is "horizon") give the same answer, byte for byte.
  const std::string fast =
      V2Infer(R"({"name":"horizon","shape":[1],"datatype":"INT32","data":[5]},)"
              R"({"name":"levels","shape":[2],"datatype":"FP64","data":[50,99.5]})",
              R"(,"id":"a","parameters":{"x":1.5,"y":-2,"z":1e3,"s":"t","b":false,"big":12345678901},)"
              R"("outputs":[{"name":"upper_99.5"},{"name":"periods"}])");
  std::string general = fast;
  general.replace(general.find("\"horizon\""), 9, R"("\u0068orizon")");
  const HttpResponse by_fast = Call("POST", "/v2/models/gdp/infer", fast);
  ASSERT_EQ(by_fast.status, 200) << by_fast.body;
  EXPECT_EQ(Call("POST", "/v2/models/gdp/infer", general).body, by_fast.body);
  EXPECT_EQ(Body(by_fast)["parameters"],
            Json({{"x", 1.5}, {"y", -2}, {"z", 1000.0}, {"s", "t"}, {"b", false}, {"big", 12345678901}}));
  // as_of: the refit on the data known then, as /v1/forecast refits (on a worker thread).
  const Json v1_as_of = Body(Call("POST", "/v1/forecast", R"({"model":"gdp","horizon":4,"as_of":"2010-01-20"})"));
  ASSERT_TRUE(v1_as_of.contains("mean")) << v1_as_of;
  auto as_of = Call("POST", "/v2/models/gdp/infer",
                    V2Infer(R"({"name":"horizon","shape":[1],"datatype":"INT32","data":[4]},)"
                            R"({"name":"as_of","shape":[1],"datatype":"BYTES","data":["2010-01-20"]})"));
  ASSERT_EQ(as_of.status, 200) << as_of.body;
  Json aj = Body(as_of);
  EXPECT_EQ(aj["outputs"][0]["data"], v1_as_of["mean"]);
  EXPECT_EQ(aj["outputs"][5]["data"], v1_as_of["periods"]);
}

TEST_F(HttpApiTest, Issue22V2InferBadInputsAreProtocolErrorsAndChangeNothing) {
  const auto head_before = *store_->metadata().AuditHead();
  cache_->Clear();
  auto h = [](const std::string& datatype, const std::string& shape, const std::string& data) {
    return R"({"name":"horizon","shape":)" + shape + R"(,"datatype":")" + datatype + R"(","data":)" + data + "}";
  };
  struct Bad {
    std::string target;
    std::string body;
    int status;
    std::string message;
  };
  const std::string infer = "/v2/models/gdp/infer";
  const Bad cases[] = {
      {infer, "", 400, "must be a JSON object"},
      {infer, "{", 400, "malformed JSON"},
      {infer, "[1]", 400, "must be a JSON object"},
      {infer, "{}", 400, "missing field 'inputs'"},
      {infer, R"({"inputs":{}})", 400, "missing field 'inputs'"},
      {infer, R"({"inptus":[]})", 400, "unknown field 'inptus' (did you mean 'inputs'"},
      {infer, V2Infer(""), 400, "missing input 'horizon'"},
      {infer, V2Infer(R"({"name":"levels","shape":[1],"datatype":"FP64","data":[90]})"), 400, "missing input 'horizon'"},
      {infer, V2Infer(h("FP32", "[1]", "[8]")), 400, "input 'horizon' must be INT32 or INT64, got FP32"},
      {infer, V2Infer(h("BYTES", "[1]", R"(["8"])")), 400, "must be INT32 or INT64, got BYTES"},
      {infer, V2Infer(h("INT31", "[1]", "[8]")), 400, "unknown datatype 'INT31'"},
      {infer, V2Infer(h("INT32", "[2]", "[8]")), 400, "the shape says 2 elements, data has 1"},
      {infer, V2Infer(h("INT32", "[1]", "[8,9]")), 400, "the shape says 1 elements, data has 2"},
      {infer, V2Infer(h("INT32", "[2]", "[8,9]")), 400, "must have shape [1], got [2]"},
      {infer, V2Infer(h("INT32", "[1,1]", "[[8]]")), 400, "must have shape [1], got [1,1]"},
      {infer, V2Infer(h("INT32", "[-1]", "[8]")), 400, "non-negative integers"},
      {infer, V2Infer(h("INT32", "1", "[8]")), 400, "shape must be an array"},
      {infer, V2Infer(h("INT32", "[1]", "8")), 400, "data must be an array"},
      {infer, V2Infer(R"({"name":"horizon","shape":[1],"datatype":"INT32"})"), 400, "missing field 'data'"},
      {infer, V2Infer(h("INT32", "[1]", "[8.5]")), 400, "must hold an integer"},
      {infer, V2Infer(h("INT32", "[1]", R"(["8"])")), 400, "must hold an integer"},
      {infer, V2Infer(h("INT32", "[1]", "[0]")), 400, "horizon must be in 1..10000, got 0"},
      {infer, V2Infer(h("INT32", "[1]", "[-3]")), 400, "got -3"},
      {infer, V2Infer(h("INT32", "[1]", "[1000000000]")), 400, "horizon must be in 1..10000, got 1000000000"},
      {infer, V2Infer(h("INT32", "[1]", "[99999999999]")), 400, "99999999999 is not an INT32 value"},
      {infer, V2Infer(h("INT64", "[1]", "[99999999999999999999]")), 400, "must hold an integer"},
      {infer, V2Infer(kV2Horizon8 + "," + kV2Horizon8), 400, "input 'horizon' is given twice"},
      {infer, V2Infer(R"({"name":"horizn","shape":[1],"datatype":"INT32","data":[8]})"), 400,
       "unknown input 'horizn' (did you mean 'horizon'"},
      {infer, V2Infer(R"({"name":"horizon","shape":[1],"datatype":"INT32","data":[8],"x":1})"), 400,
       "unknown field 'inputs[0].x'"},
      {infer, V2Infer(R"({"shape":[1],"datatype":"INT32","data":[8]})"), 400, "inputs[0].name must be a string"},
      {infer, V2Infer("7"), 400, "inputs[0] must be an object"},
      {infer, V2Infer(kV2Horizon8 + R"(,{"name":"as_of","shape":[1],"datatype":"FP64","data":[2010]})"), 400,
       "input 'as_of' must be BYTES, got FP64"},
      {infer, V2Infer(kV2Horizon8 + R"(,{"name":"as_of","shape":[1],"datatype":"BYTES","data":["2099-01-01"]})"), 400,
       "in the future"},
      {infer, V2Infer(kV2Horizon8 + R"(,{"name":"as_of","shape":[1],"datatype":"BYTES","data":["soon"]})"), 400,
       "not a date"},
      {infer, V2Infer(kV2Horizon8 + R"(,{"name":"as_of","shape":[1],"datatype":"BYTES","data":[20100101]})"), 400,
       "must hold a date as a string"},
      {infer, V2Infer(kV2Horizon8 + R"(,{"name":"as_of","shape":[1],"datatype":"BYTES","data":["1990-01-01"]})"), 409,
       "0 observations"},
      {infer, V2Infer(kV2Horizon8 + R"(,{"name":"levels","shape":[1],"datatype":"FP64","data":[100]})"), 400,
       "outside (0, 100)"},
      {infer, V2Infer(kV2Horizon8 + R"(,{"name":"levels","shape":[2],"datatype":"FP64","data":[80,80]})"), 400,
       "level 80 twice"},
      {infer, V2Infer(kV2Horizon8 + R"(,{"name":"levels","shape":[1],"datatype":"INT32","data":[80]})"), 400,
       "must be FP64 or FP32, got INT32"},
      {infer, V2Infer(kV2Horizon8 + R"(,{"name":"levels","shape":[0],"datatype":"FP64","data":[]})"), 400,
       "shape [k] with k in 1..10"},
      {infer, V2Infer(kV2Horizon8, R"(,"outputs":[{"name":"lower_90"}])"), 400, "unknown output 'lower_90'"},
      {infer, V2Infer(kV2Horizon8, R"(,"outputs":[{"name":"mean"},{"name":"mean"}])"), 400, "requested twice"},
      {infer, V2Infer(kV2Horizon8, R"(,"outputs":[{"name":"mean","parameters":{"binary_data":true}}])"), 400,
       "binary tensor data extension is not supported"},
      {infer, V2Infer(kV2Horizon8, R"(,"parameters":{"binary_data_output":true})"), 400, "binary tensor data"},
      {infer, V2Infer(kV2Horizon8, R"(,"parameters":{"nested":{"a":1}})"), 400,
       "parameters.nested must be a string, a number or a boolean"},
      {infer, V2Infer(kV2Horizon8, R"(,"parameters":[1])"), 400, "parameters must be an object"},
      {infer, V2Infer(kV2Horizon8, R"(,"id":7)"), 400, "'id' must be a string"},
      {"/v2/models/nope/infer", V2Infer(kV2Horizon8), 404, "not served"},
      {"/v2/models/gdp/versions/9/infer", V2Infer(kV2Horizon8), 404, "version 9 is not served"},
      {"/v2/models/gdp/versions/0/infer", V2Infer(kV2Horizon8), 400, "not a positive integer"},
      {"/v2/models/gdp/versions/-1/infer", V2Infer(kV2Horizon8), 400, "not a positive integer"},
  };
  for (const auto& c : cases) ExpectV2Error(Call("POST", c.target, c.body), c.status, c.message, c.body);
  // Nothing was cached, audited or stored.
  EXPECT_EQ(cache_->entries(), 0u);
  EXPECT_EQ(*store_->metadata().AuditHead(), head_before);
  // Auth and roles as /v1/forecast: a viewer may infer, nobody without a token.
  ExpectV2Error(Call("POST", infer, V2Infer(kV2Horizon8), std::nullopt), 401, "", "no token");
  EXPECT_EQ(Call("POST", infer, V2Infer(kV2Horizon8), Role::kViewer).status, 200);
  // A deeply nested body is refused without recursion trouble.
  ExpectV2Error(Call("POST", infer, std::string(100000, '[') + std::string(100000, ']')), 400, "", "deep");
  ExpectV2Error(Call("POST", infer, V2Infer(R"({"name":"horizon","shape":[1],"datatype":"INT32","data":)" +
                                            std::string(20, '[') + "8" + std::string(20, ']') + "}")),
                400, "nested too deeply", "deep data");
}

// POST /v1/scenarios: a stable three-variable VAR(1) system stored as x:a, x:b, x:c (2000Q1,
// 80 quarters, known from 2010-01-15), a later revision of x:a's last four values (known from
// 2015-01-01), an explosive series and one with a gap.
class ScenarioApiTest : public HttpApiTest {
 protected:
  void SetUp() override {
    HttpApiTest::SetUp();
    std::vector<double> a, b, c;
    uint64_t state = 2024;
    auto noise = [&] {
      state = state * 6364136223846793005ULL + 1442695040888963407ULL;
      return static_cast<double>(state >> 11) * 0x1.0p-53 - 0.5;
    };
    double xa = 0, xb = 0, xc = 0;
    for (int t = 0; t < 80; ++t) {
      const double na = 0.5 * xa + 0.2 * xb + noise(), nb = 0.1 * xa + 0.6 * xb + noise(),
                   nc = 0.3 * xb - 0.2 * xc + noise();
      xa = na, xb = nb, xc = nc;
      a.push_back(2 + xa), b.push_back(3 + xb), c.push_back(1 + xc);
    }
    Ingest("x:a", a, "2010-01-15");
    Ingest("x:b", b, "2010-01-15");
    Ingest("x:c", c, "2010-01-15");
    Ingest("x:a", {9, 9.5, 8.7, 9.2}, "2015-01-01", Period(Frequency::kQuarterly, 2000 * 4 + 76));
    std::vector<double> boom;
    for (int t = 0; t < 80; ++t) boom.push_back(std::pow(1.06, t) + 0.3 * noise());
    Ingest("x:boom", boom, "2010-01-15");
    Ingest("x:gappy", {1, 2, 3}, "2010-01-15");
    Ingest("x:gappy", {5, 6, 7}, "2010-01-15", Period(Frequency::kQuarterly, 2000 * 4 + 4));
  }

  // The model API called directly on the stored series as known on `as_of`.
  std::unique_ptr<models::MultivariateForecaster> Direct(const std::vector<std::string>& keys,
                                                         const models::ModelSpec& spec,
                                                         std::optional<Date> as_of = std::nullopt) {
    std::vector<TimeSeries> series;
    for (const auto& k : keys) series.push_back(store_->series().ReadAsOf(k, as_of)->Trimmed());
    auto data = models::AlignSeries(keys, series);
    EXPECT_TRUE(data.ok()) << data.status().ToString();
    auto m = *models::CreateMultivariate(spec);
    EXPECT_THAT(m->Fit(*data), IsOk());
    return m;
  }

  // Compares one forecast of the response with a MultiForecast, value by value (the JSON
  // numbers round-trip exactly).
  void ExpectSame(const Json& got, const models::MultiForecast& want) {
    ASSERT_EQ(got["variables"].size(), want.names.size());
    for (size_t i = 0; i < want.names.size(); ++i) {
      const Json& v = got["variables"][i];
      EXPECT_EQ(v["name"], want.names[i]);
      EXPECT_EQ(v["mean"].get<std::vector<double>>(), want.mean[i]) << want.names[i];
      ASSERT_EQ(v["intervals"].size(), want.intervals.size());
      for (size_t l = 0; l < want.intervals.size(); ++l) {
        EXPECT_EQ(v["intervals"][l]["level"].get<double>(), want.intervals[l].level);
        EXPECT_EQ(v["intervals"][l]["lower"].get<std::vector<double>>(), want.intervals[l].lower[i]) << want.names[i];
        EXPECT_EQ(v["intervals"][l]["upper"].get<std::vector<double>>(), want.intervals[l].upper[i]) << want.names[i];
      }
    }
  }
};

constexpr double kFree = std::numeric_limits<double>::quiet_NaN();

TEST_F(ScenarioApiTest, ScenarioMeetsThePathAndMatchesTheModelApi) {
  auto r = Call("POST", "/v1/scenarios",
                R"({"series":["x:a","x:b","x:c"],"params":{"lags":2},"horizon":6,"levels":[80,95],
                    "scenarios":{"tight":{"x:b":[4,4.5,5,null,null,null]},"flat":{}}})",
                Role::kAnalyst);
  ASSERT_EQ(r.status, 200) << r.body;
  const Json j = Body(r);
  EXPECT_EQ(j["request_id"], "req-1");
  EXPECT_EQ(j["model"], "var");
  EXPECT_THAT(j["method"].get<std::string>(), HasSubstr("VAR(2)"));
  EXPECT_EQ(j["frequency"], "Q");
  EXPECT_EQ(j["periods"], Json({"2020Q1", "2020Q2", "2020Q3", "2020Q4", "2021Q1", "2021Q2"}));
  EXPECT_EQ(j["data"]["end"], "2019Q4");
  EXPECT_EQ(j["data"]["observations"], 80);
  EXPECT_EQ(j["data"]["as_of"], nullptr);
  EXPECT_EQ(j["data"]["data_sha256"].get<std::string>().size(), 64u);

  const models::ModelSpec spec{"var", {{"lags", 2}}};
  auto model = Direct({"x:a", "x:b", "x:c"}, spec);
  ASSERT_OK_AND_ASSIGN(models::MultiForecast base, model->Predict({.horizon = 6, .levels = {80, 95}}));
  ExpectSame(j["baseline"], base);
  const models::PathCondition path{"x:b", {4, 4.5, 5, kFree, kFree, kFree}};
  ASSERT_OK_AND_ASSIGN(models::MultiForecast cond,
                       model->Predict({.horizon = 6, .levels = {80, 95}, .conditions = {path}}));

  // Scenarios come in name order.
  ASSERT_EQ(j["scenarios"].size(), 2u);
  const Json& flat = j["scenarios"][0];
  EXPECT_EQ(flat["name"], "flat");
  ExpectSame(flat, base);
  const Json& tight = j["scenarios"][1];
  EXPECT_EQ(tight["name"], "tight");
  ExpectSame(tight, cond);
  EXPECT_EQ(tight["paths"]["x:b"], Json::parse("[4,4.5,5,null,null,null]"));
  const Json& b = tight["variables"][1];
  // The conditioned steps equal the path exactly, with no uncertainty left.
  EXPECT_EQ(b["mean"][0].get<double>(), 4.0);
  EXPECT_EQ(b["mean"][1].get<double>(), 4.5);
  EXPECT_EQ(b["mean"][2].get<double>(), 5.0);
  EXPECT_EQ(b["intervals"][1]["lower"][2].get<double>(), 5.0);
  EXPECT_EQ(b["intervals"][1]["upper"][2].get<double>(), 5.0);
  EXPECT_EQ(b["conditioned"], Json({true, true, true, false, false, false}));
  EXPECT_EQ(tight["variables"][0]["conditioned"], Json({false, false, false, false, false, false}));
  // The path moves the other variables (x:a loads on x:b).
  EXPECT_NE(tight["variables"][0]["mean"], j["baseline"]["variables"][0]["mean"]);
  EXPECT_GT(b["intervals"][1]["upper"][3].get<double>(), b["intervals"][1]["lower"][3].get<double>());
  // Read-only: nothing is written.
  EXPECT_EQ(Call("POST", "/v1/scenarios", R"({"series":["x:a","x:b"],"horizon":2})", Role::kViewer).status, 403);
}

TEST_F(ScenarioApiTest, PathsByPeriodAsOfAndBvar) {
  // {period: value} places the value at that step.
  auto by_period =
      Call("POST", "/v1/scenarios", R"({"series":["x:a","x:b"],"horizon":4,"scenarios":{"s":{"x:b":{"2020Q3":5}}}})");
  auto by_list = Call("POST", "/v1/scenarios",
                      R"({"series":["x:a","x:b"],"horizon":4,"scenarios":{"s":{"x:b":[null,null,5,null]}}})");
  ASSERT_EQ(by_period.status, 200) << by_period.body;
  ASSERT_EQ(by_list.status, 200) << by_list.body;
  EXPECT_EQ(Body(by_period)["scenarios"], Body(by_list)["scenarios"]);
  EXPECT_EQ(Body(by_period)["scenarios"][0]["variables"][1]["mean"][2].get<double>(), 5.0);

  // as_of: the data known then (before x:a's revision), as the model API sees it.
  auto before = Call("POST", "/v1/scenarios", R"({"series":["x:a","x:b"],"horizon":4,"as_of":"2012-06-30"})");
  ASSERT_EQ(before.status, 200) << before.body;
  const Date then = *Date::Parse("2012-06-30");
  ASSERT_OK_AND_ASSIGN(models::MultiForecast want,
                       Direct({"x:a", "x:b"}, {"var", Json::object()}, then)->Predict({.horizon = 4}));
  ExpectSame(Body(before)["baseline"], want);
  EXPECT_EQ(Body(before)["data"]["as_of"], "2012-06-30");
  const Json latest = Body(by_list);
  EXPECT_NE(Body(before)["data"]["data_sha256"], latest["data"]["data_sha256"]);
  EXPECT_NE(Body(before)["baseline"], latest["baseline"]);

  // bvar (few draws to stay quick): the path is met exactly, the rest is simulated.
  auto bvar =
      Call("POST", "/v1/scenarios",
           R"({"series":["x:a","x:b"],"model":"bvar","params":{"lags":1,"draws":100,"lambda":0.2,"theta":0.5,"decay":1},
                       "horizon":3,"scenarios":{"s":{"x:a":[2.5,null,3]}}})");
  ASSERT_EQ(bvar.status, 200) << bvar.body;
  const Json bj = Body(bvar);
  EXPECT_EQ(bj["model"], "bvar");
  EXPECT_EQ(bj["scenarios"][0]["variables"][0]["mean"][0].get<double>(), 2.5);
  EXPECT_EQ(bj["scenarios"][0]["variables"][0]["mean"][2].get<double>(), 3.0);
  EXPECT_THAT(bj["scenarios"][0]["interval_method"].get<std::string>(), HasSubstr("100 draws"));
}

TEST_F(ScenarioApiTest, NonStationarySystemAnswersWithTheModelsNote) {
  auto r =
      Call("POST", "/v1/scenarios", R"({"series":["x:boom","x:b"],"horizon":4,"scenarios":{"s":{"x:b":[3,3,3,3]}}})");
  ASSERT_EQ(r.status, 200) << r.body;
  const Json j = Body(r);
  ASSERT_FALSE(j["notes"].empty());
  EXPECT_THAT(j["notes"][0].get<std::string>(), HasSubstr("not stable"));
  EXPECT_THAT(j["notes"][0].get<std::string>(), HasSubstr("x:boom"));
}

TEST_F(ScenarioApiTest, BadInputs) {
  struct Bad {
    std::string body;
    int status;
    std::string message;
  };
  std::string many = "[";
  for (int i = 0; i < 21; ++i) many += std::string(i ? "," : "") + "\"s:" + std::to_string(i) + "\"";
  many += "]";
  std::string eleven;
  for (int i = 0; i < 11; ++i) eleven += std::string(i ? "," : "") + "\"s" + std::to_string(i) + "\":{}";
  const std::string ab = R"("series":["x:a","x:b"],)";
  const Bad cases[] = {
      {"", 400, "must be a JSON object"},
      {R"({"horizon":4})", 400, "missing field 'series'"},
      {R"({"series":"x:a","horizon":4})", 400, "must be an array"},
      {R"({"series":[],"horizon":4})", 400, "at least one series"},
      {R"({"series":[1],"horizon":4})", 400, "must hold strings"},
      {R"({"series":)" + many + R"(,"horizon":4})", 400, "at most 20 series per scenario request, got 21"},
      {R"({"series":["x:a","x:a"],"horizon":4})", 400, "named twice"},
      {R"({"series":["x;a"],"horizon":4})", 400, "';'"},
      {R"({"series":["x:a","x:nope"],"horizon":4})", 404, "x:nope"},
      {"{" + ab + R"("horizon":4,"scenario":{}})", 400, "unknown field 'scenario' (did you mean 'scenarios'"},
      {"{" + ab + R"("horizon":4,"model":"arima"})", 400, "cannot run scenarios"},
      {"{" + ab + R"("horizon":4,"model":"arimax"})", 400, "no baseline"},
      {"{" + ab + R"("horizon":4,"params":[2]})", 400, "'params' must be an object"},
      {"{" + ab + R"("horizon":4,"params":{"lagz":2}})", 400, "did you mean 'lags'"},
      {"{" + ab + R"("horizon":4,"params":{"lags":100}})", 400, "params.lags is at most 48"},
      {"{" + ab + R"("horizon":4,"params":{"lags":30}})", 400, "observations"},
      {"{" + ab + R"("horizon":0})", 400, "horizon must be in 1..10000"},
      {"{" + ab + R"("horizon":10001})", 400, "horizon must be in 1..10000"},
      {"{" + ab + R"("horizon":251})", 400, "horizon x series is at most 500"},
      {"{" + ab + R"("horizon":60,"model":"bvar"})", 400,
       "too large: 2000 draws x horizon 60 x 2 series is over 200000"},
      {"{" + ab + R"("horizon":40,"model":"bvar","scenarios":{"s":{"x:a":{"2020Q1":1}}}})", 400,
       "too large: 1 conditional scenario(s) x (horizon 40 x 2 series)^3 x 2000 draws is over the budget"},
      {"{" + ab + R"("horizon":250,"scenarios":{"s1":{"x:a":{"2020Q1":1}},"s2":{"x:a":{}},"s3":{"x:b":{}},"s4":{}}})",
       400, "too large: 3 conditional scenario(s) x (horizon 250 x 2 series)^3 is over the budget"},
      {"{" + ab + R"("horizon":4,"levels":[100]})", 400, "outside (0, 100)"},
      {"{" + ab + R"("horizon":4,"as_of":"2099-01-01"})", 400, "in the future"},
      {"{" + ab + R"("horizon":4,"as_of":"soon"})", 400, "not a date"},
      {"{" + ab + R"("horizon":4,"as_of":"2005-01-01"})", 409, "no observations known on 2005-01-01"},
      {R"({"series":["x:a","x:gappy"],"horizon":4})", 400, "missing"},
      {"{" + ab + R"("horizon":4,"scenarios":[]})", 400, "'scenarios' must be an object"},
      {"{" + ab + R"("horizon":4,"scenarios":{)" + eleven + "}}", 400, "at most 10 scenarios per request, got 11"},
      {"{" + ab + R"("horizon":4,"scenarios":{"a b":{}}})", 400, "scenario name"},
      {"{" + ab + R"("horizon":4,"scenarios":{"s":[1,2,3,4]}})", 400, "scenarios.s must be an object"},
      {"{" + ab + R"("horizon":4,"scenarios":{"s":{"x:bb":[1,2,3,4]}}})", 400,
       "scenarios.s.x:bb: unknown variable (did you mean 'x:b'?); the request's series are: x:a, x:b"},
      {"{" + ab + R"("horizon":4,"scenarios":{"s":{"x:b":[1,2,3]}}})", 400,
       "scenarios.s.x:b: the path has 3 values but the horizon is 4"},
      {"{" + ab + R"("horizon":4,"scenarios":{"s":{"x:b":[1,2,3,4,5]}}})", 400, "has 5 values"},
      {"{" + ab + R"("horizon":4,"scenarios":{"s":{"x:b":[1,"NaN",3,4]}}})", 400,
       "scenarios.s.x:b[1] must be a number or null"},
      {"{" + ab + R"("horizon":4,"scenarios":{"s":{"x:b":[1,NaN,3,4]}}})", 400, "malformed JSON"},
      {"{" + ab + R"("horizon":4,"scenarios":{"s":{"x:b":[1,1e999,3,4]}}})", 400, ""},
      {"{" + ab + R"("horizon":4,"scenarios":{"s":{"x:b":5}}})", 400, "must be an array"},
      {"{" + ab + R"("horizon":4,"scenarios":{"s":{"x:b":{"2020Q9":1}}}})", 400, "not a period"},
      {"{" + ab + R"("horizon":4,"scenarios":{"s":{"x:b":{"2021Q1":1}}}})", 400,
       "outside the forecast horizon 2020Q1..2020Q4"},
      {"{" + ab + R"("horizon":4,"scenarios":{"s":{"x:b":{"2020Q1":"high"}}}})", 400, "must be a number or null"},
  };
  for (const auto& c : cases) {
    auto r = Call("POST", "/v1/scenarios", c.body);
    EXPECT_EQ(r.status, c.status) << c.body << " -> " << r.body.substr(0, 300);
    Json j = Body(r);
    EXPECT_THAT(j.value("message", ""), HasSubstr(c.message)) << c.body;
    EXPECT_EQ(j["request_id"], "req-1");
    EXPECT_FALSE(j.value("code", "").empty());
  }
}

// Issue 24: a registered var in production is not servable by /v1/forecast: a 409 naming the
// version and its type, while the other models are still served.
TEST_F(HttpApiTest, ForecastOfAMultivariateVersionIsAConflictNamingIt) {
  std::vector<double> cpi;  // not collinear with us:gdp's Growth pattern
  for (int i = 0; i < 40; ++i) cpi.push_back(3 + 0.2 * i + ((i * 3) % 7) * 0.4);
  Ingest("us:cpi", cpi, "2010-01-15");
  RegisterVar("macro", {"us:gdp", "us:cpi"}, "2010-02-01");
  Promote("macro", 1);
  const auto report = manager_->Reconcile(*ReadRegistryState(store_->metadata()));
  EXPECT_EQ(report.failed, 0);
  auto r = Call("POST", "/v1/forecast", R"({"model":"macro","horizon":4})", Role::kViewer);
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_THAT(r.body, HasSubstr("macro@1 is a var model (multivariate: us:gdp, us:cpi)"));
  EXPECT_THAT(r.body, HasSubstr("not servable by /v1/forecast"));
  EXPECT_EQ(Call("POST", "/v1/forecast", R"({"model":"gdp","horizon":4})", Role::kViewer).status, 200);
  EXPECT_EQ(Call("GET", "/readyz").status, 200);
}

}  // namespace
}  // namespace almanac::serve
