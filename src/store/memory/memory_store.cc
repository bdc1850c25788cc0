// The in-memory back-end: its series store and the root object. The metadata store is in
// memory_metadata.cc, the state both share in memory_state.h.
#include "store/memory/memory_store.h"

#include <algorithm>
#include <limits>
#include <map>
#include <mutex>

#include "store/load_session_base.h"
#include "store/memory/memory_metadata.h"
#include "store/memory/memory_state.h"
#include "store/snapshot_content.h"

namespace almanac::store::memory {
namespace {

class MemorySeriesStore;

class MemoryLoadSession : public LoadSessionBase {
 public:
  MemoryLoadSession(LoadOptions options, const Clock& clock, MemorySeriesStore* owner, State copy,
                    std::unique_lock<std::mutex> writer)
      : LoadSessionBase(std::move(options), clock),
        owner_(owner),
        clock_(clock),
        state_(std::move(copy)),
        writer_(std::move(writer)) {
    load_id_ = state_.next_load++;
  }

 protected:
  Result<std::optional<SeriesRef>> FindSeries(std::string_view key) override {
    auto it = state_.series.find(std::string(key));
    if (it == state_.series.end()) return std::optional<SeriesRef>();
    return std::optional<SeriesRef>(SeriesRef{it->second.id, it->second.info.frequency, false, it->second.digest});
  }
  Result<SeriesRef> ResolveSeries(const SeriesInfo& info, bool update) override {
    auto it = state_.series.find(info.key);
    if (it != state_.series.end()) {
      ALMANAC_RETURN_IF_ERROR(CheckStoredFrequency(info.key, it->second.info.frequency, info.frequency));
      if (update) {
        auto& i = it->second.info;
        if (!info.title.empty()) i.title = info.title;
        if (!info.unit.empty()) i.unit = info.unit;
        if (!info.seasonal_adjustment.empty()) i.seasonal_adjustment = info.seasonal_adjustment;
        if (!info.source.empty()) i.source = info.source;
      }
      return SeriesRef{it->second.id, it->second.info.frequency, false, it->second.digest};
    }
    SeriesData d;
    d.info = info;
    d.info.created_at = now_micros();
    d.id = state_.next_id++;
    state_.key_by_id[d.id] = info.key;
    const int64_t id = d.id;
    state_.series.emplace(info.key, std::move(d));
    return SeriesRef{id, info.frequency, true};
  }
  Status ReadStoredRows(int64_t series_id, std::vector<StoredRow>* rows) override {
    const auto& d = state_.series.at(state_.key_by_id.at(series_id));
    for (const auto& [k, v] : d.obs) rows->push_back({k.period, k.rt, k.vintage_id, v});
    return Status::Ok();
  }
  Status WriteLatestDigest(int64_t series_id, const LatestDigest& digest) override {
    state_.series.at(state_.key_by_id.at(series_id)).digest = digest;
    return Status::Ok();
  }
  Result<int64_t> CreateVintage(int64_t series_id, int64_t rt, bool restate) override {
    VintageRow row;
    row.series_id = series_id;
    row.info.id = state_.next_id++;
    row.info.series_key = state_.key_by_id.at(series_id);
    row.info.realtime_start = Date::FromDays(rt);
    row.info.loaded_at = now_micros();
    row.info.load_id = load_id_;
    row.info.loader = options().loader;
    row.info.source = options().source;
    row.info.kind = restate ? "restate" : "load";
    const int64_t id = row.info.id;
    state_.vintages.emplace(id, std::move(row));
    return id;
  }
  Status WriteRows(int64_t series_id, int64_t vintage_id, int64_t rt,
                   const std::vector<std::pair<int64_t, double>>& rows) override {
    auto& d = state_.series.at(state_.key_by_id.at(series_id));
    for (const auto& [p, v] : rows) d.obs[ObsKey{p, rt, vintage_id}] = v;
    return Status::Ok();
  }
  Status Finish(LoadReport* report, const std::vector<VintageInfo>& vintages) override;

