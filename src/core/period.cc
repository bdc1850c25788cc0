#include "almanac/core/period.h"

#include <array>
#include <charconv>
#include <cstdio>

#include "almanac/core/format.h"

namespace almanac {
namespace {

constexpr int kMinYear = 1000;
constexpr int kMaxYear = 9999;

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}
int64_t FloorMod(int64_t a, int64_t b) { return a - FloorDiv(a, b) * b; }

// Howard Hinnant's days_from_civil / civil_from_days.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = FloorDiv(y, 400);
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

struct Ymd {
  int64_t y;
  unsigned m;
  unsigned d;
};

Ymd CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = FloorDiv(z, 146097);
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {y + (m <= 2), m, d};
}

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
unsigned DaysInMonth(int64_t y, unsigned m) {
  static constexpr std::array<unsigned, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return (m == 2 && IsLeap(y)) ? 29 : kDays[m - 1];
}

// Monday of ISO week 1 of `iso_year`, in days since epoch.
int64_t IsoWeekOneMonday(int64_t iso_year) {
  const int64_t jan4 = DaysFromCivil(iso_year, 1, 4);
  const int64_t wd = FloorMod(jan4 + 3, 7);  // 0 = Monday
  return jan4 - wd;
}

// Weeks are counted from the week containing 1970-01-01 (Monday 1969-12-29 = day -3).
int64_t WeekOrdinalFromDays(int64_t days) { return FloorDiv(days + 3, 7); }
int64_t MondayOfWeekOrdinal(int64_t w) { return w * 7 - 3; }

bool ParseFixedInt(std::string_view s, int& out) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

Status BadPeriod(std::string_view text, std::string_view why) {
  return InvalidArgumentError("invalid period " + QuoteForMessage(text) + ": " + std::string(why));
}

Status CheckYear(std::string_view text, int year) {
  if (year < kMinYear || year > kMaxYear)
    return OutOfRangeError("period " + QuoteForMessage(text) + " is out of range: years must be in " +
                           std::to_string(kMinYear) + ".." + std::to_string(kMaxYear));
  return Status::Ok();
}

}  // namespace

// ----------------------------------------------------------------------------------- Date

Result<Date> Date::FromYmd(int year, int month, int day) {
  if (year < kMinYear || year > kMaxYear)
    return OutOfRangeError("year " + std::to_string(year) + " is out of range (" +
                           std::to_string(kMinYear) + ".." + std::to_string(kMaxYear) + ")");
  if (month < 1 || month > 12) return InvalidArgumentError("month " + std::to_string(month) + " is not in 1..12");
  if (day < 1 || static_cast<unsigned>(day) > DaysInMonth(year, static_cast<unsigned>(month)))
    return InvalidArgumentError("day " + std::to_string(day) + " does not exist in " + std::to_string(year) +
                                "-" + (month < 10 ? "0" : "") + std::to_string(month));
  return Date(DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)));
}

Result<Date> Date::Parse(std::string_view text) {
  int y = 0, m = 0, d = 0;
  if (text.size() != 10 || text[4] != '-' || text[7] != '-' || !ParseFixedInt(text.substr(0, 4), y) ||
      !ParseFixedInt(text.substr(5, 2), m) || !ParseFixedInt(text.substr(8, 2), d))
    return InvalidArgumentError("invalid date " + QuoteForMessage(text) + ": expected YYYY-MM-DD");
  auto r = FromYmd(y, m, d);
  if (!r.ok()) return r.status().WithContext("invalid date " + QuoteForMessage(text));
  return r;
}

int Date::year() const { return static_cast<int>(CivilFromDays(days_).y); }
int Date::month() const { return static_cast<int>(CivilFromDays(days_).m); }
int Date::day() const { return static_cast<int>(CivilFromDays(days_).d); }
int Date::weekday() const { return static_cast<int>(FloorMod(days_ + 3, 7)) + 1; }

std::string Date::ToString() const {
  Ymd c = CivilFromDays(days_);
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%04lld-%02u-%02u", static_cast<long long>(c.y), c.m, c.d);
  return buf;
}

