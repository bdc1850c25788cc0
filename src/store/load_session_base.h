// The back-end independent half of a load: validation, buffering rows per series, duplicate
// detection and vintage planning. Back-ends implement the storage hooks (store-internal).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "almanac/store.h"
#include "store/vintage_merge.h"

namespace almanac::store {

// The audit entry of a committed load (the same on every back-end).
Result<AuditEvent> LoadAuditEvent(const LoadOptions& options, const LoadReport& report,
                                  const std::vector<VintageInfo>& vintages);

// FailedPrecondition when a series stored with frequency `stored` is loaded with `given`.
Status CheckStoredFrequency(const std::string& key, Frequency stored, Frequency given);

class LoadSessionBase : public LoadSession {
 public:
  LoadSessionBase(LoadOptions options, const Clock& clock);
  ~LoadSessionBase() override = default;

  Status DeclareSeries(const SeriesInfo& info) final;
  Status Add(std::string_view key, Period period, std::optional<double> value,
             std::optional<Date> realtime_start) final;
  void SetSourceHash(std::string hash) final { options_.source_hash = std::move(hash); }
  Result<LoadReport> Commit() final;

 protected:
  struct SeriesRef {
    int64_t id = 0;
    Frequency frequency = Frequency::kAnnual;
    bool created = false;
    std::optional<LatestDigest> digest;  // nullopt: not recorded (e.g. stored before schema 4)
  };

  // Finds the series, or creates it from `info` (frequency set). Applies non-empty metadata
  // fields of `info` when `update` is true. FailedPrecondition on a frequency conflict.
  virtual Result<SeriesRef> ResolveSeries(const SeriesInfo& info, bool update) = 0;
  // nullopt when the series does not exist.
  virtual Result<std::optional<SeriesRef>> FindSeries(std::string_view key) = 0;
  // Every stored row of the series, sorted by (period, rt, vintage_id).
  virtual Status ReadStoredRows(int64_t series_id, std::vector<StoredRow>* rows) = 0;
  // Records the series' latest-view digest (in the load's transaction).
  virtual Status WriteLatestDigest(int64_t series_id, const LatestDigest& digest) = 0;
  virtual Result<int64_t> CreateVintage(int64_t series_id, int64_t rt, bool restate) = 0;
  virtual Status WriteRows(int64_t series_id, int64_t vintage_id, int64_t rt,
                           const std::vector<std::pair<int64_t, double>>& rows) = 0;
  // Records final counts, makes everything visible atomically; fills report->load_id and the
  // vintages' ids are already known.
  virtual Status Finish(LoadReport* report, const std::vector<VintageInfo>& vintages) = 0;

  const LoadOptions& options() const { return options_; }
  int64_t now_micros() const { return now_micros_; }

 private:
  struct Bitset {
    int64_t base = 0;
    std::vector<uint64_t> words;
    bool TestAndSet(int64_t ordinal);
  };
  struct SeriesState {
    SeriesRef ref;
    std::string key;
    std::vector<IncomingRow> chunk;
    std::unordered_map<int64_t, Bitset> seen;  // by rt
    bool changed = false;
  };

  Status Poison(Status s) {
    if (poisoned_.ok()) poisoned_ = s;
    return s;
  }
  Result<SeriesState*> StateFor(std::string_view key, Frequency period_freq);
  Status Flush(SeriesState& state);
  Status FlushAll();

  LoadOptions options_;
  const Clock& clock_;
  int64_t now_micros_;
  int64_t default_rt_;
  Status poisoned_;
  bool committed_ = false;
  std::unordered_map<std::string, std::unique_ptr<SeriesState>> states_;
  std::unordered_map<std::string, SeriesInfo> declared_;
  SeriesState* current_ = nullptr;
  int64_t buffered_rows_ = 0;
  LoadReport report_;
  struct VintageKey {
    int64_t series_id, rt;
    bool restate;
    bool operator==(const VintageKey&) const = default;
  };
  struct VintageKeyHash {
    size_t operator()(const VintageKey& k) const {
      return std::hash<int64_t>()(k.series_id * 1000003 + k.rt * 2 + (k.restate ? 1 : 0));
    }
  };
  std::unordered_map<VintageKey, size_t, VintageKeyHash> vintage_index_;  // into vintages_
  std::vector<VintageInfo> vintages_;
  std::vector<StoredRow> stored_scratch_;
  std::vector<StoredRow> written_scratch_;
};

}  // namespace almanac::store
