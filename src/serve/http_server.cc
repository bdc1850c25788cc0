// The HTTP/1.1 server: Boost.Asio + Beast (keep-alive, optional TLS), a bounded worker pool
// for requests that read the store or refit, the registry poller, and the serve metrics.
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
#include <utility>  // before Boost.Asio (GCC 12, C++20)

// Beast's string_view is std::string_view, so the plain structs of http_api.h take it as is.
#define BOOST_BEAST_USE_STD_STRING_VIEW

#include <signal.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <iostream>
#include <random>
#include <thread>
#include <unordered_map>

#include "almanac/core/hash.h"
#include "almanac/serve.h"
#include "serve/forecast_cache.h"
#include "serve/http_api.h"
#include "serve/json_out.h"
#include "serve/openapi.h"

namespace almanac::serve {
namespace {

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

// One io_context per I/O thread; hint 1: each is run by one thread (others only post to it).
std::vector<std::unique_ptr<net::io_context>> MakeContexts(int threads) {
  std::vector<std::unique_ptr<net::io_context>> out;
  for (int i = 0; i < std::clamp(threads, 1, 256); ++i) out.push_back(std::make_unique<net::io_context>(1));
  return out;
}

// Runs blocking jobs on a fixed set of threads; refuses work beyond `max_queue` waiting jobs.
class WorkerPool {
 public:
  WorkerPool(int threads, int max_queue) : max_queue_(static_cast<size_t>(std::max(0, max_queue))) {
    for (int i = 0; i < std::max(1, threads); ++i) threads_.emplace_back([this] { Loop(); });
  }
  ~WorkerPool() { Stop(); }

  // Accepts a job when a worker is idle or fewer than max_queue jobs are waiting.
  bool TrySubmit(std::function<void()> job) {
    {
      std::lock_guard lock(mu_);
      const size_t idle = threads_.size() > running_ ? threads_.size() - running_ : 0;
      if (stopping_ || queue_.size() >= max_queue_ + idle) return false;
      queue_.push_back(std::move(job));
    }
    cv_.notify_one();
    return true;
  }
  size_t busy() const {
    std::lock_guard lock(mu_);
    return queue_.size() + running_;
  }
  // Finishes the queued jobs, then joins.
  void Stop() {
    {
      std::lock_guard lock(mu_);
      if (stopping_ && threads_.empty()) return;
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_)
      if (t.joinable()) t.join();
    threads_.clear();
  }

 private:
  void Loop() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;
        job = std::move(queue_.front());
        queue_.pop_front();
        ++running_;
      }
      job();
      std::lock_guard lock(mu_);
      --running_;
    }
  }

  const size_t max_queue_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  size_t running_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

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
    if (colon == std::string_view::npos) return InvalidArgumentError("--listen " + QuoteForMessage(text) + ": expected HOST:PORT");
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

// A header value as is, except that line breaks (never sent by the API) cannot end the header.
void AppendHeaderValue(std::string& out, std::string_view value) {
  for (char c : value) out += (c == '\r' || c == '\n' || c == '\0') ? ' ' : c;
}

bool ValidRequestId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
      return false;
  return true;
}

}  // namespace

// ------------------------------------------------------------------------------- Impl

class Server::Impl {
 public:
  Impl(ServerOptions options, ServerDeps deps)
      : opt_(std::move(options)),
        deps_(deps),
        clock_(opt_.clock != nullptr ? *opt_.clock : SystemClock()),
        owned_metrics_(deps.metrics == nullptr ? std::make_unique<monitor::MetricRegistry>() : nullptr),
        metrics_(deps.metrics != nullptr ? *deps.metrics : *owned_metrics_),
        cache_(opt_.cache_entries, opt_.cache_bytes),
        auth_(deps.store->metadata()),
        manager_(ManagerOptions(), *deps.artifacts, *deps.models, &deps.store->series(), clock_),
        iocs_(MakeContexts(opt_.threads)),
        acceptor_(*iocs_[0]),
        signals_(*iocs_[0]),
        drain_timer_(*iocs_[0]) {
    // Keep every context running while it has no connection.
    for (auto& ioc : iocs_) guards_.push_back(net::make_work_guard(*ioc));
    std::random_device rd;
    request_prefix_ = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  }

  Status Start();
  void BeginShutdown();
  Status Wait();
  int port() const { return port_; }

