#include "store/load_session_base.h"

#include <algorithm>

namespace almanac::store {
namespace {
// Rows buffered across all series before everything is flushed to the back-end.
constexpr int64_t kMaxBufferedRows = 1 << 20;
// A series whose chunk reaches this size is flushed when the input moves to another series.
constexpr size_t kFlushOnSwitchRows = 4096;
}  // namespace

Status CheckStoredFrequency(const std::string& key, Frequency stored, Frequency given) {
  if (stored == given) return Status::Ok();
  return FailedPreconditionError("series " + key + " is stored with frequency " + std::string(FrequencyCode(stored)) +
                                 ", not " + std::string(FrequencyCode(given)));
}

Result<AuditEvent> LoadAuditEvent(const LoadOptions& options, const LoadReport& report,
                                  const std::vector<VintageInfo>& vintages) {
  Json details = options.audit_details.is_object() ? options.audit_details : Json::object();
  details["source"] = options.source;
  details["source_sha256"] = options.source_hash;
  details["rows_read"] = report.rows_read;
  details["series_seen"] = report.series_seen;
  details["series_created"] = report.series_created;
  details["vintages_created"] = report.vintages_created;
  details["observations_written"] = report.observations_written;
  // The series that received vintages (capped so one entry stays small).
  constexpr size_t kMaxListed = 1000;
  Json changed = Json::array();
  for (size_t i = 0; i < vintages.size() && i < kMaxListed; ++i)
    changed.push_back({{"series", vintages[i].series_key}, {"vintage", vintages[i].id},
                       {"realtime_start", vintages[i].realtime_start.ToString()}, {"kind", vintages[i].kind},
                       {"observations", vintages[i].num_observations}});
  details["vintages"] = std::move(changed);
  if (vintages.size() > kMaxListed) details["vintages_not_listed"] = vintages.size() - kMaxListed;
  return AuditEvent{options.loader.empty() ? "unknown" : options.loader, "ingest", "load",
                    std::to_string(report.load_id), std::move(details)};
}

LoadSessionBase::LoadSessionBase(LoadOptions options, const Clock& clock)
    : options_(std::move(options)), clock_(clock), now_micros_(clock.NowMicros()) {
  if (options_.loader.empty()) options_.loader = "unknown";
  default_rt_ = options_.default_realtime_start ? options_.default_realtime_start->days() : clock_.Today().days();
}

bool LoadSessionBase::Bitset::TestAndSet(int64_t ordinal) {
  if (words.empty()) {
    base = ordinal & ~int64_t{63};
    words.assign(1, 0);
  }
  if (ordinal < base) {
    const int64_t new_base = ordinal & ~int64_t{63};
    words.insert(words.begin(), static_cast<size_t>((base - new_base) / 64), 0);
    base = new_base;
  }
  const size_t bit = static_cast<size_t>(ordinal - base);
  if (bit / 64 >= words.size()) words.resize(bit / 64 + 1, 0);
  const uint64_t mask = uint64_t{1} << (bit % 64);
  const bool was = (words[bit / 64] & mask) != 0;
  words[bit / 64] |= mask;
  return was;
}

Status LoadSessionBase::DeclareSeries(const SeriesInfo& info) {
  if (!poisoned_.ok()) return poisoned_;
  Status s = ValidateSeriesKey(info.key);
  if (!s.ok()) return Poison(s);
  // NUL bytes: PostgreSQL text cannot hold them, so no back-end accepts them.
  for (const std::string* field : {&info.title, &info.unit, &info.seasonal_adjustment, &info.source})
    if (field->find('\0') != std::string::npos)
      return Poison(InvalidArgumentError("metadata of series " + info.key + " contains a NUL byte"));
  auto it = states_.find(info.key);
  if (it != states_.end() && it->second->ref.frequency != info.frequency)
    return Poison(FailedPreconditionError("series " + info.key + " has frequency " +
                                          std::string(FrequencyCode(it->second->ref.frequency)) +
                                          ", cannot declare it as " + std::string(FrequencyCode(info.frequency))));
  if (it == states_.end()) {
    auto found = FindSeries(info.key);
    if (!found.ok()) return Poison(found.status());
    if (*found && (*found)->frequency != info.frequency)
      return Poison(FailedPreconditionError("series " + info.key + " is stored with frequency " +
                                            std::string(FrequencyCode((*found)->frequency)) + ", not " +
                                            std::string(FrequencyCode(info.frequency))));
  }
  declared_[info.key] = info;
  if (it != states_.end()) {
    auto r = ResolveSeries(info, true);
    if (!r.ok()) return Poison(r.status());
  }
  return Status::Ok();
}

Result<LoadSessionBase::SeriesState*> LoadSessionBase::StateFor(std::string_view key, Frequency period_freq) {
  auto it = states_.find(std::string(key));
  if (it != states_.end()) return it->second.get();
  ALMANAC_RETURN_IF_ERROR(ValidateSeriesKey(key));
  auto state = std::make_unique<SeriesState>();
  state->key = std::string(key);
  auto d = declared_.find(state->key);
  SeriesInfo info;
  if (d != declared_.end()) {
    info = d->second;
  } else {
    ALMANAC_ASSIGN_OR_RETURN(auto found, FindSeries(key));
    info.key = state->key;
    info.frequency = found ? found->frequency : period_freq;
  }
  ALMANAC_ASSIGN_OR_RETURN(state->ref, ResolveSeries(info, d != declared_.end()));
  if (state->ref.created) ++report_.series_created;
  auto* raw = state.get();
  states_.emplace(state->key, std::move(state));
  return raw;
}

Status LoadSessionBase::Add(std::string_view key, Period period, std::optional<double> value,
                            std::optional<Date> realtime_start) {
  if (!poisoned_.ok()) return poisoned_;
  if (committed_) return FailedPreconditionError("load already committed");
  if (current_ == nullptr || current_->key != key) {
    if (current_ != nullptr && current_->chunk.size() >= kFlushOnSwitchRows) {
      Status s = Flush(*current_);
      if (!s.ok()) return Poison(s);
    }
    auto st = StateFor(key, period.frequency());
    if (!st.ok()) return Poison(st.status());
    current_ = *st;
  }
  if (period.frequency() != current_->ref.frequency) {
    return Poison(InvalidArgumentError("period " + period.ToString() + " (frequency " +
                                       std::string(FrequencyCode(period.frequency())) + ") does not fit series " +
                                       current_->key + ", which has frequency " +
                                       std::string(FrequencyCode(current_->ref.frequency))));
  }
  if (value && !std::isfinite(*value))
    return Poison(InvalidArgumentError("value for " + current_->key + " at " + period.ToString() + " is not finite"));
  const int64_t rt = realtime_start ? realtime_start->days() : default_rt_;
  if (current_->seen[rt].TestAndSet(period.ordinal())) {
    return Poison(InvalidArgumentError("duplicate observation: series " + current_->key + " period " +
                                       period.ToString() + " realtime_start " + Date::FromDays(rt).ToString() +
                                       " appears more than once in this load"));
  }
  // -0.0 becomes 0: PostgreSQL would keep the sign and SQLite drop it, and the back-ends'
  // snapshot ids must agree.
  current_->chunk.push_back({period.ordinal(), rt, value ? (*value == 0.0 ? 0.0 : *value) : TimeSeries::kMissing});
  ++report_.rows_read;
  if (++buffered_rows_ >= kMaxBufferedRows) {
    Status s = FlushAll();
    if (!s.ok()) return Poison(s);
  }
  return Status::Ok();
}

Status LoadSessionBase::Flush(SeriesState& state) {
  if (state.chunk.empty()) return Status::Ok();
  const auto done_with_chunk = [&] {
    buffered_rows_ -= static_cast<int64_t>(state.chunk.size());
    state.chunk.clear();
    state.chunk.shrink_to_fit();
  };
  // The common re-download of an unchanged file: recognised from the stored digest without
  // reading the stored rows (the full path below would plan no vintage either).
  if (LoadChangesNothing(state.ref.digest, DigestOfIncoming(state.chunk))) {
    done_with_chunk();
    return Status::Ok();
  }
  stored_scratch_.clear();
  written_scratch_.clear();
  ALMANAC_RETURN_IF_ERROR(ReadStoredRows(state.ref.id, &stored_scratch_));
  DuplicateRow dup{};
  auto plan = PlanVintages(stored_scratch_, state.chunk, &dup);
  if (!plan.ok()) {
    return InvalidArgumentError("duplicate observation: series " + state.key + " period " +
                                Period(state.ref.frequency, dup.period).ToString() + " appears more than once");
  }
  for (const auto& v : *plan) {
    VintageKey vk{state.ref.id, v.rt, v.restate};
    auto it = vintage_index_.find(vk);
    size_t idx;
    if (it == vintage_index_.end()) {
      ALMANAC_ASSIGN_OR_RETURN(int64_t vid, CreateVintage(state.ref.id, v.rt, v.restate));
      VintageInfo info;
      info.id = vid;
      info.series_key = state.key;
      info.realtime_start = Date::FromDays(v.rt);
      info.loaded_at = now_micros_;
      info.loader = options_.loader;
      info.source = options_.source;
      info.kind = v.restate ? "restate" : "load";
      idx = vintages_.size();
      vintages_.push_back(std::move(info));
      vintage_index_.emplace(vk, idx);
    } else {
      idx = it->second;
    }
    ALMANAC_RETURN_IF_ERROR(WriteRows(state.ref.id, vintages_[idx].id, v.rt, v.rows));
    vintages_[idx].num_observations += static_cast<int64_t>(v.rows.size());
    report_.observations_written += static_cast<int64_t>(v.rows.size());
    state.changed = true;
    for (const auto& [period, value] : v.rows) written_scratch_.push_back({period, v.rt, vintages_[idx].id, value});
  }
  // Keep the digest current: after writes, and when it was not recorded yet.
  if (!written_scratch_.empty() || !state.ref.digest) {
    const auto less = [](const StoredRow& a, const StoredRow& b) {
      return a.period != b.period ? a.period < b.period : a.rt != b.rt ? a.rt < b.rt : a.vintage_id < b.vintage_id;
    };
    if (!std::is_sorted(written_scratch_.begin(), written_scratch_.end(), less))
      std::sort(written_scratch_.begin(), written_scratch_.end(), less);
    LatestDigest digest = DigestOfLatest(stored_scratch_, written_scratch_);
    ALMANAC_RETURN_IF_ERROR(WriteLatestDigest(state.ref.id, digest));
    state.ref.digest = std::move(digest);
  }
  done_with_chunk();
  return Status::Ok();
}

Status LoadSessionBase::FlushAll() {
  // Flush in key order so vintage ids do not depend on hash-table order.
  std::vector<SeriesState*> order;
  for (auto& [k, s] : states_) order.push_back(s.get());
  std::sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->key < b->key; });
  for (auto* s : order) ALMANAC_RETURN_IF_ERROR(Flush(*s));
  return Status::Ok();
}

