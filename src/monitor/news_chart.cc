// The news chart of a nowcast update (include/almanac/monitor/news_chart.h).
#include "almanac/monitor/news_chart.h"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "almanac/core/format.h"

namespace almanac::monitor {
namespace {

std::string NewsChartEsc(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

Result<double> NewsChartNumber(const Json& j, const char* key, const std::string& where) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_number())
    return InvalidArgumentError(where + key + ": missing or not a number");
  const double v = j[key].get<double>();
  if (!std::isfinite(v)) return InvalidArgumentError(where + key + ": not a finite number");
  return v;
}

}  // namespace

Result<std::string> NewsChartSvg(const Json& news, std::string_view title) {
  if (!news.is_object()) return InvalidArgumentError("news: expected an object (a nowcast's news decomposition)");
  ALMANAC_ASSIGN_OR_RETURN(double old_value, NewsChartNumber(news, "old_value", "news."));
  ALMANAC_ASSIGN_OR_RETURN(double new_value, NewsChartNumber(news, "new_value", "news."));
  ALMANAC_ASSIGN_OR_RETURN(double revisions, NewsChartNumber(news, "revision_impact", "news."));
  if (!news.contains("releases") || !news["releases"].is_array())
    return InvalidArgumentError("news.releases: missing or not an array");
  // Rows: revisions, each series (summed over its releases, in order of first release), total.
  std::vector<std::pair<std::string, double>> rows = {{"revisions", revisions}};
  const Json& releases = news["releases"];
  for (size_t i = 0; i < releases.size(); ++i) {
    const std::string where = "news.releases[" + std::to_string(i) + "].";
    const Json& r = releases[i];
    if (!r.is_object() || !r.contains("series") || !r["series"].is_string() || r["series"].get<std::string>().empty())
      return InvalidArgumentError(where + "series: missing or not a name");
    ALMANAC_ASSIGN_OR_RETURN(double impact, NewsChartNumber(r, "impact", where));
    const std::string series = r["series"].get<std::string>();
    auto it = std::find_if(rows.begin() + 1, rows.end(), [&](const auto& row) { return row.first == series; });
    if (it == rows.end()) {
      rows.emplace_back(series, impact);
    } else {
      it->second += impact;
    }
  }
  rows.emplace_back("total change", new_value - old_value);

  double extent = 0;
  for (const auto& [label, v] : rows) extent = std::max(extent, std::abs(v));
  if (extent == 0) extent = 1;  // no change at all: zero-width bars on a unit scale
  const double kLabelW = 170, kPlotW = 420, kValueW = 90, kRowH = 22, kTop = 46, kBottom = 14;
  const double width = kLabelW + kPlotW + kValueW;
  const double height = kTop + kRowH * static_cast<double>(rows.size()) + kBottom;
  const double zero = kLabelW + kPlotW / 2;
  const double scale = (kPlotW / 2 - 4) / extent;

  std::string s = "<svg class=\"news-chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" + FormatFixed(width, 0) +
                  "\" height=\"" + FormatFixed(height, 0) + "\" viewBox=\"0 0 " + FormatFixed(width, 0) + " " +
                  FormatFixed(height, 0) + "\" role=\"img\" aria-label=\"" + NewsChartEsc(title) + "\">\n";
  s += "<title>" + NewsChartEsc(title) + "</title>\n";
  s += "<rect x=\"0\" y=\"0\" width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n";
  s += "<text x=\"8\" y=\"18\" font-size=\"13\" font-weight=\"bold\">" + NewsChartEsc(title) + "</text>\n";
  s += "<text x=\"8\" y=\"36\" font-size=\"12\" fill=\"#444\">nowcast " + NewsChartEsc(FormatFixed(old_value, 4)) + " \u2192 " +
       NewsChartEsc(FormatFixed(new_value, 4)) + "</text>\n";
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& [label, v] = rows[i];
    const double y = kTop + kRowH * static_cast<double>(i);
    const double len = std::abs(v) * scale;
    const double x = v < 0 ? zero - len : zero;
    const bool total = i + 1 == rows.size();
    const char* fill = total ? "#2d3748" : (v < 0 ? "#c53030" : "#3182ce");
    s += "<g class=\"news-bar\" data-label=\"" + NewsChartEsc(label) + "\" data-impact=\"" + FormatDouble(v) + "\">";
    s += "<text x=\"" + FormatFixed(kLabelW - 8, 0) + "\" y=\"" + FormatFixed(y + 15, 0) +
         "\" font-size=\"12\" text-anchor=\"end\"" + (total ? " font-weight=\"bold\"" : "") + ">" +
         NewsChartEsc(label) + "</text>";
    s += "<rect x=\"" + FormatFixed(x, 2) + "\" y=\"" + FormatFixed(y + 4, 0) + "\" width=\"" + FormatFixed(len, 2) +
         "\" height=\"" + FormatFixed(kRowH - 8, 0) + "\" fill=\"" + fill + "\"/>";
    s += "<text x=\"" + FormatFixed(kLabelW + kPlotW + 6, 0) + "\" y=\"" + FormatFixed(y + 15, 0) +
         "\" font-size=\"12\">" + (v > 0 ? "+" : "") + NewsChartEsc(FormatFixed(v, 4)) + "</text></g>\n";
  }
  s += "<line x1=\"" + FormatFixed(zero, 1) + "\" y1=\"" + FormatFixed(kTop, 0) + "\" x2=\"" + FormatFixed(zero, 1) +
       "\" y2=\"" + FormatFixed(height - kBottom, 0) + "\" stroke=\"#4a5568\"/>\n</svg>\n";
  return s;
}

}  // namespace almanac::monitor
