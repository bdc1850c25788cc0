import { describe, expect, it } from 'vitest';
import {
  compareCells,
  compareMaps,
  diffSnapshots,
  distinct,
  durationSeconds,
  errorMessage,
  filterSeries,
  formatDuration,
  formatNumber,
  formatRoute,
  formatTime,
  layoutTimeline,
  paginate,
  parsePrometheus,
  parseRoute,
  periodToTime,
  routeStillShows,
  SeriesInfo,
  sortRows,
  toCsv,
  vintageIndexAsOf,
} from '../src/logic';

const s = (key: string, title: string, source = 'fred', frequency = 'Q', unit = 'USD'): SeriesInfo => ({
  key, title, source, frequency, unit, seasonal_adjustment: '',
});

describe('routing', () => {
  it('parses page, args and query', () => {
    expect(parseRoute('#/series/us%3Arealgdp?as_of=2009-12-20&period=2009Q3')).toEqual({
      page: 'series', args: ['us:realgdp'], query: { as_of: '2009-12-20', period: '2009Q3' },
    });
    expect(parseRoute('')).toEqual({ page: 'series', args: [], query: {} });
    expect(parseRoute('#/runs/compare?ids=a,b').args).toEqual(['compare']);
    expect(parseRoute('#/runs/compare?ids=a,b').query.ids).toBe('a,b');
    expect(parseRoute('#/x/%E0%A4%A').args).toEqual(['%E0%A4%A']); // bad escape kept, no throw
  });
  it('formats a route that parses back to itself', () => {
    const url = formatRoute('series', ['a/b c'], { as_of: '2020-01-01', empty: '', none: undefined });
    expect(url).toBe('#/series/a%2Fb%20c?as_of=2020-01-01');
    expect(parseRoute(url)).toEqual({ page: 'series', args: ['a/b c'], query: { as_of: '2020-01-01' } });
  });
});

describe('filterSeries', () => {
  const list = [s('us:realgdp', 'Real GDP'), s('us:cpi', 'Consumer prices', 'bls', 'M', 'index'), s('de:gdp', 'German GDP', 'ecb', 'Q', 'EUR')];
  it('matches words in key or title, case-insensitively, all words', () => {
    expect(filterSeries(list, { text: 'gdp' }).map((x) => x.key)).toEqual(['us:realgdp', 'de:gdp']);
    expect(filterSeries(list, { text: 'GERMAN gdp' }).map((x) => x.key)).toEqual(['de:gdp']);
    expect(filterSeries(list, { text: 'german cpi' })).toEqual([]);
    expect(filterSeries(list, { text: '  ' })).toHaveLength(3);
  });
  it('filters by source, frequency and unit exactly', () => {
    expect(filterSeries(list, { source: 'bls' }).map((x) => x.key)).toEqual(['us:cpi']);
    expect(filterSeries(list, { frequency: 'Q', unit: 'EUR' }).map((x) => x.key)).toEqual(['de:gdp']);
    expect(filterSeries(list, { frequency: 'Q', text: 'cpi' })).toEqual([]);
  });
  it('lists distinct values sorted', () => {
    expect(distinct(list, 'source')).toEqual(['bls', 'ecb', 'fred']);
  });
});

describe('tables', () => {
  it('sorts numbers numerically, text naturally, blanks last, stably', () => {
    const rows = [{ v: 10 }, { v: 9 }, { v: null }, { v: 100 }];
    expect(sortRows(rows, (r) => r.v, false).map((r) => r.v)).toEqual([9, 10, 100, null]);
    expect(sortRows(rows, (r) => r.v, true).map((r) => r.v)).toEqual([100, 10, 9, null]);
    expect(sortRows(['run10', 'run9', 'run1'], (r) => r, false)).toEqual(['run1', 'run9', 'run10']);
    expect(compareCells('', 'a')).toBeGreaterThan(0);
    const ties = [{ k: 1, i: 'a' }, { k: 1, i: 'b' }, { k: 0, i: 'c' }];
    expect(sortRows(ties, (r) => r.k, false).map((r) => r.i)).toEqual(['c', 'a', 'b']);
  });
  it('pages 10,000 rows and clamps the page', () => {
    const rows = Array.from({ length: 10000 }, (_, i) => i);
    const p = paginate(rows, 3, 50);
    expect(p.rows[0]).toBe(150);
    expect(p.rows).toHaveLength(50);
    expect(p.pages).toBe(200);
    expect(paginate(rows, 999, 50).page).toBe(199);
    expect(paginate(rows, -5, 50).page).toBe(0);
    expect(paginate([], 0, 50)).toEqual({ rows: [], page: 0, pages: 1, total: 0 });
  });
});

