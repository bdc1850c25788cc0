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
  };
  return kMigrations;
}

}  // namespace almanac::store::sqlite
