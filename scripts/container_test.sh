#!/usr/bin/env bash
# The deployment tests (ctest deploy_containers; docs/deploy.md, "What is tested"):
#   static    manifests, exported workflows and DAGs, GitHub workflow files (no containers)
#   image     build the image around ALMANAC_BIN (no compiling) and run it: non-root, a forecast,
#             the healthcheck, drain on SIGTERM, start-to-ready time
#   compose   the compose stack: a pipeline submitted through one replica is run by the worker,
#             its model served by both replicas and through nginx, every Prometheus target up
#   kube      the serve Deployment, Service, ConfigMap and Secret under `podman kube play`, and
#             the Indexed Job's pod spec once per index (shards disjoint, covering all pipelines)
#   scripts/container_test.sh BINARY [PHASE...]     (default: every phase)
# Needs root (podman, as on CI), the packages of scripts/deps.sh containers and npm packages of
# deploy/validate (npm ci). Containers, pods, networks and volumes it makes are removed at exit.
# Servers listen on 127.0.0.1 or on podman's bridge networks only. Prints the time per phase.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

bin=$(readlink -f "${1:?usage: $0 ALMANAC_BINARY [static|image|compose|kube]...}")
shift
phases=("$@")
[ ${#phases[@]} -eq 0 ] && phases=(static image compose kube)

tmp=$(mktemp -d /tmp/almanac-deploy-test-XXXXXX)
project=almanac-t$$
image=localhost/almanac:test
started=$(date +%s)
cleanup() {
  set +e
  if [ -f "$tmp/kube.yaml" ]; then
    podman kube down "$tmp/kube.yaml" >/dev/null 2>&1
    podman secret rm almanac-store >/dev/null 2>&1
  fi
  for c in $(podman ps -a --filter "label=almanac-test=$project" --format '{{.Names}}'); do podman rm -f -t 0 "$c" >/dev/null 2>&1; done
  if [ -f "$tmp/compose.env" ]; then
    (cd deploy && env $(cat "$tmp/compose.env") podman-compose -p "$project" -f compose.yaml down -v >/dev/null 2>&1)
  fi
  podman volume rm -f "${project}_pgdata" >/dev/null 2>&1
  podman network rm -f "${project}_default" >/dev/null 2>&1
  rm -rf "$tmp"
}
trap cleanup EXIT

fail() { echo "container_test: FAILED: $*" >&2; exit 1; }
say() { echo "container_test: $*"; }
phase_start=$started
phase_done() { local now; now=$(date +%s); say "phase $1: ok in $((now - phase_start)) s"; phase_start=$now; }
wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
  local limit=$1 what=$2; shift 2
  local end=$(( $(date +%s) + limit ))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -ge "$end" ] && fail "$what (waited $limit s)"
    sleep 0.2
  done
}