describe('diffs', () => {
  it('compares params of runs and flags differences', () => {
    const rows = compareMaps([{ model: 'ets', horizon: 8 }, { model: 'arima', horizon: 8 }, { horizon: 8, seed: 1 }]);
    expect(rows).toEqual([
      { key: 'horizon', values: ['8', '8', '8'], differs: false },
      { key: 'model', values: ['ets', 'arima', undefined], differs: true },
      { key: 'seed', values: [undefined, undefined, '1'], differs: true },
    ]);
  });
  it('diffs snapshots cell by cell', () => {
    const a = [{ key: 'gdp', periods: ['2009Q2', '2009Q3'], values: [1, 2] }, { key: 'cpi', periods: ['2009Q3'], values: [5] }];
    const b = [{ key: 'gdp', periods: ['2009Q2', '2009Q3', '2009Q4'], values: [1, 2.5, 3] }];
    expect(diffSnapshots(a, b)).toEqual([
      { key: 'cpi', period: '2009Q3', a: 5, b: undefined },
      { key: 'gdp', period: '2009Q3', a: 2, b: 2.5 },
      { key: 'gdp', period: '2009Q4', a: undefined, b: 3 },
    ]);
    expect(diffSnapshots(a, a)).toEqual([]);
  });
  it('finds the vintage known on a date', () => {
    const starts = ['2009-12-15', '2009-12-22', '2010-01-30'];
    expect(vintageIndexAsOf(starts, '2009-12-14')).toBe(-1);
    expect(vintageIndexAsOf(starts, '2009-12-15')).toBe(0);
    expect(vintageIndexAsOf(starts, '2009-12-21')).toBe(0);
    expect(vintageIndexAsOf(starts, '2009-12-22')).toBe(1);
    expect(vintageIndexAsOf(starts, '2030-01-01')).toBe(2);
  });
});

describe('formatting', () => {
  it('formats numbers, times and durations', () => {
    expect(formatNumber(12)).toBe('12');
    expect(formatNumber(12990.341)).toBe('12990.341');
    expect(formatNumber(12345.67891234)).toBe('12345.67891');
    expect(formatNumber(12345.678912, 6)).toBe('12345.7');
    expect(formatNumber(0.1 + 0.2)).toBe('0.3');
    expect(formatNumber(1.5e-12)).toBe('1.5e-12');
    expect(formatNumber(null)).toBe('');
    expect(formatNumber(NaN)).toBe('');
    expect(formatTime('2024-01-02T03:04:05.123456Z')).toBe('2024-01-02 03:04:05');
    expect(durationSeconds('2024-01-01T00:00:00Z', '2024-01-01T00:01:30Z')).toBe(90);
    expect(durationSeconds(null, '2024-01-01T00:00:00Z')).toBeNull();
    expect(formatDuration(0.25)).toBe('250 ms');
    expect(formatDuration(12.34)).toBe('12.3 s');
    expect(formatDuration(90)).toBe('1 min 30 s');
  });
  it('writes RFC 4180 CSV', () => {
    expect(toCsv(['period', 'a,b'], [['2009Q3', 1.5], ['x"y', null]])).toBe('period,"a,b"\r\n2009Q3,1.5\r\n"x""y",\r\n');
  });
  it('turns periods into times', () => {
    expect(periodToTime('2009Q3')).toBe(Date.UTC(2009, 6, 1) / 1000);
    expect(periodToTime('2009-07')).toBe(Date.UTC(2009, 6, 1) / 1000);
    expect(periodToTime('2009')).toBe(Date.UTC(2009, 0, 1) / 1000);
    expect(periodToTime('2009-12-22')).toBe(Date.UTC(2009, 11, 22) / 1000);
    expect(periodToTime('week 3')).toBeNaN();
  });
  it('renders API errors readably', () => {
    expect(errorMessage(403, { code: 'PERMISSION_DENIED', message: 'no', request_id: 'r1' })).toBe('PERMISSION_DENIED: no (HTTP 403, request r1)');
    expect(errorMessage(0, null)).toBe('The server cannot be reached.');
    expect(errorMessage(502, '<html>')).toBe('HTTP 502');
  });
  it('parses Prometheus text', () => {
    const text = '# HELP x y\nalmanac_forecast_realized_mase{model="gdp",version="3"} 1.25\nup 1\nbad line\n';
    expect(parsePrometheus(text)).toEqual([
      { name: 'almanac_forecast_realized_mase', labels: { model: 'gdp', version: '3' }, value: 1.25 },
      { name: 'up', labels: {}, value: 1 },
    ]);
  });
});