Result<LoadReport> LoadSessionBase::Commit() {
  if (!poisoned_.ok()) return poisoned_.WithContext("load not committed, nothing was stored");
  if (committed_) return FailedPreconditionError("load already committed");
  Status s = FlushAll();
  if (!s.ok()) return Poison(s).WithContext("load not committed, nothing was stored");
  // Series declared without rows are created too.
  for (const auto& [key, info] : declared_) {
    if (states_.count(key)) continue;
    auto r = ResolveSeries(info, true);
    if (!r.ok()) return Poison(r.status()).WithContext("load not committed, nothing was stored");
    if (r->created) ++report_.series_created;
  }
  report_.series_seen = static_cast<int64_t>(states_.size());
  for (const auto& [k, st] : states_)
    if (!st->changed) ++report_.series_unchanged;
  report_.vintages_created = static_cast<int64_t>(vintages_.size());
  for (auto& v : vintages_) v.source_hash = options_.source_hash;
  s = Finish(&report_, vintages_);
  if (!s.ok()) return Poison(s).WithContext("load not committed, nothing was stored");
  committed_ = true;
  constexpr size_t kMaxReported = 10000;
  report_.vintages.assign(vintages_.begin(), vintages_.begin() + static_cast<std::ptrdiff_t>(std::min(kMaxReported, vintages_.size())));
  for (auto& v : report_.vintages) v.load_id = report_.load_id;
  return report_;
}

}  // namespace almanac::store
