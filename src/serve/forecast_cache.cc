#include "serve/forecast_cache.h"

namespace almanac::serve {

std::shared_ptr<const std::string> ForecastCache::Get(const std::string& key) {
  if (!enabled()) return nullptr;
  std::lock_guard lock(mu_);
  auto it = index_.find(key);
  if (it == index_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->second;
}

void ForecastCache::Put(const std::string& key, std::shared_ptr<const std::string> value, uint64_t generation) {
  if (!enabled() || value == nullptr) return;
  const size_t size = key.size() + value->size();
  if (size > max_bytes_) return;
  std::lock_guard lock(mu_);
  if (generation != generation_.load(std::memory_order_acquire)) return;  // computed before a Clear
  auto it = index_.find(key);
  if (it != index_.end()) {
    bytes_ -= it->second->first.size() + it->second->second->size();
    lru_.erase(it->second);
    index_.erase(it);
  }
  lru_.emplace_front(key, std::move(value));
  index_[key] = lru_.begin();
  bytes_ += size;
  while (!lru_.empty() && (index_.size() > max_entries_ || bytes_ > max_bytes_)) {
    const Entry& last = lru_.back();
    bytes_ -= last.first.size() + last.second->size();
    index_.erase(last.first);
    lru_.pop_back();
  }
}

void ForecastCache::Clear() {
  std::lock_guard lock(mu_);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  lru_.clear();
  index_.clear();
  bytes_ = 0;
}

size_t ForecastCache::entries() const {
  std::lock_guard lock(mu_);
  return index_.size();
}

size_t ForecastCache::bytes() const {
  std::lock_guard lock(mu_);
  return bytes_;
}

}  // namespace almanac::serve
