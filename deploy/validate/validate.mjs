// Offline checks of almanac's Kubernetes and Argo manifests (docs/deploy.md, "What is tested").
//
//   node deploy/validate/validate.mjs PATH...
//
// PATH is a YAML file (every document is checked) or a kustomization folder (rendered as
// `kubectl apply -k` would, then checked). Each object is validated against the API schema of
// its apiVersion and kind (npm kubernetes-models, @kubernetes-models/argo-workflows); an
// object of an unknown kind is an error, not a skip. Then almanac's own rules: every container
// runs as non-root with a read-only root file system and no capabilities, and a serve
// Deployment has probes and a termination grace longer than its --shutdown-timeout.
//
// Kustomize is not packaged in Debian 12, so the rendering here covers what deploy/k8s uses:
// resources, namespace, labels, images, replicas, configMapGenerator, secretGenerator (a file
// that is not in git, such as store-url.txt, gets a placeholder value) and strategic-merge
// patches (lists of named items merge by name). Generated names keep no hash suffix.
import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";

const modules = {
  "v1": "kubernetes-models/v1",
  "apps/v1": "kubernetes-models/apps/v1",
  "batch/v1": "kubernetes-models/batch/v1",
  "autoscaling/v2": "kubernetes-models/autoscaling/v2",
  "policy/v1": "kubernetes-models/policy/v1",
  "networking.k8s.io/v1": "kubernetes-models/networking.k8s.io/v1",
  "argoproj.io/v1alpha1": "@kubernetes-models/argo-workflows/argoproj.io/v1alpha1",
};
const clusterScoped = new Set(["Namespace", "ClusterRole", "ClusterRoleBinding", "PersistentVolume"]);

const errors = [];
let checked = 0;

function readDocs(file) {
  const docs = YAML.parseAllDocuments(fs.readFileSync(file, "utf8"));
  const out = [];
  for (const d of docs) {
    if (d.errors.length) throw new Error(`${file}: ${d.errors[0].message}`);
    const v = d.toJS();
    if (v !== null && v !== undefined) out.push(v);
  }
  return out;
}

function isObject(v) { return v !== null && typeof v === "object" && !Array.isArray(v); }

// Strategic merge as kustomize does it for the fields deploy/k8s patches.
function merge(base, patch) {
  if (Array.isArray(base) && Array.isArray(patch) && patch.every((p) => isObject(p) && "name" in p)) {
    const out = base.map((b) => ({ ...b }));
    for (const p of patch) {
      const i = out.findIndex((b) => isObject(b) && b.name === p.name);
      if (i >= 0) out[i] = merge(out[i], p); else out.push(p);
    }
    return out;
  }
  if (isObject(base) && isObject(patch)) {
    const out = { ...base };
    for (const [k, v] of Object.entries(patch)) out[k] = k in out ? merge(out[k], v) : v;
    return out;
  }
  return patch;
}

function generated(dir, kind, gen, binary) {
  const data = {};
  for (const entry of gen.files ?? []) {
    const [key, file] = entry.includes("=") ? entry.split("=", 2) : [path.basename(entry), entry];
    const full = path.join(dir, file);
    let value;
    if (fs.existsSync(full)) value = fs.readFileSync(full, "utf8");
    else if (kind === "Secret") value = `placeholder: ${file} is not in git`;
    else throw new Error(`${dir}: configMapGenerator ${gen.name}: ${file} does not exist`);
    data[key] = binary ? Buffer.from(value).toString("base64") : value;
  }
  for (const lit of gen.literals ?? []) {
    const [k, v] = lit.split("=", 2);
    data[k] = binary ? Buffer.from(v).toString("base64") : v;
  }
  return { apiVersion: "v1", kind, metadata: { name: gen.name }, data };
}

