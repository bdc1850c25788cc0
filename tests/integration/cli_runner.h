// Runs the almanac binary in a child process for end-to-end tests.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace almanac::testing {

struct CommandResult {
  int exit_code = -1;  // -signal when killed
  std::string out;
  std::string err;
};

// Runs ALMANAC_BINARY_PATH with `args`, feeding `input` on stdin, and waits.
CommandResult RunAlmanac(const std::vector<std::string>& args, const std::string& input = "",
                         const std::vector<std::string>& env = {});
// As RunAlmanac, but as the operating-system user `os_user` (the test must run as root) and
// without ALMANAC_USER; with umask 0, so the users of a test share the files they create.
// "" runs as RunAlmanac does.
CommandResult RunAlmanacAs(const std::string& os_user, const std::vector<std::string>& args,
                           const std::vector<std::string>& env = {}, const std::string& input = "");

// Starts the binary without waiting; stderr goes to `err_path`, stdout to `out_path`. Returns
// the pid. With `stdin_fd` non-null, the child's stdin is a pipe whose write end is stored there.
pid_t StartAlmanac(const std::vector<std::string>& args, const std::string& err_path, int* stdin_fd = nullptr,
                   const std::string& out_path = "/dev/null");

// A fresh temporary directory, removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

std::string ReadFile(const std::string& path);
void WriteFile(const std::string& path, const std::string& content);

}  // namespace almanac::testing
