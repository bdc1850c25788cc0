// Runs: the list (status, duration, user, pipeline commit), one run (params, metrics, tags,
// artifacts, reproduce status) and 2+ runs side by side with the differences highlighted.
import { enc, get } from '../api';
import { clear, empty, h, withLoading } from '../dom';
import { compareMaps, durationSeconds, formatDuration, formatNumber, formatRoute, formatTime, layoutTimeline, Route, TimelineStep } from '../logic';
import { table } from '../table';

interface RunSummary {
  id: string;
  experiment: string;
  pipeline: string;
  status: string;
  start: string | null;
  end: string | null;
  user: string;
  host: string;
  pipeline_sha256: string;
  snapshot_id: string;
  git_commit: string;
  almanac_version: string;
  seed: number;
  error: string;
  reproduces: string;
}
interface RunDetail extends RunSummary {
  params: Record<string, string>;
  metrics: Record<string, number>;
  tags: Record<string, string>;
  artifacts: { name: string; kind: string; sha256: string; size: number }[];
  // Issue 20: absent on runs from before the runner recorded them.
  timeline?: TimelineStep[];
  log?: string;
  log_truncated?: boolean;
  records_error?: string;
}

const short = (s: string, n = 12) => (s && s.length > n ? s.slice(0, n) + '…' : s);

export async function runsPage(main: HTMLElement, r: Route): Promise<void> {
  if (r.args[0] === 'compare') return compare(main, (r.query.ids ?? '').split(',').filter(Boolean));
  if (r.args.length > 0) return runDetail(main, r.args[0]);
  main.append(h('h1', {}, 'Runs'));
  const body = h('div', {});
  main.append(body);
  await withLoading(body, async () => {
    const { runs } = await get<{ runs: RunSummary[] }>('/v1/runs?limit=1000');
    if (runs.length === 0) return empty('No runs yet: run a pipeline with almanac run.');
    const chosen = new Set<string>();
    const btn = h('button', { type: 'button', disabled: true, 'data-testid': 'compare' }, 'Compare selected');
    btn.addEventListener('click', () => (location.hash = formatRoute('runs', ['compare'], { ids: [...chosen].join(',') })));
    const t = table(
      runs,
      [
        {
          label: 'Compare',
          value: () => '',
          render: (x) => {
            const cb = h('input', { type: 'checkbox', 'aria-label': `select run ${x.id}`, checked: chosen.has(x.id) });
            cb.addEventListener('change', () => {
              if (cb.checked) chosen.add(x.id);
              else chosen.delete(x.id);
              btn.disabled = chosen.size < 2;
              btn.textContent = `Compare selected (${chosen.size})`;
            });
            return cb;
          },
        },
        { label: 'Run', value: (x) => x.id, render: (x) => h('a', { href: formatRoute('runs', [x.id]) }, short(x.id, 16)) },
        { label: 'Pipeline', value: (x) => x.pipeline || x.experiment },
        { label: 'Status', value: (x) => x.status, render: (x) => h('span', { class: 'badge ' + x.status }, x.status) },
        { label: 'Started', value: (x) => formatTime(x.start) },
        { label: 'Duration', value: (x) => durationSeconds(x.start, x.end), render: (x) => formatDuration(durationSeconds(x.start, x.end)), numeric: true },
        { label: 'User', value: (x) => x.user },
        { label: 'Commit', value: (x) => x.git_commit, render: (x) => h('code', {}, short(x.git_commit || x.pipeline_sha256, 10)) },
        { label: 'Reproduces', value: (x) => x.reproduces, render: (x) => (x.reproduces ? h('a', { href: formatRoute('runs', [x.reproduces]) }, short(x.reproduces, 16)) : '') },
      ],
      { testId: 'runs-table' },
    );
    return h('div', {}, h('div', { class: 'filters' }, btn), t);
  });
}

function kv(obj: Record<string, unknown>, label: string): HTMLElement {
  const rows = Object.entries(obj).map(([k, v]) => ({ k, v }));
  return table(
    rows,
    [
      { label, value: (x) => x.k },
      { label: 'Value', value: (x) => (typeof x.v === 'number' ? x.v : String(x.v)), render: (x) => (typeof x.v === 'number' ? formatNumber(x.v) : String(x.v)) },
    ],
    { emptyText: `No ${label.toLowerCase()}s.` },
  );
}

