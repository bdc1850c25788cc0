// Test helper: whether this binary is built with AddressSanitizer (the `asan` preset, which
// scripts/test.sh runs after the `ci` group). The heaviest fits in the unit tests then run at a
// smaller size: the same code paths under the sanitizers, at a fraction of the time, while the
// `ci` group keeps the full size (docs/benchmarks.md, "The levers").
//
//   options.max_iterations = almanac::testing::SanitizerSize(5, 2);
#pragma once

namespace almanac::testing {

#if defined(__SANITIZE_ADDRESS__)  // GCC
inline constexpr bool kSanitizerBuild = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)  // Clang
inline constexpr bool kSanitizerBuild = true;
#else
inline constexpr bool kSanitizerBuild = false;
#endif
#else
inline constexpr bool kSanitizerBuild = false;
#endif

// `full` in an ordinary build, `small` under the sanitizers.
template <typename T>
constexpr T SanitizerSize(T full, T small) {
  return kSanitizerBuild ? small : full;
}

}  // namespace almanac::testing
