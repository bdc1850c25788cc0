// Registry: models, versions and stages; a version's lineage as a graph (version -> run ->
// snapshot -> vintages -> sources); promote, approve, reject and roll back with a reason. The
// server decides (four-eyes included): its refusal is shown as it is.
import { enc, get, post } from '../api';
import { clear, empty, errorBox, field, h, withLoading } from '../dom';
import { formatRoute, formatTime, Route } from '../logic';
import { session } from '../session';
import { table } from '../table';

interface ModelRow {
  name: string;
  owner: string;
  description: string;
  four_eyes: boolean;
  production: number | null;
  staging: number | null;
  versions: number;
}
interface Version {
  version: number;
  stage: string;
  run_id: string;
  snapshot_id: string;
  metrics: Record<string, unknown>;
  created_at: string;
  created_by: string;
}
interface Request {
  id: number;
  version: number;
  target: string;
  requested_by: string;
  requested_at: string;
  reason: string;
  status: string;
  decided_by: string;
  decision_reason: string;
}

export async function registryPage(main: HTMLElement, r: Route): Promise<void> {
  if (r.args.length >= 2) return lineage(main, r.args[0], r.args[1]);
  if (r.args.length === 1) return model(main, r.args[0]);
  main.append(h('h1', {}, 'Registry'));
  const body = h('div', {});
  main.append(body);
  await withLoading(body, async () => {
    const { models } = await get<{ models: ModelRow[] }>('/v1/models');
    if (models.length === 0) return empty('No models registered yet: a pipeline registers them (almanac run).');
    return table(
      models,
      [
        { label: 'Model', value: (m) => m.name, render: (m) => h('a', { href: formatRoute('registry', [m.name]) }, m.name) },
        { label: 'Production', value: (m) => m.production, numeric: true },
        { label: 'Staging', value: (m) => m.staging, numeric: true },
        { label: 'Versions', value: (m) => m.versions, numeric: true },
        { label: 'Owner', value: (m) => m.owner },
        { label: 'Four-eyes', value: (m) => (m.four_eyes ? 'yes' : 'no') },
      ],
      { testId: 'models-table' },
    );
  });
}

async function model(main: HTMLElement, name: string): Promise<void> {
  main.append(h('p', {}, h('a', { href: formatRoute('registry') }, '← All models')), h('h1', {}, name));
  const msg = h('div', { 'aria-live': 'polite', 'data-testid': 'action-result' });
  const body = h('div', {});
  main.append(msg, body);
  const reload = () =>
    withLoading(body, async () => {
      const [m, vs] = await Promise.all([
        get<{ owner: string; description: string; policy: Record<string, unknown>; promotion_requests: Request[] }>(`/v1/models/${enc(name)}`),
        get<{ versions: Version[] }>(`/v1/models/${enc(name)}/versions`),
      ]);
      const pending = m.promotion_requests.filter((x) => x.status === 'pending');
      const act = async (version: number, verb: 'promote' | 'approve' | 'reject', to?: string) => {
        const reason = h('input', { type: 'text', name: 'reason', required: true });
        const dlg = h(
          'form',
          { class: 'dialog', 'data-testid': 'reason-form' },
          h('h2', {}, `${verb} ${name}@${version}${to ? ' to ' + to : ''}`),
          field('Reason (recorded in the audit log)', reason),
          h('button', { type: 'submit' }, 'Confirm'),
          h('button', { type: 'button', onclick: () => dlg.remove() }, 'Cancel'),
        );
        dlg.addEventListener('submit', async (e) => {
          e.preventDefault();
          dlg.remove();
          clear(msg);
          try {
            const body: Record<string, string> = { reason: reason.value };
            if (to) body.to = to;
            const res = await post<{ stage: string; applied: boolean; needs_approval: boolean; actor: string }>(
              `/v1/models/${enc(name)}/versions/${version}/${verb}`,
              body,
            );
            msg.append(
              h('div', { class: 'ok', role: 'status' },
                `${verb} ${name}@${version} by ${res.actor}: ` +
                  (res.needs_approval ? 'requested; waiting for another approver (four-eyes).' : res.applied ? `now ${res.stage}.` : `stage ${res.stage}.`)),
            );
            await reload();
          } catch (err) {
            msg.append(errorBox(err));
          }
        });
        msg.before(dlg);
        reason.focus();
      };
      const prod = vs.versions.find((v) => v.stage === 'production');
      const out = h('div', {});
      out.append(h('p', { class: 'muted' }, [m.description, m.owner ? 'owner ' + m.owner : ''].filter(Boolean).join(' · ')));
      out.append(h('h2', {}, 'Pending requests'));
      if (pending.length === 0) out.append(empty('No pending promotion requests.'));
      for (const p of pending) {
        const mine = session.me?.user === p.requested_by;
        out.append(
          h('div', { class: 'request', 'data-testid': `request-${p.version}` },
            h('p', {}, `Version ${p.version} → ${p.target}, requested by `, h('strong', {}, p.requested_by), ` at ${formatTime(p.requested_at)}: “${p.reason}”.`),
            h('p', { class: 'muted' }, `Four-eyes: an approver or admin other than ${p.requested_by} may approve.` + (mine ? ' You requested it: the server will refuse your approval.' : '')),
            h('button', { type: 'button', onclick: () => void act(p.version, 'approve') }, `Approve ${p.version}`),
            h('button', { type: 'button', onclick: () => void act(p.version, 'reject') }, `Reject ${p.version}`),
          ),
        );
      }
      out.append(h('h2', {}, 'Versions'));
      out.append(
        table(
          vs.versions,
          [
            { label: 'Version', value: (v) => v.version, numeric: true, render: (v) => h('a', { href: formatRoute('registry', [name, String(v.version)]) }, String(v.version)) },
            { label: 'Stage', value: (v) => v.stage, render: (v) => h('span', { class: 'badge ' + v.stage }, v.stage) },
            { label: 'Created', value: (v) => formatTime(v.created_at) },
            { label: 'By', value: (v) => v.created_by },
            { label: 'Run', value: (v) => v.run_id, render: (v) => (v.run_id ? h('a', { href: formatRoute('runs', [v.run_id]) }, v.run_id.slice(0, 12) + '…') : '') },
            {
              label: 'Actions',
              value: () => '',
              render: (v) =>
                h('span', { class: 'actions' },
                  v.stage !== 'production'
                    ? h('button', { type: 'button', onclick: () => void act(v.version, 'promote', 'production') },
                        prod && v.version < prod.version ? `Roll back to ${v.version}` : `Promote ${v.version} to production`)
                    : '',
                  v.stage === 'none' || v.stage === 'archived'
                    ? h('button', { type: 'button', onclick: () => void act(v.version, 'promote', 'staging') }, 'To staging')
                    : ''),
            },
          ],
          { testId: 'versions-table' },
        ),
      );
      out.append(h('h2', {}, 'Request history'));
      out.append(
        table(m.promotion_requests, [
          { label: 'Version', value: (x) => x.version, numeric: true },
          { label: 'Target', value: (x) => x.target },
          { label: 'Requested by', value: (x) => x.requested_by },
          { label: 'Reason', value: (x) => x.reason },
          { label: 'Status', value: (x) => x.status },
          { label: 'Decided by', value: (x) => x.decided_by },
          { label: 'Decision reason', value: (x) => x.decision_reason },
        ], { emptyText: 'No promotion requests.' }),
      );
      return out;
    });
  await reload();
}

