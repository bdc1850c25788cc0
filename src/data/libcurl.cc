#include "data/libcurl.h"

#include <cstdlib>
#include <mutex>

namespace almanac::data {
namespace {

LibCurl g_libcurl;

Status Load() {
  std::vector<std::string> candidates;
  if (const char* path = std::getenv("ALMANAC_LIBCURL"); path != nullptr && *path != '\0')
    candidates.push_back(path);
  else
    candidates.push_back("libcurl.so.4");
  ALMANAC_ASSIGN_OR_RETURN(SharedLibrary lib, SharedLibrary::Open(candidates, "libcurl4"));
  LibCurl loaded;
#define ALMANAC_LIBCURL_RESOLVE(member, function) ALMANAC_RETURN_IF_ERROR(lib.Resolve(#function, &loaded.member));
  ALMANAC_LIBCURL_FUNCTIONS(ALMANAC_LIBCURL_RESOLVE)
#undef ALMANAC_LIBCURL_RESOLVE
  const CURLcode rc = loaded.global_init(CURL_GLOBAL_DEFAULT);
  if (rc != CURLE_OK) return InternalError(std::string("libcurl initialisation failed: ") + loaded.easy_strerror(rc));
  g_libcurl = loaded;
  return Status::Ok();
}

}  // namespace

Result<const LibCurl*> LoadLibCurl() {
  static std::once_flag once;
  static Status status;
  std::call_once(once, [] { status = Load().WithContext("HTTP sources"); });
  if (!status.ok()) return status;
  return &g_libcurl;
}

const LibCurl& Curl() { return g_libcurl; }

}  // namespace almanac::data
