// POST /v1/risk/portfolio without a network (issue 24): the answer is risk::RunStressTest's
// report on the same inputs, returns from CSV text or from series of the store agree, roles,
// and every kind of bad input is a 400 naming the place with nothing stored.
#include <fstream>
#include <sstream>

#include "almanac/risk.h"
#include "serve/http_api.h"
#include "serve/openapi.h"
#include "serve/testing/serve_fixture.h"

namespace almanac::serve {
namespace {

using ::testing::HasSubstr;

std::string RiskTestFile(const std::string& relative) {
  std::ifstream f(std::string(ALMANAC_SOURCE_DIR) + "/" + relative, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::vector<std::string> RiskCsvCells(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream s(line);
  std::string cell;
  while (std::getline(s, cell, ',')) out.push_back(cell);
  return out;
}

class RiskApiTest : public testing::ServeFixture {
 protected:
  void SetUp() override {
    ServeFixture::SetUp();
    // The quick-start macro data (the worked example of docs/risk.md) and the example's asset
    // returns as series of the store too (ret:<asset>).
    IngestColumns(RiskTestFile("examples/data/us_macro_quarterly.csv"), {"us:tbilrate", "us:unemp", "us:infl"}, "");
    returns_csv_ = RiskTestFile("testdata/risk/portfolio/asset_returns.csv");
    IngestColumns(returns_csv_, {"us_equity", "us_treasury", "ig_credit", "eu_equity"}, "ret:");
    positions_csv_ = RiskTestFile("testdata/risk/portfolio/positions.csv");
    scenarios_yaml_ = RiskTestFile("testdata/risk/portfolio/scenarios.yaml");
    ASSERT_FALSE(returns_csv_.empty() || positions_csv_.empty() || scenarios_yaml_.empty());
    auth_ = std::make_unique<Authenticator>(store_->metadata());
    for (Role r : {Role::kViewer, Role::kAnalyst}) {
      auto t = CreateToken(store_->metadata(), clock_, r, std::string(RoleName(r)) + "-user", "", "admin");
      ASSERT_TRUE(t.ok());
      tokens_[r] = t->secret;
    }
    ASSERT_TRUE(auth_->Refresh().ok());
    ApiContext ctx;
    ctx.store = store_.get();
    ctx.models = &models_;
    ctx.auth = auth_.get();
    ctx.metrics = &metrics_;
    ctx.clock = &clock_;
    ctx.openapi_json = OpenApiDocument();
    ctx.artifacts = artifacts_.get();  // registered versions' packages (issue 24)
    api_ = std::make_unique<HttpApi>(ctx);
  }

  // Columns `names` of a CSV whose first column is a quarterly period, as series prefix+name.
  void IngestColumns(const std::string& csv, const std::vector<std::string>& names, const std::string& prefix) {
    std::stringstream s(csv);
    std::string line;
    std::getline(s, line);
    const auto header = RiskCsvCells(line);
    std::map<std::string, std::vector<double>> cols;
    std::optional<Period> start;
    while (std::getline(s, line)) {
      if (line.empty()) continue;
      const auto cells = RiskCsvCells(line);
      if (!start) start = *Period::Parse(cells[0], Frequency::kQuarterly);
      for (size_t c = 1; c < header.size(); ++c) cols[header[c]].push_back(std::stod(cells[c]));
    }
    for (const auto& n : names) {
      ASSERT_TRUE(cols.count(n)) << n;
      Ingest(prefix + n, cols[n], "2010-01-15", *start);
    }
  }

  HttpResponse Call(const std::string& body, std::optional<Role> role = Role::kAnalyst,
                    const std::string& target = "/v1/risk/portfolio") {
    HttpRequest req;
    req.method = "POST";
    req.target = target;
    req.body = body;
    const std::string auth = role ? "Bearer " + tokens_[*role] : "";
    req.authorization = auth;
    req.request_id = "req-risk";
    return testing::HandleAsTransport(*api_, req);
  }

  // The worked example's request with `extra` members (", ..." JSON text) and `returns`.
  std::string Request(const std::string& extra = "", const std::string& returns = "") const {
    Json j = {{"positions", positions_csv_},
              {"fx", {{"EUR", 1.08}}},
              {"scenarios", scenarios_yaml_},
              {"factors", {"us:tbilrate", "us:unemp"}},
              {"factor_changes", true},
              {"paths", 400},
              {"seed", 7}};
    if (returns.empty())
      j["returns"] = returns_csv_;
    else
      j["return_series"] = *ParseJson(returns);
    std::string text = j.dump();
    if (!extra.empty()) text = text.substr(0, text.size() - 1) + "," + extra + "}";
    return text;
  }

  std::string returns_csv_, positions_csv_, scenarios_yaml_;
  std::unique_ptr<Authenticator> auth_;
  monitor::MetricRegistry metrics_;
  std::unique_ptr<HttpApi> api_;
  std::map<Role, std::string> tokens_;
};

TEST_F(RiskApiTest, AnswerIsTheStressTestOfTheSameInputs) {
  auto r = Call(Request());
  ASSERT_EQ(r.status, 200) << r.body.substr(0, 500);
  Json got = *ParseJson(r.body);
  EXPECT_EQ(got["request_id"], "req-risk");
  EXPECT_EQ(got["settings"]["paths"], 400);
  EXPECT_EQ(got["settings"]["seed"], 7);
  EXPECT_EQ(got["inputs"]["positions"]["sha256"], Sha256Hex(positions_csv_));
  EXPECT_EQ(got["inputs"]["returns"]["sha256"], Sha256Hex(returns_csv_));
  EXPECT_EQ(got["inputs"]["scenarios"]["sha256"], Sha256Hex(scenarios_yaml_));

  // The library call on the same inputs, as `almanac risk portfolio` makes it.
  risk::StressTestRequest want;
  const std::vector<std::string> keys = {"us:tbilrate", "us:unemp", "us:infl"};
  std::vector<TimeSeries> series;
  for (const auto& k : keys) series.push_back(store_->series().ReadAsOf(k, std::nullopt)->Trimmed());
  want.data = *models::AlignSeries(keys, series);
  want.positions = *risk::ParsePositions(positions_csv_, "positions");
  want.fx = *risk::ParseFxRates("currency,rate\nEUR,1.08\n", "fx", "USD");
  want.returns = *risk::ParseAssetReturns(returns_csv_, "returns");
  want.scenarios = *models::ParseScenarios(scenarios_yaml_, "scenarios");
  want.model = {"var", want.scenarios->model_params};
  want.horizon = *want.scenarios->horizon;
  want.factors = {"us:tbilrate", "us:unemp"};
  want.factor_changes = true;
  want.num_paths = 400;
  want.risk.seed = 7;
  want.risk.threads = 2;  // the result does not depend on the thread count
  auto result = risk::RunStressTest(want);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  const Json direct = risk::StressTestJson(*result);
  for (auto it = direct.begin(); it != direct.end(); ++it) EXPECT_EQ(got[it.key()], it.value()) << it.key();
  ASSERT_EQ(got["scenarios"].size(), 3u);
  EXPECT_EQ(got["scenarios"][2]["scenario"], "severely_adverse");

  // The same returns read from the store give the same answer as the CSV with its columns in
  // the assets' name order (the order of return_series; the random numbers of an asset
  // depend on its index, so the order matters).
  auto s = Call(Request("", R"({"us_equity":"ret:us_equity","us_treasury":"ret:us_treasury",
                                "ig_credit":"ret:ig_credit","eu_equity":"ret:eu_equity"})"));
  ASSERT_EQ(s.status, 200) << s.body.substr(0, 500);
  Json from_store = *ParseJson(s.body);
  std::string sorted_csv;
  {
    std::stringstream in(returns_csv_);
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      const auto c = RiskCsvCells(line);  // period,us_equity,us_treasury,ig_credit,eu_equity
      ASSERT_EQ(c.size(), 5u) << line;
      sorted_csv += c[0] + "," + c[4] + "," + c[3] + "," + c[1] + "," + c[2] + "\n";
    }
  }
  Json sorted_request = *ParseJson(Request());
  sorted_request["returns"] = sorted_csv;
  auto sorted = Call(sorted_request.dump());
  ASSERT_EQ(sorted.status, 200) << sorted.body.substr(0, 500);
  Json from_csv = *ParseJson(sorted.body);
  for (const char* key : {"scenarios", "factor_model", "historical", "positions"})
    EXPECT_EQ(from_store[key], from_csv[key]) << key;
  EXPECT_EQ(from_store["factor_model"]["assets"][0]["asset"], "eu_equity");

  // Positions as JSON and a scenario subset.
  auto p = Call(Request(R"("only":["adverse"],"levels":[0.975])"));
  ASSERT_EQ(p.status, 200) << p.body.substr(0, 500);
  Json sub = *ParseJson(p.body);
  ASSERT_EQ(sub["scenarios"].size(), 1u);
  EXPECT_EQ(sub["scenarios"][0]["scenario"], "adverse");
  EXPECT_EQ(sub["settings"]["levels"], Json::array({0.975}));
}

// Issue 24: a registered var simulates the same paths as the refit with the same seed; the
// package's SHA-256 is in the inputs; unknown and univariate versions are 404 and 409.
TEST_F(RiskApiTest, ARegisteredVarGivesTheReportOfTheRefit) {
  const int64_t v = RegisterVar("macro", {"us:tbilrate", "us:unemp", "us:infl"}, "2010-02-01");
  ASSERT_EQ(v, 1);
  auto refit = Call(Request());
  ASSERT_EQ(refit.status, 200) << refit.body.substr(0, 500);
  auto registered = Call(Request(R"("registered_model":"macro@1")"));
  ASSERT_EQ(registered.status, 200) << registered.body.substr(0, 500);
  const Json a = *ParseJson(refit.body), b = *ParseJson(registered.body);
  for (const char* key : {"scenarios", "macro_model", "factor_model", "historical", "positions"})
    EXPECT_EQ(a[key], b[key]) << key;
  ASSERT_OK_AND_ASSIGN(auto version, registry_->Resolve("macro", "1"));
  EXPECT_EQ(b["inputs"]["registered_model"], (Json{{"version", "macro@1"}, {"sha256", version.artifact_sha256}}));
  EXPECT_FALSE(a["inputs"].contains("registered_model"));
  // "model": "NAME@VERSION" is the same; the series default to the version's variables.
  Json by_model = *ParseJson(Request(R"("model":"macro@latest")"));
  by_model.erase("scenarios");
  auto latest = Call(by_model.dump());
  ASSERT_EQ(latest.status, 200) << latest.body.substr(0, 500);
  const Json c = *ParseJson(latest.body);
  EXPECT_EQ(c["inputs"]["series"], Json::array({"us:tbilrate", "us:unemp", "us:infl"}));
  EXPECT_EQ(c["scenarios"][0]["horizons"][0], a["scenarios"][0]["horizons"][0]);  // baseline = unconditional

  const auto versions_before = registry_->ListVersions("macro");
  ASSERT_TRUE(versions_before.ok());
  const auto series_before = store_->series().ListSeries();
  ASSERT_TRUE(series_before.ok());
  Ingest("us:gdp", Growth(40), "2010-01-15");
  Register("gdp", "naive", "us:gdp", "2010-02-01");
  struct Bad {
    std::string extra;
    int status;
    std::string message;
  };
  for (const Bad& bad : std::vector<Bad>{
           {R"("registered_model":"nosuch@1")", 404, "nosuch"},
           {R"("registered_model":"macro@9")", 404, "macro@9"},
           {R"("registered_model":"gdp@1")", 409, "gdp@1 is a naive model (univariate)"},
           {R"("registered_model":"macro")", 400, "NAME@VERSION"},
           {R"("registered_model":"macro@1","params":{"lags":3})", 400, "does not apply to the registered model"},
           {R"("registered_model":"macro@1","model":"var")", 400, "give one of 'model'"},
       }) {
    auto r = Call(Request(bad.extra));
    EXPECT_EQ(r.status, bad.status) << bad.extra << ": " << r.body;
    EXPECT_THAT(r.body, HasSubstr(bad.message)) << bad.extra;
  }
  auto after = registry_->ListVersions("macro");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->size(), versions_before->size());  // nothing registered or stored by a request
  EXPECT_EQ(store_->series().ListSeries()->size(), series_before->size() + 1);  // us:gdp, ingested above
}

TEST_F(RiskApiTest, RolesAndAuth) {
  EXPECT_EQ(Call(Request(), std::nullopt).status, 401);
  EXPECT_EQ(Call(Request(), Role::kViewer).status, 403);
}

TEST_F(RiskApiTest, BadInputsNameThePlaceAndStoreNothing) {
  const auto before = store_->series().ListSeries();
  ASSERT_TRUE(before.ok());
  struct Bad {
    std::string body;
    int status;
    std::string message;
  };
  auto with = [&](const std::string& key, const Json& value) {
    Json j = *ParseJson(Request());
    j[key] = value;
    return j.dump();
  };
  auto without = [&](const std::string& key) {
    Json j = *ParseJson(Request());
    j.erase(key);
    return j.dump();
  };
  std::string short_returns = "period,us_equity,us_treasury,ig_credit,eu_equity\n";
  for (const char* q : {"2009Q1", "2009Q2", "2009Q3"}) short_returns += std::string(q) + ",0.01,0.02,0.03,0.04\n";
  const Bad cases[] = {
      {"", 400, "must be a JSON object"},
      {without("positions"), 400, "missing field 'positions'"},
      {with("positions", Json::array({{{"asset", "gold"}, {"exposure", 5}}})), 400, "position 'gold'"},
      {with("positions", "asset,exposure\nus_equity,10\nus_equity,20\n"), 400, "positions:3: duplicated position"},
      {with("positions", Json::array({{{"asset", "us_equity"}, {"exposure", "ten"}}})), 400,
       "positions position 1: exposure 'ten' is not a finite number"},
      {with("positions", "asset,exposure\nus_equity,ten\n"), 400, "positions:2: exposure 'ten' is not a finite number"},
      {with("positions", 5), 400, "field 'positions' must be"},
      {with("scenarios", "horizon: 8\nseries: [us:tbilrate, us:unemp, us:infl]\nscenarios:\n  s:\n    paths:\n"
                         "      us:gdp: [1, 2, 3, 4, 5, 6, 7, 8]\n"),
       400, "scenarios.s.paths.us:gdp: unknown variable"},
      {with("scenarios", "horizon: 8\nseries: [us:tbilrate, us:unemp, us:infl]\nscenarios:\n  s:\n    paths:\n"
                         "      us:unemp: [1, 2, 3]\n"),
       400, "scenarios:6: scenarios.s.paths.us:unemp: the path has 3 values but the horizon is 8"},
      {with("returns", short_returns), 400, "asset 'us_equity': factor model: too few observations"},
      {with("returns", "period,us_equity\n2000Q1,abc\n"), 400, "returns:2, column 'us_equity'"},
      {with("paths", 1000000), 400, "field 'paths' must be an integer in 2..100000"},
      {with("paths", 100000), 400, "too large: 3 scenario(s) x 100000 paths x horizon 8 is over 800000"},
      {with("paths", "many"), 400, "field 'paths' must be an integer"},
      {with("levels", Json::array({99})), 400, "levels[0] must be a confidence level in (0, 1)"},
      {with("fx", Json{{"EUR", "high"}}), 400, "fx.EUR must be a number"},
      {with("fx", "currency,rate\nEUR,-1\n"), 400, "fx:2: rate '-1'"},
      {with("return_series", Json{{"us_equity", "ret:us_equity"}}), 400, "exactly one of 'returns'"},
      {without("returns"), 400, "exactly one of 'returns'"},
      {with("model", "arima"), 400, "cannot run a stress test"},
      {with("params", Json{{"lags", 40}}), 400, "params.lags is at most 12"},
      {with("factors", Json::array({"us:gdp"})), 400, "factor 'us:gdp' is not a variable of the macro model"},
      {with("series", Json::array({"us:tbilrate", "us:nope"})), 404, "us:nope"},
      {with("as_of", "2099-01-01"), 400, "in the future"},
      {with("seed", -1), 400, "field 'seed' must be an integer"},
      {with("pathz", 3), 400, "unknown field 'pathz'"},
  };
  for (const auto& c : cases) {
    auto r = Call(c.body);
    EXPECT_EQ(r.status, c.status) << c.message << " -> " << r.body.substr(0, 400);
    auto j = ParseJson(r.body);
    ASSERT_TRUE(j.ok()) << r.body;
    EXPECT_THAT(j->value("message", ""), HasSubstr(c.message)) << c.body.substr(0, 200);
    EXPECT_EQ((*j)["request_id"], "req-risk");
  }
  const auto after = store_->series().ListSeries();
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->size(), before->size());
}

// ------------------------------------------------------------- POST /v1/risk/var-backtest

class RiskVarBacktestApiTest : public RiskApiTest {
 protected:
  void SetUp() override {
    RiskApiTest::SetUp();
    // The worked example's vintages (first releases one month after each quarter) as vin:*.
    auto load = store_->series().BeginLoad({.loader = "test", .source = "test"});
    ASSERT_TRUE(load.ok());
    std::stringstream in(RiskTestFile("testdata/risk/portfolio/macro_vintages.csv"));
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
      const auto c = RiskCsvCells(line);
      ASSERT_EQ(c.size(), 4u) << line;
      ASSERT_TRUE((*load)->Add("vin:" + c[0].substr(3), *Period::Parse(c[1]), std::stod(c[2]), *Date::Parse(c[3])).ok());
    }
    ASSERT_TRUE((*load)->Commit().ok());
  }
  Json Body() const {
    return {{"positions", positions_csv_}, {"returns", returns_csv_}, {"fx", {{"EUR", 1.08}}},
            {"series", {"vin:tbilrate", "vin:unemp", "vin:infl"}}, {"factors", {"vin:tbilrate", "vin:unemp"}},
            {"factor_changes", true}, {"paths", 200}, {"seed", 7}, {"from", "2008Q1"}, {"to", "2008Q4"},
            {"level", 0.95}};
  }
  HttpResponse Backtest(const Json& body, std::optional<Role> role = Role::kAnalyst) {
    return Call(body.dump(), role, "/v1/risk/var-backtest");
  }
};

