// The workspace folder of the embedded deployment (cli-internal):
//   <workspace>/almanac.db      the SQLite store
//   <workspace>/artifacts/      model packages and other artifacts
//   <workspace>/workspace.json  format version and creation time
//   <workspace>/almanac.lock    held (flock) by the one process writing at a time
#pragma once

#include <memory>
#include <string>

#include "almanac/core.h"
#include "almanac/store.h"

namespace almanac::cli {

struct WorkspaceOptions {
  std::string path;       // --workspace / ALMANAC_WORKSPACE / ./almanac-workspace
  std::string store_uri;  // --store / ALMANAC_STORE: overrides the workspace's database
  int lock_timeout_ms = 0;
};

class Workspace {
 public:
  ~Workspace();
  // Creates the folder and database. AlreadyExists when it is already a workspace.
  static Result<std::unique_ptr<Workspace>> Init(const WorkspaceOptions& options);
  // Opens an existing workspace. NotFound (with a hint to run `almanac init`) otherwise.
  static Result<std::unique_ptr<Workspace>> Open(const WorkspaceOptions& options);

  // Takes the writer lock: Unavailable when another almanac process holds it. Short write
  // commands (init, ingest, snapshot, models) take it; long-running writers (run, scheduler,
  // serve) do not, and rely on the store's own locking.
  Status LockForWrite();

  // An exclusive lock on one pipeline (locks/<name>.lock), held by the returned object: no two
  // runs of a pipeline overlap, whether started by hand or by the scheduler. Unavailable when
  // another run holds it.
  class PipelineLock {
   public:
    explicit PipelineLock(int fd) : fd_(fd) {}
    ~PipelineLock();
    PipelineLock(PipelineLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
    PipelineLock& operator=(PipelineLock&&) = delete;

   private:
    int fd_;
  };
  Result<PipelineLock> LockPipeline(const std::string& name);

  store::Store& store() { return *store_; }
  const std::string& path() const { return path_; }
  std::string artifacts_dir() const { return path_ + "/artifacts"; }

 private:
  Workspace() = default;
  std::string path_;
  std::unique_ptr<store::Store> store_;
  int lock_fd_ = -1;
  int lock_timeout_ms_ = 0;
};

}  // namespace almanac::cli
