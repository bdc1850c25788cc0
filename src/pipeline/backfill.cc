// Backfills: a pipeline run once per past fire of its schedule, each on the data as then known.
#include <algorithm>
#include <map>
#include <mutex>

#include "almanac/pipeline.h"

namespace almanac::pipeline {
namespace {

// Finished backfill or catch-up runs of this pipeline file, by fire time (FormatTimestamp).
Result<std::map<std::string, std::string>> RunsByFire(store::MetadataStore& md, const PipelineSpec& spec) {
  return md.Transact<std::map<std::string, std::string>>([&](store::MetadataTxn& t) -> Result<std::map<std::string, std::string>> {
    ALMANAC_ASSIGN_OR_RETURN(auto runs, t.ListRuns({"", spec.name, store::RunStatus::kFinished, 0}));
    std::map<std::string, std::string> out;
    for (const auto& r : runs) {
      if (r.pipeline_hash != spec.source_hash) continue;
      ALMANAC_ASSIGN_OR_RETURN(auto tags, t.GetTags(r.id));
      std::string trigger, fire;
      for (const auto& [k, v] : tags) {
        if (k == kTagTrigger) trigger = v;
        if (k == kTagFire) fire = v;
      }
      if ((trigger == "backfill" || trigger == "catchup") && !fire.empty()) out.emplace(fire, r.id);
    }
    return out;
  });
}

}  // namespace

Result<std::vector<int64_t>> BackfillFires(const PipelineSpec& spec, Date from, Date to, size_t max_points) {
  if (!spec.schedule)
    return InvalidArgumentError("pipeline " + spec.name + " (" + spec.file +
                                ") has no schedule: a backfill runs it at the fires of its 'schedule:' (add one, and 'timezone:' if needed)");
  if (!spec.snapshot.empty())
    return InvalidArgumentError("pipeline " + spec.name + " reads snapshot '" + spec.snapshot +
                                "': every backfill run would see the same data; use data.series");
  if (from.days() < 0 || to.days() < 0) return InvalidArgumentError("backfill dates must be 1970-01-01 or later");
  if (from > to) return InvalidArgumentError("--from " + from.ToString() + " is after --to " + to.ToString());
  const CronSchedule& cron = *spec.schedule;
  constexpr int64_t kDay = 86400000000LL;
  // From two days before `from` (UTC offsets stay within +-26 h), keep the fires whose local
  // date is in [from, to]; stop at the first one after `to`.
  std::vector<int64_t> out;
  for (int64_t t = std::max<int64_t>(0, from.days() * kDay - 2 * kDay);;) {
    auto next = cron.Next(t);
    if (!next.ok()) {
      if (next.status().code() == StatusCode::kOutOfRange) break;  // no further fire within five years
      return next.status();
    }
    t = *next;
    const Date d = FireDate(cron, t);
    if (d > to) break;
    if (d < from) continue;
    if (out.size() >= max_points)
      return OutOfRangeError("schedule '" + cron.text() + "' fires more than " + std::to_string(max_points) + " times from " +
                             from.ToString() + " to " + to.ToString() + "; backfill a shorter range (or raise --max-points)");
    out.push_back(t);
  }
  return out;
}

Result<std::vector<BackfillPoint>> RunBackfill(Environment env, const PipelineSpec& spec, const BackfillOptions& o) {
  if (env.clock == nullptr) env.clock = &SystemClock();
  if (env.store == nullptr || env.models == nullptr || env.artifacts == nullptr)
    return InvalidArgumentError("a backfill needs a store, an artifact store and model types");
  if (o.concurrency < 1 || o.concurrency > 64) return InvalidArgumentError("--concurrency must be 1..64");
  if (o.max_attempts < 1) return InvalidArgumentError("max attempts must be at least 1");
  ALMANAC_ASSIGN_OR_RETURN(std::vector<int64_t> fires, BackfillFires(spec, o.from, o.to, o.max_points));
  store::MetadataStore& md = env.store->metadata();
  ALMANAC_ASSIGN_OR_RETURN(auto done_before, RunsByFire(md, spec));
  const CronSchedule& cron = *spec.schedule;
  const size_t n = fires.size();
  std::vector<BackfillPoint> points(n);
  std::mutex mu;
  auto say = [&](size_t i, const std::string& what) {
    if (!o.progress) return;
    std::lock_guard l(mu);
    o.progress("backfill " + std::to_string(i + 1) + "/" + std::to_string(n) + " " + points[i].as_of.ToString() + " (fire " +
               cron.Format(points[i].fire) + "): " + what);
  };
  for (size_t i = 0; i < n; ++i) {
    points[i].fire = fires[i];
    points[i].as_of = FireDate(cron, fires[i]);
  }
  Runner runner(env);
  auto one = [&](size_t i) {
    BackfillPoint& p = points[i];
    const std::string fire = FormatTimestamp(p.fire);
    if (auto it = done_before.find(fire); it != done_before.end()) {
      p.outcome = "skipped";
      p.run_id = it->second;
      say(i, "skipped (run " + p.run_id + " already did it)");
      return;
    }
    const std::vector<std::pair<std::string, std::string>> tags = {
        {kTagTrigger, "backfill"}, {kTagFire, fire}, {kTagAsOf, p.as_of.ToString()}};
    if (o.queue) {
      TaskOverrides ov;
      ov.as_of = p.as_of;
      ov.tags = tags;
      ov.publish = false;
      auto id = SubmitPipelineSpec(md, spec, "backfill:" + fire, o.user, o.max_attempts, ov);
      if (id.ok()) {
        p.outcome = "queued";
        p.task_id = *id;
        say(i, "queued as task " + std::to_string(*id));
      } else if (id.status().code() == StatusCode::kAlreadyExists) {
        p.outcome = "skipped";
        say(i, "skipped (queued before)");
      } else {
        p.outcome = "failed";
        p.error = id.status().message();
        say(i, "failed: " + p.error);
      }
      return;
    }
    say(i, "running");
    PipelineSpec at = spec;
    at.as_of = p.as_of;
    RunOptions ro;
    ro.user = o.user;
    ro.tags = tags;
    ro.publish = false;
    auto r = runner.Run(at, ro);
    if (r.ok()) {
      p.outcome = "done";
      p.run_id = r->run_id;
      say(i, "done (run " + p.run_id + ", selected " + r->selected + ")");
    } else {
      p.outcome = "failed";
      p.error = r.status().message();
      say(i, "failed: " + p.error);
    }
  };
  // Queueing is a few quick transactions: one at a time keeps the task ids in fire order.
  ParallelFor(n, o.queue ? 1 : o.concurrency, one);
  std::map<std::string, int64_t> counts;
  for (const auto& p : points) ++counts[p.outcome];
  Json outcome = Json::object();
  for (const auto& [k, v] : counts) outcome[k] = v;
  ALMANAC_RETURN_IF_ERROR(md.Run([&](store::MetadataTxn& t) -> Status {
    store::AuditEvent ev;
    ev.actor = o.user;
    ev.action = "pipeline.backfill";
    ev.object_type = "pipeline";
    ev.object_id = spec.name;
    ev.details = Json{{"from", o.from.ToString()},    {"to", o.to.ToString()},         {"schedule", cron.text()},
                      {"timezone", cron.zone().name()}, {"pipeline_sha256", spec.source_hash}, {"points", static_cast<int64_t>(n)},
                      {"outcomes", outcome},            {"queue", o.queue},             {"concurrency", o.concurrency}};
    return t.Audit(ev).status();
  }));
  return points;
}

}  // namespace almanac::pipeline
