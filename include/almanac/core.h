// File: almanac/core.h
//
// The core component: error handling (Status/Result), calendar periods and frequencies,
// the TimeSeries value type, SHA-256 hashing, clocks, thread pools and text helpers.
// Every other component depends on it; it depends on nothing else in almanac.
//
// JSON and canonical serialization live in almanac/core/json.h, which is not included here
// to keep compile times down (include it where JSON is used).
#pragma once

#include "almanac/core/clock.h"
#include "almanac/core/format.h"
#include "almanac/core/hash.h"
#include "almanac/core/period.h"
#include "almanac/core/shared_library.h"
#include "almanac/core/status.h"
#include "almanac/core/thread_pool.h"
#include "almanac/core/time_series.h"
