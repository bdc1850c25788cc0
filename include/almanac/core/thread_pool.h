// File: almanac/core/thread_pool.h
//
// Data-parallel loops over a fixed number of threads. Work items are independent and write
// their results by index, so results never depend on the thread count.
//
//   std::vector<Result<Fit>> fits(series.size(), InternalError("not run"));
//   ParallelFor(series.size(), threads, [&](size_t i) { fits[i] = FitOne(series[i]); });
#pragma once

#include <cstddef>
#include <functional>

namespace almanac {

// Number of hardware threads (at least 1).
int HardwareThreads();

// Calls fn(i) for every i in [0, n) on up to `threads` threads (<= 0: HardwareThreads()).
// Items are handed out dynamically one at a time. Blocks until all calls return.
// IMPORTANT: fn must not throw; an escaping exception terminates the process.
void ParallelFor(size_t n, int threads, const std::function<void(size_t)>& fn);

}  // namespace almanac
