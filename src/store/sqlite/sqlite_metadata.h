// The SQLite metadata store (tracking, registry, audit) and the audit append used by every
// SQLite write (store-internal).
#pragma once

#include <memory>
#include <string>

#include "almanac/store.h"
#include "store/sqlite/sqlite_util.h"

namespace almanac::store::sqlite {

// Appends an audit entry. IMPORTANT: call inside an open write transaction on `db`.
Result<AuditEntry> AppendAudit(sqlite3* db, const Clock& clock, const AuditEvent& event);

std::unique_ptr<MetadataStore> NewSqliteMetadataStore(Db db, const Clock& clock);

}  // namespace almanac::store::sqlite
