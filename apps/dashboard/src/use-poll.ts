import { useEffect, useState } from 'react';
import { ApiError } from './api.js';

/**
 * Loads `load()` now and again every `intervalMs` while `active(result)` is true. A failed load
 * is retried (the farm may be restarting) unless the answer was final: not found, not allowed.
 */
export function usePoll<T>(load: () => Promise<T>, deps: unknown[], intervalMs: number, active: (value: T) => boolean) {
  const [state, setState] = useState<{ value?: T; error?: Error; loading: boolean }>({ loading: true });
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    setState({ loading: true });
    const tick = async () => {
      try {
        const value = await load();
        if (stopped) return;
        setState({ value, loading: false });
        if (active(value)) timer = setTimeout(tick, intervalMs);
      } catch (error) {
        if (stopped) return;
        setState((s) => ({ ...s, error: error as Error, loading: false }));
        const final = error instanceof ApiError && [400, 401, 403, 404].includes(error.status);
        if (!final) timer = setTimeout(tick, Math.max(intervalMs, 2000) * 2);
      }
    };
    void tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  return state;
}
