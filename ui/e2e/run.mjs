// End-to-end test of the web console (issue 20): a workspace prepared by the CLI, a real
// `almanac serve` on a loopback port serving ui/dist, and Debian's Chromium driven headless by
// playwright-core (no browser download, no internet).
//
//   node e2e/run.mjs --almanac build/dev/src/cli/almanac [--out DIR] [--docs-img DIR]
//
// Screenshots: every step's in --out (kept as test output; failure-*.png on a failure), and
// with --docs-img the ones docs/ui.md shows. Exit 0 when every step passed.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const uiDir = path.resolve(here, '..');
const repo = path.resolve(uiDir, '..');

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
}
const almanac = path.resolve(arg('--almanac', process.env.ALMANAC_BIN ?? path.join(repo, 'build/dev/src/cli/almanac')));
const out = path.resolve(arg('--out', path.join(uiDir, 'test-results')));
const docsImg = arg('--docs-img', '');
const dist = path.resolve(arg('--ui-dir', path.join(uiDir, 'dist')));
const browserPath = process.env.CHROMIUM ?? '/usr/bin/chromium';
fs.mkdirSync(out, { recursive: true });

const t0 = Date.now();
const log = (...a) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...a);

// ------------------------------------------------------------------ the workspace, by the CLI
const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'almanac-ui-e2e-'));
const baseEnv = { ...process.env };
delete baseEnv.ALMANAC_USER;
delete baseEnv.ALMANAC_STORE;
function cli(args, user) {
  const env = { ...baseEnv };
  if (user) env.ALMANAC_USER = user;
  const r = spawnSync(almanac, ['-w', ws, ...args], { env, encoding: 'utf8', cwd: repo });
  if (r.status !== 0) throw new Error(`almanac ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout.trim();
}

log('preparing the workspace in', ws);
cli(['init']);
cli(['ingest', 'examples/data/us_macro_quarterly.csv', '--metadata', 'examples/data/us_macro_quarterly.meta.yaml', '--realtime-start', '2009-12-15']);
cli(['ingest', 'examples/data/us_gdp_revision_illustrative.csv']);
cli(['run', 'testdata/ui/console_a.yaml'], 'alice');
cli(['models', 'approve', 'console-gdp@1', '--reason', 'first version reviewed'], 'bob');
cli(['run', 'testdata/ui/console_b.yaml'], 'alice');
const tokens = {
  alice: cli(['--quiet', 'tokens', 'create', '--role', 'admin', '--user', 'alice']),
  bob: cli(['--quiet', 'tokens', 'create', '--role', 'approver', '--user', 'bob']),
};
// The 2009Q3 value before and after the revision (the sample file, and the revision file).
const sample = fs.readFileSync(path.join(repo, 'examples/data/us_macro_quarterly.csv'), 'utf8').split('\n');
const header = sample[0].split(',');
function originalValue() {
  // Wide form: a period column and one column per series.
  const col = header.indexOf('us:realgdp');
  for (const line of sample.slice(1)) {
    const cells = line.split(',');
    if (/2009-?Q3|2009-07/.test(cells[0])) return Number(cells[col]);
  }
  throw new Error('2009Q3 not found in the sample');
}
const oldValue = originalValue();
const newValue = Number(fs.readFileSync(path.join(repo, 'examples/data/us_gdp_revision_illustrative.csv'), 'utf8').split('\n')[1].split(',')[2]);
log(`2009Q3 real GDP: ${oldValue} before the revision, ${newValue} after`);

// ------------------------------------------------------------------ the server
const serveLog = path.join(out, 'serve.log');
const server = spawn(almanac, ['-w', ws, 'serve', '--listen', '127.0.0.1:0', '--poll-seconds', '0.5', '--threads', '2', '--ui-dir', dist], {
  env: baseEnv,
  stdio: ['ignore', 'ignore', fs.openSync(serveLog, 'w')],
});
// Never leave the server behind, whatever fails below.
process.on('exit', () => server.exitCode === null && server.kill('SIGKILL'));
let port = '';
for (let i = 0; i < 300 && !port; i++) {
  await new Promise((r) => setTimeout(r, 100));
  const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(fs.readFileSync(serveLog, 'utf8'));
  if (m) port = m[1];
}
if (!port) {
  console.error(fs.readFileSync(serveLog, 'utf8'));
  throw new Error('almanac serve did not start');
}
const base = `http://127.0.0.1:${port}`;
log('server at', base);

// ------------------------------------------------------------------ the browser
const browser = await chromium.launch({ executablePath: browserPath, headless: true, args: ['--no-sandbox'] });
const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
const page = await context.newPage();
const problems = [];
page.on('pageerror', (e) => problems.push('page error: ' + e.message));
page.on('console', (m) => {
  // API refusals are expected in some steps (the page shows them); anything else, a CSP
  // violation above all, fails the step.
  if (m.type() === 'error' && !/^Failed to load resource: the server responded with a status of 4\d\d/.test(m.text()))
    problems.push('console error: ' + m.text());
});
page.setDefaultTimeout(15000);

let failed = 0;
let passed = 0;
async function step(name, fn) {
  const s = Date.now();
  try {
    await fn();
    if (problems.length > 0) throw new Error(problems.splice(0).join('\n'));
    passed++;
    log(`ok   ${name} (${Date.now() - s} ms)`);
  } catch (e) {
    failed++;
    const shot = path.join(out, `failure-${name.replace(/[^a-z0-9]+/gi, '-')}.png`);
    await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
    log(`FAIL ${name}: ${e.message}\n     screenshot: ${shot}`);
  }
}
async function shot(name) {
  const file = path.join(out, name);
  await page.screenshot({ path: file, fullPage: false });
  const forDocs = ['series.png', 'series-theme.png', 'runs-compare.png', 'run-timeline.png', 'registry-four-eyes.png', 'forecast.png', 'audit-broken.png'];
  if (docsImg && forDocs.includes(name)) fs.copyFileSync(file, path.join(docsImg, 'ui-' + name));
}
function expect(cond, message) {
  if (!cond) throw new Error(message);
}
async function signIn(token) {
  await page.goto(`${base}/ui/`);
  await page.evaluate(() => sessionStorage.clear());  // signed out
  await page.reload();
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

await step('security headers and SPA fallback', async () => {
  const res = await page.request.get(`${base}/ui/registry/deep/link`);
  expect(res.status() === 200, `deep link status ${res.status()}`);
  const h = res.headers();
  expect(/script-src 'self'/.test(h['content-security-policy'] ?? ''), 'CSP missing');
  expect(!/unsafe-inline/.test(h['content-security-policy'] ?? ''), 'CSP allows inline');
  expect(/frame-ancestors 'none'/.test(h['content-security-policy'] ?? ''), 'frame-ancestors missing');
  expect(h['x-content-type-options'] === 'nosniff', 'nosniff missing');
  // Raw targets (a browser's URL parser would resolve the dots before sending).
  for (const target of ['/ui/%2e%2e/%2e%2e/etc/passwd', '/ui/assets/..%2f..%2fREADME.md', '/ui/../../etc/passwd']) {
    const status = await new Promise((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: Number(port), path: target }, (r) => (r.resume(), resolve(r.statusCode))).on('error', reject);
    });
    expect(status === 400, `traversal ${target} answered ${status}`);
  }
});

await step('bad token refused', async () => {
  await signIn('alm_' + '0'.repeat(64));
  const err = page.locator('.error');
  await err.waitFor();
  const text = await err.textContent();
  expect(/401/.test(text) && /sign in again/i.test(text), `unexpected message: ${text}`);
  expect(await page.getByLabel('API token').isVisible(), 'sign-in form gone');
  await shot('signin-refused.png');
});

await step('sign in', async () => {
  await signIn(tokens.alice);
  await page.locator('#who', { hasText: 'alice (admin)' }).waitFor();
  // The token is in sessionStorage, never in the URL.
  expect(!page.url().includes(tokens.alice), 'token in the URL');
});

await step('series: search, as-of slider shows the value before the revision', async () => {
  await page.goto(`${base}/ui/#/series`);
  await page.getByLabel('Search').fill('realgdp');
  await page.locator('[data-testid=series-table] a', { hasText: 'us:realgdp' }).click();
  const info = page.locator('[data-testid=asof-info]');
  await info.filter({ hasText: `2009Q3 = ${newValue}` }).waitFor();
  await page.locator('[data-testid=series-chart] canvas').waitFor();
  // Move the vintage slider to the first vintage (2009-12-15, before the revision).
  const slider = page.getByLabel('Vintage', { exact: true });
  await slider.focus();
  await page.keyboard.press('Home');
  await info.filter({ hasText: `2009Q3 = ${oldValue}` }).waitFor();
  expect(/As known on 2009-12-15/.test(await info.textContent()), 'as-of date not shown');
  expect(/as_of=2009-12-15/.test(page.url()), 'as-of not in the deep link');
  // The revision history of 2009Q3 has both values.
  await page.getByLabel('Period').selectOption('2009Q3');
  const rev = page.locator('[data-testid=revisions]');
  await rev.filter({ hasText: String(newValue) }).waitFor();
  expect((await rev.textContent()).includes(String(oldValue)), 'old value missing from the revision history');
  await shot('series.png');
  // A deep link to the older view opens the same state.
  await page.goto(`${base}/ui/#/series/us%3Arealgdp?as_of=2009-12-20`);
  await page.locator('[data-testid=asof-info]', { hasText: `2009Q3 = ${oldValue}` }).waitFor();
});

await step('series: CSV download, sorting, dark theme', async () => {
  await page.goto(`${base}/ui/#/series/us%3Arealgdp?as_of=2009-12-15`);
  await page.locator('[data-testid=asof-info]', { hasText: `2009Q3 = ${oldValue}` }).waitFor();
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download CSV' }).click()]);
  const csv = fs.readFileSync(await download.path(), 'utf8');
  expect(download.suggestedFilename() === 'us_realgdp_asof_2009-12-15.csv', download.suggestedFilename());
  expect(csv.startsWith('period,us:realgdp\r\n1959Q1,2710.349\r\n') && csv.includes(`2009Q3,${oldValue}\r\n`), 'CSV content');
  // Sort the values by value, descending: the largest first.
  const values = page.locator('[data-testid=values-table]');
  await values.getByRole('button', { name: 'Value' }).click();
  await values.getByRole('button', { name: 'Value ▲' }).click();
  const first = await values.locator('tbody tr').first().locator('td').nth(1).textContent();
  expect(first === String(13415.266), `largest value first, got ${first}`);
  await page.getByRole('button', { name: 'Switch light or dark theme' }).click();
  const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  expect(bg === 'rgb(20, 24, 30)' || bg === 'rgb(255, 255, 255)', bg);
  await shot('series-theme.png');
  await page.getByRole('button', { name: 'Switch light or dark theme' }).click();
  const bg2 = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  expect(bg2 !== bg, 'the theme did not switch');
});

await step('snapshots diff, lineage graph, monitoring', async () => {
  await page.goto(`${base}/ui/#/snapshots`);
  await page.locator('[data-testid=snapshots-table]').waitFor();
  await page.getByRole('button', { name: 'Diff' }).click();
  const diff = page.locator('[data-testid=snapshot-diff]');
  await diff.filter({ hasText: '2009Q3' }).waitFor();
  expect((await diff.textContent()).includes(String(newValue)), 'the revised value is not in the diff');
  await shot('snapshot-diff.png');
  await page.goto(`${base}/ui/#/registry/console-gdp/1`);
  await page.locator('.graph .node', { hasText: 'snapshot' }).waitFor();
  expect((await page.locator('.graph').textContent()).includes('us:realgdp'), 'vintages missing from the lineage');
  await shot('lineage.png');
  await page.goto(`${base}/ui/#/monitoring`);
  await page.locator('[data-testid=alerts]').waitFor();
  await shot('monitoring.png');
});

await step('runs: compare two runs', async () => {
  await page.goto(`${base}/ui/#/runs`);
  const boxes = page.locator('[data-testid=runs-table] input[type=checkbox]');
  await boxes.first().waitFor();
  expect((await boxes.count()) >= 2, 'fewer than two runs');
  await boxes.nth(0).check();
  await boxes.nth(1).check();
  await page.locator('[data-testid=compare]').click();
  const params = page.locator('[data-testid=compare-params]');
  await params.waitFor();
  expect((await params.locator('tr.differs').count()) > 0, 'no parameter difference highlighted');
  await page.locator('[data-testid=compare-metrics]').waitFor();
  await shot('runs-compare.png');
});

await step("runs: one run's steps on a timeline and its log", async () => {
  // Run A (console_a.yaml): load, validate, transform, a train and an evaluate step per model,
  // register and promote, each a bar on the timeline; the log is what `almanac run` printed.
  const res = await fetch(`${base}/v1/runs?pipeline=console-gdp-a`, { headers: { Authorization: `Bearer ${tokens.alice}` } });
  expect(res.ok, `GET /v1/runs: ${res.status}`);
  const { runs } = await res.json();
  expect(runs.length === 1, `expected one run of console-gdp-a, got ${runs.length}`);
  const id = runs[0].id;
  await page.goto(`${base}/ui/#/runs/${encodeURIComponent(id)}`);
  const rows = page.locator('[data-testid=steps-timeline] li.step-row');
  await rows.first().waitFor();
  const steps = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-step')));
  const want = ['load', 'validate', 'transform', 'train:naive', 'train:mean', 'evaluate:naive', 'evaluate:mean', 'register', 'promote'];
  expect(JSON.stringify([...steps].sort()) === JSON.stringify([...want].sort()), `timeline steps ${JSON.stringify(steps)}, expected ${JSON.stringify(want)}`);
  expect(steps[0] === 'load', `the first bar is ${steps[0]}, not load`);
  // Every bar is drawn inside its track with a width.
  const widths = await page.locator('[data-testid=steps-timeline] .step-bar').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().width));
  expect(widths.length === want.length && widths.every((w) => w > 0), `bar widths ${JSON.stringify(widths)}`);
  const logText = await page.locator('pre[data-testid=run-log]').innerText();
  expect(logText.includes(`run ${id} of pipeline console-gdp-a`) && logText.includes('[train:naive] done'), `unexpected log:\n${logText}`);
  expect((await page.getByRole('heading', { name: 'Log' }).count()) === 1, 'no Log heading');
  await shot('run-timeline.png');
});

