// A numbered, forward-only schema migration (store-internal; docs/schema.md). Each back-end
// lists its own with the same numbers and meaning.
#pragma once

#include <string_view>

namespace almanac::store {

struct Migration {
  int version;
  std::string_view description;
  std::string_view sql;
};

}  // namespace almanac::store
