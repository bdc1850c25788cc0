#include "store/postgres/libpq.h"

#include <cstdlib>
#include <mutex>

namespace almanac::store::pg {
namespace {

LibPq g_libpq;

Status Load() {
  std::vector<std::string> candidates;
  if (const char* path = std::getenv("ALMANAC_LIBPQ"); path != nullptr && *path != '\0')
    candidates.push_back(path);
  else
    candidates.push_back("libpq.so.5");
  ALMANAC_ASSIGN_OR_RETURN(SharedLibrary lib, SharedLibrary::Open(candidates, "libpq5"));
  LibPq loaded;
#define ALMANAC_LIBPQ_RESOLVE(name) ALMANAC_RETURN_IF_ERROR(lib.Resolve(#name, &loaded.name));
  ALMANAC_LIBPQ_FUNCTIONS(ALMANAC_LIBPQ_RESOLVE)
#undef ALMANAC_LIBPQ_RESOLVE
  g_libpq = loaded;
  return Status::Ok();
}

}  // namespace

Result<const LibPq*> LoadLibPq() {
  static std::once_flag once;
  static Status status;
  std::call_once(once, [] { status = Load().WithContext("the PostgreSQL store"); });
  if (!status.ok()) return status;
  return &g_libpq;
}

const LibPq& Pq() { return g_libpq; }

}  // namespace almanac::store::pg
