// The Beast side of `almanac serve` (serve-internal): the Server::Impl that owns the I/O
// threads, the acceptor, TLS, the connections and the worker pool, and hands requests to the
// ServeCore (serve_core.h). Included by http_server.cc and http_session.h only: Boost.Beast
// costs ~3 s of compile time per translation unit.
#pragma once

#include <utility>  // before Boost.Asio (GCC 12, C++20)

// Beast's string_view is std::string_view, so the plain structs of http_api.h take it as is.
#define BOOST_BEAST_USE_STD_STRING_VIEW

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "almanac/serve.h"

#include "serve/client_limiter.h"
#include "serve/serve_core.h"
#include "serve/worker_pool.h"

namespace almanac::serve {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;
// Concrete executor types instead of any_io_executor: no type-erased dispatch per operation.
using Executor = net::io_context::executor_type;
using Socket = net::basic_stream_socket<tcp, Executor>;
using TcpStream = beast::basic_stream<tcp, Executor, beast::unlimited_rate_policy>;
using TlsStream = beast::ssl_stream<TcpStream>;

inline int64_t SteadyNanos(SteadyClock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

// Who is at the other end of a connection, as the acceptor saw it, and its slot in the
// per-address connection count (held for the connection's life).
struct Peer {
  ClientAddress address;
  ClientLimiter::Connection slot;
};

class Server::Impl {
 public:
  Impl(ServerOptions options, ServerDeps deps);

  Status Start();
  void BeginShutdown();
  Status Wait();
  int port() const { return port_; }

  // Used by sessions.
  const ServerOptions& opt() const { return opt_; }
  HttpApi& api() { return core_.api(); }
  WorkerPool& workers() { return *workers_; }
  bool draining() const { return draining_.load(std::memory_order_acquire); }
  ClientLimiter& limiter() { return *limiter_; }
  std::string NextRequestId() { return core_.NextRequestId(); }
  void Log(std::string_view line) const { core_.Log(line); }
  void RecordRequest(std::string_view route, std::string_view method, int status, double seconds) {
    core_.RecordRequest(route, method, status, seconds);
  }
  void Rejected(std::string_view reason) { core_.Rejected(reason); }
  void AccessLog(const AccessRecord& r) const { core_.AccessLog(r); }
  monitor::Gauge& in_flight() { return core_.in_flight(); }

  struct SessionBase {
    virtual ~SessionBase() = default;
    virtual void Drain() = 0;  // posted to the session's context on shutdown
  };
  void Register(const std::shared_ptr<SessionBase>& s);
  void Unregister(SessionBase* s);
  size_t Sessions() const;

 private:
  void Accept();
  void CheckDrained();

  ServerOptions opt_;
  ServeCore core_;
  std::unique_ptr<ClientLimiter> limiter_;  // set by Start from the validated options
  std::unique_ptr<WorkerPool> workers_;
  std::unique_ptr<ssl::context> tls_;
  // Declared before the io_context: sessions destroyed with its pending handlers unregister.
  mutable std::mutex sessions_mu_;
  std::unordered_map<SessionBase*, std::weak_ptr<SessionBase>> sessions_;

  std::vector<std::unique_ptr<net::io_context>> iocs_;
  std::vector<net::executor_work_guard<Executor>> guards_;
  size_t next_ioc_ = 0;  // the context of the next connection (used on the first context only)
  tcp::acceptor acceptor_;
  tcp::endpoint accept_peer_;  // filled by the one pending accept
  net::signal_set signals_;
  net::steady_timer drain_timer_;
  SteadyClock::time_point drain_deadline_;
  std::vector<std::thread> io_threads_;
  int port_ = 0;
  std::atomic<bool> draining_{false};
  std::atomic<bool> stopped_{false};
};

}  // namespace almanac::serve