describe('run timeline', () => {
  const step = (name: string, start: number, seconds: number, cached = false, status = 'ok') => ({ step: name, start, seconds, cached, status });

  it('places bars by offset and duration on the run span', () => {
    const t = layoutTimeline([step('load', 0, 1), step('transform', 1, 1, true), step('train:a', 2, 2)]);
    expect(t.total).toBe(4);
    expect(t.bars.map((b) => [b.step, b.left, b.width, b.cached])).toEqual([
      ['load', 0, 25, false],
      ['transform', 25, 25, true],
      ['train:a', 50, 50, false],
    ]);
  });

  it('orders by start, overlapping parallel steps keep their own offsets', () => {
    const t = layoutTimeline([step('train:b', 1, 3), step('validate', 0.5, 0.5), step('train:a', 1, 2), step('load', 0, 0.5)]);
    expect(t.bars.map((b) => b.step)).toEqual(['load', 'validate', 'train:a', 'train:b']);
    expect(t.total).toBe(4);
    expect(t.bars[2].left).toBe(25);
    expect(t.bars[3].width).toBe(75);
  });

  it('puts an instant step before the step that starts at the same rounded offset', () => {
    const t = layoutTimeline([step('load', 0, 0.004), step('transform', 0.024, 0.038), step('validate', 0.024, 0)]);
    expect(t.bars.map((b) => b.step)).toEqual(['load', 'validate', 'transform']);
  });

  it('gives instant steps a minimum width without going past the end', () => {
    const t = layoutTimeline([step('load', 0, 10), step('promote', 10, 0)], 2);
    expect(t.bars[1].width).toBe(2);
    expect(t.bars[1].left).toBe(98);
    expect(t.bars[1].left + t.bars[1].width).toBeLessThanOrEqual(100);
  });

  it('keeps failed status and all-zero runs drawable', () => {
    const t = layoutTimeline([step('load', 0, 0, false, 'failed')]);
    expect(t.total).toBe(0);
    expect(t.bars[0]).toMatchObject({ left: 0, width: 100, status: 'failed' });
  });

  it('is empty for older runs and skips malformed entries', () => {
    expect(layoutTimeline(undefined)).toEqual({ total: 0, bars: [] });
    expect(layoutTimeline([])).toEqual({ total: 0, bars: [] });
    const t = layoutTimeline([{ step: 'x', start: -1, seconds: 1 }, { start: 0, seconds: 1 }, null, step('load', 0, NaN), step('ok', 0, 1)]);
    expect(t.bars.map((b) => b.step)).toEqual(['ok']);
  });
});

describe('routeStillShows', () => {
  it('is true only while the hash shows the same page and object', () => {
    expect(routeStillShows('#/series/us%3Arealgdp?as_of=2009-12-15', 'series', ['us:realgdp'])).toBe(true);
    expect(routeStillShows('', 'series', [])).toBe(true);
    expect(routeStillShows('#/series?q=gdp', 'series', [])).toBe(true);
    expect(routeStillShows('#/snapshots', 'series', ['us:realgdp'])).toBe(false);
    expect(routeStillShows('#/series/us%3Acpi', 'series', ['us:realgdp'])).toBe(false);
    expect(routeStillShows('#/series', 'series', ['us:realgdp'])).toBe(false);
  });
});
