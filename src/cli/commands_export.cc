// almanac export argo|airflow: pipelines as Argo Workflows / CronWorkflows and Airflow DAGs.
//
// The orchestrator only decides when and where `almanac run` runs; almanac keeps vintages,
// cache, tracking, registry and audit in the store (ALMANAC_STORE). What is carried over from
// each pipeline file: its schedule (cron text and `timezone:`), `catchup:`, `max_retries:`
// (with the scheduler's backoff: 30 s, doubled), and the files' exact bytes (embedded, so the
// runs hash the same source as `almanac run` on the files would). Pipelines that share a
// schedule become one definition that fans out into --shards parallel `almanac run --shard I/N`.
#include "cli/commands_export.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <system_error>

#include "almanac/models.h"
#include "almanac/pipeline.h"

namespace almanac::cli {
namespace {

using OJson = nlohmann::ordered_json;

// ------------------------------------------------------------------ a small YAML writer
// Block-style YAML of a JSON value: plain scalars where YAML reads them back as the same
// string, literal blocks for multi-line text, JSON double-quoted strings otherwise (valid YAML).

bool PlainSafe(const std::string& s) {
  if (s.empty()) return false;
  if (!std::isalpha(static_cast<unsigned char>(s[0])) && s[0] != '/') return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '/' && c != '-') return false;
  }
  std::string lower = s;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  static const char* const kWords[] = {"true", "false", "null", "yes", "no", "on", "off", "y", "n"};
  for (const char* w : kWords) {
    if (lower == w) return false;
  }
  return true;
}

// A literal block keeps text byte for byte when it has no carriage returns or other control
// characters but newlines and tabs, and its first line does not start with a space.
bool LiteralSafe(const std::string& s) {
  if (s.find('\n') == std::string::npos || s[0] == ' ' || s[0] == '\n') return false;
  for (unsigned char c : s) {
    if (c < 0x20 && c != '\n' && c != '\t') return false;
    if (c == 0x7f) return false;
  }
  return true;
}

std::string Scalar(const OJson& v) {
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    return PlainSafe(s) ? s : v.dump();
  }
  return v.dump();
}

void EmitYaml(const OJson& v, int indent, std::string& out);

void EmitValueAfterKey(const OJson& v, int indent, std::string& out) {
  if (v.is_string() && LiteralSafe(v.get_ref<const std::string&>())) {
    const auto& s = v.get_ref<const std::string&>();
    size_t trailing = 0;
    while (trailing < s.size() && s[s.size() - 1 - trailing] == '\n') ++trailing;
    out += trailing == 0 ? " |-\n" : trailing == 1 ? " |\n" : " |+\n";
    const std::string pad(static_cast<size_t>(indent + 2), ' ');
    size_t start = 0;
    const std::string body = s.substr(0, s.size() - trailing);
    while (start <= body.size()) {
      size_t end = body.find('\n', start);
      if (end == std::string::npos) end = body.size();
      if (end > start) out += pad + body.substr(start, end - start);
      out += "\n";
      start = end + 1;
    }
    for (size_t i = 1; i < trailing; ++i) out += "\n";
    return;
  }
  if (v.is_object() && !v.empty()) {
    out += "\n";
    EmitYaml(v, indent + 2, out);
  } else if (v.is_array() && !v.empty()) {
    out += "\n";
    EmitYaml(v, indent + 2, out);
  } else if (v.is_object()) {
    out += " {}\n";
  } else if (v.is_array()) {
    out += " []\n";
  } else {
    out += " " + Scalar(v) + "\n";
  }
}

void EmitYaml(const OJson& v, int indent, std::string& out) {
  const std::string pad(static_cast<size_t>(indent), ' ');
  if (v.is_object()) {
    for (const auto& [k, item] : v.items()) {
      out += pad + (PlainSafe(k) ? k : OJson(k).dump()) + ":";
      EmitValueAfterKey(item, indent, out);
    }
  } else if (v.is_array()) {
    for (const auto& item : v) {
      if ((item.is_object() || item.is_array()) && !item.empty()) {
        // "- " then the item's first line; the rest of it indented under the dash.
        std::string inner;
        EmitYaml(item, indent + 2, inner);
        out += pad + "- " + inner.substr(static_cast<size_t>(indent + 2));
      } else {
        out += pad + "-";
        EmitValueAfterKey(item, indent, out);
      }
    }
  } else {
    out += pad + Scalar(v) + "\n";
  }
}

