// TZif reader (RFC 8536) and POSIX TZ rules, for cron schedules in local time.
#include "almanac/core/time_zone.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "almanac/core/format.h"

namespace almanac {
namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t TzDaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void TzCivilFromDays(int64_t z, int64_t* y, int* m, int* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  *d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  *m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2 ? 1 : 0);
}

int64_t TzFloorDiv(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

bool TzIsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

// Big-endian readers over a bounds-checked cursor.
class TzReader {
 public:
  explicit TzReader(std::string_view b) : b_(b) {}
  bool Has(size_t n) const { return pos_ + n <= b_.size(); }
  int64_t Int(int width) {
    uint64_t v = 0;
    for (int i = 0; i < width; ++i) v = (v << 8) | static_cast<unsigned char>(b_[pos_++]);
    if (width == 4) return static_cast<int32_t>(static_cast<uint32_t>(v));
    return static_cast<int64_t>(v);
  }
  unsigned char Byte() { return static_cast<unsigned char>(b_[pos_++]); }
  std::string_view Take(size_t n) {
    auto s = b_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  void Skip(size_t n) { pos_ += n; }
  size_t pos() const { return pos_; }
  std::string_view rest() const { return b_.substr(pos_); }

 private:
  std::string_view b_;
  size_t pos_ = 0;
};

struct TzCounts {
  int64_t isut = 0, isstd = 0, leap = 0, time = 0, type = 0, chars = 0;
};

Result<TzCounts> TzHeader(TzReader& r, std::string_view name) {
  if (!r.Has(44) || r.Take(4) != "TZif") return DataLossError("time zone " + std::string(name) + ": not a TZif file");
  r.Skip(16);  // version + reserved
  TzCounts c;
  c.isut = r.Int(4);
  c.isstd = r.Int(4);
  c.leap = r.Int(4);
  c.time = r.Int(4);
  c.type = r.Int(4);
  c.chars = r.Int(4);
  if (c.isut < 0 || c.isstd < 0 || c.leap < 0 || c.time < 0 || c.type < 1 || c.chars < 0 || c.time > 100000 ||
      c.type > 256 || c.chars > 10000 || c.leap > 10000 || c.isut > 256 || c.isstd > 256)
    return DataLossError("time zone " + std::string(name) + ": bad TZif header counts");
  return c;
}

size_t TzBlockSize(const TzCounts& c, int time_size) {
  return static_cast<size_t>(c.time * time_size + c.time + c.type * 6 + c.chars + c.leap * (time_size + 4) + c.isstd + c.isut);
}

// POSIX TZ string pieces.
class TzRuleParser {
 public:
  explicit TzRuleParser(std::string_view s) : s_(s) {}
  bool Done() const { return i_ >= s_.size(); }
  char Peek() const { return Done() ? '\0' : s_[i_]; }
  bool Eat(char c) {
    if (Peek() != c) return false;
    ++i_;
    return true;
  }
  bool Name(std::string* out) {
    if (Eat('<')) {
      const size_t end = s_.find('>', i_);
      if (end == std::string_view::npos) return false;
      *out = std::string(s_.substr(i_, end - i_));
      i_ = end + 1;
      return !out->empty();
    }
    const size_t b = i_;
    while (!Done() && std::isalpha(static_cast<unsigned char>(Peek()))) ++i_;
    *out = std::string(s_.substr(b, i_ - b));
    return out->size() >= 3;
  }
  // [+-]hh[:mm[:ss]] in seconds, hours up to max_hours.
  bool Hms(int64_t* out, int max_hours) {
    int sign = 1;
    if (Eat('-')) sign = -1;
    else Eat('+');
    int64_t parts[3] = {0, 0, 0};
    for (int k = 0; k < 3; ++k) {
      if (k > 0 && !Eat(':')) break;
      const size_t b = i_;
      while (!Done() && std::isdigit(static_cast<unsigned char>(Peek())) && i_ - b < 3) parts[k] = parts[k] * 10 + (s_[i_++] - '0');
      if (i_ == b) return false;
    }
    if (parts[0] > max_hours || parts[1] > 59 || parts[2] > 59) return false;
    *out = sign * (parts[0] * 3600 + parts[1] * 60 + parts[2]);
    return true;
  }
  bool Number(int* out, int lo, int hi) {
    const size_t b = i_;
    int v = 0;
    while (!Done() && std::isdigit(static_cast<unsigned char>(Peek())) && i_ - b < 4) v = v * 10 + (s_[i_++] - '0');
    if (i_ == b || v < lo || v > hi) return false;
    *out = v;
    return true;
  }

 private:
  std::string_view s_;
  size_t i_ = 0;
};

}  // namespace

TimeZone TimeZone::Utc() { return TimeZone(); }

Result<TimeZone::Rule> TimeZone::ParseRule(std::string_view text) {
  Rule r;
  r.present = true;
  TzRuleParser p(text);
  auto bad = [&](const std::string& why) { return DataLossError("TZ rule '" + std::string(text) + "': " + why); };
  int64_t off = 0;
  if (!p.Name(&r.std_abbr)) return bad("bad standard-time name");
  if (!p.Hms(&off, 24)) return bad("bad standard-time offset");
  r.std_offset = -off;  // POSIX offsets are west of Greenwich
  if (p.Done()) return r;
  if (!p.Name(&r.dst_abbr)) return bad("bad daylight-time name");
  r.has_dst = true;
  r.dst_offset = r.std_offset + 3600;
  if (p.Peek() != ',' && !p.Done()) {
    if (!p.Hms(&off, 24)) return bad("bad daylight-time offset");
    r.dst_offset = -off;
  }
  auto date = [&](RuleDate* d) -> bool {
    if (!p.Eat(',')) return false;
    if (p.Eat('M')) {
      d->kind = 'M';
      if (!p.Number(&d->month, 1, 12) || !p.Eat('.') || !p.Number(&d->week, 1, 5) || !p.Eat('.') || !p.Number(&d->day, 0, 6))
        return false;
    } else if (p.Eat('J')) {
      d->kind = 'J';
      if (!p.Number(&d->day, 1, 365)) return false;
    } else {
      d->kind = 'D';
      if (!p.Number(&d->day, 0, 365)) return false;
    }
    d->time = 7200;
    if (p.Eat('/') && !p.Hms(&d->time, 167)) return false;
    return true;
  };
  if (p.Done()) {
    // No rule given: POSIX's default (the US rule since 2007).
    r.start = {'M', 3, 2, 0, 7200};
    r.end = {'M', 11, 1, 0, 7200};
    return r;
  }
  if (!date(&r.start) || !date(&r.end) || !p.Done()) return bad("bad transition rule");
  return r;
}

void TimeZone::RuleTransitions(int year, std::vector<std::pair<int64_t, int>>* out) const {
  auto day_of = [&](const RuleDate& d) -> int64_t {
    const int64_t jan1 = TzDaysFromCivil(year, 1, 1);
    if (d.kind == 'J') return jan1 + d.day - 1 + (TzIsLeap(year) && d.day >= 60 ? 1 : 0);
    if (d.kind == 'D') return jan1 + d.day;
    const int64_t first = TzDaysFromCivil(year, d.month, 1);
    const int wd_first = static_cast<int>(((first % 7) + 7 + 4) % 7);  // 1970-01-01 was a Thursday (4)
    int64_t day = first + (d.day - wd_first + 7) % 7 + 7 * (d.week - 1);
    const int next_month = d.month == 12 ? 1 : d.month + 1;
    const int64_t month_end = TzDaysFromCivil(d.month == 12 ? year + 1 : year, next_month, 1);
    while (day >= month_end) day -= 7;
    return day;
  };
  out->push_back({day_of(rule_.start) * 86400 + rule_.start.time - rule_.std_offset, 1});
  out->push_back({day_of(rule_.end) * 86400 + rule_.end.time - rule_.dst_offset, 0});
}

TimeZone::Type TimeZone::TypeAt(int64_t t) const {
  if (!transitions_.empty() && t < transitions_.front()) return types_[static_cast<size_t>(initial_type_)];
  if (transitions_.empty() || t >= transitions_.back()) {
    if (rule_.present) {
      const Type std_type{rule_.std_offset, false, rule_.std_abbr};
      if (!rule_.has_dst) return std_type;
      int64_t y = 0;
      int m = 0, d = 0;
      TzCivilFromDays(TzFloorDiv(t, 86400), &y, &m, &d);
      std::vector<std::pair<int64_t, int>> tr;
      for (int64_t yy = y - 1; yy <= y + 1; ++yy) RuleTransitions(static_cast<int>(yy), &tr);
      std::sort(tr.begin(), tr.end());
      int type = 0;
      for (const auto& [at, ty] : tr)
        if (at <= t) type = ty;
      return type == 1 ? Type{rule_.dst_offset, true, rule_.dst_abbr} : std_type;
    }
    if (transitions_.empty()) return types_.empty() ? Type{0, false, "UTC"} : types_[static_cast<size_t>(initial_type_)];
  }
  const auto it = std::upper_bound(transitions_.begin(), transitions_.end(), t);
  const size_t i = static_cast<size_t>(it - transitions_.begin()) - 1;
  return types_[static_cast<size_t>(transition_types_[i])];
}

int64_t TimeZone::OffsetAt(int64_t utc_seconds) const { return TypeAt(utc_seconds).offset; }

std::string TimeZone::AbbreviationAt(int64_t utc_seconds) const { return TypeAt(utc_seconds).abbr; }

int64_t TimeZone::LocalToUtc(int64_t local_micros) const {
  if (IsUtc()) return local_micros;
  const int64_t ws = FloorSeconds(local_micros);
  const int64_t frac = local_micros - ws * 1000000;
  // The offsets a day either side bracket the instant (offsets stay within +-26 h).
  const int64_t a = OffsetAt(ws - 2 * 86400), b = OffsetAt(ws + 2 * 86400);
  const int64_t c1 = ws - a, c2 = ws - b;
  const bool v1 = OffsetAt(c1) == a, v2 = OffsetAt(c2) == b;
  if (v1 && v2) return std::min(c1, c2) * 1000000 + frac;  // a repeated time: its first occurrence
  if (v1) return c1 * 1000000 + frac;
  if (v2) return c2 * 1000000 + frac;
  // A skipped time: the first instant after the gap, i.e. the transition between c2 and c1.
  int64_t lo = std::min(c1, c2), hi = std::max(c1, c2);
  const int64_t lo_offset = OffsetAt(lo);
  while (hi - lo > 1) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (OffsetAt(mid) == lo_offset) lo = mid;
    else hi = mid;
  }
  return hi * 1000000;
}

