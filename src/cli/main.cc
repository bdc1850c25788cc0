// The almanac command-line entry point: global options, the command named on the command line
// (declared from the table in command_line.cc, the others only by name), usage errors and
// dispatch. Exit codes: 0 ok, 1 user error (bad input, missing object, conflict), 2 usage
// error, 3 internal error.
#include <cstdlib>
#include <iostream>
#include <string_view>

#include <CLI/CLI.hpp>

#include "almanac/version.h"

#include "cli/audit_anchoring.h"
#include "cli/command_line.h"
#include "cli/commands.h"
#include "cli/identity.h"

namespace almanac::cli {
namespace {

// Global options that take a value (short and long names), for finding the command name
// before CLI11 parses: the first argument that is neither an option nor such a value.
bool TakesValue(std::string_view arg) {
  for (std::string_view o :
       {"-w", "--workspace", "--store", "--config", "-f", "--format", "-u", "--user", "--lock-timeout", "--log-format",
        "--audit-key", "--audit-anchors", "--anchor-interval"})
    if (arg == o) return true;
  return false;
}

const CommandDef* FindCommandArg(int argc, char** argv, std::string* name) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--") return nullptr;
    if (!arg.empty() && arg[0] == '-') {
      if (TakesValue(arg)) ++i;
      continue;
    }
    *name = std::string(arg);
    for (const CommandDef& c : Commands())
      if (arg == c.name) return &c;
    return nullptr;
  }
  return nullptr;
}

std::vector<std::string> Names(const std::vector<CLI::App*>& apps) {
  std::vector<std::string> out;
  for (const CLI::App* a : apps) out.push_back(a->get_name());
  return out;
}

// The deepest command that was given on the command line ("almanac series show" -> show).
CLI::App* DeepestParsed(CLI::App* app) {
  for (CLI::App* sub : app->get_subcommands())
    if (sub->parsed()) return DeepestParsed(sub);
  return app;
}

std::string CommandPath(CLI::App* app) {
  std::string path;
  for (CLI::App* a = app; a != nullptr; a = a->get_parent()) path = a->get_name() + (path.empty() ? "" : " ") + path;
  return path;
}

// The names of every option of `app` and its parents ("--as-of", "-f", ...).
std::vector<std::string> OptionNames(CLI::App* app) {
  std::vector<std::string> out;
  for (CLI::App* a = app; a != nullptr; a = a->get_parent())
    for (const CLI::Option* o : a->get_options()) {
      for (const auto& l : o->get_lnames()) out.push_back("--" + l);
      for (const auto& s : o->get_snames()) out.push_back("-" + s);
    }
  return out;
}

// The first argument after `app`'s own name that is not an option: what the user typed as
// its subcommand ("" when none).
std::string ArgAfter(CLI::App* app, int argc, char** argv) {
  for (int i = 1; i + 1 < argc; ++i)
    if (app->get_name() == argv[i] && argv[i + 1][0] != '-') return argv[i + 1];
  return "";
}

// Prints a CLI11 parse error in almanac's form, with a did-you-mean where one helps.
int UsageError(CLI::App& app, const CLI::ParseError& e, int argc, char** argv) {
  CLI::App* at = DeepestParsed(&app);
  const std::string path = CommandPath(at);
  std::string message = e.what();
  const std::vector<std::string> subs = Names(at->get_subcommands({}));
  auto unknown_subcommand = [&](const std::string& typed) {
    message = "'" + path + "' has no subcommand '" + typed + "'";
    if (std::string hint = DidYouMean(typed, subs); !hint.empty()) message += " (did you mean '" + hint + "'?)";
    message += "; subcommands: " + JoinList(subs);
  };
  if (dynamic_cast<const CLI::RequiredError*>(&e) != nullptr && !subs.empty()) {
    if (std::string typed = ArgAfter(at, argc, argv); !typed.empty())
      unknown_subcommand(typed);
    else
      message = "'" + path + "' needs a subcommand: " + JoinList(subs);
  } else if (dynamic_cast<const CLI::RequiredError*>(&e) != nullptr && message.ends_with(" is required")) {
    const std::string what = message.substr(0, message.size() - std::string_view(" is required").size());
    message =
        "'" + path + "' is missing " + (what.starts_with("-") ? "the option " + what : "its argument <" + what + ">");
  } else if (dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr) {
    // The first argument CLI11 did not take: an unknown option or subcommand.
    std::string extra;
    for (int i = argc - 1; i >= 1; --i)
      if (message.find(argv[i]) != std::string::npos) extra = argv[i];
    if (!extra.empty() && extra[0] == '-') {
      const std::string flag = extra.substr(0, extra.find('='));
      message = "'" + path + "' has no option " + flag;
      if (std::string hint = DidYouMean(flag, OptionNames(at)); !hint.empty())
        message += " (did you mean " + hint + "?)";
    } else if (!extra.empty() && !subs.empty()) {
      unknown_subcommand(extra);
    }
  }
  std::cerr << "almanac: error: " << message << "\nRun '" << path << " --help' for usage.\n";
  return kExitUsage;
}

