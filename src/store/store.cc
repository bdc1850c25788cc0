// The back-end factory: the only place that knows the concrete store classes.
#include "almanac/store.h"

#include "store/memory/memory_store.h"
#include "store/sqlite/migrations.h"
#include "store/sqlite/sqlite_store.h"
#ifdef ALMANAC_WITH_POSTGRES
#include "store/postgres/pg_store.h"
#endif

namespace almanac::store {

bool IsPostgresUri(std::string_view uri) {
  return uri.rfind("postgresql://", 0) == 0 || uri.rfind("postgres://", 0) == 0;
}

int CurrentSchemaVersion() { return sqlite::Migrations().back().version; }

Result<std::unique_ptr<Store>> OpenStore(std::string_view uri, const StoreOptions& options_in) {
  StoreOptions options = options_in;
  if (options.clock == nullptr) options.clock = &SystemClock();
  const std::string u(uri);
  if (u.rfind("sqlite:", 0) == 0) {
    std::string path = u.substr(7);
    if (path.rfind("//", 0) == 0) path = path.substr(2);  // sqlite:///abs/path
    return sqlite::OpenSqliteStore(u, path, options);
  }
  if (u == "memory:" || u.rfind("memory:", 0) == 0) return memory::OpenMemoryStore(u, options);
  if (IsPostgresUri(u)) {
#ifdef ALMANAC_WITH_POSTGRES
    return pg::OpenPostgresStore(u, options);
#else
    return UnimplementedError("this almanac was built without the PostgreSQL back-end (install libpq-dev and rebuild)");
#endif
  }
  return InvalidArgumentError("unknown store URI " + QuoteForMessage(uri) +
                              ": expected sqlite:PATH, postgresql://... or memory:");
}

}  // namespace almanac::store

#ifndef ALMANAC_WITH_POSTGRES
namespace almanac::store {
Result<CopyReport> CopySqliteToPostgres(const std::string&, const std::string&, const std::string&,
                                        const std::function<void(const std::string&)>&) {
  return UnimplementedError("this almanac was built without the PostgreSQL back-end (install libpq-dev and rebuild)");
}
}  // namespace almanac::store
#endif
