// Cron expressions (minute hour day-of-month month day-of-week), in UTC or a schedule's time zone.
#include <algorithm>
#include <sstream>

#include "almanac/pipeline.h"

namespace almanac::pipeline {
namespace {

struct Field {
  const char* name;
  int lo, hi;
};
constexpr Field kFields[5] = {{"minute", 0, 59}, {"hour", 0, 23}, {"day of month", 1, 31}, {"month", 1, 12}, {"day of week", 0, 7}};

int NameValue(const std::string& s, int field) {
  static const char* kMonths[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
  static const char* kDays[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};
  std::string u;
  for (char c : s) u += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (field == 3)
    for (int i = 0; i < 12; ++i)
      if (u == kMonths[i]) return i + 1;
  if (field == 4)
    for (int i = 0; i < 7; ++i)
      if (u == kDays[i]) return i;
  auto v = ParseInt(s);
  return v.ok() ? static_cast<int>(*v) : -1;
}

Status ParseField(const std::string& text, int field, std::vector<bool>& set) {
  const Field& f = kFields[field];
  set.assign(static_cast<size_t>(f.hi + 1), false);
  std::stringstream ss(text);
  std::string part;
  auto bad = [&](const std::string& why) {
    return InvalidArgumentError("cron " + std::string(f.name) + " field '" + text + "': " + why);
  };
  while (std::getline(ss, part, ',')) {
    if (part.empty()) return bad("empty list item");
    int step = 1;
    const size_t slash = part.find('/');
    std::string range = part.substr(0, slash);
    if (slash != std::string::npos) {
      auto s = ParseInt(part.substr(slash + 1));
      if (!s.ok() || *s < 1) return bad("step must be a positive number");
      step = static_cast<int>(*s);
    }
    int a, b;
    if (range == "*") {
      a = f.lo;
      b = f.hi == 7 ? 6 : f.hi;
    } else {
      const size_t dash = range.find('-');
      a = NameValue(range.substr(0, dash), field);
      b = dash == std::string::npos ? (slash == std::string::npos ? a : (f.hi == 7 ? 6 : f.hi)) : NameValue(range.substr(dash + 1), field);
      if (a < f.lo || a > f.hi || b < f.lo || b > f.hi)
        return bad("values must be in " + std::to_string(f.lo) + ".." + std::to_string(f.hi));
      if (b < a) return bad("range is reversed");
    }
    for (int v = a; v <= b; v += step) set[static_cast<size_t>(v)] = true;
  }
  if (field == 4 && set[7]) set[0] = true;  // 7 is Sunday too
  return Status::Ok();
}

}  // namespace

Result<CronSchedule> CronSchedule::Parse(std::string_view raw, TimeZone zone) {
  std::string text(Trim(raw));
  static const std::pair<const char*, const char*> kMacros[] = {
      {"@hourly", "0 * * * *"}, {"@daily", "0 0 * * *"}, {"@weekly", "0 0 * * 0"}, {"@monthly", "0 0 1 * *"},
      {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}};
  std::string expr = text;
  for (const auto& [m, e] : kMacros)
    if (text == m) expr = e;
  std::stringstream ss(expr);
  std::vector<std::string> parts;
  for (std::string p; ss >> p;) parts.push_back(p);
  if (parts.size() != 5)
    return InvalidArgumentError("cron expression '" + text + "' must have 5 fields (minute hour day-of-month month "
                                "day-of-week), e.g. '0 6 * * 1'");
  CronSchedule c;
  c.text_ = text;
  c.zone_ = std::move(zone);
  std::vector<bool>* sets[5] = {&c.minute_, &c.hour_, &c.dom_, &c.month_, &c.dow_};
  for (int i = 0; i < 5; ++i) ALMANAC_RETURN_IF_ERROR(ParseField(parts[static_cast<size_t>(i)], i, *sets[i]));
  c.dom_star_ = parts[2] == "*";
  c.dow_star_ = parts[4] == "*";
  return c;
}

// The wall-clock search: `after` and the result are micros since 1970-01-01T00:00 of the
// schedule's local calendar (UTC for a UTC schedule).
Result<int64_t> CronSchedule::NextWall(int64_t after) const {
  constexpr int64_t kMinute = 60000000LL;
  int64_t q = after / kMinute;
  if (after < 0 && after % kMinute != 0) --q;
  int64_t t = std::max<int64_t>(0, (q + 1) * kMinute);  // next whole minute (schedules start in 1970)
  const int64_t limit = t + 5LL * 366 * 24 * 60 * kMinute;
  while (t < limit) {
    const Date d = Date::FromDays(t / (86400000000LL));
    const int64_t minute_of_day = (t % 86400000000LL) / kMinute;
    if (!month_[static_cast<size_t>(d.month())]) {
      // Jump to the first day of the next month.
      const int y = d.year() + (d.month() == 12 ? 1 : 0), m = d.month() == 12 ? 1 : d.month() + 1;
      t = Date::FromYmd(y, m, 1)->days() * 86400000000LL;
      continue;
    }
    // Standard cron: when both day fields are restricted, either may match.
    const bool dom_ok = dom_[static_cast<size_t>(d.day())];
    const bool dow_ok = dow_[static_cast<size_t>(d.weekday() % 7)];
    const bool day_ok = (dom_star_ || dow_star_) ? (dom_ok && dow_ok) : (dom_ok || dow_ok);
    if (!day_ok) {
      t = (d.days() + 1) * 86400000000LL;
      continue;
    }
    const int h = static_cast<int>(minute_of_day / 60), mi = static_cast<int>(minute_of_day % 60);
    if (!hour_[static_cast<size_t>(h)]) {
      t = d.days() * 86400000000LL + (h + 1) * 60 * kMinute;
      continue;
    }
    if (!minute_[static_cast<size_t>(mi)]) {
      t += kMinute;
      continue;
    }
    return t;
  }
  return OutOfRangeError("cron expression '" + text_ + "' never fires within five years");
}

// Local schedules: the fire is the first cron wall-clock time w after `after`'s own wall-clock
// time whose instant LocalToUtc(w) is later than `after`. LocalToUtc is non-decreasing in w, so
// the instants come out in order, a time skipped by a spring-forward gap fires once at the end
// of the gap (with any fire due then), and a time repeated when clocks go back fires once, at
// its first occurrence.
Result<int64_t> CronSchedule::Next(int64_t after) const {
  if (zone_.IsUtc()) return NextWall(after);
  int64_t w = zone_.UtcToLocal(after);
  for (int guard = 0; guard < 100000; ++guard) {
    ALMANAC_ASSIGN_OR_RETURN(w, NextWall(w));
    const int64_t t = zone_.LocalToUtc(w);
    if (t > after) return t;
  }
  return InternalError("cron expression '" + text_ + "' in " + zone_.name() + ": no fire time found after " + FormatTimestamp(after));
}

Result<std::vector<int64_t>> CronSchedule::Between(int64_t from, int64_t to, size_t limit) const {
  std::vector<int64_t> out;
  if (to < from) return out;
  int64_t t = from - 1;
  for (;;) {
    auto next = Next(t);
    if (!next.ok()) {
      if (next.status().code() == StatusCode::kOutOfRange) break;  // never again within five years
      return next.status();
    }
    if (*next > to) break;
    if (out.size() >= limit)
      return OutOfRangeError("schedule '" + text_ + "' fires more than " + std::to_string(limit) + " times between " +
                             zone_.FormatLocal(from) + " and " + zone_.FormatLocal(to));
    out.push_back(*next);
    t = *next;
  }
  return out;
}

}  // namespace almanac::pipeline