function render(dir) {
  const k = readDocs(path.join(dir, "kustomization.yaml"))[0];
  let objs = [];
  for (const r of k.resources ?? []) {
    const full = path.join(dir, r);
    objs.push(...(fs.statSync(full).isDirectory() ? render(full) : readDocs(full)));
  }
  for (const g of k.configMapGenerator ?? []) objs.push(generated(dir, "ConfigMap", g, false));
  for (const g of k.secretGenerator ?? []) objs.push(generated(dir, "Secret", g, true));
  for (const p of k.patches ?? []) {
    for (const patch of readDocs(path.join(dir, p.path))) {
      const i = objs.findIndex((o) => o.kind === patch.kind && o.metadata?.name === patch.metadata?.name);
      if (i < 0) throw new Error(`${dir}: patch ${p.path} matches no ${patch.kind} ${patch.metadata?.name}`);
      objs[i] = merge(objs[i], patch);
    }
  }
  for (const r of k.replicas ?? []) {
    const o = objs.find((x) => x.metadata?.name === r.name && x.spec && "replicas" in x.spec);
    if (!o) throw new Error(`${dir}: replicas: no object ${r.name} with spec.replicas`);
    o.spec.replicas = r.count;
  }
  const images = k.images ?? [];
  const visit = (v) => {
    if (Array.isArray(v)) v.forEach(visit);
    else if (isObject(v)) {
      if (Array.isArray(v.containers)) {
        for (const c of v.containers) {
          const img = images.find((i) => i.name === c.image?.split(":")[0]);
          if (img) c.image = `${img.newName ?? img.name}:${img.newTag ?? "latest"}`;
        }
      }
      Object.values(v).forEach(visit);
    }
  };
  objs.forEach(visit);
  for (const l of k.labels ?? []) {
    for (const o of objs) o.metadata = { ...o.metadata, labels: { ...o.metadata?.labels, ...l.pairs } };
  }
  if (k.namespace) {
    for (const o of objs) if (!clusterScoped.has(o.kind)) o.metadata = { ...o.metadata, namespace: k.namespace };
  }
  return objs;
}

function podSpecs(o) {
  switch (o.kind) {
    case "Deployment": case "Job": return [o.spec?.template?.spec];
    case "CronJob": return [o.spec?.jobTemplate?.spec?.template?.spec];
    case "Pod": return [o.spec];
    default: return [];
  }
}

function policy(where, o) {
  const fail = (m) => errors.push(`${where}: ${o.kind} ${o.metadata?.name ?? o.metadata?.generateName}: ${m}`);
  for (const spec of podSpecs(o)) {
    if (!spec) { fail("no pod spec"); continue; }
    if (spec.securityContext?.runAsNonRoot !== true) fail("pod securityContext.runAsNonRoot is not true");
    for (const c of spec.containers ?? []) {
      const s = c.securityContext ?? {};
      if (s.readOnlyRootFilesystem !== true) fail(`container ${c.name}: readOnlyRootFilesystem is not true`);
      if (s.allowPrivilegeEscalation !== false) fail(`container ${c.name}: allowPrivilegeEscalation is not false`);
      if (!(s.capabilities?.drop ?? []).includes("ALL")) fail(`container ${c.name}: capabilities do not drop ALL`);
      const args = [...(c.command ?? []), ...(c.args ?? [])];
      if (args.includes("serve")) {
        if (!c.readinessProbe || !c.livenessProbe) fail(`container ${c.name}: serve without readiness and liveness probes`);
        const i = args.indexOf("--shutdown-timeout");
        const drain = i >= 0 ? Number(args[i + 1]) : 30;  // serve's default
        const grace = spec.terminationGracePeriodSeconds ?? 30;
        if (!(grace > drain)) fail(`terminationGracePeriodSeconds ${grace} is not longer than the drain (${drain} s)`);
      }
    }
  }
  if (o.kind === "Workflow" || o.kind === "CronWorkflow") {
    const wf = o.kind === "CronWorkflow" ? o.spec?.workflowSpec : o.spec;
    for (const t of wf?.templates ?? []) {
      if (!t.container) continue;
      const s = t.container.securityContext ?? {};
      if (s.runAsNonRoot !== true || s.readOnlyRootFilesystem !== true || !(s.capabilities?.drop ?? []).includes("ALL"))
        fail(`template ${t.name}: container is not non-root, read-only and without capabilities`);
    }
  }
}

async function validate(where, o) {
  const mod = modules[o.apiVersion];
  if (!mod) { errors.push(`${where}: ${o.kind}: apiVersion ${o.apiVersion} has no schema here`); return; }
  const lib = await import(mod);
  const Model = lib[o.kind];
  if (!Model) { errors.push(`${where}: ${o.apiVersion} has no kind ${o.kind}`); return; }
  try {
    new Model(o).validate();
  } catch (e) {
    errors.push(`${where}: ${o.kind} ${o.metadata?.name ?? o.metadata?.generateName}: ${e.message}`);
  }
  policy(where, o);
  checked++;
}

const args = process.argv.slice(2);
if (args.length === 0) {
  console.error("usage: node validate.mjs FILE.yaml|KUSTOMIZATION_DIR...");
  process.exit(2);
}
for (const a of args) {
  try {
    const objs = fs.statSync(a).isDirectory() ? render(a) : readDocs(a);
    if (objs.length === 0) errors.push(`${a}: no objects`);
    for (const o of objs) await validate(a, o);
  } catch (e) {
    errors.push(`${a}: ${e.message}`);
  }
}
for (const e of errors) console.error(`validate: ${e}`);
console.log(`validate: ${checked} object(s) checked, ${errors.length} problem(s)`);
process.exit(errors.length ? 1 : 0);
