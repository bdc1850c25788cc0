// audit commands: verify (the in-store chain, and the anchor file when one is named), export,
// list, anchor and keygen. The anchoring itself is the store's (almanac/store/audit_anchor.h).
#include "cli/commands_audit.h"

#include <iostream>
#include <optional>

#include "almanac/core/json.h"
#include "almanac/store.h"
#include "cli/output.h"
#include "cli/workspace.h"

namespace almanac::cli {
namespace {

// The key that checks the anchors: --public-key (or ALMANAC_AUDIT_PUBLIC_KEY), else the public
// half of the configured signing key. Never the key an anchor file names: whoever can rewrite
// the file could sign it with a key of their own.
Result<std::unique_ptr<store::AuditPublicKey>> AnchorCheckingKey(const GlobalOptions& g, const AuditVerifyArgs& a) {
  if (!a.public_key.empty()) return store::AuditPublicKey::Load(a.public_key);
  if (!g.audit_key.empty()) {
    ALMANAC_ASSIGN_OR_RETURN(auto signing, store::AuditSigningKey::Load(g.audit_key));
    return store::AuditPublicKey::FromSigningKey(*signing);
  }
  return InvalidArgumentError(
      "checking anchors needs the public key that signed them: --public-key KEY.pub.pem (or "
      "ALMANAC_AUDIT_PUBLIC_KEY). The fingerprint inside the anchor file is not trusted on its own: whoever can "
      "rewrite the file could sign it with a key of their own");
}

}  // namespace

int RunAuditVerify(const GlobalOptions& g, const AuditVerifyArgs& a) {
  const std::string anchors = !a.anchors.empty() ? a.anchors : g.audit_anchors;
  std::unique_ptr<store::AuditPublicKey> key;
  if (!anchors.empty()) {
    auto k = AnchorCheckingKey(g, a);
    if (!k.ok()) return ReportError(k.status());
    key = std::move(*k);
  }
  auto ws = Workspace::Open(g.workspace);
  if (!ws.ok()) return ReportError(ws.status());
  store::Store& st = (*ws)->store();
  bool failed = false;
  auto v = store::VerifyAuditChain(st.metadata());
  if (!v.ok()) {
    std::cerr << "almanac: error: " << v.status().message() << "\n";
    failed = true;
  } else if (!a.expect_head.empty() && a.expect_head != v->head_hash) {
    std::cerr << "almanac: error: the audit log's head " << v->head_hash << " is not the expected " << a.expect_head
              << " (entries were removed or added since that head was recorded)\n";
    failed = true;
  }
  // The anchors are checked even when the chain is broken: they name what was anchored.
  std::optional<store::AnchorVerification> anchored;
  if (key) {
    auto r = store::VerifyAuditAnchors(st, anchors, *key);
    if (!r.ok()) {
      std::cerr << "almanac: error: " << r.status().message() << "\n";
      failed = true;
    } else {
      anchored = std::move(*r);
    }
  }
  if (failed) return kExitUser;
  std::vector<std::pair<std::string, Json>> fields = {{"status", "intact"}, {"entries", v->entries}, {"head", v->head_hash}};
  if (anchored) {
    for (const auto& w : anchored->warnings) std::cerr << "almanac: warning: " << w << "\n";
    fields.emplace_back("anchors", anchors);
    fields.emplace_back("anchor_lines", anchored->lines);
    fields.emplace_back("anchored_through", anchored->anchored_seq);
    fields.emplace_back("last_anchor", anchored->lines > 0 ? Ts(anchored->last_anchor_time) : Json(nullptr));
    fields.emplace_back("not_anchored", anchored->unanchored);
    fields.emplace_back("key", anchored->key_fingerprint);
  }
  PrintRecord(std::cout, fields, g.format);
  return kExitOk;
}

int RunAuditExport(const GlobalOptions& g, const std::string& output) {
  auto ws = Workspace::Open(g.workspace);
  if (!ws.ok()) return ReportError(ws.status());
  auto entries = (*ws)->store().metadata().ReadAudit(1, 0);
  if (!entries.ok()) return ReportError(entries.status());
  auto target = OutputTarget::Open(output);
  if (!target.ok()) return ReportError(target.status());
  std::ostream* out = &(*target)->stream();
  for (const auto& e : *entries) {
    Json j = {{"seq", e.seq},          {"timestamp", FormatTimestamp(e.timestamp)}, {"timestamp_us", e.timestamp},
              {"actor", e.event.actor}, {"action", e.event.action},                 {"object_type", e.event.object_type},
              {"object_id", e.event.object_id}, {"details", e.event.details},        {"prev_hash", e.prev_hash},
              {"hash", e.hash}};
    *out << CompactJson(j) << "\n";
  }
  return kExitOk;
}

int RunAuditList(const GlobalOptions& g, int limit) {
  auto ws = Workspace::Open(g.workspace);
  if (!ws.ok()) return ReportError(ws.status());
  auto head = (*ws)->store().metadata().AuditHead();
  if (!head.ok()) return ReportError(head.status());
  auto entries = (*ws)->store().metadata().ReadAudit(std::max<int64_t>(1, head->first - limit + 1), 0);
  if (!entries.ok()) return ReportError(entries.status());
  Table t{{"seq", "time", "actor", "action", "object", "hash"}, {}};
  for (const auto& e : *entries)
    t.Add({e.seq, Ts(e.timestamp), e.event.actor, e.event.action, e.event.object_type + ":" + e.event.object_id,
           g.format == OutputFormat::kTable ? ShortId(e.hash) : e.hash});
  Print(std::cout, t, g.format);
  return kExitOk;
}

int RunAuditAnchor(const GlobalOptions& g, const AuditAnchorArgs& a) {
  const std::string key_path = !a.key.empty() ? a.key : g.audit_key;
  const std::string anchors = !a.anchors.empty() ? a.anchors : g.audit_anchors;
  if (key_path.empty())
    return ReportError(InvalidArgumentError("name the signing key: --key KEY.pem (or --audit-key / ALMANAC_AUDIT_KEY)"));
  if (anchors.empty())
    return ReportError(
        InvalidArgumentError("name the anchor file: --anchors PATH (or --audit-anchors / ALMANAC_AUDIT_ANCHORS)"));
  auto key = store::AuditSigningKey::Load(key_path);
  if (!key.ok()) return ReportError(key.status());
  auto ws = Workspace::Open(g.workspace);
  if (!ws.ok()) return ReportError(ws.status());
  auto r = store::AppendAuditAnchors((*ws)->store(), **key, anchors);
  if (!r.ok()) return ReportError(r.status());
  PrintRecord(std::cout,
              {{"anchored", r->lines > 0 ? std::to_string(r->from_seq) + ".." + std::to_string(r->head_seq)
                                         : std::string("nothing new")},
               {"lines", r->lines},
               {"head", r->head_seq},
               {"head_hash", r->head_hash},
               {"anchors", anchors},
               {"key", (*key)->fingerprint()}},
              g.format);
  return kExitOk;
}

int RunAuditKeygen(const GlobalOptions& g, const std::string& out) {
  auto files = store::GenerateAuditKey(out);
  if (!files.ok()) return ReportError(files.status());
  PrintRecord(std::cout,
              {{"private_key", files->private_key}, {"public_key", files->public_key}, {"fingerprint", files->fingerprint}},
              g.format);
  if (!g.quiet)
    std::cerr << "Keep " << files->private_key << " where only the anchoring account can read it (not beside the "
              << "database); give " << files->public_key << " to whoever verifies (docs/operations.md).\n";
  return kExitOk;
}

}  // namespace almanac::cli
