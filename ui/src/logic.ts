// Pure logic of the console (no DOM): routing, filtering, sorting, paging, diffs, formatting
// and CSV. Unit-tested by Vitest (test/logic.test.ts).

// ----------------------------------------------------------------------------- routing
// Hash routes: #/page/arg1/arg2?k=v. Each page and object has its own URL (deep links).

export interface Route {
  page: string;
  args: string[];
  query: Record<string, string>;
}

// Whether the URL's hash still shows `page` with `args`. A page that keeps its state in the URL
// (history.replaceState) after an await must check it: the user may have navigated on while it
// waited, and replacing the URL then would pull them back to the old page.
export function routeStillShows(hash: string, page: string, args: string[]): boolean {
  const r = parseRoute(hash);
  return r.page === page && r.args.length === args.length && r.args.every((a, i) => a === args[i]);
}

export const PAGES = ['series', 'snapshots', 'runs', 'forecasts', 'registry', 'audit', 'monitoring'] as const;

export function parseRoute(hash: string): Route {
  let h = hash.startsWith('#') ? hash.slice(1) : hash;
  if (h.startsWith('/')) h = h.slice(1);
  const q = h.indexOf('?');
  const path = q < 0 ? h : h.slice(0, q);
  const query: Record<string, string> = {};
  if (q >= 0) {
    for (const [k, v] of new URLSearchParams(h.slice(q + 1))) query[k] = v;
  }
  const parts = path.split('/').filter((p) => p !== '').map(safeDecode);
  const page = parts.length > 0 ? parts[0] : 'series';
  return { page, args: parts.slice(1), query };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export function formatRoute(page: string, args: string[] = [], query: Record<string, string | undefined> = {}): string {
  let out = '#/' + [page, ...args].map((a) => encodeURIComponent(a)).join('/');
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') qs.set(k, v);
  const s = qs.toString();
  if (s) out += '?' + s;
  return out;
}

// ----------------------------------------------------------------------------- series filter

export interface SeriesInfo {
  key: string;
  frequency: string;
  title: string;
  unit: string;
  seasonal_adjustment: string;
  source: string;
}

export interface SeriesFilter {
  text?: string; // matches key or title, case-insensitive; several words must all match
  source?: string;
  frequency?: string;
  unit?: string;
}

// Filters by free text (key or title) and exact source, frequency and unit. Linear in the list
// with the lower-cased haystacks computed once per call.
export function filterSeries(list: SeriesInfo[], f: SeriesFilter): SeriesInfo[] {
  const words = (f.text ?? '').toLowerCase().split(/\s+/).filter((w) => w !== '');
  const out: SeriesInfo[] = [];
  for (const s of list) {
    if (f.source && s.source !== f.source) continue;
    if (f.frequency && s.frequency !== f.frequency) continue;
    if (f.unit && s.unit !== f.unit) continue;
    if (words.length > 0) {
      const hay = (s.key + ' ' + s.title).toLowerCase();
      let ok = true;
      for (const w of words) {
        if (!hay.includes(w)) {
          ok = false;
          break;
        }
      }
      if (!ok) continue;
    }
    out.push(s);
  }
  return out;
}

// The distinct non-empty values of a field, sorted (for filter drop-downs).
export function distinct<T>(list: T[], field: keyof T): string[] {
  const set = new Set<string>();
  for (const x of list) {
    const v = x[field];
    if (typeof v === 'string' && v !== '') set.add(v);
  }
  return [...set].sort();
}

// ----------------------------------------------------------------------------- tables

export type Cell = string | number | null | undefined;

// Numbers before text, nulls last; stable.
export function compareCells(a: Cell, b: Cell): number {
  const an = a === null || a === undefined || a === '';
  const bn = b === null || b === undefined || b === '';
  if (an || bn) return an === bn ? 0 : an ? 1 : -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b), undefined, { numeric: true });
}

export function sortRows<T>(rows: T[], key: (r: T) => Cell, descending: boolean): T[] {
  const idx = rows.map((r, i) => ({ r, i, k: key(r) }));
  idx.sort((x, y) => {
    const c = compareCells(x.k, y.k);
    if (c !== 0) return descending && !(x.k == null || y.k == null || x.k === '' || y.k === '') ? -c : c;
    return x.i - y.i;
  });
  return idx.map((x) => x.r);
}

