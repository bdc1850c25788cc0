// Turns the rows of one load into vintages (store-internal; shared by every back-end so that
// they create exactly the same vintages).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "almanac/core.h"

namespace almanac::store {

// A stored observation of one series. Sorted by (period, rt, vintage_id) when passed in.
// value NaN = explicitly missing.
struct StoredRow {
  int64_t period;
  int64_t rt;  // realtime_start, days since epoch
  int64_t vintage_id;
  double value;
};

// An observation of one series from the load being committed.
struct IncomingRow {
  int64_t period;
  int64_t rt;
  double value;
};

struct PlannedVintage {
  int64_t rt = 0;
  bool restate = false;
  std::vector<std::pair<int64_t, double>> rows;  // (period, value), sorted by period
};

// Plans the vintages for one series: for each realtime_start in `incoming` (ascending), the
// rows whose value differs from what was known at that date (stored rows plus the earlier
// vintages of this load); and, when the load back-fills dates before existing vintages,
// "restate" vintages at those later dates that re-record what they knew, so that an as-of
// read at any existing vintage date is unchanged by the back-fill.
// `incoming` is sorted in place. InvalidArgument (message: "duplicate period <ordinal>@<rt>")
// when two incoming rows share period and rt; callers format the period.
struct DuplicateRow {
  int64_t period;
  int64_t rt;
};
Result<std::vector<PlannedVintage>> PlanVintages(std::span<const StoredRow> existing,
                                                 std::vector<IncomingRow>& incoming,
                                                 DuplicateRow* duplicate);

// Values equal for vintage purposes: both missing, or equal numbers.
inline bool SameValue(double a, double b) { return (a != a && b != b) || a == b; }

}  // namespace almanac::store
