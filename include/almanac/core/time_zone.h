// File: almanac/core/time_zone.h
//
// IANA time zones read from the system's tz database (TZif files under $TZDIR or
// /usr/share/zoneinfo, Debian package tzdata): UTC offsets at an instant and the conversion of
// a local wall-clock time to an instant, with a stated rule for daylight-saving gaps and
// overlaps. GCC 12's libstdc++ has no std::chrono::tzdb, hence this small reader.
// Not included by almanac/core.h (include it where zones are used), as almanac/core/json.h.
//
//   ALMANAC_ASSIGN_OR_RETURN(TimeZone ny, TimeZone::Load("America/New_York"));
//   int64_t fire = ny.LocalToUtc(local_micros);        // 08:30 New York as UTC micros
//   std::string shown = ny.FormatLocal(fire);          // "2026-03-09T08:30:00-04:00 EDT"
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "almanac/core/status.h"

namespace almanac {

// An immutable time zone. Cheap enough to copy (a few kilobytes of transitions); thread-safe
// for concurrent reads.
class TimeZone {
 public:
  // UTC (offset 0, no transitions). Also what Load("UTC") returns, without reading a file.
  static TimeZone Utc();
  // The zone NAME (e.g. "America/New_York", "Europe/Berlin", "UTC") from $TZDIR or
  // /usr/share/zoneinfo. InvalidArgument for a malformed name (absolute, "..", characters
  // outside [A-Za-z0-9/_+-]); NotFound naming the directory for an unknown zone (with a hint
  // to install tzdata when the directory is missing); DataLoss for a file that is not TZif.
  static Result<TimeZone> Load(std::string_view name);
  // Parses TZif bytes (versions 1 to 4) as zone `name` (tests; Load uses it). DataLoss when
  // malformed; Unimplemented for leap-second ("right/") zones.
  static Result<TimeZone> FromTzif(std::string_view name, std::string_view bytes);

  const std::string& name() const { return name_; }
  bool IsUtc() const { return transitions_.empty() && rule_.std_offset == 0 && !rule_.has_dst; }

  // Seconds east of UTC at the instant `utc_seconds`.
  int64_t OffsetAt(int64_t utc_seconds) const;
  // The abbreviation in use at the instant ("EST", "CEST", "UTC"; may be "" for old files).
  std::string AbbreviationAt(int64_t utc_seconds) const;

  // The instant (UTC micros) of the local wall-clock time `local_micros` (micros since
  // 1970-01-01T00:00 local). A local time that occurs twice (the repeated hour when clocks
  // go back) gives its first occurrence; one that does not occur (the hour skipped when
  // clocks go forward) gives the first instant after the gap, i.e. the transition itself.
  int64_t LocalToUtc(int64_t local_micros) const;
  // The local wall-clock time (micros since 1970-01-01T00:00 local) of an instant.
  int64_t UtcToLocal(int64_t utc_micros) const { return utc_micros + OffsetAt(FloorSeconds(utc_micros)) * 1000000; }

  // "2026-03-09T08:30:00-04:00 EDT" (seconds shown; fractions dropped). For UTC:
  // "2026-03-09T12:30:00Z".
  std::string FormatLocal(int64_t utc_micros) const;

 private:
  // A POSIX TZ rule (the TZif footer), for instants after the last listed transition.
  struct RuleDate {
    char kind = 'M';  // 'M' (month.week.day), 'J' (Julian 1..365, no Feb 29), 'D' (0..365)
    int month = 0, week = 0, day = 0;
    int64_t time = 7200;  // seconds after local midnight (may be negative or > 24 h)
  };
  struct Rule {
    bool present = false;
    std::string std_abbr = "UTC", dst_abbr;
    int64_t std_offset = 0, dst_offset = 0;  // seconds east of UTC
    bool has_dst = false;
    RuleDate start, end;
  };
  struct Type {
    int64_t offset = 0;
    bool dst = false;
    std::string abbr;
  };

  static int64_t FloorSeconds(int64_t micros) { return micros >= 0 ? micros / 1000000 : -((-micros + 999999) / 1000000); }
  static Result<Rule> ParseRule(std::string_view text);
  // The rule's transitions in `year`: {instant, type index into rule types (0 std, 1 dst)}.
  void RuleTransitions(int year, std::vector<std::pair<int64_t, int>>* out) const;
  Type TypeAt(int64_t utc_seconds) const;

  std::string name_ = "UTC";
  std::vector<int64_t> transitions_;  // instants (seconds), ascending
  std::vector<int> transition_types_; // index into types_, per transition
  std::vector<Type> types_;
  int initial_type_ = 0;              // before the first transition
  Rule rule_;
};

}  // namespace almanac
