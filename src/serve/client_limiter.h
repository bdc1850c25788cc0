// Per-client limits of `almanac serve` (serve-internal): open connections per client address,
// counted at accept, and a request rate per client address (a token bucket, kept as GCRA's one
// "theoretical arrival time" so that a check is one compare-and-swap, without a lock).
// Independent of Boost, so it is tested directly.
//
//   ClientLimiter limiter({.max_connections = 256, .rate = 100, .burst = 200});
//   auto conn = limiter.OpenConnection(peer, now_ns);   // at accept
//   if (!conn) refuse();                                  // 256 already open from `peer`
//   int64_t wait_ns;
//   if (!limiter.AllowRequest(*conn->entry(), now_ns, &wait_ns)) answer429(wait_ns);
//
// A session keeps its Connection (and, behind proxies, the entry of its last forwarded
// client), so a request costs no map lookup: only the compare-and-swap when a rate is set.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "almanac/serve.h"

#include "serve/client_address.h"

namespace almanac::serve {

struct ClientLimits {
  int max_connections = 0;  // open connections per client address; 0: no limit
  double rate = 0;          // requests per second per client address; 0: no limit
  double burst = 1;         // requests a client may send at once (the bucket's size); >= 1
  // Addresses tracked at most. A new address beyond it is not limited (and not counted): the
  // table must not become the resource a flood of addresses exhausts. Idle entries are dropped.
  size_t max_entries = size_t{1} << 18;
};

// The limits `options` ask for, defaults resolved (max_connections_per_address -1, rate_burst
// 0), or InvalidArgument naming the option: max_connections_per_address below -1 or above
// max_connections, rate_limit outside [0, 1e6], rate_burst outside [0, 1e6] or set without a
// rate, trusted_proxies outside 0..16.
Result<ClientLimits> ClientLimitsFor(const ServerOptions& options);

class ClientLimiter {
 public:
  // The state of one client address (its LimitKey), shared by its connections.
  struct Entry {
    std::atomic<int> connections{0};
    std::atomic<int64_t> tat_ns{0};  // when the bucket is full again (steady clock, ns)
  };
  using EntryRef = std::shared_ptr<Entry>;

  // One open connection of a client: counted until destroyed. Move-only. entry() is null when
  // nothing is limited or the address could not be tracked (max_entries).
  class Connection {
   public:
    Connection() = default;
    explicit Connection(EntryRef e) : entry_(std::move(e)) {}
    Connection(Connection&& o) noexcept = default;
    Connection& operator=(Connection&& o) noexcept {
      Release();
      entry_ = std::move(o.entry_);
      return *this;
    }
    ~Connection() { Release(); }
    Entry* entry() const { return entry_.get(); }

   private:
    void Release() {
      if (entry_) entry_->connections.fetch_sub(1, std::memory_order_relaxed);
      entry_.reset();
    }
    EntryRef entry_;
  };

  explicit ClientLimiter(ClientLimits limits);
  ClientLimiter(const ClientLimiter&) = delete;
  ClientLimiter& operator=(const ClientLimiter&) = delete;

  const ClientLimits& limits() const { return limits_; }
  bool limits_rate() const { return limits_.rate > 0; }
  // Whether connections need an entry at all (a limit of either kind is set).
  bool enabled() const { return limits_.max_connections > 0 || limits_.rate > 0; }

  // At accept: counts one more connection of `address` (by its LimitKey) and returns it;
  // nullopt when max_connections of that address are open already (nothing is counted).
  // Thread-safe (one shard's lock).
  std::optional<Connection> OpenConnection(const ClientAddress& address, int64_t now_ns);
  // The entry of a client that is not the connection's peer (X-Forwarded-For); created when
  // new; null when the table is full. Thread-safe (one shard's lock).
  EntryRef Find(const ClientAddress& address, int64_t now_ns);
  // One request of the entry's client at `now_ns` (steady clock): true when within the rate
  // (or no rate is set); otherwise false with the wait until one would be allowed in
  // *retry_after_ns. Lock-free.
  bool AllowRequest(Entry& entry, int64_t now_ns, int64_t* retry_after_ns) const;

  // Addresses tracked now (tests, metrics).
  size_t tracked() const;

 private:
  static constexpr size_t kShards = 16;
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<ClientAddress, EntryRef, ClientAddressHash> map;  // GUARDED_BY(mu)
    size_t sweep_at = 64;                                                // GUARDED_BY(mu)
  };
  Shard& ShardOf(const ClientAddress& key);
  // The entry of `key`, created when new (null when full). REQUIRES shard.mu.
  EntryRef Lookup(Shard& shard, const ClientAddress& key, int64_t now_ns);
  // Drops entries no connection holds whose bucket is full. REQUIRES shard.mu.
  void Sweep(Shard& shard, int64_t now_ns);

  const ClientLimits limits_;
  const int64_t interval_ns_;   // 1 / rate
  const int64_t tolerance_ns_;  // (burst - 1) / rate
  std::array<Shard, kShards> shards_;
};

}  // namespace almanac::serve