await step('registry: A requests production, A approving is refused (four-eyes)', async () => {
  await page.goto(`${base}/ui/#/registry/console-gdp`);
  await page.getByRole('button', { name: 'Promote 2 to production' }).click();
  await page.getByLabel('Reason (recorded in the audit log)').fill('better backtest');
  await page.getByRole('button', { name: 'Confirm' }).click();
  const result = page.locator('[data-testid=action-result]');
  await result.filter({ hasText: 'requested' }).waitFor();
  await page.locator('[data-testid=request-2]').waitFor();
  await page.getByRole('button', { name: 'Approve 2' }).click();
  await page.getByLabel('Reason (recorded in the audit log)').fill('approving my own');
  await page.getByRole('button', { name: 'Confirm' }).click();
  const err = result.locator('.error');
  await err.waitFor();
  const text = await err.textContent();
  expect(/alice/.test(text) && /(four-eyes|own|requested)/i.test(text), `refusal not shown: ${text}`);
  await shot('registry-four-eyes.png');
});

await step('registry: B approves; the forecast page shows version 2', async () => {
  await signIn(tokens.bob);
  await page.locator('#who', { hasText: 'bob (approver)' }).waitFor();
  await page.goto(`${base}/ui/#/registry/console-gdp`);
  await page.getByRole('button', { name: 'Approve 2' }).click();
  await page.getByLabel('Reason (recorded in the audit log)').fill('reviewed the backtest');
  await page.getByRole('button', { name: 'Confirm' }).click();
  await page.locator('[data-testid=action-result]', { hasText: 'now production' }).waitFor();
  // The server loads the new production version on its next poll (0.5 s here).
  let shown = '';
  for (let i = 0; i < 20; i++) {
    await page.goto(`${base}/ui/#/forecasts?model=console-gdp&version=production&horizon=4&t=${i}`);
    const v = page.locator('[data-testid=forecast-version]');
    await v.waitFor();
    shown = await v.textContent();
    if (/version 2 \(production\)/.test(shown)) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  expect(/version 2 \(production\)/.test(shown), `forecast page shows: ${shown}`);
  await page.locator('[data-testid=fan-chart] canvas').waitFor();
  // The numbers are exactly those of POST /v1/forecast.
  const api = await page.request.post(`${base}/v1/forecast`, {
    headers: { Authorization: `Bearer ${tokens.bob}` },
    data: { model: 'console-gdp', alias: 'production', horizon: 4, levels: [80, 95] },
  });
  const fc = await api.json();
  const cells = await page.locator('[data-testid=forecast-table] tbody tr').evaluateAll((rows) =>
    rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent)),
  );
  expect(cells.length === 4, `${cells.length} forecast rows`);
  for (let i = 0; i < 4; i++) {
    expect(cells[i][0] === fc.periods[i], `period ${i}: ${cells[i][0]} vs ${fc.periods[i]}`);
    expect(cells[i][1] === String(fc.mean[i]), `mean ${i}: ${cells[i][1]} vs ${fc.mean[i]}`);
    expect(cells[i][2] === String(fc.intervals[0].lower[i]), `80 lower ${i}`);
    expect(cells[i][5] === String(fc.intervals[1].upper[i]), `95 upper ${i}`);
  }
  await shot('forecast.png');
});

