import type { Caller } from '@bootfarm/db';
import { AsyncLocalStorage } from 'node:async_hooks';

/** What one request carries through every await: its authenticated caller, once the guard has set it. */
interface RequestContext {
  caller: Caller | null;
}

// AsyncLocalStorage instead of Nest request-scoped providers: those rebuild the whole provider
// chain per request; this costs one object per request and keeps services singletons.
const storage = new AsyncLocalStorage<RequestContext>();

/**
 * Express middleware opening the context of a request. Mounted after the body parser (its 'end'
 * callback would otherwise run outside the context), before guards and handlers.
 */
export function requestContextMiddleware(_req: unknown, _res: unknown, next: () => void): void {
  storage.run({ caller: null }, next);
}

/** Records the authenticated caller of the current request (the auth guard does). */
export function setCaller(caller: Caller): void {
  const context = storage.getStore();
  if (!context) throw new Error('setCaller outside a request context: is requestContextMiddleware mounted?');
  context.caller = caller;
}

/** The current request's caller, or null (public route, or outside a request). */
export function currentCaller(): Caller | null {
  return storage.getStore()?.caller ?? null;
}
