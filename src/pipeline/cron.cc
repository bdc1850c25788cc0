// Cron expressions (minute hour day-of-month month day-of-week), UTC.
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

Result<CronSchedule> CronSchedule::Parse(std::string_view raw) {
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
  std::vector<bool>* sets[5] = {&c.minute_, &c.hour_, &c.dom_, &c.month_, &c.dow_};
  for (int i = 0; i < 5; ++i) ALMANAC_RETURN_IF_ERROR(ParseField(parts[static_cast<size_t>(i)], i, *sets[i]));
  c.dom_star_ = parts[2] == "*";
  c.dow_star_ = parts[4] == "*";
  return c;
}

Result<int64_t> CronSchedule::Next(int64_t after) const {
  constexpr int64_t kMinute = 60000000LL;
  int64_t t = (after / kMinute + 1) * kMinute;  // next whole minute
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

}  // namespace almanac::pipeline
