#include "store/vintage_merge.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <set>

#include "almanac/core/hash.h"

namespace almanac::store {
namespace {

bool IncomingLess(const IncomingRow& a, const IncomingRow& b) {
  return a.rt != b.rt ? a.rt < b.rt : a.period < b.period;
}

// Latest value per period (existing sorted by period, rt, vintage_id: the last row wins).
std::vector<std::pair<int64_t, double>> LatestPerPeriod(std::span<const StoredRow> existing) {
  std::vector<std::pair<int64_t, double>> latest;
  latest.reserve(existing.size());
  for (const auto& r : existing) {
    if (!latest.empty() && latest.back().first == r.period) latest.back().second = r.value;
    else latest.emplace_back(r.period, r.value);
  }
  return latest;
}

// The common case: every incoming date is at or after every stored date.
std::vector<PlannedVintage> PlanForward(std::span<const StoredRow> existing, const std::vector<IncomingRow>& incoming) {
  std::vector<std::pair<int64_t, double>> latest = LatestPerPeriod(existing);
  std::vector<PlannedVintage> out;
  size_t g = 0;
  while (g < incoming.size()) {
    size_t e = g;
    while (e < incoming.size() && incoming[e].rt == incoming[g].rt) ++e;
    PlannedVintage v;
    v.rt = incoming[g].rt;
    size_t j = 0;
    for (size_t i = g; i < e; ++i) {
      const auto& row = incoming[i];
      while (j < latest.size() && latest[j].first < row.period) ++j;
      if (j < latest.size() && latest[j].first == row.period && SameValue(latest[j].second, row.value)) continue;
      v.rows.emplace_back(row.period, row.value);
    }
    if (!v.rows.empty()) {
      if (e < incoming.size()) {  // later groups compare against this one too
        std::vector<std::pair<int64_t, double>> merged;
        merged.reserve(latest.size() + v.rows.size());
        size_t a = 0, b = 0;
        while (a < latest.size() || b < v.rows.size()) {
          if (b == v.rows.size() || (a < latest.size() && latest[a].first < v.rows[b].first)) merged.push_back(latest[a++]);
          else if (a == latest.size() || v.rows[b].first < latest[a].first) merged.push_back(v.rows[b++]);
          else { merged.push_back(v.rows[b++]); ++a; }
        }
        latest.swap(merged);
      }
      out.push_back(std::move(v));
    }
    g = e;
  }
  return out;
}

struct TimelineEntry {
  int64_t rt;
  int64_t order;  // stored: vintage id; new: above every stored id, in creation order
  double value;
};

// The entry known at `rt` on a timeline sorted by (rt, order); nullptr when none.
const TimelineEntry* EntryAt(const std::vector<TimelineEntry>& tl, int64_t rt) {
  const TimelineEntry* found = nullptr;
  for (const auto& e : tl) {
    if (e.rt > rt) break;
    found = &e;
  }
  return found;
}

void InsertSorted(std::vector<TimelineEntry>& tl, TimelineEntry e) {
  auto it = std::upper_bound(tl.begin(), tl.end(), e, [](const TimelineEntry& a, const TimelineEntry& b) {
    return a.rt != b.rt ? a.rt < b.rt : a.order < b.order;
  });
  tl.insert(it, e);
}

// The general case: the load back-fills dates before stored vintages.
std::vector<PlannedVintage> PlanBackfill(std::span<const StoredRow> existing, const std::vector<IncomingRow>& incoming) {
  std::map<int64_t, std::vector<TimelineEntry>> old_tl;
  std::set<int64_t> stored_rts;
  int64_t next_order = 1;
  for (const auto& r : existing) {
    old_tl[r.period].push_back({r.rt, r.vintage_id, r.value});
    stored_rts.insert(r.rt);
    next_order = std::max(next_order, r.vintage_id + 1);
  }
  std::map<int64_t, std::vector<TimelineEntry>> new_tl = old_tl;
  const int64_t first_new_order = next_order;
  std::map<int64_t, PlannedVintage> loads;  // by rt
  std::map<int64_t, int64_t> min_new_rt;    // by period
  size_t g = 0;
  while (g < incoming.size()) {
    size_t e = g;
    while (e < incoming.size() && incoming[e].rt == incoming[g].rt) ++e;
    const int64_t rt = incoming[g].rt;
    const int64_t order = next_order++;
    PlannedVintage v;
    v.rt = rt;
    for (size_t i = g; i < e; ++i) {
      const TimelineEntry* cur = EntryAt(new_tl[incoming[i].period], rt);
      if (cur != nullptr && SameValue(cur->value, incoming[i].value)) continue;
      v.rows.emplace_back(incoming[i].period, incoming[i].value);
    }
    for (const auto& [p, val] : v.rows) {
      InsertSorted(new_tl[p], {rt, order, val});
      auto it = min_new_rt.find(p);
      if (it == min_new_rt.end() || rt < it->second) min_new_rt[p] = rt;
    }
    if (!v.rows.empty()) loads[rt] = std::move(v);
    g = e;
  }
  // Re-record what each later stored vintage date knew, where the back-fill changed it.
  std::map<int64_t, PlannedVintage> restates;
  for (const auto& [p, first_rt] : min_new_rt) {
    auto old_it = old_tl.find(p);
    if (old_it == old_tl.end()) continue;  // the period was unknown before this load
    for (auto it = stored_rts.upper_bound(first_rt); it != stored_rts.end(); ++it) {
      const TimelineEntry* before_e = EntryAt(old_it->second, *it);
      const TimelineEntry* after_e = EntryAt(new_tl[p], *it);
      if (before_e == nullptr) continue;
      const double before = before_e->value;
      // Only a back-filled value from an earlier date is undone; a value this load gives
      // for that very date is explicit and stays.
      if (after_e->order < first_new_order || after_e->rt == *it || SameValue(before, after_e->value)) continue;
      auto& rv = restates[*it];
      rv.rt = *it;
      rv.restate = true;
      rv.rows.emplace_back(p, before);
      // Later dates now see the restated value, as they did before the load.
      InsertSorted(new_tl[p], {*it, next_order + 1000000000LL, before});
    }
  }
  std::vector<PlannedVintage> out;
  for (auto& [rt, v] : loads) out.push_back(std::move(v));
  for (auto& [rt, v] : restates) out.push_back(std::move(v));
  return out;
}

// Hashes (period, value) pairs in 16-byte little-endian records; every NaN hashes alike.
class ViewHasher {
 public:
  void Add(int64_t period, double value) {
    uint64_t bits = std::isnan(value) ? 0x7ff8000000000000ull : std::bit_cast<uint64_t>(value);
    Put(static_cast<uint64_t>(period));
    Put(bits);
    if (used_ + 16 > sizeof(buf_)) FlushBuffer();
    ++count_;
  }
  int64_t count() const { return count_; }
  std::string Finish() {
    FlushBuffer();
    return count_ == 0 ? std::string() : sha_.HexDigest();
  }

