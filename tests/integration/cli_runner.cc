#include "integration/cli_runner.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace almanac::testing {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream(path, std::ios::binary) << content;
}

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "almanac_it_XXXXXX").string();
  path_ = ::mkdtemp(tmpl.data());
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

namespace {
std::vector<char*> Argv(const std::vector<std::string>& args, std::string& bin) {
  bin = ALMANAC_BINARY_PATH;
  std::vector<char*> argv{bin.data()};
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  return argv;
}
}  // namespace

CommandResult RunAlmanac(const std::vector<std::string>& args, const std::string& input,
                         const std::vector<std::string>& env) {
  return RunAlmanacAs("", args, env, input);
}

CommandResult RunAlmanacAs(const std::string& os_user, const std::vector<std::string>& args,
                           const std::vector<std::string>& env, const std::string& input) {
  uid_t uid = 0;
  gid_t gid = 0;
  if (!os_user.empty()) {
    const struct passwd* pw = ::getpwnam(os_user.c_str());
    if (pw == nullptr) return {127, "", "no operating-system user " + os_user};
    uid = pw->pw_uid;
    gid = pw->pw_gid;
  }
  TempDir io;
  const std::string in = io / "in", out = io / "out", err = io / "err";
  WriteFile(in, input);
  std::string bin;
  auto argv = Argv(args, bin);
  pid_t pid = ::fork();
  if (pid == 0) {
    int fi = ::open(in.c_str(), O_RDONLY), fo = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644),
        fe = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fi, 0);
    ::dup2(fo, 1);
    ::dup2(fe, 2);
    ::unsetenv("ALMANAC_WORKSPACE");
    ::unsetenv("ALMANAC_STORE");
    if (os_user.empty()) {
      ::setenv("ALMANAC_USER", "tester", 1);
    } else {
      // Another OS user: files it creates stay writable by the others of the test.
      ::unsetenv("ALMANAC_USER");
      ::umask(0);
      if (::setgroups(0, nullptr) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0) ::_exit(126);
    }
    for (const auto& kv : env) ::putenv(const_cast<char*>(kv.c_str()));
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  r.out = ReadFile(out);
  r.err = ReadFile(err);
  return r;
}

pid_t StartAlmanac(const std::vector<std::string>& args, const std::string& err_path, int* stdin_fd,
                   const std::string& out_path) {
  std::string bin;
  auto argv = Argv(args, bin);
  int pipe_fds[2] = {-1, -1};
  if (stdin_fd != nullptr && ::pipe(pipe_fds) != 0) return -1;
  pid_t pid = ::fork();
  if (pid == 0) {
    if (stdin_fd != nullptr) {
      ::dup2(pipe_fds[0], 0);
      ::close(pipe_fds[0]);
      ::close(pipe_fds[1]);
    }
    int fe = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int fo = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fo, 1);
    ::dup2(fe, 2);
    ::setenv("ALMANAC_USER", "tester", 1);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  if (stdin_fd != nullptr) {
    ::close(pipe_fds[0]);
    *stdin_fd = pipe_fds[1];
  }
  return pid;
}

}  // namespace almanac::testing
