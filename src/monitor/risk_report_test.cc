// The risk section of the model-risk report (issue 24): tables and charts from a stress
// test's JSON report, and errors naming the file for anything else.
#include <cmath>
#include <functional>
#include <limits>
#include <regex>
#include <string>
#include <vector>

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

// ------------------------------------------------------------ contribution charts (issue 24)

// A report whose last horizon has Monte Carlo contributions: 20 positions (every third one a
// hedge, negative) and 4 components, each list adding up to the figure's VaR and ES.
Json ContributionSample(int positions = 20) {
  Json pos = Json::array();
  double var = 0, es = 0;
  for (int j = 0; j < positions; ++j) {
    const double e = (j % 3 == 0 ? -1.0 : 1.0) * (j + 1) * 1.5, v = e * 0.8;
    pos.push_back({{"position", "pos<" + std::to_string(j) + ">"}, {"var", v}, {"es", e}});
    var += v;
    es += e;
  }
  Json comps = Json::array({Json{{"component", "drift"}, {"var", -10.0}, {"es", -10.0}},
                            Json{{"component", "us:tbilrate"}, {"var", 30.0}, {"es", 31.0}},
                            Json{{"component", "us:unemp"}, {"var", -5.0}, {"es", -4.0}}});
  comps.push_back({{"component", "specific"}, {"var", var - 15.0}, {"es", es - 17.0}});
  Json r = RiskReportSample();
  Json& last = r["scenarios"][0]["horizons"][1];
  // The charted figure is the Monte Carlo one at the highest level (0.99), not the 0.95 one.
  last["figures"][1] = {{"method", "monte_carlo"}, {"level", 0.99}, {"var", var}, {"es", es},
                        {"positions", pos}, {"components", comps}};
  last["figures"][0]["positions"] = Json::array({Json{{"position", "ignored"}, {"var", 1.0}, {"es", 1.0}}});
  return r;
}

struct Bar {
  std::string cls, name;
  double x = 0, width = 0, es = 0, var = 0;
};

std::string SvgById(const std::string& html, const std::string& id) {
  const size_t at = html.find("<svg id=\"" + id + "\"");
  if (at == std::string::npos) return "";
  return html.substr(at, html.find("</svg>", at) - at);
}

std::vector<Bar> BarsOf(const std::string& svg) {
  static const std::regex re(
      "<g class=\"([a-z ]+)\"><title>[^<]*</title><text[^>]*>[^<]*</text><rect x=\"([-0-9.]+)\" y=\"[-0-9.]+\" "
      "width=\"([0-9.]+)\" height=\"[0-9.]+\" fill=\"#[0-9a-f]+\" data-name=\"([^\"]*)\" data-es=\"([^\"]+)\" "
      "data-var=\"([^\"]+)\"/>");
  std::vector<Bar> out;
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), re); it != std::sregex_iterator(); ++it)
    out.push_back({(*it)[1], (*it)[4], std::stod((*it)[2]), std::stod((*it)[3]), std::stod((*it)[5]), std::stod((*it)[6])});
  return out;
}

double ZeroX(const std::string& svg) {
  static const std::regex re("<line class=\"zero\" x1=\"([-0-9.]+)\"");
  std::smatch m;
  return std::regex_search(svg, m, re) ? std::stod(m[1]) : NAN;
}

