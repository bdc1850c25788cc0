// File: almanac/monitor/news_chart.h
//
// The chart of one nowcast update (issue 25): the change of the nowcast between two vintages,
// split into the revisions' effect and the impact of each series' new releases (the NY Fed
// Staff Nowcast's bar chart), as a self-contained SVG. Part of the monitor component (the
// report renderer); kept out of almanac/monitor.h like risk_report.h. Used by `almanac nowcast
// --chart` and by the nowcast pipeline's `nowcast_news.svg` artifact (docs/nowcasting.md).
#pragma once

#include <string>
#include <string_view>

#include "almanac/core.h"
#include "almanac/core/json.h"

namespace almanac::monitor {

// `news` is the "news" object of `almanac nowcast --format json` or of a nowcast pipeline's
// nowcast.json: old_value, new_value, revision_impact and releases [{series, impact, ...}].
// One horizontal bar per row, from zero: "revisions", then each series' summed impact in order
// of first release, then "total change" (= new - old); each bar is a
// <g class="news-bar" data-label=".." data-impact=".."> (tests and the console read them).
// InvalidArgument for a missing or non-finite number, or a release without series or impact.
Result<std::string> NewsChartSvg(const Json& news, std::string_view title);

}  // namespace almanac::monitor
