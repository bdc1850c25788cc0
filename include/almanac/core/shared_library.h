// File: almanac/core/shared_library.h
//
// A shared library opened on first use (dlopen), for the client libraries that only some
// commands need. libpq (the PostgreSQL store) and libcurl (the connectors) pull in about 25
// further libraries (Kerberos, LDAP, GnuTLS, ...) whose loading and relocation took 6 ms of
// every almanac start; opened when first needed, a command that uses neither does not pay.
//
//   ALMANAC_ASSIGN_OR_RETURN(SharedLibrary lib, SharedLibrary::Open({"libpq.so.5"}, "libpq5"));
//   ALMANAC_ASSIGN_OR_RETURN(auto* exec, lib.Function<decltype(&PQexec)>("PQexec"));
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "almanac/core/status.h"

namespace almanac {

class SharedLibrary {
 public:
  // Opens the first of `candidates` (file names searched as dlopen does, or paths) that loads,
  // with every symbol resolved at once. FailedPrecondition naming each candidate with the
  // loader's reason and `package` (what to install) when none loads.
  // The library stays loaded until the process ends (copies share it): the functions taken
  // from it may be kept anywhere. Thread-safe.
  static Result<SharedLibrary> Open(const std::vector<std::string>& candidates, std::string_view package);

  // The address of the symbol `name`; FailedPrecondition when the library lacks it (an older
  // version than almanac needs).
  Result<void*> Symbol(const char* name) const;
  template <typename Fn>
  Result<Fn> Function(const char* name) const {
    ALMANAC_ASSIGN_OR_RETURN(void* p, Symbol(name));
    return reinterpret_cast<Fn>(p);
  }
  // Sets *out to the function `name`, as Function() (for tables of functions).
  template <typename Fn>
  Status Resolve(const char* name, Fn* out) const {
    ALMANAC_ASSIGN_OR_RETURN(*out, Function<Fn>(name));
    return Status::Ok();
  }

  // The candidate that was loaded.
  const std::string& name() const { return name_; }

 private:
  SharedLibrary(void* handle, std::string name) : handle_(handle), name_(std::move(name)) {}

  void* handle_;
  std::string name_;
};

}  // namespace almanac
