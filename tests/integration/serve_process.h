// A running `almanac serve` on an ephemeral port of 127.0.0.1, for the end-to-end tests that
// talk HTTP to the built binary (serve_test.cc, mlflow_api_test.cc, nowcast_serve_test.cc).
//
//   ServeProcess s(ws, {"--threads", "2"});
//   ASSERT_TRUE(s.running()) << s.log();
//   HttpResult r = HttpRequest(s.port(), "GET", "/healthz");
//   EXPECT_EQ(s.Stop(), 0) << s.log();   // SIGTERM and the exit code; the destructor does it too
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace almanac::testing {

class ServeProcess {
 public:
  // Starts `almanac --workspace WS --user USER serve --listen 127.0.0.1:0 --poll-seconds 0.1
  // EXTRA...` (EXTRA may set its own --poll-seconds) with its stderr in a new log file beside
  // the workspace, and waits up to 30 s until it logs where it listens. When it exits before
  // that, running() is false and Stop() returns its exit code.
  ServeProcess(const std::string& ws, const std::vector<std::string>& extra = {}, const std::string& user = "operator");
  ~ServeProcess();
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;

  int port() const { return port_; }
  bool running() const { return pid_ > 0 && port_ > 0; }
  // Everything the server logged so far.
  std::string log() const;
  const std::string& log_path() const { return log_; }

  // SIGTERM, then the exit code (waits up to `wait_s`).
  int Stop(int wait_s = 20);
  void Signal(int sig);
  // The exit code once the server has exited (-signal when killed); after `wait_s` seconds it
  // is killed and -999 returned.
  int Wait(int wait_s);

 private:
  std::string log_;
  pid_t pid_ = -1;
  int port_ = 0;
  int exit_code_ = -1;
};

}  // namespace almanac::testing
