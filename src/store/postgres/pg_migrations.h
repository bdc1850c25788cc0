// Numbered, forward-only schema migrations of the PostgreSQL back-end (docs/schema.md).
#pragma once

#include <string_view>
#include <vector>

namespace almanac::store::pg {

struct Migration {
  int version;
  std::string_view description;
  std::string_view sql;
};

// All migrations in version order. Never edit a released migration: add a new one.
const std::vector<Migration>& Migrations();

}  // namespace almanac::store::pg
