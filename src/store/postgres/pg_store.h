// The PostgreSQL back-end (store-internal; created through OpenStore("postgresql://...") and
// OpenArtifactStore("postgresql://...")).
#pragma once

#include <memory>
#include <string>

#include "almanac/store.h"
#include "store/postgres/pg_conn.h"

namespace almanac::store::pg {

Result<std::unique_ptr<Store>> OpenPostgresStore(const std::string& uri, const StoreOptions& options);

// Artifacts as 1 MiB bytea chunks in the same database (a multi-host setup then needs no
// shared file system). Runs the migrations first.
Result<std::unique_ptr<ArtifactStore>> OpenPostgresArtifactStore(const std::string& uri);

// Appends an audit entry. IMPORTANT: call inside an open transaction on `conn`; it locks the
// chain's head row until that transaction ends.
Result<AuditEntry> AppendAudit(Conn& conn, const Clock& clock, const AuditEvent& event);

// Applies pending migrations under an advisory lock (several processes may start at once).
// FailedPrecondition for a database holding other tables or a newer schema; NotFound when
// the database has no almanac schema and !create_if_missing.
Status Migrate(Conn& conn, bool create_if_missing);

// The advisory-lock key space of almanac (first argument of the two-key lock functions).
inline constexpr int kAdvisoryLockSpace = 0x616c6d;  // "alm"
inline constexpr int kLockMigrate = 1;
inline constexpr int kLockLoad = 2;
inline constexpr int kLockNamed = 3;  // Store::TryLock (second key: hashtext(name))

}  // namespace almanac::store::pg
