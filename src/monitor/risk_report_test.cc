// The risk section of the model-risk report (issue 24): tables and charts from a stress
// test's JSON report, and errors naming the file for anything else.
#include <limits>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "almanac/monitor/risk_report.h"

namespace almanac::monitor {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

Json RiskReportSample() {
  auto figure = [](const char* method, double level, double var, double es) {
    return Json{{"method", method}, {"level", level}, {"var", var}, {"es", es}, {"positions", Json::array()}};
  };
  Json h1 = {{"h", 1},
             {"period", "2009Q4"},
             {"mean", 2.5},
             {"point", 2.75},
             {"histogram", {{"edges", {-30.0, -10.0, 10.0, 30.0}}, {"counts", {2, 5, 3}}}},
             {"figures", {figure("monte_carlo", 0.95, 49.68, 64.39), figure("normal", 0.95, 50.0, 63.0),
                          figure("monte_carlo", 0.99, 73.75, 86.97)}}};
  Json h2 = h1;
  h2["h"] = 2;
  h2["period"] = "2010Q1";
  h2["figures"] = {figure("monte_carlo", 0.95, 64.14, 83.65), figure("monte_carlo", 0.99, 95.05, 112.48)};
  return {{"macro_model", {{"method", "VAR(2), constant"}, {"sample", "1959Q1..2009Q3 (203 obs)"}}},
          {"currency", "USD"},
          {"settings", {{"paths", 10000}, {"seed", 7}, {"levels", {0.95, 0.99}}}},
          {"inputs", {{"positions", {{"sha256", "ab12"}}}, {"series", {"us:unemp"}}}},
          {"historical", {figure("historical", 0.99, 43.18, 43.18)}},
          {"scenarios", {{{"scenario", "severe<1>"}, {"horizons", {h1, h2}}}}}};
}

TEST(RiskSectionTest, TablesAndChartFromTheStressTestReport) {
  auto html = RiskSectionHtml(RiskReportSample(), "report.json");
  ASSERT_TRUE(html.ok()) << html.status().ToString();
  EXPECT_THAT(*html, HasSubstr("<h2 id=\"risk\">"));
  EXPECT_THAT(*html, HasSubstr("From report.json: VAR(2), constant on 1959Q1..2009Q3 (203 obs); 10000 paths"));
  EXPECT_THAT(*html, HasSubstr("<th>VaR 95%</th><th>ES 95%</th><th>VaR 99%</th><th>ES 99%</th>"));
  // One row per scenario and horizon with the Monte Carlo figures (not the normal ones), escaped.
  EXPECT_THAT(*html, HasSubstr("<tr><td>severe&lt;1&gt;</td><td class=\"num\">1</td><td>2009Q4</td>"
                               "<td class=\"num\">2.500</td><td class=\"num\">2.750</td><td class=\"num\">49.680</td>"
                               "<td class=\"num\">64.390</td><td class=\"num\">73.750</td><td class=\"num\">86.970</td></tr>"));
  EXPECT_THAT(*html, HasSubstr("<td>2010Q1</td>"));
  EXPECT_THAT(*html, Not(HasSubstr("50.000")));
  // The last horizon's histogram: three bars, the loss bin red, the tallest at full height.
  EXPECT_THAT(*html, HasSubstr("<svg id=\"risk-hist-0\""));
  EXPECT_THAT(*html, HasSubstr("P&amp;L to 2010Q1 (h = 2)"));
  size_t rects = 0;
  for (size_t at = html->find("<rect"); at != std::string::npos; at = html->find("<rect", at + 1)) ++rects;
  EXPECT_EQ(rects, 3u);
  EXPECT_THAT(*html, HasSubstr("y=\"10.0\" width="));  // 5 of 5: (180 - 10) high from y = 10
  EXPECT_THAT(*html, HasSubstr("fill=\"#c53030\""));
  EXPECT_THAT(*html, HasSubstr("<table id=\"risk-historical\">"));
  EXPECT_THAT(*html, HasSubstr("<code>ab12</code>"));
  EXPECT_THAT(*html, Not(HasSubstr("<script")));
}

TEST(RiskSectionTest, AnythingButAStressTestReportIsRefusedNamingTheFile) {
  EXPECT_THAT(RiskSectionHtml(Json::array(), "x.json").status().message(), HasSubstr("x.json: not a risk report"));
  EXPECT_THAT(RiskSectionHtml(Json{{"scenarios", 3}}, "x.json").status().message(), HasSubstr("not a risk report"));
  Json bad = RiskReportSample();
  bad["scenarios"][0].erase("horizons");
  auto r = RiskSectionHtml(bad, "x.json");
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("x.json: scenarios[0] needs a 'scenario' name and a 'horizons' array"));
}