pipelines=(testdata/deploy/pipelines/*.yaml)
# Free ports on 127.0.0.1 for the published ones (image, nginx, Prometheus, kube).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port_image=$(free_port) port_http=$(free_port) port_prom=$(free_port) port_kube=$(free_port)

# A workspace with the sample data, the deploy pipelines' models in production and a token.
make_workspace() {  # make_workspace DIR -> prints the token
  local ws=$1
  "$bin" -w "$ws" -q init
  "$bin" -w "$ws" -q ingest examples/data/us_macro_quarterly.csv >/dev/null
  "$bin" -w "$ws" -q run "${pipelines[@]}" >/dev/null 2>&1
  "$bin" -w "$ws" -q tokens create --role viewer --user deploy-test
}

forecast_ok() {  # forecast_ok URL TOKEN MODEL: a forecast with 4 means
  curl -fsS -H "Authorization: Bearer $2" -H 'Content-Type: application/json' \
    -d "{\"model\":\"$3\",\"horizon\":4}" "$1/v1/forecast" |
    python3 -c 'import json,sys; d=json.load(sys.stdin); assert len(d["mean"])==4, d; print(d["model"], d["version"])'
}

# ------------------------------------------------------------------------------- static
phase_static() {
  local v=deploy/validate
  [ -d "$v/node_modules" ] || (cd "$v" && npm ci --no-audit --no-fund --silent)
  # Every Kubernetes manifest, base and overlays.
  node "$v/validate.mjs" deploy/k8s/base deploy/k8s/overlays/dev deploy/k8s/overlays/production
  # The validator refuses what it should (a check that cannot fail is no check).
  if node "$v/validate.mjs" testdata/deploy/invalid-deployment.yaml >"$tmp/invalid.out" 2>&1; then
    fail "validate.mjs accepted testdata/deploy/invalid-deployment.yaml"
  fi
  grep -q "replicas must be integer" "$tmp/invalid.out" || fail "validate.mjs: $(cat "$tmp/invalid.out")"
  grep -q "readOnlyRootFilesystem" "$tmp/invalid.out" || fail "validate.mjs missed the security context"
  # Argo: the export of the test pipelines and the examples, sharded and not.
  for shards in 1 3; do
    "$bin" export argo "${pipelines[@]}" examples/pipelines/*.yaml --shards "$shards" --image "$image" -o "$tmp/argo-$shards.yaml"
    node "$v/validate.mjs" "$tmp/argo-$shards.yaml"
  done
  # The embedded files are the pipeline files byte for byte once YAML reads them back.
  (cd "$v" && node --input-type=module -e '
    import fs from "node:fs"; import YAML from "yaml";
    const [file, ...pipelines] = process.argv.slice(1);
    const want = new Map(pipelines.map((p) => [p.split("/").pop(), fs.readFileSync(p, "utf8")]));
    let n = 0;
    for (const d of YAML.parseAllDocuments(fs.readFileSync(file, "utf8"))) {
      const o = d.toJS(); if (!o) continue;
      const wf = o.kind === "CronWorkflow" ? o.spec.workflowSpec : o.spec;
      for (const t of wf.templates) for (const a of t.inputs?.artifacts ?? []) {
        const name = a.path.split("/").pop();
        if (want.get(name) !== a.raw.data) { console.error("differs: " + name); process.exit(1); }
        n++;
      }
    }
    if (n !== want.size) { console.error(`${n} embedded of ${want.size}`); process.exit(1); }
  ' "$tmp/argo-3.yaml" "${pipelines[@]/#/$root/}" "$root"/examples/pipelines/*.yaml)
  # Airflow: the DAG file imports, embeds, schedules and shards as the files say.
  "$bin" export airflow "${pipelines[@]}" examples/pipelines/*.yaml --shards 3 -o "$tmp/almanac_dags.py"
  /usr/bin/python3 "$v/check_airflow_dag.py" "$tmp/almanac_dags.py" 3 "${pipelines[@]}" examples/pipelines/*.yaml
  # GitHub workflow files against the published schema.
  for wf in .github/workflows/*.yml deploy/github/*.yml; do
    "$v/node_modules/.bin/action-validator" "$wf" || fail "action-validator: $wf"
  done
  phase_done static
}

# -------------------------------------------------------------------------------- image
phase_image() {
  local t0 t1
  t0=$(date +%s%N)
  scripts/container_image.sh --binary "$bin" -t "$image" >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; fail "image build"; }
  t1=$(date +%s%N)
  grep -q "AS build" "$tmp/build.log" && grep -q "cmake --build" "$tmp/build.log" && fail "the prebuilt build ran the compile stage"
  local size
  size=$(podman image inspect "$image" --format '{{.Size}}')
  say "image built in $(( (t1 - t0) / 1000000 )) ms, $(( size / 1000000 )) MB"
  [ "$size" -le 150000000 ] || fail "image is $(( size / 1000000 )) MB (limit 150 MB)"
  podman image inspect "$image" --format '{{index .Labels "org.opencontainers.image.revision"}} {{.Config.User}} {{.Config.StopSignal}}' |
    grep -qx "$(git rev-parse HEAD 2>/dev/null || echo unknown) 10001:10001 SIGTERM" || fail "labels (revision), user or stop signal"

  local ws=$tmp/ws token port=$port_image
  token=$(make_workspace "$ws")
  chown -R 10001:10001 "$ws"
  local name=$project-serve
  t0=$(date +%s%N)
  podman run -d --name "$name" --label "almanac-test=$project" --health-interval disable -p "127.0.0.1:$port:8080" \
    -v "$ws:/var/lib/almanac/workspace" "$image" serve --listen 0.0.0.0:8080 --shutdown-timeout 10 >/dev/null
  wait_for 30 "serve in the container is ready" curl -fsS "http://127.0.0.1:$port/readyz"
  t1=$(date +%s%N)
  say "container start to ready: $(( (t1 - t0) / 1000000 )) ms"
  [ "$(podman exec "$name" id -u)" = 10001 ] || fail "the container runs as $(podman exec "$name" id -u)"
  [ "$(podman top "$name" user | tail -n 1 | tr -d ' ')" != root ] || fail "the process runs as root"
  forecast_ok "http://127.0.0.1:$port" "$token" deploy-gdp || fail "forecast from the container"
  podman healthcheck run "$name" || fail "healthcheck"
  # Drain: a SIGTERM (podman stop) ends it cleanly, exit code 0, within the drain timeout.
  podman stop -t 15 "$name" >/dev/null 2>&1
  [ "$(podman inspect "$name" --format '{{.State.ExitCode}}')" = 0 ] || fail "serve exited with $(podman inspect "$name" --format '{{.State.ExitCode}}') on SIGTERM"
  podman logs "$name" >"$tmp/serve.log" 2>&1
  grep -q "received SIGTERM: finishing in-flight requests" "$tmp/serve.log" && grep -q '"stopped"\|stopped$' "$tmp/serve.log" ||
    fail "no drain in the logs: $(tail -n 3 "$tmp/serve.log")"
  podman rm -f "$name" >/dev/null 2>&1
  phase_done image
}

# ------------------------------------------------------------------------------ compose
compose() { (cd deploy && env $(cat "$tmp/compose.env") podman-compose -p "$project" -f compose.yaml "$@"); }
cexec() { podman exec "${project}_$1_1" "${@:2}"; }

phase_compose() {
  podman image exists "$image" || scripts/container_image.sh --binary "$bin" -t "$image" >/dev/null
  # PostgreSQL, nginx and Prometheus from Debian's packages (no registry here); cached layers.
  for s in postgres nginx prometheus; do
    podman build --network host --layers -q -t "localhost/almanac-$s:debian" deploy/compose/local/$s >/dev/null
  done
  mkdir -p "$tmp/secrets"
  openssl rand -hex 16 > "$tmp/secrets/postgres_password"
  openssl rand -hex 16 > "$tmp/secrets/grafana_admin_password"
  printf 'store = "postgresql://almanac:%s@postgres:5432/almanac"\n' "$(cat "$tmp/secrets/postgres_password")" > "$tmp/secrets/almanac.toml"
  chmod 644 "$tmp/secrets"/*
  cp -r testdata/deploy/pipelines "$tmp/pipelines"
  cat > "$tmp/compose.env" <<EOF
ALMANAC_IMAGE=$image
ALMANAC_POSTGRES_IMAGE=localhost/almanac-postgres:debian
ALMANAC_NGINX_IMAGE=localhost/almanac-nginx:debian
ALMANAC_PROMETHEUS_IMAGE=localhost/almanac-prometheus:debian
ALMANAC_SECRETS_DIR=$tmp/secrets
ALMANAC_PIPELINES_DIR=$tmp/pipelines
ALMANAC_HTTP_PORT=$port_http
ALMANAC_PROMETHEUS_PORT=$port_prom
EOF
  compose up -d postgres >"$tmp/compose.log" 2>&1 || { cat "$tmp/compose.log"; fail "compose up postgres"; }
  wait_for 60 "PostgreSQL accepts connections" cexec postgres pg_isready -h 127.0.0.1 -U almanac -d almanac
  compose run --rm init >>"$tmp/compose.log" 2>&1 || { cat "$tmp/compose.log"; fail "almanac init in compose"; }
  # Grafana's image is not in Debian: every other service runs.
  compose up -d serve-1 serve-2 nginx worker scheduler prometheus >>"$tmp/compose.log" 2>&1 || { cat "$tmp/compose.log"; fail "compose up"; }
  wait_for 30 "nginx answers" curl -fsS http://127.0.0.1:$port_http/readyz
  # Data, then a pipeline submitted through replica 1, run by the worker.
  podman cp examples/data/us_macro_quarterly.csv "${project}_serve-1_1:/tmp/us_macro_quarterly.csv"
  podman cp testdata/deploy/pipelines/deploy_gdp.yaml "${project}_serve-1_1:/tmp/deploy_gdp.yaml"
  cexec serve-1 almanac -q ingest /tmp/us_macro_quarterly.csv >/dev/null
  cexec serve-1 almanac -q submit /tmp/deploy_gdp.yaml >/dev/null
  wait_for 60 "the worker runs the submitted pipeline" sh -c "podman exec ${project}_serve-1_1 almanac --format csv tasks list | grep -q ',done'"
  local token
  token=$(cexec serve-1 almanac -q tokens create --role viewer --user deploy-test)
  for r in serve-1 serve-2; do
    wait_for 30 "$r serves deploy-gdp" sh -c "podman exec ${project}_${r}_1 curl -fsS -H 'Authorization: Bearer $token' -H 'Content-Type: application/json' -d '{\"model\":\"deploy-gdp\",\"horizon\":4}' http://127.0.0.1:8080/v1/forecast"
  done
  forecast_ok http://127.0.0.1:$port_http "$token" deploy-gdp || fail "forecast through nginx"
  # Prometheus: every target up (serve x2, worker, scheduler).
  wait_for 60 "every Prometheus target is up" sh -c "curl -fsS http://127.0.0.1:$port_prom/api/v1/targets | python3 -c 'import json,sys; t=json.load(sys.stdin)[\"data\"][\"activeTargets\"]; assert len(t)==4 and all(x[\"health\"]==\"up\" for x in t), [(x[\"scrapeUrl\"], x[\"health\"]) for x in t]'"
  curl -fsS http://127.0.0.1:$port_prom/api/v1/rules | grep -q '"type":"alerting"' || fail "Prometheus has not loaded the alert rules"
  # bench/deploy/run.sh: the rolling restart under load (not in the test command).
  if [ "${ALMANAC_DEPLOY_BENCH:-0}" = 1 ]; then
    bench/deploy/rolling_restart.sh "$project" "$port_http" "$token" || fail "rolling restart"
  fi
  phase_done compose
}

# --------------------------------------------------------------------------------- kube
phase_kube() {
  podman image exists "$image" || scripts/container_image.sh --binary "$bin" -t "$image" >/dev/null
  # The base's serve Deployment, Service and ConfigMap, and the Secret almanac-store naming a
  # workspace store, with the test image; published on 127.0.0.1 only.
  local ws=$tmp/kube-ws token
  token=$(make_workspace "$ws")
  chown -R 10001:10001 "$ws"
  (cd deploy/validate && node --input-type=module -e '
    import fs from "node:fs"; import YAML from "yaml";
    const [dir, img, ws, out, port] = process.argv.slice(1);
    const docs = [];
    for (const f of ["configmap.yaml", "serve.yaml"])
      for (const d of YAML.parseAllDocuments(fs.readFileSync(`${dir}/${f}`, "utf8"))) docs.push(d.toJS());
    const keep = docs.filter((o) => ["ConfigMap", "Deployment", "Service"].includes(o.kind));
    const dep = keep.find((o) => o.kind === "Deployment");
    dep.spec.replicas = 1;
    const c = dep.spec.template.spec.containers[0];
    c.image = img;
    // A workspace store (no database in this pod): mounted at ALMANAC_WORKSPACE.
    c.volumeMounts.push({ name: "ws", mountPath: "/tmp/almanac-workspace" });
    dep.spec.template.spec.volumes.push({ name: "ws", hostPath: { path: ws, type: "Directory" } });
    // Published on 127.0.0.1 only (podman kube play publishes container ports).
    c.ports = [{ name: "http", containerPort: 8080, hostIP: "127.0.0.1", hostPort: Number(port) }];
    fs.writeFileSync(out, keep.map((o) => YAML.stringify(o)).join("---\n"));
  ' "$root/deploy/k8s/base" "$image" "$ws" "$tmp/kube.yaml" "$port_kube")
  # The Secret almanac-store: podman 4.3 cannot read back a Secret that kube play stored from
  # YAML (podman issue 16269), so it is made as kube play reads it: the JSON of its data.
  printf '{"url":"%s"}' "$(printf 'sqlite:/tmp/almanac-workspace/almanac.db' | base64 -w0)" |
    podman secret create almanac-store - >/dev/null
  podman kube play "$tmp/kube.yaml" >"$tmp/kube.log" 2>&1 || { cat "$tmp/kube.log"; fail "podman kube play"; }
  wait_for 30 "the kube-played pod is ready" curl -fsS "http://127.0.0.1:$port_kube/readyz"
  forecast_ok "http://127.0.0.1:$port_kube" "$token" deploy-gdp || fail "forecast from the kube-played pod"
  podman kube down "$tmp/kube.yaml" >/dev/null
  podman secret rm almanac-store >/dev/null

  # The Indexed Job: its pod spec (command, args, env) once per index, as Kubernetes would run
  # it, against one workspace; each pod reports the pipelines it ran.
  local ws2=$tmp/job-ws count
  make_workspace "$ws2" >/dev/null
  chown -R 10001:10001 "$ws2"
  count=$(sed -n 's/^  completions: *//p' deploy/k8s/base/train-indexed-job.yaml)
  local shell_cmd
  shell_cmd=$(sed -n 's/^ *args: \["\(exec almanac[^"]*\)"\]/\1/p' deploy/k8s/base/train-indexed-job.yaml)
  [ -n "$shell_cmd" ] && [ -n "$count" ] || fail "cannot read the Indexed Job"
  : > "$tmp/shards.txt"
  for i in $(seq 0 $((count - 1))); do
    podman run --rm --label "almanac-test=$project" --read-only --tmpfs /tmp --cap-drop ALL \
      -e JOB_COMPLETION_INDEX="$i" -e ALMANAC_SHARD_COUNT="$count" \
      -v "$ws2:/var/lib/almanac/workspace" -v "$root/testdata/deploy/pipelines:/etc/almanac/pipelines:ro" \
      --entrypoint /bin/sh "$image" -c "$shell_cmd --force" 2>/dev/null |
      python3 -c 'import json,sys; [print(sys.argv[1], r["pipeline"], r["status"]) for r in json.load(sys.stdin)]' "$i" >> "$tmp/shards.txt"
  done
  python3 - "$tmp/shards.txt" "${#pipelines[@]}" <<'EOF'
import sys
rows = [l.split() for l in open(sys.argv[1])]
names = [r[1] for r in rows]
assert all(r[2] == "finished" for r in rows), rows
assert len(names) == len(set(names)), "a pipeline ran in two shards: %s" % rows
assert len(names) == int(sys.argv[2]), "shards cover %d of %s pipelines: %s" % (len(names), sys.argv[2], rows)
print("container_test: indexed job: %d pipelines ran once each over the shards (%d of them non-empty)" % (len(names), len(set(r[0] for r in rows))))
EOF
  phase_done kube
}

for p in "${phases[@]}"; do
  case "$p" in
    static) phase_static ;;
    image) phase_image ;;
    compose) phase_compose ;;
    kube) phase_kube ;;
    *) fail "unknown phase $p" ;;
  esac
done
say "all phases passed in $(( $(date +%s) - started )) s"
