// A small HTTP/1.1 server on 127.0.0.1 for connector tests and benchmarks. It serves
// whatever the handler returns and can misbehave on purpose (delays, truncated bodies,
// dropped connections). Plain POSIX sockets, one thread per connection, keep-alive.
#pragma once

#include <atomic>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace almanac::data::testing {

#ifdef ALMANAC_SOURCE_DIR
// The bytes of testdata/connectors/<name> (provider-format files); empty when unreadable.
inline std::string ReadFixture(const std::string& name) {
  std::ifstream in(std::string(ALMANAC_SOURCE_DIR) + "/testdata/connectors/" + name, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
#endif

struct FixtureRequest {
  std::string method;
  std::string target;  // path and query, as sent
  std::string path;    // without the query
  std::map<std::string, std::string> query;    // decoded
  std::map<std::string, std::string> headers;  // lower-case names
};

struct FixtureResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  int delay_ms = 0;            // before sending anything
  bool truncate = false;       // announce the full length, send half, close
  bool close_without_reply = false;
};

class FixtureServer {
 public:
  using Handler = std::function<FixtureResponse(const FixtureRequest&)>;
  explicit FixtureServer(Handler handler);
  ~FixtureServer();  // stops
  // Binds 127.0.0.1 on a free port and starts accepting. False on failure.
  bool Start();
  void Stop();
  int port() const { return port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int requests() const { return requests_.load(); }

 private:
  void AcceptLoop();
  void Serve(int fd);

  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> requests_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::thread> workers_;
  std::vector<int> client_fds_;
};

}  // namespace almanac::data::testing