Json VarBacktestSample() {
  Json pts = Json::array();
  // Four origins; the third is an exception (loss of 12 beyond a VaR of 10).
  const double var[] = {10, 10, 10, 10}, pnl[] = {3, -4, -12, 1};
  for (int i = 0; i < 4; ++i)
    pts.push_back({{"origin", "2005Q" + std::to_string(i + 1)}, {"target", "T<" + std::to_string(i) + ">"},
                   {"var", var[i]}, {"es", 12.0}, {"pnl", pnl[i]}, {"exception", pnl[i] < -var[i]}});
  return {{"inputs", Json::object()}, {"skipped", Json::array()}, {"points", pts},
          {"backtest", {{"observations", 4}, {"level", 0.99}, {"exceptions", 1}, {"expected_exceptions", 0.04},
                        {"kupiec_lr", 4.3281}, {"kupiec_p", 0.0376}, {"independence_lr", 0.0}, {"independence_p", 1.0},
                        {"conditional_coverage_lr", 4.3281}, {"conditional_coverage_p", 0.1149}, {"zone", "green"}}}};
}

TEST(VarBacktestSectionTest, TableAndChartWithTheExceptionsMarked) {
  auto html = VarBacktestSectionHtml(VarBacktestSample(), "bt.json");
  ASSERT_TRUE(html.ok()) << html.status().ToString();
  EXPECT_THAT(*html, HasSubstr("<h2 id=\"var-backtest\">VaR backtest</h2>"));
  EXPECT_THAT(*html, HasSubstr("From bt.json: the one-step VaR at 99.0%"));
  EXPECT_THAT(*html, HasSubstr("<tr><td class=\"num\">4</td><td class=\"num\">1</td><td class=\"num\">0.04</td>"
                               "<td class=\"num\">4.328 (0.038)</td><td class=\"num\">0.000 (1.000)</td>"
                               "<td class=\"num\">4.328 (0.115)</td><td><b style=\"color:#2f855a\">green</b></td></tr>"));
  size_t exceptions = 0, points = 0;
  for (size_t at = html->find("<circle class=\"exception\""); at != std::string::npos;
       at = html->find("<circle class=\"exception\"", at + 1))
    ++exceptions;
  for (size_t at = html->find("<circle class=\"pnl\""); at != std::string::npos; at = html->find("<circle class=\"pnl\"", at + 1))
    ++points;
  EXPECT_EQ(exceptions, 1u);
  EXPECT_EQ(points, 3u);
  EXPECT_THAT(*html, HasSubstr("<polyline class=\"minus-var\""));
  EXPECT_THAT(*html, HasSubstr("T&lt;2&gt;: P&amp;L -12.00, VaR 10.00"));  // escaped, the exception's tooltip
  EXPECT_THAT(*html, Not(HasSubstr("<script")));
}

TEST(VarBacktestSectionTest, AnythingElseIsRefusedNamingTheFile) {
  EXPECT_THAT(VarBacktestSectionHtml(Json::array(), "x.json").status().message(), HasSubstr("x.json: not a VaR backtest"));
  Json j = VarBacktestSample();
  j.erase("backtest");
  EXPECT_THAT(VarBacktestSectionHtml(j, "x.json").status().message(), HasSubstr("not a VaR backtest"));
  j = VarBacktestSample();
  j["points"][2]["pnl"] = "twelve";
  EXPECT_THAT(VarBacktestSectionHtml(j, "x.json").status().message(), HasSubstr("x.json: points[2] needs finite"));
  j = VarBacktestSample();
  j["points"][1]["var"] = std::numeric_limits<double>::infinity();
  EXPECT_THAT(VarBacktestSectionHtml(j, "x.json").status().message(), HasSubstr("points[1]"));
}

}  // namespace
}  // namespace almanac::monitor
