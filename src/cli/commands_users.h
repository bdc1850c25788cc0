// almanac users, almanac whoami (cli-internal): who may use the store and as whom
// (cli/identity.h, docs/operations.md "Identities").
#pragma once

#include <string>

#include "cli/commands.h"

namespace almanac::cli {

struct UsersArgs {
  std::string principal;
  std::string user;
  bool admin = false;
};
int RunUsersList(const GlobalOptions& g);
int RunUsersGrant(const GlobalOptions& g, const UsersArgs& a);
int RunUsersRevoke(const GlobalOptions& g, const std::string& principal);
int RunWhoami(const GlobalOptions& g);

}  // namespace almanac::cli
