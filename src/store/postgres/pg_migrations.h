// Numbered, forward-only schema migrations of the PostgreSQL back-end (docs/schema.md).
#pragma once

#include <vector>

#include "store/migration.h"

namespace almanac::store::pg {

// All migrations in version order. Never edit a released migration: add a new one.
const std::vector<Migration>& Migrations();

}  // namespace almanac::store::pg
