// almanac backfill: runs (or queues) a pipeline once per fire of its schedule in a date range,
// each with data.as_of = the fire's local date.
#include "cli/commands_backfill.h"

#include <algorithm>
#include <iostream>
#include <optional>
#include <thread>

#include "almanac/pipeline.h"
#include "cli/commands_pipeline.h"

namespace almanac::cli {

int RunBackfillCommand(const GlobalOptions& g, const BackfillArgs& a) {
  // --to follows the as-of rule of every command (core's ParseAsOfDate): a backfill runs
  // fires that have passed, each with the data known on its day, and a fire after today has
  // neither happened nor its data.
  auto from = Date::Parse(a.from);
  if (!from.ok()) return ReportError(from.status().WithContext("--from"));
  auto to = ParseAsOfDate(a.to, SystemClock(), "--to");
  if (!to.ok()) return ReportError(to.status());
  if (a.concurrency < 1 || a.concurrency > 64) return ReportError(InvalidArgumentError("--concurrency must be 1..64"));
  if (a.max_points < 1 || a.max_points > 100000) return ReportError(InvalidArgumentError("--max-points must be 1..100000"));
  if (a.queue && a.concurrency != 1)
    return ReportError(InvalidArgumentError("--concurrency applies to local runs; with --queue, start workers (almanac worker --concurrency N)"));
  auto env = OpenEnv(g, false);
  if (!env.ok()) return ReportError(env.status());
  auto spec = pipeline::LoadPipelineFile(a.file, (*env)->models);
  if (!spec.ok()) return ReportError(spec.status());
  auto fires = pipeline::BackfillFires(*spec, *from, *to, static_cast<size_t>(a.max_points));
  if (!fires.ok()) return ReportError(fires.status());
  const pipeline::CronSchedule& cron = *spec->schedule;
  if (a.dry_run) {
    Table t{{"point", "as_of", "fire", "fire_utc"}, {}};
    for (size_t i = 0; i < fires->size(); ++i)
      t.Add({static_cast<int64_t>(i + 1), pipeline::FireDate(cron, (*fires)[i]).ToString(), cron.Format((*fires)[i]), Ts((*fires)[i])});
    Print(std::cout, t, g.format);
    return kExitOk;
  }
  // Local runs hold the pipeline's lock, as `almanac run` and the scheduler do, so none of
  // them overlaps the backfill; the backfill's own points run side by side.
  std::optional<decltype((*env)->ws->LockPipeline(spec->name))> lock;
  if (!a.queue) {
    lock.emplace((*env)->ws->LockPipeline(spec->name));
    if (!lock->ok()) return ReportError(lock->status());
  }
  pipeline::BackfillOptions o;
  o.from = *from;
  o.to = *to;
  o.concurrency = a.concurrency;
  o.max_points = static_cast<size_t>(a.max_points);
  o.user = g.user;
  o.queue = a.queue;
  o.max_attempts = a.max_attempts;
  if (!g.quiet) o.progress = [](const std::string& line) { std::cerr << line << "\n"; };
  pipeline::Environment e = (*env)->env();
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  e.threads = a.threads > 0 ? a.threads : std::max(1, cores / a.concurrency);
  if (!g.quiet)
    std::cerr << "backfill " << spec->name << ": " << fires->size() << " fire(s) of '" << cron.text() << "' ("
              << cron.zone().name() << ") from " << from->ToString() << " to " << to->ToString()
              << (a.queue ? ", queued for workers" : ", " + std::to_string(a.concurrency) + " at once") << "\n";
  auto points = pipeline::RunBackfill(e, *spec, o);
  if (!points.ok()) return ReportError(points.status());
  Table t{{"point", "as_of", "fire", "outcome", "run", "task", "error"}, {}};
  int failed = 0;
  for (size_t i = 0; i < points->size(); ++i) {
    const auto& p = (*points)[i];
    failed += p.outcome == "failed" ? 1 : 0;
    t.Add({static_cast<int64_t>(i + 1), p.as_of.ToString(), cron.Format(p.fire), p.outcome, p.run_id,
           p.task_id > 0 ? Json(p.task_id) : Json(nullptr), p.error});
  }
  Print(std::cout, t, g.format);
  if (failed > 0) {
    std::cerr << "almanac: error: " << failed << " of " << points->size() << " backfill point(s) failed\n";
    return kExitUser;
  }
  return kExitOk;
}

}  // namespace almanac::cli
