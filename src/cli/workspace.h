// The workspace of a command (cli-internal).
// Embedded deployment, a folder:
//   <workspace>/almanac.db      the SQLite store
//   <workspace>/artifacts/      model packages and other artifacts
//   <workspace>/workspace.json  format version and creation time
//   <workspace>/almanac.lock    held (flock) by the one process writing at a time
// Shared deployment (--store postgresql://...): everything, artifacts included, lives in the
// database; no folder is needed, writers are serialised by the database, and pipeline locks
// are advisory locks that hold across hosts.
#pragma once

#include <memory>
#include <string>

#include "almanac/core.h"
#include "almanac/store.h"
#include "cli/identity.h"

namespace almanac::cli {

class AuditAnchoring;

struct WorkspaceOptions {
  std::string path;       // --workspace / ALMANAC_WORKSPACE / ./almanac-workspace
  std::string store_uri;  // --store / ALMANAC_STORE: overrides the workspace's database
  int lock_timeout_ms = 0;
  std::string user;  // --user / ALMANAC_USER: whom to act as ("" = the caller's own user)
  // Receives the resolved user when the workspace opens (GlobalOptions::user).
  std::string* resolved_user = nullptr;
  // Automatic anchoring of the audit log (audit_anchoring.h), owned by main; nullptr: none.
  AuditAnchoring* anchoring = nullptr;
};

class Workspace {
 public:
  // With automatic anchoring on, a workspace whose store's audit head moved while it was open
  // (the command wrote) appends audit anchors here (AuditAnchoring::AfterWrites).
  ~Workspace();
  // Open and Init resolve who runs the command (cli/identity.h): PermissionDenied when --user
  // names someone else and the caller is not an admin of the store.
  // Creates the folder and database. AlreadyExists when it is already a workspace. The first
  // caller of a store without admins becomes its admin.
  static Result<std::unique_ptr<Workspace>> Init(const WorkspaceOptions& options);
  // Opens an existing workspace. NotFound (with a hint to run `almanac init`) otherwise.
  static Result<std::unique_ptr<Workspace>> Open(const WorkspaceOptions& options);

  // Takes the writer lock: Unavailable when another almanac process holds it. Short write
  // commands (init, ingest, snapshot, models) take it; long-running writers (run, scheduler,
  // serve) do not, and rely on the store's own locking.
  Status LockForWrite();

  // An exclusive lock on one pipeline (locks/<name>.lock, or a database lock for a shared
  // store), held by the returned object: no two runs of a pipeline overlap, whether started by
  // hand or by a scheduler, on any host. Unavailable when another run holds it.
  class PipelineLock {
   public:
    explicit PipelineLock(int fd) : fd_(fd) {}
    explicit PipelineLock(std::unique_ptr<store::StoreLock> lock) : lock_(std::move(lock)) {}
    ~PipelineLock();
    PipelineLock(PipelineLock&& o) noexcept : fd_(o.fd_), lock_(std::move(o.lock_)) { o.fd_ = -1; }
    PipelineLock& operator=(PipelineLock&&) = delete;

   private:
    int fd_ = -1;
    std::unique_ptr<store::StoreLock> lock_;
  };
  Result<PipelineLock> LockPipeline(const std::string& name);

  store::Store& store() { return *store_; }
  const Identity& identity() const { return identity_; }
  // Whom the command acts as (the audit actor).
  const std::string& user() const { return identity_.user; }
  const std::string& path() const { return path_; }
  std::string artifacts_dir() const { return path_ + "/artifacts"; }
  // Where artifacts live: the folder (file:...) or, for a shared store, its database.
  std::string artifacts_uri() const { return shared_ ? store_uri_ : "file:" + artifacts_dir(); }
  // A PostgreSQL store: no folder, database locks.
  bool shared() const { return shared_; }

 private:
  Workspace() = default;
  Status ResolveUser(const WorkspaceOptions& o, bool created);
  // Remembers the audit head when automatic anchoring is on.
  void WatchAuditHead(const WorkspaceOptions& options);

  std::string path_;
  std::unique_ptr<store::Store> store_;
  int lock_fd_ = -1;
  int lock_timeout_ms_ = 0;
  bool shared_ = false;
  std::string store_uri_;  // as given (with credentials), for opening the artifact store
  Identity identity_;
  AuditAnchoring* anchoring_ = nullptr;
  int64_t audit_head_at_open_ = -1;
};

}  // namespace almanac::cli
