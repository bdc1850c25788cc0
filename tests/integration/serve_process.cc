#include "integration/serve_process.h"

#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <regex>
#include <thread>

#include "integration/cli_runner.h"

namespace almanac::testing {
namespace {

using Clock = std::chrono::steady_clock;

int ExitCode(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status); }

}  // namespace

ServeProcess::ServeProcess(const std::string& ws, const std::vector<std::string>& extra, const std::string& user) {
  static std::atomic<int> count{0};
  log_ = ws + "/../serve-" + std::to_string(++count) + ".log";
  std::vector<std::string> args = {"--workspace", ws, "--user", user, "serve", "--listen", "127.0.0.1:0"};
  if (std::find(extra.begin(), extra.end(), "--poll-seconds") == extra.end()) {
    args.insert(args.end(), {"--poll-seconds", "0.1"});
  }
  args.insert(args.end(), extra.begin(), extra.end());
  pid_ = StartAlmanac(args, log_);
  static const std::regex kListening(R"(listening on https?://127\.0\.0\.1:(\d+))");
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (Clock::now() < deadline) {
    std::smatch m;
    const std::string text = ReadFile(log_);
    if (std::regex_search(text, m, kListening)) {
      port_ = std::stoi(m[1]);
      return;
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      exit_code_ = ExitCode(status);
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

ServeProcess::~ServeProcess() { Stop(); }

std::string ServeProcess::log() const { return ReadFile(log_); }

int ServeProcess::Stop(int wait_s) {
  if (pid_ <= 0) return exit_code_;
  ::kill(pid_, SIGTERM);
  return Wait(wait_s);
}

void ServeProcess::Signal(int sig) {
  if (pid_ > 0) ::kill(pid_, sig);
}

int ServeProcess::Wait(int wait_s) {
  if (pid_ <= 0) return exit_code_;
  const auto deadline = Clock::now() + std::chrono::seconds(wait_s);
  int status = 0;
  while (Clock::now() < deadline) {
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return exit_code_ = ExitCode(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return exit_code_ = -999;
}

}  // namespace almanac::testing
