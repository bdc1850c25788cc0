// End-to-end tests of `almanac risk var` and `almanac risk backtest` (issue 24): values on
// hand-made files, contributions summing to the total, and an error naming the place for
// each kind of bad file.
#include <cmath>
#include <filesystem>
#include <vector>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "almanac/core.h"
#include "almanac/core/json.h"

#include "integration/cli_runner.h"

namespace almanac::testing {
namespace {

using ::testing::HasSubstr;

class RiskCliTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& name, const std::string& content) {
    const std::string path = dir_ / name;
    WriteFile(path, content);
    return path;
  }
  static Json ParseOut(const CommandResult& r) {
    auto j = ParseJson(r.out);
    EXPECT_TRUE(j.ok()) << r.out << r.err;
    return j.ok() ? *j : Json();
  }
  // The 20 P&Ls of risk_test.cc's hand-made sample, in a column named pnl after a date column.
  std::string Sample() {
    const double v[] = {5, -3, 2, -10, 1, 4, -7, 0, 3, 6, -8, 9, 1, 2, -1, 0, 7, 3, -2, 8};
    std::string csv = "date,pnl\n";
    for (int i = 0; i < 20; ++i) csv += "2026-01-" + std::to_string(10 + i) + "," + FormatDouble(v[i]) + "\n";
    return Write("pnl.csv", csv);
  }

  TempDir dir_;
};

TEST_F(RiskCliTest, HistoricalVarAndEsOfAHandMadeSample) {
  auto r = RunAlmanac({"risk", "var", "--pnl", Sample(), "--level", "0.9,0.8", "--method", "historical", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Json out = ParseOut(r);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0]["method"], "historical");
  EXPECT_DOUBLE_EQ(out[0]["var"].get<double>(), 8);
  EXPECT_DOUBLE_EQ(out[0]["es"].get<double>(), 9);
  EXPECT_DOUBLE_EQ(out[1]["var"].get<double>(), 3);
  EXPECT_DOUBLE_EQ(out[1]["es"].get<double>(), 7);
  EXPECT_EQ(out[1]["scenarios"].get<int>(), 20);
}

