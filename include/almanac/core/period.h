// File: almanac/core/period.h
//
// Calendar arithmetic for macroeconomic frequencies: dates, frequencies and periods.
//
//   ALMANAC_ASSIGN_OR_RETURN(Period q, Period::Parse("2024Q1"));
//   Period next = q + 1;                        // 2024Q2
//   int64_t gap = Period::Parse("2025Q1")->Diff(q);  // 4
//   Period m = q.Convert(Frequency::kMonthly, Anchor::kEnd);  // 2024-03
//   std::string s = q.ToString();                // "2024Q1"
//
// Text forms (parse and print): A "2024", Q "2024Q1" (also "2024-Q1"), M "2024-03",
// W "2024-W05" (ISO 8601 week), D and B "2024-03-15" (ISO date). Years 1000..9999.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "almanac/core/status.h"

namespace almanac {

// A calendar day, counted from 1970-01-01 (day 0). Proleptic Gregorian calendar.
class Date {
 public:
  constexpr Date() = default;
  static constexpr Date FromDays(int64_t days) { return Date(days); }
  // Returns InvalidArgument for impossible dates (2024-02-30) and OutOfRange for years
  // outside 1000..9999.
  static Result<Date> FromYmd(int year, int month, int day);
  // Parses "YYYY-MM-DD" (exactly). Errors as FromYmd, or InvalidArgument for other text.
  static Result<Date> Parse(std::string_view text);

  constexpr int64_t days() const { return days_; }
  int year() const;
  int month() const;  // 1..12
  int day() const;    // 1..31
  // ISO weekday: 1 = Monday … 7 = Sunday.
  int weekday() const;
  std::string ToString() const;  // "YYYY-MM-DD"

  constexpr Date operator+(int64_t n) const { return Date(days_ + n); }
  constexpr Date operator-(int64_t n) const { return Date(days_ - n); }
  constexpr int64_t operator-(Date other) const { return days_ - other.days_; }
  constexpr auto operator<=>(const Date&) const = default;

 private:
  constexpr explicit Date(int64_t days) : days_(days) {}
  int64_t days_ = 0;
};

enum class Frequency : uint8_t {
  kAnnual,     // A
  kQuarterly,  // Q
  kMonthly,    // M
  kWeekly,     // W (ISO weeks, Monday to Sunday)
  kDaily,      // D (every calendar day)
  kBusiness,   // B (Monday to Friday; no holiday calendar)
};

// "A", "Q", "M", "W", "D", "B".
std::string_view FrequencyCode(Frequency f);
// Accepts the codes above (any case) and the words annual/yearly, quarterly, monthly,
// weekly, daily, business. InvalidArgument otherwise.
Result<Frequency> ParseFrequency(std::string_view text);
// Periods per year used as the default seasonal period: A 1, Q 4, M 12, W 52, D 7, B 5.
int SeasonalPeriod(Frequency f);
// True when `a` has strictly fewer periods per year than `b` (A < Q < M < W < B < D).
bool IsLowerFrequency(Frequency a, Frequency b);

// Where a period maps to when converted to a higher frequency.
enum class Anchor : uint8_t { kStart, kEnd };

// A period of a given frequency, stored as an ordinal:
//   A: year; Q: year*4 + quarter-1; M: year*12 + month-1; D: days since 1970-01-01;
//   W: ISO weeks since the week of 1970-01-01; B: weekdays since Monday 1969-12-29.
// Periods of different frequencies compare by frequency first (they never mix in one series).
class Period {
 public:
  constexpr Period() = default;
  constexpr Period(Frequency freq, int64_t ordinal) : freq_(freq), ordinal_(ordinal) {}

  // Parses the text forms listed at the top of this file, inferring the frequency
  // ("2024-03-15" is D). InvalidArgument names the text and what was expected.
  static Result<Period> Parse(std::string_view text);
  // Parses `text` as a period of `freq`. Accepts that frequency's own form and, for every
  // frequency, an ISO date: for A, Q and M the date must be the first day of the period
  // (or, with `require_period_start` false, any day within it); for W any day of the ISO
  // week. A B date on a weekend is an error.
  static Result<Period> Parse(std::string_view text, Frequency freq, bool require_period_start = true);
  // The period of `freq` that contains `date`. For B, a weekend date is an error.
  static Result<Period> FromDate(Date date, Frequency freq);

  constexpr Frequency frequency() const { return freq_; }
  constexpr int64_t ordinal() const { return ordinal_; }

  Date StartDate() const;
  Date EndDate() const;  // last day, inclusive
  int year() const;      // calendar year of the start date (ISO week-year for W)
  // Position within the year, 0-based: quarter-1, month-1, ISO week-1, weekday-1; A: 0.
  int SeasonIndex() const;

  std::string ToString() const;

  constexpr Period operator+(int64_t n) const { return Period(freq_, ordinal_ + n); }
  constexpr Period operator-(int64_t n) const { return Period(freq_, ordinal_ - n); }
  Period& operator+=(int64_t n) { ordinal_ += n; return *this; }
  // Number of periods from `other` to this (this - other). Both must share a frequency.
  Result<int64_t> Diff(const Period& other) const;

  // Converts to another frequency. To a lower frequency: the period containing this one
  // (anchor ignored). To a higher one: the first (kStart) or last (kEnd) sub-period.
  Period Convert(Frequency to, Anchor anchor = Anchor::kStart) const;

  constexpr auto operator<=>(const Period&) const = default;

 private:
  Frequency freq_ = Frequency::kAnnual;
  int64_t ordinal_ = 0;
};

}  // namespace almanac