 private:
  MemorySeriesStore* owner_;
  const Clock& clock_;
  State state_;
  std::unique_lock<std::mutex> writer_;
  int64_t load_id_ = 0;
};

class MemorySeriesStore : public SeriesStore {
 public:
  MemorySeriesStore(StoreOptions options, Shared& shared)
      : options_(options), mu_(shared.mu), writer_mu_(shared.writer_mu), state_(shared.state) {}

  Result<std::unique_ptr<LoadSession>> BeginLoad(const LoadOptions& options) override {
    std::unique_lock writer(writer_mu_, std::try_to_lock);
    if (!writer.owns_lock()) return UnavailableError("the memory store already has an open load");
    State copy;
    {
      std::lock_guard lock(mu_);
      copy = state_;
    }
    return std::unique_ptr<LoadSession>(
        std::make_unique<MemoryLoadSession>(options, *options_.clock, this, std::move(copy), std::move(writer)));
  }

  void Install(State s) {
    std::lock_guard lock(mu_);
    state_ = std::move(s);
  }

  Result<std::vector<SeriesInfo>> ListSeries() override {
    std::lock_guard lock(mu_);
    std::vector<SeriesInfo> out;
    for (const auto& [k, d] : state_.series) out.push_back(d.info);
    return out;
  }

  Result<SeriesInfo> GetSeries(std::string_view key) override {
    std::lock_guard lock(mu_);
    ALMANAC_ASSIGN_OR_RETURN(const SeriesData* d, Find(key));
    return d->info;
  }

  Result<TimeSeries> ReadAsOf(std::string_view key, std::optional<Date> as_of) override {
    std::lock_guard lock(mu_);
    ALMANAC_ASSIGN_OR_RETURN(const SeriesData* d, Find(key));
    const int64_t limit = as_of ? as_of->days() : std::numeric_limits<int64_t>::max();
    std::map<int64_t, double> latest;
    for (const auto& [k, v] : d->obs)
      if (k.rt <= limit) latest[k.period] = v;
    TimeSeries ts(Period(d->info.frequency, 0));
    bool any = false;
    for (const auto& [p, v] : latest) {
      if (std::isnan(v) && !any) continue;
      ALMANAC_RETURN_IF_ERROR(ts.Set(Period(d->info.frequency, p), std::isnan(v) ? std::nullopt : std::optional<double>(v)));
      any = true;
    }
    if (!any) return TimeSeries(Period(d->info.frequency, 0));
    return ts.Trimmed();
  }

  Result<std::vector<VintageInfo>> ListVintages(std::string_view key) override {
    std::lock_guard lock(mu_);
    ALMANAC_ASSIGN_OR_RETURN(const SeriesData* d, Find(key));
    std::vector<VintageInfo> out;
    for (const auto& [id, row] : state_.vintages)
      if (row.series_id == d->id) out.push_back(row.info);
    std::sort(out.begin(), out.end(), [](const VintageInfo& a, const VintageInfo& b) {
      return a.realtime_start != b.realtime_start ? a.realtime_start < b.realtime_start : a.id < b.id;
    });
    return out;
  }

  Result<std::vector<RevisionEntry>> RevisionHistory(std::string_view key, Period period) override {
    std::lock_guard lock(mu_);
    ALMANAC_ASSIGN_OR_RETURN(const SeriesData* d, Find(key));
    if (period.frequency() != d->info.frequency)
      return InvalidArgumentError("period " + period.ToString() + " does not fit series " + std::string(key) +
                                  " (frequency " + std::string(FrequencyCode(d->info.frequency)) + ")");
    std::vector<RevisionEntry> out;
    for (const auto& [k, v] : d->obs) {
      if (k.period != period.ordinal()) continue;
      RevisionEntry e;
      e.vintage_id = k.vintage_id;
      e.realtime_start = Date::FromDays(k.rt);
      e.loaded_at = state_.vintages.at(k.vintage_id).info.loaded_at;
      if (!std::isnan(v)) e.value = v;
      out.push_back(e);
    }
    return out;
  }

