// libpq, opened on first use (store-internal). The almanac binary does not link libpq: a
// command that never touches a PostgreSQL store does not load it and its ~20 dependencies
// (include/almanac/core/shared_library.h says why). Everything in store/postgres calls libpq
// through Pq().
#pragma once

#include <libpq-fe.h>

#include "almanac/core.h"

namespace almanac::store::pg {

// The libpq functions almanac uses.
#define ALMANAC_LIBPQ_FUNCTIONS(X)                                                                                    \
  X(PQclear)                                                                                                          \
  X(PQcmdTuples) X(PQconnectdbParams) X(PQconsumeInput) X(PQerrorMessage) X(PQexec) X(PQexecPrepared) X(PQfinish)     \
      X(PQfreemem) X(PQgetResult) X(PQgetisnull) X(PQgetlength) X(PQgetvalue) X(PQnotifies) X(PQntuples) X(PQprepare) \
          X(PQputCopyData) X(PQputCopyEnd) X(PQresultErrorField) X(PQresultErrorMessage) X(PQresultStatus)            \
              X(PQsetNoticeProcessor) X(PQsocket) X(PQstatus) X(PQtransactionStatus) X(PQunescapeBytea)

struct LibPq {
#define ALMANAC_LIBPQ_MEMBER(name) decltype(&::name) name = nullptr;
  ALMANAC_LIBPQ_FUNCTIONS(ALMANAC_LIBPQ_MEMBER)
#undef ALMANAC_LIBPQ_MEMBER
};

// Opens libpq once per process (thread-safe; later calls return the first outcome): the file
// named by $ALMANAC_LIBPQ when set (a libpq outside the loader's path, e.g. PGDG's), else
// libpq.so.5. FailedPrecondition naming the library and the package to install when it cannot
// be loaded or lacks a function.
Result<const LibPq*> LoadLibPq();

// The opened library. Only after LoadLibPq() succeeded (Conn::Connect calls it before any
// other libpq use).
const LibPq& Pq();

}  // namespace almanac::store::pg
