// Turns the rows of one load into vintages (store-internal; shared by every back-end so that
// they create exactly the same vintages).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
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

// What a series' latest view is: every period's value in its newest vintage (the largest
// (realtime_start, vintage_id)), hashed. Stores keep it per series so that a load identical to
// what is stored is recognised without reading the stored rows: re-downloading an unchanged
// file every day then costs little more than parsing it.
struct LatestDigest {
  int64_t max_rt = 0;  // the largest realtime_start of any stored row
  std::string sha256;  // hex SHA-256 over (period, value) of the latest view, by period
  int64_t periods = 0;  // number of periods in the latest view (lets readers pick a query plan)
  bool operator==(const LatestDigest&) const = default;
};

// The digest of the latest view of `a` and `b` together; each sorted by (period, rt,
// vintage_id) (stored rows, and the rows this load wrote). Empty sha256 when both are empty.
LatestDigest DigestOfLatest(std::span<const StoredRow> a, std::span<const StoredRow> b);

// When every row of `incoming` has the same realtime_start: that rt and the digest of the rows
// seen as a latest view. Sorts `incoming` as PlanVintages does. nullopt otherwise (or empty).
std::optional<LatestDigest> DigestOfIncoming(std::vector<IncomingRow>& incoming);

// A load changes nothing when all its rows share one realtime_start at or after every stored
// one and they are exactly the stored latest view (same periods, same values).
inline bool LoadChangesNothing(const std::optional<LatestDigest>& stored, const std::optional<LatestDigest>& incoming) {
  return stored && incoming && !stored->sha256.empty() && incoming->max_rt >= stored->max_rt &&
         incoming->sha256 == stored->sha256;
}

// The series seen as `latest` (period, value) pairs sorted by period, NaN = missing: leading
// and trailing missing values dropped, gaps filled with missing. Every back-end's ReadAsOf
// ends here.
TimeSeries SeriesFromLatest(Frequency f, const std::vector<std::pair<int64_t, double>>& latest);

// Values equal for vintage purposes: both missing, or equal numbers.
inline bool SameValue(double a, double b) { return (a != a && b != b) || a == b; }

}  // namespace almanac::store