std::string TimeZone::FormatLocal(int64_t utc_micros) const {
  const int64_t s = FloorSeconds(utc_micros);
  const Type type = TypeAt(s);
  const int64_t local = s + type.offset;
  int64_t y = 0;
  int m = 0, d = 0;
  TzCivilFromDays(TzFloorDiv(local, 86400), &y, &m, &d);
  const int64_t sod = local - TzFloorDiv(local, 86400) * 86400;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld-%02d-%02dT%02d:%02d:%02d", static_cast<long long>(y), m, d, static_cast<int>(sod / 3600),
                static_cast<int>(sod / 60 % 60), static_cast<int>(sod % 60));
  std::string out = buf;
  if (IsUtc()) return out + "Z";
  const int64_t off = type.offset < 0 ? -type.offset : type.offset;
  std::snprintf(buf, sizeof buf, "%c%02d:%02d", type.offset < 0 ? '-' : '+', static_cast<int>(off / 3600), static_cast<int>(off / 60 % 60));
  out += buf;
  if (!type.abbr.empty() && (std::isalpha(static_cast<unsigned char>(type.abbr[0])) != 0)) out += " " + type.abbr;
  return out;
}

Result<TimeZone> TimeZone::FromTzif(std::string_view name, std::string_view bytes) {
  TzReader r(bytes);
  ALMANAC_ASSIGN_OR_RETURN(TzCounts c, TzHeader(r, name));
  const char version = bytes[4];
  int time_size = 4;
  if (version != '\0') {
    // Version 2+: skip the 32-bit block; the 64-bit one follows with its own header.
    if (!r.Has(TzBlockSize(c, 4))) return DataLossError("time zone " + std::string(name) + ": truncated TZif file");
    r.Skip(TzBlockSize(c, 4));
    ALMANAC_ASSIGN_OR_RETURN(c, TzHeader(r, name));
    time_size = 8;
  }
  if (c.leap > 0)
    return UnimplementedError("time zone " + std::string(name) + " counts leap seconds (a right/ zone); use the zone without right/");
  if (!r.Has(TzBlockSize(c, time_size))) return DataLossError("time zone " + std::string(name) + ": truncated TZif file");
  TimeZone z;
  z.name_ = std::string(name);
  for (int64_t i = 0; i < c.time; ++i) z.transitions_.push_back(r.Int(time_size));
  for (int64_t i = 0; i < c.time; ++i) {
    const int t = r.Byte();
    if (t >= c.type) return DataLossError("time zone " + std::string(name) + ": transition type out of range");
    z.transition_types_.push_back(t);
  }
  if (!std::is_sorted(z.transitions_.begin(), z.transitions_.end()))
    return DataLossError("time zone " + std::string(name) + ": transitions out of order");
  std::vector<std::pair<int64_t, std::pair<bool, int>>> raw;
  for (int64_t i = 0; i < c.type; ++i) {
    const int64_t off = r.Int(4);
    const bool dst = r.Byte() != 0;
    const int idx = r.Byte();
    if (off < -25 * 3600 || off > 26 * 3600 || idx >= std::max<int64_t>(c.chars, 1))
      return DataLossError("time zone " + std::string(name) + ": bad local time type");
    raw.push_back({off, {dst, idx}});
  }
  const std::string_view chars = r.Take(static_cast<size_t>(c.chars));
  for (const auto& [off, di] : raw) {
    const size_t b = static_cast<size_t>(di.second);
    const size_t e = chars.find('\0', b);
    z.types_.push_back({off, di.first, std::string(chars.substr(b, e == std::string_view::npos ? std::string_view::npos : e - b))});
  }
  r.Skip(static_cast<size_t>(c.leap * (time_size + 4) + c.isstd + c.isut));
  z.initial_type_ = 0;
  if (time_size == 8) {
    // The footer: "\nTZ-RULE\n" for instants after the last transition.
    std::string_view rest = r.rest();
    if (rest.size() >= 2 && rest[0] == '\n') {
      const size_t end = rest.find('\n', 1);
      if (end == std::string_view::npos) return DataLossError("time zone " + std::string(name) + ": unterminated TZ rule");
      const std::string_view rule = rest.substr(1, end - 1);
      if (!rule.empty()) {
        ALMANAC_ASSIGN_OR_RETURN(z.rule_, ParseRule(rule));
      }
    }
  }
  if (!z.rule_.present && z.transitions_.empty()) {
    // A fixed zone (UTC, Etc/GMT+5): its only type.
    z.rule_.present = true;
    z.rule_.std_offset = z.types_[0].offset;
    z.rule_.std_abbr = z.types_[0].abbr;
  }
  return z;
}

