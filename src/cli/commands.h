// Command implementations (cli-internal). main.cc parses arguments with CLI11 and calls these
// with plain structs, so CLI11 is compiled once.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "almanac/core.h"
#include "cli/arguments.h"
#include "cli/output.h"
#include "cli/workspace.h"

namespace almanac::cli {

// Exit codes (docs/cli.md): 0 ok, 1 user error, 2 usage, 3 internal error.
inline constexpr int kExitOk = 0;
inline constexpr int kExitUser = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitInternal = 3;

struct GlobalOptions {
  WorkspaceOptions workspace;
  OutputFormat format = OutputFormat::kTable;
  // Whom the command acts as (the audit actor): --user, else the operating-system user until a
  // workspace opens, which resolves and checks it (cli/identity.h) and writes it here.
  std::string user;
  bool quiet = false;
  // Logs of long-running processes (serve, scheduler): "text" on stderr or "json" (ECS, one
  // object per line) on stdout.
  std::string log_format = "text";
  // Anchoring of the audit log (docs/operations.md): the Ed25519 signing key and the anchor
  // file (--audit-key / ALMANAC_AUDIT_KEY, --audit-anchors / ALMANAC_AUDIT_ANCHORS; both given:
  // every write is anchored), and how often serve, scheduler and worker anchor.
  std::string audit_key;
  std::string audit_anchors;
  double anchor_interval_s = 10;
};

// Prints "almanac: error: ..." and returns the exit code for the status.
int ReportError(const Status& status);

// The first 12 characters of a content id or hash, as tables show them.
std::string ShortId(const std::string& id);
// Model parameters: `base`, then the keys of --params JSON (an object; `example` shows one in
// the error), then each --param KEY=VALUE (VALUE as JSON when it parses, else as a string).
Result<Json> MergeModelParams(Json base, const std::string& params_json, const std::vector<std::string>& params,
                              std::string_view example);

int RunInit(const GlobalOptions& g);

// almanac migrate --from WORKSPACE|sqlite:PATH --to postgresql://...
struct MigrateArgs {
  std::string from;
  std::string to;
};
int RunMigrate(const GlobalOptions& g, const MigrateArgs& a);

struct IngestArgs {
  std::vector<std::string> files;
  std::string format = "auto";
  std::string series;
  std::string frequency;
  std::string title, unit, seasonal_adjustment, source;
  std::string metadata_file;
  std::string realtime_start;
  bool any_day = false;
  // How the file is written (data::ParseDelimiter & co.).
  std::string delimiter = "auto";
  std::string decimal = ".";
  std::string thousands = "none";
  // --follow: NDJSON records from FILE (tail -f) or '-' until EOF/SIGTERM, in batches.
  bool follow = false;
  int batch_lines = 1000;
  int flush_ms = 1000;
};
int RunIngest(const GlobalOptions& g, const IngestArgs& a);
int RunIngestFollow(const GlobalOptions& g, const IngestArgs& a);

// almanac load CONFIG [--source NAME]... [--since DATE] [--force] (docs/connectors.md).
struct LoadArgs {
  std::string config;
  std::vector<std::string> sources;
  std::string since;
  bool force = false;
  bool no_quarantine = false;
};
int RunLoad(const GlobalOptions& g, const LoadArgs& a);

struct QuarantineArgs {
  int64_t id = 0;
  bool all = false;  // list: also released and dropped entries
  std::string reason;
  bool force = false;
};
int RunQuarantineList(const GlobalOptions& g, const QuarantineArgs& a);
int RunQuarantineShow(const GlobalOptions& g, const QuarantineArgs& a);
int RunQuarantineRelease(const GlobalOptions& g, const QuarantineArgs& a);
int RunQuarantineDrop(const GlobalOptions& g, const QuarantineArgs& a);

int RunSeriesList(const GlobalOptions& g);
// almanac series show KEY [--as-of DATE] [--wide | --vintages] [-o FILE] [--xlsx]
struct SeriesShowArgs {
  std::string key, as_of, output;
  bool wide = false;      // date,period,KEY (docs/clients.md)
  bool vintages = false;  // periods x vintages, ALFRED style
  bool xlsx = false;      // an .xlsx workbook (also when the output file is named *.xlsx)
};
int RunSeriesShow(const GlobalOptions& g, const SeriesShowArgs& a);
int RunSeriesVintages(const GlobalOptions& g, const std::string& key);
int RunSeriesHistory(const GlobalOptions& g, const std::string& key, const std::string& period);

struct SnapshotCreateArgs {
  std::string name;
  std::vector<std::string> series;
  std::string as_of;
};
int RunSnapshotCreate(const GlobalOptions& g, const SnapshotCreateArgs& a);
int RunSnapshotList(const GlobalOptions& g);
int RunSnapshotShow(const GlobalOptions& g, const std::string& id);
// almanac snapshot export ID [-o FILE] [--wide] [--xlsx]
struct SnapshotExportArgs {
  std::string id, output;
  bool wide = false;  // periods x series instead of series,period,value
  bool xlsx = false;  // an .xlsx workbook (also when the output file is named *.xlsx)
};
int RunSnapshotExport(const GlobalOptions& g, const SnapshotExportArgs& a);
int RunSnapshotDiff(const GlobalOptions& g, const std::string& a, const std::string& b);

}  // namespace almanac::cli

namespace almanac::cli {

struct ForecastArgs {
  std::string series;      // key in the workspace, or in --input
  std::string input;       // a CSV file (any ingest form): forecast without a workspace
  std::string model = "auto_ets";
  int horizon = models::kDefaultHorizon;
  std::vector<double> levels{80, 95};
  std::string as_of;
  std::vector<std::string> params;  // key=value (value parsed as JSON, else a string)
  std::string params_json;          // a JSON object
  std::string frequency;            // for --input files whose frequency cannot be inferred
  int threads = 0;
};
int RunForecast(const GlobalOptions& g, const ForecastArgs& a);
int RunModelTypes(const GlobalOptions& g);

}  // namespace almanac::cli