  // Used by sessions.
  const ServerOptions& opt() const { return opt_; }
  HttpApi& api() { return *api_; }
  WorkerPool& workers() { return *workers_; }
  bool draining() const { return draining_.load(std::memory_order_acquire); }
  std::string NextRequestId() {
    const uint64_t n = request_counter_.fetch_add(1, std::memory_order_relaxed);
    // 16 hex digits of prefix ^ n: unique per process, not guessable across restarts.
    const uint64_t v = request_prefix_ ^ n;
    std::array<uint8_t, 8> bytes;
    for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(v >> (56 - 8 * i));
    return ToHex(bytes.data(), bytes.size());
  }
  void Log(std::string_view line) const {
    if (opt_.logger != nullptr) {
      opt_.logger->Line(line);
    } else if (opt_.log) {
      opt_.log(line);
    } else {
      std::cerr << FormatTimestamp(SystemClock().NowMicros()) << " almanac serve: " << line << "\n";
    }
  }

  struct SessionBase {
    virtual ~SessionBase() = default;
    virtual void Drain() = 0;  // posted to the session's strand on shutdown
  };
  void Register(const std::shared_ptr<SessionBase>& s) {
    std::lock_guard lock(sessions_mu_);
    sessions_[s.get()] = s;
    connections_open_->Set(static_cast<double>(sessions_.size()));
  }
  void Unregister(SessionBase* s) {
    std::lock_guard lock(sessions_mu_);
    sessions_.erase(s);
    connections_open_->Set(static_cast<double>(sessions_.size()));
  }
  size_t Sessions() const {
    std::lock_guard lock(sessions_mu_);
    return sessions_.size();
  }