// ------------------------------------------------------------------------------ Frequency

std::string_view FrequencyCode(Frequency f) {
  switch (f) {
    case Frequency::kAnnual: return "A";
    case Frequency::kQuarterly: return "Q";
    case Frequency::kMonthly: return "M";
    case Frequency::kWeekly: return "W";
    case Frequency::kDaily: return "D";
    case Frequency::kBusiness: return "B";
  }
  return "?";
}

Result<Frequency> ParseFrequency(std::string_view text) {
  std::string t = ToLower(Trim(text));
  if (t == "a" || t == "y" || t == "annual" || t == "yearly") return Frequency::kAnnual;
  if (t == "q" || t == "quarterly") return Frequency::kQuarterly;
  if (t == "m" || t == "monthly") return Frequency::kMonthly;
  if (t == "w" || t == "weekly") return Frequency::kWeekly;
  if (t == "d" || t == "daily") return Frequency::kDaily;
  if (t == "b" || t == "business") return Frequency::kBusiness;
  return InvalidArgumentError("unknown frequency " + QuoteForMessage(text) + ": expected one of A, Q, M, W, D, B");
}

int SeasonalPeriod(Frequency f) {
  switch (f) {
    case Frequency::kAnnual: return 1;
    case Frequency::kQuarterly: return 4;
    case Frequency::kMonthly: return 12;
    case Frequency::kWeekly: return 52;
    case Frequency::kDaily: return 7;
    case Frequency::kBusiness: return 5;
  }
  return 1;
}

namespace {
int FrequencyRank(Frequency f) {
  switch (f) {
    case Frequency::kAnnual: return 0;
    case Frequency::kQuarterly: return 1;
    case Frequency::kMonthly: return 2;
    case Frequency::kWeekly: return 3;
    case Frequency::kBusiness: return 4;
    case Frequency::kDaily: return 5;
  }
  return 0;
}
}  // namespace

bool IsLowerFrequency(Frequency a, Frequency b) { return FrequencyRank(a) < FrequencyRank(b); }

// --------------------------------------------------------------------------------- Period

Result<Period> Period::FromDate(Date date, Frequency freq) {
  switch (freq) {
    case Frequency::kAnnual: return Period(freq, CivilFromDays(date.days()).y);
    case Frequency::kQuarterly: {
      const Ymd c = CivilFromDays(date.days());
      return Period(freq, c.y * 4 + (c.m - 1) / 3);
    }
    case Frequency::kMonthly: {
      const Ymd c = CivilFromDays(date.days());
      return Period(freq, c.y * 12 + (c.m - 1));
    }
    case Frequency::kWeekly: return Period(freq, WeekOrdinalFromDays(date.days()));
    case Frequency::kDaily: return Period(freq, date.days());
    case Frequency::kBusiness: {
      const int64_t d = date.days() + 3;  // days since Monday 1969-12-29
      const int64_t dow = FloorMod(d, 7);
      if (dow >= 5)
        return InvalidArgumentError("date " + date.ToString() + " is a weekend day, not a business day");
      return Period(freq, FloorDiv(d, 7) * 5 + dow);
    }
  }
  return InternalError("unknown frequency");
}

Date Period::StartDate() const {
  switch (freq_) {
    case Frequency::kAnnual: return Date::FromDays(DaysFromCivil(ordinal_, 1, 1));
    case Frequency::kQuarterly:
      return Date::FromDays(DaysFromCivil(FloorDiv(ordinal_, 4), static_cast<unsigned>(FloorMod(ordinal_, 4) * 3 + 1), 1));
    case Frequency::kMonthly:
      return Date::FromDays(DaysFromCivil(FloorDiv(ordinal_, 12), static_cast<unsigned>(FloorMod(ordinal_, 12) + 1), 1));
    case Frequency::kWeekly: return Date::FromDays(MondayOfWeekOrdinal(ordinal_));
    case Frequency::kDaily: return Date::FromDays(ordinal_);
    case Frequency::kBusiness: return Date::FromDays(FloorDiv(ordinal_, 5) * 7 + FloorMod(ordinal_, 5) - 3);
  }
  return Date();
}