TEST(RiskContributionChartTest, ByPositionTopFifteenThenOthersAddingUpToTheTotal) {
  const Json r = ContributionSample();
  auto html = RiskSectionHtml(r, "report.json");
  ASSERT_TRUE(html.ok()) << html.status().ToString();
  const Json& fig = r["scenarios"][0]["horizons"][1]["figures"][1];
  const std::string svg = SvgById(*html, "risk-contrib-pos-0");
  ASSERT_FALSE(svg.empty());
  EXPECT_THAT(*html, HasSubstr("<h3>severe&lt;1&gt;: contributions to the ES 99% to 2010Q1 by position</h3>"));
  const std::vector<Bar> bars = BarsOf(svg);
  ASSERT_EQ(bars.size(), 17u);  // 15 positions, others, total
  EXPECT_EQ(bars[15].cls, "bar others");
  EXPECT_EQ(bars[16].cls, "total");
  EXPECT_DOUBLE_EQ(bars[16].es, fig["es"].get<double>());
  EXPECT_DOUBLE_EQ(bars[16].var, fig["var"].get<double>());
  // The bars (others included) add up to the total, for the ES and the VaR.
  double es = 0, var = 0;
  for (size_t i = 0; i < 16; ++i) {
    es += bars[i].es;
    var += bars[i].var;
  }
  EXPECT_NEAR(es, bars[16].es, 1e-9);
  EXPECT_NEAR(var, bars[16].var, 1e-9);
  // Largest |ES contribution| first: positions 19, 18, ..., 5 (|es| = 1.5 (j + 1)); the other
  // five (0..4: -1.5 + 3 + 4.5 - 6 + 7.5 = 7.5) are summed in "others".
  for (size_t i = 0; i < 15; ++i) {
    EXPECT_EQ(bars[i].name, "pos&lt;" + std::to_string(19 - i) + "&gt;") << i;
    if (i > 0) {
      EXPECT_GE(std::abs(bars[i - 1].es), std::abs(bars[i].es));
    }
  }
  EXPECT_DOUBLE_EQ(bars[15].es, 7.5);
  EXPECT_THAT(svg, HasSubstr(">others (5 positions)</text>"));
  // Negative bars end at zero, positive ones start there; widths are proportional to |ES|.
  const double zero = ZeroX(svg);
  ASSERT_TRUE(std::isfinite(zero));
  const double px_per_unit = bars[0].width / std::abs(bars[0].es);
  for (const Bar& b : bars) {
    if (b.es < 0) {
      EXPECT_NEAR(b.x + b.width, zero, 0.02) << b.name;
    } else {
      EXPECT_NEAR(b.x, zero, 0.02) << b.name;
    }
    EXPECT_NEAR(b.width, std::max(0.5, std::abs(b.es) * px_per_unit), 0.03) << b.name;
  }
  // Tooltips with the values; the 0.95 figure's contributions are not charted.
  EXPECT_THAT(svg, HasSubstr("<title>pos&lt;19&gt;: ES 99% contribution 30.00 ("));
  EXPECT_THAT(svg, HasSubstr("; VaR contribution 24.00</title>"));
  EXPECT_THAT(*html, Not(HasSubstr("ignored")));
  EXPECT_THAT(*html, Not(HasSubstr("<script")));
}

TEST(RiskContributionChartTest, ByFactorAllComponentsSortedWithTheirSigns) {
  auto html = RiskSectionHtml(ContributionSample(), "report.json");
  ASSERT_TRUE(html.ok()) << html.status().ToString();
  const std::string svg = SvgById(*html, "risk-contrib-factor-0");
  ASSERT_FALSE(svg.empty());
  const std::vector<Bar> bars = BarsOf(svg);
  ASSERT_EQ(bars.size(), 5u);  // 4 components, no "others", the total
  std::vector<std::string> names;
  for (const Bar& b : bars) names.push_back(b.name);
  // ES 105 (the positions' sum) = specific 88 + us:tbilrate 31 + drift -10 + us:unemp -4.
  EXPECT_EQ(names, (std::vector<std::string>{"specific", "us:tbilrate", "drift", "us:unemp", "total"}));
  double total = 0;
  for (size_t i = 0; i < 4; ++i) total += bars[i].es;
  EXPECT_NEAR(total, bars[4].es, 1e-9);
  EXPECT_DOUBLE_EQ(bars[4].es, 105.0);
  EXPECT_DOUBLE_EQ(bars[0].es, 88.0);
  EXPECT_THAT(svg, Not(HasSubstr("others")));
  // drift (-10) and us:unemp (-4) are drawn left of zero in blue.
  EXPECT_THAT(svg, HasSubstr("fill=\"#3182ce\" data-name=\"drift\""));
  EXPECT_THAT(svg, HasSubstr("fill=\"#c53030\" data-name=\"us:tbilrate\""));
}

