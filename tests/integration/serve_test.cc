// End-to-end tests of `almanac serve` over real HTTP on 127.0.0.1: tokens and roles, every
// bad input of issue 5, limits and timeouts, a promotion racing with a stream of forecasts,
// graceful shutdown, TLS, metrics. The server runs as a child process of the built binary.
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "almanac/core.h"
#include "almanac/core/json.h"
#include "almanac/models.h"
#include "integration/cli_runner.h"
#include "integration/http_client.h"
#include "integration/serve_process.h"

namespace almanac::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using Clock = std::chrono::steady_clock;

const std::string kSrc = ALMANAC_SOURCE_DIR;

std::string Pipeline(const std::string& candidate_type) {
  return "name: gdp-serve-" + candidate_type +
         "\n"
         "data:\n  series: [us:realgdp]\n  as_of: 2009-12-20\n"
         "transforms:\n  - name: gdp_growth\n    op: pct_change\n    input: us:realgdp\n    periods: 1\n"
         "target: gdp_growth\nhorizon: 8\nlevels: [80, 95]\n"
         "models:\n  - name: m\n    type: " +
         candidate_type +
         "\n"
         "evaluation:\n  origins: 2\n  horizon: 2\n"
         "register:\n  model: gdp\n  policy:\n    four_eyes: true\n"
         "promote:\n  to: production\n";
}

Json Parse(const std::string& body) {
  auto j = ParseJson(body);
  return j.ok() ? *j : Json();
}