TEST_F(RiskCliTest, AllMethodsAndTheNormalClosedForm) {
  auto r = RunAlmanac({"risk", "var", "--pnl", Sample(), "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Json out = ParseOut(r);
  ASSERT_EQ(out.size(), 6u);  // historical, normal, t at 0.95 and 0.99
  // Sample mean 1, sample sd sqrt(sum (x - 1)^2 / 19) = sqrt(506 / 19).
  const double sd = std::sqrt(506.0 / 19);
  EXPECT_EQ(out[3]["method"], "normal");
  EXPECT_NEAR(out[3]["var"].get<double>(), -1 + sd * 2.3263478740408408, 1e-9);
  EXPECT_EQ(out[5]["method"], "t");
  auto csv = RunAlmanac({"risk", "var", "--pnl", Sample(), "--method", "t", "--dof", "4", "--format", "csv"});
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_THAT(csv.out, HasSubstr("method,level,var,es,scenarios\n"));
}

TEST_F(RiskCliTest, PositionContributionsSumToThePortfolio) {
  const std::string f = Write("pos.csv",
                              "scenario,bonds,equities,fx\n"
                              "s1,-1,-2,0.5\ns2,4,5,-1\ns3,-10,-2,0\ns4,1,1,1.5\ns5,3,-4,-2\ns6,0,2,1\n");
  auto r = RunAlmanac({"risk", "var", "--pnl", f, "--positions", "--level", "0.8", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Json out = ParseOut(r);
  ASSERT_EQ(out.size(), 12u);  // 3 methods x (portfolio + 3 positions)
  for (size_t i = 0; i < out.size(); i += 4) {
    EXPECT_EQ(out[i]["position"], "portfolio");
    double v = 0, e = 0;
    for (size_t j = 1; j <= 3; ++j) v += out[i + j]["var"].get<double>(), e += out[i + j]["es"].get<double>();
    EXPECT_NEAR(v, out[i]["var"].get<double>(), 1e-12) << out[i]["method"];
    EXPECT_NEAR(e, out[i]["es"].get<double>(), 1e-12) << out[i]["method"];
  }
  // Historical at 0.8 (k = 2): portfolio P&Ls -2.5 8 -12 3.5 -3 3: tail s3 and s5.
  EXPECT_DOUBLE_EQ(out[0]["var"].get<double>(), 3);
  EXPECT_DOUBLE_EQ(out[0]["es"].get<double>(), 7.5);
  EXPECT_EQ(out[1]["position"], "bonds");
  EXPECT_DOUBLE_EQ(out[1]["es"].get<double>(), 3.5);
}

TEST_F(RiskCliTest, BacktestAgainstAVaRColumn) {
  // 10 days at 90%: exceptions (loss > VaR) on days 0, 1 and 4.
  const std::string f = Write("bt.csv",
                              "date,pnl,var\n"
                              "1,-5,4\n2,-6,4\n3,1,4\n4,-4,4\n5,-9,4\n6,0,4\n7,2,4\n8,-1,4\n9,3,4\n10,-3.5,4\n");
  auto r = RunAlmanac({"risk", "backtest", "--pnl", f, "--var-column", "var", "--level", "0.9", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Json out = ParseOut(r);
  EXPECT_EQ(out["exceptions"].get<int>(), 3);
  EXPECT_EQ(out["observations"].get<int>(), 10);
  const double uc = -2 * (7 * std::log(0.9) + 3 * std::log(0.1) - 7 * std::log(0.7) - 3 * std::log(0.3));
  EXPECT_NEAR(out["kupiec_lr"].get<double>(), uc, 1e-12);
  EXPECT_EQ(out["n11"].get<int>(), 1);
  EXPECT_EQ(out["zone"], "yellow");  // P(X <= 3 | 10, 0.1) = 0.987

  const std::string e = Write("exc.csv", "exception\n1\n1\n0\n0\ntrue\n0\n0\nfalse\n0\n0\n");
  auto r2 = RunAlmanac({"risk", "backtest", "--pnl", e, "--exception-column", "exception", "--level", "0.9", "--format",
                        "json"});
  ASSERT_EQ(r2.exit_code, 0) << r2.err;
  EXPECT_EQ(ParseOut(r2)["kupiec_lr"], out["kupiec_lr"]);
  auto table = RunAlmanac({"risk", "backtest", "--pnl", f, "--var-column", "var", "--level", "0.9"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_THAT(table.out, HasSubstr("zone"));
}

TEST_F(RiskCliTest, BadFilesAndOptionsNameThePlace) {
  const std::string sample = Sample();
  struct Case {
    std::string name, content;
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"text.csv", "pnl\n1\nabc\n", {"var"}, "line 3, column 'pnl': 'abc' is not a number"},
      {"nan.csv", "pnl\n1\nNaN\n", {"var"}, "line 3, column 'pnl': 'NaN' is not a finite number"},
      {"inf.csv", "pnl\n1\n-inf\n2\n", {"var"}, "line 3, column 'pnl': '-inf' is not a finite number"},
      {"empty_cell.csv", "pnl\n1\n\"\"\n", {"var"}, "line 3, column 'pnl': empty value"},
      {"dup.csv", "pnl,pnl\n1,2\n", {"var"}, "duplicate column 'pnl'"},
      {"ragged.csv", "a,pnl\n1,2\n3\n", {"var"}, "line 3: 1 fields, but the header has 2"},
      {"empty.csv", "", {"var"}, "empty file"},
      {"header_only.csv", "pnl\n", {"var"}, "no data rows"},
      {"which.csv", "a,b\n1,2\n", {"var"}, "which column is the P&L?"},
      {"missing.csv", "pnl\n1\n2\n", {"var", "--column", "loss"}, "no column 'loss'"},
      {"pos.csv", "scenario,a,b\ns1,1,x\n", {"var", "--positions"}, "line 2, column 'b': 'x' is not a number"},
      {"labels.csv", "scenario,date\ns1,d\n", {"var", "--positions"}, "at least one position column"},
      {"one.csv", "pnl\n1\n", {"var", "--method", "normal"}, "at least 2"},
      {"bt.csv", "pnl,var\n1,2\n", {"backtest", "--var-column", "VaR"}, "no column 'VaR'"},
      {"bt2.csv", "pnl,var\n1,nan\n", {"backtest", "--var-column", "var"}, "line 2, column 'var'"},
      {"bt3.csv", "e\n1\n2\n", {"backtest", "--exception-column", "e"}, "line 3, column 'e': '2' is not an exception"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args = {"risk"};
    args.push_back(c.args[0]);
    args.push_back("--pnl");
    args.push_back(Write(c.name, c.content));
    args.insert(args.end(), c.args.begin() + 1, c.args.end());
    auto r = RunAlmanac(args);
    EXPECT_EQ(r.exit_code, 1) << c.name << ": " << r.err;
    EXPECT_THAT(r.err, HasSubstr(c.message)) << c.name;
    EXPECT_THAT(r.err, HasSubstr(c.name)) << c.name;
    EXPECT_TRUE(r.out.empty()) << c.name << ": " << r.out;
  }
  const std::vector<std::pair<std::vector<std::string>, std::string>> options = {
      {{"risk", "var", "--pnl", sample, "--level", "99"}, "--level: level '99' must be in (0, 1)"},
      {{"risk", "var", "--pnl", sample, "--level", "x"}, "--level"},
      {{"risk", "var", "--pnl", sample, "--method", "garch"}, "--method: unknown method 'garch'"},
      {{"risk", "var", "--pnl", sample, "--method", "t", "--dof", "2"}, "degrees of freedom must be > 2"},
      {{"risk", "var", "--pnl", dir_ / "absent.csv"}, "absent.csv"},
      {{"risk", "backtest", "--pnl", sample}, "exactly one of --var-column and --exception-column"},
      {{"risk", "backtest", "--pnl", sample, "--var-column", "pnl", "--level", "0.95,0.99"}, "one level"},
  };
  for (const auto& [args, message] : options) {
    auto r = RunAlmanac(args);
    EXPECT_EQ(r.exit_code, 1) << message << ": " << r.err;
    EXPECT_THAT(r.err, HasSubstr(message));
  }
}

// ------------------------------------------------------------ portfolio stress test (issue 24)

const std::string kMacro = std::string(ALMANAC_SOURCE_DIR) + "/examples/data/us_macro_quarterly.csv";
const std::string kPortfolio = std::string(ALMANAC_SOURCE_DIR) + "/testdata/risk/portfolio/";

// The worked example's command; `positions` and `scenarios` replace the example's files.
std::vector<std::string> PortfolioArgs(std::vector<std::string> extra, std::string positions = "",
                                       std::string scenarios = "") {
  if (positions.empty()) positions = kPortfolio + "positions.csv";
  if (scenarios.empty()) scenarios = kPortfolio + "scenarios.yaml";
  std::vector<std::string> args = {"risk", "portfolio", "--input", kMacro,
                                    "--positions", positions, "--returns", kPortfolio + "asset_returns.csv",
                                    "--fx", kPortfolio + "fx.csv", "--scenarios", scenarios,
                                    "--factors", "us:tbilrate,us:unemp", "--factor-changes", "--paths", "1000"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

TEST_F(RiskCliTest, PortfolioStressTestUnderThreeScenarios) {
  const std::string report = dir_ / "report.json";
  auto r = RunAlmanac(PortfolioArgs({"--format", "json", "--threads", "1", "-o", report}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Json out = ParseOut(r);
  ASSERT_EQ(out["scenarios"].size(), 3u);
  EXPECT_EQ(out["scenarios"][0]["scenario"], "baseline");
  const auto mean8 = [&](int s) { return out["scenarios"][s]["horizons"][7]["mean"].get<double>(); };
  EXPECT_GT(mean8(0), mean8(1));
  EXPECT_GT(mean8(1), mean8(2));
  EXPECT_EQ(out["inputs"]["positions"]["sha256"].get<std::string>().size(), 64u);
  EXPECT_EQ(out["inputs"]["scenarios"]["sha256"].get<std::string>().size(), 64u);
  EXPECT_EQ(out["positions"][1]["exposure"].get<double>(), 150 * 1.08);
  for (const auto& f : out["scenarios"][2]["horizons"][7]["figures"]) {
    double sum = 0;
    for (const auto& p : f["positions"]) sum += p["es"].get<double>();
    EXPECT_NEAR(sum, f["es"].get<double>(), 1e-6 * std::abs(f["es"].get<double>()));
  }
  // The -o file holds the same report; two threads give the same numbers.
  EXPECT_EQ(ParseJson(ReadFile(report)).value(), out);
  auto two = RunAlmanac(PortfolioArgs({"--format", "json", "--threads", "2"}));
  ASSERT_EQ(two.exit_code, 0) << two.err;
  EXPECT_EQ(ParseOut(two)["scenarios"], out["scenarios"]);
  // The table: one row per scenario and horizon.
  auto table = RunAlmanac(PortfolioArgs({"--only", "adverse", "--contributions"}));
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_THAT(table.out, HasSubstr("var99"));
  EXPECT_THAT(table.out, HasSubstr("specific"));
  EXPECT_THAT(table.out, HasSubstr("eq-eu"));
}

TEST_F(RiskCliTest, PortfolioFromASavedModelEqualsTheRefit) {
  const std::string saved = dir_ / "var2.json";
  auto fit = RunAlmanac({"var", "coef", "us:tbilrate", "us:unemp", "us:infl", "--input", kMacro, "--lags", "2",
                         "--format", "json", "--save", saved});
  ASSERT_EQ(fit.exit_code, 0) << fit.err;
  auto refit = RunAlmanac(PortfolioArgs({"--format", "json", "--seed", "3"}));
  ASSERT_EQ(refit.exit_code, 0) << refit.err;
  auto from_file = RunAlmanac(PortfolioArgs({"--format", "json", "--seed", "3", "--model-file", saved}));
  ASSERT_EQ(from_file.exit_code, 0) << from_file.err;
  const Json a = ParseOut(refit), b = ParseOut(from_file);
  EXPECT_EQ(a["scenarios"], b["scenarios"]);
  EXPECT_EQ(a["macro_model"], b["macro_model"]);
  EXPECT_EQ(b["inputs"]["model_file"]["sha256"].get<std::string>().size(), 64u);
  EXPECT_FALSE(a["inputs"].contains("model_file"));
  // Not a multivariate model, or a missing file: an error naming the option and the file.
  auto bad = RunAlmanac(PortfolioArgs({"--model-file", Write("m.json", "{\"format\":\"almanac-model\"}")}));
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_THAT(bad.err, HasSubstr("--model-file"));
  EXPECT_THAT(bad.err, HasSubstr("m.json"));
  auto missing = RunAlmanac(PortfolioArgs({"--model-file", dir_ / "none.json"}));
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_THAT(missing.err, HasSubstr("none.json"));
}

TEST_F(RiskCliTest, PortfolioBadInputNamesThePlaceAndWritesNothing) {
  const std::string report = dir_ / "report.json";
  auto unknown = RunAlmanac(PortfolioArgs({"-o", report}, Write("p.csv", "asset,exposure\nus_equity,1\ngold,2\n")));
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_THAT(unknown.err, HasSubstr("unknown asset 'gold'"));
  auto exposure = RunAlmanac(PortfolioArgs({"-o", report}, Write("q.csv", "asset,exposure\nus_equity,lots\n")));
  EXPECT_NE(exposure.exit_code, 0);
  EXPECT_THAT(exposure.err, HasSubstr("q.csv:2: exposure 'lots' is not a finite number"));
  auto scen = RunAlmanac(PortfolioArgs(
      {"-o", report}, "", Write("s.yaml", "horizon: 4\nscenarios:\n  x:\n    paths:\n      us:gdp: [1, 2, 3, 4]\n")));
  EXPECT_NE(scen.exit_code, 0);
  EXPECT_THAT(scen.err, HasSubstr("s.yaml:5"));
  auto len = RunAlmanac(PortfolioArgs(
      {"-o", report}, "", Write("l.yaml", "horizon: 4\nscenarios:\n  x:\n    paths:\n      us:unemp: [1, 2, 3]\n")));
  EXPECT_NE(len.exit_code, 0);
  EXPECT_THAT(len.err, HasSubstr("l.yaml:5"));
  EXPECT_FALSE(std::filesystem::exists(report));
}

TEST_F(RiskCliTest, VarBacktestFromDataAsKnownAtEachOrigin) {
  // First releases one month after each quarter (macro_vintages.csv): on 2006-04-01 the data
  // end in 2005Q4, so the VaR made at origin 2006Q1 is for 2006Q1.
  auto r = RunAlmanac({"risk", "var-backtest", "--input", kPortfolio + "macro_vintages.csv", "us:tbilrate", "us:unemp", "us:infl",
                       "--positions", kPortfolio + "positions.json", "--returns", kPortfolio + "asset_returns.csv",
                       "--fx", kPortfolio + "fx.csv", "--factors", "us:tbilrate,us:unemp", "--factor-changes",
                       "--paths", "500", "--from", "2006Q1", "--to", "2008Q4", "--level", "0.95", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Json out = ParseOut(r);
  ASSERT_EQ(out["points"].size(), 12u);
  EXPECT_EQ(out["points"][0]["target"], "2006Q1");
  EXPECT_EQ(out["points"][0]["as_of"], "2006-04-01");
  EXPECT_EQ(out["backtest"]["observations"], 12);
  int exceptions = 0;
  for (const auto& p : out["points"]) exceptions += p["exception"].get<bool>();
  EXPECT_EQ(out["backtest"]["exceptions"], exceptions);
  auto bad = RunAlmanac({"risk", "var-backtest", "--input", kMacro, "us:tbilrate", "--positions", kPortfolio + "positions.csv",
                         "--returns", kPortfolio + "asset_returns.csv", "--fx", kPortfolio + "fx.csv", "--from", "2008Q4",
                         "--to", "2006Q1"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_THAT(bad.err, HasSubstr("--from"));
}

}  // namespace
}  // namespace almanac::testing
