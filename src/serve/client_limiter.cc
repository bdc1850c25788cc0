#include "serve/client_limiter.h"

#include <algorithm>
#include <cmath>

namespace almanac::serve {
namespace {

int64_t IntervalNs(double rate) { return rate > 0 ? std::max<int64_t>(1, std::llround(1e9 / rate)) : 0; }

}  // namespace

Result<ClientLimits> ClientLimitsFor(const ServerOptions& o) {
  const int per_address = o.max_connections_per_address;
  if (per_address < -1)
    return InvalidArgumentError("--max-connections-per-address must be 0 (no limit) or positive, not " +
                                std::to_string(per_address));
  if (per_address > o.max_connections)
    return InvalidArgumentError("--max-connections-per-address (" + std::to_string(per_address) +
                                ") cannot exceed --max-connections (" + std::to_string(o.max_connections) + ")");
  if (!(o.rate_limit >= 0 && o.rate_limit <= 1e6))
    return InvalidArgumentError("--rate-limit must be in [0, 1000000] requests per second (0: no limit)");
  if (o.rate_burst < 0 || o.rate_burst > 1'000'000)
    return InvalidArgumentError("--rate-burst must be in [0, 1000000] requests (0: twice --rate-limit)");
  if (o.rate_burst > 0 && o.rate_limit == 0) return InvalidArgumentError("--rate-burst needs --rate-limit");
  if (o.trusted_proxies < 0 || o.trusted_proxies > 16)
    return InvalidArgumentError("--trusted-proxies must be in 0..16 (0: ignore X-Forwarded-For)");
  ClientLimits l;
  if (per_address >= 0)
    l.max_connections = per_address;
  else  // behind proxies every connection comes from one of them: they must limit per client
    l.max_connections = o.trusted_proxies > 0 ? 0 : std::max(1, o.max_connections / 4);
  l.rate = o.rate_limit;
  l.burst = o.rate_burst > 0 ? o.rate_burst : std::max(1.0, std::ceil(2 * o.rate_limit));
  return l;
}

ClientLimiter::ClientLimiter(ClientLimits limits)
    : limits_(limits),
      interval_ns_(IntervalNs(limits.rate)),
      tolerance_ns_(
          static_cast<int64_t>(std::max(0.0, std::floor(limits.burst) - 1) * static_cast<double>(interval_ns_))) {}

ClientLimiter::Shard& ClientLimiter::ShardOf(const ClientAddress& key) {
  return shards_[(ClientAddressHash()(key) >> 7) % kShards];
}

void ClientLimiter::Sweep(Shard& shard, int64_t now_ns) {
  for (auto it = shard.map.begin(); it != shard.map.end();) {
    // use_count() is exact enough here: new references are only taken under this lock, and a
    // session dropping its reference concurrently only makes an entry look busier than it is.
    const Entry& e = *it->second;
    if (it->second.use_count() == 1 && e.connections.load(std::memory_order_relaxed) == 0 &&
        e.tat_ns.load(std::memory_order_relaxed) <= now_ns)
      it = shard.map.erase(it);
    else
      ++it;
  }
  shard.sweep_at = std::max<size_t>(64, 2 * shard.map.size());
}

ClientLimiter::EntryRef ClientLimiter::Lookup(Shard& shard, const ClientAddress& key, int64_t now_ns) {
  if (auto it = shard.map.find(key); it != shard.map.end()) return it->second;
  if (shard.map.size() >= shard.sweep_at) Sweep(shard, now_ns);
  if (shard.map.size() >= std::max<size_t>(1, limits_.max_entries / kShards)) return nullptr;
  auto e = std::make_shared<Entry>();
  shard.map.emplace(key, e);
  return e;
}

std::optional<ClientLimiter::Connection> ClientLimiter::OpenConnection(const ClientAddress& address, int64_t now_ns) {
  if (!enabled()) return Connection();
  const ClientAddress key = address.LimitKey();
  Shard& shard = ShardOf(key);
  std::lock_guard lock(shard.mu);
  EntryRef e = Lookup(shard, key, now_ns);
  if (!e) return Connection();
  // Increments happen under the shard's lock, decrements anywhere: the check cannot overshoot.
  if (limits_.max_connections > 0 && e->connections.load(std::memory_order_relaxed) >= limits_.max_connections)
    return std::nullopt;
  e->connections.fetch_add(1, std::memory_order_relaxed);
  return Connection(std::move(e));
}

ClientLimiter::EntryRef ClientLimiter::Find(const ClientAddress& address, int64_t now_ns) {
  const ClientAddress key = address.LimitKey();
  Shard& shard = ShardOf(key);
  std::lock_guard lock(shard.mu);
  return Lookup(shard, key, now_ns);
}

bool ClientLimiter::AllowRequest(Entry& entry, int64_t now_ns, int64_t* retry_after_ns) const {
  if (interval_ns_ == 0) return true;
  // GCRA: a request is allowed when the bucket's "full again" time is at most `burst - 1`
  // intervals ahead; allowing it moves that time one interval on.
  int64_t tat = entry.tat_ns.load(std::memory_order_relaxed);
  for (;;) {
    const int64_t base = std::max(tat, now_ns);
    if (base - now_ns > tolerance_ns_) {
      *retry_after_ns = base - now_ns - tolerance_ns_;
      return false;
    }
    if (entry.tat_ns.compare_exchange_weak(tat, base + interval_ns_, std::memory_order_relaxed)) return true;
  }
}

size_t ClientLimiter::tracked() const {
  size_t n = 0;
  for (const auto& s : shards_) {
    std::lock_guard lock(s.mu);
    n += s.map.size();
  }
  return n;
}

}  // namespace almanac::serve