// The steps on a timeline (issue 20): one row per step, its bar placed by its start offset and
// duration on the span of all steps; cached steps hatched and labelled, failed ones red.
function stepsTimeline(run: RunDetail): HTMLElement {
  const note = run.records_error ? h('p', { class: 'error-text' }, `The run's records could not be read: ${run.records_error}`) : null;
  const { total, bars } = layoutTimeline(run.timeline);
  if (bars.length === 0)
    return h('div', { 'data-testid': 'steps-timeline' }, note, empty(run.timeline ? 'This run recorded no steps.' : 'No step timeline: this run is older than step timings (they are recorded since issue 20).'));
  const rows = bars.map((b) => {
    const what = `${b.step}: starts at ${formatDuration(b.start)}, takes ${formatDuration(b.seconds)}${b.cached ? ' (cached)' : ''}${b.status === 'failed' ? ' (failed)' : ''}`;
    const bar = h('div', { class: 'step-bar' + (b.cached ? ' cached' : '') + (b.status === 'failed' ? ' failed' : ''), title: what });
    bar.style.left = `${b.left}%`;
    bar.style.width = `${b.width}%`;
    return h(
      'li',
      { class: 'step-row', 'data-step': b.step, 'aria-label': what },
      h('span', { class: 'step-name' }, b.step, b.cached ? h('span', { class: 'badge cached' }, 'cached') : null, b.status === 'failed' ? h('span', { class: 'badge failed' }, 'failed') : null),
      h('span', { class: 'step-track' }, bar),
      h('span', { class: 'step-time' }, formatDuration(b.seconds)),
    );
  });
  return h(
    'div',
    { 'data-testid': 'steps-timeline' },
    note,
    h('ol', { class: 'steps', 'aria-label': `${bars.length} steps over ${formatDuration(total)}` }, ...rows),
    h('p', { class: 'muted' }, `0 to ${formatDuration(total)} from the run's start; hatched bars were served from the step cache.`),
  );
}

// The run's progress log (what `almanac run` printed), the last 64 KiB at most.
function runLog(run: RunDetail): HTMLElement {
  if (run.log === undefined) return h('div', { 'data-testid': 'run-log' }, empty('No log: this run is older than run logs.'));
  return h(
    'div',
    {},
    run.log_truncated ? h('p', { class: 'muted' }, 'Only the last 64 KiB of the log are shown.') : null,
    h('pre', { class: 'run-log', 'data-testid': 'run-log', 'aria-labelledby': 'run-log-label', tabindex: '0' }, run.log || '(empty)'),
  );
}