// ------------------------------------------------------------------ pipelines and groups

struct Loaded {
  pipeline::PipelineSpec spec;
  std::string file_name;  // inside the container / run directory
};

struct Group {
  std::string name;  // of the workflow / DAG (DNS-1123: lowercase letters, digits, '-')
  std::optional<std::string> schedule, zone;
  bool catchup = false;
  bool on_new_data = false;
  int retries = 0;
  int shards = 1;
  std::vector<const Loaded*> pipelines;
};

std::string DnsName(std::string_view text, size_t max) {
  std::string out;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u)) {
      out += static_cast<char>(std::tolower(u));
    } else if (!out.empty() && out.back() != '-') {
      out += '-';
    }
  }
  if (out.size() > max) out.resize(max);
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out.empty() ? "almanac" : out;
}

std::string SafeFileName(const std::string& path) {
  std::string base = std::filesystem::path(path).filename().string();
  for (char& c : base) {
    const auto u = static_cast<unsigned char>(c);
    if (!std::isalnum(u) && c != '.' && c != '_' && c != '-') c = '_';
  }
  if (base.empty() || base[0] == '.') base = "p" + base;
  return base;
}

Result<std::vector<Loaded>> LoadAll(const std::vector<std::string>& files) {
  if (files.empty()) return InvalidArgumentError("name at least one pipeline file");
  models::ForecasterRegistry models;
  models::RegisterBuiltinModels(models);
  std::vector<Loaded> out;
  std::map<std::string, std::string> by_name, by_file;
  for (const auto& f : files) {
    ALMANAC_ASSIGN_OR_RETURN(pipeline::PipelineSpec spec, pipeline::LoadPipelineFile(f, models));
    if (auto [it, fresh] = by_name.emplace(spec.name, f); !fresh)
      return InvalidArgumentError("pipeline '" + spec.name + "' is given twice (" + it->second + " and " + f +
                                  "): each exported run needs distinct pipelines");
    std::string file_name = SafeFileName(f);
    if (auto [it, fresh] = by_file.emplace(file_name, f); !fresh)
      return InvalidArgumentError(f + " and " + it->second + " have the same file name '" + file_name +
                                  "'; rename one (the exported run puts them in one folder)");
    out.push_back({std::move(spec), std::move(file_name)});
  }
  return out;
}

// Groups in the order of their first pipeline on the command line.
std::vector<Group> GroupBySchedule(const std::vector<Loaded>& pipelines, int shards) {
  std::vector<Group> groups;
  std::map<std::string, size_t> index;
  for (const auto& p : pipelines) {
    std::string key = "manual";
    if (p.spec.schedule) key = p.spec.schedule->text() + "|" + p.spec.schedule->zone().name() + (p.spec.catchup ? "|catchup" : "");
    else if (p.spec.trigger == pipeline::Trigger::kOnNewData) key = "on_new_data";
    auto [it, fresh] = index.emplace(key, groups.size());
    if (fresh) {
      Group g;
      if (p.spec.schedule) {
        g.schedule = p.spec.schedule->text();
        g.zone = p.spec.schedule->zone().name();
        g.catchup = p.spec.catchup;
      }
      g.on_new_data = !p.spec.schedule && p.spec.trigger == pipeline::Trigger::kOnNewData;
      groups.push_back(std::move(g));
    }
    Group& g = groups[it->second];
    g.pipelines.push_back(&p);
    g.retries = std::max(g.retries, p.spec.max_retries);
  }
  for (Group& g : groups) {
    g.shards = std::max(1, std::min(shards, static_cast<int>(g.pipelines.size())));
    // One pipeline: its name. Several: the first one's, with how many more.
    std::string base = g.pipelines.front()->spec.name;
    if (g.pipelines.size() > 1) base += "-and-" + std::to_string(g.pipelines.size() - 1) + "-more";
    g.name = DnsName(base, 52);  // CronWorkflow names: at most 52 characters
  }
  // Names are unique: a clash (two groups whose first pipelines differ only in punctuation)
  // gets the group's position appended.
  std::map<std::string, int> seen;
  for (size_t i = 0; i < groups.size(); ++i) {
    if (seen[groups[i].name]++ > 0) groups[i].name = DnsName(groups[i].name, 46) + "-" + std::to_string(i);
  }
  return groups;
}