Result<TimeZone> TimeZone::Load(std::string_view name) {
  if (name == "UTC" || name == "Etc/UTC" || name == "Z") {
    TimeZone z;
    z.name_ = std::string(name == "Z" ? "UTC" : name);
    z.rule_.present = true;
    return z;
  }
  const std::string shown = QuoteForMessage(name);
  if (name.empty() || name.size() > 200 || name.front() == '/' || name.back() == '/')
    return InvalidArgumentError("time zone " + shown + " is not an IANA zone name like America/New_York or Europe/Berlin");
  for (char ch : name)
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '/' || ch == '_' || ch == '-' || ch == '+'))
      return InvalidArgumentError("time zone " + shown + " is not an IANA zone name like America/New_York or Europe/Berlin");
  const char* env = std::getenv("TZDIR");
  const std::string dir = env != nullptr && *env != '\0' ? env : "/usr/share/zoneinfo";
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0)
    return NotFoundError("time zone " + shown + ": the time zone database " + dir +
                         " does not exist (install the tzdata package, or set TZDIR)");
  const std::string path = dir + "/" + std::string(name);
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
    return NotFoundError("unknown time zone " + shown + " (not in " + dir +
                         "; names are IANA names like America/New_York, Europe/Berlin, Asia/Tokyo or UTC)");
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (!in && !in.eof()) return NotFoundError("time zone " + shown + ": cannot read " + path);
  return FromTzif(name, ss.str());
}

}  // namespace almanac