export interface Page<T> {
  rows: T[];
  page: number; // 0-based, clamped
  pages: number;
  total: number;
}

export function paginate<T>(rows: T[], page: number, size: number): Page<T> {
  const pages = Math.max(1, Math.ceil(rows.length / size));
  const p = Math.min(Math.max(0, Math.floor(page)), pages - 1);
  return { rows: rows.slice(p * size, (p + 1) * size), page: p, pages, total: rows.length };
}

// ----------------------------------------------------------------------------- diffs

export interface DiffRow {
  key: string;
  values: (string | undefined)[];
  differs: boolean;
}

// Side-by-side comparison of flat maps (params or metrics of 2+ runs): one row per key in any
// map, `differs` when the values are not all equal (a missing value differs from a present one).
export function compareMaps(maps: Record<string, unknown>[]): DiffRow[] {
  const keys = new Set<string>();
  for (const m of maps) for (const k of Object.keys(m)) keys.add(k);
  return [...keys].sort().map((key) => {
    const values = maps.map((m) => (key in m ? displayValue(m[key]) : undefined));
    const differs = values.some((v) => v !== values[0]);
    return { key, values, differs };
  });
}

function displayValue(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return formatNumber(v);
  return JSON.stringify(v);
}

export interface SnapshotSeries {
  key: string;
  periods: string[];
  values: (number | null)[];
}

export interface SnapshotDiffRow {
  key: string;
  period: string;
  a: number | null | undefined; // undefined: absent in that snapshot
  b: number | null | undefined;
}

// The cells that differ between two snapshots: changed values, periods or series in only one.
export function diffSnapshots(a: SnapshotSeries[], b: SnapshotSeries[]): SnapshotDiffRow[] {
  const index = (list: SnapshotSeries[]) => {
    const m = new Map<string, Map<string, number | null>>();
    for (const s of list) {
      const pm = new Map<string, number | null>();
      s.periods.forEach((p, i) => pm.set(p, s.values[i] ?? null));
      m.set(s.key, pm);
    }
    return m;
  };
  const ia = index(a);
  const ib = index(b);
  const keys = [...new Set([...ia.keys(), ...ib.keys()])].sort();
  const out: SnapshotDiffRow[] = [];
  for (const key of keys) {
    const pa = ia.get(key) ?? new Map<string, number | null>();
    const pb = ib.get(key) ?? new Map<string, number | null>();
    const periods = [...new Set([...pa.keys(), ...pb.keys()])].sort();
    for (const period of periods) {
      const va = pa.has(period) ? pa.get(period) : undefined;
      const vb = pb.has(period) ? pb.get(period) : undefined;
      if (va !== vb) out.push({ key, period, a: va, b: vb });
    }
  }
  return out;
}

// ----------------------------------------------------------------------------- vintages

// The index of the last vintage whose realtime_start is on or before `date` (ISO dates
// compare as text), -1 when all are later. `starts` is ascending.
export function vintageIndexAsOf(starts: string[], date: string): number {
  let idx = -1;
  for (let i = 0; i < starts.length; i++) if (starts[i].slice(0, 10) <= date) idx = i;
  return idx;
}

// ----------------------------------------------------------------------------- formatting

export function formatNumber(v: number | null | undefined, digits = 10): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '';
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
  return String(Number(v.toPrecision(digits)));
}

// "2024-01-02T03:04:05.123456Z" -> "2024-01-02 03:04:05"
export function formatTime(t: string | null | undefined): string {
  if (!t) return '';
  return t.replace('T', ' ').replace(/\.\d+/, '').replace(/Z$/, '');
}

export function durationSeconds(start: string | null | undefined, end: string | null | undefined): number | null {
  if (!start || !end) return null;
  const a = Date.parse(start);
  const b = Date.parse(end);
  if (Number.isNaN(a) || Number.isNaN(b)) return null;
  return (b - a) / 1000;
}

export function formatDuration(seconds: number | null): string {
  if (seconds === null) return '';
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const m = Math.floor(seconds / 60);
  return `${m} min ${Math.round(seconds - m * 60)} s`;
}

// ----------------------------------------------------------------------------- run timeline
// A run's steps as GET /v1/runs/{id} returns them in `timeline` (issue 20): the start offset
// from the run's start and the duration, in seconds. Train steps overlap (fitted in parallel).