Date Period::EndDate() const {
  switch (freq_) {
    case Frequency::kDaily:
    case Frequency::kBusiness: return StartDate();
    case Frequency::kWeekly: return StartDate() + 6;
    default: return (*this + 1).StartDate() - 1;
  }
}

int Period::year() const {
  if (freq_ == Frequency::kWeekly) return (StartDate() + 3).year();  // Thursday decides
  return StartDate().year();
}

int Period::SeasonIndex() const {
  switch (freq_) {
    case Frequency::kAnnual: return 0;
    case Frequency::kQuarterly: return static_cast<int>(FloorMod(ordinal_, 4));
    case Frequency::kMonthly: return static_cast<int>(FloorMod(ordinal_, 12));
    case Frequency::kWeekly: {
      const int64_t monday = MondayOfWeekOrdinal(ordinal_);
      return static_cast<int>((monday - IsoWeekOneMonday(year())) / 7);
    }
    case Frequency::kDaily: return StartDate().weekday() - 1;
    case Frequency::kBusiness: return static_cast<int>(FloorMod(ordinal_, 5));
  }
  return 0;
}

std::string Period::ToString() const {
  char buf[96];
  switch (freq_) {
    case Frequency::kAnnual:
      std::snprintf(buf, sizeof(buf), "%04lld", static_cast<long long>(ordinal_));
      return buf;
    case Frequency::kQuarterly:
      std::snprintf(buf, sizeof(buf), "%04lldQ%lld", static_cast<long long>(FloorDiv(ordinal_, 4)),
                    static_cast<long long>(FloorMod(ordinal_, 4) + 1));
      return buf;
    case Frequency::kMonthly:
      std::snprintf(buf, sizeof(buf), "%04lld-%02lld", static_cast<long long>(FloorDiv(ordinal_, 12)),
                    static_cast<long long>(FloorMod(ordinal_, 12) + 1));
      return buf;
    case Frequency::kWeekly:
      std::snprintf(buf, sizeof(buf), "%04d-W%02d", year(), SeasonIndex() + 1);
      return buf;
    case Frequency::kDaily:
    case Frequency::kBusiness: return StartDate().ToString();
  }
  return "?";
}

Result<int64_t> Period::Diff(const Period& other) const {
  if (other.freq_ != freq_)
    return InvalidArgumentError("cannot subtract periods of different frequencies (" + other.ToString() + " " +
                                std::string(FrequencyCode(other.freq_)) + " from " + ToString() + " " +
                                std::string(FrequencyCode(freq_)) + ")");
  return ordinal_ - other.ordinal_;
}

Period Period::Convert(Frequency to, Anchor anchor) const {
  if (to == freq_) return *this;
  // To a lower frequency: the period containing the start date.
  // (D to B: a weekend day belongs to the Friday before it.)
  if (IsLowerFrequency(to, freq_)) {
    Date d = StartDate();
    if (to == Frequency::kBusiness)
      while (d.weekday() > 5) d = d - 1;
    return *FromDate(d, to);
  }
  // To a higher frequency: the first or last sub-period lying fully inside this one.
  if (to == Frequency::kBusiness) {
    Date d = anchor == Anchor::kStart ? StartDate() : EndDate();
    while (d.weekday() > 5) d = anchor == Anchor::kStart ? d + 1 : d - 1;
    return *FromDate(d, to);
  }
  if (anchor == Anchor::kStart) {
    Period p = *FromDate(StartDate(), to);
    // A week that starts before the period belongs to the previous one.
    if (p.StartDate() < StartDate()) p += 1;
    return p;
  }
  Period p = *FromDate(EndDate(), to);
  if (p.EndDate() > EndDate()) p = p - 1;
  return p;
}