 private:
  void Put(uint64_t v) {
    for (int i = 0; i < 8; ++i) buf_[used_++] = static_cast<char>((v >> (8 * i)) & 0xff);
  }
  void FlushBuffer() {
    sha_.Update(std::string_view(buf_, used_));
    used_ = 0;
  }
  Sha256 sha_;
  char buf_[4096];
  size_t used_ = 0;
  int64_t count_ = 0;
};

bool StoredLess(const StoredRow& a, const StoredRow& b) {
  if (a.period != b.period) return a.period < b.period;
  if (a.rt != b.rt) return a.rt < b.rt;
  return a.vintage_id < b.vintage_id;
}

}  // namespace

LatestDigest DigestOfLatest(std::span<const StoredRow> a, std::span<const StoredRow> b) {
  LatestDigest out;
  out.max_rt = std::numeric_limits<int64_t>::min();
  ViewHasher h;
  size_t i = 0, j = 0;
  const StoredRow* last = nullptr;  // the newest row of the current period so far
  while (i < a.size() || j < b.size()) {
    const StoredRow* r = (j >= b.size() || (i < a.size() && !StoredLess(b[j], a[i]))) ? &a[i++] : &b[j++];
    out.max_rt = std::max(out.max_rt, r->rt);
    if (last != nullptr && last->period != r->period) h.Add(last->period, last->value);
    last = r;  // rows come in (period, rt, vintage_id) order: the last one of a period wins
  }
  if (last != nullptr) h.Add(last->period, last->value);
  out.periods = h.count();
  out.sha256 = h.Finish();
  return out;
}

std::optional<LatestDigest> DigestOfIncoming(std::vector<IncomingRow>& incoming) {
  if (incoming.empty()) return std::nullopt;
  const int64_t rt = incoming.front().rt;
  for (const auto& r : incoming)
    if (r.rt != rt) return std::nullopt;
  if (!std::is_sorted(incoming.begin(), incoming.end(), IncomingLess))
    std::stable_sort(incoming.begin(), incoming.end(), IncomingLess);
  ViewHasher h;
  for (size_t i = 0; i < incoming.size(); ++i) {
    if (i > 0 && incoming[i].period == incoming[i - 1].period) return std::nullopt;  // duplicates: full path
    h.Add(incoming[i].period, incoming[i].value);
  }
  const int64_t periods = h.count();
  return LatestDigest{rt, h.Finish(), periods};
}

Result<std::vector<PlannedVintage>> PlanVintages(std::span<const StoredRow> existing, std::vector<IncomingRow>& incoming,
                                                 DuplicateRow* duplicate) {
  if (!std::is_sorted(incoming.begin(), incoming.end(), IncomingLess))
    std::stable_sort(incoming.begin(), incoming.end(), IncomingLess);
  for (size_t i = 1; i < incoming.size(); ++i) {
    if (incoming[i].rt == incoming[i - 1].rt && incoming[i].period == incoming[i - 1].period) {
      if (duplicate != nullptr) *duplicate = {incoming[i].period, incoming[i].rt};
      return InvalidArgumentError("duplicate period");
    }
  }
  if (incoming.empty()) return std::vector<PlannedVintage>{};
  int64_t max_stored_rt = INT64_MIN;
  for (const auto& r : existing) max_stored_rt = std::max(max_stored_rt, r.rt);
  if (existing.empty() || max_stored_rt <= incoming.front().rt) return PlanForward(existing, incoming);
  return PlanBackfill(existing, incoming);
}

TimeSeries SeriesFromLatest(Frequency f, const std::vector<std::pair<int64_t, double>>& latest) {
  size_t b = 0, e = latest.size();
  while (b < e && std::isnan(latest[b].second)) ++b;
  while (e > b && std::isnan(latest[e - 1].second)) --e;
  if (b == e) return TimeSeries(Period(f, 0));
  std::vector<double> values(static_cast<size_t>(latest[e - 1].first - latest[b].first + 1), TimeSeries::kMissing);
  for (size_t i = b; i < e; ++i) values[static_cast<size_t>(latest[i].first - latest[b].first)] = latest[i].second;
  return *TimeSeries::FromValues(Period(f, latest[b].first), std::move(values));
}

}  // namespace almanac::store
