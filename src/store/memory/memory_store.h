// The in-memory back-end ("memory:"), for tests and throwaway use (store-internal).
#pragma once

#include <memory>
#include <string>

#include "almanac/store.h"

namespace almanac::store::memory {

Result<std::unique_ptr<Store>> OpenMemoryStore(const std::string& uri, const StoreOptions& options);

}  // namespace almanac::store::memory
