#!/usr/bin/env bash
# Fills a store with N runs for the MLflow search benchmark (issue 22), fast: mlflow_populate
# creates the store's experiment "bench" through the store interface, then one INSERT ... SELECT
# per table (runs, run_metrics, run_latest_metrics, run_params, run_tags) writes all N runs in one transaction, on
# the server (psql) or in the file (sqlite3), instead of 4 statements per run (19.5 min for
# 100,000 runs on PostgreSQL, one round trip each). The rows are those mlflow_populate writes
# through the interface: run i is "r" + 16 hex digits, finished, metric rmse at steps 0, 1, 2 =
# i/N + 1, i/N + 0.5, i/N (so `metrics.rmse < 0.001` matches N/1000 runs), param model =
# ets|arima, tag team = risk|macro. bench.py checks the search finds the expected runs.
#   bench/mlflow/populate.sh MLFLOW_POPULATE STORE_URI N     (STORE_URI: sqlite:PATH or postgresql://...)
set -euo pipefail
P=${1:?usage: populate.sh MLFLOW_POPULATE STORE_URI N}
STORE=${2:?usage: populate.sh MLFLOW_POPULATE STORE_URI N}
N=${3:?usage: populate.sh MLFLOW_POPULATE STORE_URI N}
[[ $N =~ ^[0-9]+$ ]] || { echo "N must be a number, got $N" >&2; exit 2; }
"$P" "$STORE" 0 >/dev/null  # the experiment (and the schema, migrated by opening the store)
T0=1700000000000000
case "$STORE" in
  sqlite:*)
    db=${STORE#sqlite:}
    sqlite3 -bail "$db" <<SQL
PRAGMA foreign_keys = ON;
BEGIN;
WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i + 1 < $N)
INSERT INTO runs (id, experiment, status, start_time, end_time, "user", host, almanac_version)
  SELECT printf('r%016x', i), 'bench', 'finished', $T0 + i * 1000, $T0 + i * 1000 + 1, 'bench', 'bench', 'bench'
  FROM seq;
WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i + 1 < $N)
INSERT INTO run_metrics (run_id, key, step, value, timestamp)
  SELECT printf('r%016x', i), 'rmse', s.step, i * 1.0 / $N + (2 - s.step) * 0.5, $T0 + i * 1000
  FROM seq, (SELECT 0 AS step UNION ALL SELECT 1 UNION ALL SELECT 2) AS s ORDER BY i, s.step;
WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i + 1 < $N)
INSERT INTO run_latest_metrics (run_id, key, step, timestamp, value)
  SELECT printf('r%016x', i), 'rmse', 2, $T0 + i * 1000, i * 1.0 / $N FROM seq;
WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i + 1 < $N)
INSERT INTO run_params (run_id, key, value)
  SELECT printf('r%016x', i), 'model', CASE WHEN i % 2 = 1 THEN 'arima' ELSE 'ets' END FROM seq;
WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i + 1 < $N)
INSERT INTO run_tags (run_id, key, value)
  SELECT printf('r%016x', i), 'team', CASE WHEN i % 3 = 0 THEN 'risk' ELSE 'macro' END FROM seq;
COMMIT;
SQL
    ;;
  postgresql:* | postgres:*)
    psql -X -q -v ON_ERROR_STOP=1 "$STORE" <<SQL
BEGIN;
INSERT INTO runs (id, experiment, status, start_time, end_time, "user", host, almanac_version)
  SELECT 'r' || lpad(to_hex(i), 16, '0'), 'bench', 'finished', $T0 + i * 1000, $T0 + i * 1000 + 1, 'bench', 'bench', 'bench'
  FROM generate_series(0, $N - 1) AS i;
INSERT INTO run_metrics (run_id, key, step, value, timestamp)
  SELECT 'r' || lpad(to_hex(i), 16, '0'), 'rmse', s, i::float8 / $N + (2 - s) * 0.5, $T0 + i * 1000
  FROM generate_series(0, $N - 1) AS i, generate_series(0, 2) AS s ORDER BY i, s;
INSERT INTO run_latest_metrics (run_id, key, step, timestamp, value)
  SELECT 'r' || lpad(to_hex(i), 16, '0'), 'rmse', 2, $T0 + i * 1000, i::float8 / $N
  FROM generate_series(0, $N - 1) AS i;
INSERT INTO run_params (run_id, key, value)
  SELECT 'r' || lpad(to_hex(i), 16, '0'), 'model', CASE WHEN i % 2 = 1 THEN 'arima' ELSE 'ets' END
  FROM generate_series(0, $N - 1) AS i;
INSERT INTO run_tags (run_id, key, value)
  SELECT 'r' || lpad(to_hex(i), 16, '0'), 'team', CASE WHEN i % 3 = 0 THEN 'risk' ELSE 'macro' END
  FROM generate_series(0, $N - 1) AS i;
COMMIT;
ANALYZE runs, run_metrics, run_latest_metrics, run_params, run_tags;
SQL
    ;;
  *) echo "populate.sh: a sqlite: or postgresql: store, got ${STORE%%:*}:" >&2; exit 2 ;;
esac
echo "$N runs in experiment bench"
