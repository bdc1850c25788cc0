#include "almanac/core/json.h"

#include <cmath>

#include "almanac/core/hash.h"

namespace almanac {
namespace {

Status CheckFinite(const Json& v, std::string& path) {
  switch (v.type()) {
    case Json::value_t::number_float:
      if (!std::isfinite(v.get<double>()))
        return InvalidArgumentError("value at " + (path.empty() ? std::string("/") : path) +
                                    " is NaN or infinite and has no canonical JSON form");
      return Status::Ok();
    case Json::value_t::array: {
      size_t n = path.size();
      for (size_t i = 0; i < v.size(); ++i) {
        path += "/" + std::to_string(i);
        ALMANAC_RETURN_IF_ERROR(CheckFinite(v[i], path));
        path.resize(n);
      }
      return Status::Ok();
    }
    case Json::value_t::object: {
      size_t n = path.size();
      for (auto it = v.begin(); it != v.end(); ++it) {
        path += "/" + it.key();
        ALMANAC_RETURN_IF_ERROR(CheckFinite(it.value(), path));
        path.resize(n);
      }
      return Status::Ok();
    }
    default: return Status::Ok();
  }
}

}  // namespace

Result<std::string> CanonicalJson(const Json& value) {
  std::string path;
  ALMANAC_RETURN_IF_ERROR(CheckFinite(value, path));
  try {
    // nlohmann::json keeps object keys in a std::map (sorted by byte order) and prints
    // doubles in their shortest round-trip form, which is exactly the canonical form.
    return value.dump(-1, ' ', false, Json::error_handler_t::strict);
  } catch (const Json::exception& e) {
    return InvalidArgumentError(std::string("cannot serialize JSON: ") + e.what());
  }
}

Result<std::string> ContentId(const Json& value) {
  ALMANAC_ASSIGN_OR_RETURN(std::string bytes, CanonicalJson(value));
  return Sha256Hex(bytes);
}

namespace {

// nlohmann's messages start with "[json.exception.parse_error.101] ": an implementation
// detail that users (and API clients) should not see. Keep only the explanation.
std::string WithoutLibraryPrefix(const char* what) {
  std::string_view s(what);
  if (s.starts_with("[json.exception.")) {
    const size_t end = s.find("] ");
    if (end != std::string_view::npos) s.remove_prefix(end + 2);
  }
  return std::string(s);
}

}  // namespace

Result<Json> ParseJson(std::string_view text) {
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& e) {
    return InvalidArgumentError(std::string("invalid JSON at byte ") + std::to_string(e.byte) + ": " +
                                WithoutLibraryPrefix(e.what()));
  } catch (const Json::exception& e) {
    return InvalidArgumentError(std::string("invalid JSON: ") + WithoutLibraryPrefix(e.what()));
  }
}

std::string PrettyJson(const Json& value) { return value.dump(2, ' ', false, Json::error_handler_t::replace); }
std::string CompactJson(const Json& value) { return value.dump(-1, ' ', false, Json::error_handler_t::replace); }

}  // namespace almanac
