// Conformance of `almanac serve`'s MLflow REST API (issue 22) over real HTTP on 127.0.0.1,
// built from MLflow's REST API reference: request and response shapes per endpoint, success
// and failure, both prefixes, GET fields in the query string, run_uuid beside run_id,
// pagination with our page tokens (tampered ones refused), the filter grammar, NaN/Infinity
// metric values, log-batch limits, HTTP basic auth, roles, the four-eyes transition to
// Production, and that every refused request leaves the store (and its audit log) unchanged.

#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "almanac/core.h"
#include "almanac/core/json.h"
#include "integration/cli_runner.h"
#include "integration/http_client.h"
#include "integration/serve_process.h"

namespace almanac::testing {
namespace {

using ::testing::HasSubstr;

Json Parse(const std::string& body) {
  auto j = ParseJson(body);
  return j.ok() ? *j : Json();
}

class MlflowApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    ws_ = *dir_ / "ws";
    ASSERT_EQ(Cli({"init"}).exit_code, 0);
    for (const char* role : {"viewer", "analyst", "modeler", "approver"}) {
      const std::string user = std::string(role) == "modeler" ? "alice" : std::string(role) == "approver" ? "bob" : role;
      auto t = Cli({"--quiet", "tokens", "create", "--role", role, "--user", user}, "root");
      ASSERT_EQ(t.exit_code, 0) << t.err;
      (*tokens_)[role] = std::string(Trim(t.out));
    }
    server_ = new ServeProcess(ws_);
    ASSERT_GT(server_->port(), 0) << server_->log();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
    delete dir_;
    dir_ = nullptr;
  }
  static CommandResult Cli(std::vector<std::string> args, const std::string& user = "tester") {
    args.insert(args.begin(), {"--workspace", ws_, "--user", user});
    return RunAlmanac(args);
  }
  static std::string Token(const std::string& role) { return (*tokens_)[role]; }