async function lineage(main: HTMLElement, name: string, version: string): Promise<void> {
  main.append(h('p', {}, h('a', { href: formatRoute('registry', [name]) }, '← ' + name)), h('h1', {}, `Lineage of ${name}@${version}`));
  const body = h('div', {});
  main.append(body);
  await withLoading(body, async () => {
    const l = await get<any>(`/v1/lineage/${enc(name)}/${enc(version)}`);
    const node = (title: string, ...lines: (string | Node)[]) => h('div', { class: 'node' }, h('strong', {}, title), ...lines.map((x) => h('div', {}, x)));
    const col = (...nodes: HTMLElement[]) => h('div', { class: 'col' }, ...nodes);
    const sources = [...new Set((l.vintages as any[]).map((v) => v.source))];
    const graph = h(
      'div',
      { class: 'graph', role: 'img', 'aria-label': 'lineage: version, run, snapshot, vintages, sources' },
      col(node(`version ${l.version}`, l.stage, 'package ' + String(l.package?.sha256 ?? '').slice(0, 12))),
      col(node('run', h('a', { href: formatRoute('runs', [l.run.id]) }, String(l.run.id).slice(0, 16)), l.run.user, 'commit ' + (l.run.git_commit || '—'))),
      col(l.snapshot ? node('snapshot', l.snapshot.name || '', String(l.snapshot.id).slice(0, 16), 'as of ' + (l.snapshot.as_of ?? 'latest')) : node('snapshot', 'none')),
      col(...(l.vintages as any[]).slice(0, 12).map((v) => node(`${v.series} #${v.vintage}`, 'from ' + v.realtime_start))),
      col(...sources.map((s) => node('source', String(s || '—')))),
    );
    return h(
      'div',
      {},
      graph,
      h('h2', {}, 'Approvals'),
      table(l.approvals as any[], Object.keys((l.approvals as any[])[0] ?? { status: '' }).map((k) => ({ label: k, value: (x: any) => (typeof x[k] === 'object' ? JSON.stringify(x[k]) : x[k]) })), { emptyText: 'No approvals.' }),
      h('h2', {}, 'Audit entries'),
      table(l.audit as any[], [
        { label: 'Seq', value: (x: any) => x.seq, numeric: true },
        { label: 'Time', value: (x: any) => formatTime(x.time) },
        { label: 'Actor', value: (x: any) => x.actor },
        { label: 'Action', value: (x: any) => x.action },
        { label: 'Object', value: (x: any) => x.object },
      ]),
    );
  });
}
