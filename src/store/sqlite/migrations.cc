#include "store/sqlite/migrations.h"

namespace almanac::store::sqlite {

const std::vector<Migration>& Migrations() {
  static const std::vector<Migration> kMigrations = {
      {1, "series, loads, vintages, observations, snapshots", R"sql(
CREATE TABLE series (
  id INTEGER PRIMARY KEY,
  key TEXT NOT NULL UNIQUE,
  frequency TEXT NOT NULL CHECK (frequency IN ('A','Q','M','W','D','B')),
  title TEXT NOT NULL DEFAULT '',
  unit TEXT NOT NULL DEFAULT '',
  seasonal_adjustment TEXT NOT NULL DEFAULT '',
  source TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL
);
CREATE TABLE loads (
  id INTEGER PRIMARY KEY,
  started_at INTEGER NOT NULL,
  committed_at INTEGER,
  loader TEXT NOT NULL,
  source TEXT NOT NULL DEFAULT '',
  source_hash TEXT NOT NULL DEFAULT '',
  rows_read INTEGER NOT NULL DEFAULT 0,
  vintages_created INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE vintages (
  id INTEGER PRIMARY KEY,
  series_id INTEGER NOT NULL REFERENCES series(id),
  load_id INTEGER NOT NULL REFERENCES loads(id),
  realtime_start INTEGER NOT NULL,
  loaded_at INTEGER NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('load','restate')),
  num_observations INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX vintages_by_series ON vintages(series_id, realtime_start, id);
CREATE TABLE observations (
  series_id INTEGER NOT NULL,
  period INTEGER NOT NULL,
  realtime_start INTEGER NOT NULL,
  vintage_id INTEGER NOT NULL,  -- vintages(id); not a declared foreign key: checking it on
                                -- every row halves bulk-load speed, and only the store writes it
  value REAL,
  PRIMARY KEY (series_id, period, realtime_start, vintage_id)
) WITHOUT ROWID;
CREATE TABLE snapshot_contents (
  id TEXT PRIMARY KEY,
  content BLOB NOT NULL,
  num_series INTEGER NOT NULL,
  num_observations INTEGER NOT NULL
);
CREATE TABLE snapshots (
  name TEXT PRIMARY KEY,
  snapshot_id TEXT NOT NULL REFERENCES snapshot_contents(id),
  as_of INTEGER,
  created_at INTEGER NOT NULL,
  created_by TEXT NOT NULL
);
CREATE INDEX snapshots_by_id ON snapshots(snapshot_id);
)sql"},
      {2, "tracking, step cache, model registry, audit log", R"sql(
CREATE TABLE runs (
  id TEXT PRIMARY KEY,
  experiment TEXT NOT NULL,
  pipeline TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL CHECK (status IN ('running','finished','failed','killed')),
  start_time INTEGER NOT NULL,
  end_time INTEGER NOT NULL DEFAULT 0,
  user TEXT NOT NULL,
  host TEXT NOT NULL,
  pipeline_hash TEXT NOT NULL DEFAULT '',
  snapshot_id TEXT NOT NULL DEFAULT '',
  git_commit TEXT NOT NULL DEFAULT '',
  almanac_version TEXT NOT NULL,
  seed INTEGER NOT NULL DEFAULT 0,
  error TEXT NOT NULL DEFAULT '',
  reproduces TEXT NOT NULL DEFAULT ''
);
CREATE INDEX runs_by_experiment ON runs(experiment, start_time);
CREATE INDEX runs_by_pipeline ON runs(pipeline, start_time);
CREATE TABLE run_params (
  run_id TEXT NOT NULL REFERENCES runs(id),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
CREATE TABLE run_metrics (
  run_id TEXT NOT NULL REFERENCES runs(id),
  key TEXT NOT NULL,
  step INTEGER NOT NULL,
  value REAL NOT NULL,
  timestamp INTEGER NOT NULL
);
CREATE INDEX run_metrics_by_run ON run_metrics(run_id, key, step);
CREATE TABLE run_tags (
  run_id TEXT NOT NULL REFERENCES runs(id),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
CREATE TABLE run_artifacts (
  run_id TEXT NOT NULL REFERENCES runs(id),
  name TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  size INTEGER NOT NULL,
  kind TEXT NOT NULL,
  PRIMARY KEY (run_id, name)
) WITHOUT ROWID;
CREATE TABLE step_cache (
  key TEXT PRIMARY KEY,
  step TEXT NOT NULL,
  run_id TEXT NOT NULL,
  outputs TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE registered_models (
  name TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  policy TEXT NOT NULL DEFAULT '{}',
  card TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL,
  created_by TEXT NOT NULL
);
CREATE TABLE model_versions (
  model TEXT NOT NULL REFERENCES registered_models(name),
  version INTEGER NOT NULL,
  run_id TEXT NOT NULL,
  artifact_name TEXT NOT NULL,
  artifact_sha256 TEXT NOT NULL,
  snapshot_id TEXT NOT NULL DEFAULT '',
  stage TEXT NOT NULL CHECK (stage IN ('none','staging','production','archived')),
  metrics TEXT NOT NULL DEFAULT '{}',
  description TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  stage_changed_at INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (model, version),
  UNIQUE (model, run_id)
);
CREATE UNIQUE INDEX one_production_version ON model_versions(model) WHERE stage = 'production';
CREATE TABLE promotion_requests (
  id INTEGER PRIMARY KEY,
  model TEXT NOT NULL,
  version INTEGER NOT NULL,
  target TEXT NOT NULL,
  requested_by TEXT NOT NULL,
  requested_at INTEGER NOT NULL,
  reason TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL CHECK (status IN ('pending','approved','rejected','cancelled')),
  decided_by TEXT NOT NULL DEFAULT '',
  decided_at INTEGER NOT NULL DEFAULT 0,
  decision_reason TEXT NOT NULL DEFAULT '',
  FOREIGN KEY (model, version) REFERENCES model_versions(model, version)
);
CREATE INDEX promotion_requests_by_model ON promotion_requests(model, version);
CREATE TABLE audit_log (
  seq INTEGER PRIMARY KEY,
  timestamp INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  object_type TEXT NOT NULL,
  object_id TEXT NOT NULL,
  details TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE TABLE audit_head (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  seq INTEGER NOT NULL,
  hash TEXT NOT NULL
);
)sql"},
      {3, "API tokens of the HTTP service (hashes only)", R"sql(
CREATE TABLE api_tokens (
  id TEXT PRIMARY KEY,
  token_sha256 TEXT NOT NULL UNIQUE,
  user TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('viewer','analyst','modeler','approver','admin')),
  description TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  revoked_at INTEGER NOT NULL DEFAULT 0,
  revoked_by TEXT NOT NULL DEFAULT ''
);
)sql"},
      {4, "digest of each series' latest view (unchanged re-loads skip reading stored rows)", R"sql(
ALTER TABLE series ADD COLUMN latest_max_rt INTEGER;
ALTER TABLE series ADD COLUMN latest_sha256 TEXT;
ALTER TABLE series ADD COLUMN latest_periods INTEGER;
)sql"},
      {5, "scheduled runs claimed by a scheduler (each fire runs once, however many schedulers)", R"sql(
CREATE TABLE scheduled_runs (
  pipeline TEXT NOT NULL,
  fired_at INTEGER NOT NULL,
  holder TEXT NOT NULL,
  claimed_at INTEGER NOT NULL,
  PRIMARY KEY (pipeline, fired_at)
) WITHOUT ROWID;
)sql"},
      {6, "forecasts issued by production versions (outcomes analysis)", R"sql(
CREATE TABLE issued_forecasts (
  model TEXT NOT NULL,
  version INTEGER NOT NULL,
  origin TEXT NOT NULL,
  target TEXT NOT NULL,
  horizon INTEGER NOT NULL CHECK (horizon > 0),
  mean TEXT NOT NULL,
  levels TEXT NOT NULL,
  lower TEXT NOT NULL,
  upper TEXT NOT NULL,
  issued_at INTEGER NOT NULL,
  issued_by TEXT NOT NULL,
  PRIMARY KEY (model, version, origin)
);
)sql"},
      {7, "quarantined loads (loads that broke a validation rule, kept until released or dropped)", R"sql(
CREATE TABLE quarantine (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  source TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending','released','dropped')),
  reasons TEXT NOT NULL,
  series TEXT NOT NULL,
  observations INTEGER NOT NULL,
  payload TEXT NOT NULL,
  payload_sha256 TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  decided_at INTEGER NOT NULL DEFAULT 0,
  decided_by TEXT NOT NULL DEFAULT '',
  decision_reason TEXT NOT NULL DEFAULT '',
  load_id INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX quarantine_by_state ON quarantine(state, id);
)sql"},
      {8, "task queue of almanac worker (leases, attempts, dedupe keys)", R"sql(
CREATE TABLE tasks (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  payload TEXT NOT NULL,
  dedupe_key TEXT NOT NULL UNIQUE,
  state TEXT NOT NULL CHECK (state IN ('queued','running','done','failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL CHECK (max_attempts >= 1),
  not_before INTEGER NOT NULL DEFAULT 0,
  lease_owner TEXT NOT NULL DEFAULT '',
  lease_expires_at INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  started_at INTEGER NOT NULL DEFAULT 0,
  finished_at INTEGER NOT NULL DEFAULT 0,
  result TEXT NOT NULL DEFAULT '',
  error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX tasks_claimable ON tasks(state, id);
)sql"},
      {9, "store users (who an OS user or database role acts as, and admin grants); token expiry and last use", R"sql(
CREATE TABLE store_users (
  principal TEXT PRIMARY KEY,
  user_name TEXT NOT NULL,
  is_admin INTEGER NOT NULL DEFAULT 0 CHECK (is_admin IN (0, 1)),
  granted_by TEXT NOT NULL,
  granted_at INTEGER NOT NULL
);
ALTER TABLE api_tokens ADD COLUMN expires_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE api_tokens ADD COLUMN last_used_at INTEGER NOT NULL DEFAULT 0;
)sql"},
      // Issue 22 (MLflow tracking API): migrations 10.. in one block.
      {10, "MLflow tracking: experiments (id, lifecycle, tags), run names and lifecycle, NaN metric values", R"sql(
CREATE TABLE experiments (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  artifact_location TEXT NOT NULL DEFAULT '',
  lifecycle_stage TEXT NOT NULL CHECK (lifecycle_stage IN ('active','deleted')),
  creation_time INTEGER NOT NULL,
  last_update_time INTEGER NOT NULL,
  tags TEXT NOT NULL DEFAULT '{}'
);
INSERT INTO experiments VALUES (0, 'Default', '', 'active', 0, 0, '{}');
INSERT INTO experiments (name, artifact_location, lifecycle_stage, creation_time, last_update_time, tags)
  SELECT experiment, '', 'active', MIN(start_time), MAX(start_time), '{}' FROM runs
  WHERE experiment <> 'Default' GROUP BY experiment ORDER BY MIN(start_time);
ALTER TABLE runs ADD COLUMN name TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1));
CREATE INDEX runs_by_start ON runs(start_time, id);
CREATE TABLE run_metrics_v10 (
  run_id TEXT NOT NULL REFERENCES runs(id),
  key TEXT NOT NULL,
  step INTEGER NOT NULL,
  value REAL,
  timestamp INTEGER NOT NULL
);
INSERT INTO run_metrics_v10 (run_id, key, step, value, timestamp)
  SELECT run_id, key, step, value, timestamp FROM run_metrics ORDER BY rowid;
DROP TABLE run_metrics;
ALTER TABLE run_metrics_v10 RENAME TO run_metrics;
CREATE INDEX run_metrics_by_run ON run_metrics(run_id, key, step);
CREATE INDEX run_metrics_by_key_value ON run_metrics(key, value);
)sql"},
      {11, "MLflow model registry: tags of registered models and versions, aliases, deleted versions (tombstones)", R"sql(
CREATE TABLE model_tags (
  model TEXT NOT NULL,
  version INTEGER NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (model, version, key)
) WITHOUT ROWID;
CREATE TABLE model_aliases (
  model TEXT NOT NULL,
  alias TEXT NOT NULL,
  version INTEGER NOT NULL,
  PRIMARY KEY (model, alias)
) WITHOUT ROWID;
ALTER TABLE model_versions ADD COLUMN deleted_at INTEGER NOT NULL DEFAULT 0;
)sql"},
      // The (key, value) index of migration 10 on every point made each written point dirty a
      // leaf of a large index (1,000 pages for a log-batch of 1,000 points): only the latest
      // point per (run, key), which is what a metric filter compares, is indexed now.
      {12, "latest metric value per run and key, indexed for metric filters", R"sql(
CREATE TABLE run_latest_metrics (
  run_id TEXT NOT NULL REFERENCES runs(id),
  key TEXT NOT NULL,
  step INTEGER NOT NULL,
  timestamp INTEGER NOT NULL,
  value REAL,
  PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
INSERT INTO run_latest_metrics (run_id, key, step, timestamp, value)
  SELECT run_id, key, step, timestamp, value FROM (
    SELECT run_id, key, step, timestamp, value, ROW_NUMBER() OVER (
      PARTITION BY run_id, key ORDER BY step DESC, timestamp DESC, rowid DESC) AS n
    FROM run_metrics)
  WHERE n = 1;
CREATE INDEX run_latest_metrics_by_key_value ON run_latest_metrics(key, value);
DROP INDEX run_metrics_by_key_value;
)sql"},
  };
  return kMigrations;
}

}  // namespace almanac::store::sqlite
