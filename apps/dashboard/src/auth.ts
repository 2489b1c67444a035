// The dashboard's API token: pasted once, kept in this browser's localStorage, sent as Bearer.
const KEY = 'bootfarm.token';
const CHANGED = 'bootfarm:token-changed';

export function getToken(): string | null {
  return localStorage.getItem(KEY);
}

export function setToken(token: string): void {
  localStorage.setItem(KEY, token);
  window.dispatchEvent(new Event(CHANGED));
}

/** Signs out (also when the scheduler stops accepting the token). */
export function clearToken(): void {
  localStorage.removeItem(KEY);
  window.dispatchEvent(new Event(CHANGED));
}

/** Calls `listener` when this tab signs in or out. */
export function onTokenChange(listener: () => void): () => void {
  window.addEventListener(CHANGED, listener);
  return () => window.removeEventListener(CHANGED, listener);
}

/** Request headers carrying the token. */
export function authHeaders(token = getToken()): Record<string, string> {
  return token ? { authorization: `Bearer ${token}` } : {};
}
