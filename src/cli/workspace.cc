#include "cli/workspace.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "almanac/core/json.h"
#include "cli/audit_anchoring.h"

namespace almanac::cli {
namespace fs = std::filesystem;

namespace {
std::string DbUri(const WorkspaceOptions& o, const std::string& path) {
  return o.store_uri.empty() ? "sqlite:" + path + "/almanac.db" : o.store_uri;
}

// The SQLite file whose owner counts as the store's owner ("" for a shared store).
std::string SqliteFile(const WorkspaceOptions& o, const std::string& path) {
  if (store::IsPostgresUri(o.store_uri)) return "";
  const std::string uri = DbUri(o, path);
  return uri.rfind("sqlite:", 0) == 0 ? uri.substr(7) : "";
}
}  // namespace

Status Workspace::ResolveUser(const WorkspaceOptions& o, bool created) {
  ALMANAC_ASSIGN_OR_RETURN(identity_, ResolveIdentity(*store_, SqliteFile(o, shared_ ? "" : path_), o.user));
  store::SetAuthenticatedUser(identity_.own_user);
  if (created && identity_.admin_by_ownership) {
    // Who creates a store becomes its first admin.
    ALMANAC_RETURN_IF_ERROR(GrantStoreUser(*store_, identity_, identity_.principal, identity_.own_user, true));
    identity_.admin_by_ownership = false;
  }
  if (o.resolved_user != nullptr) *o.resolved_user = identity_.user;
  return Status::Ok();
}

Workspace::~Workspace() {
  if (anchoring_ != nullptr && store_) {
    auto head = store_->metadata().AuditHead();
    if (!head.ok() || head->first != audit_head_at_open_) anchoring_->AfterWrites(*store_);
  }
  store_.reset();
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

Result<std::unique_ptr<Workspace>> Workspace::Init(const WorkspaceOptions& o) {
  if (store::IsPostgresUri(o.store_uri)) {
    // A shared store: the schema is created in the database; no folder.
    std::unique_ptr<Workspace> ws(new Workspace());
    ws->shared_ = true;
    ws->store_uri_ = o.store_uri;
    store::StoreOptions so;
    so.create_if_missing = true;
    ALMANAC_ASSIGN_OR_RETURN(ws->store_, store::OpenStore(o.store_uri, so));
    ws->path_ = ws->store_->uri();
    ws->WatchAuditHead(o);  // before ResolveUser: the first admin's grant is anchored too
    ALMANAC_RETURN_IF_ERROR(ws->ResolveUser(o, true));
    return ws;
  }
  std::error_code ec;
  const fs::path p = fs::absolute(o.path, ec);
  if (fs::exists(p / "workspace.json"))
    return AlreadyExistsError("a workspace already exists at " + p.string());
  if (fs::exists(p) && !fs::is_directory(p)) return FailedPreconditionError(p.string() + " exists and is not a directory");
  fs::create_directories(p / "artifacts", ec);
  if (ec) return PermissionDeniedError("cannot create " + p.string() + ": " + ec.message());
  std::unique_ptr<Workspace> ws(new Workspace());
  ws->path_ = p.string();
  ws->lock_timeout_ms_ = o.lock_timeout_ms;
  ALMANAC_RETURN_IF_ERROR(ws->LockForWrite());
  store::StoreOptions so;
  so.create_if_missing = true;
  ALMANAC_ASSIGN_OR_RETURN(ws->store_, store::OpenStore(DbUri(o, ws->path_), so));
  ws->WatchAuditHead(o);  // before ResolveUser: the first admin's grant is anchored too
  ALMANAC_RETURN_IF_ERROR(ws->ResolveUser(o, true));
  Json meta = {{"format", "almanac-workspace"},
               {"format_version", 1},
               {"created_at", FormatTimestamp(SystemClock().NowMicros())}};
  std::ofstream(p / "workspace.json") << PrettyJson(meta) << "\n";
  return ws;
}

Result<std::unique_ptr<Workspace>> Workspace::Open(const WorkspaceOptions& o) {
  if (store::IsPostgresUri(o.store_uri)) {
    std::unique_ptr<Workspace> ws(new Workspace());
    ws->shared_ = true;
    ws->store_uri_ = o.store_uri;
    ALMANAC_ASSIGN_OR_RETURN(ws->store_, store::OpenStore(o.store_uri, store::StoreOptions{}));
    ws->path_ = ws->store_->uri();
    ALMANAC_RETURN_IF_ERROR(ws->ResolveUser(o, false));
    ws->WatchAuditHead(o);
    return ws;
  }
  std::error_code ec;
  const fs::path p = fs::absolute(o.path, ec);
  if (!fs::exists(p / "workspace.json"))
    return NotFoundError("no almanac workspace at " + p.string() +
                         " (run 'almanac init' there, or pass --workspace / set ALMANAC_WORKSPACE)");
  std::unique_ptr<Workspace> ws(new Workspace());
  ws->path_ = p.string();
  ws->lock_timeout_ms_ = o.lock_timeout_ms;
  store::StoreOptions so;
  ALMANAC_ASSIGN_OR_RETURN(ws->store_, store::OpenStore(DbUri(o, ws->path_), so));
  ALMANAC_RETURN_IF_ERROR(ws->ResolveUser(o, false));
  ws->WatchAuditHead(o);
  return ws;
}

void Workspace::WatchAuditHead(const WorkspaceOptions& o) {
  if (o.anchoring == nullptr || !o.anchoring->enabled()) return;
  anchoring_ = o.anchoring;
  // One single-row read; -1 when it fails, so that closing anchors whatever is new.
  auto head = store_->metadata().AuditHead();
  audit_head_at_open_ = head.ok() ? head->first : -1;
}

Status Workspace::LockForWrite() {
  if (shared_) return Status::Ok();  // the database serialises writers
  if (lock_fd_ >= 0) return Status::Ok();
  const std::string lock_path = path_ + "/almanac.lock";
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return PermissionDeniedError("cannot open " + lock_path + ": " + std::strerror(errno));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(lock_timeout_ms_);
  for (;;) {
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) break;
    if (errno != EWOULDBLOCK || std::chrono::steady_clock::now() >= deadline) {
      std::string holder;
      char buf[64] = {0};
      if (::pread(fd, buf, sizeof(buf) - 1, 0) > 0) holder = std::string(Trim(buf));
      ::close(fd);
      return UnavailableError("workspace " + path_ + " is in use by another almanac process" +
                              (holder.empty() ? "" : " (pid " + holder + ")") +
                              "; wait for it to finish or pass --lock-timeout SECONDS");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) == 0 && ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    // The pid is informational only.
  }
  lock_fd_ = fd;
  return Status::Ok();
}

}  // namespace almanac::cli

namespace almanac::cli {

Workspace::PipelineLock::~PipelineLock() {
  if (fd_ >= 0) ::close(fd_);
}

Result<Workspace::PipelineLock> Workspace::LockPipeline(const std::string& name) {
  ALMANAC_RETURN_IF_ERROR(ValidateName(name, "pipeline name"));
  if (shared_) {
    auto lock = store_->TryLock("pipeline:" + name);
    if (!lock.ok()) {
      if (lock.status().code() == StatusCode::kUnavailable && lock.status().message().find("held by") != std::string::npos)
        return UnavailableError("pipeline " + name + " is already running in another process (on this or another host)");
      return lock.status();
    }
    return PipelineLock(std::move(*lock));
  }
  std::error_code ec;
  fs::create_directories(path_ + "/locks", ec);
  const std::string lock_path = path_ + "/locks/" + name + ".lock";
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return PermissionDeniedError("cannot open " + lock_path + ": " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return UnavailableError("pipeline " + name + " is already running in another process (scheduler or almanac run)");
  }
  return PipelineLock(fd);
}

}  // namespace almanac::cli
