#include "cli/audit_anchoring.h"

#include <iostream>

#include "almanac/monitor.h"
#include "cli/commands.h"

namespace almanac::cli {

AuditAnchoring::AuditAnchoring(std::string key_path, std::string anchors_path)
    : key_path_(std::move(key_path)), anchors_path_(std::move(anchors_path)) {}

Result<const store::AuditSigningKey*> AuditAnchoring::Key() {
  std::lock_guard lock(mu_);
  if (!key_ && key_error_.ok()) {
    auto key = store::AuditSigningKey::Load(key_path_);
    if (key.ok()) key_ = std::move(*key);
    else key_error_ = key.status();
  }
  if (!key_error_.ok()) return key_error_;
  return static_cast<const store::AuditSigningKey*>(key_.get());
}

void AuditAnchoring::AfterWrites(store::Store& store) {
  if (!enabled()) return;
  Status s;
  auto key = Key();
  if (!key.ok()) s = key.status();
  else s = store::AppendAuditAnchors(store, **key, anchors_path_).status();
  if (s.ok()) return;
  std::cerr << "almanac: error: the command's changes are committed, but the audit anchor was not written: "
            << s.message() << "\n";
  std::lock_guard lock(mu_);
  if (failure_.ok()) failure_ = s;
}

Status AuditAnchoring::failure() const {
  std::lock_guard lock(mu_);
  return failure_;
}

Result<std::unique_ptr<store::PeriodicAuditAnchor>> StartPeriodicAnchoring(const GlobalOptions& g, store::Store& store,
                                                                           const monitor::Logger& log) {
  AuditAnchoring* anchoring = g.workspace.anchoring;
  if (anchoring == nullptr || !anchoring->enabled()) return std::unique_ptr<store::PeriodicAuditAnchor>();
  ALMANAC_ASSIGN_OR_RETURN(const store::AuditSigningKey* key, anchoring->Key());
  const std::string path = anchoring->anchors_path();
  log.Info("anchoring the audit log in " + path + " every " + FormatDouble(g.anchor_interval_s) + " s with key " +
           key->fingerprint());
  const auto interval = std::chrono::milliseconds(static_cast<int64_t>(g.anchor_interval_s * 1000));
  return std::make_unique<store::PeriodicAuditAnchor>(
      store, *key, path, interval, [&log, path](const Result<store::AnchorAppend>& r) {
        if (!r.ok()) {
          log.Error("audit anchor not written: " + r.status().message());
          return;
        }
        log.Info("audit entries " + std::to_string(r->from_seq) + ".." + std::to_string(r->head_seq) + " anchored in " +
                 path);
      });
}

}  // namespace almanac::cli