TEST_F(RiskVarBacktestApiTest, AnswerIsTheAsOfBacktestOfTheSameInputs) {
  auto r = Backtest(Body());
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_OK_AND_ASSIGN(Json j, ParseJson(r.body));
  EXPECT_EQ(j["request_id"], "req-risk");
  ASSERT_EQ(j["points"].size(), 4u);
  EXPECT_EQ(j["points"][0]["as_of"], "2008-04-01");
  EXPECT_EQ(j["points"][0]["target"], "2008Q1");
  EXPECT_EQ(j["backtest"]["observations"], 4);
  EXPECT_EQ(j["inputs"]["positions"]["sha256"], Sha256Hex(positions_csv_));

  // The library on the same inputs, the vintages read the same way.
  risk::AsOfBacktestRequest bt;
  bt.base.positions = *risk::ParsePositions(positions_csv_, "positions");
  bt.base.fx = *risk::ParseFxRates("currency,rate\nEUR,1.08\n", "fx", "USD");
  bt.base.returns = *risk::ParseAssetReturns(returns_csv_, "returns");
  bt.base.model = {"var", Json::object()};  // the route's default, as the command's
  bt.base.factors = {"vin:tbilrate", "vin:unemp"};
  bt.base.factor_changes = true;
  bt.base.num_paths = 200;
  bt.base.risk.seed = 7;
  bt.base.risk.threads = 1;
  bt.base.risk.levels = {0.95};
  bt.level = 0.95;
  for (int i = 0; i < 4; ++i) bt.origins.push_back(*Period::Parse("2008Q1") + i);
  const std::vector<std::string> keys = {"vin:tbilrate", "vin:unemp", "vin:infl"};
  bt.data_as_of = [&](Date d) -> Result<models::MultiInput> {
    std::vector<TimeSeries> series;
    for (const auto& k : keys) series.push_back(store_->series().ReadAsOf(k, d)->Trimmed());
    return models::AlignSeries(keys, series);
  };
  ASSERT_OK_AND_ASSIGN(risk::AsOfBacktestResult want, risk::BacktestPortfolioAsOf(bt));
  ASSERT_EQ(want.points.size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(j["points"][i]["var"].get<double>(), want.points[i].var) << i;
    EXPECT_EQ(j["points"][i]["pnl"].get<double>(), want.points[i].pnl) << i;
  }
  EXPECT_EQ(j["backtest"]["kupiec_p"].get<double>(), want.backtest.kupiec.p_value);
  EXPECT_EQ(j["backtest"]["zone"], std::string(risk::TrafficLightName(want.backtest.zone)));

  // Returns from series of the store give the same answer as the same returns as CSV.
  Json from_store = Body();
  from_store.erase("returns");
  from_store["return_series"] = {{"us_equity", "ret:us_equity"}, {"us_treasury", "ret:us_treasury"},
                                 {"ig_credit", "ret:ig_credit"}, {"eu_equity", "ret:eu_equity"}};
  auto s = Backtest(from_store);
  ASSERT_EQ(s.status, 200) << s.body;
  ASSERT_OK_AND_ASSIGN(Json js, ParseJson(s.body));
  EXPECT_EQ(js["backtest"]["observations"], 4);
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(js["points"][i]["pnl"].get<double>(), want.points[i].pnl) << i;
}

