// The REST API as the console calls it: the bearer token from sessionStorage (docs/ui.md says
// why), JSON in and out, errors as readable ApiError messages.
import { errorMessage } from './logic';

const TOKEN_KEY = 'almanac.token';

export function token(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}
export function setToken(t: string | null): void {
  if (t === null) sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, t);
}

export class ApiError extends Error {
  constructor(
    public status: number,
    message: string,
    public code = '',
  ) {
    super(message);
  }
}

export async function api<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  const t = token();
  if (t) headers.Authorization = 'Bearer ' + t;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, errorMessage(0, null));
  }
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON (e.g. /metrics) */
  }
  if (!res.ok) {
    const code = parsed && typeof parsed === 'object' && 'code' in parsed ? String((parsed as any).code) : '';
    throw new ApiError(res.status, errorMessage(res.status, parsed), code);
  }
  return parsed as T;
}

export const get = <T = any>(path: string) => api<T>('GET', path);
export const post = <T = any>(path: string, body: unknown) => api<T>('POST', path, body);
export const enc = encodeURIComponent;