  // Metrics recorded by sessions.
  void RecordRequest(std::string_view route, std::string_view method, int status, double seconds) {
    char code[8];
    std::snprintf(code, sizeof(code), "%d", status);
    requests_->WithLabels({route, method, code}).Inc();
    latency_->WithLabels({route}).Observe(seconds);
  }
  void Rejected(std::string_view reason) { rejected_->WithLabels({reason}).Inc(); }
  // One access-log line per answered request (structured logger only).
  void AccessLog(const std::string& request_id, std::string_view method, std::string_view target, int status,
                 std::string_view user, double seconds) const {
    if (opt_.logger == nullptr || !opt_.access_log) return;
    // The path only: a query string may carry data the caller did not mean to be logged.
    const std::string_view path = target.substr(0, target.find('?'));
    std::string message;
    message.reserve(method.size() + path.size() + 8);
    message.append(method).append(" ").append(path).append(" ").append(std::to_string(status));
    const auto level = status >= 500 ? monitor::LogLevel::kError : monitor::LogLevel::kInfo;
    const auto ns = static_cast<int64_t>(seconds * 1e9);
    if (user.empty()) {
      opt_.logger->Log(level, message,
                       {{"trace.id", request_id}, {"http.request.method", method}, {"url.path", path},
                        {"http.response.status_code", status}, {"event.duration", ns}});
    } else {
      opt_.logger->Log(level, message,
                       {{"trace.id", request_id}, {"http.request.method", method}, {"url.path", path},
                        {"http.response.status_code", status}, {"event.duration", ns}, {"user.name", user}});
    }
  }
  // Queues a production forecast for the store (deduplicated by version and origin; the
  // poller writes it).
  void RecordForecast(const LoadedVersion& lv, const models::Forecast& fc) {
    std::string key = lv.model;
    key += '\x1f';
    key += std::to_string(lv.version);
    key += '\x1f';
    key += lv.history_end.ToString();
    std::lock_guard lock(forecasts_mu_);
    size_t& recorded = recorded_horizon_[key];
    if (fc.mean.size() <= recorded || pending_forecasts_.size() >= 10'000) return;
    recorded = fc.mean.size();
    store::IssuedForecastRecord r;
    r.model = lv.model;
    r.version = lv.version;
    r.target = lv.manifest.target;
    r.origin = lv.history_end.ToString();
    r.mean = fc.mean;
    for (const auto& pi : fc.intervals) {
      r.levels.push_back(pi.level);
      r.lower.push_back(pi.lower);
      r.upper.push_back(pi.upper);
    }
    r.issued_at = clock_.NowMicros();
    r.issued_by = "serve";
    pending_forecasts_.push_back(std::move(r));
  }
  // Writes the queued forecasts; true when one was new.
  bool StorePendingForecasts() {
    std::vector<store::IssuedForecastRecord> batch;
    {
      std::lock_guard lock(forecasts_mu_);
      batch.swap(pending_forecasts_);
    }
    if (batch.empty()) return false;
    bool wrote = false;
    Status s = deps_.store->metadata().Run([&](store::MetadataTxn& txn) -> Status {
      for (const auto& f : batch) {
        ALMANAC_ASSIGN_OR_RETURN(bool w, txn.PutForecast(f));
        wrote = wrote || w;
      }
      return Status::Ok();
    });
    if (!s.ok()) {
      Log("ERROR: cannot store " + std::to_string(batch.size()) + " issued forecast(s): " + s.message());
      // Forget them so that the next request queues them again.
      std::lock_guard lock(forecasts_mu_);
      for (const auto& f : batch) recorded_horizon_.erase(f.model + '\x1f' + std::to_string(f.version) + '\x1f' + f.origin);
      return false;
    }
    return wrote;
  }
  void RefreshAccuracy() {
    if (!opt_.accuracy) return;
    auto a = opt_.accuracy();
    if (!a.ok()) {
      Log("ERROR: cannot evaluate forecast accuracy: " + a.status().message());
      return;
    }
    accuracy_metrics_->Publish(*a);
  }
  void RefreshStoreMetrics() {
    if (Status s = store_metrics_->Refresh(); !s.ok()) Log("ERROR: cannot read series freshness: " + s.message());
  }
  monitor::Gauge& in_flight() { return *in_flight_; }

  ssl::context* tls() { return tls_.get(); }

 private:
  ServableManager::Options ManagerOptions() {
    ServableManager::Options o;
    o.policy = opt_.policy;
    o.on_event = [this](const ServableEvent& e) { OnServableEvent(e); };
    return o;
  }
  void SetUpMetrics();
  void OnServableEvent(const ServableEvent& e);
  void Poll(bool force);
  void PollLoop();
  void Accept();
  void CheckDrained();

  ServerOptions opt_;
  ServerDeps deps_;
  const Clock& clock_;
  std::unique_ptr<monitor::MetricRegistry> owned_metrics_;
  monitor::MetricRegistry& metrics_;
  ForecastCache cache_;
  Authenticator auth_;
  ServableManager manager_;
  std::unique_ptr<HttpApi> api_;
  std::unique_ptr<WorkerPool> workers_;
  std::unique_ptr<ssl::context> tls_;
  // Declared before the io_context: sessions destroyed with its pending handlers unregister.
  mutable std::mutex sessions_mu_;
  std::unordered_map<SessionBase*, std::weak_ptr<SessionBase>> sessions_;

  std::vector<std::unique_ptr<net::io_context>> iocs_;
  std::vector<net::executor_work_guard<Executor>> guards_;
  size_t next_ioc_ = 0;  // the context of the next connection (used on the first context only)
  tcp::acceptor acceptor_;
  net::signal_set signals_;
  net::steady_timer drain_timer_;
  SteadyClock::time_point drain_deadline_;
  std::vector<std::thread> io_threads_;
  int port_ = 0;
  std::atomic<bool> draining_{false};
  std::atomic<bool> stopped_{false};

  std::thread poller_;
  std::mutex poll_mu_;
  std::condition_variable poll_cv_;
  bool poll_stop_ = false;  // GUARDED_BY(poll_mu_)
  std::optional<std::pair<int64_t, std::string>> last_head_;
  std::atomic<bool> store_ok_{true};
  std::mutex store_error_mu_;
  std::string store_error_;  // GUARDED_BY(store_error_mu_)
  int pending_failures_ = 0;
  std::map<std::vector<std::string>, bool> info_labels_;  // labels set on the info metric

  uint64_t request_prefix_ = 0;
  std::atomic<uint64_t> request_counter_{1};

  // Metric families and children (owned by metrics_).
  monitor::Family<monitor::Counter>* requests_ = nullptr;
  monitor::Family<monitor::Histogram>* latency_ = nullptr;
  monitor::Family<monitor::Counter>* rejected_ = nullptr;
  monitor::Gauge* in_flight_ = nullptr;
  monitor::Gauge* connections_open_ = nullptr;
  monitor::Family<monitor::Gauge>* model_info_ = nullptr;
  monitor::Family<monitor::Counter>* lifecycle_ = nullptr;
  monitor::Family<monitor::Counter>* reloads_ = nullptr;
  monitor::Family<monitor::Counter>* polls_ = nullptr;
  monitor::Counter* cache_hits_ = nullptr;
  monitor::Counter* cache_misses_ = nullptr;
  std::unique_ptr<monitor::StoreMetrics> store_metrics_;
  std::unique_ptr<monitor::AccuracyMetrics> accuracy_metrics_;
  std::mutex forecasts_mu_;
  std::unordered_map<std::string, size_t> recorded_horizon_;         // GUARDED_BY(forecasts_mu_)
  std::vector<store::IssuedForecastRecord> pending_forecasts_;       // GUARDED_BY(forecasts_mu_)
};

// ---------------------------------------------------------------------------- sessions

namespace {

// One connection: reads requests (idle, header and body deadlines), hands each to the API
// inline or on a worker, writes the response, and keeps the connection alive when allowed.
template <typename Stream>
class Session : public Server::Impl::SessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  template <typename... Args>
  explicit Session(Server::Impl& srv, Args&&... args) : srv_(srv), stream_(std::forward<Args>(args)...) {}
  ~Session() override { srv_.Unregister(this); }

