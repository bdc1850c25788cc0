// End-to-end tests of issue 24's tracked risk (in multi_cli_test): the sample risk pipeline
// run and reproduced through `almanac run` / `almanac reproduce`, `risk portfolio
// --experiment` recording a run, and asset returns read from series of the workspace.
#include <algorithm>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "almanac/core.h"
#include "almanac/core/hash.h"
#include "almanac/core/json.h"
#include "integration/cli_runner.h"

namespace almanac::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::string kRisk = std::string(ALMANAC_SOURCE_DIR) + "/testdata/risk/";
const std::string kBook = kRisk + "portfolio/";

class RiskTrackingCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ws_ = dir_ / "ws";
    ASSERT_EQ(Run({"init"}).exit_code, 0);
    // The worked example's macro data with their (made-up) first-release dates.
    auto r = Run({"ingest", kBook + "macro_vintages.csv"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  CommandResult Run(std::vector<std::string> args, const std::string& user = "alice") {
    args.insert(args.begin(), {"--workspace", ws_, "--user", user});
    return RunAlmanac(args);
  }
  // The run id printed after "run " (almanac run) or "run: " (risk ... --experiment).
  static std::string RunIdAfter(const std::string& out, const std::string& marker) {
    const size_t at = out.find(marker);
    if (at == std::string::npos) return "";
    return out.substr(at + marker.size(), 17);
  }
  Json ShowRun(const std::string& id) {
    auto shown = Run({"runs", "show", id, "--format", "json"});
    EXPECT_EQ(shown.exit_code, 0) << shown.err;
    auto j = ParseJson(shown.out);
    EXPECT_TRUE(j.ok()) << shown.out;
    return j.ok() ? *j : Json();
  }
  int RunCount() {
    auto list = Run({"runs", "list", "--format", "json"});
    auto j = ParseJson(list.out);
    return j.ok() && j->is_array() ? static_cast<int>(j->size()) : -1;
  }
  std::vector<std::string> PortfolioArgs(std::vector<std::string> extra) {
    std::vector<std::string> args = {"risk", "portfolio", "--as-of", "2010-01-15", "--positions", kBook + "positions.csv",
                                      "--fx", kBook + "fx.csv", "--scenarios", kBook + "scenarios.yaml",
                                      "--factors", "us:tbilrate,us:unemp", "--factor-changes", "--paths", "400",
                                      "--seed", "7"};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }

  TempDir dir_;
  std::string ws_;
};

TEST_F(RiskTrackingCliTest, Issue24SamplePipelineRunsCachesAndReproducesByteForByte) {
  const std::string pipeline = kRisk + "pipeline.yaml";
  auto r = Run({"run", pipeline});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("risk"));
  EXPECT_THAT(r.out, HasSubstr("3 scenario(s) x 2000 paths, horizon 8"));
  EXPECT_THAT(r.out, HasSubstr("var_backtest"));
  EXPECT_THAT(r.out, HasSubstr("no forecasting model"));
  const std::string id = RunIdAfter(r.out, "\nrun ");
  ASSERT_EQ(id.size(), 17u) << r.out;
  const Json run = ShowRun(id);
  EXPECT_EQ(run["params"]["risk.positions.sha256"], Sha256Hex(ReadFile(kBook + "positions.csv")));
  EXPECT_EQ(run["params"]["risk.scenarios.sha256"], Sha256Hex(ReadFile(kBook + "scenarios.yaml")));
  EXPECT_EQ(run["params"]["risk.returns.sha256"], Sha256Hex(ReadFile(kBook + "asset_returns.csv")));
  EXPECT_TRUE(run["metrics"].contains("risk.severely_adverse.h8.es99")) << run["metrics"].dump();
  EXPECT_TRUE(run["metrics"].contains("var_backtest.kupiec_p"));
  std::string artifacts = run["artifacts"].dump();
  for (const char* a : {"risk.json", "risk.quantiles.csv", "var_backtest.json", "input.risk.positions"})
    EXPECT_THAT(artifacts, HasSubstr(a));

  // Again: both risk steps come from the cache.
  auto again = Run({"run", pipeline, "--format", "csv"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.out, HasSubstr("risk,cached"));
  EXPECT_THAT(again.out, HasSubstr("var_backtest,cached"));

  // Reproduction recomputes every step from the stored inputs: byte for byte.
  auto rep = Run({"reproduce", id}, "auditor");
  EXPECT_EQ(rep.exit_code, 0) << rep.out << rep.err;
  EXPECT_THAT(rep.out, HasSubstr("every artifact is byte-identical"));
  EXPECT_THAT(rep.out, HasSubstr("risk.json"));
  EXPECT_THAT(rep.out, Not(HasSubstr("false")));
}

// Issue 24: the sample simulate pipeline stores the macro paths (paths.f32) with their content
// id as a param; `almanac risk simulate` with the same data, scenarios and seed writes the
// same bytes; cached and reproduced; bad input is refused with nothing written.
TEST_F(RiskTrackingCliTest, Issue24SimulateStepAndCliStoreTheSamePaths) {
  const std::string pipeline = kRisk + "simulate.yaml";
  auto r = Run({"run", pipeline});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("3 scenario(s) x 500 paths x 8 periods x 3 variables; paths.f32"));
  const std::string id = RunIdAfter(r.out, "\nrun ");
  ASSERT_EQ(id.size(), 17u) << r.out;
  const Json run = ShowRun(id);
  const std::string paths_sha = run["params"].value("simulate.paths.sha256", "");
  ASSERT_EQ(paths_sha.size(), 64u) << run["params"].dump();
  EXPECT_EQ(run["params"]["simulate.scenarios.sha256"], Sha256Hex(ReadFile(kBook + "scenarios.yaml")));
  EXPECT_TRUE(run["metrics"].contains("simulate.severely_adverse.us:unemp.p50")) << run["metrics"].dump();
  const std::string artifacts = run["artifacts"].dump();
  for (const char* a : {"paths.f32", "paths.summary.json", "input.simulate.scenarios", paths_sha.c_str()})
    EXPECT_THAT(artifacts, HasSubstr(a));

  // The command line: the same bytes, and the summary.
  r = Run({"--quiet", "risk", "simulate", "--as-of", "2010-01-15", "--scenarios", kBook + "scenarios.yaml", "--paths",
           "500", "--seed", "7", "-o", dir_ / "paths.f32", "--summary", dir_ / "summary.json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Sha256Hex(ReadFile(dir_ / "paths.f32")), paths_sha);
  EXPECT_THAT(r.out, HasSubstr("severely_adverse  us:unemp"));
  auto summary = ParseJson(ReadFile(dir_ / "summary.json"));
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ((*summary)["paths_file"]["sha256"], paths_sha);
  EXPECT_EQ((*summary)["scenarios"][2]["variables"][1]["periods"][7]["p50"], 12.5);  // conditioned on the scenario

  // Again: from the cache; reproduced byte for byte.
  auto again = Run({"run", pipeline, "--format", "csv"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.out, HasSubstr("simulate,cached"));
  auto rep = Run({"reproduce", id}, "auditor");
  EXPECT_EQ(rep.exit_code, 0) << rep.out << rep.err;
  EXPECT_THAT(rep.out, HasSubstr("every artifact is byte-identical"));
  EXPECT_THAT(rep.out, HasSubstr("paths.f32"));

  // Bad input: a clear error and no file.
  WriteFile(dir_ / "bad.yaml", "horizon: 8\nseries: [us:tbilrate, us:unemp, us:infl]\nscenarios:\n  x:\n    paths:\n"
                               "      us:gdp: [1, 2, 3, 4, 5, 6, 7, 8]\n");
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"--paths", "1000000"}, "exceed the cap of 33554432 values (128 MiB); at most 466033 paths"},
      {{"--seed", "-3"}, "--seed must be a non-negative integer"},
      {{"-H", "0"}, "horizon must be at least 1, got 0"},
      {{"-H", "4"}, "scenarios.yaml:13: scenarios.adverse.paths.us:unemp: the path has 8 values but the horizon is 4"},
      {{"--scenarios", dir_ / "bad.yaml"}, "bad.yaml:6"},
      {{"--only", "mild"}, "no scenario named 'mild'"},
      {{"--scenarios", dir_ / "none.yaml"}, "--scenarios: cannot read"},
      {{"--model-file", dir_ / "none.json"}, "--model-file: cannot read"},
      {{"--model-file", dir_ / "bad.yaml"}, "(expected a var or bvar saved by almanac var --save)"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args = {"risk", "simulate", "--as-of", "2010-01-15", "-o", dir_ / "x.f32"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    // The defaults of the case, where it does not set them.
    for (const auto& [option, value] : std::vector<std::pair<std::string, std::string>>{
             {"--scenarios", kBook + "scenarios.yaml"}, {"--paths", "50"}, {"--seed", "7"}})
      if (std::find(c.args.begin(), c.args.end(), option) == c.args.end()) args.insert(args.end(), {option, value});
    auto bad = Run(args);
    EXPECT_NE(bad.exit_code, 0) << c.message;
    EXPECT_THAT(bad.err, HasSubstr(c.message));
    EXPECT_FALSE(std::filesystem::exists(dir_ / "x.f32")) << c.message;
    std::filesystem::remove(dir_ / "x.f32");
  }
}

TEST_F(RiskTrackingCliTest, Issue24PipelineFileNamesStayInsideItsFolder) {
  const std::string p = (dir_ / "p.yaml");
  std::string text = ReadFile(kRisk + "pipeline.yaml");
  text.replace(text.find("portfolio/positions.csv"), 23, "../../etc/passwd");
  WriteFile(p, text);
  auto r = Run({"run", p});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("risk.positions: file '../../etc/passwd' must not leave the pipeline file's folder"));
  EXPECT_EQ(RunCount(), 0);
}

TEST_F(RiskTrackingCliTest, Issue24PortfolioWithExperimentRecordsATrackedRun) {
  // Without --experiment nothing is recorded.
  auto plain = Run(PortfolioArgs({"us:tbilrate", "us:unemp", "us:infl", "--returns", kBook + "asset_returns.csv",
                                  "--format", "json"}));
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(RunCount(), 0);

  auto r = Run(PortfolioArgs({"us:tbilrate", "us:unemp", "us:infl", "--returns", kBook + "asset_returns.csv",
                              "--experiment", "book-stress"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string id = RunIdAfter(r.out, "run: ");
  ASSERT_EQ(id.size(), 17u) << r.out;
  const Json run = ShowRun(id);
  EXPECT_EQ(run["experiment"], "book-stress");
  EXPECT_EQ(run["status"], "finished");
  EXPECT_EQ(run["params"]["command"], "risk portfolio");
  EXPECT_EQ(run["params"]["positions.sha256"], Sha256Hex(ReadFile(kBook + "positions.csv")));
  EXPECT_EQ(run["params"]["returns.sha256"], Sha256Hex(ReadFile(kBook + "asset_returns.csv")));
  EXPECT_EQ(run["params"]["scenarios.sha256"], Sha256Hex(ReadFile(kBook + "scenarios.yaml")));
  EXPECT_EQ(run["params"]["settings.paths"], "400");
  // The metrics are the report's Monte Carlo figures.
  const Json report = ParseJson(plain.out).value();
  for (const auto& f : report["scenarios"][2]["horizons"][7]["figures"])
    if (f["method"] == "monte_carlo" && f["level"] == 0.99) {
      EXPECT_EQ(run["metrics"]["risk.severely_adverse.h8.es99"].get<double>(), f["es"].get<double>());
    }
  ASSERT_EQ(run["artifacts"].size(), 1u);
  EXPECT_EQ(run["artifacts"][0]["name"], "runs/" + id + "/risk_report.json");

  // Bad input with --experiment: an error naming the place, and no run.
  const std::string bad = (dir_ / "bad.csv");
  WriteFile(bad, "id,asset,exposure\neq,gold,10\n");
  auto b = Run({"risk", "portfolio", "us:tbilrate", "us:unemp", "--positions", bad, "--returns",
                kBook + "asset_returns.csv", "--paths", "50", "--experiment", "book-stress"});
  EXPECT_NE(b.exit_code, 0);
  EXPECT_THAT(b.err, HasSubstr("position 'eq' (line 2)"));
  auto bad_name = Run(PortfolioArgs({"us:tbilrate", "us:unemp", "us:infl", "--returns", kBook + "asset_returns.csv",
                                     "--experiment", "a b"}));
  EXPECT_NE(bad_name.exit_code, 0);
  EXPECT_THAT(bad_name.err, HasSubstr("--experiment"));
  EXPECT_EQ(RunCount(), 1);

  // var-backtest --experiment records its backtest too.
  auto vb = Run({"risk", "var-backtest", "us:tbilrate", "us:unemp", "us:infl", "--positions", kBook + "positions.csv",
                 "--returns", kBook + "asset_returns.csv", "--fx", kBook + "fx.csv", "--factors", "us:tbilrate,us:unemp",
                 "--factor-changes", "--paths", "200", "--from", "2008Q1", "--to", "2008Q4", "--level", "0.95",
                 "--experiment", "book-backtest"});
  ASSERT_EQ(vb.exit_code, 0) << vb.err;
  const Json bt = ShowRun(RunIdAfter(vb.out, "run: "));
  EXPECT_EQ(bt["params"]["command"], "risk var-backtest");
  EXPECT_EQ(bt["metrics"]["var_backtest.observations"].get<double>(), 4);
}

TEST_F(RiskTrackingCliTest, Issue24AssetReturnsFromSeriesOfTheWorkspace) {
  // The example's returns as series ret:<asset> (long form, known from 2010-01-10).
  std::istringstream in(ReadFile(kBook + "asset_returns.csv"));
  std::string line, header;
  std::getline(in, header);
  std::vector<std::string> assets;
  {
    std::stringstream h(header);
    std::string c;
    std::getline(h, c, ',');
    while (std::getline(h, c, ',')) assets.push_back(c);
  }
  std::string long_form = "series,period,value,realtime_start\n";
  std::string short_form = long_form;
  int row = 0;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::stringstream l(line);
    std::string period, v;
    std::getline(l, period, ',');
    for (size_t a = 0; std::getline(l, v, ','); ++a) {
      long_form += "ret:" + assets[a] + "," + period + "," + v + ",2010-01-10\n";
      if (row < 2) short_form += "few:" + assets[a] + "," + period + "," + v + ",2010-01-10\n";
    }
    ++row;
  }
  WriteFile(dir_ / "returns_long.csv", long_form);
  WriteFile(dir_ / "few_long.csv", short_form);
  ASSERT_EQ(Run({"ingest", dir_ / "returns_long.csv"}).exit_code, 0);
  ASSERT_EQ(Run({"ingest", dir_ / "few_long.csv"}).exit_code, 0);

  auto csv = Run(PortfolioArgs({"us:tbilrate", "us:unemp", "us:infl", "--returns", kBook + "asset_returns.csv",
                                "--format", "json"}));
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  std::string pairs;
  for (const auto& a : assets) pairs += (pairs.empty() ? "" : ",") + a + "=ret:" + a;
  auto store = Run(PortfolioArgs({"us:tbilrate", "us:unemp", "us:infl", "--return-series", pairs, "--format", "json"}));
  ASSERT_EQ(store.exit_code, 0) << store.err;
  const Json a = ParseJson(csv.out).value(), b = ParseJson(store.out).value();
  EXPECT_EQ(a["scenarios"], b["scenarios"]);
  EXPECT_EQ(a["factor_model"], b["factor_model"]);
  EXPECT_EQ(b["inputs"]["return_series"]["us_equity"], "ret:us_equity");

  // As of a date before the returns were known: the error names the option and the series.
  auto early = Run({"risk", "portfolio", "us:tbilrate", "us:unemp", "--as-of", "2009-06-01", "--positions",
                    kBook + "positions.csv", "--fx", kBook + "fx.csv", "--return-series", pairs, "--paths", "50"});
  EXPECT_NE(early.exit_code, 0);
  EXPECT_THAT(early.err, HasSubstr("--return-series"));
  struct Case {
    std::string pairs, message;
  };
  for (const Case& c : std::vector<Case>{
           {"us_equity=ret:nope", "--return-series us_equity=ret:nope"},
           {"us_equity", "--return-series: 'us_equity' is not ASSET=SERIES"},
           {"us_equity=ret:us_equity,us_equity=ret:ig_credit", "asset 'us_equity' is named twice"},
           {"us_equity=bad key", "--return-series us_equity"},
           {"us_equity=few:us_equity", "have 2 period(s) in common, need at least 3"}}) {
    auto r = Run({"risk", "portfolio", "us:tbilrate", "us:unemp", "--positions", kBook + "positions.csv", "--fx",
                  kBook + "fx.csv", "--return-series", c.pairs, "--paths", "50"});
    EXPECT_NE(r.exit_code, 0) << c.pairs;
    EXPECT_THAT(r.err, HasSubstr(c.message)) << c.pairs;
  }
  auto both = Run({"risk", "portfolio", "us:tbilrate", "--positions", kBook + "positions.csv", "--returns",
                   kBook + "asset_returns.csv", "--return-series", pairs});
  EXPECT_NE(both.exit_code, 0);
  EXPECT_THAT(both.err, HasSubstr("exactly one of --returns FILE and --return-series"));
  EXPECT_EQ(RunCount(), 0);
}

// Issue 24: a version fitted on transformed series (`var --transform diff --register`) is
// simulated on the same transform of its series without being told (the paths equal the refit's
// with --transform diff); another --transform is refused naming the version's, and no file is
// written.
TEST_F(RiskTrackingCliTest, Issue24RegisteredVarOnTransformedSeriesKeepsItsTransform) {
  auto reg = Run({"var", "coef", "us:tbilrate", "us:unemp", "--as-of", "2010-01-15", "--lags", "1", "--transform", "diff",
                  "--register", "macrod"});
  ASSERT_EQ(reg.exit_code, 0) << reg.err;
  auto refit = Run({"risk", "simulate", "us:tbilrate", "us:unemp", "--as-of", "2010-01-15", "--lags", "1", "--transform",
                    "diff", "--paths", "30", "-H", "4", "-o", dir_ / "refit.f32"});
  ASSERT_EQ(refit.exit_code, 0) << refit.err;
  auto registered = Run({"risk", "simulate", "--model", "macrod@1", "--as-of", "2010-01-15", "--paths", "30", "-H", "4",
                         "-o", dir_ / "registered.f32"});
  ASSERT_EQ(registered.exit_code, 0) << registered.err;
  EXPECT_EQ(ReadFile(dir_ / "refit.f32"), ReadFile(dir_ / "registered.f32"));
  auto other = Run({"risk", "simulate", "--model", "macrod@1", "--as-of", "2010-01-15", "--transform", "pct_change",
                    "-o", dir_ / "other.f32"});
  EXPECT_NE(other.exit_code, 0);
  EXPECT_THAT(other.err, HasSubstr("--transform pct_change: macrod@1 was fitted on diff of its series"));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "other.f32"));
}

// Issue 24: `almanac var ... --register NAME` makes a tracked run and a version whose package
// lists the variables; `risk portfolio --model NAME@VERSION` simulates from it: the same report
// as the refit with the same seed, the package's SHA-256 in the inputs and the run's params.
TEST_F(RiskTrackingCliTest, Issue24PortfolioFromARegisteredVarEqualsTheRefit) {
  auto reg = Run({"var", "coef", "us:tbilrate", "us:unemp", "us:infl", "--as-of", "2010-01-15", "--lags", "2",
                  "--register", "macro", "--format", "json"});
  ASSERT_EQ(reg.exit_code, 0) << reg.err;
  auto fit_or = ParseJson(reg.out);
  ASSERT_TRUE(fit_or.ok()) << reg.out;
  const Json fit = *fit_or;
  EXPECT_EQ(fit["registered"]["model"], "macro");
  EXPECT_EQ(fit["registered"]["version"], 1);
  EXPECT_EQ(fit["registered"]["unchanged"], false);
  const std::string sha = fit["registered"]["sha256"].get<std::string>();
  ASSERT_EQ(sha.size(), 64u);
  // The tracked run: the fit's settings as params, the package as its artifact.
  const Json run = ShowRun(fit["registered"]["run_id"].get<std::string>());
  EXPECT_EQ(run["params"]["command"], "var");
  EXPECT_EQ(run["params"]["as_of"], "2010-01-15");
  EXPECT_THAT(run["artifacts"].dump(), HasSubstr(sha));
  // The same fit again: the identical package is not registered twice.
  auto again = Run({"var", "coef", "us:tbilrate", "us:unemp", "us:infl", "--as-of", "2010-01-15", "--lags", "2",
                    "--register", "macro"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.err, HasSubstr("unchanged: the package is identical to macro@1"));
  // The package lists the variables in model order.
  auto exported = Run({"models", "export", "macro@1"});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  auto package_or = ParseJson(exported.out);
  ASSERT_TRUE(package_or.ok()) << exported.out;
  const Json package = *package_or;
  EXPECT_EQ(package["manifest"]["variables"], Json::array({"us:tbilrate", "us:unemp", "us:infl"}));

  auto refit = Run(PortfolioArgs({"--returns", kBook + "asset_returns.csv", "--format", "json"}));
  ASSERT_EQ(refit.exit_code, 0) << refit.err;
  auto registered = Run(PortfolioArgs(
      {"--returns", kBook + "asset_returns.csv", "--format", "json", "--model", "macro@1", "--experiment", "stress"}));
  ASSERT_EQ(registered.exit_code, 0) << registered.err;
  auto a_or = ParseJson(refit.out);
  ASSERT_TRUE(a_or.ok()) << refit.out;
  const Json a = *a_or;
  auto b_or = ParseJson(registered.out);
  ASSERT_TRUE(b_or.ok()) << registered.out;
  const Json b = *b_or;
  for (const char* key : {"scenarios", "macro_model", "factor_model", "historical"}) EXPECT_EQ(a[key], b[key]) << key;
  EXPECT_EQ(b["inputs"]["registered_model"], (Json{{"version", "macro@1"}, {"sha256", sha}}));
  const Json tracked = ShowRun(b["run_id"].get<std::string>());
  EXPECT_EQ(tracked["params"]["registered_model.sha256"], sha);
  EXPECT_EQ(tracked["params"]["registered_model.version"], "macro@1");

  // `risk simulate --model macro@1`: the same paths file as the refit with the same seed and
  // as-of (the series default to the version's variables), the package in the inputs.
  auto sim_refit = Run({"risk", "simulate", "us:tbilrate", "us:unemp", "us:infl", "--as-of", "2010-01-15", "--lags",
                        "2", "--paths", "30", "-H", "4", "-o", dir_ / "refit.f32"});
  ASSERT_EQ(sim_refit.exit_code, 0) << sim_refit.err;
  auto sim_reg = Run({"risk", "simulate", "--model", "macro@1", "--as-of", "2010-01-15", "--paths", "30", "-H", "4",
                      "-o", dir_ / "registered.f32", "--format", "json"});
  ASSERT_EQ(sim_reg.exit_code, 0) << sim_reg.err;
  EXPECT_EQ(ReadFile(dir_ / "refit.f32"), ReadFile(dir_ / "registered.f32"));
  auto sim_or = ParseJson(sim_reg.out);
  ASSERT_TRUE(sim_or.ok()) << sim_reg.out;
  EXPECT_EQ((*sim_or)["inputs"]["registered_model"], (Json{{"version", "macro@1"}, {"sha256", sha}}));
  auto sim_bad = Run({"risk", "simulate", "--model", "macro@1", "--lags", "1", "-o", dir_ / "bad.f32"});
  EXPECT_NE(sim_bad.exit_code, 0);
  EXPECT_THAT(sim_bad.err, HasSubstr("do not apply to the registered model macro@1"));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "bad.f32"));

  // Errors, with nothing stored: unknown model or version (NotFound), options that do not apply.
  const int runs = RunCount();
  for (const auto& [model, message] : std::vector<std::pair<std::string, std::string>>{
           {"nosuch@1", "nosuch"}, {"macro@4", "macro@4"}, {"macro@", "is not NAME@VERSION"}}) {
    auto bad =
        Run(PortfolioArgs({"--returns", kBook + "asset_returns.csv", "--model", model, "--experiment", "stress"}));
    EXPECT_NE(bad.exit_code, 0) << model;
    EXPECT_THAT(bad.err, HasSubstr(message)) << model;
  }
  auto with_lags = Run(PortfolioArgs({"--returns", kBook + "asset_returns.csv", "--model", "macro@1", "--lags", "3"}));
  EXPECT_NE(with_lags.exit_code, 0);
  EXPECT_THAT(with_lags.err, HasSubstr("do not apply to the registered model macro@1"));
  auto backtest = Run({"risk", "var-backtest", "us:tbilrate", "us:unemp", "us:infl", "--model", "macro@1", "--positions",
                       kBook + "positions.csv", "--returns", kBook + "asset_returns.csv", "--from", "2008Q1", "--to",
                       "2008Q2"});
  EXPECT_NE(backtest.exit_code, 0);
  EXPECT_THAT(backtest.err, HasSubstr("a registered version cannot be used"));
  EXPECT_EQ(RunCount(), runs);
}

// Issue 24: a univariate version cannot drive the stress test (FailedPrecondition naming it).
TEST_F(RiskTrackingCliTest, Issue24PortfolioFromAUnivariateVersionIsRefused) {
  const std::string p = dir_ / "infl.yaml";
  WriteFile(p, "name: infl\ndata:\n  series: [us:infl]\n  as_of: 2010-01-15\ntarget: us:infl\nhorizon: 2\n"
               "levels: [80]\nmodels:\n  - type: naive\nevaluation:\n  origins: 2\n  horizon: 1\n  metrics: [mae]\n"
               "  select_by: mae\nregister:\n  model: infl\n");
  auto r = Run({"run", p});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const int runs = RunCount();
  auto bad =
      Run(PortfolioArgs({"--returns", kBook + "asset_returns.csv", "--model", "infl@1", "--experiment", "stress"}));
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_THAT(bad.err, HasSubstr("infl@1 is a naive model (univariate)"));
  EXPECT_EQ(RunCount(), runs);
}

}  // namespace
}  // namespace almanac::testing
