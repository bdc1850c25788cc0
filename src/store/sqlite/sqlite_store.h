// The SQLite back-end (store-internal; created through OpenStore("sqlite:PATH")).
#pragma once

#include <memory>
#include <string>

#include "almanac/store.h"

namespace almanac::store::sqlite {

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& uri, const std::string& path,
                                               const StoreOptions& options);

}  // namespace almanac::store::sqlite
