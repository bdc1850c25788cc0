// End-to-end tests of `almanac nowcast evaluate` (issue 25): the simulated vintages of
// testdata/nowcast/eval_vintages.csv (make_eval_vintages.py) are ingested into a workspace; each
// evaluation date's random walk, AR(2), outcome and DFM nowcast equal what this test computes
// from the CSV on its own (the release calendar read here, the DFM and AR(2) from the
// libraries), the accuracy and Diebold-Mariano numbers follow from the points, and bad input
// fails with a message naming the date, option or series.
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "almanac/core.h"
#include "almanac/core/json.h"
#include "almanac/eval.h"
#include "almanac/eval/nowcast_eval.h"
#include "almanac/models/nowcast.h"

#include "integration/cli_runner.h"
#include "integration/vintage_csv.h"

namespace almanac::testing {
namespace {

using ::testing::HasSubstr;

const std::string kEvalCsv = ALMANAC_SOURCE_DIR "/testdata/nowcast/eval_vintages.csv";
const std::vector<std::string> kEvalNames = {"rt:ind01", "rt:ind02", "rt:ind03", "rt:ind04", "rt:gdp"};

// testdata/nowcast/eval.yaml with 10 EM iterations: the comparison needs the same computation on
// both sides, not convergence.
const char* kEvalFastConfig =
    "target: rt:gdp\n"
    "indicators: [rt:ind01, rt:ind02, rt:ind03, rt:ind04]\n"
    "blocks: [{name: global, factors: 1, order: 2}]\n"
    "max_iterations: 10\n";

// The configured series as known on `as_of` ("9999-12-31": latest) through the end of `quarter`.
models::MixedFrequencyData EvalData(const std::string& as_of, Period quarter) {
  auto series = VintagesFromCsv(kEvalCsv, as_of);
  std::vector<TimeSeries> list;
  for (const auto& n : kEvalNames) list.push_back(series.at(n));
  return models::AlignMixedFrequency(kEvalNames, list, quarter.Convert(Frequency::kMonthly, Anchor::kEnd)).value();
}

// The GDP quarters as known on `as_of`, from the first published one through the last.
std::vector<std::pair<Period, double>> GdpKnown(const std::string& as_of) {
  const TimeSeries gdp = VintagesFromCsv(kEvalCsv, as_of).at("rt:gdp");
  std::vector<std::pair<Period, double>> out;
  for (int64_t i = 0; i < gdp.size(); ++i) out.push_back({gdp.start() + i, gdp.values()[static_cast<size_t>(i)]});
  return out;
}

class NowcastEvalCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(Run({"init"}).exit_code, 0);
    auto r = Run({"ingest", kEvalCsv});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    WriteFile(dir_ / "fast.yaml", kEvalFastConfig);
  }
  CommandResult Run(std::vector<std::string> args) {
    args.insert(args.begin(), {"--workspace", dir_.path()});
    return RunAlmanac(args);
  }
  Json Evaluate(std::vector<std::string> extra) {
    std::vector<std::string> args = {"--format", "json", "nowcast", "evaluate", "--config", dir_ / "fast.yaml"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = Run(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return Json::parse(r.out.empty() ? std::string("{}") : r.out);
  }
  TempDir dir_;
};

TEST_F(NowcastEvalCliTest, RealTimeEvaluationMatchesTheVintagesAndTheLibraries) {
  const Json j = Evaluate({"--from", "2018-01-01", "--to", "2018-12-31", "--refit", "once"});
  ASSERT_EQ(j["points"].size(), 12u) << j.dump();
  EXPECT_EQ(j["mode"], "real-time");
  EXPECT_EQ(j["outcome"], "latest");
  EXPECT_EQ(j["dm_horizon"], 3);

  // The DFM of --refit once: estimated on the data of the first date, 2018-01-31.
  models::DfmOptions options;
  options.blocks = {{"global", 1, 2, {}}};
  options.max_iterations = 10;
  const Period q1 = Period::Parse("2018Q1").value();
  auto model = models::DynamicFactorModel::Fit(EvalData("2018-01-31", q1), options);
  ASSERT_TRUE(model.ok()) << model.status().message();

  std::vector<double> e_dfm, e_rw, e_ar2;
  for (const auto& p : j["points"]) {
    const std::string date = p["date"].get<std::string>();
    SCOPED_TRACE(date);
    const Period quarter = Period::Parse(p["quarter"].get<std::string>()).value();
    EXPECT_EQ(quarter, Period::FromDate(Date::Parse(date).value(), Frequency::kQuarterly).value());
    // Random walk: the last GDP published by then; AR(2) on everything published by then.
    const auto known = GdpKnown(date);
    EXPECT_EQ(p["last_known"], known.back().first.ToString());
    EXPECT_DOUBLE_EQ(p["rw"].get<double>(), known.back().second);
    std::vector<double> y;
    for (const auto& [q, v] : known) y.push_back(v);
    const double ar2 =
        eval::Ar2Forecast(eval::FitAr2(y).value(), y, static_cast<int>(quarter.ordinal() - known.back().first.ordinal()))
            .value();
    EXPECT_NEAR(p["ar2"].get<double>(), ar2, 1e-12);
    // The outcome: the latest vintage's value.
    double outcome = std::nan("");
    for (const auto& [q, v] : GdpKnown("9999-12-31"))
      if (q == quarter) outcome = v;
    EXPECT_DOUBLE_EQ(p["outcome"].get<double>(), outcome);
    // The DFM nowcast on the vintage of the date, with the first date's parameters.
    auto now = model->NowcastOf(EvalData(date, quarter), "rt:gdp", quarter);
    ASSERT_TRUE(now.ok()) << now.status().message();
    EXPECT_NEAR(p["dfm"].get<double>(), now->value, 1e-9);
    e_dfm.push_back(outcome - p["dfm"].get<double>());
    e_rw.push_back(outcome - p["rw"].get<double>());
    e_ar2.push_back(outcome - p["ar2"].get<double>());
  }
  // Accuracy from the points; DM as eval::DieboldMariano at horizon 3 (three dates per quarter).
  auto rmse = [](const std::vector<double>& e) {
    double s = 0;
    for (double x : e) s += x * x;
    return std::sqrt(s / static_cast<double>(e.size()));
  };
  EXPECT_NEAR(j["accuracy"][0]["rmse"].get<double>(), rmse(e_dfm), 1e-9);
  EXPECT_NEAR(j["accuracy"][1]["rmse"].get<double>(), rmse(e_rw), 1e-12);
  EXPECT_NEAR(j["accuracy"][2]["rmse"].get<double>(), rmse(e_ar2), 1e-12);
  const auto dm_rw = eval::DieboldMariano(e_dfm, e_rw, 3).value();
  const auto dm_ar2 = eval::DieboldMariano(e_dfm, e_ar2, 3).value();
  EXPECT_EQ(j["tests"][0]["benchmark"], "rw");
  EXPECT_NEAR(j["tests"][0]["dm"]["statistic"].get<double>(), dm_rw.statistic, 1e-6);
  EXPECT_NEAR(j["tests"][0]["dm"]["pvalue"].get<double>(), dm_rw.pvalue, 1e-6);
  EXPECT_NEAR(j["tests"][1]["dm"]["statistic"].get<double>(), dm_ar2.statistic, 1e-6);
  EXPECT_NEAR(j["tests"][0]["relative_rmse"].get<double>(), rmse(e_dfm) / rmse(e_rw), 1e-9);
}

TEST_F(NowcastEvalCliTest, PseudoRealTimeAndFirstReleaseOutcomes) {
  const Json j = Evaluate(
      {"--from", "2018-04-01", "--to", "2018-06-30", "--refit", "once", "--mode", "pseudo", "--outcome", "first"});
  ASSERT_EQ(j["points"].size(), 3u) << j.dump();
  EXPECT_EQ(j["mode"], "pseudo");
  const auto latest = GdpKnown("9999-12-31");
  for (const auto& p : j["points"]) {
    const std::string date = p["date"].get<std::string>();
    SCOPED_TRACE(date);
    // The same publication pattern as on the date, with the latest values.
    const auto known = GdpKnown(date);
    EXPECT_EQ(p["last_known"], known.back().first.ToString());
    for (const auto& [q, v] : latest) {
      if (q == known.back().first) {
        EXPECT_DOUBLE_EQ(p["rw"].get<double>(), v);
      }
    }
  }
  // 2018Q2's first release is 2018-07-28's value.
  const auto first = GdpKnown("2018-07-28");
  EXPECT_EQ(first.back().first.ToString(), "2018Q2");
  EXPECT_DOUBLE_EQ(j["points"][0]["outcome"].get<double>(), first.back().second);
  EXPECT_NE(j["points"][0]["outcome"].get<double>(), latest[static_cast<size_t>(
      Period::Parse("2018Q2").value().ordinal() - latest.front().first.ordinal())].second);
}

TEST_F(NowcastEvalCliTest, TablePrintsAccuracyAndTestsWithProgressOnStderr) {
  auto r = Run({"nowcast", "evaluate", "--config", dir_ / "fast.yaml", "--from", "2018-01-01", "--to", "2018-06-30",
                "--refit", "once", "--every", "month"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("nowcast evaluation of rt:gdp: 6 dates from 2018-01-31 to 2018-06-30"));
  EXPECT_THAT(r.out, HasSubstr("rmse_m1"));
  EXPECT_THAT(r.out, HasSubstr("dfm vs rw"));
  EXPECT_THAT(r.out, HasSubstr("dfm vs ar2"));
  EXPECT_THAT(r.err, HasSubstr("[6/6] nowcast on 2018-06-30"));
}

TEST_F(NowcastEvalCliTest, BadInputFailsWithAClearMessage) {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::string fast = dir_ / "fast.yaml";
  const std::vector<Case> cases = {
      {{"--from", "2018-06-01", "--to", "2018-01-01"}, "--from 2018-06-01 is after --to 2018-01-01"},
      {{"--from", "2018-01-05", "--to", "2018-01-20"}, "no evaluation date between 2018-01-05 and 2018-01-20"},
      {{"--from", "2017-01-01", "--to", "2017-12-31"},
       "too few vintages: the first evaluation date 2017-01-31 is before the first vintage (2017-07-01)"},
      {{"--from", "2019-07-01", "--to", "2019-09-30"}, "no outcome yet: rt:gdp 2019Q3"},
      {{"--from", "2018-01-01", "--to", "2018-03-31", "--every", "week"}, "--every 'week' is not one of month, release"},
      {{"--from", "2018-01-01", "--to", "2018-03-31", "--mode", "final"}, "--mode 'final' is not one of real-time, pseudo"},
      {{"--from", "2018-01-01", "--to", "2999-01-01"}, "--to 2999-01-01 is in the future"},
      {{"--from", "2018-13-01", "--to", "2018-03-31"}, "2018-13-01"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args = {"nowcast", "evaluate", "--config", fast, "--refit", "once"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    auto r = Run(args);
    EXPECT_EQ(r.exit_code, 1) << c.message << "\n" << r.out;
    EXPECT_THAT(r.err, HasSubstr(c.message));
  }
  // An unknown series in the config.
  WriteFile(dir_ / "bad.yaml", "target: rt:gdp\nindicators: [rt:ind01, rt:nope]\n");
  auto unknown = Run({"nowcast", "evaluate", "--config", dir_ / "bad.yaml", "--from", "2018-01-01", "--to", "2018-03-31"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_THAT(unknown.err, HasSubstr("unknown series rt:nope"));
  // A store with one vintage only.
  std::string csv = "series,period,value,realtime_start\n";
  for (int y = 2010; y <= 2017; ++y)
    for (int m = 1; m <= 12; ++m) {
      const std::string p = std::to_string(y) + "-" + (m < 10 ? "0" : "") + std::to_string(m);
      csv += "one:a," + p + "," + std::to_string(std::sin(y * 12 + m)) + ",2018-02-01\n";
      if (m % 3 == 0)
        csv += "one:gdp," + std::to_string(y) + "Q" + std::to_string(m / 3) + "," + std::to_string(std::cos(y * 4 + m)) +
               ",2018-02-01\n";
    }
  WriteFile(dir_ / "one.csv", csv);
  ASSERT_EQ(Run({"ingest", dir_ / "one.csv"}).exit_code, 0);
  WriteFile(dir_ / "one.yaml", "target: one:gdp\nindicators: [one:a]\n");
  auto one = Run({"nowcast", "evaluate", "--config", dir_ / "one.yaml", "--from", "2018-02-01", "--to", "2018-03-31"});
  EXPECT_EQ(one.exit_code, 1);
  EXPECT_THAT(one.err, HasSubstr("too few vintages: the configured series have 1 vintage date(s)"));
  // `nowcast` without a subcommand still needs --config.
  auto plain = Run({"nowcast", "--as-of", "2018-01-01"});
  EXPECT_EQ(plain.exit_code, 1);
  EXPECT_THAT(plain.err, HasSubstr("--config is required"));
}

}  // namespace
}  // namespace almanac::testing