TEST(RiskContributionChartTest, FifteenOrFewerPositionsHaveNoOthersBar) {
  auto html = RiskSectionHtml(ContributionSample(15), "report.json");
  ASSERT_TRUE(html.ok()) << html.status().ToString();
  const std::vector<Bar> bars = BarsOf(SvgById(*html, "risk-contrib-pos-0"));
  ASSERT_EQ(bars.size(), 16u);
  for (const Bar& b : bars) EXPECT_NE(b.cls, "bar others");
}

TEST(RiskContributionChartTest, AReportWithoutContributionsHasNoChartAndNoError) {
  // The sample's figures have empty position lists and no components.
  auto html = RiskSectionHtml(RiskReportSample(), "report.json");
  ASSERT_TRUE(html.ok()) << html.status().ToString();
  EXPECT_THAT(*html, Not(HasSubstr("risk-contrib")));
  // No contribution keys at all, or no Monte Carlo figure: the same.
  Json r = RiskReportSample();
  for (auto& hz : r["scenarios"][0]["horizons"])
    for (auto& f : hz["figures"]) f.erase("positions");
  html = RiskSectionHtml(r, "report.json");
  ASSERT_TRUE(html.ok()) << html.status().ToString();
  EXPECT_THAT(*html, Not(HasSubstr("risk-contrib")));
  r = ContributionSample();
  r["scenarios"][0]["horizons"][1].erase("figures");
  html = RiskSectionHtml(r, "report.json");
  ASSERT_TRUE(html.ok()) << html.status().ToString();
  EXPECT_THAT(*html, Not(HasSubstr("risk-contrib")));
}

TEST(RiskContributionChartTest, MalformedContributionsAreRefusedNamingTheFile) {
  struct Case {
    std::function<void(Json&)> spoil;
    std::string message;
  };
  const std::vector<Case> cases = {
      {[](Json& f) { f["positions"] = "eq-us"; },
       "r.json: scenarios[0].horizons[1].figures[1].positions must be an array"},
      {[](Json& f) { f["positions"][3]["es"] = "lots"; },
       "r.json: scenarios[0].horizons[1].figures[1].positions[3] ('pos<3>') needs finite 'var' and 'es'"},
      {[](Json& f) { f["positions"][2].erase("position"); },
       "r.json: scenarios[0].horizons[1].figures[1].positions[2] needs a 'position' name"},
      {[](Json& f) { f["components"][0] = 7; },
       "r.json: scenarios[0].horizons[1].figures[1].components[0] needs a 'component' name"},
      {[](Json& f) { f["components"][1]["es"] = 99.0; },
       "r.json: scenarios[0].horizons[1].figures[1].components: the ES contributions add up to"},
      {[](Json& f) { f["positions"][0]["var"] = 1e6; },
       "r.json: scenarios[0].horizons[1].figures[1].positions: the VaR contributions add up to"},
      {[](Json& f) { f.erase("es"); }, "r.json: scenarios[0].horizons[1].figures[1] has contributions but no finite 'es'"},
  };
  for (const auto& c : cases) {
    Json r = ContributionSample();
    c.spoil(r["scenarios"][0]["horizons"][1]["figures"][1]);
    auto html = RiskSectionHtml(r, "r.json");
    EXPECT_EQ(html.status().code(), StatusCode::kInvalidArgument) << c.message;
    EXPECT_THAT(html.status().message(), HasSubstr(c.message));
  }
  // A malformed list in a figure that is not charted (horizon 1) is refused too.
  Json r = ContributionSample();
  r["scenarios"][0]["horizons"][0]["figures"][0]["components"] = Json::object();
  EXPECT_THAT(RiskSectionHtml(r, "r.json").status().message(),
              HasSubstr("r.json: scenarios[0].horizons[0].figures[0].components must be an array"));
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
