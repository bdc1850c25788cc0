#include "data/testing/fixture_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>

namespace almanac::data::testing {
namespace {

std::string Decode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else if (s[i] == '+') {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

bool SendAll(int fd, const char* data, size_t len) {
  while (len > 0) {
    ssize_t n = ::send(fd, data, len, MSG_NOSIGNAL);
    if (n <= 0) return false;
    data += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}

const char* Reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 304: return "Not Modified";
    case 404: return "Not Found";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}

}  // namespace

FixtureServer::FixtureServer(Handler handler) : handler_(std::move(handler)) {}
FixtureServer::~FixtureServer() { Stop(); }

bool FixtureServer::Start() {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) return false;
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return false;
  if (::listen(listen_fd_, 128) != 0) return false;
  socklen_t len = sizeof(addr);
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { AcceptLoop(); });
  return true;
}

void FixtureServer::Stop() {
  if (stopping_.exchange(true)) return;
  if (listen_fd_ >= 0) ::shutdown(listen_fd_, SHUT_RDWR);
  if (acceptor_.joinable()) acceptor_.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  std::vector<std::thread> workers;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (int fd : client_fds_) ::shutdown(fd, SHUT_RDWR);
    workers.swap(workers_);
  }
  for (auto& t : workers) t.join();
}

void FixtureServer::AcceptLoop() {
  while (!stopping_) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (stopping_) return;
      continue;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    std::lock_guard<std::mutex> l(mu_);
    if (stopping_) {
      ::close(fd);
      return;
    }
    client_fds_.push_back(fd);
    workers_.emplace_back([this, fd] { Serve(fd); });
  }
}

void FixtureServer::Serve(int fd) {
  std::string buf;
  char chunk[16384];
  while (!stopping_) {
    size_t end;
    while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
      ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
      if (n <= 0) goto done;
      buf.append(chunk, static_cast<size_t>(n));
    }
    {
      FixtureRequest req;
      std::string head = buf.substr(0, end);
      buf.erase(0, end + 4);
      size_t line_end = head.find("\r\n");
      std::string first = head.substr(0, line_end);
      size_t sp1 = first.find(' '), sp2 = first.rfind(' ');
      if (sp1 == std::string::npos || sp2 <= sp1) goto done;
      req.method = first.substr(0, sp1);
      req.target = first.substr(sp1 + 1, sp2 - sp1 - 1);
      size_t qpos = req.target.find('?');
      req.path = req.target.substr(0, qpos);
      if (qpos != std::string::npos) {
        std::string q = req.target.substr(qpos + 1);
        size_t start = 0;
        while (start < q.size()) {
          size_t amp = q.find('&', start);
          if (amp == std::string::npos) amp = q.size();
          std::string part = q.substr(start, amp - start);
          size_t eq = part.find('=');
          if (eq != std::string::npos) req.query[Decode(part.substr(0, eq))] = Decode(part.substr(eq + 1));
          start = amp + 1;
        }
      }
      size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
      while (pos < head.size()) {
        size_t e = head.find("\r\n", pos);
        if (e == std::string::npos) e = head.size();
        std::string h = head.substr(pos, e - pos);
        size_t colon = h.find(':');
        if (colon != std::string::npos) {
          std::string name = h.substr(0, colon);
          std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
          size_t v = colon + 1;
          while (v < h.size() && h[v] == ' ') ++v;
          req.headers[name] = h.substr(v);
        }
        pos = e + 2;
      }
      if (auto it = req.headers.find("content-length"); it != req.headers.end()) {
        size_t want = std::stoul(it->second);
        while (buf.size() < want) {
          ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
          if (n <= 0) goto done;
          buf.append(chunk, static_cast<size_t>(n));
        }
        buf.erase(0, want);
      }
      ++requests_;
      FixtureResponse resp = handler_(req);
      if (resp.delay_ms > 0) {
        for (int waited = 0; waited < resp.delay_ms && !stopping_; waited += 10)
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      if (resp.close_without_reply) goto done;
      std::string out = "HTTP/1.1 " + std::to_string(resp.status) + " " + Reason(resp.status) + "\r\n";
      if (!resp.content_type.empty() && resp.status != 304) out += "Content-Type: " + resp.content_type + "\r\n";
      for (const auto& [k, v] : resp.headers) out += k + ": " + v + "\r\n";
      if (resp.status != 304) out += "Content-Length: " + std::to_string(resp.body.size()) + "\r\n";
      out += "\r\n";
      if (!SendAll(fd, out.data(), out.size())) goto done;
      if (resp.status == 304) continue;
      if (resp.truncate) {
        SendAll(fd, resp.body.data(), resp.body.size() / 2);
        goto done;
      }
      if (!SendAll(fd, resp.body.data(), resp.body.size())) goto done;
    }
  }
done:
  std::lock_guard<std::mutex> l(mu_);
  client_fds_.erase(std::remove(client_fds_.begin(), client_fds_.end(), fd), client_fds_.end());
  ::close(fd);
}

}  // namespace almanac::data::testing
