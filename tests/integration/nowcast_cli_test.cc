// End-to-end tests of `almanac nowcast` (issue 25): the two vintages of testdata/nowcast/
// (testdata/models/dfm's simulated data as long CSV with realtime_start) are ingested into a
// workspace; the command's nowcast and news equal the library (almanac/models/nowcast.h) on
// the same vintages read from the CSV here, the news sums to the change, and bad input fails
// with a message naming the series, date or key.
#include <cmath>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <iterator>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "almanac/core.h"
#include "almanac/core/json.h"
#include "almanac/models/nowcast.h"

#include "integration/cli_runner.h"
#include "integration/vintage_csv.h"

namespace almanac::testing {
namespace {

using ::testing::HasSubstr;

const std::string kDir = ALMANAC_SOURCE_DIR "/testdata/nowcast/";
const std::vector<std::string> kIndicators = {"sim:ip",  "sim:sales", "sim:emp",   "sim:hours",
                                              "sim:cpi", "sim:ppi",   "sim:rates", "sim:spread"};

models::MixedFrequencyData Aligned(const std::string& as_of) {
  auto series = VintagesFromCsv(kDir + "vintages.csv", as_of);
  std::vector<std::string> names = kIndicators;
  names.push_back("sim:gdp");
  std::vector<TimeSeries> list;
  for (const auto& n : names) list.push_back(series.at(n));
  return models::AlignMixedFrequency(names, list, Period::Parse("2023-12").value()).value();
}

// The model of testdata/nowcast/nowcast.yaml, but with 10 EM iterations: the comparison
// needs the same computation on both sides, not convergence (413 iterations take minutes
// at -O0; docs/nowcasting.md, "Run it", shows the converged run).
const char* kFastConfig =
    "target: sim:gdp\n"
    "indicators: [sim:ip, sim:sales, sim:emp, sim:hours, sim:cpi, sim:ppi, sim:rates, sim:spread]\n"
    "blocks:\n"
    "  - {name: global, factors: 1, order: 2}\n"
    "  - {name: real, factors: 1, order: 1, variables: [sim:ip, sim:sales, sim:emp, sim:hours, sim:gdp]}\n"
    "max_iterations: 10\n"
    "tolerance: 1.0e-6\n";
models::DfmOptions ConfigOptions() {
  models::DfmOptions o;
  o.blocks = {{"global", 1, 2, {}}, {"real", 1, 1, {"sim:ip", "sim:sales", "sim:emp", "sim:hours", "sim:gdp"}}};
  o.max_iterations = 10;
  o.tolerance = 1e-6;
  return o;
}

void ExpectClose(double cli, double lib, const std::string& what) {
  EXPECT_NEAR(cli, lib, 1e-9 * std::max(1.0, std::abs(lib))) << what;
}

class NowcastCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ws_ = dir_ / "ws";
    ASSERT_EQ(Run({"init"}).exit_code, 0);
    auto r = Run({"ingest", kDir + "vintages.csv"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  CommandResult Run(std::vector<std::string> args) {
    args.insert(args.begin(), {"--workspace", ws_});
    return RunAlmanac(args);
  }
  // A config file in the test folder.
  std::string Config(const std::string& text) {
    const std::string path = dir_ / ("config" + std::to_string(++configs_) + ".yaml");
    WriteFile(path, text);
    return path;
  }
  TempDir dir_;
  std::string ws_;
  int configs_ = 0;
};

TEST_F(NowcastCliTest, NowcastAndNewsEqualTheLibraryAndNewsSumsToTheChange) {
  const std::string config = Config(kFastConfig);
  const std::string chart = dir_ / "news.svg";
  auto r = Run({"nowcast", "--config", config, "--as-of", "2024-01-25", "--compare-as-of", "2024-01-10", "--quarter",
                "2023Q4", "--format", "json", "--chart", chart});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto out = ParseJson(r.out);
  ASSERT_TRUE(out.ok()) << r.out;
  EXPECT_EQ((*out)["target"], "sim:gdp");
  EXPECT_EQ((*out)["quarter"], "2023Q4");
  EXPECT_EQ((*out)["as_of"], "2024-01-25");

  const models::MixedFrequencyData new_data = Aligned("2024-01-25"), old_data = Aligned("2024-01-10");
  auto model = models::DynamicFactorModel::Fit(new_data, ConfigOptions());
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  const Period q = Period::Parse("2023Q4").value();
  auto now = model->NowcastOf(new_data, "sim:gdp", q);
  ASSERT_TRUE(now.ok()) << now.status().ToString();
  ExpectClose((*out)["nowcast"]["value"].get<double>(), now->value, "nowcast");
  ExpectClose((*out)["nowcast"]["std_error"].get<double>(), now->std_error, "std error");
  EXPECT_GT(now->std_error, 0);
  EXPECT_EQ((*out)["model"]["iterations"].get<int>(), model->report().iterations);
  EXPECT_THAT(r.err, HasSubstr("note: "));  // 10 iterations do not converge, and the note says so
  ExpectClose((*out)["model"]["loglik"].get<double>(), model->report().loglik, "loglik");

  auto news = model->News(old_data, new_data, "sim:gdp", q);
  ASSERT_TRUE(news.ok()) << news.status().ToString();
  const Json& n = (*out)["news"];
  EXPECT_EQ(n["compare_as_of"], "2024-01-10");
  ExpectClose(n["old_value"].get<double>(), news->old_value, "old value");
  ExpectClose(n["new_value"].get<double>(), now->value, "new value = nowcast");
  ExpectClose(n["revision_impact"].get<double>(), news->revision_impact, "revision impact");
  // The vintages differ by 7 releases and 2 revisions (testdata/models/dfm/make_goldens.py).
  ASSERT_EQ(n["releases"].size(), 7u);
  ASSERT_EQ(news->items.size(), 7u);
  EXPECT_EQ(n["revised"].size(), 2u);
  double sum = n["revision_impact"].get<double>();
  for (size_t i = 0; i < news->items.size(); ++i) {
    const Json& it = n["releases"][i];
    EXPECT_EQ(it["series"], news->items[i].variable);
    ExpectClose(it["actual"].get<double>(), news->items[i].observed, "actual " + std::to_string(i));
    ExpectClose(it["forecast"].get<double>(), news->items[i].forecast, "forecast " + std::to_string(i));
    ExpectClose(it["weight"].get<double>(), news->items[i].weight, "weight " + std::to_string(i));
    ExpectClose(it["impact"].get<double>(), it["news"].get<double>() * it["weight"].get<double>(), "impact");
    sum += it["impact"].get<double>();
  }
  // Releases by period; GDP 2023Q3 was in both vintages, so it is a revision, shown as a quarter.
  EXPECT_EQ(n["releases"][0]["period"], "2023-10");
  EXPECT_EQ(n["revised"], Json({"sim:ip@2023-08", "sim:gdp@2023Q3"}));
  EXPECT_NEAR(sum, n["change"].get<double>(), 1e-10);
  EXPECT_NEAR(n["new_value"].get<double>() - n["old_value"].get<double>(), n["change"].get<double>(), 1e-12);
  // --chart: the news chart, one bar per series with releases (summed) between revisions and the total.
  std::ifstream chart_in(chart);
  const std::string svg((std::istreambuf_iterator<char>(chart_in)), std::istreambuf_iterator<char>());
  EXPECT_THAT(svg, HasSubstr("<svg class=\"news-chart\""));
  std::map<std::string, double> by_series;
  for (const auto& it : n["releases"]) by_series[it["series"].get<std::string>()] += it["impact"].get<double>();
  for (const auto& [series, impact] : by_series)
    EXPECT_THAT(svg, HasSubstr("data-label=\"" + series + "\" data-impact=\"" + FormatDouble(impact) + "\""));
  EXPECT_THAT(svg, HasSubstr("data-label=\"total change\""));

  // The table form prints the same decomposition; --experiment records the run.
  auto t = Run({"nowcast", "--config", config, "--as-of", "2024-01-25", "--compare-as-of", "2024-01-10", "--quarter",
                "2023Q4", "--experiment", "nowcast-gdp"});
  ASSERT_EQ(t.exit_code, 0) << t.err;
  EXPECT_THAT(t.out, HasSubstr("nowcast of sim:gdp 2023Q4 (data as known on 2024-01-25): " +
                               FormatDouble(now->value)));
  EXPECT_THAT(t.out, HasSubstr("change since 2024-01-10: " + FormatDouble(news->old_value)));
  EXPECT_THAT(t.out, HasSubstr("revised: sim:ip@2023-08 sim:gdp@2023Q3"));
  EXPECT_THAT(t.out, HasSubstr("series"));
  EXPECT_THAT(t.out, HasSubstr("impact"));

  const size_t at = t.out.find("run: ");
  ASSERT_NE(at, std::string::npos) << t.out;
  const std::string run_id = t.out.substr(at + 5, t.out.find(' ', at + 5) - at - 5);
  auto shown = Run({"runs", "show", run_id, "--format", "json"});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  auto run = ParseJson(shown.out);
  ASSERT_TRUE(run.ok()) << shown.out;
  EXPECT_EQ((*run)["experiment"], "nowcast-gdp");
  EXPECT_EQ((*run)["status"], "finished");
  EXPECT_EQ((*run)["params"]["target"], "sim:gdp");
  EXPECT_EQ((*run)["params"]["quarter"], "2023Q4");
  EXPECT_EQ((*run)["params"]["compare_as_of"], "2024-01-10");
  ExpectClose((*run)["metrics"]["nowcast"].get<double>(), now->value, "tracked nowcast");
  ExpectClose((*run)["metrics"]["nowcast_std_error"].get<double>(), now->std_error, "tracked std error");
  ExpectClose((*run)["metrics"]["news_revision_impact"].get<double>(), news->revision_impact, "tracked revisions");
  ASSERT_EQ((*run)["artifacts"].size(), 1u);
  EXPECT_EQ((*run)["artifacts"][0]["name"], "runs/" + run_id + "/model.json");
}

TEST_F(NowcastCliTest, BadInputFailsWithAClearMessage) {
  const std::string blocks = "blocks: [{name: global, factors: 1, order: 1}]\n";
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"--config", Config("target: sim:gdp\nindicators: [sim:ip, sim:nope]\n" + blocks)}, "unknown series sim:nope"},
      {{"--config", Config("target: sim:ip\nindicators: [sim:sales, sim:emp]\n" + blocks)},
       "series sim:ip has frequency M; the target must be quarterly (Q)"},
      {{"--config", Config("target: sim:gdp\nindicators: []\n")}, "indicators must be a non-empty list"},
      {{"--config", kDir + "nowcast.yaml", "--as-of", "2999-01-01"}, "--as-of 2999-01-01 is in the future"},
      {{"--config", kDir + "nowcast.yaml", "--as-of", "2024-01-10", "--compare-as-of", "2024-01-25"},
       "--compare-as-of 2024-01-25 must be before the vintage of the nowcast (2024-01-10)"},
      {{"--config", kDir + "nowcast.yaml", "--as-of", "2024-01-10", "--chart", "news.svg"},
       "--chart draws the news of an update: it needs --compare-as-of DATE"},
      {{"--config", kDir + "nowcast.yaml", "--as-of", "2023-12-31"}, "series sim:ip has no observations known on 2023-12-31"},
      {{"--config", kDir + "nowcast.yaml", "--quarter", "2023-11"}, "--quarter '2023-11' is not a quarter"},
      {{"--config", Config("target: sim:gdp\nindicators: [sim:ip]\nfactor: 2\n")}, "unknown key 'factor'"},
      {{"--config", dir_ / "missing.yaml"}, "cannot read nowcast config"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args = {"nowcast"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    auto r = Run(args);
    EXPECT_EQ(r.exit_code, 1) << c.message << "\n" << r.out;
    EXPECT_THAT(r.err, HasSubstr(c.message));
  }
  // The target listed among the indicators.
  auto wrong = Run({"nowcast", "--config", Config("target: sim:gdp\nindicators: [sim:ip, sim:gdp]\n")});
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_THAT(wrong.err, HasSubstr("the target sim:gdp is also an indicator"));
}

TEST_F(NowcastCliTest, TooFewObservationsIsRefusedByTheModel) {
  // One year of two indicators and GDP: fewer observed months than the model's minimum (24).
  std::string csv = "series,period,value,realtime_start\n";
  for (int m = 1; m <= 12; ++m) {
    const std::string p = "2022-" + std::string(m < 10 ? "0" : "") + std::to_string(m);
    csv += "short:a," + p + "," + std::to_string(std::sin(m)) + ",2023-02-01\n";
    csv += "short:b," + p + "," + std::to_string(std::cos(m)) + ",2023-02-01\n";
    if (m % 3 == 0) csv += "short:gdp,2022Q" + std::to_string(m / 3) + "," + std::to_string(m * 0.1) + ",2023-02-01\n";
  }
  WriteFile(dir_ / "short.csv", csv);
  auto ing = Run({"ingest", dir_ / "short.csv"});
  ASSERT_EQ(ing.exit_code, 0) << ing.err;
  auto r = Run({"nowcast", "--config", Config("target: short:gdp\nindicators: [short:a, short:b]\n"), "--quarter",
                "2022Q4"});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_THAT(r.err, HasSubstr("nowcast config"));
  EXPECT_THAT(r.err, HasSubstr("12 months with observations, at least 24 are needed"));
}

}  // namespace
}  // namespace almanac::testing