  // A call under /api/2.0/mlflow/ (or `prefix`); `role` "" sends no credentials.
  static HttpResult Call(const std::string& method, const std::string& path, const std::string& body = "",
                         const std::string& role = "analyst", const std::string& prefix = "/api/2.0/mlflow/") {
    return HttpRequest(server_->port(), method, prefix + path, body, role.empty() ? "" : Token(role));
  }
  static Json Ok(const HttpResult& r) {
    EXPECT_EQ(r.status, 200) << r.body;
    return Parse(r.body);
  }
  // An MLflow error: the status and error_code, and nothing but error_code and message.
  static void ExpectError(const HttpResult& r, int status, const std::string& code) {
    EXPECT_EQ(r.status, status) << r.body;
    const Json j = Parse(r.body);
    EXPECT_EQ(j.value("error_code", ""), code) << r.body;
    EXPECT_TRUE(j.contains("message")) << r.body;
    EXPECT_EQ(j.size(), 2u) << r.body;
  }
  // The number of audit entries: unchanged by refused requests.
  static size_t AuditEntries() {
    auto r = Cli({"audit", "export"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return static_cast<size_t>(std::count(r.out.begin(), r.out.end(), '\n'));
  }
  static std::string NewExperiment(const std::string& name) {
    return Ok(Call("POST", "experiments/create", Json({{"name", name}}).dump()))["experiment_id"].get<std::string>();
  }
  static std::string NewRun(const std::string& experiment_id, const std::string& name = "") {
    Json body = {{"experiment_id", experiment_id}, {"start_time", 1700000000000}};
    if (!name.empty()) body["run_name"] = name;
    return Ok(Call("POST", "runs/create", body.dump()))["run"]["info"]["run_id"].get<std::string>();
  }

  static inline TempDir* dir_ = nullptr;
  static inline std::string ws_;
  static inline ServeProcess* server_ = nullptr;
  static inline std::map<std::string, std::string>* tokens_ = new std::map<std::string, std::string>();
};

TEST_F(MlflowApiTest, ExperimentsCreateGetSearchUpdateDeleteRestore) {
  const std::string id = NewExperiment("exp-a");
  ExpectError(Call("POST", "experiments/create", R"({"name":"exp-a"})"), 400, "RESOURCE_ALREADY_EXISTS");
  ExpectError(Call("POST", "experiments/create", R"({})"), 400, "INVALID_PARAMETER_VALUE");
  ExpectError(Call("POST", "experiments/create", R"({"name":7})"), 400, "INVALID_PARAMETER_VALUE");
  // GET with the field in the query string, under both prefixes.
  Json e = Ok(Call("GET", "experiments/get?experiment_id=" + id))["experiment"];
  EXPECT_EQ(e["experiment_id"], id);
  EXPECT_EQ(e["name"], "exp-a");
  EXPECT_EQ(e["lifecycle_stage"], "active");
  EXPECT_TRUE(e["creation_time"].is_number_integer());
  EXPECT_TRUE(e["tags"].is_array());
  EXPECT_EQ(Ok(Call("GET", "experiments/get-by-name?experiment_name=exp-a", "", "viewer", "/ajax-api/2.0/mlflow/"))
                ["experiment"]["experiment_id"],
            id);
  ExpectError(Call("GET", "experiments/get?experiment_id=98765"), 404, "RESOURCE_DOES_NOT_EXIST");
  ExpectError(Call("GET", "experiments/get?experiment_id=abc"), 400, "INVALID_PARAMETER_VALUE");
  ExpectError(Call("GET", "experiments/get-by-name?experiment_name=nope"), 404, "RESOURCE_DOES_NOT_EXIST");
  // The Default experiment exists, as in MLflow.
  EXPECT_EQ(Ok(Call("GET", "experiments/get?experiment_id=0"))["experiment"]["name"], "Default");

  Ok(Call("POST", "experiments/set-experiment-tag", Json({{"experiment_id", id}, {"key", "team"}, {"value", "macro"}}).dump()));
  Ok(Call("POST", "experiments/update", Json({{"experiment_id", id}, {"new_name", "exp-a2"}}).dump()));
  e = Ok(Call("GET", "experiments/get?experiment_id=" + id))["experiment"];
  EXPECT_EQ(e["name"], "exp-a2");
  EXPECT_EQ(e["tags"], Json::parse(R"([{"key":"team","value":"macro"}])"));
  Json s = Ok(Call("POST", "experiments/search", R"({"filter":"name LIKE 'exp-a%' and tags.team = 'macro'"})"));
  ASSERT_EQ(s["experiments"].size(), 1u) << s;
  ExpectError(Call("POST", "experiments/search", R"({"filter":"name <"})"), 400, "INVALID_PARAMETER_VALUE");

  Ok(Call("POST", "experiments/delete", Json({{"experiment_id", id}}).dump()));
  s = Ok(Call("POST", "experiments/search", R"({"filter":"name = 'exp-a2'"})"));
  EXPECT_FALSE(s.contains("experiments") && !s["experiments"].empty()) << s;
  s = Ok(Call("POST", "experiments/search", R"({"filter":"name = 'exp-a2'","view_type":"DELETED_ONLY"})"));
  ASSERT_EQ(s["experiments"].size(), 1u) << s;
  EXPECT_EQ(s["experiments"][0]["lifecycle_stage"], "deleted");
  // A run cannot be created in a deleted experiment.
  ExpectError(Call("POST", "runs/create", Json({{"experiment_id", id}}).dump()), 400, "INVALID_STATE");
  Ok(Call("POST", "experiments/restore", Json({{"experiment_id", id}}).dump()));
  EXPECT_EQ(Ok(Call("GET", "experiments/list?view_type=ALL"))["experiments"].size() >= 2, true);
}

TEST_F(MlflowApiTest, RunsLogMetricsParamsTagsBatchAndReadBack) {
  const std::string exp = NewExperiment("exp-runs");
  const Json created = Ok(Call("POST", "runs/create",
                               Json({{"experiment_id", exp}, {"run_name", "first"}, {"start_time", 1700000000000},
                                     {"tags", {{{"key", "team"}, {"value", "macro"}}}}})
                                   .dump()))["run"];
  const std::string run = created["info"]["run_id"];
  EXPECT_EQ(created["info"]["run_uuid"], run);
  EXPECT_EQ(created["info"]["run_name"], "first");
  EXPECT_EQ(created["info"]["status"], "RUNNING");
  EXPECT_EQ(created["info"]["start_time"], 1700000000000);
  EXPECT_EQ(created["info"]["lifecycle_stage"], "active");
  EXPECT_EQ(created["info"]["experiment_id"], exp);
  for (int step = 0; step < 3; ++step)
    Ok(Call("POST", "runs/log-metric",
            Json({{"run_id", run}, {"key", "rmse"}, {"value", 1.0 / (step + 1)}, {"timestamp", 1700000001000 + step},
                  {"step", step}})
                .dump()));
  // The legacy run_uuid, and Python's bare NaN / Infinity tokens.
  Ok(Call("POST", "runs/log-metric",
          R"({"run_uuid":")" + run + R"(","key":"odd","value":NaN,"timestamp":1700000002000,"step":0})"));
  Ok(Call("POST", "runs/log-metric",
          R"({"run_id":")" + run + R"(","key":"odd","value":-Infinity,"timestamp":1700000002001,"step":1})"));
  Ok(Call("POST", "runs/log-parameter", Json({{"run_id", run}, {"key", "model"}, {"value", "ets"}}).dump()));
  // The same value again is allowed; another value is refused.
  Ok(Call("POST", "runs/log-parameter", Json({{"run_id", run}, {"key", "model"}, {"value", "ets"}}).dump()));
  ExpectError(Call("POST", "runs/log-parameter", Json({{"run_id", run}, {"key", "model"}, {"value", "arima"}}).dump()),
              400, "INVALID_PARAMETER_VALUE");
  Ok(Call("POST", "runs/set-tag", Json({{"run_id", run}, {"key", "stage"}, {"value", "dev"}}).dump()));
  Ok(Call("POST", "runs/set-tag", Json({{"run_id", run}, {"key", "tmp"}, {"value", "x"}}).dump()));
  Ok(Call("POST", "runs/delete-tag", Json({{"run_id", run}, {"key", "tmp"}}).dump()));
  ExpectError(Call("POST", "runs/delete-tag", Json({{"run_id", run}, {"key", "tmp"}}).dump()), 404,
              "RESOURCE_DOES_NOT_EXIST");
  Ok(Call("POST", "runs/log-batch",
          Json({{"run_id", run},
                {"metrics", {{{"key", "mae"}, {"value", 0.5}, {"timestamp", 1700000003000}, {"step", 0}}}},
                {"params", {{{"key", "horizon"}, {"value", "8"}}}},
                {"tags", {{{"key", "batch"}, {"value", "yes"}}}}})
              .dump()));
  Ok(Call("POST", "runs/update", Json({{"run_id", run}, {"status", "FINISHED"}, {"end_time", 1700000009000}}).dump()));

  const Json got = Ok(Call("GET", "runs/get?run_id=" + run, "", "viewer"))["run"];
  EXPECT_EQ(got["info"]["status"], "FINISHED");
  EXPECT_EQ(got["info"]["end_time"], 1700000009000);
  std::map<std::string, Json> metrics;
  for (const auto& m : got["data"]["metrics"]) metrics[m["key"]] = m;
  EXPECT_EQ(metrics["rmse"]["value"], 1.0 / 3);  // the latest step
  EXPECT_EQ(metrics["rmse"]["step"], 2);
  EXPECT_EQ(metrics["rmse"]["timestamp"], 1700000001002);
  EXPECT_EQ(metrics["odd"]["value"], "-Infinity");
  EXPECT_EQ(metrics["mae"]["value"], 0.5);
  std::map<std::string, std::string> params, tags;
  for (const auto& p : got["data"]["params"]) params[p["key"]] = p["value"];
  for (const auto& t : got["data"]["tags"]) tags[t["key"]] = t["value"];
  EXPECT_EQ(params, (std::map<std::string, std::string>{{"horizon", "8"}, {"model", "ets"}}));
  EXPECT_EQ(tags["team"], "macro");
  EXPECT_EQ(tags["stage"], "dev");
  EXPECT_EQ(tags["batch"], "yes");
  EXPECT_EQ(tags["mlflow.runName"], "first");
  EXPECT_EQ(tags.count("tmp"), 0u);
  // Older clients send run_uuid.
  EXPECT_EQ(Ok(Call("GET", "runs/get?run_uuid=" + run))["run"]["info"]["run_id"], run);

  const Json history = Ok(Call("GET", "metrics/get-history?run_id=" + run + "&metric_key=odd"));
  ASSERT_EQ(history["metrics"].size(), 2u) << history;
  EXPECT_EQ(history["metrics"][0]["value"], "NaN");
  EXPECT_EQ(history["metrics"][1]["value"], "-Infinity");
  // Paged history: one point per page, tokens from the server.
  Json page = Ok(Call("GET", "metrics/get-history?run_id=" + run + "&metric_key=rmse&max_results=2"));
  ASSERT_EQ(page["metrics"].size(), 2u);
  ASSERT_TRUE(page.contains("next_page_token")) << page;
  page = Ok(Call("GET", "metrics/get-history?run_id=" + run + "&metric_key=rmse&max_results=2&page_token=" +
                     page["next_page_token"].get<std::string>()));
  ASSERT_EQ(page["metrics"].size(), 1u);
  EXPECT_EQ(page["metrics"][0]["step"], 2);
  EXPECT_FALSE(page.contains("next_page_token"));

  const Json arts = Ok(Call("GET", "artifacts/list?run_id=" + run));
  EXPECT_THAT(arts["root_uri"].get<std::string>(), HasSubstr(run));
  EXPECT_TRUE(arts["files"].is_array());

  // An ordinary almanac run: `almanac runs list` and /v1/runs show it.
  auto list = Cli({"runs", "list", "--experiment", "exp-runs"});
  EXPECT_EQ(list.exit_code, 0) << list.err;
  EXPECT_THAT(list.out, HasSubstr(run));
  EXPECT_EQ(HttpRequest(server_->port(), "GET", "/v1/runs/" + run, "", Token("viewer")).status, 200);

  ExpectError(Call("GET", "runs/get?run_id=rdoesnotexist"), 404, "RESOURCE_DOES_NOT_EXIST");
  ExpectError(Call("GET", "runs/get"), 400, "INVALID_PARAMETER_VALUE");
}

TEST_F(MlflowApiTest, SearchRunsFilterOrderAndPages) {
  const std::string exp = NewExperiment("exp-search");
  std::vector<std::string> runs;
  for (int i = 0; i < 5; ++i) {
    const std::string run = NewRun(exp, "run" + std::to_string(i));
    runs.push_back(run);
    Ok(Call("POST", "runs/log-batch",
            Json({{"run_id", run},
                  {"metrics", {{{"key", "rmse"}, {"value", 0.2 * i}, {"timestamp", 1700000000000 + i}, {"step", 0}}}},
                  {"params", {{{"key", "model"}, {"value", i % 2 ? "arima" : "ets"}}}},
                  {"tags", {{{"key", "x"}, {"value", i == 4 ? "y" : "z"}}}}})
                .dump()));
  }
  auto search = [&](const Json& body) { return Ok(Call("POST", "runs/search", body.dump())); };
  // rmse 0, 0.4, 0.8 are ets; 0.8 (run 4) has tag x = y.
  Json r = search({{"experiment_ids", {exp}},
                   {"filter", "metrics.rmse < 1 and params.model = 'ets' and tags.x != 'y'"},
                   {"order_by", {"metrics.rmse DESC"}}});
  ASSERT_EQ(r["runs"].size(), 2u) << r;
  EXPECT_EQ(r["runs"][0]["info"]["run_id"], runs[2]);
  EXPECT_EQ(r["runs"][1]["info"]["run_id"], runs[0]);
  r = search({{"experiment_ids", {exp}}, {"filter", "attributes.status = 'RUNNING' and params.model LIKE 'ar%'"}});
  EXPECT_EQ(r["runs"].size(), 2u) << r;
  r = search({{"experiment_ids", {exp}}, {"filter", "attributes.run_name = 'run3'"}});
  ASSERT_EQ(r["runs"].size(), 1u) << r;
  EXPECT_EQ(r["runs"][0]["info"]["run_id"], runs[3]);
  // Pages of two, in rmse order, until no token comes back.
  std::vector<std::string> seen;
  std::string token;
  for (int pages = 0; pages < 5; ++pages) {
    Json body = {{"experiment_ids", {exp}}, {"max_results", 2}, {"order_by", {"metrics.rmse ASC"}}};
    if (!token.empty()) body["page_token"] = token;
    r = search(body);
    for (const auto& run : r["runs"]) seen.push_back(run["info"]["run_id"]);
    if (!r.contains("next_page_token")) break;
    token = r["next_page_token"];
  }
  EXPECT_EQ(seen, runs);
  // A page token we did not issue, or issued for another query, is refused.
  ExpectError(Call("POST", "runs/search", Json({{"experiment_ids", {exp}}, {"page_token", "p1.2.0000"}}).dump()), 400,
              "INVALID_PARAMETER_VALUE");
  Json first = search({{"experiment_ids", {exp}}, {"max_results", 2}});
  ASSERT_TRUE(first.contains("next_page_token"));
  std::string tampered = first["next_page_token"];
  tampered[3] = tampered[3] == '2' ? '3' : '2';
  ExpectError(Call("POST", "runs/search", Json({{"experiment_ids", {exp}}, {"max_results", 2}, {"page_token", tampered}}).dump()),
              400, "INVALID_PARAMETER_VALUE");
  ExpectError(Call("POST", "runs/search",
                   Json({{"experiment_ids", {exp}}, {"filter", "metrics.rmse < 1"}, {"page_token", first["next_page_token"]}})
                       .dump()),
              400, "INVALID_PARAMETER_VALUE");
  // Malformed filters.
  for (const char* f : {"metrics.rmse <", "params.model = ets", "metrics.rmse < 1 or params.x = 'a'", "foo.bar = 'x'"})
    ExpectError(Call("POST", "runs/search", Json({{"experiment_ids", {exp}}, {"filter", f}}).dump()), 400,
                "INVALID_PARAMETER_VALUE");
  ExpectError(Call("POST", "runs/search", Json({{"experiment_ids", {exp}}, {"max_results", 0}}).dump()), 400,
              "INVALID_PARAMETER_VALUE");
  // Deleted runs leave the default view and come back when restored.
  Ok(Call("POST", "runs/delete", Json({{"run_id", runs[0]}}).dump()));
  EXPECT_EQ(search({{"experiment_ids", {exp}}})["runs"].size(), 4u);
  EXPECT_EQ(search({{"experiment_ids", {exp}}, {"run_view_type", "DELETED_ONLY"}})["runs"].size(), 1u);
  ExpectError(Call("POST", "runs/log-metric",
                   Json({{"run_id", runs[0]}, {"key", "m"}, {"value", 1}, {"timestamp", 1}}).dump()),
              400, "INVALID_STATE");
  Ok(Call("POST", "runs/restore", Json({{"run_id", runs[0]}}).dump()));
  EXPECT_EQ(search({{"experiment_ids", {exp}}})["runs"].size(), 5u);
}

TEST_F(MlflowApiTest, BadInputIsRefusedAndChangesNothing) {
  const std::string exp = NewExperiment("exp-bad");
  const std::string run = NewRun(exp);
  const size_t audit = AuditEntries();
  const Json before = Ok(Call("GET", "runs/get?run_id=" + run))["run"];
  Json metrics = Json::array();
  for (int i = 0; i < 1001; ++i) metrics.push_back({{"key", "m"}, {"value", i}, {"timestamp", 1}, {"step", i}});
  ExpectError(Call("POST", "runs/log-batch", Json({{"run_id", run}, {"metrics", metrics}}).dump()), 400,
              "INVALID_PARAMETER_VALUE");
  Json params = Json::array();
  for (int i = 0; i < 101; ++i) params.push_back({{"key", "p" + std::to_string(i)}, {"value", "v"}});
  ExpectError(Call("POST", "runs/log-batch", Json({{"run_id", run}, {"params", params}}).dump()), 400,
              "INVALID_PARAMETER_VALUE");
  // A good metric with a param that conflicts with a stored one: nothing of the batch is kept.
  Ok(Call("POST", "runs/log-parameter", Json({{"run_id", run}, {"key", "model"}, {"value", "ets"}}).dump()));
  const size_t audit_after_param = AuditEntries();
  EXPECT_EQ(audit_after_param, audit + 1);
  ExpectError(Call("POST", "runs/log-batch",
                   Json({{"run_id", run},
                         {"metrics", {{{"key", "good"}, {"value", 1}, {"timestamp", 1}, {"step", 0}}}},
                         {"params", {{{"key", "model"}, {"value", "arima"}}}}})
                       .dump()),
              400, "INVALID_PARAMETER_VALUE");
  for (const std::string& body :
       {R"({"run_id":")" + run + R"(","key":"m","value":"abc","timestamp":1})",
        R"({"run_id":")" + run + R"(","key":"m","value":1})",
        R"({"run_id":")" + run + R"(","key":"m","value":1,"timestamp":"soon"})",
        R"({"run_id":")" + run + R"(","key":5,"value":1,"timestamp":1})", std::string(R"({"run_id":)")})
    ExpectError(Call("POST", "runs/log-metric", body), 400, "INVALID_PARAMETER_VALUE");
  ExpectError(Call("POST", "runs/log-metric", R"({"run_id":"rnope","key":"m","value":1,"timestamp":1})"), 404,
              "RESOURCE_DOES_NOT_EXIST");
  ExpectError(Call("POST", "runs/update", Json({{"run_id", run}, {"status", "DONE"}}).dump()), 400,
              "INVALID_PARAMETER_VALUE");
  ExpectError(Call("POST", "runs/create", R"({"experiment_id":"424242"})"), 404, "RESOURCE_DOES_NOT_EXIST");
  EXPECT_EQ(AuditEntries(), audit_after_param);
  const Json after = Ok(Call("GET", "runs/get?run_id=" + run))["run"];
  EXPECT_EQ(after["data"]["metrics"], before["data"]["metrics"]);
  EXPECT_EQ(after["info"], before["info"]);
  EXPECT_EQ(Ok(Call("GET", "metrics/get-history?run_id=" + run + "&metric_key=good"))["metrics"].size(), 0u);
  // An unknown MLflow endpoint answers in MLflow's shape.
  ExpectError(Call("POST", "runs/log-everything", "{}"), 404, "ENDPOINT_NOT_FOUND");
}

TEST_F(MlflowApiTest, AuthenticationRolesAndAudit) {
  const std::string exp = NewExperiment("exp-auth");
  ExpectError(Call("GET", "experiments/get?experiment_id=" + exp, "", ""), 401, "UNAUTHENTICATED");
  ExpectError(Call("POST", "runs/create", Json({{"experiment_id", exp}}).dump(), "viewer"), 403, "PERMISSION_DENIED");
  ExpectError(Call("POST", "runs/create", Json({{"experiment_id", exp}}).dump(), "approver"), 403, "PERMISSION_DENIED");
  // HTTP basic: user = the token's user, password = the token.
  auto basic = [&](const std::string& user, const std::string& token) {
    static const char* kB64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const std::string in = user + ":" + token;
    std::string out;
    for (size_t i = 0; i < in.size(); i += 3) {
      uint32_t n = static_cast<unsigned char>(in[i]) << 16;
      if (i + 1 < in.size()) n |= static_cast<unsigned char>(in[i + 1]) << 8;
      if (i + 2 < in.size()) n |= static_cast<unsigned char>(in[i + 2]);
      out += kB64[(n >> 18) & 63];
      out += kB64[(n >> 12) & 63];
      out += i + 1 < in.size() ? kB64[(n >> 6) & 63] : '=';
      out += i + 2 < in.size() ? kB64[n & 63] : '=';
    }
    return "Authorization: Basic " + out + "\r\n";
  };
  const std::string body = Json({{"experiment_id", exp}, {"run_name", "basic"}}).dump();
  auto r = HttpRequest(server_->port(), "POST", "/api/2.0/mlflow/runs/create", body, "", basic("analyst", Token("analyst")));
  const Json created = Ok(r);
  const std::string run = created["run"]["info"]["run_id"];
  EXPECT_EQ(created["run"]["info"]["user_id"], "analyst");
  r = HttpRequest(server_->port(), "POST", "/api/2.0/mlflow/runs/create", body, "", basic("mallory", Token("analyst")));
  ExpectError(r, 401, "UNAUTHENTICATED");
  r = HttpRequest(server_->port(), "POST", "/api/2.0/mlflow/runs/create", body, "", basic("analyst", "not-a-token"));
  ExpectError(r, 401, "UNAUTHENTICATED");
  // Each write is audited with the caller.
  auto exported = Cli({"audit", "export"});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  bool found = false;
  std::istringstream lines(exported.out);
  for (std::string line; std::getline(lines, line);) {
    const Json e = Parse(line);
    const Json ev = e.contains("event") ? e["event"] : e;
    if (ev.value("object_id", "") == run && ev.value("action", "") == "run.start") {
      found = true;
      EXPECT_EQ(ev.value("actor", ""), "analyst") << line;
    }
  }
  EXPECT_TRUE(found) << exported.out.substr(0, 2000);
}

TEST_F(MlflowApiTest, RegistryAndFourEyesTransitionToProduction) {
  const std::string exp = NewExperiment("exp-registry");
  const std::string run = NewRun(exp, "trained");
  const Json model = Ok(Call("POST", "registered-models/create", R"({"name":"gdp-mlflow","description":"GDP"})",
                             "modeler"))["registered_model"];
  EXPECT_EQ(model["name"], "gdp-mlflow");
  EXPECT_EQ(model["description"], "GDP");
  ExpectError(Call("POST", "registered-models/create", R"({"name":"gdp-mlflow"})", "modeler"), 400,
              "RESOURCE_ALREADY_EXISTS");
  ExpectError(Call("POST", "registered-models/create", R"({"name":"x"})", "analyst"), 403, "PERMISSION_DENIED");
  Json v = Ok(Call("POST", "model-versions/create",
                   Json({{"name", "gdp-mlflow"}, {"source", "runs:/" + run + "/model"}, {"run_id", run}}).dump(),
                   "modeler"))["model_version"];
  EXPECT_EQ(v["version"], "1");
  EXPECT_EQ(v["current_stage"], "None");
  EXPECT_EQ(v["source"], "runs:/" + run + "/model");
  EXPECT_EQ(v["run_id"], run);
  EXPECT_EQ(v["status"], "READY");
  ExpectError(Call("POST", "model-versions/create",
                   Json({{"name", "nope"}, {"source", "s"}, {"run_id", run}}).dump(), "modeler"),
              404, "RESOURCE_DOES_NOT_EXIST");
  ExpectError(Call("GET", "model-versions/get?name=gdp-mlflow&version=9"), 404, "RESOURCE_DOES_NOT_EXIST");
  v = Ok(Call("POST", "model-versions/transition-stage",
              R"({"name":"gdp-mlflow","version":"1","stage":"Staging","archive_existing_versions":false})",
              "modeler"))["model_version"];
  EXPECT_EQ(v["current_stage"], "Staging");
  // Production: four-eyes. The answer keeps the old stage and says approval is pending.
  v = Ok(Call("POST", "model-versions/transition-stage", R"({"name":"gdp-mlflow","version":"1","stage":"Production"})",
              "modeler"))["model_version"];
  EXPECT_EQ(v["current_stage"], "Staging");
  std::map<std::string, std::string> tags;
  for (const auto& t : v["tags"]) tags[t["key"]] = t["value"];
  EXPECT_EQ(tags["almanac.approval"], "pending");
  EXPECT_EQ(tags["almanac.approval.requested_by"], "alice");
  ExpectError(Call("POST", "model-versions/transition-stage", R"({"name":"gdp-mlflow","version":"1","stage":"Production"})",
                   "modeler"),
              400, "INVALID_STATE");
  ExpectError(Call("POST", "model-versions/transition-stage", R"({"name":"gdp-mlflow","version":"1","stage":"Live"})",
                   "modeler"),
              400, "INVALID_PARAMETER_VALUE");
  // A second person approves (almanac's own route); then the version is in Production.
  auto approve = HttpRequest(server_->port(), "POST", "/v1/models/gdp-mlflow/versions/1/approve",
                             R"({"reason":"checked"})", Token("approver"));
  EXPECT_EQ(approve.status, 200) << approve.body;
  v = Ok(Call("GET", "model-versions/get?name=gdp-mlflow&version=1"))["model_version"];
  EXPECT_EQ(v["current_stage"], "Production");
  EXPECT_TRUE(v["tags"].empty()) << v;
  const Json latest = Ok(Call("POST", "registered-models/get-latest-versions",
                              R"({"name":"gdp-mlflow","stages":["Production"]})"));
  ASSERT_EQ(latest["model_versions"].size(), 1u);
  EXPECT_EQ(latest["model_versions"][0]["version"], "1");
  EXPECT_EQ(Ok(Call("GET", "registered-models/get?name=gdp-mlflow"))["registered_model"]["latest_versions"].size(), 1u);
  EXPECT_EQ(Ok(Call("GET", "registered-models/search?filter=name%20LIKE%20%27gdp-ml%25%27"))["registered_models"].size(),
            1u);
  EXPECT_EQ(Ok(Call("GET", "model-versions/search?filter=run_id%3D%27" + run + "%27"))["model_versions"].size(), 1u);
  Ok(Call("PATCH", "model-versions/update", R"({"name":"gdp-mlflow","version":"1","description":"v1"})", "modeler"));
  EXPECT_EQ(Ok(Call("GET", "model-versions/get?name=gdp-mlflow&version=1"))["model_version"]["description"], "v1");
  Ok(Call("PATCH", "registered-models/update", R"({"name":"gdp-mlflow","description":"GDP growth"})", "modeler"));
  EXPECT_EQ(Ok(Call("GET", "registered-models/get?name=gdp-mlflow"))["registered_model"]["description"], "GDP growth");
}

// Issue 22, second part: tags, aliases, rename and delete of registered models and versions.
// What was approved, is waiting for approval or may have been served is neither deleted nor
// renamed (INVALID_PARAMETER_VALUE, nothing changed); every other change is audited.
TEST_F(MlflowApiTest, Issue22RegistryTagsAliasesRenameDelete) {
  const std::string exp = NewExperiment("exp-registry-2");
  std::vector<std::string> runs;
  for (int i = 0; i < 6; ++i) runs.push_back(NewRun(exp, "r" + std::to_string(i)));
  auto new_version = [&](const std::string& model, const std::string& run, const Json& tags = Json::array()) {
    return Ok(Call("POST", "model-versions/create",
                   Json({{"name", model}, {"source", "runs:/" + run + "/model"}, {"run_id", run}, {"tags", tags}}).dump(),
                   "modeler"))["model_version"];
  };
  auto tag_map = [](const Json& tags) {
    std::map<std::string, std::string> out;
    for (const auto& t : tags) out[t["key"].get<std::string>()] = t["value"].get<std::string>();
    return out;
  };
  const std::string sql = "x'); DROP TABLE model_tags; --";

  // Create with tags; a reserved tag key is refused and nothing is created.
  const size_t audit0 = AuditEntries();
  ExpectError(Call("POST", "registered-models/create",
                   R"({"name":"reg-tags","tags":[{"key":"almanac.approval","value":"approved"}]})", "modeler"),
              400, "INVALID_PARAMETER_VALUE");
  ExpectError(Call("POST", "registered-models/create", R"({"name":"reg-tags","tags":[{"key":"k","value":7}]})", "modeler"),
              400, "INVALID_PARAMETER_VALUE");
  ExpectError(Call("GET", "registered-models/get?name=reg-tags"), 404, "RESOURCE_DOES_NOT_EXIST");
  EXPECT_EQ(AuditEntries(), audit0);
  Json m = Ok(Call("POST", "registered-models/create", R"({"name":"reg-tags","tags":[{"key":"team","value":"macro"}]})",
                   "modeler"))["registered_model"];
  EXPECT_EQ(tag_map(m["tags"]), (std::map<std::string, std::string>{{"team", "macro"}}));
  EXPECT_EQ(m["aliases"], Json::array());
  Json v1 = new_version("reg-tags", runs[0], Json::array({{{"key", "data"}, {"value", "2024Q1"}}}));
  EXPECT_EQ(tag_map(v1["tags"]), (std::map<std::string, std::string>{{"data", "2024Q1"}}));
  new_version("reg-tags", runs[1]);
  new_version("reg-tags", runs[2]);

  // registered-models/set-tag and model-versions/set-tag: {} answers, values stored as sent.
  EXPECT_EQ(Ok(Call("POST", "registered-models/set-tag", Json({{"name", "reg-tags"}, {"key", "owner"}, {"value", sql}}).dump(),
                    "modeler")),
            Json::object());
  EXPECT_EQ(Ok(Call("POST", "model-versions/set-tag",
                    R"({"name":"reg-tags","version":"2","key":"validated","value":"yes"})", "modeler")),
            Json::object());
  m = Ok(Call("GET", "registered-models/get?name=reg-tags"))["registered_model"];
  EXPECT_EQ(tag_map(m["tags"]), (std::map<std::string, std::string>{{"owner", sql}, {"team", "macro"}}));
  EXPECT_EQ(tag_map(Ok(Call("GET", "model-versions/get?name=reg-tags&version=2"))["model_version"]["tags"]),
            (std::map<std::string, std::string>{{"validated", "yes"}}));
  // Tags filter searches.
  EXPECT_EQ(Ok(Call("GET", "registered-models/search?filter=tags.team%3D%27macro%27"))["registered_models"].size(), 1u);
  EXPECT_EQ(Ok(Call("GET", "model-versions/search?filter=tags.validated%3D%27yes%27"))["model_versions"].size(), 1u);
  // Failures: unknown model or version, missing fields, wrong types, reserved keys, roles.
  const size_t audit1 = AuditEntries();
  ExpectError(Call("POST", "registered-models/set-tag", R"({"name":"nope","key":"k","value":"v"})", "modeler"), 404,
              "RESOURCE_DOES_NOT_EXIST");
  ExpectError(Call("POST", "registered-models/set-tag", Json({{"name", sql}, {"key", "k"}, {"value", "v"}}).dump(), "modeler"),
              404, "RESOURCE_DOES_NOT_EXIST");
  ExpectError(Call("POST", "registered-models/set-tag", R"({"name":"reg-tags","value":"v"})", "modeler"), 400,
              "INVALID_PARAMETER_VALUE");
  ExpectError(Call("POST", "registered-models/set-tag", R"({"name":"reg-tags","key":"k","value":7})", "modeler"), 400,
              "INVALID_PARAMETER_VALUE");
  ExpectError(Call("POST", "registered-models/set-tag", R"({"name":"reg-tags","key":"almanac.approval","value":"v"})",
                   "modeler"),
              400, "INVALID_PARAMETER_VALUE");
  ExpectError(Call("POST", "model-versions/set-tag", R"({"name":"reg-tags","version":"9","key":"k","value":"v"})",
                   "modeler"),
              404, "RESOURCE_DOES_NOT_EXIST");
  ExpectError(Call("POST", "model-versions/set-tag", R"({"name":"reg-tags","version":"two","key":"k","value":"v"})",
                   "modeler"),
              400, "INVALID_PARAMETER_VALUE");
  ExpectError(Call("POST", "registered-models/set-tag", R"({"name":"reg-tags","key":"k","value":"v"})", "viewer"), 403,
              "PERMISSION_DENIED");
  ExpectError(Call("POST", "registered-models/set-tag", R"({"name":"reg-tags","key":"k","value":"v"})", ""), 401,
              "UNAUTHENTICATED");
  ExpectError(Call("DELETE", "registered-models/delete-tag", R"({"name":"reg-tags","key":"team"})", ""), 401,
              "UNAUTHENTICATED");
  EXPECT_EQ(AuditEntries(), audit1);
  EXPECT_EQ(tag_map(Ok(Call("GET", "registered-models/get?name=reg-tags"))["registered_model"]["tags"]).size(), 2u);

  // delete-tag: a JSON body (MLflow's clients) or the query string; an absent tag is no error.
  EXPECT_EQ(Ok(Call("DELETE", "registered-models/delete-tag", R"({"name":"reg-tags","key":"owner"})", "modeler")),
            Json::object());
  EXPECT_EQ(Ok(Call("DELETE", "model-versions/delete-tag?name=reg-tags&version=2&key=validated", "", "modeler")),
            Json::object());
  const size_t audit2 = AuditEntries();
  EXPECT_EQ(audit2, audit1 + 2);
  Ok(Call("DELETE", "registered-models/delete-tag", R"({"name":"reg-tags","key":"owner"})", "modeler"));
  EXPECT_EQ(AuditEntries(), audit2);  // nothing changed, nothing audited
  ExpectError(Call("DELETE", "model-versions/delete-tag", R"({"name":"reg-tags","version":"9","key":"k"})", "modeler"),
              404, "RESOURCE_DOES_NOT_EXIST");
  ExpectError(Call("DELETE", "registered-models/delete-tag", R"({"name":"reg-tags"})", "modeler"), 400,
              "INVALID_PARAMETER_VALUE");
  EXPECT_EQ(tag_map(Ok(Call("GET", "registered-models/get?name=reg-tags"))["registered_model"]["tags"]),
            (std::map<std::string, std::string>{{"team", "macro"}}));
  EXPECT_TRUE(Ok(Call("GET", "model-versions/get?name=reg-tags&version=2"))["model_version"]["tags"].empty());

  // Aliases: set (POST), get-by-alias (GET), delete (DELETE) on registered-models/alias.
  EXPECT_EQ(Ok(Call("POST", "registered-models/alias", R"({"name":"reg-tags","alias":"champion","version":"1"})",
                    "modeler")),
            Json::object());
  Json byalias = Ok(Call("GET", "registered-models/alias?name=reg-tags&alias=champion"));
  ASSERT_EQ(byalias.size(), 1u) << byalias;
  EXPECT_EQ(byalias["model_version"]["version"], "1");
  EXPECT_EQ(byalias["model_version"]["aliases"], Json::array({"champion"}));
  Ok(Call("POST", "registered-models/alias", R"({"name":"reg-tags","alias":"champion","version":"2"})", "modeler"));
  Ok(Call("POST", "registered-models/alias", Json({{"name", "reg-tags"}, {"alias", sql}, {"version", "3"}}).dump(),
          "modeler"));
  EXPECT_EQ(Ok(Call("GET", "registered-models/alias?name=reg-tags&alias=champion", "", "viewer",
                    "/ajax-api/2.0/mlflow/"))["model_version"]["version"],
            "2");
  m = Ok(Call("GET", "registered-models/get?name=reg-tags"))["registered_model"];
  EXPECT_EQ(m["aliases"], Json::parse(R"([{"alias":"champion","version":"2"},{"alias":")" + sql +
                                      R"(","version":"3"}])"))
      << m;
  EXPECT_EQ(Ok(Call("GET", "model-versions/get?name=reg-tags&version=2"))["model_version"]["aliases"],
            Json::array({"champion"}));
  EXPECT_EQ(Ok(Call("GET", "model-versions/get?name=reg-tags&version=1"))["model_version"]["aliases"], Json::array());
  const size_t audit3 = AuditEntries();
  ExpectError(Call("POST", "registered-models/alias", R"({"name":"reg-tags","alias":"latest","version":"1"})", "modeler"),
              400, "INVALID_PARAMETER_VALUE");
  ExpectError(Call("POST", "registered-models/alias", R"({"name":"reg-tags","alias":"v2","version":"1"})", "modeler"),
              400, "INVALID_PARAMETER_VALUE");
  ExpectError(Call("POST", "registered-models/alias", R"({"name":"reg-tags","alias":"a","version":"9"})", "modeler"),
              404, "RESOURCE_DOES_NOT_EXIST");
  ExpectError(Call("POST", "registered-models/alias", R"({"name":"nope","alias":"a","version":"1"})", "modeler"), 404,
              "RESOURCE_DOES_NOT_EXIST");
  ExpectError(Call("POST", "registered-models/alias", R"({"name":"reg-tags","version":"1"})", "modeler"), 400,
              "INVALID_PARAMETER_VALUE");
  ExpectError(Call("POST", "registered-models/alias", R"({"name":"reg-tags","alias":"a","version":[1]})", "modeler"),
              400, "INVALID_PARAMETER_VALUE");
  ExpectError(Call("POST", "registered-models/alias", R"({"name":"reg-tags","alias":"a","version":"1"})", "analyst"),
              403, "PERMISSION_DENIED");
  ExpectError(Call("POST", "registered-models/alias", R"({"name":"reg-tags","alias":"a","version":"1"})", ""), 401,
              "UNAUTHENTICATED");
  ExpectError(Call("GET", "registered-models/alias?name=reg-tags&alias=nope"), 404, "RESOURCE_DOES_NOT_EXIST");
  ExpectError(Call("GET", "registered-models/alias?name=nope&alias=champion"), 404, "RESOURCE_DOES_NOT_EXIST");
  ExpectError(Call("GET", "registered-models/alias?name=reg-tags&alias=champion", "", ""), 401, "UNAUTHENTICATED");
  EXPECT_EQ(AuditEntries(), audit3);
  EXPECT_EQ(Ok(Call("DELETE", "registered-models/alias", Json({{"name", "reg-tags"}, {"alias", sql}}).dump(), "modeler")),
            Json::object());
  ExpectError(Call("GET", "registered-models/alias?name=reg-tags&alias=" + std::string("x%27%29%3B%20DROP%20TABLE%20model_tags%3B%20--")),
              404, "RESOURCE_DOES_NOT_EXIST");
  EXPECT_EQ(AuditEntries(), audit3 + 1);

