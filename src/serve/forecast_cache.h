// A bounded LRU cache of rendered forecast responses (serve-internal).
#pragma once

#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace almanac::serve {

// Keys name everything a forecast depends on (model, version, package SHA-256, horizon,
// levels, as_of or the caller's data); values are the rendered JSON without the request id.
// Bounded by entries and bytes; least recently used entries go first. Clear() starts a new
// generation: a Put computed before the Clear (it passes the generation it started in) is
// dropped, so data that changed meanwhile cannot be cached stale. Thread-safe.
class ForecastCache {
 public:
  ForecastCache(size_t max_entries, size_t max_bytes) : max_entries_(max_entries), max_bytes_(max_bytes) {}

  bool enabled() const { return max_entries_ > 0; }
  // nullptr on a miss.
  std::shared_ptr<const std::string> Get(const std::string& key);
  void Put(const std::string& key, std::shared_ptr<const std::string> value, uint64_t generation);
  void Clear();
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

  size_t entries() const;
  size_t bytes() const;

 private:
  using Entry = std::pair<std::string, std::shared_ptr<const std::string>>;
  const size_t max_entries_;
  const size_t max_bytes_;
  std::atomic<uint64_t> generation_{1};
  mutable std::mutex mu_;
  std::list<Entry> lru_;  // most recent first; GUARDED_BY(mu_)
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;  // GUARDED_BY(mu_)
  size_t bytes_ = 0;  // GUARDED_BY(mu_)
};

}  // namespace almanac::serve
