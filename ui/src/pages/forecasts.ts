// Forecasts: a fan chart (point forecast, 80 % and 95 % bands) over the target's history, with
// the realized values where known; the numbers are those of POST /v1/forecast, unchanged.
import { enc, get, post } from '../api';
import { lineChart } from '../chart';
import { clear, empty, field, h, withLoading } from '../dom';
import { formatNumber, formatRoute, Route } from '../logic';
import { table } from '../table';

interface Interval {
  level: number;
  lower: number[];
  upper: number[];
}
export interface ForecastAnswer {
  model: string;
  version: number;
  alias: string | null;
  model_type: string;
  method: string;
  frequency: string;
  horizon: number;
  periods: string[];
  mean: number[];
  intervals: Interval[];
  data: { target?: string; as_of?: string | null; snapshot_id?: string; history_end?: string; refit?: boolean };
}

export async function forecastsPage(main: HTMLElement, r: Route): Promise<void> {
  main.append(h('h1', {}, 'Forecasts'));
  const body = h('div', {});
  main.append(body);
  await withLoading(body, async () => {
    const { models } = await get<{ models: { name: string; production: number | null }[] }>('/v1/models');
    if (models.length === 0) return empty('No models registered yet.');
    const q = r.query;
    const model = h('select', { name: 'model' });
    for (const m of models) model.append(h('option', { value: m.name, selected: m.name === (q.model ?? r.args[0]) }, m.name));
    const version = h('input', { type: 'text', name: 'version', value: q.version ?? 'production', size: 12, 'aria-describedby': 'version-help' });
    const horizon = h('input', { type: 'number', name: 'horizon', min: 1, max: 40, value: q.horizon ?? '8' });
    const asOf = h('input', { type: 'date', name: 'as_of', value: q.as_of ?? '' });
    const go = h('button', { type: 'submit' }, 'Forecast');
    const out = h('div', {});
    const form = h(
      'form',
      { class: 'filters', onsubmit: (e: Event) => {
        e.preventDefault();
        location.hash = formatRoute('forecasts', [], { model: model.value, version: version.value, horizon: horizon.value, as_of: asOf.value });
      } },
      field('Model', model),
      field('Version or alias', version),
      field('Horizon', horizon),
      field('As of (refit)', asOf),
      go,
    );
    const wrap = h('div', {}, form, h('p', { id: 'version-help', class: 'muted' }, 'A version number, or production / staging.'), out);
    void draw(out, model.value, version.value, Number(horizon.value), asOf.value);
    return wrap;
  });
}

async function draw(out: HTMLElement, model: string, version: string, horizon: number, asOf: string): Promise<void> {
  await withLoading(out, async () => {
    const req: Record<string, unknown> = { model, horizon, levels: [80, 95] };
    if (/^\d+$/.test(version)) req.version = Number(version);
    else req.alias = version || 'production';
    if (asOf) req.as_of = asOf;
    const fc = await post<ForecastAnswer>('/v1/forecast', req);
    let hist: { periods: string[]; values: (number | null)[] } | null = null;
    let latest: { periods: string[]; values: (number | null)[] } | null = null;
    const target = fc.data.target ?? '';
    if (target) {
      const asOfHist = fc.data.as_of ?? '';
      hist = await get(`/v1/series/${enc(target)}${asOfHist ? '?as_of=' + enc(asOfHist) : ''}`).catch(() => null);
      latest = await get(`/v1/series/${enc(target)}`).catch(() => null);
    }
    const histEnd = fc.data.history_end ?? '';
    const histPeriods = hist ? hist.periods.filter((p) => !histEnd || p <= histEnd).slice(-40) : [];
    const periods = [...histPeriods, ...fc.periods];
    const n = histPeriods.length;
    const pad = (a: (number | null)[], before: number) => [...Array(before).fill(null), ...a];
    const histVals = hist ? histPeriods.map((p) => hist!.values[hist!.periods.indexOf(p)] ?? null) : [];
    const realized = fc.periods.map((p) => {
      const i = latest ? latest.periods.indexOf(p) : -1;
      return i >= 0 ? latest!.values[i] : null;
    });
    const i80 = fc.intervals.find((i) => i.level === 80);
    const i95 = fc.intervals.find((i) => i.level === 95);
    const lines = [
      { label: 'history', values: [...histVals, ...Array(fc.periods.length).fill(null)], color: 'var(--fg)' },
      { label: 'forecast', values: pad(fc.mean, n), color: 'var(--c1)' },
      { label: '95 % upper', values: pad(i95?.upper ?? [], n), color: 'var(--band95)', width: 1 },
      { label: '95 % lower', values: pad(i95?.lower ?? [], n), color: 'var(--band95)', width: 1 },
      { label: '80 % upper', values: pad(i80?.upper ?? [], n), color: 'var(--band80)', width: 1 },
      { label: '80 % lower', values: pad(i80?.lower ?? [], n), color: 'var(--band80)', width: 1 },
      { label: 'realized', values: pad(realized, n), color: 'var(--c3)', points: true, width: 1, dash: [2, 4] },
    ];
    const chart = h('div', { class: 'chart', 'data-testid': 'fan-chart' });
    const heading = h(
      'p',
      { 'data-testid': 'forecast-version' },
      `${fc.model} version ${fc.version}${fc.alias ? ' (' + fc.alias + ')' : ''} · ${fc.model_type} · ${fc.method}`,
      fc.data.refit ? ` · refit on data as of ${fc.data.as_of}` : '',
    );
    const numbers = table(
      fc.periods.map((p, i) => ({ p, i })),
      [
        { label: 'Period', value: (x) => x.p },
        { label: 'Forecast', value: (x) => fc.mean[x.i], render: (x) => String(fc.mean[x.i]), numeric: true },
        { label: '80 % lower', value: (x) => i80?.lower[x.i], render: (x) => String(i80?.lower[x.i] ?? ''), numeric: true },
        { label: '80 % upper', value: (x) => i80?.upper[x.i], render: (x) => String(i80?.upper[x.i] ?? ''), numeric: true },
        { label: '95 % lower', value: (x) => i95?.lower[x.i], render: (x) => String(i95?.lower[x.i] ?? ''), numeric: true },
        { label: '95 % upper', value: (x) => i95?.upper[x.i], render: (x) => String(i95?.upper[x.i] ?? ''), numeric: true },
        { label: 'Realized', value: (x) => realized[x.i], render: (x) => formatNumber(realized[x.i]), numeric: true },
      ],
      { testId: 'forecast-table' },
    );
    const box = h('div', {}, heading, chart, target && !hist ? h('p', { class: 'muted' }, `The target ${target} is derived; its history is not drawn.`) : '', h('h2', {}, 'Numbers (exactly as /v1/forecast returned them)'), numbers);
    setTimeout(() => lineChart(chart, periods, lines, [[3, 4, 'rgba(80,120,200,0.12)'], [5, 6, 'rgba(80,120,200,0.25)']]), 0);
    clear(out);
    return box;
  }, 'Computing the forecast');
}