  // model-versions/delete: version 3 (None, never approved) goes; its number is not given again.
  EXPECT_EQ(Ok(Call("DELETE", "model-versions/delete", R"({"name":"reg-tags","version":"3"})", "modeler")), Json::object());
  ExpectError(Call("GET", "model-versions/get?name=reg-tags&version=3"), 404, "RESOURCE_DOES_NOT_EXIST");
  ExpectError(Call("DELETE", "model-versions/delete", R"({"name":"reg-tags","version":"3"})", "modeler"), 404,
              "RESOURCE_DOES_NOT_EXIST");
  EXPECT_EQ(Ok(Call("GET", "model-versions/search?filter=name%3D%27reg-tags%27"))["model_versions"].size(), 2u);
  EXPECT_EQ(new_version("reg-tags", runs[3])["version"], "4");
  // Version 1 with a pending production request, then in Production: kept, nothing changed.
  Ok(Call("POST", "model-versions/transition-stage", R"({"name":"reg-tags","version":"1","stage":"Production"})",
          "modeler"));
  const size_t audit4 = AuditEntries();
  auto refused = Call("DELETE", "model-versions/delete", R"({"name":"reg-tags","version":"1"})", "modeler");
  ExpectError(refused, 400, "INVALID_PARAMETER_VALUE");
  EXPECT_THAT(refused.body, HasSubstr("waiting for approval"));
  ExpectError(Call("DELETE", "registered-models/delete", R"({"name":"reg-tags"})", "modeler"), 400,
              "INVALID_PARAMETER_VALUE");
  ExpectError(Call("POST", "registered-models/rename", R"({"name":"reg-tags","new_name":"reg-other"})", "modeler"), 400,
              "INVALID_PARAMETER_VALUE");
  ExpectError(Call("DELETE", "model-versions/delete", R"({"name":"reg-tags","version":"1"})", "viewer"), 403,
              "PERMISSION_DENIED");
  ExpectError(Call("DELETE", "model-versions/delete", R"({"name":"reg-tags","version":"2"})", ""), 401,
              "UNAUTHENTICATED");
  ExpectError(Call("DELETE", "registered-models/delete", R"({"name":"reg-tags"})", ""), 401, "UNAUTHENTICATED");
  ExpectError(Call("POST", "registered-models/rename", R"({"name":"reg-tags","new_name":"reg-x"})", ""), 401,
              "UNAUTHENTICATED");
  ExpectError(Call("POST", "registered-models/rename", R"({"name":"reg-tags","new_name":"reg-x"})", "viewer"), 403,
              "PERMISSION_DENIED");
  ExpectError(Call("POST", "model-versions/set-tag", R"({"name":"reg-tags","version":"2","key":"k","value":"v"})", ""),
              401, "UNAUTHENTICATED");
  ExpectError(Call("DELETE", "model-versions/delete-tag", R"({"name":"reg-tags","version":"2","key":"k"})", ""), 401,
              "UNAUTHENTICATED");
  ExpectError(Call("DELETE", "registered-models/alias", R"({"name":"reg-tags","alias":"champion"})", ""), 401,
              "UNAUTHENTICATED");
  ExpectError(Call("DELETE", "registered-models/alias", R"({"name":"reg-tags","alias":"champion"})", "analyst"), 403,
              "PERMISSION_DENIED");
  EXPECT_EQ(AuditEntries(), audit4);
  EXPECT_EQ(Ok(Call("GET", "registered-models/alias?name=reg-tags&alias=champion"))["model_version"]["version"], "2");
  EXPECT_EQ(Ok(Call("GET", "model-versions/get?name=reg-tags&version=2"))["model_version"]["current_stage"], "None");
  auto approve = HttpRequest(server_->port(), "POST", "/v1/models/reg-tags/versions/1/approve", R"({"reason":"ok"})",
                             Token("approver"));
  ASSERT_EQ(approve.status, 200) << approve.body;
  refused = Call("DELETE", "model-versions/delete", R"({"name":"reg-tags","version":"1"})", "modeler");
  ExpectError(refused, 400, "INVALID_PARAMETER_VALUE");
  EXPECT_THAT(refused.body, HasSubstr("Production"));
  EXPECT_EQ(Ok(Call("GET", "model-versions/get?name=reg-tags&version=1"))["model_version"]["current_stage"], "Production");

