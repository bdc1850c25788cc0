// Monitoring: realized accuracy against backtest accuracy per production version, and open
// alerts (accuracy degraded), from the server's Prometheus metrics.
import { get } from '../api';
import { empty, h, withLoading } from '../dom';
import { formatNumber, parsePrometheus, Route } from '../logic';
import { table } from '../table';

export async function monitoringPage(main: HTMLElement, _r: Route): Promise<void> {
  main.append(h('h1', {}, 'Monitoring'));
  const body = h('div', {});
  main.append(body);
  await withLoading(body, async () => {
    const text = await get<string>('/metrics');
    const samples = parsePrometheus(typeof text === 'string' ? text : '');
    const byVersion = new Map<string, Record<string, number>>();
    for (const s of samples) {
      if (!s.name.startsWith('almanac_forecast_') || !s.labels.model) continue;
      const k = `${s.labels.model}@${s.labels.version ?? ''}`;
      const row = byVersion.get(k) ?? {};
      row[s.name.replace('almanac_forecast_', '')] = s.value;
      byVersion.set(k, row);
    }
    const rows = [...byVersion.entries()].map(([k, m]) => ({ k, m }));
    const alerts = rows.filter((r) => r.m.accuracy_degraded === 1);
    return h(
      'div',
      {},
      h('h2', {}, 'Open alerts'),
      alerts.length === 0
        ? h('p', { class: 'ok', 'data-testid': 'alerts' }, 'No open alerts: no production version is less accurate than its backtest.')
        : h('ul', { class: 'error', 'data-testid': 'alerts' }, ...alerts.map((a) => h('li', {}, `${a.k}: realized MASE ${formatNumber(a.m.realized_mase)} vs backtest ${formatNumber(a.m.backtest_mase)}`))),
      h('h2', {}, 'Accuracy of production versions'),
      rows.length === 0
        ? empty('No accuracy yet: production forecasts are scored once their periods are realized.')
        : table(rows, [
            { label: 'Model@version', value: (r) => r.k },
            { label: 'Realized MASE', value: (r) => r.m.realized_mase, render: (r) => formatNumber(r.m.realized_mase), numeric: true },
            { label: 'Backtest MASE', value: (r) => r.m.backtest_mase, render: (r) => formatNumber(r.m.backtest_mase), numeric: true },
            { label: 'Interval coverage', value: (r) => r.m.interval_coverage_ratio, render: (r) => formatNumber(r.m.interval_coverage_ratio), numeric: true },
            { label: 'Errors evaluated', value: (r) => r.m.errors_evaluated, numeric: true },
            { label: 'Degraded', value: (r) => (r.m.accuracy_degraded === 1 ? 'yes' : 'no') },
          ]),
    );
  });
}
