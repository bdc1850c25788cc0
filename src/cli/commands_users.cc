#include "cli/commands_users.h"

#include <iostream>

#include "cli/output.h"
#include "cli/workspace.h"

namespace almanac::cli {

int RunUsersList(const GlobalOptions& g) {
  auto ws = Workspace::Open(g.workspace);
  if (!ws.ok()) return ReportError(ws.status());
  auto users = (*ws)->store().metadata().Transact<std::vector<store::StoreUserRecord>>(
      [](store::MetadataTxn& t) { return t.ListStoreUsers(); });
  if (!users.ok()) return ReportError(users.status());
  Table t{{"principal", "user", "admin", "granted_by", "granted_at"}, {}};
  for (const auto& u : *users) t.Add({u.principal, u.user, u.admin ? "yes" : "no", u.granted_by, Ts(u.granted_at)});
  Print(std::cout, t, g.format);
  return kExitOk;
}

int RunUsersGrant(const GlobalOptions& g, const UsersArgs& a) {
  auto ws = Workspace::Open(g.workspace);
  if (!ws.ok()) return ReportError(ws.status());
  if (Status s = (*ws)->LockForWrite(); !s.ok()) return ReportError(s);
  if (Status s = GrantStoreUser((*ws)->store(), (*ws)->identity(), a.principal, a.user, a.admin); !s.ok())
    return ReportError(s);
  if (!g.quiet)
    std::cout << a.principal << " acts as " << (a.user.empty() ? a.principal : a.user) << (a.admin ? ", admin" : "")
              << "\n";
  return kExitOk;
}

int RunUsersRevoke(const GlobalOptions& g, const std::string& principal) {
  auto ws = Workspace::Open(g.workspace);
  if (!ws.ok()) return ReportError(ws.status());
  if (Status s = (*ws)->LockForWrite(); !s.ok()) return ReportError(s);
  if (Status s = RevokeStoreUser((*ws)->store(), (*ws)->identity(), principal); !s.ok()) return ReportError(s);
  if (!g.quiet) std::cout << "revoked " << principal << " (it now acts as itself, without admin rights)\n";
  return kExitOk;
}

int RunWhoami(const GlobalOptions& g) {
  auto ws = Workspace::Open(g.workspace);
  if (!ws.ok()) return ReportError(ws.status());
  const Identity& id = (*ws)->identity();
  const std::string admin = id.admin_by_ownership ? "yes (owner of a store without admins)" : id.admin ? "yes" : "no";
  if (g.format == OutputFormat::kJson) {
    std::cout << PrettyJson({{"user", id.user},
                             {"own_user", id.own_user},
                             {"principal", id.principal},
                             {"authenticated_by", id.via},
                             {"admin", id.admin}})
              << "\n";
    return kExitOk;
  }
  Table t{{"user", "own_user", "principal", "authenticated_by", "admin"}, {}};
  t.Add({id.user, id.own_user, id.principal, id.via, admin});
  Print(std::cout, t, g.format);
  return kExitOk;
}

}  // namespace almanac::cli
