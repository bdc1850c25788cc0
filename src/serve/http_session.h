// One client connection of `almanac serve` (serve-internal): the HTTP/1.1 protocol over a TCP
// or TLS stream: deadlines for idle, header and body, 100-continue, keep-alive and pipelining,
// the request's client (X-Forwarded-For behind trusted proxies), rate limit and trace context,
// handing each request to the API inline or on a worker, and graceful draining on shutdown.
// Included by http_server.cc only.
#pragma once

#include <algorithm>
#include <array>
#include <cstdio>
#include <optional>

#include "serve/json_out.h"
#include "serve/server_impl.h"
#include "serve/trace_context.h"

namespace almanac::serve {

// A header value as is, except that line breaks (never sent by the API) cannot end the header.
inline void AppendHeaderValue(std::string& out, std::string_view value) {
  for (char c : value) out += (c == '\r' || c == '\n' || c == '\0') ? ' ' : c;
}

inline bool ValidRequestId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
          c == '.'))
      return false;
  return true;
}

// The access log keeps this much of a User-Agent (the header itself may be up to the header
// limit, 16 KiB by default).
inline constexpr size_t kMaxLoggedUserAgent = 512;

// One connection: reads requests (idle, header and body deadlines), hands each to the API
// inline or on a worker, writes the response, and keeps the connection alive when allowed.
template <typename Stream>
class Session : public Server::Impl::SessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  template <typename... Args>
  Session(Server::Impl& srv, Peer peer, Args&&... args)
      : srv_(srv), stream_(std::forward<Args>(args)...), peer_(std::move(peer)) {
    peer_ip_ = peer_.address.Format(peer_ip_buf_);
  }
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
    stream_.async_read_some(buffer_.prepare(16 * 1024),
                            [self = this->shared_from_this()](beast::error_code ec, size_t n) {
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
    StartSpan("", 0, &trace_);
    tracestate_.clear();
    const std::string id(trace_.span());
    HttpResponse res;
    if (ec == http::error::body_limit) {
      srv_.Rejected("body_too_large");
      res = HttpApi::Error(ResourceExhaustedError("the request body is larger than the limit of " +
                                                  std::to_string(opt().max_body_bytes) + " bytes"),
                           id, /*request_too_large=*/true);
    } else if (ec == http::error::header_limit) {
      srv_.Rejected("header_too_large");
      res = HttpApi::Error(ResourceExhaustedError("the request header is larger than the limit of " +
                                                  std::to_string(opt().max_header_bytes) + " bytes"),
                           id, /*request_too_large=*/true);
    } else {
      srv_.Rejected("malformed");
      res = HttpApi::Error(InvalidArgumentError("malformed HTTP request: " + ec.message()), id);
    }
    keep_alive_ = false;
    linger_ = true;  // the client may still be sending: read it away before closing
    request_id_ = id;
    method_ = "";
    head_only_ = false;
    counted_ = false;
    Respond(std::move(res));
  }

  void Handle() {
    phase_ = Phase::kHandling;
    auto& req = parser_->get();
    keep_alive_ = req.keep_alive() && !srv_.draining();
    http_version_ = req.version();
    StartTrace(req);
    auto rid = req["X-Request-Id"];
    if (ValidRequestId(rid))
      request_id_.assign(rid);
    else
      request_id_.assign(trace_.span());  // our span id: random, so the request id is too
    method_ = req.method_string();
    // A HEAD answer is GET's status and headers, Content-Length included, without the body.
    head_only_ = req.method() == http::verb::head;
    user_agent_.assign(req[http::field::user_agent].substr(0, kMaxLoggedUserAgent));
    http_req_.method = req.method_string();
    http_req_.target = req.target();
    http_req_.authorization = req[http::field::authorization];
    http_req_.body = req.body();
    http_req_.request_id = request_id_;
    http_req_.trace_id = trace_.trace();
    http_req_.span_id = trace_.span();
    counted_ = true;
    srv_.in_flight().Inc();
    // The client: the peer, or the address our trusted proxies forwarded. Rate-limited
    // requests are answered before routing, authentication or any store access.
    ClientLimiter::Entry* entry = ResolveClient(req);
    int64_t wait_ns = 0;
    if (entry != nullptr && srv_.limiter().limits_rate() &&
        !srv_.limiter().AllowRequest(*entry, SteadyNanos(started_), &wait_ns))
      return RateLimited(wait_ns);
    HttpResponse res;
    if (srv_.api().Handle(http_req_, res, /*may_block=*/false) == HttpApi::Disposition::kDone)
      return Respond(std::move(res));
    // A store read or a refit: on a worker, then back on this connection's strand.
    auto self = this->shared_from_this();
    const bool queued = srv_.workers().TrySubmit([self] {
      auto out = std::make_shared<HttpResponse>();
      self->srv_.api().Handle(self->http_req_, *out, /*may_block=*/true);
      net::post(self->executor(), [self, out] { self->Respond(std::move(*out)); });
    });
    if (!queued) {
      srv_.Rejected("overloaded");
      HttpResponse busy =
          HttpApi::Error(UnavailableError("the server is overloaded (worker queue full); retry shortly"), request_id_,
                         false, HttpApi::ErrorFormatFor(http_req_.target));
      busy.headers.emplace_back("Retry-After", "1");
      busy.route = res.route;
      Respond(std::move(busy));
    }
  }

  // This request's span: the caller's trace when its traceparent is valid (with its
  // tracestate, passed back as it came when printable and at most 512 bytes), else a new one.
  void StartTrace(const http::request<http::string_body>& req) {
    std::string_view traceparent;
    int fields = 0;
    for (auto [it, end] = req.equal_range("traceparent"); it != end; ++it, ++fields) traceparent = it->value();
    StartSpan(traceparent, fields, &trace_);
    tracestate_.clear();
    if (!trace_.propagated) return;
    for (auto [it, end] = req.equal_range("tracestate"); it != end; ++it) {
      if (tracestate_.size() + it->value().size() + 1 > 512) {
        tracestate_.clear();
        return;
      }
      if (!tracestate_.empty()) tracestate_ += ',';
      tracestate_.append(it->value());
    }
    if (!PassableTracestate(tracestate_)) tracestate_.clear();
  }

  // The limiter entry of this request's client (null: not limited) and its address for the
  // log. Behind trusted proxies it comes from X-Forwarded-For, cached per connection: a proxy
  // usually sends one client's requests on a connection in a row.
  ClientLimiter::Entry* ResolveClient(const http::request<http::string_body>& req) {
    client_ip_ = peer_ip_;
    const int hops = opt().trusted_proxies;
    if (hops == 0) return peer_.slot.entry();
    std::array<std::string_view, 32> values;
    size_t n = 0;
    for (auto [it, end] = req.equal_range("X-Forwarded-For"); it != end; ++it) {
      if (n == values.size()) return peer_.slot.entry();  // hostile: more fields than anyone sends
      values[n++] = it->value();
    }
    const auto client = ForwardedClient(std::span<const std::string_view>(values.data(), n), hops);
    if (!client) return peer_.slot.entry();  // no (trustworthy) header: the peer is the client
    if (!forwarded_ || !(forwarded_->address == *client)) {
      forwarded_.emplace();
      forwarded_->address = *client;
      forwarded_->ip = client->Format(forwarded_->ip_buf);
      if (srv_.limiter().limits_rate()) forwarded_->entry = srv_.limiter().Find(*client, SteadyNanos(started_));
    }
    client_ip_ = forwarded_->ip;
    return forwarded_->entry.get();
  }

  void RateLimited(int64_t wait_ns) {
    srv_.Rejected("rate_limited");
    const ClientLimits& l = srv_.limiter().limits();
    // Whole seconds, rounded up: a client that waits as told is let through.
    const int64_t seconds = std::max<int64_t>(1, (wait_ns + 999'999'999) / 1'000'000'000);
    char rate[32];
    std::snprintf(rate, sizeof(rate), "%g", l.rate);
    HttpResponse res = HttpApi::Error(
        ResourceExhaustedError("too many requests from " + std::string(client_ip_) + ": the limit is " + rate +
                               " per second (bursts of " + std::to_string(static_cast<int64_t>(l.burst)) +
                               "); retry in " + std::to_string(seconds) + " s"),
        request_id_, false, HttpApi::ErrorFormatFor(http_req_.target));
    res.headers.emplace_back("Retry-After", std::to_string(seconds));
    Respond(std::move(res));
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
    std::array<char, 55> traceparent;
    head_ += "\r\ntraceparent: ";
    head_ += trace_.Traceparent(traceparent);
    if (!tracestate_.empty()) {
      head_ += "\r\ntracestate: ";
      head_ += tracestate_;  // printable ASCII only (PassableTracestate)
    }
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
    if (head_only_) body_.clear();  // after Content-Length: the length GET would send
    if (counted_) {
      srv_.in_flight().Dec();
      const double seconds = std::chrono::duration<double>(Clock::now() - started_).count();
      srv_.RecordRequest(out.route, method_, out.status, seconds);
      srv_.AccessLog({.request_id = request_id_,
                      .trace_id = trace_.trace(),
                      .span_id = trace_.span(),
                      .parent_id = trace_.parent(),
                      .client_ip = client_ip_,
                      .method = method_,
                      .target = http_req_.target,
                      .user = out.user,
                      .user_agent = user_agent_,
                      .error_code = out.error_code,
                      .error_message = out.error_message,
                      .status = out.status,
                      .seconds = seconds});
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
    stream_.async_read_some(buffer_.prepare(64 * 1024),
                            [self = this->shared_from_this()](beast::error_code ec, size_t n) {
                              self->linger_bytes_ += n;
                              if (ec || self->linger_bytes_ > (static_cast<size_t>(256) << 20)) {
                                beast::error_code ignored;
                                beast::get_lowest_layer(self->stream_).socket().close(ignored);
                                return;
                              }
                              self->Linger();
                            });
  }

  // The client behind trusted proxies, as last resolved on this connection.
  struct Forwarded {
    ClientAddress address;
    std::array<char, 48> ip_buf;
    std::string_view ip;
    ClientLimiter::EntryRef entry;  // null when no rate is set
  };

  Server::Impl& srv_;
  Stream stream_;
  Peer peer_;
  std::array<char, 48> peer_ip_buf_;
  std::string_view peer_ip_;  // peer_.address as text
  std::optional<Forwarded> forwarded_;
  std::string_view client_ip_;  // this request's client: peer_ip_ or forwarded_->ip
  TraceContext trace_;
  std::string tracestate_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string head_;  // the response's status line and headers
  std::string body_;
  unsigned http_version_ = 11;
  HttpRequest http_req_;
  std::string request_id_;
  std::string method_;
  std::string user_agent_;  // this request's User-Agent, for the access log
  Phase phase_ = Phase::kIdle;
  bool reading_ = false;
  bool keep_alive_ = true;
  bool head_only_ = false;  // a HEAD request: the response is sent without its body
  bool sent_continue_ = false;
  bool counted_ = false;
  bool linger_ = false;
  size_t linger_bytes_ = 0;
  Clock::time_point started_ = Clock::now();
  Clock::time_point deadline_;
  Clock::time_point linger_deadline_;
};

// Answers a connection over a limit and closes it, without reading anything: 503 over the
// server's --max-connections, 429 over --max-connections-per-address.
inline void RefuseConnection(Socket socket, int status) {
  static const auto make = [](std::string_view status_line, std::string_view code, std::string_view message) {
    const std::string body =
        "{\"code\":\"" + std::string(code) + "\",\"message\":\"" + std::string(message) + "\",\"request_id\":\"\"}";
    return "HTTP/1.1 " + std::string(status_line) +
           "\r\nServer: almanac\r\nContent-Type: application/json\r\nConnection: close\r\nRetry-After: 1\r\n"
           "Content-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
  };
  static const std::string kBusy =
      make("503 Service Unavailable", "UNAVAILABLE", "too many open connections; retry shortly");
  static const std::string kTooMany =
      make("429 Too Many Requests", "RESOURCE_EXHAUSTED", "too many open connections from your address");
  auto s = std::make_shared<Socket>(std::move(socket));
  net::async_write(*s, net::buffer(status == 429 ? kTooMany : kBusy), [s](beast::error_code, size_t) {
    beast::error_code ec;
    s->shutdown(tcp::socket::shutdown_send, ec);
    s->close(ec);
  });
}

}  // namespace almanac::serve