TEST_F(RiskVarBacktestApiTest, RolesBadInputsAndNothingStored) {
  EXPECT_EQ(Backtest(Body(), std::nullopt).status, 401);
  EXPECT_EQ(Backtest(Body(), Role::kViewer).status, 403);
  const auto before = store_->series().ListSeries();
  ASSERT_TRUE(before.ok());
  const auto audit_before = store_->metadata().AuditHead();
  ASSERT_TRUE(audit_before.ok());
  struct Bad {
    std::string key;
    Json value;  // null: remove the key
    int status;
    std::string message;
  };
  const Bad cases[] = {
      {"from", nullptr, 400, "missing field 'from'"},
      {"to", "2007Q4", 400, "field 'to' (2007Q4) is before 'from' (2008Q1)"},
      {"to", "2008-12", 400, "one frequency"},
      {"to", "2030Q1", 400, "in the future (today is 2025-01-01)"},
      {"from", "2008Q5", 400, "field 'from'"},
      {"level", 95, 400, "field 'level' must be in 0..1"},
      {"level", "high", 400, "field 'level' must be a number"},
      {"paths", 1000000, 400, "field 'paths' must be an integer in 2..100000"},
      {"series", nullptr, 400, "missing field 'series'"},
      {"series", Json::array({"vin:tbilrate", "vin:nope"}), 404, "vin:nope"},
      {"series", Json::array({"vin:tbilrate", "vin:tbilrate"}), 400, "series[1]: 'vin:tbilrate' is named twice"},
      {"positions", Json::array({{{"asset", "gold"}, {"exposure", 5}}}), 400, "position 'gold'"},
      {"positions", "asset,exposure\nus_equity,nan\n", 400, "positions:2: exposure 'nan'"},
      {"positions", "asset,exposure\nus_equity,1\nus_equity,2\n", 400, "positions:3: duplicated position"},
      {"returns", "period,us_equity\n2000Q1,abc\n", 400, "returns:2, column 'us_equity'"},
      {"return_series", Json{{"us_equity", "ret:nope"}}, 400, "exactly one of 'returns'"},
      {"factors", Json::array({"us:gdp"}), 400, "origin 2008Q1"},
      {"model", "ets", 400, "cannot run a stress test"},
      {"seed", "seven", 400, "field 'seed' must be an integer"},
      {"scenarios", "x", 400, "unknown field 'scenarios'"},
  };
  for (const auto& c : cases) {
    Json body = Body();
    if (c.value.is_null()) body.erase(c.key);
    else body[c.key] = c.value;
    auto r = Backtest(body);
    EXPECT_EQ(r.status, c.status) << c.key << " -> " << r.body.substr(0, 400);
    auto j = ParseJson(r.body);
    ASSERT_TRUE(j.ok()) << r.body;
    EXPECT_THAT(j->value("message", ""), HasSubstr(c.message)) << c.key;
  }
  // Origins x paths are bounded.
  Json large = Body();
  large["from"] = "1990Q1";
  large["paths"] = 100000;
  auto too_large = Backtest(large);
  EXPECT_EQ(too_large.status, 400);
  EXPECT_THAT(too_large.body, HasSubstr("too large: 76 origin(s) x 100000 paths is over 800000"));
  // Unknown return series: a 404 naming it.
  Json unknown = Body();
  unknown.erase("returns");
  unknown["return_series"] = {{"us_equity", "ret:nope"}};
  auto r = Backtest(unknown);
  EXPECT_EQ(r.status, 404) << r.body;
  EXPECT_THAT(r.body, HasSubstr("return_series.us_equity"));
  const auto after = store_->series().ListSeries();
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->size(), before->size());
  const auto audit_after = store_->metadata().AuditHead();
  ASSERT_TRUE(audit_after.ok());
  EXPECT_EQ(audit_after->first, audit_before->first);  // nothing audited (as /v1/risk/portfolio)
}

}  // namespace
}  // namespace almanac::serve