  void Start() {
    if constexpr (std::is_same_v<Stream, TlsStream>) {
      beast::get_lowest_layer(stream_).expires_after(std::chrono::milliseconds(srv_.opt().header_timeout_ms));
      stream_.async_handshake(ssl::stream_base::server, [self = this->shared_from_this()](beast::error_code ec) {
        if (ec) return self->Close(false);
        self->ReadRequest();
      });
    } else {
      ReadRequest();
    }
  }

  Executor executor() { return stream_.get_executor(); }

  void Drain() override {
    net::post(executor(), [self = this->shared_from_this()] {
      if (self->phase_ == Phase::kIdle && self->reading_) beast::get_lowest_layer(self->stream_).cancel();
    });
  }

 private:
  enum class Phase { kIdle, kHeader, kBody, kHandling, kClosed };

  using Clock = SteadyClock;
  const ServerOptions& opt() const { return srv_.opt(); }

  void ReadRequest() {
    if (srv_.draining() && buffer_.size() == 0) return Close(true);
    parser_.emplace();
    parser_->body_limit(static_cast<uint64_t>(opt().max_body_bytes));
    parser_->header_limit(static_cast<uint32_t>(opt().max_header_bytes));
    parser_->eager(true);
    sent_continue_ = false;
    phase_ = Phase::kIdle;
    deadline_ = Clock::now() + std::chrono::milliseconds(opt().idle_timeout_ms);
    if (buffer_.size() > 0) StartHeader();
    Feed();
  }

  void StartHeader() {
    phase_ = Phase::kHeader;
    started_ = Clock::now();
    deadline_ = started_ + std::chrono::milliseconds(opt().header_timeout_ms);
  }

  // Parses what is buffered; reads more, answers, or fails.
  void Feed() {
    while (buffer_.size() > 0 && !parser_->is_done()) {
      beast::error_code ec;
      const size_t n = parser_->put(buffer_.data(), ec);
      buffer_.consume(n);
      if (ec == http::error::need_more) break;
      if (ec) return ParseError(ec);
      if (phase_ == Phase::kHeader && parser_->is_header_done()) {
        phase_ = Phase::kBody;
        deadline_ = Clock::now() + std::chrono::milliseconds(opt().read_timeout_ms);
        if (!parser_->is_done() && !sent_continue_) {
          auto expect = parser_->get()[http::field::expect];
          if (beast::iequals(expect, "100-continue")) {
            sent_continue_ = true;
            return WriteContinue();
          }
        }
      }
      if (n == 0) break;
    }
    if (parser_->is_done()) return Handle();
    if (phase_ == Phase::kHeader && buffer_.size() >= static_cast<size_t>(opt().max_header_bytes)) {
      return ParseError(http::error::header_limit);
    }
    DoRead();
  }

  void DoRead() {
    beast::get_lowest_layer(stream_).expires_at(deadline_);
    reading_ = true;
    stream_.async_read_some(buffer_.prepare(16 * 1024), [self = this->shared_from_this()](beast::error_code ec, size_t n) {
      self->reading_ = false;
      self->OnRead(ec, n);
    });
  }

  void OnRead(beast::error_code ec, size_t n) {
    if (ec == beast::error::timeout) {
      if (phase_ != Phase::kIdle) srv_.Rejected(phase_ == Phase::kHeader ? "header_timeout" : "read_timeout");
      return Close(false);  // the stream closed the socket: a slow client holds nothing
    }
    if (ec) return Close(false);  // EOF, reset, or cancelled by a shutdown
    buffer_.commit(n);
    if (phase_ == Phase::kIdle) StartHeader();
    Feed();
  }

  void WriteContinue() {
    static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    beast::get_lowest_layer(stream_).expires_after(std::chrono::milliseconds(opt().write_timeout_ms));
    net::async_write(stream_, net::buffer(kContinue), [self = this->shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->Close(false);
      self->Feed();
    });
  }

  void ParseError(beast::error_code ec) {
    HttpResponse res;
    const std::string id = srv_.NextRequestId();
    if (ec == http::error::body_limit) {
      srv_.Rejected("body_too_large");
      HttpApi::Error(ResourceExhaustedError("the request body is larger than the limit of " +
                                            std::to_string(opt().max_body_bytes) + " bytes"),
                     id, res, /*request_too_large=*/true);
    } else if (ec == http::error::header_limit) {
      srv_.Rejected("header_too_large");
      HttpApi::Error(ResourceExhaustedError("the request header is larger than the limit of " +
                                            std::to_string(opt().max_header_bytes) + " bytes"),
                     id, res, /*request_too_large=*/true);
    } else {
      srv_.Rejected("malformed");
      HttpApi::Error(InvalidArgumentError("malformed HTTP request: " + ec.message()), id, res);
    }
    keep_alive_ = false;
    linger_ = true;  // the client may still be sending: read it away before closing
    request_id_ = id;
    method_ = "";
    counted_ = false;
    Respond(std::move(res));
  }