  Result<SnapshotInfo> CreateSnapshot(const SnapshotRequest& request) override {
    ALMANAC_ASSIGN_OR_RETURN(ResolvedSnapshot r, ResolveSnapshot(*this, request));
    std::lock_guard lock(mu_);
    auto existing = state_.snapshots.find(request.name);
    if (existing != state_.snapshots.end())
      return AlreadyExistsError("a snapshot named " + request.name + " already exists (id " + existing->second.id +
                                "); snapshot names are immutable, choose another name");
    state_.contents.emplace(r.id, std::make_pair(r.content, std::make_pair(r.num_series, r.num_observations)));
    SnapshotInfo info = NewSnapshotInfo(r, request, options_.clock->NowMicros());
    state_.snapshots[info.name] = info;
    ALMANAC_RETURN_IF_ERROR(AppendAudit(state_, *options_.clock, SnapshotAuditEvent(info)).status());
    return info;
  }

  Result<std::vector<SnapshotInfo>> ListSnapshots() override {
    std::lock_guard lock(mu_);
    std::vector<SnapshotInfo> out;
    for (const auto& [n, s] : state_.snapshots) out.push_back(s);
    std::sort(out.begin(), out.end(), [](const SnapshotInfo& a, const SnapshotInfo& b) {
      return a.created_at != b.created_at ? a.created_at < b.created_at : a.name < b.name;
    });
    return out;
  }

  Result<Snapshot> GetSnapshot(std::string_view name_or_id) override {
    std::lock_guard lock(mu_);
    const SnapshotInfo* found = nullptr;
    auto it = state_.snapshots.find(std::string(name_or_id));
    if (it != state_.snapshots.end()) found = &it->second;
    if (found == nullptr && name_or_id.size() >= 6) {
      for (const auto& [n, s] : state_.snapshots) {
        if (s.id.compare(0, name_or_id.size(), name_or_id) != 0) continue;
        if (found != nullptr && found->id != s.id)
          return InvalidArgumentError("snapshot id prefix " + QuoteForMessage(name_or_id) + " is ambiguous");
        if (found == nullptr || s.created_at < found->created_at) found = &s;
      }
    }
    if (found == nullptr) return NotFoundError("no snapshot named or with id " + QuoteForMessage(name_or_id));
    return DecodeSnapshot(*found, state_.contents.at(found->id).first);
  }

 private:
  Result<const SeriesData*> Find(std::string_view key) {
    auto it = state_.series.find(std::string(key));
    if (it == state_.series.end()) return NotFoundError("no series " + QuoteForMessage(key) + " in the store");
    return &it->second;
  }

  StoreOptions options_;
  std::mutex& mu_;
  std::mutex& writer_mu_;
  State& state_;
};

Status MemoryLoadSession::Finish(LoadReport* report, const std::vector<VintageInfo>& vintages) {
  for (const auto& v : vintages) {
    auto& row = state_.vintages.at(v.id);
    row.info.num_observations = v.num_observations;
    row.info.source_hash = options().source_hash;
  }
  report->load_id = load_id_;
  ALMANAC_ASSIGN_OR_RETURN(AuditEvent event, LoadAuditEvent(options(), *report, vintages));
  ALMANAC_RETURN_IF_ERROR(AppendAudit(state_, clock_, event).status());
  owner_->Install(std::move(state_));
  return Status::Ok();
}

class MemoryStore : public Store {
 public:
  MemoryStore(std::string uri, StoreOptions options)
      : uri_(std::move(uri)), series_(options, shared_), metadata_(NewMemoryMetadataStore(shared_, *options.clock)) {}
  SeriesStore& series() override { return series_; }
  MetadataStore& metadata() override { return *metadata_; }
  const std::string& uri() const override { return uri_; }
  Result<int> SchemaVersion() override { return CurrentSchemaVersion(); }

 private:
  std::string uri_;
  Shared shared_;
  MemorySeriesStore series_;
  std::unique_ptr<MetadataStore> metadata_;
};

}  // namespace

Result<std::unique_ptr<Store>> OpenMemoryStore(const std::string& uri, const StoreOptions& options) {
  return std::unique_ptr<Store>(std::make_unique<MemoryStore>(uri, options));
}

}  // namespace almanac::store::memory
