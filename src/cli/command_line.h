// The command table of the almanac CLI (cli-internal): one row per top-level command, with its
// name, one line of help and the function that declares its options and subcommands (CLI11)
// and returns what runs it. main.cc declares only the command named on the command line, so
// a command does not pay for declaring the others (docs/cli.md, "Start-up time").
//
// To add a command: write its Run function (commands_*.cc), a Define function beside the
// others in command_line.cc, and one row in Commands().
#pragma once

#include <functional>
#include <span>

#include "cli/commands.h"

namespace CLI {
class App;
}

namespace almanac::cli {

// Runs a parsed command; returns the process exit code (commands.h: kExit*).
using Runner = std::function<int()>;

struct CommandDef {
  const char* name;
  const char* help;
  // Declares the command's options and subcommands on `cmd`; the returned Runner reads them
  // (and `g`) after a successful parse. `cmd` and `g` outlive the Runner.
  Runner (*define)(CLI::App& cmd, GlobalOptions& g);
};

// Every top-level command, in the order `almanac --help` lists them.
std::span<const CommandDef> Commands();

}  // namespace almanac::cli