  void Handle() {
    phase_ = Phase::kHandling;
    auto& req = parser_->get();
    keep_alive_ = req.keep_alive() && !srv_.draining();
    http_version_ = req.version();
    auto rid = req["X-Request-Id"];
    request_id_ = ValidRequestId(rid) ? std::string(rid) : srv_.NextRequestId();
    method_ = req.method_string();
    http_req_.method = req.method_string();
    http_req_.target = req.target();
    http_req_.authorization = req[http::field::authorization];
    http_req_.body = req.body();
    http_req_.request_id = request_id_;
    counted_ = true;
    srv_.in_flight().Inc();
    HttpResponse res;
    if (srv_.api().Handle(http_req_, res, /*may_block=*/false) == HttpApi::Disposition::kDone) return Respond(std::move(res));
    // A store read or a refit: on a worker, then back on this connection's strand.
    auto self = this->shared_from_this();
    const bool queued = srv_.workers().TrySubmit([self] {
      auto out = std::make_shared<HttpResponse>();
      self->srv_.api().Handle(self->http_req_, *out, /*may_block=*/true);
      net::post(self->executor(), [self, out] { self->Respond(std::move(*out)); });
    });
    if (!queued) {
      srv_.Rejected("overloaded");
      HttpResponse busy;
      HttpApi::Error(UnavailableError("the server is overloaded (worker queue full); retry shortly"), request_id_, busy);
      busy.headers.emplace_back("Retry-After", "1");
      busy.route = res.route;
      Respond(std::move(busy));
    }
  }

  // The status line and headers are written into one reused string and sent with the body in
  // one gathered write (Beast's serializer and field list cost an allocation per header and
  // a type-erased buffer walk per request; measured in docs/benchmarks.md "Issue 5").
  void Respond(HttpResponse out) {
    if (srv_.draining()) keep_alive_ = false;
    head_.clear();
    head_ += "HTTP/1.1 ";
    json_out::Int(head_, out.status);
    head_ += ' ';
    head_ += http::obsolete_reason(http::int_to_status(static_cast<unsigned>(out.status)));
    head_ += "\r\nServer: almanac\r\nContent-Type: ";
    AppendHeaderValue(head_, out.content_type);
    head_ += "\r\nX-Request-Id: ";
    head_ += request_id_;  // validated or generated: [A-Za-z0-9._-]
    for (const auto& [k, v] : out.headers) {
      head_ += "\r\n";
      head_ += k;
      head_ += ": ";
      AppendHeaderValue(head_, v);
    }
    if (out.cache_hit) head_ += "\r\nX-Cache: hit";
    if (!keep_alive_) {
      head_ += "\r\nConnection: close";
    } else if (http_version_ == 10) {
      head_ += "\r\nConnection: keep-alive";  // HTTP/1.0 clients that asked for it
    }
    head_ += "\r\nContent-Length: ";
    json_out::Int(head_, static_cast<int64_t>(out.body.size()));
    head_ += "\r\n\r\n";
    body_ = std::move(out.body);
    if (counted_) {
      srv_.in_flight().Dec();
      const double seconds = std::chrono::duration<double>(Clock::now() - started_).count();
      srv_.RecordRequest(out.route, method_, out.status, seconds);
      srv_.AccessLog(request_id_, method_, http_req_.target, out.status, out.user, seconds);
    }
    beast::get_lowest_layer(stream_).expires_after(std::chrono::milliseconds(opt().write_timeout_ms));
    const std::array<net::const_buffer, 2> buffers{net::buffer(head_), net::buffer(body_)};
    net::async_write(stream_, buffers, [self = this->shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->Close(false);
      if (!self->keep_alive_) return self->Close(true);
      self->ReadRequest();
    });
  }

  // Ends the connection. `graceful`: TLS close_notify / TCP FIN, and for a refused request
  // the rest of what the client sends is read away (bounded) so it sees the response.
  void Close(bool graceful) {
    if (phase_ == Phase::kClosed) return;
    phase_ = Phase::kClosed;
    auto& sock = beast::get_lowest_layer(stream_).socket();
    beast::error_code ec;
    if constexpr (std::is_same_v<Stream, TlsStream>) {
      if (graceful) {
        beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(1));
        stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {
          beast::error_code ignored;
          beast::get_lowest_layer(self->stream_).socket().close(ignored);
        });
        return;
      }
    } else if (graceful && linger_) {
      sock.shutdown(tcp::socket::shutdown_send, ec);
      linger_deadline_ = Clock::now() + std::chrono::milliseconds(std::min(2000, opt().header_timeout_ms));
      linger_bytes_ = 0;
      return Linger();
    } else if (graceful) {
      sock.shutdown(tcp::socket::shutdown_send, ec);
    }
    beast::get_lowest_layer(stream_).close();
  }

  void Linger() {
    beast::get_lowest_layer(stream_).expires_at(linger_deadline_);
    buffer_.clear();
    stream_.async_read_some(buffer_.prepare(64 * 1024), [self = this->shared_from_this()](beast::error_code ec, size_t n) {
      self->linger_bytes_ += n;
      if (ec || self->linger_bytes_ > (static_cast<size_t>(256) << 20)) {
        beast::error_code ignored;
        beast::get_lowest_layer(self->stream_).socket().close(ignored);
        return;
      }
      self->Linger();
    });
  }

  Server::Impl& srv_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string head_;  // the response's status line and headers
  std::string body_;
  unsigned http_version_ = 11;
  HttpRequest http_req_;
  std::string request_id_;
  std::string method_;
  Phase phase_ = Phase::kIdle;
  bool reading_ = false;
  bool keep_alive_ = true;
  bool sent_continue_ = false;
  bool counted_ = false;
  bool linger_ = false;
  size_t linger_bytes_ = 0;
  Clock::time_point started_ = Clock::now();
  Clock::time_point deadline_;
  Clock::time_point linger_deadline_;
};

