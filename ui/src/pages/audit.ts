// Audit: the hash-chained log with filters, and whether the chain verifies.
import { get } from '../api';
import { field, h, withLoading } from '../dom';
import { formatRoute, formatTime, Route } from '../logic';
import { table } from '../table';

interface Entry {
  seq: number;
  timestamp: string;
  actor: string;
  action: string;
  object_type: string;
  object_id: string;
  details: unknown;
  hash: string;
}
interface AuditAnswer {
  entries: Entry[];
  matched: number;
  total: number;
  verify: { intact: boolean; entries?: number; head_hash?: string; message?: string };
}

export async function auditPage(main: HTMLElement, r: Route): Promise<void> {
  main.append(h('h1', {}, 'Audit'));
  const q = r.query;
  const actor = h('input', { type: 'text', name: 'actor', value: q.actor ?? '' });
  const action = h('input', { type: 'text', name: 'action', value: q.action ?? '', placeholder: 'model. or model.promote' });
  const object = h('input', { type: 'text', name: 'object', value: q.object ?? '' });
  const form = h(
    'form',
    { class: 'filters', onsubmit: (e: Event) => {
      e.preventDefault();
      location.hash = formatRoute('audit', [], { actor: actor.value, action: action.value, object: object.value });
    } },
    field('Actor', actor), field('Action (prefix)', action), field('Object', object), h('button', { type: 'submit' }, 'Filter'),
  );
  const body = h('div', {});
  main.append(form, body);
  await withLoading(body, async () => {
    const params = new URLSearchParams({ limit: '10000' });
    for (const [k, v] of Object.entries({ actor: q.actor, action: q.action, object: q.object })) if (v) params.set(k, v);
    const a = await get<AuditAnswer>('/v1/audit?' + params.toString().replace(/\+/g, '%20'));
    const v = a.verify;
    const status = v.intact
      ? h('div', { class: 'ok', role: 'status', 'data-testid': 'audit-verify' }, `Chain intact: ${v.entries} entries verified (head ${String(v.head_hash).slice(0, 16)}…).`)
      : h('div', { class: 'error', role: 'alert', 'data-testid': 'audit-verify' }, `Chain BROKEN: ${v.message}`);
    return h(
      'div',
      {},
      status,
      h('p', { class: 'muted' }, `${a.matched} of ${a.total} entries match.`),
      table(
        a.entries,
        [
          { label: 'Seq', value: (e) => e.seq, numeric: true },
          { label: 'Time', value: (e) => formatTime(e.timestamp) },
          { label: 'Actor', value: (e) => e.actor },
          { label: 'Action', value: (e) => e.action },
          { label: 'Object', value: (e) => `${e.object_type}:${e.object_id}` },
          { label: 'Details', value: (e) => JSON.stringify(e.details), render: (e) => h('code', { class: 'details' }, JSON.stringify(e.details)) },
        ],
        { emptyText: 'No audit entries match.', testId: 'audit-table' },
      ),
    );
  });
}
