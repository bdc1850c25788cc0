// Who runs a command (cli-internal; docs/operations.md, "Identities").
//
// The CLI acts as the authenticated operating-system user (getpwuid(geteuid())) on a local
// workspace, and as the database role (current_user) on a shared PostgreSQL store; the store
// users table may map that principal to another almanac user name and grant it admin rights.
// --user / ALMANAC_USER may only name the principal's own user, or anyone when the principal is
// an admin; every audit entry then records both (details.authenticated_as).
#pragma once

#include <string>

#include "almanac/core.h"
#include "almanac/store.h"

namespace almanac::cli {

struct Identity {
  std::string principal;  // the OS user or the database role
  std::string via;        // "operating-system user" or "PostgreSQL role"
  std::string own_user;   // whom the principal acts as (its store users row, or itself)
  std::string user;       // whom this command acts as: own_user, or --user for an admin
  bool admin = false;
  // Admin because no store user is an admin yet and the principal owns the store (the OS owner
  // of the SQLite file, or a PostgreSQL superuser / database owner).
  bool admin_by_ownership = false;
};

// The effective user's name: getpwuid(geteuid()), or "uid-N" for a uid without a name.
std::string OperatingSystemUser();

// Resolves the identity on an open store. `sqlite_path` is the SQLite file of a local
// workspace ("" for a shared store). PermissionDenied when `requested` names another user than
// the principal's own and the principal is not an admin.
Result<Identity> ResolveIdentity(store::Store& store, const std::string& sqlite_path, const std::string& requested);

// Grants `principal` (an admin grant when `admin`), acting as `user` ("" = the principal's name),
// or revokes its row; audited as "user.grant" / "user.revoke" by `by`. PermissionDenied unless
// `by` is an admin; FailedPrecondition for revoking or demoting the last admin.
Status GrantStoreUser(store::Store& store, const Identity& by, const std::string& principal, const std::string& user,
                      bool admin);
Status RevokeStoreUser(store::Store& store, const Identity& by, const std::string& principal);

}  // namespace almanac::cli
