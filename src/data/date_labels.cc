#include "data/date_labels.h"

#include <algorithm>
#include <cstdint>

namespace almanac::data {

bool LooksLikeIsoDate(std::string_view t) { return t.size() == 10 && t[4] == '-' && t[7] == '-'; }

Result<Frequency> InferDateFrequency(std::vector<Date> dates, const std::string& name) {
  std::sort(dates.begin(), dates.end());
  dates.erase(std::unique(dates.begin(), dates.end()), dates.end());
  if (dates.size() < 2)
    return InvalidArgumentError(name + ": cannot infer the frequency from fewer than two dates; pass --frequency");
  int64_t min_days = INT64_MAX, min_months = INT64_MAX;
  bool month_starts = true, month_ends = true, weekdays_only = true;
  for (size_t i = 0; i < dates.size(); ++i) {
    if (dates[i].day() != 1) month_starts = false;
    if ((dates[i] + 1).day() != 1) month_ends = false;
    if (dates[i].weekday() > 5) weekdays_only = false;
    if (i > 0) {
      min_days = std::min(min_days, dates[i] - dates[i - 1]);
      min_months = std::min<int64_t>(
          min_months, (dates[i].year() - dates[i - 1].year()) * 12 + (dates[i].month() - dates[i - 1].month()));
    }
  }
  if ((month_starts || month_ends) && min_days >= 28) {
    if (min_months == 12) return Frequency::kAnnual;
    if (min_months == 3) return Frequency::kQuarterly;
    if (min_months == 1) return Frequency::kMonthly;
  }
  if (min_days == 7) return Frequency::kWeekly;
  if (min_days == 1) return weekdays_only ? Frequency::kBusiness : Frequency::kDaily;
  return InvalidArgumentError(name + ": cannot infer the frequency from dates " + dates[0].ToString() + ", " +
                              dates[1].ToString() +
                              ", ...; pass --frequency (with --any-day if the dates are not the first or the last "
                              "day of their periods)");
}

Result<Period> ParseDateLabel(std::string_view raw, Frequency freq, DateAnchor* anchor) {
  const std::string_view text = Trim(raw);
  const bool calendar = freq == Frequency::kAnnual || freq == Frequency::kQuarterly || freq == Frequency::kMonthly;
  if (!calendar || *anchor == DateAnchor::kAnyDay || !LooksLikeIsoDate(text))
    return Period::Parse(text, freq, /*require_period_start=*/false);
  ALMANAC_ASSIGN_OR_RETURN(Date d, Date::Parse(text));
  ALMANAC_ASSIGN_OR_RETURN(Period p, Period::FromDate(d, freq));
  const bool start = p.StartDate() == d, end = p.EndDate() == d;
  if (*anchor == DateAnchor::kUnknown && (start || end)) *anchor = start ? DateAnchor::kStart : DateAnchor::kEnd;
  if ((*anchor == DateAnchor::kStart && start) || (*anchor == DateAnchor::kEnd && end)) return p;
  std::string msg =
      "date " + std::string(text) + " does not fit frequency " + std::string(FrequencyCode(freq)) + ": expected ";
  if (*anchor == DateAnchor::kUnknown) {
    msg += "the first or the last day of a period (" + p.StartDate().ToString() + " or " + p.EndDate().ToString() +
           " for " + p.ToString() + ")";
  } else {
    const bool want_start = *anchor == DateAnchor::kStart;
    msg += std::string("the ") + (want_start ? "first" : "last") + " day of a period like the earlier dates (" +
           (want_start ? p.StartDate() : p.EndDate()).ToString() + " for " + p.ToString() + ")";
  }
  return InvalidArgumentError(msg + "; pass --any-day to accept any day within the period");
}

}  // namespace almanac::data
