// The news chart of a nowcast update (issue 25).
#include "almanac/monitor/news_chart.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <regex>
#include <string>
#include <vector>

#include "core/testing/status_matchers.h"

namespace almanac::monitor {
namespace {

using ::almanac::testing::StatusIs;
using ::testing::HasSubstr;

Json NewsChartSample() {
  return Json::parse(R"({"old_value": 1.0, "new_value": 1.45, "change": 0.45, "revision_impact": -0.05,
    "news_impact": 0.5, "revised": ["ip@2023-10"],
    "releases": [{"series": "ip", "period": "2023-11", "impact": 0.2},
                 {"series": "sales", "period": "2023-11", "impact": -0.1},
                 {"series": "ip", "period": "2023-12", "impact": 0.4}]})");
}

// (label, impact) of every bar, in order.
std::vector<std::pair<std::string, double>> NewsChartBars(const std::string& svg) {
  std::vector<std::pair<std::string, double>> bars;
  const std::regex bar(R"re(<g class="news-bar" data-label="([^"]*)" data-impact="([^"]*)">)re");
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), bar); it != std::sregex_iterator(); ++it)
    bars.emplace_back((*it)[1].str(), std::stod((*it)[2].str()));
  return bars;
}

TEST(NewsChartTest, OneBarPerSeriesSummedWithRevisionsAndTheTotal) {
  ASSERT_OK_AND_ASSIGN(std::string svg, NewsChartSvg(NewsChartSample(), "GDP 2023Q4 <news>"));
  EXPECT_THAT(svg, HasSubstr("<svg class=\"news-chart\""));
  EXPECT_THAT(svg, HasSubstr("GDP 2023Q4 &lt;news&gt;"));  // escaped
  auto bars = NewsChartBars(svg);
  ASSERT_EQ(bars.size(), 4u);
  EXPECT_EQ(bars[0].first, "revisions");
  EXPECT_DOUBLE_EQ(bars[0].second, -0.05);
  EXPECT_EQ(bars[1].first, "ip");  // 0.2 + 0.4, in order of first release
  EXPECT_NEAR(bars[1].second, 0.6, 1e-12);
  EXPECT_EQ(bars[2].first, "sales");
  EXPECT_DOUBLE_EQ(bars[2].second, -0.1);
  EXPECT_EQ(bars[3].first, "total change");
  EXPECT_NEAR(bars[3].second, 0.45, 1e-12);
  // The parts add up to the total here (revisions + news = change).
  EXPECT_NEAR(bars[0].second + bars[1].second + bars[2].second, bars[3].second, 1e-12);
  // Deterministic: the same input gives the same bytes (pipeline artifacts are compared).
  ASSERT_OK_AND_ASSIGN(std::string again, NewsChartSvg(NewsChartSample(), "GDP 2023Q4 <news>"));
  EXPECT_EQ(svg, again);
}

TEST(NewsChartTest, NoReleasesAndNoChangeStillDraw) {
  Json n = NewsChartSample();
  n["releases"] = Json::array();
  n["new_value"] = 1.0;
  n["revision_impact"] = 0.0;
  ASSERT_OK_AND_ASSIGN(std::string svg, NewsChartSvg(n, "t"));
  auto bars = NewsChartBars(svg);
  ASSERT_EQ(bars.size(), 2u);
  EXPECT_EQ(bars[1].second, 0.0);
}

TEST(NewsChartTest, BadNewsIsRefusedNamingThePlace) {
  EXPECT_THAT(NewsChartSvg(Json::array(), "t"), StatusIs(StatusCode::kInvalidArgument, "expected an object"));
  Json n = NewsChartSample();
  n.erase("old_value");
  EXPECT_THAT(NewsChartSvg(n, "t"), StatusIs(StatusCode::kInvalidArgument, "news.old_value"));
  n = NewsChartSample();
  n["new_value"] = "1.4";
  EXPECT_THAT(NewsChartSvg(n, "t"), StatusIs(StatusCode::kInvalidArgument, "news.new_value"));
  n = NewsChartSample();
  n["revision_impact"] = std::numeric_limits<double>::infinity();
  EXPECT_THAT(NewsChartSvg(n, "t"), StatusIs(StatusCode::kInvalidArgument, "not a finite number"));
  n = NewsChartSample();
  n["releases"] = "ip";
  EXPECT_THAT(NewsChartSvg(n, "t"), StatusIs(StatusCode::kInvalidArgument, "news.releases"));
  n = NewsChartSample();
  n["releases"][1].erase("series");
  EXPECT_THAT(NewsChartSvg(n, "t"), StatusIs(StatusCode::kInvalidArgument, "news.releases[1].series"));
  n = NewsChartSample();
  n["releases"][2]["impact"] = std::nan("");
  EXPECT_THAT(NewsChartSvg(n, "t"), StatusIs(StatusCode::kInvalidArgument, "news.releases[2].impact"));
}

}  // namespace
}  // namespace almanac::monitor
