// The HTTP/1.1 server: Boost.Asio + Beast (keep-alive, optional TLS) and a bounded worker pool
// for requests that read the store or refit; what is served (models, tokens, cache, poller,
// metrics) is the ServeCore (serve_core.h: the Controller and the HttpApi), one connection a
// Session (http_session.h). The only translation unit that includes Boost.Beast.
//
// Threads: `threads` I/O threads, each running its own io_context (accept, parse, route,
// answer requests that need no store access: cached forecasts, forecasts from loaded models,
// probes, metrics); `workers` threads run blocking requests handed over with a bounded queue
// (full: 503); one poller thread watches the audit log head and reconciles the manager, the
// tokens and the cache when it moves. The first context accepts and hands each connection to
// the next context in turn; a connection stays on its context's one thread, so its handlers
// never run concurrently and need no strand (measured: one shared io_context run by two
// threads, with a strand per connection, answered fewer requests than one thread alone, the
// threads contending for the scheduler's lock; docs/benchmarks.md "Issue 5").
//
// Why Beast (docs/architecture.md): on this machine kind a bare Beast server answered 0.74x
// nginx's requests per second; cpp-httplib, even tuned, 0.40x with 38-153 ms p99 spikes.
#include <signal.h>

#include "serve/http_session.h"
#include "serve/server_impl.h"

namespace almanac::serve {
namespace {

// One io_context per I/O thread; hint 1: each is run by one thread (others only post to it).
std::vector<std::unique_ptr<net::io_context>> MakeContexts(int threads) {
  std::vector<std::unique_ptr<net::io_context>> out;
  for (int i = 0; i < std::clamp(threads, 1, 256); ++i) out.push_back(std::make_unique<net::io_context>(1));
  return out;
}

struct ListenAddress {
  std::string host;
  net::ip::address address;
  unsigned short port = 0;
};

Result<ListenAddress> ParseListen(std::string_view text) {
  ListenAddress out;
  std::string_view host, port;
  if (!text.empty() && text[0] == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return InvalidArgumentError("--listen " + QuoteForMessage(text) + ": expected [IPv6]:PORT");
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos)
      return InvalidArgumentError("--listen " + QuoteForMessage(text) + ": expected HOST:PORT");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  auto p = ParseInt(port);
  if (!p.ok() || *p < 0 || *p > 65535) return InvalidArgumentError("--listen " + QuoteForMessage(text) + ": bad port");
  out.port = static_cast<unsigned short>(*p);
  out.host = std::string(host);
  if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code ec;
  out.address = net::ip::make_address(std::string(host), ec);
  if (ec)
    return InvalidArgumentError("--listen " + QuoteForMessage(text) + ": " + QuoteForMessage(host) +
                                " is not an IP address (use an address such as 127.0.0.1 or 0.0.0.0)");
  return out;
}

// "100", "2.5", "0.25": a rate as the user would write it.
std::string FormatRate(double rate) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", rate);
  return buf;
}

}  // namespace

Server::Impl::Impl(ServerOptions options, ServerDeps deps)
    : opt_(std::move(options)),
      core_(opt_, deps),
      iocs_(MakeContexts(opt_.threads)),
      acceptor_(*iocs_[0]),
      signals_(*iocs_[0]),
      drain_timer_(*iocs_[0]) {
  // Keep every context running while it has no connection.
  for (auto& ioc : iocs_) guards_.push_back(net::make_work_guard(*ioc));
}

void Server::Impl::Register(const std::shared_ptr<SessionBase>& s) {
  std::lock_guard lock(sessions_mu_);
  sessions_[s.get()] = s;
  core_.SetOpenConnections(sessions_.size());
}

void Server::Impl::Unregister(SessionBase* s) {
  std::lock_guard lock(sessions_mu_);
  sessions_.erase(s);
  core_.SetOpenConnections(sessions_.size());
}

size_t Server::Impl::Sessions() const {
  std::lock_guard lock(sessions_mu_);
  return sessions_.size();
}