// Answers a connection over the limit with 503 and closes it.
void RefuseConnection(Socket socket) {
  static const std::string kBusy = [] {
    const std::string body =
        "{\"code\":\"UNAVAILABLE\",\"message\":\"too many open connections; retry shortly\",\"request_id\":\"\"}";
    return "HTTP/1.1 503 Service Unavailable\r\nServer: almanac\r\nContent-Type: application/json\r\nConnection: close\r\n"
           "Retry-After: 1\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
  }();
  auto s = std::make_shared<Socket>(std::move(socket));
  net::async_write(*s, net::buffer(kBusy), [s](beast::error_code, size_t) {
    beast::error_code ec;
    s->shutdown(tcp::socket::shutdown_send, ec);
    s->close(ec);
  });
}

}  // namespace

// ------------------------------------------------------------------------ Impl methods

void Server::Impl::SetUpMetrics() {
  requests_ = &metrics_.AddCounter("almanac_http_requests_total", "HTTP requests answered, by route template, method and status.",
                                   {"route", "method", "status"});
  latency_ = &metrics_.AddHistogram("almanac_http_request_duration_seconds",
                                    "Time from the first byte of a request to its response being queued, by route.", {"route"},
                                    monitor::DefaultLatencyBuckets());
  rejected_ = &metrics_.AddCounter("almanac_http_rejected_total",
                                   "Requests and connections refused before routing (overloaded, too large, timeouts, malformed).",
                                   {"reason"});
  in_flight_ = &metrics_.AddGauge("almanac_http_requests_in_flight", "Requests being handled now.").WithLabels(std::vector<std::string>{});
  connections_open_ = &metrics_.AddGauge("almanac_http_connections_open", "Open client connections.").WithLabels(std::vector<std::string>{});
  model_info_ = &metrics_.AddGauge("almanac_model_version_info", "Model versions loaded and served (value 1), with their stage label.",
                                   {"model", "version", "stage"});
  lifecycle_ = &metrics_.AddCounter("almanac_model_lifecycle_events_total",
                                    "Lifecycle changes of model versions (new, loading, ready, unloading, disabled, error).", {"state"});
  reloads_ = &metrics_.AddCounter("almanac_model_reloads_total",
                                  "Model version loads: success (swapped in) or failure (the previous version stays).", {"result"});
  polls_ = &metrics_.AddCounter("almanac_registry_polls_total", "Polls of the store for registry, token and data changes.", {"result"});
  cache_hits_ = &metrics_.AddCounter("almanac_forecast_cache_hits_total", "Forecast requests answered from the cache.")
                     .WithLabels(std::vector<std::string>{});
  cache_misses_ = &metrics_.AddCounter("almanac_forecast_cache_misses_total", "Forecast requests computed (not in the cache).")
                       .WithLabels(std::vector<std::string>{});
  auto& entries = metrics_.AddGauge("almanac_forecast_cache_entries", "Entries in the forecast cache.").WithLabels(std::vector<std::string>{});
  auto& bytes = metrics_.AddGauge("almanac_forecast_cache_bytes", "Bytes held by the forecast cache.").WithLabels(std::vector<std::string>{});
  metrics_.AddCollector([this, &entries, &bytes] {
    entries.Set(static_cast<double>(cache_.entries()));
    bytes.Set(static_cast<double>(cache_.bytes()));
  });
  monitor::AddProcessMetrics(metrics_);
  store_metrics_ = std::make_unique<monitor::StoreMetrics>(metrics_, deps_.store->series());
  accuracy_metrics_ = std::make_unique<monitor::AccuracyMetrics>(metrics_);
  for (const char* reason : {"overloaded", "body_too_large", "header_too_large", "header_timeout", "read_timeout", "malformed",
                             "connection_limit"})
    rejected_->WithLabels({reason});
  for (const char* result : {"success", "failure"}) reloads_->WithLabels({result}), polls_->WithLabels({result});
}