int Main(int argc, char** argv) {
  CLI::App app{"almanac: reproducible macroeconomic forecasting, from data vintages to served projections"};
  app.name("almanac");
  app.set_version_flag("--version", std::string(ALMANAC_VERSION) + " (" + ALMANAC_GIT_COMMIT + ")");
  app.require_subcommand(1);
  app.fallthrough();

  GlobalOptions g;
  g.workspace.path = "almanac-workspace";
  std::string format = "table";
  double lock_timeout_s = 0;
  app.add_option("-w,--workspace", g.workspace.path, "Workspace folder (default ./almanac-workspace)")
      ->envname("ALMANAC_WORKSPACE");
  app.add_option("--store", g.workspace.store_uri,
                 "Store URI: sqlite:PATH (overrides the workspace database) or postgresql://USER@HOST/DB (a shared "
                 "store; no workspace folder)")
      ->envname("ALMANAC_STORE");
  // ALMANAC_CONFIG names the file when --config is not given (then it must exist).
  const char* config_env = std::getenv("ALMANAC_CONFIG");
  app.set_config("--config", config_env != nullptr ? config_env : "",
                 "Read global options (store, workspace, user, ...) from a TOML/INI file (or $ALMANAC_CONFIG)",
                 config_env != nullptr && *config_env != 0);
  app.add_option("-f,--format", format, "Output format: table, json or csv")
      ->check(CLI::IsMember({"table", "json", "csv"}));
  app.add_option("-u,--user", g.workspace.user,
                 "Act as this user (default: you, the operating-system user or database role; another user needs "
                 "an admin grant, and the audit log records both)")
      ->envname("ALMANAC_USER");
  app.add_option("--lock-timeout", lock_timeout_s, "Seconds to wait for another writer to finish (default 0)");
  app.add_flag("-q,--quiet", g.quiet, "Print only results, no progress or summaries");
  app.add_option("--log-format", g.log_format,
                 "Logs of serve and scheduler: text (default, stderr) or json (ECS, one object per line on stdout)")
      ->check(CLI::IsMember({"text", "json"}))
      ->envname("ALMANAC_LOG_FORMAT");
  app.add_option("--audit-key", g.audit_key,
                 "Ed25519 private key (PEM, mode 0600) that signs audit anchors; with --audit-anchors, every "
                 "command that writes appends one (docs/operations.md)")
      ->envname("ALMANAC_AUDIT_KEY");
  app.add_option("--audit-anchors", g.audit_anchors,
                 "Append-only file of signed audit anchors, kept away from the database (docs/operations.md)")
      ->envname("ALMANAC_AUDIT_ANCHORS");
  app.add_option("--anchor-interval", g.anchor_interval_s,
                 "Seconds between audit anchors of serve, scheduler and worker (default 10)")
      ->envname("ALMANAC_ANCHOR_INTERVAL");

  // Only the command on the command line declares its options; the others are listed by name.
  std::string name;
  const CommandDef* chosen = FindCommandArg(argc, argv, &name);
  if (chosen == nullptr && !name.empty()) {
    std::vector<std::string> names;
    for (const CommandDef& c : Commands()) names.emplace_back(c.name);
    std::cerr << "almanac: error: unknown command '" << name << "'";
    if (std::string hint = DidYouMean(name, names); !hint.empty()) std::cerr << " (did you mean '" << hint << "'?)";
    std::cerr << "\nRun 'almanac --help' for the list of commands.\n";
    return kExitUsage;
  }
  Runner run;
  for (const CommandDef& c : Commands()) {
    CLI::App* cmd = app.add_subcommand(c.name, c.help);
    if (&c == chosen) run = c.define(*cmd, g);
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    if (chosen == nullptr && dynamic_cast<const CLI::RequiredError*>(&e) != nullptr) {
      // No command at all: the list of commands, then the error.
      std::cerr << app.help() << "almanac: error: missing command\n";
      return kExitUsage;
    }
    return UsageError(app, e, argc, argv);
  }
  g.format = *ParseOutputFormat(format);
  g.workspace.lock_timeout_ms = static_cast<int>(lock_timeout_s * 1000);
  g.user = g.workspace.user.empty() ? OperatingSystemUser() : g.workspace.user;
  g.workspace.resolved_user = &g.user;
  if (!(g.anchor_interval_s > 0) || g.anchor_interval_s > 86400) {
    std::cerr << "almanac: error: --anchor-interval must be more than 0 and at most 86400 seconds, not "
              << FormatDouble(g.anchor_interval_s) << "\n";
    return kExitUsage;
  }
  // Workspaces opened by the command anchor its writes when they close (audit_anchoring.h).
  AuditAnchoring anchoring(g.audit_key, g.audit_anchors);
  g.workspace.anchoring = &anchoring;

  int code = kExitOk;
  try {
    code = run();
  } catch (const std::exception& e) {
    std::cerr << "almanac: internal error: " << e.what() << "\n";
    return kExitInternal;
  }
  // A command that succeeded but whose writes could not be anchored fails (the message said why).
  if (const Status anchored = anchoring.failure(); code == kExitOk && !anchored.ok())
    code = anchored.code() == StatusCode::kDataLoss ? kExitInternal : kExitUser;
  return code;
}

}  // namespace
}  // namespace almanac::cli

int main(int argc, char** argv) { return almanac::cli::Main(argc, argv); }
