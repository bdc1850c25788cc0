// gmock matchers for Status and Result<T>: IsOk(), StatusIs(code), StatusIs(code, substr),
// IsOkAndHolds(matcher). Test-only.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ostream>

#include "almanac/core/status.h"

namespace almanac {
inline void PrintTo(const Status& s, std::ostream* os) { *os << s.ToString(); }
template <typename T>
void PrintTo(const Result<T>& r, std::ostream* os) {
  if (r.ok()) *os << "OK (a value)";
  else *os << r.status().ToString();
}
}  // namespace almanac

namespace almanac::testing {

inline const Status& ToStatus(const Status& s) { return s; }
template <typename T>
const Status& ToStatus(const Result<T>& r) {
  return r.status();
}

MATCHER(IsOk, "is OK") {
  const Status& s = ToStatus(arg);
  if (!s.ok()) *result_listener << "status is " << s.ToString();
  return s.ok();
}

MATCHER_P(StatusIs, code, "has status code " + std::string(StatusCodeName(code))) {
  const Status& s = ToStatus(arg);
  *result_listener << "status is " << s.ToString();
  return s.code() == code;
}

MATCHER_P2(StatusIs, code, substr,
           "has status code " + std::string(StatusCodeName(code)) + " and a message containing '" + std::string(substr) + "'") {
  const Status& s = ToStatus(arg);
  *result_listener << "status is " << s.ToString();
  return s.code() == code && s.message().find(substr) != std::string::npos;
}

MATCHER_P(IsOkAndHolds, m, "is OK and holds a matching value") {
  if (!arg.ok()) {
    *result_listener << "status is " << arg.status().ToString();
    return false;
  }
  return ::testing::ExplainMatchResult(m, *arg, result_listener);
}

}  // namespace almanac::testing

#define ASSERT_OK(expr) ASSERT_THAT((expr), ::almanac::testing::IsOk())
#define EXPECT_OK(expr) EXPECT_THAT((expr), ::almanac::testing::IsOk())
#define ASSERT_OK_AND_ASSIGN(lhs, expr)                                        \
  auto ALMANAC_STATUS_CONCAT(_almanac_t_, __LINE__) = (expr);                  \
  ASSERT_TRUE(ALMANAC_STATUS_CONCAT(_almanac_t_, __LINE__).ok())               \
      << ALMANAC_STATUS_CONCAT(_almanac_t_, __LINE__).status().ToString();     \
  lhs = std::move(ALMANAC_STATUS_CONCAT(_almanac_t_, __LINE__)).value()
