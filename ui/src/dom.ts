// Small DOM helpers: elements without innerHTML (no injection), loading and error states.
import { ApiError } from './api';

type Attrs = Record<string, string | number | boolean | ((e: Event) => void) | undefined>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Node | string | null | undefined | false)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, ''), v);
    else if (k === 'class') el.className = String(v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

export function clear(el: Element): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

export function loading(label = 'Loading'): HTMLElement {
  return h('div', { class: 'loading', role: 'status', 'aria-live': 'polite' }, h('span', { class: 'spinner' }), `${label}…`);
}

export function errorBox(e: unknown): HTMLElement {
  const msg = e instanceof ApiError ? e.message : e instanceof Error ? e.message : String(e);
  const hint =
    e instanceof ApiError && e.status === 401
      ? ' Your token was refused: sign in again.'
      : e instanceof ApiError && e.status === 403
        ? ' The server refused this for your role.'
        : '';
  return h('div', { class: 'error', role: 'alert' }, msg + hint);
}

export function empty(text: string): HTMLElement {
  return h('p', { class: 'empty' }, text);
}

// Runs `load` showing a loading indicator in `into`, then the result or a readable error.
export async function withLoading(into: HTMLElement, load: () => Promise<Node>, label?: string): Promise<void> {
  clear(into);
  into.append(loading(label));
  try {
    const node = await load();
    clear(into);
    into.append(node);
  } catch (e) {
    clear(into);
    into.append(errorBox(e));
  }
}

export function download(filename: string, text: string, type = 'text/csv'): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h('a', { href: url, download: filename });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function field(label: string, control: HTMLElement): HTMLElement {
  const id = control.id || 'f-' + Math.random().toString(36).slice(2);
  control.id = id;
  return h('label', { class: 'field', for: id }, h('span', {}, label), control);
}
