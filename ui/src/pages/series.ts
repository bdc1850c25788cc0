// Series: search and filter; one series as known on a date (date picker and a slider over its
// vintages), the revision history of a period, CSV download.
import { enc, get } from '../api';
import { lineChart } from '../chart';
import { clear, download, empty, field, h, withLoading } from '../dom';
import {
  distinct,
  filterSeries,
  formatNumber,
  formatRoute,
  formatTime,
  Route,
  routeStillShows,
  SeriesInfo,
  toCsv,
  vintageIndexAsOf,
} from '../logic';
import { table } from '../table';

// The page's state (filters, as-of date, period) in the URL, a deep link, without re-rendering;
// only while the URL still shows this page (it may be replaced after an await).
function keepInUrl(args: string[], url: string): void {
  if (routeStillShows(location.hash, 'series', args)) history.replaceState(null, '', url);
}

interface SeriesData extends SeriesInfo {
  as_of: string | null;
  periods: string[];
  values: (number | null)[];
}
interface Vintage {
  id: number;
  realtime_start: string;
  loaded_at: string | null;
  loader: string;
  source: string;
  kind: string;
  observations: number;
}
interface History {
  period: string;
  vintages: number[];
  realtime_start: string[];
  loaded_at: (string | null)[];
  values: (number | null)[];
}

export async function seriesPage(main: HTMLElement, r: Route): Promise<void> {
  if (r.args.length > 0) return seriesDetail(main, r.args[0], r.query);
  main.append(h('h1', {}, 'Series'));
  const body = h('div', {});
  main.append(body);
  await withLoading(body, async () => {
    const { series } = await get<{ series: SeriesInfo[] }>('/v1/series');
    if (series.length === 0) return empty('No series yet: load data with almanac ingest or POST /v1/ingest.');
    return seriesList(series, r.query);
  });
}

function select(name: string, values: string[], current: string | undefined): HTMLSelectElement {
  const s = h('select', { name }, h('option', { value: '' }, 'any'));
  for (const v of values) s.append(h('option', { value: v, selected: v === current }, v));
  return s;
}

function seriesList(series: SeriesInfo[], q: Record<string, string>): HTMLElement {
  const text = h('input', { type: 'search', name: 'q', value: q.q ?? '', placeholder: 'key or title' });
  const source = select('source', distinct(series, 'source'), q.source);
  const freq = select('frequency', distinct(series, 'frequency'), q.frequency);
  const unit = select('unit', distinct(series, 'unit'), q.unit);
  const count = h('p', { class: 'muted', 'aria-live': 'polite' });
  const results = h('div', {});
  const update = () => {
    const f = { text: text.value, source: source.value, frequency: freq.value, unit: unit.value };
    const rows = filterSeries(series, f);
    count.textContent = `${rows.length} of ${series.length} series`;
    clear(results);
    results.append(
      table(
        rows,
        [
          { label: 'Key', value: (s) => s.key, render: (s) => h('a', { href: formatRoute('series', [s.key]) }, s.key) },
          { label: 'Title', value: (s) => s.title },
          { label: 'Frequency', value: (s) => s.frequency },
          { label: 'Unit', value: (s) => s.unit },
          { label: 'Source', value: (s) => s.source },
        ],
        { emptyText: 'No series match these filters.', testId: 'series-table' },
      ),
    );
    // Keep the filter in the URL (a deep link) without re-rendering.
    keepInUrl([], formatRoute('series', [], { q: f.text, source: f.source, frequency: f.frequency, unit: f.unit }));
  };
  for (const c of [text, source, freq, unit]) c.addEventListener('input', update);
  update();
  return h(
    'div',
    {},
    h('div', { class: 'filters' }, field('Search', text), field('Source', source), field('Frequency', freq), field('Unit', unit)),
    count,
    results,
  );
}