void Server::Impl::OnServableEvent(const ServableEvent& e) {
  lifecycle_->WithLabels({ServableStateName(e.state)}).Inc();
  const std::string id = e.model + "@" + std::to_string(e.version);
  switch (e.state) {
    case ServableState::kReady: {
      std::string labels;
      for (const auto& l : e.labels) labels += (labels.empty() ? "" : ",") + l;
      Log("serving " + id + (labels.empty() ? "" : " as " + labels));
      reloads_->WithLabels({"success"}).Inc();
      break;
    }
    case ServableState::kError:
      Log("ERROR: cannot load " + id + " (the previous version, if any, stays served): " + e.error);
      reloads_->WithLabels({"failure"}).Inc();
      break;
    case ServableState::kDisabled:
      Log("unloaded " + id);
      break;
    default:
      break;
  }
}

void Server::Impl::Poll(bool force) {
  const bool new_forecasts = StorePendingForecasts();
  auto head = deps_.store->metadata().AuditHead();
  if (!head.ok()) {
    polls_->WithLabels({"failure"}).Inc();
    if (store_ok_.exchange(false)) Log("ERROR: the store is unreachable: " + head.status().message());
    std::lock_guard lock(store_error_mu_);
    store_error_ = head.status().message();
    return;
  }
  const bool moved = !last_head_ || *last_head_ != *head;
  if (!force && !moved && pending_failures_ == 0 && !new_forecasts) {
    polls_->WithLabels({"success"}).Inc();
    if (!store_ok_.exchange(true)) Log("the store is reachable again");
    return;
  }
  auto state = ReadRegistryState(deps_.store->metadata());
  if (!state.ok()) {
    polls_->WithLabels({"failure"}).Inc();
    if (store_ok_.exchange(false)) Log("ERROR: cannot read the registry: " + state.status().message());
    std::lock_guard lock(store_error_mu_);
    store_error_ = state.status().message();
    return;
  }
  if (!store_ok_.exchange(true)) Log("the store is reachable again");
  polls_->WithLabels({"success"}).Inc();
  if (moved) {
    // Any write (new data, a promotion, a token change) is in the audit log: the tokens are
    // reread and cached forecasts dropped (as_of answers depend on the data).
    if (Status s = auth_.Refresh(); !s.ok()) Log("ERROR: cannot read the API tokens: " + s.message());
    cache_.Clear();
    // Data freshness per series: a new vintage is always an audit-log move.
    RefreshStoreMetrics();
  }
  ServableManager::ReconcileReport r = manager_.Reconcile(*state);
  pending_failures_ = r.failed;
  if (r.changed) cache_.Clear();
  // The info metric: one series per served version and label; stale ones removed, none
  // missing in between (a scrape during a reload sees the old or the new set).
  std::map<std::vector<std::string>, bool> now;
  for (const auto& [model, handles] : manager_.Loaded())
    for (const auto& h : handles) now[{model, std::to_string(h.version->version), h.label}] = true;
  for (const auto& [labels, unused] : now) model_info_->WithLabels(labels).Set(1);
  for (const auto& [labels, unused] : info_labels_)
    if (!now.count(labels)) model_info_->Remove(labels);
  info_labels_ = std::move(now);
  last_head_ = *head;
  // Realized accuracy changes with new actuals (an audit move), new forecasts or a promotion.
  if (moved || new_forecasts || r.changed) RefreshAccuracy();
}