// One workspace for the suite: sample data, gdp@1 in production (alice requested, bob
// approved), gdp@2 registered with a pending production request by alice, and tokens.
class ServeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    ws_ = *dir_ / "ws";
    ASSERT_EQ(Cli({"init"}).exit_code, 0);
    auto r = Cli({"ingest", kSrc + "/examples/data/us_macro_quarterly.csv", "--metadata",
                  kSrc + "/examples/data/us_macro_quarterly.meta.yaml", "--realtime-start", "2009-12-15"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    r = Cli({"ingest", kSrc + "/examples/data/us_gdp_revision_illustrative.csv"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    WriteFile(*dir_ / "ets.yaml", Pipeline("auto_ets"));
    WriteFile(*dir_ / "theta.yaml", Pipeline("theta"));
    r = Cli({"run", *dir_ / "ets.yaml"}, "alice");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    r = Cli({"models", "approve", "gdp@1", "--reason", "reviewed"}, "bob");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    r = Cli({"run", *dir_ / "theta.yaml"}, "alice");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    for (const char* role : {"viewer", "analyst", "modeler", "approver", "admin"}) {
      const std::string user = std::string(role) == "modeler" ? "alice" : std::string(role) == "approver" ? "bob" : role;
      auto t = Cli({"--quiet", "tokens", "create", "--role", role, "--user", user}, "root");
      ASSERT_EQ(t.exit_code, 0) << t.err;
      (*tokens_)[role] = std::string(Trim(t.out));
    }
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static CommandResult Cli(std::vector<std::string> args, const std::string& user = "tester", const std::string& ws = "") {
    args.insert(args.begin(), {"--workspace", ws.empty() ? ws_ : ws, "--user", user});
    return RunAlmanac(args);
  }
  // A private copy of the suite's workspace, for tests that change it.
  static std::string CopyWorkspace(const TempDir& into) {
    const std::string dst = into / "ws";
    std::filesystem::copy(ws_, dst, std::filesystem::copy_options::recursive);
    return dst;
  }
  static std::string Token(const std::string& role) { return (*tokens_)[role]; }

  static inline TempDir* dir_ = nullptr;
  static inline std::string ws_;
  static inline std::map<std::string, std::string>* tokens_ = new std::map<std::string, std::string>();
};

constexpr const char* kForecast = R"({"model":"gdp","horizon":8,"levels":[80,95]})";

// A refit slow enough to be in flight for a while (auto_ets on a long history).
// Long enough that refitting it keeps a worker busy for well over the 100-150 ms the tests
// wait (4,000 values stopped being enough once ETS fits got faster).
constexpr int kSlowHistory = 40000;

std::string PredictRequest(const std::string& token, int n) {
  std::string values;
  for (int i = 0; i < n; ++i) values += (i ? "," : "") + std::to_string(100 + (i * 37 % 11) * 0.1 + i * 0.01);
  const std::string body = R"({"horizon":2,"history":{"start":"1000Q1","values":[)" + values + "]}}";
  return "POST /v1/models/gdp/predict HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

TEST_F(ServeTest, ForecastsWithTokensRolesAndHealth) {
  ServeProcess s(ws_, {});
  ASSERT_TRUE(s.running()) << s.log();
  auto r = HttpRequest(s.port(), "POST", "/v1/forecast", kForecast, Token("viewer"));
  ASSERT_EQ(r.status, 200) << r.body;
  Json j = Parse(r.body);
  EXPECT_EQ(j["model"], "gdp");
  EXPECT_EQ(j["version"], 1);
  EXPECT_EQ(j["alias"], "production");
  EXPECT_EQ(j["periods"].size(), 8u);
  EXPECT_EQ(j["intervals"].size(), 2u);
  EXPECT_EQ(j["data"]["snapshot_id"].get<std::string>().size(), 64u);
  EXPECT_EQ(j["request_id"], r.headers["x-request-id"]);
  EXPECT_EQ(HttpRequest(s.port(), "POST", "/v1/forecast", kForecast, Token("viewer")).headers["x-cache"], "hit");
  EXPECT_EQ(HttpRequest(s.port(), "GET", "/healthz").status, 200);
  EXPECT_EQ(HttpRequest(s.port(), "GET", "/readyz").status, 200);
  // Every endpoint of the issue answers.
  for (const std::string& path : std::vector<std::string>{"/v1/series", "/v1/series/us:realgdp?as_of=2009-12-20",
                                                          "/v1/series/us:realgdp/vintages", "/v1/models", "/v1/models/gdp",
                                                          "/v1/models/gdp/versions", "/v1/lineage/gdp/1"}) {
    auto g = HttpRequest(s.port(), "GET", path, "", Token("viewer"));
    EXPECT_EQ(g.status, 200) << path << ": " << g.body;
  }
  const std::string run =
      Parse(HttpRequest(s.port(), "GET", "/v1/models/gdp/versions", "", Token("viewer")).body)["versions"][0]["run_id"].get<std::string>();
  auto run_page = HttpRequest(s.port(), "GET", "/v1/runs/" + run, "", Token("viewer"));
  EXPECT_EQ(run_page.status, 200);
  {
    // Issue 20: the real runner's timeline.json and run.log reach the API (the labels agree).
    Json rj = Parse(run_page.body);
    ASSERT_TRUE(rj.contains("timeline")) << run_page.body;
    std::set<std::string> steps;
    for (const auto& e : rj["timeline"]) {
      steps.insert(e["step"].get<std::string>());
      EXPECT_GE(e["start"].get<double>(), 0) << e;
      EXPECT_GE(e["seconds"].get<double>(), 0) << e;
      EXPECT_EQ(e["status"], "ok") << e;
    }
    for (const char* want : {"load", "validate", "transform", "register"}) EXPECT_TRUE(steps.count(want)) << want;
    EXPECT_TRUE(std::any_of(steps.begin(), steps.end(), [](const std::string& x) { return x.rfind("train:", 0) == 0; }));
    EXPECT_THAT(rj["log"].get<std::string>(), HasSubstr("run " + run + " of pipeline"));
    EXPECT_EQ(rj["log_truncated"], false);
    EXPECT_FALSE(rj.contains("records_error")) << rj["records_error"];
  }
  auto predict = HttpRequest(s.port(), "POST", "/v1/models/gdp/predict",
                             R"({"horizon":2,"history":{"start":"2001Q1","values":[1,0.5,0.8,1.2,0.9,0.7,1.1,0.6,0.4,0.9]}})",
                             Token("analyst"));
  EXPECT_EQ(predict.status, 200) << predict.body;
  auto scen = HttpRequest(s.port(), "POST", "/v1/scenarios", R"({"series":["us:infl","us:unemp"],"horizon":2})",
                          Token("analyst"));
  EXPECT_EQ(scen.status, 200) << scen.body;
  auto openapi = HttpRequest(s.port(), "GET", "/openapi.json");
  EXPECT_EQ(openapi.body, ReadFile(kSrc + "/docs/openapi.json"));

  // No token, a malformed one, an unknown one: 401 with a JSON error.
  for (const std::string& tok : std::vector<std::string>{"", "garbage", "alm_" + std::string(64, 'a')}) {
    auto u = HttpRequest(s.port(), "POST", "/v1/forecast", kForecast, tok);
    EXPECT_EQ(u.status, 401) << tok;
    EXPECT_EQ(Parse(u.body)["code"], "UNAUTHENTICATED");
    EXPECT_FALSE(Parse(u.body)["request_id"].get<std::string>().empty());
    EXPECT_THAT(u.headers["www-authenticate"], HasSubstr("Bearer"));
  }
  // A viewer cannot promote.
  auto v = HttpRequest(s.port(), "POST", "/v1/models/gdp/versions/2/promote", R"({"to":"staging"})", Token("viewer"));
  EXPECT_EQ(v.status, 403);
  EXPECT_EQ(Parse(v.body)["code"], "PERMISSION_DENIED");
}

// Issue 22: the Open Inference Protocol (KServe V2) REST API over real HTTP, from the
// protocol's documented requests and responses (inference_rest.md: health, server and
// model metadata, inference request/response/error objects) adapted to a forecast model's
// tensors, and the equality of V2 infer and /v1/forecast answers.
std::string V2InferBody(int horizon, const std::string& more_inputs = "", const std::string& more = "") {
  return R"({"inputs":[{"name":"horizon","shape":[1],"datatype":"INT32","data":[)" + std::to_string(horizon) + "]}" +
         more_inputs + "]" + more + "}";
}

// The output tensors of a V2 infer response by name.
std::map<std::string, Json> V2Outputs(const Json& response) {
  std::map<std::string, Json> out;
  for (const auto& o : response["outputs"]) out[o["name"].get<std::string>()] = o;
  return out;
}

// `r` is the protocol's error object: exactly {"error": "..."}, with `status`.
void ExpectV2Error(const HttpResult& r, int status, const std::string& what) {
  EXPECT_EQ(r.status, status) << r.body;
  const Json j = Parse(r.body);
  ASSERT_TRUE(j.is_object()) << r.body;
  EXPECT_EQ(j.size(), 1u) << r.body;
  ASSERT_TRUE(j.contains("error") && j["error"].is_string()) << r.body;
  EXPECT_THAT(j["error"].get<std::string>(), HasSubstr(what));
  auto header = [&](const std::string& name) {
    auto it = r.headers.find(name);
    return it == r.headers.end() ? std::string() : it->second;
  };
  EXPECT_THAT(header("content-type"), HasSubstr("application/json"));
  EXPECT_FALSE(header("x-request-id").empty());
}

TEST_F(ServeTest, Issue22OpenInferenceProtocolConformance) {
  ServeProcess s(ws_, {});
  ASSERT_TRUE(s.running()) << s.log();
  HttpConnection c(s.port());
  // Health: 200 is true. Server metadata: name, version, extensions.
  auto live = c.Request("GET", "/v2/health/live");
  EXPECT_EQ(live.status, 200);
  EXPECT_EQ(Parse(live.body)["live"], true);
  EXPECT_EQ(c.Request("GET", "/v2/health/ready").status, 200);
  const Json server = Parse(c.Request("GET", "/v2").body);
  EXPECT_EQ(server["name"], "almanac");
  EXPECT_TRUE(server["version"].is_string());
  EXPECT_TRUE(server["extensions"].is_array());
  EXPECT_EQ(c.Request("HEAD", "/v2").status, 200);

  // Model metadata and readiness: the served production version (gdp@1; gdp@2 waits for
  // approval, so it is not served).
  const std::string viewer = Token("viewer");
  for (const std::string path : {"/v2/models/gdp", "/v2/models/gdp/versions/1"}) {
    auto m = c.Request("GET", path, "", viewer);
    ASSERT_EQ(m.status, 200) << path << ": " << m.body;
    const Json meta = Parse(m.body);
    EXPECT_EQ(meta["name"], "gdp");
    EXPECT_EQ(meta["versions"], Json::array({"1"}));
    EXPECT_TRUE(meta["platform"].is_string());
    for (const char* list : {"inputs", "outputs"})
      for (const auto& t : meta[list]) {
        EXPECT_TRUE(t["name"].is_string());
        EXPECT_TRUE(t["datatype"].is_string());
        EXPECT_TRUE(t["shape"].is_array());
      }
    EXPECT_EQ(meta["inputs"][0]["name"], "horizon");
    EXPECT_EQ(meta["outputs"][0]["name"], "mean");
    EXPECT_EQ(c.Request("GET", path + "/ready", "", viewer).status, 200) << path;
  }
  ExpectV2Error(c.Request("GET", "/v2/models/gdp/versions/2", "", viewer), 404, "not served");
  ExpectV2Error(c.Request("GET", "/v2/models/gdp/versions/2/ready", "", viewer), 404, "not served");
  ExpectV2Error(c.Request("GET", "/v2/models/unknown", "", viewer), 404, "not served");

  // The protocol's inference request example (an id, named input tensors, one requested
  // output) and its response (the id echoed, the output tensor with name, shape, datatype, data).
  auto ex = c.Request("POST", "/v2/models/gdp/infer",
                      R"({"id":"42","inputs":[{"name":"horizon","shape":[1],"datatype":"INT32","data":[8]}],)"
                      R"("outputs":[{"name":"mean"}]})",
                      viewer, "Content-Type: application/json\r\n");
  ASSERT_EQ(ex.status, 200) << ex.body;
  EXPECT_THAT(ex.headers["content-type"], HasSubstr("application/json"));
  const Json exj = Parse(ex.body);
  EXPECT_EQ(exj["id"], "42");
  EXPECT_EQ(exj["model_name"], "gdp");
  EXPECT_EQ(exj["model_version"], "1");
  ASSERT_EQ(exj["outputs"].size(), 1u);
  EXPECT_EQ(exj["outputs"][0]["name"], "mean");
  EXPECT_EQ(exj["outputs"][0]["shape"], Json::array({8}));
  EXPECT_EQ(exj["outputs"][0]["datatype"], "FP64");
  EXPECT_EQ(exj["outputs"][0]["data"].size(), 8u);
  // The example's error: a tensor whose data does not fill its shape is a 400 error object.
  ExpectV2Error(c.Request("POST", "/v2/models/gdp/infer",
                          V2InferBody(8, R"(,{"name":"levels","shape":[3],"datatype":"FP64","data":[80]})"), viewer),
                400, "the shape says 3 elements, data has 1");

  // The same numbers as /v1/forecast: served fit, by version number, other levels, as_of refit.
  struct Pair {
    std::string v1;
    std::string v2_path;
    std::string v2_body;
  };
  const Pair pairs[] = {
      {kForecast, "/v2/models/gdp/infer", V2InferBody(8)},
      {R"({"model":"gdp","version":1,"horizon":5,"levels":[50,99]})", "/v2/models/gdp/versions/1/infer",
       V2InferBody(5, R"(,{"name":"levels","shape":[2],"datatype":"FP64","data":[50,99]})")},
      {R"({"model":"gdp","horizon":4,"as_of":"2009-12-20"})", "/v2/models/gdp/infer",
       V2InferBody(4, R"(,{"name":"as_of","shape":[1],"datatype":"BYTES","data":["2009-12-20"]})")},
  };
  for (const auto& p : pairs) {
    auto v1 = c.Request("POST", "/v1/forecast", p.v1, viewer);
    auto v2 = c.Request("POST", p.v2_path, p.v2_body, viewer);
    ASSERT_EQ(v1.status, 200) << v1.body;
    ASSERT_EQ(v2.status, 200) << v2.body;
    const Json a = Parse(v1.body);
    const Json b = Parse(v2.body);
    auto out = V2Outputs(b);
    EXPECT_EQ(out["mean"]["data"], a["mean"]) << p.v1;
    EXPECT_EQ(out["periods"]["data"], a["periods"]) << p.v1;
    ASSERT_EQ(out.size(), 2 + 2 * a["intervals"].size()) << b;
    for (const auto& interval : a["intervals"]) {
      std::string level;
      const double l = interval["level"].get<double>();
      level = l == std::floor(l) ? std::to_string(static_cast<int>(l)) : interval["level"].dump();
      EXPECT_EQ(out["lower_" + level]["data"], interval["lower"]) << p.v1 << " level " << level;
      EXPECT_EQ(out["upper_" + level]["data"], interval["upper"]) << p.v1 << " level " << level;
    }
  }

  // Auth as /v1/forecast: no token or a bad one is 401 in the protocol's shape.
  for (const std::string tok : {"", "garbage"}) {
    auto u = c.Request("POST", "/v2/models/gdp/infer", V2InferBody(8), tok);
    ExpectV2Error(u, 401, "");
    EXPECT_THAT(u.headers["www-authenticate"], HasSubstr("Bearer"));
  }
  ExpectV2Error(c.Request("GET", "/v2/models/gdp", "", ""), 401, "");
  // Bad input: protocol errors.
  ExpectV2Error(c.Request("POST", "/v2/models/gdp/infer", "{not json", viewer), 400, "malformed JSON");
  ExpectV2Error(c.Request("POST", "/v2/models/gdp/infer", R"({"inputs":[]})", viewer), 400, "missing input 'horizon'");
  ExpectV2Error(c.Request("POST", "/v2/models/gdp/infer",
                          R"({"inputs":[{"name":"horizon","shape":[1],"datatype":"FP32","data":[8]}]})", viewer),
                400, "must be INT32 or INT64");
  ExpectV2Error(c.Request("POST", "/v2/models/gdp/infer", V2InferBody(-1), viewer), 400, "horizon must be in");
  ExpectV2Error(c.Request("POST", "/v2/models/nope/infer", V2InferBody(8), viewer), 404, "not served");
  ExpectV2Error(c.Request("POST", "/v2/models/gdp/versions/7/infer", V2InferBody(8), viewer), 404, "not served");
  ExpectV2Error(c.Request("GET", "/v2/models/gdp/infer", "", viewer), 405, "not allowed");
  ExpectV2Error(c.Request("GET", "/v2/nothing/here"), 404, "no such endpoint");

  // Counted by route in /metrics like every route.
  const std::string metrics = c.Request("GET", "/metrics").body;
  EXPECT_THAT(metrics, HasSubstr(R"(route="/v2/models/{name}/infer",method="POST",status="200")"));
  EXPECT_THAT(metrics, HasSubstr(R"(route="/v2/models/{name}/versions/{version}/infer",method="POST",status="404")"));
}

std::vector<std::string> SplitCsvLine(const std::string& line) {
  std::vector<std::string> out;
  std::string field;
  std::istringstream in(line);
  while (std::getline(in, field, ',')) out.emplace_back(Trim(field));
  return out;
}

// Columns of the sample file the suite ingested (quarterly from 1959Q1; none of these three
// is revised by the illustrative revision file), read without the store.
models::MultiInput SampleColumns(const std::vector<std::string>& keys) {
  std::istringstream in(ReadFile(kSrc + "/examples/data/us_macro_quarterly.csv"));
  std::string line;
  std::getline(in, line);
  const std::vector<std::string> header = SplitCsvLine(line);
  std::vector<size_t> cols;
  for (const auto& k : keys) cols.push_back(std::find(header.begin(), header.end(), k) - header.begin());
  models::MultiInput data;
  data.names = keys;
  data.values.assign(keys.size(), {});
  while (std::getline(in, line)) {
    if (Trim(line).empty()) continue;
    const auto fields = SplitCsvLine(line);
    if (!data.start) data.start = *Period::Parse(fields[0], Frequency::kQuarterly);
    for (size_t i = 0; i < keys.size(); ++i) data.values[i].push_back(std::stod(fields[cols[i]]));
  }
  return data;
}

TEST_F(ServeTest, ScenarioForecastsMeetThePathAndMatchTheModelApi) {
  ServeProcess s(ws_, {});
  ASSERT_TRUE(s.running()) << s.log();
  const std::vector<std::string> keys = {"us:infl", "us:tbilrate", "us:unemp"};
  auto r = HttpRequest(s.port(), "POST", "/v1/scenarios",
                       R"({"series":["us:infl","us:tbilrate","us:unemp"],"model":"var","params":{"lags":2},"horizon":8,
                           "levels":[90],"scenarios":{"hike":{"us:tbilrate":[4,4.5,5,5.5,null,null,null,null]}}})",
                       Token("analyst"));
  ASSERT_EQ(r.status, 200) << r.body;
  const Json j = Parse(r.body);
  EXPECT_EQ(j["request_id"], r.headers["x-request-id"]);
  EXPECT_EQ(j["periods"][0], "2009Q4");
  EXPECT_EQ(j["data"]["observations"], 203);

  // The model API on the same data, read from the sample file instead of the store.
  auto model = *models::CreateMultivariate({"var", {{"lags", 2}}});
  ASSERT_TRUE(model->Fit(SampleColumns(keys)).ok());
  constexpr double kFree = std::numeric_limits<double>::quiet_NaN();
  const models::PathCondition hike{"us:tbilrate", {4, 4.5, 5, 5.5, kFree, kFree, kFree, kFree}};
  const auto base = *model->Predict({.horizon = 8, .levels = {90}});
  const auto cond = *model->Predict({.horizon = 8, .levels = {90}, .conditions = {hike}});
  auto expect_same = [](const Json& got, const models::MultiForecast& want) {
    ASSERT_EQ(got["variables"].size(), want.names.size());
    for (size_t i = 0; i < want.names.size(); ++i)
      for (size_t h = 0; h < 8; ++h) {
        const auto near = [](double a, double b) { return std::fabs(a - b) <= 1e-9 * std::max(1.0, std::fabs(b)); };
        const Json& v = got["variables"][i];
        EXPECT_TRUE(near(v["mean"][h].get<double>(), want.mean[i][h])) << want.names[i] << " h" << h + 1;
        EXPECT_TRUE(near(v["intervals"][0]["lower"][h].get<double>(), want.intervals[0].lower[i][h])) << want.names[i];
        EXPECT_TRUE(near(v["intervals"][0]["upper"][h].get<double>(), want.intervals[0].upper[i][h])) << want.names[i];
      }
  };
  expect_same(j["baseline"], base);
  ASSERT_EQ(j["scenarios"].size(), 1u);
  expect_same(j["scenarios"][0], cond);
  const Json& rate = j["scenarios"][0]["variables"][1];
  EXPECT_EQ(rate["name"], "us:tbilrate");
  const std::vector<double> path = {4, 4.5, 5, 5.5};
  for (size_t h = 0; h < 4; ++h) {
    EXPECT_EQ(rate["mean"][h].get<double>(), path[h]);  // exactly
    EXPECT_EQ(rate["intervals"][0]["lower"][h].get<double>(), path[h]);
  }
  EXPECT_NE(j["scenarios"][0]["variables"][0]["mean"], j["baseline"]["variables"][0]["mean"]);

  // Bad inputs: JSON errors with the request id, on one keep-alive connection.
  struct Case {
    std::string body;
    int status;
    std::string message;
  };
  const std::string two = R"("series":["us:infl","us:tbilrate"],"horizon":3,)";
  std::string many;
  for (int i = 0; i < 21; ++i) many += std::string(i ? "," : "") + "\"us:x" + std::to_string(i) + "\"";
  const Case cases[] = {
      {R"({"series":["us:infl","us:nope"],"horizon":3})", 404, "us:nope"},
      {"{" + two + R"("scenarios":{"s":{"us:tbilrate":[1,2]}}})", 400, "the path has 2 values but the horizon is 3"},
      {"{" + two + R"("scenarios":{"s":{"us:unemp":[1,2,3]}}})", 400, "unknown variable"},
      {"{" + two + R"("scenarios":{"s":{"us:tbilrate":[1,"NaN",3]}}})", 400, "must be a number or null"},
      {"{" + two + R"("scenarios":{"s":{"us:tbilrate":[1,Infinity,3]}}})", 400, "malformed JSON"},
      {R"({"series":[)" + many + R"(],"horizon":3})", 400, "at most 20 series"},
      {"{" + two + R"("scenarioz":{}})", 400, "unknown field"},
  };
  HttpConnection c(s.port());
  for (const auto& k : cases) {
    auto e = c.Request("POST", "/v1/scenarios", k.body, Token("analyst"));
    EXPECT_EQ(e.status, k.status) << k.body << " -> " << e.body;
    const Json ej = Parse(e.body);
    EXPECT_THAT(ej.value("message", ""), HasSubstr(k.message)) << k.body;
    EXPECT_EQ(ej.value("request_id", ""), e.headers["x-request-id"]);
    EXPECT_FALSE(ej.value("code", "").empty());
  }
  EXPECT_EQ(HttpRequest(s.port(), "POST", "/v1/scenarios", "{" + two + "}", "").status, 401);
  EXPECT_EQ(
      HttpRequest(s.port(), "POST", "/v1/scenarios", R"({"series":["us:infl"],"horizon":3})", Token("viewer")).status,
      403);
}

// Issue 19: expiry on every request, rotation without downtime, last use written by the server.
TEST_F(ServeTest, TokensExpireRotateWithoutDowntimeAndRecordTheirLastUse) {
  TempDir d;
  const std::string ws = CopyWorkspace(d);
  const auto created_at = std::chrono::steady_clock::now();
  auto shortlived = Cli({"--format", "json", "tokens", "create", "--role", "viewer", "--user", "carol", "--expires", "2s"}, "root", ws);
  ASSERT_EQ(shortlived.exit_code, 0) << shortlived.err;
  auto t = Cli({"--format", "json", "tokens", "create", "--role", "viewer", "--user", "carol"}, "root", ws);
  ASSERT_EQ(t.exit_code, 0) << t.err;
  const Json created = Parse(t.out);
  const std::string old_secret = created["token"].get<std::string>(), id = created["id"].get<std::string>();
  ServeProcess s(ws, {});  // polls every 0.1 s
  ASSERT_TRUE(s.running()) << s.log();
  const std::string brief = Parse(shortlived.out)["token"].get<std::string>();
  EXPECT_EQ(HttpRequest(s.port(), "POST", "/v1/forecast", kForecast, brief).status, 200);
  EXPECT_EQ(HttpRequest(s.port(), "POST", "/v1/forecast", kForecast, old_secret).status, 200);

  auto rot = Cli({"--format", "json", "tokens", "rotate", id, "--grace", "1h"}, "root", ws);
  ASSERT_EQ(rot.exit_code, 0) << rot.err;
  const std::string new_secret = Parse(rot.out)["token"].get<std::string>();
  // Both secrets work during the grace period: clients switch at their own pace.
  EXPECT_EQ(HttpRequest(s.port(), "POST", "/v1/forecast", kForecast, new_secret).status, 200);
  EXPECT_EQ(HttpRequest(s.port(), "POST", "/v1/forecast", kForecast, old_secret).status, 200);
  // Ending the grace period (a rotation of the old token with --grace 0s) refuses the old one.
  ASSERT_EQ(Cli({"tokens", "rotate", id, "--grace", "0s"}, "root", ws).exit_code, 0);
  int status = 0;
  for (int i = 0; i < 100 && status != 401; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    status = HttpRequest(s.port(), "POST", "/v1/forecast", kForecast, old_secret).status;
  }
  EXPECT_EQ(status, 401);
  EXPECT_EQ(HttpRequest(s.port(), "POST", "/v1/forecast", kForecast, new_secret).status, 200);

  // The 2 s token has expired by now (checked per request, not per poll).
  std::this_thread::sleep_until(created_at + std::chrono::milliseconds(2200));
  auto expired = HttpRequest(s.port(), "POST", "/v1/forecast", kForecast, brief);
  EXPECT_EQ(expired.status, 401);
  EXPECT_THAT(expired.body, HasSubstr("expired at"));

  // Last use: written on the server's poll.
  std::string list;
  for (int i = 0; i < 50; ++i) {
    list = Cli({"--format", "json", "tokens", "list"}, "root", ws).out;
    if (list.find("\"last_used_at\": \"20") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_THAT(list, HasSubstr("\"last_used_at\": \"20"));
}

TEST_F(ServeTest, RevokedTokenIsRefusedFromTheNextPoll) {
  TempDir d;
  const std::string ws = CopyWorkspace(d);
  auto t = Cli({"--format", "json", "tokens", "create", "--role", "viewer", "--user", "carol"}, "root", ws);
  ASSERT_EQ(t.exit_code, 0) << t.err;
  const Json created = Parse(t.out);
  const std::string secret = created["token"].get<std::string>(), id = created["id"].get<std::string>();
  ServeProcess s(ws, {});
  ASSERT_TRUE(s.running()) << s.log();
  EXPECT_EQ(HttpRequest(s.port(), "POST", "/v1/forecast", kForecast, secret).status, 200);
  ASSERT_EQ(Cli({"tokens", "revoke", id}, "root", ws).exit_code, 0);
  auto list = Cli({"--format", "csv", "tokens", "list"}, "root", ws);
  EXPECT_THAT(list.out, HasSubstr("revoked"));
  EXPECT_THAT(list.out, Not(HasSubstr(secret)));
  int status = 0;
  for (int i = 0; i < 100 && status != 401; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    status = HttpRequest(s.port(), "POST", "/v1/forecast", kForecast, secret).status;
  }
  EXPECT_EQ(status, 401);
  auto audit = Cli({"--format", "csv", "audit", "list"}, "root", ws);
  EXPECT_THAT(audit.out, HasSubstr("token.revoke"));
}

TEST_F(ServeTest, PushIngestStoresEachBatchAsOneLoadAndRefusesBadBatches) {
  TempDir d;
  const std::string ws = CopyWorkspace(d);
  ServeProcess s(ws, {});
  ASSERT_TRUE(s.running()) << s.log();
  const std::string batch =
      "{\"series\":\"push:cpi\",\"period\":\"2024-01\",\"value\":100.5,\"frequency\":\"M\"}\n"
      "\n"
      "{\"series\":\"push:cpi\",\"period\":\"2024-02\",\"value\":\"101.25\"}\n"
      "{\"series\":\"push:cpi\",\"period\":\"2024-03\",\"value\":null}\n";
  // Who may push: analysts, modelers, admins; not viewers, not approvers, not anonymous.
  EXPECT_EQ(HttpRequest(s.port(), "POST", "/v1/ingest", batch).status, 401);
  EXPECT_EQ(HttpRequest(s.port(), "POST", "/v1/ingest", batch, "alm_" + std::string(64, '0')).status, 401);
  for (const char* role : {"viewer", "approver"}) {
    auto r = HttpRequest(s.port(), "POST", "/v1/ingest", batch, Token(role));
    EXPECT_EQ(r.status, 403) << role;
    EXPECT_THAT(r.body, HasSubstr("may not ingest"));
  }
  auto vintages = [&] {
    auto r = HttpRequest(s.port(), "GET", "/v1/series/push:cpi/vintages", "", Token("viewer"));
    return r.status == 200 ? Parse(r.body)["vintages"].size() : size_t{0};
  };
  EXPECT_EQ(vintages(), 0u);

  auto ok = HttpRequest(s.port(), "POST", "/v1/ingest?source=desk-feed", batch, Token("analyst"));
  ASSERT_EQ(ok.status, 200) << ok.body;
  const Json j = Parse(ok.body);
  EXPECT_GT(j["load_id"].get<int64_t>(), 0);
  EXPECT_EQ(j["records"], 3);
  EXPECT_EQ(j["vintages_created"], 1);
  EXPECT_EQ(j["user"], "analyst");
  EXPECT_FALSE(j["request_id"].get<std::string>().empty());
  auto series = Parse(HttpRequest(s.port(), "GET", "/v1/series/push:cpi", "", Token("viewer")).body);
  EXPECT_THAT(series.dump(), HasSubstr("101.25"));
  EXPECT_EQ(vintages(), 1u);
  // The same batch again is nothing new.
  auto same = HttpRequest(s.port(), "POST", "/v1/ingest", batch, Token("modeler"));
  ASSERT_EQ(same.status, 200) << same.body;
  EXPECT_EQ(Parse(same.body)["vintages_created"], 0);

  // Bad batches: a clear error naming the line or record, and nothing stored.
  struct Bad {
    std::string body, want;
  } bad[] = {
      {"", "no records"},
      {"\n\n", "no records"},
      {"{\"series\":\"push:cpi\",\"period\":\"2024-04\",\"value\":1}\n{\"series\":", "line 2"},
      {"{\"series\":\"push:cpi\",\"period\":\"2024-04\",\"value\":\"NaN\"}", "is not a number"},
      {"{\"series\":\"push:cpi\",\"period\":\"2024-04\",\"value\":\"inf\"}", "is not a number"},
      {"{\"series\":\"push:cpi\",\"period\":\"2024-04\",\"value\":true}", "must be a number"},
      {"{\"series\":\"push:cpi\",\"period\":\"2024-04\",\"value\":1,\"colour\":2}", "unknown field 'colour'"},
      {"{\"series\":\"push:cpi\",\"period\":\"2024Q2\",\"value\":1}", "record 1 (series push:cpi)"},
      {"{\"series\":\"x'; DROP TABLE series;--\",\"period\":\"2024-04\",\"value\":1}", "series"},
      {"[1,2,3]", "expected a JSON object"},
  };
  for (const auto& b : bad) {
    auto r = HttpRequest(s.port(), "POST", "/v1/ingest", b.body, Token("analyst"));
    EXPECT_EQ(r.status, 400) << b.body << " -> " << r.body;
    EXPECT_THAT(r.body, HasSubstr(b.want)) << b.body;
    EXPECT_THAT(r.body, HasSubstr("request_id"));
  }
  EXPECT_EQ(HttpRequest(s.port(), "POST", "/v1/ingest?source=../etc", batch, Token("analyst")).status, 400);
  EXPECT_EQ(HttpRequest(s.port(), "POST", "/v1/ingest?colour=red", batch, Token("analyst")).status, 400);
  EXPECT_EQ(HttpRequest(s.port(), "GET", "/v1/ingest", "", Token("analyst")).status, 405);
  EXPECT_EQ(vintages(), 1u);
  auto audit = Cli({"audit", "export"}, "root", ws);
  EXPECT_THAT(audit.out, HasSubstr("push:desk-feed"));
  EXPECT_EQ(Cli({"audit", "verify"}, "root", ws).exit_code, 0);
}

TEST_F(ServeTest, EveryBadInputGetsAJsonErrorWithARequestId) {
  ServeProcess s(ws_, {});
  ASSERT_TRUE(s.running()) << s.log();
  struct Case {
    std::string body;
    int status;
  };
  const Case cases[] = {
      {"{\"model\":", 400},                                               // malformed JSON
      {R"({"model":"gdp","horizon":"8"})", 400},                          // wrong type
      {R"({"model":"gdp","horizon":8,"colour":"red"})", 400},             // unknown field
      {R"({"horizon":8})", 400},                                          // missing model
      {R"({"model":"nope","horizon":8})", 404},                           // unknown model
      {R"({"model":"gdp","version":99,"horizon":8})", 404},               // unknown version
      {R"({"model":"gdp","horizon":0})", 400},                            // horizon 0
      {R"({"model":"gdp","horizon":-1})", 400},                           // negative
      {R"({"model":"gdp","horizon":1000000000})", 400},                   // 10^9
      {R"({"model":"gdp","horizon":8,"levels":[0,95]})", 400},            // level 0
      {R"({"model":"gdp","horizon":8,"levels":[80,100]})", 400},          // level 100
      {R"({"model":"gdp","horizon":8,"levels":[150]})", 400},             // outside (0,100)
      {R"({"model":"gdp","horizon":8,"as_of":"2999-01-01"})", 400},       // as_of in the future
      {R"({"model":"gdp","horizon":8,"as_of":"20th of May"})", 400},      // unparsable
  };
  HttpConnection c(s.port());  // all on one keep-alive connection
  for (const auto& k : cases) {
    auto r = c.Request("POST", "/v1/forecast", k.body, Token("admin"));
    EXPECT_EQ(r.status, k.status) << k.body << " -> " << r.body;
    const Json j = Parse(r.body);
    EXPECT_TRUE(j.contains("code") && j.contains("message") && j.contains("request_id")) << r.body;
    EXPECT_THAT(r.body, Not(HasSubstr("exception")));
    EXPECT_THAT(r.body, Not(HasSubstr(".cc")));
  }
  // The server is fine afterwards, on the same connection.
  EXPECT_EQ(c.Request("POST", "/v1/forecast", kForecast, Token("admin")).status, 200);
}

TEST_F(ServeTest, AsOfRefitsHonestly) {
  ServeProcess s(ws_, {});
  ASSERT_TRUE(s.running()) << s.log();
  const Json served = Parse(HttpRequest(s.port(), "POST", "/v1/forecast", kForecast, Token("viewer")).body);
  // As of the training data's date: the recorded transforms and model spec reproduce the served numbers.
  auto same = HttpRequest(s.port(), "POST", "/v1/forecast", R"({"model":"gdp","horizon":8,"levels":[80,95],"as_of":"2009-12-20"})",
                          Token("viewer"));
  ASSERT_EQ(same.status, 200) << same.body;
  const Json sj = Parse(same.body);
  EXPECT_EQ(sj["data"]["refit"], true);
  EXPECT_EQ(sj["mean"], served["mean"]);
  EXPECT_EQ(sj["intervals"], served["intervals"]);
  // After the illustrative revision of 2009Q3 (known from 2009-12-22) the data differ.
  const Json later = Parse(
      HttpRequest(s.port(), "POST", "/v1/forecast", R"({"model":"gdp","horizon":8,"as_of":"2010-01-05"})", Token("viewer")).body);
  EXPECT_NE(later["mean"], served["mean"]);
  // Before anything was known: refused, not invented.
  auto none = HttpRequest(s.port(), "POST", "/v1/forecast", R"({"model":"gdp","horizon":8,"as_of":"1950-01-01"})", Token("viewer"));
  EXPECT_EQ(none.status, 409) << none.body;
}

// Issue 19: an as_of forecast names the data it was computed from: the content id of its input
// series as known on as_of, which is the id `almanac snapshot create --series ... --as-of`
// gives them. On the training snapshot's date that is the served version's snapshot.
TEST_F(ServeTest, Issue19AsOfForecastNamesItsSnapshot) {
  TempDir copy;
  const std::string ws = CopyWorkspace(copy);  // before the server runs (it writes forecasts)
  ServeProcess s(ws_, {});
  ASSERT_TRUE(s.running()) << s.log();
  const Json served = Parse(HttpRequest(s.port(), "POST", "/v1/forecast", kForecast, Token("viewer")).body);
  ASSERT_TRUE(served["data"]["snapshot_id"].is_string()) << served.dump();
  const std::string training = served["data"]["snapshot_id"].get<std::string>();
  auto same = HttpRequest(s.port(), "POST", "/v1/forecast", R"({"model":"gdp","horizon":8,"as_of":"2009-12-20"})",
                          Token("viewer"));
  ASSERT_EQ(same.status, 200) << same.body;
  EXPECT_EQ(Parse(same.body)["data"]["snapshot_id"], training) << same.body;
  auto later = HttpRequest(s.port(), "POST", "/v1/forecast", R"({"model":"gdp","horizon":8,"as_of":"2010-01-05"})",
                           Token("viewer"));
  ASSERT_EQ(later.status, 200) << later.body;
  const Json lj = Parse(later.body);
  ASSERT_TRUE(lj["data"]["snapshot_id"].is_string()) << later.body;
  EXPECT_EQ(lj["data"]["snapshot_id"].get<std::string>().size(), 64u);
  EXPECT_NE(lj["data"]["snapshot_id"], training);  // the revision of 2009-12-22 is in it
  // The same id as a stored snapshot of the inputs on that date (made in a copy: it writes).
  auto snap = Cli(
      {"--format", "json", "snapshot", "create", "gdp-2010-01-05", "--series", "us:realgdp", "--as-of", "2010-01-05"},
      "tester", ws);
  ASSERT_EQ(snap.exit_code, 0) << snap.err;
  EXPECT_EQ(Parse(snap.out)["id"], lj["data"]["snapshot_id"]);
}

// The names of an object's fields.
std::set<std::string> Keys(const Json& j) {
  std::set<std::string> out;
  if (j.is_object())
    for (auto it = j.begin(); it != j.end(); ++it) out.insert(it.key());
  return out;
}

// Issue 19: `almanac --format json series show|vintages|list` prints exactly what the HTTP API
// answers for the same series (the API adds only request_id): one columnar shape,
// periods[] with values[]. docs/openapi.json describes exactly those fields.
TEST_F(ServeTest, Issue19CliAndApiPrintTheSameSeriesJson) {
  ServeProcess s(ws_, {});
  ASSERT_TRUE(s.running()) << s.log();
  auto api = [&](const std::string& path) {
    auto r = HttpRequest(s.port(), "GET", path, "", Token("viewer"));
    EXPECT_EQ(r.status, 200) << path << ": " << r.body;
    Json j = Parse(r.body);
    EXPECT_TRUE(j.is_object() && j.contains("request_id")) << path << ": " << r.body;
    if (j.is_object()) j.erase("request_id");
    return j;
  };
  auto cli = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--format", "json"});
    auto r = Cli(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return Parse(r.out);
  };
  // us:realgdp has two vintages: the sample (2009-12-15) and the revision known from 2009-12-22.
  const Json latest = api("/v1/series/us:realgdp");
  EXPECT_EQ(cli({"series", "show", "us:realgdp"}), latest);
  const Json then = api("/v1/series/us:realgdp?as_of=2009-12-20");
  EXPECT_EQ(cli({"series", "show", "us:realgdp", "--as-of", "2009-12-20"}), then);
  const Json vintages = api("/v1/series/us:realgdp/vintages");
  EXPECT_EQ(cli({"series", "vintages", "us:realgdp"}), vintages);
  const Json list = api("/v1/series");
  EXPECT_EQ(cli({"series", "list"}), list);
  // The columnar shape: periods[i] has values[i] (null: explicitly missing).
  ASSERT_TRUE(then["periods"].is_array()) << then.dump();
  EXPECT_EQ(then["periods"].size(), then["values"].size());
  EXPECT_EQ(then["periods"][0], "1959Q1");
  EXPECT_EQ(then["as_of"], "2009-12-20");
  EXPECT_TRUE(latest["as_of"].is_null());
  EXPECT_NE(then["values"], latest["values"]);

  // docs/openapi.json names exactly the fields sent (request_id included).
  Json doc = Parse(ReadFile(kSrc + "/docs/openapi.json"));  // not const: operator[] on a missing key
  Json& schemas = doc["components"]["schemas"];
  auto fields = [&](const std::string& schema) {
    std::set<std::string> out = Keys(schemas[schema]["properties"]);
    out.erase("request_id");
    return out;
  };
  EXPECT_EQ(fields("Series"), Keys(latest));
  EXPECT_EQ(fields("SeriesVintages"), Keys(vintages));
  ASSERT_FALSE(vintages["vintages"].empty());
  EXPECT_EQ(fields("Vintage"), Keys(vintages["vintages"][0]));
  EXPECT_EQ(fields("SeriesList"), Keys(list));
  ASSERT_FALSE(list["series"].empty());
  EXPECT_EQ(fields("SeriesInfo"), Keys(list["series"][0]));
  for (const char* path : {"/v1/series", "/v1/series/{key}", "/v1/series/{key}/vintages"})
    EXPECT_NE(doc["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"].value("$ref", ""),
              "#/components/schemas/Object")
        << path;
}

// Issue 23: the routes the clients need answer over HTTP what the CLI prints: one period's
// history, the vintage matrix (each column is `series show --as-of` that vintage's date), a
// snapshot's content (`snapshot export`) and the runs list (`runs list`); bad input gets 400,
// no token 401.
TEST_F(ServeTest, Issue23ClientRoutesAgreeWithTheCli) {
  ServeProcess s(ws_, {});
  ASSERT_TRUE(s.running()) << s.log();
  auto api = [&](const std::string& path) {
    auto r = HttpRequest(s.port(), "GET", path, "", Token("viewer"));
    EXPECT_EQ(r.status, 200) << path << ": " << r.body;
    return Parse(r.body);
  };
  auto cli = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--format", "json"});
    auto r = Cli(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return Parse(r.out);
  };
  // History: the sample (2009-12-15) and the revision (2009-12-22) of 2009Q3.
  const Json h = api("/v1/series/us:realgdp/history?period=2009Q3");
  const Json h_cli = cli({"series", "history", "us:realgdp", "2009Q3"});
  ASSERT_EQ(h["values"].size(), 2u) << h.dump();
  ASSERT_EQ(h_cli.size(), 2u) << h_cli.dump();
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(h["realtime_start"][i], h_cli[i]["realtime_start"]);
    EXPECT_EQ(h["values"][i], h_cli[i]["value"]);
    EXPECT_EQ(h["vintages"][i], h_cli[i]["vintage"]);
  }
  EXPECT_EQ(h["values"][1], 12971.884);
  // The vintage matrix: one column per vintage date, each the CLI's as-of read.
  const Json m = api("/v1/series/us:realgdp/vintage-matrix");
  ASSERT_EQ(m["vintages"], Json({"2009-12-15", "2009-12-22"})) << m.dump().substr(0, 500);
  EXPECT_EQ(m["truncated"], false);
  for (size_t j = 0; j < m["vintages"].size(); ++j) {
    const Json shown = cli({"series", "show", "us:realgdp", "--as-of", m["vintages"][j].get<std::string>()});
    ASSERT_EQ(shown["periods"], m["periods"]);
    EXPECT_EQ(shown["values"], m["values"][j]) << j;
  }
  // A snapshot's content: the training snapshot of gdp@1, as `snapshot export` has it.
  const Json runs = api("/v1/runs");
  const Json runs_cli = cli({"runs", "list"});
  ASSERT_EQ(runs["runs"].size(), runs_cli.size());
  ASSERT_FALSE(runs_cli.empty());
  for (size_t i = 0; i < runs_cli.size(); ++i) {
    EXPECT_EQ(runs["runs"][i]["id"], runs_cli[i]["run"]);
    EXPECT_EQ(runs["runs"][i]["status"], runs_cli[i]["status"]);
    EXPECT_EQ(runs["runs"][i]["snapshot_id"], runs_cli[i]["snapshot"]);
  }
  EXPECT_EQ(api("/v1/runs?limit=1")["runs"].size(), 1u);
  EXPECT_EQ(api("/v1/runs?pipeline=gdp-serve-theta")["runs"].size(), 1u);
  const std::string snapshot_id = runs["runs"][0]["snapshot_id"].get<std::string>();
  const Json snap = api("/v1/snapshots/" + snapshot_id);
  const Json exported = cli({"snapshot", "export", snapshot_id});
  EXPECT_EQ(snap["id"], snapshot_id);
  ASSERT_EQ(snap["series"].size(), exported["series"].size());
  for (size_t k = 0; k < snap["series"].size(); ++k) {
    const Json& a = snap["series"][k];
    const Json& b = exported["series"][k];
    EXPECT_EQ(a["key"], b["key"]);
    EXPECT_EQ(a["frequency"], b["frequency"]);
    ASSERT_EQ(a["periods"].size(), b["observations"].size());
    for (size_t i = 0; i < b["observations"].size(); ++i) {
      EXPECT_EQ(a["periods"][i], b["observations"][i][0]);
      EXPECT_EQ(a["values"][i], b["observations"][i][1]);
    }
  }
  // Bad input, unknown ids, no token.
  const std::pair<std::string, int> bad[] = {
      {"/v1/series/us:realgdp/history", 400},
      {"/v1/series/us:realgdp/history?period=2009M07", 400},
      {"/v1/series/us:nope/history?period=2009Q3", 404},
      {"/v1/series/us:realgdp/vintage-matrix?limit=100000", 400},
      {"/v1/series/us:nope/vintage-matrix", 404},
      {"/v1/snapshots/not-an-id", 400},
      {"/v1/snapshots/" + std::string(64, 'f'), 404},
      {"/v1/runs?status=sleeping", 400},
      {"/v1/runs?limit=0", 400},
  };
  for (const auto& [path, status] : bad) {
    auto r = HttpRequest(s.port(), "GET", path, "", Token("viewer"));
    EXPECT_EQ(r.status, status) << path << ": " << r.body;
    EXPECT_FALSE(Parse(r.body)["message"].get<std::string>().empty()) << path;
    EXPECT_EQ(Parse(r.body)["request_id"], r.headers["x-request-id"]) << path;
  }
  for (const std::string& path : {std::string("/v1/series/us:realgdp/history?period=2009Q3"),
                                  std::string("/v1/series/us:realgdp/vintage-matrix"), "/v1/snapshots/" + snapshot_id,
                                  std::string("/v1/runs")}) {
    auto r = HttpRequest(s.port(), "GET", path);
    EXPECT_EQ(r.status, 401) << path;
    EXPECT_EQ(Parse(r.body)["code"], "UNAUTHENTICATED") << path;
  }
}

TEST_F(ServeTest, PathsWithTraversalEncodedDotsSemicolonsNulAndOverlongSegments) {
  ServeProcess s(ws_, {});
  ASSERT_TRUE(s.running()) << s.log();
  for (const std::string& path :
       std::vector<std::string>{"/v1/series/../../etc/passwd", "/v1/series/%2e%2e/%2e%2e/etc/passwd", "/v1/series/%2E%2E",
                                "/v1/series/us:realgdp;jsessionid=1", "/v1/series/us%3Brealgdp", "/v1/series/a%00b",
                                "/v1/models/" + std::string(300, 'x'), "/v1/series/..%2f..%2fetc"}) {
    auto r = HttpRequest(s.port(), "GET", path, "", Token("viewer"));
    EXPECT_EQ(r.status, 400) << path << " -> " << r.body;
    EXPECT_EQ(Parse(r.body)["code"], "INVALID_ARGUMENT") << path;
  }
  // A raw NUL byte in the request line: the HTTP parser refuses the request.
  HttpConnection c(s.port());
  ASSERT_TRUE(c.SendRaw(std::string("GET /v1/series/a\0b HTTP/1.1\r\nHost: x\r\n\r\n", 40)));
  auto r = c.ReadResponse();
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(c.ClosedByPeer(2000));
  // A target longer than the header limit: 413 and closed.
  auto big = HttpRequest(s.port(), "GET", "/v1/series/" + std::string(20000, 'a'), "", Token("viewer"));
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(HttpRequest(s.port(), "GET", "/healthz").status, 200);
}

// The hand-written response head (status line, headers, Content-Length) over connections spread
// across several I/O threads, with keep-alive, pipelining, HTTP/1.0 and Connection: close.
TEST_F(ServeTest, ResponsesFromEveryIoThreadKeepAlivePipeliningAndHttp10) {
  // Thread counts out of range are refused before anything listens; the default is one per core.
  for (const char* bad : {"-1", "257", "two"}) {
    auto refused = RunAlmanac({"--workspace", ws_, "serve", "--listen", "127.0.0.1:0", "--threads", bad});
    EXPECT_NE(refused.exit_code, 0) << bad;
    EXPECT_THAT(refused.err, HasSubstr("--threads")) << bad;
  }
  {
    ServeProcess d(ws_, {});
    ASSERT_TRUE(d.running()) << d.log();
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    EXPECT_THAT(d.log(), HasSubstr(" " + std::to_string(std::min(cores, 64u)) + " I/O threads"));
  }
  ServeProcess s(ws_, {"--threads", "3"});
  ASSERT_TRUE(s.running()) << s.log();
  EXPECT_THAT(s.log(), HasSubstr("3 I/O threads"));
  const std::string token = Token("viewer");
  std::vector<std::unique_ptr<HttpConnection>> conns;
  for (int i = 0; i < 9; ++i) conns.push_back(std::make_unique<HttpConnection>(s.port()));
  std::optional<Json> first;
  for (int round = 0; round < 4; ++round) {
    for (auto& c : conns) {
      auto r = c->Request("POST", "/v1/forecast", kForecast, token);
      ASSERT_EQ(r.status, 200) << r.body;
      EXPECT_EQ(r.headers["content-type"], "application/json");
      EXPECT_EQ(r.headers["server"], "almanac");
      EXPECT_EQ(r.headers["content-length"], std::to_string(r.body.size()));
      EXPECT_EQ(r.headers.count("connection"), 0u) << "HTTP/1.1 keeps the connection without saying so";
      Json j = Parse(r.body);
      EXPECT_EQ(j["request_id"], r.headers["x-request-id"]);
      j.erase("request_id");
      if (!first) first = j;
      EXPECT_EQ(j, *first) << "every thread answers the same forecast";
      if (round > 0) {
        EXPECT_EQ(r.headers["x-cache"], "hit");
      }
    }
  }
  // Two requests in one write: answered in order on the same connection.
  HttpConnection piped(s.port());
  std::string two;
  for (const char* id : {"first-1", "second-2"})
    two += std::string("POST /v1/forecast HTTP/1.1\r\nHost: x\r\nX-Request-Id: ") + id + "\r\nAuthorization: Bearer " + token +
           "\r\nContent-Length: " + std::to_string(std::string(kForecast).size()) + "\r\n\r\n" + kForecast;
  ASSERT_TRUE(piped.SendRaw(two));
  auto a = piped.ReadResponse();
  auto b = piped.ReadResponse();
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(b.status, 200);
  EXPECT_EQ(a.headers["x-request-id"], "first-1");
  EXPECT_EQ(b.headers["x-request-id"], "second-2");
  EXPECT_EQ(Parse(b.body)["request_id"], "second-2");
  // HTTP/1.0 closes unless the client asks to keep the connection; then the answer says so.
  HttpConnection old(s.port());
  ASSERT_TRUE(old.SendRaw("GET /healthz HTTP/1.0\r\n\r\n"));
  auto r10 = old.ReadResponse();
  EXPECT_EQ(r10.status, 200);
  EXPECT_EQ(r10.headers["connection"], "close");
  EXPECT_TRUE(old.ClosedByPeer(2000));
  HttpConnection kept(s.port());
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(kept.SendRaw("GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    auto k = kept.ReadResponse();
    EXPECT_EQ(k.status, 200) << i;
    EXPECT_EQ(k.headers["connection"], "keep-alive") << i;
  }
  // HTTP/1.1 with Connection: close.
  HttpConnection closing(s.port());
  auto c = closing.Request("GET", "/healthz", "", "", "Connection: close\r\n");
  EXPECT_EQ(c.status, 200);
  EXPECT_EQ(c.headers["connection"], "close");
  EXPECT_TRUE(closing.ClosedByPeer(2000));
  // Extra headers of error answers: Allow on 405, WWW-Authenticate on 401.
  auto m = HttpRequest(s.port(), "DELETE", "/v1/forecast", "", token);
  EXPECT_EQ(m.status, 405);
  EXPECT_EQ(m.headers["allow"], "POST");
  auto u = HttpRequest(s.port(), "POST", "/v1/forecast", kForecast);
  EXPECT_EQ(u.status, 401);
  EXPECT_EQ(u.headers["www-authenticate"], "Bearer realm=\"almanac\"");
  EXPECT_EQ(s.Stop(), 0) << s.log();
}

TEST_F(ServeTest, HundredMegabyteBodyGets413) {
  ServeProcess s(ws_, {});
  ASSERT_TRUE(s.running()) << s.log();
  HttpConnection c(s.port());
  const size_t total = 100u << 20;
  ASSERT_TRUE(c.SendRaw("POST /v1/forecast HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + Token("viewer") +
                        "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(total) + "\r\n\r\n"));
  // Start sending the body; the server answers as soon as it sees the length.
  const std::string chunk(1 << 20, ' ');
  size_t sent = 0;
  for (int i = 0; i < 4 && c.SendRaw(chunk); ++i) sent += chunk.size();
  auto r = c.ReadResponse();
  EXPECT_EQ(r.status, 413) << r.body;
  EXPECT_THAT(Parse(r.body)["message"].get<std::string>(), HasSubstr("larger than the limit"));
  EXPECT_TRUE(c.ClosedByPeer(5000));
  EXPECT_LT(sent, total);
  // Chunked bodies are counted too.
  HttpConnection chunked(s.port());
  ASSERT_TRUE(chunked.SendRaw("POST /v1/forecast HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"));
  for (int i = 0; i < 3; ++i) chunked.SendRaw("100000\r\n" + std::string(0x100000, ' ') + "\r\n");
  EXPECT_EQ(chunked.ReadResponse().status, 413);
  EXPECT_EQ(HttpRequest(s.port(), "GET", "/healthz").status, 200);
}

TEST_F(ServeTest, SlowClientsAreCutOffAfterTheTimeouts) {
  ServeProcess s(ws_, {"--header-timeout-ms", "1500", "--read-timeout-ms", "1500", "--idle-timeout-ms", "1500"});
  ASSERT_TRUE(s.running()) << s.log();
  // A request dribbled one byte a second: closed after the header timeout, long before it ends.
  HttpConnection c(s.port(), 10000);
  const std::string req = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  const auto t0 = Clock::now();
  bool closed = false;
  size_t i = 0;
  for (; i < req.size() && !closed; ++i) {
    c.SendRaw(req.substr(i, 1));
    closed = c.ClosedByPeer(1000);
  }
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  EXPECT_TRUE(closed);
  EXPECT_LT(i, req.size());
  EXPECT_GE(secs, 1.3);
  EXPECT_LT(secs, 4.0);
  // A body that stops half way: closed after the read timeout.
  HttpConnection b(s.port(), 10000);
  b.SendRaw("POST /v1/forecast HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"model\"");
  EXPECT_TRUE(b.ClosedByPeer(4000));
  // An idle keep-alive connection: closed after the idle timeout.
  HttpConnection idle(s.port(), 10000);
  EXPECT_EQ(idle.Request("GET", "/healthz").status, 200);
  EXPECT_TRUE(idle.ClosedByPeer(4000));
  // Meanwhile everyone else is served.
  EXPECT_EQ(HttpRequest(s.port(), "GET", "/healthz").status, 200);
  EXPECT_THAT(HttpRequest(s.port(), "GET", "/metrics").body, HasSubstr("almanac_http_rejected_total{reason=\"header_timeout\"} 1"));
}

TEST_F(ServeTest, OverloadGets503) {
  // All from 127.0.0.1: without --max-connections-per-address 0 the default (a quarter of 3,
  // so 1) would refuse the second connection before the global limit is reached.
  ServeProcess s(
      ws_, {"--max-connections", "3", "--max-connections-per-address", "0", "--workers", "1", "--max-queue", "0"});
  ASSERT_TRUE(s.running()) << s.log();
  HttpConnection a(s.port()), b(s.port()), c(s.port());
  ASSERT_EQ(a.Request("GET", "/healthz").status, 200);
  ASSERT_EQ(b.Request("GET", "/healthz").status, 200);
  ASSERT_EQ(c.Request("GET", "/healthz").status, 200);
  auto over = HttpRequest(s.port(), "GET", "/healthz");
  EXPECT_EQ(over.status, 503);
  EXPECT_EQ(over.headers["retry-after"], "1");
  // The worker busy with a long refit; the next store read finds the queue full.
  ASSERT_TRUE(a.SendRaw(PredictRequest(Token("analyst"), kSlowHistory)));
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  auto busy = b.Request("GET", "/v1/models", "", Token("viewer"));
  EXPECT_EQ(busy.status, 503) << busy.body;
  EXPECT_EQ(Parse(busy.body)["code"], "UNAVAILABLE");
  // Loaded-model forecasts do not need the workers.
  EXPECT_EQ(c.Request("POST", "/v1/forecast", kForecast, Token("viewer")).status, 200);
}

// Raises RLIMIT_NOFILE to at least `need` (children inherit it); false when the hard limit is lower.
bool EnsureOpenFiles(rlim_t need) {
  rlimit nofile{};
  if (::getrlimit(RLIMIT_NOFILE, &nofile) != 0) return false;
  if (nofile.rlim_cur >= need) return true;
  if (nofile.rlim_max != RLIM_INFINITY && nofile.rlim_max < need) return false;
  nofile.rlim_cur = need;
  return ::setrlimit(RLIMIT_NOFILE, &nofile) == 0;
}

// Issue 19: 1,100 connections from 127.0.0.1 that send half a header and hold it took every
// slot of --max-connections (1024), and everyone else got 503 until the header timeout (10 s)
// cut the flood off. With the defaults, one address holds at most a quarter of the slots, the
// rest of the flood is refused at accept, and a client at 127.0.0.2 is answered while the
// flood is still open.
TEST_F(ServeTest, Issue19SlowHeaderFloodFromOneAddressLeavesOthersServed) {
  constexpr int kFlood = 1100;
  // The flood's sockets in this process, and as many in the server (which inherits the limit).
  if (!EnsureOpenFiles(kFlood + 512)) GTEST_SKIP() << "cannot raise RLIMIT_NOFILE to " << kFlood + 512;
  ServeProcess s(ws_, {});  // default limits: 1024 connections, header timeout 10 s
  ASSERT_TRUE(s.running()) << s.log();
  const auto t0 = Clock::now();
  std::vector<std::unique_ptr<HttpConnection>> flood;
  for (int i = 0; i < kFlood; ++i) {
    flood.push_back(std::make_unique<HttpConnection>(s.port(), 2000, "127.0.0.1"));
    ASSERT_TRUE(flood.back()->ok()) << "connection " << i;
    flood.back()->SendRaw("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Never-Ends: ");  // refused ones may be reset
  }
  HttpConnection other(s.port(), 5000, "127.0.0.2");
  ASSERT_TRUE(other.ok());
  auto health = other.Request("GET", "/healthz");
  EXPECT_EQ(health.status, 200) << health.body;
  auto forecast = other.Request("POST", "/v1/forecast", kForecast, Token("viewer"));
  EXPECT_EQ(forecast.status, 200) << forecast.body;
  const std::string metrics = other.Request("GET", "/metrics").body;
  // The flood is still open (well inside its header timeout): its first connections are held...
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - t0).count(), 8.0);
  EXPECT_FALSE(flood.front()->ClosedByPeer(50));
  // ...and the connections over the per-address limit (256) were refused at once.
  EXPECT_TRUE(flood.back()->ClosedByPeer(2000));
  EXPECT_THAT(metrics, HasSubstr("almanac_http_rejected_total{reason=\"address_connection_limit\"} " +
                                 std::to_string(kFlood - 256)));
  EXPECT_THAT(metrics, HasSubstr("almanac_http_connections_open 257"));
  flood.clear();
  EXPECT_EQ(s.Stop(), 0);
  // One warning per refusal would be 844 lines: the repeats are summarised.
  const std::string log = s.log();
  EXPECT_THAT(log, HasSubstr("WARNING: refused a connection: 256 connections are open from this address"));
  EXPECT_THAT(log, HasSubstr("suppressed"));
  EXPECT_LT(std::count(log.begin(), log.end(), '\n'), 100) << log.substr(0, 4000);
}

// Issue 19: over --rate-limit a client gets 429 with Retry-After (before authentication),
// another address is not affected, and waiting as told is enough.
TEST_F(ServeTest, Issue19RateLimitAnswers429WithRetryAfterPerClientAddress) {
  ServeProcess s(ws_, {"--rate-limit", "1", "--rate-burst", "3"});
  ASSERT_TRUE(s.running()) << s.log();
  HttpConnection c(s.port(), 5000, "127.0.0.1");
  for (int i = 0; i < 3; ++i) ASSERT_EQ(c.Request("POST", "/v1/forecast", kForecast, Token("viewer")).status, 200) << i;
  auto limited = c.Request("POST", "/v1/forecast", kForecast, Token("viewer"));
  EXPECT_EQ(limited.status, 429) << limited.body;
  EXPECT_EQ(limited.headers["retry-after"], "1");
  EXPECT_EQ(Parse(limited.body)["code"], "RESOURCE_EXHAUSTED");
  EXPECT_THAT(Parse(limited.body)["message"].get<std::string>(), HasSubstr("too many requests from 127.0.0.1"));
  EXPECT_EQ(Parse(limited.body)["request_id"], limited.headers["x-request-id"]);
  // Refused before the token is looked at: an unauthenticated flood gets 429, not 401.
  EXPECT_EQ(c.Request("GET", "/v1/models", "", "alm_" + std::string(64, '0')).status, 429);
  // Another address has a bucket of its own.
  HttpConnection other(s.port(), 5000, "127.0.0.2");
  EXPECT_EQ(other.Request("POST", "/v1/forecast", kForecast, Token("viewer")).status, 200);
  // The keep-alive connection stays usable: after Retry-After, the next request is served.
  std::this_thread::sleep_for(std::chrono::milliseconds(1050));
  EXPECT_EQ(c.Request("GET", "/healthz").status, 200);
  EXPECT_THAT(other.Request("GET", "/metrics").body,
              HasSubstr("almanac_http_rejected_total{reason=\"rate_limited\"} 2"));
  EXPECT_EQ(s.Stop(), 0);
  // 429 is logged as a warning (with the client), other answers as info.
  EXPECT_THAT(s.log(), HasSubstr("WARNING: POST /v1/forecast 429"));
  EXPECT_THAT(s.log(), HasSubstr("client.ip=127.0.0.1"));
  EXPECT_THAT(s.log(), HasSubstr("almanac serve: POST /v1/forecast 200"));
}

// Issue 19: behind --trusted-proxies 1 the client is the last X-Forwarded-For address: clients
// of one proxy connection are limited apart, what a client puts in the header itself is not
// trusted, and a request without a usable header counts as the proxy's own.
TEST_F(ServeTest, Issue19ForwardedClientsAreLimitedApartBehindATrustedProxy) {
  ServeProcess s(ws_, {"--trusted-proxies", "1", "--rate-limit", "0.2", "--rate-burst", "2"});
  ASSERT_TRUE(s.running()) << s.log();
  HttpConnection proxy(s.port());
  auto get = [&](const std::string& xff) { return proxy.Request("GET", "/healthz", "", "", xff); };
  EXPECT_EQ(get("X-Forwarded-For: 203.0.113.7\r\n").status, 200);
  EXPECT_EQ(get("X-Forwarded-For: 203.0.113.7\r\n").status, 200);
  auto limited = get("X-Forwarded-For: 203.0.113.7\r\n");
  EXPECT_EQ(limited.status, 429);
  EXPECT_THAT(Parse(limited.body)["message"].get<std::string>(), HasSubstr("too many requests from 203.0.113.7"));
  // A spoofed address left of what the proxy appended changes nothing.
  EXPECT_EQ(get("X-Forwarded-For: 198.51.100.1, 203.0.113.7\r\n").status, 429);
  // Another client on the same proxy connection; IPv6 with a port; two header fields.
  EXPECT_EQ(get("X-Forwarded-For: 198.51.100.1\r\n").status, 200);
  EXPECT_EQ(get("X-Forwarded-For: [2001:db8::7]:4711\r\n").status, 200);
  EXPECT_EQ(get("X-Forwarded-For: 192.0.2.50\r\nX-Forwarded-For: 192.0.2.51\r\n").status, 200);
  // Garbage, an empty header, no header: the proxy's own address (127.0.0.1), whose bucket
  // holds 2.
  EXPECT_EQ(get("X-Forwarded-For: <script>alert(1)</script>\r\n").status, 200);
  EXPECT_EQ(get("X-Forwarded-For: \r\n").status, 200);
  EXPECT_EQ(get("").status, 429);
  EXPECT_EQ(s.Stop(), 0);
  const std::string log = s.log();
  EXPECT_THAT(log, HasSubstr("client.ip=203.0.113.7"));
  EXPECT_THAT(log, HasSubstr("client.ip=2001:db8::7"));
  EXPECT_THAT(log, HasSubstr("client.ip=192.0.2.51"));
  EXPECT_THAT(log, Not(HasSubstr("<script>")));
}

// Issue 19: W3C trace context in and out, and random request ids.
TEST_F(ServeTest, Issue19TraceContextIsPropagatedAndRequestIdsAreRandom) {
  ServeProcess s(ws_, {});
  ASSERT_TRUE(s.running()) << s.log();
  HttpConnection c(s.port());
  const std::regex traceparent("00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]");
  std::smatch m;
  // A valid traceparent: same trace, our own span, the caller's flags, tracestate passed back.
  auto r = c.Request("GET", "/healthz", "", "",
                     "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00\r\n"
                     "tracestate: rojo=00f067aa0ba902b7,congo=t61rcWkgMzE\r\n");
  ASSERT_EQ(r.status, 200);
  ASSERT_TRUE(std::regex_match(r.headers["traceparent"], m, traceparent)) << r.headers["traceparent"];
  EXPECT_EQ(m[1], "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_NE(m[2], "00f067aa0ba902b7");
  EXPECT_EQ(r.headers["traceparent"].substr(53), "00");
  EXPECT_EQ(r.headers["tracestate"], "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
  EXPECT_EQ(r.headers["x-request-id"], std::string(m[2]));  // the request id is our span id
  // An invalid one (uppercase) is replaced by a new trace; its tracestate is dropped.
  r = c.Request("GET", "/healthz", "", "",
                "traceparent: 00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01\r\n"
                "tracestate: rojo=00f067aa0ba902b7\r\n");
  ASSERT_TRUE(std::regex_match(r.headers["traceparent"], m, traceparent)) << r.headers["traceparent"];
  EXPECT_NE(m[1], "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(r.headers.count("tracestate"), 0u);
  // Errors carry it too.
  r = c.Request("GET", "/v1/nothing", "", "",
                "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n");
  EXPECT_EQ(r.status, 404);
  EXPECT_THAT(r.headers["traceparent"], ::testing::StartsWith("00-4bf92f3577b34da6a3ce929d0e0e4736-"));
  // Request ids: 16 hex digits, all different, and not a counter (consecutive ids far apart).
  std::set<std::string> ids;
  uint64_t last = 0;
  for (int i = 0; i < 50; ++i) {
    auto h = c.Request("GET", "/healthz");
    const std::string id = h.headers["x-request-id"];
    ASSERT_TRUE(std::regex_match(id, std::regex("[0-9a-f]{16}"))) << id;
    const uint64_t v = std::stoull(id, nullptr, 16);
    if (i > 0) {
      EXPECT_GT(v > last ? v - last : last - v, uint64_t{1} << 32) << id;
      EXPECT_GE(__builtin_popcountll(v ^ last), 8) << id;
    }
    last = v;
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 50u);
}

// Issue 27: HEAD on every GET route, as HTTP/1.1 requires: GET's status and headers
// (Content-Length of GET's body) and no body, with GET's authorization; 405 where only POST is
// routed. The connection stays in step after each (no stray body bytes).
TEST_F(ServeTest, Issue27HeadAnswersLikeGetWithoutABody) {
  ServeProcess s(ws_, {});
  ASSERT_TRUE(s.running()) << s.log();
  HttpConnection c(s.port());
  ASSERT_TRUE(c.ok());
  auto head = c.Request("HEAD", "/metrics");
  EXPECT_EQ(head.status, 200);
  EXPECT_THAT(head.headers["content-type"], HasSubstr("text/plain"));
  ASSERT_TRUE(head.headers.count("content-length"));
  EXPECT_GT(std::stoul(head.headers["content-length"]), 100u);
  EXPECT_EQ(head.body, "");
  auto health = c.Request("GET", "/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body, R"({"status":"ok"})");

  const auto get = c.Request("GET", "/v1/series/us:realgdp", "", Token("viewer"));
  ASSERT_EQ(get.status, 200) << get.body;
  head = c.Request("HEAD", "/v1/series/us:realgdp", "", Token("viewer"));
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.headers["content-type"], get.headers.at("content-type"));
  EXPECT_EQ(head.headers["content-length"], std::to_string(get.body.size()));  // same length request ids
  EXPECT_EQ(head.body, "");
  // Without a token: 401 as for GET, with its challenge and the length of its error body.
  head = c.Request("HEAD", "/v1/series/us:realgdp");
  EXPECT_EQ(head.status, 401);
  EXPECT_EQ(head.headers["www-authenticate"], "Bearer realm=\"almanac\"");
  EXPECT_GT(std::stoul(head.headers["content-length"]), 0u);
  EXPECT_EQ(head.body, "");
  EXPECT_EQ(c.Request("HEAD", "/v1/series/us:nothing", "", Token("viewer")).status, 404);
  // A POST-only route: 405, and Allow says what is allowed.
  head = c.Request("HEAD", "/v1/forecast", "", Token("viewer"));
  EXPECT_EQ(head.status, 405);
  EXPECT_EQ(head.headers["allow"], "POST");
  EXPECT_EQ(head.body, "");
  // A GET route refusing another method lists HEAD with GET.
  EXPECT_EQ(c.Request("DELETE", "/metrics").headers["allow"], "GET, HEAD");
  health = c.Request("GET", "/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body, R"({"status":"ok"})");
  // Counted under their own method.
  EXPECT_THAT(c.Request("GET", "/metrics").body,
              HasSubstr(R"(almanac_http_requests_total{route="/metrics",method="HEAD",status="200"} 1)"));
}

// Issue 19: the options of the limits are validated before anything starts.
TEST_F(ServeTest, Issue19FairServiceOptionsAreValidated) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> bad = {
      {{"--rate-burst", "5"}, "--rate-burst needs --rate-limit"},
      {{"--rate-limit=-1"}, "--rate-limit must be in"},
      {{"--rate-limit", "1", "--rate-burst=-3"}, "--rate-burst must be in"},
      {{"--trusted-proxies", "17"}, "--trusted-proxies must be in 0..16"},
      {{"--trusted-proxies=-1"}, "--trusted-proxies must be in 0..16"},
      {{"--max-connections-per-address", "2000"}, "cannot exceed --max-connections (1024)"},
      {{"--max-connections-per-address=-5"}, "--max-connections-per-address must be"},
      {{"--log-repeat-limit=-1"}, "--log-repeat-limit must be >= 0"},
      {{"--rate-limit", "fast"}, "--rate-limit"},
  };
  for (const auto& [flags, message] : bad) {
    std::vector<std::string> args = {"--workspace", ws_, "serve", "--listen", "127.0.0.1:0"};
    args.insert(args.end(), flags.begin(), flags.end());
    auto r = RunAlmanac(args);
    EXPECT_NE(r.exit_code, 0) << flags[0];
    EXPECT_THAT(r.err, HasSubstr(message)) << flags[0];
  }
}

TEST_F(ServeTest, RequesterCannotApproveAndPromotionRacesWithForecasts) {
  TempDir d;
  const std::string ws = CopyWorkspace(d);
  ServeProcess s(ws, {"--threads", "2"});
  ASSERT_TRUE(s.running()) << s.log();
  // alice (modeler) requested production for gdp@2 in the pipeline; she cannot approve it.
  auto own = HttpRequest(s.port(), "POST", "/v1/models/gdp/versions/2/approve", R"({"reason":"mine"})", Token("modeler"));
  EXPECT_EQ(own.status, 403);  // modelers cannot approve at all
  // Even with an approver token of her own, four-eyes refuses the requester: 409.
  auto alice_approver = Cli({"--quiet", "tokens", "create", "--role", "approver", "--user", "alice"}, "root", ws);
  ASSERT_EQ(alice_approver.exit_code, 0);
  auto self = HttpRequest(s.port(), "POST", "/v1/models/gdp/versions/2/approve", R"({"reason":"mine"})",
                          std::string(Trim(alice_approver.out)));
  EXPECT_EQ(self.status, 409) << self.body;
  EXPECT_EQ(Parse(self.body)["code"], "FAILED_PRECONDITION");
  // A request cannot name another user: the token's user is who acts (issue 19).
  auto as_bob = HttpRequest(s.port(), "POST", "/v1/models/gdp/versions/2/approve", R"({"reason":"mine","user":"bob"})",
                            std::string(Trim(alice_approver.out)));
  EXPECT_NE(as_bob.status, 200) << as_bob.body;
  EXPECT_EQ(HttpRequest(s.port(), "POST", "/v1/models/gdp/versions/2/approve", R"({"reason":"mine"})",
                        std::string(Trim(alice_approver.out)), "X-Almanac-User: bob\r\nX-Forwarded-User: bob\r\n")
                .status,
            409);

  // Forecasts stream on two keep-alive connections while bob approves.
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::mutex mu;
  std::map<int, std::set<std::string>> means_by_version;
  std::vector<std::thread> clients;
  for (int t = 0; t < 2; ++t)
    clients.emplace_back([&] {
      HttpConnection c(s.port());
      while (!stop) {
        auto r = c.Request("POST", "/v1/forecast", kForecast, Token("viewer"));
        if (r.status != 200) {
          ++failures;
          continue;
        }
        const Json j = Parse(r.body);
        std::lock_guard lock(mu);
        means_by_version[j["version"].get<int>()].insert(CompactJson(j["mean"]) + CompactJson(j["intervals"]) + j["method"].get<std::string>());
      }
    });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto ok = HttpRequest(s.port(), "POST", "/v1/models/gdp/versions/2/approve", R"({"reason":"reviewed"})", Token("approver"));
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(Parse(ok.body)["archived_version"], 1);
  // Until the poll swaps version 2 in, then a little longer.
  bool swapped = false;
  for (int i = 0; i < 100 && !swapped; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::lock_guard lock(mu);
    swapped = means_by_version.count(2) > 0;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  stop = true;
  for (auto& t : clients) t.join();
  EXPECT_EQ(failures, 0);
  EXPECT_TRUE(swapped);
  // Every response is wholly version 1 or wholly version 2: one set of numbers per version.
  ASSERT_EQ(means_by_version.size(), 2u);
  EXPECT_EQ(means_by_version[1].size(), 1u);
  EXPECT_EQ(means_by_version[2].size(), 1u);
  EXPECT_NE(*means_by_version[1].begin(), *means_by_version[2].begin());
  // The approval is audited under the token's user.
  auto audit = Cli({"--format", "csv", "audit", "list"}, "root", ws);
  EXPECT_THAT(audit.out, HasSubstr("bob,model.approve"));
  EXPECT_THAT(s.log(), HasSubstr("serving gdp@2 as production"));
  EXPECT_THAT(HttpRequest(s.port(), "GET", "/metrics").body, HasSubstr("almanac_model_version_info{model=\"gdp\",version=\"2\",stage=\"production\"} 1"));
}

TEST_F(ServeTest, SigtermFinishesInFlightRequestsAndExitsZero) {
  ServeProcess s(ws_, {});
  ASSERT_TRUE(s.running()) << s.log();
  // A slow request (a refit on a long history) in flight when SIGTERM arrives.
  HttpConnection slow(s.port(), 20000);
  HttpConnection idle(s.port(), 20000);
  ASSERT_EQ(idle.Request("GET", "/healthz").status, 200);
  ASSERT_TRUE(slow.SendRaw(PredictRequest(Token("analyst"), kSlowHistory)));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  s.Signal(SIGTERM);
  auto r = slow.ReadResponse();
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers["connection"], "close");
  EXPECT_TRUE(idle.ClosedByPeer(5000));  // idle keep-alive connections are closed at once
  EXPECT_EQ(s.Wait(20), 0) << s.log();
  EXPECT_THAT(s.log(), HasSubstr("received SIGTERM"));
  EXPECT_FALSE(HttpConnection(s.port()).ok());  // no longer listening
}

TEST_F(ServeTest, NoAuthOnlyOnLoopbackAndLoudly) {
  TempDir d;
  auto refused = RunAlmanac({"--workspace", ws_, "serve", "--listen", "0.0.0.0:0", "--no-auth"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_THAT(refused.err, HasSubstr("only allowed on a loopback address"));
  ServeProcess s(ws_, {"--no-auth"}, "dev");
  ASSERT_TRUE(s.running()) << s.log();
  EXPECT_THAT(s.log(), HasSubstr("WARNING: --no-auth"));
  EXPECT_EQ(HttpRequest(s.port(), "POST", "/v1/forecast", kForecast).status, 200);
}

TEST_F(ServeTest, MetricsPassPromtool) {
  ServeProcess s(ws_, {});
  ASSERT_TRUE(s.running()) << s.log();
  HttpRequest(s.port(), "POST", "/v1/forecast", kForecast, Token("viewer"));
  HttpRequest(s.port(), "GET", "/v1/nothing", "", Token("viewer"));
  const std::string text = HttpRequest(s.port(), "GET", "/metrics").body;
  EXPECT_THAT(text, HasSubstr("almanac_http_requests_total{route=\"/v1/forecast\",method=\"POST\",status=\"200\"} 1"));
  EXPECT_THAT(text, HasSubstr("almanac_http_request_duration_seconds_bucket{route=\"/v1/forecast\",le=\"+Inf\"} 1"));
  EXPECT_THAT(text, HasSubstr("almanac_model_version_info{model=\"gdp\",version=\"1\",stage=\"production\"} 1"));
  EXPECT_THAT(text, HasSubstr("almanac_model_reloads_total{result=\"success\"} 1"));
  EXPECT_THAT(text, HasSubstr("process_resident_memory_bytes"));
  if (std::system("command -v promtool >/dev/null 2>&1") != 0) GTEST_SKIP() << "promtool not installed (Debian 'prometheus')";
  TempDir d;
  WriteFile(d / "m.txt", text);
  EXPECT_EQ(std::system(("promtool check metrics < " + (d / "m.txt") + " >/dev/null 2>&1").c_str()), 0) << text;
}

TEST_F(ServeTest, TlsWithOpenSsl) {
  if (std::system("command -v openssl >/dev/null 2>&1 && command -v curl >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "openssl or curl not installed";
  TempDir d;
  const std::string cert = d / "cert.pem", key = d / "key.pem";
  ASSERT_EQ(std::system(("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 -keyout " + key + " -out " +
                         cert + " >/dev/null 2>&1")
                            .c_str()),
            0);
  ServeProcess s(ws_, {"--tls-cert", cert, "--tls-key", key});
  ASSERT_TRUE(s.running()) << s.log();
  const std::string out = d / "out.json";
  const std::string curl = "curl -sk -o " + out + " -w '%{http_code}' -H 'Authorization: Bearer " + Token("viewer") +
                           "' -d '" + kForecast + "' https://127.0.0.1:" + std::to_string(s.port()) + "/v1/forecast";
  FILE* p = ::popen(curl.c_str(), "r");
  char buf[16] = {0};
  ASSERT_NE(std::fgets(buf, sizeof(buf), p), nullptr);
  ::pclose(p);
  EXPECT_STREQ(buf, "200");
  EXPECT_EQ(Parse(ReadFile(out))["version"], 1);
  // Plain HTTP to the TLS port gets nothing useful.
  EXPECT_NE(HttpRequest(s.port(), "GET", "/healthz").status, 200);
  auto missing = RunAlmanac({"--workspace", ws_, "serve", "--listen", "127.0.0.1:0", "--tls-cert", d / "nope.pem", "--tls-key", key});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("--tls-cert"));
}


// Issue 24: POST /v1/risk/portfolio over real HTTP answers what `almanac risk portfolio`
// computes on the same inputs (the worked example of docs/risk.md on the suite's workspace);
// bad input is a 400 naming the place, no token a 401.
TEST_F(ServeTest, Issue24RiskPortfolioOverHttpEqualsTheCli) {
  const std::string p = kSrc + "/testdata/risk/portfolio/";
  auto cli = Cli({"--format", "json", "risk", "portfolio", "--positions", p + "positions.csv", "--returns",
                  p + "asset_returns.csv", "--fx", p + "fx.csv", "--scenarios", p + "scenarios.yaml", "--factors",
                  "us:tbilrate,us:unemp", "--factor-changes", "--paths", "500", "--seed", "7"});
  ASSERT_EQ(cli.exit_code, 0) << cli.err;
  const Json want = Parse(cli.out);
  ASSERT_TRUE(want.is_object()) << cli.out.substr(0, 300);

  ServeProcess s(ws_, {});
  ASSERT_TRUE(s.running()) << s.log();
  const Json request = {{"positions", ReadFile(p + "positions.csv")},
                        {"returns", ReadFile(p + "asset_returns.csv")},
                        {"fx", ReadFile(p + "fx.csv")},
                        {"scenarios", ReadFile(p + "scenarios.yaml")},
                        {"factors", {"us:tbilrate", "us:unemp"}},
                        {"factor_changes", true},
                        {"paths", 500},
                        {"seed", 7}};
  auto r = HttpRequest(s.port(), "POST", "/v1/risk/portfolio", request.dump(), Token("analyst"));
  ASSERT_EQ(r.status, 200) << r.body.substr(0, 500);
  Json got = Parse(r.body);
  for (const char* key : {"macro_model", "factor_model", "historical", "scenarios", "settings"})
    EXPECT_EQ(got[key], want[key]) << key;
  for (const char* input : {"positions", "returns", "fx", "scenarios"})
    EXPECT_EQ(got["inputs"][input]["sha256"], want["inputs"][input]["sha256"]) << input;
  EXPECT_EQ(got["inputs"]["series"], want["inputs"]["series"]);
  ASSERT_EQ(got["scenarios"].size(), 3u);

  Json bad = request;
  bad["positions"] = "asset,exposure\ngold,10\n";
  r = HttpRequest(s.port(), "POST", "/v1/risk/portfolio", bad.dump(), Token("analyst"));
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_THAT(Parse(r.body).value("message", ""), HasSubstr("position 'gold'"));
  EXPECT_EQ(HttpRequest(s.port(), "POST", "/v1/risk/portfolio", request.dump()).status, 401);
}

// Issue 24: a registered var (almanac var --register) in the policy: the server starts, says
// why it does not serve it, is ready and serves gdp; /v1/forecast on it is a 409 naming it;
// POST /v1/risk/portfolio with registered_model gives the CLI's report from the same version.
TEST_F(ServeTest, Issue24ServeStartsWithAMultivariateVersionAndRiskUsesIt) {
  TempDir d;
  const std::string ws = CopyWorkspace(d);
  auto reg = Cli({"var", "coef", "us:tbilrate", "us:unemp", "us:infl", "--lags", "2", "--register", "macro"}, "alice", ws);
  ASSERT_EQ(reg.exit_code, 0) << reg.err;
  EXPECT_THAT(reg.err, HasSubstr("registered macro@1"));
  const std::string p = kSrc + "/testdata/risk/portfolio/";
  auto cli = Cli({"--format", "json", "risk", "portfolio", "--model", "macro@1", "--positions", p + "positions.csv",
                  "--returns", p + "asset_returns.csv", "--fx", p + "fx.csv", "--scenarios", p + "scenarios.yaml",
                  "--factors", "us:tbilrate,us:unemp", "--factor-changes", "--paths", "300", "--seed", "7"},
                 "tester", ws);
  ASSERT_EQ(cli.exit_code, 0) << cli.err;
  const Json want = Parse(cli.out);

  ServeProcess s(ws, {"--policy", "production,macro@1"});
  ASSERT_TRUE(s.running()) << s.log();
  EXPECT_THAT(s.log(), HasSubstr("not serving macro@1: macro@1 is a var model (multivariate"));
  EXPECT_EQ(HttpRequest(s.port(), "GET", "/readyz").status, 200) << s.log();
  EXPECT_EQ(HttpRequest(s.port(), "POST", "/v1/forecast", kForecast, Token("viewer")).status, 200);
  auto r = HttpRequest(s.port(), "POST", "/v1/forecast", R"({"model":"macro","version":1,"horizon":4})", Token("viewer"));
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_THAT(Parse(r.body).value("message", ""), HasSubstr("macro@1 is a var model"));
  const Json request = {{"registered_model", "macro@1"},
                        {"positions", ReadFile(p + "positions.csv")},
                        {"returns", ReadFile(p + "asset_returns.csv")},
                        {"fx", ReadFile(p + "fx.csv")},
                        {"scenarios", ReadFile(p + "scenarios.yaml")},
                        {"factors", {"us:tbilrate", "us:unemp"}},
                        {"factor_changes", true},
                        {"paths", 300},
                        {"seed", 7}};
  r = HttpRequest(s.port(), "POST", "/v1/risk/portfolio", request.dump(), Token("analyst"));
  ASSERT_EQ(r.status, 200) << r.body.substr(0, 500);
  const Json got = Parse(r.body);
  for (const char* key : {"macro_model", "factor_model", "historical", "scenarios"}) EXPECT_EQ(got[key], want[key]) << key;
  EXPECT_EQ(got["inputs"]["registered_model"], want["inputs"]["registered_model"]);
}

}  // namespace
}  // namespace almanac::testing
