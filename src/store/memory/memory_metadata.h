// The metadata store of the in-memory back-end (store-internal).
#pragma once

#include <memory>

#include "almanac/store.h"
#include "store/memory/memory_state.h"

namespace almanac::store::memory {

// A metadata store over `shared` (which must outlive it): each transaction works on a copy
// of the state and swaps it in when the callback succeeds.
std::unique_ptr<MetadataStore> NewMemoryMetadataStore(Shared& shared, const Clock& clock);

}  // namespace almanac::store::memory
