// Asset returns from series (issue 24): the store's series as a return history for the
// factor models (docs/risk.md, "Asset returns from the store").
#include <cmath>
#include <set>

#include "almanac/risk.h"

namespace almanac::risk {

Result<AssetReturns> AlignAssetReturns(const std::vector<std::string>& assets, const std::vector<TimeSeries>& series,
                                       int64_t min_periods) {
  if (assets.size() != series.size())
    return InvalidArgumentError("asset returns: " + std::to_string(assets.size()) + " asset names but " +
                                std::to_string(series.size()) + " series");
  if (assets.empty()) return InvalidArgumentError("asset returns: no asset");
  std::set<std::string> seen;
  std::vector<TimeSeries> all;
  for (size_t a = 0; a < assets.size(); ++a) {
    if (assets[a].empty()) return InvalidArgumentError("asset returns: asset " + std::to_string(a + 1) + " has no name");
    if (!seen.insert(assets[a]).second)
      return InvalidArgumentError("asset returns: asset " + QuoteForMessage(assets[a]) + " is named twice");
    TimeSeries t = series[a].Trimmed();
    if (t.empty() || t.size() == t.CountMissing())
      return InvalidArgumentError("asset " + QuoteForMessage(assets[a]) + ": its return series has no observations");
    if (a > 0 && t.start().frequency() != all[0].start().frequency())
      return InvalidArgumentError("asset " + QuoteForMessage(assets[a]) + ": its return series' frequency differs from asset " +
                                  QuoteForMessage(assets[0]) + "'s");
    all.push_back(std::move(t));
  }
  AssetReturns out;
  out.assets = assets;
  out.values.assign(all.size(), {});
  Period lo = all[0].start(), hi = all[0].end();
  for (const auto& t : all) {
    if (t.start() > lo) lo = t.start();
    if (t.end() < hi) hi = t.end();
  }
  if (lo <= hi) {
    for (Period p = lo; p <= hi; p = p + 1) {
      bool complete = true;
      std::vector<double> row;
      row.reserve(all.size());
      for (const auto& t : all) {
        const std::optional<double> x = t.at(p);
        if (!x || !std::isfinite(*x)) complete = false;
        row.push_back(x.value_or(0.0));
      }
      if (!complete) continue;
      out.periods.push_back(p);
      for (size_t a = 0; a < all.size(); ++a) out.values[a].push_back(row[a]);
    }
  }
  if (out.periods.empty()) return InvalidArgumentError("asset returns: the assets have no period in common");
  if (static_cast<int64_t>(out.periods.size()) < min_periods)
    return InvalidArgumentError("asset returns: the assets have " + std::to_string(out.periods.size()) +
                                " period(s) in common, need at least " + std::to_string(min_periods));
  return out;
}

}  // namespace almanac::risk
