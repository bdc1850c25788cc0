#include "almanac/core/clock.h"

#include <chrono>
#include <cstdint>
#include <cstdio>

#include "almanac/core/format.h"

namespace almanac {

Date Clock::Today() const {
  const int64_t us = NowMicros();
  int64_t days = us / 86400000000LL;
  if (us < 0 && us % 86400000000LL != 0) --days;
  return Date::FromDays(days);
}

Result<Date> ParseAsOfDate(std::string_view text, const Clock& clock, std::string_view what) {
  auto d = Date::Parse(text);
  if (!d.ok()) return InvalidArgumentError(std::string(what) + " " + QuoteForMessage(text) + " is not a date (YYYY-MM-DD)");
  ALMANAC_RETURN_IF_ERROR(CheckAsOfDate(*d, clock, what));
  return *d;
}

Status CheckAsOfDate(Date date, const Clock& clock, std::string_view what) {
  const Date today = clock.Today();
  if (date > today)
    return InvalidArgumentError(std::string(what) + " " + date.ToString() + " is in the future (today is " + today.ToString() + ")");
  return Status::Ok();
}

namespace {
class RealClock : public Clock {
 public:
  int64_t NowMicros() const override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};
}  // namespace

const Clock& SystemClock() {
  static const RealClock clock;
  return clock;
}

std::string FormatTimestamp(int64_t micros) {
  int64_t secs = micros / 1000000;
  int64_t us = micros % 1000000;
  if (us < 0) {
    us += 1000000;
    --secs;
  }
  // Log lines format many timestamps per second: the part up to the seconds is kept per thread.
  thread_local int64_t cached_secs = INT64_MIN;
  thread_local std::string cached;
  if (secs != cached_secs) {
    int64_t days = secs / 86400;
    int64_t rem = secs % 86400;
    if (rem < 0) {
      rem += 86400;
      --days;
    }
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%sT%02lld:%02lld:%02lld.", Date::FromDays(days).ToString().c_str(),
                  static_cast<long long>(rem / 3600), static_cast<long long>(rem / 60 % 60), static_cast<long long>(rem % 60));
    cached = buf;
    cached_secs = secs;
  }
  std::string out = cached;
  char digits[7] = {0, 0, 0, 0, 0, 0, 'Z'};
  for (int i = 5; i >= 0; --i, us /= 10) digits[i] = static_cast<char>('0' + us % 10);
  out.append(digits, 7);
  return out;
}

Result<int64_t> ParseTimestamp(std::string_view raw) {
  std::string_view text = Trim(raw);
  auto bad = [&] {
    return InvalidArgumentError("invalid timestamp " + QuoteForMessage(raw) +
                                ": expected YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS[.ffffff]Z");
  };
  if (text.size() < 10) return bad();
  auto d = Date::Parse(text.substr(0, 10));
  if (!d.ok()) return d.status();
  int64_t us = d->days() * 86400000000LL;
  if (text.size() == 10) return us;
  if (text.size() < 20 || (text[10] != 'T' && text[10] != ' ') || text[13] != ':' || text[16] != ':' || text.back() != 'Z')
    return bad();
  auto two = [&](size_t pos) -> int {
    char a = text[pos], b = text[pos + 1];
    if (a < '0' || a > '9' || b < '0' || b > '9') return -1;
    return (a - '0') * 10 + (b - '0');
  };
  int h = two(11), m = two(14), s = two(17);
  if (h < 0 || h > 23 || m < 0 || m > 59 || s < 0 || s > 60) return bad();
  int64_t frac = 0;
  std::string_view f = text.substr(19, text.size() - 20);
  if (!f.empty()) {
    if (f[0] != '.' || f.size() < 2 || f.size() > 7) return bad();
    int digits = 0;
    for (char c : f.substr(1)) {
      if (c < '0' || c > '9') return bad();
      frac = frac * 10 + (c - '0');
      ++digits;
    }
    while (digits++ < 6) frac *= 10;
  }
  return us + ((h * 60LL + m) * 60 + s) * 1000000LL + frac;
}

Result<int64_t> ParseDuration(std::string_view text) {
  auto bad = [&] {
    return InvalidArgumentError("duration " + QuoteForMessage(text) +
                                ": expected a whole number and a unit, e.g. 45s, 30m, 12h, 90d or 2w");
  };
  if (text.size() < 2) return bad();
  int64_t unit = 0;
  switch (text.back()) {
    case 's': unit = 1'000'000; break;
    case 'm': unit = 60'000'000; break;
    case 'h': unit = 3'600'000'000; break;
    case 'd': unit = 86'400'000'000; break;
    case 'w': unit = 7 * 86'400'000'000; break;
    default: return bad();
  }
  int64_t n = 0;
  for (char c : text.substr(0, text.size() - 1)) {
    if (c < '0' || c > '9') return bad();
    n = n * 10 + (c - '0');
    if (n > 36500LL * 86'400'000'000 / unit) return bad();
  }
  return n * unit;
}

}  // namespace almanac
