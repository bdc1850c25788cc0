// The scheduler: fires pipelines and source loads on their cron schedules with retries and no
// overlapping runs, and runs the pipelines a committed load triggers (trigger: on_new_data).
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <set>
#include <thread>

#include "almanac/pipeline.h"

namespace almanac::pipeline {
namespace {

// An exclusive, non-blocking lock on lock_dir/<job>.lock (a pipeline's name or load:SOURCE) (released when destroyed).
class JobLock {
 public:
  JobLock(const std::string& dir, const std::string& name) {
    if (dir.empty()) {
      held_ = true;
      return;
    }
    fd_ = ::open((dir + "/" + name + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    held_ = fd_ >= 0 && ::flock(fd_, LOCK_EX | LOCK_NB) == 0;
  }
  ~JobLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool held() const { return held_; }

 private:
  int fd_ = -1;
  bool held_ = false;
};

// The series keys a source may store, as far as its configuration tells: exact keys for FRED
// and explicit `key:`s; for SDMX, World Bank and mapped HTTP sources the keys come from the
// response, so any key under the source's prefix may be one of them.
bool MayLoad(const data::SourceConfig& src, const std::string& key) {
  for (const auto& sp : src.series) {
    if (!sp.key.empty() && sp.key == key) return true;
    if (src.key_prefix + ":" + sp.id == key) return true;
  }
  if (src.type == data::SourceType::kFred || src.type == data::SourceType::kAlfred) return false;
  if (!src.mapping.series_key.empty() && src.mapping.series.empty()) return key == src.mapping.series_key;
  return key.rfind(src.key_prefix + ":", 0) == 0;
}

std::string JoinKeys(const std::vector<std::string>& keys) {
  std::string out;
  for (const auto& k : keys) out += (out.empty() ? "" : ", ") + k;
  return out;
}

struct Job {
  bool is_load = false;
  std::string name;             // pipeline name, or "load:SOURCE"
  const PipelineSpec* spec = nullptr;
  const data::SourceConfig* source = nullptr;
  CronSchedule cron;
  int64_t next = 0;
};

class Scheduler {
 public:
  Scheduler(Environment env, const SchedulerOptions& opts) : env_(env), opts_(opts), runner_(env) {}

  Result<std::vector<ScheduledRun>> Run() {
    ALMANAC_RETURN_IF_ERROR(Prepare());
    const Clock& clock = *env_.clock;
    const int64_t start = clock.NowMicros();
    for (auto& j : jobs_)
      if (!j.is_load && j.spec->catchup) ALMANAC_RETURN_IF_ERROR(CatchUp(j, start));
    for (;;) {
      if (opts_.max_runs > 0 && static_cast<int>(history_.size()) >= opts_.max_runs) break;
      Job* due = &jobs_[0];
      for (auto& j : jobs_)
        if (j.next < due->next) due = &j;
      if (opts_.run_for_ms > 0 && due->next > start + opts_.run_for_ms * 1000) {
        // Stay up until the end (the process serves /metrics meanwhile).
        SleepUntil(start + opts_.run_for_ms * 1000);
        break;
      }
      SleepUntil(due->next);
      if (opts_.on_queue) {
        int64_t waiting = 0;
        const int64_t now = clock.NowMicros();
        for (const auto& j : jobs_) waiting += (&j != due && j.next <= now) ? 1 : 0;
        opts_.on_queue(waiting);
      }
      if (due->is_load) {
        FireLoad(*due);
      } else {
        FirePipeline(*due->spec, due->name, due->next, "", std::nullopt);
      }
      // Fires missed while the job was going are not made up: the next is after now.
      ALMANAC_ASSIGN_OR_RETURN(due->next, due->cron.Next(std::max(clock.NowMicros(), due->next)));
    }
    return std::move(history_);
  }

 private:
  void Log(const std::string& line) const {
    if (opts_.log) opts_.log(line);
  }

  void SleepUntil(int64_t t) const {
    if (opts_.sleep_until) {
      opts_.sleep_until(t);
      return;
    }
    const int64_t now = env_.clock->NowMicros();
    if (t > now) std::this_thread::sleep_for(std::chrono::microseconds(t - now));
  }

  Status Prepare() {
    const Clock& clock = *env_.clock;
    for (const auto& f : opts_.pipeline_files) {
      ALMANAC_ASSIGN_OR_RETURN(PipelineSpec spec, LoadPipelineFile(f, *env_.models));
      for (const auto& p : pipelines_)
        if (p->name == spec.name) return InvalidArgumentError("two pipeline files are named " + spec.name);
      if (!spec.schedule && spec.trigger == Trigger::kNone) {
        Log("pipeline " + spec.name + " (" + f + ") has no schedule and no trigger; skipped");
        continue;
      }
      pipelines_.push_back(std::make_unique<PipelineSpec>(std::move(spec)));
    }
    for (const auto& f : opts_.load_files) {
      ALMANAC_ASSIGN_OR_RETURN(data::LoadConfig cfg, data::ReadLoadConfig(f));
      for (auto& src : cfg.sources) {
        for (const auto& s : sources_)
          if (s->name == src.name) return InvalidArgumentError(f + ": source " + src.name + " is defined in two configuration files");
        if (src.schedule.empty()) {
          Log("source " + src.name + " (" + f + ") has no schedule; skipped");
          continue;
        }
        TimeZone zone = TimeZone::Utc();
        if (!src.timezone.empty()) {
          auto z = TimeZone::Load(src.timezone);
          if (!z.ok()) return InvalidArgumentError(f + ": source " + src.name + ": timezone: " + z.status().message());
          zone = std::move(*z);
        }
        auto cron = CronSchedule::Parse(src.schedule, zone);
        if (!cron.ok()) return InvalidArgumentError(f + ": source " + src.name + ": schedule: " + cron.status().message());
        sources_.push_back(std::make_unique<data::SourceConfig>(std::move(src)));
        Job j;
        j.is_load = true;
        j.name = "load:" + sources_.back()->name;
        j.source = sources_.back().get();
        j.cron = *cron;
        jobs_.push_back(std::move(j));
      }
    }
    for (const auto& p : pipelines_) {
      if (p->schedule) {
        Job j;
        j.name = p->name;
        j.spec = p.get();
        j.cron = *p->schedule;
        jobs_.push_back(std::move(j));
      }
      if (p->trigger != Trigger::kOnNewData) continue;
      // Series keys of loads are partly known only from the responses, so an unmatched trigger
      // is a warning, not an error (docs/pipelines.md).
      bool loaded = false;
      for (const auto& s : sources_)
        for (const auto& k : p->series) loaded = loaded || MayLoad(*s, k);
      if (!loaded)
        Log("warning: pipeline " + p->name + " (" + p->file + ") has trigger on_new_data, but no scheduled source loads " +
            "any of its series (" + JoinKeys(p->series) + "); it runs only on its schedule");
    }
    if (jobs_.empty())
      return FailedPreconditionError("nothing to schedule: add 'schedule:' to a pipeline file or to a source of --sources");
    for (auto& j : jobs_) {
      if (opts_.fire_now) {
        j.next = clock.NowMicros();
      } else {
        ALMANAC_ASSIGN_OR_RETURN(j.next, j.cron.Next(clock.NowMicros()));
      }
      Log(std::string(j.is_load ? "source " + j.source->name : "pipeline " + j.name) + ": schedule '" + j.cron.text() + "'" +
          (j.cron.zone().IsUtc() ? std::string(" (UTC)") : " (" + j.cron.zone().name() + ")") + ", next " +
          (j.is_load ? "load" : "run") + " at " + j.cron.Format(j.next) +
          (j.cron.zone().IsUtc() ? std::string() : " = " + FormatTimestamp(j.next)));
    }
    return Status::Ok();
  }

  // Takes the job's lock and claims the fire. Empty: ours to run (the lock is held until the
  // returned guard is destroyed); otherwise why the fire is skipped.
  struct Gate {
    std::unique_ptr<JobLock> file_lock;
    std::unique_ptr<store::StoreLock> store_lock;
    std::string skip;
  };
  Gate Enter(const std::string& lock_name, const std::string& claim_name, int64_t fired_at, const std::string& what) {
    Gate g;
    g.file_lock = std::make_unique<JobLock>(opts_.lock ? std::string() : opts_.lock_dir, lock_name);
    bool held = g.file_lock->held();
    if (opts_.lock) {
      auto l = opts_.lock(lock_name);
      held = l.ok();
      if (held) g.store_lock = std::move(*l);
      else if (l.status().code() != StatusCode::kUnavailable) Log(what + ": " + l.status().message());
    }
    if (!held) {
      g.skip = "the previous " + std::string(lock_name.rfind("load:", 0) == 0 ? "load of " + lock_name.substr(5) : "run of " + lock_name) +
               " is still going";
      return g;
    }
    if (opts_.claim) {
      auto c = opts_.claim(claim_name, fired_at);
      if (!c.ok()) g.skip = "cannot claim the run: " + c.status().message();
      else if (!*c) g.skip = "another scheduler already ran this fire";
    }
    return g;
  }

  // Calls `attempt` once and then up to max_retries times more while it fails, waiting
  // retry_base_ms, doubled each time, before each retry.
  Status WithRetries(const std::string& what, int max_retries, int* attempts, const std::function<Status()>& attempt) {
    Status last = Status::Ok();
    for (int a = 0; a <= max_retries; ++a) {
      if (a > 0) {
        const int64_t delay = opts_.retry_base_ms * 1000 * (int64_t{1} << (a - 1));
        Log(what + ": retry " + std::to_string(a) + " of " + std::to_string(max_retries) + " in " + FormatFixed(delay / 1e6, 1) + " s");
        SleepUntil(env_.clock->NowMicros() + delay);
      }
      ++*attempts;
      last = attempt();
      if (last.ok()) return last;
      Log(what + ": attempt " + std::to_string(*attempts) + " failed: " + last.message());
    }
    return last;
  }

  // The latest fire of `spec` that a scheduler recorded (a run tagged with kTagFire by a
  // schedule or catch-up fire), or nullopt when none is recorded. Runs come newest first and
  // fires run in order, so the first such run holds it (backfill runs in between are passed).
  Result<std::optional<int64_t>> LastRecordedFire(const PipelineSpec& spec) {
    return env_.store->metadata().Transact<std::optional<int64_t>>([&](store::MetadataTxn& t) -> Result<std::optional<int64_t>> {
      ALMANAC_ASSIGN_OR_RETURN(auto runs, t.ListRuns({"", spec.name, std::nullopt, 0}));
      std::optional<int64_t> last;
      int64_t last_start = 0;
      for (const auto& r : runs) {
        if (last && r.start_time < last_start) break;  // older than the newest fire's run (ties: all are read)
        ALMANAC_ASSIGN_OR_RETURN(auto tags, t.GetTags(r.id));
        std::string trigger, fire;
        for (const auto& [k, v] : tags) {
          if (k == kTagTrigger) trigger = v;
          if (k == kTagFire) fire = v;
        }
        if ((trigger != "schedule" && trigger != "catchup") || fire.empty()) continue;
        auto at = ParseTimestamp(fire);
        if (at.ok() && (!last || *at > *last)) {
          last = *at;
          last_start = r.start_time;
        }
      }
      return last;
    });
  }

  // `catchup: true`: runs the fires missed since the last recorded one, in order, each with
  // its local date as data.as_of; bounded by max_catchup (the latest are kept).
  Status CatchUp(const Job& job, int64_t now) {
    const PipelineSpec& spec = *job.spec;
    const std::string what = "pipeline " + spec.name;
    ALMANAC_ASSIGN_OR_RETURN(std::optional<int64_t> last, LastRecordedFire(spec));
    if (!last) {
      Log(what + ": catchup: no recorded fire yet; nothing to make up (almanac backfill runs past dates)");
      return Status::Ok();
    }
    constexpr size_t kScanLimit = 100000;
    auto fires = job.cron.Between(*last + 1, now, kScanLimit);
    if (!fires.ok()) {
      Log(what + ": catchup: " + fires.status().message() + "; nothing made up (use almanac backfill)");
      return Status::Ok();
    }
    // A fire at exactly `now` is the regular schedule's (fire_now) or the next loop's.
    while (!fires->empty() && fires->back() >= now) fires->pop_back();
    if (fires->empty()) {
      Log(what + ": catchup: no fire missed since " + job.cron.Format(*last));
      return Status::Ok();
    }
    const size_t limit = static_cast<size_t>(std::max(0, opts_.max_catchup));
    size_t dropped = 0;
    if (fires->size() > limit) {
      dropped = fires->size() - limit;
      fires->erase(fires->begin(), fires->begin() + static_cast<std::ptrdiff_t>(dropped));
    }
    Log(what + ": catchup: " + std::to_string(fires->size() + dropped) + " fire(s) missed since " + job.cron.Format(*last) +
        (dropped > 0 ? "; making up the latest " + std::to_string(fires->size()) + " (max_catchup), dropping " +
                           std::to_string(dropped) + " (almanac backfill can run them)"
                     : "; making them up"));
    Json listed = Json::array();
    for (int64_t f : *fires) listed.push_back(FormatTimestamp(f));
    ALMANAC_RETURN_IF_ERROR(env_.store->metadata().Run([&](store::MetadataTxn& t) -> Status {
      store::AuditEvent ev;
      ev.actor = opts_.user;
      ev.action = "schedule.catchup";
      ev.object_type = "pipeline";
      ev.object_id = spec.name;
      ev.details = Json{{"schedule", job.cron.text()}, {"timezone", job.cron.zone().name()}, {"last_fire", FormatTimestamp(*last)},
                        {"fires", listed}, {"dropped", static_cast<int64_t>(dropped)}};
      return t.Audit(ev).status();
    }));
    for (int64_t f : *fires) {
      const Date as_of = FireDate(job.cron, f);
      FirePipeline(spec, job.name, f, "catchup as_of " + as_of.ToString(), as_of);
    }
    return Status::Ok();
  }

  void FirePipeline(const PipelineSpec& file_spec, const std::string& claim_name, int64_t fired_at, const std::string& triggered_by,
                    std::optional<Date> as_of) {
    const int64_t began = env_.clock->NowMicros();
    const std::string what = "pipeline " + file_spec.name;
    PipelineSpec with_as_of;
    if (as_of) {
      with_as_of = file_spec;
      with_as_of.as_of = as_of;
    }
    const PipelineSpec& spec = as_of ? with_as_of : file_spec;
    ScheduledRun sr;
    sr.pipeline = spec.name;
    sr.fired_at = fired_at;
    sr.triggered_by = triggered_by;
    sr.as_of = as_of;
    std::optional<RunResult> last_ok;
    Gate gate = Enter(spec.name, claim_name, fired_at, what);
    if (!gate.skip.empty()) {
      sr.skipped = true;
      sr.error = gate.skip;
      Log(what + ": skipped at " + FormatTimestamp(fired_at) + ": " + sr.error);
    } else {
      if (!triggered_by.empty()) Log(what + ": triggered by " + triggered_by);
      Status s = WithRetries(what, spec.max_retries, &sr.attempts, [&]() -> Status {
        RunOptions ro;
        ro.user = opts_.user;
        if (as_of) {
          ro.tags = {{kTagTrigger, "catchup"}, {kTagFire, FormatTimestamp(fired_at)}, {kTagAsOf, as_of->ToString()}};
        } else if (!triggered_by.empty()) {
          ro.tags = {{kTagTrigger, "on_new_data"}};
        } else {
          ro.tags = {{kTagTrigger, "schedule"}, {kTagFire, FormatTimestamp(fired_at)}};
        }
        auto r = runner_.Run(spec, ro);
        if (!r.ok()) return r.status();
        last_ok = *r;
        return Status::Ok();
      });
      if (s.ok()) {
        sr.run_id = last_ok->run_id;
        Log(what + ": run " + sr.run_id + " finished" + (last_ok->message.empty() ? "" : " (" + last_ok->message + ")"));
      } else {
        sr.status = store::RunStatus::kFailed;
        sr.error = s.message();
      }
    }
    if (opts_.on_run) opts_.on_run(sr, static_cast<double>(env_.clock->NowMicros() - began) / 1e6, last_ok ? &*last_ok : nullptr);
    history_.push_back(std::move(sr));
  }

  void FireLoad(const Job& job) {
    const data::SourceConfig& src = *job.source;
    const int64_t began = env_.clock->NowMicros();
    const std::string what = "source " + src.name;
    ScheduledRun sr;
    sr.kind = "load";
    sr.source = src.name;
    sr.fired_at = job.next;
    std::optional<data::SourceLoadResult> last_ok;
    Status status = Status::Ok();
    {
      Gate gate = Enter(job.name, job.name, job.next, what);
      if (!gate.skip.empty()) {
        sr.skipped = true;
        sr.error = gate.skip;
        Log(what + ": load skipped at " + FormatTimestamp(job.next) + ": " + sr.error);
      } else {
        status = WithRetries(what, opts_.load_max_retries, &sr.attempts, [&]() -> Status {
          data::SourceLoadOptions lo;
          lo.loader = opts_.user;
          if (opts_.adjust_load) opts_.adjust_load(lo);
          auto r = data::LoadSource(src, lo, *env_.store);
          if (!r.ok()) return r.status();
          last_ok = *r;
          return Status::Ok();
        });
        if (!status.ok()) {
          sr.status = store::RunStatus::kFailed;
          sr.error = status.message();
        }
      }
    }
    sr.outcome = std::string(LoadOutcome(sr.skipped, last_ok ? &*last_ok : nullptr, status));
    if (last_ok && last_ok->committed) {
      sr.load_id = last_ok->report.load_id;
      sr.vintages_created = last_ok->report.vintages_created;
    }
    if (last_ok && last_ok->quarantine_id > 0) {
      // Data arrived but broke a rule: not a failure to retry, a decision for a person.
      sr.error = "quarantined as " + std::to_string(last_ok->quarantine_id) + ": " +
                 (last_ok->violations.empty() ? std::string() : last_ok->violations[0]) +
                 (last_ok->violations.size() > 1 ? " (and " + std::to_string(last_ok->violations.size() - 1) + " more)" : "");
      Log(what + ": load " + sr.error + "; see 'almanac quarantine show " + std::to_string(last_ok->quarantine_id) + "'");
    } else if (!sr.skipped && status.ok())
      Log(what + ": load " + sr.outcome +
          (sr.outcome == "committed" ? " (load " + std::to_string(sr.load_id) + ", " + std::to_string(sr.vintages_created) + " new vintages)" : ""));
    if (opts_.on_load) opts_.on_load(sr, static_cast<double>(env_.clock->NowMicros() - began) / 1e6, last_ok ? &*last_ok : nullptr);
    const ScheduledRun load = sr;
    history_.push_back(std::move(sr));
    if (load.outcome != "committed" || load.vintages_created == 0) return;
    // Which series got new vintages. The report lists at most 10,000: past that, any series
    // the source may load counts as changed (a needless re-run costs less than a missed one).
    std::set<std::string> changed;
    for (const auto& v : last_ok->report.vintages) changed.insert(v.series_key);
    const bool all = static_cast<int64_t>(last_ok->report.vintages.size()) < load.vintages_created;
    const std::string by = "load:" + src.name + "@" + FormatTimestamp(load.fired_at) + " (load " + std::to_string(load.load_id) + ")";
    for (const auto& p : pipelines_) {
      if (p->trigger != Trigger::kOnNewData) continue;
      bool hit = false;
      for (const auto& k : p->series) hit = hit || changed.count(k) > 0 || (all && MayLoad(src, k));
      if (hit) FirePipeline(*p, p->name + "@load:" + src.name, load.fired_at, by, std::nullopt);
    }
  }

  Environment env_;
  const SchedulerOptions& opts_;
  Runner runner_;
  std::vector<std::unique_ptr<PipelineSpec>> pipelines_;
  std::vector<std::unique_ptr<data::SourceConfig>> sources_;
  std::vector<Job> jobs_;
  std::vector<ScheduledRun> history_;
};

}  // namespace

Date FireDate(const CronSchedule& cron, int64_t fire_micros) {
  const int64_t local = cron.zone().UtcToLocal(fire_micros);
  constexpr int64_t kDay = 86400000000LL;
  return Date::FromDays(local >= 0 ? local / kDay : -((-local + kDay - 1) / kDay));
}

std::string_view LoadOutcome(bool skipped, const data::SourceLoadResult* result, const Status& status) {
  if (skipped) return "skipped";
  if (!status.ok() || result == nullptr) return "failed";
  if (result->quarantine_id > 0) return "quarantined";
  if (!result->committed || result->report.vintages_created == 0) return "unchanged";
  return "committed";
}

Result<std::vector<ScheduledRun>> RunScheduler(Environment env, const SchedulerOptions& opts) {
  if (env.clock == nullptr) env.clock = &SystemClock();
  if ((!opts.load_files.empty()) && env.store == nullptr) return InvalidArgumentError("scheduled loads need a store");
  Scheduler s(env, opts);
  return s.Run();
}

}  // namespace almanac::pipeline