std::string PipelineList(const Group& g) {
  std::string names;
  for (const Loaded* p : g.pipelines) names += (names.empty() ? "" : ",") + p->spec.name;
  return names;
}

// ------------------------------------------------------------------ Argo

OJson ArgoDocument(const Group& g, const ExportOrchestratorArgs& a) {
  const std::string shard_param = "{{inputs.parameters.shard}}";
  OJson artifacts = OJson::array();
  OJson args = OJson::array({"run"});
  for (const Loaded* p : g.pipelines) {
    artifacts.push_back({{"name", DnsName(p->spec.name, 63)},
                         {"path", "/pipelines/" + p->file_name},
                         {"raw", {{"data", p->spec.source_bytes}}}});
    args.push_back("/pipelines/" + p->file_name);
  }
  OJson run_template = {{"name", "almanac-run"}};
  if (g.shards > 1) {
    args.push_back("--shard");
    args.push_back(shard_param + "/" + std::to_string(g.shards));
    run_template["inputs"] = {{"parameters", OJson::array({{{"name", "shard"}}})}, {"artifacts", artifacts}};
  } else {
    run_template["inputs"] = {{"artifacts", artifacts}};
  }
  // max_retries of the pipelines, with the scheduler's backoff (30 s, doubled per attempt).
  run_template["retryStrategy"] = {{"limit", std::to_string(g.retries)},
                                   {"retryPolicy", "Always"},
                                   {"backoff", {{"duration", "30s"}, {"factor", "2"}}}};
  run_template["container"] = {
      {"name", "main"},
      {"image", a.image},
      {"command", OJson::array({"almanac"})},
      {"args", args},
      {"env", OJson::array({{{"name", "ALMANAC_STORE"},
                             {"valueFrom", {{"secretKeyRef", {{"name", a.store_secret}, {"key", "url"}}}}}},
                            {{"name", "ALMANAC_LOG_FORMAT"}, {"value", "json"}}})},
      {"resources", {{"requests", {{"cpu", "1"}, {"memory", "512Mi"}}}, {"limits", {{"memory", "2Gi"}}}}},
      {"securityContext",
       {{"runAsNonRoot", true},
        {"allowPrivilegeEscalation", false},
        {"readOnlyRootFilesystem", true},
        {"capabilities", {{"drop", OJson::array({"ALL"})}}}}}};

  OJson templates = OJson::array();
  std::string entrypoint = "almanac-run";
  if (g.shards > 1) {
    entrypoint = "shards";
    templates.push_back(
        {{"name", "shards"},
         {"dag", {{"tasks", OJson::array({{{"name", "shard"},
                                          {"template", "almanac-run"},
                                          {"arguments", {{"parameters", OJson::array({{{"name", "shard"}, {"value", "{{item}}"}}})}}},
                                          {"withSequence", {{"count", std::to_string(g.shards)}}}}})}}}});
  }
  templates.push_back(run_template);

  OJson workflow_spec = {{"entrypoint", entrypoint},
                         {"securityContext", {{"runAsNonRoot", true}, {"runAsUser", 10001}, {"runAsGroup", 10001}}},
                         {"templates", templates}};

  OJson metadata = OJson::object();
  const OJson labels = {{"app.kubernetes.io/name", "almanac"}, {"app.kubernetes.io/component", "pipeline"}};
  OJson annotations = {{"almanac.io/pipelines", PipelineList(g)}};
  if (g.on_new_data)
    annotations["almanac.io/trigger"] =
        "on_new_data: submit this Workflow from the load that brings new data (Argo Events), or keep the almanac "
        "scheduler for these pipelines";
  OJson doc = {{"apiVersion", "argoproj.io/v1alpha1"}};
  if (g.schedule) {
    doc["kind"] = "CronWorkflow";
    metadata["name"] = g.name;
  } else {
    doc["kind"] = "Workflow";
    metadata["generateName"] = g.name + "-";
  }
  if (!a.namespace_.empty()) metadata["namespace"] = a.namespace_;
  metadata["labels"] = labels;
  metadata["annotations"] = annotations;
  doc["metadata"] = metadata;
  if (g.schedule) {
    // `schedules` (a list) since Argo 3.6; the single `schedule` field is deprecated.
    OJson spec = {{"schedules", OJson::array({*g.schedule})}, {"timezone", *g.zone}, {"concurrencyPolicy", "Forbid"}};
    // catchup: a fire missed while the controller was down still runs (Argo runs the latest
    // missed one; almanac backfill makes up a longer gap, one run per fire).
    if (g.catchup) spec["startingDeadlineSeconds"] = 86400;
    spec["successfulJobsHistoryLimit"] = 3;
    spec["failedJobsHistoryLimit"] = 3;
    spec["workflowSpec"] = workflow_spec;
    doc["spec"] = spec;
  } else {
    doc["spec"] = workflow_spec;
  }
  return doc;
}