async function seriesDetail(main: HTMLElement, key: string, q: Record<string, string>): Promise<void> {
  main.append(h('p', {}, h('a', { href: formatRoute('series') }, '← All series')), h('h1', {}, key));
  const body = h('div', {});
  main.append(body);
  await withLoading(body, async () => {
    const [{ vintages }, latest] = await Promise.all([
      get<{ vintages: Vintage[] }>(`/v1/series/${enc(key)}/vintages`),
      get<SeriesData>(`/v1/series/${enc(key)}`),
    ]);
    const root = h('div', {});
    root.append(h('p', { class: 'muted' }, [latest.title, latest.unit, latest.frequency, latest.source].filter(Boolean).join(' · ')));
    const starts = vintages.map((v) => v.realtime_start).sort();
    const today = new Date().toISOString().slice(0, 10);
    const date = h('input', { type: 'date', name: 'as_of', value: q.as_of ?? '', max: today });
    const slider = h('input', {
      type: 'range',
      name: 'vintage',
      min: 0,
      max: Math.max(0, starts.length - 1),
      step: 1,
      value: q.as_of ? Math.max(0, vintageIndexAsOf(starts, q.as_of)) : Math.max(0, starts.length - 1),
      'aria-label': 'Vintage',
    });
    const sliderLabel = h('span', { class: 'muted', 'data-testid': 'vintage-label' });
    const latestBtn = h('button', { type: 'button' }, 'Latest');
    const info = h('p', { 'data-testid': 'asof-info', 'aria-live': 'polite' });
    const chart = h('div', { class: 'chart', 'data-testid': 'series-chart' });
    const valuesBox = h('div', {});
    const csvBtn = h('button', { type: 'button' }, 'Download CSV');
    let current: SeriesData = latest;

    const show = async (asOf: string) => {
      keepInUrl([key], formatRoute('series', [key], { as_of: asOf, period: periodSel.value }));
      const idx = asOf ? vintageIndexAsOf(starts, asOf) : starts.length - 1;
      if (idx >= 0) slider.value = String(idx);
      sliderLabel.textContent = idx >= 0 ? `vintage ${idx + 1} of ${starts.length}: known from ${starts[idx]}` : 'before the first vintage';
      info.textContent = 'Loading…';
      try {
        current = asOf ? await get<SeriesData>(`/v1/series/${enc(key)}?as_of=${enc(asOf)}`) : latest;
      } catch (e) {
        info.textContent = (e as Error).message;
        return;
      }
      const n = current.values.length;
      const last = n > 0 ? `last: ${current.periods[n - 1]} = ${formatNumber(current.values[n - 1])}` : 'no observations known then';
      info.textContent = `${asOf ? 'As known on ' + asOf : 'Latest'} · ${n} observations · ${last}`;
      lineChart(chart, current.periods, [{ label: key, values: current.values, color: 'var(--c1)' }]);
      clear(valuesBox);
      valuesBox.append(
        table(
          current.periods.map((p, i) => ({ p, v: current.values[i] })),
          [
            { label: 'Period', value: (x) => x.p },
            { label: 'Value', value: (x) => x.v, render: (x) => formatNumber(x.v), numeric: true },
          ],
          { pageSize: 20, testId: 'values-table', emptyText: 'No observations were known on that date.' },
        ),
      );
    };
    date.addEventListener('change', () => void show(date.value));
    slider.addEventListener('input', () => {
      const d = starts[Number(slider.value)];
      date.value = d ? d.slice(0, 10) : '';
      void show(date.value);
    });
    latestBtn.addEventListener('click', () => {
      date.value = '';
      void show('');
    });
    csvBtn.addEventListener('click', () =>
      download(
        `${key.replace(/[^A-Za-z0-9_.-]/g, '_')}${date.value ? '_asof_' + date.value : ''}.csv`,
        toCsv(['period', key], current.periods.map((p, i) => [p, current.values[i]])),
      ),
    );

    // Revision history of one period.
    const periodSel = h('select', { name: 'period' });
    for (const p of [...latest.periods].reverse()) periodSel.append(h('option', { value: p, selected: p === q.period }, p));
    const revBox = h('div', { 'data-testid': 'revisions' });
    const revChart = h('div', { class: 'chart small' });
    const showHistory = async () => {
      const p = periodSel.value;
      if (!p) return;
      keepInUrl([key], formatRoute('series', [key], { as_of: date.value, period: p }));
      let hist: History | null = null;
      await withLoading(revBox, async () => {
        const got = await get<History>(`/v1/series/${enc(key)}/history?period=${enc(p)}`);
        hist = got;
        const rows = got.vintages.map((v, i) => ({ v, start: got.realtime_start[i], loaded: got.loaded_at[i], value: got.values[i] }));
        const out = h('div', {});
        out.append(
          table(
            rows,
            [
              { label: 'Vintage', value: (x) => x.v, numeric: true },
              { label: 'Known from', value: (x) => x.start },
              { label: 'Loaded at', value: (x) => formatTime(x.loaded) },
              { label: `Value of ${p}`, value: (x) => x.value, render: (x) => formatNumber(x.value), numeric: true },
            ],
            { emptyText: `No vintage has a value for ${p}.` },
          ),
        );
        return out;
      });
      const shown = hist as History | null;
      if (shown && shown.values.length > 0)
        lineChart(revChart, shown.realtime_start, [{ label: `${p} across vintages`, values: shown.values, color: 'var(--c2)', points: true }]);
      else revChart.textContent = '';
    };
    periodSel.addEventListener('change', () => void showHistory());

    root.append(
      h('section', { 'aria-label': 'As of' },
        h('div', { class: 'filters' }, field('As of', date), field('Vintage', slider), sliderLabel, latestBtn, csvBtn),
        info,
        chart,
      ),
      h('h2', {}, 'Values'),
      valuesBox,
      h('h2', {}, 'Revision history of a period'),
      h('div', { class: 'filters' }, field('Period', periodSel)),
      revBox,
      revChart,
      h('h2', {}, 'Vintages'),
      table(
        vintages,
        [
          { label: 'Id', value: (v) => v.id, numeric: true },
          { label: 'Known from', value: (v) => v.realtime_start },
          { label: 'Loaded at', value: (v) => formatTime(v.loaded_at) },
          { label: 'Loader', value: (v) => v.loader },
          { label: 'Source', value: (v) => v.source },
          { label: 'Kind', value: (v) => v.kind },
          { label: 'Observations', value: (v) => v.observations, numeric: true },
        ],
        { emptyText: 'No vintages.' },
      ),
    );
    // Draw once attached (the chart sizes itself to its box).
    setTimeout(() => {
      void show(q.as_of ?? '');
      if (periodSel.value) void showHistory();
    }, 0);
    return root;
  });
}
