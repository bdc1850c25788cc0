// A small blocking HTTP/1.1 client over POSIX sockets for tests of `almanac serve` on
// loopback: keep-alive requests, raw bytes (malformed requests, dribbling), and a check that
// the server closed the connection.
#pragma once

#include <map>
#include <string>

namespace almanac::testing {

struct HttpResult {
  int status = 0;  // 0: no response (connection closed or timed out)
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

class HttpConnection {
 public:
  // Connects to 127.0.0.1:port; ok() is false when that fails. `timeout_ms` bounds every read.
  // `source_ip` (e.g. "127.0.0.2"): the local address to connect from (any 127.x works on Linux).
  explicit HttpConnection(int port, int timeout_ms = 5000, const std::string& source_ip = "");
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  bool ok() const { return fd_ >= 0; }
  // Sends bytes as they are; false when the connection is broken.
  bool SendRaw(const std::string& bytes);
  // Reads one response (status line, headers, Content-Length body). `no_body`: the response
  // to a HEAD request, whose Content-Length announces a body that is not sent.
  HttpResult ReadResponse(bool no_body = false);
  // A request on this connection (keep-alive); a HEAD request reads no body.
  HttpResult Request(const std::string& method, const std::string& target, const std::string& body = "",
                     const std::string& token = "", const std::string& extra_headers = "");
  // True when the server closed the connection (EOF or reset) within `wait_ms`.
  bool ClosedByPeer(int wait_ms);

 private:
  bool Fill();
  int fd_ = -1;
  std::string buf_;
};

// One request on a fresh connection.
HttpResult HttpRequest(int port, const std::string& method, const std::string& target, const std::string& body = "",
                       const std::string& token = "", const std::string& extra_headers = "");

}  // namespace almanac::testing