void Server::Impl::PollLoop() {
  const auto interval = std::chrono::microseconds(static_cast<int64_t>(std::max(0.01, opt_.poll_seconds) * 1e6));
  // With a store that announces writes (PostgreSQL NOTIFY), a promotion or new data is picked
  // up at once; the interval stays as the fallback. Waits are sliced so shutdown stays prompt.
  std::unique_ptr<store::ChangeWatcher> watcher;
  if (auto w = deps_.store->WatchChanges(); w.ok()) {
    watcher = std::move(*w);
    Log("watching the store for changes (polling every " + FormatFixed(opt_.poll_seconds, 1) + " s as a fallback)");
  }
  std::unique_lock lock(poll_mu_);
  while (!poll_stop_) {
    if (watcher) {
      const auto deadline = std::chrono::steady_clock::now() + interval;
      bool notified = false;
      while (!poll_stop_ && !notified && watcher && std::chrono::steady_clock::now() < deadline) {
        lock.unlock();
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        auto r = watcher->Wait(std::clamp(left, std::chrono::milliseconds(1), std::chrono::milliseconds(200)));
        if (!r.ok()) {
          Log("WARNING: change notifications lost (" + r.status().message() + "); polling only");
          watcher.reset();
        } else {
          notified = *r;
        }
        lock.lock();
      }
      if (!watcher && !notified) poll_cv_.wait_until(lock, deadline, [&] { return poll_stop_; });
    } else {
      poll_cv_.wait_for(lock, interval, [&] { return poll_stop_; });
    }
    if (poll_stop_) break;
    lock.unlock();
    try {
      Poll(false);
    } catch (const std::exception& e) {
      Log(std::string("ERROR: poll failed: ") + e.what());
    }
    lock.lock();
  }
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
  if (!(opt_.poll_seconds > 0) || opt_.poll_seconds > 86400) return InvalidArgumentError("--poll-seconds must be in (0, 86400]");
  if (!opt_.policy.production && !opt_.policy.staging && opt_.policy.pinned.empty())
    return InvalidArgumentError("the version policy selects nothing");
  if (opt_.tls_cert_file.empty() != opt_.tls_key_file.empty())
    return InvalidArgumentError("--tls-cert and --tls-key go together");
  ALMANAC_ASSIGN_OR_RETURN(ListenAddress addr, ParseListen(opt_.listen));
  if (opt_.no_auth && !addr.address.is_loopback())
    return FailedPreconditionError("--no-auth is only allowed on a loopback address (127.0.0.1, ::1), not " + addr.host +
                                   ": anyone who can reach the port could promote models");
  if (!opt_.tls_cert_file.empty()) {
    tls_ = std::make_unique<ssl::context>(ssl::context::tls_server);
    try {
      tls_->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                        ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
      tls_->use_certificate_chain_file(opt_.tls_cert_file);
      tls_->use_private_key_file(opt_.tls_key_file, ssl::context::pem);
    } catch (const boost::system::system_error& e) {
      return InvalidArgumentError("cannot use --tls-cert " + opt_.tls_cert_file + " / --tls-key " + opt_.tls_key_file + ": " +
                                  e.code().message());
    }
  }

  SetUpMetrics();
  ApiContext ctx;
  ctx.manager = &manager_;
  ctx.store = deps_.store;
  ctx.models = deps_.models;
  ctx.auth = &auth_;
  ctx.cache = &cache_;
  ctx.metrics = &metrics_;
  ctx.clock = &clock_;
  ctx.transform = &opt_.transform;
  ctx.no_auth = opt_.no_auth;
  ctx.no_auth_user = opt_.no_auth_user;
  ctx.store_status = [this]() -> std::pair<bool, std::string> {
    std::lock_guard lock(store_error_mu_);
    return {store_ok_.load(), store_error_};
  };
  ctx.openapi_json = OpenApiDocument();
  ctx.cache_hits = cache_hits_;
  ctx.cache_misses = cache_misses_;
  ctx.logger = opt_.logger;
  ctx.record_forecast = [this](const LoadedVersion& lv, const models::Forecast& fc) { RecordForecast(lv, fc); };
  api_ = std::make_unique<HttpApi>(std::move(ctx));

  if (opt_.no_auth)
    Log("WARNING: --no-auth: every request acts as " + opt_.no_auth_user +
        " with the admin role (promote, approve); allowed only because " + addr.host +
        " is a loopback address. Never use it where others can reach the port.");

  // The first poll loads what the policy wants before the port opens.
  Poll(/*force=*/true);

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
  poller_ = std::thread([this] { PollLoop(); });
  Log(std::string("listening on ") + (tls_ ? "https://" : "http://") + (addr.address.is_v6() ? "[" + addr.host + "]" : addr.host) +
      ":" + std::to_string(port_) + " (policy " + FormatVersionPolicy(opt_.policy) + ", " + std::to_string(opt_.threads) +
      " I/O threads, " + std::to_string(opt_.workers) + " workers" + (opt_.no_auth ? ", NO AUTH" : "") + ")");
  return Status::Ok();
}

void Server::Impl::Accept() {
  net::io_context& target = *iocs_[next_ioc_++ % iocs_.size()];
  acceptor_.async_accept(target.get_executor(), [this](boost::system::error_code ec, Socket socket) {
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
        RefuseConnection(std::move(socket));
      }
      return Accept();
    }
    // The session starts on its own context's thread; this one goes on accepting.
    if (tls_) {
      auto s = std::make_shared<Session<TlsStream>>(*this, std::move(socket), *tls_);
      Register(s);
      net::post(s->executor(), [s] { s->Start(); });
    } else {
      auto s = std::make_shared<Session<TcpStream>>(*this, std::move(socket));
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
  {
    std::lock_guard lock(poll_mu_);
    poll_stop_ = true;
  }
  poll_cv_.notify_all();
  if (poller_.joinable()) poller_.join();
  if (workers_) workers_->Stop();
  // Forecasts answered since the last poll are kept for accuracy monitoring.
  StorePendingForecasts();
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
