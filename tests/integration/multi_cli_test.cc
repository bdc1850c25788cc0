// End-to-end tests of `almanac var`, `almanac scenario` and `almanac backtest` (issue 6) on the
// sample data: forecasts equal to the statsmodels goldens, scenario files and their errors,
// and a real-time backtest over stored vintages (SQLite as-of reads) whose errors differ from
// the final-data backtest exactly by the known revisions.
#include <algorithm>
#include <cmath>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "almanac/core.h"
#include "almanac/core/json.h"

#include "integration/cli_runner.h"

namespace almanac::testing {
namespace {

using ::testing::HasSubstr;

const std::string kSample = std::string(ALMANAC_SOURCE_DIR) + "/examples/data/us_macro_quarterly.csv";
const std::string kGoldens = std::string(ALMANAC_SOURCE_DIR) + "/testdata/models/var/macrodata_goldens.json";
const std::string kVars = "us:realgdp,us:realcons,us:realinv";

class MultiCliTest : public ::testing::Test {
 protected:
  void SetUp() override { ws_ = dir_ / "ws"; }
  CommandResult Run(std::vector<std::string> args) {
    args.insert(args.begin(), {"--workspace", ws_});
    return RunAlmanac(args);
  }
  void InitAndLoad() {
    ASSERT_EQ(Run({"init"}).exit_code, 0);
    auto r = Run({"ingest", kSample, "--realtime-start", "2009-12-15"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  static Json ParseOut(const CommandResult& r) {
    auto j = ParseJson(r.out);
    EXPECT_TRUE(j.ok()) << r.out << r.err;
    return j.ok() ? *j : Json();
  }

  TempDir dir_;
  std::string ws_;
};

// --params and --param, shared by forecast, var, scenario and backtest: bad values are named.
TEST_F(MultiCliTest, ModelParameterOptionsRejectMalformedValues) {
  InitAndLoad();
  auto var_array = Run({"var", "forecast", kVars, "--params", "[1,2]"});
  EXPECT_EQ(var_array.exit_code, 1);
  EXPECT_THAT(var_array.err, HasSubstr(R"(--params must be a JSON object, e.g. '{"lags":2}')"));
  auto var_no_eq = Run({"var", "forecast", kVars, "--param", "lags"});
  EXPECT_EQ(var_no_eq.exit_code, 1);
  EXPECT_THAT(var_no_eq.err, HasSubstr("--param 'lags': expected KEY=VALUE"));
  auto uni = RunAlmanac({"forecast", "--input", kSample, "us:unemp", "-m", "ets", "--params", "\"AAN\"", "-H", "2"});
  EXPECT_EQ(uni.exit_code, 1);
  EXPECT_THAT(uni.err, HasSubstr(R"(--params must be a JSON object, e.g. '{"model":"AAN"}')"));
  auto uni_eq = RunAlmanac({"forecast", "--input", kSample, "us:unemp", "-m", "ets", "--param", "=AAN", "-H", "2"});
  EXPECT_EQ(uni_eq.exit_code, 1);
  EXPECT_THAT(uni_eq.err, HasSubstr("--param '=AAN': expected KEY=VALUE"));
}

TEST_F(MultiCliTest, VarForecastMatchesStatsmodels) {
  InitAndLoad();
  auto r = Run({"var", "forecast", kVars, "--transform", "dlog", "--lags", "2", "--level", "95", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Json out = ParseOut(r);
  const Json golden = ParseJson(ReadFile(kGoldens)).value()["cases"][0]["forecast"];
  ASSERT_EQ(out["forecasts"].size(), 24u);
  for (const auto& row : out["forecasts"]) {
    const int h = row["h"].get<int>() - 1;
    const std::string v = row["variable"].get<std::string>();
    const int i = v == "us:realgdp" ? 0 : v == "us:realcons" ? 1 : 2;
    const double m = golden["mean"][h][i].get<double>(), up = golden["upper95"][h][i].get<double>();
    EXPECT_NEAR(row["mean"].get<double>(), m, 1e-6 * std::fabs(m)) << v << " h" << h;
    EXPECT_NEAR(row["upper_95"].get<double>(), up, 1e-6 * std::fabs(up)) << v << " h" << h;
  }
  EXPECT_EQ(out["forecasts"][0]["period"], "2009Q4");
  EXPECT_THAT(out["method"].get<std::string>(), HasSubstr("VAR(2)"));
}

TEST_F(MultiCliTest, VarSimulateWritesReproduciblePaths) {
  InitAndLoad();
  const std::string file = dir_ / "paths.csv", model_file = dir_ / "model.json";
  auto r = Run({"var", "simulate", kVars, "--transform", "dlog", "--lags",   "2",       "--paths",
                "50",  "-H",       "4",   "--seed",      "7",    "--shocks", "t",       "--dof",
                "6",   "-o",       file,  "--format",    "json", "--save",   model_file});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Json out = ParseOut(r);
  EXPECT_EQ(out["paths"], 50);
  EXPECT_THAT(out["simulation"].get<std::string>(), HasSubstr("Student-t"));
  const std::string csv = ReadFile(file);
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 1 + 50 * 4 * 3);
  EXPECT_THAT(csv, HasSubstr("path,period,h,variable,value\n1,2009Q4,1,us:realgdp,"));
  EXPECT_THAT(csv, HasSubstr("\n50,2010Q3,4,us:realinv,"));
  // The same seed to stdout: the same bytes.
  auto again = Run({"var", "simulate", kVars, "--transform", "dlog", "--lags", "2", "--paths", "50", "-H", "4",
                    "--seed", "7", "--shocks", "t", "--dof", "6"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out, csv);
  // From the saved model (no refit, no series): the same bytes again.
  auto saved = Run({"var", "simulate", "--from", model_file, "--paths", "50", "-H", "4", "--seed", "7", "--shocks", "t",
                    "--dof", "6"});
  ASSERT_EQ(saved.exit_code, 0) << saved.err;
  EXPECT_EQ(saved.out, csv);
  auto missing = Run({"var", "simulate", "--from", dir_ / "nope.json"});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_THAT(missing.err, HasSubstr("cannot read model file"));
  auto bad = Run({"var", "simulate", kVars, "--transform", "dlog", "--shocks", "cauchy"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_THAT(bad.err, HasSubstr("unknown shock distribution"));
  auto zero = Run({"var", "simulate", kVars, "--transform", "dlog", "--paths", "0"});
  EXPECT_NE(zero.exit_code, 0);
  EXPECT_THAT(zero.err, HasSubstr("num_paths must be at least 1"));
  auto var_pu = Run({"var", "simulate", kVars, "--transform", "dlog", "--parameter-uncertainty"});
  EXPECT_NE(var_pu.exit_code, 0);
  EXPECT_THAT(var_pu.err, HasSubstr("needs model type 'bvar'"));
}

TEST_F(MultiCliTest, VarAnalysisCommands) {
  InitAndLoad();
  auto sel =
      Run({"var", "select", kVars, "--transform", "dlog", "--max-lags", "8", "--trend", "n", "--format", "json"});
  ASSERT_EQ(sel.exit_code, 0) << sel.err;
  // statsmodels select_order(8, trend="n"): AIC 6, BIC 2, HQ 3, FPE 6.
  EXPECT_EQ(ParseOut(sel)["selected"], (Json{{"aic", 6}, {"bic", 2}, {"hqic", 3}, {"fpe", 6}}));
  auto granger = Run({"var", "granger", kVars, "--transform", "dlog", "--lags", "2", "--caused", "us:realinv",
                      "--causing", "us:realgdp", "--format", "csv"});
  ASSERT_EQ(granger.exit_code, 0) << granger.err;
  EXPECT_THAT(granger.out, HasSubstr("us:realinv,us:realgdp,2.51042385738"));
  auto irf = Run({"var", "irf", kVars, "--transform", "dlog", "--lags", "2", "--periods", "4", "--bands", "50",
                  "--format", "csv"});
  ASSERT_EQ(irf.exit_code, 0) << irf.err;
  EXPECT_THAT(irf.out, HasSubstr("h,response,impulse,value,lower,upper\n"));
  auto fevd = Run({"var", "fevd", kVars, "--transform", "dlog", "--lags", "2", "--format", "csv"});
  EXPECT_EQ(fevd.exit_code, 0);
  auto stab = Run({"var", "stability", kVars, "--transform", "dlog", "--lags", "2"});
  EXPECT_THAT(stab.err, HasSubstr("stable"));
  auto saved = dir_ / "var.json";
  ASSERT_EQ(Run({"var", "coef", kVars, "--transform", "dlog", "-m", "bvar", "-p", "lags=2", "--save", saved}).exit_code,
            0);
  EXPECT_THAT(ReadFile(saved), HasSubstr("\"format\":\"almanac-model\""));
  // Bad input: an unknown action, a non-stationary system in levels (a note naming the
  // variables), mismatched frequencies, too many lags.
  EXPECT_THAT(Run({"var", "forcast", kVars}).err, HasSubstr("did you mean 'forecast'"));
  auto levels = Run({"var", "forecast", "us:realgdp,us:pop", "--lags", "2", "--trend", "c"});
  EXPECT_EQ(levels.exit_code, 0) << levels.err;
  EXPECT_THAT(levels.err, HasSubstr("not stable"));
  auto few = Run({"var", "forecast", kVars, "--as-of", "2009-12-20", "--lags", "60"});
  EXPECT_EQ(few.exit_code, 1);
  EXPECT_THAT(few.err, HasSubstr("too few observations"));
  WriteFile(dir_ / "monthly.csv", "series,period,value\nm:x,2000-01,1\nm:x,2000-02,2\nm:x,2000-03,3\n");
  ASSERT_EQ(Run({"ingest", dir_ / "monthly.csv"}).exit_code, 0);
  auto mixed = Run({"var", "forecast", "us:realgdp,m:x"});
  EXPECT_EQ(mixed.exit_code, 1);
  EXPECT_THAT(mixed.err, HasSubstr("mismatched frequencies"));
}

TEST_F(MultiCliTest, ScenarioFile) {
  InitAndLoad();
  const std::string file = dir_ / "scen.yaml";
  WriteFile(file,
            "horizon: 4\n"
            "series: [us:realgdp, us:realcons, us:realinv]\n"
            "model: {type: var, params: {lags: 2}}\n"
            "scenarios:\n"
            "  baseline: {}\n"
            "  adverse:\n"
            "    paths:\n"
            "      us:realgdp: [-0.01, -0.01, null, null]\n"
            "  severely_adverse:\n"
            "    paths:\n"
            "      us:realgdp: {2009Q4: -0.02, 2010Q1: -0.02}\n");
  auto r = Run({"scenario", file, "--transform", "dlog", "--format", "csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("adverse,us:realgdp,2009Q4,1,-0.01,-0.01,-0.01,-0.01,-0.01,true\n"));
  EXPECT_THAT(r.out, HasSubstr("severely_adverse,us:realgdp,2010Q1,2,-0.02,"));
  EXPECT_THAT(r.out, HasSubstr("baseline,us:realinv,2010Q3,4,"));
  auto only = Run({"scenario", file, "--transform", "dlog", "--only", "adverse", "-m", "bvar", "-p", "draws=200",
                   "--format", "json"});
  ASSERT_EQ(only.exit_code, 0) << only.err;
  const Json j = ParseOut(only);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["model"], "bvar");
  EXPECT_EQ(j[0]["forecasts"][0]["mean"], -0.01);

  // Errors name the file, line and key.
  const std::string bad = dir_ / "bad.yaml";
  WriteFile(bad, "horizon: 4\nscenarios:\n  adverse:\n    paths:\n      us:realgdp: [1, 2, 3]\n");
  auto wrong_len = Run({"scenario", bad, kVars, "--transform", "dlog"});
  EXPECT_EQ(wrong_len.exit_code, 1);
  EXPECT_THAT(wrong_len.err,
              HasSubstr("bad.yaml:5: scenarios.adverse.paths.us:realgdp: the path has 3 values but the horizon is 4"));
  WriteFile(bad, "scenarios:\n  adverse:\n    paths:\n      us:tbilrate: [1, 2, 3, 4]\n");
  auto unknown = Run({"scenario", bad, kVars, "--transform", "dlog", "-H", "4"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_THAT(unknown.err, HasSubstr("bad.yaml:4: scenarios.adverse.paths.us:tbilrate: unknown variable"));
}

// A quarterly series "rt:gdp" 2000Q1..2005Q4 whose first release (30 days after the quarter
// ends) is the final value minus 1, revised to the final value with the next release.
std::string RevisedVintages(std::vector<double>* finals) {
  std::ostringstream csv;
  csv << "series,period,value,realtime_start\n";
  const Period start = Period::Parse("2000Q1").value();
  const int n = 24;
  for (int i = 0; i < n; ++i) finals->push_back(100 + 2 * i + (i % 4 == 0 ? 3 : 0));
  for (int i = 0; i < n; ++i) {
    const Period p = start + i;
    const Date release = p.EndDate() + 30;
    csv << "rt:gdp," << p.ToString() << "," << (*finals)[i] - 1 << "," << release.ToString() << "\n";
    if (i + 1 < n)
      csv << "rt:gdp," << p.ToString() << "," << (*finals)[i] << "," << ((start + i + 1).EndDate() + 30).ToString()
          << "\n";
  }
  return csv.str();
}

TEST_F(MultiCliTest, RealTimeBacktestSeesTheRevisions) {
  ASSERT_EQ(Run({"init"}).exit_code, 0);
  std::vector<double> finals;
  WriteFile(dir_ / "vintages.csv", RevisedVintages(&finals));
  auto ing = Run({"ingest", dir_ / "vintages.csv"});
  ASSERT_EQ(ing.exit_code, 0) << ing.err;
  const std::vector<std::string> common = {"backtest", "rt:gdp",    "-m", "naive",    "-H",
                                           "2",        "--origins", "6",  "--format", "json"};
  auto final_run = Run(common);
  ASSERT_EQ(final_run.exit_code, 0) << final_run.err;
  std::vector<std::string> rt_args = common;
  rt_args.insert(rt_args.end(), {"--real-time", "--publication-lag", "30"});
  auto rt_run = Run(rt_args);
  ASSERT_EQ(rt_run.exit_code, 0) << rt_run.err;
  const Json f = ParseOut(final_run)["results"][0], rt = ParseOut(rt_run)["results"][0];
  ASSERT_EQ(f["origins"].size(), 6u);
  for (size_t o = 0; o < 6; ++o) {
    const Json& fo = f["origins"][o];
    const Json& ro = rt["origins"][o];
    EXPECT_EQ(ro["origin"], fo["origin"]);
    const Period origin = Period::Parse(ro["origin"].get<std::string>()).value();
    EXPECT_EQ(ro["as_of"], (origin.EndDate() + 30).ToString());
    for (int h = 0; h < 2; ++h) {
      // The naive forecast from the first release is exactly 1 below the final-data one.
      EXPECT_EQ(ro["mean"][h].get<double>(), fo["mean"][h].get<double>() - 1);
      EXPECT_EQ(ro["actual"][h], fo["actual"][h]);
    }
  }
  EXPECT_GT(rt["overall"]["mae"].get<double>(), 0);
  // Ten days after the quarter the origin's value is not yet published: a one-period gap.
  std::vector<std::string> early = common;
  early.insert(early.end(), {"--real-time", "--publication-lag", "10"});
  auto e = Run(early);
  ASSERT_EQ(e.exit_code, 0) << e.err;
  EXPECT_EQ(ParseOut(e)["results"][0]["origins"][0]["gap"], 1);
  // Comparing two models adds the Diebold-Mariano table.
  auto cmp = Run({"backtest", "rt:gdp", "-m", "naive", "--compare", "drift", "-H", "1", "--origins", "10", "--output",
                  "dm", "--format", "csv"});
  ASSERT_EQ(cmp.exit_code, 0) << cmp.err;
  EXPECT_THAT(
      cmp.out,
      HasSubstr("series,h,model_1,model_2,n,dm_statistic,p_value,mean_loss_diff,note\nrt:gdp,1,naive,drift,10,"));
  // Too short for the origins.
  auto too_many = Run({"backtest", "rt:gdp", "-m", "naive", "--origins", "40"});
  EXPECT_EQ(too_many.exit_code, 1);
  EXPECT_THAT(too_many.err, HasSubstr("observations"));
}

TEST_F(MultiCliTest, ArimaxScenarioAndBacktest) {
  InitAndLoad();
  // Consumption growth regressed on GDP growth with AR(1) errors; GDP paths are the scenarios.
  const std::string file = dir_ / "arimax.yaml";
  WriteFile(file,
            "horizon: 3\n"
            "series: [us:realcons, us:realgdp]\n"
            "model: {type: arimax, params: {order: [1, 0, 0]}}\n"
            "scenarios:\n"
            "  baseline:\n"
            "    paths:\n"
            "      us:realgdp: [0.005, 0.005, 0.005]\n"
            "  adverse:\n"
            "    paths:\n"
            "      us:realgdp: [-0.01, -0.01, 0.0]\n"
            "  missing_path: {}\n");
  auto r = Run({"scenario", file, "--transform", "dlog", "--only", "baseline,adverse", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Json j = ParseOut(r);
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["method"], "Regression with ARIMA(1,0,0) errors");
  // Lower GDP growth lowers the consumption forecast.
  EXPECT_LT(j[1]["forecasts"][0]["mean"].get<double>(), j[0]["forecasts"][0]["mean"].get<double>());
  auto missing = Run({"scenario", file, "--transform", "dlog", "--only", "missing_path"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("known future path of regressor us:realgdp"));
  // Backtest: the regressor's realised path is known at each origin; only the target is scored.
  auto bt = Run({"backtest", "us:realcons,us:realgdp", "--transform", "dlog", "-m", "arimax", "-p", "order=[1,0,0]",
                 "-H", "2", "--origins", "5", "--format", "csv"});
  ASSERT_EQ(bt.exit_code, 0) << bt.err;
  EXPECT_THAT(bt.out, HasSubstr("\nus:realcons,"));
  EXPECT_THAT(bt.out, ::testing::Not(HasSubstr("\nus:realgdp,")));
}

TEST_F(MultiCliTest, VarBacktestFromAFile) {
  auto r = RunAlmanac({"backtest", "--input", kSample, kVars, "--transform", "dlog", "-m", "var", "-p", "lags=1", "-H",
                       "2", "--origins", "6", "--output", "horizons", "--format", "csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("series,model,h,n,mae,rmse,smape,mase,cov80,cov95,crps\n"));
  EXPECT_THAT(r.out, HasSubstr("us:realinv,\"var{\"\"lags\"\":1}\",2,6,"));
}

}  // namespace
}  // namespace almanac::testing
