// serve and tokens commands (cli-internal).
#pragma once

#include <string>

#include "cli/commands.h"

namespace almanac::cli {

struct ServeArgs {
  std::string listen = "127.0.0.1:8080";
  int threads = 0;  // 0: one per core
  int workers = 2;
  double poll_seconds = 2.0;
  bool no_auth = false;
  std::string tls_cert, tls_key;
  std::string policy = "production";
  int64_t max_body_bytes = 1 << 20;
  int header_timeout_ms = 10000;
  int read_timeout_ms = 30000;
  int idle_timeout_ms = 60000;
  int max_connections = 1024;
  int max_connections_per_address = -1;  // -1: a quarter of max_connections (docs/serving.md)
  double rate_limit = 0;
  int rate_burst = 0;
  int trusted_proxies = 0;
  int log_repeat_limit = 10;
  int max_queue = 64;
  int64_t cache_entries = 4096;
  double shutdown_timeout_s = 10;
  std::string ui_dir;  // the built web console (docs/ui.md); "": $ALMANAC_UI_DIR or beside the binary
};
int RunServe(const GlobalOptions& g, const ServeArgs& a);

struct TokenCreateArgs {
  std::string role;
  std::string user;
  std::string description;
  std::string expires;  // a duration ("90d") or a date/timestamp; "" = never
};
int RunTokensCreate(const GlobalOptions& g, const TokenCreateArgs& a);
int RunTokensList(const GlobalOptions& g);
int RunTokensRevoke(const GlobalOptions& g, const std::string& id);
int RunTokensRotate(const GlobalOptions& g, const std::string& id, const std::string& grace);

}  // namespace almanac::cli
