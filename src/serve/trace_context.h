// W3C Trace Context (https://www.w3.org/TR/trace-context/, level 1) and request ids for
// `almanac serve` (serve-internal). Independent of Boost, so it is tested directly.
//
//   TraceContext tc;
//   StartSpan(req["traceparent"], /*fields=*/1, &tc);   // the caller's trace, or a new one
//   tc.Traceparent(buf);                                // "00-<trace-id>-<our span id>-<flags>"
//
// Ids come from a per-thread xoshiro256** generator seeded from std::random_device: no lock,
// no system call per id, and nothing sequential for a client to guess or collide with.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace almanac::serve {

struct TraceContext {
  std::array<char, 32> trace_id{};   // lowercase hex: the caller's trace, or a new one
  std::array<char, 16> span_id{};    // lowercase hex: this request's span (new per request)
  std::array<char, 16> parent_id{};  // lowercase hex: the caller's span, when `propagated`
  uint8_t flags = 0;                 // trace-flags; only "sampled" (0x01) is defined in level 1
  bool propagated = false;           // a valid traceparent came in

  std::string_view trace() const { return {trace_id.data(), trace_id.size()}; }
  std::string_view span() const { return {span_id.data(), span_id.size()}; }
  std::string_view parent() const { return propagated ? std::string_view(parent_id.data(), parent_id.size()) : ""; }
  // The traceparent this server sends back: version 00, the trace id, our span id, the flags.
  std::string_view Traceparent(std::array<char, 55>& buf) const;
};

// Parses a traceparent value into trace_id, parent_id and flags (span_id untouched). Version
// 00 must be exactly "00-" 32 hex "-" 16 hex "-" 2 hex (lowercase); a higher version (not ff)
// is read the same way when at least that long and, if longer, followed by '-'. All-zero trace
// or parent ids are invalid. False for anything else (out is then unspecified).
bool ParseTraceparent(std::string_view value, TraceContext* out);

// Starts this request's span in *out: a new random span id; the caller's trace id, parent id
// and sampled flag when `traceparent` is valid and came in exactly one header field
// (`fields`: how many did; two are invalid, as their comma-joined value would be); otherwise a
// new random trace id, no parent, and the sampled flag set (every request is logged).
void StartSpan(std::string_view traceparent, int fields, TraceContext* out);

// Whether a tracestate value may be passed back as it is: at most 512 bytes (what the
// specification requires vendors to propagate) of printable ASCII (and tabs).
bool PassableTracestate(std::string_view value);

// 64 random bits from this thread's generator. Thread-safe (one generator per thread).
uint64_t RandomU64();
// Writes `v` as 16 lowercase hex digits to out[0..16).
void HexU64(uint64_t v, char* out);

}  // namespace almanac::serve