export interface TimelineStep {
  step: string;
  start: number;
  seconds: number;
  cached: boolean;
  status: string;
}

// One bar: left and width in percent of the span, never past 100; `width` at least `minWidth`
// so that a step of 0.1 ms still shows.
export interface TimelineBar extends TimelineStep {
  left: number;
  width: number;
}

export interface TimelineLayout {
  total: number; // seconds from the run's start to the end of the last step
  bars: TimelineBar[];
}

// Lays the steps out on one axis, in the order they started (then by name). Entries that are
// not steps (a missing name, a negative or non-finite time) are left out.
export function layoutTimeline(steps: unknown, minWidth = 0.5): TimelineLayout {
  if (!Array.isArray(steps)) return { total: 0, bars: [] };
  const ok = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
  const valid: TimelineStep[] = [];
  for (const x of steps as Record<string, unknown>[]) {
    if (x === null || typeof x !== 'object' || typeof x.step !== 'string' || x.step === '' || !ok(x.start) || !ok(x.seconds)) continue;
    valid.push({ step: x.step, start: x.start, seconds: x.seconds, cached: x.cached === true, status: typeof x.status === 'string' ? x.status : '' });
  }
  // By start; steps starting together (offsets are rounded, an instant step and the next one
  // share one) by end, so a step that took no time comes before the one after it; then by name.
  valid.sort(
    (a, b) => a.start - b.start || a.start + a.seconds - (b.start + b.seconds) || (a.step < b.step ? -1 : a.step > b.step ? 1 : 0),
  );
  const total = valid.reduce((m, x) => Math.max(m, x.start + x.seconds), 0);
  const bars = valid.map((x) => {
    let left = total > 0 ? (x.start / total) * 100 : 0;
    const width = Math.max(minWidth, total > 0 ? (x.seconds / total) * 100 : 100);
    if (left + width > 100) left = Math.max(0, 100 - width);
    return { ...x, left, width: Math.min(width, 100) };
  });
  return { total, bars };
}

// RFC 4180: quote fields with a comma, quote or line break.
export function toCsv(header: string[], rows: Cell[][]): string {
  const field = (c: Cell) => {
    const s = c === null || c === undefined ? '' : typeof c === 'number' ? String(c) : c;
    return /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  };
  return [header, ...rows].map((r) => r.map(field).join(',')).join('\r\n') + '\r\n';
}

// Period labels ("2009Q3", "2009-07", "2009") to seconds since the epoch for charts.
export function periodToTime(p: string): number {
  let m = /^(\d{4})Q([1-4])$/.exec(p);
  if (m) return Date.UTC(+m[1], (+m[2] - 1) * 3, 1) / 1000;
  m = /^(\d{4})-?M?(\d{2})$/.exec(p);
  if (m) return Date.UTC(+m[1], +m[2] - 1, 1) / 1000;
  m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(p);
  if (m) return Date.UTC(+m[1], +m[2] - 1, +m[3]) / 1000;
  m = /^(\d{4})$/.exec(p);
  if (m) return Date.UTC(+m[1], 0, 1) / 1000;
  return NaN;
}

// ----------------------------------------------------------------------------- errors

// A readable message for an API error body {"code","message","request_id"} or anything else.
export function errorMessage(status: number, body: unknown): string {
  if (body && typeof body === 'object' && 'message' in body) {
    const b = body as { code?: string; message?: string; request_id?: string };
    const code = b.code ? `${b.code}: ` : '';
    return `${code}${b.message} (HTTP ${status}${b.request_id ? `, request ${b.request_id}` : ''})`;
  }
  if (status === 0) return 'The server cannot be reached.';
  return `HTTP ${status}`;
}

// ----------------------------------------------------------------------------- metrics

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

// Prometheus text exposition to samples (comments skipped).
export function parsePrometheus(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m || !/^([-+]?[0-9.]|[-+]?Inf|NaN)/.test(m[4])) continue;
    const labels: Record<string, string> = {};
    if (m[3]) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
      let lm: RegExpExecArray | null;
      while ((lm = re.exec(m[3])) !== null) labels[lm[1]] = lm[2].replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
    }
    out.push({ name: m[1], labels, value: Number(m[4]) });
  }
  return out;
}