async function runDetail(main: HTMLElement, id: string): Promise<void> {
  main.append(h('p', {}, h('a', { href: formatRoute('runs') }, '← All runs')), h('h1', {}, `Run ${short(id, 20)}`));
  const body = h('div', {});
  main.append(body);
  await withLoading(body, async () => {
    const [run, all] = await Promise.all([get<RunDetail>(`/v1/runs/${enc(id)}`), get<{ runs: RunSummary[] }>('/v1/runs?limit=1000')]);
    const reproductions = all.runs.filter((x) => x.reproduces === run.id);
    const dur = durationSeconds(run.start, run.end);
    const facts: [string, Node | string][] = [
      ['Id', h('code', {}, run.id)],
      ['Pipeline', run.pipeline || run.experiment],
      ['Status', h('span', { class: 'badge ' + run.status }, run.status)],
      ['User', run.user],
      ['Started', formatTime(run.start)],
      ['Ended', formatTime(run.end)],
      ['Duration', formatDuration(dur)],
      ['Git commit', h('code', {}, run.git_commit || '—')],
      ['Pipeline SHA-256', h('code', {}, run.pipeline_sha256 || '—')],
      ['Snapshot', h('code', {}, run.snapshot_id || '—')],
      ['almanac', run.almanac_version],
      ['Seed', String(run.seed)],
      [
        'Reproduce',
        run.reproduces
          ? h('span', {}, 'this run reproduces ', h('a', { href: formatRoute('runs', [run.reproduces]) }, short(run.reproduces, 16)))
          : reproductions.length > 0
            ? h('span', {}, `reproduced by ${reproductions.length} run(s): `, ...reproductions.map((x) => h('a', { href: formatRoute('runs', [x.id]) }, short(x.id, 16) + ' (' + x.status + ') ')))
            : 'not reproduced yet (almanac reproduce ' + run.id + ')',
      ],
    ];
    if (run.error) facts.push(['Error', h('span', { class: 'error-text' }, run.error)]);
    // A timeline of the run from start to end (the store records the run's span).
    const timeline = h('div', { class: 'timeline', role: 'img', 'aria-label': `run took ${formatDuration(dur)}` }, h('div', { class: 'bar ' + run.status }, formatDuration(dur) || run.status));
    return h(
      'div',
      {},
      h('dl', { class: 'facts' }, ...facts.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
      timeline,
      h('h2', {}, 'Steps'),
      stepsTimeline(run),
      h('h2', { id: 'run-log-label' }, 'Log'),
      runLog(run),
      h('h2', {}, 'Params'),
      kv(run.params, 'Param'),
      h('h2', {}, 'Metrics'),
      kv(run.metrics, 'Metric'),
      h('h2', {}, 'Tags'),
      kv(run.tags, 'Tag'),
      h('h2', {}, 'Artifacts'),
      table(
        run.artifacts,
        [
          { label: 'Name', value: (a) => a.name },
          { label: 'Kind', value: (a) => a.kind },
          { label: 'Size', value: (a) => a.size, numeric: true },
          { label: 'SHA-256', value: (a) => a.sha256, render: (a) => h('code', {}, short(a.sha256, 16)) },
        ],
        { emptyText: 'No artifacts.' },
      ),
    );
  });
}

async function compare(main: HTMLElement, ids: string[]): Promise<void> {
  main.append(h('p', {}, h('a', { href: formatRoute('runs') }, '← All runs')), h('h1', {}, `Compare ${ids.length} runs`));
  const body = h('div', {});
  main.append(body);
  if (ids.length < 2) {
    body.append(empty('Select two or more runs on the Runs page to compare them.'));
    return;
  }
  await withLoading(body, async () => {
    const runs = await Promise.all(ids.map((id) => get<RunDetail>(`/v1/runs/${enc(id)}`)));
    const header = h('tr', {}, h('th', { scope: 'col' }, ''), ...runs.map((r) => h('th', { scope: 'col' }, h('a', { href: formatRoute('runs', [r.id]) }, short(r.id, 16)))));
    const section = (title: string, maps: Record<string, unknown>[]) => {
      const rows = compareMaps(maps);
      const n = rows.filter((r) => r.differs).length;
      return h(
        'div',
        {},
        h('h2', {}, `${title} (${n} differ)`),
        rows.length === 0
          ? empty(`No ${title.toLowerCase()}.`)
          : h('div', { class: 'table-wrap' }, h(
              'table',
              { class: 'compare', 'data-testid': 'compare-' + title.toLowerCase() },
              h('thead', {}, header.cloneNode(true)),
              h('tbody', {}, ...rows.map((r) => h('tr', { class: r.differs ? 'differs' : '' }, h('th', { scope: 'row' }, r.key), ...r.values.map((v) => h('td', {}, v ?? '—'))))),
            )),
      );
    };
    const summary = (r: RunDetail) => ({
      status: r.status,
      user: r.user,
      pipeline: r.pipeline,
      git_commit: r.git_commit,
      pipeline_sha256: r.pipeline_sha256,
      snapshot: r.snapshot_id,
      duration: formatDuration(durationSeconds(r.start, r.end)),
    });
    const out = h('div', {}, section('Run', runs.map(summary)), section('Params', runs.map((r) => r.params)), section('Metrics', runs.map((r) => r.metrics)));
    // Metric bars: each metric's value per run, side by side.
    const metricKeys = [...new Set(runs.flatMap((r) => Object.keys(r.metrics)))].sort();
    if (metricKeys.length > 0) {
      const bars = h('div', { class: 'bars' });
      for (const k of metricKeys) {
        const vals = runs.map((r) => r.metrics[k]);
        const max = Math.max(...vals.filter((v) => typeof v === 'number').map(Math.abs), 1e-300);
        bars.append(
          h('div', { class: 'bar-group' }, h('div', { class: 'bar-label' }, k),
            ...vals.map((v, i) => {
              const bar = h('div', { class: 'bar c' + (i % 4), title: `${short(runs[i].id, 16)}: ${formatNumber(v)}` }, formatNumber(v));
              bar.style.width = `${typeof v === 'number' ? Math.max(2, (Math.abs(v) / max) * 100) : 0}%`;
              return bar;
            })),
        );
      }
      out.append(h('h2', {}, 'Metric chart'), bars);
    }
    clear(body);
    return out;
  });
}