await step('audit: intact, then a tampered log shown broken', async () => {
  await page.goto(`${base}/ui/#/audit`);
  await page.locator('[data-testid=audit-verify]', { hasText: 'intact' }).waitFor();
  await page.getByLabel('Actor').fill('bob');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.locator('[data-testid=audit-table]', { hasText: 'model.' }).waitFor();
  // Someone with the database file rewrites an entry without fixing the chain.
  const py = spawnSync('python3', ['-c', `import sqlite3,sys
db=sqlite3.connect(sys.argv[1]); db.execute("UPDATE audit_log SET actor='mallory' WHERE seq=3"); db.commit()`, path.join(ws, 'almanac.db')]);
  expect(py.status === 0, 'tampering failed: ' + py.stderr);
  await page.goto(`${base}/ui/#/audit?t=1`);
  const v = page.locator('[data-testid=audit-verify]');
  await v.filter({ hasText: 'BROKEN' }).waitFor();
  expect(/entry 3/.test(await v.textContent()), `broken entry not named: ${await v.textContent()}`);
  await shot('audit-broken.png');
});

await browser.close();
server.kill('SIGTERM');
await new Promise((r) => server.once('exit', r));
// No token in a log line.
const serverLog = fs.readFileSync(serveLog, 'utf8');
if (serverLog.includes(tokens.alice) || serverLog.includes(tokens.bob) || /alm_[0-9a-f]{16}/.test(serverLog)) {
  failed++;
  log('FAIL a token appears in the server log');
} else {
  passed++;
  log('ok   no token in the server log');
}
fs.rmSync(ws, { recursive: true, force: true });
log(`${passed} passed, ${failed} failed; screenshots and serve.log in ${out}`);
process.exit(failed === 0 ? 0 : 1);