Status Server::Impl::Start() {
  if (opt_.threads < 1 || opt_.threads > 256) return InvalidArgumentError("--threads must be in 1..256");
  if (opt_.workers < 1 || opt_.workers > 256) return InvalidArgumentError("--workers must be in 1..256");
  if (opt_.max_queue < 0) return InvalidArgumentError("--max-queue must be >= 0");
  if (opt_.max_connections < 1) return InvalidArgumentError("--max-connections must be >= 1");
  if (opt_.max_body_bytes < 0) return InvalidArgumentError("--max-body-bytes must be >= 0");
  if (opt_.max_header_bytes < 1024) return InvalidArgumentError("the header limit must be at least 1024 bytes");
  if (opt_.header_timeout_ms < 1 || opt_.read_timeout_ms < 1 || opt_.idle_timeout_ms < 1 || opt_.write_timeout_ms < 1)
    return InvalidArgumentError("timeouts must be positive");
  if (!(opt_.poll_seconds > 0) || opt_.poll_seconds > 86400)
    return InvalidArgumentError("--poll-seconds must be in (0, 86400]");
  if (!opt_.policy.production && !opt_.policy.staging && opt_.policy.pinned.empty())
    return InvalidArgumentError("the version policy selects nothing");
  if (opt_.tls_cert_file.empty() != opt_.tls_key_file.empty())
    return InvalidArgumentError("--tls-cert and --tls-key go together");
  ALMANAC_ASSIGN_OR_RETURN(ClientLimits limits, ClientLimitsFor(opt_));
  limiter_ = std::make_unique<ClientLimiter>(limits);
  ALMANAC_ASSIGN_OR_RETURN(ListenAddress addr, ParseListen(opt_.listen));
  if (opt_.no_auth && !addr.address.is_loopback())
    return FailedPreconditionError("--no-auth is only allowed on a loopback address (127.0.0.1, ::1), not " +
                                   addr.host + ": anyone who can reach the port could promote models");
  if (!opt_.tls_cert_file.empty()) {
    tls_ = std::make_unique<ssl::context>(ssl::context::tls_server);
    try {
      tls_->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                        ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
      tls_->use_certificate_chain_file(opt_.tls_cert_file);
      tls_->use_private_key_file(opt_.tls_key_file, ssl::context::pem);
    } catch (const boost::system::system_error& e) {
      return InvalidArgumentError("cannot use --tls-cert " + opt_.tls_cert_file + " / --tls-key " + opt_.tls_key_file +
                                  ": " + e.code().message());
    }
  }

  if (opt_.no_auth)
    Log("WARNING: --no-auth: every request acts as " + opt_.no_auth_user +
        " with the admin role (promote, approve); allowed only because " + addr.host +
        " is a loopback address. Never use it where others can reach the port.");
  core_.Init();

  boost::system::error_code ec;
  const tcp::endpoint ep(addr.address, addr.port);
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return UnavailableError("cannot listen on " + opt_.listen + ": " + ec.message());
  port_ = acceptor_.local_endpoint().port();

  workers_ = std::make_unique<WorkerPool>(opt_.workers, opt_.max_queue);
  if (opt_.handle_signals) {
    signals_.add(SIGTERM);
    signals_.add(SIGINT);
    signals_.async_wait([this](const boost::system::error_code& e, int sig) {
      if (e) return;
      Log(std::string("received ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") + ": finishing in-flight requests");
      BeginShutdown();
    });
  }
  Accept();
  for (auto& ioc_ptr : iocs_)
    io_threads_.emplace_back([this, ioc = ioc_ptr.get()] {
      for (;;) {
        try {
          ioc->run();
          return;
        } catch (const std::exception& e) {
          Log(std::string("ERROR: unexpected exception on an I/O thread: ") + e.what());
        }
      }
    });
  core_.StartPolling();
  Log(std::string("listening on ") + (tls_ ? "https://" : "http://") +
      (addr.address.is_v6() ? "[" + addr.host + "]" : addr.host) + ":" + std::to_string(port_) + " (policy " +
      FormatVersionPolicy(opt_.policy) + ", " + std::to_string(opt_.threads) + " I/O threads, " +
      std::to_string(opt_.workers) + " workers" + (opt_.no_auth ? ", NO AUTH" : "") + "; per client address: " +
      (limits.max_connections > 0 ? std::to_string(limits.max_connections) + " connections" : "no connection limit") +
      ", " +
      (limits.rate > 0
           ? FormatRate(limits.rate) + " requests/s (burst " + std::to_string(static_cast<int64_t>(limits.burst)) + ")"
           : "no rate limit") +
      (opt_.trusted_proxies > 0 ? ", client from X-Forwarded-For behind " + std::to_string(opt_.trusted_proxies) +
                                      " prox" + (opt_.trusted_proxies == 1 ? "y" : "ies")
                                : "") +
      ")");
  Log(opt_.ui_dir.empty() ? std::string("web console: not installed, /ui/ says how to build it (docs/ui.md)")
                          : "web console: /ui/ from " + opt_.ui_dir);
  return Status::Ok();
}

