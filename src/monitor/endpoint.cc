// MetricsEndpoint: a small HTTP listener for /metrics in processes without an HTTP API
// (scheduler, worker). One I/O thread is enough: a scrape renders in well under a millisecond
// per thousand series, and Prometheus scrapes one request at a time.
#include <utility>  // before Boost.Asio (GCC 12, C++20)

// IMPORTANT: every translation unit that includes Beast must agree on this (serve's
// http_server.cc defines it too). Beast's inline field table is built with whichever
// string_view the first user compiled; a mismatch is an ODR violation that corrupts every
// header set in the other unit.
#define BOOST_BEAST_USE_STD_STRING_VIEW

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <chrono>
#include <memory>
#include <thread>

#include "almanac/monitor.h"

namespace almanac::monitor {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

class MetricsEndpoint::Impl {
 public:
  explicit Impl(MetricRegistry& registry) : registry_(registry), acceptor_(ioc_) {}

  Status Start(std::string_view listen) {
    const size_t colon = listen.rfind(':');
    if (colon == std::string_view::npos || colon == 0)
      return InvalidArgumentError("metrics address '" + std::string(listen) + "' is not HOST:PORT");
    std::string host(listen.substr(0, colon));
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    const std::string_view port_text = listen.substr(colon + 1);
    int port = -1;
    auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || p != port_text.data() + port_text.size() || port < 0 || port > 65535)
      return InvalidArgumentError("metrics port '" + std::string(port_text) + "' is not a number in 0..65535");
    if (host == "localhost") host = "127.0.0.1";
    beast::error_code err;
    const auto address = net::ip::make_address(host, err);
    if (err) return InvalidArgumentError("metrics host '" + host + "' is not an IP address");
    const tcp::endpoint endpoint(address, static_cast<unsigned short>(port));
    acceptor_.open(endpoint.protocol(), err);
    if (!err) acceptor_.set_option(net::socket_base::reuse_address(true), err);
    if (!err) acceptor_.bind(endpoint, err);
    if (!err) acceptor_.listen(net::socket_base::max_listen_connections, err);
    if (err) return UnavailableError("cannot listen for metrics on " + std::string(listen) + ": " + err.message());
    port_ = acceptor_.local_endpoint().port();
    Accept();
    thread_ = std::thread([this] {
      for (;;) {
        try {
          ioc_.run();
          return;
        } catch (const std::exception&) {
          // A handler threw (allocation failure): keep serving.
        }
      }
    });
    return Status::Ok();
  }

  void Stop() {
    ioc_.stop();
    if (thread_.joinable()) thread_.join();
    // The I/O thread is gone: the acceptor can be closed from here (new connections refused).
    beast::error_code ignored;
    acceptor_.close(ignored);
  }

  int port() const { return port_; }

 private:
  struct Connection : std::enable_shared_from_this<Connection> {
    Connection(tcp::socket s, MetricRegistry& r) : stream(std::move(s)), registry(r) {}
    void Read() {
      req = {};
      stream.expires_after(std::chrono::seconds(10));
      http::async_read(stream, buffer, req, [self = shared_from_this()](beast::error_code ec, size_t) {
        if (ec) return self->Close();
        self->Respond();
      });
    }
    void Respond() {
      res = {};
      res.version(11);
      res.set(http::field::server, "almanac");
      const std::string_view target(req.target().data(), req.target().size());
      const std::string_view path = target.substr(0, target.find('?'));
      if (req.method() != http::verb::get && req.method() != http::verb::head) {
        res.result(http::status::method_not_allowed);
        res.set(http::field::allow, "GET, HEAD");
        res.set(http::field::content_type, "text/plain");
        res.body() = "method not allowed\n";
      } else if (path == "/metrics") {
        res.result(http::status::ok);
        res.set(http::field::content_type, std::string(MetricRegistry::kContentType));
        res.body() = registry.Exposition();
      } else if (path == "/healthz") {
        res.result(http::status::ok);
        res.set(http::field::content_type, "text/plain");
        res.body() = "ok\n";
      } else {
        res.result(http::status::not_found);
        res.set(http::field::content_type, "text/plain");
        res.body() = "not found (this endpoint serves /metrics and /healthz)\n";
      }
      const bool head = req.method() == http::verb::head;
      res.keep_alive(req.keep_alive());
      res.prepare_payload();
      if (head) res.body().clear();
      stream.expires_after(std::chrono::seconds(10));
      if (head) {
        auto sr = std::make_shared<http::response_serializer<http::string_body>>(res);
        http::async_write_header(stream, *sr, [self = shared_from_this(), sr](beast::error_code ec, size_t) {
          if (ec || !self->res.keep_alive()) return self->Close();
          self->Read();
        });
        return;
      }
      http::async_write(stream, res, [self = shared_from_this()](beast::error_code ec, size_t) {
        if (ec || !self->res.keep_alive()) return self->Close();
        self->Read();
      });
    }
    void Close() {
      beast::error_code ignored;
      stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
      stream.close();
    }

    beast::tcp_stream stream;
    MetricRegistry& registry;
    beast::flat_buffer buffer;
    http::request<http::string_body> req;
    http::response<http::string_body> res;
  };

  void Accept() {
    acceptor_.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
      if (!ec) std::make_shared<Connection>(std::move(socket), registry_)->Read();
      Accept();
    });
  }

  MetricRegistry& registry_;
  net::io_context ioc_{1};
  tcp::acceptor acceptor_;
  std::thread thread_;
  int port_ = 0;
};

Result<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::Start(std::string_view listen, MetricRegistry& registry) {
  auto impl = std::make_unique<Impl>(registry);
  try {
    ALMANAC_RETURN_IF_ERROR(impl->Start(listen));
  } catch (const std::exception& e) {
    return InternalError(std::string("cannot start the metrics endpoint: ") + e.what());
  }
  return std::unique_ptr<MetricsEndpoint>(new MetricsEndpoint(std::move(impl)));
}

MetricsEndpoint::MetricsEndpoint(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
MetricsEndpoint::~MetricsEndpoint() { Stop(); }
int MetricsEndpoint::port() const { return impl_->port(); }
void MetricsEndpoint::Stop() {
  if (impl_) impl_->Stop();
}

}  // namespace almanac::monitor
