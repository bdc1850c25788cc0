// The console's shell: sign-in, navigation, theme, and the hash router that shows a page.
import './style.css';
import { ApiError, get, setToken, token } from './api';
import { clear, errorBox, field, h } from './dom';
import { PAGES, parseRoute, formatRoute, Route } from './logic';
import { seriesPage } from './pages/series';
import { snapshotsPage } from './pages/snapshots';
import { runsPage } from './pages/runs';
import { forecastsPage } from './pages/forecasts';
import { registryPage } from './pages/registry';
import { auditPage } from './pages/audit';
import { monitoringPage } from './pages/monitoring';

import { Me, session } from './session';

const pages: Record<string, (main: HTMLElement, r: Route) => void | Promise<void>> = {
  series: seriesPage,
  snapshots: snapshotsPage,
  runs: runsPage,
  forecasts: forecastsPage,
  registry: registryPage,
  audit: auditPage,
  monitoring: monitoringPage,
};
const titles: Record<string, string> = {
  series: 'Series',
  snapshots: 'Snapshots',
  runs: 'Runs',
  forecasts: 'Forecasts',
  registry: 'Registry',
  audit: 'Audit',
  monitoring: 'Monitoring',
};

const main = document.getElementById('main') as HTMLElement;
const nav = document.getElementById('nav') as HTMLElement;
const who = document.getElementById('who') as HTMLElement;
const signout = document.getElementById('signout') as HTMLButtonElement;

// Theme: the system's, unless chosen here (kept in localStorage; it is not a secret).
function applyTheme(t: string | null) {
  if (t) document.documentElement.dataset.theme = t;
  else delete document.documentElement.dataset.theme;
}
applyTheme(localStorage.getItem('almanac.theme'));
document.getElementById('theme')!.addEventListener('click', () => {
  const dark =
    document.documentElement.dataset.theme === 'dark' ||
    (!document.documentElement.dataset.theme && matchMedia('(prefers-color-scheme: dark)').matches);
  const next = dark ? 'light' : 'dark';
  localStorage.setItem('almanac.theme', next);
  applyTheme(next);
  void route();
});
document.getElementById('skip')!.addEventListener('click', () => main.focus());
signout.addEventListener('click', () => {
  setToken(null);
  session.me = null;
  void route();
});

function renderNav(current: string) {
  clear(nav);
  for (const p of PAGES) {
    nav.append(h('a', { href: formatRoute(p), 'aria-current': p === current ? 'page' : undefined }, titles[p]));
  }
}

function signIn(message?: Node): HTMLElement {
  const input = h('input', { type: 'password', autocomplete: 'off', required: true, placeholder: 'alm_…', name: 'token' });
  const status = h('div', {});
  if (message) status.append(message);
  const form = h(
    'form',
    {
      class: 'signin',
      onsubmit: async (e: Event) => {
        e.preventDefault();
        setToken(input.value.trim());
        try {
          session.me = await get<Me>('/v1/whoami');
          void route();
        } catch (err) {
          setToken(null);
          clear(status);
          status.append(errorBox(err));
        }
      },
    },
    h('h1', {}, 'Sign in'),
    h('p', {}, 'Paste an API token (almanac tokens create). It is kept in this tab only (sessionStorage) and sent as a bearer token.'),
    field('API token', input),
    h('button', { type: 'submit' }, 'Sign in'),
    status,
  );
  setTimeout(() => input.focus(), 0);
  return form;
}

let routing = 0;
export async function route(): Promise<void> {
  const n = ++routing;
  const r = parseRoute(location.hash);
  clear(main);
  if (!token()) {
    renderNav('');
    who.textContent = '';
    signout.hidden = true;
    main.append(signIn());
    return;
  }
  if (!session.me) {
    try {
      session.me = await get<Me>('/v1/whoami');
    } catch (e) {
      if (n !== routing) return;
      if (e instanceof ApiError && e.status === 401) setToken(null);
      clear(main);
      main.append(signIn(errorBox(e)));
      return;
    }
    if (n !== routing) return;
  }
  who.textContent = `${session.me.user} (${session.me.role})`;
  signout.hidden = false;
  const page = pages[r.page] ? r.page : 'series';
  renderNav(page);
  document.title = `${titles[page]} · almanac`;
  // Each route renders into a container of its own: a page whose calls are still running when
  // the user navigates on keeps writing into its detached container, never over the new page.
  const view = document.createElement('div');
  main.append(view);
  try {
    await pages[page](view, r);
  } catch (e) {
    view.append(errorBox(e));
  }
}

window.addEventListener('hashchange', () => void route());
void route();