  // Rename and delete a model whose versions were never approved.
  Ok(Call("POST", "registered-models/create", R"({"name":"reg-draft","tags":[{"key":"k","value":"v"}]})", "modeler"));
  new_version("reg-draft", runs[4]);
  Ok(Call("POST", "registered-models/alias", R"({"name":"reg-draft","alias":"candidate","version":"1"})", "modeler"));
  ExpectError(Call("POST", "registered-models/rename", R"({"name":"reg-draft","new_name":"reg-tags"})", "modeler"), 400,
              "RESOURCE_ALREADY_EXISTS");
  ExpectError(Call("POST", "registered-models/rename", R"({"name":"reg-draft"})", "modeler"), 400,
              "INVALID_PARAMETER_VALUE");
  ExpectError(Call("POST", "registered-models/rename", Json({{"name", "reg-draft"}, {"new_name", sql}}).dump(), "modeler"),
              400, "INVALID_PARAMETER_VALUE");
  ExpectError(Call("POST", "registered-models/rename", R"({"name":"nope","new_name":"x"})", "modeler"), 404,
              "RESOURCE_DOES_NOT_EXIST");
  m = Ok(Call("POST", "registered-models/rename", R"({"name":"reg-draft","new_name":"reg-final"})", "modeler"))
          ["registered_model"];
  EXPECT_EQ(m["name"], "reg-final");
  ASSERT_EQ(m["latest_versions"].size(), 1u);
  EXPECT_EQ(m["latest_versions"][0]["name"], "reg-final");
  EXPECT_EQ(tag_map(m["tags"]), (std::map<std::string, std::string>{{"k", "v"}}));
  EXPECT_EQ(m["aliases"], Json::parse(R"([{"alias":"candidate","version":"1"}])"));
  ExpectError(Call("GET", "registered-models/get?name=reg-draft"), 404, "RESOURCE_DOES_NOT_EXIST");
  EXPECT_EQ(Ok(Call("GET", "registered-models/alias?name=reg-final&alias=candidate"))["model_version"]["run_id"], runs[4]);
  const size_t audit5 = AuditEntries();
  EXPECT_EQ(Ok(Call("DELETE", "registered-models/delete?name=reg-final", "", "modeler")), Json::object());
  EXPECT_EQ(AuditEntries(), audit5 + 1);
  ExpectError(Call("GET", "registered-models/get?name=reg-final"), 404, "RESOURCE_DOES_NOT_EXIST");
  ExpectError(Call("DELETE", "registered-models/delete", R"({"name":"reg-final"})", "modeler"), 404,
              "RESOURCE_DOES_NOT_EXIST");
  // The name is free again; the new model starts empty.
  m = Ok(Call("POST", "registered-models/create", R"({"name":"reg-final"})", "modeler"))["registered_model"];
  EXPECT_TRUE(m["tags"].empty());
  EXPECT_TRUE(m["aliases"].empty());
  // The deletions are in almanac's audit log with what was removed.
  auto audit = Cli({"audit", "export"});
  EXPECT_THAT(audit.out, HasSubstr("model.version.delete"));
  EXPECT_THAT(audit.out, HasSubstr("model.delete"));
  EXPECT_THAT(audit.out, HasSubstr("model.rename"));
  EXPECT_THAT(audit.out, HasSubstr(runs[4]));
}

}  // namespace
}  // namespace almanac::testing
