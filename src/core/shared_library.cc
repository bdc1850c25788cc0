#include "almanac/core/shared_library.h"

#include <dlfcn.h>

namespace almanac {

Result<SharedLibrary> SharedLibrary::Open(const std::vector<std::string>& candidates, std::string_view package) {
  std::string reasons;
  for (const std::string& name : candidates) {
    // RTLD_NOW: a missing symbol shows here, not as a crash in the middle of a command.
    if (void* h = ::dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL); h != nullptr) return SharedLibrary(h, name);
    const char* why = ::dlerror();
    reasons += (reasons.empty() ? "" : "; ") + std::string(why != nullptr ? why : name + ": cannot be loaded");
  }
  return FailedPreconditionError("cannot load " + std::string(candidates.empty() ? "a library" : candidates.front()) +
                                 " (install the Debian package " + std::string(package) + "): " + reasons);
}

Result<void*> SharedLibrary::Symbol(const char* name) const {
  ::dlerror();
  void* p = ::dlsym(handle_, name);
  if (p == nullptr) {
    const char* why = ::dlerror();
    return FailedPreconditionError(name_ + " has no " + name + " (too old a version?)" +
                                   (why != nullptr ? std::string(": ") + why : std::string()));
  }
  return p;
}

}  // namespace almanac
