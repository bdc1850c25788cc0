// Test-only: what the upgrade tests of migration 12 (issue 22; store_test.cc on SQLite,
// pg_store_test.cc on PostgreSQL) check after both write the same version-11 metric rows.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "almanac/store.h"

namespace almanac::store::testing {

// The runs of experiment "exp" whose latest point of `key` passes `op value`, sorted; a test
// failure (and no runs) when the store answers an error.
inline std::vector<std::string> RunsOfExpWithLatestMetric(Store& s, std::string_view key, std::string_view op,
                                                          double value) {
  auto r = s.metadata().Transact<std::vector<std::string>>(
      [&](MetadataTxn& t) { return t.RunsWithLatestMetric("exp", key, op, value); });
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  std::vector<std::string> out = r.ok() ? *r : std::vector<std::string>{};
  std::sort(out.begin(), out.end());
  return out;
}

// The rows both tests write at version 11 (r1: rmse 0.5 at step 2 after 5 at step 0, mae 3;
// r2: two rmse points of the same step and time, 3 then 0.1, the later row wins; r3: rmse NaN
// at step 1 after 0.2) give these answers once the store is at version 12.
inline void ExpectTheLatestMetricsOfTheVersion11Rows(Store& s) {
  EXPECT_EQ(RunsOfExpWithLatestMetric(s, "rmse", "<", 1), (std::vector<std::string>{"r1", "r2"}));
  EXPECT_EQ(RunsOfExpWithLatestMetric(s, "rmse", "=", 0.1), std::vector<std::string>{"r2"});
  EXPECT_EQ(RunsOfExpWithLatestMetric(s, "rmse", ">=", 0), (std::vector<std::string>{"r1", "r2"}));  // r3: NaN
  EXPECT_EQ(RunsOfExpWithLatestMetric(s, "mae", "=", 3), std::vector<std::string>{"r1"});
}

}  // namespace almanac::store::testing
