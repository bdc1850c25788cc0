// Automatic anchoring of the audit log (cli-internal; docs/operations.md, "Anchoring the audit
// log"). With --audit-key and --audit-anchors (or ALMANAC_AUDIT_KEY and ALMANAC_AUDIT_ANCHORS)
// every command whose store's audit head moved while its workspace was open appends anchors
// when the workspace closes (Workspace's destructor), and serve, scheduler and worker also
// anchor every --anchor-interval seconds. The key is read only when something is anchored, so
// commands that write nothing never load it.
//
//   AuditAnchoring anchoring(g.audit_key, g.audit_anchors);  // main.cc, one per process
//   g.workspace.anchoring = &anchoring;                      // reached by every Workspace
//   ... run the command ...
//   if (!anchoring.failure().ok()) exit code 1 (3 for a tampered log)
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "almanac/store.h"

namespace almanac::monitor {
class Logger;
}

namespace almanac::cli {

struct GlobalOptions;

class AuditAnchoring {
 public:
  AuditAnchoring(std::string key_path, std::string anchors_path);
  AuditAnchoring(const AuditAnchoring&) = delete;
  AuditAnchoring& operator=(const AuditAnchoring&) = delete;

  // Automatic anchoring is on: both a key and an anchor file were given.
  bool enabled() const { return !key_path_.empty() && !anchors_path_.empty(); }
  const std::string& anchors_path() const { return anchors_path_; }

  // The signing key, loaded on first use (errors of store::AuditSigningKey::Load). Thread-safe;
  // the key lives as long as this object.
  Result<const store::AuditSigningKey*> Key();

  // After a command wrote: appends anchors for the store's new entries. A failure is printed
  // ("the command's changes are committed, but ...") and kept for the exit code. Thread-safe.
  void AfterWrites(store::Store& store);
  // The first failure of AfterWrites (ok when none).
  Status failure() const;

 private:
  const std::string key_path_;
  const std::string anchors_path_;
  mutable std::mutex mu_;
  std::unique_ptr<store::AuditSigningKey> key_;  // GUARDED_BY(mu_), set once
  Status key_error_;                             // GUARDED_BY(mu_)
  Status failure_;                               // GUARDED_BY(mu_)
};

// For serve, scheduler and worker: anchors every g.anchor_interval_s seconds, and once more when
// the returned object is destroyed (destroy it before `store`), logging appends and failures to
// `log`. nullptr when automatic anchoring is off; the key's errors when it cannot be loaded.
Result<std::unique_ptr<store::PeriodicAuditAnchor>> StartPeriodicAnchoring(const GlobalOptions& g, store::Store& store,
                                                                           const monitor::Logger& log);

}  // namespace almanac::cli
