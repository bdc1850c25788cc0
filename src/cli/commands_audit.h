// audit commands (cli-internal): verify the hash chain (and the anchors kept outside the store),
// export, list, and the signing keys and anchors of issue 19 (docs/operations.md).
#pragma once

#include <string>

#include "cli/commands.h"

namespace almanac::cli {

struct AuditVerifyArgs {
  std::string expect_head;
  std::string anchors;     // "" : g.audit_anchors ("" too: the in-store chain only)
  std::string public_key;  // "" : the public half of g.audit_key
};
int RunAuditVerify(const GlobalOptions& g, const AuditVerifyArgs& a);
int RunAuditExport(const GlobalOptions& g, const std::string& output);
int RunAuditList(const GlobalOptions& g, int limit);

struct AuditAnchorArgs {
  std::string key;      // "" : g.audit_key
  std::string anchors;  // "" : g.audit_anchors
};
int RunAuditAnchor(const GlobalOptions& g, const AuditAnchorArgs& a);
int RunAuditKeygen(const GlobalOptions& g, const std::string& out);

}  // namespace almanac::cli