Result<Period> Period::Parse(std::string_view raw) {
  std::string_view text = Trim(raw);
  if (text.size() < 4) return BadPeriod(raw, "expected 2024, 2024Q1, 2024-03, 2024-W05 or 2024-03-15");
  int year = 0;
  if (!ParseFixedInt(text.substr(0, 4), year))
    return BadPeriod(raw, "expected a four-digit year first (2024, 2024Q1, 2024-03, 2024-W05, 2024-03-15)");
  ALMANAC_RETURN_IF_ERROR(CheckYear(raw, year));
  std::string_view rest = text.substr(4);
  if (rest.empty()) return Period(Frequency::kAnnual, year);
  if (rest.size() == 2 && (rest[0] == 'Q' || rest[0] == 'q')) {
    int q = 0;
    if (!ParseFixedInt(rest.substr(1), q) || q < 1 || q > 4) return BadPeriod(raw, "quarter must be Q1..Q4");
    return Period(Frequency::kQuarterly, int64_t{year} * 4 + q - 1);
  }
  if (rest[0] != '-') return BadPeriod(raw, "expected 2024, 2024Q1, 2024-03, 2024-W05 or 2024-03-15");
  rest = rest.substr(1);
  if (rest.size() == 2 && (rest[0] == 'Q' || rest[0] == 'q')) {
    int q = 0;
    if (!ParseFixedInt(rest.substr(1), q) || q < 1 || q > 4) return BadPeriod(raw, "quarter must be Q1..Q4");
    return Period(Frequency::kQuarterly, int64_t{year} * 4 + q - 1);
  }
  if (rest.size() == 3 && (rest[0] == 'W' || rest[0] == 'w')) {
    int w = 0;
    if (!ParseFixedInt(rest.substr(1), w) || w < 1) return BadPeriod(raw, "ISO week must be W01..W53");
    const int64_t monday = IsoWeekOneMonday(year) + int64_t{w - 1} * 7;
    if (w > 53 || IsoWeekOneMonday(year + 1) <= monday)
      return BadPeriod(raw, "year " + std::to_string(year) + " has no ISO week " + std::to_string(w));
    return Period(Frequency::kWeekly, WeekOrdinalFromDays(monday));
  }
  if (rest.size() == 2) {
    int m = 0;
    if (!ParseFixedInt(rest, m) || m < 1 || m > 12) return BadPeriod(raw, "month must be 01..12");
    return Period(Frequency::kMonthly, int64_t{year} * 12 + m - 1);
  }
  if (rest.size() == 5) {
    ALMANAC_ASSIGN_OR_RETURN(Date d, Date::Parse(text));
    return Period(Frequency::kDaily, d.days());
  }
  return BadPeriod(raw, "expected 2024, 2024Q1, 2024-03, 2024-W05 or 2024-03-15");
}

Result<Period> Period::Parse(std::string_view raw, Frequency freq, bool require_period_start) {
  std::string_view text = Trim(raw);
  // A full ISO date works for every frequency.
  if (text.size() == 10 && text[4] == '-' && text[7] == '-') {
    auto d = Date::Parse(text);
    if (!d.ok()) return d.status();
    auto p = FromDate(*d, freq);
    if (!p.ok()) return p.status();
    // Weekly, daily and business-day data are dated by any day of their period (FRED dates
    // weeks by their last day), so only A, Q and M insist on the first day.
    const bool strict = require_period_start && (freq == Frequency::kAnnual || freq == Frequency::kQuarterly ||
                                                 freq == Frequency::kMonthly);
    if (strict && p->StartDate() != *d) {
      return InvalidArgumentError("date " + std::string(text) + " does not fit frequency " +
                                  std::string(FrequencyCode(freq)) + ": expected the first day of a period (" +
                                  p->StartDate().ToString() + " for " + p->ToString() + ")");
    }
    return p;
  }
  ALMANAC_ASSIGN_OR_RETURN(Period p, Parse(text));
  if (p.frequency() != freq)
    return InvalidArgumentError("period " + QuoteForMessage(text) + " is " + std::string(FrequencyCode(p.frequency())) +
                                " but frequency " + std::string(FrequencyCode(freq)) + " was declared");
  return p;
}

}  // namespace almanac
