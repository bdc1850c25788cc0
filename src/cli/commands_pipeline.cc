// run, validate and reproduce commands, and the environment the pipeline, registry, scheduler
// and queue commands open.
#include "cli/commands_pipeline.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>

#include "almanac/pipeline.h"
#include "almanac/tracking.h"

namespace almanac::cli {

Result<std::unique_ptr<Env>> OpenEnv(const GlobalOptions& g, bool write) {
  auto env = std::make_unique<Env>();
  ALMANAC_ASSIGN_OR_RETURN(env->ws, Workspace::Open(g.workspace));
  if (write) ALMANAC_RETURN_IF_ERROR(env->ws->LockForWrite());
  ALMANAC_ASSIGN_OR_RETURN(env->artifacts, store::OpenArtifactStore(env->ws->artifacts_uri()));
  models::RegisterBuiltinModels(env->models);
  return env;
}

namespace {

// The commit of the git repository holding `file`, or "" when it is not in one.
std::string GitCommitOf(const std::string& file) {
  std::error_code ec;
  const auto dir = std::filesystem::absolute(file, ec).parent_path();
  const std::string cmd = "git -C '" + dir.string() + "' rev-parse HEAD 2>/dev/null";
  if (dir.string().find('\'') != std::string::npos) return "";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return "";
  char buf[128] = {0};
  std::string out;
  if (std::fgets(buf, sizeof(buf), p) != nullptr) out = std::string(Trim(buf));
  ::pclose(p);
  if (!IsSha256Hex(out) && out.size() != 40) return "";
  // Mark uncommitted changes to the pipeline file.
  const std::string status_cmd = "git -C '" + dir.string() + "' status --porcelain -- '" +
                                 std::filesystem::absolute(file, ec).string() + "' 2>/dev/null";
  if (FILE* s = ::popen(status_cmd.c_str(), "r")) {
    if (std::fgets(buf, sizeof(buf), s) != nullptr) out += "-dirty";
    ::pclose(s);
  }
  return out;
}

}  // namespace

int RunPipelines(const GlobalOptions& g, const RunArgs& a);

// Long-running writers (run, reproduce, scheduler) do not hold the workspace lock: SQLite
// serializes their short transactions with other writers.
int RunPipeline(const GlobalOptions& g, const RunArgs& a) {
  if (a.files.size() != 1 || !a.shard.empty() || std::getenv("JOB_COMPLETION_INDEX") != nullptr) return RunPipelines(g, a);
  auto env = OpenEnv(g, false);
  if (!env.ok()) return ReportError(env.status());
  const std::string& file = a.files[0];
  auto spec = pipeline::LoadPipelineFile(file, (*env)->models);
  if (!spec.ok()) return ReportError(spec.status());
  // No overlapping runs of one pipeline (the scheduler takes the same lock).
  auto lock = (*env)->ws->LockPipeline(spec->name);
  if (!lock.ok()) return ReportError(lock.status());
  pipeline::RunOptions opts;
  opts.user = g.user;
  opts.force = a.force;
  opts.git_commit = GitCommitOf(file);
  if (!g.quiet) opts.progress = [](const std::string& line) { std::cerr << line << "\n"; };
  pipeline::Environment e = (*env)->env();
  e.threads = a.threads;
  pipeline::Runner runner(e);
  auto r = runner.Run(*spec, opts);
  if (!r.ok()) return ReportError(r.status());
  Table t{{"step", "result", "seconds", "summary"}, {}};
  for (const auto& s : r->steps) t.Add({s.step, s.cached ? "cached" : "done", s.seconds, s.summary});
  if (g.format == OutputFormat::kJson) {
    Json steps = Json::array();
    for (const auto& s : r->steps)
      steps.push_back({{"step", s.step}, {"cached", s.cached}, {"seconds", s.seconds}, {"summary", s.summary}, {"cache_key", s.cache_key}});
    Json metrics = Json::object();
    for (const auto& [k, v] : r->metrics) metrics[k] = v;
    std::cout << PrettyJson({{"run_id", r->run_id}, {"snapshot_id", r->snapshot_id}, {"selected", r->selected},
                             {"metrics", metrics}, {"steps", steps}, {"message", r->message},
                             {"registered", r->registered ? Json(r->registered->model + "@" + std::to_string(r->registered->version)) : Json(nullptr)}})
              << "\n";
    return kExitOk;
  }
  Print(std::cout, t, g.format);
  if (g.format == OutputFormat::kTable) {
    std::cout << "\nrun " << r->run_id << (r->selected.empty() ? std::string(": no forecasting model") : ": selected " + r->selected);
    if (!r->message.empty()) std::cout << "; " << r->message;
    std::cout << "\n";
  }
  return kExitOk;
}

// Several pipelines, or one shard of them (--shard I/N, or JOB_COMPLETION_INDEX with
// ALMANAC_SHARD_COUNT in a Kubernetes Indexed Job): every file is checked first; a pipeline
// belongs to shard ShardOf(its series) so N processes on N hosts split a large series set
// without talking to each other. One failed pipeline does not stop the others (exit 1 at the end).
int RunPipelines(const GlobalOptions& g, const RunArgs& a) {
  pipeline::Shard shard;
  if (!a.shard.empty()) {
    auto s = pipeline::ParseShard(a.shard);
    if (!s.ok()) return ReportError(s.status().WithContext("--shard"));
    shard = *s;
  } else {
    auto s = pipeline::ShardFromEnvironment();
    if (!s.ok()) return ReportError(s.status());
    if (*s) shard = **s;
  }
  auto env = OpenEnv(g, false);
  if (!env.ok()) return ReportError(env.status());
  std::vector<std::pair<std::string, pipeline::PipelineSpec>> mine;
  for (const auto& f : a.files) {
    auto spec = pipeline::LoadPipelineFile(f, (*env)->models);
    if (!spec.ok()) return ReportError(spec.status());
    if (pipeline::ShardOf(pipeline::ShardKey(*spec), shard.count) == shard.index) mine.emplace_back(f, std::move(*spec));
  }
  if (!g.quiet)
    std::cerr << "shard " << shard.index << "/" << shard.count << ": " << mine.size() << " of " << a.files.size()
              << " pipeline(s)\n";
  pipeline::Environment e = (*env)->env();
  e.threads = a.threads;
  pipeline::Runner runner(e);
  Table t{{"pipeline", "series", "run", "status", "message"}, {}};
  int failed = 0;
  for (size_t i = 0; i < mine.size(); ++i) {
    const auto& [file, spec] = mine[i];
    auto lock = (*env)->ws->LockPipeline(spec.name);
    if (!lock.ok()) {
      ++failed;
      t.Add({spec.name, pipeline::ShardKey(spec), "", "skipped", lock.status().message()});
      continue;
    }
    pipeline::RunOptions opts;
    opts.user = g.user;
    opts.force = a.force;
    opts.git_commit = GitCommitOf(file);
    if (!g.quiet)
      opts.progress = [&, i](const std::string& line) {
        std::cerr << "[" << i + 1 << "/" << mine.size() << " " << spec.name << "] " << line << "\n";
      };
    auto r = runner.Run(spec, opts);
    if (!r.ok()) {
      ++failed;
      t.Add({spec.name, pipeline::ShardKey(spec), "", "failed", r.status().message()});
      continue;
    }
    t.Add({spec.name, pipeline::ShardKey(spec), r->run_id, "finished", r->message});
  }
  Print(std::cout, t, g.format);
  if (failed > 0) {
    std::cerr << "almanac: error: " << failed << " of " << mine.size() << " pipeline(s) failed\n";
    return kExitUser;
  }
  return kExitOk;
}

int RunValidatePipeline(const GlobalOptions& g, const std::vector<std::string>& files) {
  models::ForecasterRegistry models;
  models::RegisterBuiltinModels(models);
  int rc = kExitOk;
  for (const auto& f : files) {
    auto spec = pipeline::LoadPipelineFile(f, models);
    if (!spec.ok()) {
      rc = ReportError(spec.status());
      continue;
    }
    if (!g.quiet) std::cout << f << ": ok (pipeline " << spec->name << ", " << spec->candidates.size() << " candidate(s))\n";
  }
  return rc;
}

int RunReproduce(const GlobalOptions& g, const std::string& run_id) {
  auto env = OpenEnv(g, false);
  if (!env.ok()) return ReportError(env.status());
  pipeline::RunOptions opts;
  opts.user = g.user;
  if (!g.quiet) opts.progress = [](const std::string& line) { std::cerr << line << "\n"; };
  auto r = pipeline::Reproduce((*env)->env(), run_id, opts);
  if (!r.ok()) return ReportError(r.status());
  Table t{{"artifact", "identical", "original_sha256", "reproduced_sha256", "why"}, {}};
  for (const auto& c : r->artifacts)
    t.Add({c.name, c.identical, g.format == OutputFormat::kTable ? ShortId(c.original_sha256) : c.original_sha256,
           g.format == OutputFormat::kTable ? ShortId(c.reproduced_sha256) : c.reproduced_sha256, c.why});
  Print(std::cout, t, g.format);
  if (g.format == OutputFormat::kTable)
    std::cout << "\nrun " << r->new_run << " reproduced " << r->original_run << ": "
              << (r->identical ? "every artifact is byte-identical" : "SOME ARTIFACTS DIFFER") << "\n";
  if (!r->identical) {
    std::cerr << "almanac: error: reproduction of " << run_id << " is not byte-identical\n";
    return kExitUser;
  }
  return kExitOk;
}

}  // namespace almanac::cli
