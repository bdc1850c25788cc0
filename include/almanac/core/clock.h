// File: almanac/core/clock.h
//
// Time sources. Code that records times (loaded_at, run start/end, audit entries) takes a
// Clock so tests can use a fixed one.
#pragma once

#include <cstdint>
#include <string>

#include "almanac/core/period.h"

namespace almanac {

class Clock {
 public:
  virtual ~Clock() = default;
  // Microseconds since the Unix epoch (UTC).
  virtual int64_t NowMicros() const = 0;
  // Today's date in UTC.
  Date Today() const;
};

// The system clock. Thread-safe; the returned object lives for the whole process.
const Clock& SystemClock();

// A clock that returns a settable time. Thread-compatible.
class FixedClock : public Clock {
 public:
  explicit FixedClock(int64_t micros) : micros_(micros) {}
  int64_t NowMicros() const override { return micros_; }
  void Set(int64_t micros) { micros_ = micros; }
  void Advance(int64_t micros) { micros_ += micros; }

 private:
  int64_t micros_;
};

// The one rule for an as-of date, wherever it is given (the CLI's --as-of, serve's as_of):
// exactly YYYY-MM-DD and not after `clock`'s today, since data not yet known cannot be read and
// a read "as of" a future date would change as data arrives. InvalidArgument
// "WHAT 'TEXT' is not a date (YYYY-MM-DD)" or "WHAT DATE is in the future (today is TODAY)".
Result<Date> ParseAsOfDate(std::string_view text, const Clock& clock, std::string_view what = "as_of");
// The second half of that rule for a date already parsed (a pipeline's data.as_of at run time).
Status CheckAsOfDate(Date date, const Clock& clock, std::string_view what = "as_of");

// "2024-05-01T12:34:56.789012Z".
std::string FormatTimestamp(int64_t micros);
// Parses the form above (fraction optional) or a plain date (midnight UTC).
// InvalidArgument otherwise.
Result<int64_t> ParseTimestamp(std::string_view text);
// A duration in microseconds from a whole number and a unit: "45s", "30m", "12h", "90d", "2w".
// InvalidArgument for anything else (no unit, negative, fractions, overflow past 100 years).
Result<int64_t> ParseDuration(std::string_view text);

}  // namespace almanac