std::string SourcesComment(const std::vector<std::string>& files, std::string_view prefix) {
  std::string out = std::string(prefix) + " Generated by `almanac export` from:";
  for (const auto& f : files) out += " " + f;
  out += "\n";
  out += std::string(prefix) + " Regenerate it when a pipeline file changes (the files' bytes are embedded).\n";
  return out;
}

// ------------------------------------------------------------------ Airflow

std::string PyString(const std::string& s) { return OJson(s).dump(); }  // a JSON string is a Python literal

std::string AirflowDag(const Group& g, size_t index, const ExportOrchestratorArgs& a, const Date& today) {
  std::ostringstream py;
  const std::string var = "dag_" + std::to_string(index);
  py << "\n# Pipelines: " << PipelineList(g) << "\n";
  if (g.on_new_data)
    py << "# trigger: on_new_data: no schedule here; trigger this DAG from the DAG that loads the data\n";
  py << "PIPELINES_" << index << " = [\n";
  for (const Loaded* p : g.pipelines) py << "    (" << PyString(p->file_name) << ", " << PyString(p->spec.source_bytes) << "),\n";
  py << "]\n";
  py << var << " = DAG(\n"
     << "    dag_id=" << PyString(g.name) << ",\n"
     << "    description=" << PyString("almanac pipelines: " + PipelineList(g)) << ",\n"
     << "    schedule=" << (g.schedule ? PyString(*g.schedule) : "None") << ",\n"
     << "    start_date=pendulum.datetime(" << today.year() << ", " << today.month() << ", " << today.day()
     << ", tz=" << PyString(g.zone ? *g.zone : "UTC") << "),\n"
     << "    catchup=" << (g.catchup ? "True" : "False") << ",\n"
     << "    max_active_runs=1,\n"
     << "    default_args={\n"
     << "        \"retries\": " << g.retries << ",\n"
     << "        \"retry_delay\": pendulum.duration(seconds=30),\n"
     << "        \"retry_exponential_backoff\": True,\n"
     << "    },\n"
     << "    tags=[\"almanac\"],\n"
     << ")\n";
  py << "for _shard in range(" << g.shards << "):\n"
     << "    BashOperator(\n"
     << "        task_id=" << (g.shards > 1 ? "\"run_shard_%d_of_" + std::to_string(g.shards) + "\" % _shard" : "\"run\"")
     << ",\n"
     << "        bash_command=_command(PIPELINES_" << index << ", _shard, " << g.shards << "),\n"
     << "        env=_pipeline_env(PIPELINES_" << index << "),\n"
     << "        append_env=True,\n"
     << "        dag=" << var << ",\n"
     << "    )\n";
  (void)a;
  return py.str();
}

