// libcurl, opened on first use (data-internal). The almanac binary does not link libcurl: a
// command that fetches nothing does not load it and its ~30 dependencies
// (include/almanac/core/shared_library.h says why). http_client.cc calls libcurl through Curl().
#pragma once

#include <curl/curl.h>

#include "almanac/core.h"

namespace almanac::data {

// The libcurl functions almanac uses, as (member, function). Members drop the curl_ prefix:
// curl.h defines curl_easy_setopt and curl_easy_getinfo as type-checking macros under GCC.
#define ALMANAC_LIBCURL_FUNCTIONS(X)                                                                         \
  X(global_init, curl_global_init)                                                                           \
  X(easy_init, curl_easy_init) X(easy_cleanup, curl_easy_cleanup) X(easy_reset, curl_easy_reset)             \
      X(easy_setopt, curl_easy_setopt) X(easy_perform, curl_easy_perform) X(easy_getinfo, curl_easy_getinfo) \
          X(easy_strerror, curl_easy_strerror) X(slist_append, curl_slist_append)                            \
              X(slist_free_all, curl_slist_free_all) X(getdate, curl_getdate)

struct LibCurl {
#define ALMANAC_LIBCURL_MEMBER(member, function) decltype(&::function) member = nullptr;
  ALMANAC_LIBCURL_FUNCTIONS(ALMANAC_LIBCURL_MEMBER)
#undef ALMANAC_LIBCURL_MEMBER
};

// Opens libcurl and runs its global initialisation, once per process (thread-safe; later calls
// return the first outcome): the file named by $ALMANAC_LIBCURL when set, else libcurl.so.4.
// FailedPrecondition naming the library and the package to install when it cannot be loaded,
// Internal when its initialisation fails.
Result<const LibCurl*> LoadLibCurl();

// The opened library. Only after LoadLibCurl() succeeded (HttpClient::Create calls it).
const LibCurl& Curl();

}  // namespace almanac::data