void Server::Impl::Accept() {
  net::io_context& target = *iocs_[next_ioc_++ % iocs_.size()];
  // The overload with an endpoint: accept4 fills in the peer, no getpeername per connection.
  acceptor_.async_accept(target.get_executor(), accept_peer_, [this](boost::system::error_code ec, Socket socket) {
    if (ec) {
      if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
      Accept();  // e.g. too many open files: keep accepting what we can
      return;
    }
    if (draining()) return;
    socket.set_option(tcp::no_delay(true), ec);
    if (Sessions() >= static_cast<size_t>(opt_.max_connections)) {
      Rejected("connection_limit");
      if (tls_) {
        socket.close(ec);
      } else {
        RefuseConnection(std::move(socket), 503);
      }
      return Accept();
    }
    const net::ip::address a = accept_peer_.address();
    // IPv4 clients of a dual-stack listener arrive as ::ffff:a.b.c.d, which is what
    // ClientAddress holds IPv4 as anyway.
    Peer peer{a.is_v4() ? ClientAddress::V4(a.to_v4().to_bytes()) : ClientAddress::V6(a.to_v6().to_bytes()), {}};
    auto slot = limiter_->OpenConnection(peer.address, SteadyNanos(SteadyClock::now()));
    if (!slot) {
      // Refused before a byte is read: a flood from one address costs an accept and a write.
      Rejected("address_connection_limit");
      std::array<char, 48> text;
      core_.RefusedConnection(peer.address.Format(text), limiter_->limits().max_connections);
      if (tls_) {
        socket.close(ec);  // no handshake for a refusal
      } else {
        RefuseConnection(std::move(socket), 429);
      }
      return Accept();
    }
    peer.slot = std::move(*slot);
    // The session starts on its own context's thread; this one goes on accepting.
    if (tls_) {
      auto s = std::make_shared<Session<TlsStream>>(*this, std::move(peer), std::move(socket), *tls_);
      Register(s);
      net::post(s->executor(), [s] { s->Start(); });
    } else {
      auto s = std::make_shared<Session<TcpStream>>(*this, std::move(peer), std::move(socket));
      Register(s);
      net::post(s->executor(), [s] { s->Start(); });
    }
    Accept();
  });
}

void Server::Impl::BeginShutdown() {
  net::post(*iocs_[0], [this] {
    if (draining_.exchange(true)) return;
    boost::system::error_code ec;
    acceptor_.close(ec);
    signals_.cancel(ec);
    std::vector<std::shared_ptr<SessionBase>> live;
    {
      std::lock_guard lock(sessions_mu_);
      for (auto& [p, w] : sessions_)
        if (auto s = w.lock()) live.push_back(s);
    }
    for (auto& s : live) s->Drain();
    drain_deadline_ = SteadyClock::now() + std::chrono::milliseconds(opt_.shutdown_timeout_ms);
    CheckDrained();
  });
}

void Server::Impl::CheckDrained() {
  if ((Sessions() == 0 && workers_->busy() == 0) || SteadyClock::now() >= drain_deadline_) {
    if (Sessions() > 0) Log("shutdown timeout: closing " + std::to_string(Sessions()) + " connection(s)");
    for (auto& g : guards_) g.reset();
    for (auto& ioc : iocs_) ioc->stop();
    return;
  }
  drain_timer_.expires_after(std::chrono::milliseconds(20));
  drain_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) CheckDrained();
  });
}

Status Server::Impl::Wait() {
  for (auto& t : io_threads_)
    if (t.joinable()) t.join();
  io_threads_.clear();
  core_.StopPolling();
  if (workers_) workers_->Stop();
  // Forecasts answered since the last poll are kept for accuracy monitoring.
  core_.FlushForecasts();
  if (!stopped_.exchange(true)) Log("stopped");
  return Status::Ok();
}

// ------------------------------------------------------------------------------ Server

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() {
  if (impl_) {
    impl_->BeginShutdown();
    impl_->Wait().IgnoreError();
  }
}

Result<std::unique_ptr<Server>> Server::Start(ServerOptions options, ServerDeps deps) {
  if (deps.store == nullptr || deps.artifacts == nullptr || deps.models == nullptr)
    return InvalidArgumentError("the server needs a store, an artifact store and the model types");
  auto impl = std::make_unique<Impl>(std::move(options), deps);
  try {
    ALMANAC_RETURN_IF_ERROR(impl->Start());
  } catch (const std::exception& e) {
    return InternalError(std::string("cannot start the server: ") + e.what());
  }
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

int Server::port() const { return impl_->port(); }
void Server::Shutdown() { impl_->BeginShutdown(); }
Status Server::Wait() { return impl_->Wait(); }

bool IsLoopbackHost(std::string_view host) {
  if (host == "localhost") return true;
  boost::system::error_code ec;
  auto a = net::ip::make_address(std::string(host), ec);
  return !ec && a.is_loopback();
}

}  // namespace almanac::serve
