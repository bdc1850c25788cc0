// Figures of the web console (issue 20; docs/benchmarks.md "Issue 20"). Not part of the test
// command. Needs a built console (cd ui && npm ci && npm run build) and an almanac binary:
//   node bench/ui/bench.mjs --almanac build/ci/src/cli/almanac [--runs 10]
// 1. gzipped JS + CSS of ui/dist (budget 300 kB);
// 2. navigation to a drawn series chart, on loopback, median of N (budget 300 ms): from setting
//    the hash of a series page to its uPlot canvas being drawn, measured in the page;
// 3. filtering 10,000 series (budget 100 ms): the Series page with a 10,000-series list (the
//    /v1/series answer replaced by Playwright), from an input event in the search box to the
//    filtered, re-rendered table (synchronous work measured in the page).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const require = createRequire(path.join(repo, 'ui/package.json'));
const { chromium } = require('playwright-core');
const arg = (n, d) => (process.argv.indexOf(n) > 0 ? process.argv[process.argv.indexOf(n) + 1] : d);
const almanac = path.resolve(arg('--almanac', path.join(repo, 'build/ci/src/cli/almanac')));
const dist = path.resolve(arg('--ui-dir', path.join(repo, 'ui/dist')));
const runs = Number(arg('--runs', '10'));
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

// 1. Size.
let gz = 0;
let raw = 0;
for (const f of fs.readdirSync(path.join(dist, 'assets'))) {
  if (!/\.(js|css)$/.test(f)) continue;
  const b = fs.readFileSync(path.join(dist, 'assets', f));
  raw += b.length;
  gz += zlib.gzipSync(b, { level: 9 }).length;
}
console.log(`JS+CSS: ${(raw / 1024).toFixed(1)} kB, gzipped ${(gz / 1024).toFixed(1)} kB (budget 300 kB)`);

// A workspace with the sample data, and a server.
const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'almanac-ui-bench-'));
const env = { ...process.env };
delete env.ALMANAC_USER;
const cli = (...a) => {
  const r = spawnSync(almanac, ['-w', ws, ...a], { env, encoding: 'utf8', cwd: repo });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout.trim();
};
cli('init');
cli('ingest', 'examples/data/us_macro_quarterly.csv', '--metadata', 'examples/data/us_macro_quarterly.meta.yaml', '--realtime-start', '2009-12-15');
cli('ingest', 'examples/data/us_gdp_revision_illustrative.csv');
const token = cli('--quiet', 'tokens', 'create', '--role', 'viewer', '--user', 'bench');
const log = path.join(ws, 'serve.log');
const server = spawn(almanac, ['-w', ws, 'serve', '--listen', '127.0.0.1:0', '--ui-dir', dist], { env, stdio: ['ignore', 'ignore', fs.openSync(log, 'w')] });
process.on('exit', () => server.exitCode === null && server.kill('SIGKILL'));
let port = '';
for (let i = 0; i < 300 && !port; i++) {
  await new Promise((r) => setTimeout(r, 100));
  port = (/listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(fs.readFileSync(log, 'utf8')) ?? [])[1] ?? '';
}
const base = `http://127.0.0.1:${port}`;
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
await page.goto(`${base}/ui/`);
await page.getByLabel('API token').fill(token);
await page.getByRole('button', { name: 'Sign in' }).click();
await page.locator('[data-testid=series-table]').waitFor();

// 2. Navigation to a drawn chart.
const nav = [];
for (let i = 0; i < runs; i++) {
  await page.evaluate(() => (location.hash = '#/series'));
  await page.locator('[data-testid=series-table]').waitFor();
  const ms = await page.evaluate(
    () =>
      new Promise((resolve) => {
        const t = performance.now();
        const obs = new MutationObserver(() => {
          const c = document.querySelector('[data-testid=series-chart][data-drawn]');
          if (c && c.querySelector('canvas')) {
            obs.disconnect();
            requestAnimationFrame(() => resolve(performance.now() - t));
          }
        });
        obs.observe(document.body, { subtree: true, childList: true, attributes: true });
        location.hash = '#/series/us%3Arealgdp';
      }),
  );
  nav.push(ms);
}
console.log(`navigation to a drawn series chart: median ${median(nav).toFixed(1)} ms of ${runs} (min ${Math.min(...nav).toFixed(1)}, max ${Math.max(...nav).toFixed(1)}; budget 300 ms)`);

// 3. Filtering 10,000 series.
const many = Array.from({ length: 10000 }, (_, i) => ({
  key: `src${i % 7}:series${i}`,
  title: `Synthetic series ${i} ${['GDP', 'CPI', 'unemployment', 'rates'][i % 4]}`,
  frequency: ['Q', 'M', 'A'][i % 3],
  unit: ['USD', 'index', 'percent'][i % 3],
  seasonal_adjustment: 'SA',
  source: `source-${i % 5}`,
}));
await page.route('**/v1/series', (r) => r.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ series: many, request_id: 'bench' }) }));
await page.evaluate(() => (location.hash = '#/series/x'));
await page.evaluate(() => (location.hash = '#/series'));
await page.locator('[data-testid=series-table]').waitFor();
const filt = [];
for (const q of ['gdp', 'series12', 'cpi 99', 'synthetic', 'nothing-matches', 'rates src3', 'series', '1', 'unemployment 5', '']) {
  filt.push(
    await page.evaluate((text) => {
      const input = document.querySelector('input[name=q]');
      const t = performance.now();
      input.value = text;
      input.dispatchEvent(new Event('input'));
      return performance.now() - t;
    }, q),
  );
}
const count = await page.locator('p.muted[aria-live]').textContent();
console.log(`filtering 10,000 series (filter + table re-render): median ${median(filt).toFixed(1)} ms, max ${Math.max(...filt).toFixed(1)} ms (budget 100 ms; last: ${count})`);

await browser.close();
server.kill('SIGTERM');
fs.rmSync(ws, { recursive: true, force: true });