std::string AirflowFile(const std::vector<std::string>& files, const std::vector<Group>& groups,
                        const ExportOrchestratorArgs& a) {
  const Date today = SystemClock().Today();
  std::ostringstream py;
  py << SourcesComment(files, "#")
     << "# Each DAG runs `almanac run` on the Airflow workers: the binary ALMANAC_BIN, the store in the\n"
        "# workers' ALMANAC_STORE environment (append_env). almanac keeps vintages, cache, tracking,\n"
        "# registry and audit; Airflow decides when. docs/deploy.md, \"Airflow\".\n"
        "import base64\n\n"
        "import pendulum\n"
        "from airflow import DAG\n"
        "from airflow.operators.bash import BashOperator\n\n"
     << "ALMANAC_BIN = " << PyString(a.binary) << "\n\n\n"
     << "def _pipeline_env(pipelines):\n"
        "    # The files' bytes travel base64-encoded in the environment (no Jinja braces to escape).\n"
        "    return {\n"
        "        \"ALMANAC_PIPELINE_%d\" % i: base64.b64encode(text.encode(\"utf-8\")).decode(\"ascii\")\n"
        "        for i, (_, text) in enumerate(pipelines)\n"
        "    }\n\n\n"
        "def _command(pipelines, shard, shards):\n"
        "    lines = [\"set -eu\", \"d=$(mktemp -d)\", \"trap 'rm -rf \\\"$d\\\"' EXIT\"]\n"
        "    for i, (name, _) in enumerate(pipelines):\n"
        "        lines.append('printf %s \"$ALMANAC_PIPELINE_%d\" | base64 -d > \"$d/%s\"' % (\"%s\", i, name))\n"
        "    paths = \" \".join('\"$d/%s\"' % name for name, _ in pipelines)\n"
        "    shard_arg = \" --shard %d/%d\" % (shard, shards) if shards > 1 else \"\"\n"
        "    lines.append('\"%s\" run %s%s' % (ALMANAC_BIN, paths, shard_arg))\n"
        "    return \"\\n\".join(lines) + \"\\n\"\n";
  for (size_t i = 0; i < groups.size(); ++i) py << "\n" << AirflowDag(groups[i], i, a, today);
  return py.str();
}

Status WriteOutput(const std::string& output, const std::string& text) {
  if (output == "-") {
    std::cout << text;
    std::cout.flush();
    return std::cout ? Status::Ok() : InternalError("cannot write to standard output");
  }
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(output, ec)) return InvalidArgumentError("--output " + output + " is a directory; name a file");
  const fs::path parent = fs::path(output).parent_path();
  if (!parent.empty() && !fs::is_directory(parent, ec))
    return NotFoundError("--output " + output + ": folder " + parent.string() + " does not exist");
  // Written next to the target and renamed, so a reader never sees half a file.
  const std::string tmp = output + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return InvalidArgumentError("--output " + output + ": cannot create " + tmp + " (permissions?)");
    out << text;
    out.close();
    if (!out) {
      fs::remove(tmp, ec);
      return InternalError("--output " + output + ": writing " + tmp + " failed (disk full?)");
    }
  }
  fs::rename(tmp, output, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return InvalidArgumentError("--output " + output + ": cannot replace it: " + ec.message());
  }
  return Status::Ok();
}

Status CheckArgs(const ExportOrchestratorArgs& a) {
  if (a.shards < 1) return InvalidArgumentError("--shards must be at least 1 (got " + std::to_string(a.shards) + ")");
  return Status::Ok();
}

}  // namespace

Result<std::string> ExportArgo(const std::vector<std::string>& files, const ExportOrchestratorArgs& a) {
  ALMANAC_RETURN_IF_ERROR(CheckArgs(a));
  if (a.image.empty()) return InvalidArgumentError("--image must not be empty");
  ALMANAC_ASSIGN_OR_RETURN(std::vector<Loaded> pipelines, LoadAll(files));
  const std::vector<Group> groups = GroupBySchedule(pipelines, a.shards);
  std::string out = SourcesComment(files, "#");
  for (const Group& g : groups) {
    out += "---\n";
    EmitYaml(ArgoDocument(g, a), 0, out);
  }
  return out;
}

Result<std::string> ExportAirflow(const std::vector<std::string>& files, const ExportOrchestratorArgs& a) {
  ALMANAC_RETURN_IF_ERROR(CheckArgs(a));
  if (a.binary.empty()) return InvalidArgumentError("--binary must not be empty");
  ALMANAC_ASSIGN_OR_RETURN(std::vector<Loaded> pipelines, LoadAll(files));
  return AirflowFile(files, GroupBySchedule(pipelines, a.shards), a);
}

int RunExportArgo(const GlobalOptions& g, const ExportOrchestratorArgs& a) {
  (void)g;
  auto text = ExportArgo(a.files, a);
  if (!text.ok()) return ReportError(text.status());
  if (Status s = WriteOutput(a.output, *text); !s.ok()) return ReportError(s);
  return kExitOk;
}

int RunExportAirflow(const GlobalOptions& g, const ExportOrchestratorArgs& a) {
  (void)g;
  auto text = ExportAirflow(a.files, a);
  if (!text.ok()) return ReportError(text.status());
  if (Status s = WriteOutput(a.output, *text); !s.ok()) return ReportError(s);
  return kExitOk;
}

}  // namespace almanac::cli
