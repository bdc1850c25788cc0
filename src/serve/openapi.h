// The OpenAPI document of the server (serve-internal): docs/openapi.json, embedded at build
// time (src/serve/embed_openapi.cmake), so the binary serves exactly the committed file.
#pragma once

#include <string_view>

namespace almanac::serve {

std::string_view OpenApiDocument();

}  // namespace almanac::serve
