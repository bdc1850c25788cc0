// Snapshots: the stored snapshots (content id, name, as-of, size), one snapshot's content (its
// series), and the diff of two.
import { enc, get } from '../api';
import { empty, field, h, withLoading } from '../dom';
import { diffSnapshots, formatNumber, formatRoute, formatTime, Route, SnapshotSeries } from '../logic';
import { table } from '../table';

interface SnapshotRow {
  id: string;
  name: string;
  as_of: string | null;
  created_at: string | null;
  created_by: string;
  series: number;
  observations: number;
}
interface Snapshot {
  id: string;
  name: string;
  as_of: string | null;
  created_at: string | null;
  created_by: string;
  series: SnapshotSeries[];
}

export async function snapshotsPage(main: HTMLElement, r: Route): Promise<void> {
  if (r.args[0] === 'diff') return diff(main, r.query.a ?? '', r.query.b ?? '');
  if (r.args.length > 0) return one(main, r.args[0]);
  main.append(h('h1', {}, 'Snapshots'));
  const body = h('div', {});
  main.append(body);
  await withLoading(body, async () => {
    const { snapshots } = await get<{ snapshots: SnapshotRow[] }>('/v1/snapshots?limit=10000');
    if (snapshots.length === 0) return empty('No snapshots yet (almanac snapshot create; every pipeline run takes one).');
    const label = (s: SnapshotRow) => `${s.name || s.id.slice(0, 12)} (${s.as_of ?? 'latest'})`;
    const a = h('select', { name: 'a' });
    const b = h('select', { name: 'b' });
    snapshots.forEach((s, i) => {
      a.append(h('option', { value: s.id, selected: i === 1 || snapshots.length === 1 }, label(s)));
      b.append(h('option', { value: s.id, selected: i === 0 }, label(s)));
    });
    const form = h('form', { class: 'filters', onsubmit: (e: Event) => {
      e.preventDefault();
      location.hash = formatRoute('snapshots', ['diff'], { a: a.value, b: b.value });
    } }, field('Snapshot A', a), field('Snapshot B', b), h('button', { type: 'submit' }, 'Diff'));
    return h('div', {}, form, table(snapshots, [
      { label: 'Content id', value: (s) => s.id, render: (s) => h('a', { href: formatRoute('snapshots', [s.id]) }, h('code', {}, s.id.slice(0, 16) + '…')) },
      { label: 'Name', value: (s) => s.name },
      { label: 'As of', value: (s) => s.as_of ?? 'latest' },
      { label: 'Series', value: (s) => s.series, numeric: true },
      { label: 'Observations', value: (s) => s.observations, numeric: true },
      { label: 'Created', value: (s) => formatTime(s.created_at) },
      { label: 'By', value: (s) => s.created_by },
    ], { testId: 'snapshots-table' }));
  });
}

async function one(main: HTMLElement, id: string): Promise<void> {
  main.append(h('p', {}, h('a', { href: formatRoute('snapshots') }, '← Snapshots')), h('h1', {}, `Snapshot ${id.slice(0, 16)}…`));
  const body = h('div', {});
  main.append(body);
  await withLoading(body, async () => {
    const s = await get<Snapshot>(`/v1/snapshots/${enc(id)}`);
    const rows = s.series.flatMap((x) => x.periods.map((p, i) => ({ key: x.key, p, v: x.values[i] })));
    return h('div', {}, h('p', { class: 'muted' }, `${s.name} · as of ${s.as_of ?? 'latest'} · ${s.series.length} series`),
      table(rows, [
        { label: 'Series', value: (x) => x.key },
        { label: 'Period', value: (x) => x.p },
        { label: 'Value', value: (x) => x.v, render: (x) => formatNumber(x.v), numeric: true },
      ]));
  });
}

async function diff(main: HTMLElement, a: string, b: string): Promise<void> {
  main.append(h('p', {}, h('a', { href: formatRoute('snapshots') }, '← Snapshots')), h('h1', {}, 'Snapshot diff'));
  const body = h('div', {});
  main.append(body);
  await withLoading(body, async () => {
    const [sa, sb] = await Promise.all([get<Snapshot>(`/v1/snapshots/${enc(a)}`), get<Snapshot>(`/v1/snapshots/${enc(b)}`)]);
    const rows = diffSnapshots(sa.series, sb.series);
    const show = (v: number | null | undefined) => (v === undefined ? 'absent' : formatNumber(v));
    return h('div', {}, h('p', {}, `A: ${sa.name || sa.id} (as of ${sa.as_of ?? 'latest'}) · B: ${sb.name || sb.id} (as of ${sb.as_of ?? 'latest'}) · ${rows.length} cells differ`),
      table(rows, [
        { label: 'Series', value: (x) => x.key },
        { label: 'Period', value: (x) => x.period },
        { label: 'A', value: (x) => x.a ?? null, render: (x) => show(x.a), numeric: true },
        { label: 'B', value: (x) => x.b ?? null, render: (x) => show(x.b), numeric: true },
      ], { emptyText: 'The two snapshots have the same content.', testId: 'snapshot-diff' }));
  });
}
