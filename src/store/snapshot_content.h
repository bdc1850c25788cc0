// The canonical content of a snapshot (store-internal, shared by every back-end).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "almanac/core/json.h"
#include "almanac/store.h"

namespace almanac::store {

// {"format":"almanac-snapshot","format_version":1,"series":[{"key":..,"frequency":"Q",
//  "observations":[["1959Q1",2710.349],["1959Q2",null],...]},...]} with series sorted by key.
Result<Json> SnapshotContent(const std::vector<SnapshotSeries>& series);
// Parses content written by SnapshotContent (DataLoss when malformed).
Result<std::vector<SnapshotSeries>> ParseSnapshotContent(const Json& content);

}  // namespace almanac::store

namespace almanac::store {

// Everything a back-end needs to store a snapshot: the resolved series, canonical content
// bytes and id. Reads through `store` (each series as of the requested date); validates the
// name and keys. NotFound for an unknown key; InvalidArgument for a bad name or no series.
struct ResolvedSnapshot {
  std::string id;
  std::string content;  // canonical JSON bytes
  int64_t num_series = 0;
  int64_t num_observations = 0;
};
Result<ResolvedSnapshot> ResolveSnapshot(SeriesStore& store, const SnapshotRequest& request);

// The record of a new snapshot and its audit event (the same on every back-end).
SnapshotInfo NewSnapshotInfo(const ResolvedSnapshot& r, const SnapshotRequest& request, int64_t now);
AuditEvent SnapshotAuditEvent(const SnapshotInfo& info);

// Rebuilds a Snapshot from stored bytes, verifying that they hash to `info.id` (DataLoss
// otherwise).
Result<Snapshot> DecodeSnapshot(SnapshotInfo info, std::string_view content);

}  // namespace almanac::store
