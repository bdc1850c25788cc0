#include "cli/identity.h"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

namespace almanac::cli {
namespace {

bool AnyAdmin(const std::vector<store::StoreUserRecord>& users) {
  return std::any_of(users.begin(), users.end(), [](const store::StoreUserRecord& u) { return u.admin; });
}

}  // namespace

std::string OperatingSystemUser() {
  const uid_t uid = ::geteuid();
  std::vector<char> buf(16384);
  struct passwd pw {};
  struct passwd* found = nullptr;
  if (::getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) == 0 && found != nullptr && found->pw_name != nullptr &&
      *found->pw_name != '\0')
    return found->pw_name;
  return "uid-" + std::to_string(uid);
}

Result<Identity> ResolveIdentity(store::Store& store, const std::string& sqlite_path, const std::string& requested) {
  Identity id;
  bool owner = false;
  auto login = sqlite_path.empty() ? store.Login() : Result<store::DatabaseLogin>(store::DatabaseLogin{});
  if (sqlite_path.empty() && login.ok()) {
    id.principal = login->role;
    id.via = "PostgreSQL role";
    owner = login->owner;
  } else if (sqlite_path.empty() && login.status().code() != StatusCode::kUnimplemented) {
    return login.status().WithContext("finding who is logged in to the store");
  } else if (sqlite_path.empty()) {
    // A store without logins or a file (memory:) belongs to the process that opened it.
    id.principal = OperatingSystemUser();
    id.via = "operating-system user";
    owner = true;
  } else {
    id.principal = OperatingSystemUser();
    id.via = "operating-system user";
    struct stat st {};
    owner = ::stat(sqlite_path.c_str(), &st) == 0 && st.st_uid == ::geteuid();
  }
  ALMANAC_ASSIGN_OR_RETURN(auto users, store.metadata().Transact<std::vector<store::StoreUserRecord>>(
                                           [](store::MetadataTxn& t) { return t.ListStoreUsers(); }));
  id.own_user = id.principal;
  for (const auto& u : users) {
    if (u.principal != id.principal) continue;
    id.own_user = u.user;
    id.admin = u.admin;
  }
  if (!id.admin && owner && !AnyAdmin(users)) id.admin = id.admin_by_ownership = true;
  id.user = requested.empty() ? id.own_user : requested;
  if (id.user != id.own_user && !id.admin)
    return PermissionDeniedError("you are " + id.own_user + " (" + id.via + " " + id.principal + "); acting as " +
                                 QuoteForMessage(id.user) +
                                 " (--user / ALMANAC_USER) needs an admin grant of the store (almanac users grant " +
                                 id.principal + " --admin, run by an admin)");
  if (Status s = ValidateName(id.user, "user"); !s.ok())
    return InvalidArgumentError(s.message() + (id.user == id.principal && requested.empty()
                                                   ? " (an admin can map " + id.via + " " + QuoteForMessage(id.principal) +
                                                         " to a user name: almanac users grant PRINCIPAL --as NAME)"
                                                   : ""));
  return id;
}

Status GrantStoreUser(store::Store& store, const Identity& by, const std::string& principal, const std::string& user,
                      bool admin) {
  // Principals are OS user names or database roles, which may hold characters that user names
  // may not (a role "jane@corp"): printable, no blanks, at most 200 characters.
  if (principal.empty() || principal.size() > 200 ||
      std::any_of(principal.begin(), principal.end(), [](char c) { return static_cast<unsigned char>(c) <= ' ' || c == 0x7f; }))
    return InvalidArgumentError("principal " + QuoteForMessage(principal) +
                                ": expected an operating-system user or database role name (1-200 printable characters, "
                                "no blanks)");
  const std::string as = user.empty() ? principal : user;
  ALMANAC_RETURN_IF_ERROR(ValidateName(as, "user"));
  if (!by.admin) return PermissionDeniedError(by.own_user + " is not an admin of this store: only an admin grants users");
  return store.metadata().Run([&](store::MetadataTxn& t) -> Status {
    ALMANAC_ASSIGN_OR_RETURN(auto users, t.ListStoreUsers());
    const bool was_admin = std::any_of(users.begin(), users.end(),
                                       [&](const store::StoreUserRecord& u) { return u.principal == principal && u.admin; });
    const auto admins = std::count_if(users.begin(), users.end(), [](const store::StoreUserRecord& u) { return u.admin; });
    if (was_admin && !admin && admins == 1)
      return FailedPreconditionError(principal + " is the store's last admin: grant another admin first");
    store::StoreUserRecord r{principal, as, admin, by.user, t.clock().NowMicros()};
    // The first admin grant on a store that had none: the granting owner becomes an admin too,
    // so that ownership stops counting once admins are named.
    if (by.admin_by_ownership && by.principal != principal) {
      ALMANAC_RETURN_IF_ERROR(t.PutStoreUser({by.principal, by.own_user, true, by.user, r.granted_at}));
    }
    ALMANAC_RETURN_IF_ERROR(t.PutStoreUser(r));
    return t.Audit({by.user, "user.grant", "store_user", principal, {{"user", as}, {"admin", admin}}}).status();
  });
}

Status RevokeStoreUser(store::Store& store, const Identity& by, const std::string& principal) {
  if (!by.admin) return PermissionDeniedError(by.own_user + " is not an admin of this store: only an admin revokes users");
  return store.metadata().Run([&](store::MetadataTxn& t) -> Status {
    ALMANAC_ASSIGN_OR_RETURN(store::StoreUserRecord r, t.GetStoreUser(principal));
    ALMANAC_ASSIGN_OR_RETURN(auto users, t.ListStoreUsers());
    const auto admins = std::count_if(users.begin(), users.end(), [](const store::StoreUserRecord& u) { return u.admin; });
    if (r.admin && admins == 1) return FailedPreconditionError(principal + " is the store's last admin: grant another admin first");
    ALMANAC_RETURN_IF_ERROR(t.DeleteStoreUser(principal));
    return t.Audit({by.user, "user.revoke", "store_user", principal, {{"user", r.user}, {"admin", r.admin}}}).status();
  });
}

}  // namespace almanac::cli
