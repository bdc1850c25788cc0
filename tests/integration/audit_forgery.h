// What someone who can write the database does to hide an edit of the audit log (issue 19):
// change one entry, then recompute its hash and every later entry's prev_hash and hash, and
// the head, with the store's own AuditEntryHash, so that VerifyAuditChain passes again. The
// caller writes the rows back with its back-end's SQL.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "almanac/store.h"

namespace almanac::testing {

struct ForgedAuditLog {
  std::vector<store::AuditEntry> rewritten;  // the edited entry and every later one
  std::string head_hash;
};

inline Result<ForgedAuditLog> ForgeAuditEntry(store::MetadataStore& metadata, int64_t seq,
                                              const std::function<void(store::AuditEntry&)>& edit) {
  ALMANAC_ASSIGN_OR_RETURN(std::vector<store::AuditEntry> entries, metadata.ReadAudit(1, 0));
  ForgedAuditLog out;
  std::string prev(64, '0');
  for (store::AuditEntry& e : entries) {
    if (e.seq < seq) {
      prev = e.hash;
      continue;
    }
    if (e.seq == seq) edit(e);
    e.prev_hash = prev;
    ALMANAC_ASSIGN_OR_RETURN(e.hash, store::AuditEntryHash(e));
    prev = e.hash;
    out.rewritten.push_back(e);
  }
  out.head_hash = prev;
  return out;
}

}  // namespace almanac::testing
